"""Readable column headers for the exported tables (``patient_id`` → ``Patient ID``).

A header is looked up in the label file's ``columns`` table (``data/labels_<lang>.toml``);
any other machine name made of lower-case words joined by ``_`` is spelled out word by word
(table ``column_words`` for the words not written as their machine form), with a unit at its
end (table ``column_units``) put in brackets (``segment_velocity_m_s`` → ``Segment velocity
(m/s)``). Other headers (already readable, such as Table 1's) are kept as they are. The
machine names, the columns' keys, stay in the workbook's codebook sheet. The workbook is
written in English; a Chinese header is the ``columns`` table's, the words spelled out are
English.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from .._words import load_labels

_MACHINE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


@lru_cache(maxsize=None)
def _header_words(lang: str) -> tuple[dict[str, str], dict[str, str],
                                      list[tuple[tuple[str, ...], str]], dict[str, Any]]:
    """The ``columns`` and ``column_words`` tables of ``lang``, its units (the longest first,
    so that ``m_s`` is read before ``s``) and its forms."""
    labels = load_labels(lang)
    units = sorted(((tuple(key.split("_")), shown)
                    for key, shown in labels["column_units"].items()),
                   key=lambda unit: -len(unit[0]))
    return labels["columns"], labels["column_words"], units, labels["column_forms"]


def column_label(name: str, lang: str = "en") -> str:
    """The header shown for the machine column name ``name``, in ``lang``."""
    columns, words, units, forms = _header_words(lang)
    if name in columns:
        return columns[name]
    if not _MACHINE.match(name) or len(name) == 1:
        return name
    parts = name.split("_")
    unit = ""
    for tail, shown in units:
        if len(parts) > len(tail) and tuple(parts[-len(tail):]) == tail:
            parts, unit = parts[:-len(tail)], shown
            break
    text = " ".join(words.get(w, w) for w in parts)
    text = text[:1].upper() + text[1:]
    return forms["with_unit"].format(name=text, unit=unit) if unit else text


def column_labels(names: list[str], lang: str = "en") -> list[str]:
    """Headers for a table's columns, each unique (a clash keeps the machine name beside it)."""
    labels = [column_label(str(n), lang) for n in names]
    seen: dict[str, int] = {}
    for label in labels:
        seen[label.lower()] = seen.get(label.lower(), 0) + 1
    clash = _header_words(lang)[3]["clash"]
    return [clash.format(label=lab, column=n) if seen[lab.lower()] > 1 and lab != str(n)
            else lab for lab, n in zip(labels, names)]
