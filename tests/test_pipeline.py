"""The bundled demo cohort end to end, the knowledge maps the logic relies on, and layout rules."""

import json
from pathlib import Path

import pandas as pd
import pytest

from edxreview.classify._mri import format_segments, lesion_segments
from edxreview.cli import main
from edxreview.knowledge import load_anatomy
from edxreview.knowledge._tables import load_segments

PUBLISHED = {"emg_denervation": 13, "ncs_neuropathy": 7, "denervation_explained_by_ncs": 4,
             "ncs_abnormal_without_denervation": 2, "lmn_involvement": 9,
             "lmn_with_corresponding_mri": 4}
TRUTH = Path(__file__).parent / "data" / "demo_cohort_truth.csv"


@pytest.fixture(scope="module")
def demo(demo_result):
    return demo_result


def test_demo_derives_the_published_counts(demo):
    assert demo.summary["n_patients"] == 59
    assert {k: m["n"] for k, m in demo.summary["measures"].items()} == PUBLISHED


def test_demo_matches_the_generator_truth_per_patient(demo):
    truth = pd.read_csv(TRUTH, dtype=str, keep_default_na=False).set_index("patient_id")
    got = demo.patients.set_index("patient_id")
    for col in PUBLISHED:
        assert (got[col] == truth.loc[got.index, col].eq("true")).all(), col
    lmn = got["lmn_involvement"]
    assert (got.loc[lmn, "lmn_segments"] == truth.loc[got.index[lmn], "lmn_segments"]).all()


def test_every_classification_is_explained(demo):
    p = demo.patients
    assert p["explanation"].str.len().gt(40).all()
    lmn = p[p["lmn_involvement"]]
    assert lmn["explanation"].str.contains("Not accounted for by NCS").all()
    assert (lmn["lmn_segments"] != "").all()


def test_demo_command_writes_outputs(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "-q"]) == 0
    for name in ("summary.json", "patients.csv", "muscles.csv", "nerves.csv", "report.html"):
        assert (out / name).is_file(), name
    summary = json.loads((out / "summary.json").read_text())
    assert summary["measures"]["lmn_involvement"]["n"] == 9
    patients = pd.read_csv(out / "patients.csv", dtype=str)
    assert set(patients["lmn_involvement"]) <= {"true", "false"}
    # a second run into the same folder needs --force
    assert main(["demo", "--out", str(out), "-q"]) == 2


@pytest.mark.parametrize("frm, to, expected", [
    ("C4", "C5", "C5-C6"),      # main segments: C4 body → C5, C5 body → C6
    ("T6", "T8", "T8-T10"),     # thoracic about +2
    # lumbar cord from the upper third of the T11 body, sacral from L1 (Canbay et al. 2014)
    ("T10", "T12", "T12-L5"),
    ("T11", "L1", "L1-Co"),
    ("L1", "L1", "S1-Co"),
    ("medulla", "medulla", "medulla"),
])
def test_vertebral_levels_map_to_cord_segments(frm, to, expected):
    region = "brainstem" if frm == "medulla" else "spinal_cord"
    mri = pd.DataFrame({"patient_id": ["P"], "region": [region], "level_from": [frm], "level_to": [to]})
    assert lesion_segments(mri)["segments_text"].iloc[0] == expected


def test_segment_runs_are_formatted():
    pos = load_segments()["position"]
    assert format_segments(pd.Series([pos["C5"], pos["C6"], pos["C7"], pos["L4"]])) == "C5-C7, L4"


@pytest.mark.parametrize("spelling, muscle", [
    ("First dorsal interosseous", "first_dorsal_interosseous"), ("FDI", "first_dorsal_interosseous"),
    ("1st DI", "first_dorsal_interosseous"), ("Biceps brachii", "biceps_brachii"),
    ("Tongue", "genioglossus"), ("Medial gastrocnemius", "gastrocnemius_medial"),
    ("Tib ant", "tibialis_anterior"), ("APB", "abductor_pollicis_brevis"),
])
def test_clinical_spellings_resolve(spelling, muscle):
    from edxreview.knowledge._tables import normalize_key
    assert load_anatomy().muscle_aliases[normalize_key(spelling)] == muscle


def test_fibular_means_peroneal():
    from edxreview.knowledge._tables import normalize_key
    assert load_anatomy().nerve_aliases[normalize_key("fibular")] == "peroneal"
