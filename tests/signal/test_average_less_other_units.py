"""Averages of the signal less the other units ([measurement] average_less_other_units, both
definitions of the other units' reconstruction: their whole averaging window or their MUAP): on a
synthetic record of two units whose potentials overlap (the second fires 4-7 ms after most
discharges of the first) plus noise, the first unit's average taken after the second unit's
reconstruction is subtracted is closer to its true waveform, and its duration nearer the
truth, than the plain median of the signal."""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _synth import muap_shape  # noqa: E402

from edxreview._errors import InvalidParameterError
from edxreview.signal import Recording
from edxreview.signal._measure import measure_muaps, measure_waveform
from edxreview.signal._muap import Decomposition
from edxreview.signal._params import load_signal_parameters

FS = 10000.0
PM = load_signal_parameters()["measurement"]


def _two_overlapping_units(seed: int):
    """A 4-s record: unit 0 (8 ms, 300 µV, triphasic) at 10 Hz, unit 1 (4 ms, 1500 µV,
    biphasic) 4-7 ms after each discharge of unit 0, white noise of 5 µV; the hand-made
    decomposition (the true discharges) and unit 0's true waveform in the averaging window."""
    rng = np.random.default_rng(seed)
    n = int(4 * FS)
    x = rng.normal(0.0, 5.0, n)
    a, b = muap_shape(FS, 8.0, 300.0, 3), muap_shape(FS, 4.0, 1500.0, 2)
    ca = np.arange(600, n - 600, 1000) + rng.integers(-50, 50, 1)
    cb = ca + rng.integers(int(4e-3 * FS), int(7e-3 * FS), ca.size)
    for w, centres in ((a, ca), (b, cb)):
        idx = (centres - w.size // 2)[:, None] + np.arange(w.size)[None, :]
        np.add.at(x, idx.ravel(), np.tile(w, centres.size))
    disc = pd.DataFrame({"sample": np.r_[ca, cb],
                         "unit": np.r_[np.zeros(ca.size, int), np.ones(cb.size, int)]})
    disc["time_s"] = disc["sample"] / FS
    dec = Decomposition(discharges=disc, templates=np.empty((0, 0)), noise_sd=5.0,
                        n_candidates=0, n_unassigned=0, measure=x)
    before = int(round(PM["window_before_ms"] * 1e-3 * FS))
    after = int(round(PM["window_after_ms"] * 1e-3 * FS))
    truth = np.zeros(before + after + 1)
    truth[before - a.size // 2: before - a.size // 2 + a.size] = a
    rec = Recording(samples=x, fs_hz=FS, calibrated=True, name="two-units")
    return rec, dec, truth, before, 5.0 / np.sqrt(ca.size) * 1.25


@pytest.mark.parametrize("seed,mode", [
    (0, "averaging_window"), (1, "averaging_window"), (2, "averaging_window"),
    (0, "muap"), (2, "muap"),
    pytest.param(1, "muap", marks=pytest.mark.xfail(strict=True, reason=(
        "the MUAP-only reconstruction leaves the other unit's tails beyond its first-pass "
        "markers: the average is nearer the truth but its duration 4.7 ms off, against 4.4 "
        "for the plain median"))),
])
def test_average_less_the_other_unit_is_nearer_the_true_muap(seed, mode, monkeypatch):
    rec, dec, truth, before, expected_sd = _two_overlapping_units(seed)
    true_duration = measure_waveform(truth, FS, before, noise_sd=expected_sd,
                                     calibrated=True)["duration_ms"]
    got = {}
    for m_ in ("none", mode):
        monkeypatch.setitem(PM, "average_less_other_units", m_)
        m = measure_muaps(rec, dec)
        got[m_] = (m.attrs["waveforms"][0], m.at[0, "duration_ms"])
    (plain, d_plain), (clean, d_clean) = got["none"], got[mode]
    rms = lambda w: float(np.sqrt(np.mean((w - truth) ** 2)))  # noqa: E731
    # the other unit's potential, left in the plain median, is mostly gone
    assert rms(clean) < 0.7 * rms(plain)
    # and the duration is nearer the true one (the plain median's runs into the other unit)
    assert abs(d_clean - true_duration) < abs(d_plain - true_duration)


def test_a_single_unit_is_averaged_as_before(monkeypatch):
    rec, dec, _, _, _ = _two_overlapping_units(0)
    one = Decomposition(discharges=dec.discharges[dec.discharges["unit"] == 0],
                        templates=dec.templates, noise_sd=5.0, n_candidates=0,
                        n_unassigned=0, measure=dec.measure)
    out = []
    for mode in ("none", "averaging_window", "muap"):
        monkeypatch.setitem(PM, "average_less_other_units", mode)
        out.append(measure_muaps(rec, one).attrs["waveforms"])
    np.testing.assert_array_equal(out[0], out[1])
    np.testing.assert_array_equal(out[0], out[2])


def test_an_unknown_setting_is_refused(monkeypatch):
    rec, dec, _, _, _ = _two_overlapping_units(0)
    monkeypatch.setitem(PM, "average_less_other_units", True)
    with pytest.raises(InvalidParameterError, match="average_less_other_units"):
        measure_muaps(rec, dec)
