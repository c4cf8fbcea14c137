"""Nerve names as labs write them, including the recording muscle in brackets."""

import shutil

import pandas as pd

from edxreview import demo_path
from edxreview.io import load_study


def test_recording_muscle_in_brackets_sets_the_recording_site(tmp_path):
    folder = tmp_path / "study"
    shutil.copytree(demo_path(), folder, ignore=shutil.ignore_patterns("*.md"))
    motor = pd.read_csv(folder / "ncs_motor.csv", dtype=str, keep_default_na=False)
    ulnar = motor["nerve"].eq("ulnar")
    motor.loc[ulnar, "nerve"] = "Ulnar (FDI)"
    motor.loc[motor["nerve"].eq("median"), "nerve"] = "Median nerve (APB)"
    motor.to_csv(folder / "ncs_motor.csv", index=False)

    table = load_study(folder).tables["ncs_motor"]
    assert set(table.loc[ulnar.to_numpy(), "nerve"]) == {"ulnar"}
    assert set(table.loc[ulnar.to_numpy(), "recording_site"]) == {"first_dorsal_interosseous"}
    assert "median" in set(table["nerve"])
