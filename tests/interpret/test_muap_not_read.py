"""A muscle whose MUAPs were not read (every MUAP column of its emg row blank, or polyphasia
only; recruitment may be graded) is never called normal: ``muap_reading`` ``not_read``, a reading that says so, and the
patient's explanation and report summary name it. The classification is unchanged: it is
denervated only when fibrillation potentials or positive sharp waves say so."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from edxreview._pipeline import review_study
from edxreview.interpret._muscles import MUAP_READINGS

EMG_HEADER = ("patient_id,muscle,side,fibs,psw,fasciculations,muap_amplitude,muap_duration,"
              "polyphasia,recruitment,muap_duration_ms,muap_amplitude_uv,polyphasic_pct\n")


def _study(tmp: Path, emg_rows: list[str]) -> Path:
    """A one-patient CSV-folder workbook with normal nerve conduction and ``emg_rows``."""
    folder = tmp / "study"
    folder.mkdir()
    (folder / "patients.csv").write_text("patient_id,sex,age_years\nP1,M,54\n", encoding="utf-8")
    (folder / "ncs_sensory.csv").write_text(
        "patient_id,nerve,side,latency_ms,amplitude_uv\nP1,sural,R,3.5,15\n", encoding="utf-8")
    (folder / "ncs_motor.csv").write_text(
        "patient_id,nerve,side,stim_site,latency_ms,amplitude_mv\nP1,median,R,wrist,3.5,8\n",
        encoding="utf-8")
    (folder / "emg.csv").write_text(EMG_HEADER + "".join(r + "\n" for r in emg_rows),
                                    encoding="utf-8")
    return folder


@pytest.mark.parametrize(("row", "muap_reading", "reading", "denervation"), [
    ("P1,biceps_brachii,R,0,0,0,,,,,,,", "not_read", "MUAPs not read; no denervation at rest",
     False),
    ("P1,biceps_brachii,R,±,0,0,,,,reduced,,,", "not_read",
     "MUAPs not read; no denervation at rest", False),
    ("P1,deltoid,R,2+,1+,0,,,,,,,", "not_read", "acute denervation, MUAPs not read", True),
    ("P1,biceps_brachii,R,0,0,0,normal,normal,normal,normal,,,", "read", "normal", False),
    ("P1,biceps_brachii,R,0,0,0,,,,,9.5,,", "not_judged",
     "MUAP means not judged; no denervation at rest", False),
    ("P1,deltoid,R,2+,1+,0,,,,,9.5,400,", "not_judged", "acute denervation, MUAP means not judged",
     True),
    ("P1,deltoid,R,2+,1+,0,normal,normal,,,,,", "read", "acute denervation", True),
    ("P1,biceps_brachii,R,0,0,0,normal,decreased,normal,normal,,,", "read", "myopathic", False),
    ("P1,biceps_brachii,R,0,0,0,,decreased,,,,,", "read", "myopathic", False),
    ("P1,deltoid,R,2+,2+,0,decreased,decreased,increased,early,,,", "read",
     "acute denervation, myopathic MUAPs", True),
    ("P1,biceps_brachii,R,0,0,0,increased,decreased,,,,,", "read",
     "chronic denervation (reinnervation)", True),
    ("P1,biceps_brachii,R,0,0,0,,,increased,normal,,,", "not_read",
     "MUAPs not read; no denervation at rest", False),
    ("P1,biceps_brachii,R,0,0,0,,,normal,,,,", "not_read",
     "MUAPs not read; no denervation at rest", False),
], ids=["rest only, clean", "rest only, ± and reduced recruitment", "rest only, fibs 2+",
        "qualitative MUAPs read normal", "a mean only, not judged",
        "fibs 2+ beside means not judged", "fibs 2+ with MUAPs read",
        "short duration alone, the rest normal", "short duration the only column",
        "fibs 2+ beside short, small MUAPs",
        "short beside large: chronic denervation first", "polyphasia increased only",
        "polyphasia normal only"])
def test_a_muscle_without_a_muap_reading_is_not_called_normal(tmp_path, row, muap_reading,
                                                               reading, denervation):
    result = review_study(_study(tmp_path, [row]))
    m = result.muscles.iloc[0]
    assert m["muap_reading"] == muap_reading and muap_reading in MUAP_READINGS
    assert m["reading"] == reading
    assert bool(m["denervation"]) is denervation
    assert bool(result.patients.iloc[0]["emg_denervation"]) is denervation


def test_the_explanation_and_the_summary_name_the_muscles_not_read(tmp_path):
    from edxreview.report._summary import summarize_patients

    result = review_study(_study(tmp_path, ["P1,biceps_brachii,R,0,0,0,normal,normal,normal,,,,",
                                            "P1,tibialis_anterior,L,0,0,0,,,,normal,,,"]))
    p = result.patients.iloc[0]
    assert not p["emg_denervation"]
    assert ("MUAPs not read in 1 of 2 muscle(s) (Tibialis anterior L): chronic denervation was "
            "not looked for there.") in p["explanation"]
    summary = summarize_patients(result, pd.Series(["P1"])).iloc[0]
    assert ("MUAPs were not read in 1 of the 2 muscles (Tibialis anterior L): chronic "
            "denervation was not looked for there.") in summary
    zh = summarize_patients(result, pd.Series(["P1"]), lang="zh").iloc[0]
    assert "未分析运动单位电位" in zh


def test_every_muap_read_says_nothing_more(tmp_path):
    result = review_study(_study(tmp_path, ["P1,biceps_brachii,R,0,0,0,normal,normal,normal,,,,"]))
    assert "MUAPs not read" not in result.patients.iloc[0]["explanation"]


def test_a_mean_judged_against_a_laboratory_row_is_a_reading(tmp_path):
    lab = tmp_path / "lab.csv"
    lab.write_text("muscle,age_min_years,age_max_years,duration_lower_ms,duration_upper_ms,"
                   "amplitude_upper_uv\nbiceps_brachii,18,90,8,12,2000\n", encoding="utf-8")
    result = review_study(_study(tmp_path, ["P1,biceps_brachii,R,0,0,0,,,,,9.5,,"]),
                          muap_reference=lab)
    m = result.muscles.iloc[0]
    assert (m["muap_reading"], m["reading"]) == ("read", "normal")


def test_the_explanation_names_the_muscles_whose_means_were_not_judged(tmp_path):
    from edxreview.report._summary import summarize_patients

    result = review_study(_study(tmp_path, ["P1,biceps_brachii,R,0,0,0,,,,,9.5,,",
                                            "P1,deltoid,R,0,0,0,normal,normal,,,,,"]))
    assert ("MUAP means not judged (no verified or laboratory reference row) in 1 of 2 "
            "muscle(s) (Biceps brachii R): chronic denervation was not looked for there."
            ) in result.patients.iloc[0]["explanation"]
    assert "quantitative MUAP means not judged" not in result.patients.iloc[0]["explanation"]
    summary = summarize_patients(result, pd.Series(["P1"])).iloc[0]
    assert "The MUAP means of 1 of the 2 muscles (Biceps brachii R) were not judged" in summary


def test_the_demo_has_every_muap_read(demo_result):
    assert set(demo_result.muscles["muap_reading"]) == {"read"}


def test_the_methods_count_the_muscles_without_a_muap_reading(tmp_path):
    from edxreview.report._methods import describe_muap_reference

    result = review_study(_study(tmp_path, ["P1,biceps_brachii,R,0,0,0,normal,normal,normal,,,,",
                                            "P1,tibialis_anterior,L,0,0,0,,,,normal,,,",
                                            "P1,deltoid,R,0,0,0,,,,,9.5,,"]))
    text = describe_muap_reference(result.muscles)["text"]
    # the tibialis anterior had its recruitment graded: not "examined at rest only"
    assert "at rest only" not in text
    assert ("Of 3 muscles examined, 1 had no MUAP reading (every MUAP column blank, or "
            "polyphasia only) and 1 had "
            "quantitative MUAP means only, none of them judged: chronic denervation was not "
            "looked for in them (muap_reading in muscles.csv).") in text
    # a registry's partitions return counts: the same sentence from them
    counted = result.muscles.groupby("muap_reading").size().reset_index(name="n")
    assert "Of 3 muscles examined, 1 had no MUAP reading" in describe_muap_reference(counted)["text"]
    (tmp_path / "b").mkdir()
    read = review_study(_study(tmp_path / "b", ["P1,biceps_brachii,R,0,0,0,normal,normal,,,,,"]))
    assert "muscles examined" not in describe_muap_reference(read.muscles)["text"]


def test_the_muscle_figure_counts_muscles_not_read_apart(tmp_path):
    from edxreview.report._figures import muscle_kinds, plot_muscle_findings

    result = review_study(_study(tmp_path, ["P1,biceps_brachii,R,0,0,0,normal,normal,normal,,,,",
                                            "P1,biceps_brachii,L,0,0,0,,,,normal,,,",
                                            "P1,deltoid,R,2+,1+,0,,,,,,,",
                                            "P1,deltoid,L,0,0,0,normal,increased,,,,,"]))
    kinds = muscle_kinds(result.muscles).set_index(["muscle", "kind"])["n"].to_dict()
    assert kinds == {("biceps_brachii", "normal"): 1, ("biceps_brachii", "not read"): 1,
                     ("deltoid", "acute"): 1, ("deltoid", "chronic"): 1}
    # the same from counted rows, as a registry's partitions give them
    counted = result.muscles.groupby(["muscle", "acute", "chronic", "muap_reading"]).size() \
        .reset_index(name="n")
    assert muscle_kinds(counted).set_index(["muscle", "kind"])["n"].to_dict() == kinds
    labels = plot_muscle_findings(result.muscles).axes[0].get_legend_handles_labels()[1]
    assert "no denervation at rest, MUAPs not read or not judged" in labels


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_no_denervation_is_claimed_only_at_rest_where_muaps_were_not_read(tmp_path, lang):
    # the patient-level sentences come from muap_reading, not from the muscles' text
    from edxreview._words import load_labels
    from edxreview.report._summary import summarize_patients

    s = load_labels(lang)["summary"]
    cases = {"read": ["P1,biceps_brachii,R,0,0,0,normal,normal,normal,,,,"],
             "rest only": ["P1,tibialis_anterior,L,0,0,0,,,,normal,,,"],
             "means only": ["P1,biceps_brachii,R,0,0,0,,,,,9.5,,"],
             "some read": ["P1,biceps_brachii,R,0,0,0,normal,normal,normal,,,,",
                           "P1,tibialis_anterior,L,0,0,0,,,,normal,,,"]}
    for name, rows in cases.items():
        folder = tmp_path / name
        folder.mkdir()
        result = review_study(_study(folder, rows))
        n = len(rows)
        text = summarize_patients(result, pd.Series(["P1"]), lang=lang).iloc[0]
        explanation = result.patients.iloc[0]["explanation"]
        state = {"read": "plain", "some read": "some_read"}.get(name, "at_rest")
        said = {"plain": s["no_emg_no_ncs"].format(n_muscles=n),
                "at_rest": s["no_emg_no_ncs_at_rest"].format(n_muscles=n),
                "some_read": s["no_emg_no_ncs_some_read"].split("{n_read}")[0].format(
                    n_muscles=n)}
        assert [k for k, v in said.items() if v in text] == [state], name
        if lang == "en":
            assert ("EMG: no denervation at rest in" in explanation) is (state != "plain"), name
            assert ("nor in the MUAPs" in explanation) is (state == "some_read"), name


# one muscle of each MUAP reading, none denervated: the sentences say, muscle by muscle, what
# was examined (rest in all four; MUAPs read in two, not read in one, means not judged in one)
MIXED = ["P1,biceps_brachii,R,0,0,0,normal,normal,normal,,,,",
         "P1,deltoid,R,±,0,0,normal,normal,,,,,",
         "P1,tibialis_anterior,L,0,0,0,,,,normal,,,",
         "P1,biceps_brachii,L,0,0,0,,,,,9.5,,"]


@pytest.mark.parametrize(("lang", "sentences"), [
    ("en", ["Needle EMG of 4 muscles showed no denervation at rest, nor in the MUAPs of the 2 "
            "whose MUAPs were read (Biceps brachii R; Deltoid R), and the nerve conduction "
            "studies showed no peripheral or cranial neuropathy.",
            "MUAPs were not read in 1 of the 4 muscles (Tibialis anterior L): chronic "
            "denervation was not looked for there.",
            "The MUAP means of 1 of the 4 muscles (Biceps brachii L) were not judged"]),
    ("zh", ["针极肌电图检查 4 块肌肉，静息时未见失神经电位；其中 2 块已分析运动单位电位"
            "（右侧肱二头肌、右侧三角肌），亦未见失神经改变；神经传导检查未见周围神经或脑神经病变。",
            "4 块肌肉中 1 块未分析运动单位电位（左侧胫骨前肌），未评估其慢性失神经。",
            "4 块肌肉中 1 块的运动单位电位均值未经判读（左侧肱二头肌；"]),
], ids=["English", "Chinese"])
def test_the_summary_names_the_muscles_read_and_those_examined_at_rest_only(
        tmp_path, lang, sentences):
    from edxreview.report._summary import summarize_patients

    result = review_study(_study(tmp_path, MIXED))
    assert list(result.muscles["muap_reading"]) == ["read", "read", "not_read", "not_judged"]
    text = summarize_patients(result, pd.Series(["P1"]), lang=lang).iloc[0]
    for sentence in sentences:
        assert sentence in text
    # in the order written, and no muscle named among the read that was not read
    assert [text.index(x) for x in sentences] == sorted(text.index(x) for x in sentences)
    read_part = text[:text.index(sentences[1])]
    assert ("Tibialis" if lang == "en" else "胫骨前肌") not in read_part


def test_the_explanation_names_the_muscles_read_and_those_examined_at_rest_only(tmp_path):
    result = review_study(_study(tmp_path, MIXED))
    explanation = result.patients.iloc[0]["explanation"]
    assert explanation.startswith(
        "EMG: no denervation at rest in 4 muscle(s) examined, nor in the MUAPs of the 2 read "
        "(Biceps brachii R, Deltoid R); not denervation: Deltoid R: equivocal (±) spontaneous "
        "activity. MUAPs not read in 1 of 4 muscle(s) (Tibialis anterior L): chronic "
        "denervation was not looked for there. MUAP means not judged (no verified or "
        "laboratory reference row) in 1 of 4 muscle(s) (Biceps brachii L)")


def _slow_median_ncs(folder):
    """P1's median nerve slowed, motor and sensory (an NCS abnormality of its own)."""
    (folder / "ncs_motor.csv").write_text(
        "patient_id,nerve,side,stim_site,latency_ms,amplitude_mv\n"
        "P1,median,R,wrist,7.5,8\nP1,median,R,elbow,12.0,8\n", encoding="utf-8")
    (folder / "ncs_sensory.csv").write_text(
        "patient_id,nerve,side,latency_ms,amplitude_uv\nP1,sural,R,3.5,15\n"
        "P1,median,R,5.5,4\n", encoding="utf-8")


def test_an_ncs_abnormality_caused_no_denervation_at_rest_where_muaps_were_not_read(tmp_path):
    from edxreview.report._summary import summarize_patients

    folder = _study(tmp_path, ["P1,biceps_brachii,R,0,0,0,,,,normal,,,"])
    _slow_median_ncs(folder)
    result = review_study(folder)
    p = result.patients.iloc[0]
    assert p["ncs_abnormal_without_denervation"]
    text = summarize_patients(result, pd.Series(["P1"])).iloc[0]
    assert "caused no denervation at rest in the muscles examined." in text
    assert "showed no denervation at rest." in text


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_an_ncs_abnormality_caused_no_denervation_in_the_muaps_read(tmp_path, lang):
    from edxreview._words import load_labels
    from edxreview.report._summary import summarize_patients

    folder = _study(tmp_path, ["P1,biceps_brachii,R,0,0,0,,,,normal,,,",
                               "P1,deltoid,R,0,0,0,normal,normal,normal,,,,"])
    _slow_median_ncs(folder)
    result = review_study(folder)
    assert result.patients.iloc[0]["ncs_abnormal_without_denervation"]
    s = load_labels(lang)["summary"]
    text = summarize_patients(result, pd.Series(["P1"]), lang=lang).iloc[0]
    assert s["ncs_without_denervation_some_read"].format(n_read=1) in text
    assert s["ncs_without_denervation_at_rest"] not in text


def test_increased_polyphasia_is_kept_among_the_other_findings(tmp_path):
    result = review_study(_study(tmp_path, ["P1,biceps_brachii,R,0,0,0,,,increased,,,,",
                                            "P1,deltoid,R,0,0,0,normal,normal,increased,,,,"]))
    m = result.muscles.set_index("muscle")
    assert "increased polyphasia" in m.at["biceps_brachii", "other_findings"]
    assert "increased polyphasia" in m.at["deltoid", "other_findings"]
    assert m.at["deltoid", "muap_reading"] == "read" and m.at["deltoid", "reading"] == "normal"


def test_a_percentage_polyphasic_alone_is_no_muap_reading(tmp_path):
    # polyphasic_pct is never judged against a reference: alone it is not 'means not judged'
    result = review_study(_study(tmp_path, ["P1,biceps_brachii,R,0,0,0,,,,,,,40"]))
    m = result.muscles.iloc[0]
    assert m["muap_reading"] == "not_read"
    assert m["reading"] == "MUAPs not read; no denervation at rest"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_patient_page_shows_the_muscle_by_muscle_sentences(tmp_path, lang):
    # the report's patient page carries the summary as summarize_patients writes it
    import html
    import re

    from edxreview.report import render_report
    from edxreview.report._summary import summarize_patients

    result = review_study(_study(tmp_path, MIXED))
    render_report(result, tmp_path / "out", xlsx=False, lang=lang)
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    shown = [html.unescape(t) for t in re.findall(r"<p [^>]*data-summary>(.*?)</p>", page, re.S)]
    assert shown == [summarize_patients(result, pd.Series(["P1"]), lang=lang).iloc[0]]
    read = "(Biceps brachii R; Deltoid R)" if lang == "en" else "（右侧肱二头肌、右侧三角肌）"
    assert read in shown[0]


def test_the_summary_says_at_rest_exactly_where_it_names_muscles_not_read(tmp_path, monkeypatch):
    """The patients whose summary says "no denervation at rest" are those its not-read
    sentences name, taken from that one source (``_not_read_list``), not filtered again."""
    from edxreview.report import _summary
    from edxreview._words import load_labels
    from edxreview.report._summary import summarize_patients

    s = load_labels("en")["summary"]
    result = review_study(_study(tmp_path, ["P1,biceps_brachii,R,0,0,0,normal,normal,normal,,,,"]))
    text = summarize_patients(result, pd.Series(["P1"])).iloc[0]
    assert s["no_emg_no_ncs"].format(n_muscles=1) in text     # every MUAP read: plain
    # the not-read lists name P1's muscle: the summary says at rest, as the list does
    names = pd.Series({"P1": "Biceps brachii R"}, dtype=object)
    monkeypatch.setattr(_summary, "_not_read_list", lambda m, labels, lang, value: (
        (names, pd.Series({"P1": 1})) if value == "not_read"
        else (pd.Series(dtype=object), pd.Series(dtype=int))))
    text = summarize_patients(result, pd.Series(["P1"])).iloc[0]
    assert "Biceps brachii R" in text
    assert s["no_emg_no_ncs_at_rest"].format(n_muscles=1) in text
