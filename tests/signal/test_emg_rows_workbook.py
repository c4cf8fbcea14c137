"""emg_rows.csv of ``edxreview emg analyze`` and the workbook's ``emg`` sheet agree: a blank
fibs/psw (a recording with no rest fit for grading) is said on the screen once, the workbook
refuses it with a hint that does not suggest 0 blindly, and once the grades are filled in from
the examination at rest the quantitative means of the row are kept, not judged against the
unverified bundled reference."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from _cli import emg_cli as _cli  # noqa: E402
from _synth import weak_contraction  # noqa: E402

from edxreview._errors import InvalidWorkbookError  # noqa: E402
from edxreview.cli._emg_analyze import ungraded_note  # noqa: E402
from edxreview.io import load_study  # noqa: E402

NOTE = "never 0 unless the muscle was examined at rest and none were seen"
HINT = ("fill in the grade from the examination at rest: 0 only if the muscle was examined at "
        "rest and none were seen")




@pytest.fixture(scope="module")
def contraction_rows(tmp_path_factory):
    """emg_rows.csv of two recordings of weak contraction (no true rest), and the screen."""
    tmp = tmp_path_factory.mktemp("emgrows")
    paths = []
    for seed in (1, 2):
        x, _ = weak_contraction(seed=seed, duration_s=3.0)
        p = tmp / f"rec{seed}.bin"
        np.round(x * 5).astype("<i2").tofile(p)
        paths.append(str(p))
    return tmp, paths


def test_the_screen_says_once_that_blank_grades_come_from_the_examination(contraction_rows,
                                                                             capsys):
    tmp, paths = contraction_rows
    out = tmp / "out"
    assert _cli(["emg", "analyze", *paths, "--fs", "10000", "--gain", "5000", "--muscle",
                 "biceps_brachii", "--patient", "P1", "--side", "R", "--out", str(out), "-q",
                 "--no-figures"]) == 0
    err = capsys.readouterr().err
    rows = pd.read_csv(out / "emg_rows.csv", dtype=str, keep_default_na=False)
    assert rows["fibs"].eq("").all() and rows["psw"].eq("").all()
    assert err.count("edxreview emg: note: emg_rows.csv: fibs/psw are blank") == 1
    assert "in 2 of 2 row(s)" in err and NOTE in err
    # no --patient, no emg_rows.csv: nothing to say
    assert _cli(["emg", "analyze", paths[0], "--fs", "10000", "--gain", "5000", "--muscle",
                 "biceps_brachii", "--out", str(tmp / "out2"), "-q", "--no-figures"]) == 0
    assert "fibs/psw are blank" not in capsys.readouterr().err


def test_the_note_counts_only_ungraded_rows():
    assert ungraded_note([{"fibs": "0", "psw": "0"}, {"fibs": "1+", "psw": "±"}]) == ""
    assert "1 of 2 row(s)" in ungraded_note([{"fibs": "0", "psw": "0"}, {"fibs": "", "psw": ""}])


def _workbook_with(tmp: Path, emg_rows: pd.DataFrame) -> Path:
    """A one-patient CSV-folder workbook whose emg sheet is ``emg_rows``."""
    folder = tmp / "study"
    folder.mkdir(exist_ok=True)
    pd.DataFrame([{"patient_id": "P1", "sex": "M", "age_years": 54}]).to_csv(
        folder / "patients.csv", index=False)
    pd.DataFrame([{"patient_id": "P1", "nerve": "sural", "side": "R", "latency_ms": 3.5,
                   "amplitude_uv": 15}]).to_csv(folder / "ncs_sensory.csv", index=False)
    pd.DataFrame([{"patient_id": "P1", "nerve": "median", "side": "R", "stim_site": "wrist",
                   "latency_ms": 3.5, "amplitude_mv": 8}]).to_csv(folder / "ncs_motor.csv",
                                                                   index=False)
    emg_rows.to_csv(folder / "emg.csv", index=False)
    return folder


def test_the_emg_rows_flow_into_the_workbook(contraction_rows, tmp_path):
    # its own emg_rows.csv: tests run in any order and on any worker
    _, paths = contraction_rows
    out = tmp_path / "out"
    assert _cli(["emg", "analyze", *paths, "--fs", "10000", "--gain", "5000", "--muscle",
                 "biceps_brachii", "--patient", "P1", "--side", "R", "--out", str(out), "-q",
                 "--no-figures"]) == 0
    rows = pd.read_csv(out / "emg_rows.csv", dtype=str, keep_default_na=False)
    # what the blank grades rest on: each row's one recording, not graded, and why
    why = pd.read_csv(out / "recordings.csv")["spont_not_graded_reason"]
    assert rows["spont_basis"].tolist() == [f"not graded in 1 of 1 recording(s): {w} 1"
                                            for w in why]
    assert why.isin(["no_rest_recorded", "rest_not_relaxed", "rest_near_voluntary"]).all()
    # as written: the blank grades are refused, with a hint that does not suggest 0 blindly
    with pytest.raises(InvalidWorkbookError) as info:
        load_study(_workbook_with(tmp_path, rows))
    blank = [p for p in info.value.problems if p.column in ("fibs", "psw")]
    assert sorted((p.sheet, p.row, p.column) for p in blank) == [
        ("emg", 2, "fibs"), ("emg", 2, "psw"), ("emg", 3, "fibs"), ("emg", 3, "psw")]
    assert all(HINT in p.message and "0 if there were none" not in p.message for p in blank)
    # filled in from the examination at rest: the rows are read; their means are kept and,
    # the bundled MUAP reference being unverified, not judged (one warning per mean)
    from edxreview._pipeline import review_study

    rows[["fibs", "psw"]] = "0"
    result = review_study(_workbook_with(tmp_path, rows))
    m = result.muscles
    assert len(m) == 2 and m["muap_duration_ms"].notna().all()
    assert set(m["muap_duration_basis"]) == {"not_judged_unverified_reference"}
    assert not m["denervation"].any() and not m["myopathic"].any()
    warned = [w for w in result.study.warnings
              if w.sheet == "emg" and w.column in ("muap_duration_ms", "muap_amplitude_uv")]
    assert {(w.row, w.column) for w in warned} >= {(2, "muap_duration_ms"),
                                                   (3, "muap_duration_ms")}
    assert all("unverified" in w.message for w in warned)


def _pooled(pattern: str, z_amplitude: float, z_duration: float, z_phases: float) -> pd.DataFrame:
    """The pooled emg_rows.csv of one subject-muscle, graded 0 at rest, as the writer gives it."""
    from edxreview.cli._emg_analyze import _pooled_emg_rows
    from test_muap_columns import _subjects

    return _pooled_emg_rows(*_subjects(pattern, "lab_classifier", z_amplitude, z_duration,
                                       z_phases), "P1")


@pytest.mark.parametrize("source", ["contraction", "myopathic", "neurogenic"],
                         ids=["two recordings, not judged", "pooled, myopathic",
                              "pooled, neurogenic"])
def test_the_rows_as_written_paste_in_without_a_warning_and_read_the_same(
        source, contraction_rows, tmp_path, capsys):
    from edxreview._pipeline import review_study
    from edxreview.cli import main
    from edxreview.io._schema import EMG_ANALYSIS_COLUMNS

    info = list(EMG_ANALYSIS_COLUMNS)
    if source == "contraction":
        _, paths = contraction_rows
        out = tmp_path / "out"
        assert _cli(["emg", "analyze", *paths, "--fs", "10000", "--gain", "5000", "--muscle",
                     "biceps_brachii", "--patient", "P1", "--side", "R", "--out", str(out),
                     "-q", "--no-figures"]) == 0
        rows = pd.read_csv(out / "emg_rows.csv", dtype=str, keep_default_na=False)
        rows[["fibs", "psw"]] = "0"  # filled in from the examination at rest
    else:
        z = {"myopathic": (0.3, -2.6, 2.5), "neurogenic": (2.5, 2.6, 0.3)}[source]
        rows = _pooled(source, *z)
        csv = tmp_path / "emg_rows.csv"
        rows.to_csv(csv, index=False)
        rows = pd.read_csv(csv, dtype=str, keep_default_na=False)
    assert list(rows.columns[-len(info):]) == info
    (tmp_path / "with").mkdir()
    (tmp_path / "without").mkdir()
    book = _workbook_with(tmp_path / "with", rows)
    study = load_study(book)
    # no warning for the writer's own columns; they are kept as written
    assert not [w for w in study.warnings if w.column in info or "unknown column" in w.message]
    assert study.extra_columns["emg"] == info
    kept = study.tables["emg"][info].astype(str).replace({"nan": ""})
    assert kept.reset_index(drop=True).equals(rows[info].reset_index(drop=True))
    # de-identified, they go as unknown columns go (files holds file names)
    from edxreview._privacy import deidentify_study

    assert not set(info) & set(deidentify_study(study, "salt").tables["emg"].columns)
    # the review reads the same without them: no rule takes them
    with_ = review_study(book)
    without = review_study(_workbook_with(tmp_path / "without", rows.drop(columns=info)))
    pd.testing.assert_frame_equal(with_.muscles, without.muscles)
    pd.testing.assert_frame_equal(with_.patients, without.patients)
    assert [str(w) for w in with_.study.warnings] == [str(w) for w in without.study.warnings]
    if source == "myopathic":
        assert with_.muscles.at[0, "myopathic"] and not with_.muscles.at[0, "denervation"]
    if source == "neurogenic":
        assert with_.muscles.at[0, "chronic"]
    # validate names them once, as informational, and counts no warning for them
    capsys.readouterr()
    assert main(["validate", str(book)]) == 0
    said = capsys.readouterr().out
    assert "unknown column" not in said
    assert f"emg: 6 informational column(s) kept for the review, read by no rule: " \
           f"{', '.join(info)}" in said


def test_an_unknown_column_beside_them_still_warns(tmp_path):
    rows = _pooled("myopathic", 0.3, -2.6, 2.5)
    rows["Muap_Pattern"] = rows.pop("muap_pattern")  # names are matched whatever the case
    rows["my_notes"] = "seen twice"
    study = load_study(_workbook_with(tmp_path, rows))
    unknown = [(w.sheet, w.row, w.column) for w in study.warnings
               if "unknown column" in w.message]
    assert unknown == [("emg", 1, "my_notes")]
    from edxreview.io._schema import EMG_ANALYSIS_COLUMNS

    assert set(study.extra_columns["emg"]) == {"my_notes", *EMG_ANALYSIS_COLUMNS}
