"""Read a study workbook (``.xlsx`` file, or a folder of CSV or Parquet files) into text tables.

Reading keeps every cell as text (``""`` for empty) with the spreadsheet row number in ``_row``;
types are checked later by :func:`edxreview.io.validate_workbook`, so that every problem can be
reported with its sheet, row, column and value in one pass. Input files are opened read-only.
"""

from __future__ import annotations

import csv
import datetime as _dt
import hashlib
import io as _io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .._errors import InvalidWorkbookError, Problem
from ._schema import SHEETS

_BLANK_LINE = re.compile(r"\n[ \t\r]*\n|^[ \t\r]*\n")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"


@dataclass
class RawWorkbook:
    """Sheets of a workbook as text tables, before validation.

    Attributes
    ----------
    sheets : dict of str to DataFrame
        Canonical (lower-case) sheet name → table of text cells, columns named as normalised
        headers, plus ``_row`` (the row number a user sees in the spreadsheet or CSV file).
    headers : dict of str to dict
        Canonical sheet name → {normalised column name: header as the user wrote it}.
    source : Path
    sha256 : str
        Checksum of the input (of every sheet file, in name order, for folders).
    problems : list of Problem
        Structural problems found while reading (unreadable files, formula cells, dates…).
    """

    sheets: dict[str, pd.DataFrame]
    headers: dict[str, dict[str, str]]
    source: Path
    sha256: str
    problems: list[Problem] = field(default_factory=list)
    format: str = "xlsx"


def normalize_header(name: object) -> str:
    """Header as matched: stripped, lower-case, inner spaces and hyphens as underscores."""
    text = "" if name is None else str(name)
    text = text.replace("\ufeff", "").strip().lower()
    return re.sub(r"[\s\-]+", "_", text)


def _cell_text(value: object, formula: bool = False) -> tuple[str, str | None]:
    """Return the text of an Excel cell and, if suspicious, a problem message.

    Only a cell Excel stores as a formula is flagged; text that merely starts with ``=`` (an
    id typed as text) is kept as text.
    """
    if formula:
        return str(value), "formula"
    if value is None:
        return "", None
    if isinstance(value, bool):
        return ("true" if value else "false"), None
    if isinstance(value, float):
        return (repr(int(value)) if value.is_integer() else repr(value)), None
    if isinstance(value, int):
        return str(value), None
    if isinstance(value, _dt.datetime) and value.time() == _dt.time(0):
        return value.date().isoformat(), "date"
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat(), "date"
    return str(value).strip(), None


def _frame_from_rows(rows: list[list[str]], sheet: str, header_row: int
                     ) -> tuple[pd.DataFrame, dict[str, str], list[Problem]]:
    problems: list[Problem] = []
    header_raw = rows[0] if rows else []
    header = [normalize_header(h) for h in header_raw]
    width = len(header)
    # drop trailing unnamed, empty columns
    while width and not header[width - 1] and all(
            (len(r) < width or not str(r[width - 1]).strip()) for r in rows[1:]):
        width -= 1
    header = header[:width]
    names: dict[str, str] = {}
    for pos, name in enumerate(header):
        if not name:
            if any(len(r) > pos and str(r[pos]).strip() for r in rows[1:]):
                problems.append(Problem(sheet, header_row, f"column {pos + 1}", None,
                                        "column holds values but has no header; name it or delete it"))
            header[pos] = f"_unnamed_{pos + 1}"
        elif name in names:
            problems.append(Problem(sheet, header_row, header_raw[pos], header_raw[pos],
                                    "column name appears twice; keep one"))
            header[pos] = f"{name}_{pos + 1}"
        names.setdefault(header[pos], str(header_raw[pos]).strip())
    for offset, r in enumerate(rows[1:], start=1):
        if len(r) > width and any(str(c).strip() for c in r[width:]):
            pos = next(i for i in range(width, len(r)) if str(r[i]).strip())
            problems.append(Problem(sheet, header_row + offset, f"column {pos + 1}", r[pos],
                                    f"this row has a value beyond the last named column "
                                    f"({width} columns in the header row {header_row}); a "
                                    "separator or quote is probably misplaced in this row, or "
                                    "the column needs a header"))
    body = [(list(r[:width]) + [""] * (width - len(r)))[:width] for r in rows[1:]]
    frame = pd.DataFrame(body, columns=header, dtype=object).astype(str) if body else \
        pd.DataFrame({c: pd.Series(dtype=str) for c in header})
    frame["_row"] = range(header_row + 1, header_row + 1 + len(frame))
    return frame, names, problems


def _sha256_file(path: Path, digest: "hashlib._Hash") -> None:
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)


def _read_xlsx(path: Path) -> RawWorkbook:
    import openpyxl

    digest = hashlib.sha256()
    _sha256_file(path, digest)
    with open(path, "rb") as fh:
        magic = fh.read(8)
    if magic.startswith(_OLE_MAGIC):
        raise InvalidWorkbookError(
            "the workbook cannot be opened",
            [Problem("", None, None, path.name,
                     "this is a password-protected workbook or an old .xls file; remove the "
                     "password or save it as .xlsx (Excel Workbook) and try again")])
    if not magic.startswith(_ZIP_MAGIC):
        raise InvalidWorkbookError(
            "the workbook cannot be opened",
            [Problem("", None, None, path.name,
                     "this file is not an Excel .xlsx workbook (it is not a zip archive); if it "
                     "is text, save each sheet as CSV in a folder and pass the folder")])
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # zipfile, openpyxl and lxml raise many types for damaged files
        raise InvalidWorkbookError(
            "the workbook cannot be opened",
            [Problem("", None, None, path.name,
                     f"the .xlsx file is damaged or incomplete ({type(exc).__name__}); "
                     "re-save it from Excel")]) from None
    sheets: dict[str, pd.DataFrame] = {}
    headers: dict[str, dict[str, str]] = {}
    problems: list[Problem] = []
    try:
        for ws in book.worksheets:
            name = normalize_header(ws.title)
            if name not in SHEETS:
                # not a sheet of the study (a README, notes, a pivot table): listed, never read
                sheets[name] = pd.DataFrame({"_row": pd.Series(dtype=int)})
                headers[name] = {}
                continue
            rows: list[list[str]] = []
            suspicious: list[tuple[int, int, str, str]] = []
            first = None
            for r_index, row in enumerate(ws.iter_rows(), start=1):
                texts = []
                for c_index, cell in enumerate(row):
                    text, flag = _cell_text(cell.value, getattr(cell, "data_type", None) == "f")
                    if flag:
                        suspicious.append((r_index, c_index, text, flag))
                    texts.append(text)
                if first is None:
                    if not any(texts):
                        continue
                    first = r_index
                rows.append(texts)
            if first is None:
                sheets[name] = pd.DataFrame({"_row": pd.Series(dtype=int)})
                headers[name] = {}
                continue
            header_index = _find_header_row(rows, name)
            if header_index:
                problems.append(_title_row_problem(rows, name, first, header_index))
                rows = rows[header_index:]
                first += header_index
            frame, names, sheet_problems = _frame_from_rows(rows, name, first)
            problems += sheet_problems
            cols = list(frame.columns)
            spec_cols = {c.name for c in SHEETS[name].columns} if name in SHEETS else set()
            for r_index, c_index, text, flag in suspicious:
                if r_index <= first:
                    continue
                col = cols[c_index] if c_index < len(cols) - 1 else f"column {c_index + 1}"
                if flag == "formula":
                    problems.append(Problem(name, r_index, names.get(col, col), text,
                                            "cell holds a formula; edxreview reads values only. "
                                            "Copy the column and paste it back as values"))
                    frame.loc[frame["_row"] == r_index, col] = ""
                elif col in spec_cols:
                    problems.append(Problem(name, r_index, names.get(col, col), text,
                                            "cell is formatted as a date; format the column as "
                                            "Number or Text and re-type the value"))
            sheets[name] = frame
            headers[name] = names
    except InvalidWorkbookError:
        raise
    except Exception as exc:  # damaged XML inside the archive surfaces in many types
        raise InvalidWorkbookError(
            "the workbook cannot be opened",
            [Problem("", None, None, path.name,
                     f"the .xlsx file is damaged and cannot be read ({type(exc).__name__}); "
                     "open it in Excel and save it again as .xlsx")]) from None
    finally:
        book.close()
    return RawWorkbook(sheets, headers, path, digest.hexdigest(), problems, "xlsx")


def _sniff_separator(first_line: str) -> str:
    if first_line.count(";") > first_line.count(",") and first_line.count(";") >= 1:
        return ";"
    if first_line.count("\t") > first_line.count(","):
        return "\t"
    return ","


def _decode_csv(data: bytes, sheet: str, filename: str) -> tuple[str | None, Problem | None]:
    """Decode a CSV file: UTF-8 (with or without BOM) or UTF-16 with a BOM.

    Other encodings are refused with the exact place of the first undecodable byte rather than
    guessed: the same bytes are valid Latin-1 *and* valid GBK with different text, so a guess
    could silently alter names and values.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), None
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        start = exc.start
    line_start = data.rfind(b"\n", 0, start) + 1
    line_end = data.find(b"\n", start)
    line_end = len(data) if line_end < 0 else line_end
    header_end = data.find(b"\n")
    header_text = data[: len(data) if header_end < 0 else header_end].decode("utf-8", "replace")
    sep = _sniff_separator(header_text)
    header = [h.strip().strip('"') for h in header_text.split(sep)]
    before = data[line_start:start].decode("latin-1")
    field_index = before.count(sep)
    line = data[line_start:line_end].decode("utf-8", "replace").rstrip("\r")
    fields = line.split(sep)
    value = fields[field_index] if field_index < len(fields) else line
    row = data.count(b"\n", 0, start) + 1
    column = header[field_index] if field_index < len(header) and row > 1 else \
        f"column {field_index + 1}"
    guess = "Latin-1 / Windows-1252"
    try:
        data.decode("gbk")
        guess = "GBK (Chinese) or Latin-1 / Windows-1252"
    except UnicodeDecodeError:
        pass
    return None, Problem(
        sheet, row, column, value.strip().strip('"'),
        f"{filename} is not UTF-8 (byte 0x{data[start]:02x} at offset {start} cannot be "
        f"decoded); it looks saved as {guess}. edxreview does not guess encodings because a "
        "wrong guess silently changes text. Fix: in Excel use Save As → 'CSV UTF-8 (Comma "
        f"delimited)', or convert it: iconv -f CP1252 -t UTF-8 {filename} > fixed.csv "
        "(use -f GBK for Chinese text) and replace the file")


def _find_header_row(rows: list[list[str]], sheet: str) -> int:
    """Index of the row that holds the column names (0 unless a title row sits above it)."""
    spec = SHEETS.get(sheet)
    if spec is None or not rows:
        return 0
    required = {c.name for c in spec.columns if c.header_required}
    first = {normalize_header(h) for h in rows[0]}
    if first & required:
        return 0
    for index, row in enumerate(rows[1:10], start=1):
        if "patient_id" in {normalize_header(h) for h in row}:
            return index
    return 0


def _title_row_problem(rows: list[list[str]], sheet: str, first_row: int, header_index: int
                       ) -> Problem:
    title = rows[0]
    pos = next((i for i, t in enumerate(title) if str(t).strip()), 0)
    header_row = first_row + header_index
    above = f"row {first_row}" if header_index == 1 else \
        f"rows {first_row}–{header_row - 1}"
    return Problem(
        sheet, first_row, f"column {pos + 1}", str(title[pos]).strip() if title else None,
        f"the column names are in row {header_row}, not in the first row: {above} look(s) like "
        f"a title or a merged (two-row) header. Delete {above} so that row 1 holds the column "
        "names (patient_id, …) and unmerge any merged header cells")


def _short(message: str) -> str:
    return message.strip().splitlines()[-1][:200] if message.strip() else "parse error"


def _read_csv_folder(path: Path) -> RawWorkbook:
    files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in (".csv", ".parquet"))
    digest = hashlib.sha256()
    sheets: dict[str, pd.DataFrame] = {}
    headers: dict[str, dict[str, str]] = {}
    problems: list[Problem] = []
    fmt = "csv"
    for file in files:
        sheet = normalize_header(file.stem)
        if sheet not in SHEETS:
            # not a sheet of the study (e.g. truth.csv beside a synthetic registry): listed, never read
            sheets.setdefault(sheet, pd.DataFrame({"_row": pd.Series(dtype=int)}))
            headers.setdefault(sheet, {})
            continue
        digest.update(file.name.encode())
        _sha256_file(file, digest)
        if sheet in sheets:
            problems.append(Problem(sheet, None, None, file.name,
                                    "two files give this sheet (e.g. .csv and .parquet); keep one"))
            continue
        if file.suffix.lower() == ".parquet":
            fmt = "parquet"
            try:
                table = pd.read_parquet(file)
            except Exception as exc:  # pyarrow raises many types for damaged files
                problems.append(Problem(sheet, None, None, file.name,
                                        f"cannot read this Parquet file ({type(exc).__name__})"))
                continue
            names = {normalize_header(c): str(c) for c in table.columns}
            table.columns = [normalize_header(c) for c in table.columns]
            table = table.astype("string").fillna("").astype(str)
            table["_row"] = range(2, 2 + len(table))
            sheets[sheet], headers[sheet] = table, names
            continue
        data = file.read_bytes()
        text, problem = _decode_csv(data, sheet, file.name)
        if problem:
            problems.append(problem)
            continue
        if not text.strip():
            problems.append(Problem(sheet, 1, None, file.name,
                                    "the file is empty; row 1 must hold the column names "
                                    "(see `edxreview template`)"))
            continue
        first_line = next((ln for ln in text.splitlines() if ln.strip()), "")
        sep = _sniff_separator(first_line)
        header_cells = next(csv.reader([first_line], delimiter=sep)) if first_line.strip() else []
        names_norm = [normalize_header(h) for h in header_cells]
        clean_header = (header_cells and all(names_norm) and len(set(names_norm)) == len(names_norm)
                        and text.lstrip("\ufeff").startswith(first_line)
                        and _find_header_row([header_cells], sheet) == 0
                        and (sheet not in SHEETS or "patient_id" in names_norm))
        if clean_header:
            # the common case: a clean header on the first line; read straight into columns.
            # Ragged rows fall through to the row-by-row reader, which names the row.
            frame = None
            if not _BLANK_LINE.search(text):
                # no blank lines, so row numbers cannot shift: Arrow's reader is several times
                # faster on registry-sized sheets
                try:
                    frame = pd.read_csv(_io.BytesIO(text.encode("utf-8")), dtype=str,
                                        keep_default_na=False, sep=sep, header=0, names=names_norm,
                                        engine="pyarrow")
                except Exception:  # Arrow's parse errors vary by version: use the C reader
                    frame = None
            if frame is None:
                try:
                    frame = pd.read_csv(_io.StringIO(text), dtype=str, keep_default_na=False,
                                        sep=sep, skip_blank_lines=False, header=0, names=names_norm)
                except pd.errors.ParserError:
                    frame = None
            if frame is not None and not frame.index.equals(pd.RangeIndex(len(frame))):
                frame = None  # every row has more fields than the header: pandas made an index
            if frame is not None:
                frame = frame.fillna("")  # cells are stripped by the validator
                frame["_row"] = np.arange(2, 2 + len(frame))
                sheets[sheet] = frame
                headers[sheet] = dict(zip(names_norm, (h.strip() for h in header_cells)))
                continue
        try:
            rows = [[c.strip() for c in r] for r in csv.reader(_io.StringIO(text, newline=""),
                                                               delimiter=sep)]
        except csv.Error as exc:
            problems.append(Problem(sheet, None, None, file.name,
                                    f"the CSV cannot be parsed ({_short(str(exc))}); check "
                                    "quoting and that every row has the same number of fields"))
            continue
        # skip leading empty lines, remembering row numbers
        lead = 0
        while lead < len(rows) and not any(rows[lead]):
            lead += 1
        rows = rows[lead:]
        header_index = _find_header_row(rows, sheet)
        if header_index:
            problems.append(_title_row_problem(rows, sheet, lead + 1, header_index))
        frame, names, sheet_problems = _frame_from_rows(rows[header_index:], sheet,
                                                        lead + 1 + header_index)
        for col in frame.columns:
            if col != "_row":
                frame[col] = frame[col].str.strip()
        problems += sheet_problems
        sheets[sheet], headers[sheet] = frame, names
    if not files:
        problems.append(Problem("", None, None, str(path.name),
                                "the folder holds no .csv or .parquet files; it needs one file "
                                "per sheet, named <sheet>.csv (patients.csv, emg.csv, …)"))
    return RawWorkbook(sheets, headers, path, digest.hexdigest(), problems, fmt)


def read_workbook(path: str | Path) -> RawWorkbook:
    """Read a study workbook as text tables.

    Parameters
    ----------
    path : str or Path
        An ``.xlsx`` workbook, or a folder holding one ``<sheet>.csv`` (or ``.parquet``) per
        sheet. Sheet and column names are matched case-insensitively.

    Returns
    -------
    RawWorkbook

    Raises
    ------
    InvalidWorkbookError
        The path does not exist or the file cannot be opened at all.
    """
    path = Path(path)
    if not path.exists():
        raise InvalidWorkbookError(
            f"no such file or folder: {str(path)!r}",
            [Problem("", None, None, str(path), "no such file or folder")])
    if path.is_dir():
        return _read_csv_folder(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    if path.suffix.lower() == ".csv":
        raise InvalidWorkbookError(
            "a single CSV file is not a workbook",
            [Problem("", None, None, path.name,
                     "pass the folder that holds one CSV per sheet (patients.csv, emg.csv, "
                     "ncs_motor.csv …), not one CSV file")])
    raise InvalidWorkbookError(
        "unsupported input",
        [Problem("", None, None, path.name,
                 "expected an .xlsx workbook or a folder of CSV files (one per sheet)")])


__all__ = ["RawWorkbook", "read_workbook", "normalize_header", "SHEETS"]
