"""Read a study workbook (``.xlsx`` file, or a folder of CSV or Parquet files) into text tables.

Reading keeps every cell as text (``""`` for empty) with the spreadsheet row number in ``_row``;
types are checked later by :func:`edxreview.io.validate_workbook`, so that every problem can be
reported with its sheet, row, column and value in one pass. Input files are opened read-only.
"""

from __future__ import annotations

import csv
import datetime as _dt
import errno
import hashlib
import io as _io
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .._errors import InvalidWorkbookError, Problem
from ._limits import (
    MAX_CELL_CHARS, MAX_CELLS, MAX_COLUMNS, MAX_COMPRESSION_RATIO, MAX_FILE_BYTES,
    MAX_PARQUET_UNCOMPRESSED_BYTES, MAX_ROWS, MAX_XLSX_UNCOMPRESSED_BYTES,
    RATIO_CHECKED_FROM_BYTES, XLSX_MAX_CELLS, XLSX_MAX_COLUMNS, XLSX_MAX_ROWS, format_bytes,
)
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

    Examples
    --------
    >>> import edxreview
    >>> raw = edxreview.io.read_workbook(edxreview.demo_path())
    >>> raw.headers["patients"]["patient_id"], raw.problems
    ('patient_id', [])
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


def _frame_from_rows(rows: list[list[str]], sheet: str, header_row: int,
                     numbers: list[int] | None = None
                     ) -> tuple[pd.DataFrame, dict[str, str], list[Problem]]:
    """Table of text cells from a header row and data rows; ``numbers`` are the data rows'
    spreadsheet row numbers (consecutive after ``header_row`` when not given)."""
    problems: list[Problem] = []
    if numbers is None:
        numbers = list(range(header_row + 1, header_row + len(rows)))
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
    for number, r in zip(numbers, rows[1:]):
        if len(r) > width and any(str(c).strip() for c in r[width:]):
            pos = next(i for i in range(width, len(r)) if str(r[i]).strip())
            problems.append(_beyond_problem(sheet, number, pos, r[pos], width, header_row))
    body = [(list(r[:width]) + [""] * (width - len(r)))[:width] for r in rows[1:]]
    frame = pd.DataFrame(body, columns=header, dtype=object).astype(str) if body else \
        pd.DataFrame({c: pd.Series(dtype=str) for c in header})
    frame["_row"] = np.asarray(numbers, dtype=np.int64)
    return frame, names, problems


def _sha256_file(path: Path, digest: "hashlib._Hash") -> None:
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)


def _path_kind(path: Path) -> str:
    """``'file'``, ``'folder'``, ``'missing'``, ``'broken link'``, ``'link loop'``,
    ``'unreadable'`` or ``'special'`` (a pipe, socket or device: reading one could block for
    ever)."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "link loop"
        if exc.errno == errno.EACCES:
            return "unreadable"
        if os.path.islink(path):
            return "broken link"
        return "missing"
    if stat.S_ISDIR(mode):
        return "folder"
    return "file" if stat.S_ISREG(mode) else "special"


_KIND_TEXT = {"folder": "a folder", "broken link": "a link to a file that does not exist",
              "link loop": "a link loop (a link that leads back to itself)",
              "special": "not a regular file (a pipe, socket or device)",
              "unreadable": "not readable (permission denied)", "missing": "missing"}


def _clip(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[:n] + "…"


def _too_large(path: Path, problem: Problem) -> InvalidWorkbookError:
    return InvalidWorkbookError(f"the input is larger than edxreview reads ({path.name})", [problem])


def _check_file_size(path: Path, sheet: str = "") -> Problem | None:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        return Problem(sheet, None, None, path.name,
                       f"the file is {format_bytes(size)}, more than the limit of "
                       f"{format_bytes(MAX_FILE_BYTES)} per file (MAX_FILE_BYTES); split it into "
                       "smaller files")
    return None


def check_workbook_archive(path: Path) -> None:
    """Refuse an ``.xlsx`` too large to read, or whose archive would unzip beyond the limits,
    before anything is parsed (:func:`_check_file_size`, :func:`_check_zip`)."""
    too_big = _check_file_size(path)
    if too_big:
        raise _too_large(path, too_big)
    _check_zip(path)


def _check_zip(path: Path) -> None:
    """Refuse an archive that would unzip to more than the limits, before anything is parsed.

    The sizes checked are those the archive declares; Python's zip reader never inflates a
    member beyond its declared size (a member that does fails its checksum as damaged)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except Exception as exc:  # noqa: BLE001 - boundary: zipfile raises many types (BadZipFile,
        # EOFError, struct.error, NotImplementedError…) for a damaged archive a user gives us
        raise InvalidWorkbookError(
            "the workbook cannot be opened",
            [Problem("", None, None, path.name,
                     f"the .xlsx file is damaged or incomplete ({type(exc).__name__}); "
                     "re-save it from Excel")]) from None
    total = sum(m.file_size for m in members)
    if total > MAX_XLSX_UNCOMPRESSED_BYTES:
        raise _too_large(path, Problem(
            "", None, None, path.name,
            f"the workbook unzips to {format_bytes(total)}, more than the limit of "
            f"{format_bytes(MAX_XLSX_UNCOMPRESSED_BYTES)} (MAX_XLSX_UNCOMPRESSED_BYTES); save "
            "each sheet as 'CSV UTF-8' in a folder and pass the folder instead"))
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > RATIO_CHECKED_FROM_BYTES and ratio > MAX_COMPRESSION_RATIO:
            raise _too_large(path, Problem(
                "", None, None, path.name,
                f"the archive member {member.filename!r} unzips to {ratio:.0f} times its stored "
                f"size, more than the limit of {MAX_COMPRESSION_RATIO} (MAX_COMPRESSION_RATIO); "
                "spreadsheets do not compress that much, so this is not read (a zip bomb?). "
                "Re-save the workbook from Excel"))


class _SheetTooLarge(Exception):
    def __init__(self, problem: Problem):
        super().__init__(problem.message)
        self.problem = problem


def _xlsx_cells(book, ws, sheet: str
                ) -> tuple[list[int], list[list[tuple[int, str]]], list[tuple[int, int, str, str]]]:
    """The cells of a worksheet that hold a value, row by row as stored in the file.

    The sheet's ``<dimension>`` tag is not used: other programs leave it out of date, and it
    would hide rows or make an empty sheet look a million rows long. Work is bounded by the
    cells present: rows in which no cell holds a value (Excel stores formatting for them, or
    nothing) are not rows of data and are skipped, the others keep their row numbers; no row is
    widened to a column it does not use.

    Returns
    -------
    numbers : list of int
        Spreadsheet row number of each row kept.
    rows : list of list of (int, str)
        (0-based column, text) of each cell with a value.
    suspicious : list of (row number, 0-based column, text, flag)
        Formula, date and overlong cells (``"formula"``, ``"date"``, ``"long <length>"``).
    """
    from openpyxl.worksheet._reader import WorkSheetParser

    numbers: list[int] = []
    rows: list[list[tuple[int, str]]] = []
    suspicious: list[tuple[int, int, str, str]] = []
    elements = 0
    with ws._get_source() as source:
        n_cells = _count_cell_tags(source)
    if n_cells > XLSX_MAX_CELLS:
        raise _SheetTooLarge(Problem(
            sheet, None, None, None,
            f"the sheet stores about {n_cells:,} cells (empty ones included), more than the limit "
            f"of {XLSX_MAX_CELLS:,} (XLSX_MAX_CELLS); save the sheet as CSV, or select the unused "
            "rows and columns in Excel, delete them and save again"))
    with ws._get_source() as source:
        parser = WorkSheetParser(source, ws._shared_strings, data_only=False, epoch=book.epoch,
                                 date_formats=book._date_formats,
                                 timedelta_formats=book._timedelta_formats)
        kept: list[tuple[int, str]] = []
        stored = False  # a cell holds a value, if only a space: the row is read (and rejected)
        n_cells = 0
        for number, cell in _iter_sheet(parser, source):
            if cell is None:  # the end of a row
                elements += 1
                if number > XLSX_MAX_ROWS or elements > XLSX_MAX_ROWS:
                    raise _SheetTooLarge(Problem(
                        sheet, number, None, None,
                        f"the sheet has more than {XLSX_MAX_ROWS:,} rows (XLSX_MAX_ROWS, Excel's "
                        "own limit); the file was not written by Excel or is damaged. Re-save it "
                        "from Excel, or save the sheet as CSV"))
                if stored:
                    numbers.append(number)
                    rows.append(kept)
                kept, stored, n_cells = [], False, 0
                continue
            n_cells += 1
            if n_cells > XLSX_MAX_COLUMNS:
                raise _SheetTooLarge(Problem(
                    sheet, number, None, None,
                    f"a row has more than {XLSX_MAX_COLUMNS:,} cells (XLSX_MAX_COLUMNS, Excel's "
                    "own limit); the file was not written by Excel or is damaged. Re-save it "
                    "from Excel, or save the sheet as CSV"))
            value = cell["value"]
            if value is None:
                continue
            stored = True
            text, flag = _cell_text(value, cell["data_type"] == "f")
            if not text:
                continue
            column = cell["column"]
            if column > MAX_COLUMNS:
                raise _SheetTooLarge(Problem(
                    sheet, number, f"column {column}", _clip(text),
                    f"a value lies beyond column {MAX_COLUMNS} (MAX_COLUMNS, the most "
                    "columns edxreview reads in a sheet); delete the stray cell, or the "
                    "columns after the study's own"))
            if len(text) > MAX_CELL_CHARS:
                suspicious.append((number, column - 1, _clip(text), f"long {len(text)}"))
                text = _clip(text)
            if flag:
                suspicious.append((number, column - 1, text, flag))
            kept.append((column - 1, text))
    return numbers, rows, suspicious


_CELL_TAGS = (b"<c ", b"<c>", b"<c/", b":c ", b":c>", b":c/")


def _count_cell_tags(source) -> int:
    """About how many cells a worksheet's XML holds (an upper bound), counted before parsing,
    which costs microseconds per cell where counting costs nanoseconds."""
    count, tail = 0, b""
    for chunk in iter(lambda: source.read(1 << 22), b""):
        data = tail + chunk
        count += sum(data.count(tag) for tag in _CELL_TAGS)
        tail = data[-2:]  # a tag cut by the chunk boundary is counted with the next chunk
    return count


def _iter_sheet(parser, source):
    """Yield ``(row number, cell)`` for each cell of a worksheet's XML and ``(row number, None)``
    at the end of each row, holding only the open elements in memory: each element is dropped
    from the tree once read, so neither a row of a million cells nor a million rows accumulate.
    Cells are decoded by openpyxl's own ``parse_cell`` (shared strings, dates, formulas)."""
    from openpyxl.xml.constants import SHEET_MAIN_NS
    from openpyxl.xml.functions import iterparse

    row_tag, cell_tag = f"{{{SHEET_MAIN_NS}}}row", f"{{{SHEET_MAIN_NS}}}c"
    open_elements = []
    in_cell = 0
    for event, element in iterparse(source, events=("start", "end")):
        if event == "start":
            open_elements.append(element)
            if element.tag == cell_tag:
                in_cell += 1
            elif element.tag == row_tag and not in_cell:
                _start_row(parser, element.get("r"))
            continue
        open_elements.pop()
        if element.tag == cell_tag:
            in_cell -= 1
            if not in_cell:
                yield parser.row_counter, parser.parse_cell(element)
        elif element.tag == row_tag and not in_cell:
            yield parser.row_counter, None
        if not in_cell and open_elements:
            open_elements[-1].remove(element)  # its parent holds no finished child


def _start_row(parser, r: str | None) -> None:
    """Row numbering as openpyxl's ``WorkSheetParser.parse_row``: the ``r`` attribute, or the
    row after the last."""
    if r is None:
        parser.row_counter += 1
    else:
        try:
            parser.row_counter = int(r)
        except ValueError:
            value = float(r)
            if not value.is_integer():
                raise ValueError(f"{r} is not a valid row number") from None
            parser.row_counter = int(value)
    parser.col_counter = 0


def _dense(cells: list[tuple[int, str]], width: int | None = None) -> list[str]:
    """A row's texts as a list: up to its last value, or exactly ``width`` cells."""
    if width is None:
        width = max((c for c, _ in cells), default=-1) + 1
    row = [""] * width
    for column, text in cells:
        if column < width:
            row[column] = text
    return row


def _beyond_problem(sheet: str, row: int, pos: int, value: str, width: int, header_row: int
                    ) -> Problem:
    return Problem(sheet, row, f"column {pos + 1}", value,
                   f"this row has a value beyond the last named column "
                   f"({width} columns in the header row {header_row}); a "
                   "separator or quote is probably misplaced in this row, or "
                   "the column needs a header")


def _xlsx_frame(sheet: str, numbers: list[int], cells: list[list[tuple[int, str]]],
                problems: list[Problem]) -> tuple[pd.DataFrame, dict[str, str], int]:
    """The table of one worksheet from its cells; returns (frame, header names, header row)."""
    lead = next(i for i, c in enumerate(cells) if c)  # rows of spaces above the header
    numbers, cells = numbers[lead:], cells[lead:]
    head = [_dense(c) for c in cells[:10]]
    header_index = _find_header_row(head, sheet)
    if header_index:
        problems.append(_title_row_problem(head, sheet, numbers, header_index))
    header = head[header_index]
    header_row = numbers[header_index]
    width = len(header)
    body_cells = cells[header_index + 1:]
    body_numbers = numbers[header_index + 1:]
    if len(body_cells) > MAX_ROWS or len(body_cells) * width > MAX_CELLS:
        raise _SheetTooLarge(Problem(
            sheet, header_row, None, None,
            f"the sheet has {len(body_cells):,} rows × {width} columns, more than the limits of "
            f"{MAX_ROWS:,} rows (MAX_ROWS) or {MAX_CELLS:,} cells (MAX_CELLS)"))
    for number, row in zip(body_numbers, body_cells):
        beyond = [(c, t) for c, t in row if c >= width]
        if beyond:
            pos, value = min(beyond)
            problems.append(_beyond_problem(sheet, number, pos, value, width, header_row))
    rows = [header] + [_dense(c, width) for c in body_cells]
    frame, names, sheet_problems = _frame_from_rows(rows, sheet, header_row, body_numbers)
    problems += sheet_problems
    return frame, names, header_row


def _read_xlsx(path: Path) -> RawWorkbook:
    import openpyxl

    too_big = _check_file_size(path)
    if too_big:
        raise _too_large(path, too_big)
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
    _check_zip(path)
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # noqa: BLE001 - boundary: zipfile, openpyxl and lxml raise many
        # types for a damaged file a user gives us; each becomes a located problem
        raise InvalidWorkbookError(
            "the workbook cannot be opened",
            [Problem("", None, None, path.name,
                     f"the .xlsx file is damaged or incomplete ({type(exc).__name__}); "
                     "re-save it from Excel")]) from None
    sheets: dict[str, pd.DataFrame] = {}
    headers: dict[str, dict[str, str]] = {}
    titles: dict[str, str] = {}
    problems: list[Problem] = []
    try:
        for ws in book.worksheets:
            name = normalize_header(ws.title)
            if name in titles and name not in SHEETS:
                continue  # a second notes sheet: ignored like the first
            if name in titles:
                problems.append(Problem(
                    name, None, None, ws.title,
                    f"two sheets are named {titles[name]!r} and {ws.title!r}, which are the same "
                    "name once case, spaces and hyphens are ignored; keep one (merge their rows "
                    "into it) and delete or rename the other"))
                continue
            titles[name] = ws.title
            if name not in SHEETS:
                # not a sheet of the study (a README, notes, a pivot table): listed, never read
                sheets[name] = pd.DataFrame({"_row": pd.Series(dtype=int)})
                headers[name] = {}
                continue
            try:
                numbers, cells, suspicious = _xlsx_cells(book, ws, name)
                if not any(cells):
                    sheets[name] = pd.DataFrame({"_row": pd.Series(dtype=int)})
                    headers[name] = {}
                    continue
                frame, names, first = _xlsx_frame(name, numbers, cells, problems)
            except _SheetTooLarge as exc:
                problems.append(exc.problem)
                continue
            _flag_cells(frame, names, name, first, suspicious, problems)
            sheets[name] = frame
            headers[name] = names
    except InvalidWorkbookError:
        raise
    except Exception as exc:  # noqa: BLE001 - boundary: damaged XML inside a user's archive
        # surfaces in many types (lxml, openpyxl, zlib); each becomes a located problem
        raise InvalidWorkbookError(
            "the workbook cannot be opened",
            [Problem("", None, None, path.name,
                     f"the .xlsx file is damaged and cannot be read ({type(exc).__name__}); "
                     "open it in Excel and save it again as .xlsx")]) from None
    finally:
        book.close()
    return RawWorkbook(sheets, headers, path, digest.hexdigest(), problems, "xlsx")


def _flag_cells(frame: pd.DataFrame, names: dict[str, str], sheet: str, header_row: int,
                suspicious: list[tuple[int, int, str, str]], problems: list[Problem]) -> None:
    """Report formula cells (and clear them: edxreview reads values only) and date cells."""
    cols = list(frame.columns)
    spec_cols = {c.name for c in SHEETS[sheet].columns}
    cleared: dict[str, list[int]] = {}
    for r_index, c_index, text, flag in suspicious:
        col = cols[c_index] if c_index < len(cols) - 1 else f"column {c_index + 1}"
        if flag.startswith("long"):
            problems.append(Problem(
                sheet, r_index, names.get(col, col), text,
                f"the cell holds {int(flag.split()[1]):,} characters, more than the limit of "
                f"{MAX_CELL_CHARS:,} (MAX_CELL_CHARS, Excel's own limit for a cell); shorten it"))
            continue
        if r_index <= header_row:
            continue
        if flag == "formula":
            problems.append(Problem(sheet, r_index, names.get(col, col), text,
                                    "cell holds a formula; edxreview reads values only. "
                                    "Copy the column and paste it back as values"))
            if col in frame.columns:
                cleared.setdefault(col, []).append(r_index)
        elif col in spec_cols:
            problems.append(Problem(sheet, r_index, names.get(col, col), text,
                                    "cell is formatted as a date; format the column as "
                                    "Number or Text and re-type the value"))
    for col, numbers in cleared.items():
        frame.loc[frame["_row"].isin(numbers), col] = ""


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


def _title_row_problem(rows: list[list[str]], sheet: str, numbers: int | list[int],
                       header_index: int) -> Problem:
    """The rows above the header; ``numbers``: the row number of each of ``rows`` (or of the
    first, the others following on)."""
    if isinstance(numbers, int):
        numbers = list(range(numbers, numbers + header_index + 1))
    title = rows[0]
    pos = next((i for i, t in enumerate(title) if str(t).strip()), 0)
    first_row, header_row = numbers[0], numbers[header_index]
    above = f"row {first_row}" if header_row - first_row == 1 else \
        f"rows {first_row}–{header_row - 1}"
    return Problem(
        sheet, first_row, f"column {pos + 1}", str(title[pos]).strip() if title else None,
        f"the column names are in row {header_row}, not in the first row: {above} look(s) like "
        f"a title or a merged (two-row) header. Delete {above} so that row 1 holds the column "
        "names (patient_id, …) and unmerge any merged header cells")


def _short(message: str) -> str:
    return message.strip().splitlines()[-1][:200] if message.strip() else "parse error"


def _read_sheet_file(file: Path, sheet: str, problems: list[Problem]
                     ) -> tuple[pd.DataFrame, dict[str, str], str] | None:
    """One sheet's ``.csv`` or ``.parquet`` file as a text table; ``None`` (with the reason in
    ``problems``) when it cannot be read."""
    if file.suffix.lower() == ".parquet":
        return _read_parquet_sheet(file, sheet, problems)
    data = file.read_bytes()
    text, problem = _decode_csv(data, sheet, file.name)
    if problem:
        problems.append(problem)
        return None
    if not text.strip():
        problems.append(Problem(sheet, 1, None, file.name,
                                "the file is empty; row 1 must hold the column names "
                                "(see `edxreview template`)"))
        return None
    first_line = next((ln for ln in text.splitlines() if ln.strip()), "")
    sep = _sniff_separator(first_line)
    header_cells = next(csv.reader([first_line], delimiter=sep)) if first_line.strip() else []
    names_norm = [normalize_header(h) for h in header_cells]
    clean_header = (header_cells and all(names_norm) and len(set(names_norm)) == len(names_norm)
                    and text.lstrip("\ufeff").startswith(first_line)
                    and _find_header_row([header_cells], sheet) == 0
                    and (sheet not in SHEETS or "patient_id" in names_norm))
    if clean_header:
        read = _read_clean_csv(text, sep, header_cells, names_norm)
        if read is not None:
            return read
    return _read_csv_rows(text, sep, sheet, file, problems)


def _read_parquet_sheet(file: Path, sheet: str, problems: list[Problem]
                        ) -> tuple[pd.DataFrame, dict[str, str], str] | None:
    """A ``.parquet`` sheet as a text table; ``None`` (reason in ``problems``) when unreadable."""
    too_big = _check_parquet_size(file, sheet)
    if too_big:
        problems.append(too_big)
        return None
    try:
        table = pd.read_parquet(file)
    except Exception as exc:  # noqa: BLE001 - boundary: pyarrow raises many types for a
        # damaged file a user gives us; it becomes a located problem
        problems.append(Problem(sheet, None, None, file.name,
                                f"cannot read this Parquet file ({type(exc).__name__})"))
        return None
    names = {normalize_header(c): str(c) for c in table.columns}
    table.columns = [normalize_header(c) for c in table.columns]
    table = table.astype("string").fillna("").astype(str)
    table["_row"] = np.arange(2, 2 + len(table))
    return table, names, "parquet"


def _read_clean_csv(text: str, sep: str, header_cells: list[str], names_norm: list[str]
                    ) -> tuple[pd.DataFrame, dict[str, str], str] | None:
    """A CSV whose first line is a clean header, read into columns; ``None`` when ragged."""
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
        except (ValueError, TypeError, NotImplementedError):  # ArrowInvalid, ParserError…
            # Arrow refused the text (its error classes subclass these): the C reader
            # below reads it or names the row
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
        return frame, dict(zip(names_norm, (h.strip() for h in header_cells))), "csv"
    return None


def _read_csv_rows(text: str, sep: str, sheet: str, file: Path, problems: list[Problem]
                   ) -> tuple[pd.DataFrame, dict[str, str], str] | None:
    """A CSV read row by row: leading blank lines and title rows skipped, each row located."""
    try:
        rows = [[c.strip() for c in r] for r in csv.reader(_io.StringIO(text, newline=""),
                                                           delimiter=sep)]
    except csv.Error as exc:
        problems.append(Problem(sheet, None, None, file.name,
                                f"the CSV cannot be parsed ({_short(str(exc))}); check "
                                "quoting and that every row has the same number of fields"))
        return None
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
    return frame, names, "csv"


def _check_parquet_size(file: Path, sheet: str) -> Problem | None:
    """Refuse a Parquet file whose metadata declare more than the limits, before reading it."""
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(file).metadata
    except Exception:  # noqa: BLE001 - boundary: pyarrow raises many types for a damaged
        # file; read_parquet below meets the same damage and reports it as a problem
        return None
    n_bytes = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    if (meta.num_rows > MAX_ROWS or meta.num_columns > MAX_COLUMNS
            or meta.num_rows * meta.num_columns > MAX_CELLS
            or n_bytes > MAX_PARQUET_UNCOMPRESSED_BYTES):
        return Problem(
            sheet, None, None, file.name,
            f"the Parquet file declares {meta.num_rows:,} rows × {meta.num_columns:,} columns "
            f"({format_bytes(n_bytes)} uncompressed), more than the limits of {MAX_ROWS:,} rows "
            f"(MAX_ROWS), {MAX_COLUMNS} columns (MAX_COLUMNS), {MAX_CELLS:,} cells (MAX_CELLS) "
            f"or {format_bytes(MAX_PARQUET_UNCOMPRESSED_BYTES)} (MAX_PARQUET_UNCOMPRESSED_BYTES)")
    return None


def _read_csv_folder(path: Path) -> RawWorkbook:
    try:
        entries = sorted(p for p in path.iterdir() if p.suffix.lower() in (".csv", ".parquet"))
    except OSError as exc:
        raise InvalidWorkbookError(
            "the folder cannot be read",
            [Problem("", None, None, path.name,
                     f"the folder cannot be listed ({exc.strerror or type(exc).__name__}); "
                     "check its permissions")]) from None
    digest = hashlib.sha256()
    sheets: dict[str, pd.DataFrame] = {}
    headers: dict[str, dict[str, str]] = {}
    sources: dict[str, str] = {}
    problems: list[Problem] = []
    fmt = "csv"
    for file in entries:
        sheet = normalize_header(file.stem)
        kind = _path_kind(file)
        if sheet not in SHEETS:
            # not a sheet of the study (e.g. truth.csv beside a synthetic registry): listed, never read
            sheets.setdefault(sheet, pd.DataFrame({"_row": pd.Series(dtype=int)}))
            headers.setdefault(sheet, {})
            continue
        if sheet in sources:
            problems.append(Problem(
                sheet, None, None, file.name,
                f"two files give sheet {sheet!r}: {sources[sheet]!r} and {file.name!r} (names "
                "match once case, spaces and hyphens are ignored, and .csv and .parquet are "
                "alternatives); keep one, merging their rows into it"))
            continue
        sources[sheet] = file.name
        if kind != "file":
            problems.append(Problem(
                sheet, None, None, file.name,
                f"{file.name} is {_KIND_TEXT[kind]}, not a sheet file; put the sheet's CSV file "
                "there or remove it"))
            continue
        try:
            too_big = _check_file_size(file, sheet)
            if too_big:
                problems.append(too_big)
                continue
            digest.update(file.name.encode())
            _sha256_file(file, digest)
            read = _read_sheet_file(file, sheet, problems)
        except OSError as exc:
            problems.append(Problem(sheet, None, None, file.name,
                                    f"the file cannot be read ({exc.strerror or type(exc).__name__});"
                                    " check its permissions"))
            continue
        if read is None:
            continue
        frame, names, file_format = read
        if file_format == "parquet":
            fmt = "parquet"
        if _check_table_size(frame, names, sheet, file.name, problems):
            sheets[sheet], headers[sheet] = frame, names
    if not entries:
        problems.append(Problem("", None, None, str(path.name),
                                "the folder holds no .csv or .parquet files; it needs one file "
                                "per sheet, named <sheet>.csv (patients.csv, emg.csv, …)"))
    return RawWorkbook(sheets, headers, path, digest.hexdigest(), problems, fmt)


def _check_table_size(frame: pd.DataFrame, names: dict[str, str], sheet: str, filename: str,
                      problems: list[Problem]) -> bool:
    """Report a sheet beyond the row, column or cell limits (then it is not used) and every
    column's first cell longer than :data:`MAX_CELL_CHARS` (kept, cut short)."""
    n_rows, n_cols = len(frame), frame.shape[1] - 1
    if n_rows > MAX_ROWS or n_cols > MAX_COLUMNS or n_rows * n_cols > MAX_CELLS:
        problems.append(Problem(
            sheet, None, None, filename,
            f"the sheet has {n_rows:,} rows × {n_cols:,} columns, more than the limits of "
            f"{MAX_ROWS:,} rows (MAX_ROWS), {MAX_COLUMNS} columns (MAX_COLUMNS) or "
            f"{MAX_CELLS:,} cells (MAX_CELLS); delete the columns that are not the study's or "
            "split the study"))
        return False
    for col in frame.columns:
        if col == "_row":
            continue
        lengths = frame[col].str.len()
        long = lengths > MAX_CELL_CHARS
        if long.any():
            first = int(np.argmax(long.to_numpy()))
            text = str(frame[col].iat[first])
            problems.append(Problem(
                sheet, int(frame["_row"].iat[first]), names.get(col, col), _clip(text),
                f"the cell holds {len(text):,} characters, more than the limit of "
                f"{MAX_CELL_CHARS:,} (MAX_CELL_CHARS, Excel's own limit for a cell); shorten it"
                + (f" ({int(long.sum())} cells in this column)" if long.sum() > 1 else "")))
            frame.loc[long, col] = frame.loc[long, col].str.slice(0, 60) + "…"
    return True


def read_workbook(path: str | Path) -> RawWorkbook:
    """Read a study workbook as text tables.

    Parameters
    ----------
    path : str or Path
        An ``.xlsx`` workbook, or a folder holding one ``<sheet>.csv`` (or ``.parquet``) per
        sheet. Sheet and column names are matched case-insensitively.

    Notes
    -----
    Every row is read: a CSV line, or a worksheet row in which at least one cell holds a value
    (rows Excel stores only formatting for are not rows of data). A row holding only spaces is
    read and then rejected as empty by :func:`validate_workbook`. Inputs beyond the limits in
    ``edxreview.io._limits`` are refused with the limit named.

    Returns
    -------
    RawWorkbook

    Raises
    ------
    InvalidWorkbookError
        The path does not exist or the file cannot be opened at all.

    Examples
    --------
    >>> import edxreview
    >>> raw = edxreview.io.read_workbook(edxreview.demo_path())
    >>> sorted(raw.sheets)  # doctest: +NORMALIZE_WHITESPACE
    ['blink_reflex', 'emg', 'f_waves', 'mri', 'ncs_motor', 'ncs_sensory', 'patients']
    """
    path = Path(path)
    kind = _path_kind(path)
    if kind == "missing":
        raise InvalidWorkbookError(
            f"no such file or folder: {str(path)!r}",
            [Problem("", None, None, str(path), "no such file or folder")])
    if kind == "folder":
        return _read_csv_folder(path)
    if kind != "file":
        raise InvalidWorkbookError(
            f"not a workbook: {str(path)!r}",
            [Problem("", None, None, str(path),
                     f"this is {_KIND_TEXT[kind]}; pass an .xlsx file or a folder of CSV files")])
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        try:
            return _read_xlsx(path)
        except OSError as exc:
            raise InvalidWorkbookError(
                "the workbook cannot be read",
                [Problem("", None, None, path.name,
                         f"the file cannot be read ({exc.strerror or type(exc).__name__}); "
                         "check its permissions")]) from None
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
