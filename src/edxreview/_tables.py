"""Small whole-table helpers shared by the interpretation and classification stages."""

from __future__ import annotations

import re
import string
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def group_join(keys: pd.Series | np.ndarray, texts: pd.Series | np.ndarray, sep: str = "; ",
               distinct: bool = False) -> pd.Series:
    """Join the texts of each key, in row order, in one Arrow aggregation.

    Parameters
    ----------
    keys, texts : array-like of equal length
        Empty or missing texts are skipped.
    sep : str
    distinct : bool
        Keep only the first occurrence of each text within a key.

    Returns
    -------
    Series
        Indexed by key (keys without any text are absent).
    """
    frame = pd.DataFrame({"k": np.asarray(keys), "t": pd.Series(np.asarray(texts, dtype=object))})
    frame = frame[frame["t"].notna() & frame["t"].astype(str).ne("")]
    if distinct:
        frame = frame.drop_duplicates(["k", "t"])
    if not len(frame):
        return pd.Series(dtype=object)
    table = pa.table({"k": pa.array(frame["k"].to_numpy()),
                      "t": pa.array(frame["t"].astype(str).to_numpy(), type=pa.string())})
    # without threads, Arrow keeps each key's texts in row order
    grouped = table.group_by("k", use_threads=False).aggregate([("t", "list")])
    joined = pc.binary_join(grouped["t_list"], sep)
    return pd.Series(np.asarray(joined.to_numpy(zero_copy_only=False), dtype=object),
                     index=pd.Index(grouped["k"].to_numpy()))


def fill(template: str, index: pd.Index, **fields: pd.Series | str) -> pd.Series:
    """``template.format(**fields)`` for every row at once (fields are aligned Series)."""
    out = pd.Series("", index=index, dtype=object)
    for literal, name, _, _ in string.Formatter().parse(template):
        out = out + literal
        if name is not None:
            value = fields[name]
            out = out + (value.reindex(index).fillna("").astype(str)
                         if isinstance(value, pd.Series) else str(value))
    return out


def flag_column(frame: pd.DataFrame, column: str) -> pd.Series:
    """A boolean column of ``frame``, false where missing or where the column is absent."""
    if column not in frame:
        return pd.Series(False, index=frame.index)
    return frame[column].astype("boolean").fillna(False).astype(bool)


def text_column(frame: pd.DataFrame, column: str) -> pd.Series:
    """A text column of ``frame``, missing (``None``) where the cell is blank or empty, or
    everywhere when the column is absent."""
    if column not in frame:
        return pd.Series(None, index=frame.index, dtype=object)
    text = frame[column].astype(object)
    return text.where(text.notna() & text.ne(""), None)


def join_nonempty(columns: list, sep: str = "; ") -> np.ndarray:
    """Element-wise join of text columns, skipping empty cells (vectorised in Arrow)."""
    if not columns:
        return np.zeros(0, dtype=object)
    parts = []
    for col in columns:
        col = np.asarray(col)  # numpy text (from np.where) goes to Arrow without Python objects
        if col.dtype.kind != "U":
            col = col.astype(object)
        empty = pd.isna(col) | (col == "")
        parts.append(pa.array(np.where(empty, "", col), type=pa.string(), mask=empty))
    # an empty first part, so that no row is all missing (Arrow drops such rows when it skips
    # missing parts); the separator it leaves in front of the others is cut off
    lead = pa.array(np.full(len(parts[0]), ""), type=pa.string())
    joined = pc.binary_join_element_wise(lead, *parts, sep, null_handling="skip")
    joined = pc.utf8_slice_codeunits(joined, len(sep))
    return np.asarray(joined.to_numpy(zero_copy_only=False), dtype=object)


#: first characters that make a spreadsheet read a cell as a formula (OWASP, "CSV Injection")
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"


def neutralize_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix ``'`` to every text cell (and column name) a spreadsheet would run as a formula.

    Follows the OWASP guidance on CSV injection: a text cell that begins with ``=``, ``+``,
    ``-``, ``@``, a tab or a carriage return gets a leading single quote, so Excel, LibreOffice
    and Google Sheets show it as text (``=1+2`` is written ``'=1+2``). Numeric columns are left
    alone, and so are text cells that are a plain number (``-1.5``, ``+3``, ``-2e-3``), which a
    spreadsheet reads as that number, not as a formula.

    Returns
    -------
    DataFrame
        ``frame`` itself when nothing needs changing, otherwise a copy.
    """
    out = frame
    for name in frame.columns:
        column = frame[name]
        if not (isinstance(column.dtype, pd.CategoricalDtype)
                or pd.api.types.is_object_dtype(column.dtype)
                or pd.api.types.is_string_dtype(column.dtype)):
            continue
        risky = _starts_formula(column)
        if not risky.any():
            continue
        column = column.astype(object)
        text = column.astype("string")
        risky = pd.Series(risky, index=column.index)
        risky[risky] = ~text[risky].str.fullmatch(_PLAIN_NUMBER).fillna(False).astype(bool)
        if risky.any():
            if out is frame:
                out = frame.copy()
            out[name] = column.where(~risky, "'" + text.astype(object))
    names = [f"'{c}" if isinstance(c, str) and c.startswith(FORMULA_TRIGGERS)
             and not re.fullmatch(_PLAIN_NUMBER, c) else c for c in out.columns]
    if names != list(out.columns):
        out = out.copy() if out is frame else out
        out.columns = names
    return out


_STARTS_FORMULA = r"^[=+\-@\t\r]"  # FORMULA_TRIGGERS, as one character class


def _starts_formula(column: pd.Series) -> np.ndarray:
    """Which cells of a text column begin with a formula trigger, as a boolean array.

    Text is scanned in Arrow; a categorical column through its few categories; an object column
    that holds anything but text, booleans and missing cells cell by cell, as pandas writes it.
    """
    if isinstance(column.dtype, pd.CategoricalDtype):
        per_category = _starts_formula(pd.Series(column.cat.categories.astype(object)))
        # code -1 (missing) takes the appended False
        return np.append(per_category, False)[column.cat.codes.to_numpy()]
    cells = _arrow_cells(column)
    if cells is not None and (pa.types.is_null(cells.type) or pa.types.is_boolean(cells.type)):
        return np.zeros(len(column), dtype=bool)  # missing, True or False: never a formula
    if cells is not None and (pa.types.is_string(cells.type)
                              or pa.types.is_large_string(cells.type)):
        return np.asarray(pc.fill_null(pc.match_substring_regex(cells, _STARTS_FORMULA), False),
                          dtype=bool)
    text = column.astype("string")
    return text.str.startswith(FORMULA_TRIGGERS).fillna(False).to_numpy(dtype=bool)


def _arrow_cells(column: pd.Series) -> pa.Array | pa.ChunkedArray | None:
    """A text or object column as an Arrow array of the type its cells share, or None."""
    if isinstance(column.dtype, pd.StringDtype) and column.dtype.storage == "pyarrow":
        return pa.array(column.array)
    if not pd.api.types.is_object_dtype(column.dtype):
        return None
    try:
        return pa.array(column.to_numpy(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None


def write_csv(frame: pd.DataFrame, path) -> None:
    """Write a table as UTF-8 CSV with Arrow's multi-threaded writer.

    Booleans are written ``true``/``false``, missing values as empty cells, text quoted only
    where needed, ``\\n`` line ends; the output is identical from run to run. Text cells a
    spreadsheet would run as a formula are neutralised first (:func:`neutralize_formulas`).
    Falls back to pandas for columns Arrow cannot type (mixed Python objects).
    """
    import pyarrow.csv as pacsv

    try:
        table = _plain_arrow_table(frame)
        if table is None:   # a cell or a name to neutralise, or a column of other objects
            table = pa.Table.from_pandas(neutralize_formulas(frame), preserve_index=False)
        columns = []
        for field, column in zip(table.schema, table.columns):
            if pa.types.is_dictionary(field.type):
                column = pc.cast(column, field.type.value_type)
            columns.append(column)
        table = pa.Table.from_arrays(columns, names=table.column_names)
        pacsv.write_csv(table, str(path),
                        write_options=pacsv.WriteOptions(quoting_style="needed",
                                                         include_header=True))
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        out = neutralize_formulas(frame).copy()
        for col in out.columns:
            if out[col].dtype == bool:
                out[col] = out[col].map({True: "true", False: "false"})
        out.to_csv(path, index=False, lineterminator="\n")


def _plain_arrow_table(frame: pd.DataFrame) -> pa.Table | None:
    """``frame`` as an Arrow table when :func:`neutralize_formulas` would leave it as it is
    (each text column converted to Arrow once, and scanned there), else None.

    A text column is scanned as :func:`_starts_formula` scans it: its Arrow text (a categorical
    column's categories); a text column Arrow types otherwise (numbers held as Python objects)
    is left to :func:`neutralize_formulas`.
    """
    if any(isinstance(c, str) and c.startswith(FORMULA_TRIGGERS) for c in frame.columns):
        return None
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for dtype, column in zip(frame.dtypes, table.columns):
        if not (isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_object_dtype(dtype)
                or pd.api.types.is_string_dtype(dtype)):
            continue
        kind = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
        if pa.types.is_null(kind) or pa.types.is_boolean(kind):
            continue
        if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
            return None
        chunks = column.chunks
        if pa.types.is_dictionary(column.type):
            chunks = [chunk.dictionary for chunk in chunks]
        if any(_any_starts_formula(chunk) for chunk in chunks):
            return None
    return table


_TRIGGER_BYTES = np.frombuffer("".join(FORMULA_TRIGGERS).encode("ascii"), dtype=np.uint8)


def _any_starts_formula(cells: pa.Array) -> bool:
    """Whether any cell of an Arrow text array begins with a formula trigger: the first byte
    of each non-empty cell, read from the array's buffers (the triggers are ASCII, so a
    first byte is a first character)."""
    if len(cells) == cells.null_count:
        return False
    validity, offsets, data = cells.buffers()[:3]
    kind = np.int64 if pa.types.is_large_string(cells.type) else np.int32
    offsets = np.frombuffer(offsets, dtype=kind)[cells.offset:cells.offset + len(cells) + 1]
    starts = offsets[:-1]
    filled = offsets[1:] > starts
    if cells.null_count:
        filled &= cells.is_valid().to_numpy(zero_copy_only=False)
    if data is None or not filled.any():
        return False
    return bool(np.isin(np.frombuffer(data, dtype=np.uint8)[starts[filled]],
                        _TRIGGER_BYTES).any())


def map_distinct(keys: pd.Series, mapping) -> pd.Series:
    """``keys.map(mapping)``, the mapping looked up once per distinct key.

    A column of names (muscles, nerves, sites) repeats a few dozen texts over many rows: each
    distinct text is looked up, and the results are broadcast to the rows by position.
    """
    if not len(keys):
        return keys.map(mapping)
    codes, distinct = pd.factorize(keys, use_na_sentinel=False)
    mapped = pd.Series(distinct, dtype=keys.dtype).map(mapping)
    return mapped.take(codes).set_axis(keys.index).rename(keys.name)


def map_text(keys: pd.Series, mapping: pd.Series) -> pd.Series:
    """``keys.map(mapping)`` as text, ``""`` where a key has no entry (also when ``mapping`` is
    empty, where pandas would otherwise return a float column)."""
    out = keys.map(mapping)
    return out.astype(object).where(out.notna(), "")


def isin(values: pd.Series | pd.Index, keys: Any) -> np.ndarray:
    """``values.isin(keys)`` as a bool array, in milliseconds for any number of keys.

    pandas' ``isin`` on Arrow-backed text turns every key into an Arrow scalar one at a time
    (about 0.5 s for 100,000 patient ids); here both sides are hashed as Arrow arrays. Values
    of another kind (numbers against text, objects) fall back to pandas.
    """
    try:
        left = pa.array(values, from_pandas=True)
        right = pa.array(keys, from_pandas=True)
        if left.type != right.type:
            if not (_is_text(left.type) and _is_text(right.type)
                    or pa.types.is_null(right.type)):
                raise TypeError("keys of another kind")
            right = right.cast(left.type)
        hit = pc.is_in(left, value_set=right)
    except (pa.ArrowException, TypeError, ValueError):
        return np.asarray(pd.Series(values).isin(pd.Series(keys)), dtype=bool)
    return np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool)


def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)
