"""What the Chinese report's tests look for: the English label texts a Chinese page must not
hold, and the text a page shows."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable

from edxreview._words import load_labels


def visible_text(part: str, rule_ids: bool = True) -> list[str]:
    """The text pieces between the tags of ``part`` (attributes, such as data-variable ids, are
    not shown); ``rule_ids=False`` leaves out ``<code>`` (rule ids, machine ids by design)."""
    if not rule_ids:
        part = re.sub(r"<code[^>]*>.*?</code>", " ", part, flags=re.S)
    pieces = (html.unescape(p).strip() for p in re.split(r"<[^>]+>", part))
    return [p for p in pieces if p]


def _has_latin_word(text: str) -> bool:
    return re.search(r"[A-Za-z]{2,}", text) is not None


def english_labels(sections: Iterable[str],
                   is_english: Callable[[str], bool] = _has_latin_word) -> set[str]:
    """The English texts of the label file's ``sections`` that their Chinese text does not hold
    (MRI, R1 … are the same in both; CMAP is the abbreviation in CMAP波幅) and that ``is_english`` (by default: hold a word of Latin
    letters, not a bare unit or symbol); placeholders left out."""
    en, zh = load_labels("en"), load_labels("zh")
    words = set()
    for section in sections:
        for key, text in en[section].items():
            if not isinstance(text, str):
                continue
            text = re.sub(r"\{[^}]*\}", "", text).strip(" .:;,()")
            if text not in zh[section][key] and is_english(text):
                words.add(text)
    return words


def words_in(words: Iterable[str], text: str) -> list[str]:
    """Those of ``words`` that ``text`` holds as words (not inside a longer word)."""
    return sorted(w for w in words
                  if re.search(r"(?<![A-Za-z])" + re.escape(w) + r"(?![A-Za-z])", text))


def page_part(page: str, section: str, following: str) -> str:
    """The HTML of a report page from its section ``section`` to the section ``following``."""
    return page[page.index(f'<section id="{section}">'):page.index(f'<section id="{following}">')]
