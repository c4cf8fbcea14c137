"""The readings of the patient pages' EMG and nerve tables, in the report's language.

Written from the typed columns of ``muscles`` (``acute``, ``chronic``, ``myopathic``,
``muap_reading``) and ``nerves`` (``absent``, ``conduction_block``, ``focal_slowing``,
``demyelinating``, ``f_proximal``, ``axonal``, ``side_ratio_low``, ``lesion_site``,
``low_amplitude``, ``slowed``, ``blink_pattern``) with the words of
``report/data/labels_<lang>.toml``, never by translating the English ``reading`` column. In
English the words are those of that column (a test checks they agree on the demo).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from ._edx import display_names


def _flag(frame: pd.DataFrame, column: str) -> pd.Series:
    """A boolean column, false where missing or absent."""
    if column not in frame:
        return pd.Series(False, index=frame.index)
    return frame[column].astype("boolean").fillna(False).astype(bool)


def side_words(sides: pd.Series, labels: dict[str, Any]) -> pd.Series:
    """Sides as the page prints them: ``L`` / ``R`` in English, the side's word otherwise."""
    text = sides.astype(object).where(sides.notna(), "").astype(str)
    if labels["lang"] == "en":
        return text
    return text.map(labels["sides"]).fillna(text).astype(object)


def value_words(values: pd.Series, words: dict[str, str]) -> pd.Series:
    """A categorical column's values in words (unknown values as written, ``_`` as spaces)."""
    text = values.astype(object).where(values.notna(), "").astype(str)
    return text.map(words).fillna(text.str.replace("_", " ")).astype(object)


def muscle_readings(muscles: pd.DataFrame, labels: dict[str, Any]) -> pd.Series:
    """Each muscle's reading (acute and/or chronic denervation, myopathic, MUAPs not read)."""
    w = labels["muscle_readings"]
    acute, chronic = _flag(muscles, "acute"), _flag(muscles, "chronic")
    muap = muscles["muap_reading"].astype(object) if "muap_reading" in muscles else \
        pd.Series("read", index=muscles.index, dtype=object)
    not_read, not_judged = muap.eq("not_read"), muap.eq("not_judged")
    text = np.select(
        [acute & chronic, acute & not_read, acute & not_judged, acute, chronic,
         _flag(muscles, "myopathic"), not_read, not_judged],
        [w["acute_and_chronic"], w["acute_not_read"], w["acute_not_judged"], w["acute"],
         w["chronic"], w["myopathic"], w["not_read"], w["not_judged"]], w["normal"])
    return pd.Series(text, index=muscles.index, dtype=object)


def _site_text(sites: pd.Series, lang: str) -> pd.Series:
    """Lesion sites (``wrist``, or a segment ``below_elbow–above_elbow``) in words."""
    names = display_names("site", lang)
    parts = sites.astype(object).where(sites.notna(), "").astype(str).str.split("–")
    flat = parts.explode()
    shown = flat.map(names).fillna(flat.str.replace("_", " "))
    return shown.groupby(level=0).agg("–".join).reindex(sites.index).fillna("")


def nerve_readings(nerves: pd.DataFrame, labels: dict[str, Any]) -> pd.Series:
    """Each nerve recording's reading: motor from its flags (in the order of
    ``interpret``), sensory from absent / low amplitude / slowed, blink reflex from its
    pattern."""
    w = labels["nerve_readings"]
    study = nerves["study"].astype(str)
    join = w["join"]
    parts = [np.where(_flag(nerves, "absent"), w["absent"], ""),
             np.where(_flag(nerves, "conduction_block"), w["conduction_block"], ""),
             np.where(_flag(nerves, "focal_slowing"), w["focal_slowing"], ""),
             np.where(_flag(nerves, "demyelinating") & ~_flag(nerves, "f_proximal"),
                      w["demyelinating"], ""),
             np.where(_flag(nerves, "f_proximal"), w["f_proximal"], ""),
             np.where(_flag(nerves, "axonal"), w["axonal"], ""),
             np.where(_flag(nerves, "side_ratio_low"), w["side_ratio_low"], "")]
    motor = pd.Series("", index=nerves.index, dtype=object)
    for part in parts:
        part = pd.Series(part, index=nerves.index, dtype=object)
        motor = motor + np.where((motor != "") & (part != ""), join, "") + part
    site = nerves["lesion_site"] if "lesion_site" in nerves else \
        pd.Series(None, index=nerves.index, dtype=object)
    at = pd.Series(w["at_site"], index=nerves.index, dtype=object).str.split("{site}")
    site_text = _site_text(site, labels["lang"])
    located = (_flag(nerves, "conduction_block") | _flag(nerves, "focal_slowing")) \
        & site.notna()
    motor = motor + np.where(located, at.str[0] + site_text + at.str[1], "")
    facial = nerves["nerve"].astype(str).eq("facial") & _flag(nerves, "abnormal")
    motor = motor.where(motor != "", np.where(
        facial, w["facial_abnormal"],
        np.where(_flag(nerves, "abnormal"), w["borderline"], w["normal"])))
    low, slowed = _flag(nerves, "low_amplitude"), _flag(nerves, "slowed")
    sensory = np.select([_flag(nerves, "absent"), low & slowed, low, slowed],
                        [w["absent"], w["low_and_slowed"], w["low"], w["slowed"]], w["normal"])
    pattern = nerves["blink_pattern"].astype(object) if "blink_pattern" in nerves else \
        pd.Series(None, index=nerves.index, dtype=object)
    blink = pattern.map({k: w[k] for k in ("efferent", "afferent", "efferent_mirror",
                                           "pontine", "medullary", "unclassified")})
    blink = blink.where(blink.notna(), w["normal"])
    text = np.select([study.eq("sensory"), study.eq("blink")], [sensory, blink], motor)
    return pd.Series(text, index=nerves.index, dtype=object)


def segment_words(text: pd.Series, labels: dict[str, Any]) -> pd.Series:
    """Cord segments and brainstem nuclei (``C5-C7; hypoglossal nucleus (medulla)``) with the
    nuclei and brainstem levels named in the report's language (segment ids as written)."""
    text = text.astype(object).where(text.notna(), "").astype(str)
    if labels["lang"] == "en":
        return text
    names = {**labels["nuclei"], **labels["brainstem_levels"]}
    # the longest name first, so that a nucleus is named before a level inside it
    pattern = re.compile("|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)))
    return text.str.replace(pattern, lambda m: names[m.group(0)], regex=True).str.replace(
        r"\s*\(([^()]*)\)", r"（\1）", regex=True).str.replace(
        "; ", labels["summary"]["list"], regex=False)
