"""Left and right read apart: the side column of ``--subjects``, ``--side`` checked against the
workbook's sides, and emg_rows.csv as the workbook's emg sheet holds it, one row per muscle
examined (synthetic recordings against a lab reference built from synthetic controls)."""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from _cli import emg_cli as _cli  # noqa: E402
from _synth import raw_contractions  # noqa: E402

RAW = ["--fs", "10000", "--gain", "5000"]
#: (duration ms, amplitude µV, phases) of the units of a normal and of a reinnervated muscle
NORMAL = [(10.0, 800.0, 3), (8.0, 500.0, 2), (12.0, 350.0, 4), (9.0, 650.0, 3), (11.0, 420.0, 2)]
LARGE = [(15.0, 2400.0, 3), (12.0, 1500.0, 2), (18.0, 1050.0, 4), (14.0, 1900.0, 3),
         (16.0, 1300.0, 2)]
FILES = ["L0", "L1", "L2", "L3", "R0", "R1", "R2", "R3"]




@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A lab reference of biceps_brachii from 6 synthetic control subjects (decomposed as a
    patient's recordings are), and one patient: four normal recordings of the left biceps,
    four of the right with large, long MUAPs (a unilateral neurogenic change)."""
    d = tmp_path_factory.mktemp("sides")
    controls = raw_contractions(d, 6, seed=100, duration_s=3.0, prefix="c", units=NORMAL)
    pd.DataFrame({"file": [Path(c).name for c in controls],
                  "subject": [f"c{i}" for i in range(6)], "muscle": "biceps_brachii"}
                 ).to_csv(d / "controls.csv", index=False)
    assert _cli(["emg", "reference", "build", *controls, *RAW, "--subjects",
                 str(d / "controls.csv"), "--out", str(d / "ref.toml"), "-q"]) == 0
    left = raw_contractions(d, 4, seed=200, duration_s=3.0, prefix="L", units=NORMAL)
    right = raw_contractions(d, 4, seed=300, duration_s=3.0, prefix="R", units=LARGE)
    return {"dir": d, "ref": str(d / "ref.toml"), "files": left + right, "controls": controls}


def _analyze(lab, table: str, *extra, name="out"):
    sub = lab["dir"] / f"{name}.csv"
    sub.write_text(table, encoding="utf-8")
    out = lab["dir"] / name
    code = _cli(["emg", "analyze", *lab["files"], *RAW, "--reference", lab["ref"], "--subjects",
                 str(sub), "--out", str(out), "--no-figures", "-q", *extra])
    return code, out, sub


def test_left_and_right_are_pooled_and_read_apart(lab, capsys):
    sides = ["L", "left", "l", "LEFT", "R", "Right", "r", "RIGHT"]   # the workbook's spellings
    table = "file,subject,muscle,side\n" + "".join(
        f"{f},P7,biceps_brachii,{s}\n" for f, s in zip(FILES, sides))
    code, out, _ = _analyze(lab, table)
    assert code == 0
    assert "warning" not in capsys.readouterr().err
    rec = pd.read_csv(out / "recordings.csv").set_index("file")
    s = pd.read_csv(out / "subjects.csv", keep_default_na=False).set_index("side")
    assert s.index.tolist() == ["L", "R"]
    assert s.loc["L", "n_recordings"] == 4 and s.loc["R", "n_recordings"] == 4
    assert s.loc["L", "n_muaps"] == rec.loc[["L0", "L1", "L2", "L3"], "n_units"].sum()
    assert s.loc["R", "n_muaps"] == rec.loc[["R0", "R1", "R2", "R3"], "n_units"].sum()
    # the healthy side does not dilute the affected one, nor the other way round
    assert (s.loc["L", "primary_pattern"], s.loc["L", "primary_rule"]) == ("normal", "lab_normal")
    assert (s.loc["R", "primary_pattern"], s.loc["R", "primary_rule"]) == ("neurogenic",
                                                                        "lab_large")
    # emg_rows.csv: one row per muscle examined, carrying the subject-muscle's answer
    e = pd.read_csv(out / "emg_rows.csv", keep_default_na=False, dtype=str).set_index("side")
    assert e.index.tolist() == ["L", "R"]
    assert set(e["patient_id"]) == {"P7"} and set(e["muscle"]) == {"biceps_brachii"}
    assert e.loc["L", "files"] == "L0; L1; L2; L3" and e.loc["R", "files"] == "R0; R1; R2; R3"
    for side in ("L", "R"):
        assert (e.loc[side, "muap_pattern"], e.loc[side, "muap_rule"]) == (
            s.loc[side, "primary_pattern"], s.loc[side, "primary_rule"])
        assert float(e.loc[side, "muap_duration_ms"]) == s.loc[side, "mean_duration_ms"]
        assert float(e.loc[side, "muap_amplitude_uv"]) == s.loc[side, "mean_amplitude_uv"]
    # the qualitative columns follow the pooled means against their limits
    assert (e.loc["R", "muap_amplitude"], e.loc["R", "muap_duration"]) == ("increased", "increased")
    assert s.loc["R", "mean_duration_ms"] > s.loc["R", "duration_upper_ms"]
    assert (e.loc["L", "muap_amplitude"], e.loc["L", "muap_duration"]) == ("normal", "normal")
    # no recording was graded (no true rest in a contraction): the grades stay blank
    assert set(rec["spont_rule"]) == {"spont_not_graded"}
    assert (e[["fibs", "psw", "fasciculations"]] == "").all().all()


def test_without_a_side_the_muscle_is_pooled_and_the_blank_side_is_said(lab, capsys):
    table = "file,subject,muscle\n" + "".join(f"{f},P7,biceps_brachii\n" for f in FILES)
    code, out, _ = _analyze(lab, table, name="noside")
    assert code == 0
    s = pd.read_csv(out / "subjects.csv", keep_default_na=False)
    assert len(s) == 1 and s.loc[0, "side"] == "" and s.loc[0, "n_recordings"] == 8
    e = pd.read_csv(out / "emg_rows.csv", keep_default_na=False)
    assert len(e) == 1 and e.loc[0, "side"] == "" and e.loc[0, "files"] == "; ".join(FILES)
    assert ("emg_rows.csv: side blank for 1 row(s) of a limb muscle (biceps_brachii); the study "
            "workbook needs L or R there") in capsys.readouterr().err


def test_a_side_that_is_not_l_or_r_is_located(lab, capsys):
    table = ("file,subject,muscle,side\nL0,P7,biceps_brachii,L\nL1,P7,biceps_brachii,X\n"
             "L2,P7,biceps_brachii,\nL3,P7,biceps_brachii,L\nR0,P7,biceps_brachii,R\n"
             "R1,P7,biceps_brachii,both\nR2,P7,biceps_brachii,R\n"
             "R3,P7,biceps_brachii,R\n")
    code, out, sub = _analyze(lab, table, name="badside")
    assert code == 1 and not out.exists()
    err = capsys.readouterr().err
    assert (f"--subjects {str(sub)!r}, row 3 (file 'L1'), column 'side': side 'X' is not a "
            "side; use L or R (left/right)") in err
    assert f"--subjects {str(sub)!r}, row 7 (file 'R1'), column 'side': side 'both'" in err
    assert "row 4" not in err   # blank: a midline muscle, or not known


def test_side_beside_a_side_column_is_refused(lab, capsys):
    table = "file,subject,muscle,side\n" + "".join(
        f"{f},P7,biceps_brachii,{f[0]}\n" for f in FILES)
    code, out, _ = _analyze(lab, table, "--side", "R", name="both")
    assert code == 2 and not out.exists()
    assert ("--side 'R' and the side column of --subjects" in capsys.readouterr().err)


def test_an_unknown_column_is_named_in_one_warning(lab, capsys):
    table = "file,subject,muscle,sde,age\n" + "".join(
        f"{f},P7,biceps_brachii,{f[0]},40\n" for f in FILES)
    code, _, sub = _analyze(lab, table, name="unknown")
    assert code == 0
    warnings = [ln for ln in capsys.readouterr().err.splitlines() if "not read" in ln]
    assert warnings == [f"edxreview emg: warning: --subjects {str(sub)!r}: column(s) 'sde' (did "
                        "you mean 'side'?), 'age' not read; it reads file, subject, muscle, "
                        "side, group."]


def test_one_patient_id_for_several_subjects_is_refused(lab, capsys):
    table = "file,subject,muscle\n" + "".join(
        f"{f},{'A' if f[0] == 'L' else 'B'},biceps_brachii\n" for f in FILES)
    code, out, _ = _analyze(lab, table, "--patient", "P1", name="twopatients")
    assert code == 2 and not out.exists()
    assert "maps the files to 2 subjects: leave out --patient" in capsys.readouterr().err


def test_one_subject_with_side_and_patient(lab):
    out = lab["dir"] / "one"
    assert _cli(["emg", "analyze", *lab["files"][3:], *RAW, "--reference", lab["ref"],
                 "--subject", "S9", "--side", "right", "--patient", "H-001",
                 "--muscle", "biceps_brachii", "--out", str(out), "--no-figures", "-q"]) == 0
    e = pd.read_csv(out / "emg_rows.csv", keep_default_na=False)
    s = pd.read_csv(out / "subjects.csv", keep_default_na=False)
    assert len(e) == 1 and (e.loc[0, "patient_id"], e.loc[0, "side"]) == ("H-001", "R")
    assert (s.loc[0, "subject"], s.loc[0, "side"]) == ("S9", "R")
    assert e.loc[0, "muap_pattern"] == s.loc[0, "primary_pattern"]


def test_without_subjects_each_recording_keeps_its_row(lab):
    out = lab["dir"] / "each"
    assert _cli(["emg", "analyze", *lab["files"][:2], *RAW, "--reference", lab["ref"],
                 "--muscle", "biceps_brachii", "--patient", "P1", "--side", "Left",
                 "--out", str(out), "--no-figures", "-q"]) == 0
    rec = pd.read_csv(out / "recordings.csv", keep_default_na=False)
    e = pd.read_csv(out / "emg_rows.csv", keep_default_na=False)
    assert not (out / "subjects.csv").exists()
    assert e["files"].tolist() == ["L0", "L1"] and set(e["side"]) == {"L"}
    assert e["muap_pattern"].tolist() == rec["pattern"].tolist()
    assert e["muap_rule"].tolist() == rec["rule"].tolist()


@pytest.mark.parametrize("side", ["X", "both", "links"])
def test_a_side_option_outside_the_workbook_vocabulary_is_a_usage_error(tmp_path, capsys, side):
    p = tmp_path / "r.bin"
    np.zeros(100, "<i2").tofile(p)
    assert _cli(["emg", "analyze", str(p), *RAW, "--patient", "P1", "--side", side,
                 "--out", str(tmp_path / "o")]) == 2
    assert (f"--side {side!r} is not a side; use L or R (left/right)"
            in capsys.readouterr().err)
    assert not (tmp_path / "o").exists()


def test_reference_build_reads_the_side_column_and_pools_a_controls_sides(lab, capsys):
    from edxreview.signal._reference import read_lab_reference

    table = lab["dir"] / "controls-sides.csv"
    pd.DataFrame({"file": [Path(c).name for c in lab["controls"]],
                  "subject": [f"c{i // 2}" for i in range(6)], "muscle": "biceps_brachii",
                  "side": ["L", "R"] * 3}).to_csv(table, index=False)
    out = lab["dir"] / "ref-sides.toml"
    assert _cli(["emg", "reference", "build", *lab["controls"], *RAW, "--subjects", str(table),
                 "--out", str(out), "-q"]) == 0
    assert "not read" not in capsys.readouterr().err
    ref = read_lab_reference(out)
    # three people, each with a left and a right recording: three control subjects
    assert set(ref.table.loc["biceps_brachii", "n_subjects"]) == {3}


# ------------------------------------------------------------- the spontaneous-activity rule
@pytest.mark.parametrize(("fibs", "psw", "fasc", "want"), [
    (["1+", "", "2+"], ["0", "", "±"], ["absent", "", "present"], ("2+", "±", "present")),
    (["0", ""], ["0", ""], ["absent", ""], ("0", "0", "absent")),
    (["", ""], ["", ""], ["", ""], ("", "", "")),
], ids=["highest graded grade", "one graded recording", "none graded: blank"])
def test_pooled_grades_are_the_highest_among_graded_recordings(fibs, psw, fasc, want):
    from edxreview.cli._emg_analyze import _pooled_emg_rows

    n = len(fibs)
    graded = np.array([f != "" for f in fibs])
    recordings = pd.DataFrame({"file": [f"f{i}" for i in range(n)], "muscle": "deltoid",
                               "fibs": fibs, "psw": psw, "fasciculations": fasc,
                               "subject": "S", "side": "R",
                               "spont_rule": np.where(graded, "spont_graded", "spont_not_graded"),
                               "rest_graded_s": np.where(graded, 2.0, 0.0),
                               "spont_not_graded_reason": np.where(graded, "",
                                                                   "no_rest_recorded")})
    subjects = pd.DataFrame({
        "subject": ["S"], "muscle": ["deltoid"], "side": ["R"], "mean_amplitude_uv": [500.0],
        "geo_mean_amplitude_uv": [480.0], "mean_duration_ms": [9.0], "polyphasic_pct": [10.0],
        "z_limit": [2.05], "z_duration_ms": [2.5], "z_log_amplitude": [-2.2], "z_phases": [np.nan],
        "primary_pattern": ["indeterminate"], "primary_rule": ["lab_mixed"]})
    row = _pooled_emg_rows(subjects, recordings, None).iloc[0]
    assert (row["fibs"], row["psw"], row["fasciculations"]) == want
    # an indeterminate reading (lab_mixed) writes no level; the levels are kept as withheld
    assert (row["muap_duration"], row["muap_amplitude"], row["polyphasia"]) == ("", "", "")
    assert row["muap_columns_rule"] == "reading_indeterminate"
    assert row["muap_columns_withheld"] == "muap_amplitude decreased; muap_duration increased"
    assert row["files"] == "; ".join(recordings["file"]) and row["patient_id"] == "S"
    # what the grades rest on: how many recordings, how much rest, why the others were not
    k = int(graded.sum())
    assert row["spont_basis"] == (
        f"not graded in {n} of {n} recording(s): no_rest_recorded {n}" if k == 0 else
        f"graded in {k} of {n} recording(s), {2.0 * k:.1f} s of rest"
        + (f"; not graded in {n - k}: no_rest_recorded {n - k}" if n > k else ""))


@pytest.mark.parametrize(("sides", "key"), [
    (["L", "R", ""], ("subject", "muscle", "side")),
    (["", "", ""], ("subject", "muscle")),
    (None, ("subject", "muscle")),
], ids=["sides given", "side column blank", "no side column"])
def test_reference_build_trains_on_the_unit_analyze_reads(sides, key):
    from edxreview.cli._emg_reference import _unit_key

    units = pd.DataFrame({"subject": ["a", "a", "b"], "muscle": "deltoid"})
    if sides is not None:
        units["side"] = sides
    assert _unit_key(units) == key


def test_reading_by_side_with_a_model_not_trained_by_side_is_warned():
    import pandas as pd

    from edxreview.cli._emg_analyze import _trained_unit_warning
    from edxreview.signal._reference import LabReference

    table = pd.DataFrame(columns=["mean", "sd_between", "sd_within", "n_recordings",
                                  "n_subjects", "n_muaps"],
                         index=pd.MultiIndex.from_tuples([], names=["muscle", "feature"]))
    cent = pd.DataFrame({"z_duration_ms": [0.0]},
                        index=pd.MultiIndex.from_tuples([("biceps_brachii", "normal")],
                                                        names=["muscle", "truth"]))
    ref = LabReference("syn", "uV", table, centroids=cent)
    by_side = pd.DataFrame({"subject": ["P7", "P7"], "side": ["L", "R"]})
    pooled = pd.DataFrame({"subject": ["P7", "P7"], "side": ["", ""]})
    assert _trained_unit_warning(ref, pooled) == ""
    assert "not recorded as trained by side" in _trained_unit_warning(ref, by_side)
    ref.recorded = {"trained_per": "subject-muscle"}
    assert _trained_unit_warning(ref, by_side).startswith(
        "the recordings are read by side, but the reference's centroids were "
        "trained on subject-muscles, both sides pooled")
    ref.recorded = {"trained_per": "subject-muscle-side"}
    assert _trained_unit_warning(ref, by_side) == ""
    # the other way round: a model trained per side read with the sides pooled
    assert _trained_unit_warning(ref, pooled).startswith(
        "the reference's centroids were trained per side")
    ref.recorded = {"trained_per": "subject-muscle"}
    assert _trained_unit_warning(ref, pooled) == ""
    assert _trained_unit_warning(LabReference("syn", "uV", table), by_side) == ""  # no model


def test_a_classifier_trained_on_recordings_is_not_warned_about_sides():
    """Trained on recordings, the classifier has one row per recording whatever the unit
    (sides only change the weights): only centroids, or a classifier trained on pooled
    subject-muscles (or not recorded: built before parameters 0.15.0), depend on it."""
    import pandas as pd

    from edxreview.cli._emg_analyze import _trained_unit_warning
    from edxreview.signal._reference import LabReference

    table = pd.DataFrame(columns=["mean", "sd_between", "sd_within", "n_recordings",
                                  "n_subjects", "n_muaps"],
                         index=pd.MultiIndex.from_tuples([], names=["muscle", "feature"]))
    by_side = pd.DataFrame({"subject": ["P7", "P7"], "side": ["L", "R"]})
    ref = LabReference("syn", "uV", table, classifier=object(),
                       recorded={"trained_per": "subject-muscle", "training_unit": "recording"})
    assert _trained_unit_warning(ref, by_side) == ""
    ref.recorded["training_unit"] = "subject_muscle"
    assert _trained_unit_warning(ref, by_side).startswith(
        "the recordings are read by side, but the reference's lab classifier was trained on "
        "subject-muscles")
    del ref.recorded["training_unit"]   # a reference of an earlier version
    assert "lab classifier was" in _trained_unit_warning(ref, by_side)
    ref.centroids = pd.DataFrame({"z_duration_ms": [0.0]}, index=pd.MultiIndex.from_tuples(
        [("biceps_brachii", "normal")], names=["muscle", "truth"]))
    assert "lab classifier and centroids were" in _trained_unit_warning(ref, by_side)
    ref.recorded["training_unit"] = "recording"
    assert "reference's centroids were" in _trained_unit_warning(ref, by_side)


def test_the_unit_a_model_was_trained_on_is_stored_in_the_reference(tmp_path):
    from test_reference import _lab

    from edxreview.signal._reference import build_lab_reference, read_lab_reference

    recs, muaps = _lab(n_controls=5, seed=3)
    ref = build_lab_reference(muaps, recs)
    ref.recorded = {"fs_hz": [10000.0], "sorting": "peel", "edxreview": "x", "parameters": "y",
                    "trained_per": "subject-muscle-side", "training_unit": "recording"}
    ref.write(tmp_path / "r.toml")
    back = read_lab_reference(tmp_path / "r.toml").recorded
    assert (back["trained_per"], back["parameters"], back["training_unit"]) == (
        "subject-muscle-side", "y", "recording")


def test_the_screen_names_the_side_of_each_subject_muscle():
    from edxreview.cli._emg_analyze import _subject_summary

    s = pd.DataFrame({"subject": ["P7", "P7"], "muscle": ["biceps_brachii"] * 2,
                      "side": ["L", "R"], "n_recordings": [4, 4], "n_muaps": [12, 12],
                      "pattern": ["normal", "neurogenic"], "rule": ["lab_normal", "lab_large"],
                      "primary_pattern": ["normal", "neurogenic"],
                      "primary_rule": ["lab_normal", "lab_large"],
                      "ip_pattern": ["normal"] * 2, "ip_rule": ["interference_ratio"] * 2})
    lines = _subject_summary(s)
    assert lines[0].startswith("subject P7, biceps_brachii L (4 recording(s), 12 MUAPs)")
    assert lines[1].startswith("subject P7, biceps_brachii R (4 recording(s), 12 MUAPs)")


def test_wfdb_records_with_a_dot_in_their_name_are_read_and_mapped(tmp_path):
    # a record "c.0" is c.0.hea + c.0.dat: its name keeps the dot in reference build and in
    # the --subjects mapping
    from _synth import weak_contraction

    heas = []
    for i in range(5):
        x, _ = weak_contraction(seed=400 + i, duration_s=3.0, units=NORMAL, spiky=True,
                                spike_ms=1.2)
        samples = np.round(x * 5).astype("<i2")
        samples.tofile(tmp_path / f"c.{i}.dat")
        (tmp_path / f"c.{i}.hea").write_text(
            f"c.{i} 1 10000 {samples.size}\nc.{i}.dat 16 5000/mV 16 0 {samples[0]} 0 0 EMG\n",
            encoding="utf-8")
        heas.append(str(tmp_path / f"c.{i}.hea"))
    ref = tmp_path / "ref.toml"
    assert _cli(["emg", "reference", "build", *heas, "--muscle", "biceps_brachii",
                 "--out", str(ref), "-q"]) == 0
    # the file column names the record with its suffix, or without it ("c.0": its dot is no
    # suffix, and the record is not "c"); the record is given by its header or by its name
    record = str(tmp_path / "c.0")
    for path, cell in ((heas[0], "c.0.hea"), (heas[0], "c.0"), (record, "c.0")):
        sub = tmp_path / "s.csv"
        sub.write_text(f"file,subject,muscle\n{cell},P1,biceps_brachii\n", encoding="utf-8")
        out = tmp_path / "out"
        assert _cli(["emg", "analyze", path, "--reference", str(ref), "--subjects", str(sub),
                     "--out", str(out), "-q", "--no-figures", "--force"]) == 0, (path, cell)
        assert pd.read_csv(out / "subjects.csv").at[0, "subject"] == "P1"
        assert pd.read_csv(out / "recordings.csv").at[0, "file"] == "c.0"


def test_a_blank_subject_cell_is_located(lab, capsys):
    table = "file,subject,muscle\n" + "".join(
        f"{f},{'' if f == 'L1' else 'P7'},biceps_brachii\n" for f in FILES)
    code, out, sub = _analyze(lab, table, name="blanksubject")
    assert code == 1 and not out.exists()
    assert (f"--subjects {str(sub)!r}, row(s) 3, column 'subject': blank for ['L1']"
            in capsys.readouterr().err)
