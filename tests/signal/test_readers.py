from pathlib import Path

import numpy as np
import pytest

from edxreview._errors import InvalidParameterError, SignalFileError
from edxreview.signal import read_signal

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


def _write_wfdb(tmp_path, samples, fmt="61", units="mv", line_end="\r", n_hdr=None, gain=500):
    n = samples.size if n_hdr is None else n_hdr
    hea = tmp_path / "rec.hea"
    hea.write_bytes(
        line_end.join(
            [f"rec 1 10000 {n}", f"rec.dat {fmt} {gain}/{units} 16 0", "# age: 30", "# muscle: biceps"]
        ).encode()
        + line_end.encode()
    )
    dtype = ">i2" if fmt == "61" else "<i2"
    samples.astype(dtype).tofile(tmp_path / "rec.dat")
    return hea


@pytest.mark.parametrize(
    "fmt,units,line_end",
    [("61", "mv", "\r"), ("16", "mV", "\n"), ("16", "uV", "\r\n")],
    ids=["big-endian, lower-case units, CR-only", "little-endian", "microvolts, CRLF"],
)
def test_wfdb_formats(tmp_path, fmt, units, line_end):
    adu = np.array([0, 500, -500, 1000, 32767, 32767, 32767, 3], dtype=np.int16)
    hea = _write_wfdb(tmp_path, adu, fmt=fmt, units=units, line_end=line_end)
    rec = read_signal(hea)
    factor = 1000.0 if units.lower() == "mv" else 1.0
    np.testing.assert_allclose(rec.samples, adu / 500 * factor)
    assert rec.fs_hz == 10000 and rec.calibrated
    assert rec.metadata["age"] == "30"
    assert rec.clipped_fraction == pytest.approx(3 / 8)
    assert any("clipping" in n for n in rec.notes)


def test_wfdb_truncated(tmp_path):
    hea = _write_wfdb(tmp_path, np.zeros(10, np.int16), n_hdr=20)
    with pytest.raises(SignalFileError, match="truncated"):
        read_signal(hea)


def test_wfdb_unsupported_format(tmp_path):
    hea = _write_wfdb(tmp_path, np.zeros(10, np.int16), fmt="212")
    with pytest.raises(SignalFileError, match="212"):
        read_signal(hea)


def test_raw_needs_fs_and_stays_uncalibrated(tmp_path):
    p = tmp_path / "x.bin"
    np.array([9999, 1, 2, 3], "<i2").tofile(p)
    with pytest.raises(InvalidParameterError, match="--fs"):
        read_signal(p)
    rec = read_signal(p, fs_hz=1000)
    assert not rec.calibrated and rec.unit == "adu"
    assert rec.samples[0] == 1  # outlying first sample ignored
    rec = read_signal(p, fs_hz=1000, gain_adu_per_mv=1000)
    assert rec.calibrated and rec.samples[2] == pytest.approx(2.0)


def test_raw_odd_bytes(tmp_path):
    p = tmp_path / "x.bin"
    p.write_bytes(b"\x00\x01\x02")
    with pytest.raises(SignalFileError, match="truncated"):
        read_signal(p, fs_hz=1000)


def test_bad_format_name_suggests():
    with pytest.raises(InvalidParameterError, match="Did you mean 'wfdb'"):
        read_signal("x", format="wfbd")


def test_edf_roundtrip(tmp_path):
    edfio = pytest.importorskip("edfio")
    x = np.sin(np.arange(2000) / 10) * 500.0
    sig = edfio.EdfSignal(x, sampling_frequency=1000, label="EMG", physical_dimension="uV",
                          physical_range=(-1000, 1000))
    p = tmp_path / "r.edf"
    edfio.Edf([sig]).write(p)
    rec = read_signal(p)
    assert rec.fs_hz == 1000 and rec.calibrated
    np.testing.assert_allclose(rec.samples, x, atol=0.1)


def test_edf_broken(tmp_path):
    p = tmp_path / "bad.edf"
    p.write_bytes(b"0       garbage")
    with pytest.raises(SignalFileError, match="EDF"):
        read_signal(p)


@pytest.mark.shared_data("emglab-R00108")
def test_real_r00108_header():
    rec = read_signal(DATA / "emglab-R00108" / "R00108.hea")
    assert rec.fs_hz == 10000 and rec.samples.size == 100000
    assert rec.metadata["age"] == "25"
