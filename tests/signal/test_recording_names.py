"""Every recording of a run has its own name, so that no row, MUAP or figure of one is taken
for another's: files whose names differ only after the dot (Algiers-style ASCII ``c.0``,
``c.1``) are named in full; the same file name in two folders is refused, naming both."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _cli import emg_cli  # noqa: E402
from _synth import FIVE_UNITS, weak_contraction  # noqa: E402

from edxreview._errors import InvalidParameterError

ASCII = ["--format", "ascii", "--fs", "10000"]


def recording_names(paths):
    from edxreview.signal._readers import recording_names

    return recording_names(paths)


def _ascii(path: Path, seed: int, units=None, duration_s: float = 3.0) -> str:
    """A weak contraction written as ASCII µV samples, one per line; its path."""
    x, _ = weak_contraction(seed=seed, duration_s=duration_s, units=units or FIVE_UNITS,
                            spiky=True, spike_ms=1.2)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(f"{v:.3f}" for v in x))
    return str(path)


@pytest.mark.parametrize(("paths", "names"), [
    (["d/c.0", "d/c.1", "d/N2001A01BB01.bin"], ["c.0", "c.1", "N2001A01BB01"]),
    (["a/x.txt", "b/y.txt"], ["x", "y"]),                   # distinct: named as before
    (["d/c.txt", "d/c.bin"], ["c.txt", "c.bin"]),           # one stem, two suffixes
    (["d/C.txt", "d/c.bin"], ["C.txt", "c.bin"]),           # alike but for case
    (["d/c.0", "d/c.1", "d/c.0.txt", "d/c.0.txt.csv"],      # a full name meets a short one,
     ["c.0", "c.1", "c.0.txt", "c.0.txt.csv"]),              # twice over
], ids=["dot numbers", "distinct stems", "two suffixes", "case", "chain"])
def test_names_are_distinct_and_predictable(paths, names):
    assert recording_names(paths) == names


@pytest.mark.parametrize("paths", [["a/c.0", "b/c.0"], ["d/C.txt", "d/c.txt"]],
                         ids=["one file name in two folders", "names alike but for case"])
def test_names_that_cannot_be_told_apart_are_refused(paths):
    with pytest.raises(InvalidParameterError, match="Rename one of the files") as info:
        recording_names(paths)
    assert all(repr(p) in str(info.value) for p in paths)


def test_analyze_keeps_files_that_differ_after_the_dot_apart(tmp_path, capsys):
    """ASCII files c.0 and c.1 (both 'c' without the suffix) were one name: one figure
    overwrote the other and their rows and MUAPs could not be told apart."""
    files = [_ascii(tmp_path / "d" / "c.0", 1), _ascii(tmp_path / "d" / "c.1", 2,
                                                       units=FIVE_UNITS[:3])]
    out = tmp_path / "out"
    assert emg_cli(["emg", "analyze", *files, *ASCII, "--out", str(out), "--patient", "P1",
                    "--muscle", "biceps_brachii", "--side", "L", "-q"]) == 0
    rec = pd.read_csv(out / "recordings.csv")
    assert rec["file"].tolist() == ["c.0", "c.1"]
    assert sorted(p.name for p in out.glob("*.png")) == ["c.0.png", "c.1.png"]
    muaps = pd.read_csv(out / "muaps.csv")
    # rows in = rows out: each recording's MUAPs under its own name, none merged
    assert muaps.groupby("file").size().to_dict() == dict(zip(rec["file"], rec["n_units"]))
    assert pd.read_csv(out / "emg_rows.csv")["files"].tolist() == ["c.0", "c.1"]


def test_reference_build_counts_each_file_once(tmp_path, capsys):
    """Five control files c.0 ... c.4 were five recordings named 'c': one subject, and each
    file's MUAPs counted five times. Named in full they give the reference the same files
    named apart give."""
    alike = [_ascii(tmp_path / "alike" / f"c.{i}", 30 + i) for i in range(5)]
    apart = [_ascii(tmp_path / "apart" / f"c{i}.txt", 30 + i) for i in range(5)]
    refs = []
    for files, name in ((alike, "alike.toml"), (apart, "apart.toml")):
        assert emg_cli(["emg", "reference", "build", *files, *ASCII, "--muscle", "biceps_brachii",
                        "--out", str(tmp_path / name), "-q"]) == 0, capsys.readouterr().err
        refs.append(tomllib.loads((tmp_path / name).read_text()))
    assert refs[0]["muscles"] == refs[1]["muscles"]
    duration = refs[0]["muscles"]["biceps_brachii"]["duration_ms"]
    assert duration["n_subjects"] == 5


def test_one_file_name_in_two_folders_is_refused_before_reading(tmp_path, capsys):
    files = [_ascii(tmp_path / "s1" / "c.0", 1), _ascii(tmp_path / "s2" / "c.0", 2)]
    for argv in (["emg", "analyze", *files, *ASCII, "--out", str(tmp_path / "out")],
                 ["emg", "reference", "build", *files, *ASCII, "--muscle", "biceps_brachii",
                  "--out", str(tmp_path / "ref.toml")]):
        assert emg_cli(argv) == 2
        err = capsys.readouterr().err
        assert all(repr(f) in err for f in files) and "Nothing written" in err, err
        assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s1", "s2"]


def test_one_recording_given_twice_is_read_once_and_said(tmp_path, capsys):
    f = _ascii(tmp_path / "d" / "c.0", 1)
    twice = str(tmp_path / "d" / ".." / "d" / "c.0")
    out = tmp_path / "out"
    assert emg_cli(["emg", "analyze", f, twice, *ASCII, "--out", str(out), "--no-figures"]) == 0
    err = capsys.readouterr().err
    assert "2 paths given, 1 recording(s)" in err and repr(twice) in err, err
    assert pd.read_csv(out / "recordings.csv")["file"].tolist() == ["c"]
    np.testing.assert_equal(pd.read_csv(out / "muaps.csv")["file"].unique(), ["c"])


def test_a_subjects_row_naming_the_shared_stem_is_explained(tmp_path, capsys):
    import argparse

    from edxreview.cli._emg_subjects import _subject_mapping

    table = tmp_path / "subjects.csv"
    table.write_text("file,subject\nc,S1\n")
    args = argparse.Namespace(subjects=str(table), muscle="biceps_brachii", side="",
                              quiet=True)
    paths = [tmp_path / "c.0", tmp_path / "c.1"]
    assert _subject_mapping(args, paths) == (None, 1)
    err = capsys.readouterr().err
    assert "row 2 names 'c', the name shared by 'c.0', 'c.1'" in err, err
    table.write_text("file,subject\nc.0,S1\nc.1,S2\n")   # each file its row: two subjects
    mapping, status = _subject_mapping(args, paths)
    assert status == 0 and mapping["subject"].tolist() == ["S1", "S2"]
