"""``edxreview reference``: show, count, check and start reference limits.

``edxreview reference`` prints the active NCS limits (bundled, or ``--reference FILE``) with
each row's status and source; ``--summary`` counts rows per status for every audited table;
``check FILE`` (or ``--check FILE``) validates a laboratory's own file and lists every problem
with its row, column and value; ``--starter PATH`` writes an editable copy of the bundled
limits with a sidecar to fill in.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    import pandas as pd

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "reference", help="show, count, check or start the NCS reference limits",
        description="Print the active reference limits with source and status, count rows by "
                    "status (--summary), check a laboratory's own limits file (check FILE), or "
                    "write an editable starter file (--starter PATH).")
    p.add_argument("action", nargs="?", choices=["show", "check"], default="show",
                   help="show (default) or check FILE")
    p.add_argument("file", nargs="?", type=Path, default=None, help="the file to check")
    p.add_argument("--reference", type=Path, default=None, metavar="FILE",
                   help="show this laboratory file instead of the bundled limits")
    p.add_argument("--check", type=Path, default=None, metavar="FILE",
                   help="check a laboratory's limits file (same as: reference check FILE)")
    p.add_argument("--summary", action="store_true",
                   help="rows per status (verified, corrected, unsourced, convention) per table")
    p.add_argument("--starter", type=Path, default=None, metavar="PATH",
                   help="write an editable copy of the bundled limits (PATH.csv + .meta.toml)")
    p.add_argument("--force", action="store_true",
                   help="replace an existing starter (PATH.csv and its .meta.toml) only while "
                        "it is unedited: identical to what --starter writes now; a laboratory's "
                        "edited limits are never replaced")
    return p


def _limit_rows(limits: pd.DataFrame) -> list[list[str]]:
    import pandas as pd  # here, not at the top: the parser of every command imports this module

    def num(x) -> str:
        return "" if pd.isna(x) else f"{x:g}"

    age = [("" if pd.isna(lo) and pd.isna(hi) else f"{num(lo) or '0'}–{num(hi) or ''}")
           for lo, hi in zip(limits["age_min_years"], limits["age_max_years"])]
    height = [("" if pd.isna(h) else f"{num(s)} ms/cm from {num(h)} cm")
              for h, s in zip(limits["height_ref_cm"], limits["height_slope_ms_per_cm"])]
    sign = limits["bound"].map({"lower": "≥", "upper": "≤"}).fillna("")
    limit = sign + " " + limits["limit"].map(num) + " " + limits["unit"].astype(str)
    return [list(r) for r in zip(limits["study"], limits["nerve"],
                                 limits["recording_site"].str.replace("_", " "),
                                 limits["parameter"], limit, age, height,
                                 limits["status"], limits["source"])]


def _show(ref, console: Console) -> None:
    table = Table(title=f"Reference limits {ref.label} ({ref.path})")
    for col in ("study", "nerve", "recording", "parameter", "limit", "age (y)", "height",
                "status", "source"):
        table.add_column(col, overflow="fold")
    for row in _limit_rows(ref.limits):
        table.add_row(*row)
    console.print(table)
    sources = ref.meta.get("sources", {})
    used = {k for cell in ref.limits["source"] for k in str(cell).split("|") if k}
    for key in sorted(used):
        entry = sources.get(key, {})
        text = "; ".join(str(entry[f]) for f in ("authors", "title", "journal", "publisher",
                                                 "year", "table") if entry.get(f)) \
            or str(entry.get("citation", "")) or "(not described in the sidecar)"
        console.print(f"{key}: {text}", markup=False, soft_wrap=True)
        if entry.get("read"):
            console.print(f"    read: {entry['read']}", markup=False, soft_wrap=True)


def _summary(ref, console: Console) -> None:
    from ..knowledge._reference import STATUSES, status_counts
    from ..knowledge._tables import read_table
    from ..knowledge._tables import _data_path

    table = Table(title="Rows per status")
    table.add_column("table")
    for s in STATUSES:
        table.add_column(s, justify="right")
    table.add_column("lab", justify="right")
    table.add_column("rows", justify="right")
    names = sorted(p.stem for p in _data_path("").glob("*.csv"))
    # rows the run would use by default: every status-bearing table, with the active limits in
    # place of the bundled ones when a laboratory file is given
    plain: dict[str, tuple[int, int]] = {}
    for name in names:
        data, _ = read_table(name)
        if "status" not in data:
            continue
        counts = status_counts(data)
        table.add_row(name, *(str(counts[s]) for s in STATUSES), "0", str(len(data)))
        plain[name] = (int(counts["unsourced"]), len(data))
    if ref.path != "bundled":
        counts = status_counts(ref.limits)
        table.add_row(f"{Path(ref.path).name} (active)", *(str(counts[s]) for s in STATUSES),
                      str(counts.get("lab", 0)), str(len(ref.limits)))
    console.print(table)
    active = ref.limits
    n_active = int(active["status"].eq("unsourced").sum())
    plain["ncs_limits_adult"] = (n_active, len(active))
    total = sum(n for n, _ in plain.values())
    rows = sum(r for _, r in plain.values())
    where = ", ".join(f"{name} {n}" for name, (n, _) in plain.items() if n)
    console.print(f"Unsourced and not a named convention: {total} of {rows} rows in the "
                  f"{len(plain)} tables with a row status" + (f" ({where})" if where else "")
                  + f"; active limits ({ref.label}): {n_active} of {len(active)}.", markup=False)
    console.print("Tables without a status column (interpretation rules, nerves and nerve "
                  "sites, MUAP reference, plausibility) name their sources in their sidecars.",
                  markup=False)


def _starter_texts(csv: Path) -> tuple[bytes, bytes]:
    """The starter limits file and its sidecar, as ``--starter`` writes them now."""
    from ..knowledge._tables import read_table

    table, _ = read_table("ncs_limits_adult")
    table["status_reason"] = ("edxreview default (" + table["status"] + "): "
                              + table["status_reason"])
    table["status"] = ""  # the laboratory's own rows: status 'lab' until it says otherwise
    sidecar = (
        "# Sidecar of a laboratory's own NCS reference limits (edxreview reference --starter).\n"
        "# Edit the values in the CSV beside this file; rows without a status are the\n"
        "# laboratory's own ('lab'). Check the file with: edxreview reference check FILE\n"
        f'id = "{csv.stem}"\n'
        'version = "1.0.0"\n'
        'citation = ""      # where the limits come from (your normative study, or a publication)\n'
        'population = ""    # who they hold for: age range, sex, height, ethnicity, n\n'
        'technique = ""     # distances, onset/peak latency, amplitude measurement, temperature\n')
    return (table.to_csv(index=False, lineterminator="\n").encode("utf-8"),
            sidecar.encode("utf-8"))


def _refuse_starter_path(path: Path, text: bytes, noun: str, force: bool) -> None:
    """Refuse a ``path`` ``--starter`` may not write ``text`` to: a folder; an existing file
    without ``--force``; with ``--force``, a file that differs from ``text`` (an edited starter,
    or another file): a laboratory's edited limits are never lost. A link is replaced with
    ``--force``, never written through: what it leads to is kept. ``noun`` names the file in
    the message ("the starter CSV").

    Raises
    ------
    OutputExistsError
        ``path`` exists and ``force`` is false.
    OutputPathError
        ``path`` is a folder, or differs from ``text`` or cannot be read.
    """
    from .._errors import OutputExistsError, OutputPathError
    from .._output import replaceable_without_reading

    if replaceable_without_reading(path, force, "--force", noun, "choose another PATH"):
        return
    shown = repr(str(path))
    if not force:
        raise OutputExistsError(f"{shown} exists; pass --force to replace it (only an unedited "
                                "starter is)")
    try:
        with open(path, "rb") as fh:
            if fh.read(len(text) + 1) == text:
                return
    except OSError as exc:
        why = f"it cannot be read ({exc.strerror or type(exc).__name__})"
    else:
        why = "it differs from the starter edxreview writes (edited, or another file)"
    raise OutputPathError(
        f"{shown} exists and {why}; --force replaces only an unedited starter, never a "
        "laboratory's own limits: remove the file yourself or choose another PATH")


def _write_starter(path: Path, force: bool, console: Console) -> int:
    from .._output import write_all_whole

    csv = path if path.suffix.lower() == ".csv" else path.with_suffix(".csv")
    meta = csv.with_name(csv.stem + ".meta.toml")
    csv_text, meta_text = _starter_texts(csv)
    # both paths checked before either is written (OutputPathError: exit 2); then both
    # written, or neither
    _refuse_starter_path(csv, csv_text, "the starter CSV", force)
    _refuse_starter_path(meta, meta_text, "the starter sidecar", force)
    write_all_whole({csv: lambda tmp: tmp.write_bytes(csv_text),
                     meta: lambda tmp: tmp.write_bytes(meta_text)})
    console.print(f"starter limits written to {csv} and {meta}; edit them, then run "
                  f"edxreview reference check {csv}", markup=False)
    return EXIT_OK


def run(args) -> int:
    from ..cli import print_problems
    from ..knowledge import load_reference
    from ..knowledge._reference import read_limits_file, status_counts

    import sys

    # a piped table keeps its columns whole instead of folding them at 80 characters
    console = Console(highlight=False, soft_wrap=False,
                      width=None if sys.stdout.isatty() else 180)
    err = Console(stderr=True, highlight=False)
    check = args.check or (args.file if args.action == "check" else None)
    if args.action == "check" and args.file is None and args.check is None:
        err.print("[bold red]error:[/] reference check needs a FILE")
        return EXIT_USAGE
    if args.action == "show" and args.file is not None:
        err.print("[bold red]error:[/] unexpected argument; did you mean: "
                  f"edxreview reference check {args.file}")
        return EXIT_USAGE
    if args.starter is not None:
        return _write_starter(args.starter, args.force, console)
    if check is not None:
        table, _, problems = read_limits_file(check)
        if any(p.severity == "error" for p in problems):
            err.print(f"[bold red]invalid:[/] {check.name} cannot be used as reference limits")
            print_problems(problems, err)
            return EXIT_INVALID
        if problems:
            print_problems(problems, console)
        counts = status_counts(table)
        console.print(f"valid: {len(table)} limit rows in {check.name} ("
                      + ", ".join(f"{v} {k}" for k, v in counts.items() if v) + ")",
                      markup=False)
        return EXIT_OK
    ref = load_reference(args.reference)
    if args.summary:
        _summary(ref, console)
    else:
        _show(ref, console)
    return EXIT_OK
