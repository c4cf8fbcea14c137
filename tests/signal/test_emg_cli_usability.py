"""What ``edxreview emg analyze`` and ``emg reference build`` tell a first-time user: the
subject-level reading on the screen, caveats, usage errors before any file is read, and the
checks of muscle names and --subjects tables (synthetic recordings, fast)."""

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from _cli import emg_cli as _cli  # noqa: E402
from _synth import raw_contractions, weak_contraction  # noqa: E402
from test_classifier import _labelled, _units  # noqa: E402
from test_reference import _lab  # noqa: E402

from edxreview.signal import _classifier as clf
from edxreview.signal._params import load_signal_parameters
from edxreview.signal._reference import build_lab_reference




def _help(*words) -> str:
    from edxreview.cli import emg

    parser = argparse.ArgumentParser(prog="edxreview")
    emg.add_parser(parser.add_subparsers(dest="command"))
    sub = parser
    for w in words:
        sub = next(a for a in sub._actions if isinstance(a, argparse._SubParsersAction)).choices[w]
    return " ".join(sub.format_help().split())


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    """Five synthetic raw int16 recordings of a weak contraction (gain 5000 ADU/mV)."""
    folder = tmp_path_factory.mktemp("recs")
    return raw_contractions(folder, 5, seed=40)


RAW = ["--fs", "10000", "--gain", "5000"]


def _reference(path, classifier=False, n_controls=6):
    """A lab reference of biceps_brachii from synthetic control MUAP tables (no decomposition);
    with a lab classifier trained on synthetic labelled subjects when asked."""
    recs, muaps = _lab(n_controls=n_controls, recs_per=2, n_muaps=15)
    ref = build_lab_reference(muaps, recs, lab="syn")
    if classifier:
        lrecs, lmuaps = _labelled(seed=5)
        ref.classifier = clf.fit_classifier(_units(lrecs, lmuaps))
    ref.write(path)
    return path


# --------------------------------------------------------------------------- C1
def _rejected_text(r) -> str:
    """What the subject line adds when the acceptance criteria rejected MUAPs (rows in =
    accepted + rejected)."""
    n = int(r["n_muaps_rejected"])
    return f" accepted, {n} rejected ({r['reject_rules']})" if n else ""


def test_the_screen_shows_each_subject_muscles_reading_and_which_is_primary(
        tmp_path, recordings, capsys):
    ref = _reference(tmp_path / "ref.toml")
    out = tmp_path / "out"
    assert _cli(["emg", "analyze", *recordings[:3], *RAW, "--muscle", "biceps_brachii",
                 "--reference", str(ref), "--subject", "A01", "--out", str(out),
                 "--no-figures"]) == 0
    printed = capsys.readouterr().out.splitlines()
    s = pd.read_csv(out / "subjects.csv")
    assert len(s) == 1
    r = s.iloc[0]
    # no classifier in the reference: the pooled MUAP means are the answer
    assert (r["primary_pattern"], r["primary_rule"]) == (r["pattern"], r["rule"])
    rej = _rejected_text(r)
    want = (f"subject A01, biceps_brachii (3 recording(s), {r['n_muaps']} MUAPs{rej}): primary "
            f"reading {r['pattern']} (MUAP means, rule {r['rule']}); interference "
            f"{r['ip_pattern']} (rule {r['ip_rule']})")
    assert printed[-1] == want, printed     # last: the answer after the recordings' lines


def test_the_lab_classifier_is_primary_where_it_reads_the_muscle(tmp_path, recordings, capsys):
    ref = _reference(tmp_path / "ref.toml", classifier=True)
    many = tmp_path / "many.csv"
    pd.DataFrame({"file": ["r0.bin", "r1.bin", "r2.bin"], "subject": ["X", "X", "Y"],
                  "muscle": ["biceps_brachii", "biceps_brachii", "vastus_medialis"]}
                 ).to_csv(many, index=False)
    out = tmp_path / "out"
    assert _cli(["emg", "analyze", *recordings[:3], *RAW, "--reference", str(ref), "--subjects",
                 str(many), "--out", str(out), "--no-figures"]) == 0
    printed = capsys.readouterr().out
    s = pd.read_csv(out / "subjects.csv").set_index("subject")
    x, y = s.loc["X"], s.loc["Y"]
    assert x["clf_pattern"] in ("normal", "neurogenic", "myopathic")
    assert (x["primary_pattern"], x["primary_rule"]) == (x["clf_pattern"], "lab_classifier")
    line = next(v for v in printed.splitlines() if v.startswith("subject X, biceps_brachii"))
    assert line.startswith(f"subject X, biceps_brachii (2 recording(s), {x['n_muaps']} MUAPs"
                           f"{_rejected_text(x)}): primary reading {x['clf_pattern']} (lab "
                           f"classifier, probability {x['clf_probability']:.2f}")
    assert line.endswith(f"MUAP means {x['pattern']} (rule {x['rule']})); interference "
                         f"{x['ip_pattern']} (rule {x['ip_rule']})")
    # vastus medialis: neither the classifier nor the reference knows it; the MUAP reading
    # (indeterminate, no reference for the muscle) is the primary one, not a guess
    assert y["clf_pattern"] == "indeterminate"
    assert (y["primary_pattern"], y["primary_rule"]) == ("indeterminate", "no_reference_for_muscle")


def test_help_states_which_reading_is_primary():
    text = _help("emg", "analyze")
    assert "primary reading" in text and "lab classifier's class" in text
    assert "never the primary one" in text
    assert "--reference illustrative is for teaching only" in text


# --------------------------------------------------------------------------- W7
def test_the_illustrative_reference_carries_its_caveat_on_screen_and_in_each_figure(
        tmp_path, recordings, capsys, monkeypatch):
    import matplotlib.figure

    from edxreview.signal._classify import ILLUSTRATIVE_CAVEAT

    titles = []
    save = matplotlib.figure.Figure.savefig

    def spy(fig, *a, **k):
        titles.append(fig._suptitle.get_text() if fig._suptitle is not None else "")
        return save(fig, *a, **k)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", spy)
    assert _cli(["emg", "analyze", *recordings[:2], *RAW, "--muscle", "biceps_brachii",
                 "--reference", "illustrative", "--out", str(tmp_path / "o")]) == 0
    cap = capsys.readouterr()
    assert (cap.out + cap.err).count(ILLUSTRATIVE_CAVEAT) == 1   # once per run, not per file
    assert titles == [f"({ILLUSTRATIVE_CAVEAT})"] * 2
    # a lab reference: no caveat anywhere
    titles.clear()
    ref = _reference(tmp_path / "ref.toml")
    assert _cli(["emg", "analyze", recordings[0], *RAW, "--muscle", "biceps_brachii",
                 "--reference", str(ref), "--out", str(tmp_path / "o2")]) == 0
    cap = capsys.readouterr()
    assert ILLUSTRATIVE_CAVEAT not in cap.out + cap.err and titles == [""]


# --------------------------------------------------------------------------- W4
def test_a_reference_from_too_few_people_is_not_judged_against():
    from edxreview.signal._reference import read_muscle_against_reference
    from test_reference import _muaps

    need = load_signal_parameters()["lab_reference"]["min_judging_control_subjects"]
    assert need >= 2
    # many recordings of few people: the muscle is in the reference, but not judged against
    recs, muaps = _lab(n_controls=need - 1, recs_per=4)
    ref = build_lab_reference(muaps, recs)
    assert ref.muscles() == ["biceps_brachii"]
    r, _ = read_muscle_against_reference(_muaps("t", 20, 10.0, 400.0), ref, "biceps_brachii")
    assert (r.pattern, r.rule) == ("indeterminate", "too_few_control_subjects")
    assert f"rests on {need - 1} control subject(s), fewer than {need}" in r.reasons[0]
    # as many people as required: read
    recs, muaps = _lab(n_controls=need, recs_per=2)
    r, _ = read_muscle_against_reference(_muaps("t", 20, 10.0, 400.0),
                                         build_lab_reference(muaps, recs), "biceps_brachii")
    assert r.rule == "lab_normal"


def test_outlier_readings_need_as_many_control_subjects():
    from edxreview.signal._reference import muap_long, outlier_readings

    need = load_signal_parameters()["lab_reference"]["min_judging_control_subjects"]
    recs, muaps = _lab(n_controls=need - 1, recs_per=4)
    ref = build_lab_reference(muaps, recs)
    test = recs[recs["subject"] == "c0"]
    out = outlier_readings(test, muap_long(muaps), ref)
    assert out["rule"].tolist() == ["too_few_control_subjects"]
    assert out["pred"].tolist() == ["indeterminate"]


def test_reference_build_without_subjects_warns_and_one_person_is_not_judged(
        tmp_path, recordings, capsys):
    ref = tmp_path / "ref.toml"
    assert _cli(["emg", "reference", "build", *recordings, *RAW, "--muscle", "biceps_brachii",
                 "--out", str(ref)]) == 0
    cap = capsys.readouterr()
    assert ("no --subjects: each of the 5 files is counted as its own control subject; several "
            "files of one person need --subjects") in cap.err
    assert "biceps_brachii: 5 subject(s)" in cap.out and "too few control" not in cap.out
    # the truth: one person. The reference says so and analyze does not judge against it
    one = tmp_path / "one.csv"
    pd.DataFrame({"file": [Path(f).name for f in recordings], "subject": "C01"}).to_csv(one, index=False)
    ref1 = tmp_path / "ref1.toml"
    assert _cli(["emg", "reference", "build", *recordings, *RAW, "--muscle", "biceps_brachii",
                 "--subjects", str(one), "--out", str(ref1)]) == 0
    cap = capsys.readouterr()
    assert "no --subjects" not in cap.err
    assert ("biceps_brachii: 1 subject(s), 5 recordings" in cap.out
            and "too few control subjects: 'emg analyze' will not judge against it" in cap.out)
    out = tmp_path / "out"
    assert _cli(["emg", "analyze", *recordings[:2], *RAW, "--muscle", "biceps_brachii",
                 "--reference", str(ref1), "--subject", "A01", "--out", str(out), "-q",
                 "--no-figures"]) == 0
    s = pd.read_csv(out / "subjects.csv")
    assert (s.loc[0, "pattern"], s.loc[0, "rule"]) == ("indeterminate", "too_few_control_subjects")
    assert s.loc[0, "ip_rule"] in ("interference_too_few_control_subjects",
                                   "interference_no_reference")
    rows = pd.read_csv(out / "recordings.csv")
    assert set(rows["rule"]) == {"too_few_control_subjects"}


# --------------------------------------------------------------------------- C7
@pytest.mark.parametrize(("name", "fmt", "kind"), [
    ("N2001A01BB01.bin", "auto", "raw int16"), ("MD001.txt", "auto", "ASCII"),
    ("rec.dat", "raw", "raw int16"), ("rec.csv", "ascii", "ASCII")],
    ids=["bin under auto", "txt under auto", "format raw", "format ascii"])
@pytest.mark.parametrize("command", ["analyze", "build"])
def test_a_headerless_file_without_fs_is_a_usage_error_before_any_file_is_read(
        tmp_path, capsys, name, fmt, kind, command):
    missing = tmp_path / name            # never created: the check must not read the file
    out = tmp_path / ("out.toml" if command == "build" else "out")
    argv = (["emg", "analyze", str(missing), "--out", str(out)] if command == "analyze" else
            ["emg", "reference", "build", str(missing), "--muscle", "deltoid", "--out", str(out)])
    assert _cli([*argv, "--format", fmt]) == 2
    err = capsys.readouterr().err
    assert f"--fs is required: {name!r} is a {kind} file with no header" in err
    assert "fs_hz" not in err and "not found" not in err
    assert not out.exists()


def test_a_wfdb_header_needs_no_fs(tmp_path, capsys):
    (tmp_path / "rec.hea").write_text("rec 1 10000 20000\nrec.dat 16 500/mV 16 0\n")
    assert _cli(["emg", "analyze", str(tmp_path / "rec.hea"), "--out", str(tmp_path / "o"),
                 "-q"]) == 1      # the data file is missing: a file error, not a usage one
    assert "--fs" not in capsys.readouterr().err


def test_a_recording_without_motor_units_says_what_to_check():
    from edxreview.signal import Recording, analyze_recording

    rec = Recording(samples=np.random.default_rng(0).normal(0, 20, 40_000), fs_hz=20_000.0,
                    calibrated=True, name="quiet")
    recs, muaps = _lab()
    for reference in (None, "illustrative", build_lab_reference(muaps, recs)):
        a = analyze_recording(rec, muscle="biceps_brachii", reference=reference)
        assert a.summary["n_units"] == 0
        assert (a.reading.pattern, a.reading.rule) == ("indeterminate", "no_units")
        assert a.reading.reasons == ["no motor units found: check the sampling rate and that "
                                     "the muscle was contracting"]


# --------------------------------------------------------------------------- W5
def _wfdb(folder, fs=10000, gain=1280):
    x, _ = weak_contraction(seed=3, duration_s=3.0)
    np.round(x * gain / 1000).astype("<i2").tofile(folder / "rec.dat")
    (folder / "rec.hea").write_text(f"rec 1 {fs} {x.size}\nrec.dat 16 {gain}/mV 16 0\n")
    return folder / "rec.hea"


@pytest.mark.parametrize("option", [["--fs", "10000"], ["--fs", "10000", "--format", "wfdb"]],
                         ids=["auto", "format wfdb"])
def test_fs_for_a_file_whose_header_gives_the_rate_is_refused(tmp_path, capsys, option):
    hea = _wfdb(tmp_path)
    out = tmp_path / "o"
    assert _cli(["emg", "analyze", str(hea), *option, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "--fs 10000 does not apply to 'rec.hea': a WFDB or EDF header gives the sampling rate" in err
    assert not out.exists()


def test_gain_for_an_edf_file_is_refused(tmp_path, capsys):
    assert _cli(["emg", "analyze", str(tmp_path / "x.edf"), "--gain", "1000", "--out",
                 str(tmp_path / "o")]) == 2
    assert "--gain 1000 does not apply to 'x.edf'" in capsys.readouterr().err


def test_a_gain_overriding_the_header_is_written_in_the_reasons(tmp_path):
    hea = _wfdb(tmp_path)
    out = tmp_path / "o"
    assert _cli(["emg", "analyze", str(hea), "--gain", "1000", "--out", str(out), "-q",
                 "--no-figures"]) == 0
    reasons = pd.read_csv(out / "recordings.csv").loc[0, "reasons"]
    assert "gain 1000 ADC units/mV from --gain (gain_adu_per_mv) overrides the header's 1280/mV" in reasons
    assert _cli(["emg", "analyze", str(hea), "--out", str(tmp_path / "o2"), "-q",
                 "--no-figures"]) == 0
    assert "overrides" not in pd.read_csv(tmp_path / "o2" / "recordings.csv").loc[0, "reasons"]


def test_a_gain_given_per_microvolt_is_caught_and_not_read(tmp_path, recordings, capsys):
    # the recordings hold 5 ADC units per µV: --gain 5 is the per-µV slip (1000 x too large)
    ref = _reference(tmp_path / "ref.toml")
    out = tmp_path / "o"
    assert _cli(["emg", "analyze", *recordings[:2], "--fs", "10000", "--gain", "5", "--muscle",
                 "biceps_brachii", "--reference", str(ref), "--subject", "S", "--out", str(out),
                 "-q", "--no-figures"]) == 0
    err = capsys.readouterr().err
    rows = pd.read_csv(out / "recordings.csv")
    assert set(rows["rule"]) == {"implausible_amplitude"} and set(rows["pattern"]) == {"indeterminate"}
    assert rows["mean_amplitude_uv"].min() > 20_000
    assert "was the gain given per µV? x1000: 5 -> 5000 ADC units per mV" in rows.loc[0, "reasons"]
    assert err.count("warning: r0: gain probably wrong: mean MUAP amplitude") == 1
    assert "x1000: 5 -> 5000 ADC units per mV" in err
    s = pd.read_csv(out / "subjects.csv")
    assert (s.loc[0, "pattern"], s.loc[0, "rule"]) == ("indeterminate", "implausible_amplitude")
    assert s.loc[0, "reasons"].startswith("r0: gain probably wrong")
    # the right gain: read, no warning
    assert _cli(["emg", "analyze", recordings[0], *RAW, "--muscle", "biceps_brachii",
                 "--out", str(tmp_path / "o2"), "-q", "--no-figures"]) == 0
    assert "gain probably wrong" not in capsys.readouterr().err
    assert pd.read_csv(tmp_path / "o2" / "recordings.csv").loc[0, "rule"] == "no_reference"


# --------------------------------------------------------------------------- C5
@pytest.mark.parametrize(("name", "suggestion"), [("deltiod", "deltoid"),
                                                  ("left deltoid", "deltoid"),
                                                  ("bicep brachi", "biceps_brachii")])
@pytest.mark.parametrize("command", ["analyze", "build"])
def test_an_unknown_muscle_option_is_a_usage_error_with_the_closest_name(
        tmp_path, recordings, capsys, name, suggestion, command):
    out = tmp_path / ("r.toml" if command == "build" else "o")
    head = ["emg", "analyze"] if command == "analyze" else ["emg", "reference", "build"]
    assert _cli([*head, recordings[0], *RAW, "--muscle", name, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"--muscle {name!r} is not a known muscle; did you mean {suggestion!r}" in err
    assert not out.exists()


def test_a_muscle_name_or_alias_is_accepted_as_its_id(tmp_path, recordings):
    out = tmp_path / "o"
    assert _cli(["emg", "analyze", recordings[0], *RAW, "--muscle", "Biceps Brachii", "--out",
                 str(out), "-q", "--no-figures"]) == 0
    assert pd.read_csv(out / "recordings.csv").loc[0, "muscle"] == "biceps_brachii"


@pytest.mark.parametrize("command", ["analyze", "build"])
def test_an_unknown_muscle_in_the_subjects_table_is_located(tmp_path, recordings, capsys,
                                                             command):
    sub = tmp_path / "subjects.csv"
    pd.DataFrame({"file": ["r0.bin", "r1.bin", "r2.bin", "r3.bin"], "subject": "S",
                  "muscle": ["deltoid", "deltiod", "deltiod", "BB"]}).to_csv(sub, index=False)
    out = tmp_path / ("r.toml" if command == "build" else "o")
    head = (["emg", "analyze", "--reference", str(_reference(tmp_path / "ref.toml"))]
            if command == "analyze" else ["emg", "reference", "build"])
    assert _cli([*head, *recordings[:4], *RAW, "--subjects", str(sub), "--out", str(out),
                 "-q"]) == 1
    err = capsys.readouterr().err
    assert (f"--subjects {str(sub)!r}, row 3, 4, column 'muscle': muscle 'deltiod' is not a "
            "known muscle; did you mean 'deltoid'?") in err
    assert "'BB'" not in err and not out.exists()


# --------------------------------------------------------------------------- K1
def _mapping(tmp_path, text, files, muscle=None, quiet=False, encoding="utf-8"):
    from edxreview.cli import emg

    sub = tmp_path / "subjects.csv"
    sub.write_text(text, encoding=encoding)
    args = argparse.Namespace(subjects=str(sub), muscle=muscle, quiet=quiet)
    return emg._subject_mapping(args, [Path(f) for f in files])


@pytest.mark.parametrize("text", [
    "File;Subject;Muscle;Group\nMD001_Hea01_RD;Hea01;deltoid;healthy\nMD010_Hea05_LD.hea;Hea05;Biceps brachii;Healthy\n",
    "FILE\tSUBJECT\tMUSCLE\tGROUP\nMD001_Hea01_RD\tHea01\tdeltoid\thealthy\nMD010_Hea05_LD\tHea05\tBB\thealthy\n",
    "\ufefffile , Subject,muscle,group\n MD001_Hea01_RD ,Hea01, deltoid ,healthy\nMD010_Hea05_LD,Hea05,biceps_brachii,healthy\n",
], ids=["semicolons, capitals (Excel, French locale)", "tabs, upper case",
        "byte-order mark, spaces"])
def test_a_subjects_table_is_read_whatever_its_delimiter_and_header_case(tmp_path, text):
    mapping, code = _mapping(tmp_path, text, ["MD001_Hea01_RD", "MD010_Hea05_LD"])
    assert code == 0
    assert mapping["subject"].tolist() == ["Hea01", "Hea05"]
    assert mapping["muscle"].tolist() == ["deltoid", "biceps_brachii"]
    assert mapping["truth"].tolist() == ["normal", "normal"]


def test_a_file_without_a_row_points_to_the_near_miss_row(tmp_path, capsys):
    text = "file,subject\nMD001_Hea01_RD,Hea01\nMD010_Hea05_DL,Hea05\nMD099_Myo01_RD,Myo01\n"
    mapping, code = _mapping(tmp_path, text, ["MD001_Hea01_RD", "MD010_Hea05_LD"], "deltoid")
    assert mapping is None and code == 1
    err = capsys.readouterr().err
    assert ("has no row for ['MD010_Hea05_LD']; closest rows: 'MD010_Hea05_LD': row 3 names "
            "'MD010_Hea05_DL'") in err


def test_rows_matching_no_file_are_counted_with_their_reason(tmp_path, capsys):
    text = ("file,subject\nMD001_Hea01_RD,Hea01\nMD002_Hea01_LD,Hea01\nMD099_Myo01_RD,Myo01\n"
            ",Myo02\n")
    mapping, code = _mapping(tmp_path, text, ["MD001_Hea01_RD"], "deltoid")
    assert code == 0 and mapping["subject"].tolist() == ["Hea01"]
    err = capsys.readouterr().err
    assert ("4 row(s): 1 used, 3 not used: 2 name a file not given here (e.g. 'MD002_Hea01_LD' "
            "(row 3), 'MD099_Myo01_RD' (row 4)); 1 have no file name.") in err
    _mapping(tmp_path, text, ["MD001_Hea01_RD"], "deltoid", quiet=True)
    assert capsys.readouterr().err == ""
    # every row used: nothing to say
    _mapping(tmp_path, "file,subject\nMD001_Hea01_RD,Hea01\n", ["MD001_Hea01_RD"], "deltoid")
    assert capsys.readouterr().err == ""


def test_two_rows_for_one_file_are_refused(tmp_path, capsys):
    text = "file,subject\nr0.bin,A\nr1.bin,B\nr0,C\n"
    mapping, code = _mapping(tmp_path, text, ["r0.bin", "r1.bin"], "deltoid")
    assert mapping is None and code == 1
    assert "file 'r0' has 2 rows (rows 2, 4); give one row per file." in capsys.readouterr().err


@pytest.mark.parametrize("command", ["analyze", "build"])
def test_a_file_that_cannot_be_read_stops_both_commands_alike(tmp_path, recordings, capsys,
                                                              command):
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"\x00\x01\x02")     # an odd number of bytes: not int16 samples
    out = tmp_path / ("r.toml" if command == "build" else "o")
    head = (["emg", "analyze", "--reference", str(_reference(tmp_path / "ref.toml")),
             "--muscle", "biceps_brachii"]
            if command == "analyze" else ["emg", "reference", "build", "--muscle", "biceps_brachii"])
    assert _cli([*head, recordings[0], str(bad), *RAW, "--out", str(out), "-q"]) == 1
    err = capsys.readouterr().err
    lines = [x for x in err.splitlines() if x.startswith("edxreview emg: error:")]
    assert len(lines) == 2 and str(bad) in lines[0] and lines[0].count(str(bad)) == 1
    assert lines[1] == "edxreview emg: error: nothing written; fix or leave out the files above."
    assert not out.exists()
