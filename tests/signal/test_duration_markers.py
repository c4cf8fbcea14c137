"""Duration markers carried along the MUAP's outermost phases ([measurement] marker_level): the
band of three times the average's own noise decides which phases belong to the MUAP, and the
markers are carried along those phases down to the level of the noise the average is expected to
have (here, noise_sd small, that is 1 % of the amplitude: the return to the baseline). Synthetic averages whose
answer is known: a spike with a slow terminal phase of known length, and slow (band-limited)
noise of the kind the other units leave in an average of a strong contraction."""

import numpy as np
import pytest

from edxreview._errors import InvalidParameterError
from edxreview.signal._measure import _to_level, measure_waveform
from edxreview.signal._params import load_signal_parameters

FS = 32768.0
PM = load_signal_parameters()["measurement"]
T = np.arange(-12e-3, 18e-3 + 0.5 / FS, 1 / FS)
C = int(round(12e-3 * FS))
SLOW_END_MS = 6.0


def _muap():
    """A 1000 µV biphasic spike at 0 ms, a slow positive terminal phase that rises to 200 µV at
    1 ms and falls linearly back to the baseline at SLOW_END_MS, and a small initial phase."""
    spike = -1000 * (T / 0.3e-3) * np.exp(0.5 - 0.5 * (T / 0.3e-3) ** 2)
    a, top, b = 0.3e-3, 1e-3, SLOW_END_MS * 1e-3
    slow = 200 * np.interp(T, [a, top, b], [0.0, 1.0, 0.0], left=0.0, right=0.0)
    initial = -120 * np.exp(-0.5 * ((T + 1.2e-3) / 0.4e-3) ** 2)
    return spike + slow + initial


def _slow_noise(seed, sd_uv):
    """Band-limited noise (a 0.5 ms moving mean of white noise) of SD ``sd_uv``: slow waves
    such as the other units' activity leaves in an average."""
    rng = np.random.default_rng(seed)
    k = int(0.5e-3 * FS)
    x = np.convolve(rng.normal(size=T.size + k), np.ones(k) / np.sqrt(k), mode="valid")[:T.size]
    return sd_uv * x / x.std()


def _clean_end_ms():
    """Where the clean terminal phase comes within 1 % of the peak-to-peak amplitude (2000 µV)
    of the baseline: 20 µV on a 200 µV ramp that ends at SLOW_END_MS, a tenth of the ramp
    (5 ms long) before its end."""
    return SLOW_END_MS - 0.1 * (SLOW_END_MS - 1.0)


def test_clean_average_ends_where_its_terminal_phase_returns_to_the_baseline():
    assert PM["marker_level"] == "expected_noise"
    m = measure_waveform(_muap(), FS, C, noise_sd=0.5, calibrated=True)
    assert m["end_ms"] == pytest.approx(_clean_end_ms(), abs=0.1)
    # the markers at the band alone: the same on a clean average (its band is 1 % of the
    # amplitude, where the markers are carried to anyway)
    band = measure_waveform(_muap(), FS, C, noise_sd=0.5, calibrated=True,
                            params={"marker_level": "band"})
    assert (m["onset_ms"], m["end_ms"]) == (band["onset_ms"], band["end_ms"])


def test_noisy_average_end_near_the_clean_end_not_inside_the_terminal_phase():
    # slow noise of SD 35 µV: the band (3 x the average's own baseline SD, 60-100 µV) is a
    # third to a half of the terminal phase, which enters it part-way down its slope: the band
    # alone puts the end there, about 1 ms early; carried to the baseline the end is near the
    # clean average's
    clean = measure_waveform(_muap(), FS, C, noise_sd=0.5, calibrated=True)["end_ms"]
    new, old = [], []
    for seed in range(12):
        y = _muap() + _slow_noise(seed, 35.0)
        new.append(measure_waveform(y, FS, C, noise_sd=0.5, calibrated=True)["end_ms"])
        old.append(measure_waveform(y, FS, C, noise_sd=0.5, calibrated=True,
                                    params={"marker_level": "band"})["end_ms"])
    new, old = np.array(new), np.array(old)
    assert np.median(np.abs(new - clean)) < 0.5
    assert np.median(np.abs(old - clean)) > 0.8
    assert np.median(np.abs(new - clean)) < np.median(np.abs(old - clean)) / 2
    assert np.all(new >= old)   # only ever carried outward


def test_noise_on_the_baseline_alone_does_not_extend_the_markers():
    # noise below the band everywhere (white, SD 3 µV, the band 3 noise SD + 1 % of 1000 µV):
    # the markers of the noisy average stay within a fraction of a ms of the clean one's
    clean = measure_waveform(_muap(), FS, C, noise_sd=3.0, calibrated=True)
    rng = np.random.default_rng(3)
    for _ in range(10):
        y = _muap() + rng.normal(0.0, 3.0, T.size)
        m = measure_waveform(y, FS, C, noise_sd=3.0, calibrated=True)
        assert m["end_ms"] == pytest.approx(clean["end_ms"], abs=0.5)
        assert m["onset_ms"] == pytest.approx(clean["onset_ms"], abs=0.5)
    # a baseline of noise beyond a MUAP that has returned to the baseline: the walk stops at
    # the baseline crossing and does not run into the noise after it
    y = _muap()
    y[T > 8e-3] += _slow_noise(5, 20.0)[T > 8e-3]
    m = measure_waveform(y, FS, C, noise_sd=0.5, calibrated=True)
    assert m["end_ms"] < 7.0


def test_to_level_follows_the_phase_and_stops_at_a_sign_change():
    ys = np.array([[0.0, 1.0, 5.0, 50.0, -80.0, 40.0, 9.0, 3.0, -2.0, 4.0, 0.0]])
    onset, end = _to_level(ys, np.array([3]), np.array([5]), 2.0)
    assert end[0] == 7      # 40, 9, 3 positive beyond 2; -2 changes sign
    assert onset[0] == 2    # 50, 5 beyond 2 (1 is not)
    # never moves a marker inward
    onset, end = _to_level(ys, np.array([3]), np.array([5]), 100.0)
    assert (onset[0], end[0]) == (3, 5)
    # whole-table: one row per waveform, one level per row
    onset, end = _to_level(np.vstack([ys, ys]), np.array([3, 3]), np.array([5, 5]),
                           np.array([2.0, 10.0]))
    assert end.tolist() == [7, 5] and onset.tolist() == [2, 3]


def test_markers_stop_at_the_expected_noise_of_the_average():
    # the same noisy averages, their expected noise SD 15 µV: the markers are carried down to
    # 3 x 15 = 45 µV (above 1 % of the amplitude, 20 µV), between where the band leaves them
    # and the return to the baseline
    for seed in range(6):
        y = _muap() + _slow_noise(seed, 35.0)
        ends = {mode: measure_waveform(y, FS, C, noise_sd=15.0, calibrated=True,
                                       params={"marker_level": mode})["end_ms"]
                for mode in ("band", "expected_noise", "baseline")}
        assert ends["band"] <= ends["expected_noise"] <= ends["baseline"]
    # on the clean average the band is that level already: nothing to carry
    clean = {mode: measure_waveform(_muap(), FS, C, noise_sd=15.0, calibrated=True,
                                    params={"marker_level": mode})["end_ms"]
             for mode in ("band", "expected_noise")}
    assert clean["band"] == clean["expected_noise"]
    assert clean["band"] == pytest.approx(SLOW_END_MS - 5.0 * 45.0 / 200.0, abs=0.15)


def test_an_unknown_marker_level_names_the_choices():
    with pytest.raises(InvalidParameterError, match="'band', 'baseline' or 'expected_noise'"):
        measure_waveform(_muap(), FS, C, noise_sd=0.5, params={"marker_level": "slope"})
