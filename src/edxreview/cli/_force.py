"""The help of ``--force`` for every command that writes an output folder, said once."""

FOLDER_FORCE_HELP = ("replace a non-empty output folder that edxreview wrote (one holding "
                     ".edxreview-output.json and no file it does not list or that changed since)")
