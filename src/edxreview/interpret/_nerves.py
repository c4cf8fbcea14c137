"""Nerve-level readings: every NCS value against its limit, then each nerve's reading.

All work is on whole tables: values are melted into one long table, joined to the reference
limits, flagged, and aggregated per patient, nerve and side.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._check import check_type
from .._tables import map_distinct
from ..io import Study
from ..knowledge import Anatomy, ReferenceSet

_PARAMS = {
    "ncs_motor": ("motor", [("latency_ms", "ms"), ("amplitude_mv", "mV"), ("velocity_m_s", "m/s")]),
    "ncs_sensory": ("sensory", [("latency_ms", "ms"), ("amplitude_uv", "µV"), ("velocity_m_s", "m/s")]),
    "f_waves": ("f_wave", [("min_latency_ms", "ms")]),
}

VALUE_COLUMNS = [
    "patient_id", "study", "nerve", "side", "site", "recording_site", "parameter", "value",
    "no_response", "unit", "bound", "limit", "percent_of_limit", "abnormal", "flag",
    "reference", "source", "reference_status", "reference_row", "sheet", "row",
    "height_assumed_cm",
]


#: values judged by the limit row of another parameter: the ipsilateral and the contralateral
#: R2, each compared between the two stimulated sides, are two values with one limit (the
#: reference's R2 side difference: "same R2 compared between sides")
LIMIT_PARAMETER = {"r2_ipsi_side_diff_ms": "r2_side_diff_ms",
                   "r2_contra_side_diff_ms": "r2_side_diff_ms"}

#: marks a motor table already put in conduction order by :func:`_motor_sequence`
_SEQUENCED = "edxreview_motor_sequence"


def _motor_sequence(motor: pd.DataFrame, anatomy: Anatomy) -> pd.DataFrame:
    """Order motor rows distal → proximal within each nerve study and add segment columns.

    A table this function returned is returned as it is (the values and the nerve readings of
    one study share it; see :func:`edxreview._pipeline.classify_study`).
    """
    if motor.attrs.get(_SEQUENCED):
        return motor
    m = motor.copy()
    default_rec = anatomy.nerves["default_recording_site"].replace("", np.nan)
    m["recording_site"] = m["recording_site"].fillna(map_distinct(m["nerve"], default_rec))
    ranks = anatomy.sites.set_index(["nerve", "site"])["site_rank"]
    idx = pd.MultiIndex.from_arrays([m["nerve"], m["stim_site"]])
    m["site_rank"] = ranks.reindex(idx).to_numpy()
    m["_order"] = np.arange(len(m))
    key = ["patient_id", "nerve", "side", "recording_site"]
    gid = m.groupby(key, dropna=False, sort=False).ngroup().to_numpy()
    # order by site rank (distal first) when every site of the study is known, else by row order
    unknown = np.bincount(gid, weights=m["site_rank"].isna().to_numpy(), minlength=gid.max() + 1 if len(gid) else 0)
    all_known = unknown[gid] == 0 if len(gid) else np.zeros(0, dtype=bool)
    rank_sort = np.where(all_known, -m["site_rank"].fillna(0).to_numpy(), m["_order"].to_numpy())
    order = np.lexsort((m["_order"].to_numpy(), rank_sort, gid))
    m = m.iloc[order].reset_index(drop=True)
    g_sorted = gid[order]
    n = len(m)
    new_group = np.ones(n, dtype=bool)
    new_group[1:] = g_sorted[1:] != g_sorted[:-1]
    starts = np.flatnonzero(new_group)
    first = np.repeat(starts, np.diff(np.append(starts, n))) if n else np.zeros(0, dtype=int)
    m["seq"] = np.arange(n) - first
    # the recording's number (one per patient, nerve, side and recording site, missing keys
    # included): the readings join a recording's rows on it rather than on its four texts
    m["_rec"] = g_sorted
    m["distal_amplitude_mv"] = m["amplitude_mv"].to_numpy()[first]
    m["distal_amplitude_nr"] = m["amplitude_mv_nr"].to_numpy()[first]
    prev = np.arange(n) - 1
    has_prev = ~new_group
    for col, name in (("stim_site", "prev_site"), ("site_rank", "prev_site_rank"),
                      ("velocity_m_s", "prev_velocity_m_s")):
        arr = m[col].to_numpy()
        shifted = np.empty(n, dtype=object if arr.dtype == object else float)
        shifted[:] = None if arr.dtype == object else np.nan
        shifted[has_prev] = arr[prev[has_prev]]
        m[name] = shifted
    m["amplitude_ratio"] = m["amplitude_mv"] / m["distal_amplitude_mv"]
    m = m.drop(columns=["_order"])
    m.attrs[_SEQUENCED] = True
    return m


def _demographics(study: Study) -> pd.DataFrame:
    p = study.tables["patients"]
    return p[["patient_id", "age_years", "height_cm"]].drop_duplicates("patient_id")


def _attach_limits(values: pd.DataFrame, reference: ReferenceSet) -> pd.DataFrame:
    """Join each value to its limit (matching study, nerve, recording site, parameter, age).

    Motor limits depend on the muscle recorded. A sensory value whose recording site is one
    of ``sensory_recording_sites.csv`` (``_limit_rec``: the median to the thumb, index or
    middle finger) takes the limit of that recording site, or a limit whose recording site
    is blank (any site); a digit-2 limit is never applied to the thumb. Other sensory values
    take the nerve's limit whatever the recording site.

    The join is done on the few distinct (study, nerve, recording site, parameter) keys, then
    broadcast to the values by integer position, so it stays cheap for millions of values.
    """
    lim = reference.limits.copy()
    lim["_rec"] = lim["recording_site"].fillna("").astype(str)
    lim = lim.reset_index(drop=True)
    lim["_lid"] = np.arange(len(lim))
    # key codes from the columns' own factorisation: no Python object per cell
    is_motor = values["study"].eq("motor").to_numpy()
    is_blink = values["study"].eq("blink").to_numpy()
    site_known = (values["_limit_rec"].notna().to_numpy() if "_limit_rec" in values
                  else np.zeros(len(values), dtype=bool))
    by_site = is_motor | site_known
    rec = values["recording_site"].astype(object).where(~site_known, values.get("_limit_rec"))
    codes = []
    for col in ("study", "nerve", "_rec_key", "parameter"):
        c, _ = pd.factorize(rec if col == "_rec_key" else values[col], use_na_sentinel=True)
        codes.append(c.astype(np.int64) + 1)
    codes[1] = np.where(is_blink, 0, codes[1])      # blink limits are filed under 'facial'
    codes[2] = np.where(by_site, codes[2], 0)       # motor: the muscle; sensory: a known digit
    key = codes[0]
    for c in codes[1:]:
        key = key * (int(c.max(initial=0)) + 1) + c
    combo, _ = pd.factorize(key)
    first = pd.Series(np.arange(len(combo))).groupby(combo).first().to_numpy()

    def at_first(col: str) -> np.ndarray:  # the key's texts, from its first value's row
        return values[col].take(first).astype(object).to_numpy()

    uniq = pd.DataFrame({
        "study": at_first("study"),
        "_nerve": np.where(is_blink[first], "facial", at_first("nerve")),
        "_rec": np.where(by_site[first], rec.take(first).to_numpy(), ""),
        "_site_known": site_known[first],
        "parameter": pd.Series(at_first("parameter")).replace(LIMIT_PARAMETER).to_numpy(),
        "_combo": np.arange(len(first))})
    uniq["_rec"] = uniq["_rec"].where(uniq["_rec"].notna(), "")
    limk = lim.rename(columns={"nerve": "_nerve"})
    exact = uniq.merge(limk[["study", "_nerve", "_rec", "parameter", "_lid"]],
                       on=["study", "_nerve", "_rec", "parameter"], how="inner")
    generic_lim = limk.sort_values("_rec").drop_duplicates(
        ["study", "_nerve", "parameter", "bound", "age_min_years", "age_max_years"])
    rest = uniq[~uniq["_combo"].isin(exact["_combo"]) & uniq["study"].ne("motor")]
    generic = rest.merge(generic_lim[["study", "_nerve", "parameter", "_lid", "_rec"]].rename(
        columns={"_rec": "_lim_rec"}), on=["study", "_nerve", "parameter"], how="inner")
    # a response recorded at a known site other than the limit's takes no limit from it
    generic = generic[~generic["_site_known"] | generic["_lim_rec"].eq("")]
    cand = pd.concat([exact[["_combo", "_lid"]], generic[["_combo", "_lid"]]], ignore_index=True)
    # per value: candidate limit rows of its key, then the age band that contains its age
    per_value = pd.DataFrame({"_vid": np.arange(len(values)), "_combo": combo})
    j = per_value.merge(cand, on="_combo", how="inner")
    lid = j["_lid"].to_numpy()
    vid = j["_vid"].to_numpy()
    age = values["age_years"].to_numpy(dtype=float)[vid]
    amin = lim["age_min_years"].to_numpy(dtype=float)[lid]
    amax = lim["age_max_years"].to_numpy(dtype=float)[lid]
    ok = (np.isnan(amin) | (age >= amin)) & (np.isnan(amax) | (age < amax))
    ok |= np.isnan(age) & np.isnan(amin) & np.isnan(amax)
    vid, lid = vid[ok], lid[ok]
    # one limit per value: lower bounds sort before upper
    bound_rank, _ = pd.factorize(lim["bound"], sort=True)  # integers in the texts' order
    order = np.lexsort((bound_rank[lid], vid))
    vid, lid = vid[order], lid[order]
    first = np.ones(len(vid), dtype=bool)
    first[1:] = vid[1:] != vid[:-1]
    vid, lid = vid[first], lid[first]
    n = len(values)
    limit = np.full(n, np.nan)
    slope = np.nan_to_num(lim["height_slope_ms_per_cm"].to_numpy(dtype=float)[lid])
    height = values["height_cm"].to_numpy(dtype=float)[vid]
    height_ref = lim["height_ref_cm"].to_numpy(dtype=float)[lid]
    shift = slope * (height - height_ref)
    limit[vid] = lim["limit"].to_numpy(dtype=float)[lid] + np.nan_to_num(shift)
    # a height-adjusted limit of a patient whose height is not given is the limit at the
    # row's reference height: said beside the value, and warned of (height_warnings)
    assumed = np.full(n, np.nan)
    assumed[vid] = np.where((slope != 0) & np.isnan(height), height_ref, np.nan)
    codes = np.full(n, -1)
    codes[vid] = lid
    out = values  # a frame built by flag_values for this call: filled in place
    out["limit"] = limit
    out["height_assumed_cm"] = assumed
    for col, name in (("bound", "bound"), ("source", "source"), ("status", "reference_status")):
        cats = lim[col].astype(str)
        out[name] = _from_codes(codes, cats.to_numpy())
    # the limit's row in its file as a spreadsheet shows it (header = row 1)
    row = pd.array(codes + 2, dtype="Int64")
    row[codes < 0] = pd.NA
    out["reference_row"] = row
    return out


def _from_codes(codes: np.ndarray, labels: np.ndarray) -> pd.Categorical:
    """Categorical of ``labels[codes]`` (``-1`` → missing) without materialising strings."""
    cats, inverse = np.unique(labels, return_inverse=True)
    mapped = np.where(codes >= 0, inverse[np.clip(codes, 0, None)], -1)
    return pd.Categorical.from_codes(mapped, categories=cats)


def flag_values(study: Study, reference: ReferenceSet, anatomy: Anatomy) -> pd.DataFrame:
    """Every NCS value beside its reference limit.

    Parameters
    ----------
    study : Study
        From :func:`edxreview.io.load_study`.
    reference : ReferenceSet
        From :func:`edxreview.knowledge.load_reference`.
    anatomy : Anatomy
        From :func:`edxreview.knowledge.load_anatomy`.

    Returns
    -------
    DataFrame
        One row per measured value: ``patient_id, study, nerve, side, site, recording_site,
        parameter, value, no_response, unit, bound, limit, percent_of_limit, abnormal, flag,
        reference, source, reference_status, reference_row, sheet, row, height_assumed_cm``.
        ``flag`` is ``low``, ``high``, ``absent``, ``normal`` or ``no_reference``. Motor latency
        and amplitude are judged at the distal site only; velocities on every segment.
        ``height_assumed_cm``: where the limit depends on height (a reference row with a
        height slope, e.g. the F-wave latencies) and the patient's ``height_cm`` is not given,
        the reference height whose limit was used; blank otherwise.

    Raises
    ------
    InvalidParameterError
        An argument is not of the type listed above (checked before any work).

    Examples
    --------
    >>> import edxreview
    >>> from edxreview.knowledge import load_anatomy, load_reference
    >>> study = edxreview.io.load_study(edxreview.demo_path())
    >>> values = edxreview.interpret.flag_values(study, load_reference(), load_anatomy())
    >>> sorted(values["flag"].unique())  # doctest: +NORMALIZE_WHITESPACE
    ['absent', 'high', 'low', 'normal']
    """
    check_type('study', study, Study, 'a Study from edxreview.io.load_study')
    check_type('reference', reference, ReferenceSet, 'a ReferenceSet from edxreview.knowledge.load_reference')
    check_type('anatomy', anatomy, Anatomy, 'the Anatomy from edxreview.knowledge.load_anatomy')
    demo = _demographics(study)
    frames = []
    motor = _motor_sequence(study.tables["ncs_motor"], anatomy)
    for sheet, (kind, params) in _PARAMS.items():
        table = motor if sheet == "ncs_motor" else study.tables[sheet]
        if not len(table):
            continue
        for param, unit in params:
            sub = table
            if sheet == "ncs_motor" and param != "velocity_m_s":
                sub = table[table["seq"] == 0]
            nr_col = f"{param}_nr"
            nr = sub[nr_col] if nr_col in sub else pd.Series(False, index=sub.index)
            present = sub[param].notna() | nr.fillna(False)
            sub = sub[present]
            nr = nr[present]
            # text columns are passed as their arrays: no round trip through Python objects
            frames.append(pd.DataFrame({
                "patient_id": sub["patient_id"].array,
                "study": kind,
                "nerve": sub["nerve"].array,
                "side": sub["side"].array,
                "site": (sub["stim_site"] if "stim_site" in sub else pd.Series(None, index=sub.index, dtype="str")).array,
                "recording_site": (sub["recording_site"] if "recording_site" in sub
                                   else pd.Series(None, index=sub.index, dtype="str")).array,
                "parameter": param,
                "value": sub[param].to_numpy(dtype=float),
                "no_response": nr.fillna(False).to_numpy(dtype=bool),
                "unit": unit,
                "sheet": sheet,
                "row": sub["_row"].to_numpy(),
            }))
    blink = study.tables["blink_reflex"]
    if len(blink):
        for param in ("r1_ms", "r2_ipsi_ms", "r2_contra_ms"):
            present = blink[param].notna() | blink[f"{param}_nr"].fillna(False)
            sub = blink[present]
            frames.append(pd.DataFrame({
                "patient_id": sub["patient_id"].to_numpy(), "study": "blink",
                "nerve": "blink_reflex", "side": sub["side"].to_numpy(), "site": "supraorbital",
                "recording_site": "orbicularis_oculi", "parameter": param,
                "value": sub[param].to_numpy(dtype=float),
                "no_response": sub[f"{param}_nr"].fillna(False).to_numpy(dtype=bool),
                "unit": "ms", "sheet": "blink_reflex", "row": sub["_row"].to_numpy()}))
        frames.append(_blink_differences(blink))
    if not frames:
        return pd.DataFrame(columns=VALUE_COLUMNS)
    values = pd.concat(frames, ignore_index=True)
    demo = demo.set_index("patient_id")
    values["age_years"] = values["patient_id"].map(demo["age_years"])
    values["height_cm"] = values["patient_id"].map(demo["height_cm"])
    sensory = values["study"].eq("sensory")
    values["_limit_rec"] = anatomy.sensory_recording_sites(values["nerve"], values["recording_site"]
                                                           ).where(sensory)
    values = _attach_limits(values, reference)
    limit = values["limit"]
    lower = values["bound"].eq("lower")
    upper = values["bound"].eq("upper")
    with np.errstate(invalid="ignore", divide="ignore"):
        values["percent_of_limit"] = np.round(100.0 * values["value"] / limit, 1)
    low = lower & (values["value"] < limit)
    high = upper & (values["value"] > limit)
    absent = values["no_response"]
    values["abnormal"] = (low | high | absent).fillna(False).astype(bool)
    flags = ["normal", "absent", "no_reference", "low", "high"]
    values["flag"] = pd.Categorical.from_codes(
        np.select([absent, limit.isna(), low, high], [1, 2, 3, 4], 0), categories=flags)
    values.loc[absent, "abnormal"] = True
    values["reference"] = pd.Categorical.from_codes(limit.notna().to_numpy().astype(int),
                                                    categories=["", reference.label])
    values = _side_ratios(values, reference)
    values = values[VALUE_COLUMNS + ["age_years"]].reset_index(drop=True)
    # columns with a handful of distinct values are stored as categories: a registry's value
    # table holds millions of rows
    for col in ("study", "parameter", "unit", "sheet"):
        values[col] = values[col].astype("category")
    return values


def _blink_differences(blink: pd.DataFrame) -> pd.DataFrame:
    rows = []
    b = blink.copy()
    b["r2_ipsi_contra_diff_ms"] = (b["r2_ipsi_ms"] - b["r2_contra_ms"]).abs()
    rows.append(pd.DataFrame({
        "patient_id": b["patient_id"], "study": "blink", "nerve": "blink_reflex", "side": b["side"],
        "site": "supraorbital", "recording_site": "orbicularis_oculi",
        "parameter": "r2_ipsi_contra_diff_ms", "value": b["r2_ipsi_contra_diff_ms"],
        "no_response": False, "unit": "ms", "sheet": "blink_reflex", "row": b["_row"]}))
    wide = b.pivot_table(index="patient_id", columns="side",
                         values=["r1_ms", "r2_ipsi_ms", "r2_contra_ms"], aggfunc="first")
    if {("r1_ms", "L"), ("r1_ms", "R")} <= set(wide.columns):
        r1 = (wide[("r1_ms", "L")] - wide[("r1_ms", "R")]).abs()
        rows.append(pd.DataFrame({
            "patient_id": r1.index, "study": "blink", "nerve": "blink_reflex",
            "side": np.where(wide[("r1_ms", "L")] > wide[("r1_ms", "R")], "L", "R"),
            "site": "supraorbital", "recording_site": "orbicularis_oculi",
            "parameter": "r1_side_diff_ms", "value": r1.to_numpy(), "no_response": False,
            "unit": "ms", "sheet": "blink_reflex", "row": np.nan}))
        # each R2 compared between the two stimulated sides: two values, named apart
        for p, diff in (("r2_ipsi_ms", "r2_ipsi_side_diff_ms"),
                        ("r2_contra_ms", "r2_contra_side_diff_ms")):
            if {(p, "L"), (p, "R")} <= set(wide.columns):
                d = (wide[(p, "L")] - wide[(p, "R")]).abs()
                rows.append(pd.DataFrame({
                    "patient_id": d.index, "study": "blink", "nerve": "blink_reflex",
                    "side": np.where(wide[(p, "L")] > wide[(p, "R")], "L", "R"),
                    "site": "supraorbital", "recording_site": "orbicularis_oculi",
                    "parameter": diff, "value": d.to_numpy(), "no_response": False,
                    "unit": "ms", "sheet": "blink_reflex", "row": np.nan}))
    out = pd.concat(rows, ignore_index=True)
    return out[out["value"].notna()]


def _side_ratios(values: pd.DataFrame, reference: ReferenceSet) -> pd.DataFrame:
    """CMAP amplitude as a fraction of the other side's, for every nerve whose reference set has
    an ``amplitude_side_ratio`` row (facial, femoral, or any lab row marked so; spec §4.1)."""
    lim = reference.limits
    ratio_lim = lim[lim["parameter"].eq("amplitude_side_ratio") & lim["study"].eq("motor")]
    ratio_lim = ratio_lim.assign(
        reference_row=[int(lim.index.get_loc(i)) + 2 for i in ratio_lim.index]
    ).drop_duplicates("nerve").set_index("nerve")
    amp = values[values["study"].eq("motor") & values["parameter"].eq("amplitude_mv")
                 & values["nerve"].isin(ratio_lim.index)]
    if ratio_lim.empty or amp.empty:
        return values
    per_side = amp.assign(v=amp["value"].where(~amp["no_response"], 0.0)).groupby(
        ["patient_id", "nerve", "side"], observed=True)["v"].max().unstack()
    if not {"L", "R"} <= set(per_side.columns):
        return values
    per_side = per_side[["L", "R"]].dropna()
    rows = []
    for side, other in (("L", "R"), ("R", "L")):
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = per_side[side] / per_side[other]
        ratio = ratio[np.isfinite(ratio)]
        nerve = ratio.index.get_level_values("nerve")
        limit = ratio_lim["limit"].reindex(nerve).to_numpy(dtype=float)
        rows.append(pd.DataFrame({
            "patient_id": ratio.index.get_level_values("patient_id"), "study": "motor",
            "nerve": nerve, "side": side, "site": None,
            "recording_site": None, "parameter": "amplitude_side_ratio",
            "value": ratio.round(3).to_numpy(), "no_response": False, "unit": "ratio",
            "bound": "lower", "limit": limit,
            "percent_of_limit": np.round(100 * ratio.to_numpy() / limit, 1),
            "abnormal": ratio.to_numpy() < limit,
            "flag": np.where(ratio.to_numpy() < limit, "low", "normal"),
            "reference": reference.label,
            "source": ratio_lim["source"].reindex(nerve).to_numpy(),
            "reference_status": ratio_lim["status"].reindex(nerve).to_numpy(),
            "reference_row": ratio_lim["reference_row"].reindex(nerve).to_numpy(),
            "sheet": "ncs_motor", "row": np.nan}))
    return _append(values, pd.concat(rows, ignore_index=True))


def _append(values: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """``values`` with ``rows`` below, its categorical columns kept categorical (a concat of a
    category column with text would turn every one of its cells into a string)."""
    rows = rows.copy()
    for col in values.columns:
        if isinstance(values[col].dtype, pd.CategoricalDtype) and col in rows:
            new = pd.Index(rows[col].dropna().unique()).difference(values[col].cat.categories)
            if len(new):
                values[col] = values[col].cat.add_categories(new)
            rows[col] = pd.Categorical(rows[col], categories=values[col].cat.categories)
    return pd.concat([values, rows], ignore_index=True)
