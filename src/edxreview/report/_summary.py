"""The plain-language summary and the reasoning table of each patient page.

Decisions are read from typed columns (``patients``' classifications, ``muscles``'
denervation and ``explained_by_ncs``, ``lesions``, ``findings``); the words come last, from a
label file (``data/labels_<lang>.toml``). Rule ids never enter the prose: they are a
column of the reasoning table, with the rule in words as its tooltip.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._words import load_labels
from ._edx import display_names, format_number, load_layout, site_names
from .._tables import fill, flag_column, isin, text_column
from ._frames import split_records
from ._readings import exclusion_words, nerve_words, segment_words, side_words
from ..interpret._readings import site_words


def nerve_study_words(nerves: pd.Series, studies: pd.Series, labels: dict[str, Any],
                      lang: str, template: str, as_written: bool = False) -> pd.Series:
    """How a nerve recording is named in text: the nerve's name and its study's, by
    ``template`` (fields ``nerve`` and ``study``: ``median motor``, ``正中神经运动``,
    ``median (motor)``).

    The nerve is named by :func:`~edxreview.report._readings.nerve_words`, the study by the
    label file's ``studies`` (one it does not name as written, ``_`` as spaces). A recording
    whose nerve is named as its study is (the blink reflex), or that lacks one of the two, is
    named once. ``as_written``: both ids as the tables write them, ``_`` as spaces (the
    English figure and lesion findings).
    """
    index = nerves.index                  # may repeat (one row per item of a list)
    nerves = nerves.astype(object).reset_index(drop=True)
    studies = studies.astype(object).reset_index(drop=True)
    written = studies.fillna("").astype(str).str.replace("_", " ", regex=False)
    if as_written:
        nerve = nerves.fillna("").astype(str).str.replace("_", " ", regex=False)
        study = written
    else:
        nerve = nerve_words(nerves, labels, lang).fillna("").astype(str)
        study = studies.map(labels["studies"]).fillna(written).astype(str)
    both = fill(template, nerves.index, nerve=nerve, study=study)
    once = (nerve == study) | (nerve == "") | (study == "")
    return both.where(~once, nerve.where(nerve != "", study)).set_axis(index)


def _dash(text: pd.Series) -> pd.Series:
    """Segment ranges with an en dash (``C5-C7`` → ``C5–C7``)."""
    return text.fillna("").astype(str).str.replace(r"(?<=\w)-(?=\w)", "–", regex=True)


def _name_list(rows: pd.DataFrame, group: pd.Series, labels: dict[str, Any],
               lang: str = "en") -> pd.Series:
    """The muscles of ``rows`` named with their side (one name for both sides), joined per
    patient and ``group``: a Series indexed by (patient_id, group).

    A paraspinal sampled at a stated level (``paraspinal_level``) is named with it, as the
    explanation in ``patients`` names it, so two levels are two muscles."""
    s = labels["summary"]
    muscle = rows["muscle"].astype(object).reset_index(drop=True)
    names = muscle.map(display_names("muscle", lang)).fillna(muscle.astype(str))
    level = text_column(rows, "paraspinal_level").reset_index(drop=True)
    names = names.where(level.isna(), fill(s["muscle_level"], names.index, muscle=names,
                                           level=level))
    frame = pd.DataFrame({
        "patient_id": rows["patient_id"].astype(str).to_numpy(),
        "group": np.asarray(group),
        "name": names.to_numpy(),
        "side": rows["side"].astype(object).fillna("").astype(str).to_numpy()})
    per = frame.groupby(["patient_id", "group", "name"], sort=False)["side"].agg(
        ["nunique", "first"]).reset_index()
    first = per["first"].astype(object)
    if lang == "en":
        sides = np.where(per["nunique"] > 1, f" ({s['both_sides']})",
                         np.where(first != "", " " + first, ""))
    else:                                   # side before the name: 左侧拇短展肌
        side_words = labels["sides"]
        sides = np.where(per["nunique"] > 1, side_words["both"],
                         first.map(side_words).fillna(""))
        per["name"], sides = pd.Series(sides, index=per.index, dtype=object), per["name"]
    per["text"] = per["name"].astype(object) + pd.Series(sides, index=per.index, dtype=object)
    return per.groupby(["patient_id", "group"], sort=False)["text"].agg(s["list"].join)


def _not_read_list(muscles: pd.DataFrame, labels: dict[str, Any], lang: str = "en",
                   value: str = "not_read") -> tuple[pd.Series, pd.Series]:
    """Per patient: the muscles whose ``muap_reading`` is ``value`` (``not_read``: MUAPs not
    read; ``not_judged``: MUAP means not judged; ``read``), as text, and how many rows they
    are."""
    if "muap_reading" not in muscles:
        return pd.Series(dtype=object), pd.Series(dtype=int)
    nr = muscles[muscles["muap_reading"].eq(value)]
    if not len(nr):
        return pd.Series(dtype=object), pd.Series(dtype=int)
    names = _name_list(nr, np.zeros(len(nr), dtype=bool), labels, lang).droplevel("group")
    return names, nr.groupby(nr["patient_id"].astype(str)).size()


def _muscle_lists(muscles: pd.DataFrame, labels: dict[str, Any],
                  lang: str = "en") -> pd.DataFrame:
    """Per patient: the denervated muscles explained and not explained by NCS, as text."""
    den = muscles[muscles["denervation"].astype(bool)]
    if not len(den):
        return pd.DataFrame(columns=["explained", "unexplained"])
    joined = _name_list(den, den["explained_by_ncs"].fillna(False).astype(bool), labels, lang)
    wide = joined.unstack("group")
    return pd.DataFrame({"explained": wide.get(True), "unexplained": wide.get(False)},
                        index=wide.index)


def _lesion_words(lesions: pd.DataFrame, labels: dict[str, Any], lang: str) -> pd.Series:
    """Each lesion in words: its label (English), or kind, nerve, site and side (others)."""
    if lang == "en":
        return lesions["label"].astype(str).reset_index(drop=True)
    kind = lesions["kind"].astype(str).map(labels["lesion_kinds"]).fillna(
        lesions["kind"].astype(str))
    nerve = lesions["nerve"].astype(object).map(display_names("nerve", lang))
    # a site or a segment (below_elbow–above_elbow), named site by site as the readings are
    site = site_words(lesions["site"].astype(object), display_names("site", lang))
    side = lesions["side"].astype(object).map(labels["sides"])
    join = labels["summary"]["join"]
    where = pd.Series("", index=lesions.index, dtype=object)
    for part in (nerve, site, side):
        part = part.where(part.notna(), "").astype(str)
        where = where + np.where((where != "") & (part != ""), join, "") + part
    text = np.where(where != "", fill(labels["summary"]["lesion"], lesions.index, kind=kind,
                                      where=where), kind)
    return pd.Series(text, dtype=object)


def summarize_patients(result, ids: pd.Series, lang: str = "en") -> pd.Series:
    """One plain-language paragraph per patient of ``ids`` (index: patient id).

    Built from the typed classifications: exclusion, denervation on EMG (explained or not by
    the localised NCS lesions), lower motor neuron segments and whether an MRI lesion covers
    them, and the NCS pattern.
    """
    labels = load_labels(lang)
    s = labels["summary"]
    keep = pd.Index(ids.astype(str))
    p = result.patients[isin(result.patients["patient_id"].astype(str), keep)].copy()
    p.index = p["patient_id"].astype(str)
    p = p[~p.index.duplicated()]
    idx = p.index
    flag = {c: p[c].fillna(False).astype(bool) for c in
            ("included", "emg_denervation", "ncs_neuropathy", "lmn_involvement",
             "lmn_with_corresponding_mri", "ncs_abnormal_without_denervation")}
    m = result.muscles[isin(result.muscles["patient_id"].astype(str), keep)]
    n_muscles = m.groupby(m["patient_id"].astype(str)).size().reindex(idx).fillna(0) \
        .astype(int).astype(str)
    lists = _muscle_lists(m, labels, lang).reindex(idx)
    les = result.lesions
    if len(les):
        les = les[isin(les["patient_id"].astype(str), keep)
                  & (pd.to_numeric(les["n_muscles_explained"]).fillna(0) > 0)]
        lesion_text = _lesion_words(les, labels, lang).groupby(
            les["patient_id"].astype(str).to_numpy()).agg(s["join"].join)
    else:
        lesion_text = pd.Series(dtype=object)
    pattern = p["neuropathy_pattern"]
    if lang != "en" and len(result.lesions):
        every = result.lesions[isin(result.lesions["patient_id"].astype(str), keep)]
        pattern = _lesion_words(every, labels, lang).groupby(
            every["patient_id"].astype(str).to_numpy()).agg(s["join"].join)
    segments = segment_words(_dash(p["lmn_segments"]), labels)
    mri = segment_words(_dash(p["mri_cord_segments"]), labels)
    # the lower motor neuron lies in the brainstem when a denervated muscle that the NCS do
    # not explain has its motor nucleus there (a cranial muscle)
    lmn_cranial = m[m["denervation"].astype(bool) & ~m["explained_by_ncs"].fillna(False)
                    .astype(bool) & m["brainstem_level"].notna()]
    brainstem = pd.Series(idx.isin(lmn_cranial["patient_id"].astype(str)), index=idx)
    lesion_word = pd.Series(np.where(brainstem, s["brainstem_lesion"], s["cord_lesion"]),
                            index=idx)

    # the muscles whose MUAPs were not read, or their means not judged, per patient
    not_read = {value: _not_read_list(m, labels, lang, value)
                for value in ("not_read", "not_judged")}
    # said muscle by muscle: a patient with such a muscle had only the examination at rest read
    # there, so "no denervation at rest", never plain "no denervation" (the patients those
    # sentences name); beside it, the muscles whose MUAPs were read are named ("_some_read": nor
    # in their MUAPs), and the next sentences name the others
    named = not_read["not_read"][0].index.union(not_read["not_judged"][0].index)
    at_rest = pd.Series(idx.isin(named), index=idx)
    read_names, read_count = _not_read_list(m, labels, lang, "read")
    read_names = read_names.reindex(idx)
    some_read = at_rest & read_names.notna()
    n_read = read_count.reindex(idx).fillna(0).astype(int).astype(str)

    def rest(key: str, **fields: pd.Series) -> np.ndarray:
        return np.select(
            [some_read, at_rest],
            [fill(s[key + "_some_read"], idx, n_read=n_read,
                  read_muscles=read_names.fillna(""), **fields),
             fill(s[key + "_at_rest"], idx, **fields)], fill(s[key], idx, **fields))

    parts = []
    parts.append(np.where(~flag["included"],
                          fill(s["excluded"], idx,
                               reason=exclusion_words(p["exclusion_reason"], labels).fillna("")),
                          ""))
    inc = flag["included"]
    parts.append(np.where(inc & ~flag["emg_denervation"] & ~flag["ncs_neuropathy"],
                          rest("no_emg_no_ncs", n_muscles=n_muscles), ""))
    parts.append(np.where(inc & ~flag["emg_denervation"] & flag["ncs_neuropathy"],
                          rest("no_denervation", n_muscles=n_muscles), ""))
    has_expl = lists["explained"].notna()
    parts.append(np.where(inc & has_expl,
                          fill(s["explained"], idx, muscles=lists["explained"],
                               lesions=lesion_text), ""))
    lmn = inc & flag["lmn_involvement"]
    mri_end = np.where(flag["lmn_with_corresponding_mri"],
                       fill(s["lmn_mri"], idx, lesion=lesion_word, mri=mri),
                       np.where(mri != "", fill(s["lmn_mri_other"], idx, mri=mri),
                                s["lmn_no_mri"]))
    parts.append(np.where(lmn, fill(s["lmn"], idx, muscles=lists["unexplained"],
                                    segments=segments) + mri_end, ""))
    for value, label in (("not_read", "muaps_not_read"),
                         ("not_judged", "muap_means_not_judged")):
        names, count = not_read[value]
        names = names.reindex(idx)
        parts.append(np.where(inc & names.notna(),
                              fill(s[label], idx, muscles=names.fillna(""),
                                   n=count.reindex(idx).fillna(0).astype(int).astype(str),
                                   n_muscles=n_muscles), ""))
    parts.append(np.where(inc & flag["ncs_neuropathy"],
                          fill(s["ncs_neuropathy"], idx, pattern=pattern), ""))
    parts.append(np.where(inc & flag["emg_denervation"] & ~flag["ncs_neuropathy"],
                          s["ncs_normal"], ""))
    parts.append(np.where(inc & flag["ncs_abnormal_without_denervation"],
                          rest("ncs_without_denervation"), ""))
    cooled = _cooled_list(result.nerves, keep, labels, lang).reindex(idx)
    parts.append(np.where(inc & cooled.notna(), fill(s["cooled"], idx, nerves=cooled.fillna("")),
                          ""))
    unread = _not_interpreted_list(result.nerves, keep, labels, lang).reindex(idx)
    parts.append(np.where(inc & unread.notna(),
                          fill(s["not_interpreted"], idx, nerves=unread.fillna("")), ""))
    text = pd.Series("", index=idx, dtype=object)
    for part in parts:
        part = pd.Series(part, index=idx).astype(str)
        text = text + np.where((text != "") & (part != ""), s["sentence_gap"], "") + part
    return text


def _cooled_list(nerves: pd.DataFrame, keep: pd.Index, labels: dict[str, Any],
                 lang: str) -> pd.Series:
    """Per patient: the abnormal nerve recordings made below their limb's temperature limit
    (interpret's typed ``cooled``), each with its temperature and the limit, as text."""
    if "cooled" not in nerves or not len(nerves):
        return pd.Series(dtype=object)
    n = nerves[isin(nerves["patient_id"].astype(str), keep)]
    n = n[flag_column(n, "cooled") & flag_column(n, "abnormal")]
    if not len(n):
        return pd.Series(dtype=object)
    s = labels["summary"]
    name = nerve_study_words(n["nerve"], n["study"], labels, lang, s["nerve_study"])
    text = fill(s["cooled_nerve"], n.index, nerve=name,
                side=n["side"].astype(object).map(labels["sides"]).fillna(""),
                temperature=format_number(n["temperature_c"], "temperature_c"),
                limit=format_number(n["temperature_limit_c"], "temperature_c"))
    return text.groupby(n["patient_id"].astype(str).to_numpy(), sort=False).agg(
        s["list"].join)


def _not_interpreted_list(nerves: pd.DataFrame, keep: pd.Index, labels: dict[str, Any],
                          lang: str) -> pd.Series:
    """Per patient: the nerve studies not interpreted for want of a reference limit
    (interpret's typed ``not_interpreted``) and the recordings left unread beside a nerve's
    read ones (``uninterpreted_recordings``: a digit without a limit), as text; so that "no
    neuropathy" is never read as covering them."""
    if "not_interpreted" not in nerves or not len(nerves):
        return pd.Series(dtype=object)
    n = nerves[isin(nerves["patient_id"].astype(str), keep)]
    whole = flag_column(n, "not_interpreted")
    sites = text_column(n, "uninterpreted_recordings")
    named = whole | sites.notna()
    n, whole, sites = n[named], whole[named], sites[named]
    if not len(n):
        return pd.Series(dtype=object)
    s = labels["summary"]
    name = nerve_study_words(n["nerve"], n["study"], labels, lang, s["nerve_study"])
    side = n["side"].astype(object).map(labels["sides"]).fillna("")
    text = pd.Series(np.where(whole, fill(s["not_interpreted_nerve"], n.index, nerve=name, side=side),
                              fill(s["not_interpreted_recording"], n.index, nerve=name, side=side,
                                   site=sites.fillna(""))), index=n.index)
    return text.groupby(n["patient_id"].astype(str).to_numpy(), sort=False).agg(s["list"].join)


def _lesion_findings(findings: pd.Series, labels: dict[str, Any], lang: str) -> pd.Series:
    """The recordings a lesion rests on (``median motor|median sensory``), in words: the
    nerve's name and the study's (``正中神经运动``) in another language than English."""
    text = findings.fillna("").astype(str)
    items = text.str.split("|").explode()
    parts = items.str.rsplit(" ", n=1)
    shown = nerve_study_words(parts.str[0].fillna(""), parts.str[1].fillna(""), labels, lang,
                              labels["summary"]["nerve_study"], as_written=lang == "en")
    return shown.groupby(level=0).agg(labels["summary"]["list"].join).reindex(
        text.index).fillna("")


def reasoning_tables(result, ids: pd.Series, lang: str = "en") \
        -> dict[str, dict[Any, list[dict[str, Any]]]]:
    """The findings (with their rule ids) and lesions of each patient, as page rows."""
    labels = load_labels(lang)
    keep = pd.Index(ids.astype(str))
    f = result.findings
    f = f[isin(f["patient_id"].astype(str), keep)].copy() if len(f) else f
    out: dict[str, dict[Any, list[dict[str, Any]]]] = {"findings": {}, "lesions": {}}
    if len(f):
        kind = f["kind"].astype(str)
        f["kind_text"] = kind.map(labels["kinds"]).fillna(kind.str.replace("_", " "))
        muscle = f["muscle"].astype(object).map(display_names("muscle", lang))
        site = (site_names(f["site"]) if lang == "en" else
                f["site"].astype(object).map(display_names("site", lang)).fillna("")).astype(str)
        # a muscle finding's site is its paraspinal level (C5), written alike in every language
        level = f["site"].astype(object).where(f["muscle"].notna())
        site = site.where(level.isna(), level.astype(str))
        study_text = nerve_study_words(f["nerve"], f["study"], labels, lang,
                                       labels["summary"]["nerve_study"])
        f["where_text"] = muscle.fillna(study_text).fillna("").astype(str).str.strip() \
            + np.where(site != "", labels["summary"]["join"] + site, "")
        value = pd.to_numeric(f["value"], errors="coerce")
        limit = pd.to_numeric(f["limit"], errors="coerce")
        unit = f["unit"].astype(object).fillna("").astype(str)
        unit = unit.map(labels["units"]).fillna(unit)
        param = f["parameter"].astype(object).fillna("").astype(str)
        value_text = value.map("{:g}".format).astype(object)
        limit_text = limit.map("{:g}".format).astype(object)
        formats = load_layout()["parameters"]
        for name in set(param.unique()) & set(formats):    # the page tables' number formats
            rows = param == name
            value_text[rows] = format_number(value[rows], name)
            limit_text[rows] = format_number(limit[rows], name)
        f["value_text"] = np.where(value.notna(), value_text + " " + unit, "")
        is_grade = param.eq("fibs_psw_grade")
        f["limit_text"] = np.where(limit.notna(), np.where(
            is_grade, "≥ " + limit.map("{:g}+".format),
            limit_text + " " + unit), "")
        rule = f["rule"].astype(str)
        f["rule_id"] = rule
        f["rule_text"] = rule.map(labels["rules"]).fillna("")
        f["side"] = side_words(f["side"], labels)
        f["patient_id"] = f["patient_id"].astype(str)
        out["findings"] = split_records(f, ["kind_text", "where_text", "side", "value_text",
                                            "limit_text", "rule_id", "rule_text"])
    les = result.lesions
    if len(les):
        les = les[isin(les["patient_id"].astype(str), keep)].copy()
        les["patient_id"] = les["patient_id"].astype(str)
        les["label"] = _lesion_words(les, labels, lang).to_numpy()
        les["findings_text"] = _lesion_findings(les["findings"], labels, lang)
        les["side"] = side_words(les["side"], labels)
        les["n_text"] = pd.to_numeric(les["n_muscles_explained"]).fillna(0).astype(int)
        out["lesions"] = split_records(les, ["label", "side", "n_text", "findings_text"])
    return out
