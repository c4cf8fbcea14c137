"""Patient-partitioned study datasets: every patient's rows, on every sheet, in one bucket.

A partitioned dataset is a folder holding one folder per sheet, each split hive-style by
``bucket``::

    registry/
      patients/bucket=0/data_0.parquet
      patients/bucket=1/data_0.parquet
      emg/bucket=0/data_0.parquet
      …

``bucket`` is a hash of the patient id modulo the number of buckets, so that a patient's rows
on every sheet fall into the same bucket and each bucket can be validated, interpreted and
classified on its own. ``edxreview synth --format parquet --partitions N`` writes one; a
folder of CSV or Parquet sheets is partitioned the same way (into a temporary dataset) when a
review runs over several partitions. DuckDB does the hashing and the writing, never a Python
loop over rows.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from .._errors import InvalidWorkbookError, Problem
from ._read import RawWorkbook, _decode_csv, _sniff_separator, normalize_header
from ._schema import SHEETS

#: the most buckets (partitions) a dataset may have: a row's bucket is DuckDB's hash of the
#: patient id modulo the number of buckets, cast to INTEGER (INT32), so no bucket may exceed
#: INT32's largest value (buckets without patients are never written or reviewed)
MAX_PARTITIONS = 2**31 - 1

#: the hive partition column of a partitioned dataset
BUCKET = "bucket"
#: the source row number carried through a partitioning (the row a user sees in the sheet)
ROW = "_row"
_BUCKET_DIR = re.compile(r"^bucket=(\d+)$")
# the characters validation strips from a patient id (edxreview.io._validate: the id kind)
_INVISIBLE = "[\u200b\u200c\u200d\u2060\ufeff]"


def is_partitioned_dataset(path: str | Path) -> bool:
    """Whether ``path`` is a folder of hive-partitioned sheets (``<sheet>/bucket=K/``)."""
    path = Path(path)
    try:
        if not path.is_dir():
            return False
        for sheet in path.iterdir():
            if sheet.is_dir() and normalize_header(sheet.name) in SHEETS and any(
                    _BUCKET_DIR.match(p.name) for p in sheet.iterdir() if p.is_dir()):
                return True
    except OSError:  # unreadable: the reader reports it with its location
        return False
    return False


def _sheet_dirs(path: Path) -> dict[str, Path]:
    return {normalize_header(p.name): p for p in sorted(path.iterdir())
            if p.is_dir() and normalize_header(p.name) in SHEETS}


def dataset_buckets(path: str | Path) -> list[int]:
    """The buckets of a partitioned dataset, sorted (those of any sheet)."""
    buckets: set[int] = set()
    for folder in _sheet_dirs(Path(path)).values():
        for p in folder.iterdir():
            m = _BUCKET_DIR.match(p.name)
            if m and p.is_dir():
                buckets.add(int(m.group(1)))
    return sorted(buckets)


def dataset_sha256(path: str | Path) -> str:
    """Checksum of every sheet file of a dataset or sheet folder, in path order (for a folder
    of sheets, the checksum :func:`edxreview.io.read_workbook` gives)."""
    path = Path(path)
    digest = hashlib.sha256()
    def is_sheet(p: Path) -> bool:
        first = p.relative_to(path).parts[0]
        return normalize_header(Path(first).stem if first == p.name else first) in SHEETS

    # the sheets' files only (not truth.csv beside a synthetic registry), as read_workbook
    files = sorted(p for p in path.rglob("*") if p.is_file()
                   and p.suffix.lower() in (".csv", ".parquet") and is_sheet(p)
                   and not any(part.startswith(".") for part in p.relative_to(path).parts))
    for file in files:
        digest.update(file.relative_to(path).as_posix().encode())
        with open(file, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def _id_sql(column: str) -> str:
    """SQL for the patient id as validation normalises it (NFC, no invisible characters,
    stripped), so that ' P1' and 'P1' fall into the same bucket."""
    return (f"trim(regexp_replace(nfc_normalize(coalesce(CAST({column} AS VARCHAR), '')), "
            f"'{_INVISIBLE}', '', 'g'), ' \t\r\n\f\v')")


def bucket_sql(column: str, n_buckets: int) -> str:
    """SQL for a row's bucket: DuckDB's hash of the normalised patient id modulo ``n``."""
    return f"CAST(hash({_id_sql(column)}) % {int(n_buckets)} AS INTEGER)"


def write_partitioned(frames: dict[str, pd.DataFrame], out: str | Path, n_buckets: int, *,
                      first_rows: dict[str, int] | None = None, part: int = 0) -> None:
    """Write sheets as a hive-partitioned Parquet dataset of ``n_buckets`` buckets.

    Each row carries its row number in the sheet as ``_row`` (the header being row 1).

    Parameters
    ----------
    frames : dict of str to DataFrame
        Sheet name → table holding ``patient_id``.
    out : str or Path
        Existing folder; ``<sheet>/bucket=K/`` folders are written into it.
    n_buckets : int
        Number of buckets (1 to :data:`MAX_PARTITIONS`).
    first_rows : dict of str to int, optional
        Sheet name → row number of the first row (default 2): a registry written in parts
        numbers each part's rows after the previous parts'.
    part : int
        Number of the part, in the file names (``part003_0.parquet``), so that parts written
        one after another into the same dataset do not overwrite each other.
    """
    import duckdb   # here, not at the top: a partition's worker reads with Arrow alone

    from .._errors import InvalidParameterError

    if not isinstance(n_buckets, (int, np.integer)) or not 1 <= n_buckets <= MAX_PARTITIONS:
        raise InvalidParameterError(
            f"n_buckets {n_buckets!r} must be a whole number from 1 to {MAX_PARTITIONS}")
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    try:
        for name, frame in frames.items():
            con.register("sheet", frame)
            cols = ", ".join(f'"{c}"' for c in frame.columns)
            target = str(Path(out) / name).replace("'", "''")
            # each row keeps its row in the sheet (the header is row 1), so that a problem
            # found in a bucket names the row as the sheet has it
            first = int((first_rows or {}).get(name, 2))
            con.execute(
                f"COPY (SELECT {cols}, CAST(row_number() OVER () + {first - 1} AS BIGINT) "
                f"AS {ROW}, {bucket_sql('patient_id', n_buckets)} AS {BUCKET} FROM sheet) "
                f"TO '{target}' (FORMAT parquet, PARTITION_BY ({BUCKET}), "
                f"OVERWRITE_OR_IGNORE true, FILENAME_PATTERN 'part{int(part):03d}_{{i}}')")
            con.unregister("sheet")
    finally:
        con.close()


def partition_folder(path: str | Path, out: str | Path, n_buckets: int) -> dict[str, int]:
    """Partition a folder of CSV or Parquet sheets into a dataset under ``out`` (one pass).

    Each row keeps its source row number in ``_row`` (the CSV line: header on row 1, blank
    lines not counted), so that a problem in a partition still names the row of the sheet.

    Returns
    -------
    dict
        Sheet name → rows read.

    Raises
    ------
    InvalidWorkbookError
        A sheet cannot be parsed as a whole table (the message suggests a single-partition
        run, whose reader locates the row).
    """
    import duckdb

    path, out = Path(path), Path(out)
    counts: dict[str, int] = {}
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    try:
        con.execute("SET preserve_insertion_order = true")
        for file in sorted(path.iterdir()):
            sheet = normalize_header(file.stem)
            suffix = file.suffix.lower()
            if sheet not in SHEETS or suffix not in (".csv", ".parquet") or not file.is_file():
                continue
            quoted = str(file).replace("'", "''")
            if suffix == ".parquet":
                source = f"read_parquet('{quoted}')"
                header = [str(c) for c in con.execute(
                    f"DESCRIBE SELECT * FROM {source}").df()["column_name"]]
            else:
                with open(file, "rb") as fh:
                    head = fh.read(1 << 16)
                text, problem = _decode_csv(head, sheet, file.name)
                if problem is not None or text is None:
                    raise InvalidWorkbookError(
                        "the input cannot be partitioned", [problem or Problem(
                            sheet, None, None, file.name, "the file cannot be decoded")])
                sep = _sniff_separator(next((ln for ln in text.splitlines() if ln.strip()), ""))
                sep_sql = sep.replace("'", "''")
                source = (f"read_csv('{quoted}', all_varchar = true, header = true, "
                          f"delim = '{sep_sql}', quote = '\"', escape = '\"', "
                          "null_padding = false, strict_mode = true)")
                try:
                    header = [str(c) for c in con.execute(
                        f"DESCRIBE SELECT * FROM {source}").df()["column_name"]]
                except duckdb.Error as exc:
                    raise _unparsable(sheet, file, exc) from None
            id_col = next((c for c in header if normalize_header(c) == "patient_id"), None)
            bucket = bucket_sql(f'"{id_col}"', n_buckets) if id_col else "0"
            cols = ", ".join('"' + c.replace('"', '""') + '"' for c in header)
            target = str(out / sheet).replace("'", "''")
            try:
                con.execute(
                    f"COPY (SELECT {cols}, CAST(row_number() OVER () + 1 AS BIGINT) AS {ROW}, "
                    f"{bucket} AS {BUCKET} FROM {source}) TO '{target}' "
                    f"(FORMAT parquet, PARTITION_BY ({BUCKET}), OVERWRITE_OR_IGNORE true)")
                counts[sheet] = int(con.execute(
                    f"SELECT count(*) FROM read_parquet('{target}/*/*.parquet')").fetchone()[0])
            except duckdb.Error as exc:
                raise _unparsable(sheet, file, exc) from None
    finally:
        con.close()
    return counts


def _unparsable(sheet: str, file: Path, exc: Exception) -> InvalidWorkbookError:
    reason = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
    return InvalidWorkbookError(
        "the input cannot be partitioned", [Problem(
            sheet, None, None, file.name,
            f"the sheet cannot be read as one table for a partitioned review ({reason}); run "
            "with --partitions 1 to have every problem located by row")])


def read_partition(path: str | Path, bucket: int) -> RawWorkbook:
    """One bucket of a partitioned dataset as a workbook of text tables.

    Only the files of ``bucket=K`` are read (hive partition pruning). Row numbers are those
    the partitioning recorded (``_row``), or, in a dataset written without them, the row's
    position in its bucket (from 2, the header being row 1).

    Parameters
    ----------
    path : str or Path
        The dataset folder.
    bucket : int

    Returns
    -------
    RawWorkbook
        ``source`` is the dataset folder; ``sha256`` is empty (the caller checksums the whole
        dataset once).
    """
    import pyarrow.dataset as ds

    path = Path(path)
    sheets: dict[str, pd.DataFrame] = {}
    headers: dict[str, dict[str, str]] = {}
    problems: list[Problem] = []
    for sheet, folder in _sheet_dirs(path).items():
        part = folder / f"{BUCKET}={int(bucket)}"
        files = sorted(str(p) for p in part.glob("*.parquet")) if part.is_dir() else []
        if files:
            table = ds.dataset(files, format="parquet").to_table()
        else:  # no rows of this bucket: the sheet's columns, from any other bucket
            any_file = next(iter(sorted(folder.glob("*/*.parquet"))), None)
            if any_file is None:
                continue
            table = ds.dataset([str(any_file)], format="parquet").schema.empty_table()
        names = [c for c in table.column_names if c != BUCKET]
        frame = table.select(names).to_pandas()
        if ROW in frame:  # a multi-threaded write may split a bucket over files: source order
            frame = frame.sort_values(ROW, kind="stable").reset_index(drop=True)
            rows = frame.pop(ROW).to_numpy(dtype=np.int64)
        else:
            rows = np.arange(2, 2 + len(frame), dtype=np.int64)
        data = [c for c in frame.columns]
        headers[sheet] = {normalize_header(c): str(c) for c in data}
        frame.columns = [normalize_header(c) for c in data]
        frame = frame.astype("string").fillna("").astype(str) if len(frame.columns) else frame
        frame["_row"] = rows
        sheets[sheet] = frame
    return RawWorkbook(sheets, headers, path, "", problems, "parquet")


def input_bytes(path: str | Path) -> int:
    """Total size of a study's sheet files (0 for a workbook file)."""
    path = Path(path)
    if not path.is_dir():
        return 0
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            if f.lower().endswith((".csv", ".parquet")):
                try:
                    total += os.stat(os.path.join(root, f)).st_size
                except OSError:  # a broken link or a loop: the reader reports it
                    continue
    return total
