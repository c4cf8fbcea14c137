"""``edxreview synth``: write a synthetic registry in the workbook format, with its truth."""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from rich.console import Console


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "synth", help="write a synthetic registry (workbook sheets + truth.csv) for testing at scale",
        description="Generate a synthetic study workbook with the demo cohort's clinical patterns "
                    "in plausible proportions, plus noise and missing cells. The generator's latent "
                    "truth goes to DIR/truth.csv, outside the sheets (edxreview run warns once "
                    "that it ignores it).")
    p.add_argument("--patients", type=int, required=True, help="number of patients (≥ 1)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--format", choices=["csv", "parquet"], default="csv")
    p.add_argument("--margins", choices=["borderline", "clear"], default="borderline",
                   help="borderline (default): values close to the reference limits, on the side "
                        "the scenario needs; clear: every value far from its limit, as in the demo")
    p.add_argument("--force", action="store_true", help="replace a non-empty output folder")
    p.add_argument("-q", "--quiet", action="store_true")
    return p


def run(args) -> int:
    from ..synth import SHEET_NAMES, generate_cohort

    console = Console(quiet=args.quiet, stderr=False)
    err = Console(stderr=True)
    if args.patients < 1:
        err.print("[bold red]error:[/] --patients must be at least 1")
        return 2
    out: Path = args.out
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not args.force:
        err.print(f"[bold red]error:[/] output folder {str(out)!r} exists and is not empty; "
                  "pass --force to replace it")
        return 2
    t0 = time.perf_counter()
    with console.status(f"generating {args.patients:,} patients…"):
        sheets, truth = generate_cohort(args.seed, n=args.patients,
                                        borderline=args.margins == "borderline")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        with console.status("writing…"):
            for name in SHEET_NAMES:
                frame = sheets[name]
                if args.format == "parquet":
                    frame.to_parquet(tmp / f"{name}.parquet", index=False)
                else:
                    frame.to_csv(tmp / f"{name}.csv", index=False, lineterminator="\n")
            truth.to_csv(tmp / "truth.csv", index=False, lineterminator="\n")
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    rows = sum(len(sheets[n]) for n in SHEET_NAMES)
    console.print(f"{args.patients:,} patients, {rows:,} rows written to {out}/ "
                  f"({args.format}) in {time.perf_counter() - t0:.1f} s; truth in {out / 'truth.csv'}")
    return 0
