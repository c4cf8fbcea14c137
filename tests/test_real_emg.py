"""The real recordings in ../shared/data through the commands a user runs (skipped with a reason
when the recordings are absent).

These check behaviour, not accuracy: the accuracy is measured leave-one-subject-out by
``tools/emg_eval.py`` and reported in the README. Tests that the development subjects "read
right" with rules whose limits were chosen on those same subjects were removed: they could not
fail for the reason that mattered.
"""

from pathlib import Path

import pandas as pd
import pytest

from edxreview.cli import main
from edxreview.signal._datasets import N2001_FS_HZ, N2001_GAIN_ADU_PER_MV

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
N2001 = DATA / "emglab-n2001"
PHYSIONET = DATA / "physionet-emgdb"
ALGIERS = DATA / "mendeley-algiers"
# the rate and gain of emg_datasets.toml (data README), as a user types them: 23437.5, 13107
N2001_ARGS = ["--format", "raw", "--fs", f"{N2001_FS_HZ:g}",
              "--gain", f"{N2001_GAIN_ADU_PER_MV:g}"]


@pytest.mark.shared_data("physionet-emgdb")
def test_physionet_without_a_reference_measures_but_does_not_judge(tmp_path):
    files = [str(PHYSIONET / f"emg_{k}.hea") for k in ("healthy", "myopathy", "neuropathy")]
    assert main(["emg", "analyze", *files, "--muscle", "tibialis_anterior", "--out",
                 str(tmp_path / "out"), "-q", "--no-figures"]) == 0
    got = pd.read_csv(tmp_path / "out" / "recordings.csv")
    assert (got["pattern"] == "indeterminate").all()
    assert got["reasons"].str.contains("no verified reference").all()
    assert (got["n_units"] >= 3).all() and got["mean_duration_ms"].notna().all()


@pytest.mark.slow
@pytest.mark.shared_data("emglab-n2001")
def test_n2001_reference_from_the_control_and_a_subject_read_against_it(tmp_path):
    """C01's vastus medialis recordings as the lab reference; the ALS subject's VM pooled
    (A01 is not in the reference) gets z-scores and a reading from the rule; its biceps has no
    reference here and is not guessed."""
    ref = tmp_path / "ref.toml"
    ctrl = sorted(str(p) for p in N2001.glob("N2001C01VM*.bin"))
    assert main(["emg", "reference", "build", *ctrl, *N2001_ARGS, "--muscle", "vastus_medialis",
                 "--lab", "EMGLAB N2001", "--out", str(ref), "-q"]) == 0
    # all its VM recordings: with the acceptance criteria a recording contributes fewer MUAPs,
    # and the reading needs 10 accepted ([lab_reference] min_muaps)
    als = sorted(str(p) for p in N2001.glob("N2001A01VM*.bin"))
    out = tmp_path / "out"
    assert main(["emg", "analyze", *als, *N2001_ARGS, "--muscle", "vastus_medialis",
                 "--reference", str(ref), "--subject", "A01", "--out", str(out), "-q",
                 "--no-figures"]) == 0
    subj = pd.read_csv(out / "subjects.csv")
    assert len(subj) == 1
    # the acceptance criteria ([acceptance]) reject most of C01's MUAPs (rise time), too many
    # for MUAP means in the reference: the muscle is not judged on them, and says why;
    # rows in = accepted + rejected
    rec = pd.read_csv(out / "recordings.csv")
    assert subj.loc[0, "n_muaps"] + subj.loc[0, "n_muaps_rejected"] == rec["n_units"].sum()
    if subj.loc[0, "rule"].startswith("lab_"):
        assert subj[["z_duration_ms", "z_log_amplitude", "z_phases", "z_size_index"]
                    ].notna().all(axis=None)
        assert "lab reference EMGLAB N2001 for vastus_medialis" in subj.loc[0, "reasons"]
    else:
        assert subj.loc[0, "pattern"] == "indeterminate"
        assert subj.loc[0, "rule"] in {"no_reference_for_muscle", "too_few_muaps"}
        assert "accepted" in subj.loc[0, "reasons"]
    bb = sorted(str(p) for p in N2001.glob("N2001A01BB0[1-2].bin"))
    assert main(["emg", "analyze", *bb, *N2001_ARGS, "--muscle", "biceps_brachii",
                 "--reference", str(ref), "--subject", "A01", "--out", str(tmp_path / "bb"),
                 "-q", "--no-figures"]) == 0
    subj = pd.read_csv(tmp_path / "bb" / "subjects.csv")
    assert subj.loc[0, "pattern"] == "indeterminate"
    assert "no reference for this lab" in subj.loc[0, "reasons"]


@pytest.mark.slow
@pytest.mark.shared_data("mendeley-algiers")
def test_algiers_reference_is_built_from_its_healthy_subjects(tmp_path):
    m = pd.read_csv(ALGIERS / "MANIFEST.csv")
    ctrl = m[(m["group"] == "healthy") & (m["muscle"] == "deltoid")].head(6)
    subjects = tmp_path / "subjects.csv"
    ctrl.rename(columns={"record": "file"})[["file", "subject", "muscle"]].to_csv(subjects,
                                                                                  index=False)
    ref = tmp_path / "ref.toml"
    assert main(["emg", "reference", "build", *(str(ALGIERS / f"{r}.hea") for r in ctrl["record"]),
                 "--subjects", str(subjects), "--lab", "Algiers", "--out", str(ref), "-q"]) == 0
    text = ref.read_text()
    assert "[muscles.deltoid.duration_ms]" in text and "n_subjects = 3" in text
