"""MRI lesions → cord segments / brainstem levels on one ordered axis."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..knowledge._tables import load_segments, load_vertebra_map, vertebral_levels

def lesion_segments(mri: pd.DataFrame) -> pd.DataFrame:
    """Convert brainstem and spinal-cord lesions to a span of the segment axis.

    Vertebral body levels are converted with the bundled vertebra → cord segment table
    (cervical about +1, thoracic about +2, lumbar enlargement behind T10–T12, conus at L1); a
    brainstem lesion spans its levels (midbrain, pons, medulla).

    Returns
    -------
    DataFrame
        One row per brainstem or cord lesion: ``patient_id, region, level_from, level_to,
        pos_min, pos_max, segments_text`` (positions on the axis of ``segments.csv``).
    """
    cols = ["patient_id", "region", "level_from", "level_to", "pos_min", "pos_max", "segments_text"]
    if not len(mri):
        return pd.DataFrame(columns=cols)
    seg = load_segments()
    pos_of = seg["position"]
    name_of = pd.Series(seg.index, index=seg["position"].to_numpy())
    vmap = load_vertebra_map()
    vertebrae = vertebral_levels()
    order = {v: i for i, v in enumerate(vertebrae)}
    brainstem = set(seg.index[seg["region"] == "brainstem"])
    lesions = mri[mri["region"].isin(["brainstem", "spinal_cord"]) & mri["level_from"].notna()].copy()
    lesions["level_to"] = lesions["level_to"].fillna(lesions["level_from"])

    def span(level: str) -> tuple[float, float]:
        if level in brainstem:
            p = float(pos_of[level])
            return p, p
        if level in vmap.index and bool(vmap.at[level, "cord"]):
            segs = vmap.at[level, "segments_main_list"]
            ps = [pos_of[s] for s in segs if s in pos_of.index]
            if ps:
                return float(min(ps)), float(max(ps))
        return np.nan, np.nan

    # the span of every level a lesion names and of every vertebra, each computed once
    levels = [*pd.unique(pd.concat([lesions["level_from"], lesions["level_to"]])), *vertebrae]
    spans = {lv: span(lv) for lv in levels}
    # every vertebra between from and to contributes (a long lesion spans all of them)
    def full_span(a: str, b: str) -> tuple[float, float]:
        if a in order and b in order:
            lo, hi = sorted((order[a], order[b]))
            verts = vertebrae[lo:hi + 1]
        else:
            verts = [a, b]
        ps = [p for v in verts for p in spans[v] if not np.isnan(p)]
        return (min(ps), max(ps)) if ps else (np.nan, np.nan)

    pairs = lesions[["level_from", "level_to"]].drop_duplicates()
    spans = [full_span(a, b) for a, b in zip(pairs["level_from"], pairs["level_to"])]
    pairs = pairs.assign(pos_min=[lo for lo, _ in spans], pos_max=[hi for _, hi in spans])
    lesions = lesions.merge(pairs, on=["level_from", "level_to"], how="left")
    has_cord = lesions["pos_min"].notna()
    lo = lesions["pos_min"].fillna(0).astype(int).map(name_of)
    hi = lesions["pos_max"].fillna(0).astype(int).map(name_of)
    level_txt = np.where(lesions["level_from"] == lesions["level_to"], lesions["level_from"],
                         lesions["level_from"] + "-" + lesions["level_to"])
    # below the conus there is no cord: the lesion is reported, it just covers no segment
    lesions["segments_text"] = np.where(
        has_cord, np.where(lo == hi, lo, lo + "-" + hi),
        pd.Series(level_txt, index=lesions.index) + " vertebral (cauda equina, no cord segment)")
    return lesions[cols].reset_index(drop=True)


def format_segments(positions: pd.Series) -> str:
    """Contiguous runs of axis positions as text, e.g. ``C5-C7, L4-S1``."""
    runs = format_segment_runs(pd.Series(0, index=range(len(positions))),
                               pd.Series(np.asarray(positions, dtype=float)))
    return str(runs.iloc[0]) if len(runs) else ""


def format_segment_runs(keys: pd.Series, positions: pd.Series) -> pd.Series:
    """Contiguous runs of axis positions as text (``C5-C7, L4``), one text per key."""
    from .._tables import group_join

    seg = load_segments()
    names = np.asarray(seg.index, dtype=object)[np.argsort(seg["position"].to_numpy())]
    frame = pd.DataFrame({"k": np.asarray(keys), "p": np.asarray(positions, dtype=float)})
    frame = frame[frame["p"].notna()].drop_duplicates().sort_values(["k", "p"], kind="stable")
    if not len(frame):
        return pd.Series(dtype=object)
    k = frame["k"].to_numpy()
    p = frame["p"].to_numpy().astype(int)
    start = np.ones(len(p), dtype=bool)
    start[1:] = (k[1:] != k[:-1]) | (p[1:] != p[:-1] + 1)
    run_id = np.cumsum(start) - 1
    first = p[start]
    last = np.zeros(len(first), dtype=int)
    np.maximum.at(last, run_id, p)
    text = np.where(first == last, names[first], names[first].astype(object) + "-" + names[last].astype(object))
    return group_join(k[start], text, sep=", ")
