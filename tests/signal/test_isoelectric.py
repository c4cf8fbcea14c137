"""The isoelectric interval that ends a MUAP and separates a satellite from it
(``[measurement] isoelectric_from_baseline``): it begins where the signal returns to its
baseline, so that a slow baseline crossing between two phases of the MUAP (its slow terminal
phase) is part of the MUAP and not a satellite, whereas a late component after the signal has
stayed at the baseline for ``quiet_ms`` is one. Synthetic piecewise-linear waveforms whose
answer is known, and the two MUAPs of a real record where the defect was seen."""


import numpy as np
import pytest

from edxreview.signal._measure import _runs_below, measure_waveform
from edxreview.signal._params import load_signal_parameters

FS = 10000.0
PM = load_signal_parameters()["measurement"]
OLD = {"isoelectric_from_baseline": False}
NOISE = 0.5   # µV: the band is then 1 % of the peak-to-peak amplitude


def _wave(knots, n=400, lead_ms=4.0):
    """A waveform through ``knots`` = (time in ms after the previous knot, µV), zero before
    the first and after the last, the first knot ``lead_ms`` into the window; the discharge
    time is the largest excursion."""
    t = np.cumsum([0.0] + [k[0] for k in knots[1:]]) + lead_ms
    v = np.array([k[1] for k in knots], float)
    y = np.interp(np.arange(n) / FS * 1e3, t, v, left=0.0, right=0.0)
    return y, int(np.argmax(np.abs(y)))


def _measure(y, c, params=None):
    return measure_waveform(y, FS, c, noise_sd=NOISE, params=params, calibrated=True,
                            halves=(y, y))


# a spike (+1000 / -800 µV, peak-to-peak 1800 µV: the band is 18 µV), its negative phase
# coming back to -30 µV, then a slow crossing (-30 -> +60 µV over 3 ms: 1.2 ms inside the band)
# into a slow positive terminal phase of 150 µV that returns to the baseline over 4 ms
SLOW_TERMINAL = [(0, 0), (0.5, 1000), (0.5, -800), (0.8, -30), (3.0, 60), (1.0, 150), (4.0, 0)]


def test_the_declared_switch_is_on():
    assert PM["isoelectric_from_baseline"] is True
    assert PM["quiet_ms"] == 1.0


def test_slow_terminal_phase_is_part_of_the_muap_not_a_satellite():
    y, c = _wave(SLOW_TERMINAL)
    m = _measure(y, c)
    assert not m["satellite"] and np.isnan(m["satellite_ms"])
    # the duration runs to where the terminal phase comes back into the band: 1.3 ms after
    # the crossing begins + 1 + 4 ms, less the last 18/150 of the return (about 0.5 ms)
    spike_to_end = 0.5 + 0.8 + 3.0 + 1.0 + 4.0 * (1 - 18 / 150)
    assert m["end_ms"] == pytest.approx(spike_to_end, abs=0.3)
    assert m["phases"] == 3   # +, -, and the slow positive terminal phase
    # the former rule took the 1.2 ms inside the band for an isoelectric interval: the MUAP
    # was cut at the crossing and its terminal phase reported as a satellite
    old = _measure(y, c, OLD)
    assert old["satellite"] and old["end_ms"] < 2.5
    assert m["duration_ms"] > old["duration_ms"] + 5.0


def test_late_component_after_a_baseline_gap_is_a_satellite():
    # the MUAP returns to the baseline, stays there 3 ms, then a biphasic component of 100 µV
    y, c = _wave([(0, 0), (0.5, 1000), (0.5, -800), (0.8, 0), (3.0, 0), (0.3, 100),
                  (0.3, -100), (0.3, 0)])
    m = _measure(y, c)
    assert m["satellite"]
    # the interval from the return to the baseline to the component's leaving the band
    assert m["satellite_ms"] == pytest.approx(3.0 + 0.3 * 18 / 100, abs=0.15)
    assert m["end_ms"] == pytest.approx(0.5 + 0.8 * (1 - 18 / 800), abs=0.15)
    # the same as under the former rule (the signal is at zero as soon as it enters the band)
    old = _measure(y, c, OLD)
    assert old["satellite"] and old["end_ms"] == pytest.approx(m["end_ms"])


@pytest.mark.parametrize("flat_ms,satellite", [(1.5, True), (0.6, False)],
                         ids=["at the baseline 1.5 ms", "at the baseline 0.6 ms"])
def test_interval_counts_from_the_return_to_the_baseline(flat_ms, satellite):
    # a slow return (-30 -> 0 over 2 ms: 1.2 ms inside the band before it reaches zero), then
    # flat_ms at the baseline, then a late component: only the time at the baseline counts
    y, c = _wave([(0, 0), (0.5, 1000), (0.5, -800), (0.8, -30), (2.0, 0), (flat_ms, 0),
                  (0.3, 100), (0.3, -100), (0.3, 0)])
    m = _measure(y, c)
    assert m["satellite"] is satellite
    if satellite:
        assert m["satellite_ms"] == pytest.approx(flat_ms + 0.3 * 18 / 100, abs=0.15)
    else:
        # part of the MUAP: the end is that of the late component
        assert m["end_ms"] > 0.5 + 0.8 + 2.0 + flat_ms
    # the former rule counted the whole stretch inside the band (1.2 ms + flat_ms): a satellite
    assert _measure(y, c, OLD)["satellite"]


def test_a_phase_that_turns_back_before_the_baseline_is_not_an_interval():
    # the terminal phase comes back to +10 µV (inside the 18 µV band) for 2 ms without
    # reaching the baseline, then rises again: one slow phase with a notch, not a satellite
    y, c = _wave([(0, 0), (0.5, 1000), (0.5, -800), (0.8, 0), (0.5, 100), (0.8, 10),
                  (2.0, 10), (0.8, 100), (0.8, 0)])
    m = _measure(y, c)
    assert not m["satellite"]
    assert m["end_ms"] > 0.5 + 0.8 + 0.5 + 0.8 + 2.0 + 0.8
    assert _measure(y, c, OLD)["satellite"]


def test_onset_by_the_same_rule():
    # the slow terminal waveform reversed in time: a slow initial phase crossing the baseline
    # slowly into the spike is part of the MUAP; the duration is the same as forward
    y, c = _wave(SLOW_TERMINAL)
    r = y[::-1].copy()
    fwd, back = _measure(y, c), _measure(r, y.size - 1 - c)
    assert back["duration_ms"] == pytest.approx(fwd["duration_ms"], abs=0.2)
    assert back["onset_ms"] < -8.0
    assert _measure(r, y.size - 1 - c, OLD)["duration_ms"] < fwd["duration_ms"] - 5.0


def test_walk_edge_cases():
    q = 3
    above = np.array([1, 1, 0, 0, 0, 0, 1, 0], bool)
    # no sample above the band on the way: the start
    assert _runs_below(np.zeros(8, bool), q, 0, 1, np.zeros(8)) == 0
    # the walk begins with an interval at the baseline: the start
    assert _runs_below(np.r_[np.zeros(4, bool), [True]], q, 0, 1, np.zeros(5)) == 0
    # at zero just after the excursion: an interval of 4 samples (>= 3) ends the potential
    v = np.array([5, 5, 0, 0, 0, 0, 5, 0], float)
    assert _runs_below(above, q, 0, 1, v) == 1
    # still on the excursion's side, reaching zero only at the last in-band sample: the
    # interval is 1 sample, the potential goes on to the last excursion
    v = np.array([5, 5, 1, 1, 1, 0, 5, 0], float)
    assert _runs_below(above, q, 0, 1, v) == 6
    # a crossing: the opposite sign counts as reaching the baseline
    v = np.array([5, 5, -1, -1, -1, -1, -5, 0], float)
    assert _runs_below(above, q, 0, 1, v) == 1
    # backward walk, the same signal reversed
    assert _runs_below(above[::-1], q, 7, -1, v[::-1]) == 6
    # without values: the former rule (any stretch inside the band)
    assert _runs_below(above, q, 0, 1) == 1


@pytest.mark.shared_data("mendeley-algiers")
def test_md101_slow_terminal_phases(monkeypatch, shared_data):
    """Algiers MD101_Myo01_RD, where the defect was seen: unit 2's slow positive terminal
    phase (after a slow baseline crossing) was cut off and reported as a satellite."""
    from edxreview.signal import read_signal
    from edxreview.signal import _measure as meas
    from edxreview.signal._muap import sort_units

    rec = read_signal(str(shared_data / "mendeley-algiers" / "MD101_Myo01_RD.hea"))
    dec = sort_units(rec)
    now = meas.measure_muaps(rec, dec).set_index("unit")
    params = load_signal_parameters()
    old_params = {**params, "measurement": {**params["measurement"], **OLD}}
    monkeypatch.setattr(meas, "load_signal_parameters", lambda: old_params)
    before = meas.measure_muaps(rec, dec).set_index("unit")
    # unit 2: before, cut at the crossing (end 2.5 ms) with a "satellite"; now its slow
    # terminal phase is in the MUAP, which lasts as long as unit 1 (the same shape)
    assert before.loc[2, "satellite"] and before.loc[2, "end_ms"] < 3.0
    assert not now.loc[2, "satellite"]
    assert now.loc[2, "end_ms"] > 8.0
    assert now.loc[2, "duration_ms"] == pytest.approx(now.loc[1, "duration_ms"], abs=1.0)
    # unit 4: its slow positive terminal phase comes back to the baseline and stays there
    # about 1 ms before rising again; its interval is now counted from that return, shorter
    # than the stretch inside the band it was before
    assert before.loc[4, "satellite"]
    assert now.loc[4, "satellite_ms"] < before.loc[4, "satellite_ms"] or not now.loc[4, "satellite"]


# ------------------------------------------------------------------ isoelectric_tolerance_sd
# The option isoelectric_tolerance_sd (default 0, the exact zero; 1 was declared and not kept,
# docs/emg-evaluation.md): "reaches the baseline" is crossing zero or coming within that many
# SDs of the average's own noise of it. With 1, a noisy tail a fraction of a noise SD off the
# baseline estimate has returned; a slow baseline crossing between two phases is still part
# of the MUAP.
EXACT = {"isoelectric_tolerance_sd": 0.0}
TOL = {"isoelectric_tolerance_sd": 1.0}
EDGE_MS = 4.0   # [measurement] baseline_edge_ms: the average's own noise is read there


def _noisy_edges(y, amp=10.0):
    """``y`` with a ripple of ``amp`` µV (period 1 ms) in its first and last EDGE_MS, where
    the baseline SD is read: the average's own noise (smoothed RMS about 0.67 x amp)."""
    e = int(EDGE_MS * 1e-3 * FS)
    t = np.arange(y.size) / FS * 1e3
    r = amp * np.sin(2 * np.pi * t)
    y = y.copy()
    y[:e] += r[:e]
    y[-e:] += r[-e:]
    return y


def test_the_tolerance_is_off_by_default():
    # declared at 1 and not kept by its decision rule: the exact zero (or a crossing)
    assert PM["isoelectric_tolerance_sd"] == 0.0


def test_noisy_tail_off_the_baseline_by_a_fraction_of_its_noise_ends_at_the_muap():
    # the spike's negative phase comes back to -3 µV (about 0.45 x the average's 6.7 µV noise;
    # the band is 3 x 6.7 = 20 µV) and stays there, a 2 µV ripple on it, never at zero; 4 ms
    # later a small excursion of -25 µV (above the band, below the 5-SD satellite threshold)
    y, c = _wave([(0, 0), (0.5, 1000), (0.5, -800), (0.8, -3), (4.0, -3), (0.3, -25), (0.3, 0)],
                 lead_ms=10.0)
    t = np.arange(y.size) / FS * 1e3
    tail = (t > 10.0 + 1.8) & (t < 10.0 + 5.8)
    y[tail] += 2.0 * np.sin(2 * np.pi * t[tail] / 0.7)
    y = _noisy_edges(y)
    m = _measure(y, c, TOL)
    # the MUAP ends where its negative phase comes back into the band (-800 -> -3 over 0.8 ms)
    assert m["end_ms"] == pytest.approx(0.5 + 0.8 * (1 - 17 / 797), abs=0.15)
    assert not m["satellite"]
    # at the exact zero the tail never returned: the MUAP ran on to the small excursion
    exact = _measure(y, c, EXACT)
    assert exact["end_ms"] > 0.5 + 0.8 + 4.0
    assert m["duration_ms"] < exact["duration_ms"] - 4.0


def test_slow_terminal_phase_stays_in_the_muap_with_the_tolerance():
    # the slow crossing of SLOW_TERMINAL (-30 -> +60 µV over 3 ms) in an average whose own
    # noise is 6.7 µV: within 6.7 µV of zero it is still 0.9 ms from leaving the band on the
    # other side (< quiet_ms): no isoelectric interval, the terminal phase is in the MUAP
    y, c = _wave(SLOW_TERMINAL, lead_ms=10.0)
    y = _noisy_edges(y)
    m = _measure(y, c, TOL)
    assert not m["satellite"]
    assert m["end_ms"] > 0.5 + 0.8 + 3.0 + 1.0 + 3.0
    assert m["duration_ms"] == pytest.approx(_measure(y, c, EXACT)["duration_ms"], abs=0.1)
    # a satellite after the MUAP has come back to the baseline is still one
    y, c = _wave([(0, 0), (0.5, 1000), (0.5, -800), (0.8, 0), (3.0, 0), (0.3, 100),
                  (0.3, -100), (0.3, 0)], lead_ms=10.0)
    assert _measure(_noisy_edges(y), c, TOL)["satellite"]


def test_walk_with_tolerance():
    q = 3
    above = np.array([1, 1, 0, 0, 0, 0, 1, 0], bool)
    # still on the excursion's side at 1 (inside the band): not at the baseline at the exact
    # zero, at it within a tolerance of 1
    v = np.array([5, 5, 1, 1, 1, 1, 5, 0], float)
    assert _runs_below(above, q, 0, 1, v) == 6
    assert _runs_below(above, q, 0, 1, v, tol=1.0) == 1
    assert _runs_below(above, q, 0, 1, v, tol=0.5) == 6
    assert _runs_below(above[::-1], q, 7, -1, v[::-1], tol=1.0) == 6
