"""The --subjects CSV of ``emg analyze`` and ``emg reference build``: each file's subject,
muscle, side and group, its rows accounted for (used, or not used with the reason)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ._emg_options import _err

#: the columns --subjects reads; any other is named in a warning
SUBJECTS_COLUMNS = ("file", "subject", "muscle", "side", "group")


def _subject_mapping(args: argparse.Namespace, paths: list[Path], names: list[str] | None = None):
    """Each recording's subject, muscle, side (``L``, ``R`` or ``""``) and group (``paths``: the
    recordings as given, one per record; ``names``: their distinct names, by default
    :func:`~edxreview.signal._readers.recording_names`); ``(None, exit status)`` when invalid."""
    import pandas as pd

    from edxreview.signal._classify import normalize_muscle
    from edxreview.signal._readers import recording_names

    names = recording_names(paths) if names is None else names
    side = getattr(args, "side", "") or ""   # emg analyze's --side, checked already
    mapping = pd.DataFrame({"file": names, "subject": names, "muscle": args.muscle,
                            "side": side})
    if args.subjects:
        sub = _read_subjects(args.subjects)
        if sub is None:
            return None, 1
        _warn_unknown_columns(args.subjects, sub)
        if "side" in sub and side:
            _err(f"--side {side!r} and the side column of --subjects {args.subjects!r} both give "
                 "the side: leave out --side (the column gives each file's side).")
            return None, 2
        missing = {"file", "subject"} - set(sub.columns)
        if missing:
            _err(f"--subjects {args.subjects!r} lacks column(s) {sorted(missing)!r} (its columns: "
                 f"{[c for c in sub.columns if c != '_row']!r}); it needs file and subject (and "
                 "optionally muscle and group), in any case, separated by commas, semicolons or "
                 "tabs.")
            return None, 1
        sub["file"] = _recording_cells(sub["file"], names)
        used = sub["file"].isin(names)
        twice = sub[used & sub["file"].duplicated(keep=False)]
        if len(twice):
            for f, g in twice.groupby("file", sort=False)["_row"]:
                _err(f"--subjects {args.subjects!r}: file {f!r} has {len(g)} rows (rows "
                     f"{', '.join(str(r) for r in g)}); give one row per file.")
            return None, 1
        known = mapping.drop(columns=["subject"] + [c for c in ("muscle", "side") if c in sub])
        mapping = known.merge(sub[[c for c in (*SUBJECTS_COLUMNS, "_row") if c in sub]],
                              on="file", how="left")
        if "muscle" in sub and not _csv_muscles_valid(args.subjects, mapping):
            return None, 1
        if "side" in sub and not _csv_sides_valid(args.subjects, mapping):
            return None, 1
        blank = mapping[mapping["_row"].notna() & mapping["subject"].isna()]
        if len(blank):   # the row is there, its subject cell is empty
            _err(f"--subjects {args.subjects!r}, row(s) "
                 f"{', '.join(str(int(r)) for r in blank['_row'])}, column 'subject': blank for "
                 f"{blank['file'].tolist()!r}; give each file's subject.")
            return None, 1
        unmapped = mapping.loc[mapping["subject"].isna(), "file"].tolist()
        if unmapped:
            _err(f"--subjects {args.subjects!r} has no row for {unmapped!r}"
                 + _near_misses(unmapped, sub[~used]) + _named_in_full(paths, names, sub[~used])
                 + ".")
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
    mapping["truth"] = mapping["group"].fillna("").astype(str).str.strip().str.lower().map(groups)
    bad = mapping[mapping["truth"].isna()]
    if len(bad):
        rows = ", ".join(f"file {f!r}: group {g!r}" for f, g in zip(bad["file"], bad["group"]))
        _err(f"--subjects {args.subjects!r}: unknown group ({rows}); use normal (control, "
             "healthy), neurogenic (neuropathy) or myopathic (myopathy).")
        return None, 1
    return mapping, 0


def _recording_cells(cells, names):
    """The file column of a --subjects table as recording names: a cell is a record's name as
    it is when a recording of ``names`` bears it (a record "c.0", its dot no suffix), else a
    file name whose suffix is dropped ("c.0.hea", "N2001A01BB01.bin"); blanks stay blank."""
    as_is = cells.isin(names) | cells.isna()
    return cells.where(as_is, cells.map(lambda f: Path(str(f)).stem))


def _warn_unknown_columns(path: str, sub) -> None:
    """One warning line naming the columns --subjects does not read (said whatever -q says: a
    misspelt side column would otherwise pool left and right without a word)."""
    import difflib

    extra = [c for c in sub.columns if c not in (*SUBJECTS_COLUMNS, "_row")]
    if not extra:
        return
    hints = [f"{c!r} (did you mean {m[0]!r}?)" if (m := difflib.get_close_matches(
        c, SUBJECTS_COLUMNS, n=1, cutoff=0.7)) else repr(c) for c in extra]
    print(f"edxreview emg: warning: --subjects {path!r}: column(s) {', '.join(hints)} not read; "
          f"it reads {', '.join(SUBJECTS_COLUMNS)}.", file=sys.stderr)


def _read_subjects(path: str):
    """The --subjects table as text: delimiter sniffed from the header line (comma, semicolon or
    tab: Excel writes semicolons in many locales), column names stripped and lower-cased, a
    UTF-8 byte-order mark dropped, cells stripped, ``_row`` its spreadsheet row; None (and the
    reason printed) when it cannot be read."""
    import pandas as pd

    from edxreview.io._read import _sniff_separator  # the workbook reader's own rule

    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            sep = _sniff_separator(f.readline())
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


def _named_in_full(paths: list[Path], names: list[str], rows) -> str:
    """'; row N names 'c', the name shared by 'c.0' and 'c.1' ...' for unused rows naming what
    several recordings of the run would be named without their suffix (they are named in
    full: :func:`~edxreview.signal._readers.recording_names`)."""
    from edxreview.signal._readers import record_name

    shared: dict[str, list[str]] = {}
    for p, n in zip(paths, names):
        if n != record_name(p):
            shared.setdefault(record_name(p), []).append(n)
    hints = [f"row {int(r)} names {f!r}, the name shared by {', '.join(map(repr, shared[f]))}"
             for f, r in zip(rows["file"], rows["_row"]) if f in shared]
    return ("; " + "; ".join(hints) + " (recordings whose names differ only in their suffix "
            "are named in full: give each its own row)") if hints else ""


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


def _csv_sides_valid(path: str, mapping) -> bool:
    """Every side in the --subjects rows the files use is in the workbook's vocabulary (L or R,
    left/right, blank for a midline muscle), written ``L``/``R``/``""`` into ``mapping``;
    otherwise each bad value is printed (file, row, column, value) and False."""
    from edxreview._errors import InvalidParameterError

    from ._emg_options import check_side

    bad, typed = [], {}
    for value, rows in mapping.groupby(mapping["side"].fillna(""), sort=False)["_row"]:
        try:
            typed[value] = check_side(value, "side")
        except InvalidParameterError as exc:
            where = ", ".join(str(int(r)) for r in sorted(rows))
            files = mapping.loc[rows.index, "file"].tolist()
            bad.append(f"--subjects {path!r}, row {where} (file {', '.join(map(repr, files))}), "
                       f"column 'side': {exc}")
    for b in bad:
        _err(b)
    mapping["side"] = mapping["side"].fillna("").map(typed)
    return not bad


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
