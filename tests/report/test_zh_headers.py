"""The report's table headers and reading text in the report's language: a Chinese report
has Chinese column headers, nerve readings and parameter names (from labels_zh.toml), the
English one the English words of labels_en.toml and interpret's reading column, cell for cell
at the same places."""

from __future__ import annotations

import re

import pytest

from edxreview._words import load_labels

from ._zh import visible_text

#: the Latin words a Chinese header may hold: abbreviations and units Chinese reports write so
LATIN_IN_ZH_HEADERS = {"MRI", "ms", "mV", "mm"}


def _before_methods(page: str) -> str:
    """The part of a report page that is in its language (the methods stay English)."""
    return page[:page.index('<section id="methods">')]


def _headers(page: str) -> list[str]:
    """Every column header (a table head's cell) before the methods, its first text (the
    word, not its unit)."""
    heads = "".join(re.findall(r"<thead>(.*?)</thead>", _before_methods(page), flags=re.S))
    cells = re.findall(r"<th[^>]*>(.*?)</th>", heads, flags=re.S)
    return [(visible_text(cell) or [""])[0] for cell in cells]


def _column(page: str, table: str, column: int) -> list[str]:
    """The text of one column of every table whose opening tag starts with ``table``."""
    out = []
    for body in re.findall(re.escape(table) + r".*?</table>", page, flags=re.S):
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, flags=re.S):
            cells = re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)
            if len(cells) > column:
                out.append(" ".join(visible_text(cells[column])))
    return out


@pytest.fixture(scope="module")
def pages(demo_reports) -> dict[str, str]:
    return {lang: (demo_reports[lang] / "report.html").read_text(encoding="utf-8")
            for lang in ("en", "zh")}


def test_zh_headers_are_chinese_and_en_headers_english_at_the_same_places(pages):
    """Header by header, the Chinese page shows the Chinese words of the key whose English
    words the English page shows there."""
    en_headers, zh_headers = _headers(pages["en"]), _headers(pages["zh"])
    assert len(en_headers) == len(zh_headers) > 1000
    en, zh = load_labels("en"), load_labels("zh")
    pairs = {en[s][k]: zh[s][k] for s in ("page", "headings", "short", "table1")
             for k in en[s] if isinstance(en[s][k], str) and "{" not in en[s][k]}
    # Table 1's groups, with their counts, and the results table's n and %
    for key, group, n in (("overall", "", 59), ("group", "group_yes", 9),
                          ("group", "group_no", 50)):
        shown = {lang: words["table1"][key].format(n=n, group=words["table1"].get(group))
                 for lang, words in (("en", en), ("zh", zh))}
        pairs[shown["en"]] = shown["zh"]
    pairs |= {"n": "n", "%": "%"}
    assert {e for e in en_headers if e not in pairs} == set()
    wrong = sorted({(e, z) for e, z in zip(en_headers, zh_headers) if pairs[e] != z})
    assert not wrong, wrong[:10]
    # the English headers are the English words (the NCS, derived, readings and EMG tables)
    for word in ("Latency", "Amplitude", "Velocity", "Comparison", "Reading",
                 "Counts as neuropathy", "MUAP duration", "Finding", "Limit"):
        assert word in en_headers, word
    assert not any(re.search(r"[\u4e00-\u9fff]", h) for h in en_headers)


def test_zh_headers_hold_no_english_word(pages):
    headers = set(_headers(pages["zh"]))
    latin = {w for h in headers for w in re.findall(r"[A-Za-z]{2,}", h)}
    assert latin <= LATIN_IN_ZH_HEADERS, sorted(latin - LATIN_IN_ZH_HEADERS)
    for word in ("潜伏期", "波幅", "传导速度", "判读", "比较"):
        assert word in headers, word


def test_reading_text_in_the_reports_language(pages, demo_result):
    """The nerve readings and the names of the values computed across rows: English from
    interpret's reading column and labels_en.toml, Chinese from labels_zh.toml."""
    en, zh = load_labels("en"), load_labels("zh")
    readings = {lang: _column(pages[lang], "<details><summary>" + words["page"]["nerve_readings"],
                              3)
                for lang, words in (("en", en), ("zh", zh))}
    assert len(readings["en"]) == len(readings["zh"]) > 100
    assert set(readings["en"]) <= set(demo_result.nerves["reading"])
    latin = {w for r in readings["zh"] for w in re.findall(r"[A-Za-z]{2,}", r)}
    assert latin <= {"CMAP", "mV"}, sorted(latin)
    assert "正常" in readings["zh"]
    derived = {lang: _column(pages[lang], '<table class="edx derived"', 0)
               for lang in ("en", "zh")}
    assert len(derived["en"]) == len(derived["zh"]) > 0
    assert set(derived["en"]) <= set(en["parameters"].values())
    assert set(derived["zh"]) <= set(zh["parameters"].values())
    back = {text: key for key, text in zh["parameters"].items()}
    assert [en["parameters"][back[z]] for z in derived["zh"]] == derived["en"]
    assert "CMAP ratio to other side" in derived["en"]
    assert "与对侧的CMAP波幅比" in derived["zh"]
