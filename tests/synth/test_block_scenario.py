"""The conduction block scenario of the generator (not in the bundled cohort): drawn through a
patterns file that gives it a proportion, it is read as its truth says, with the block at its
own segment."""

from __future__ import annotations

import copy

import pandas as pd

from edxreview.synth import generate_cohort, write_csv_folder
from edxreview.synth._generate import TRUTH_COLUMNS
from edxreview.synth._study import load_patterns

BLOCK = "ulnar_forearm_block_hand_denervation"


def test_the_block_scenario_is_not_in_the_bundled_cohort():
    assert load_patterns()["scenarios"][BLOCK]["demo_count"] == 0


def test_a_drawn_forearm_block_is_read_at_its_segment_and_explains_the_hand(tmp_path):
    from edxreview._pipeline import review_study

    params = copy.deepcopy(load_patterns())
    params["scenarios"] = {BLOCK: {**params["scenarios"][BLOCK], "proportion": 3},
                           "normal": {**params["scenarios"]["normal"], "proportion": 1}}
    sheets, truth = generate_cohort(7, n=8, params=params)
    assert (truth["scenario"] == BLOCK).sum() == 6
    result = review_study(write_csv_folder(sheets, tmp_path / "study")[0].parent)
    got = result.patients.set_index("patient_id")
    for column in TRUTH_COLUMNS[2:8]:
        want = truth.set_index("patient_id")[column].eq("true")
        assert (got.loc[want.index, column].astype(bool) == want).all(), column
    blocked = set(truth.loc[truth["scenario"] == BLOCK, "patient_id"])
    n = result.nerves
    ulnar = n[n["patient_id"].isin(blocked) & n["study"].eq("motor") & n["nerve"].eq("ulnar")
              & n["conduction_block"].astype(bool)]
    assert set(ulnar["patient_id"]) == blocked
    assert set(ulnar["block_site"]) == {"wrist–below_elbow"}
    assert not ulnar["focal_slowing"].astype(bool).any()
    lesions = result.lesions[result.lesions["patient_id"].isin(blocked)]
    assert set(lesions["site"]) == {"wrist–below_elbow"}
    assert (lesions.groupby("patient_id")["n_muscles_explained"].sum() == 2).all()
    assert pd.Series([f"conduction block at wrist–below elbow (CMAP" in t
                      for t in got.loc[sorted(blocked), "explanation"]]).all()
