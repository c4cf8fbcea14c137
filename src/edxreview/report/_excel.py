"""Spreadsheet export: every table on its own sheet, no cell ever stored as a formula."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

#: Excel's row limit, less the header row
MAX_ROWS = 1_048_575
_RISKY = re.compile(r"^[=+\-@\t\r]")
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _sheet_name(name: str, used: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", "_", name)[:31] or "sheet"
    out, i = base, 1
    while out.lower() in used:
        i += 1
        out = f"{base[:28]}_{i}"
    used.add(out.lower())
    return out


def _column_values(s: pd.Series) -> list:
    """Plain Python values of a column (None for missing), text cleaned of control codes."""
    if pd.api.types.is_bool_dtype(s):
        return s.astype(object).tolist()
    if pd.api.types.is_numeric_dtype(s):
        v = s.astype(float).to_numpy()
        return [None if not np.isfinite(x) else (int(x) if pd.api.types.is_integer_dtype(s)
                                                 else float(x)) for x in v]
    obj = s.astype(object)
    miss = s.isna().to_numpy()
    text = obj.where(~miss, "").map(lambda v: v if isinstance(v, (bool, int, float)) else str(v))
    text = text.map(lambda v: _ILLEGAL.sub("", v) if isinstance(v, str) else v)
    return [None if m else v for v, m in zip(text.tolist(), miss)]


def write_workbook(sheets: dict[str, pd.DataFrame], path: str | Path,
                   notes: dict[str, str] | None = None) -> Path:
    """Write each table to its own sheet of an ``.xlsx`` file.

    Text that begins with ``=``, ``+``, ``-`` or ``@`` is stored as a text cell (with Excel's
    quote prefix), never as a formula. Tables longer than Excel's row limit are cut at the limit
    and the cut is recorded in ``notes``.

    Parameters
    ----------
    sheets : dict
        Sheet name → table.
    path : str or Path
    notes : dict, optional
        Filled with sheet name → note for cut tables.
    """
    wb = Workbook(write_only=True)
    used: set[str] = set()
    bold = Font(bold=True)
    for name, frame in sheets.items():
        ws = wb.create_sheet(_sheet_name(name, used))
        frame = frame.reset_index(drop=True)
        if len(frame) > MAX_ROWS:
            if notes is not None:
                notes[name] = f"{len(frame)} rows; the first {MAX_ROWS} are in the workbook"
            frame = frame.iloc[:MAX_ROWS]
        header = []
        for col in frame.columns:
            cell = WriteOnlyCell(ws, value=str(col))
            cell.data_type = "s"
            cell.font = bold
            header.append(cell)
        ws.append(header)
        columns = [_column_values(frame[c]) for c in frame.columns]
        risky = [pd.Series(col, dtype=object).map(
            lambda v: isinstance(v, str) and bool(_RISKY.match(v))).to_numpy()
            if frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c])
            else None for col, c in zip(columns, frame.columns)]
        for i in range(len(frame)):
            row = []
            for col, mask in zip(columns, risky):
                v = col[i]
                if mask is not None and mask[i]:
                    cell = WriteOnlyCell(ws, value=v)
                    cell.data_type = "s"
                    cell.quotePrefix = True
                    v = cell
                row.append(v)
            ws.append(row)
    path = Path(path)
    wb.save(path)
    return path
