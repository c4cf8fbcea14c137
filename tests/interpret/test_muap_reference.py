"""Quantitative MUAP means in the workbook's ``emg`` sheet: judged only against a verified (or
the laboratory's own) reference row, never against the bundled unverified-illustrative
``muap_reference.csv``; a qualitative reading, where given, stands (spec §4 chronic
denervation: "a quantitative mean above the muscle's reference limit", every threshold in
versioned reference data with a citation)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from edxreview.interpret import _muscles
from edxreview.interpret._muscles import MUAP_BASES, muap_reference_warnings, read_muscles
from edxreview.io import load_study
from edxreview.knowledge import load_anatomy, load_rules
from edxreview.knowledge._muap import reference_status
from edxreview.knowledge._tables import load_muap_reference

EMG_HEADER = ["patient_id", "muscle", "side", "fibs", "psw", "muap_duration", "muap_amplitude",
              "muap_duration_ms", "muap_amplitude_uv"]


def _study(tmp_path: Path, emg_rows: list[tuple], age: float = 45):
    """A one-patient CSV-folder workbook with the given ``emg`` rows, loaded and validated."""
    folder = tmp_path / "study"
    folder.mkdir()
    pd.DataFrame([{"patient_id": "P1", "sex": "F", "age_years": age}]).to_csv(
        folder / "patients.csv", index=False)
    pd.DataFrame([{"patient_id": "P1", "nerve": "sural", "side": "R", "latency_ms": 3.5,
                   "amplitude_uv": 15}]).to_csv(folder / "ncs_sensory.csv", index=False)
    pd.DataFrame(emg_rows, columns=EMG_HEADER).to_csv(folder / "emg.csv", index=False)
    return load_study(folder)


def _read(study, muap_reference=None) -> pd.DataFrame:
    return read_muscles(study, load_anatomy(), load_rules(), muap_reference=muap_reference)


#: A test fixture, not a reference: two muscles, one age band, limits chosen for the test.
FIXTURE = pd.DataFrame({
    "muscle": ["deltoid", "biceps_brachii"], "age_min_years": [20, 20],
    "age_max_years": [80, 80], "duration_mean_ms": [10.0, 10.0],
    "duration_lower_ms": [8.0, 8.0], "duration_upper_ms": [12.0, 12.0],
    "amplitude_lower_uv": [200, 200], "amplitude_upper_uv": [2000, 2000],
    "status": ["verified", "verified"]})

# the two rows of the clinical review (W1): a healthy deltoid read normal (6.93 ms, below
# the bundled lower limit) and a biceps no lab reference judged (16.2 ms, above its upper)
HEALTHY_DELTOID = ("P1", "deltoid", "R", "0", "0", "normal", "normal", 6.93, 480)
UNJUDGED_BICEPS = ("P1", "biceps_brachii", "R", "0", "0", "", "", 16.2, 900)


def test_the_bundled_reference_is_not_verified():
    table = load_muap_reference()
    assert table.attrs["status"] == "unverified-illustrative"
    assert set(reference_status(table, lab=False)) == {"unsourced"}


def test_means_are_not_judged_against_the_unverified_bundled_reference(tmp_path):
    study = _study(tmp_path, [HEALTHY_DELTOID, UNJUDGED_BICEPS], age=54)
    m = _read(study).set_index("muscle")
    # the qualitative reading stands; the biceps' mean is kept and not judged
    assert m.loc["deltoid", "reading"] == "normal"
    # not denervation, and not called normal either: its MUAPs were measured, not judged
    assert m.loc["biceps_brachii", "reading"] == "MUAP means not judged; no denervation at rest"
    assert m.loc["biceps_brachii", "muap_reading"] == "not_judged"
    assert not m["denervation"].any() and not m["myopathic"].any()
    assert m.loc["biceps_brachii", "muap_duration_ms"] == 16.2
    assert m.loc["deltoid", "muap_duration_basis"] == "qualitative"
    assert m.loc["biceps_brachii", "muap_duration_basis"] == "not_judged_unverified_reference"
    assert m.loc["biceps_brachii", "muap_amplitude_basis"] == "not_judged_unverified_reference"
    assert m.loc["biceps_brachii", "muap_reference_status"] == "unsourced"
    # no limit is shown that was not used
    assert m[["reference_duration_ms", "reference_duration_lower_ms",
              "reference_amplitude_uv"]].isna().all().all()
    # every mean of the row unjudged: its reading says so (not repeated in other_findings)
    assert "not judged" not in m.loc["biceps_brachii", "other_findings"]


def test_each_mean_not_judged_is_a_located_warning(tmp_path):
    study = _study(tmp_path, [HEALTHY_DELTOID, UNJUDGED_BICEPS], age=54)
    warnings = muap_reference_warnings(_read(study))
    # the deltoid's means stand beside a qualitative reading: no warning for them
    assert [(w.sheet, w.row, w.column, w.value) for w in warnings] == [
        ("emg", 3, "muap_amplitude_uv", 900.0), ("emg", 3, "muap_duration_ms", 16.2)]
    assert all(w.severity == "warning" for w in warnings)
    assert "the MUAP reference for biceps brachii is unverified" in warnings[1].message
    assert ("give the qualitative reading (muap_duration / muap_amplitude) or a verified "
            "reference") in warnings[1].message


def test_a_muscle_without_a_reference_row_says_so(tmp_path):
    study = _study(tmp_path, [("P1", "rhomboid_major", "R", "0", "0", "", "", 15.0, None)])
    m = _read(study)
    assert m.loc[0, "muap_duration_basis"] == "not_judged_no_reference"
    assert m.loc[0, "muap_amplitude_basis"] == "not_given"
    [w] = muap_reference_warnings(m)
    assert (w.column, w.value) == ("muap_duration_ms", 15.0)
    assert "no MUAP reference for rhomboid major" in w.message


@pytest.mark.parametrize("row, reading, basis", [
    (("P1", "biceps_brachii", "R", "0", "0", "", "", 16.2, 900),
     "chronic denervation (reinnervation)", "quantitative_reference"),
    (("P1", "biceps_brachii", "R", "0", "0", "", "", 10.0, 2500),
     "chronic denervation (reinnervation)", "quantitative_reference"),
    (("P1", "deltoid", "R", "0", "0", "", "", 6.93, 480), "myopathic", "quantitative_reference"),
    (("P1", "deltoid", "R", "0", "0", "", "", 10.5, 480), "normal", "quantitative_reference"),
    # beside a qualitative reading a mean is judged too against verified limits: either is
    # enough for a finding ("read qualitatively, or a quantitative mean above the muscle's
    # reference limit", the spec's definition of chronic denervation)
    (HEALTHY_DELTOID, "myopathic", "quantitative_reference"),
    (("P1", "biceps_brachii", "R", "0", "0", "normal", "normal", 16.2, 900),
     "chronic denervation (reinnervation)", "quantitative_reference"),
], ids=["long duration", "large amplitude", "short duration", "within limits",
        "qualitative normal beside a short mean", "qualitative normal beside a long mean"])
def test_a_verified_reference_row_judges_the_mean(tmp_path, monkeypatch, row, reading, basis):
    monkeypatch.setattr(_muscles, "load_muap_reference", lambda: FIXTURE.copy())
    m = _read(_study(tmp_path, [row]))
    assert m.loc[0, "reading"] == reading
    assert m.loc[0, "muap_duration_basis"] == basis
    assert m.loc[0, "muap_reference_status"] == "verified"
    # both limits shown where the row was usable
    assert (m.loc[0, "reference_duration_lower_ms"], m.loc[0, "reference_duration_ms"],
            m.loc[0, "reference_amplitude_uv"]) == (8.0, 12.0, 2000.0)
    assert muap_reference_warnings(m) == []


def test_an_unverified_row_beside_verified_ones_is_still_not_judged(tmp_path, monkeypatch):
    table = FIXTURE.assign(status=["verified", "unsourced"])
    monkeypatch.setattr(_muscles, "load_muap_reference", lambda: table.copy())
    m = _read(_study(tmp_path, [("P1", "deltoid", "R", "0", "0", "", "", 16.0, 900),
                                UNJUDGED_BICEPS])).set_index("muscle")
    assert m.loc["deltoid", "reading"] == "chronic denervation (reinnervation)"
    assert m.loc["biceps_brachii", "reading"] == "MUAP means not judged; no denervation at rest"
    assert m.loc["biceps_brachii", "muap_duration_basis"] == "not_judged_unverified_reference"


def test_a_laboratory_table_without_status_is_its_own_and_judged(tmp_path):
    lab = FIXTURE.drop(columns="status")
    m = _read(_study(tmp_path, [UNJUDGED_BICEPS]), muap_reference=lab)
    assert m.loc[0, "muap_reference_status"] == "lab"
    assert m.loc[0, "reading"] == "chronic denervation (reinnervation)"


def test_the_demo_has_no_quantitative_mean_to_judge(demo_result):
    m = demo_result.muscles
    # the premise: the demo gives no quantitative mean, so none is judged and its counts stand
    assert m["muap_duration_ms"].isna().all() and m["muap_amplitude_uv"].isna().all()
    assert set(m["muap_duration_basis"]) <= {"qualitative", "not_given"}
    assert [v["n"] for v in demo_result.summary["measures"].values()] == [13, 7, 4, 2, 9, 4]


def test_every_basis_is_documented():
    doc = (Path(__file__).parents[2] / "docs" / "workbook.md")
    text = doc.read_text(encoding="utf-8") if doc.exists() else ""
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    for basis in MUAP_BASES:
        assert f"`{basis}`" in text + readme, basis


# ---------------------------------------------------- run --muap-reference: a lab's own table
LAB_CSV = ("muscle,age_min_years,age_max_years,duration_lower_ms,duration_upper_ms,"
           "amplitude_upper_uv\nBiceps brachii,18,90,8,12,2000\ndeltoid,18,90,8,13,2000\n")


def _workbook(tmp_path: Path) -> Path:
    """A one-patient workbook: the two rows of the clinical review (W1)."""
    folder = tmp_path / "book"
    folder.mkdir()
    pd.DataFrame([{"patient_id": "P1", "sex": "F", "age_years": 54}]).to_csv(
        folder / "patients.csv", index=False)
    pd.DataFrame([{"patient_id": "P1", "nerve": "median", "side": "R", "stim_site": "wrist",
                   "latency_ms": 3.5, "amplitude_mv": 8}]).to_csv(folder / "ncs_motor.csv",
                                                                  index=False)
    pd.DataFrame([HEALTHY_DELTOID, UNJUDGED_BICEPS], columns=EMG_HEADER).to_csv(
        folder / "emg.csv", index=False)
    return folder


def test_run_judges_against_the_laboratory_table_it_is_given(tmp_path):
    from edxreview.cli import main

    book, lab = _workbook(tmp_path), tmp_path / "lab.csv"
    lab.write_text(LAB_CSV, encoding="utf-8")
    assert main(["run", str(book), "--out", str(tmp_path / "plain"), "-q"]) == 0
    assert main(["run", str(book), "--muap-reference", str(lab), "--out",
                 str(tmp_path / "lab"), "-q"]) == 0
    plain = pd.read_csv(tmp_path / "plain" / "muscles.csv").set_index("muscle")
    judged = pd.read_csv(tmp_path / "lab" / "muscles.csv").set_index("muscle")
    assert plain.loc["biceps_brachii", "reading"] == "MUAP means not judged; no denervation at rest"
    assert judged.loc["biceps_brachii", "reading"] == "chronic denervation (reinnervation)"
    assert judged.loc["biceps_brachii", "muap_reference_status"] == "lab"
    # beside its qualitative reading the deltoid's short mean is judged against the lab's
    # table too (without the table, only the qualitative reading is read)
    assert plain.loc["deltoid", "reading"] == "normal"
    assert judged.loc["deltoid", "reading"] == "myopathic"
    # the explanation names the finding beside the biceps' denervation, with the mean and limit
    explanation = pd.read_csv(tmp_path / "lab" / "patients.csv")["explanation"].iloc[0]
    assert ("Not denervation: Deltoid R: myopathic MUAPs (mean MUAP duration 6.9 ms < 8.0 ms)."
            in explanation), explanation
    summary = json.loads((tmp_path / "lab" / "summary.json").read_text(encoding="utf-8"))
    assert summary["provenance"]["muap_reference"] == "lab.csv"
    assert summary["measures"]["emg_denervation"]["n"] == 1
    html = (tmp_path / "lab" / "report.html").read_text(encoding="utf-8")
    # the biceps' two means (no qualitative reading) and the deltoid's two (beside one)
    assert "Of 4 quantitative MUAP means" in html
    assert "4 were judged against verified or laboratory reference rows" in html
    html = (tmp_path / "plain" / "report.html").read_text(encoding="utf-8")
    assert ("2 given without a qualitative reading were not judged because the reference row "
            "for the muscle is unverified") in html


def test_a_myopathic_muscle_judged_by_the_laboratory_table_is_named(tmp_path):
    """A deltoid read by its mean alone (6.5 ms, below the table's 8 ms) with early
    recruitment: no denervation, and the explanation says myopathic MUAPs, with the mean and
    the limit, not only 'early recruitment' (spec §3, §4)."""
    from edxreview._pipeline import review_study

    book, lab = _workbook(tmp_path), tmp_path / "lab.csv"
    lab.write_text(LAB_CSV, encoding="utf-8")
    pd.DataFrame([{"patient_id": "P1", "muscle": "deltoid", "side": "R", "fibs": "0",
                   "psw": "0", "recruitment": "early", "muap_duration_ms": 6.5,
                   "muap_amplitude_uv": 300}]).to_csv(book / "emg.csv", index=False)
    result = review_study(book, muap_reference=lab)
    p = result.patients.iloc[0]
    assert not p["emg_denervation"]
    assert ("not denervation: Deltoid R: myopathic MUAPs (mean MUAP duration 6.5 ms < 8.0 ms); "
            "early recruitment.") in p["explanation"], p["explanation"]


def test_a_bad_laboratory_table_stops_the_run_with_located_problems(tmp_path, capsys):
    from edxreview.cli import main

    lab = tmp_path / "bad.csv"
    lab.write_text("muscle,age_min_years,age_max_years,duration_lower_ms,duration_upper_ms,"
                   "amplitude_upper_uv,status\nBiceps brachi,18,90,14,12,x,maybe\n",
                   encoding="utf-8")
    out = tmp_path / "out"
    assert main(["run", str(_workbook(tmp_path)), "--muap-reference", str(lab), "--out",
                 str(out), "-q"]) == 1
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert not out.exists()
    for expected in ("row 2, column 'muscle': value 'Biceps brachi': unknown muscle; did you "
                     "mean 'biceps_brachii'",
                     "column 'amplitude_upper_uv': value 'x': not a finite number",
                     "value '14': the lower duration limit must be below the upper one",
                     "value 'maybe': must be one of"):
        assert expected in text, expected


def test_a_laboratory_table_with_overlapping_age_bands_of_a_muscle_is_refused(tmp_path):
    from edxreview._errors import InvalidInputError
    from edxreview.knowledge._muap import load_muap_reference_file

    f = tmp_path / "lab.csv"
    f.write_text("muscle,age_min_years,age_max_years,duration_lower_ms,duration_upper_ms,"
                 "amplitude_upper_uv\ndeltoid,20,60,9,20,3000\ndeltoid,,,8,12,2500\n",
                 encoding="utf-8")
    with pytest.raises(InvalidInputError) as exc:   # row order would otherwise pick the limits
        load_muap_reference_file(f)
    (p,) = exc.value.problems
    assert p.row == 3 and "contradicts row 2" in p.message and "same muscle" in p.message


def test_a_laboratory_table_whose_verified_column_says_false_is_not_judged_against(tmp_path):
    lab = FIXTURE.drop(columns="status").assign(verified="false")
    m = _read(_study(tmp_path, [UNJUDGED_BICEPS]), muap_reference=lab)
    assert m.loc[0, "muap_reference_status"] == "unsourced"
    assert m.loc[0, "muap_duration_basis"] == "not_judged_unverified_reference"


def test_a_lab_emg_reference_toml_given_as_muap_reference_says_which_command_reads_it(tmp_path):
    from edxreview._errors import InvalidInputError
    from edxreview.knowledge._muap import load_muap_reference_file

    f = tmp_path / "ref.toml"
    f.write_text('format = "edxreview-lab-reference"\n', encoding="utf-8")
    with pytest.raises(InvalidInputError, match="read by 'edxreview emg analyze --reference'"):
        load_muap_reference_file(f)
