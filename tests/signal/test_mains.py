"""Mains interference (hum): found, measured and removed before any band is built.

The truth is known: synthetic MUAP trains (``_synth``) with a 50 or 60 Hz hum and its odd
harmonics added, slightly off the nominal frequency as a real grid is.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import signal as sps

from _synth import weak_contraction
from edxreview._errors import InvalidParameterError
from edxreview.signal import Recording, analyze_recording
from edxreview.signal._detect import filter_bands, mains_hum, remove_mains_hum
from edxreview.signal._params import load_signal_parameters

FS = 10_000.0
DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


def _hum(n: int, fs_hz: float, mains_hz: float, uv_pp: float = 1000.0) -> np.ndarray:
    """``uv_pp`` µV peak-to-peak at the fundamental (off nominal by a fraction of a Hz), a
    fifth of it at the 3rd harmonic, a tenth at the 5th."""
    t = np.arange(n) / fs_hz
    f = mains_hz * 1.0011
    a = uv_pp / 2
    return (a * np.sin(2 * np.pi * f * t + 0.3) + 0.2 * a * np.sin(2 * np.pi * 3 * f * t + 1.0)
            + 0.1 * a * np.sin(2 * np.pi * 5 * f * t + 2.0))


def _rec(x: np.ndarray, fs_hz: float = FS) -> Recording:
    return Recording(samples=x, fs_hz=fs_hz, calibrated=True, name="synthetic")


@pytest.fixture
def mains_setting():
    """Change ``filters.mains_hz`` for one test, then put it back."""
    p = load_signal_parameters()["filters"]
    before = p["mains_hz"]
    yield lambda value: p.__setitem__("mains_hz", value)
    p["mains_hz"] = before


@pytest.mark.parametrize("mains_hz", [50.0, 60.0], ids=["50 Hz mains", "60 Hz mains"])
def test_hum_is_found_measured_and_removed(mains_hz):
    clean, _ = weak_contraction(duration_s=6.0, seed=3, spiky=True)
    hum = _hum(clean.size, FS, mains_hz)
    cleaned, found = remove_mains_hum(clean + hum, FS)
    assert found.mains_hz == mains_hz
    assert found.fundamental_hz == pytest.approx(mains_hz * 1.0011, abs=0.01)
    true_fraction = np.var(hum) / np.var(clean + hum)
    assert found.fraction == pytest.approx(true_fraction, abs=0.03)
    # of the hum (about 370 µV RMS) less than 5 % of its RMS is left
    assert np.std(cleaned - clean) < 0.05 * np.std(hum)


@pytest.mark.parametrize("mains_hz", [50.0, 60.0], ids=["50 Hz mains", "60 Hz mains"])
def test_removal_restores_muap_duration_and_amplitude(mains_hz):
    clean, _ = weak_contraction(duration_s=6.0, seed=3, spiky=True)
    hummed = clean + _hum(clean.size, FS, mains_hz)
    a = analyze_recording(_rec(clean))
    b = analyze_recording(_rec(hummed))
    assert a.summary["n_units"] == b.summary["n_units"] == 3
    assert b.summary["mean_duration_ms"] == pytest.approx(a.summary["mean_duration_ms"], rel=0.1)
    assert b.summary["mean_amplitude_uv"] == pytest.approx(a.summary["mean_amplitude_uv"],
                                                          rel=0.05)
    row = b.recordings_row()
    assert row["mains_fraction"] > 0.5
    assert f"mains hum: {100 * row['mains_fraction']:.0f} %" in row["reasons"]
    assert a.recordings_row()["mains_fraction"] < 0.01
    assert "mains hum" not in a.recordings_row()["reasons"]


def test_without_removal_the_hum_changes_the_muaps(mains_setting):
    """The check above can fail: the same hum, not removed, moves the measurements."""
    clean, _ = weak_contraction(duration_s=6.0, seed=3, spiky=True)
    hummed = clean + _hum(clean.size, FS, 50.0)
    a = analyze_recording(_rec(clean))
    mains_setting("off")
    b = analyze_recording(_rec(hummed))
    assert b.recordings_row()["mains_fraction"] == 0
    moved = (b.summary["n_units"] != a.summary["n_units"]
             or abs(b.summary["mean_duration_ms"] / a.summary["mean_duration_ms"] - 1) > 0.1)
    assert moved


def test_a_record_without_hum_is_left_unchanged():
    clean, _ = weak_contraction(duration_s=6.0, seed=4, spiky=True)
    cleaned, found = remove_mains_hum(clean, FS)
    assert found.fraction < 0.005
    assert np.std(cleaned - clean) < 0.01 * np.std(clean)


def test_no_ringing_where_a_notch_filter_rings():
    """A single large transient in quiet noise, no hum: nothing is removed around it, whereas
    a zero-phase 50 Hz notch leaves a slowly decaying 50 Hz ripple after it."""
    rng = np.random.default_rng(5)
    x = rng.normal(0, 5.0, int(4 * FS))
    c = x.size // 2
    x[c - 40: c + 40] += 3000 * np.hanning(80) * np.sin(np.linspace(0, 2 * np.pi, 80))
    cleaned, found = remove_mains_hum(x, FS)
    after = slice(c + int(0.02 * FS), c + int(0.2 * FS))  # 20-200 ms after the transient
    ours = np.std(cleaned[after] - x[after])
    b, a = sps.iirnotch(50.0, 30.0, fs=FS)
    notch = np.std(sps.filtfilt(b, a, x)[after] - x[after])
    assert ours < 0.1 * notch
    assert ours < 0.5  # µV, against 5 µV of noise


def test_the_hum_found_is_kept_with_the_bands():
    x, _ = weak_contraction(duration_s=4.0, seed=2)
    rec = _rec(x + _hum(x.size, FS, 60.0))
    bands = filter_bands(rec)
    hum = mains_hum(rec)
    assert filter_bands(rec) is bands                  # not filtered again
    assert hum.mains_hz == 60.0 and hum.fraction > 0.5 and hum.harmonics >= 3


def test_mains_can_be_named_or_switched_off(mains_setting):
    x, _ = weak_contraction(duration_s=4.0, seed=2)
    y = x + _hum(x.size, FS, 60.0)
    mains_setting(50)
    _, found = remove_mains_hum(y, FS)                 # 60 Hz hum, 50 Hz mains named
    assert found.mains_hz == 50.0 and found.fraction < 0.05
    mains_setting("off")
    cleaned, found = remove_mains_hum(y, FS)
    assert found.mains_hz is None and cleaned is y


def test_an_unknown_mains_setting_is_refused(mains_setting):
    mains_setting("55")
    with pytest.raises(InvalidParameterError, match=r"mains_hz.*'55'"):
        remove_mains_hum(np.zeros(1000), FS)


@pytest.mark.skipif(not (DATA / "mendeley-algiers").is_dir(),
                    reason="needs ../shared/data/mendeley-algiers (real recordings)")
def test_the_humming_algiers_record_is_found_and_cleaned():
    from edxreview.signal._datasets import list_recordings, read_dataset_recording

    listed = list_recordings(DATA)
    row = listed[listed["recording"] == "MD214_Hea07_LB"].iloc[0].to_dict()
    rec = read_dataset_recording(row)
    x = rec.samples - np.median(rec.samples)
    cleaned, found = remove_mains_hum(x, rec.fs_hz)
    assert found.mains_hz == 50.0 and found.fraction > 0.9
    f = np.fft.rfftfreq(x.size, 1 / rec.fs_hz)
    near = np.abs(f - found.fundamental_hz) <= 1.0
    power = np.abs(np.fft.rfft(cleaned)) ** 2
    assert power[near].sum() / power[f >= 10].sum() < 0.02   # was 0.95 at 50 Hz alone
