"""A blank ``side`` in the emg sheet: allowed for a midline muscle (the tongue), a warning for a
paired cranial, trunk or paraspinal muscle, an error for a limb muscle (spec §1)."""

import shutil

import pandas as pd
import pytest

from edxreview import demo_path
from edxreview._pipeline import review_study
from edxreview.knowledge import load_anatomy


@pytest.fixture()
def study_with(tmp_path):
    def write(*rows: tuple[str, str]):
        folder = tmp_path / "study"
        shutil.copytree(demo_path(), folder, ignore=shutil.ignore_patterns("*.md"))
        emg = pd.read_csv(folder / "emg.csv", dtype=str, keep_default_na=False)
        pid = emg["patient_id"].iloc[0]
        extra = pd.DataFrame([{"patient_id": pid, "muscle": muscle, "side": side, "fibs": "0",
                               "psw": "0"} for muscle, side in rows])
        pd.concat([emg, extra], ignore_index=True).fillna("").to_csv(folder / "emg.csv", index=False)
        return folder, len(emg) + 2           # the sheet row of the first added row
    return write


def blank_side_problems(result):
    return [p for p in result.study.warnings if p.sheet == "emg" and p.column == "side"]


def test_only_the_tongue_is_marked_midline_in_the_anatomy_table():
    midline = load_anatomy().muscles["midline"]
    assert midline.dtype == bool
    assert midline[midline].index.tolist() == ["genioglossus"]


def test_a_paired_cranial_muscle_with_a_blank_side_is_named_in_a_warning(study_with):
    folder, row = study_with(("Frontalis", ""), ("SCM", ""), ("Rectus abdominis", ""),
                             ("genioglossus", ""), ("Orbicularis oculi", "R"))
    result = review_study(folder)
    found = blank_side_problems(result)
    assert [(p.row, p.value, p.severity) for p in found] == [
        (row, "", "warning"), (row + 1, "", "warning"), (row + 2, "", "warning")]
    assert "'Frontalis'" in found[0].message and "write L or R" in found[0].message
    assert "'Sternocleidomastoid'" in found[1].message
    assert result.summary["rows"]["emg"]["rejected"] == 0     # kept and used, as written
