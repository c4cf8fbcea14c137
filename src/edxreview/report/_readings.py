"""The readings of the patient pages' EMG and nerve tables, in the report's language.

``interpret`` decides each reading once, as a code (:func:`muscle_reading_codes`,
``motor_reading_parts``, ``sensory_reading_codes``, ``blink_pattern``) and the typed values
beside it (a block's CMAPs, the lesion site), and writes the English ``reading`` column from
them in the words of ``data/labels_en.toml``; here the same codes are written in the words of
``data/labels_<lang>.toml`` (the nerves' by the same function as the ``reading`` column),
never by translating the English ``reading`` column (a test checks that every code has its
words in every label file).
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from ..classify._classify import EXCLUSION_REASONS
from ..interpret._muscles import muscle_reading_codes
from ..interpret._readings import compose_nerve_readings
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


def nerve_readings(nerves: pd.DataFrame, labels: dict[str, Any]) -> pd.Series:
    """Each nerve recording's reading in the report's language: interpret's one composition
    (:func:`~edxreview.interpret._readings.compose_nerve_readings`, which writes the
    ``reading`` column) with the words of ``labels`` and the sites named in its language, so
    that the English report reads exactly as the ``reading`` column and every language names
    the same parts and the same numbers."""
    return compose_nerve_readings(nerves, labels["nerve_readings"],
                                  display_names("site", labels["lang"]))


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
