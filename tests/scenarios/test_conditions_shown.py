"""Conditions a decision rests on are shown where the decision is read, not only in
warnings.csv: a limb recorded below its temperature limit (guide, global caveats; hand ≥ 32 °C,
foot ≥ 30 °C in ``temperature_limits.csv``) and a height-adjusted limit taken at the reference
height because the patient's height is not given (guide §1.3; the F-wave limits of
``ncs_limits_adult.csv`` hold at 170 cm)."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from .builders import Study, normal_patient


def _study() -> Study:
    """C1: right sural slowed at 26 °C (the right foot cooled), left foot warm. H0: height
    168 cm. H1: height not given, right tibial F 58.5 ms. H2: height not given, no F-waves."""
    study = normal_patient("C1", age=45, sides=("R", "L"))
    study.set_sensory("C1", "sural", "R", latency_ms=4.8, velocity_m_s=37.0, temperature_c=26.0)
    study = study + normal_patient("H0", age=40) + normal_patient("H1", age=40, height_cm="")
    study.set_f_wave("H1", "tibial", "R", 58.5)
    study = study + normal_patient("H2", age=40, height_cm="")
    return study.remove("f_waves", patient_id="H2")


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    from edxreview._pipeline import review_study

    return review_study(_study().write_csv(tmp_path_factory.mktemp("conditions") / "study"))


def test_a_missing_height_is_warned_on_its_row(result):
    """One warning per patient whose height-adjusted limits assumed a height, on its row of
    the patients sheet (H1 is the third patient: row 4), naming the limits and the height;
    none for a patient with a height, nor for one whose limits do not depend on it (H2)."""
    warned = [w for w in result.study.warnings if w.column == "height_cm"]
    assert [(w.sheet, w.row, w.severity) for w in warned] == [("patients", 4, "warning")]
    assert warned[0].value is None
    assert "tibial F-wave min latency" in warned[0].message
    assert "reference height of 170 cm" in warned[0].message
    v = result.values
    f = v[v["parameter"].eq("min_latency_ms")]
    assert (f.loc[f["patient_id"].eq("H1"), "height_assumed_cm"] == 170).all()
    assert v.loc[v["patient_id"].isin(["C1", "H0", "H2"]), "height_assumed_cm"].isna().all()


def test_a_cooled_nerve_is_typed_in_nerves(result):
    n = result.nerves.set_index(["patient_id", "study", "nerve", "side"])
    assert n.loc[("C1", "sensory", "sural", "R"), "cooled"]
    assert n.loc[("C1", "sensory", "sural", "R"), "temperature_c"] == 26.0
    assert n.loc[("C1", "sensory", "sural", "R"), "temperature_limit_c"] == 30.0
    assert not n.loc[("C1", "sensory", "sural", "L"), "cooled"]
    assert n["cooled"].sum() == 1


def _page(html: str, patient_id: str) -> str:
    start = html.index(f"<h3>{patient_id}<")
    return html[start:html.index("</section>", start)]


@pytest.mark.parametrize("lang, summary, cooled_note, height_note", [
    ("en", "Sural sensory right (26.0 °C, limit 30.0 °C)", "below the limb&#39;s limit (≥ 30.0 °C)",
     "the height-adjusted limits (F-wave min latency) are those at 170 cm"),
    ("zh", "（26.0 °C，界值 30.0 °C）", "（≥ 30.0 °C）", "按 170 cm 取值")])
def test_the_patient_page_shows_the_temperature_and_the_height(result, tmp_path, lang, summary,
                                                               cooled_note, height_note):
    """The page's summary names the cooled nerve with its temperature and limit; its NCS
    table marks the cold temperature as a low value; notes beneath the tables give the limit
    and the height assumed."""
    from edxreview.report import render_report

    render_report(result, tmp_path, xlsx=False, lang=lang)
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    c1, h0, h1 = (_page(html, pid) for pid in ("C1", "H0", "H1"))
    plain = re.search(r'class="plain"[^>]*>([^<]*)<', c1).group(1)
    assert summary in plain
    cold = re.findall(r'<td class="num abn">26\.0&nbsp;▼</td>', c1)
    assert len(cold) == 1                     # the sural row only; the left foot is warm
    assert '<td class="num">31.5</td>' in c1
    assert cooled_note in c1 and height_note not in c1
    assert height_note in h1 and "30.0 °C" not in h1
    assert 'note caution' not in h0


def _unread_study() -> Study:
    """SQ: a suprascapular motor study (Erb's point to infraspinatus), which no bundled limit
    covers, beside otherwise normal studies and infraspinatus with fibrillations."""
    study = normal_patient("SQ", age=40, sides=("R", "L"))
    for side, latency_ms, amplitude_mv in (("R", 5.9, 0.9), ("L", 3.1, 4.5)):
        study.add("ncs_motor", {"patient_id": "SQ", "nerve": "suprascapular", "side": side,
                                "stim_site": "erb", "recording_site": "infraspinatus",
                                "latency_ms": latency_ms, "amplitude_mv": amplitude_mv,
                                "temperature_c": 33.0})
    return study


@pytest.mark.parametrize("lang, words", [
    ("en", "Not interpreted, for want of a reference limit: Suprascapular motor left; "
           "Suprascapular motor right."),
    ("zh", "因无参考界值，以下检查未判读：")])
def test_the_summary_names_a_study_that_was_not_interpreted(tmp_path, lang, words):
    """A study with no reference limit is named in the page's summary beside "no peripheral
    or cranial neuropathy", which would otherwise read as covering it."""
    from edxreview._pipeline import review_study
    from edxreview.report._summary import summarize_patients

    result = review_study(_unread_study().write_csv(tmp_path / "study"))
    text = summarize_patients(result, pd.Series(["SQ"]), lang=lang)["SQ"]
    assert words in text
