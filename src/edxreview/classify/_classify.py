"""The study's patient-level logic: denervation, neuropathy, explained denervation, lower motor
neuron involvement and the corresponding MRI lesion (specification §4).

Everything is a join or a group-by over whole tables; the only per-patient Python work is the
formatting of text for patients who need it.
"""

from __future__ import annotations

from collections.abc import Mapping

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._check import check_type
from .._tables import (fill, flag_column, group_join, join_nonempty, map_distinct, map_text,
                       text_column)
from .._words import english_words
from ..interpret._readings import focal_sites
from ..io import Study
from ..knowledge import Anatomy
from ..knowledge._tables import load_segments
from ._localise import (confined, fold_sites, one_element_patients, plexus_label, plexus_lesions,
                        sensory_plexus_lesions, whole_nerve, without_rows)
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
    """Patient-level results plus the muscle and nerve tables annotated by the logic.

    Attributes
    ----------
    patients : DataFrame
        One row per patient: inclusion, the six classifications, the segments and the
        ``explanation`` of each decision (``patients.csv``).
    muscles, nerves : DataFrame
        The readings of :func:`edxreview.interpret.read_muscles` and
        :func:`edxreview.interpret.read_nerves`, annotated with what the logic made of them.
    mri_lesions : DataFrame
        MRI lesions converted to cord segments and brainstem levels.
    lesions : DataFrame
        The peripheral lesions localised from the findings (spec §4.1).

    Examples
    --------
    >>> import edxreview
    >>> result = edxreview.review(edxreview.demo_path())
    >>> int(result.patients["included"].sum())
    59
    """

    patients: pd.DataFrame
    muscles: pd.DataFrame
    nerves: pd.DataFrame
    mri_lesions: pd.DataFrame
    lesions: pd.DataFrame


def _nice(text: pd.Series) -> pd.Series:
    return text.fillna("").astype(str).str.replace("_", " ", regex=False)


#: why a patient is left out of the review, by id (the ``exclusion_reason`` column's text):
#: table ``exclusion_reasons`` of ``data/labels_en.toml``
EXCLUSION_REASONS: dict[str, str] = english_words("exclusion_reasons")

#: a lesion label's side, in words (table ``sides`` of ``data/labels_en.toml``)
_SIDE_WORDS = {side: english_words("sides")[side] for side in ("L", "R")}
#: the forms of a nerve's evidence in brackets (``join``; ``cooled``: a limb recorded below its
#: temperature limit), as interpret writes the flagged values
_FLAGGED_WORDS = english_words("flagged_values")


def _included(study: Study) -> pd.DataFrame:
    p = study.tables["patients"][["patient_id"]].drop_duplicates("patient_id").copy()
    has_emg = p["patient_id"].isin(pd.unique(study.tables["emg"]["patient_id"]))
    ncs_ids = pd.unique(np.concatenate([np.asarray(pd.unique(study.tables[s]["patient_id"]), dtype=object)
                                        for s in ("ncs_motor", "ncs_sensory", "f_waves", "blink_reflex")]))
    has_ncs = p["patient_id"].isin(ncs_ids)
    p["included"] = has_emg & has_ncs
    reasons = EXCLUSION_REASONS
    p["exclusion_reason"] = np.select(
        [~has_emg & ~has_ncs, ~has_emg, ~has_ncs],
        [reasons["no_emg_no_ncs"], reasons["no_emg"], reasons["no_ncs"]], "")
    return p


def _apply_age_rule(nerves: pd.DataFrame, study: Study, rules: dict) -> pd.DataFrame:
    """Mark which abnormal nerves count as neuropathy evidence after the age rule (spec §4)."""
    age_rule = rules["sensory_age"]
    ages = study.tables["patients"].drop_duplicates("patient_id").set_index("patient_id")["age_years"]
    n = nerves.copy()
    n["age_years"] = n["patient_id"].map(ages)
    # spec §4: the rule is about an absent or low SNAP; a slowed one with a normal amplitude
    # counts at any age
    absent_or_low = flag_column(n, "absent") | flag_column(n, "low_amplitude")
    caveat = (n["study"].eq("sensory") & n["nerve"].isin(age_rule["lower_limb_nerves"])
              & (n["age_years"] >= age_rule["age_years"]) & n["abnormal"] & absent_or_low)
    # asymmetric: the same nerve on the other side is normal, or much larger
    sens = n[n["study"].eq("sensory")][["patient_id", "nerve", "side", "abnormal",
                                         "distal_amplitude_fraction_of_lln"]]
    other = sens.assign(side=sens["side"].map({"L": "R", "R": "L"})).rename(
        columns={"abnormal": "other_abnormal", "distal_amplitude_fraction_of_lln": "other_frac"})
    n = n.merge(other, on=["patient_id", "nerve", "side"], how="left")
    frac = n["distal_amplitude_fraction_of_lln"].astype(float)
    other_frac = n["other_frac"].astype(float)
    ratio = age_rule["max_side_ratio"]
    asym = (n["other_abnormal"].eq(False)) | (frac < ratio * other_frac)
    # another abnormality: any abnormal nerve that is not itself an age-caveated lower-limb SNAP;
    # a blink reflex counts only when its pattern localises to a nerve (afferent or efferent):
    # a central (brainstem) pattern is not a neuropathy (spec §4.1) and says nothing of the legs
    blink_central = n["study"].eq("blink") & ~n["qualifies"].fillna(False).astype(bool)
    other_abn = n[n["abnormal"] & ~caveat & ~blink_central].groupby("patient_id").size()
    has_other = n["patient_id"].map(other_abn).fillna(0) > 0
    n["age_caveat"] = caveat & ~(asym.fillna(False) | has_other)
    # what the side comparison showed for an age-caveated SNAP, for its text: the other side
    # not studied, this SNAP the larger of an asymmetric pair (the other counts), or both
    # amplitudes known and within the side ratio (symmetric); else not compared
    n["_age_pair"] = np.select(
        [n["other_abnormal"].isna(), other_frac < ratio * frac,
         frac.notna() & other_frac.notna()],
        ["other_side_not_studied", "larger_of_asymmetric_pair", "symmetric"], "not_compared")
    n["_age_pair"] = n["_age_pair"].where(n["age_caveat"], None)
    n["counts"] = n["qualifies"].fillna(False).astype(bool) & ~n["age_caveat"]
    return n.drop(columns=["other_abnormal", "other_frac", "age_years"])


def _count_distinct(frame: pd.DataFrame) -> pd.Series:
    """Number of distinct (nerve, side) pairs per patient."""
    if not len(frame):
        return pd.Series(dtype=int)
    return frame[["patient_id", "nerve", "side"]].drop_duplicates().groupby("patient_id").size()


def _f_wave_alone(n: pd.DataFrame) -> pd.Series:
    """The limb recordings whose F-wave is prolonged or absent with normal distal conduction
    (interpret's ``f_proximal``): the nerves a patient's proximal (polyradicular) pattern is
    made of, where there are enough of them (spec §4.1)."""
    return n["f_proximal"].fillna(False).astype(bool) & n["limb"].isin(["upper", "lower"])


def _count_proximal_pattern(n: pd.DataFrame, pats: pd.DataFrame) -> pd.DataFrame:
    """``n`` with the nerves that make up a patient's proximal F-wave pattern counted as
    neuropathy evidence (``counts``).

    An absent F-wave beside a preserved CMAP does not qualify a nerve by itself, yet several
    of them make the patient's proximal pattern (spec §4.1): those nerves are the pattern's
    evidence. Counting them here, once, is what the explanation's NCS sentence, its list of
    abnormal nerves not counted, ``abnormal_nerves`` and the lesion row's ``findings`` all
    read, so that they cannot disagree. The patient-level flags were decided before and do not
    change.
    """
    if not len(n) or not len(pats):
        return n
    holds = n["patient_id"].map(pats.set_index("patient_id")["proximal_f"]).fillna(False).astype(bool)
    return n.assign(counts=n["counts"] | (_f_wave_alone(n) & holds))


def _one_side_or_both(rows: pd.DataFrame) -> pd.Series:
    """Per patient of ``rows``: its rows' side when they all lie on one side, else "both"."""
    if not len(rows):
        return pd.Series(dtype=object)
    by = rows.groupby("patient_id")["side"]
    return by.first().where(by.nunique().eq(1), "both")


def _neuropathy_patterns(n: pd.DataFrame, counts: pd.DataFrame, anatomy: Anatomy,
                         rules: dict) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """Per patient: the polyneuropathy criteria, the fibres involved and the proximal F-wave pattern."""
    pn_rules = rules["polyneuropathy"]
    ll_sens = counts["study"].eq("sensory") & counts["nerve"].isin(pn_rules["lower_limb_sensory_nerves"])
    # a sensory branch and its parent are one nerve axis (sensory_nerves.csv)
    axis = map_distinct(n["nerve"], anatomy.sensory["parent_nerve"]).fillna(n["nerve"])
    n = n.assign(axis=axis)
    abnormal_limb = n[n["abnormal"] & n["limb"].isin(["upper", "lower"]) & ~n["age_caveat"]]
    ll = counts[ll_sens]
    ll_sides = ll.groupby("patient_id")["side"].nunique()
    studied_ll_sides = n[n["study"].eq("sensory") & n["nerve"].isin(pn_rules["lower_limb_sensory_nerves"])
                         ].groupby("patient_id")["side"].nunique()
    n_axes = abnormal_limb.groupby(["patient_id", "side"])["axis"].nunique().groupby("patient_id").max()
    # separate nerves over both sides (the same nerve on the left and right is one nerve)
    n_axes_all = abnormal_limb.groupby("patient_id")["axis"].nunique()
    n_nerves = _count_distinct(abnormal_limb)
    pats = pd.DataFrame(index=pd.Index(n["patient_id"].unique(), name="patient_id"))
    pats["ll_sides"] = ll_sides.reindex(pats.index).fillna(0)
    pats["ll_studied"] = studied_ll_sides.reindex(pats.index).fillna(0)
    pats["n_axes"] = n_axes.reindex(pats.index).fillna(0)
    pats["n_nerves"] = n_nerves.reindex(pats.index).fillna(0) if len(n_nerves) else 0
    pats["n_axes_all"] = n_axes_all.reindex(pats.index).fillna(0)
    # England et al. 2005: abnormal conduction in at least min_nerves separate nerves, one of
    # them a lower-limb sensory nerve; both surals alone are one nerve
    axonal_pn = ((pats["ll_sides"] >= 2) & (pats["n_axes_all"] >= pn_rules["min_nerves"])) | (
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
    motor_abn = abnormal_limb[abnormal_limb["study"].eq("motor")]
    pats["motor_involved"] = pats.index.isin(motor_abn["patient_id"])
    # F-waves alone (spec §4.1): prolonged or absent F-waves with normal distal conduction in
    # several nerves are a proximal (polyradicular) demyelinating pattern, not length-dependent
    loc_rules = rules["localisation"]
    f_prox = n[_f_wave_alone(n)]
    n_fprox = _count_distinct(f_prox)
    other_demyel = _count_distinct(demyel[~demyel["f_proximal"].fillna(False).astype(bool)])
    pats["proximal_f"] = ((n_fprox.reindex(pats.index).fillna(0) >= loc_rules["proximal_f_min_nerves"])
                          & (other_demyel.reindex(pats.index).fillna(0)
                             < pn_rules["demyelinating_min_nerves"]))
    pats.loc[pats["proximal_f"], "pn_demyelinating"] = False
    # the side(s) of the nerves behind it: one side when all are on one side, else both
    pats["proximal_f_side"] = _one_side_or_both(f_prox).reindex(pats.index).fillna("both")
    pats["polyneuropathy"] = axonal_pn | pats["pn_demyelinating"]
    # what the polyneuropathy rests on, from which its fibres and length dependence are read
    pn_rows = _polyneuropathy_rows(n, pats, focal_motor, anatomy, rules)
    evidence = n[pn_rows]
    for fibres in ("motor", "sensory"):
        pats["pn_" + fibres] = pats.index.isin(
            evidence.loc[evidence["study"].eq(fibres), "patient_id"])
    pats["pn_length"] = _length_dependence(n, evidence, pats.index)
    return pats, ul_sens, pn_rows


def _polyneuropathy_rows(n: pd.DataFrame, pats: pd.DataFrame, focal_motor: pd.DataFrame,
                         anatomy: Anatomy, rules: Mapping) -> pd.Series:
    """The limb nerve rows a patient's polyneuropathy rests on (aligned with ``n``).

    Its counted nerves, and a reduced CMAP recorded from a muscle in its territory (the
    territory of :func:`_in_pn_territory`): beside the abnormal sensory responses that make
    the polyneuropathy, a low CMAP without demyelinating features is its motor involvement
    (guide §2.5: sural and superficial peroneal SNAPs first, then peroneal and tibial CMAPs;
    §2.11: a polyneuropathy's CMAP is low when axonal). Spec §4 sets a reduced CMAP aside
    only "with normal sensory responses", as motor neuron or root loss. A nerve with a focal
    lesion of its own (a motor site) belongs to that lesion, not to the polyneuropathy.
    """
    if not len(n):
        return pd.Series(False, index=n.index)
    by_patient = pats.reindex(n["patient_id"].to_numpy())

    def flag(column: str) -> pd.Series:
        return pd.Series(by_patient[column].fillna(False).astype(bool).to_numpy(), index=n.index)

    own_lesion = n[["patient_id", "nerve", "side"]].merge(
        focal_motor, on=["patient_id", "nerve", "side"], how="left")["_focal"].notna().to_numpy()
    recording = n["recording_site"].astype(object)
    region = map_distinct(recording, anatomy.muscles["region"])
    distality = pd.to_numeric(map_distinct(recording, anatomy.muscles["distality"]),
                              errors="coerce")
    low_cmap = (n["study"].eq("motor") & n["abnormal"].fillna(False).astype(bool)
                & (flag_column(n, "axonal") | flag_column(n, "absent"))
                & _in_pn_territory(region, distality, flag("pn_upper"), flag("pn_demyelinating"),
                                   rules))
    return (flag("polyneuropathy") & n["limb"].isin(["upper", "lower"]) & ~own_lesion
            & (n["counts"].fillna(False).astype(bool) | low_cmap))


def _in_pn_territory(region: pd.Series, distality: pd.Series, pn_upper: pd.Series,
                     pn_demyelinating: pd.Series, rules: Mapping) -> pd.Series:
    """Muscles in the territory of a polyneuropathy: distal lower-limb muscles, distal
    upper-limb ones when the upper limbs are involved (``pn_upper``), proximal ones too when
    it is demyelinating (rules ``[polyneuropathy]`` distality grades, muscles.csv)."""
    pr = rules["polyneuropathy"]
    limb = region.isin(["upper_limb", "lower_limb"])
    return ((region.eq("lower_limb") & (distality <= pr["lower_limb_max_distality"]))
            | (region.eq("upper_limb") & (distality <= pr["upper_limb_max_distality"]) & pn_upper)
            | (pn_demyelinating & limb & (distality <= pr["lower_limb_max_distality"]))
            ).fillna(False).astype(bool)


def _length_dependence(n: pd.DataFrame, evidence: pd.DataFrame, patients: pd.Index) -> np.ndarray:
    """Per patient of ``patients``: ``length_dependent``, ``non_length_dependent`` or ``None``.

    Length dependence needs the longer nerves to be affected at least as the shorter ones
    (guide §2.5: lower limb before upper limb): the legs carry the polyneuropathy's evidence,
    and each kind of fibre (motor, sensory) it has in the arms it has in the legs too. It is
    not length-dependent when the arms carry it and the legs were studied and are normal.
    Otherwise (the legs not studied, or abnormal in a way that shows neither) nothing is said.
    """
    found = {}
    for limb in ("upper", "lower"):
        for fibres in ("motor", "sensory"):
            rows = evidence[evidence["limb"].eq(limb) & evidence["study"].eq(fibres)]
            found[limb, fibres] = patients.isin(rows["patient_id"])
    legs = n[n["limb"].eq("lower")]
    legs_normal = patients.isin(legs["patient_id"]) & ~patients.isin(
        legs.loc[legs["abnormal"].fillna(False).astype(bool), "patient_id"])
    arms = found["upper", "motor"] | found["upper", "sensory"]
    legs_carry = ((found["lower", "motor"] | found["lower", "sensory"])
                  & (~found["upper", "motor"] | found["lower", "motor"])
                  & (~found["upper", "sensory"] | found["lower", "sensory"]))
    return np.select([arms & legs_normal, legs_carry],
                     ["non_length_dependent", "length_dependent"], None)


def _each_site(counts: pd.DataFrame) -> pd.DataFrame:
    """``counts`` with a motor recording repeated once per site of its blocks and focal
    slowings (interpret's :func:`~edxreview.interpret._readings.focal_sites`), each row with
    that site as its ``lesion_site`` and ``lesion_rank``: no one nerve-at-a-site lesion makes
    findings at two sites (a lesion in the upper arm neither blocks the forearm nor lengthens
    the distal latency), so each site is a lesion of its own (spec §4.1, the fewest lesions).
    A block and a focal slowing named at one site are one site, at the more proximal rank."""
    sites = focal_sites(counts).sort_values("rank", kind="stable").drop_duplicates(
        ["row", "site"])
    if not len(sites):
        return counts
    many = counts.index.isin(sites["row"])
    each = counts.loc[sites["row"]].assign(lesion_site=sites["site"].to_numpy(),
                                           lesion_rank=sites["rank"].to_numpy())
    return pd.concat([counts[~many], each]).sort_index(kind="stable").reset_index(drop=True)


def _candidate_lesions(counts: pd.DataFrame, pats: pd.DataFrame, anatomy: Anatomy) -> pd.DataFrame:
    """The counted nerve findings that may be focal lesions, with their lesion nerve and rank
    (a motor recording once per site: :func:`_each_site`)."""
    limb = counts["limb"].isin(["upper", "lower"])
    # candidate nerve lesions: every counted limb or cranial nerve not absorbed by a
    # polyneuropathy or by the proximal F-wave pattern
    c = counts.copy()
    c["pn"] = c["patient_id"].map(pats["polyneuropathy"]).fillna(False).astype(bool)
    c["prox"] = (c["patient_id"].map(pats["proximal_f"]).fillna(False).astype(bool)
                 & c["f_proximal"].fillna(False).astype(bool))
    focal = c["lesion_site"].notna() & (c["focal_slowing"].fillna(False).astype(bool)
                                        | c["conduction_block"].fillna(False).astype(bool))
    cranial = (c["nerve"].eq("facial") | c["study"].eq("blink")).astype(bool)
    keep = (~c["pn"] | focal.astype(bool) | cranial) & ~c["prox"]
    c["_focal"] = focal.astype(bool)
    c["_cranial"] = cranial
    c = _each_site(c[keep & (limb.reindex(c.index, fill_value=False).astype(bool) | cranial)])

    # nerve lesions: a SNAP belongs to its parent nerve (spec §4.1); a lesion is localised only
    # where the data show the site (focal slowing, block, distal entrapment, sensory slowing
    # across the wrist, efferent blink pattern) — no presumed sites
    sens_parent = c["nerve"].map(anatomy.sensory["parent_nerve"])
    is_sens = c["study"].eq("sensory")
    c["lesion_nerve"] = c["lesion_nerve"].where(c["lesion_nerve"].notna(),
                                                pd.Series(np.where(is_sens, sens_parent, c["nerve"]),
                                                          index=c.index))
    c["lesion_nerve"] = c["lesion_nerve"].fillna(c["nerve"])
    branch = c["nerve"].map(anatomy.sensory["branch"]).replace("", None)
    c["branch"] = branch.where(is_sens & branch.notna(), None)
    c["localised"] = c["lesion_site"].notna()
    rank = anatomy.sites.set_index(["nerve", "site"])["site_rank"]
    site_rank = rank.reindex(pd.MultiIndex.from_arrays([c["lesion_nerve"], c["lesion_site"].fillna("")])).to_numpy()
    c["lesion_rank"] = pd.to_numeric(pd.Series(np.where(pd.notna(c["lesion_rank"]), c["lesion_rank"], site_rank),
                                               index=c.index), errors="coerce")
    return c


def _plexus_step(c: pd.DataFrame, n: pd.DataFrame, mus: pd.DataFrame, anatomy: Anatomy,
                 rules: dict) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Plexus lesions from the SNAPs no nerve lesion explains; their SNAPs leave the candidates.

    Spec §4.1: abnormal SNAPs of an element with denervation of its muscles, each side on its
    own. A SNAP already accounted for by a localised lesion of its nerve (carpal tunnel; a
    branch leaving the nerve distal to the site) is not plexus evidence. SNAPs lost on both
    sides localise only where an element of each side accounts for them (bilateral neuralgic
    or diabetic amyotrophy); where one of them is lost on both sides with no element of a side
    to account for it, the patient's bilateral SNAP loss is one diffuse process (a sensory
    neuronopathy, guide §2.5) and none of it is plexus evidence. On a side with no element
    explaining muscles, SNAP loss confined to one element is that element's (sensory) lesion.
    """
    key = ["patient_id", "side", "nerve"]
    accounted = c["localised"] | fold_sites(c, anatomy)["fold_site"].notna()
    snaps = c[c["study"].eq("sensory") & ~accounted][key].drop_duplicates()
    sensory = n[n["study"].eq("sensory")]
    lost = sensory[sensory["abnormal"]][key].drop_duplicates()
    normal = without_rows(sensory[key].drop_duplicates(), lost, key)
    plex, cov_snaps, cov_muscles = plexus_lesions(snaps, mus, anatomy, rules, normal)
    mirror = snaps.assign(side=snaps["side"].map({"L": "R", "R": "L"}))
    lost_both = snaps.merge(mirror, on=key)
    diffuse = without_rows(lost_both, cov_snaps, key)["patient_id"].unique()
    if len(diffuse):
        snaps = without_rows(snaps, lost_both[lost_both["patient_id"].isin(diffuse)], key)
        plex, cov_snaps, cov_muscles = plexus_lesions(snaps, mus, anatomy, rules, normal)
    left = without_rows(without_rows(snaps, cov_snaps, key), plex, ["patient_id", "side"])
    sens_plex, sens_cov = sensory_plexus_lesions(left, lost, normal, mus, anatomy, rules)
    if len(sens_plex):
        plex = pd.concat([plex, sens_plex], ignore_index=True)
        cov_snaps = pd.concat([cov_snaps, sens_cov], ignore_index=True)
    if len(cov_snaps):
        cov = cov_snaps[key].drop_duplicates().assign(_pl=True)
        c = c.merge(cov, on=key, how="left")
        c = c[~(c["_pl"].notna() & c["study"].eq("sensory"))].drop(columns="_pl")
    return c, plex, cov_snaps, cov_muscles


#: a polyneuropathy's length dependence (``_length_dependence``) in its pattern's words
_LENGTH_WORDS = {"length_dependent": "length-dependent",
                 "non_length_dependent": "non-length-dependent"}


def _neuronopathy_and_text(pats: pd.DataFrame, ul_sens: pd.DataFrame, cov_snaps: pd.DataFrame,
                           anatomy: Anatomy, pn_rules: dict) -> None:
    """Add the sensory-neuronopathy flag and the pattern texts to ``pats`` (in place)."""
    # sensory neuronopathy: upper-limb SNAPs lost with lower-limb SNAPs spared, motor normal
    # (several different nerves, at least one not prone to entrapment: a bilateral carpal tunnel
    # is two mononeuropathies, not a ganglionopathy); SNAPs a plexus lesion explains are not it,
    # and a ganglionopathy is diffuse or multifocal: SNAPs left on one side that all pass
    # through one plexus element (sensory_nerves.csv) are a focal loss, not one
    ul_left = without_rows(ul_sens, cov_snaps, ["patient_id", "side", "nerve"])
    ul_names = ul_left.groupby("patient_id")["nerve"].nunique()
    prone = set(pn_rules.get("entrapment_prone_sensory_nerves", []))
    ul_free_names = ul_left[~ul_left["nerve"].isin(prone)].groupby("patient_id")["nerve"].nunique()
    ul_sides = ul_left.groupby("patient_id")["side"].nunique()
    sensory_diffuse = (~pats["polyneuropathy"] & (pats["ll_sides"] == 0)
                       & (ul_names.reindex(pats.index).fillna(0) >= 2)
                       & (ul_free_names.reindex(pats.index).fillna(0) >= 1) & ~pats["motor_involved"])
    pats["neuronopathy"] = (sensory_diffuse & (pats["ll_studied"] >= 1)
                            & ~pats.index.isin(one_element_patients(ul_left, anatomy)))
    # the same loss on both arms with no lower-limb SNAP studied: one diffuse process whose
    # length dependence the study cannot tell (a polyneuropathy or a neuronopathy), not a
    # mononeuropathy of every nerve (spec §4.1, the fewest lesions)
    pats["diffuse_sensory"] = (sensory_diffuse & (pats["ll_studied"] == 0)
                               & (ul_sides.reindex(pats.index).fillna(0) >= 2))
    kind = np.where(pats["pn_demyelinating"], "demyelinating", "axonal")
    # the fibres and the length dependence of what the polyneuropathy rests on
    fibres = np.select([pats["pn_motor"] & pats["pn_sensory"], pats["pn_motor"],
                        pats["pn_sensory"]], ["sensorimotor", "motor", "sensory"], "")
    length = pats["pn_length"].map(_LENGTH_WORDS).fillna("")
    pats["pn_text"] = np.where(pats["polyneuropathy"],
                               "polyneuropathy (" + pd.Series(
                                   join_nonempty([length, kind, fibres], sep=", "),
                                   index=pats.index) + ")", "")
    pats.loc[pats["neuronopathy"], "pn_text"] = "sensory neuronopathy (non-length-dependent)"
    pats.loc[pats["diffuse_sensory"], "pn_text"] = (
        "diffuse sensory neuropathy (both upper limbs; lower limbs not studied, length "
        "dependence undetermined)")
    # its side is the side of its SNAPs: one side when all lie on one side (the other measured
    # normal), else both
    pats["neuronopathy_side"] = _one_side_or_both(ul_left).reindex(pats.index).fillna("both")
    pats["prox_text"] = np.where(pats["proximal_f"], "proximal demyelinating pattern (polyradicular: "
                                 "prolonged or absent F-waves with normal distal conduction)", "")


def _one_lesion_per_nerve(c: pd.DataFrame, anatomy: Anatomy) -> pd.DataFrame:
    """The lesion table: one row per nerve, side and site, listing its evidence.

    A finding without a site joins the localised lesion of its nerve at or proximal to where
    its fibres leave the nerve (the carpal tunnel SNAP belongs to the carpal tunnel found on
    motor study; a dorsal ulnar cutaneous SNAP to an ulnar lesion at the elbow). A branch that
    leaves the nerve proximal to every localised site puts the nerve's lesion proximal to the
    branch: the nerve and side then have one unlocalised lesion with all their findings, whose
    ``lesion_rank`` is the most proximal localised site (the distal sign: it explains at
    least the muscles beyond it). Other unlocalised lesions have no rank.
    """
    c["kind"] = np.where(c["lesion_nerve"].isin(["facial", "trigeminal"]), "cranial_neuropathy",
                         "mononeuropathy")
    c["is_blink"] = c["study"].eq("blink")
    lesions = c[["patient_id", "kind", "lesion_nerve", "side", "lesion_rank", "lesion_site", "localised",
                 "branch", "is_blink", "nerve", "study"]].rename(columns={"nerve": "finding_nerve",
                                                                      "study": "finding_study"})
    nerve_key = [lesions["patient_id"], lesions["lesion_nerve"], lesions["side"]]
    lesions["has_motor"] = lesions["finding_study"].eq("motor").groupby(nerve_key).transform("any")
    fold = fold_sites(lesions.rename(columns={"finding_nerve": "nerve", "finding_study": "study"}),
                      anatomy)
    proximal = fold["proximal"].groupby(nerve_key).transform("any")
    distal_sign = lesions["lesion_rank"].where(lesions["localised"]).groupby(nerve_key).transform("min")
    joins = fold["fold_site"].notna() & ~proximal
    lesions.loc[joins, "lesion_site"] = fold.loc[joins, "fold_site"]
    lesions.loc[joins, "lesion_rank"] = fold.loc[joins, "fold_rank"]
    lesions.loc[joins, "localised"] = True
    lesions.loc[proximal, "lesion_site"] = None
    lesions.loc[proximal, "localised"] = False
    lesions["lesion_rank"] = lesions["lesion_rank"].where(lesions["localised"], distal_sign.where(proximal))
    evidence = group_join(lesions["patient_id"].astype(str) + "\x1f" + lesions["lesion_nerve"] + "\x1f"
                          + lesions["side"].astype(str) + "\x1f" + lesions["lesion_site"].fillna("").astype(str),
                          lesions["finding_nerve"] + " " + lesions["finding_study"], sep="|", distinct=True)
    lesions = lesions.sort_values(["patient_id", "lesion_nerve", "side", "lesion_rank"])
    branch = lesions.groupby(["patient_id", "lesion_nerve", "side", "lesion_site"], dropna=False)["branch"].transform("first")
    lesions = lesions.assign(branch=branch).drop_duplicates(["patient_id", "lesion_nerve", "side", "lesion_site"])
    lesions["findings"] = (lesions["patient_id"].astype(str) + "\x1f" + lesions["lesion_nerve"] + "\x1f"
                           + lesions["side"].astype(str) + "\x1f"
                           + lesions["lesion_site"].fillna("").astype(str)).map(evidence)
    lesions = lesions.drop(columns=["finding_nerve", "finding_study"])
    return lesions


def _neuropathies(n: pd.DataFrame, mus: pd.DataFrame, anatomy: Anatomy,
                  rules: dict
                  ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.Series]:
    """Name each patient's neuropathy pattern and list the lesions that can explain muscles.

    Returns
    -------
    lesions : DataFrame
        ``patient_id, lesion_nerve, side, lesion_rank, label`` — focal lesions (mononeuropathy,
        cranial neuropathy) that explain muscles of that nerve distal to the rank.
    patterns : DataFrame
        Per patient: ``polyneuropathy`` (bool), ``pn_upper`` (bool), ``pn_demyelinating``,
        ``neuropathy_pattern`` text.
    pn_rows : Series of bool
        Aligned with ``n``: the nerve rows the polyneuropathy rests on
        (:func:`_polyneuropathy_rows`), from which its fibres and length dependence are named.
    """
    pn_rules = rules["polyneuropathy"]
    counts = n[n["counts"]].copy()
    pats, ul_sens, pn_rows = _neuropathy_patterns(n, counts, anatomy, rules)
    c = _candidate_lesions(counts, pats, anatomy)
    c, plex, cov_snaps, cov_muscles = _plexus_step(c, n, mus, anatomy, rules)
    pats["plexopathy"] = pats.index.isin(plex["patient_id"])
    _neuronopathy_and_text(pats, ul_sens, cov_snaps, anatomy, pn_rules)
    diffuse = pats["neuronopathy"] | pats["diffuse_sensory"]
    c["pn"] = c["patient_id"].map(diffuse).fillna(False).astype(bool) & c["study"].eq("sensory")
    c = c[~c["pn"] | c["_focal"] | c["_cranial"]]
    lesions = _one_lesion_per_nerve(c, anatomy)
    plex = plex.assign(kind="plexopathy", label=plexus_label(plex, anatomy)) if len(plex) else plex.assign(
        kind=pd.Series(dtype=object), label=pd.Series(dtype=object))
    return lesions.reset_index(drop=True), plex, cov_muscles, pats.reset_index(), pn_rows


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

    Raises
    ------
    InvalidParameterError
        An argument is not of the type listed above (checked before any work).

    Examples
    --------
    >>> import edxreview
    >>> from edxreview.knowledge import load_anatomy, load_reference, load_rules
    >>> study = edxreview.io.load_study(edxreview.demo_path())
    >>> anatomy, rules = load_anatomy(), load_rules()
    >>> values = edxreview.interpret.flag_values(study, load_reference(), anatomy)
    >>> nerves = edxreview.interpret.read_nerves(study, values, anatomy, rules)
    >>> muscles = edxreview.interpret.read_muscles(study, anatomy, rules)
    >>> result = edxreview.classify.classify_patients(study, nerves, muscles, anatomy, rules)
    >>> int(result.patients["lmn_involvement"].sum())
    9
    """
    check_type('study', study, Study, 'a Study from edxreview.io.load_study')
    check_type('nerves', nerves, pd.DataFrame, 'the DataFrame from edxreview.interpret.read_nerves')
    check_type('muscles', muscles, pd.DataFrame, 'the DataFrame from edxreview.interpret.read_muscles')
    check_type('anatomy', anatomy, Anatomy, 'the Anatomy from edxreview.knowledge.load_anatomy')
    check_type('rules', rules, Mapping, 'the Rules from edxreview.knowledge.load_rules')
    pts = _included(study)
    inc_ids = set(pts.loc[pts["included"], "patient_id"])
    n = _apply_age_rule(nerves, study, rules) if len(nerves) else nerves.assign(age_caveat=False, counts=False)
    n = n[n["patient_id"].isin(inc_ids)] if len(n) else n
    mus = muscles.copy()
    mus["included"] = mus["patient_id"].isin(inc_ids)
    mus["_mid"] = np.arange(len(mus))
    inc_mus = mus[mus["included"]]
    if len(n):
        lesions, plex, cov_muscles, pats, pn_rows = _neuropathies(n, inc_mus, anatomy, rules)
        # the polyneuropathy's evidence is counted, so that the NCS sentence, the list of
        # abnormal nerves not counted, abnormal_nerves and its lesion row read the findings
        # its pattern names (its motor involvement among them)
        n = n.assign(counts=n["counts"] | pn_rows)
    else:
        lesions = pd.DataFrame({c: pd.Series(dtype=bool if c in ("localised", "is_blink", "has_motor")
                                             else object) for c in _NEURO_LESION_COLUMNS})
        plex, cov_muscles = pd.DataFrame(columns=["patient_id", "side", "element", "label"]), \
            pd.DataFrame(columns=["_mid", "element"])
        pats = pd.DataFrame(columns=["patient_id", "polyneuropathy", "pn_upper", "pn_demyelinating",
                                     "pn_text", "prox_text", "proximal_f", "proximal_f_side"])
    n = _count_proximal_pattern(n, pats)
    mus, lesions, plex, all_lesions, pats = _explain_denervation(
        mus, n, lesions, plex, cov_muscles, pats, anatomy, rules)
    pts = _patient_measures(pts, mus, n, pats, anatomy)
    pts, les, matched_lesion = _segments_and_mri(pts, mus, study, inc_ids, rules)
    for col in CLASSIFICATIONS + ["denervation_explained_by_ncs"]:
        pts[col] = pts[col].fillna(False).astype(bool) & pts["included"]
    pts.loc[~pts["included"], "denervation_type"] = "none"
    pts["explanation"] = _explain(pts, mus, n, all_lesions, matched_lesion, anatomy, rules)
    n = n.rename(columns={"counts": "counts_as_neuropathy"}).drop(columns="_age_pair",
                                                                  errors="ignore")
    mus = mus.drop(columns="_mid")
    return Classification(pts[PATIENT_COLUMNS].reset_index(drop=True), mus, n, les, all_lesions)


def _lesion_cover(mus: pd.DataFrame, lesions: pd.DataFrame, plex: pd.DataFrame,
                  cov_muscles: pd.DataFrame, pats: pd.DataFrame, anatomy: Anatomy,
                  rules: Mapping) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``(_mid, lesion_key)`` pairs: each denervated muscle and a lesion that explains it.

    Localised nerve lesions explain the muscles their nerve supplies beyond the site; a
    cranial neuropathy the muscles of its cranial nerve on its side; plexus elements their
    muscles; a polyneuropathy its territory (distal lower-limb muscles, upper limb when the
    upper limbs are involved, proximal too when demyelinating); then an unlocalised nerve
    lesion the remaining muscles of its own nerve unless they share segments with another
    nerve's remaining muscles (:func:`confined`). The lesions and plexus elements are
    returned with their ``lesion_key``.
    """
    den = mus[mus["denervation"] & mus["included"]].copy()
    cover = []                                   # (_mid, lesion_key) pairs
    lesions = lesions.reset_index(drop=True)
    lesions["lesion_key"] = "N" + lesions.index.astype(str)
    if len(den) and len(lesions):
        # a lesion with a rank (a localised site, or the distal sign of a lesion proximal to
        # a branch) explains its nerve's muscles beyond the rank
        loc = lesions[lesions["lesion_rank"].notna()]
        j = den[["_mid", "patient_id", "nerve", "side", "branch_rank"]].merge(
            loc.rename(columns={"lesion_nerve": "nerve", "side": "lesion_side"}),
            on=["patient_id", "nerve"], how="inner")
        # side matters (spec §4.1): a muscle whose side is not given is on neither side, so no
        # lesion on one side explains it (only a polyneuropathy, on both, can)
        ok = (j["side"] == j["lesion_side"]) & (j["branch_rank"] > j["lesion_rank"])
        # of the sites of one nerve beyond which a muscle lies, the most proximal accounts for
        # it: the nerve is affected from there on (a muscle between two sites is the proximal
        # one's, and so is one beyond both)
        j = j[ok.fillna(False)].sort_values("lesion_rank", kind="stable")
        cover.append(j.drop_duplicates("_mid")[["_mid", "lesion_key"]])
        # a cranial neuropathy (facial CMAP, afferent or efferent blink pattern) explains the
        # muscles its nerve supplies on its side (spec §4: "is supplied by the affected
        # cranial nerve"); a muscle without a side stays unexplained, as above
        cranial = lesions[lesions["kind"].eq("cranial_neuropathy")]
        jc = den[["_mid", "patient_id", "nerve", "side"]].merge(
            cranial[["patient_id", "lesion_nerve", "side", "lesion_key"]].rename(
                columns={"lesion_nerve": "nerve"}), on=["patient_id", "nerve", "side"])
        cover.append(jc[["_mid", "lesion_key"]])
    plex = plex.reset_index(drop=True)
    plex["lesion_key"] = "P" + plex.index.astype(str)
    if len(cov_muscles):
        sided = den[den["side"].notna()]
        cover.append(cov_muscles.merge(sided[["_mid", "patient_id", "side"]], on="_mid").merge(
            plex[["patient_id", "side", "element", "lesion_key"]], on=["patient_id", "side", "element"]
        )[["_mid", "lesion_key"]])
    pn_key = pd.Series(False, index=den.index)
    if len(den) and len(pats):
        pn = pats.set_index("patient_id")
        pn_flag = den["patient_id"].map(pn["polyneuropathy"]).fillna(False).astype(bool)
        pn_upper = den["patient_id"].map(pn["pn_upper"]).fillna(False).astype(bool)
        pn_demyel = den["patient_id"].map(pn["pn_demyelinating"]).fillna(False).astype(bool)
        territory = _in_pn_territory(den["region"], pd.to_numeric(den["distality"], errors="coerce"),
                                     pn_upper, pn_demyel, rules)
        pn_key = pn_flag & territory
        cover.append(den.loc[pn_key, ["_mid"]].assign(lesion_key="PN"))
    # a muscle is counted once per lesion (a localised facial lesion explains its muscles
    # both beyond its site and as the cranial nerve's)
    cover = (pd.concat(cover, ignore_index=True).drop_duplicates() if cover
             else pd.DataFrame(columns=["_mid", "lesion_key"]))
    unloc = lesions[~lesions["localised"] & ~lesions["is_blink"]]
    remaining = den[~den["_mid"].isin(cover["_mid"])]
    conf = confined(unloc, remaining[["_mid", "patient_id", "side", "nerve", "muscle", "segments",
                                             "nucleus"]], anatomy)
    if len(conf):
        conf = conf.merge(unloc[["patient_id", "side", "lesion_nerve", "lesion_key"]],
                          on=["patient_id", "side", "lesion_nerve"])
        cover = pd.concat([cover, conf[["_mid", "lesion_key"]]], ignore_index=True)
        lesions, cover = _join_divisions(lesions, cover, conf, anatomy)
    return cover, lesions, plex


def _join_divisions(lesions: pd.DataFrame, cover: pd.DataFrame, conf: pd.DataFrame,
                    anatomy: Anatomy) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One lesion of a nerve whose divisions carry the findings (spec §4.1, fewest sites).

    Where a division's lesion is confined to the nerve it is a division of (a sural SNAP with
    tibial and peroneal muscles: the sciatic nerve), every unlocalised lesion of that nerve's
    divisions on that side becomes one lesion of the nerve, with all their findings and
    muscles; ``cover`` follows the surviving ``lesion_key``.
    """
    whole = conf.loc[conf["confined_to"].ne(conf["lesion_nerve"]),
                     ["patient_id", "side", "confined_to"]].drop_duplicates()
    if not len(whole):
        return lesions, cover
    unloc = lesions[~lesions["localised"] & ~lesions["is_blink"]]
    parts = unloc.assign(confined_to=whole_nerve(unloc["lesion_nerve"], anatomy)).merge(
        whole, on=["patient_id", "side", "confined_to"])
    parts = parts[parts["lesion_nerve"].ne(parts["confined_to"])]
    group = (parts["patient_id"].astype(str) + "\x1f" + parts["side"].astype(str) + "\x1f"
             + parts["confined_to"])
    kept_key = parts.groupby(group)["lesion_key"].transform("first")
    each = parts["findings"].fillna("").str.split("|").explode()
    findings = group_join(group.loc[each.index], each, sep="|", distinct=True)
    has_motor = parts["has_motor"].fillna(False).astype(bool).groupby(group).any()
    merged = pd.DataFrame({"lesion_key": kept_key, "lesion_nerve": parts["confined_to"],
                           "findings": group.map(findings), "has_motor": group.map(has_motor)}
                          ).drop_duplicates("lesion_key").set_index("lesion_key")
    lesions = lesions[~lesions["lesion_key"].isin(parts["lesion_key"])
                      | lesions["lesion_key"].isin(merged.index)].copy()
    at = lesions["lesion_key"].isin(merged.index)
    keys = lesions.loc[at, "lesion_key"]
    for column in ("lesion_nerve", "findings", "has_motor"):
        lesions.loc[at, column] = keys.map(merged[column]).to_numpy()
    lesions.loc[at, ["branch", "lesion_site"]] = None
    lesions.loc[at, "lesion_rank"] = np.nan
    cover = cover.assign(lesion_key=cover["lesion_key"].replace(dict(zip(parts["lesion_key"], kept_key))))
    return lesions, cover.drop_duplicates()


def _explain_denervation(mus: pd.DataFrame, n: pd.DataFrame, lesions: pd.DataFrame,
                         plex: pd.DataFrame, cov_muscles: pd.DataFrame, pats: pd.DataFrame,
                         anatomy: Anatomy, rules: Mapping):
    """Which denervated muscles the NCS findings explain, and by which lesion.

    Spec §4.1, in order: localised nerve lesions (muscles beyond the lesion site), plexus
    elements, the polyneuropathy territory, then unlocalised nerve lesions confined to their own
    muscles. ``mus`` gains ``explained_by``, ``explained_by_ncs`` and ``unexplained``; the
    lesions their muscle counts and sided labels; ``pats`` its ``neuropathy_pattern`` text.
    Returns ``(mus, lesions, plex, all_lesions, pats)``.
    """
    cover, lesions, plex = _lesion_cover(mus, lesions, plex, cov_muscles, pats, anatomy, rules)
    n_explained = cover["lesion_key"].value_counts()

    def count_and_side(frame: pd.DataFrame) -> None:
        # muscles each lesion explains; its label with the side inside the closing bracket
        frame["n_muscles_explained"] = frame["lesion_key"].map(n_explained).fillna(0).astype(int)
        if "label" not in frame:
            frame["label"] = _lesion_label(frame, anatomy)
        frame["label_side"] = frame["label"].str[:-1] + ", " + map_text(
            frame["side"], _SIDE_WORDS) + ")"

    count_and_side(lesions)
    if len(plex):
        count_and_side(plex)
    label_of = pd.concat([lesions.set_index("lesion_key")["label"],
                          plex.set_index("lesion_key")["label"] if len(plex) else pd.Series(dtype=object)])
    cover = cover.merge(mus[["_mid", "patient_id"]], on="_mid")
    cover["text"] = cover["lesion_key"].map(label_of).astype(object)
    if len(pats):
        pn_txt = cover["patient_id"].map(pats.set_index("patient_id")["pn_text"]).astype(object)
        cover.loc[cover["lesion_key"].eq("PN"), "text"] = pn_txt[cover["lesion_key"].eq("PN")] + " territory"
    txt = group_join(cover["_mid"], cover["text"], distinct=True)
    expl = mus["_mid"].map(txt).astype(object)
    mus["explained_by"] = expl.where(expl.notna(), "")
    mus["explained_by_ncs"] = mus["denervation"] & mus["_mid"].isin(cover["_mid"])
    def evidence(rows: pd.DataFrame) -> pd.Series:
        """``median motor|sural sensory`` per patient, from its counted nerve rows."""
        if not len(rows):
            return pd.Series(dtype=object)
        return group_join(rows["patient_id"], rows["nerve"].astype(str) + " "
                          + rows["study"].astype(str), sep="|", distinct=True)

    pn_evidence = evidence(n[n["counts"]]) if len(n) else evidence(n)
    # the proximal pattern rests on its own nerves (counted by _count_proximal_pattern)
    prox_evidence = evidence(n[n["counts"] & _f_wave_alone(n)]) if len(n) else evidence(n)
    all_lesions = _lesion_table(lesions, plex, pats, cover, pn_evidence, prox_evidence)
    if len(n) and len(all_lesions):
        # abnormal studies that do not count by themselves (a low CMAP) support their nerve's lesion
        sup = n[n["abnormal"] & ~n["counts"]]
        sup_txt = group_join(sup["patient_id"].astype(str) + "\x1f" + sup["nerve"].astype(str) + "\x1f"
                             + sup["side"].astype(str), sup["nerve"].astype(str) + " " + sup["study"].astype(str),
                             sep="|", distinct=True)
        key = (all_lesions["patient_id"].astype(str) + "\x1f" + all_lesions["nerve"].astype(str) + "\x1f"
               + all_lesions["side"].astype(str))
        # a nerve's lesion also gathers its divisions' studies (sciatic: peroneal, tibial)
        whole = whole_nerve(sup["nerve"], anatomy)
        of_whole = whole.ne(sup["nerve"])
        if of_whole.any():
            sup_txt = sup_txt.combine_first(group_join(
                sup.loc[of_whole, "patient_id"].astype(str) + "\x1f" + whole[of_whole].astype(str) + "\x1f"
                + sup.loc[of_whole, "side"].astype(str),
                sup.loc[of_whole, "nerve"].astype(str) + " " + sup.loc[of_whole, "study"].astype(str),
                sep="|", distinct=True))
        extra = key.map(sup_txt).astype(object)
        has = extra.notna() & all_lesions["nerve"].notna()
        all_lesions.loc[has, "findings"] = join_nonempty([all_lesions.loc[has, "findings"],
                                                          extra[has]], sep="|")
    # pattern text: polyneuropathy first, then the proximal pattern, plexus elements, nerves
    if len(pats):
        focal_txt = group_join(pd.concat([plex["patient_id"], lesions["patient_id"]]) if len(plex) else lesions["patient_id"],
                               pd.concat([plex["label_side"], lesions["label_side"]]) if len(plex) else lesions["label_side"],
                               distinct=True)
        pats = pats.set_index("patient_id")
        pats["focal_text"] = focal_txt.reindex(pats.index).fillna("")
        pats["neuropathy_pattern"] = join_nonempty([pats["pn_text"], pats["prox_text"], pats["focal_text"]])
        pats = pats.reset_index()
    else:
        pats["neuropathy_pattern"] = pd.Series(dtype=object)
    mus["unexplained"] = mus["denervation"] & mus["included"] & ~mus["explained_by_ncs"]
    return mus, lesions, plex, all_lesions, pats


def _patient_measures(pts: pd.DataFrame, mus: pd.DataFrame, n: pd.DataFrame, pats: pd.DataFrame,
                      anatomy: Anatomy) -> pd.DataFrame:
    """The patient-level classifications from the muscle and nerve readings, with the
    denervated muscles and abnormal nerves as text."""
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
    proximal = pats.loc[pats["proximal_f"].fillna(False).astype(bool), "patient_id"] if len(pats) else []
    pts["ncs_neuropathy"] = (pts["patient_id"].isin(counted["patient_id"])
                             | pts["patient_id"].isin(proximal)) & pts["included"]
    pts["denervation_explained_by_ncs"] = pts["emg_denervation"] & (pts["n_unexplained"].fillna(0) == 0)
    pts["lmn_involvement"] = pts["emg_denervation"] & (pts["n_unexplained"].fillna(0) > 0)
    pts["ncs_abnormal_without_denervation"] = pts["ncs_neuropathy"] & ~pts["emg_denervation"]
    pat_text = pats.set_index("patient_id")["neuropathy_pattern"] if len(pats) else pd.Series(dtype=str)
    pts["neuropathy_pattern"] = np.where(pts["ncs_neuropathy"], map_text(pts["patient_id"], pat_text), "")

    # denervated muscles and abnormal nerves as text
    label = _muscle_label(dm, anatomy)
    pts["denervated_muscles"] = map_text(pts["patient_id"], group_join(dm["patient_id"], label))
    if len(counted):
        ab = counted["nerve"].str.replace("_", " ") + " " + counted["study"] + " " + counted["side"].fillna("")
        pts["abnormal_nerves"] = map_text(pts["patient_id"], group_join(counted["patient_id"], ab, distinct=True))
    else:
        pts["abnormal_nerves"] = ""
    return pts


def _unlevelled_paraspinal(m: pd.DataFrame) -> pd.Series:
    """Paraspinal rows sampled at no stated level (``Thoracic paraspinals``, not ``T10
    paraspinal``): their segments are the whole region's, and none of them is established."""
    return m["region"].eq("paraspinal") & text_column(m, "paraspinal_level").isna()


def _segments_and_mri(pts: pd.DataFrame, mus: pd.DataFrame, study: Study, inc_ids: set,
                      rules: Mapping):
    """The cord segments and brainstem nuclei of the unexplained denervation, the MRI lesions
    as segments, and whether an MRI lesion matches (spec §4, within the rules' tolerance).
    The segments of a paraspinal sampled at no stated level are listed but not matched (rules
    ``[mri]`` source ``unlevelled_paraspinal_convention``).
    Returns ``(pts, mri_lesions, matched_lesion)``."""
    seg_axis = load_segments()["position"]
    un = mus[mus["unexplained"]].copy()
    un["_unlevelled"] = _unlevelled_paraspinal(un)
    un_seg = un[["patient_id", "segments", "nucleus", "brainstem_level", "_unlevelled"]].copy()
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
    matchable = un_seg[~un_seg["_unlevelled"].astype(bool)]
    targets = pd.concat([matchable[["patient_id", "pos"]].assign(tol=mr["segment_tolerance"]),
                         nuclei[["patient_id", "pos"]].assign(tol=mr["brainstem_tolerance"])])
    first_cord = seg_axis[mr["first_cord_segment"]]
    targets.loc[targets["pos"] < first_cord, "tol"] = mr["brainstem_tolerance"]
    hit = targets.merge(les[["patient_id", "pos_min", "pos_max", "segments_text"]], on="patient_id")
    hit = hit[(hit["pos"] >= hit["pos_min"] - hit["tol"]) & (hit["pos"] <= hit["pos_max"] + hit["tol"])]
    pts["lmn_with_corresponding_mri"] = pts["lmn_involvement"] & pts["patient_id"].isin(hit["patient_id"])
    matched_lesion = group_join(hit["patient_id"], hit["segments_text"], sep=", ", distinct=True)
    # each matched run with the tolerance its match used (cord segments ±n, brainstem levels
    # none): one pass per tolerance of the rules, not per patient
    runs = [format_segment_runs(h["patient_id"], h["pos"]) + (
        f" (±{tol:g} segment{'s' if tol != 1 else ''})" if tol > 0 else " (same level, no tolerance)")
        for tol, h in hit.groupby("tol")]
    runs = pd.concat(runs) if runs else pd.Series(dtype=object)
    matched_segments = group_join(runs.index, runs, sep=", ")
    matched_lesion = (matched_lesion + "|" + matched_segments.reindex(matched_lesion.index).fillna("")
                      ) if len(matched_lesion) else matched_lesion
    return pts, les, matched_lesion

# the lesions _neuropathies hands on (before they become the output's LESION_COLUMNS)
_NEURO_LESION_COLUMNS = ["patient_id", "kind", "lesion_nerve", "side", "lesion_rank", "lesion_site",
                         "localised", "branch", "is_blink", "has_motor", "findings"]
LESION_COLUMNS = ["patient_id", "side", "kind", "nerve", "element", "site", "localised", "label",
                  "n_muscles_explained", "findings"]


def _lesion_label(lesions: pd.DataFrame, anatomy: Anatomy) -> pd.Series:
    """The name of each nerve lesion, from its typed columns (spec §4.1)."""
    if not len(lesions):
        return pd.Series(dtype=object)
    nerve = _nice(lesions["lesion_nerve"])
    site = _nice(lesions["lesion_site"])
    branch = lesions["branch"].fillna("").astype(str)
    explains = lesions["n_muscles_explained"] > 0
    sensory_nerve = lesions["lesion_nerve"].map(anatomy.nerves["kind"]).eq("sensory")
    parent_named = explains | lesions["has_motor"].fillna(False).astype(bool)
    label = np.select(
        [lesions["kind"].eq("cranial_neuropathy"),
         lesions["localised"],
         parent_named & branch.ne(""),
         branch.ne(""),
         sensory_nerve],
        ["cranial neuropathy (" + nerve + ")",
         "mononeuropathy (" + nerve + ", " + site + ")",
         "mononeuropathy (" + nerve + ", proximal to the " + branch + " branch)",
         "sensory neuropathy (" + branch + ")",
         "sensory neuropathy (" + nerve + ")"],
        "mononeuropathy (" + nerve + ", site not localised)")
    return pd.Series(label, index=lesions.index)


def _lesion_table(lesions: pd.DataFrame, plex: pd.DataFrame, pats: pd.DataFrame,
                  cover: pd.DataFrame, pn_evidence: pd.Series,
                  prox_evidence: pd.Series) -> pd.DataFrame:
    """The lesions that explain the findings: nerve, plexus element, polyneuropathy, proximal
    F-wave pattern (``findings``: the counted nerves of the patient, for the last its own)."""
    parts = []
    if len(lesions):
        parts.append(pd.DataFrame({
            "patient_id": lesions["patient_id"], "side": lesions["side"], "kind": lesions["kind"],
            "nerve": lesions["lesion_nerve"], "element": None, "site": lesions["lesion_site"],
            "localised": lesions["localised"].astype(bool), "label": lesions["label"],
            "n_muscles_explained": lesions["n_muscles_explained"],
            "findings": lesions["findings"].fillna("")}))
    if len(plex):
        parts.append(pd.DataFrame({
            "patient_id": plex["patient_id"], "side": plex["side"], "kind": "plexopathy",
            "nerve": None, "element": plex["element"], "site": None, "localised": True,
            "label": plex["label"], "n_muscles_explained": plex["n_muscles_explained"],
            "findings": plex["snap_nerves"].fillna("").str.replace("|", " sensory|", regex=False)
            + " sensory"}))
    if len(pats):
        flags = pats[["polyneuropathy", "neuronopathy", "diffuse_sensory", "proximal_f"]
                     ].fillna(False).astype(bool)
        diffuse = flags["polyneuropathy"] | flags["neuronopathy"] | flags["diffuse_sensory"]
        p = pats[diffuse | flags["proximal_f"]]
        diffuse = diffuse[p.index]
        n_pn = cover[cover["lesion_key"].eq("PN")].groupby("patient_id").size()
        kind = np.select([flags.loc[p.index, "neuronopathy"], flags.loc[p.index, "diffuse_sensory"]],
                         ["neuronopathy", "diffuse_sensory"], "polyneuropathy")
        parts.append(pd.DataFrame({
            "patient_id": p["patient_id"],
            "side": np.where(diffuse, np.where(flags.loc[p.index, "neuronopathy"],
                                               p["neuronopathy_side"].astype(object), "both"),
                             p["proximal_f_side"].astype(object)),
            "kind": np.where(diffuse, kind, "proximal_demyelinating"),
            "nerve": None, "element": None, "site": None, "localised": False,
            "label": np.where(diffuse, p["pn_text"], p["prox_text"]),
            "n_muscles_explained": p["patient_id"].map(n_pn).fillna(0).astype(int).to_numpy(),
            "findings": np.where(diffuse, map_text(p["patient_id"], pn_evidence),
                                 map_text(p["patient_id"], prox_evidence))}))
    if not parts:
        return pd.DataFrame(columns=LESION_COLUMNS)
    return pd.concat(parts, ignore_index=True)[LESION_COLUMNS].sort_values(
        ["patient_id", "kind"], kind="stable").reset_index(drop=True)


def _study_label(n: pd.DataFrame) -> pd.Series:
    """``median motor R``, ``sural sensory L``, ``blink reflex, stimulating L``."""
    side = map_text(n["side"], {"L": "L", "R": "R"})
    plain = n["nerve"].astype(str).str.replace("_", " ") + " " + n["study"].astype(str) + " " + side
    return pd.Series(np.where(n["study"].eq("blink"), "blink reflex, stimulating " + side, plain),
                     index=n.index)


def _judged(m: pd.DataFrame, basis: str) -> pd.Series:
    """Rows whose quantitative mean was judged against a reference (all rows of a table
    without the basis column)."""
    if basis not in m:
        return pd.Series(True, index=m.index)
    return m[basis].eq("quantitative_reference")


def _myopathic_details(m: pd.DataFrame) -> pd.Series:
    """What showed each muscle's myopathic MUAPs (interpret's ``myopathic``): a short
    duration read qualitatively or a judged mean below its lower limit, with a small amplitude
    where read; ``""`` for a muscle that is not myopathic."""
    myo = m["myopathic"].fillna(False).astype(bool)
    dur = np.where(myo & m["muap_duration"].eq("decreased"), "MUAP duration decreased", "")
    amp = np.where(myo & m["muap_amplitude"].eq("decreased"), "MUAP amplitude decreased", "")
    short = (myo & _judged(m, "muap_duration_basis")
             & (m["muap_duration_ms"] < m["reference_duration_lower_ms"]).fillna(False))
    q = np.where(short, "mean MUAP duration " + m["muap_duration_ms"].round(1).astype(str)
                 + " ms < " + m["reference_duration_lower_ms"].round(1).astype(str) + " ms", "")
    return pd.Series(join_nonempty([dur, amp, q], sep=", "), index=m.index, dtype=object)


def _myopathic_phrase(m: pd.DataFrame) -> pd.Series:
    """``myopathic MUAPs (MUAP duration decreased)`` for a myopathic muscle, else ``""``."""
    details = _myopathic_details(m)
    text = "myopathic MUAPs" + np.where(details.ne(""), " (" + details + ")", "")
    return pd.Series(np.where(m["myopathic"].fillna(False).astype(bool), text, ""),
                     index=m.index, dtype=object)


def _muscle_label(m: pd.DataFrame, anatomy: Anatomy) -> pd.Series:
    """Each muscle row named as every patient text names it: the display name, the sampled
    paraspinal level when one was given and the side (``"Cervical paraspinals (C3-C8) C7 R"``,
    ``"Deltoid L"``), from the typed ``muscle``, ``paraspinal_level`` and ``side`` columns."""
    name = m["muscle"].map(anatomy.muscles["display_name"]).fillna(m["muscle"]).astype(str)
    level = text_column(m, "paraspinal_level")
    name = name + np.where(level.notna(), " " + level.astype(str), "")
    return name + map_text(m["side"], {"L": " L", "R": " R"})


def _muscle_phrase(m: pd.DataFrame, anatomy: Anatomy) -> pd.Series:
    detail = []
    detail.append(np.where(m["acute"], "fibs " + m["fibs"].fillna("?") + ", PSW " + m["psw"].fillna("?"), ""))
    dur = np.where(m["muap_duration"].eq("increased"), "MUAP duration increased", "")
    amp = np.where(m["muap_amplitude"].eq("increased"), "MUAP amplitude increased", "")
    # a quantitative mean is named only where it was judged (muscles.csv *_basis)
    q = np.where(_judged(m, "muap_duration_basis")
                 & (m["muap_duration_ms"] > m["reference_duration_ms"]).fillna(False),
                 "mean MUAP duration " + m["muap_duration_ms"].round(1).astype(str) + " ms > "
                 + m["reference_duration_ms"].round(1).astype(str) + " ms", "")
    qa = np.where(_judged(m, "muap_amplitude_basis")
                  & (m["muap_amplitude_uv"] > m["reference_amplitude_uv"]).fillna(False),
                  "mean MUAP amplitude " + m["muap_amplitude_uv"].round(0).astype(str) + " µV > "
                  + m["reference_amplitude_uv"].round(0).astype(str) + " µV", "")
    # what showed the denervation, then (after a semicolon) what showed myopathic MUAPs
    details = join_nonempty([join_nonempty([detail[0], dur, amp, q, qa], sep=", "),
                             _myopathic_details(m)], sep="; ")
    return _muscle_label(m, anatomy) + " (" + m["reading"] + ": " + pd.Series(details, index=m.index) + ")"


def _emg_texts(mus: pd.DataFrame, anatomy: Anatomy
               ) -> tuple[pd.DataFrame, pd.Series, pd.Series, pd.Series, pd.Series]:
    """The denervated muscles and, per patient, their phrases, the number examined, the other
    findings (myopathic MUAPs first) of the muscles without denervation, and those muscles
    with myopathic MUAPs named with their side."""
    den = mus[mus["denervation"] & mus["included"]].copy()
    phrase = _muscle_phrase(den, anatomy) if len(den) else pd.Series(dtype=str)
    den_txt = group_join(den["patient_id"], phrase) if len(den) else pd.Series(dtype=str)
    n_exam = mus.groupby("patient_id").size()
    myo = mus["myopathic"].fillna(False).astype(bool)
    other = mus[(mus["other_findings"].ne("") | myo) & ~mus["denervation"]]
    label = _muscle_label(other, anatomy)
    myo_phrase = _myopathic_phrase(other)
    other_txt = label + ": " + pd.Series(join_nonempty([myo_phrase, other["other_findings"]],
                                                       sep="; "), index=other.index)
    other_txt = group_join(other["patient_id"], other_txt)
    # beside denervation elsewhere, a muscle with myopathic MUAPs is named on its own
    myo_rows = myo_phrase.ne("")
    myo_txt = group_join(other.loc[myo_rows, "patient_id"],
                         label[myo_rows] + ": " + myo_phrase[myo_rows])
    return den, den_txt, n_exam, other_txt, myo_txt


def _muscles_named(mus: pd.DataFrame, value: str,
                   anatomy: Anatomy) -> tuple[pd.Series, pd.Series]:
    """Per patient, the muscles whose ``muap_reading`` is ``value``, named (``"Biceps brachii
    R, Deltoid R"``) and counted (as text); both empty where no muscle is."""
    rows = mus[mus["muap_reading"].eq(value)]
    if not len(rows):
        return pd.Series(dtype=str), pd.Series(dtype=str)
    name = _muscle_label(rows, anatomy)
    names = group_join(rows["patient_id"], name, sep=", ")
    return names, rows.groupby("patient_id").size().reindex(names.index).astype(str)


def _not_read_texts(mus: pd.DataFrame, anatomy: Anatomy) -> pd.Series:
    """Per patient, the sentences naming the muscles whose MUAPs were not read or whose MUAP
    means were not judged (``muap_reading`` ``not_read`` / ``not_judged``), so that none of
    them reads as normal; absent for a patient whose MUAPs were all read."""
    if "muap_reading" not in mus:
        return pd.Series(dtype=str)
    n_exam = mus.groupby("patient_id").size()
    out = pd.Series(dtype=str)
    for value, words in (("not_read", "MUAPs not read"),
                         ("not_judged", "MUAP means not judged (no verified or laboratory "
                                        "reference row)")):
        names, count = _muscles_named(mus, value, anatomy)
        if not len(names):
            continue
        text = pd.Series(words + " in " + count + " of "
                         + n_exam.reindex(names.index).astype(str) + " muscle(s) (" + names
                         + "): chronic denervation was not looked for there.",
                         index=names.index)
        out = text if not len(out) else pd.concat([out, text]).groupby(level=0).agg(" ".join)
    return out


def _read_texts(mus: pd.DataFrame, anatomy: Anatomy) -> pd.Series:
    """Per patient, the muscles whose MUAPs were read (``muap_reading`` ``read``), counted and
    named: ``"2 read (Biceps brachii R, Deltoid R)"``; absent for a patient with none."""
    if "muap_reading" not in mus:
        return pd.Series(dtype=str)
    names, count = _muscles_named(mus, "read", anatomy)
    return pd.Series(count + " read (" + names + ")", index=names.index, dtype=str)


def _evidence_text(n: pd.DataFrame) -> pd.Series:
    """Each nerve's flagged values and, where its limb was recorded below the temperature
    limit (interpret's ``cooled``), the temperature beside the limit, in brackets ('' where
    there are neither): the caution stands beside the finding it concerns."""
    cooled = flag_column(n, "cooled")
    number = pd.Series(_shortest(n["temperature_c"]) if "temperature_c" in n else "",
                       index=n.index)
    limit = pd.Series(_shortest(n["temperature_limit_c"]) if "temperature_limit_c" in n
                      else "", index=n.index)
    note = np.where(cooled, fill(_FLAGGED_WORDS["cooled"], n.index, temperature=number,
                                 limit=limit), "")
    inner = join_nonempty([n["flagged_values"].fillna("").astype(str), note],
                          sep=_FLAGGED_WORDS["join"])
    return pd.Series(np.where(inner != "", " [" + inner.astype(object) + "]", ""),
                     index=n.index, dtype=object)


def _shortest(values: pd.Series) -> list[str]:
    """Numbers as the shortest text (``26``, ``29.5``); '' where missing."""
    return [f"{v:g}" if pd.notna(v) else "" for v in pd.to_numeric(values, errors="coerce")]


def _ncs_texts(n: pd.DataFrame) -> pd.Series:
    """Per patient: the nerves counted as neuropathy evidence, with their flagged values."""
    counted = n[n["counts"]] if len(n) else n
    if len(counted):
        ntxt = (_study_label(counted) + " — " + counted["reading"].astype(str)
                + _evidence_text(counted))
        ncs_txt = group_join(counted["patient_id"], ntxt)
    else:
        ncs_txt = pd.Series(dtype=str)
    return ncs_txt


#: an age-caveated lower-limb SNAP's side comparison (``_apply_age_rule``), in the reason it
#: is not counted: "symmetric" only where both sides were measured and within the side ratio
_AGE_PAIR_WORDS = {
    "symmetric": "symmetric and isolated",
    "other_side_not_studied": "isolated, the other side not studied",
    "larger_of_asymmetric_pair": "the larger of an asymmetric pair, whose smaller one counts",
    "not_compared": "isolated, the sides not compared",
}


def _not_counted_texts(n: pd.DataFrame, lesions: pd.DataFrame, anatomy: Anatomy, rules) -> pd.Series:
    """Per patient: the abnormal nerves not counted as neuropathy, each with the reason."""
    not_counted = n[n["abnormal"] & ~n["counts"]] if len(n) else n
    if len(not_counted):
        low_cmap = not_counted["study"].eq("motor") & (
            not_counted["axonal"].fillna(False).astype(bool) | not_counted["absent"].fillna(False).astype(bool))
        # "normal sensory responses" only when the SNAPs of the same limb on the same side were
        # measured and all normal
        sens = n[n["study"].eq("sensory")]
        limb_sens = sens.groupby(["patient_id", "limb", "side"]).agg(n_s=("abnormal", "size"),
                                                                    n_abn=("abnormal", "sum"))
        ls = limb_sens.reindex(pd.MultiIndex.from_arrays(
            [not_counted["patient_id"], not_counted["limb"], not_counted["side"]]))
        sens_normal = ((ls["n_s"].fillna(0) > 0) & (ls["n_abn"].fillna(0) == 0)).to_numpy()
        sens_phrase = np.where(sens_normal, " with normal sensory responses in the same limb",
                               np.where(ls["n_s"].fillna(0).to_numpy() > 0,
                                        " (the limb's sensory findings are listed separately)",
                                        " (no sensory response of that limb measured)"))
        central = not_counted["blink_pattern"].isin(["pontine", "medullary"]).to_numpy()
        # a low CMAP of a nerve with a lesion named above (of the nerve itself, or of the nerve
        # it is a division of) is that lesion's axon loss
        les_keys = lesions[["patient_id", "nerve", "side"]].dropna().drop_duplicates().assign(_les=True)
        nc_keys = not_counted[["patient_id", "nerve", "side"]]
        of_lesion = (nc_keys.merge(les_keys, on=["patient_id", "nerve", "side"], how="left")["_les"].notna()
                     | nc_keys.assign(nerve=whole_nerve(nc_keys["nerve"], anatomy)).merge(
                         les_keys, on=["patient_id", "nerve", "side"], how="left")["_les"].notna()).to_numpy()
        low = low_cmap.to_numpy()
        # an age-caveated SNAP: what its side comparison showed (_apply_age_rule's _age_pair)
        pair = text_column(not_counted, "_age_pair")
        age_reason = (f"lower-limb SNAP at age ≥ {rules['sensory_age']['age_years']:g}, "
                      + pair.map(_AGE_PAIR_WORDS).fillna("").astype(str))
        reason = np.select(
            [not_counted["age_caveat"].to_numpy(dtype=bool), central, low & of_lesion, low],
            [age_reason,
             not_counted["blink_pattern"].astype(str) + " blink-reflex pattern: central (brainstem), "
             "not a neuropathy (spec §4.1)",
             "axon loss of the " + not_counted["nerve"].astype(str).str.replace("_", " ")
             + " nerve, part of the lesion named above",
             "reduced CMAP without demyelinating features" + pd.Series(sens_phrase, index=not_counted.index)
             + " — not a neuropathy by itself"],
            "outside its limit but short of any neuropathy criterion")
        nc = (_study_label(not_counted) + _evidence_text(not_counted)
              + " (" + reason + ")")
        nc_txt = group_join(not_counted["patient_id"], nc)
    else:
        nc_txt = pd.Series(dtype=str)
    return nc_txt


def _explained_texts(den: pd.DataFrame, anatomy: Anatomy) -> tuple[pd.Series, pd.Series]:
    """Per patient: the denervated muscles NCS accounts for (and by what), and those it does not."""
    un = den[~den["explained_by_ncs"]]
    ex = den[den["explained_by_ncs"]]
    ex_txt = (_muscle_label(ex, anatomy) + " by " + ex["explained_by"]
              ) if len(ex) else pd.Series(dtype=str)
    ex_txt = group_join(ex["patient_id"], ex_txt) if len(ex) else ex_txt
    un_txt = _muscle_label(un, anatomy) if len(un) else pd.Series(dtype=str)
    un_txt = group_join(un["patient_id"], un_txt, sep=", ") if len(un) else un_txt
    return ex_txt, un_txt


def _explain(pts: pd.DataFrame, mus: pd.DataFrame, n: pd.DataFrame, lesions: pd.DataFrame,
             matched_lesion: pd.Series, anatomy: Anatomy, rules) -> pd.Series:
    """One plain-language paragraph per patient, built from the same tables as the results."""
    pid = pts["patient_id"]
    den, den_txt, n_exam, other_txt, myo_txt = _emg_texts(mus, anatomy)
    not_read_txt = _not_read_texts(mus, anatomy)
    ncs_txt = _ncs_texts(n)
    nc_txt = _not_counted_texts(n, lesions, anatomy, rules)
    # studies without a reference limit were not read: never "no neuropathy" about them
    # (a whole study, or a SNAP's recording site beside another that was read)
    sites = text_column(n, "uninterpreted_recordings").fillna("")
    whole = flag_column(n, "not_interpreted")
    uninterpreted = n[whole | sites.ne("")] if len(n) else n
    un_label = (_study_label(uninterpreted) + np.where(
        sites[uninterpreted.index].ne(""),
        " (recording " + sites[uninterpreted.index].str.replace("|", ", ", regex=False) + ")", "")
                ) if len(uninterpreted) else pd.Series(dtype=str)
    un_ncs_txt = (group_join(uninterpreted["patient_id"], un_label, sep=", ")
                  if len(uninterpreted) else pd.Series(dtype=str))
    ex_txt, un_txt = _explained_texts(den, anatomy)
    unlevelled = den[~den["explained_by_ncs"] & _unlevelled_paraspinal(den)]
    unlevelled_txt = (group_join(unlevelled["patient_id"], _muscle_label(unlevelled, anatomy), sep=", ")
                      if len(unlevelled) else pd.Series(dtype=str))

    def get(series: pd.Series) -> pd.Series:
        return map_text(pid, series) if len(series) else pd.Series("", index=pts.index)

    parts = []
    parts.append(np.where(~pts["included"], "Excluded: " + pts["exclusion_reason"] + ".", ""))
    parts.append(np.where(pts["included"] & pts["emg_denervation"],
                          "EMG: denervation (" + pts["denervation_type"].str.replace("_", " ") + ") in "
                          + get(den_txt) + f" [rule: fibs/PSW ≥ {rules['emg']['acute_min_grade']:g}+ = acute; increased MUAP duration or "
                          "amplitude = chronic].", ""))
    parts.append(np.where(pts["included"] & pts["emg_denervation"] & get(myo_txt).ne(""),
                          "Not denervation: " + get(myo_txt) + ".", ""))
    # said muscle by muscle: every muscle examined at rest without denervation; beyond rest,
    # no denervation is claimed but in the muscles whose MUAPs were read (a patient with a
    # muscle not read or not judged, not_read_txt's index, has them named in the next
    # sentence; one whose every muscle was read is plainly without denervation)
    some_unread = pid.isin(not_read_txt.index)
    read_txt = _read_texts(mus[mus["patient_id"].isin(not_read_txt.index)], anatomy)
    beyond_rest = np.where(get(read_txt).ne(""), ", nor in the MUAPs of the " + get(read_txt), "")
    at_rest = np.where(some_unread, " at rest", "")
    parts.append(np.where(pts["included"] & ~pts["emg_denervation"],
                          "EMG: no denervation" + at_rest + " in "
                          + pid.map(n_exam).fillna(0).astype(int).astype(str)
                          + " muscle(s) examined" + beyond_rest + np.where(get(other_txt).ne(""),
                                                              "; not denervation: " + get(other_txt), "")
                          + ".", ""))
    parts.append(np.where(pts["included"] & get(not_read_txt).ne(""), get(not_read_txt), ""))
    parts.append(np.where(pts["included"] & pts["ncs_neuropathy"],
                          "NCS: " + pts["neuropathy_pattern"] + " — " + get(ncs_txt) + ".", ""))
    some_uninterpreted = get(un_ncs_txt).ne("")
    parts.append(np.where(pts["included"] & ~pts["ncs_neuropathy"],
                          np.where(some_uninterpreted,
                                   "NCS: no peripheral or cranial neuropathy in the studies "
                                   "interpreted.", "NCS: no peripheral or cranial neuropathy."), ""))
    parts.append(np.where(pts["included"] & some_uninterpreted,
                          "Not interpreted (no reference limit): " + get(un_ncs_txt) + ".", ""))
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
                          + " → corresponding MRI lesion.", ""))
    parts.append(np.where(pts["lmn_involvement"] & ~pts["lmn_with_corresponding_mri"],
                          np.where(mri_some, "MRI: brainstem/cord lesions at " + pts["_mri_all"]
                                   + " do not cover " + pts["lmn_segments"] + ".",
                                   "MRI: no brainstem or spinal cord lesion recorded."), ""))
    parts.append(np.where(pts["lmn_involvement"] & get(unlevelled_txt).ne(""),
                          "Paraspinal level not given (" + get(unlevelled_txt) + "): an unknown "
                          "sampling level does not establish the segment, so its region's segments "
                          "are not matched against MRI.", ""))
    return pd.Series(join_nonempty(parts, sep=" "), index=pts.index)
