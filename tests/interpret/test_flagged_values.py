"""The flagged values of a nerve's reading (``nerves.csv`` ``flagged_values``) are written in
the words of the label files: every parameter the reference limits judge has its word in
every language, and the English text is the one the ``flagged_values`` column has always
held."""

from __future__ import annotations

import pandas as pd
import pytest

from edxreview._words import LANGUAGES, load_labels
from edxreview.interpret._nerves import LIMIT_PARAMETER
from edxreview.interpret._readings import describe_values
from edxreview.knowledge import load_reference

#: a CMAP below its limit, a motor velocity to a site, an absent SNAP, the side ratio (no
#: unit shown), a latency without a limit and an R2 difference above its limit
VALUES = pd.DataFrame({
    "study": ["motor", "motor", "sensory", "motor", "motor", "blink"],
    "parameter": ["amplitude_mv", "velocity_m_s", "amplitude_uv", "amplitude_side_ratio",
                  "latency_ms", "r2_ipsi_contra_diff_ms"],
    "site": ["wrist", "below_elbow", "wrist", None, "ankle", None],
    "value": [2.1, 38.0, None, 0.42, 6.3, 9.0],
    "no_response": [False, False, True, False, False, False],
    "unit": ["mV", "m/s", "µV", "ratio", "ms", "ms"],
    "bound": ["lower", "lower", "lower", "lower", "upper", "upper"],
    "limit": [4.0, 49.0, 20.0, 0.5, None, 8.0]})


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_judged_parameter_has_its_word(lang):
    """Every parameter of the bundled reference limits is named in every language, by words
    that tell the parameters apart."""
    words = load_labels(lang)["parameters"]
    assert set(load_reference().limits["parameter"]) <= set(words)
    # and every value judged by another parameter's limit row (the two R2 side differences)
    assert set(LIMIT_PARAMETER) <= set(words)
    assert all(text.strip() for text in words.values())
    assert len(set(words.values())) == len(words)


def test_english_text_is_the_flagged_values_column():
    assert describe_values(VALUES).tolist() == [
        "CMAP 2.1 mV (LLN 4)",
        "CV to below elbow 38 m/s (LLN 49)",
        "SNAP NR (LLN 20)",
        "CMAP ratio to other side 0.42 (LLN 0.5)",
        "latency 6.3 ms (no reference)",
        "R2 ipsi–contra difference 9 ms (ULN 8)"]
    assert describe_values(VALUES, load_labels("en")).equals(describe_values(VALUES))


def test_chinese_text_from_the_chinese_label_file():
    text = describe_values(VALUES, load_labels("zh"), {"below_elbow": "肘下"}).tolist()
    assert text == [
        "CMAP波幅 2.1 mV（正常值下限 4）",
        "传导速度（至肘下） 38 m/s（正常值下限 49）",
        "SNAP波幅 未引出（正常值下限 20）",
        "与对侧的CMAP波幅比 0.42（正常值下限 0.5）",
        "潜伏期 6.3 ms（无参考值）",
        "R2同侧与对侧之差 9 ms（正常值上限 8）"]


def test_no_values_no_text():
    assert describe_values(VALUES.iloc[:0]).tolist() == []


def test_a_limit_is_shown_as_it_was_compared():
    """A height-adjusted F-wave limit of 30.6829 ms is shown as 30.68, so a flagged 30.7 ms
    never reads as equal to its limit ("30.7 ms (ULN 30.7)")."""
    f = pd.DataFrame({"study": ["f_wave"], "parameter": ["min_latency_ms"], "site": [None],
                      "value": [30.7], "no_response": [False], "unit": ["ms"],
                      "bound": ["upper"], "limit": [30.6829]})
    assert describe_values(f).tolist() == ["F-wave min latency 30.7 ms (ULN 30.68)"]
