"""No input file is ever written over, whatever form it is given in: a WFDB record given by its
name is its header, the data files the header names and its other files (``.atr``), and an
output (a folder or a reference file) may overlap none of them, even with --force."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from edxreview._output import MARKER
from edxreview.cli import main

from .corpus import tree_state

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "signal"))
from _synth import FIVE_UNITS, weak_contraction  # noqa: E402


_hashes = tree_state


def _wfdb(folder: Path, name: str, seed: int, data: str | None = None) -> Path:
    """A WFDB record ``name`` of a synthetic weak contraction (10 kHz, 5 ADC units per µV) in
    ``folder``, its data file the one its header names (``data``, default ``<name>.dat``, may
    lie in a folder below); the record's path without a suffix."""
    data = data or f"{name}.dat"
    x, _ = weak_contraction(seed=seed, duration_s=4.0, units=FIVE_UNITS, spiky=True,
                            spike_ms=1.2)
    samples = np.round(x * 5).astype("<i2")
    (folder / data).parent.mkdir(parents=True, exist_ok=True)
    samples.tofile(folder / data)
    (folder / f"{name}.hea").write_text(
        f"{name} 1 10000 {samples.size}\n{data} 16 5000/mV 16 0\n")
    return folder / name


@pytest.fixture
def controls(tmp_path):
    """Five control records, c0 with an annotation file, c1's data file named otherwise."""
    recs = tmp_path / "recs"
    recs.mkdir()
    paths = [_wfdb(recs, f"c{i}", seed=20 + i, data="signal1.bin" if i == 1 else None)
             for i in range(5)]
    (recs / "c0.atr").write_bytes(b"\x00\x01annotations")
    return paths


@pytest.mark.parametrize("out", ["c0.hea", "c0.dat", "c0.atr", "signal1.bin"],
                         ids=["header", "data file", "annotation file",
                              "data file named by the header"])
@pytest.mark.parametrize("given", ["name", "header"], ids=["record by name", "record by .hea"])
def test_reference_file_over_a_record_given_by_name_is_refused(controls, out, given, tmp_path,
                                                               capsys):
    paths = [str(p) + (".hea" if given == "header" else "") for p in controls]
    before = _hashes(tmp_path)
    status = main(["emg", "reference", "build", *paths, "--muscle", "biceps", "--out",
                   str(tmp_path / "recs" / out), "-q", "--force"])
    err = capsys.readouterr().err
    assert status == 2, err
    assert "never writes over its input" in err and "Traceback" not in err, err
    assert _hashes(tmp_path) == before


def test_reference_file_beside_the_records_is_written(controls, tmp_path, capsys):
    """The check refuses only the record's own files: a new name beside them is fine."""
    status = main(["emg", "reference", "build", *map(str, controls), "--muscle", "biceps",
                   "--out", str(tmp_path / "recs" / "lab.toml"), "-q"])
    assert status == 0, capsys.readouterr().err
    assert "[muscles.biceps_brachii" in (tmp_path / "recs" / "lab.toml").read_text()


@pytest.mark.parametrize("given", ["name", "header"], ids=["record by name", "record by .hea"])
def test_analyze_never_replaces_a_folder_holding_the_data_file(given, tmp_path, capsys):
    """The header names its data file in a folder below it; that folder, even one edxreview
    marked as its own (its manifest lists the data file), is an input, not an --out."""
    recs = tmp_path / "recs"
    recs.mkdir()
    record = _wfdb(recs, "r", seed=3, data="data/r.dat")
    (recs / "data" / MARKER).write_text(json.dumps(
        {"written_by": "edxreview", "version": "0", "command": "emg analyze",
         "files": ["r.dat"]}))
    before = _hashes(tmp_path)
    path = str(record) + (".hea" if given == "header" else "")
    status = main(["emg", "analyze", path, "--out", str(recs / "data"), "-q", "--force",
                   "--no-figures"])
    err = capsys.readouterr().err
    assert status == 2, err
    assert "'data/r.dat'" in err.replace(str(recs) + os.sep, "") and "Traceback" not in err, err
    assert _hashes(tmp_path) == before


def test_recording_files_name_every_file_of_a_record(tmp_path):
    from edxreview.signal._readers import recording_files

    recs = tmp_path / "recs"
    recs.mkdir()
    record = _wfdb(recs, "c.0", seed=1, data="sub/c0.bin")
    (recs / "c.0.atr").write_bytes(b"a")
    (recs / "c.1.hea").write_text("c.1 1 10000 4\nc.1.dat 16\n")  # another record
    (recs / "c.0.res").mkdir()   # a folder named like the record's files (an earlier --out)
    want = {recs / "c.0.hea", recs / "sub" / "c0.bin", recs / "c.0.atr", recs / "c.0.dat"}
    for given in (record, recs / "c.0.hea"):
        assert set(recording_files(given)) == want | {given}
    raw = tmp_path / "n.bin"
    assert recording_files(raw) == [raw]
    assert recording_files(recs / "c.0.hea", format="raw") == [recs / "c.0.hea"]
    (recs / "c.0.hea").write_text("not a header")   # unreadable: its files beside it only
    assert set(recording_files(record)) == {record, recs / "c.0.hea", recs / "c.0.atr",
                                             recs / "c.0.dat"}


# -- the audit: every command that writes, and links ----------------------------------------

def test_the_lock_file_is_never_written_through_a_link(tmp_path, capsys):
    """The lock file beside an output folder is truncated, written and removed: a link there
    truncated the file it pointed to (reproduced: a user's file held the process id)."""
    precious = tmp_path / "precious.txt"
    precious.write_text("mine")
    (tmp_path / ".out.edxreview-lock").symlink_to(precious)
    before = _hashes(tmp_path)
    assert main(["synth", "--patients", "2", "--out", str(tmp_path / "out"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "lock file" in err and "symbolic link" in err and "Traceback" not in err, err
    assert _hashes(tmp_path) == before


def test_the_lock_file_is_never_an_input(tmp_path, capsys):
    rec = tmp_path / ".out.edxreview-lock"    # a recording that happens to bear its name
    rec.write_bytes(b"\x01\x00" * 4000)
    before = _hashes(tmp_path)
    assert main(["emg", "analyze", str(rec), "--fs", "1000", "--out", str(tmp_path / "out"),
                 "-q"]) == 2
    err = capsys.readouterr().err
    assert "lock file" in err and "is the input" in err and "Traceback" not in err, err
    assert _hashes(tmp_path) == before


def test_a_study_folder_of_links_is_read_where_they_point(tmp_path, capsys):
    """A study folder whose sheets are links into an output folder edxreview wrote (a synth
    registry): --out that folder --force replaced it, the study's sheets with it."""
    reg, study = tmp_path / "reg", tmp_path / "study"
    assert main(["synth", "--patients", "3", "--out", str(reg), "-q"]) == 0
    study.mkdir()
    for sheet in reg.glob("*.csv"):
        if sheet.name != "truth.csv":
            (study / sheet.name).symlink_to(Path("..") / "reg" / sheet.name)
    capsys.readouterr()
    before = _hashes(tmp_path)
    assert main(["run", str(study), "--out", str(reg), "-q", "--force"]) == 2
    err = capsys.readouterr().err
    assert "contains the input" in err and "(a link to '../reg/" in err, err
    assert _hashes(tmp_path) == before


def test_template_force_replaces_a_link_never_its_target(tmp_path, capsys):
    book = tmp_path / "study.xlsx"
    book.write_bytes(b"a workbook with a study in it")
    link = tmp_path / "template.xlsx"
    link.symlink_to(book)
    assert main(["template", str(link), "--force"]) == 0
    assert book.read_bytes() == b"a workbook with a study in it"
    assert not link.is_symlink() and link.read_bytes()[:2] == b"PK"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["study.xlsx", "template.xlsx"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes and alarms need POSIX")
@pytest.mark.parametrize("given", ["r.hea", "r"])
def test_a_pipe_named_as_a_header_is_refused_not_read_without_end(given, tmp_path, capsys):
    # a header that is a pipe: reading it would wait for a writer that never comes (the alarm
    # ends the test instead of the run hanging)
    import signal

    def hung(signum, frame):
        raise TimeoutError("the pipe was read: the command waits for a writer")

    os.mkfifo(tmp_path / "r.hea")
    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(30)
    try:
        code = main(["emg", "analyze", str(tmp_path / given), "--out", str(tmp_path / "o")])
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    err = capsys.readouterr().err
    assert code == 1
    assert "is not a regular file" in err
    assert not (tmp_path / "o").exists()


def _refuse_lab_reference(path: Path, force: list[str]) -> int:
    from edxreview._errors import OutputPathError
    from edxreview.signal._reference import refuse_reference_path

    try:
        refuse_reference_path(path, bool(force), "--force")
    except OutputPathError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes and alarms need POSIX")
@pytest.mark.parametrize("force", [[], ["--force"]], ids=["without --force", "with --force"])
@pytest.mark.parametrize("write", [
    lambda out, force: main(["template", str(out), *force]),
    lambda out, force: main(["reference", "--starter", str(out.with_suffix(".csv")), *force]),
    lambda out, force: main(["adjudicate", str(out.parent / "results"),
                             str(out.parent / "readers.csv"), "--out", str(out), *force]),
    lambda out, force: _refuse_lab_reference(out.with_suffix(".toml"), force),
], ids=["template", "reference starter", "adjudication workbook", "lab reference"])
def test_a_pipe_at_a_one_file_output_is_refused_not_read(write, force, tmp_path, capsys):
    # every one-file writer's first checks (replaceable_without_reading): a pipe is neither
    # read (that would wait for a writer that never comes; the alarm ends the test instead)
    # nor replaced, with or without --force
    import signal

    def hung(signum, frame):
        raise KeyboardInterrupt("the pipe was read: the command waits for a writer")

    for suffix in (".xlsx", ".csv", ".toml"):
        os.mkfifo(tmp_path / f"out{suffix}")
    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(30)
    try:
        code = write(tmp_path / "out.xlsx", force)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    err = " ".join(capsys.readouterr().err.split())
    assert code == 2
    assert "out.xlsx' is not a plain file" in err or "out.csv' is not a plain file" in err \
        or "out.toml' is not a plain file" in err, err
    assert "even with --force" in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv", "out.toml", "out.xlsx"]
    assert all(not (tmp_path / f"out{s}").is_file() for s in (".xlsx", ".csv", ".toml"))


def test_a_folder_given_as_the_output_file_is_named_as_given(tmp_path, capsys):
    # the error names the user's path, not the hidden temporary file beside it
    (tmp_path / "t.xlsx").mkdir()
    assert main(["template", str(tmp_path / "t.xlsx"), "--force"]) == 2
    err = capsys.readouterr().err
    assert "t.xlsx' is a folder" in err.replace("\n", "") and ".t.xlsx." not in err, err
    assert list(tmp_path.iterdir()) == [tmp_path / "t.xlsx"]
