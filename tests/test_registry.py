"""Synthetic registries: the command, Parquet input, and agreement with the generator's truth."""

import pandas as pd
import pytest

from edxreview._pipeline import review_study
from edxreview.cli import main

FLAGS = ["emg_denervation", "ncs_neuropathy", "denervation_explained_by_ncs",
         "ncs_abnormal_without_denervation", "lmn_involvement", "lmn_with_corresponding_mri"]


@pytest.fixture(scope="module")
def registries(tmp_path_factory):
    root = tmp_path_factory.mktemp("registry")
    for fmt in ("csv", "parquet"):
        assert main(["synth", "--patients", "400", "--seed", "11", "--out", str(root / fmt),
                     "--format", fmt, "-q"]) == 0
    return root


def test_synth_writes_sheets_and_truth_apart(registries):
    names = sorted(p.name for p in (registries / "csv").iterdir())
    assert names == sorted(["patients.csv", "ncs_motor.csv", "ncs_sensory.csv", "f_waves.csv",
                            "blink_reflex.csv", "emg.csv", "mri.csv", "truth.csv",
                            ".edxreview-output.json"])
    truth = pd.read_csv(registries / "csv" / "truth.csv")
    assert list(truth.columns[:2]) == ["patient_id", "scenario"] and len(truth) == 400
    patients = pd.read_csv(registries / "csv" / "patients.csv")
    assert not set(FLAGS) & set(patients.columns)


def test_parquet_and_csv_give_identical_results(registries):
    from_csv = review_study(registries / "csv")
    from_parquet = review_study(registries / "parquet")
    pd.testing.assert_frame_equal(from_csv.patients, from_parquet.patients)
    assert from_parquet.summary["provenance"]["input_format"] == "parquet"


def test_pipeline_agrees_with_the_generator_truth(registries):
    result = review_study(registries / "csv")
    truth = pd.read_csv(registries / "csv" / "truth.csv", dtype=str).set_index("patient_id")
    got = result.patients.set_index("patient_id")
    for col in FLAGS:
        disagree = got.index[got[col] != truth.loc[got.index, col].eq("true")]
        assert list(disagree) == [], col


def test_truth_file_is_not_read_as_a_sheet(registries):
    result = review_study(registries / "csv")
    assert "truth" not in result.summary["rows"]
    assert any(w.sheet == "truth" and "unknown sheet" in w.message for w in result.study.warnings)
