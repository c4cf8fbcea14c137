"""The Chinese report's patient pages: every label in Chinese, readings written from the typed
columns (not translated from the English ``reading`` columns)."""

from __future__ import annotations

import pandas as pd

from edxreview.report._readings import muscle_readings, nerve_readings, segment_words
from edxreview._words import load_labels

from ._zh import english_labels, page_part, visible_text, words_in

#: label sections whose words may appear on a patient page (tables, headings, readings)
PAGE_SECTIONS = ("headings", "page", "classes", "short", "studies", "kinds", "lesion_kinds",
                 "muscle_readings", "nerve_readings", "muap_duration", "muap_amplitude",
                 "polyphasia", "recruitment", "parameters", "flags", "regions",
                 "brainstem_levels", "nuclei", "units")


def test_zh_patient_pages_hold_no_english_label(zh_page):
    text = visible_text(page_part(zh_page, "patients", "methods"), rule_ids=False)
    joined = "\n".join(text)
    english = english_labels(PAGE_SECTIONS)
    assert {"Reading", "Nerve readings", "MUAP duration", "acute and chronic denervation",
            "normal"} <= english
    found = words_in(english, joined)
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
    joined = "\n".join(visible_text(page_part(zh_page, "results", "flow"), rule_ids=False))
    found = words_in(english_labels(PAGE_SECTIONS), joined)
    assert not found, found
    assert "纳入 59 例患者" in joined and "肌电图失神经" in joined
