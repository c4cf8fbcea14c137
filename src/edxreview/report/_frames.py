"""Whole-table helpers of the report that stay fast at registry size."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def split_records(frame: pd.DataFrame, columns: list[str],
                  key: str = "patient_id") -> dict[Any, list[dict[str, Any]]]:
    """Rows of ``frame`` as dicts of ``columns``, split by ``key`` in one pass.

    Each group keeps the order of its rows in ``frame``.
    """
    if not len(frame):
        return {}
    codes, uniques = pd.factorize(frame[key], sort=False)
    order = np.argsort(codes, kind="stable")
    # Series.tolist is one Arrow/NumPy conversion per column; to_dict("records") walks Arrow
    # text one value at a time
    values = [frame[c].iloc[order].tolist() for c in columns]
    records = [dict(zip(columns, row)) for row in zip(*values)]
    bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
    return {k: records[a:b] for k, a, b in zip(uniques.tolist(), bounds[:-1].tolist(),
                                               bounds[1:].tolist())}


def count_rows(frame: pd.DataFrame, columns: list[str],
               keep_missing: tuple[str, ...] = ()) -> pd.DataFrame:
    """Distinct combinations of ``columns`` with their number of rows (``n``).

    Like ``frame.groupby(columns).size()``, but each column is factorized on its own and the
    codes combined into one integer key, so a million rows of Arrow text are counted without
    a Python string per row. Rows missing a value are left out, except in the columns named in
    ``keep_missing``, where a missing value is its own group. Combinations come sorted by
    their codes (first appearance of each value). A ``frame`` that already counts rows (a
    column ``n`` not among ``columns``, as a registry's partitions return) has its counts
    summed.
    """
    weights = frame["n"].to_numpy() if "n" in frame.columns and "n" not in columns else None
    codes, levels, radix = [], [], 1
    for c in columns:
        code, uniques = pd.factorize(frame[c], use_na_sentinel=True)
        codes.append(code)
        levels.append(uniques)
        radix *= len(uniques) + 1
    if radix >= 2 ** 62:              # too many combinations for one int64 key
        groups = frame.groupby(columns, dropna=False, sort=False, observed=True)
        sizes = groups.size() if weights is None else groups["n"].sum()
        return sizes.reset_index(name="n").dropna(
            subset=[c for c in columns if c not in keep_missing])
    key = np.zeros(len(frame), dtype=np.int64)
    for code, uniques in zip(codes, levels):
        key = key * (len(uniques) + 1) + (code + 1)      # missing (-1) -> 0
    keys, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    if weights is not None:   # a table of counts already (``n``): their sums
        counts = np.bincount(inverse.ravel(), weights=weights, minlength=len(keys)).astype(
            np.int64)
    out = {}
    for c, uniques in zip(reversed(columns), reversed(levels)):
        code = keys % (len(uniques) + 1) - 1
        keys = keys // (len(uniques) + 1)
        out[c] = pd.Series(uniques).reindex(code).reset_index(drop=True)   # -1 -> missing
    result = pd.DataFrame({c: out[c] for c in columns}).assign(n=counts)
    return result.dropna(subset=[c for c in columns if c not in keep_missing]) \
        .reset_index(drop=True)
