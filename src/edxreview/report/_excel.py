"""Spreadsheet export: every table on its own sheet, no cell ever stored as a formula.

The workbook is written with XlsxWriter in constant-memory mode (each row goes to disk as it is
written, so a registry of any size stays within a bounded memory). Each sheet has a bold,
frozen header row of readable column names (:mod:`._labels`), an autofilter over the table and
column widths set from the longest value (capped); a ``codebook`` sheet lists every sheet's
columns with their machine names and types. Text is always written as a text cell (with
Excel's quote prefix when it begins like a formula), numbers and booleans as typed cells; an
empty text or a missing value is an empty cell. The document date is fixed, so the same tables
give a byte-identical file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import sys
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter

from ._labels import column_labels

#: Excel's row limit, less the header row
MAX_ROWS = 1_048_575
#: Excel's limit on the characters in one cell
MAX_CELL_CHARS = 32_767
#: column widths (in characters): the narrowest, the widest, and the widest a header may ask
MIN_WIDTH, MAX_WIDTH, MAX_HEADER_WIDTH = 6, 60, 14
#: rows read to set a column's width (the head of a long table is representative enough)
WIDTH_SAMPLE_ROWS = 5_000
#: the largest integer a spreadsheet number holds exactly (larger ones are written as text)
_EXACT_INT = 2 ** 53

_RISKY = re.compile(r"^[=+\-@\t\r]")
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
#: the same pattern for pandas / Arrow (RE2 syntax)
_ILLEGAL_RE2 = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x{fffe}\x{ffff}]"
#: the date written into the document properties (a fixed one keeps the file reproducible)
_FIXED_DATE = dt.datetime(2000, 1, 1)
CODEBOOK = "codebook"


def _sheet_name(name: str, used: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", "_", _ILLEGAL.sub("", name))[:31] or "sheet"
    out, i = base, 1
    while out.lower() in used:
        i += 1
        out = f"{base[:28]}_{i}"
    used.add(out.lower())
    return out


def _clean_text(text: pd.Series) -> pd.Series:
    """Text without characters XML cannot hold, cut at Excel's cell limit."""
    text = text.astype("str")
    return text.str.replace(_ILLEGAL_RE2 if _is_arrow(text) else _ILLEGAL.pattern, "",
                            regex=True).str.slice(0, MAX_CELL_CHARS)


def _is_arrow(s: pd.Series) -> bool:
    return getattr(s.dtype, "storage", None) in ("pyarrow", "pyarrow_numpy")


def _classify(s: pd.Series) -> tuple[str, pd.Series]:
    """How a column is stored: ``bool``, ``int``, ``float``, ``text`` or ``mixed``.

    ``mixed`` (an object column holding numbers and text) is returned as Python objects.
    """
    if pd.api.types.is_bool_dtype(s):
        return "bool", s
    if pd.api.types.is_integer_dtype(s):
        return "int", s
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_complex_dtype(s):
        return "float", s
    if s.dtype == object:
        kind = pd.api.types.infer_dtype(s, skipna=True)
        if kind == "boolean":
            return "bool", s
        if kind == "integer":
            return "int", s
        if kind in ("floating", "mixed-integer-float", "decimal"):
            return "float", pd.to_numeric(s, errors="coerce")
        if kind not in ("string", "empty"):
            return "mixed", s
    return "text", s


_KIND_TEXT = {"bool": "yes/no", "int": "number", "float": "number", "text": "text",
              "mixed": "text or number"}


def _values(s: pd.Series) -> tuple[str, list]:
    """The column as Python values ready for the writer: ``None`` for an empty cell, ``bool``,
    ``float`` (numbers), ``str`` (cleaned text), or ``(str,)`` for text that begins like a
    formula (written with the quote prefix)."""
    kind, s = _classify(s)
    missing = s.isna().to_numpy(dtype=bool)
    if kind == "bool":
        v = s.to_numpy(dtype=object, na_value=None)
        return kind, [None if m else bool(x) for x, m in zip(v.tolist(), missing.tolist())]
    if kind in ("int", "float"):
        x = pd.to_numeric(s, errors="coerce")
        if kind == "int":
            big = (x.abs() > _EXACT_INT).to_numpy(dtype=bool, na_value=False)
            if big.any():                     # beyond a double's exact range: keep the digits
                return "mixed", _mixed(s.astype(object))
        f = x.to_numpy(dtype=float, na_value=np.nan)
        f = np.where(np.isfinite(f), f, np.nan)
        return kind, [None if v != v else v for v in f.tolist()]
    if kind == "mixed":
        return kind, _mixed(s)
    out: list = [None] * len(s)
    keep = ~missing
    if keep.any():
        text = _clean_text(s[keep])
        risky = text.str.match(_RISKY.pattern).to_numpy(dtype=bool, na_value=False)
        where = np.flatnonzero(keep).tolist()
        for i, t, r in zip(where, text.tolist(), risky.tolist()):
            if t:
                out[i] = (t,) if r else t
    return kind, out


def _mixed(s: pd.Series) -> list:
    """Values of an object column holding several kinds of value, one value at a time."""
    out: list = []
    for v in s.tolist():
        if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and not
                                                         np.isfinite(v)):
            out.append(None)
        elif isinstance(v, (bool, np.bool_)):
            out.append(bool(v))
        elif isinstance(v, (int, np.integer)) and abs(int(v)) <= _EXACT_INT:
            out.append(float(v))
        elif isinstance(v, (float, np.floating)):
            out.append(float(v) if np.isfinite(v) else None)
        else:
            t = _ILLEGAL.sub("", str(v))[:MAX_CELL_CHARS]
            out.append(((t,) if _RISKY.match(t) else t) if t else None)
    return out


def _width(header: str, values: list) -> float:
    """Column width in characters: the longest value of the first rows or the header (which
    wraps beyond :data:`MAX_HEADER_WIDTH`), within :data:`MIN_WIDTH` … :data:`MAX_WIDTH`."""
    longest = 0
    for v in values[:WIDTH_SAMPLE_ROWS]:
        if v is None:
            continue
        if isinstance(v, tuple):
            v = v[0]
        if isinstance(v, bool):
            n = 5
        elif isinstance(v, float):
            n = len(f"{v:.10g}")
        else:
            n = max(len(line) for line in v.split("\n"))
        longest = max(longest, n)
    head = max((len(w) for w in header.split()), default=0)   # a header wraps at spaces
    want = max(longest, min(len(header), MAX_HEADER_WIDTH), head)
    return float(min(max(want + 2, MIN_WIDTH), MAX_WIDTH))


def write_workbook(sheets: dict[str, pd.DataFrame], path: str | Path,
                   notes: dict[str, str] | None = None, codebook: bool = True) -> Path:
    """Write each table to its own sheet of an ``.xlsx`` file.

    Text that begins with ``=``, ``+``, ``-`` or ``@`` is stored as a text cell (with Excel's
    quote prefix), never as a formula; no cell of the workbook is a formula. Column headers are
    readable labels (:func:`~._labels.column_label`); the ``codebook`` sheet gives each
    sheet's headers with their machine names, types and filled cells. Tables longer than
    Excel's row limit are cut at the limit and the cut is recorded in ``notes``; text longer
    than Excel's cell limit (32,767 characters) is cut at it. The same tables always give the
    same bytes.

    Parameters
    ----------
    sheets : dict
        Sheet name → table.
    path : str or Path
    notes : dict, optional
        Filled with sheet name → note for cut tables.
    codebook : bool
        Add the ``codebook`` sheet after the tables.

    Returns
    -------
    Path
    """
    path = Path(path)
    used: set[str] = set()
    names = [_sheet_name(str(name), used) for name in sheets]
    book_name = _sheet_name(CODEBOOK, used) if codebook else ""
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False,
                                         "strings_to_numbers": False, "strings_to_urls": False})
    wb.set_properties({"created": _FIXED_DATE})
    fmt = _Formats(wb)
    entries: list[list] = []
    try:
        for (name, frame), title in zip(sheets.items(), names):
            frame = frame.reset_index(drop=True)
            if len(frame) > MAX_ROWS:
                if notes is not None:
                    notes.update(cut_notes({name: frame}))
                frame = frame.iloc[:MAX_ROWS]
            machine = [str(c) for c in frame.columns]
            headers = [_ILLEGAL.sub("", h)[:255] for h in column_labels(machine)]
            columns = [_values(frame.iloc[:, j]) for j in range(frame.shape[1])]
            _write_table(wb.add_worksheet(title), headers, columns, fmt)
            for h, m, (kind, values) in zip(headers, machine, columns):
                filled = sum(v is not None for v in values)
                entries.append([title, h, m, _KIND_TEXT[kind], float(filled)])
        if codebook:
            rows = list(zip(*entries)) if entries else [()] * 5
            kinds = ["text"] * 4 + ["int"]
            _write_table(wb.add_worksheet(book_name),
                         ["Sheet", "Column", "Machine name", "Type", "Filled cells"],
                         [(k, list(r)) for k, r in zip(kinds, rows)], fmt)
    finally:
        wb.close()
    return path


def cut_notes(sheets: dict[str, pd.DataFrame]) -> dict[str, str]:
    """The notes :func:`write_workbook` records for the tables it cuts at Excel's row limit
    (known before the workbook is written)."""
    return {name: f"{len(frame)} rows; the first {MAX_ROWS} are in the workbook"
            for name, frame in sheets.items() if len(frame) > MAX_ROWS}


#: cells above which :class:`WorkbookWriter` writes the workbook in a forked copy of the
#: process (XlsxWriter writes one cell at a time, in Python: about 5 s per million cells)
FORK_CELLS = 200_000


class WorkbookWriter:
    """``results.xlsx`` written while the caller goes on drawing the rest of the report.

    A large workbook (above :data:`FORK_CELLS` cells) is written by a forked copy of this
    process, which already holds the tables (nothing is copied or imported), where the
    platform forks safely (Linux), a second core is free and no other thread runs (a lock
    another thread held at the fork would stay held in the copy: under a Dask client, in a
    notebook); any other is written here, at once. :meth:`wait` returns when the file is written. A copy that fails is not trusted:
    the workbook is written again here, so that its error is raised as the writer's own.
    The bytes are the same either way (:func:`write_workbook`).
    """

    def __init__(self, sheets: dict[str, pd.DataFrame], path: str | Path,
                 notes: dict[str, str] | None = None) -> None:
        self.path = Path(path)
        self._sheets = sheets
        self._pid: int | None = None
        if notes is not None:       # the report states them before the file is written
            notes.update(cut_notes(sheets))
        if not _fork_pays(sheets):
            write_workbook(sheets, self.path)
            return
        self._pid = os.fork()
        if self._pid == 0:   # the copy: write, then leave without the parent's clean-up
            code = 1
            try:
                _forked_child()
                write_workbook(sheets, self.path)
                code = 0
            finally:
                os._exit(code)

    def wait(self, check: bool = True) -> Path:
        """Wait for the copy (if any); with ``check``, write the workbook here when it failed.
        Interrupted, the copy is stopped."""
        if self._pid is not None:
            pid, self._pid = self._pid, None
            try:
                _, status = os.waitpid(pid, 0)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.kill(pid, 9)
                    os.waitpid(pid, 0)
                raise
            if check and os.waitstatus_to_exitcode(status) != 0:
                write_workbook(self._sheets, self.path)
        self._sheets = {}
        return self.path


def _forked_child() -> None:
    """The forked copy acts on nothing of its parent's: no garbage collection (it would run
    the finalisers of the parent's objects, such as a file's flush, a second time), and the
    signals' default actions (not the parent's handlers: Ctrl-C ends the copy at once)."""
    import gc
    import signal

    gc.disable()
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)


def _fork_pays(sheets: dict[str, pd.DataFrame]) -> bool:
    """Whether a workbook is written by a forked copy (see :class:`WorkbookWriter`)."""
    if not (sys.platform.startswith("linux") and hasattr(os, "fork")):
        return False
    if len(os.sched_getaffinity(0)) < 2:
        return False
    if threading.active_count() > 1:
        return False      # a lock another thread holds would stay held in the copy forever
    return sum(frame.size for frame in sheets.values()) > FORK_CELLS


class _Formats:
    """The workbook's cell formats, each made once."""

    def __init__(self, wb) -> None:
        head = {"bold": True, "text_wrap": True, "valign": "top", "bottom": 1,
                "bg_color": "#EEF2F6"}
        self.head = wb.add_format(head)
        self.head_number = wb.add_format(head | {"align": "right", "indent": 1})
        self.head_bool = wb.add_format(head | {"align": "center"})
        self.quote = wb.add_format({"quote_prefix": True})
        # shown as Excel shows a logical value (LibreOffice would show 1 and 0 without it)
        self.bool = wb.add_format({"num_format": '"TRUE";"TRUE";"FALSE"', "align": "center"})
        self._wb = wb
        self._numbers: dict[str, object] = {}

    def number(self, values: list):
        """Right-aligned with a small indent, as many decimals as the column's values have
        (at most 4; General for very large or small numbers)."""
        decimals = 0
        for v in values[:WIDTH_SAMPLE_ROWS]:
            if v.__class__ is not float:
                continue
            text = f"{v:.10g}"
            if "e" in text:
                decimals = -1
                break
            decimals = max(decimals, len(text.partition(".")[2]))
        code = "General" if decimals < 0 or decimals > 4 else (
            "0" if not decimals else "0." + "0" * decimals)
        if code not in self._numbers:
            self._numbers[code] = self._wb.add_format(
                {"num_format": code, "align": "right", "indent": 1})
        return self._numbers[code]


def _header_lines(header: str, width: float) -> int:
    """Lines a header wraps onto at ``width`` characters (words kept whole)."""
    lines, used = 1, 0
    for word in header.split():
        need = len(word) + (1 if used else 0)
        if used and used + need > width - 1:
            lines, used = lines + 1, len(word)
        else:
            used += need
    return lines


def _write_table(ws, headers: list[str], columns: list[tuple[str, list]],
                 fmt: _Formats) -> None:
    """One sheet: header row, typed cells row by row, widths, frozen header and filter; printed
    landscape, one page wide, the header repeated on every page."""
    n_rows = len(columns[0][1]) if columns else 0
    number_fmt = []
    lines = 1
    for j, (h, (kind, values)) in enumerate(zip(headers, columns)):
        numeric = kind in ("int", "float")
        width = _width(h, values) + (2 if numeric else 0)
        ws.set_column(j, j, width)
        lines = max(lines, _header_lines(h, width))
        number_fmt.append(fmt.number(values) if numeric else None)
    ws.set_row(0, 15 * lines)             # the header's wrapped lines (points)
    ws.freeze_panes(1, 0)
    ws.set_landscape()
    ws.set_paper(9)                       # A4
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0)
    if headers:
        ws.autofilter(0, 0, n_rows, len(headers) - 1)
        # long text in the last column is cut at the table's edge on paper, not run onto pages
        ws.print_area(0, 0, n_rows, len(headers) - 1)
    for j, (h, (kind, _)) in enumerate(zip(headers, columns)):
        ws.write_string(0, j, h, fmt.head_number if number_fmt[j] else
                        fmt.head_bool if kind == "bool" else fmt.head)
    string, number, boolean, quote = ws.write_string, ws.write_number, ws.write_boolean, fmt.quote
    true_false = fmt.bool
    for i, row in enumerate(zip(*(values for _, values in columns)), start=1):
        for j, v in enumerate(row):
            if v is None:
                continue
            if v.__class__ is str:
                string(i, j, v)
            elif v.__class__ is float:
                number(i, j, v, number_fmt[j])
            elif v.__class__ is bool:
                boolean(i, j, v, true_false)
            else:                       # (text,): begins like a formula
                string(i, j, v[0], quote)
