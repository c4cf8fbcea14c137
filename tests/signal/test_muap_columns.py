"""The qualitative MUAP columns of emg_rows.csv never say what the row's reading does not: a
mean whose level goes against the reading is left blank (not read), with a rule id, the levels
withheld and a located warning; the quantitative means stay. Checked on the decision itself,
on both the pooled and the single-recording rows, and through the workbook, where an
"increased" beside a myopathic reading would be chronic denervation."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from edxreview.signal._muap_columns import (
    MUAP_COLUMN_RULES,
    decide_muap_columns,
    withheld_warnings,
)

sys.path.insert(0, str(Path(__file__).parent))


def _decide(pattern: str, amplitude: str, duration: str, polyphasia: str) -> pd.Series:
    levels = pd.DataFrame({"muap_amplitude": [amplitude], "muap_duration": [duration],
                           "polyphasia": [polyphasia]})
    return decide_muap_columns(levels, pd.Series([pattern])).iloc[0]


@pytest.mark.parametrize(("pattern", "levels", "written", "rule"), [
    ("myopathic", ("increased", "normal", "normal"), ("", "", ""), "no_sign_of_reading"),
    ("myopathic", ("increased", "decreased", "normal"), ("", "decreased", "normal"),
     "opposes_reading"),
    ("myopathic", ("normal", "normal", "normal"), ("", "", ""), "no_sign_of_reading"),
    ("myopathic", ("normal", "decreased", "increased"), ("normal", "decreased", "increased"),
     "follows_reading"),
    ("neurogenic", ("increased", "increased", "normal"), ("increased", "increased", "normal"),
     "follows_reading"),
    ("neurogenic", ("decreased", "increased", "normal"), ("", "increased", "normal"),
     "opposes_reading"),
    ("normal", ("increased", "normal", "normal"), ("", "", ""), "size_opposes_normal"),
    ("normal", ("normal", "increased", "normal"), ("", "", ""), "size_opposes_normal"),
    ("normal", ("normal", "decreased", "increased"), ("", "", ""), "size_opposes_normal"),
    ("normal", ("normal", "normal", "increased"), ("normal", "normal", ""), "opposes_reading"),
    ("normal", ("normal", "normal", "normal"), ("normal", "normal", "normal"),
     "follows_reading"),
    ("neurogenic", ("normal", "normal", "increased"), ("", "", ""), "no_sign_of_reading"),
    ("myopathic", ("normal", "normal", "increased"), ("", "", ""), "no_sign_of_reading"),
    ("myopathic", ("", "", "increased"), ("", "", ""), "no_sign_of_reading"),
    ("indeterminate", ("increased", "decreased", ""), ("", "", ""), "reading_indeterminate"),
    ("indeterminate", ("", "", ""), ("", "", ""), "not_judged"),
    ("myopathic", ("", "", ""), ("", "", ""), "not_judged"),
], ids=["myopathic beside a large amplitude only", "myopathic, large and short",
        "myopathic with every mean within limits", "myopathic, short with normal amplitude",
        "neurogenic, large and long", "neurogenic beside a small amplitude",
        "normal beside a large amplitude", "normal beside a long duration",
        "normal beside short polyphasic MUAPs", "normal beside polyphasia only",
        "normal within limits",
        "neurogenic with polyphasia only", "myopathic with polyphasia only",
        "myopathic with only phases judged", "indeterminate with judged means", "indeterminate, nothing judged",
        "myopathic, nothing judged"])
def test_a_level_is_written_only_where_the_reading_goes_its_way(pattern, levels, written, rule):
    out = _decide(pattern, *levels)
    assert (out["muap_amplitude"], out["muap_duration"], out["polyphasia"]) == written
    assert out["muap_columns_rule"] == rule and rule in MUAP_COLUMN_RULES
    # rows in = levels written + levels withheld
    judged = {f"{c} {v}" for c, v in zip(("muap_amplitude", "muap_duration", "polyphasia"),
                                         levels) if v}
    kept = {f"{c} {v}" for c, v in zip(("muap_amplitude", "muap_duration", "polyphasia"),
                                       written) if v}
    withheld = set(filter(None, out["muap_columns_withheld"].split("; ")))
    assert kept | withheld == judged and not kept & withheld


def _subjects(pattern: str, rule: str, z_amplitude: float, z_duration: float,
              z_phases: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """subjects.csv and recordings.csv rows of one subject-muscle (right biceps, 2 files)."""
    recordings = pd.DataFrame({"file": ["f0", "f1"], "muscle": "biceps_brachii",
                               "fibs": ["0", "0"], "psw": ["0", "0"],
                               "fasciculations": ["absent", "absent"], "subject": "Myo89",
                               "side": "R", "spont_rule": "spont_graded",
                               "rest_graded_s": [2.0, 3.0], "spont_not_graded_reason": ""})
    subjects = pd.DataFrame({
        "subject": ["Myo89"], "muscle": ["biceps_brachii"], "side": ["R"],
        "mean_amplitude_uv": [850.0], "geo_mean_amplitude_uv": [807.0],
        "mean_duration_ms": [5.0], "polyphasic_pct": [12.0], "z_limit": [2.05],
        "z_duration_ms": [z_duration], "z_log_amplitude": [z_amplitude], "z_phases": [z_phases],
        "primary_pattern": [pattern], "primary_rule": [rule]})
    return subjects, recordings


def test_a_myopathic_reading_beside_a_large_amplitude_writes_no_increased():
    # review case: primary reading myopathic, the only mean beyond its limit a large amplitude
    from edxreview.cli._emg_analyze import _pooled_emg_rows, emg_row_columns

    row = _pooled_emg_rows(*_subjects("myopathic", "lab_classifier", 2.11, -1.6, 0.3),
                           None).iloc[0]
    assert (row["muap_amplitude"], row["muap_duration"], row["polyphasia"]) == ("", "", "")
    assert row["muap_columns_rule"] == "no_sign_of_reading"
    assert row["muap_columns_withheld"] == ("muap_amplitude increased; muap_duration normal; "
                                            "polyphasia normal")
    # the quantitative means stay
    assert (row["muap_amplitude_uv"], row["muap_duration_ms"]) == (850.0, 5.0)
    assert list(_pooled_emg_rows(*_subjects("myopathic", "lab_classifier", 2.11, -1.6, 0.3),
                                 None).columns) == emg_row_columns()


def test_the_warning_names_the_row_muscle_side_and_rule_never_the_patient():
    from edxreview.cli._emg_analyze import _pooled_emg_rows

    rows = pd.concat([
        _pooled_emg_rows(*_subjects("neurogenic", "lab_large", 2.5, 2.4, 0.1), None),
        _pooled_emg_rows(*_subjects("myopathic", "lab_classifier", 2.11, -1.6, 0.3), None)],
        ignore_index=True)
    lines = withheld_warnings(rows)
    assert len(lines) == 1   # the neurogenic row follows its reading: nothing to say
    line = lines[0]
    assert line.startswith("emg_rows.csv, row 3 (biceps_brachii R): muap_amplitude, "
                           "muap_duration, polyphasia left blank, not read")
    assert "the reading myopathic (rule lab_classifier)" in line
    assert "amplitude increased" in line and "rule no_sign_of_reading" in line
    assert "quantitative means are kept" in line and "Myo89" not in line


def test_the_workbook_reads_no_denervation_from_a_mean_the_reading_does_not_give(tmp_path):
    # the pasted row of a myopathy patient, graded 0 at rest: not chronic denervation
    from edxreview._pipeline import review_study
    from edxreview.cli._emg_analyze import _pooled_emg_rows

    from test_emg_rows_workbook import _workbook_with

    rows = _pooled_emg_rows(*_subjects("myopathic", "lab_classifier", 2.11, -1.6, 0.3), "P1")
    result = review_study(_workbook_with(tmp_path, rows))
    m = result.muscles.iloc[0]
    assert not m["chronic"] and not m["denervation"]
    assert not result.patients.set_index("patient_id").at["P1", "emg_denervation"]


def test_a_normal_reading_beside_a_long_duration_is_not_read_normal_in_the_workbook(tmp_path):
    # review case: nearest centroid normal, the mean duration above its limit; written
    # "normal" in the other columns, the pasted workbook read the muscle normal
    from edxreview._pipeline import review_study
    from edxreview.cli._emg_analyze import _pooled_emg_rows

    from test_emg_rows_workbook import _workbook_with

    rows = _pooled_emg_rows(*_subjects("normal", "lab_centroid", 0.4, 2.6, 0.1), "P1")
    row = rows.iloc[0]
    assert (row["muap_amplitude"], row["muap_duration"], row["polyphasia"]) == ("", "", "")
    assert row["muap_columns_rule"] == "size_opposes_normal"
    assert "muap_duration increased" in row["muap_columns_withheld"]
    assert "the clinician decides" in withheld_warnings(rows)[0]
    m = review_study(_workbook_with(tmp_path, rows)).muscles.iloc[0]
    assert m["reading"] != "normal" and m["muap_reading"] != "read"


def test_the_single_recording_row_follows_the_same_rule():
    from edxreview.signal import Recording, analyze_recording
    from edxreview.signal._classify import Reading

    rec = Recording(samples=np.random.default_rng(0).normal(0, 20, 40_000), fs_hz=20_000.0,
                    calibrated=True, name="quiet")
    a = analyze_recording(rec, muscle="biceps_brachii")
    # a lab reference's limits (value, lower, upper) for the three means, as analyze gives them
    a.zscores = pd.DataFrame({"value": [5.0, np.log(900.0), 2.9],
                              "z": [-1.0, 2.5, 0.5], "limit": 2.0,
                              "lower": [4.0, np.log(130.0), 1.9],
                              "upper": [12.8, np.log(780.0), 3.8]},
                             index=["duration_ms", "log_amplitude", "phases"])
    a.reading = Reading("myopathic", ["nearest centroid myopathic"], rule="lab_centroid")
    row = a.emg_row("P1", side="R")
    assert (row["muap_amplitude"], row["muap_duration"], row["polyphasia"]) == ("", "", "")
    assert row["muap_columns_rule"] == "no_sign_of_reading"
    assert row["muap_columns_withheld"].startswith("muap_amplitude increased")
    a.reading = Reading("neurogenic", ["large"], rule="lab_large")
    row = a.emg_row("P1", side="R")
    assert (row["muap_amplitude"], row["muap_duration"], row["polyphasia"]) == (
        "increased", "normal", "normal")
    assert row["muap_columns_rule"] == "follows_reading"


def test_every_rule_id_is_documented_and_in_the_help():
    from edxreview.cli import build_parser

    docs = (Path(__file__).resolve().parents[2] / "docs" / "emg-outputs.md").read_text(
        encoding="utf-8")
    parser = build_parser()
    emg = next(a for a in parser._subparsers._group_actions[0].choices["emg"]._actions
               if a.__class__.__name__ == "_SubParsersAction")
    help_text = emg.choices["analyze"].format_help()
    for rule in MUAP_COLUMN_RULES:
        assert f"`{rule}`" in docs, rule
        assert rule in help_text.replace("\n", " "), rule
