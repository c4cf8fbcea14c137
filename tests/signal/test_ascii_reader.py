"""ASCII recordings (one sample in µV per line, as the Algiers laboratory exports them)."""

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _synth import weak_contraction  # noqa: E402

from edxreview._errors import InvalidParameterError, SignalFileError
from edxreview.signal import read_signal

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
ALGIERS = DATA / "mendeley-algiers" / "MD001_Hea01_RD.hea"


def _write(path: Path, lines: list[str], newline: str = "\n") -> Path:
    path.write_bytes(newline.join(lines).encode() + newline.encode())
    return path


def _cli(argv: list[str]) -> int:
    from edxreview.cli import emg

    parser = argparse.ArgumentParser()
    emg.add_parser(parser.add_subparsers(dest="command"))
    return emg.run(parser.parse_args(argv))


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR only"])
def test_samples_are_read_as_microvolts(tmp_path, newline):
    p = _write(tmp_path / "rec.txt", ["# exported by the EMG system", "", "1.5", " -2.25 ",
                                      "1e2", "0.78125", ""], newline)
    rec = read_signal(p, fs_hz=32768)  # .txt: ASCII by suffix
    np.testing.assert_array_equal(rec.samples, [1.5, -2.25, 100.0, 0.78125])
    assert rec.calibrated and rec.unit == "uV" and rec.fs_hz == 32768
    assert read_signal(p, format="ascii", fs_hz=32768).samples.size == 4


@pytest.mark.skipif(not ALGIERS.is_file(), reason="../shared/data/mendeley-algiers not present")
def test_an_algiers_record_written_as_ascii_reads_back_the_same(tmp_path):
    # the Algiers WFDB files were made losslessly from ASCII files of µV samples (data README)
    wfdb = read_signal(ALGIERS)
    p = tmp_path / "MD001.asc"
    p.write_text("\n".join(f"{v:.5f}" for v in wfdb.samples) + "\n")
    rec = read_signal(p, fs_hz=wfdb.fs_hz)
    np.testing.assert_allclose(rec.samples, wfdb.samples, atol=1e-5)
    assert rec.fs_hz == wfdb.fs_hz and rec.calibrated


@pytest.mark.parametrize("bad,line", [("12,5", 3), ("nan", 3), ("inf", 3), ("1 2", 3),
                                      ("µV", 3)],
                         ids=["decimal comma", "nan", "inf", "two numbers", "a unit"])
def test_a_row_that_is_not_one_number_is_named_by_its_line(tmp_path, bad, line):
    p = _write(tmp_path / "rec.txt", ["# header", "1.0", bad, "2.0"])
    with pytest.raises(SignalFileError, match=rf"line {line}: {bad!r}.*not a finite number"):
        read_signal(p, fs_hz=10000)


@pytest.mark.parametrize("lines", [[], ["# only a comment", "   "]], ids=["empty", "no samples"])
def test_a_file_without_samples_is_refused(tmp_path, lines):
    p = tmp_path / "rec.txt"
    p.write_text("\n".join(lines))
    with pytest.raises(SignalFileError, match="holds no samples"):
        read_signal(p, fs_hz=10000)


def test_binary_data_is_not_read_as_text(tmp_path):
    p = tmp_path / "rec.txt"
    p.write_bytes(b"1.0\n\xff\xfe\x00\x01")
    with pytest.raises(SignalFileError, match="not text"):
        read_signal(p, fs_hz=10000)


def test_sampling_rate_is_required_and_checked_and_gain_refused(tmp_path):
    p = _write(tmp_path / "rec.txt", ["1.0", "2.0"])
    with pytest.raises(InvalidParameterError, match="--fs"):
        read_signal(p)
    with pytest.raises(InvalidParameterError, match="sampling rate"):
        read_signal(p, format="ascii", fs_hz=100.0)
    with pytest.raises(InvalidParameterError, match="does not apply to an ASCII file"):
        read_signal(p, format="ascii", fs_hz=10000, gain_adu_per_mv=1000)


def test_cli_analyses_an_ascii_file(tmp_path):
    x, _ = weak_contraction(fs_hz=10000.0, duration_s=3.0)
    p = tmp_path / "syn.txt"
    p.write_text("\n".join(f"{v:.3f}" for v in x))
    out = tmp_path / "out"
    assert _cli(["emg", "analyze", str(p), "--format", "ascii", "--fs", "10000", "--out",
                 str(out), "-q", "--no-figures"]) == 0
    rows = pd.read_csv(out / "recordings.csv")
    assert bool(rows.loc[0, "calibrated"]) and rows.loc[0, "n_units"] >= 1


def test_cli_bad_ascii_row_exit_1_nothing_written(tmp_path, capsys):
    p = _write(tmp_path / "rec.txt", ["1.0", "oops", "2.0"])
    out = tmp_path / "out"
    assert _cli(["emg", "analyze", str(p), "--fs", "10000", "--out", str(out), "-q"]) == 1
    err = capsys.readouterr().err
    assert "line 2: 'oops'" in err and "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize("extra,msg", [(["--gain", "1000"], "does not apply to --format ascii"),
                                       (["--header-bytes", "20"], "raw int16 files only")],
                         ids=["gain", "header bytes"])
def test_cli_ascii_with_a_raw_option_is_wrong_usage(tmp_path, capsys, extra, msg):
    p = _write(tmp_path / "rec.txt", ["1.0", "2.0"])
    rc = _cli(["emg", "analyze", str(p), "--format", "ascii", "--fs", "10000", "--out",
               str(tmp_path / "o"), "-q", *extra])
    assert rc == 2 and msg in capsys.readouterr().err
