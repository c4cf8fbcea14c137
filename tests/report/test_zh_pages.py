"""The Chinese report's patient pages: every label in Chinese, readings written from the typed
columns (not translated from the English ``reading`` columns)."""

from __future__ import annotations

import html
import re

import pandas as pd
import pytest

from edxreview.report import render_report
from edxreview.report._readings import muscle_readings, nerve_readings, segment_words
from edxreview.report._summary import load_labels

#: label sections whose words may appear on a patient page (tables, headings, readings)
PAGE_SECTIONS = ("headings", "page", "classes", "short", "studies", "kinds", "lesion_kinds",
                 "muscle_readings", "nerve_readings", "muap_duration", "muap_amplitude",
                 "polyphasia", "recruitment", "derived", "flags", "regions",
                 "brainstem_levels", "nuclei", "units")


def _patient_text(page: str) -> list[str]:
    """The visible text pieces of the patients section (index and pages): the text between
    tags, without rule ids (``<code>``, machine ids by design) and without attributes."""
    start, end = page.index('<section id="patients">'), page.index('<section id="methods">')
    part = re.sub(r"<code[^>]*>.*?</code>", " ", page[start:end], flags=re.S)
    pieces = (html.unescape(p).strip() for p in re.split(r"<[^>]+>", part))
    return [p for p in pieces if p]


def _english_labels() -> set[str]:
    """English label texts that differ from their Chinese text (MRI, R1 … are the same in
    both) and hold a word of Latin letters (not a bare unit or symbol)."""
    en, zh = load_labels("en"), load_labels("zh")
    words = set()
    for section in PAGE_SECTIONS:
        for key, text in en[section].items():
            text = re.sub(r"\{[^}]*\}", "", text).strip(" .:;,")
            if text != zh[section][key] and re.search(r"[A-Za-z]{2,}", text):
                words.add(text)
    return words


@pytest.fixture(scope="module")
def zh_page(demo_result, tmp_path_factory):
    out = tmp_path_factory.mktemp("zh")
    render_report(demo_result, out, xlsx=False, lang="zh")
    return (out / "report.html").read_text(encoding="utf-8")


def test_zh_patient_pages_hold_no_english_label(zh_page):
    text = _patient_text(zh_page)
    joined = "\n".join(text)
    english = _english_labels()
    assert {"Reading", "Nerve readings", "MUAP duration", "acute and chronic denervation",
            "normal"} <= english
    found = sorted(w for w in english
                   if re.search(r"(?<![A-Za-z])" + re.escape(w) + r"(?![A-Za-z])", joined))
    assert not found, found
    # the names of the anatomy tables, and the sides, are Chinese too
    for word in ("Biceps brachii", "Abductor pollicis brevis", "median", "blink reflex",
                 "spinal cord", "hypoglossal nucleus"):
        assert word not in joined, word
    assert "L" not in text and "R" not in text            # a side alone in a cell
    for word in ("神经判读", "运动单位电位时限", "急性及慢性失神经", "局灶性传导减慢（腕部）",
                 "波幅降低伴传导减慢", "不能由神经传导解释", "舌下神经核（延髓）", "左侧", "脊髓"):
        assert word in joined, word


def test_english_words_are_those_of_the_reading_columns(demo_result):
    """The English labels of the readings give back interpret's reading columns on the demo,
    so that the Chinese readings say what the English ones say."""
    en = load_labels("en")
    nerves = demo_result.nerves
    assert (nerve_readings(nerves, en) == nerves["reading"]).all()
    muscles = demo_result.muscles
    assert (muscle_readings(muscles, en) == muscles["reading"]).all()


def test_readings_from_typed_columns():
    zh = load_labels("zh")
    nerves = pd.DataFrame({
        "study": ["motor", "motor", "sensory", "blink", "motor"],
        "nerve": ["ulnar", "median", "sural", "blink_reflex", "facial"],
        "absent": [False, False, True, False, False],
        "conduction_block": [True, False, False, False, False],
        "focal_slowing": [False, False, False, False, False],
        "demyelinating": [False, True, False, False, False],
        "f_proximal": [False, False, None, None, False],
        "axonal": [False, False, True, False, False],
        "side_ratio_low": [False, False, None, None, False],
        "facial_abnormal": [False, False, None, None, True],
        "lesion_site": ["below_elbow–above_elbow", None, None, None, None],
        "low_amplitude": [None, None, False, None, None],
        "slowed": [None, None, False, None, None],
        "blink_pattern": [None, None, None, "afferent", None],
        "abnormal": [True, True, True, True, True]})
    assert nerve_readings(nerves, zh).tolist() == [
        "传导阻滞（肘下–肘上）", "脱髓鞘范围的改变", "未引出", "传入型（三叉神经）", "面神经CMAP异常"]
    muscles = pd.DataFrame({"acute": [True, True, False, False, False],
                            "chronic": [True, False, False, False, False],
                            "myopathic": [False, False, True, False, False],
                            "muap_reading": ["read", "not_read", "read", "not_judged", "read"]})
    assert muscle_readings(muscles, zh).tolist() == [
        "急性及慢性失神经", "急性失神经，未分析运动单位电位", "肌源性改变",
        "运动单位电位均值未经判读；静息时未见失神经电位", "正常"]
    segments = pd.Series(["C5-C7", "hypoglossal nucleus (medulla)", "T8-T12; pons", None])
    assert segment_words(segments, zh).tolist() == ["C5-C7", "舌下神经核（延髓）",
                                                     "T8-T12、脑桥", ""]
    assert segment_words(segments, load_labels("en")).tolist()[:3] == segments[:3].tolist()


def test_zh_results_section_holds_no_english_label(zh_page):
    start, end = zh_page.index('<section id="results">'), zh_page.index('<section id="flow">')
    part = re.sub(r"<code[^>]*>.*?</code>", " ", zh_page[start:end], flags=re.S)
    joined = "\n".join(html.unescape(p) for p in re.split(r"<[^>]+>", part))
    found = sorted(w for w in _english_labels()
                   if re.search(r"(?<![A-Za-z])" + re.escape(w) + r"(?![A-Za-z])", joined))
    assert not found, found
    assert "纳入 59 例患者" in joined and "肌电图失神经" in joined
