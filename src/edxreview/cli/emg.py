"""``edxreview emg analyze``: MUAP analysis, spontaneous activity and a reading per recording."""

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
    )
    a.add_argument("paths", nargs="+", metavar="PATH", help="recording files (.hea/.dat, .edf, raw int16)")
    a.add_argument("--out", required=True, metavar="DIR", help="output folder")
    a.add_argument("--format", default="auto", choices=["auto", "wfdb", "edf", "raw"])
    a.add_argument("--fs", type=float, default=None, metavar="HZ", help="sampling rate of raw files (Hz)")
    a.add_argument("--gain", type=float, default=None, metavar="ADU_PER_MV",
                   help="ADC units per mV (raw files; without it amplitudes stay in ADC units)")
    a.add_argument("--muscle", default=None, metavar="NAME", help="muscle id, e.g. biceps_brachii")
    a.add_argument("--age", type=float, default=None, metavar="YEARS", help="age at the study (years)")
    a.add_argument("--patient", default=None, metavar="ID",
                   help="also write emg_rows.csv in the workbook's emg sheet format for this patient")
    a.add_argument("--side", default="", help="side for emg_rows.csv (left/right)")
    a.add_argument("--sorting", choices=["peel", "pursuit"], default=None,
                   help="motor-unit decomposition: peel (default; the readings' limits were set "
                        "on it) or pursuit (template pursuit with superposition search: closer to "
                        "an expert decomposition, about 4x slower)")
    a.add_argument("--no-figures", action="store_true", help="skip the per-recording figures")
    a.add_argument("--force", action="store_true",
                   help="replace a non-empty output folder that edxreview wrote (one "
                        "holding .edxreview-output.json and no file it does not list)")
    a.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    a.set_defaults(func=run)
    return emg


def _err(msg: str) -> None:
    print(f"edxreview emg: error: {msg}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    """Run ``edxreview emg analyze``; returns the exit status (0 ok, 1 bad input, 2 usage)."""
    from edxreview._errors import InvalidParameterError, OutputPathError
    from edxreview._output import OutputFolder
    from edxreview.signal._classify import check_age
    from edxreview.signal._readers import check_gain, check_sampling_rate

    if getattr(args, "emg_command", "analyze") != "analyze":
        _err(f"unknown emg command {args.emg_command!r}; use 'analyze'.")
        return 2
    # options are checked before any file is read or written: a bad option is a usage error (exit 2)
    try:
        check_sampling_rate(args.fs, "--fs")
        check_gain(args.gain, "--gain")
        check_age(args.age, "--age")
    except InvalidParameterError as exc:
        _err(str(exc))
        return 2
    paths = [Path(p) for p in args.paths]
    # a WFDB record is read from its header and its data file: the output may overlap neither
    inputs = paths + [p.with_suffix(s) for p in paths if p.suffix.lower() in (".hea", ".dat")
                      for s in (".hea", ".dat")]
    try:
        with OutputFolder(args.out, force=args.force, inputs=inputs, command="emg analyze") as output:
            return _analyze(args, paths, output)
    except OutputPathError as exc:
        _err(str(exc))
        return 2


def _analyze(args: argparse.Namespace, paths: list[Path], output) -> int:
    import pandas as pd

    from edxreview._errors import EdxreviewError, InvalidParameterError, SignalFileError
    from edxreview._tables import neutralize_formulas
    from edxreview.signal import analyze_recording, lookup_reference, read_signal

    if args.muscle:
        try:
            lookup_reference(args.muscle, args.age)
        except InvalidParameterError as exc:
            _err(str(exc))
            return 2
    # a WFDB record given as both .hea and .dat is one recording
    seen, unique = set(), []
    for p in paths:
        key = p.with_suffix("") if p.suffix.lower() in (".hea", ".dat") else p
        if key not in seen:
            seen.add(key)
            unique.append(p)
    analyses, failures = [], []
    from rich.progress import Progress

    with Progress(disable=args.quiet, transient=True) as progress:
        task = progress.add_task("analysing", total=len(unique))
        for p in unique:
            try:
                rec = read_signal(p, format=args.format, fs_hz=args.fs, gain_adu_per_mv=args.gain)
                analyses.append(analyze_recording(rec, muscle=args.muscle, age_years=args.age,
                                                  sorting=args.sorting))
            except (SignalFileError, InvalidParameterError) as exc:
                failures.append(f"{p}: {exc}" if str(p) not in str(exc) else str(exc))
            except EdxreviewError as exc:
                failures.append(f"{p}: {exc}")
            progress.advance(task)
    if failures:
        for f in failures:
            _err(f)
        _err("nothing written; fix or leave out the files above.")
        return 1
    tmp = output.staging
    rows, units, emg_rows = [], [], []
    for a in analyses:
        rows.append(a.recordings_row())
        if len(a.muaps):
            u = a.muaps.drop(columns=["onset_ms", "end_ms"]).copy()
            u.attrs = {}
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
    output.commit()
    if not args.quiet:
        for r in rows:
            print(f"{r['file']}: {r['pattern']} ({r['n_units']} units)")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry for ``python -m edxreview.cli.emg``."""
    parser = argparse.ArgumentParser(prog="edxreview")
    subs = parser.add_subparsers(dest="command", required=True)
    add_parser(subs)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
