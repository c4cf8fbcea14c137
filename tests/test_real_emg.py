"""The real recordings in ../shared/data read as their labels say, through the command a user
runs (skipped with a reason when the recordings are absent)."""

from pathlib import Path

import pandas as pd
import pytest

from edxreview.cli import main

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
N2001 = DATA / "emglab-n2001"
PHYSIONET = DATA / "physionet-emgdb"
EXPECTED_SUBJECT = {"A": "neurogenic", "C": "normal", "M": "myopathic"}


@pytest.mark.skipif(not PHYSIONET.is_dir(), reason="../shared/data/physionet-emgdb is absent")
def test_physionet_records_read_as_labelled(tmp_path):
    files = [str(PHYSIONET / f"emg_{k}.hea") for k in ("healthy", "myopathy", "neuropathy")]
    assert main(["emg", "analyze", *files, "--muscle", "tibialis_anterior", "--out",
                 str(tmp_path / "out"), "-q", "--no-figures"]) == 0
    got = pd.read_csv(tmp_path / "out" / "recordings.csv").set_index("file")["pattern"]
    assert got.to_dict() == {"emg_healthy": "normal", "emg_myopathy": "myopathic",
                             "emg_neuropathy": "neurogenic"}


@pytest.mark.skipif(not N2001.is_dir(), reason="../shared/data/emglab-n2001 is absent")
def test_n2001_subjects_read_right_by_majority(tmp_path):
    """Judged per subject over all of its recordings (files of one subject are not
    independent), as the data README says."""
    frames = []
    for code, muscle in (("BB", "biceps_brachii"), ("VM", "vastus_medialis")):
        files = sorted(str(p) for p in N2001.glob(f"N2001???{code}*.bin"))
        out = tmp_path / code
        assert main(["emg", "analyze", *files, "--format", "raw", "--fs", "23437.5", "--muscle",
                     muscle, "--out", str(out), "-q", "--no-figures"]) == 0
        frames.append(pd.read_csv(out / "recordings.csv"))
    rec = pd.concat(frames, ignore_index=True)
    assert (rec["calibrated"].astype(str).str.lower() == "false").all()
    assert rec["reasons"].str.contains("ADC|uncalibrated|no gain", case=False).all()
    rec["subject"] = rec["file"].str[5:8]
    counts = rec.groupby("subject")["pattern"].value_counts().unstack(fill_value=0)
    for subject, row in counts.iterrows():
        expected = EXPECTED_SUBJECT[subject[0]]
        others = row.drop(expected, errors="ignore")
        assert row.get(expected, 0) > others.max(), (subject, row.to_dict())
