"""``edxreview synth``: write a synthetic registry in the workbook format, with its truth."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from rich.console import Console

from ._force import FOLDER_FORCE_HELP


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
    p.add_argument("--format", choices=["csv", "parquet"], default=None,
                   help="csv: one CSV file per sheet (the default); parquet: one Parquet file "
                        "per sheet, or the partitioned dataset of --partitions")
    p.add_argument("--partitions", type=int, default=None, metavar="N",
                   help="write a Parquet dataset partitioned hive-style into N buckets of "
                        "patients, 1 to 2147483647 (<sheet>/bucket=K/…parquet; the bucket is "
                        "a hash of the "
                        "patient id), which edxreview run reviews bucket by bucket; implies "
                        "--format parquet")
    p.add_argument("--centres", type=int, default=None, metavar="K",
                   help="add the optional 'centre' column to patients: each patient drawn from "
                        "K centres (centre-01 … centre-K) of unequal sizes")
    p.add_argument("--margins", choices=["borderline", "clear"], default="borderline",
                   help="borderline (default): values close to the reference limits, on the side "
                        "the scenario needs; clear: every value far from its limit, as in the demo")
    p.add_argument("--force", action="store_true",
                   help=FOLDER_FORCE_HELP)
    p.add_argument("-q", "--quiet", action="store_true")
    return p


def run(args) -> int:
    from .._output import OutputFolder
    from .._tables import neutralize_formulas
    from ..synth import generate_cohort
    from ..synth._generate import SHEET_NAMES

    console = Console(quiet=args.quiet, stderr=False)
    err = Console(stderr=True)
    if args.patients < 1:
        err.print("[bold red]error:[/] --patients must be at least 1")
        return 2
    if args.seed < 0:
        err.print(f"[bold red]error:[/] --seed {args.seed} is negative; give a whole number "
                  "from 0 up (default 1)")
        return 2
    if args.centres is not None and args.centres < 1:
        err.print(f"[bold red]error:[/] --centres {args.centres} must be at least 1")
        return 2
    if args.partitions is not None and args.partitions < 1:
        err.print(f"[bold red]error:[/] --partitions {args.partitions} must be at least 1 "
                  "(the number of buckets of the Parquet dataset)")
        return 2
    from ..io._dataset import MAX_PARTITIONS

    if args.partitions is not None and args.partitions > MAX_PARTITIONS:
        err.print(f"[bold red]error:[/] --partitions {args.partitions} is more than the most "
                  f"buckets a dataset can have, {MAX_PARTITIONS} (a bucket is a 32-bit "
                  "integer); give a smaller number (buckets beyond the number of patients are "
                  "never written)")
        return 2
    if args.partitions is not None and args.format == "csv":
        err.print("[bold red]error:[/] --partitions writes a partitioned Parquet dataset, not "
                  "CSV sheets: leave out --format csv (or give --format parquet) to write one, "
                  "or leave out --partitions for one CSV file per sheet")
        return 2
    fmt = args.format or ("parquet" if args.partitions is not None else "csv")
    t0 = time.perf_counter()
    if args.partitions is not None:
        return _run_partitioned(args, console, t0)
    with OutputFolder(args.out, force=args.force, command="synth") as output:
        with console.status(f"generating {args.patients:,} patients…"):
            sheets, truth = generate_cohort(args.seed, n=args.patients,
                                            borderline=args.margins == "borderline")
            add_centres(sheets["patients"], args.centres, args.seed, 0)
        tmp = output.staging
        with console.status("writing…"):
            for name in SHEET_NAMES:
                if fmt == "parquet":
                    sheets[name].to_parquet(tmp / f"{name}.parquet", index=False)
                else:  # a spreadsheet may open the CSV: no cell may start a formula
                    neutralize_formulas(sheets[name]).to_csv(tmp / f"{name}.csv", index=False,
                                                             lineterminator="\n")
            neutralize_formulas(truth).to_csv(tmp / "truth.csv", index=False, lineterminator="\n")
        output.commit()
    out: Path = args.out
    rows = sum(len(sheets[n]) for n in SHEET_NAMES)
    console.print(f"{args.patients:,} patients, {rows:,} rows written to {out}/ "
                  f"({fmt}) in {time.perf_counter() - t0:.1f} s; truth in "
                  f"{out / 'truth.csv'}")
    return 0


def add_centres(patients, k: int | None, seed: int, part: int) -> None:
    """Give each patient one of ``k`` centres (a ``centre`` column), centre j drawn with
    weight j, from its own random stream so that the rest of the registry is unchanged."""
    if not k:
        return
    import numpy as np

    rng = np.random.default_rng([seed, part, 0xCE])
    weights = np.arange(1, k + 1, dtype=float)
    draw = rng.choice(k, size=len(patients), p=weights / weights.sum())
    patients["centre"] = np.char.mod("centre-%02d", draw + 1).astype(object)


#: patients generated at a time for a partitioned registry, so that a million patients are
#: written in the memory of a hundred thousand
CHUNK_PATIENTS = 100_000


def _run_partitioned(args, console, t0: float) -> int:
    """Write a hive-partitioned dataset, generating at most :data:`CHUNK_PATIENTS` at a time.

    A registry of up to that many patients is the cohort ``--seed`` gives in one piece; a
    larger one is made of parts of that size, part ``k`` drawn from the seed sequence
    ``(seed, k)`` and its ids prefixed ``R<k>-`` so that they stay unique.
    """
    import numpy as np

    from .._output import OutputFolder
    from .._tables import neutralize_formulas
    from ..io._dataset import write_partitioned
    from ..synth import generate_cohort
    from ..synth._generate import SHEET_NAMES

    n_parts = -(-args.patients // CHUNK_PATIENTS)
    rows = 0
    first = {name: 2 for name in SHEET_NAMES}
    with OutputFolder(args.out, force=args.force, command="synth") as output:
        tmp = output.staging
        truth_path = tmp / "truth.csv"
        for part in range(n_parts):
            n = min(CHUNK_PATIENTS, args.patients - part * CHUNK_PATIENTS)
            with console.status(f"generating patients {part * CHUNK_PATIENTS + 1:,}–"
                                f"{part * CHUNK_PATIENTS + n:,} of {args.patients:,}…"):
                seed = args.seed if n_parts == 1 else np.random.default_rng([args.seed, part])
                sheets, truth = generate_cohort(seed, n=n,
                                                borderline=args.margins == "borderline")
                add_centres(sheets["patients"], args.centres, args.seed, part)
            if n_parts > 1:
                prefix = f"R{part:03d}-"
                for frame in (*sheets.values(), truth):
                    frame["patient_id"] = prefix + frame["patient_id"].astype(str)
            with console.status("writing…"):
                write_partitioned({name: sheets[name] for name in SHEET_NAMES}, tmp,
                                  args.partitions, first_rows=first, part=part)
                neutralize_formulas(truth).to_csv(truth_path, index=False, lineterminator="\n",
                                                  mode="a", header=part == 0)
            for name in SHEET_NAMES:
                first[name] += len(sheets[name])
                rows += len(sheets[name])
            del sheets, truth
        output.commit()
    console.print(f"{args.patients:,} patients, {rows:,} rows written to {args.out}/ (parquet, "
                  f"{args.partitions} partitions) in {time.perf_counter() - t0:.1f} s; truth in "
                  f"{args.out / 'truth.csv'}")
    return 0
