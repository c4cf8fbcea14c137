"""Spreadsheet export: every table on its own sheet, no cell ever stored as a formula.

The workbook is written directly as Office Open XML (SpreadsheetML) from whole columns: text
goes through one shared-string table, numbers and booleans are typed cells, and no cell is ever
given a formula. openpyxl and XlsxWriter build one Python object (or call) per cell, which at a
registry of 100,000 patients took over a minute; here the XML of a column is made in one pass.
Numbers are written with 16 significant digits (as openpyxl wrote them; Excel keeps 15); an
empty text is an empty cell. Zip members carry a fixed date and the package has no document
properties, so the same tables give a byte-identical file.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

#: Excel's row limit, less the header row
MAX_ROWS = 1_048_575
#: Excel's limit on the characters in one cell
MAX_CELL_CHARS = 32_767
#: rows of a sheet turned into XML at a time (bounds the memory used by a long sheet)
CHUNK_ROWS = 20_000

_RISKY = re.compile(r"^[=+\-@\t\r]")
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
#: the same pattern for pandas / Arrow (RE2 syntax)
_ILLEGAL_RE2 = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x{fffe}\x{ffff}]"

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
#: cell styles (index into cellXfs): 0 plain, 1 bold header, 2 text with Excel's quote prefix
_STYLES = (
    f'{_DECL}<styleSheet xmlns="{_MAIN}">'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    '</styleSheet>')
_FIXED_DATE = (1980, 1, 1, 0, 0, 0)


def _sheet_name(name: str, used: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", "_", _ILLEGAL.sub("", name))[:31] or "sheet"
    out, i = base, 1
    while out.lower() in used:
        i += 1
        out = f"{base[:28]}_{i}"
    used.add(out.lower())
    return out


def _column_letter(j: int) -> str:
    """Excel's name of the 0-based column ``j`` (A, B, …, Z, AA, …)."""
    out = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        out = chr(65 + r) + out
    return out


def _escape(text: pd.Series) -> pd.Series:
    """XML text content (the three markup characters; CR kept as a character reference)."""
    return (text.str.replace("&", "&amp;", regex=False).str.replace("<", "&lt;", regex=False)
            .str.replace(">", "&gt;", regex=False).str.replace("\r", "&#13;", regex=False))


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


class _Strings:
    """The workbook's shared-string table: each distinct text once, in order of first use."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.count = 0

    def codes(self, text: pd.Series) -> np.ndarray:
        """Index of each (non-missing, cleaned) text in the table, adding new ones."""
        codes, uniques = pd.factorize(text, sort=False)
        table = self.index
        ids = np.fromiter((table.setdefault(u, len(table)) for u in uniques.tolist()),
                          dtype=np.int64, count=len(uniques))
        self.count += len(codes)
        return ids[codes]

    def write(self, zf: zipfile.ZipFile, member: str) -> None:
        """Write the table as ``member`` of ``zf``, :data:`CHUNK_ROWS` texts at a time."""
        info = zipfile.ZipInfo(member, date_time=_FIXED_DATE)
        info.compress_type = zipfile.ZIP_DEFLATED
        texts = list(self.index)
        with zf.open(info, "w", force_zip64=True) as out:
            out.write(f'{_DECL}<sst xmlns="{_MAIN}" count="{self.count}" '
                      f'uniqueCount="{len(texts)}">'.encode("utf-8"))
            for start in range(0, len(texts), CHUNK_ROWS):
                part = _escape(pd.Series(texts[start:start + CHUNK_ROWS], dtype="str"))
                out.write(_utf8(_join('<si><t xml:space="preserve">', pa.array(part).cast(pa.string()),
                                      "</t></si>")))
            out.write(b"</sst>")


def _cells(s: pd.Series, letter: str, rows: pa.Array, strings: _Strings) -> pa.Array:
    """The ``<c>`` elements of one column chunk ('' where the value is missing).

    The XML is assembled by Arrow (``binary_join_element_wise``) from whole columns: row
    numbers, value text and the constant markup.
    """
    kind, s = _classify(s)
    if kind == "mixed":
        return pa.array(_mixed_cells(s, letter, rows.to_pylist(), strings), type=pa.string())
    missing = s.isna().to_numpy(dtype=bool)
    if kind == "text":                # an empty text is an empty cell, as openpyxl wrote it
        missing = missing | (s.astype("str") == "").to_numpy(dtype=bool, na_value=True)
    head = f'<c r="{letter}'
    if kind == "bool":
        v = np.where(missing, False, s.to_numpy(dtype=object, na_value=False)).astype(bool)
        value = pc.if_else(pa.array(v, mask=missing), "1", "0")
        return _join(head, rows, '" t="b"><v>', value, "</v></c>")
    if kind in ("int", "float"):
        x = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        bad = missing | ~np.isfinite(x)
        if kind == "int":
            try:
                value = pa.array(s.to_numpy(dtype=np.int64, na_value=0), mask=bad)
            except (OverflowError, TypeError, ValueError):
                return pa.array(_mixed_cells(s.astype(object), letter, rows.to_pylist(),
                                             strings), type=pa.string())
            value = value.cast(pa.string())
        else:                          # 16 significant digits, as openpyxl wrote numbers
            value = pa.array([None if b else f"{v:.16g}" for v, b in zip(x.tolist(),
                                                                         bad.tolist())],
                             type=pa.string())
        return _join(head, rows, '"><v>', value, "</v></c>")
    keep = ~missing
    codes = np.zeros(len(s), dtype=np.int64)
    risky = np.zeros(len(s), dtype=bool)
    if keep.any():
        text = _clean_text(s[keep])
        risky[keep] = text.str.match(r"[=+\-@\t\r]").to_numpy(dtype=bool, na_value=False)
        codes[keep] = strings.codes(text)
    style = pc.if_else(pa.array(risky), '" t="s" s="2"><v>', '" t="s"><v>')
    return _join(head, rows, style, pa.array(codes, mask=missing).cast(pa.string()),
                 "</v></c>")


def _join(*parts) -> pa.Array:
    """Element-wise concatenation of text arrays and constants; '' where any part is null."""
    return pc.binary_join_element_wise(*parts, "").fill_null("")


def _mixed_cells(s: pd.Series, letter: str, rows: list[str], strings: _Strings) -> list[str]:
    """Cells of an object column holding several kinds of value, one value at a time."""
    out = []
    texts = []
    for r, v in zip(rows, s.tolist()):
        if v is None or (isinstance(v, float) and not np.isfinite(v)) or v is pd.NA \
                or v is pd.NaT or (isinstance(v, str) and not v):
            out.append("")
        elif isinstance(v, (bool, np.bool_)):
            out.append(f'<c r="{letter}{r}" t="b"><v>{int(v)}</v></c>')
        elif isinstance(v, (int, np.integer)):
            out.append(f'<c r="{letter}{r}"><v>{int(v)}</v></c>')
        elif isinstance(v, (float, np.floating)):
            out.append(f'<c r="{letter}{r}"><v>{float(v):.16g}</v></c>')
        else:
            texts.append((len(out), r, str(v)))
            out.append("")
    if texts:
        text = _clean_text(pd.Series([t for _, _, t in texts], dtype=object))
        risky = text.str.match(r"[=+\-@\t\r]").to_numpy(dtype=bool, na_value=False)
        for (i, r, _), c, k in zip(texts, strings.codes(text).tolist(), risky.tolist()):
            style = ' s="2"' if k else ""
            out[i] = f'<c r="{letter}{r}" t="s"{style}><v>{c}</v></c>'
    return out


def _utf8(text: pa.Array) -> memoryview:
    """The characters of every string of ``text`` back to back (Arrow's data buffer)."""
    text = text.cast(pa.large_string())
    if not len(text):
        return memoryview(b"")
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int64)
    first, last = offsets[text.offset], offsets[text.offset + len(text)]
    return memoryview(text.buffers()[2])[first:last]


def _write_sheet(zf: zipfile.ZipFile, member: str, frame: pd.DataFrame,
                 strings: _Strings) -> None:
    letters = [_column_letter(j) for j in range(frame.shape[1])]
    header = _clean_text(pd.Series([str(c) for c in frame.columns], dtype=object))
    codes = strings.codes(header) if len(header) else []
    head = "".join(f'<c r="{L}1" t="s" s="1"><v>{c}</v></c>' for L, c in zip(letters, codes))
    info = zipfile.ZipInfo(member, date_time=_FIXED_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    with zf.open(info, "w", force_zip64=True) as out:
        out.write(f'{_DECL}<worksheet xmlns="{_MAIN}"><sheetData>'
                  f'<row r="1">{head}</row>'.encode("utf-8"))
        for start in range(0, len(frame), CHUNK_ROWS):
            chunk = frame.iloc[start:start + CHUNK_ROWS]
            rows = pa.array(np.arange(start + 2, start + 2 + len(chunk))).cast(pa.string())
            columns = [_cells(chunk.iloc[:, j], letters[j], rows, strings)
                       for j in range(chunk.shape[1])]
            out.write(_utf8(_join('<row r="', rows, '">', *columns, "</row>")))
        out.write(b"</sheetData></worksheet>")


def _attr(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def _put(zf: zipfile.ZipFile, member: str, text: str | bytes) -> None:
    info = zipfile.ZipInfo(member, date_time=_FIXED_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, text.encode("utf-8") if isinstance(text, str) else text)


def write_workbook(sheets: dict[str, pd.DataFrame], path: str | Path,
                   notes: dict[str, str] | None = None) -> Path:
    """Write each table to its own sheet of an ``.xlsx`` file.

    Text that begins with ``=``, ``+``, ``-`` or ``@`` is stored as a text cell (with Excel's
    quote prefix), never as a formula; no cell of the workbook is a formula. Tables longer than
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

    Returns
    -------
    Path
    """
    path = Path(path)
    used: set[str] = set()
    names = [_sheet_name(str(name), used) for name in sheets]
    strings = _Strings()
    sheet_ct = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
    content_types = (
        f'{_DECL}<Types xmlns="{_CT}">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.styles+xml"/>'
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.'
        'openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
        + "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{sheet_ct}"/>'
                  for i in range(1, len(names) + 1)) + "</Types>")
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        _put(zf, "[Content_Types].xml", content_types)
        _put(zf, "_rels/.rels",
             f'{_DECL}<Relationships xmlns="{_PKG_REL}"><Relationship Id="rId1" '
             f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        for i, (name, frame) in enumerate(sheets.items(), start=1):
            frame = frame.reset_index(drop=True)
            if len(frame) > MAX_ROWS:
                if notes is not None:
                    notes[name] = f"{len(frame)} rows; the first {MAX_ROWS} are in the workbook"
                frame = frame.iloc[:MAX_ROWS]
            _write_sheet(zf, f"xl/worksheets/sheet{i}.xml", frame, strings)
        _put(zf, "xl/workbook.xml",
             f'{_DECL}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>'
             + "".join(f'<sheet name="{_attr(n)}" sheetId="{i}" r:id="rId{i}"/>'
                       for i, n in enumerate(names, start=1)) + "</sheets></workbook>")
        n = len(names)
        _put(zf, "xl/_rels/workbook.xml.rels",
             f'{_DECL}<Relationships xmlns="{_PKG_REL}">'
             + "".join(f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" '
                       f'Target="worksheets/sheet{i}.xml"/>' for i in range(1, n + 1))
             + f'<Relationship Id="rId{n + 1}" Type="{_REL}/styles" Target="styles.xml"/>'
             f'<Relationship Id="rId{n + 2}" Type="{_REL}/sharedStrings" '
             'Target="sharedStrings.xml"/></Relationships>')
        _put(zf, "xl/styles.xml", _STYLES)
        strings.write(zf, "xl/sharedStrings.xml")
    return path
