"""The words of edxreview's text, one label file per language (``data/labels_<lang>.toml``).

Every layer writes its English text from ``labels_en.toml`` (readings, exclusion reasons,
Table 1, the classifications' names) and the report writes any other language from the file
of the same keys, so that a word is held once and every language is held the same way.
Decisions are taken on typed data before any of these words is written.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources
from typing import Any

#: languages with a label file (``data/labels_<lang>.toml``)
LANGUAGES = ("en", "zh")


@lru_cache(maxsize=None)
def load_labels(lang: str = "en") -> dict[str, Any]:
    """The words of edxreview's text in ``lang`` (``data/labels_<lang>.toml``), by table.

    Raises
    ------
    InvalidParameterError
        ``lang`` has no label file.
    """
    # numpy, which the checker uses, is loaded here, not when the command line imports LANGUAGES
    from ._check import check_option

    check_option("lang", lang, LANGUAGES)
    text = resources.files("edxreview").joinpath(f"data/labels_{lang}.toml").read_text(
        encoding="utf-8")
    return tomllib.loads(text)


def english_words(table: str) -> dict[str, str]:
    """A copy of one table of ``labels_en.toml`` (``muscle_readings``, ``tests``…): the English
    words the code writes into its tables and the API returns."""
    return dict(load_labels("en")[table])
