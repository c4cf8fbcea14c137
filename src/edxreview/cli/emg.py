"""``edxreview emg analyze``: MUAP analysis, spontaneous activity and a reading per recording;
``edxreview emg reference build``: a laboratory's MUAP reference from its control recordings.

This module holds the command's parser and entry points; ``emg analyze`` runs in
:mod:`._emg_analyze` (its subjects.csv readings in :mod:`._emg_readings`), ``emg reference
build`` in :mod:`._emg_reference`, and both read --subjects with :mod:`._emg_subjects`."""

from __future__ import annotations

import argparse
import logging

from ._emg_analyze import _subject_summary, run
from ._emg_reference import _print_reference, run_reference_build
from ._emg_subjects import _subject_mapping
from ._force import FOLDER_FORCE_HELP

# the entry points, and the helpers the tests call directly
__all__ = ["add_parser", "main", "run", "run_reference_build", "_subject_summary",
           "_print_reference", "_subject_mapping"]

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
               "recordings, left and right apart where the side is given (subjects.csv, "
               "one screen line each; emg_rows.csv, one row each), and its primary reading "
               "(columns primary_pattern, primary_rule) is, in this order: the lab "
               "classifier's class where the reference holds a lab classifier that reads the "
               "muscle (rule lab_classifier; the best reading in the leave-one-subject-out "
               "evaluation, README); otherwise the reading of the pooled MUAP means (nearest "
               "class centroid where the reference has centroids, else the z-score rule). The "
               "interference pattern is a second, independent reading and never the primary "
               "one; a single recording's reading never replaces its subject-muscle's. "
               "emg_rows.csv's qualitative columns (muap_amplitude, muap_duration, "
               "polyphasia), which the workbook reads, are written only where the row's "
               "reading goes their way: a level it does not give (a large amplitude beside a "
               "myopathic reading, all beside a normal reading with a size mean beyond its "
               "limit or an indeterminate one) is left blank, not read, with a warning naming "
               "the row, and the rule id in muap_columns_rule (follows_reading, "
               "opposes_reading, size_opposes_normal, no_sign_of_reading, "
               "reading_indeterminate, not_judged; docs/emg-outputs.md). "
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
                   help="also write emg_rows.csv, draft rows of the workbook's emg sheet, for "
                        "this patient (with --subject or --subjects emg_rows.csv is written "
                        "anyway, one row per subject-muscle-side, the subject id as patient_id "
                        "unless --patient gives another; refused with a --subjects table of "
                        "several subjects)")
    a.add_argument("--side", default="", metavar="L|R",
                   help="side of every file: L or R (left/right, as the workbook's emg sheet); "
                        "with --subject the recordings are pooled per muscle and side, and "
                        "emg_rows.csv carries it. Refused beside a --subjects table with a side "
                        "column (which gives each file's)")
    a.add_argument("--sorting", choices=["peel", "pursuit"], default=None,
                   help="motor-unit decomposition: peel (default) or pursuit (template pursuit "
                        "with superposition search: closer to the expert decomposition of "
                        "EMGLAB R00108, 97 %% of its discharges against 70 %%, at a precision "
                        "of 0.85 against 0.83). Pursuit costs "
                        "4.5-10x the CPU time of peel on real records (benchmarks/emg.py, one "
                        "core: about 27x real time on EMGLAB N2001 and 8.5x on Algiers "
                        "recordings, slowest records 14x and 6x). Not the default: the "
                        "readings are not better with it (docs/emg-evaluation.md, 'Pursuit: "
                        "cost and readings')")
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
                        "columns file (the recording's name as recordings.csv gives it, or its "
                        "file name), subject and optionally muscle and "
                        "side (L/R, left/right, blank for a midline muscle): each file's "
                        "subject, muscle and side (other columns are named in a warning); "
                        "writes subjects.csv with a reading per subject, muscle and side (left "
                        "and right read apart) and emg_rows.csv, one row each, and, with a lab classifier in the reference, per "
                        "subject over its muscles, the classifier's class and probability "
                        "also printed per subject-muscle (needs --reference; instead of "
                        "--subject)")
    a.add_argument("--header-bytes", type=int, default=0, metavar="N",
                   help="bytes of a raw file's own header to skip (EMGLAB N2001 files: 20)")
    a.add_argument("--no-figures", action="store_true", help="skip the per-recording figures")
    a.add_argument("--force", action="store_true",
                   help=FOLDER_FORCE_HELP)
    a.add_argument("-q", "--quiet", action="store_true",
                   help="print no progress bar and no readings (the files in --out hold them); "
                        "warnings are still printed")
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
                   help="CSV with columns file (name or stem), subject and optionally muscle, "
                        "side (the MUAP limits still count people: a control's left and "
                        "right are one person's muscle; the centroids and the lab classifier "
                        "are trained per subject-muscle-side, the unit 'emg analyze' reads when "
                        "given sides) and group (normal / neurogenic / myopathic). Without it every file is "
                        "counted as its own control subject (a warning says so): several files "
                        "of one person need it, since a muscle is judged only against controls "
                        "from enough people ([lab_reference] min_judging_control_subjects). "
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
    b.add_argument("--force", action="store_true", help="replace an existing lab reference file (one whose first line names the "
                        "lab-reference format); any other file is never replaced")
    b.add_argument("-q", "--quiet", action="store_true", help="no summary")
    b.set_defaults(func=run_reference_build)
    return emg


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry for ``python -m edxreview.cli.emg``."""
    parser = argparse.ArgumentParser(prog="edxreview")
    subs = parser.add_subparsers(dest="command", required=True)
    add_parser(subs)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
