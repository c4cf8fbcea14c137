"""Plain-language patient summaries: written from the typed classifications, no rule ids."""

from __future__ import annotations

import pandas as pd
import pytest

from edxreview.report._summary import reasoning_tables, summarize_patients


@pytest.fixture(scope="module")
def summaries(demo_result):
    return summarize_patients(demo_result, demo_result.patients["patient_id"])


@pytest.mark.parametrize("pid, expected", [
    ("NMO-001", ["Needle EMG of 9 muscles showed no denervation", "no peripheral or cranial"]),
    ("NMO-031", ["not explained by the nerve studies", "lower motor neuron involvement at "
                 "C5–C7", "matching the cord lesion on MRI (C4–C7)"]),
    ("NMO-026", ["Genioglossus (tongue)", "matching the brainstem lesion"]),
    ("NMO-008", ["Biceps brachii (both sides); Deltoid R", "does not cover these segments",
                 "mononeuropathy (median, wrist, right)"]),
    ("NMO-037", ["explained by the nerve studies: mononeuropathy (ulnar, elbow)"]),
    ("NMO-024", ["caused no denervation in the muscles examined"]),
], ids=["normal", "anterior horn C5–C7 with cord lesion", "hypoglossal nucleus",
        "LMN without matching MRI, carpal tunnel", "ulnar neuropathy explains denervation",
        "NCS abnormal without denervation"])
def test_summary_sentences(summaries, pid, expected):
    for text in expected:
        assert text in summaries[pid]


def test_summary_follows_the_classification(demo_result, summaries):
    """Every patient with LMN involvement, and only those, reads 'lower motor neuron'."""
    p = demo_result.patients.set_index("patient_id")
    says_lmn = summaries.str.contains("lower motor neuron involvement")
    assert says_lmn.sum() == p["lmn_involvement"].sum() == 9
    assert (says_lmn.reindex(p.index) == p["lmn_involvement"].astype(bool)).all()
    says_match = summaries.str.contains("matching the")
    assert says_match.sum() == p["lmn_with_corresponding_mri"].sum() == 4
    assert not summaries.str.contains(r"\[rule|rule:", regex=True).any()
    assert (summaries.str.len() > 20).all()


def test_reasoning_lists_findings_with_rule_ids(demo_result):
    tables = reasoning_tables(demo_result, demo_result.patients["patient_id"])
    rows = tables["findings"]["NMO-008"]
    assert sum(len(r) for r in tables["findings"].values()) == len(demo_result.findings)
    latency = next(r for r in rows if r["where_text"] == "Median motor, Wrist"
                   and r["rule_id"] == "reference_limit")
    assert (latency["value_text"], latency["limit_text"]) == ("7.28 ms", "4.40 ms")
    assert all(r["rule_text"] for r in rows)         # every rule has words for its tooltip


def test_chinese_report_labels(tmp_path, demo_result, zh_page):
    from edxreview.report import render_report

    zh = summarize_patients(demo_result, demo_result.patients["patient_id"], "zh")
    assert zh["NMO-031"].startswith("双侧肱二头肌、双侧三角肌、双侧肱三头肌的失神经改变不能由神经传导")
    assert "C5–C7下运动神经元受累" in zh["NMO-031"] and "脊髓病灶（C4–C7）" in zh["NMO-031"]
    assert "单神经病（正中神经，腕部，右侧）" in zh["NMO-008"]
    page = zh_page
    assert '<html lang="zh">' in page and "<h1>电生理诊断队列回顾</h1>" in page
    assert "运动神经 / 刺激点" in page and "拇短展肌" in page
    with pytest.raises(ValueError, match="'fr'"):
        render_report(demo_result, tmp_path / "fr", lang="fr")
    assert not (tmp_path / "fr").exists()


@pytest.fixture(scope="module")
def two_paraspinal_levels(tmp_path_factory):
    """C5 and C6 paraspinals denervated on the right, every other muscle and nerve normal."""
    from edxreview._pipeline import review_study

    from scenarios.builders import ACUTE, emg_row, normal_patient

    study = normal_patient("P1", age=50)
    for spelled in ("C5 paraspinal", "C6 paraspinal"):
        study.add("emg", emg_row("P1", spelled, "R", **ACUTE))
    return review_study(study.write_csv(tmp_path_factory.mktemp("paraspinal") / "study"))


@pytest.mark.parametrize(("lang", "expected"), [
    ("en", ["Cervical paraspinals (C3-C8) C5 R", "Cervical paraspinals (C3-C8) C6 R"]),
    ("zh", ["右侧颈段椎旁肌C5", "右侧颈段椎旁肌C6"]),
])
def test_summary_names_each_paraspinal_level(two_paraspinal_levels, lang, expected):
    """Two levels of one paraspinal on one side are two muscles in the summary, named with
    their level as the explanation in patients.csv names them (not one 'paraspinals R')."""
    result = two_paraspinal_levels
    summary = summarize_patients(result, result.patients["patient_id"], lang)["P1"]
    for name in expected:
        assert name in summary
    if lang == "en":                     # the summary and the explanation name them alike
        for name in expected:
            assert name in result.patients.set_index("patient_id").loc["P1", "explanation"]


@pytest.mark.parametrize(("lang", "expected"), [
    ("en", ["Cervical paraspinals (C3-C8), C5", "Cervical paraspinals (C3-C8), C6"]),
    ("zh", ["颈段椎旁肌，C5", "颈段椎旁肌，C6"]),
])
def test_reasoning_table_names_each_paraspinal_level(two_paraspinal_levels, lang, expected):
    """The findings of two paraspinal levels are two rows, each naming its level."""
    result = two_paraspinal_levels
    rows = reasoning_tables(result, result.patients["patient_id"], lang)["findings"]["P1"]
    assert sorted(r["where_text"] for r in rows) == expected


@pytest.mark.parametrize(("lang", "template", "as_written", "expected"), [
    ("en", "summary", False, ["Median motor", "Sural sensory", "blink reflex"]),
    ("zh", "summary", False, ["正中神经运动", "腓肠神经感觉", "瞬目反射"]),
    ("en", "figures", True, ["median (motor)", "sural (sensory)", "blink reflex (blink)"]),
    ("zh", "figures", False, ["正中神经（运动）", "腓肠神经（感觉）", "瞬目反射"]),
    ("en", "summary", True, ["median motor", "sural sensory", "blink reflex blink"]),
], ids=["reasoning en", "reasoning zh", "figure en", "figure zh", "lesion findings en"])
def test_a_nerve_recording_is_named_by_one_function(lang, template, as_written, expected):
    """The nerve and its study, by the label file's template; the blink reflex, whose nerve id
    is named as its study, once (its ids as written keep both)."""
    from edxreview._words import load_labels
    from edxreview.report._summary import nerve_study_words

    labels = load_labels(lang)
    nerves = pd.Series(["median", "sural", "blink_reflex"], index=[3, 3, 7])
    studies = pd.Series(["motor", "sensory", "blink"], index=[3, 3, 7])
    shown = nerve_study_words(nerves, studies, labels, lang, labels[template]["nerve_study"],
                              as_written=as_written)
    assert shown.tolist() == expected and shown.index.tolist() == [3, 3, 7]


@pytest.mark.parametrize(("lang", "expected", "not_expected"), [
    ("en", "Cervical paraspinals (C3-C8) C5", None),
    ("zh", "颈段椎旁肌C5", "颈段椎旁肌 C5"),
])
def test_the_needle_emg_table_names_a_level_as_the_summary_does(two_paraspinal_levels, tmp_path,
                                                                 lang, expected, not_expected):
    """The patient page's needle-EMG table and the summary join a paraspinal and its level by
    the one label (``summary.muscle_level``), in each language."""
    from edxreview.report import render_report

    page = render_report(two_paraspinal_levels, tmp_path / lang, xlsx=False, lang=lang)
    text = page.read_text(encoding="utf-8")
    assert expected in text
    if not_expected:
        assert not_expected not in text
