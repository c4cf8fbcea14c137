"""``edxreview emg analyze``: MUAP analysis, spontaneous activity and a reading per recording;
``edxreview emg reference build``: a laboratory's MUAP reference from its control recordings."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

logger = logging.getLogger(__name__)


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``emg`` command (with its ``analyze`` sub-command) on ``subparsers``."""
    emg = subparsers.add_parser("emg", help="needle-EMG signal analysis")
    sub = emg.add_subparsers(dest="emg_command", metavar="COMMAND")
    sub.required = True
    a = sub.add_parser(
        "analyze",
        help="decompose recordings into MUAPs, grade spontaneous activity, read each recording",
        epilog="Which reading is the answer: each recording has its own reading from its MUAP "
               "means (recordings.csv; on the screen with its rule id). With --subject or "
               "--subjects each subject-muscle is read from its MUAPs pooled over its "
               "recordings (subjects.csv, one screen line each), and its primary reading "
               "(columns primary_pattern, primary_rule) is, in this order: the lab "
               "classifier's class where the reference holds a lab classifier that reads the "
               "muscle (rule lab_classifier; the best reading in the leave-one-subject-out "
               "evaluation, README); otherwise the reading of the pooled MUAP means (nearest "
               "class centroid where the reference has centroids, else the z-score rule). The "
               "interference pattern is a second, independent reading and never the primary "
               "one; a single recording's reading never replaces its subject-muscle's. "
               "--reference illustrative is for teaching only: an unverified table, said once "
               "on the screen and in each figure's title.",
    )
    a.add_argument("paths", nargs="+", metavar="PATH", help="recording files (.hea/.dat, .edf, ASCII µV per line, raw int16)")
    a.add_argument("--out", required=True, metavar="DIR", help="output folder")
    a.add_argument("--format", default="auto", choices=["auto", "wfdb", "edf", "raw", "ascii"],
                   help="file format (auto: from the suffix; ascii: one sample in µV per line, "
                        ".txt/.asc; needs --fs)")
    a.add_argument("--fs", type=float, default=None, metavar="HZ",
                   help="sampling rate of raw and ASCII files (Hz), required for them; refused "
                        "for WFDB and EDF files, whose header gives it")
    a.add_argument("--gain", type=float, default=None, metavar="ADU_PER_MV",
                   help="ADC units per mV (raw files; without it amplitudes stay in ADC units). "
                        "For a WFDB record it overrides the header's gain and the reasons say "
                        "so; refused for EDF. A mean MUAP amplitude outside the plausible range "
                        "(emg_signal_parameters.toml [plausibility]) is not read (rule "
                        "implausible_amplitude) and a warning names the gain that a per-µV or "
                        "per-V slip implies")
    a.add_argument("--muscle", default=None, metavar="NAME",
                   help="muscle id or name, e.g. biceps_brachii, 'Biceps brachii', BB: the names "
                        "a workbook accepts (muscles.csv); an unknown name is a usage error "
                        "with the closest ones")
    a.add_argument("--age", type=float, default=None, metavar="YEARS", help="age at the study (years)")
    a.add_argument("--patient", default=None, metavar="ID",
                   help="also write emg_rows.csv in the workbook's emg sheet format for this patient")
    a.add_argument("--side", default="", help="side for emg_rows.csv (left/right)")
    a.add_argument("--sorting", choices=["peel", "pursuit"], default=None,
                   help="motor-unit decomposition: peel (default) or pursuit (template pursuit "
                        "with superposition search: closer to the expert decomposition of "
                        "EMGLAB R00108, 96 %% of its discharges against 71 %%). Pursuit costs "
                        "4.5-10x the CPU time of peel on real records (benchmarks/emg.py, one "
                        "core: 27x real time on EMGLAB N2001 and 8.5x on Algiers recordings, "
                        "slowest records 14x and 6x, against 121x and 84x with peel). Not the "
                        "default: the readings are worse with it (Algiers, leave-one-subject-out, "
                        "lab reference with centroids: 56 of 120 subjects against 72 with peel)")
    a.add_argument("--reference", default=None, metavar="FILE",
                   help="lab reference (TOML from 'edxreview emg reference build', made from "
                        "the laboratory's own controls of the same muscle and equipment) to judge "
                        "the MUAP means against; 'illustrative' uses the bundled, unverified "
                        "table. Without it the means are measured but not judged (indeterminate: "
                        "no verified reference). A reference built with --classifier-from holds "
                        "another laboratory's classifier centred on this one's controls; the "
                        "clf_* columns say so")
    a.add_argument("--subject", default=None, metavar="ID",
                   help="all files are of this one subject: also write subjects.csv, one reading "
                        "per muscle from the MUAPs pooled over its recordings (needs --reference)")
    a.add_argument("--subjects", default=None, metavar="CSV",
                   help="CSV (comma, semicolon or tab; column names in any case; one row per "
                        "file, rows naming no file given are counted and reported) with "
                        "columns file (name or stem), subject and optionally muscle: "
                        "each file's subject and muscle; writes subjects.csv with a reading per "
                        "subject and muscle and, with a lab classifier in the reference, per "
                        "subject over its muscles, the classifier's class and probability "
                        "also printed per subject-muscle (needs --reference; instead of "
                        "--subject)")
    a.add_argument("--header-bytes", type=int, default=0, metavar="N",
                   help="bytes of a raw file's own header to skip (EMGLAB N2001 files: 20)")
    a.add_argument("--no-figures", action="store_true", help="skip the per-recording figures")
    a.add_argument("--force", action="store_true",
                   help="replace a non-empty output folder that edxreview wrote (one "
                        "holding .edxreview-output.json and no file it does not list)")
    a.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    a.set_defaults(func=run)
    r = sub.add_parser("reference", help="build a laboratory MUAP reference from control recordings")
    rsub = r.add_subparsers(dest="reference_command", metavar="ACTION")
    rsub.required = True
    b = rsub.add_parser("build", help="measure control recordings and write their reference (TOML)")
    b.add_argument("paths", nargs="+", metavar="PATH", help="control recordings of one laboratory")
    b.add_argument("--out", required=True, metavar="FILE", help="reference file to write (.toml)")
    b.add_argument("--muscle", default=None, metavar="NAME",
                   help="muscle of every file (or give a muscle column in --subjects)")
    b.add_argument("--subjects", default=None, metavar="CSV",
                   help="CSV with columns file (name or stem), subject and optionally muscle "
                        "and group (normal / neurogenic / myopathic). Without it every file is "
                        "counted as its own control subject (a warning says so): several files "
                        "of one person need it, since a muscle is judged only against controls "
                        "from 5 or more people ([lab_reference] min_judging_control_subjects). "
                        "With a group column the normal subjects make "
                        "the reference and, where each class has enough subjects, the class "
                        "centroids (mean z-scores) that 'emg analyze' then reads by, and the "
                        "lab classifier (features of MUAPs, interference pattern and spectrum "
                        "against the controls; logistic regression trained on the labelled "
                        "subjects; needs 5 subjects per group and 5 controls per muscle) whose "
                        "class and probability 'emg analyze --subject or --subjects' writes in "
                        "subjects.csv "
                        "(clf_* columns)")
    b.add_argument("--classifier-from", default=None, metavar="REF.toml",
                   help="a laboratory with few controls and no labelled patients: borrow the "
                        "lab classifier of another laboratory's reference (built with a group "
                        "column) and centre it on these controls. Each muscle is centred on the "
                        "mean of its local control subjects' features and scaled by the other "
                        "laboratory's control SD of that muscle (or the mean of its muscles' "
                        "SDs for a muscle it was not trained on); a muscle with fewer local "
                        "control subjects than [lab_classifier.transfer] min_control_subjects "
                        "(1) has no valid reference. One control is a weak centre. The files "
                        "are all controls: a --subjects group column with another group than "
                        "normal is refused (leave out --classifier-from to train this "
                        "laboratory's own model from its labelled subjects). 'emg analyze "
                        "--reference OUT --subjects CSV' then writes the clf_* columns and says "
                        "which laboratory the classifier came from and how many local controls "
                        "centre each muscle")
    b.add_argument("--lab", default="", help="laboratory / equipment name written in the reference")
    b.add_argument("--format", default="auto", choices=["auto", "wfdb", "edf", "raw", "ascii"],
                   help="file format (auto: from the suffix; ascii: one sample in µV per line, "
                        ".txt/.asc; needs --fs)")
    b.add_argument("--fs", type=float, default=None, metavar="HZ",
                   help="sampling rate of raw and ASCII files (Hz), required for them; refused "
                        "for WFDB and EDF files, whose header gives it")
    b.add_argument("--gain", type=float, default=None, metavar="ADU_PER_MV",
                   help="ADC units per mV (raw files)")
    b.add_argument("--header-bytes", type=int, default=0, metavar="N",
                   help="bytes of a raw file's own header to skip (EMGLAB N2001 files: 20)")
    b.add_argument("--force", action="store_true", help="replace an existing reference file")
    b.add_argument("-q", "--quiet", action="store_true", help="no summary")
    b.set_defaults(func=run_reference_build)
    return emg


def _err(msg: str) -> None:
    print(f"edxreview emg: error: {msg}", file=sys.stderr)


def _options_valid(args: argparse.Namespace) -> bool:
    """Check the reading options before any file is read or written (a bad one is a usage
    error, exit 2); print the problem and return False when one is out of range."""
    from edxreview._errors import InvalidParameterError
    from edxreview.signal._classify import check_muscle
    from edxreview.signal._readers import (
        check_gain,
        check_header_bytes,
        check_sampling_rate,
        resolve_format,
    )

    try:
        if args.muscle is not None:
            args.muscle = check_muscle(args.muscle, "--muscle")
        check_sampling_rate(args.fs, "--fs")
        check_gain(args.gain, "--gain")
        check_header_bytes(args.header_bytes, "--header-bytes")
        formats = {p: resolve_format(p, args.format, args.header_bytes, args.gain)
                   for p in map(Path, args.paths)}
        headerless = [p.name for p, f in formats.items() if f in ("raw", "ascii")]
        if args.fs is None and headerless:
            kinds = " or ".join(sorted({"raw int16" if formats[p] == "raw" else "ASCII"
                                        for p in formats if p.name in headerless}))
            raise InvalidParameterError(
                f"--fs is required: {_names(headerless)} {'is a' if len(headerless) == 1 else 'are'} "
                f"{kinds} file{'s' if len(headerless) > 1 else ''} with no header to give the "
                "sampling rate; give it with --fs HZ (e.g. --fs 23437.5 for EMGLAB N2001).")
        headed = [p.name for p, f in formats.items() if f in ("wfdb", "edf")]
        if args.fs is not None and headed:
            raise InvalidParameterError(
                f"--fs {args.fs:g} does not apply to {_names(headed)}: a WFDB or EDF header gives "
                "the sampling rate, and it is not overridden; leave --fs out (analyse raw or "
                "ASCII files with --fs in a separate run).")
        edf = [p.name for p, f in formats.items() if f == "edf"]
        if args.gain is not None and edf:
            raise InvalidParameterError(
                f"--gain {args.gain:g} does not apply to {_names(edf)}: an EDF header's physical "
                "range calibrates it; leave --gain out.")
        if args.format == "ascii" and args.gain is not None:
            raise InvalidParameterError(
                f"--gain {args.gain!r} does not apply to --format ascii: ASCII samples are read "
                "as microvolts; leave --gain out.")
        if args.header_bytes and args.format not in ("auto", "raw"):
            raise InvalidParameterError(
                f"--header-bytes {args.header_bytes!r} applies to raw int16 files only, not "
                f"--format {args.format}.")
    except InvalidParameterError as exc:
        _err(str(exc))
        return False
    return True


def _names(names: list[str], most: int = 3) -> str:
    """A few file names for a message, and how many more."""
    shown = ", ".join(repr(n) for n in names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def run(args: argparse.Namespace) -> int:
    """Run ``edxreview emg analyze``; returns the exit status (0 ok, 1 bad input, 2 usage)."""
    from edxreview._errors import InvalidParameterError, OutputPathError
    from edxreview._output import OutputFolder
    from edxreview.signal._classify import check_age

    if getattr(args, "emg_command", "analyze") != "analyze":
        _err(f"unknown emg command {args.emg_command!r}; use 'analyze'.")
        return 2
    if not _options_valid(args):
        return 2
    try:
        check_age(args.age, "--age")
    except InvalidParameterError as exc:
        _err(str(exc))
        return 2
    subjects = getattr(args, "subjects", None)
    if subjects is not None and args.subject is not None:
        _err("give --subject (all files of one subject) or --subjects CSV, not both.")
        return 2
    if (args.subject is not None or subjects is not None) and args.reference in (None, "illustrative"):
        _err(f"{'--subject' if subjects is None else '--subjects'} pools MUAPs against a lab "
             "reference; give --reference FILE.")
        return 2
    paths = [Path(p) for p in args.paths]
    # a WFDB record is read from its header and its data file: the output may overlap neither
    inputs = paths + [p.with_suffix(s) for p in paths if p.suffix.lower() in (".hea", ".dat")
                      for s in (".hea", ".dat")]
    if args.reference not in (None, "illustrative"):
        inputs.append(Path(args.reference))
    if subjects is not None:
        inputs.append(Path(subjects))
    try:
        with OutputFolder(args.out, force=args.force, inputs=inputs, command="emg analyze") as output:
            return _analyze(args, paths, output)
    except OutputPathError as exc:
        _err(str(exc))
        return 2


def _analyze(args: argparse.Namespace, paths: list[Path], output) -> int:
    from edxreview._errors import EdxreviewError, InvalidParameterError
    from edxreview.signal._classify import lookup_reference

    reference = None
    if args.reference == "illustrative":
        from edxreview.signal._classify import ILLUSTRATIVE_CAVEAT

        reference = "illustrative"
        # a safety caveat, said once per run whatever -q says
        print(f"edxreview emg: warning: --reference illustrative: {ILLUSTRATIVE_CAVEAT} "
              "(muap_reference.csv, not traced to a printed source).", file=sys.stderr)
        if args.muscle:
            try:
                lookup_reference(args.muscle, args.age)
            except InvalidParameterError as exc:
                _err(str(exc))
                return 2
    elif args.reference is not None:
        from edxreview.signal._reference import read_lab_reference

        try:
            reference = read_lab_reference(args.reference)
        except EdxreviewError as exc:
            _err(str(exc) + _subjects_hint(args.reference))
            return 1
    unique = _unique_recordings(paths)
    muscles = None
    if getattr(args, "subjects", None) is not None:
        keys = [p.with_suffix("") if p.suffix.lower() in (".hea", ".dat") else p for p in unique]
        mapping, code = _subject_mapping(args, keys)
        if mapping is None:
            return code
        muscles = mapping["muscle"].tolist()
        args.file_subjects = mapping["subject"].tolist()
    analyses, failures = _analyze_all(args, unique, reference, muscles)
    if failures:
        for f in failures:
            _err(f)
        _err("nothing written; fix or leave out the files above.")
        return 1
    notes = _reference_notes(args, analyses, reference)
    rows, subjects = _write_analyses(args, analyses, reference, output, notes)
    output.commit()
    for a in analyses:  # a wrong gain spoils every amplitude: said whatever -q says
        if a.reading.rule == "implausible_amplitude":
            print(f"edxreview emg: warning: {a.recording.name}: {a.reading.reasons[0]}",
                  file=sys.stderr)
    if not args.quiet:
        from edxreview.signal._spontaneous import describe_spontaneous

        from edxreview.signal._classifier import classifier_parameters

        weak = classifier_parameters()["weak_probability"]
        for r in rows:
            clf = ""
            if "clf_pattern" in r:
                p = r["clf_probability"]
                clf = f"; lab classifier {r['clf_pattern']}" + ("" if p != p else f" {p:.2f}")
                clf += " (weak)" if p < weak else ""
            print(f"{r['file']}: {r['pattern']} ({r['n_units']} units; rule {r['rule']}){clf}; "
                  f"{describe_spontaneous(r)}")
        for msg in dict.fromkeys(n for n in notes if n):
            print(f"note: {msg}: the reference may not apply (reference_note in recordings.csv)")
        for line in _classifier_summary(subjects):
            print(line)
        for line in _subject_summary(subjects):  # last: each subject-muscle's answer
            print(line)
    return 0


def _subjects_hint(path: str) -> str:
    """' Did you mean --subjects?' when the file given as --reference looks like a table (a
    .csv / .tsv / .txt name, or a first line of delimited names without '='); else ''."""
    p = Path(path)
    try:
        with open(p, encoding="utf-8-sig", errors="replace") as f:
            first = f.readline()
    except OSError:
        first = ""
    table = p.suffix.lower() in (".csv", ".tsv", ".txt") or (
        "=" not in first and any(c in first for c in ",;\t"))
    return (" Did you mean --subjects? (--subjects CSV maps each file to its subject and "
            "muscle)") if table else ""


def _subject_summary(subjects) -> list[str]:
    """One line per subject-muscle of ``subjects.csv``: its recordings and MUAPs, its primary
    reading and where it comes from, then the MUAP-mean and interference readings with their
    rules (none without --subject / --subjects)."""
    if subjects is None:
        return []
    lines = []
    for r in subjects.itertuples():
        subj = r.subject if str(r.subject).isprintable() else repr(r.subject)
        muap = f"MUAP means, rule {r.rule}"
        source = (f"lab classifier; {muap}: {r.pattern}" if r.primary_rule == "lab_classifier"
                  else muap)
        lines.append(f"subject {subj}, {r.muscle or 'muscle not given'} ({r.n_recordings} "
                     f"recording(s), {r.n_muaps} MUAPs): primary reading {r.primary_pattern} "
                     f"({source}); interference {r.ip_pattern} (rule {r.ip_rule})")
    return lines


def _classifier_summary(subjects) -> list[str]:
    """One line per subject-muscle of ``subjects.csv`` with the lab classifier's reading (its
    class and probability; the subject's over its muscles where it has several), none when
    the reference holds no classifier."""
    import pandas as pd

    if subjects is None or "clf_pattern" not in subjects:
        return []
    from edxreview.signal._classifier import classifier_parameters

    weak = classifier_parameters()["weak_probability"]
    lines = []
    for subj, g in subjects.groupby("subject", sort=False):
        subj = subj if str(subj).isprintable() else repr(subj)
        for r in g.itertuples():
            p = "" if pd.isna(r.clf_probability) else f", probability {r.clf_probability:.2f}"
            if p and r.clf_probability < weak:
                p += f" (weak reading: below {weak:g})"
            n_miss = getattr(r, "clf_n_missing", None)
            if p and not pd.isna(n_miss) and n_miss > 0:
                p += (f"; {int(n_miss)} of {int(r.clf_n_features)} features missing, set to "
                      "the control mean")
            why = f" ({r.clf_reasons})" if r.clf_pattern == "indeterminate" else ""
            if not why and str(getattr(r, "clf_model", "")).startswith("transferred"):
                why = f" ({r.clf_model})"
            lines.append(f"subject {subj}, {r.muscle or 'muscle not given'}: lab classifier "
                         f"{r.clf_pattern}{p}{why}")
        if len(g) > 1:
            r = g.iloc[0]
            p = ("" if pd.isna(r["clf_subject_probability"])
                 else f", probability {r['clf_subject_probability']:.2f}")
            if p and r["clf_subject_probability"] < weak:
                p += f" (weak reading: below {weak:g})"
            lines.append(f"subject {subj}, its {len(g)} muscles pooled: lab classifier "
                         f"{r['clf_subject_pattern']}{p}")
    return lines


def _unique_recordings(paths: list[Path]) -> list[Path]:
    """The paths, a WFDB record given as both .hea and .dat kept once."""
    seen, unique = set(), []
    for p in paths:
        key = p.with_suffix("") if p.suffix.lower() in (".hea", ".dat") else p
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique


def _analyze_all(args: argparse.Namespace, unique: list[Path], reference, muscles=None):
    """Each recording read and analysed (``muscles``: each file's muscle, else ``--muscle``);
    the analyses and the located failures."""
    from edxreview._errors import EdxreviewError, InvalidParameterError, SignalFileError
    from edxreview.signal import analyze_recording, read_signal

    analyses, failures = [], []
    from rich.console import Console
    from rich.progress import Progress

    # on stderr, as the review's bar: stdout holds only the readings (it may be redirected)
    with Progress(console=Console(stderr=True), disable=args.quiet, transient=True) as progress:
        task = progress.add_task("analysing", total=len(unique))
        for i, p in enumerate(unique):
            try:
                rec = read_signal(p, format=args.format, fs_hz=args.fs, gain_adu_per_mv=args.gain,
                                  header_bytes=args.header_bytes)
                analyses.append(analyze_recording(rec, muscle=muscles[i] if muscles else args.muscle,
                                                  age_years=args.age,
                                                  sorting=args.sorting, reference=reference))
            except (SignalFileError, InvalidParameterError) as exc:
                failures.append(f"{p}: {exc}" if str(p) not in str(exc) else str(exc))
            except EdxreviewError as exc:
                failures.append(f"{p}: {exc}")
            progress.advance(task)
    return analyses, failures


def _reference_notes(args: argparse.Namespace, analyses, reference) -> list[str]:
    """Per recording, how it differs from the way the lab reference's controls were recorded
    and measured (empty string where it does not, or without a lab reference)."""
    if reference is None or isinstance(reference, str):
        return [""] * len(analyses)
    from edxreview.signal._params import load_signal_parameters
    from edxreview.signal._reference import reference_mismatches

    sorting = args.sorting or load_signal_parameters()["sorting"]["method"]
    return ["; ".join(reference_mismatches(reference, a.recording.fs_hz, sorting))
            for a in analyses]


def _write_analyses(args: argparse.Namespace, analyses, reference, output, notes=None):
    """recordings.csv, muaps.csv, emg_rows.csv, subjects.csv and figures into the staging
    folder; the recordings' rows and the subjects table (None without --subject(s))."""
    import pandas as pd

    from edxreview._tables import neutralize_formulas

    tmp = output.staging
    rows, units, emg_rows = [], [], []
    from edxreview.signal._reference import LabReference

    with_clf = isinstance(reference, LabReference) and reference.classifier is not None
    for a, note in zip(analyses, notes or [""] * len(analyses), strict=True):
        rows.append({**a.recordings_row(), "reference_note": note,
                     **(_recording_classifier(a, reference) if with_clf else {})})
        if len(a.muaps):
            from edxreview.signal._analyze import round_muaps

            u = round_muaps(a.muaps.drop(columns=["onset_ms", "end_ms"]))
            u.insert(0, "file", a.recording.name)
            units.append(u)
        if args.patient:
            emg_rows.append(a.emg_row(args.patient, args.side))
        if not args.no_figures:
            from edxreview.signal._figures import plot_recording

            plot_recording(a, tmp / f"{a.recording.name}.png")
    neutralize_formulas(pd.DataFrame(rows)).to_csv(tmp / "recordings.csv", index=False)
    cols = ["file", "unit", "n_discharges", "firing_rate_hz", "duration_ms", "amplitude_uv",
            "amplitude_adu", "amplitude_snr", "phases", "turns", "area_uv_ms", "area_adu_ms",
            "spike_duration_ms", "thickness_ms", "polyphasic"]
    neutralize_formulas(pd.concat(units, ignore_index=True) if units else pd.DataFrame(columns=cols)
                        ).to_csv(tmp / "muaps.csv", index=False)
    if args.patient:
        neutralize_formulas(pd.DataFrame(emg_rows)).to_csv(tmp / "emg_rows.csv", index=False)
    subjects = None
    if args.subject is not None:
        subjects = _subjects_table(analyses, reference, args.subject)
        neutralize_formulas(subjects).to_csv(tmp / "subjects.csv", index=False)
    elif getattr(args, "file_subjects", None) is not None:
        by_subject: dict[str, list] = {}
        for a, s_ in zip(analyses, args.file_subjects, strict=True):
            by_subject.setdefault(s_, []).append(a)
        tables = [_subjects_table(g, reference, s_) for s_, g in by_subject.items()]
        subjects = pd.concat(tables, ignore_index=True)
        neutralize_formulas(subjects).to_csv(tmp / "subjects.csv", index=False)
    return rows, subjects


def _recording_classifier(a, reference) -> dict:
    """The lab classifier's reading of one recording read alone (its MUAPs and epochs as a
    subject-muscle of their own, as the evaluation's recording level reads it): columns
    ``clf_pattern``, ``clf_probability`` and ``clf_reasons`` of ``recordings.csv``."""
    import pandas as pd

    muscle = a.muscle or ""
    t = _classifier_columns(pd.DataFrame({"muscle": [muscle]}), {muscle: [a]}, reference,
                            a.recording.name)
    return {k: t.at[0, k] for k in ("clf_pattern", "clf_probability", "clf_reasons")}


def _subjects_table(analyses, reference, subject: str):
    """One row per muscle of the subject: the reading of its MUAPs pooled over recordings."""
    import pandas as pd

    from edxreview.signal._classify import Reading
    from edxreview.signal._interference import read_interference
    from edxreview.signal._reference import (
        LabReference,
        limit_columns,
        read_muscle_against_reference,
    )

    rows = []
    by_muscle: dict[str, list] = {}
    for a in analyses:
        by_muscle.setdefault(a.muscle or "", []).append(a)
    for muscle, group in by_muscle.items():
        parts = []
        for a in group:
            if len(a.muaps):
                m = a.muaps.copy()
                m.attrs = {}  # averaged waveforms are not needed (and do not concatenate)
                parts.append(m)
        muaps = pd.concat(parts or [pd.DataFrame()], ignore_index=True)
        reading, z = read_muscle_against_reference(muaps, reference, muscle or None)
        bad = [a for a in group if a.reading.rule == "implausible_amplitude"]
        if bad:  # amplitudes in the wrong unit are not pooled into a reading
            reading = Reading("indeterminate", [f"{a.recording.name}: {a.reading.reasons[0]}"
                                                for a in bad], rule="implausible_amplitude")
            z = z.iloc[0:0]
        row = {"subject": subject, "muscle": muscle, "n_recordings": len(group),
               "n_muaps": len(muaps), "pattern": reading.pattern, "rule": reading.rule}
        # the means and the limits for a mean of this many MUAPs, in ms, µV, phases ...
        unit = reference.amplitude_unit if isinstance(reference, LabReference) else "uV"
        row.update(limit_columns(muaps, z, unit))
        for f in ("duration_ms", "log_amplitude", "phases", "turns", "thickness_ms", "size_index"):
            row[f"z_{f}"] = round(float(z.at[f, "z"]), 2) if f in z.index else float("nan")
        row["reasons"] = "; ".join(reading.reasons)
        # the second reading: the interference pattern, epochs pooled over the recordings
        ep = [a.interference for a in group if a.interference is not None and len(a.interference)]
        ip_reading, ipz = read_interference(
            pd.concat(ep, ignore_index=True) if ep else pd.DataFrame(), reference, muscle or None)
        row.update(ip_pattern=ip_reading.pattern, ip_rule=ip_reading.rule,
                   z_ip_log_ratio=(round(float(ipz.at["ip_log_ratio", "z"]), 2)
                                   if "ip_log_ratio" in ipz.index else float("nan")),
                   ip_reasons="; ".join(ip_reading.reasons))
        rows.append(row)
    out = pd.DataFrame(rows)
    if isinstance(reference, LabReference) and (reference.classifier is not None
                                                or reference.classifier_status):
        out = _classifier_columns(out, by_muscle, reference, subject)
    return _primary_columns(out)


def _primary_columns(table):
    """Each subject-muscle's primary reading, typed (``primary_pattern``, ``primary_rule``):
    the lab classifier's class where it read the muscle (rule ``lab_classifier``), otherwise
    the reading of the pooled MUAP means (``pattern``, ``rule``). The interference pattern is
    never the primary reading (the precedence stated in ``emg analyze --help``)."""
    import numpy as np

    classes = ["normal", "neurogenic", "myopathic"]
    clf = table["clf_pattern"] if "clf_pattern" in table else None
    use = clf.isin(classes).to_numpy() if clf is not None else np.zeros(len(table), bool)
    return table.assign(
        primary_pattern=np.where(use, clf if clf is not None else "", table["pattern"]),
        primary_rule=np.where(use, "lab_classifier", table["rule"]))


def _classifier_columns(table, by_muscle: dict, reference, subject: str):
    """The lab classifier's reading of each muscle (its recordings pooled) and of the subject
    (its muscles pooled): columns clf_pattern, clf_probability, clf_p_<class>, clf_reasons and
    clf_subject_pattern, clf_subject_probability."""
    import numpy as np
    import pandas as pd

    from edxreview.signal import _classifier as clf

    model = reference.classifier
    classes = list(clf.classifier_parameters()["classes"])
    if model is None:
        why = reference.classifier_status or "no valid reference"
        return table.assign(clf_pattern="indeterminate", clf_probability=np.nan,
                            **{f"clf_p_{c}": np.nan for c in classes}, clf_reasons=why,
                            clf_subject_pattern="indeterminate", clf_subject_probability=np.nan,
                            clf_model="", clf_n_missing=pd.NA, clf_n_features=pd.NA)
    muaps, epochs, units = [], [], []
    for muscle, group in by_muscle.items():
        for i, a in enumerate(group):
            name = f"{muscle}#{i}"
            units.append({"recording": name, "subject": subject, "muscle": muscle or "",
                          "record_s": a.recording.samples.size / a.recording.fs_hz})
            if len(a.muaps):
                m = a.muaps.assign(recording=name)
                m.attrs = {}
                muaps.append(m)
            if a.interference is not None and len(a.interference):
                e = a.interference.assign(recording=name)
                e.attrs = {}
                epochs.append(e)
    u = pd.DataFrame(units)
    x = clf.unit_features(pd.concat(muaps, ignore_index=True) if muaps else
                          pd.DataFrame(columns=["recording", "duration_ms", "amplitude_uv",
                                                "amplitude_adu", "phases", "turns",
                                                "thickness_ms"]),
                          pd.concat(epochs, ignore_index=True) if epochs else None, u,
                          features=model.features)
    r = clf.read_units(model, x)
    max_missing = clf.classifier_parameters()["max_missing_fraction"]
    reasons = []
    short = model.transfer.get("short_control_subjects", {})
    for row in r.itertuples():
        if row.pred == "indeterminate" and row.muscle in short:
            why = (f"no valid reference: {short[row.muscle]} local control subject(s) of muscle "
                   f"{row.muscle!r} to centre the classifier transferred from "
                   f"{_source_name(model.transfer)} on; it needs "
                   f"{model.transfer['min_control_subjects']} ([lab_classifier.transfer] "
                   "min_control_subjects)")
        elif row.pred == "indeterminate" and row.muscle not in model.muscles():
            why = (f"no valid reference: the classifier has no standardisation for muscle "
                   f"{row.muscle!r} (muscles: {', '.join(model.muscles())})")
        elif row.pred == "indeterminate" and row.n_missing > max_missing * len(model.features):
            why = (f"not read: {int(row.n_missing)} of {len(model.features)} features missing "
                   f"(more than {max_missing:.0%}, [lab_classifier] max_missing_fraction; "
                   f"{row.n_muaps} MUAP(s), {row.n_epochs} epoch(s))")
        elif row.pred == "indeterminate":
            why = f"not read: {row.n_muaps} MUAP(s) and {row.n_epochs} epoch(s)"
        elif model.transfer:
            why = (f"lab classifier {_transfer_note(model, row.muscle)} ({len(model.features)} "
                   f"features; {int(row.n_missing)} missing, set to the local control mean): "
                   + ", ".join(f"{c} {getattr(row, c):.2f}" for c in classes))
        else:
            why = (f"lab classifier ({len(model.features)} features against the lab's controls"
                   f"; {int(row.n_missing)} missing, set to the control mean): "
                   + ", ".join(f"{c} {getattr(row, c):.2f}" for c in classes))
        reasons.append(why)
    r["clf_reasons"] = reasons
    r["clf_model"] = [_transfer_note(model, m) for m in r["muscle"]]
    pooled = clf.pool_probabilities(r[r["pred"] != "indeterminate"],
                                    r.loc[r["pred"] != "indeterminate", "subject"], classes)
    sp = pooled.iloc[0] if len(pooled) else None
    cols = r.set_index("muscle")
    out = table.copy()
    key = out["muscle"]
    out["clf_pattern"] = key.map(cols["pred"]).fillna("indeterminate").to_numpy()
    out["clf_probability"] = key.map(cols["probability"]).round(3).to_numpy()
    for c in classes:
        out[f"clf_p_{c}"] = key.map(cols[c]).round(3).to_numpy()
    out["clf_reasons"] = key.map(cols["clf_reasons"]).fillna(
        "no muscle given: no reference to compare with").to_numpy()
    out["clf_model"] = key.map(cols["clf_model"]).fillna(_transfer_note(model, "")).to_numpy()
    out["clf_n_missing"] = key.map(cols["n_missing"]).astype("Int64").to_numpy()
    out["clf_n_features"] = len(model.features)
    out["clf_subject_pattern"] = sp["pred"] if sp is not None else "indeterminate"
    out["clf_subject_probability"] = round(float(sp["probability"]), 3) if sp is not None else np.nan
    return out


def run_reference_build(args: argparse.Namespace) -> int:
    """Run ``edxreview emg reference build``; returns the exit status (0 ok, 1 bad input, 2 usage)."""
    import pandas as pd

    if not _options_valid(args):
        return 2
    out = Path(args.out)
    code = _check_reference_out(args, out)
    if code:
        return code
    source, code = _borrowed_classifier(args)
    if code:
        return code
    paths = list(dict.fromkeys(Path(p).with_suffix("") if Path(p).suffix.lower() in (".hea", ".dat")
                               else Path(p) for p in args.paths))
    mapping, code = _subject_mapping(args, paths)
    if mapping is None:
        return code
    if source is not None and (mapping["truth"] != "normal").any():
        bad = mapping.loc[mapping["truth"] != "normal", ["file", "group"]].head(3)
        _err(f"--classifier-from centres a borrowed classifier on this laboratory's controls, but "
             f"--subjects {args.subjects!r} labels patients ("
             + ", ".join(f"file {f!r}: group {g!r}" for f, g in zip(bad["file"], bad["group"]))
             + "), which would train a local classifier: give only the controls, or leave out "
               "--classifier-from to train this laboratory's own classifier.")
        return 2
    muaps, epochs, failures = _measure_controls(args, paths, mapping)
    if failures:
        for f in failures:
            _err(f)
        _err("nothing written; fix or leave out the files above.")
        return 1
    table = pd.concat([m for m in muaps if len(m)] or [pd.DataFrame()], ignore_index=True)
    if table.empty:
        _err("no MUAPs found in the control recordings; nothing written.")
        return 1
    units = mapping.rename(columns={"file": "recording"})
    units["record_s"] = [m.attrs.get("record_s", float("nan")) for m in muaps]
    ref = _build_reference(args, table, epochs, units)
    lent = _transfer_lab_classifier(ref, source, args, table, epochs, units) if source else ""
    have = set(ref.muscles())
    wanted = sorted(set(mapping["muscle"]))
    if not have and ref.classifier is None:   # a borrowed classifier is worth writing alone
        _err(f"too few usable control recordings for {', '.join(wanted)} (each muscle needs "
             "enough recordings with MUAPs; see emg_signal_parameters.toml [lab_reference]); "
             "nothing written.")
        return 1
    n_ctrl = int((units["truth"] == "normal").sum())
    ref.notes.append(f"built from {n_ctrl} control recording(s)"
                     + (f"; centroids from {len(units)} labelled recording(s)"
                        if ref.centroids is not None else ""))
    if lent:
        ref.notes.append(lent)
    from edxreview import __version__
    from edxreview.signal._params import load_signal_parameters

    ref.recorded = {"fs_hz": sorted(args.control_rates),
                    "sorting": load_signal_parameters()["sorting"]["method"],
                    "edxreview": __version__}
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    ref.write(tmp)
    tmp.replace(out)
    if not args.quiet:
        _print_reference(ref, wanted, have)
    return 0


def _check_reference_out(args: argparse.Namespace, out: Path) -> int:
    """The reference file is no input, no folder, and not replaced without --force (2 if so)."""
    # the reference file may never be one of the inputs (a recording, its header or data file,
    # the --subjects table), whatever --force says: edxreview never writes over its input
    inputs = [Path(p) for p in args.paths] + ([Path(args.subjects)] if args.subjects else [])
    if getattr(args, "classifier_from", None):
        inputs.append(Path(args.classifier_from))
    inputs += [p.with_suffix(s) for p in inputs if p.suffix.lower() in (".hea", ".dat")
               for s in (".hea", ".dat")]
    resolved = out.resolve()
    clash = next((p for p in inputs if p.resolve() == resolved), None)
    if clash is not None:
        _err(f"--out {str(out)!r} is the input {str(clash)!r}; edxreview never writes over its "
             "input: choose another file name, e.g. lab-reference.toml.")
        return 2
    if out.is_dir() or (out.exists() and not out.is_file()):
        _err(f"--out {str(out)!r} is not a file; give a file name such as lab-reference.toml.")
        return 2
    if out.exists() and not args.force:
        _err(f"reference file {str(out)!r} exists; use --force to replace it.")
        return 2
    return 0


def _subject_mapping(args: argparse.Namespace, paths: list[Path]):
    """Each recording's subject, muscle and group; ``(None, exit status)`` when invalid."""
    import pandas as pd

    from edxreview.signal._classify import normalize_muscle

    names = [p.stem if p.suffix.lower() not in ("", ".hea", ".dat") else p.name for p in paths]
    mapping = pd.DataFrame({"file": names, "subject": names, "muscle": args.muscle})
    if args.subjects:
        sub = _read_subjects(args.subjects)
        if sub is None:
            return None, 1
        missing = {"file", "subject"} - set(sub.columns)
        if missing:
            _err(f"--subjects {args.subjects!r} lacks column(s) {sorted(missing)!r} (its columns: "
                 f"{[c for c in sub.columns if c != '_row']!r}); it needs file and subject (and "
                 "optionally muscle and group), in any case, separated by commas, semicolons or "
                 "tabs.")
            return None, 1
        sub["file"] = sub["file"].map(lambda f: Path(str(f)).stem if pd.notna(f) else f)
        used = sub["file"].isin(names)
        twice = sub[used & sub["file"].duplicated(keep=False)]
        if len(twice):
            for f, g in twice.groupby("file", sort=False)["_row"]:
                _err(f"--subjects {args.subjects!r}: file {f!r} has {len(g)} rows (rows "
                     f"{', '.join(str(r) for r in g)}); give one row per file.")
            return None, 1
        known = mapping.drop(columns=["subject"] + (["muscle"] if "muscle" in sub else []))
        mapping = known.merge(sub[[c for c in ("file", "subject", "muscle", "group", "_row")
                                   if c in sub]], on="file", how="left")
        if "muscle" in sub and not _csv_muscles_valid(args.subjects, mapping):
            return None, 1
        unmapped = mapping.loc[mapping["subject"].isna(), "file"].tolist()
        if unmapped:
            _err(f"--subjects {args.subjects!r} has no row for {unmapped!r}"
                 + _near_misses(unmapped, sub[~used]) + ".")
            return None, 1
        if not getattr(args, "quiet", False):
            _print_unused_rows(args.subjects, sub, used)
    elif len(paths) > 1:  # reference build (analyze maps files only with --subjects)
        print(f"edxreview emg: warning: no --subjects: each of the {len(paths)} files is counted "
              "as its own control subject; several files of one person need --subjects (a CSV "
              "with columns file and subject), or the reference overstates its number of "
              "people.", file=sys.stderr)
    if mapping["muscle"].isna().any():
        _err("no muscle for " + repr(mapping.loc[mapping['muscle'].isna(), 'file'].tolist())
             + "; give --muscle or a muscle column in --subjects.")
        return None, 2
    mapping["muscle"] = mapping["muscle"].map(normalize_muscle)
    mapping = mapping.drop(columns=["_row"], errors="ignore")
    groups = {"normal": "normal", "control": "normal", "healthy": "normal",
              "neurogenic": "neurogenic", "neuropathy": "neurogenic",
              "myopathic": "myopathic", "myopathy": "myopathic"}
    if "group" not in mapping:
        mapping["group"] = "normal"
    mapping["truth"] = mapping["group"].astype(str).str.strip().str.lower().map(groups)
    bad = mapping[mapping["truth"].isna()]
    if len(bad):
        rows = ", ".join(f"file {f!r}: group {g!r}" for f, g in zip(bad["file"], bad["group"]))
        _err(f"--subjects {args.subjects!r}: unknown group ({rows}); use normal (control, "
             "healthy), neurogenic (neuropathy) or myopathic (myopathy).")
        return None, 1
    return mapping, 0


def _read_subjects(path: str):
    """The --subjects table as text: delimiter sniffed from the header line (comma, semicolon or
    tab: Excel writes semicolons in many locales), column names stripped and lower-cased, a
    UTF-8 byte-order mark dropped, cells stripped, ``_row`` its spreadsheet row; None (and the
    reason printed) when it cannot be read."""
    import csv

    import pandas as pd

    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            header = f.readline()
        try:
            sep = csv.Sniffer().sniff(header, delimiters=",;\t").delimiter
        except csv.Error:  # one column, or nothing to tell: the comma of a plain CSV
            sep = ","
        sub = pd.read_csv(path, sep=sep, dtype=str, encoding="utf-8-sig")
    except (OSError, ValueError) as exc:  # UnicodeDecodeError and pandas' ParserError included
        _err(f"cannot read --subjects {path!r}: {exc}")
        return None
    cols = [str(c).strip().lower() for c in sub.columns]
    twice = sorted({c for c in cols if cols.count(c) > 1})
    if twice:
        _err(f"--subjects {path!r}: column(s) {twice!r} appear more than once (names are read "
             "without regard to case).")
        return None
    sub.columns = cols
    for c in sub.columns:
        sub[c] = sub[c].str.strip().mask(lambda v: v == "")
    sub["_row"] = sub.index + 2  # the spreadsheet row (the header is row 1)
    return sub


def _near_misses(unmapped: list[str], rows) -> str:
    """'; closest rows: ...' naming, for each file without a row, the unused row whose file
    name is nearest (a typo such as MD010_Hea05_DL for MD010_Hea05_LD)."""
    import difflib

    names = rows["file"].dropna().tolist()
    hints = []
    for f in unmapped:
        close = difflib.get_close_matches(f, names, n=1, cutoff=0.8)
        if close:
            row = int(rows.loc[rows["file"] == close[0], "_row"].iloc[0])
            hints.append(f"{f!r}: row {row} names {close[0]!r}")
    return ("; closest rows: " + ", ".join(hints) + " (file names must match exactly, "
            "without the suffix)") if hints else ""


def _print_unused_rows(path: str, sub, used) -> None:
    """Rows in = rows used + rows matching no file given, with their reason (stderr)."""
    unused = sub[~used]
    if not len(unused):
        return
    blank = int(unused["file"].isna().sum())
    other = unused["file"].dropna()
    parts = []
    if len(other):
        ex = ", ".join(f"{f!r} (row {r})" for f, r in
                       zip(other.head(3), unused.loc[other.index[:3], "_row"]))
        parts.append(f"{len(other)} name a file not given here (e.g. {ex})")
    if blank:
        parts.append(f"{blank} have no file name")
    print(f"edxreview emg: note: --subjects {path!r}: {len(sub)} row(s): {int(used.sum())} "
          f"used, {len(unused)} not used: " + "; ".join(parts) + ".", file=sys.stderr)


def _csv_muscles_valid(path: str, mapping) -> bool:
    """Every muscle named in the --subjects rows the files use is in the knowledge vocabulary;
    otherwise each bad cell is printed (file, row, column, value, closest names) and False."""
    from edxreview._errors import InvalidParameterError
    from edxreview.signal._classify import check_muscle

    bad = []
    named = mapping[mapping["muscle"].notna()]
    for value, rows in named.groupby("muscle", sort=False)["_row"]:  # each distinct value once
        try:
            check_muscle(value, "muscle")
        except InvalidParameterError as exc:
            where = ", ".join(str(int(r)) for r in sorted(rows))
            bad.append(f"--subjects {path!r}, row {where}, column 'muscle': {exc}")
    for b in bad:
        _err(b)
    return not bad


def _measure_controls(args: argparse.Namespace, paths: list[Path], mapping):
    """Each control recording analysed: its MUAPs, its interference epochs, the failures."""
    from edxreview._errors import EdxreviewError
    from edxreview.signal import analyze_recording, read_signal

    muaps, epochs, failures = [], [], []
    args.control_rates = set()
    for p, (_, row) in zip(paths, mapping.iterrows(), strict=True):
        src = p.with_suffix(".hea") if p.suffix == "" and p.with_suffix(".hea").is_file() else p
        try:
            rec = read_signal(src, format=args.format, fs_hz=args.fs, gain_adu_per_mv=args.gain,
                              header_bytes=args.header_bytes)
            a = analyze_recording(rec, muscle=row["muscle"])
        except EdxreviewError as exc:
            failures.append(f"{src}: {exc}" if str(src) not in str(exc) else str(exc))
            continue
        if a.reading.rule == "implausible_amplitude":
            print(f"edxreview emg: warning: {src}: {a.reading.reasons[0]}", file=sys.stderr)
        args.control_rates.add(float(rec.fs_hz))
        m = a.muaps.assign(recording=row["file"])
        m.attrs = {}  # averaged waveforms are not needed (and do not concatenate)
        m.attrs["record_s"] = rec.samples.size / rec.fs_hz
        muaps.append(m)
        if a.interference is not None and len(a.interference):
            ip = a.interference.assign(recording=row["file"])
            ip.attrs = {}
            epochs.append(ip)
    return muaps, epochs, failures


def _build_reference(args: argparse.Namespace, table, epochs: list, units):
    """The laboratory reference from the controls, with centroids when other groups are labelled."""
    import pandas as pd

    from edxreview.signal._reference import build_lab_reference

    # the reference holds the MUAP features and the interference-pattern ones of the controls
    from edxreview.signal._interference import IP_FEATURES, interference_stats
    from edxreview.signal._params import load_signal_parameters
    from edxreview.signal._reference import recording_stats

    stats = pd.concat([recording_stats(table), interference_stats(
        pd.concat(epochs, ignore_index=True) if epochs else pd.DataFrame())], ignore_index=True)
    feats = [*load_signal_parameters()["lab_reference"]["features"], *IP_FEATURES]
    ref = build_lab_reference(None, units[units["truth"] == "normal"], lab=args.lab,
                              stats=stats, features=feats)
    if (units["truth"] != "normal").any() and ref.muscles():
        from edxreview.signal._reference import fit_centroids, zscore_units

        z = zscore_units(table, units, ref).merge(
            units.drop_duplicates(["subject", "muscle"])[["subject", "muscle", "truth"]],
            on=["subject", "muscle"])
        cent = fit_centroids(z)
        ref.centroids = cent if len(cent) else None
        _fit_lab_classifier(ref, table, epochs, units)
    return ref


def _fit_lab_classifier(ref, table, epochs: list, units) -> None:
    """The lab classifier of the labelled subjects (section lab_classifier of the parameter
    file), or the reason there is none, stored on ``ref``."""
    import pandas as pd

    from edxreview.signal import _classifier as clf

    ep = pd.concat(epochs, ignore_index=True) if epochs else None
    x = clf.unit_features(table, ep, units).merge(
        units.drop_duplicates(["subject", "muscle"])[["subject", "muscle", "truth"]],
        on=["subject", "muscle"])
    why = clf.validity(x)
    model = clf.fit_classifier(x) if why is None else None
    ref.classifier = model
    ref.classifier_status = why or ("" if model is not None else "no valid reference")


def _borrowed_classifier(args: argparse.Namespace):
    """The reference named by --classifier-from, checked before any recording is measured:
    ``(reference or None, exit status)``; 1 when it cannot be read, 2 when it holds no
    classifier to borrow, an already transferred one, or one trained on other features than
    this version's parameter file."""
    from edxreview._errors import EdxreviewError
    from edxreview.signal import _classifier as clf
    from edxreview.signal._reference import read_lab_reference

    path = getattr(args, "classifier_from", None)
    if path is None:
        return None, 0
    try:
        src = read_lab_reference(path)
    except EdxreviewError as exc:
        _err(f"--classifier-from: {exc}")
        return None, 1
    model = src.classifier
    if model is None:
        why = f" ({src.classifier_status})" if src.classifier_status else ""
        _err(f"--classifier-from {path!r} holds no lab classifier{why}; give a reference built "
             "with 'emg reference build --subjects' with a group column (normal, neurogenic, "
             "myopathic subjects).")
        return None, 2
    if model.transfer:
        _err(f"--classifier-from {path!r} holds a classifier already transferred from "
             f"{model.transfer.get('from_lab') or model.transfer.get('from_reference')!r}; "
             "borrow it from the reference of the laboratory that trained it.")
        return None, 2
    want = list(clf.classifier_parameters()["features"])
    if list(model.features) != want:
        extra = [f for f in model.features if f not in want]
        lack = [f for f in want if f not in model.features]
        _err(f"--classifier-from {path!r}: its classifier was trained on other features than "
             f"this edxreview's parameter file (emg_signal_parameters.toml [lab_classifier] "
             f"features; {len(model.features)} against {len(want)}"
             + (f"; only in the reference: {extra!r}" if extra else "")
             + (f"; only in the parameter file: {lack!r}" if lack else "")
             + ("; same names, other order" if not extra and not lack else "")
             + "); rebuild that reference with this version.")
        return None, 2
    return src, 0


def _transfer_lab_classifier(ref, source, args: argparse.Namespace, table, epochs: list,
                             units) -> str:
    """The classifier of ``source`` re-centred on the control subject-muscles of ``units``
    (:func:`~edxreview.signal._classifier.transfer_classifier`), or the reason there is
    none, stored on ``ref``; returns the note for the reference (empty when none)."""
    import pandas as pd

    from edxreview.signal import _classifier as clf

    model = source.classifier
    ep = pd.concat(epochs, ignore_index=True) if epochs else None
    ctrl = units[units["truth"] == "normal"]
    x = clf.unit_features(table, ep, ctrl, features=model.features)
    local = clf.transfer_classifier(model, x, from_lab=source.lab,
                                    from_reference=Path(args.classifier_from).name)
    if isinstance(local, str):
        ref.classifier, ref.classifier_status = None, local
        return ""
    ref.classifier, ref.classifier_status = local, ""
    return (f"lab classifier transferred from {_source_name(local.transfer)}, centred on "
            + ", ".join(f"{m} {n}" for m, n in local.transfer["local_control_subjects"].items())
            + " local control subject(s)")


def _source_name(transfer: dict) -> str:
    """The laboratory a transferred classifier came from, as the user named it (its lab name,
    else its reference file's name)."""
    lab, ref = transfer.get("from_lab", ""), transfer.get("from_reference", "")
    if lab and ref:
        return f"{lab!r} ({ref})"
    return repr(lab or ref or "another laboratory")


def _transfer_note(model, muscle: str) -> str:
    """How a muscle's reading was made: the laboratory's own model, or the borrowed one and the
    local controls it is centred on."""
    t = model.transfer
    if not t:
        return "trained on this laboratory's labelled subjects"
    n = t.get("local_control_subjects", {}).get(muscle)
    if n is None:
        return f"transferred from {_source_name(t)}; no local centre for {muscle!r}"
    return (f"transferred from {_source_name(t)}, centred on {n} local control subject(s)"
            + ("; scale borrowed (mean of the source muscles' SDs)"
               if muscle in t.get("borrowed_scale", []) else ""))


def _print_reference(ref, wanted: list[str], have: set[str]) -> None:
    """One summary line per muscle (its controls, and its limits for a mean of
    ``[lab_reference] summary_muaps`` MUAPs in ms, µV and phases) and centroid."""
    from edxreview.signal._params import load_signal_parameters
    from edxreview.signal._reference import control_subjects_short

    n = int(load_signal_parameters()["lab_reference"]["summary_muaps"])
    for m in wanted:
        if m in have:
            r = ref.table.loc[(m, "duration_ms")]
            few = "; too few control subjects: 'emg analyze' will not judge against it"
            print(f"{m}: {int(r['n_subjects'])} subject(s), {int(r['n_recordings'])} "
                  f"recordings, {int(r['n_muaps'])} MUAPs; mean duration {r['mean']:.1f} ms"
                  + (few if control_subjects_short(ref, m) else ""))
            print(f"  {_limits_line(ref, m, n)}")
        else:
            print(f"{m}: no z-score reference (too few control recordings)")
    if ref.centroids is not None:
        for (m, cls), r in ref.centroids.iterrows():
            print(f"{m}: centroid of {cls} from {int(r['n_units'])} subject-muscle(s)")
    if ref.classifier is not None and ref.classifier.transfer:
        c, t = ref.classifier, ref.classifier.transfer
        subj = ", ".join(f"{k} {v}" for k, v in c.counts.get("subjects", {}).items())
        print(f"lab classifier: transferred from {_source_name(t)} ({len(c.features)} features, "
              f"trained there on subjects {subj}; penalty C = {c.c:g})")
        for m in c.muscles():
            print(f"  {m}: {_transfer_note(c, m)}")
        for m, n in t.get("short_control_subjects", {}).items():
            print(f"  {m}: no valid reference ({n} local control subject(s), "
                  f"{t['min_control_subjects']} needed)")
    elif ref.classifier is not None:
        c = ref.classifier
        subj = ", ".join(f"{k} {v}" for k, v in c.counts.get("subjects", {}).items())
        print(f"lab classifier: {len(c.features)} features, muscles {', '.join(c.muscles())}; "
              f"trained on subjects {subj}; penalty C = {c.c:g}")
    elif ref.classifier_status:
        print(f"lab classifier: {ref.classifier_status}")


def _limits_line(ref, muscle: str, n: int) -> str:
    """A muscle's limits for a mean of ``n`` MUAPs in native units, e.g. "limits for a mean of
    20 MUAPs (|z| > 2.05): duration 2.1 to 8.1 ms, amplitude 146 to 1473 µV (geometric mean),
    phases 0.48 to 2.90"."""
    from edxreview.signal._reference import limits_for_mean

    lim = limits_for_mean(ref, muscle, n)
    amp = "µV" if ref.amplitude_unit == "uV" else "ADC units"
    parts = []
    for f, label, unit, d in (("duration_ms", "duration", " ms", 1),
                              ("log_amplitude", "amplitude", f" {amp} (geometric mean)", 0),
                              ("phases", "phases", "", 2)):
        if f in lim.index:
            parts.append(f"{label} {lim.at[f, 'lower']:.{d}f} to {lim.at[f, 'upper']:.{d}f}{unit}")
    lim_z = f" (|z| > {float(lim['limit'].iloc[0]):.2f})" if len(lim) else ""
    return f"limits for a mean of {n} MUAPs{lim_z}: " + (", ".join(parts) or "none")


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry for ``python -m edxreview.cli.emg``."""
    parser = argparse.ArgumentParser(prog="edxreview")
    subs = parser.add_subparsers(dest="command", required=True)
    add_parser(subs)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
