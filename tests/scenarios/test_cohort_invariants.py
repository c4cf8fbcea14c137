"""A mixed cohort built from the textbook cases: spec §4 identities, per-patient results that
do not depend on the other patients, and identical results from a CSV folder and an .xlsx
workbook (spec §1)."""

from __future__ import annotations

import pandas as pd
import pytest

from .builders import Study
from .test_textbook_cases import FLAGS, SCENARIOS, check_patient

COHORT_CASES = (
    "carpal tunnel with APB denervation",
    "carpal tunnel without denervation",
    "ulnar neuropathy at the elbow with FDI and ADM denervation",
    "length-dependent axonal sensorimotor polyneuropathy",
    "sensory neuropathy",
    "facial palsy with abnormal blink reflex and facial denervation",
    "anterior horn C5-C6 under a C4-C5 cord lesion",
    "anterior horn C5-C6 with an MRI lesion only at T6-T8",
    "tongue denervation with a medullary lesion",
    "carpal tunnel plus C5-C6 denervation",
    "myopathic EMG",
    "fasciculations alone",
    "patients without EMG or without NCS are excluded",  # three patients, two excluded
)


def _cohort() -> tuple[Study, dict]:
    by_id = {s.id: s for s in SCENARIOS}
    study, expected = Study(), {}
    for number, case_id in enumerate(COHORT_CASES, start=1):
        scenario = by_id[case_id]
        prefix = f"S{number:02d}"
        study = study + scenario.build(prefix)
        expected.update({prefix + suffix: e for suffix, e in scenario.expected.items()})
    return study, expected


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    from edxreview._pipeline import review_study

    study, expected = _cohort()
    folder = tmp_path_factory.mktemp("cohort")
    from_csv = review_study(study.write_csv(folder / "csv")).patients
    from_xlsx = review_study(study.write_xlsx(folder / "cohort.xlsx")).patients
    return from_csv, from_xlsx, expected


def test_every_patient_listed_once(cohort):
    patients, _, expected = cohort
    assert sorted(patients["patient_id"].astype(str)) == sorted(expected)


def test_cohort_identities(cohort):
    patients, _, _ = cohort
    included = patients[patients["included"].astype(bool)]
    flag = {column: included[column].astype(bool) for column in FLAGS}
    denervated = flag["emg_denervation"]
    explained = flag["denervation_explained_by_ncs"]
    neuropathy = flag["ncs_neuropathy"]

    assert (flag["lmn_involvement"] == (denervated & ~explained)).all()
    assert (~explained | denervated).all()
    assert (~flag["lmn_with_corresponding_mri"] | flag["lmn_involvement"]).all()
    assert (flag["ncs_abnormal_without_denervation"] == (neuropathy & ~denervated)).all()
    assert (denervated == (included["denervation_type"] != "none")).all()
    counts = {column: int(values.sum()) for column, values in flag.items()}
    assert counts["lmn_involvement"] == counts["emg_denervation"] - counts[
        "denervation_explained_by_ncs"]
    assert counts["lmn_with_corresponding_mri"] <= counts["lmn_involvement"]
    assert counts["ncs_abnormal_without_denervation"] <= counts["ncs_neuropathy"]


def test_excluded_patients_have_no_true_classification(cohort):
    patients, _, _ = cohort
    excluded = patients[~patients["included"].astype(bool)]
    assert len(excluded) == 2
    for column in FLAGS:
        values = excluded[column]
        assert not values[values.notna()].astype(bool).any(), column
    assert excluded["exclusion_reason"].fillna("").str.strip().ne("").all()


def test_each_patient_classified_as_on_its_own(cohort):
    patients, _, expected = cohort
    for patient_id, expectation in expected.items():
        check_patient(patients, patient_id, expectation)


def test_csv_folder_and_xlsx_workbook_agree(cohort):
    from_csv, from_xlsx, _ = cohort
    pd.testing.assert_frame_equal(from_csv, from_xlsx)
