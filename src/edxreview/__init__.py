"""edxreview: retrospective review of nerve conduction studies and needle EMG.

The public API is :func:`review` (a study workbook in, a :class:`StudyResult` out),
:func:`demo_path` and the exception family below; the subpackages (``edxreview.io``,
``.knowledge``, ``.interpret``, ``.classify``, ``.cohort``, ``.report``, ``.signal``,
``.synth``) each export the steps a user may call on their own in their ``__all__``.
Modules whose names start with an underscore are private.
"""

__version__ = "0.2.0"

from ._compat import private_names  # noqa: E402
from ._errors import (  # noqa: E402
    EdxreviewError, InvalidInputError, InvalidParameterError, InvalidWorkbookError,
    OutputExistsError, OutputPathError, Problem, SignalFileError,
)
from ._pipeline import StudyResult, demo_path, review  # noqa: E402
from ._partition import review_registry  # noqa: E402

__all__ = ["EdxreviewError", "InvalidInputError", "InvalidParameterError", "InvalidWorkbookError",
           "OutputExistsError", "OutputPathError", "Problem", "SignalFileError", "StudyResult",
           "__version__", "demo_path", "review", "review_registry"]

# public before 0.2 (use review() and StudyResult.write()): importable with a DeprecationWarning
__getattr__ = private_names(__name__, {"review_study": "._pipeline", "write_outputs": "._pipeline"})
