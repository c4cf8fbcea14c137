"""tools/emg_score.py: the readings of an ``emg analyze --subjects`` folder scored against the
table's groups, level by level, and a table that does not match the folder refused."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest


def _tool():
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
    import emg_score

    return emg_score


#: four subjects, two muscles; each muscle one recording but Hea1's deltoid (two)
_TABLE = pd.DataFrame({
    "file": ["h1d.hea", "h1d2", "h1b", "h2d", "n1d", "n1b", "m1d", "m1b"],
    "subject": ["Hea1", "Hea1", "Hea1", "Hea2", "Neu1", "Neu1", "Myo1", "Myo1"],
    "muscle": ["deltoid", "deltoid", "biceps_brachii", "deltoid", "deltoid", "BB", "deltoid",
               "biceps_brachii"],
    "group": ["healthy", "healthy", "Healthy", "control", "neuropathy", "neuropathy",
              "myopathy", "myopathy"],
})


def _folder(tmp_path: Path, classifier: bool = True) -> tuple[Path, Path]:
    """A results folder as ``emg analyze`` writes it (the columns scored; each level's reading
    planted so that scoring another column gives other counts) and its table."""
    out = tmp_path / "out"
    out.mkdir()
    recs = pd.DataFrame({
        "file": ["h1d", "h1d2", "h1b", "h2d", "n1d", "n1b", "m1d", "m1b"],
        "muscle": ["deltoid", "deltoid", "biceps_brachii", "deltoid", "deltoid",
                   "biceps_brachii", "deltoid", "biceps_brachii"],
        # the MUAP-means reading: right 3 of 8
        "pattern": ["normal", "indeterminate", "myopathic", "neurogenic", "neurogenic",
                    "normal", "normal", "myopathic"],
    })
    if classifier:   # the classifier reading each recording alone: right 6 of 8
        recs["clf_pattern"] = ["normal", "normal", "normal", "normal", "neurogenic",
                               "indeterminate", "normal", "myopathic"]
    recs.to_csv(out / "recordings.csv", index=False)
    subj = pd.DataFrame({
        "subject": ["Hea1", "Hea1", "Hea2", "Neu1", "Neu1", "Myo1", "Myo1"],
        "muscle": ["deltoid", "biceps_brachii", "deltoid", "deltoid", "biceps_brachii",
                   "deltoid", "biceps_brachii"],
        "side": "",
        "pattern": "indeterminate",
        # right 5 of 7: Hea1 biceps and Myo1 deltoid wrong
        "primary_pattern": ["normal", "neurogenic", "normal", "neurogenic", "neurogenic",
                            "normal", "myopathic"],
    })
    if classifier:  # the pooled subject reading emg analyze wrote: Hea1 normal (pooling the
        # muscles' classes would give neurogenic), Neu1 normal (its muscles: neurogenic)
        subj["clf_subject_pattern"] = ["normal", "normal", "normal", "normal", "normal",
                                       "myopathic", "myopathic"]
    subj.to_csv(out / "subjects.csv", index=False)
    table = tmp_path / "table.csv"
    _TABLE.to_csv(table, index=False)
    return out, table


def _rows(res: pd.DataFrame) -> dict:
    return {(r.level, r.muscle): r for r in res.itertuples()}


def test_each_level_is_scored_from_the_column_the_evaluation_scores(tmp_path, capsys):
    tool = _tool()
    out, table = _folder(tmp_path)
    scores = tmp_path / "scores.csv"
    assert tool.main([str(out), "--truth", str(table), "--results", str(scores)]) == 0
    printed = capsys.readouterr().out
    res = pd.read_csv(scores)
    r = _rows(res)
    # subject: clf_subject_pattern; Hea1, Hea2, Myo1 right, Neu1 wrong
    sub = r[("subject", "all")]
    assert (sub.correct, sub.n) == (3, 4)
    assert eval(sub.recall) == {"normal": (2, 2), "neurogenic": (0, 1), "myopathic": (1, 1)}
    assert sub.balanced_accuracy == pytest.approx((1 + 0 + 1) / 3)
    # subject-muscle: primary_pattern, 5 of 7; per muscle
    assert (r[("muscle", "all")].correct, r[("muscle", "all")].n) == (5, 7)
    assert (r[("muscle", "deltoid")].correct, r[("muscle", "deltoid")].n) == (3, 4)
    assert (r[("muscle", "biceps_brachii")].correct, r[("muscle", "biceps_brachii")].n) == (2, 3)
    # recording: clf_pattern, 6 of 8, the one it did not read counted wrong (indeterminate)
    rec = r[("recording", "all")]
    assert (rec.correct, rec.n, rec.indeterminate) == (6, 8, 1)
    assert rec.balanced_accuracy == pytest.approx((4 / 4 + 1 / 2 + 1 / 2) / 3)
    assert eval(rec.recall) == {"normal": (4, 4), "neurogenic": (1, 2), "myopathic": (1, 2)}
    assert (rec.ci_low, rec.ci_high) == pytest.approx((0.409, 0.929), abs=1e-3)  # Wilson
    assert "| clf_pattern of recordings.csv | the results' reference | out | recording | all " \
           "| 6/8 | 0.75 (0.41–0.93) | 0.67 | 1 | 4/4 / 1/2 / 1/2 |" in printed
    assert "| primary_pattern of subjects.csv | the results' reference | out | muscle | " \
           "deltoid | 3/4 |" in printed
    # an existing --results file is not replaced
    assert tool.main([str(out), "--truth", str(table), "--results", str(scores)]) == 2
    assert "exists" in capsys.readouterr().err
    assert pd.read_csv(scores).equals(res)


def test_without_a_classifier_the_readings_of_the_muap_means_are_scored(tmp_path, capsys):
    tool = _tool()
    out, table = _folder(tmp_path, classifier=False)
    assert tool.main([str(out), "--truth", str(table)]) == 0
    printed = capsys.readouterr().out
    # subject: the muscles' primary readings pooled (one abnormal class alone = that class):
    # Hea1 neurogenic, Hea2 normal, Neu1 neurogenic, Myo1 myopathic: 3 of 4
    assert "| primary_pattern of subjects.csv, pooled (pool_readings) | the results' " \
           "reference | out | subject | all | 3/4 |" in printed
    # recording: pattern, 3 of 8
    assert "| pattern of recordings.csv | the results' reference | out | recording | all | " \
           "3/8 |" in printed


def test_a_subject_missing_from_the_results_is_named(tmp_path, capsys):
    tool = _tool()
    out, table = _folder(tmp_path)
    subj = pd.read_csv(out / "subjects.csv", dtype=str, keep_default_na=False)
    subj[subj["subject"] != "Hea2"].to_csv(out / "subjects.csv", index=False)
    assert tool.main([str(out), "--truth", str(table)]) == 2
    err = capsys.readouterr().err
    assert "1 subject(s) of the table not in subjects.csv: 'Hea2'" in err
    assert "Traceback" not in err
    # a subject-muscle missing, the subject there
    subj[(subj["subject"] != "Hea1") | (subj["muscle"] != "deltoid")].to_csv(
        out / "subjects.csv", index=False)
    assert tool.main([str(out), "--truth", str(table)]) == 2
    assert "1 of the table's subject-muscle(s) not in subjects.csv: 'Hea1' deltoid" in \
        capsys.readouterr().err
    # a subject of the table missing from the results, its recordings with it
    subj.to_csv(out / "subjects.csv", index=False)
    _TABLE[_TABLE["subject"] != "Neu1"].to_csv(table, index=False)
    assert tool.main([str(out), "--truth", str(table)]) == 2
    err = capsys.readouterr().err
    assert "2 recording(s) of recordings.csv not in the table: 'n1d', 'n1b'" in err
    assert "1 subject(s) of subjects.csv not in the table: 'Neu1'" in err


def test_recordings_missing_either_way_are_named_with_their_rows(tmp_path, capsys):
    tool = _tool()
    out, table = _folder(tmp_path)
    t = pd.concat([_TABLE[_TABLE["file"] != "n1b"],
                   pd.DataFrame([{"file": "x9.hea", "subject": "Neu1", "muscle": "deltoid",
                                  "group": "neuropathy"}])])
    t.to_csv(table, index=False)
    assert tool.main([str(out), "--truth", str(table)]) == 2
    err = capsys.readouterr().err
    assert "1 recording(s) of the table not in recordings.csv: 'x9.hea' (row 9)" in err
    assert "1 recording(s) of recordings.csv not in the table: 'n1b'" in err


def test_a_table_the_parser_refuses_or_a_folder_without_subjects_exits_2(tmp_path, capsys):
    tool = _tool()
    out, table = _folder(tmp_path)
    t = _TABLE.copy()
    t.loc[4, "group"] = "ALS?"
    t.to_csv(table, index=False)
    assert tool.main([str(out), "--truth", str(table)]) == 2
    assert "unknown group (file 'n1d': group 'ALS?')" in capsys.readouterr().err
    t = _TABLE.copy()
    t.loc[3, "group"] = "myopathy"     # Hea2 ... then one of Hea1's rows
    t.loc[2, "group"] = "myopathy"
    t.to_csv(table, index=False)
    assert tool.main([str(out), "--truth", str(table)]) == 2
    assert "subject(s) in more than one group: 'Hea1' (normal, myopathic)" in \
        capsys.readouterr().err
    _TABLE.drop(columns="group").to_csv(table, index=False)   # not every file a control
    assert tool.main([str(out), "--truth", str(table)]) == 2
    assert "has no group column (its columns: ['file', 'subject', 'muscle'])" in \
        capsys.readouterr().err
    (out / "subjects.csv").unlink()
    assert tool.main([str(out), "--truth", str(table)]) == 2
    assert "subjects.csv' not found" in capsys.readouterr().err


def test_a_folder_emg_analyze_wrote_is_scored_from_its_own_columns(tmp_path, capsys):
    """The columns scored are those emg analyze writes (a reference with a lab classifier)."""
    import numpy as np

    sys.path.insert(0, str(Path(__file__).parent))
    from _cli import emg_cli
    from _synth import weak_contraction
    from test_classifier import _labelled, _units
    from test_emg_outputs import _reference

    from edxreview.signal import _classifier as clf

    tool = _tool()
    ref = _reference()
    ref.classifier = clf.fit_classifier(_units(*_labelled()))
    ref.write(tmp_path / "ref.toml")
    files = []
    for i in range(3):
        x, _ = weak_contraction(seed=4 + i, duration_s=3.0, spiky=True, spike_ms=1.2)
        files.append(tmp_path / f"r{i}.bin")
        np.round(x * 5).astype("<i2").tofile(files[-1])
    table = tmp_path / "table.csv"
    pd.DataFrame({"file": ["r0.bin", "r1.bin", "r2.bin"], "subject": ["A", "A", "B"],
                  "muscle": ["biceps_brachii", "deltoid", "biceps_brachii"],
                  "group": ["neuropathy", "neuropathy", "healthy"]}).to_csv(table, index=False)
    out = tmp_path / "out"
    assert emg_cli(["emg", "analyze", *map(str, files), "--fs", "10000", "--gain", "5000",
                    "--reference", str(tmp_path / "ref.toml"), "--subjects", str(table),
                    "--out", str(out), "-q", "--no-figures"]) == 0
    scores = tmp_path / "scores.csv"
    assert tool.main([str(out), "--truth", str(table), "--results", str(scores)]) == 0
    r = _rows(pd.read_csv(scores))
    subj = pd.read_csv(out / "subjects.csv")
    recs = pd.read_csv(out / "recordings.csv")
    truth = {"A": "neurogenic", "B": "normal"}
    by_file = {"r0": "neurogenic", "r1": "neurogenic", "r2": "normal"}
    first = subj.drop_duplicates("subject")
    assert (r[("subject", "all")].correct, r[("subject", "all")].n) == (
        int((first["clf_subject_pattern"] == first["subject"].map(truth)).sum()), 2)
    assert (r[("muscle", "all")].correct, r[("muscle", "all")].n) == (
        int((subj["primary_pattern"] == subj["subject"].map(truth)).sum()), 3)
    assert (r[("recording", "all")].correct, r[("recording", "all")].n) == (
        int((recs["clf_pattern"] == recs["file"].map(by_file)).sum()), 3)
    assert r[("muscle", "deltoid")].n == r[("recording", "deltoid")].n == 1
