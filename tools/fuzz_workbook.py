"""Longer fuzzing of the reader, the validator and the whole review.

Mutates the small valid workbook used by the tests (cells, bytes, rows, encodings), runs
read → validate → review on each variant and reports any exception other than
``InvalidWorkbookError`` (a crash), and any broken row accounting. Usage::

    python tools/fuzz_workbook.py --iterations 2000 --seed 1 [--review]

Exit status 0 when nothing crashed; crashing inputs are saved under ``--keep`` (default
``fuzz-crashes/``) for replay.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from edxreview._errors import InvalidWorkbookError  # noqa: E402
from edxreview.io import read_workbook, validate_workbook  # noqa: E402
from tests.robustness.corpus import base_book, write_csv_folder, write_xlsx  # noqa: E402
from tests.robustness.test_fuzz import TRICKY  # noqa: E402


def mutate(rng: random.Random, book: dict) -> dict:
    book = {k: [list(r) for r in v] for k, v in book.items()}
    for _ in range(rng.randint(1, 6)):
        sheet = rng.choice(sorted(book))
        rows = book[sheet]
        op = rng.random()
        if op < 0.6:
            r = rng.choice(rows)
            r[rng.randrange(len(r))] = rng.choice(TRICKY) if rng.random() < 0.7 else \
                "".join(chr(rng.randint(32, 0x3000)) for _ in range(rng.randint(0, 8)))
        elif op < 0.7 and len(rows) > 1:
            del rows[rng.randrange(1, len(rows))]
        elif op < 0.8:
            rows.insert(rng.randint(1, len(rows)), [""] * len(rows[0]))
        elif op < 0.85:
            rows.insert(rng.randint(1, len(rows)), list(rng.choice(rows[1:] or rows)))
        elif op < 0.9:
            i = rng.randrange(len(rows[0]))
            book[sheet] = [r[:i] + r[i + 1:] for r in rows]
        elif op < 0.95 and len(book) > 1:
            del book[sheet]
        else:
            r = rng.choice(rows)
            r.append(rng.choice(TRICKY))
    return book


def write(rng: random.Random, book: dict, tmp: Path) -> Path:
    form = rng.random()
    if form < 0.25:
        return write_xlsx(book, tmp / "book.xlsx")
    folder = write_csv_folder(book, tmp / "book",
                              delimiter=rng.choice([",", ",", ";", "\t"]),
                              encoding=rng.choice(["utf-8", "utf-8", "utf-8-sig", "utf-16"]))
    if rng.random() < 0.2:
        f = rng.choice(sorted(folder.iterdir()))
        data = bytearray(f.read_bytes())
        for _ in range(rng.randint(1, 5)):
            if data:
                data[rng.randrange(len(data))] = rng.randrange(256)
        f.write_bytes(bytes(data))
    return folder


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--review", action="store_true", help="also run the whole review "
                        "on variants that validate (slower)")
    parser.add_argument("--keep", type=Path, default=Path("fuzz-crashes"))
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    base = base_book()
    counts = {"valid": 0, "refused": 0, "crash": 0}
    for i in range(args.iterations):
        with tempfile.TemporaryDirectory() as tmpname:
            tmp = Path(tmpname)
            try:
                path = write(rng, mutate(rng, base), tmp)
            except Exception:  # a character a workbook cannot hold: not an input a user has
                continue
            try:
                study = validate_workbook(read_workbook(path))
                for sheet, r in study.rows.items():
                    assert r["read"] == r["used"] + r["rejected"], (sheet, r)
                if args.review:
                    from edxreview._pipeline import review_study

                    review_study(path)
                counts["valid"] += 1
            except InvalidWorkbookError as exc:
                assert exc.problems
                counts["refused"] += 1
            except Exception:  # a crash: keep the input
                counts["crash"] += 1
                dest = args.keep / f"crash-{args.seed}-{i}{path.suffix}"
                args.keep.mkdir(parents=True, exist_ok=True)
                (shutil.copy if path.is_file() else shutil.copytree)(path, dest)
                print(f"iteration {i}: crash, input kept in {dest}", file=sys.stderr)
                traceback.print_exc(limit=3)
    print(f"{args.iterations} inputs: {counts['valid']} valid, {counts['refused']} refused, "
          f"{counts['crash']} crashed")
    return 1 if counts["crash"] else 0


if __name__ == "__main__":
    sys.exit(main())
