"""The reading options shared by ``emg analyze`` and ``emg reference build``, checked before
any file is read, and the command's error line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _err(msg: str) -> None:
    print(f"edxreview emg: error: {msg}", file=sys.stderr)


def _located(path, exc: Exception) -> str:
    """A file's error, named by the file unless the message already names it."""
    return f"{path}: {exc}" if str(path) not in str(exc) else str(exc)


def _refuse_failures(failures: list[str]) -> bool:
    """Print each file that could not be read and that nothing was written; True when any
    failed (the command then exits 1)."""
    for f in failures:
        _err(f)
    if failures:
        _err("nothing written; fix or leave out the files above.")
    return bool(failures)


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
        if getattr(args, "side", None) is not None:   # emg analyze only
            args.side = check_side(args.side, "--side")
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


def check_side(value: str, where: str) -> str:
    """A side in the study workbook's vocabulary (``L``/``R``, ``left``/``right``, ``lt``/``rt``,
    any case) as ``"L"`` or ``"R"``; blank (a midline muscle, or not known) as ``""``.

    Raises
    ------
    InvalidParameterError
        Any other value; the message names ``where`` and the values allowed.
    """
    from edxreview._errors import InvalidParameterError
    from edxreview.io._schema import SIDE_VALUES

    text = "" if value is None else str(value).strip()
    if not text:
        return ""
    side = SIDE_VALUES.get(text.lower())
    if side is None:
        raise InvalidParameterError(
            f"{where} {value!r} is not a side; use L or R (left/right), as the study "
            "workbook's emg sheet does, or leave it blank for a midline muscle.")
    return side


def _names(names: list[str], most: int = 3) -> str:
    """A few file names for a message, and how many more."""
    shown = ", ".join(repr(n) for n in names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def _input_files(args: argparse.Namespace) -> list[Path]:
    """Every file ``emg analyze`` or ``emg reference build`` reads, which its output may never
    overlap: each recording's files (a WFDB record's header, the data files it names and its
    other files such as ``.atr``, however the record is given:
    :func:`~edxreview.signal._readers.recording_files`), the --subjects table, the --reference
    file and the --classifier-from reference."""
    from edxreview.signal._readers import recording_files

    files = [f for p in args.paths
             for f in recording_files(p, args.format, args.header_bytes, args.gain)]
    for name in ("subjects", "reference", "classifier_from"):
        value = getattr(args, name, None)
        if value is not None and value != "illustrative":
            files.append(Path(value))
    return files


def _unique_recordings(paths: list[Path], args: argparse.Namespace | None = None) -> list[Path]:
    """The paths as given, each recording once (the first path naming it): a WFDB record given
    as both .hea and .dat (or also by its name), or one file given by two paths (a link,
    ``..``), is read once, never twice into the pooled MUAPs. Unless -q, a note says how many
    paths were read as a recording already given (every path is a recording or is named).

    ``args``: the command's reading options (``format``, ``header_bytes``, ``gain``), which
    decide what a path is read as (default: decided from its suffix)."""
    import os

    from edxreview.signal._readers import resolve_format, wfdb_header

    fmt = getattr(args, "format", "auto")
    header_bytes, gain = getattr(args, "header_bytes", 0), getattr(args, "gain", None)
    seen: dict[str, Path] = {}
    unique, again = [], []
    for p in paths:
        read = wfdb_header(p) if resolve_format(p, fmt, header_bytes, gain) == "wfdb" else p
        first = seen.setdefault(os.path.realpath(read), p)
        if first is p:
            unique.append(p)
        else:
            again.append((p, first))
    if again and not getattr(args, "quiet", True):
        shown = ", ".join(f"{str(p)!r} (as {str(first)!r})" for p, first in again[:3])
        more = f" and {len(again) - 3} more" if len(again) > 3 else ""
        print(f"edxreview emg: note: {len(paths)} paths given, {len(unique)} recording(s): "
              f"{len(again)} path(s) name a recording given before, read once: {shown}{more}.",
              file=sys.stderr)
    return unique


def _recording_names(paths: list[Path]) -> list[str] | None:
    """Each recording's distinct name (:func:`~edxreview.signal._readers.recording_names`), or
    None when two would be named alike (the reason printed; the command exits 2)."""
    from edxreview._errors import InvalidParameterError
    from edxreview.signal._readers import recording_names

    try:
        return recording_names(paths)
    except InvalidParameterError as exc:
        _err(f"{exc} Nothing written.")
        return None
