"""The study's patient-level logic: denervation, neuropathy, explained denervation, lower motor
neuron involvement and the corresponding MRI lesion (specification §4).

Everything is a join or a group-by over whole tables; the only per-patient Python work is the
formatting of text for patients who need it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..io import Study
from ..knowledge import Anatomy, load_segments
from .._tables import group_join, join_nonempty, map_text
from ._mri import format_segment_runs, lesion_segments

PATIENT_COLUMNS = [
    "patient_id", "included", "exclusion_reason", "emg_denervation", "denervation_type",
    "denervated_muscles", "ncs_neuropathy", "neuropathy_pattern", "abnormal_nerves",
    "denervation_explained_by_ncs", "ncs_abnormal_without_denervation", "lmn_involvement",
    "lmn_segments", "mri_cord_segments", "lmn_with_corresponding_mri", "explanation",
]

CLASSIFICATIONS = [
    "emg_denervation", "ncs_neuropathy", "denervation_explained_by_ncs",
    "ncs_abnormal_without_denervation", "lmn_involvement", "lmn_with_corresponding_mri",
]


@dataclass
class Classification:
    """Patient-level results plus the muscle and nerve tables annotated by the logic."""

    patients: pd.DataFrame
    muscles: pd.DataFrame
    nerves: pd.DataFrame
    lesions: pd.DataFrame


def _nice(text: pd.Series) -> pd.Series:
    return text.fillna("").astype(str).str.replace("_", " ", regex=False)


def _included(study: Study) -> pd.DataFrame:
    p = study.tables["patients"][["patient_id"]].drop_duplicates("patient_id").copy()
    has_emg = p["patient_id"].isin(pd.unique(study.tables["emg"]["patient_id"]))
    ncs_ids = pd.unique(np.concatenate([np.asarray(pd.unique(study.tables[s]["patient_id"]), dtype=object)
                                        for s in ("ncs_motor", "ncs_sensory", "f_waves", "blink_reflex")]))
    has_ncs = p["patient_id"].isin(ncs_ids)
    p["included"] = has_emg & has_ncs
    p["exclusion_reason"] = np.select(
        [~has_emg & ~has_ncs, ~has_emg, ~has_ncs],
        ["no EMG and no nerve conduction rows", "no EMG rows", "no nerve conduction rows"], "")
    return p


def _apply_age_rule(nerves: pd.DataFrame, study: Study, rules: dict) -> pd.DataFrame:
    """Mark which abnormal nerves count as neuropathy evidence after the age rule (spec §4)."""
    age_rule = rules["sensory_age"]
    ages = study.tables["patients"].drop_duplicates("patient_id").set_index("patient_id")["age_years"]
    n = nerves.copy()
    n["age_years"] = n["patient_id"].map(ages)
    caveat = (n["study"].eq("sensory") & n["nerve"].isin(age_rule["lower_limb_nerves"])
              & (n["age_years"] >= age_rule["age_years"]) & n["abnormal"])
    # asymmetric: the same nerve on the other side is normal, or much larger
    sens = n[n["study"].eq("sensory")][["patient_id", "nerve", "side", "abnormal",
                                         "distal_amplitude_fraction_of_lln"]]
    other = sens.assign(side=sens["side"].map({"L": "R", "R": "L"})).rename(
        columns={"abnormal": "other_abnormal", "distal_amplitude_fraction_of_lln": "other_frac"})
    n = n.merge(other, on=["patient_id", "nerve", "side"], how="left")
    frac = n["distal_amplitude_fraction_of_lln"].astype(float)
    asym = (n["other_abnormal"].eq(False)) | (frac < age_rule["max_side_ratio"] * n["other_frac"].astype(float))
    # another abnormality: any abnormal nerve that is not itself an age-caveated lower-limb SNAP
    other_abn = n[n["abnormal"] & ~caveat].groupby("patient_id").size()
    has_other = n["patient_id"].map(other_abn).fillna(0) > 0
    n["age_caveat"] = caveat & ~(asym.fillna(False) | has_other)
    n["counts"] = n["qualifies"].fillna(False).astype(bool) & ~n["age_caveat"]
    return n.drop(columns=["other_abnormal", "other_frac", "age_years"])


def _count_distinct(frame: pd.DataFrame) -> pd.Series:
    """Number of distinct (nerve, side) pairs per patient."""
    if not len(frame):
        return pd.Series(dtype=int)
    return frame[["patient_id", "nerve", "side"]].drop_duplicates().groupby("patient_id").size()


def _neuropathies(n: pd.DataFrame, anatomy: Anatomy, rules: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Name each patient's neuropathy pattern and list the lesions that can explain muscles.

    Returns
    -------
    lesions : DataFrame
        ``patient_id, lesion_nerve, side, lesion_rank, label`` — focal lesions (mononeuropathy,
        cranial neuropathy) that explain muscles of that nerve distal to the rank.
    patterns : DataFrame
        Per patient: ``polyneuropathy`` (bool), ``pn_upper`` (bool), ``pn_demyelinating``,
        ``neuropathy_pattern`` text.
    """
    pn_rules = rules["polyneuropathy"]
    nerves_tab = anatomy.nerves
    counts = n[n["counts"]].copy()
    limb = counts["limb"].isin(["upper", "lower"])
    ll_sens = counts["study"].eq("sensory") & counts["nerve"].isin(pn_rules["lower_limb_sensory_nerves"])
    axis = n["nerve"].map(nerves_tab["lesion_axis"].replace("", np.nan)).fillna(n["nerve"])
    n = n.assign(axis=axis)
    abnormal_limb = n[n["abnormal"] & n["limb"].isin(["upper", "lower"]) & ~n["age_caveat"]]
    ll = counts[ll_sens]
    ll_sides = ll.groupby("patient_id")["side"].nunique()
    studied_ll_sides = n[n["study"].eq("sensory") & n["nerve"].isin(pn_rules["lower_limb_sensory_nerves"])
                         ].groupby("patient_id")["side"].nunique()
    n_axes = abnormal_limb.groupby(["patient_id", "side"])["axis"].nunique().groupby("patient_id").max()
    n_nerves = _count_distinct(abnormal_limb)
    pats = pd.DataFrame(index=pd.Index(n["patient_id"].unique(), name="patient_id"))
    pats["ll_sides"] = ll_sides.reindex(pats.index).fillna(0)
    pats["ll_studied"] = studied_ll_sides.reindex(pats.index).fillna(0)
    pats["n_axes"] = n_axes.reindex(pats.index).fillna(0)
    pats["n_nerves"] = n_nerves.reindex(pats.index).fillna(0) if len(n_nerves) else 0
    axonal_pn = (pats["ll_sides"] >= 2) | (
        (pats["ll_sides"] >= 1) & (pats["ll_studied"] <= 1) & (pats["n_axes"] >= 2)
        & (pats["n_nerves"] >= pn_rules["min_nerves"]))
    demyel = counts[counts["demyelinating"].fillna(False).astype(bool)]
    n_demyel = _count_distinct(demyel)
    pats["pn_demyelinating"] = n_demyel.reindex(pats.index).fillna(0) >= pn_rules["demyelinating_min_nerves"]
    pats["polyneuropathy"] = axonal_pn | pats["pn_demyelinating"]
    # the hands are in a polyneuropathy's territory only when upper-limb sensory fibres are
    # affected in a nerve that has no focal lesion of its own (an entrapment is not the PN)
    focal_motor = counts[counts["study"].eq("motor") & counts["lesion_site"].notna()][
        ["patient_id", "nerve", "side"]].drop_duplicates().assign(_focal=True)
    ul_sens = counts[counts["study"].eq("sensory") & counts["limb"].eq("upper")]
    ul_free = ul_sens.merge(focal_motor, on=["patient_id", "nerve", "side"], how="left")
    ul_free = ul_free[ul_free["_focal"].isna()]
    pats["pn_upper"] = pats.index.isin(ul_free["patient_id"])
    pats["upper_sensory"] = pats.index.isin(ul_sens["patient_id"])
    motor_abn = abnormal_limb[abnormal_limb["study"].eq("motor")]
    pats["motor_involved"] = pats.index.isin(motor_abn["patient_id"])
    sens_any = counts[counts["study"].eq("sensory")]
    pats["sensory_involved"] = pats.index.isin(sens_any["patient_id"])
    # sensory neuronopathy: upper-limb SNAPs lost with lower-limb SNAPs spared, motor normal
    # (several different nerves, at least one not prone to entrapment: a bilateral carpal tunnel
    # is two mononeuropathies, not a ganglionopathy)
    ul_names = ul_sens.groupby("patient_id")["nerve"].nunique()
    prone = set(pn_rules.get("entrapment_prone_sensory_nerves", []))
    ul_free_names = ul_sens[~ul_sens["nerve"].isin(prone)].groupby("patient_id")["nerve"].nunique()
    pats["neuronopathy"] = (~pats["polyneuropathy"] & (pats["ll_sides"] == 0) & (pats["ll_studied"] >= 1)
                            & (ul_names.reindex(pats.index).fillna(0) >= 2)
                            & (ul_free_names.reindex(pats.index).fillna(0) >= 1) & ~pats["motor_involved"])
    kind = np.where(pats["pn_demyelinating"], "demyelinating", "axonal")
    fibres = np.where(pats["motor_involved"] & pats["sensory_involved"], "sensorimotor",
                      np.where(pats["motor_involved"], "motor", "sensory"))
    length = np.where(pats["upper_sensory"] & (pats["ll_sides"] == 0), "non-length-dependent",
                      "length-dependent")
    pats["pn_text"] = np.where(pats["polyneuropathy"],
                               "polyneuropathy (" + pd.Series(length, index=pats.index) + ", " + kind
                               + ", " + fibres + ")", "")
    pats.loc[pats["neuronopathy"], "pn_text"] = "sensory neuronopathy (non-length-dependent)"

    # focal lesions: every counted limb or cranial nerve not absorbed by a polyneuropathy
    c = counts.copy()
    c["pn"] = c["patient_id"].map(pats["polyneuropathy"] | pats["neuronopathy"]).fillna(False).astype(bool)
    focal = c["lesion_site"].notna() & (c["focal_slowing"].fillna(False).astype(bool)
                                        | c["conduction_block"].fillna(False).astype(bool))
    cranial = (c["nerve"].eq("facial") | c["study"].eq("blink")).astype(bool)
    keep = (~c["pn"] | focal.astype(bool) | cranial) & ~c["reading"].astype(str).str.contains(
        "part of the other side", regex=False)
    c = c[keep & (limb.reindex(c.index, fill_value=False).astype(bool) | cranial)].copy()
    c["lesion_nerve"] = c["lesion_nerve"].where(c["lesion_nerve"].notna(),
                                                c["nerve"].map(nerves_tab["lesion_axis"].replace("", np.nan)))
    c["lesion_nerve"] = c["lesion_nerve"].fillna(c["nerve"])
    blink_only = c["study"].eq("blink") & c["lesion_site"].isna()
    # a purely sensory nerve (sural, superficial peroneal, antebrachial cutaneous …) supplies no
    # muscle: its abnormality is a lesion of that nerve, which explains no denervation
    sensory_only = c["nerve"].map(nerves_tab["kind"]).eq("sensory") & c["study"].eq("sensory")
    c.loc[sensory_only, "lesion_nerve"] = c.loc[sensory_only, "nerve"]
    default_site = c["lesion_nerve"].map(nerves_tab["default_lesion_site"].replace("", np.nan))
    c["presumed"] = c["lesion_site"].isna() & ~blink_only & ~sensory_only
    c["lesion_site"] = c["lesion_site"].where(c["lesion_site"].notna(), default_site)
    rank = anatomy.sites.set_index(["nerve", "site"])["site_rank"]
    site_rank = rank.reindex(pd.MultiIndex.from_arrays([c["lesion_nerve"], c["lesion_site"].fillna("")])).to_numpy()
    c["lesion_rank"] = np.where(pd.notna(c["lesion_rank"]) & ~c["presumed"], c["lesion_rank"], site_rank)
    c["lesion_rank"] = pd.to_numeric(c["lesion_rank"], errors="coerce")
    blink_txt = c["study"].eq("blink")
    c["label"] = np.where(
        c["lesion_nerve"].eq("facial") | blink_txt,
        np.where(c["lesion_nerve"].eq("facial"), "cranial neuropathy (facial)",
                 np.where(c["reading"].astype(str).str.contains("trigeminal"),
                          "cranial neuropathy (trigeminal)",
                          "cranial neuropathy (blink reflex: " + c["reading"].astype(str) + ")")),
        np.where(sensory_only, "sensory neuropathy (" + _nice(c["lesion_nerve"]) + ")",
                 "mononeuropathy (" + _nice(c["lesion_nerve"]) + ", " + _nice(c["lesion_site"])
                 + np.where(c["presumed"], ", presumed site", "") + ")"))
    side_txt = map_text(c["side"], {"L": "left", "R": "right"})
    c["label_side"] = c["label"].str[:-1] + ", " + side_txt + ")"
    lesions = c[["patient_id", "lesion_nerve", "side", "lesion_rank", "lesion_site", "label",
                 "label_side"]].sort_values(["patient_id", "lesion_nerve", "side", "lesion_rank"])
    lesions = lesions.drop_duplicates(["patient_id", "lesion_nerve", "side", "label"])
    localised = lesions[~lesions["label"].str.contains("presumed site", regex=False)][
        ["patient_id", "lesion_nerve", "side"]].drop_duplicates().assign(_loc=True)
    lesions = lesions.merge(localised, on=["patient_id", "lesion_nerve", "side"], how="left")
    lesions = lesions[~(lesions["label"].str.contains("presumed site", regex=False)
                        & lesions["_loc"].notna())].drop(columns="_loc")
    # pattern text: polyneuropathy first, then focal lesions (one per nerve and side)
    focal_txt = group_join(lesions["patient_id"], lesions["label_side"], distinct=True)
    pats["focal_text"] = focal_txt.reindex(pats.index).fillna("")
    pats["neuropathy_pattern"] = join_nonempty([pats["pn_text"], pats["focal_text"]])
    return lesions.reset_index(drop=True), pats.reset_index()


def classify_patients(study: Study, nerves: pd.DataFrame, muscles: pd.DataFrame, anatomy: Anatomy,
                      rules: dict) -> Classification:
    """Apply the study's six classifications to every patient.

    Parameters
    ----------
    study : Study
    nerves : DataFrame
        From :func:`edxreview.interpret.read_nerves`.
    muscles : DataFrame
        From :func:`edxreview.interpret.read_muscles`.
    anatomy : Anatomy
    rules : dict

    Returns
    -------
    Classification
        ``patients`` has the columns of ``PATIENT_COLUMNS``; ``muscles`` gains
        ``explained_by_ncs`` and ``explained_by``; ``nerves`` gains ``counts_as_neuropathy`` and
        ``age_caveat``.
    """
    pts = _included(study)
    inc_ids = set(pts.loc[pts["included"], "patient_id"])
    n = _apply_age_rule(nerves, study, rules) if len(nerves) else nerves.assign(age_caveat=False, counts=False)
    n = n[n["patient_id"].isin(inc_ids)] if len(n) else n
    lesions, pats = _neuropathies(n, anatomy, rules) if len(n) else (
        pd.DataFrame(columns=["patient_id", "lesion_nerve", "side", "lesion_rank", "lesion_site", "label",
                              "label_side"]),
        pd.DataFrame(columns=["patient_id", "polyneuropathy", "pn_upper", "pn_demyelinating",
                              "neuropathy_pattern"]))
    # --- muscles explained by NCS -------------------------------------------------------------
    mus = muscles.copy()
    mus["included"] = mus["patient_id"].isin(inc_ids)
    den = mus[mus["denervation"] & mus["included"]].copy()
    den["_mid"] = den.index
    expl_by = pd.Series("", index=mus.index, dtype=object)
    if len(den) and len(lesions):
        j = den[["_mid", "patient_id", "nerve", "side", "branch_rank"]].merge(
            lesions.rename(columns={"lesion_nerve": "nerve", "side": "lesion_side"}),
            on=["patient_id", "nerve"], how="inner")
        ok = ((j["side"] == j["lesion_side"]) | j["side"].isna()) & (j["branch_rank"] > j["lesion_rank"])
        j = j[ok.fillna(False)]
        txt = group_join(j["_mid"], j["label"], distinct=True)
        expl_by.loc[txt.index] = txt.to_numpy()
    if len(den) and len(pats):
        pn = pats.set_index("patient_id")
        pn_flag = den["patient_id"].map(pn["polyneuropathy"]).fillna(False).astype(bool)
        pn_upper = den["patient_id"].map(pn["pn_upper"]).fillna(False).astype(bool)
        pn_demyel = den["patient_id"].map(pn["pn_demyelinating"]).fillna(False).astype(bool)
        pr = rules["polyneuropathy"]
        territory = (den["region"].eq("lower_limb") & (den["distality"] <= pr["lower_limb_max_distality"])) | (
            den["region"].eq("upper_limb") & (den["distality"] <= pr["upper_limb_max_distality"]) & pn_upper) | (
            pn_demyel & den["region"].isin(["upper_limb", "lower_limb"])
            & (den["distality"] <= pr["lower_limb_max_distality"]))
        in_pn = pn_flag & territory
        pn_text = map_text(den["patient_id"], pn["pn_text"])
        idx = den.index[in_pn]
        expl_by.loc[idx] = [("; ".join(x for x in (a, b) if x)) for a, b in
                            zip(expl_by.loc[idx], pn_text.loc[idx] + " territory")]
    mus["explained_by"] = expl_by
    mus["explained_by_ncs"] = mus["denervation"] & expl_by.ne("")
    mus["unexplained"] = mus["denervation"] & mus["included"] & ~mus["explained_by_ncs"]

    # --- patient-level ------------------------------------------------------------------------
    dm = mus[mus["denervation"] & mus["included"]]
    g = dm.groupby("patient_id")
    per = pd.DataFrame({
        "any_acute": g["acute"].any(), "any_chronic": g["chronic"].any(),
        "n_den": g.size(), "n_unexplained": g["unexplained"].sum(),
    })
    pts = pts.merge(per, left_on="patient_id", right_index=True, how="left")
    pts["emg_denervation"] = pts["n_den"].fillna(0) > 0
    pts["denervation_type"] = np.select(
        [pts["any_acute"].eq(True) & pts["any_chronic"].eq(True), pts["any_acute"].eq(True),
         pts["any_chronic"].eq(True)], ["acute_and_chronic", "acute", "chronic"], "none")
    counted = n[n["counts"]] if len(n) else n
    pts["ncs_neuropathy"] = pts["patient_id"].isin(counted["patient_id"]) & pts["included"]
    pts["denervation_explained_by_ncs"] = pts["emg_denervation"] & (pts["n_unexplained"].fillna(0) == 0)
    pts["lmn_involvement"] = pts["emg_denervation"] & (pts["n_unexplained"].fillna(0) > 0)
    pts["ncs_abnormal_without_denervation"] = pts["ncs_neuropathy"] & ~pts["emg_denervation"]
    pat_text = pats.set_index("patient_id")["neuropathy_pattern"] if len(pats) else pd.Series(dtype=str)
    pts["neuropathy_pattern"] = np.where(pts["ncs_neuropathy"], map_text(pts["patient_id"], pat_text), "")

    # denervated muscles and abnormal nerves as text
    label = dm["muscle"].map(anatomy.muscles["display_name"]).fillna(dm["muscle"]) + \
        map_text(dm["side"], {"L": " L", "R": " R"})
    pts["denervated_muscles"] = map_text(pts["patient_id"], group_join(dm["patient_id"], label))
    if len(counted):
        ab = counted["nerve"].str.replace("_", " ") + " " + counted["study"] + " " + counted["side"].fillna("")
        pts["abnormal_nerves"] = map_text(pts["patient_id"], group_join(counted["patient_id"], ab, distinct=True))
    else:
        pts["abnormal_nerves"] = ""

    # --- segments and MRI ---------------------------------------------------------------------
    seg_axis = load_segments()["position"]
    un = mus[mus["unexplained"]].copy()
    un_seg = un[["patient_id", "segments", "nucleus", "brainstem_level"]].copy()
    un_seg["segment"] = un_seg["segments"].str.split("|")
    un_seg = un_seg.explode("segment")
    un_seg = un_seg[un_seg["segment"].notna() & un_seg["segment"].ne("")]
    un_seg["pos"] = un_seg["segment"].map(seg_axis)
    nuclei = un[un["nucleus"].notna() & un["brainstem_level"].notna()][
        ["patient_id", "nucleus", "brainstem_level"]].drop_duplicates()
    nuclei["pos"] = nuclei["brainstem_level"].map(seg_axis)
    seg_txt = format_segment_runs(un_seg["patient_id"], un_seg["pos"])
    nuc_txt = group_join(nuclei["patient_id"], nuclei["nucleus"] + " (" + nuclei["brainstem_level"] + ")",
                         sep=", ", distinct=True)
    pts["lmn_segments"] = join_nonempty([map_text(pts["patient_id"], seg_txt),
                                         map_text(pts["patient_id"], nuc_txt)], sep=", ")
    pts["lmn_segments"] = np.where(pts["lmn_involvement"], pts["lmn_segments"], "")

    les = lesion_segments(study.tables["mri"])
    les = les[les["patient_id"].isin(inc_ids)]
    cord = les["pos_min"].notna()
    mri_txt = group_join(les.loc[cord, "patient_id"], les.loc[cord, "segments_text"], distinct=True)
    pts["mri_cord_segments"] = map_text(pts["patient_id"], mri_txt)
    # every brainstem/cord row, including those below the conus, for the explanation
    pts["_mri_all"] = map_text(pts["patient_id"], group_join(les["patient_id"], les["segments_text"], distinct=True))
    mr = rules["mri"]
    targets = pd.concat([un_seg[["patient_id", "pos"]].assign(tol=mr["segment_tolerance"]),
                         nuclei[["patient_id", "pos"]].assign(tol=mr["brainstem_tolerance"])])
    first_cord = seg_axis.get("C1", 3)
    targets.loc[targets["pos"] < first_cord, "tol"] = mr["brainstem_tolerance"]
    hit = targets.merge(les[["patient_id", "pos_min", "pos_max", "segments_text"]], on="patient_id")
    hit = hit[(hit["pos"] >= hit["pos_min"] - hit["tol"]) & (hit["pos"] <= hit["pos_max"] + hit["tol"])]
    pts["lmn_with_corresponding_mri"] = pts["lmn_involvement"] & pts["patient_id"].isin(hit["patient_id"])
    matched_lesion = group_join(hit["patient_id"], hit["segments_text"], sep=", ", distinct=True)
    matched_segments = format_segment_runs(hit["patient_id"], hit["pos"])
    matched_lesion = (matched_lesion + "|" + matched_segments.reindex(matched_lesion.index).fillna("")
                      ) if len(matched_lesion) else matched_lesion

    for col in CLASSIFICATIONS + ["denervation_explained_by_ncs"]:
        pts[col] = pts[col].fillna(False).astype(bool) & pts["included"]
    pts.loc[~pts["included"], "denervation_type"] = "none"
    pts["explanation"] = _explain(pts, mus, n, lesions, matched_lesion, anatomy)
    n = n.rename(columns={"counts": "counts_as_neuropathy"})
    return Classification(pts[PATIENT_COLUMNS].reset_index(drop=True), mus, n, les)


def _study_label(n: pd.DataFrame) -> pd.Series:
    """``median motor R``, ``sural sensory L``, ``blink reflex, stimulating L``."""
    side = map_text(n["side"], {"L": "L", "R": "R"})
    plain = n["nerve"].astype(str).str.replace("_", " ") + " " + n["study"].astype(str) + " " + side
    return pd.Series(np.where(n["study"].eq("blink"), "blink reflex, stimulating " + side, plain),
                     index=n.index)


def _muscle_phrase(m: pd.DataFrame, anatomy: Anatomy) -> pd.Series:
    name = m["muscle"].map(anatomy.muscles["display_name"]).fillna(m["muscle"])
    side = map_text(m["side"], {"L": " L", "R": " R"})
    lvl = m["paraspinal_level"].fillna("") if "paraspinal_level" in m else ""
    detail = []
    detail.append(np.where(m["acute"], "fibs " + m["fibs"].fillna("?") + ", PSW " + m["psw"].fillna("?"), ""))
    dur = np.where(m["muap_duration"].eq("increased"), "MUAP duration increased", "")
    amp = np.where(m["muap_amplitude"].eq("increased"), "MUAP amplitude increased", "")
    q = np.where((m["muap_duration_ms"] > m["reference_duration_ms"]).fillna(False),
                 "mean MUAP duration " + m["muap_duration_ms"].round(1).astype(str) + " ms > "
                 + m["reference_duration_ms"].round(1).astype(str) + " ms", "")
    qa = np.where((m["muap_amplitude_uv"] > m["reference_amplitude_uv"]).fillna(False),
                  "mean MUAP amplitude " + m["muap_amplitude_uv"].round(0).astype(str) + " µV > "
                  + m["reference_amplitude_uv"].round(0).astype(str) + " µV", "")
    details = join_nonempty([detail[0], dur, amp, q, qa], sep=", ")
    return name + (" " + lvl if isinstance(lvl, str) else pd.Series(" ", index=m.index) + lvl).str.rstrip() \
        + side + " (" + m["reading"] + ": " + pd.Series(details, index=m.index) + ")"


def _explain(pts: pd.DataFrame, mus: pd.DataFrame, n: pd.DataFrame, lesions: pd.DataFrame,
             matched_lesion: pd.Series, anatomy: Anatomy) -> pd.Series:
    """One plain-language paragraph per patient, built from the same tables as the results."""
    pid = pts["patient_id"]
    den = mus[mus["denervation"] & mus["included"]].copy()
    phrase = _muscle_phrase(den, anatomy) if len(den) else pd.Series(dtype=str)
    den_txt = group_join(den["patient_id"], phrase) if len(den) else pd.Series(dtype=str)
    n_exam = mus.groupby("patient_id").size()
    other = mus[mus["other_findings"].ne("") & ~mus["denervation"]]
    other_txt = (other["muscle"].map(anatomy.muscles["display_name"]).fillna(other["muscle"]) + ": "
                 + other["other_findings"])
    other_txt = group_join(other["patient_id"], other_txt)
    counted = n[n["counts"]] if len(n) else n
    if len(counted):
        ntxt = (_study_label(counted) + " — " + counted["reading"].astype(str)
                + np.where(counted["flagged_values"].fillna("").ne(""), " [" + counted["flagged_values"].fillna("") + "]", ""))
        ncs_txt = group_join(counted["patient_id"], ntxt)
    else:
        ncs_txt = pd.Series(dtype=str)
    not_counted = n[n["abnormal"] & ~n["counts"]] if len(n) else n
    if len(not_counted):
        low_cmap = not_counted["study"].eq("motor") & (
            not_counted["axonal"].fillna(False).astype(bool) | not_counted["absent"].fillna(False).astype(bool))
        reason = np.where(not_counted["age_caveat"], "lower-limb SNAP at age ≥ 60, symmetric and isolated",
                          np.where(low_cmap,
                                   "reduced CMAP with normal sensory responses and no demyelinating features"
                                   " — not a neuropathy by itself",
                                   "outside its limit but short of any neuropathy criterion"))
        vals = not_counted["flagged_values"].fillna("")
        nc = (_study_label(not_counted) + np.where(vals.ne(""), " [" + vals + "]", "")
              + " (" + reason + ")")
        nc_txt = group_join(not_counted["patient_id"], nc)
    else:
        nc_txt = pd.Series(dtype=str)
    un = den[~den["explained_by_ncs"]]
    ex = den[den["explained_by_ncs"]]
    ex_txt = (ex["muscle"].map(anatomy.muscles["display_name"]).fillna(ex["muscle"])
              + map_text(ex["side"], {"L": " L", "R": " R"}) + " by " + ex["explained_by"]
              ) if len(ex) else pd.Series(dtype=str)
    ex_txt = group_join(ex["patient_id"], ex_txt) if len(ex) else ex_txt
    un_txt = (un["muscle"].map(anatomy.muscles["display_name"]).fillna(un["muscle"])
              + map_text(un["side"], {"L": " L", "R": " R"})
              ) if len(un) else pd.Series(dtype=str)
    un_txt = group_join(un["patient_id"], un_txt, sep=", ") if len(un) else un_txt

    def get(series: pd.Series) -> pd.Series:
        return map_text(pid, series) if len(series) else pd.Series("", index=pts.index)

    parts = []
    parts.append(np.where(~pts["included"], "Excluded: " + pts["exclusion_reason"] + ".", ""))
    parts.append(np.where(pts["included"] & pts["emg_denervation"],
                          "EMG: denervation (" + pts["denervation_type"].str.replace("_", " ") + ") in "
                          + get(den_txt) + " [rule: fibs/PSW ≥ 1+ = acute; increased MUAP duration or "
                          "amplitude = chronic].", ""))
    parts.append(np.where(pts["included"] & ~pts["emg_denervation"],
                          "EMG: no denervation in " + pid.map(n_exam).fillna(0).astype(int).astype(str)
                          + " muscle(s) examined" + np.where(get(other_txt).ne(""),
                                                              "; not denervation: " + get(other_txt), "")
                          + ".", ""))
    parts.append(np.where(pts["included"] & pts["ncs_neuropathy"],
                          "NCS: " + pts["neuropathy_pattern"] + " — " + get(ncs_txt) + ".", ""))
    parts.append(np.where(pts["included"] & ~pts["ncs_neuropathy"], "NCS: no peripheral or cranial neuropathy.", ""))
    parts.append(np.where(pts["included"] & get(nc_txt).ne(""), "Abnormal but not counted as neuropathy: "
                          + get(nc_txt) + ".", ""))
    parts.append(np.where(pts["denervation_explained_by_ncs"],
                          "Every denervated muscle is accounted for by NCS: " + get(ex_txt) + ".", ""))
    parts.append(np.where(pts["lmn_involvement"],
                          np.where(get(ex_txt).ne(""), "Accounted for: " + get(ex_txt) + ". ", "")
                          + "Not accounted for by NCS: " + get(un_txt)
                          + " → lower motor neuron involvement at " + pts["lmn_segments"] + ".", ""))
    mri_some = pts["_mri_all"].ne("")
    matched_text = pid.map(matched_lesion).astype(object).where(pid.map(matched_lesion).notna(), "|")
    matched = matched_text.astype(str).str.split("|", n=1, expand=True).reindex(columns=[0, 1])
    parts.append(np.where(pts["lmn_with_corresponding_mri"],
                          "MRI: lesion at cord segments/levels " + matched[0].fillna("") + " covers "
                          + matched[1].fillna("") + " of " + pts["lmn_segments"]
                          + " (±1 segment) → corresponding MRI lesion.", ""))
    parts.append(np.where(pts["lmn_involvement"] & ~pts["lmn_with_corresponding_mri"],
                          np.where(mri_some, "MRI: brainstem/cord lesions at " + pts["_mri_all"]
                                   + " do not cover " + pts["lmn_segments"] + ".",
                                   "MRI: no brainstem or spinal cord lesion recorded."), ""))
    return pd.Series(join_nonempty(parts, sep=" "), index=pts.index)
