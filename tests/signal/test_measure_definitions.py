"""Amplitude, phases, turns and satellites of one averaged MUAP by the definitions declared in
``[measurement]`` of ``emg_signal_parameters.toml``, on synthetic waveforms built so that the
answer is known: piecewise-linear potentials whose extrema are set by hand, and potentials
with a late component at a known distance."""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _synth import muap_shape, weak_contraction  # noqa: E402

from edxreview.signal import Recording
from edxreview.signal._measure import measure_muaps, measure_waveform
from edxreview.signal._muap import sort_units
from edxreview.signal._params import load_signal_parameters

FS = 10000.0
PM = load_signal_parameters()["measurement"]


def _polyline(knots_uv, segment_ms=0.8, n=400):
    """A waveform through ``knots_uv`` (straight segments of ``segment_ms``), zero elsewhere,
    and the index of its largest excursion (the discharge time it is aligned on)."""
    seg = int(round(segment_ms * 1e-3 * FS))
    x = np.concatenate([np.linspace(a, b, seg, endpoint=False)
                        for a, b in zip(knots_uv[:-1], knots_uv[1:])] + [[knots_uv[-1]]])
    y = np.zeros(n)
    start = n // 2 - int(np.argmax(np.abs(x)))
    y[start:start + x.size] = x
    return y, n // 2


def _place(y, w, centre):
    y[centre - w.size // 2: centre - w.size // 2 + w.size] += w
    return y


# extrema +400, -1200, +200, +170 (a 30 µV notch), +800, -150: peak-to-peak 2000 µV, so the
# relative turn threshold (5 %) is 100 µV and the absolute one 25 µV; the notch stays above
# the baseline (no crossing), the last trough (-150 µV) is beyond the phase threshold (60 µV)
KNOTS = [0, 400, -1200, 200, 170, 800, -150, 0]


@pytest.mark.parametrize("calibrated,turns,rule", [
    (True, 6, "absolute_uv"),    # 25 µV: the 30 µV notch is two turns
    (False, 4, "relative_pp"),   # 5 % of 2000 µV = 100 µV: the notch is not a turn
], ids=["calibrated: 25 uV", "uncalibrated: 5 % of peak-to-peak"])
def test_turns_by_the_declared_threshold(calibrated, turns, rule):
    assert PM["turn_threshold_uv"] == 25.0 and PM["turn_fraction_pp"] == 0.05
    y, c = _polyline(KNOTS)
    m = measure_waveform(y, FS, c, noise_sd=0.5, calibrated=calibrated)
    assert m["turn_rule"] == rule
    assert m["turns"] == turns
    # phases: baseline crossings + 1 (+, -, +, -), the same under both rules
    assert m["phases"] == 4
    assert m["amplitude"] == pytest.approx(2000.0, abs=1.0)
    assert not m["satellite"]


def test_turn_threshold_never_below_the_noise_of_the_average():
    # a 30 µV notch is not a turn where the average's noise floor (3 noise SD = 45 µV) is above
    # the 25 µV threshold
    y, c = _polyline(KNOTS)
    m = measure_waveform(y, FS, c, noise_sd=15.0, calibrated=True)
    assert m["turns"] == 4


def test_turn_floor_follows_the_averages_own_baseline_noise():
    # the same notch, the expected noise small (0.5 µV) but the average's own baseline noisy
    # (slow background of about 15 µV SD at both ends, 3 SD = 45 µV > 30 µV): the notch is
    # within that noise and is not counted
    assert PM["noise_floor_from_baseline"]
    y, c = _polyline(KNOTS)
    rng = np.random.default_rng(3)
    slow = np.convolve(rng.normal(0, 1, y.size), np.ones(9) / 9, mode="same")
    bg = 15.0 * slow / slow.std()
    bg[c - 60: c + 60] = 0.0   # the MUAP itself clean, so its turns are known
    m = measure_waveform(y + bg, FS, c, noise_sd=0.5, calibrated=True)
    assert m["baseline_sd"] > 30.0 / 3
    assert m["turns"] == 4


def test_phases_are_baseline_crossings_plus_one():
    # five alternating excursions, all well beyond 3 % of peak-to-peak: five phases
    y, c = _polyline([0, 300, -500, 400, -300, 200, 0])
    m = measure_waveform(y, FS, c, noise_sd=0.5, calibrated=True)
    assert m["phases"] == 5 and m["turns"] == 5
    # a last excursion below the phase threshold (3 % of 800 µV = 24 µV) is not a phase
    y, c = _polyline([0, 300, -500, 10, 0])
    assert measure_waveform(y, FS, c, noise_sd=0.5, calibrated=True)["phases"] == 2


def _with_late_component(gap_ms, late_uv, own_uv=600.0):
    """A triphasic MUAP at the discharge time and a biphasic late component starting
    ``gap_ms`` after the MUAP leaves the 3-noise-SD band (noise SD 2 µV, noiseless average)."""
    own = muap_shape(FS, 8.0, own_uv, 3)
    late = muap_shape(FS, 2.0, late_uv, 2)
    y = np.zeros(int(0.03 * FS))
    c = int(0.012 * FS)
    _place(y, own, c)
    band = 3 * 2.0
    own_end = c - own.size // 2 + int(np.flatnonzero(np.abs(own) > band)[-1])
    late_lead = int(np.flatnonzero(np.abs(late) > band)[0])
    start = own_end + int(round(gap_ms * 1e-3 * FS))
    y[start - late_lead: start - late_lead + late.size] += late
    return y, c, own


def test_satellite_after_an_isoelectric_interval():
    y, c, own = _with_late_component(gap_ms=3.0, late_uv=60.0)
    # time-locked: both halves of the discharges hold it as the whole average does
    m = measure_waveform(y, FS, c, noise_sd=2.0, calibrated=True, halves=(y, y))
    assert m["satellite"]
    assert m["satellite_ms"] == pytest.approx(3.0, abs=0.3)
    assert m["satellite_ms"] >= PM["quiet_ms"]
    # the satellite is outside the MUAP: duration and amplitude are those of the MUAP alone
    single = _place(np.zeros(y.size), own, c)
    alone = measure_waveform(single, FS, c, noise_sd=2.0, calibrated=True,
                             halves=(single, single))
    assert not alone["satellite"] and np.isnan(alone["satellite_ms"])
    assert m["duration_ms"] == pytest.approx(alone["duration_ms"], abs=0.2)
    assert m["amplitude"] == pytest.approx(alone["amplitude"], rel=0.01)


@pytest.mark.parametrize("gap_ms,late_uv", [
    (0.5, 60.0),   # separated by less than 1 ms of baseline: part of the MUAP
    (3.0, 16.0),   # peaks of 8 µV: beyond the duration band (6 µV), not 5 noise SD (10 µV)
], ids=["interval under 1 ms", "below 5 noise SD"])
def test_not_a_satellite(gap_ms, late_uv):
    y, c, _ = _with_late_component(gap_ms, late_uv)
    m = measure_waveform(y, FS, c, noise_sd=2.0, calibrated=True, halves=(y, y))
    assert not m["satellite"]


def test_a_satellite_must_be_time_locked():
    # the late component is in the whole average but only in one half of the discharges (a
    # background potential that fell into some discharges' windows): not a satellite; and
    # without the halves time-locking cannot be shown, so none is reported
    assert PM["satellite_split_half"]
    y, c, own = _with_late_component(gap_ms=3.0, late_uv=60.0)
    single = _place(np.zeros(y.size), own, c)
    assert measure_waveform(y, FS, c, noise_sd=2.0, calibrated=True, halves=(y, y))["satellite"]
    assert not measure_waveform(y, FS, c, noise_sd=2.0, calibrated=True,
                                halves=(y, single))["satellite"]
    assert not measure_waveform(y, FS, c, noise_sd=2.0, calibrated=True)["satellite"]
    # of the opposite sign in one half: not time-locked either
    assert not measure_waveform(y, FS, c, noise_sd=2.0, calibrated=True,
                                halves=(y, 2 * single - y))["satellite"]


def test_noise_alone_seldom_makes_a_satellite():
    # white noise on a clean MUAP: a late 3-SD excursion is common, a 5-SD one is not
    rng = np.random.default_rng(7)
    own = muap_shape(FS, 8.0, 600.0, 3)
    c = int(0.012 * FS)
    found = 0
    for _ in range(40):
        y = _place(rng.normal(0.0, 2.0, int(0.03 * FS)), own, c)
        found += measure_waveform(y, FS, c, noise_sd=2.0, calibrated=True,
                                  halves=(y, y))["satellite"]
    assert found <= 4


def test_amplitude_is_that_of_the_muap_not_of_the_window():
    # a larger potential 4.5 ms after the discharge, after 1.5 ms of baseline: within +-5 ms of
    # the discharge but outside the MUAP, so it is a satellite and not part of the amplitude;
    # thickness = area / the same amplitude
    own = muap_shape(FS, 4.0, 200.0, 3)
    other = muap_shape(FS, 2.0, 800.0, 2)
    y = np.zeros(int(0.04 * FS))
    c = y.size // 2
    _place(y, own, c)
    _place(y, other, c + int(4.5e-3 * FS))
    m = measure_waveform(y, FS, c, noise_sd=2.0, calibrated=True, halves=(y, y))
    assert m["amplitude"] == pytest.approx(200.0, rel=0.02)
    assert m["thickness_ms"] == pytest.approx(m["area"] / m["amplitude"])
    assert m["satellite"]


@pytest.mark.slow
def test_recording_rule_follows_calibration():
    x, _ = weak_contraction()
    cal = Recording(samples=x, fs_hz=FS, calibrated=True, name="synthetic")
    dec = sort_units(cal)
    a = measure_muaps(cal, dec)
    b = measure_muaps(Recording(samples=x, fs_hz=FS, calibrated=False, name="synthetic"), dec)
    assert len(a) and set(a["turn_rule"]) == {"absolute_uv"}
    assert set(b["turn_rule"]) == {"relative_pp"}
    # the same waveforms: amplitude in µV or in ADC units, the same value; satellites alike
    np.testing.assert_allclose(a["amplitude_uv"], b["amplitude_adu"])
    assert (a["satellite"] == b["satellite"]).all()
    assert a["satellite_ms"].isna().equals(~a["satellite"])


def _unit_at(isi_ms, fs=FS, n_s=3.0):
    """A recording of one MUAP at discharges ``isi_ms`` apart, and its decomposition."""
    from edxreview.signal._muap import Decomposition

    t_ms = 100.0 + np.concatenate([[0.0], np.cumsum(isi_ms)])
    s = np.round(t_ms * 1e-3 * fs).astype(int)
    x = np.random.default_rng(0).normal(0.0, 5.0, int(n_s * fs))
    w = muap_shape(fs, 8.0, 600.0)
    for c in s:
        x[c - w.size // 2: c - w.size // 2 + w.size] += w
    dec = Decomposition(discharges=pd.DataFrame({"sample": s, "time_s": s / fs, "unit": 0}),
                        templates=np.empty((0, 0)), noise_sd=5.0, n_candidates=s.size,
                        n_unassigned=0)
    return Recording(samples=x, fs_hz=fs, calibrated=True, name="u"), dec


def _with(monkeypatch, **changes):
    from edxreview.signal import _measure

    p = {**load_signal_parameters(), "measurement": {**PM, **changes}}
    monkeypatch.setattr(_measure, "load_signal_parameters", lambda: p)


def test_firing_rate_uses_the_declared_interval_bounds(monkeypatch):
    rec, dec = _unit_at([15.0, 15.0, 15.0, 100.0])   # 15 ms: a doublet, below 20 ms
    assert measure_muaps(rec, dec)["firing_rate_hz"].iloc[0] == pytest.approx(10.0)
    _with(monkeypatch, firing_interval_min_ms=10.0)
    assert measure_muaps(rec, dec)["firing_rate_hz"].iloc[0] == pytest.approx(1000 / 15)
    rec, dec = _unit_at([100.0, 600.0, 600.0])        # 600 ms: a pause, above 500 ms
    _with(monkeypatch)
    assert measure_muaps(rec, dec)["firing_rate_hz"].iloc[0] == pytest.approx(10.0)
    _with(monkeypatch, firing_interval_max_ms=1000.0)
    assert measure_muaps(rec, dec)["firing_rate_hz"].iloc[0] == pytest.approx(1000 / 600)


def test_the_expected_noise_of_a_median_average_uses_the_declared_factor(monkeypatch):
    rec, dec = _unit_at([100.0] * 20)
    base = measure_muaps(rec, dec)["duration_ms"].iloc[0]
    _with(monkeypatch, median_average_noise_factor=40.0)   # a band far above the noise
    assert measure_muaps(rec, dec)["duration_ms"].iloc[0] < base


def test_the_satellite_peak_is_sought_within_the_declared_window():
    from edxreview.signal._measure import _duration_markers

    y, c = _polyline([0, 600, -600, 0])
    late = c + int(round(6e-3 * FS))
    # a late component rising slowly for 1.5 ms to its peak
    ramp = np.linspace(0.0, 300.0, int(round(1.5e-3 * FS)) + 1)
    y[late:late + ramp.size] = ramp
    y[late + ramp.size: late + 2 * ramp.size - 1] = ramp[::-1][1:]
    peaks = {}
    for w in (1.0, 2.0):
        sat = _duration_markers(y[None, :], FS, c, np.array([0.5]),
                                {**PM, "satellite_peak_window_ms": w}, satellites=True)[-1]
        assert np.isfinite(sat["gap_ms"][0])
        peaks[w] = int(sat["peak"][0])
    assert peaks[2.0] == late + ramp.size - 1               # the component's own peak
    assert peaks[1.0] < peaks[2.0]                          # 1 ms after it reaches threshold
