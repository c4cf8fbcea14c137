"""Localisation of the peripheral lesions found on NCS (spec §4.1).

Plexus elements are found from the abnormal SNAPs whose fibres pass through an element and the
denervated muscles it supplies, with the muscles supplied above it (root-level nerves,
paraspinals) spared. Every step is a join or a group-by over the whole cohort's tables; the
greedy choice of the fewest elements runs a fixed, small number of rounds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._words import english_words
from ..knowledge import Anatomy

_KEY = ["patient_id", "side"]


def _above_blocked(muscles: pd.DataFrame, anatomy: Anatomy) -> pd.DataFrame:
    """(patient, side, element) pairs whose roots show denervation in muscles supplied above
    the plexus (``plexus_element`` = root, or paraspinal muscles)."""
    m = muscles[muscles["denervation"]]
    above = m["muscle"].map(anatomy.muscles["plexus_element"]).eq("root") | m["region"].eq("paraspinal")
    m = m[above.fillna(False)]
    if not len(m):
        return pd.DataFrame(columns=_KEY + ["element"])
    seg = m[_KEY + ["segments"]].assign(segment=m["segments"].astype(str).str.split("|")).explode("segment")
    roots = anatomy.plexus["roots_list"].explode().rename("segment").reset_index()
    blocked = seg.merge(roots, on="segment")[_KEY + ["element"]].drop_duplicates()
    return blocked


def whole_nerve(nerve: pd.Series, anatomy: Anatomy) -> pd.Series:
    """The nerve each nerve is a division of (``nerves.csv`` ``division_of``: tibial and
    peroneal → sciatic), or the nerve itself."""
    return nerve.map(anatomy.nerves["division_of"]).fillna(nerve)


def _snap_elements(snaps: pd.DataFrame, anatomy: Anatomy) -> pd.DataFrame:
    """``patient_id, side, nerve, element, unit``: each SNAP once per plexus element its fibres
    pass through (``sensory_nerves.csv``), with the peripheral nerve it counts for (its parent;
    the divisions of one nerve, tibial and peroneal, are that nerve)."""
    sens = anatomy.sensory
    s = snaps[_KEY + ["nerve"]].drop_duplicates()
    s = s.assign(element=s["nerve"].map(sens["elements"])).explode("element").dropna(subset=["element"])
    return s.assign(unit=whole_nerve(s["nerve"].map(sens["parent_nerve"]).fillna(s["nerve"]), anatomy))


def without_rows(frame: pd.DataFrame, rows: pd.DataFrame, on: list[str]) -> pd.DataFrame:
    """``frame`` less its rows that match ``rows`` on ``on``."""
    hit = frame[on].merge(rows[on].drop_duplicates().assign(_hit=True), on=on, how="left")["_hit"]
    return frame[hit.isna().to_numpy()]


def plexus_lesions(snaps: pd.DataFrame, muscles: pd.DataFrame, anatomy: Anatomy,
                   rules: dict, normal_snaps: pd.DataFrame | None = None
                   ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The plexus elements that explain abnormal SNAPs and denervated muscles, fewest first.

    Each round names, on each side, the element with the most evidence (its abnormal SNAPs
    and denervated muscles, less its normal muscles) among those with a SNAP, a denervated
    muscle not yet explained, muscles of ``plexus_min_nerves`` nerves and no denervation above
    the plexus at its roots. A SNAP an element already chosen accounts for supports a further
    element only when none of that element's SNAPs measured on the side is normal: the median
    and radial SNAPs carry upper- and middle-trunk fibres, so in a pan-plexopathy they are the
    middle trunk's evidence too, while a normal SNAP of an element shows its fibres spared.

    Parameters
    ----------
    snaps : DataFrame
        ``patient_id, side, nerve``: abnormal SNAPs counted as neuropathy evidence and not
        part of a polyneuropathy.
    muscles : DataFrame
        Every muscle examined: ``_mid, patient_id, side, muscle, nerve, region, segments,
        denervation``.
    normal_snaps : DataFrame, optional
        ``patient_id, side, nerve``: SNAPs measured and normal.

    Returns
    -------
    lesions : DataFrame
        ``patient_id, side, element, n_snaps, n_muscles, snap_nerves``.
    covered_snaps : DataFrame
        ``patient_id, side, nerve, element``: the SNAPs each element accounts for.
    covered_muscles : DataFrame
        ``_mid, element``: the denervated muscles each element explains.
    """
    empty = (pd.DataFrame(columns=_KEY + ["element", "n_snaps", "n_muscles", "snap_nerves"]),
             pd.DataFrame(columns=_KEY + ["nerve", "element"]), pd.DataFrame(columns=["_mid", "element"]))
    if not len(snaps) or not len(muscles):
        return empty
    min_nerves = rules["localisation"]["plexus_min_nerves"]
    # a plexopathy needs muscles of at least two peripheral nerves (guide §2.8): a SNAP counts
    # for its parent nerve, and the divisions of one nerve (tibial, peroneal) are that nerve
    s = _snap_elements(snaps, anatomy)
    key = _KEY + ["element"]
    spared = (_snap_elements(normal_snaps, anatomy)[key].drop_duplicates()
              if normal_snaps is not None and len(normal_snaps) else pd.DataFrame(columns=key))
    # the SNAPs that stay evidence for an element after another element has used them
    reusable = without_rows(s, spared, key)
    muscles = muscles[muscles["patient_id"].isin(s["patient_id"])]
    me = muscles[["_mid"] + _KEY + ["muscle", "nerve", "denervation"]].merge(
        anatomy.muscle_elements, on="muscle")
    blocked = _above_blocked(muscles, anatomy)
    chosen = []
    for _ in range(rules["localisation"]["max_plexus_elements_per_side"]):
        pool = pd.concat([s, reusable]).drop_duplicates(key + ["nerve"])
        if not len(pool):
            break
        den = me[me["denervation"]]
        n_snap = pool.groupby(key)["nerve"].nunique().rename("n_snaps")
        n_mus = den.groupby(key)["_mid"].nunique().rename("n_muscles")
        n_norm = me[~me["denervation"]].groupby(key)["_mid"].nunique().rename("n_normal")
        units = pd.concat([pool[key + ["unit"]], den[key].assign(unit=whole_nerve(den["nerve"], anatomy))])
        n_units = units.groupby(key)["unit"].nunique().rename("n_nerves")
        cand = pd.concat([n_snap, n_mus, n_norm, n_units], axis=1).fillna(0).reset_index()
        cand = cand.merge(blocked.assign(_blocked=True), on=key, how="left")
        ok = ((cand["n_snaps"] >= 1) & (cand["n_muscles"] >= 1) & (cand["n_nerves"] >= min_nerves)
              & cand["_blocked"].isna())
        cand = cand[ok]
        if not len(cand):
            break
        cand["score"] = cand["n_snaps"] + cand["n_muscles"] - cand["n_normal"]
        cand["order"] = cand["element"].map(anatomy.plexus["order"])
        best = cand.sort_values(_KEY + ["score", "order"], ascending=[True, True, False, True]
                                ).drop_duplicates(_KEY)
        chosen.append(best[key + ["n_snaps", "n_muscles"]])
        # what the chosen elements cover leaves the next round
        s = without_rows(s, s.merge(best[key], on=key), _KEY + ["nerve"])
        cov_m = me.merge(best[key], on=key)["_mid"]
        me = me[~me["_mid"].isin(cov_m) | ~me["denervation"]]
    if not chosen:
        return empty
    lesions = pd.concat(chosen, ignore_index=True)
    covered_snaps = _snap_elements(snaps, anatomy).merge(lesions[key], on=key)[_KEY + ["nerve", "element"]]
    den_all = muscles[muscles["denervation"]][["_mid"] + _KEY + ["muscle"]].merge(
        anatomy.muscle_elements, on="muscle")
    covered_muscles = den_all.merge(lesions[key], on=key)[["_mid", "element"]].drop_duplicates()
    names = covered_snaps.groupby(key)["nerve"].agg(lambda x: "|".join(dict.fromkeys(x)))
    lesions = lesions.merge(names.rename("snap_nerves").reset_index(), on=key, how="left")
    return lesions, covered_snaps, covered_muscles


def sensory_plexus_lesions(snaps: pd.DataFrame, lost: pd.DataFrame, normal_snaps: pd.DataFrame,
                           muscles: pd.DataFrame, anatomy: Anatomy, rules: dict
                           ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Plexus elements found from SNAPs alone (spec §4.1, the fewest sites).

    On a side, SNAP loss confined to one element — every SNAP in ``snaps`` of that side passes
    through it, they belong to at least ``plexus_min_nerves`` peripheral nerves, and none of
    them is lost on the other side as well — is one lesion of that element, not one lesion per
    nerve nor a diffuse (neuronopathy) process, unless muscles supplied above the plexus at
    its roots are denervated (the lesion reaches the roots: spec §4.1 asks for their sparing).
    Where several elements hold them all, the one with the fewest SNAPs measured normal on
    that side is named (then the table's order).

    Parameters
    ----------
    snaps : DataFrame
        ``patient_id, side, nerve``: the abnormal SNAPs no lesion accounts for, on sides
        where no plexus element explains muscles.
    lost : DataFrame
        ``patient_id, side, nerve``: every abnormal SNAP (either side).
    normal_snaps : DataFrame
        ``patient_id, side, nerve``: SNAPs measured and normal.
    muscles : DataFrame
        Every muscle examined, as for :func:`plexus_lesions`.

    Returns
    -------
    lesions : DataFrame
        ``patient_id, side, element, n_snaps, n_muscles (0), snap_nerves``.
    covered_snaps : DataFrame
        ``patient_id, side, nerve, element``.
    """
    key = _KEY + ["element"]
    empty = (pd.DataFrame(columns=key + ["n_snaps", "n_muscles", "snap_nerves"]),
             pd.DataFrame(columns=_KEY + ["nerve", "element"]))
    if not len(snaps):
        return empty
    snaps = snaps[_KEY + ["nerve"]].drop_duplicates()
    other = lost[_KEY + ["nerve"]].assign(side=lost["side"].map({"L": "R", "R": "L"}))
    both = snaps.merge(other, on=_KEY + ["nerve"])
    snaps = without_rows(snaps, both, _KEY)
    s = _snap_elements(snaps, anatomy)
    if not len(s):
        return empty
    n_side = snaps.groupby(_KEY)["nerve"].nunique().rename("n_side")
    cand = s.groupby(key).agg(n_snaps=("nerve", "nunique"), n_nerves=("unit", "nunique")).reset_index()
    cand = cand.merge(n_side.reset_index(), on=_KEY)
    cand = cand[cand["n_snaps"].eq(cand["n_side"])
                & (cand["n_nerves"] >= rules["localisation"]["plexus_min_nerves"])]
    cand = without_rows(cand, _above_blocked(muscles, anatomy), key)
    if not len(cand):
        return empty
    normal = (_snap_elements(normal_snaps, anatomy).groupby(key)["nerve"].nunique().rename("n_normal")
              if len(normal_snaps) else pd.Series(dtype=float, name="n_normal"))
    cand = cand.merge(normal.reset_index(), on=key, how="left") if len(normal) else cand.assign(n_normal=0)
    cand["n_normal"] = cand["n_normal"].fillna(0)
    cand["order"] = cand["element"].map(anatomy.plexus["order"])
    best = cand.sort_values(_KEY + ["n_normal", "order"]).drop_duplicates(_KEY)
    covered = s.merge(best[key], on=key)[_KEY + ["nerve", "element"]]
    names = covered.groupby(key)["nerve"].agg(lambda x: "|".join(dict.fromkeys(x)))
    lesions = best[key + ["n_snaps"]].assign(n_muscles=0).merge(
        names.rename("snap_nerves").reset_index(), on=key, how="left")
    return lesions.reset_index(drop=True), covered


def one_element_patients(snaps: pd.DataFrame, anatomy: Anatomy) -> pd.Index:
    """The patients whose SNAPs (``patient_id, side, nerve``) all lie on one side and all pass
    through one plexus element (``sensory_nerves.csv``): a focal loss, not a diffuse one."""
    s = snaps[_KEY + ["nerve"]].drop_duplicates()
    if not len(s):
        return pd.Index([], name="patient_id")
    one_side = s.groupby("patient_id")["side"].nunique().eq(1)
    n_nerves = s.groupby("patient_id")["nerve"].nunique()
    e = _snap_elements(s, anatomy)
    held = e.groupby(["patient_id", "element"])["nerve"].nunique().groupby("patient_id").max()
    whole = held.reindex(n_nerves.index).eq(n_nerves)
    return n_nerves.index[(one_side & whole).to_numpy()]


def plexus_label(lesions: pd.DataFrame, anatomy: Anatomy) -> pd.Series:
    """``plexopathy (brachial, upper trunk)`` for each plexus lesion; ``plexopathy (brachial,
    upper trunk, sensory)`` for one found from its SNAPs alone (``n_muscles`` 0)."""
    p = anatomy.plexus
    sensory = pd.to_numeric(lesions["n_muscles"], errors="coerce").eq(0)
    return ("plexopathy (" + lesions["element"].map(p["plexus"]).astype(str) + ", "
            + lesions["element"].map(p["display_name"]).astype(str)
            + pd.Series(np.where(sensory, ", " + english_words("studies")["sensory"], ""),
                        index=lesions.index) + ")")


def confined(unloc: pd.DataFrame, remaining: pd.DataFrame, anatomy: Anatomy) -> pd.DataFrame:
    """Unlocalised nerve lesions and the denervated muscles of their own nerve they explain.

    Spec §4.1: a muscle is accounted for when one of the peripheral lesions found supplies
    it, with the fewest sites. A nerve lesion found on NCS explains its own nerve's
    denervated muscles whatever else is denervated on that side, unless those muscles are
    part of a wider myotomal pattern: a remaining denervated muscle of another nerve on the
    same side, in the same region, shares one of their cord segments (or brainstem
    nucleus). One preganglionic lesion at those segments (root or anterior horn, spec §4.1)
    then accounts for the nerve's muscles together with the others, and the nerve lesion
    explains none of them.

    Parameters
    ----------
    unloc : DataFrame
        ``patient_id, side, lesion_nerve``: nerve lesions without a localised site.
    remaining : DataFrame
        Denervated muscles not explained by a localised lesion, a plexus element or a
        polyneuropathy: ``_mid, patient_id, side, nerve, muscle, segments, nucleus``
        (``segments``: ``C5|C6``; ``nucleus`` where the muscle has no cord segment).

    Returns
    -------
    DataFrame
        ``_mid, patient_id, side, lesion_nerve, confined_to``: the muscles each lesion
        explains (``confined_to`` is its nerve). A lesion of a division of a larger nerve
        (``nerves.csv`` ``division_of``: tibial and peroneal → sciatic) with denervated
        muscles of the other division too claims the larger nerve's muscles
        (``confined_to`` is the larger nerve: spec §4.1, sural → tibial/sciatic). A muscle
        whose side is not given may lie on either side: it is never explained here, and one
        of another nerve sharing a segment keeps the lesions on both sides from explaining.
    """
    cols = ["_mid", "patient_id", "side", "lesion_nerve", "confined_to"]
    if not len(unloc) or not len(remaining):
        return pd.DataFrame(columns=cols)
    m = anatomy.muscles
    nerve_region = m.reset_index().groupby("nerve")["als_region"].first()
    u = unloc[["patient_id", "side", "lesion_nerve"]].drop_duplicates()
    u["region"] = u["lesion_nerve"].map(nerve_region)
    u["whole"] = whole_nerve(u["lesion_nerve"], anatomy)
    segments = remaining["segments"].astype(object).where(remaining["segments"].notna(), "")
    nucleus = remaining["nucleus"].astype(object).where(remaining["nucleus"].notna(), "")
    r = remaining.assign(region=remaining["muscle"].map(m["als_region"]),
                         muscle_whole=whole_nerve(remaining["nerve"], anatomy),
                         _sided=remaining["side"].notna(),
                         _segs=segments.astype(str).where(segments.astype(str).ne(""),
                                                          nucleus.astype(str)))
    # a muscle without a side stands on both sides: it can only keep a lesion from explaining
    blank = r[~r["_sided"]]
    r = pd.concat([r[r["_sided"]], blank.assign(side="L"), blank.assign(side="R")], ignore_index=True)
    j = u.merge(r, on=["patient_id", "side", "region"]).reset_index(drop=True)
    if not len(j):
        return pd.DataFrame(columns=cols)
    lesion_key = ["patient_id", "side", "lesion_nerve"]
    j["own"] = j["nerve"].eq(j["lesion_nerve"])
    of_whole = j["muscle_whole"].eq(j["whole"]) & j["whole"].ne(j["lesion_nerve"])
    other_division = (of_whole & ~j["own"]).groupby([j[k] for k in lesion_key]).transform("any")
    j["claim"] = j["own"] | (other_division & of_whole)
    j["confined_to"] = np.where(other_division, j["whole"], j["lesion_nerve"])
    # the claimed muscles' segments against those of every other remaining muscle
    seg = j[lesion_key + ["claim"]].assign(segment=j["_segs"].str.split("|")).explode("segment")
    seg = seg[seg["segment"].notna() & seg["segment"].ne("")].drop_duplicates()
    shared = seg[seg["claim"]].merge(seg[~seg["claim"]], on=lesion_key + ["segment"])
    wider = shared[lesion_key].drop_duplicates().assign(_wider=True)
    j = j.merge(wider, on=lesion_key, how="left")
    keep = j["claim"] & j["_sided"] & j["_wider"].isna()
    return j[keep][cols].drop_duplicates()


def fold_sites(c: pd.DataFrame, anatomy: Anatomy) -> pd.DataFrame:
    """Where each unlocalised finding meets the localised lesions of its nerve (spec §4.1).

    A finding without a site of its own belongs to a localised lesion of its lesion nerve only
    when that lesion lies at or proximal to where the finding's fibres leave the nerve: a
    branch SNAP's branch point (``sensory_nerves.csv`` ``branch_rank``, on the axis of
    ``nerve_sites.csv``); a finding without a branch point runs the whole nerve. A branch that
    leaves the nerve proximal to every localised site (the dorsal ulnar cutaneous above a
    wrist latency) cannot be explained by them: the lesion lies proximal to the branch.

    Parameters
    ----------
    c : DataFrame
        Candidate findings: ``patient_id, lesion_nerve, side, nerve, study, localised,
        lesion_site, lesion_rank``.

    Returns
    -------
    DataFrame
        Indexed like ``c``: ``fold_site`` and ``fold_rank``, the localised lesion an
        unlocalised finding joins (the nearest one at or proximal to its branch point; missing
        when it joins none), and ``proximal`` (bool), true for an unlocalised finding whose
        branch point lies proximal to every localised site of its nerve and side.
    """
    key = ["patient_id", "lesion_nerve", "side"]
    out = pd.DataFrame({"fold_site": pd.Series(None, index=c.index, dtype=object),
                        "fold_rank": np.nan, "proximal": False}, index=c.index)
    localised = c["localised"].fillna(False).astype(bool)
    if not len(c) or not localised.any() or localised.all():
        return out
    point = c["nerve"].map(anatomy.sensory["branch_rank"]).where(c["study"].eq("sensory"))
    unloc = c.loc[~localised, key].assign(point=point[~localised], _row=c.index[~localised])
    sites = c.loc[localised, key + ["lesion_site", "lesion_rank"]].drop_duplicates(key + ["lesion_site"])
    j = unloc.merge(sites, on=key)
    if not len(j):
        return out
    # a site without a rank, or a finding without a branch point, is not compared
    at_or_above = j["lesion_rank"].isna() | j["point"].isna() | (j["lesion_rank"] <= j["point"])
    nearest = j[at_or_above].sort_values("lesion_rank", na_position="first").drop_duplicates(
        "_row", keep="last").set_index("_row")
    out.loc[nearest.index, "fold_site"] = nearest["lesion_site"]
    out.loc[nearest.index, "fold_rank"] = nearest["lesion_rank"]
    out.loc[j.loc[~j["_row"].isin(nearest.index), "_row"].unique(), "proximal"] = True
    return out
