"""The segmental map's data: its columns (nuclei, cord segments) and each patient's cells.

Kept apart from the drawing (:mod:`edxreview.report._figures`), without matplotlib: a
registry's partitions count the map's cells in worker processes that draw nothing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..knowledge._tables import load_brainstem_nuclei, load_segments

#: most patients drawn one row each on the segmental map
SEGMENT_MAP_MAX_ROWS = 80


def segment_columns(muscles: pd.DataFrame | None = None) -> pd.DataFrame:
    """Columns of the segmental map: cranial motor nuclei, then cord segments C1–S5.

    Nuclei are those that supply a muscle in the anatomy table or appear in ``muscles``.

    Returns
    -------
    DataFrame
        ``label`` (shown), ``key`` (nucleus name or segment) and ``position`` on the axis of
        ``segments.csv`` (a nucleus takes the position of its brainstem level).
    """
    seg = load_segments()
    nuclei = load_brainstem_nuclei()
    seen = set() if muscles is None else set(muscles["nucleus"].dropna().astype(str))
    supplies = nuclei["muscles"].fillna("").astype(str).str.strip() != ""
    nuclei = nuclei[supplies | nuclei["nucleus"].isin(seen)]
    rows = [{"label": f"{cn.split('|')[0]} ({lvl})", "key": nuc,
             "position": int(seg.loc[lvl, "position"])}
            for lvl, nuc, cn in zip(nuclei["level"], nuclei["nucleus"], nuclei["cranial_nerve"])]
    rows += [{"label": s, "key": s, "position": int(seg.loc[s, "position"])}
             for s in seg.index if seg.loc[s, "region"] not in ("brainstem", "coccygeal")]
    return pd.DataFrame(rows)


def segment_cells(muscles: pd.DataFrame, lesions: pd.DataFrame,
                  columns: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Denervated nuclei/segments (explained / unexplained) and MRI lesion columns per patient.

    Returns
    -------
    denervated : DataFrame
        ``patient_id, segment, unexplained`` (a column with any muscle not accounted for by
        NCS is unexplained); ``segment`` is a column ``key``.
    mri : DataFrame
        ``patient_id, segment`` covered by a brainstem or cord lesion.
    """
    cols = segment_columns(muscles) if columns is None else columns
    den = muscles.loc[muscles["denervation"].astype(bool),
                      ["patient_id", "segments", "nucleus", "explained_by_ncs"]]
    # split each distinct segment list ("C5|C6") once, then repeat rows by its length
    code, lists = pd.factorize(den["nucleus"].where(den["nucleus"].notna(), den["segments"]))
    parts = pd.Series(lists, dtype=object).astype(str).str.split("|").explode()
    parts = parts[parts.isin(cols["key"])]
    per_list = np.append(parts.groupby(level=0).size().reindex(
        range(len(lists)), fill_value=0).to_numpy(), 0)      # code -1 (missing): none
    n = per_list[code]
    row = np.repeat(np.arange(len(den)), n)
    first = (np.cumsum(per_list) - per_list)[code]
    part = np.repeat(first, n) + np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    den = pd.DataFrame({
        "patient_id": den["patient_id"].to_numpy()[row],
        "segment": parts.to_numpy()[part],
        "unexplained": ~den["explained_by_ncs"].to_numpy(dtype=bool)[row]})
    den = den.groupby(["patient_id", "segment"], as_index=False)["unexplained"].any()
    if len(lesions):
        les = lesions[["patient_id", "pos_min", "pos_max"]].dropna()
        mri = _covered_columns(les, cols)
    else:
        mri = pd.DataFrame(columns=["patient_id", "segment"])
    return den, mri


def _covered_columns(lesions: pd.DataFrame, cols: pd.DataFrame) -> pd.DataFrame:
    """``patient_id, segment`` of every column whose position lies within a lesion.

    Each lesion covers a run of columns sorted by position, found by binary search and
    expanded with ``np.repeat`` (a cross join of lesions × columns needs 40 rows per lesion).
    Rows come lesion by lesion, columns in ``cols`` order, first occurrence kept.
    """
    pos = cols["position"].to_numpy(dtype=float)
    order = np.argsort(pos, kind="stable")
    lo = np.searchsorted(pos[order], lesions["pos_min"].to_numpy(dtype=float), "left")
    hi = np.searchsorted(pos[order], lesions["pos_max"].to_numpy(dtype=float), "right")
    n = np.clip(hi - lo, 0, None)
    which = np.repeat(np.arange(len(lesions)), n)
    col = order[np.repeat(lo, n) + np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)]
    sort = np.lexsort((col, which))
    mri = pd.DataFrame({"patient_id": lesions["patient_id"].iloc[which[sort]]
                        .reset_index(drop=True),     # stays Arrow text: no Python strings
                        "segment": cols["key"].to_numpy()[col[sort]]})
    return mri.drop_duplicates().reset_index(drop=True)
