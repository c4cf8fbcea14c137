"""The label files (``data/labels_<lang>.toml``) hold every word of edxreview's text, one file
per language: every key of one language is a key of every other, so that no text is missing
in a language (and no stale key lingers in one)."""

from __future__ import annotations

import itertools
import re
import tomllib
from importlib import resources

import pytest

from edxreview import InvalidParameterError
from edxreview._words import LANGUAGES, load_labels


def _keys(table: dict, prefix: str = "") -> set[str]:
    """Every key of a label file, a nested one as ``section.key``."""
    out = set()
    for key, value in table.items():
        out |= _keys(value, f"{prefix}{key}.") if isinstance(value, dict) else {prefix + key}
    return out


def test_every_label_file_is_a_language():
    folder = resources.files("edxreview").joinpath("data")
    files = {p.name for p in folder.iterdir() if p.name.startswith("labels_")}
    assert files == {f"labels_{lang}.toml" for lang in LANGUAGES}


@pytest.mark.parametrize(("lang", "other"), list(itertools.permutations(LANGUAGES, 2)),
                         ids=lambda lang: lang)
def test_every_key_of_one_language_is_in_the_other(lang, other):
    missing = _keys(load_labels(lang)) - _keys(load_labels(other))
    assert not missing, f"in labels_{lang}.toml, not in labels_{other}.toml: {sorted(missing)}"


def test_a_missing_key_is_found():
    """The check above can fail: a key dropped from a nested table is named."""
    en = tomllib.loads(resources.files("edxreview").joinpath("data/labels_en.toml").read_text(
        encoding="utf-8"))
    del en["nerve_readings"]["borderline"]
    assert _keys(load_labels("en")) - _keys(en) == {"nerve_readings.borderline"}


def test_an_unknown_language_is_refused():
    with pytest.raises(InvalidParameterError, match="'fr'"):
        load_labels("fr")


def _texts(table: dict, prefix: str = "") -> dict[str, str]:
    """Every text of a label file by its key (``section.key``)."""
    out = {}
    for key, value in table.items():
        if isinstance(value, dict):
            out |= _texts(value, f"{prefix}{key}.")
        elif isinstance(value, str):
            out[prefix + key] = value
    return out


#: forms whose fields differ by design: a nucleus is named by its cranial nerve in English and
#: by its own name in Chinese
OWN_FIELDS = {"figures.nucleus"}


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "en"])
def test_every_form_fills_from_the_same_fields(lang):
    """A form (``{parameter} {value} ({limit})``) holds the same ``{fields}`` in every language,
    so that every file fills from the same values (the new tables, parameters and
    flagged_values, included)."""
    en, other = _texts(load_labels("en")), _texts(load_labels(lang))
    assert {"flagged_values.value", "parameters.amplitude_mv"} <= set(en)
    differ = sorted(key for key, text in en.items() if key not in OWN_FIELDS
                    and sorted(re.findall(r"\{\w*\}", text))
                    != sorted(re.findall(r"\{\w*\}", other[key])))
    assert not differ, differ
