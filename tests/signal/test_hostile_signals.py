"""Hostile and damaged signal files and options: a located message and exit 1 (bad file) or 2
(bad option), never an internal error, and nothing read into memory beyond the size cap."""

from __future__ import annotations

import argparse
import os
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from edxreview._errors import InvalidParameterError, SignalFileError
from edxreview.signal import analyze_recording, read_signal
from edxreview.signal import _readers
from edxreview.signal._readers import FS_RANGE_HZ, MAX_SAMPLES, Recording

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _synth import weak_contraction  # noqa: E402

BAD_RATES = ["0", "-5", "nan", "inf", "1e12", "1e-9"]


def _cli(argv):
    from edxreview.cli import emg

    parser = argparse.ArgumentParser()
    emg.add_parser(parser.add_subparsers(dest="command"))
    return emg.run(parser.parse_args(["emg", "analyze", *argv, "-q", "--no-figures"]))


@pytest.fixture
def raw_file(tmp_path):
    x, _ = weak_contraction(duration_s=1.0)
    p = tmp_path / "rec.bin"
    np.round(x).astype("<i2").tofile(p)
    return p


def _wfdb(folder, fs="10000", dat="rec.dat", gain="500/mV", n="", extra="16 0", samples=None):
    folder.mkdir(parents=True, exist_ok=True)
    hea = folder / "rec.hea"
    hea.write_text(f"rec 1 {fs} {n}\n{dat} 16 {gain} {extra}\n")
    if samples is None:
        samples = np.round(weak_contraction(duration_s=0.5)[0]).astype("<i2")
    samples.astype("<i2").tofile(folder / "rec.dat")
    return hea


# ------------------------------------------------------------------------------ options: exit 2
@pytest.mark.parametrize("option, value, allowed", [
    *[("--fs", v, "between 1000 and 1e+06") for v in BAD_RATES],
    ("--gain", "1e-300", "between 0.001 and 1e+09"), ("--gain", "0", "between 0.001"),
    ("--gain", "nan", "between 0.001"),
    ("--age", "-5", "between 0 and 120"), ("--age", "nan", "between 0 and 120"),
    ("--age", "1e308", "between 0 and 120"), ("--age", "121", "between 0 and 120"),
    ("--header-bytes", "-2", "even whole number"), ("--header-bytes", "3", "even whole number"),
], ids=lambda v: str(v))
def test_a_bad_option_is_a_usage_error(raw_file, tmp_path, capsys, option, value, allowed):
    argv = [str(raw_file), "--out", str(tmp_path / "o")]
    argv += [] if option == "--fs" else ["--fs", "10000"]
    assert _cli([*argv, option, value]) == 2
    err = capsys.readouterr().err
    assert f"{option}=" in err and allowed in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_the_age_range_is_the_workbook_s():
    from edxreview.knowledge._tables import read_table
    from edxreview.signal._classify import age_range_years

    table, _ = read_table("plausibility")
    row = table[(table["sheet"] == "patients") & (table["column"] == "age_years")].iloc[0]
    assert age_range_years() == (float(row["error_min"]), float(row["error_max"]))


# ------------------------------------------------------------------------ header values: exit 1
@pytest.mark.parametrize("fs", BAD_RATES)
def test_a_wfdb_sampling_rate_out_of_range_names_file_and_field(tmp_path, capsys, fs):
    hea = _wfdb(tmp_path / "in", fs=fs)
    with pytest.raises(SignalFileError, match=r"rec\.hea.*sampling frequency"):
        read_signal(hea)
    assert _cli([str(hea), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "rec.hea" in err and "sampling frequency" in err and "Traceback" not in err


@pytest.mark.parametrize("gain", ["1e-300/mV", "-5/mV", "1e300/mV", "1e/mV"])
def test_a_wfdb_gain_out_of_range_names_the_field(tmp_path, gain):
    hea = _wfdb(tmp_path, gain=gain)
    with pytest.raises(SignalFileError, match=r"rec\.hea.*gain"):
        read_signal(hea)


@pytest.mark.parametrize("record, signal_tail, field", [
    ("rec 1 10000 -5", "16 500/mV 16 0", "number of samples"),
    ("rec 1 10000 12.5", "16 500/mV 16 0", "number of samples"),
    ("rec x 10000", "16 500/mV 16 0", "number of signals"),
    ("rec 1 10000", "16 500/mV 16 zero", "ADC zero"),
], ids=["negative length", "fractional length", "signals not a number", "ADC zero not a number"])
def test_wfdb_header_fields_that_are_not_numbers(tmp_path, record, signal_tail, field):
    (tmp_path / "rec.hea").write_text(f"{record}\nrec.dat {signal_tail}\n")
    np.zeros(2000, "<i2").tofile(tmp_path / "rec.dat")
    with pytest.raises(SignalFileError, match=field):
        read_signal(tmp_path / "rec.hea")


@pytest.mark.parametrize("name", ["../x.bin", "/etc/passwd", "sub/../../x.bin", "..\\x.bin",
                                  "C:\\x.bin"])
def test_a_data_file_outside_the_header_folder_is_refused(tmp_path, capsys, name):
    (tmp_path / "x.bin").write_bytes(np.zeros(2000, "<i2").tobytes())
    hea = _wfdb(tmp_path / "in", dat=name)
    with pytest.raises(SignalFileError, match="outside the header's folder"):
        read_signal(hea)
    assert _cli([str(hea), "--out", str(tmp_path / "o")]) == 1
    assert "outside the header's folder" in capsys.readouterr().err


def test_a_data_file_in_a_subfolder_of_the_header_is_read(tmp_path):
    hea = _wfdb(tmp_path, dat="data/rec.dat", samples=np.arange(100, dtype="<i2"))
    (tmp_path / "data").mkdir()
    np.arange(100, dtype="<i2").tofile(tmp_path / "data" / "rec.dat")
    assert read_signal(hea).samples.size == 100


def test_a_gain_override_is_per_mv_whatever_the_header_units(tmp_path):
    adu = np.array([0, 10, -20, 30], dtype="<i2")
    hea = _wfdb(tmp_path, gain="500/uV", samples=adu)
    rec = read_signal(hea, gain_adu_per_mv=1000)  # 1000 ADU per mV: 1 ADU = 1 µV
    np.testing.assert_allclose(rec.samples, adu.astype(float))
    assert rec.gain_adu_per_mv == pytest.approx(1000)


def test_a_two_sample_file_is_too_short_to_analyse(tmp_path, capsys):
    p = tmp_path / "two.bin"
    np.array([1, 2], "<i2").tofile(p)
    assert _cli([str(p), "--fs", "10000", "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "two.bin" in err and "too short" in err and "1000 samples" in err


def test_analysis_refuses_a_recording_it_cannot_read():
    x = np.zeros(5000)
    with pytest.raises(InvalidParameterError, match="sampling rate"):
        analyze_recording(Recording(x, 500.0, True, "slow"))
    with pytest.raises(InvalidParameterError, match="age_years=999"):
        analyze_recording(Recording(x, 10000.0, True, "old"), age_years=999)


def test_an_implausible_age_in_a_header_is_read_as_unknown():
    x, _ = weak_contraction(duration_s=1.0)
    rec = Recording(x, 10000.0, True, "r", metadata={"age": "999"})
    a = analyze_recording(rec, muscle="biceps_brachii")
    assert a.age_years is None and any("999" in n for n in a.notes)


# -------------------------------------------------------------------------------- size and memory
def _peak_bytes(func) -> int:
    tracemalloc.start()
    try:
        func()
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak


def test_a_huge_sparse_raw_file_is_refused_before_reading(tmp_path, capsys):
    p = tmp_path / "big.bin"
    with open(p, "wb") as fh:
        fh.truncate(2 * 1024**3)  # 2 GiB, sparse: no disk space, no memory
    err = []

    def read():
        with pytest.raises(SignalFileError, match="MAX_SAMPLES") as exc:
            read_signal(p, fs_hz=10000)
        err.append(str(exc.value))

    assert _peak_bytes(read) < 5 * 1024**2
    assert "big.bin" in err[0] and f"{2 * 1024**3 // 2} samples" in err[0]
    assert _cli([str(p), "--fs", "10000", "--out", str(tmp_path / "o")]) == 1


def test_a_huge_sparse_wfdb_data_file_is_refused_before_reading(tmp_path):
    hea = _wfdb(tmp_path, n=str(MAX_SAMPLES + 1), samples=np.zeros(1, "<i2"))
    os.truncate(tmp_path / "rec.dat", 2 * (MAX_SAMPLES + 1))
    assert _peak_bytes(lambda: _expect_refused(hea)) < 5 * 1024**2


def _expect_refused(path):
    with pytest.raises(SignalFileError, match="MAX_SAMPLES"):
        read_signal(path)


def test_files_within_the_cap_are_memory_mapped_and_read_exactly(tmp_path, monkeypatch):
    adu = np.arange(-50, 50, dtype="<i2")
    hea = _wfdb(tmp_path / "w", samples=adu, n="100")
    raw = tmp_path / "r.bin"
    adu.tofile(raw)
    np.testing.assert_allclose(read_signal(hea).samples, adu / 500 * 1000)
    np.testing.assert_allclose(read_signal(raw, fs_hz=1000, drop_first=False).samples, adu)
    monkeypatch.setattr(_readers, "MAX_SAMPLES", 99)
    for path, kw in ((hea, {}), (raw, {"fs_hz": 1000})):
        with pytest.raises(SignalFileError, match="100 samples.*MAX_SAMPLES = 99"):
            read_signal(path, **kw)


# ----------------------------------------------------------------------------------------- EDF
def _edf(path, fs=10000.0, seconds=2):
    edfio = pytest.importorskip("edfio")
    x = np.sin(np.arange(int(fs * seconds)) / 10) * 100
    sig = edfio.EdfSignal(x, sampling_frequency=fs, label="EMG", physical_dimension="uV",
                          physical_range=(-200, 200))
    edfio.Edf([sig]).write(path)
    return path


def _patch(path, start, text):
    data = bytearray(path.read_bytes())
    data[start:start + 8] = text.ljust(8).encode()
    path.write_bytes(bytes(data))


def test_an_edf_header_promising_more_records_than_the_file_holds(tmp_path):
    p = _edf(tmp_path / "r.edf")
    _patch(p, 236, "5")
    with pytest.raises(SignalFileError,
                       match=r"r\.edf.*announces 5 data record.*holds 2.*truncated"):
        read_signal(p)


def test_a_truncated_edf_names_the_partial_record(tmp_path):
    p = _edf(tmp_path / "r.edf")
    p.write_bytes(p.read_bytes()[:-5000])
    with pytest.raises(SignalFileError, match="holds 1 and 15000 byte"):
        read_signal(p)


def test_an_edf_with_more_data_than_announced(tmp_path):
    p = _edf(tmp_path / "r.edf")
    _patch(p, 236, "1")
    with pytest.raises(SignalFileError, match="announces 1 data record.*holds 2"):
        read_signal(p)


def test_an_unfinished_edf_with_unknown_record_count_is_read(tmp_path):
    p = _edf(tmp_path / "r.edf")
    _patch(p, 236, "-1")
    assert read_signal(p).samples.size == 20000


@pytest.mark.parametrize("field, start, value, match", [
    ("duration", 244, "0", "duration of a data record"),
    ("duration", 244, "nan", "duration of a data record"),
    ("records", 236, "many", "number of data records"),
    ("fs", 244, "1000", "sampling frequency"),  # 10000 samples per 1000 s = 10 Hz
], ids=["zero duration", "nan duration", "records not a number", "rate out of range"])
def test_edf_header_fields_out_of_range(tmp_path, field, start, value, match):
    p = _edf(tmp_path / "r.edf")
    _patch(p, start, value)
    with pytest.raises(SignalFileError, match=match):
        read_signal(p)


def test_a_huge_sparse_edf_is_refused_before_reading(tmp_path):
    p = _edf(tmp_path / "r.edf")
    n_records = MAX_SAMPLES // 10000 + 1
    _patch(p, 236, str(n_records))
    os.truncate(p, 256 * 2 + n_records * 20000)
    assert _peak_bytes(lambda: _expect_refused(p)) < 5 * 1024**2


def test_the_sampling_rate_range_is_wide_enough_for_the_real_recordings():
    # PhysioNet 4 kHz, EMGLAB 10 kHz and 23.4375 kHz, Algiers 32.768 kHz
    lo, hi = FS_RANGE_HZ
    assert lo <= 4000 and 32768 <= hi


@pytest.mark.parametrize("start, value, match", [
    (256 + 120, "300", "digital maximum 32767 must be above|digital maximum"),
    (256 + 104, "200", "physical minimum and maximum are both 200.0"),
    (256 + 112, "2e", "physical maximum of signal 'EMG' '2e' \\(bytes 368-376\\)"),
], ids=["digital range inverted", "physical range empty", "physical maximum not a number"])
def test_edf_signal_ranges(tmp_path, start, value, match):
    p = _edf(tmp_path / "r.edf")
    if value == "300":  # digital minimum above the maximum
        _patch(p, start, "32767")
        _patch(p, start + 8, "300")
    else:
        _patch(p, start, value)
    with pytest.raises(SignalFileError, match=match):
        read_signal(p)


@pytest.mark.parametrize("kind", ["edf", "wfdb"])
def test_damaged_headers_never_raise_anything_but_located_errors(tmp_path, kind):
    """Random bytes typed into a header: the reader reads it or names the file in its error."""
    import random

    from edxreview.signal._analyze import check_recording

    rng = random.Random(7)
    if kind == "edf":
        base = _edf(tmp_path / "base.edf", seconds=1).read_bytes()
        span, target = 512, tmp_path / "f.edf"
    else:
        base = b"rec 1 10000 20000\nrec.dat 16 500(3)/mV 16 0 -12 0 0 EMG\n# age: 30\n"
        span, target = len(base), tmp_path / "rec.hea"
        np.round(weak_contraction(duration_s=2.0)[0]).astype("<i2").tofile(tmp_path / "rec.dat")
    chars = b"0123456789.-+ eE\x00\xffnaif/()\r\n#"
    for _ in range(150):
        damaged = bytearray(base)
        for _ in range(rng.randint(1, 4)):
            damaged[rng.randrange(span)] = rng.choice(chars)
        target.write_bytes(bytes(damaged))
        try:
            check_recording(read_signal(target))
        except (SignalFileError, InvalidParameterError) as exc:
            assert f"{target.stem}." in str(exc), str(exc)  # the header or its data file


# ------------------------------------------------------------------------ raw file's own header
def test_a_raw_header_is_skipped_not_read_as_samples(tmp_path):
    samples = np.arange(1, 2001, dtype="<i2")
    p = tmp_path / "rec.bin"
    p.write_bytes(b"\xff\x7f" * 10 + samples.tobytes())   # 20 header bytes at full scale
    rec = read_signal(p, format="raw", fs_hz=10000, header_bytes=20)
    assert rec.samples.size == 2000
    np.testing.assert_array_equal(rec.samples, samples.astype(float))  # first sample kept
    assert any("20 bytes skipped" in n for n in rec.notes)
    plain = read_signal(p, format="raw", fs_hz=10000)
    assert plain.samples.size == 2010 and plain.samples[1] == 32767


@pytest.mark.parametrize("header_bytes", [-2, 3, 1.5, True])
def test_header_bytes_must_be_an_even_count(tmp_path, header_bytes):
    p = tmp_path / "rec.bin"
    p.write_bytes(b"\x00\x01" * 2000)
    with pytest.raises(InvalidParameterError, match="even whole number"):
        read_signal(p, format="raw", fs_hz=10000, header_bytes=header_bytes)


def test_a_file_that_is_all_header_is_refused(tmp_path):
    p = tmp_path / "rec.bin"
    p.write_bytes(b"\x00" * 20)
    with pytest.raises(SignalFileError, match="empty after its 20-byte header"):
        read_signal(p, format="raw", fs_hz=10000, header_bytes=20)
