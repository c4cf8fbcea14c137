"""Header-only sheets: the review still runs and accounts for every patient."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from scenarios.builders import normal_patient  # noqa: E402

import edxreview  # noqa: E402


def _header_only(folder: Path, sheet: str, header: str) -> None:
    (folder / f"{sheet}.csv").write_text(header + "\n", encoding="utf-8")


def test_emg_sheet_without_rows_excludes_every_patient(tmp_path):
    folder = normal_patient("P1").remove("emg").write_csv(tmp_path / "study")
    _header_only(folder, "emg", "patient_id,muscle,side,fibs,psw")
    result = edxreview.review(folder)
    pts = result.patients
    assert len(pts) == 1 and not pts["included"].any()
    assert pts["exclusion_reason"].tolist() == ["no EMG rows"]


@pytest.mark.parametrize("sheets", [("ncs_motor", "ncs_sensory", "f_waves")])
def test_nerve_sheets_without_rows_exclude_the_patient(tmp_path, sheets):
    study = normal_patient("P1").set_emg("P1", "tibialis anterior", "R", fibs="2+", psw="2+")
    folder = study.write_csv(tmp_path / "study")
    for sheet in sheets:
        header = (folder / f"{sheet}.csv").read_text(encoding="utf-8").splitlines()[0]
        _header_only(folder, sheet, header)
    pts = edxreview.review(folder).patients
    assert not pts["included"].any()
    assert pts["exclusion_reason"].tolist() == ["no nerve conduction rows"]
