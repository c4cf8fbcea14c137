"""The readings of the patient pages' EMG and nerve tables, in the report's language.

``interpret`` decides each reading once, as a code (:func:`muscle_reading_codes`,
:func:`motor_reading_parts`, :func:`sensory_reading_codes`, ``blink_pattern``) and writes the
English ``reading`` column from it in the words of ``data/labels_en.toml``; here the same
codes are mapped to the words of ``data/labels_<lang>.toml``, never by translating the English
``reading`` column (a test checks that every code has its words in every label file).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from .._tables import flag_column as _flag
from .._tables import join_nonempty
from ..classify._classify import EXCLUSION_REASONS
from ..interpret._muscles import muscle_reading_codes
from ..interpret._readings import (BLINK_READINGS, motor_reading_fallback,
                                   motor_reading_parts, sensory_reading_codes)
from ._edx import display_names


def exclusion_words(reasons: pd.Series, labels: dict[str, Any]) -> pd.Series:
    """Why patients were left out, in the words of ``labels``: each reason ``classify`` writes
    (``EXCLUSION_REASONS``) by its id; any other text as it is."""
    words = {text: labels["exclusion_reasons"][key] for key, text in EXCLUSION_REASONS.items()}
    return reasons.astype(object).map(words).fillna(reasons.astype(object))


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


def nerve_words(nerves: pd.Series, labels: dict[str, Any], lang: str) -> pd.Series:
    """Nerve ids named in the report's language: the nerve's name, else (an id that is not a
    nerve, the blink reflex) its study's name, else the id as written."""
    ids = nerves.astype(object)
    return ids.map(display_names("nerve", lang)).fillna(ids.map(labels["studies"])).fillna(ids)


def muscle_readings(muscles: pd.DataFrame, labels: dict[str, Any]) -> pd.Series:
    """Each muscle's reading (acute and/or chronic denervation, myopathic, MUAPs not read)."""
    return muscle_reading_codes(muscles).map(labels["muscle_readings"]).astype(object)


def _site_text(sites: pd.Series, lang: str) -> pd.Series:
    """Lesion sites (``wrist``, or a segment ``below_elbow–above_elbow``) in words."""
    names = display_names("site", lang)
    parts = sites.astype(object).where(sites.notna(), "").astype(str).str.split("–")
    flat = parts.explode()
    shown = flat.map(names).fillna(flat.str.replace("_", " "))
    return shown.groupby(level=0).agg("–".join).reindex(sites.index).fillna("")


def nerve_readings(nerves: pd.DataFrame, labels: dict[str, Any]) -> pd.Series:
    """Each nerve recording's reading: motor from its flags (in the order of
    ``interpret``; where none holds, interpret's fallback code), sensory from absent / low amplitude / slowed, blink reflex from its
    pattern."""
    w = labels["nerve_readings"]
    study = nerves["study"].astype(str)
    flags = motor_reading_parts(nerves)
    motor = pd.Series(join_nonempty([np.where(flags[code], w[code], "") for code in flags.columns],
                                    sep=w["join"]), index=nerves.index, dtype=object)
    site = nerves["lesion_site"] if "lesion_site" in nerves else \
        pd.Series(None, index=nerves.index, dtype=object)
    before, after = w["at_site"].split("{site}", 1)
    site_text = _site_text(site, labels["lang"])
    located = (_flag(nerves, "conduction_block") | _flag(nerves, "focal_slowing")) \
        & site.notna()
    motor = motor + np.where(located, before + site_text + after, "")
    # nothing in the parts: interpret's fallback code (its typed facial_abnormal, abnormal)
    motor = motor.where(motor != "", motor_reading_fallback(nerves).map(w))
    sensory = sensory_reading_codes(nerves).map(w)
    pattern = nerves["blink_pattern"].astype(object) if "blink_pattern" in nerves else \
        pd.Series(None, index=nerves.index, dtype=object)
    blink = pattern.map({code: w[code] for code in BLINK_READINGS})
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
