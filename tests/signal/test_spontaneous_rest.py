"""Spontaneous activity is graded only in true rest, and only brief spikes of 1-5 ms are
fibrillation potentials (issue: "fibs 2+" graded during a continuous contraction)."""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _synth import add_train, muap_shape, spike_train, weak_contraction  # noqa: E402

from edxreview.signal import Recording, analyze_recording
from edxreview.signal._spontaneous import (
    NOT_GRADED_REASONS,
    describe_spontaneous,
    detect_spontaneous,
    segment_activity,
    select_rest,
)

FS = 30000.0


def _rec(x, calibrated=True):
    return Recording(samples=x, fs_hz=FS, calibrated=calibrated, name="synthetic")


def _contraction(duration_s, rng, n_units=25, noise_uv=8.0):
    """A full interference pattern: many motor units, each firing at 8-20 Hz."""
    x = rng.normal(0, noise_uv, int(duration_s * FS))
    for _ in range(n_units):
        w = muap_shape(FS, rng.uniform(6, 12), rng.uniform(200, 900), int(rng.integers(2, 5)))
        add_train(x, FS, w, spike_train(rng, rng.uniform(8, 20), duration_s, 0.15,
                                        start_s=rng.uniform(0.01, 0.1)))
    return x


def _steady_contraction(seed, duration_s=5.0):
    """A contraction all along, stronger in its first second (as the Algiers recordings)."""
    rng = np.random.default_rng(seed)
    x = _contraction(duration_s, rng, n_units=60)
    x[: int(FS)] += _contraction(1.0, rng, n_units=60)
    return x


def _spike(duration_ms, amplitude_uv=150.0):
    """Biphasic spike, initial positive phase, lasting ``duration_ms``."""
    n = max(3, int(round(duration_ms * 1e-3 * FS)))
    t = np.linspace(-3, 3, n)
    y = -t * np.exp(-(t**2) / 2)
    return amplitude_uv * y / np.ptp(y)


def _rest_after_contraction(spike_ms, amplitude_uv=150.0, seed=4):
    """2 s of contraction, then 6 s of rest (8 µV noise) with one regular 5-Hz train of spikes."""
    rng = np.random.default_rng(seed)
    x = np.r_[_contraction(2.0, rng), rng.normal(0, 8.0, int(6.0 * FS))]
    add_train(x, FS, _spike(spike_ms, amplitude_uv), np.arange(2.6, 7.9, 0.2))
    return x


def test_continuous_contraction_is_not_graded():
    # 5 s of steady contraction, as in the Algiers recordings: segmentation, judging blocks
    # against a noise level the contraction itself inflates, calls much of it rest
    rec = _rec(_steady_contraction(1))
    seg = segment_activity(rec)
    assert (seg.end_s - seg.start_s)[seg.state == "rest"].sum() >= 1.0
    pot, grades = detect_spontaneous(rec, seg)
    assert grades["spont_rule"] == "spont_not_graded"
    assert (grades["fibs"], grades["psw"], grades["fasciculations"]) == ("", "", "")
    assert grades["spont_reasons"].startswith("not graded: ")
    assert float(grades["rest_s"]) < 1.0
    assert "not relaxed" in grades["spont_reasons"] and len(pot) == 0
    assert grades["spont_not_graded_reason"] == "rest_not_relaxed"
    assert describe_spontaneous(grades).startswith(
        "spontaneous activity not graded: the rest is not relaxed (0.0 s of rest fit for grading")
    assert "which does not mean it has no spontaneous activity" in describe_spontaneous(grades)


def test_not_graded_reaches_the_outputs_as_blank_with_a_reason():
    a = analyze_recording(_rec(_steady_contraction(2)), muscle="deltoid")
    row = a.emg_row("P1", "R")
    # the workbook's missing value (an empty cell), not a grade
    assert (row["fibs"], row["psw"], row["fasciculations"]) == ("", "", "")
    r = a.recordings_row()
    assert r["spont_rule"] == "spont_not_graded" and r["rest_graded_s"] < 1.0
    assert r["spont_reasons"].startswith("not graded")


def test_rest_with_fibrillation_potentials_is_graded():
    rec = _rec(_rest_after_contraction(2.0))
    sel = select_rest(rec)
    assert sel.rule == "spont_graded" and sel.graded_s >= 5.0
    # the graded stretches lie in the rest, after the contraction
    assert sel.stretches["start_s"].min() >= 1.9
    pot, grades = detect_spontaneous(rec)
    assert grades["fibs"] == "1+" and grades["fasciculations"] == "absent"
    assert (pot["kind"] == "fib").sum() >= 20
    assert describe_spontaneous(grades).startswith("spontaneous activity (")


def test_a_spike_shorter_than_1_ms_is_not_a_fibrillation_potential():
    # large enough to be grouped into one regular train (measured about 0.3 ms): graded 1+
    # before the minimum duration
    pot, grades = detect_spontaneous(_rec(_rest_after_contraction(0.3, 400.0)))
    assert grades["spont_rule"] == "spont_graded"
    assert pot["duration_ms"].median() < 1.0
    assert grades["fibs"] == "0" and not (pot["kind"] == "fib").any()


def test_calibrated_rest_above_the_ceiling_is_not_graded():
    # no active stretch (no relative criterion), a baseline far above the rest ceiling
    rng = np.random.default_rng(5)
    loud = _rec(rng.normal(0, 200.0, int(3 * FS)))
    assert segment_activity(loud)["state"].eq("rest").all()
    sel = select_rest(loud)
    assert sel.rule == "spont_not_graded" and "rest ceiling 20 µV" in sel.reasons[1]


def test_uncalibrated_without_contraction_is_not_graded():
    rng = np.random.default_rng(6)
    sel = select_rest(_rec(rng.normal(0, 5.0, int(3 * FS)), calibrated=False))
    assert sel.rule == "spont_not_graded" and "uncalibrated" in "; ".join(sel.reasons)
    # calibrated, the same quiet baseline is rest
    assert select_rest(_rec(rng.normal(0, 5.0, int(3 * FS)))).rule == "spont_graded"


def test_uncalibrated_rest_after_contraction_is_graded():
    _, grades = detect_spontaneous(_rec(_rest_after_contraction(2.0), calibrated=False))
    assert grades["spont_rule"] == "spont_graded" and grades["fibs"] == "1+"


def test_pauses_within_a_contraction_are_not_rest():
    # a weak contraction of three units: segmentation leaves quiet pauses of 0.2-0.5 s between
    # bursts, relaxed by their baseline, in which the voluntary units still fire irregularly
    x, _ = weak_contraction()  # 6 s at 10 kHz
    rec = Recording(samples=x, fs_hz=10000.0, calibrated=True, name="weak")
    seg = segment_activity(rec)
    pauses = (seg.end_s - seg.start_s)[seg.state == "rest"]
    assert pauses.sum() >= 1.0 and pauses.max() < 1.0
    _, grades = detect_spontaneous(rec, seg)
    assert grades["spont_rule"] == "spont_not_graded" and grades["fasciculations"] == ""
    # every pause lies within the guard time of a burst (or is shorter than a stretch of rest)
    assert ("guard time" in grades["spont_reasons"]
            or "pauses within the contraction" in grades["spont_reasons"])


def test_figure_draws_the_graded_rest(tmp_path):
    from edxreview.signal._figures import plot_recording

    a = analyze_recording(_rec(_rest_after_contraction(2.0)), muscle="deltoid")
    assert a.rest is not None and len(a.rest.stretches)
    png = plot_recording(a, tmp_path / "r.png")
    assert png.stat().st_size > 10_000


def test_the_figure_names_the_rule_and_writes_microvolts(tmp_path, monkeypatch):
    import matplotlib.figure

    from edxreview.signal._figures import plot_recording

    seen = {}
    monkeypatch.setattr(matplotlib.figure.Figure, "savefig",
                        lambda fig, *a, **k: seen.setdefault("fig", fig))
    a = analyze_recording(_rec(_rest_after_contraction(2.0)), muscle="deltoid")
    plot_recording(a, tmp_path / "r.png")
    axes = seen["fig"].axes
    assert axes[1].get_title() == f"reading: {a.reading.pattern} (rule {a.reading.rule})"
    assert "µV" in axes[0].get_ylabel() and axes[2].get_ylabel() == "µV"


def _unit_in_rest(times_s, seed=7):
    """2 s of contraction, then 6 s of rest (8 µV noise) in which one MUAP-like unit
    (10 ms, 600 µV, 3 phases) discharges at ``times_s``."""
    rng = np.random.default_rng(seed)
    x = np.r_[_contraction(2.0, rng), rng.normal(0, 8.0, int(6.0 * FS))]
    add_train(x, FS, muap_shape(FS, 10.0, 600.0, 3), np.asarray(times_s))
    return x


def test_a_voluntary_unit_firing_at_rest_is_not_fasciculations():
    # a unit still firing irregularly at about 6 Hz after the contraction: the muscle is not
    # relaxed. Each discharge crossed the threshold once per phase, and its phases were graded
    # as several slow irregular trains: "fasciculations present"
    rng = np.random.default_rng(3)
    times = 2.6 + spike_train(rng, 6.0, 5.2, 0.3, start_s=0.0)
    rec = _rec(_unit_in_rest(times))
    sel = select_rest(rec)
    pot, grades = detect_spontaneous(rec, rest=sel)
    assert grades["spont_rule"] == "spont_graded"
    assert grades["fasciculations"] == "absent" and grades["fibs"] == "0"
    vol = pot[pot["kind"] == "voluntary"]
    # one potential per discharge (not one per phase), most of them in one train
    graded = np.zeros(times.size, dtype=bool)
    for a, b in zip(sel.stretches["start_s"], sel.stretches["end_s"]):
        graded |= (times > a + 0.02) & (times < min(b, 7.98))
    assert graded.sum() >= 5
    assert 0.8 * graded.sum() <= len(vol) <= graded.sum()
    assert vol["train"].value_counts().iloc[0] >= 0.8 * len(vol)


def test_slow_random_muap_like_discharges_are_fasciculations():
    # the same unit discharging 4 times at random (about 0.7 Hz) in 6 s of rest, all of them
    # beyond the guard time after the contraction
    pot, grades = detect_spontaneous(_rec(_unit_in_rest([3.3, 3.8, 5.9, 7.3])))
    assert grades["fasciculations"] == "present"
    assert (pot["kind"] == "fasc").sum() == 4 and not (pot["kind"] == "voluntary").any()


def test_a_multiphasic_fibrillation_potential_is_one_train():
    # a 4-ms spike crosses the threshold on both phases: one fibre, one train, graded 1+
    # (not 2+ from a train per phase)
    pot, grades = detect_spontaneous(_rec(_rest_after_contraction(4.0)))
    assert grades["fibs"] == "1+"
    assert pot.loc[pot["kind"] == "fib", "train"].nunique() == 1


def test_a_lone_muap_beside_a_voluntary_unit_is_not_a_fasciculation():
    # one discharge of another unit (4 phases, 8 ms) in the rest where a unit fires at 6 Hz:
    # the muscle is not relaxed. Alone in relaxed rest, the same discharge is a fasciculation
    rng = np.random.default_rng(3)
    other = muap_shape(FS, 8.0, 500.0, 4)
    times = 2.6 + spike_train(rng, 6.0, 5.2, 0.3, start_s=0.0)
    x = _unit_in_rest(times)
    pot, _ = detect_spontaneous(_rec(x))
    # halfway through the longest interval between the unit's discharges found in the last
    # graded stretch (5.1-8.0 s)
    t = np.sort(pot["time_s"].to_numpy())
    t = t[t > 5.2]
    lone = float(t[np.argmax(np.diff(t))] + np.diff(t).max() / 2)
    x = x.copy()  # a new array: the filter bands of the last one are cached
    add_train(x, FS, other, np.array([lone]))
    pot, grades = detect_spontaneous(_rec(x))
    assert grades["fasciculations"] == "absent"
    assert pot.loc[(pot["time_s"] - lone).abs() < 0.003, "kind"].tolist() == ["voluntary"]
    y = _unit_in_rest([])
    add_train(y, FS, other, np.array([lone]))
    pot, grades = detect_spontaneous(_rec(y))
    assert grades["fasciculations"] == "present" and (pot["kind"] == "fasc").sum() == 1


def _without_guard(monkeypatch):
    """The parameters with no guard time (to show what the guard changes)."""
    import copy

    from edxreview.signal import _spontaneous

    p = copy.deepcopy(_spontaneous.load_signal_parameters())
    p["spontaneous"]["rest_guard_s"] = 0.0
    monkeypatch.setattr(_spontaneous, "load_signal_parameters", lambda: p)


def _burst_then_rest(times_s, seed=7):
    """2 s of contraction, then 6 s of rest; a MUAP-like unit discharges at ``times_s``."""
    return _unit_in_rest(times_s, seed=seed)


# a unit derecruiting as the contraction ends: four slowing, irregular discharges within
# 1 s of the end of the burst (median interval 0.3 s, about 3 Hz: below the voluntary rate)
DERECRUITING = [2.1, 2.2, 2.5, 2.95]


def test_a_unit_discharging_at_the_end_of_a_burst_is_not_a_fasciculation(monkeypatch):
    rec = _rec(_burst_then_rest(DERECRUITING))
    sel = select_rest(rec)
    assert sel.rule == "spont_graded" and sel.stretches["start_s"].min() >= 2.9
    assert "guard time" in "; ".join(sel.reasons)
    pot, grades = detect_spontaneous(rec, rest=sel)
    assert grades["fasciculations"] == "absent" and not (pot["kind"] == "fasc").any()
    # without the guard the same discharges are graded fasciculations
    _without_guard(monkeypatch)
    pot, grades = detect_spontaneous(_rec(_burst_then_rest(DERECRUITING)))
    assert grades["fasciculations"] == "present"
    assert pot.loc[pot["kind"] == "fasc", "time_s"].lt(3.0).all()


def test_an_isolated_muap_well_into_rest_is_a_fasciculation():
    # the derecruiting unit, and one discharge of another unit 3 s into the rest
    rec = _rec(_burst_then_rest(DERECRUITING))
    x = rec.samples.copy()
    add_train(x, FS, muap_shape(FS, 8.0, 500.0, 4), np.array([5.0]))
    pot, grades = detect_spontaneous(_rec(x))
    assert grades["fasciculations"] == "present"
    assert pot.loc[pot["kind"] == "fasc", "time_s"].round(2).tolist() == [5.0]


def test_the_guard_time_applies_before_a_contraction_too():
    # rest, then a contraction: the second before it begins is not graded
    rng = np.random.default_rng(8)
    x = np.r_[rng.normal(0, 8.0, int(4.0 * FS)), _contraction(2.0, rng)]
    sel = select_rest(_rec(x))
    assert sel.rule == "spont_graded"
    assert 2.8 <= sel.stretches["end_s"].max() <= 3.1


def test_too_little_rest_left_after_the_guard_is_not_graded_with_a_reason():
    # 1.5 s of rest between two contractions: the guard on both sides leaves none
    rng = np.random.default_rng(9)
    x = np.r_[_contraction(2.0, rng), rng.normal(0, 8.0, int(1.5 * FS)), _contraction(2.0, rng)]
    sel = select_rest(_rec(x))
    assert sel.rule == "spont_not_graded" and sel.rest_s >= 1.0
    assert sel.not_graded_reason == "rest_near_voluntary"
    assert sel.reasons[0].startswith("not graded: the relaxed rest lies next to voluntary "
                                     "activity (0.0 s of rest fit for grading of 1.5 s")
    assert "guard time" in sel.reasons[-1]


@pytest.mark.parametrize(("kind", "reason"), [
    ("contraction throughout", "no_rest_recorded"),
    ("uncalibrated, no contraction", "uncalibrated_without_contraction"),
    ("relaxed", ""),
])
def test_a_recording_not_graded_says_why_in_a_typed_column(kind, reason):
    # a recording that holds no rest at all (every block active, as the PhysioNet records):
    # its grades are blank with reason no_rest_recorded, never "0" / "absent"
    rng = np.random.default_rng(4)
    if kind == "contraction throughout":
        rec = _rec(_contraction(3.0, rng))
        seg = pd.DataFrame({"start_s": [0.0], "end_s": [rec.duration_s], "state": ["active"]})
    elif kind == "uncalibrated, no contraction":
        rec = Recording(samples=rng.normal(0, 8.0, int(3 * FS)), fs_hz=FS, calibrated=False,
                        name="u")
        seg = None
    else:
        rec = _rec(rng.normal(0, 8.0, int(3 * FS)))
        seg = None
    pot, grades = detect_spontaneous(rec, seg)
    assert grades["spont_not_graded_reason"] == reason
    text = describe_spontaneous(grades)
    if reason:
        assert (grades["fibs"], grades["psw"], grades["fasciculations"]) == ("", "", "")
        assert grades["spont_rule"] == "spont_not_graded"
        assert text.startswith(f"spontaneous activity not graded: {NOT_GRADED_REASONS[reason]}")
        assert "does not mean it has no spontaneous activity" in text
    else:
        assert grades["spont_rule"] == "spont_graded" and grades["fibs"] == "0"


def _spont(**changes) -> dict:
    from edxreview.signal._params import load_signal_parameters

    return {**load_signal_parameters()["spontaneous"], **changes}


def _psw_train(fs=10000.0, asym=5.0):
    """A regular train (5 Hz) of positive sharp waves: a sharp positive phase of 200 µV (1 ms)
    and a slow negative return of 200 / ``asym`` µV over 12 ms; its peaks and their half-window."""
    up = np.r_[np.linspace(0, 200, 6), np.linspace(200, 0, 6)[1:]]
    down = -200 / asym * np.sin(np.linspace(0, np.pi, int(12e-3 * fs)))
    w = np.r_[up, down]
    x = np.random.default_rng(3).normal(0, 2.0, int(2.0 * fs))
    peaks = (np.arange(0.2, 1.8, 0.2) * fs).astype(int)
    for c in peaks:
        x[c - 5: c - 5 + w.size] += w
    return x, peaks, int(round(20e-3 * fs)), fs


@pytest.mark.parametrize(("min_asymmetry", "kind"), [(None, "psw"), (8.0, "not psw")],
                         ids=["declared 1.5: psw", "asymmetry 5 below 8: not psw"])
def test_a_positive_sharp_wave_needs_the_declared_asymmetry(min_asymmetry, kind):
    from edxreview.signal._spontaneous import _classify_trains

    x, peaks, half, fs = _psw_train()
    p = _spont() if min_asymmetry is None else _spont(psw_min_asymmetry=min_asymmetry)
    assert _spont()["psw_min_asymmetry"] == 1.5
    pot, _ = _classify_trains(x, peaks, np.zeros(peaks.size, int), half, fs, 2.0, p,
                              np.zeros(peaks.size, int))
    assert (set(pot["kind"]) == {"psw"}) == (kind == "psw")


@pytest.mark.parametrize(("block_ms", "grade"), [(None, "4+"), (50.0, "3+")],
                         ids=["declared 100 ms: half the blocks filled", "50 ms: a quarter"])
def test_the_baseline_fill_is_counted_in_blocks_of_the_declared_length(block_ms, grade):
    from edxreview.signal._spontaneous import _grade_trains

    fs = 1000.0
    p = _spont() if block_ms is None else _spont(fill_block_ms=block_ms)
    assert _spont()["fill_block_ms"] == 100.0
    n = p["grade_3_trains"]
    # n fibrillation trains in the first half of 1 s of rest, one potential per 100 ms
    stats = [(t, "fib", 0.4, np.arange(0, 500, 100) + t) for t in range(n)]
    g = _grade_trains(stats, np.ones(int(fs), bool), fs, p)
    assert g["fibs"] == grade
