"""MUAP acceptance criteria ([acceptance] of emg_signal_parameters.toml): averages whose rise
time, discharges and signal are known are accepted or rejected by the right rule, and every
aggregation of MUAPs uses the accepted ones only (rows in = accepted + rejected)."""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from _synth import weak_contraction  # noqa: E402
from test_reference import _lab  # noqa: E402

from edxreview.signal import Recording, analyze_recording
from edxreview.signal import _classifier as clf
from edxreview.signal._acceptance import (
    REJECT_RULES,
    accepted_muaps,
    assess_waveforms,
    count_rejections,
    describe_rejections,
)
from edxreview.signal._analyze import summarize_muaps
from edxreview.signal._evaluate import acceptance_table
from edxreview.signal._measure import measure_muaps
from edxreview.signal._muap import sort_units
from edxreview.signal._params import load_signal_parameters
from edxreview.signal._reference import (
    build_lab_reference,
    read_muscle_against_reference,
    recording_stats,
)

FS = 20_000.0
BEFORE, AFTER = 240, 360   # 12 ms before and 18 ms after the discharge, as [measurement]


@pytest.fixture(autouse=True)
def _rise_time_applied(monkeypatch):
    """These tests check the rules themselves, the rise-time rule included: applied here,
    whatever the bundled ``apply_rise_time`` says (false: see the TOML and the last test)."""
    monkeypatch.setitem(load_signal_parameters()["acceptance"], "apply_rise_time", True)


def _average(rise_ms: float, amplitude: float = 400.0, noise_sd: float = 2.0, seed: int = 0,
             first_is_main: bool = False) -> np.ndarray:
    """An averaged MUAP whose main spike rises over ``rise_ms``: a positive peak, then the
    negative main peak ``rise_ms`` later at the discharge time (Gaussian phases ``rise_ms / 2``
    wide, so the edge between them is one slope), with a smaller, slower terminal positive
    phase 2 ms later, on a noise floor. ``first_is_main``: the positive first peak is the
    larger one (a biphasic potential whose main peak is its first phase)."""
    t = (np.arange(BEFORE + AFTER + 1) - BEFORE) / FS * 1e3   # ms from the discharge
    g = lambda c, w=rise_ms / 2: np.exp(-0.5 * ((t - c) / w) ** 2)  # noqa: E731
    pos, neg = (1.0, -0.6) if first_is_main else (0.4, -1.0)
    y = pos * g(-rise_ms) + neg * g(0.0) + 0.25 * g(2.0 + rise_ms, 0.4)
    y = amplitude * y / np.ptp(y)
    return y + np.random.default_rng(seed).normal(0, noise_sd, t.size)


def _true_rise_ms(rise_ms: float, first_is_main: bool = False) -> float:
    """The peak-to-peak interval of the noiseless :func:`_average` (the overlapping phases
    push the two peaks a little apart)."""
    y = _average(rise_ms, noise_sd=0.0, first_is_main=first_is_main)
    i = int(np.argmax(np.abs(y)))
    j = int(np.argmax(-np.sign(y[i]) * y[:i]))
    return (i - j) / FS * 1e3


def _assess(rows, n_averaged=30, noise_sd=2.0):
    y = np.array(rows)
    return assess_waveforms(y, FS, BEFORE, np.full(len(y), noise_sd),
                            np.full(len(y), n_averaged))


@pytest.mark.parametrize(("rise_ms", "rule"), [
    (0.15, ""), (0.3, ""), (0.8, "rise_time"), (1.5, "rise_time"),
], ids=["sharp 0.15 ms", "0.3 ms", "remote 0.8 ms", "remote 1.5 ms"])
def test_rise_time_is_measured_and_judged_against_its_limit(rise_ms, rule):
    # the limit, 0.5 ms, is checked with the other settings of the file (test_signal_parameters)
    q = _assess([_average(rise_ms)])
    assert q.at[0, "rise_time_ms"] == pytest.approx(_true_rise_ms(rise_ms), abs=0.06)
    assert q.at[0, "reject_rule"] == rule
    assert q.at[0, "accepted"] == (rule == "")


@pytest.mark.parametrize("sign", [1.0, -1.0], ids=["main peak negative", "inverted polarity"])
def test_either_polarity_is_measured_alike(sign):
    q = _assess([sign * _average(0.3), sign * _average(0.8)])
    assert q["rise_time_ms"].tolist() == pytest.approx([_true_rise_ms(0.3), _true_rise_ms(0.8)],
                                                       abs=0.06)
    assert q["reject_rule"].tolist() == ["", "rise_time"]


@pytest.mark.parametrize(("edge_ms", "rule"), [(0.3, ""), (1.2, "rise_time")],
                         ids=["sharp", "blunt"])
def test_a_spike_without_an_opposite_phase_rises_from_its_foot(edge_ms, rule):
    # a spike on a flat baseline, after a slow low bump: its edge starts at its own foot, not
    # at the onset of the slow phase before it
    t = (np.arange(BEFORE + AFTER + 1) - BEFORE) / FS * 1e3
    y = np.where((t > -edge_ms) & (t <= 0), 1 + t / edge_ms, 0.0)   # linear rise to t = 0
    y = y + np.where((t > 0) & (t < 2 * edge_ms), 1 - t / (2 * edge_ms), 0.0)
    y = 400 * y + 30 * np.exp(-0.5 * ((t + 4) / 1.0) ** 2)
    q = _assess([y], noise_sd=1.0)
    assert q.at[0, "rise_time_ms"] == pytest.approx(edge_ms, abs=0.06)
    assert q.at[0, "reject_rule"] == rule


def test_a_biphasic_potential_whose_first_phase_is_larger_rises_over_its_first_phase():
    q = _assess([_average(0.15, first_is_main=True)])
    assert q.at[0, "rise_time_ms"] < 0.5 and q.at[0, "accepted"]


def test_a_pure_noise_average_is_not_above_baseline():
    noise = np.random.default_rng(3).normal(0, 20.0, BEFORE + AFTER + 1)
    q = _assess([noise], noise_sd=20.0 / np.sqrt(30))
    assert q.at[0, "reject_rule"] == "not_above_baseline" and not q.at[0, "accepted"]
    flat = np.zeros(BEFORE + AFTER + 1)
    q = _assess([flat])
    assert q.at[0, "reject_rule"] == "not_above_baseline"
    assert np.isnan(q.at[0, "rise_time_ms"])


def test_too_few_discharges_comes_first():
    n_min = load_signal_parameters()["acceptance"]["min_discharges_averaged"]
    q = _assess([_average(0.3), _average(1.5)], n_averaged=n_min - 1)
    assert q["reject_rule"].tolist() == ["too_few_discharges", "too_few_discharges"]
    q = _assess([_average(0.3)], n_averaged=n_min)
    assert q.at[0, "accepted"]


def test_no_waveforms_gives_an_empty_table():
    q = assess_waveforms(np.zeros((0, 601)), FS, BEFORE, np.zeros(0), np.zeros(0))
    assert list(q.columns) == ["rise_time_ms", "template_rms_ratio", "accepted",
                               "reject_rule"] and len(q) == 0


def test_a_unit_small_against_the_signal_is_rejected_after_the_baseline_rule():
    # McGill et al. 2005 (abstract): decomposition 100 % accurate above 2.5 x the signal RMS
    limit = load_signal_parameters.__wrapped__()["acceptance"]["min_template_rms_ratio"]
    assert limit == 2.5
    y = [_average(0.3), _average(0.3), np.zeros(BEFORE + AFTER + 1)]
    q = assess_waveforms(np.array(y), FS, BEFORE, np.full(3, 2.0), np.full(3, 30),
                         template_rms_ratio=np.array([2.4, 2.6, 1.0]))
    assert q["reject_rule"].tolist() == ["small_against_signal", "", "not_above_baseline"]
    assert q["template_rms_ratio"].tolist() == [2.4, 2.6, 1.0]
    # without the decomposition's templates (NaN or not given) the rule does not judge
    q = assess_waveforms(np.array(y[:1]), FS, BEFORE, np.full(1, 2.0), np.full(1, 30),
                         template_rms_ratio=np.array([np.nan]))
    assert q.at[0, "accepted"] and np.isnan(q.at[0, "template_rms_ratio"])


def _triphasic(t: np.ndarray, amplitude: float) -> np.ndarray:
    """A triphasic spike (small positive, main negative, slow positive tail) of about
    ``amplitude`` at times ``t`` (ms)."""
    return amplitude * (0.4 * np.exp(-0.5 * ((t + 0.3) / 0.15) ** 2)
                        - np.exp(-0.5 * (t / 0.15) ** 2)
                        + 0.25 * np.exp(-0.5 * ((t - 1.0) / 0.4) ** 2))


def test_measure_muaps_rejects_a_small_unit_firing_among_large_ones():
    # one large unit (about 1 mV) firing at 12 Hz and a small one (about 60 uV, well above
    # the quiet baseline, so it is sorted and stands out of its own average's baseline) at 9 Hz:
    # the small one's template is below 2.5 x the RMS of the signal the large one dominates
    rng = np.random.default_rng(5)
    fs, n = 20_000.0, 80_000
    x = rng.normal(0, 3.0, n)
    t = np.arange(-40, 41) / fs * 1e3
    for rate, amp, phase in ((12.0, 1500.0, 500), (9.0, 90.0, 900)):
        for c in np.arange(phase, n - 100, int(fs / rate)) + rng.integers(-60, 60, 1):
            x[c - 40:c + 41] += _triphasic(t, amp)
    rec = Recording(samples=x, fs_hz=fs, calibrated=True, name="big-and-small")
    m = measure_muaps(rec, sort_units(rec))
    big = m.loc[m["amplitude_uv"].idxmax()]
    small = m.loc[m["amplitude_uv"].idxmin()]
    assert big["accepted"] and big["template_rms_ratio"] >= 2.5
    assert small["template_rms_ratio"] < 2.5
    assert small["reject_rule"] == "small_against_signal" and not small["accepted"]


def test_measure_muaps_keeps_every_unit_with_its_rule():
    x, _ = weak_contraction(spiky=True, spike_ms=1.2, duration_s=4.0)
    rec = Recording(samples=x, fs_hz=10_000.0, calibrated=True, name="s")
    m = measure_muaps(rec, sort_units(rec))
    assert len(m) >= 3 and m["accepted"].all() and (m["reject_rule"] == "").all()
    assert (m["rise_time_ms"] <= 0.5).all()
    x, _ = weak_contraction(duration_s=4.0)   # smooth pulses: the spike rises over ms
    rec = Recording(samples=x, fs_hz=10_000.0, calibrated=True, name="r")
    m = measure_muaps(rec, sort_units(rec))
    assert len(m) and not m["accepted"].any() and set(m["reject_rule"]) == {"rise_time"}


def _table():
    """Two recordings: r1 with 6 accepted MUAPs of 10 ms and 3 rejected of 2 ms, r2 with 6
    accepted of 12 ms."""
    rows = []
    for rec, n, d, ok, rule in [("r1", 6, 10.0, True, ""), ("r1", 3, 2.0, False, "rise_time"),
                                ("r2", 6, 12.0, True, "")]:
        rows += [dict(recording=rec, unit=i, duration_ms=d, amplitude_uv=400.0,
                      amplitude_adu=np.nan, phases=3, turns=3, thickness_ms=1.5,
                      polyphasic=False, accepted=ok, reject_rule=rule) for i in range(n)]
    return pd.DataFrame(rows)


def test_the_recording_means_are_of_the_accepted_muaps_and_the_counts_add_up():
    m = _table()
    s = summarize_muaps(m[m["recording"] == "r1"], 100)
    assert s["n_units"] == 9 == s["n_muaps_accepted"] + s["n_muaps_rejected"]
    assert (s["n_muaps_accepted"], s["reject_rules"]) == (6, "rise_time:3")
    assert s["mean_duration_ms"] == 10.0
    assert count_rejections(m) == {"rise_time": 3}
    assert describe_rejections(m).startswith("3 of 15 MUAP(s) rejected")
    assert len(accepted_muaps(m)) == 12
    # a table from a CSV (text) or without the column: the same rows / all rows
    assert len(accepted_muaps(m.astype({"accepted": str}))) == 12
    assert len(accepted_muaps(m.drop(columns="accepted"))) == 15


def test_references_pooling_and_the_classifier_use_the_accepted_muaps_only():
    m = _table()
    st = recording_stats(m)
    d = st[st["feature"] == "duration_ms"].set_index("recording")
    assert d.at["r1", "n"] == 6 and d.at["r1", "m"] == 10.0
    # a muscle read against a lab reference: rejected MUAPs neither count nor move the means
    recs, muaps = _lab()
    ref = build_lab_reference(muaps.assign(accepted=True, reject_rule=""), recs, lab="syn")
    n_min = load_signal_parameters()["lab_reference"]["min_muaps"]
    ok = muaps[muaps["recording"] == recs["recording"].iloc[0]].head(n_min + 2).assign(
        accepted=True, reject_rule="")
    bad = ok.assign(duration_ms=1.0, accepted=False, reject_rule="not_above_baseline")
    r_ok, z_ok = read_muscle_against_reference(ok, ref, "biceps_brachii")
    r_mix, z_mix = read_muscle_against_reference(pd.concat([ok, bad]), ref, "biceps_brachii")
    assert (r_ok.pattern, r_ok.rule) == (r_mix.pattern, r_mix.rule)
    assert z_mix.at["duration_ms", "z"] == pytest.approx(z_ok.at["duration_ms", "z"])
    # too few accepted: not judged, and the reasons say how many were rejected
    r, _ = read_muscle_against_reference(pd.concat([ok.head(n_min - 1), bad]), ref,
                                         "biceps_brachii")
    assert r.rule == "too_few_muaps"
    assert f"{len(bad)} of {len(bad) + n_min - 1} MUAP(s) rejected" in r.reasons[0]
    # a reference built with rejected MUAPs added is the one built without them
    noisy = pd.concat([muaps.assign(accepted=True, reject_rule=""),
                       muaps.assign(duration_ms=1.0, accepted=False, reject_rule="rise_time")],
                      ignore_index=True)
    pd.testing.assert_frame_equal(build_lab_reference(noisy, recs, lab="syn").table, ref.table)
    # the lab classifier's features
    units = pd.DataFrame({"recording": ["r1", "r2"], "subject": ["S", "S"],
                          "muscle": ["biceps_brachii"] * 2, "record_s": [10.0, 10.0]})
    f = clf.unit_features(m, None, units, features=["duration_ms:median", "muaps_per_s",
                                                     "duration_ms:median@min"])
    assert f.at[0, "n_muaps"] == 12 and f.at[0, "duration_ms:median@min"] == 10.0
    assert f.at[0, "muaps_per_s"] == pytest.approx(12 / 20.0)


def test_a_reference_without_muap_means_for_the_muscle_says_so():
    # controls whose MUAPs were mostly rejected leave a muscle with interference features only
    recs, muaps = _lab()
    ref = build_lab_reference(muaps, recs, lab="syn")
    t = ref.table[ref.table.index.get_level_values("feature") == "phases"]
    ref.table = t.rename(index={"phases": "ip_turns_per_s"}, level="feature")
    r, z = read_muscle_against_reference(muaps.head(20), ref, "biceps_brachii")
    assert (r.pattern, r.rule) == ("indeterminate", "no_reference_for_muscle") and z.empty
    assert "no MUAP means" in r.reasons[0]


def test_acceptance_table_counts_by_dataset_and_group():
    m = _table()
    recs = pd.DataFrame({"recording": ["r1", "r2"], "dataset": ["lab", "lab"],
                         "truth": ["normal", "myopathic"]})
    t = acceptance_table(recs, m).set_index("truth")
    assert t.at["normal", "n_muaps"] == 9 == t.at["normal", "accepted"] + t.at["normal", "rejected"]
    assert t.at["normal", "rise_time"] == 3 and t.at["myopathic", "rejected"] == 0
    assert t.at["normal", "median_duration_all_ms"] == 10.0
    assert t.at["normal", "median_duration_accepted_ms"] == 10.0
    assert set(REJECT_RULES) <= set(t.columns)


def test_a_recording_whose_muaps_are_all_rejected_is_not_judged():
    x, _ = weak_contraction(duration_s=4.0)   # smooth pulses rising over milliseconds
    rec = Recording(samples=x, fs_hz=10_000.0, calibrated=True, name="smooth")
    for reference in (None, "illustrative"):
        a = analyze_recording(rec, muscle="biceps_brachii", age_years=40, reference=reference)
        assert a.summary["n_units"] > 0 and a.summary["n_muaps_accepted"] == 0
        assert (a.reading.pattern, a.reading.rule) == ("indeterminate", "no_accepted_muaps")
        assert "rejected by the acceptance criteria" in a.reading.reasons[0]
        row = a.recordings_row()
        assert row["n_muaps_rejected"] == row["n_units"] and np.isnan(row["mean_duration_ms"])
        assert row["reject_rules"].startswith("rise_time:")
        assert a.emg_row("P1")["muap_duration"] == ""   # nothing judged, not "normal"


def test_reference_build_from_controls_without_accepted_muaps_writes_nothing(tmp_path, capsys):
    import argparse

    from edxreview.cli import emg

    files = []
    for i, seed in enumerate((80, 82, 83)):   # smooth pulses: every MUAP rejected (rise time)
        x, _ = weak_contraction(seed=seed, duration_s=4.0)
        p = tmp_path / f"c{i}.bin"
        np.round(x * 5).astype("<i2").tofile(p)
        files.append(str(p))
    parser = argparse.ArgumentParser()
    emg.add_parser(parser.add_subparsers(dest="command"))
    out = tmp_path / "ref.toml"
    args = parser.parse_args(["emg", "reference", "build", *files, "--fs", "10000", "--gain",
                              "5000", "--muscle", "biceps_brachii", "--out", str(out), "-q"])
    assert args.func(args) == 1
    err = capsys.readouterr().err
    assert "no accepted MUAPs in the control recordings" in err and "rise time" in err
    assert not out.exists()


def test_the_bundled_parameters_measure_the_rise_time_but_do_not_reject_by_it(monkeypatch):
    assert load_signal_parameters.__wrapped__()["acceptance"]["apply_rise_time"] is False
    monkeypatch.setitem(load_signal_parameters()["acceptance"], "apply_rise_time", False)
    y = _average(1.5)
    q = assess_waveforms(y[None], FS, BEFORE, np.array([2.0]), np.array([20]))
    assert q.at[0, "rise_time_ms"] > load_signal_parameters()["acceptance"]["rise_time_max_ms"]
    assert bool(q.at[0, "accepted"]) and q.at[0, "reject_rule"] == ""


def _contraction_and_rest(rest_s: float):
    """A 4-s contraction of a large unit (about 1.5 mV, 12 Hz) and a small one (about 190 µV,
    9 Hz), both firing irregularly over 3 µV of noise, then ``rest_s`` of the same noise."""
    rng = np.random.default_rng(5)
    fs, n = 20_000.0, 80_000
    x = rng.normal(0, 3.0, n)
    t = np.arange(-40, 41) / fs * 1e3
    for rate, amp in ((12.0, 1500.0), (9.0, 150.0)):
        c = np.cumsum(rng.normal(fs / rate, 0.1 * fs / rate, 60)).astype(int)
        for ci in c[(c > 100) & (c < n - 100)]:
            x[ci - 40:ci + 41] += _triphasic(t, amp)
    return np.r_[x, rng.normal(0, 3.0, int(rest_s * fs))], fs


def test_template_rms_ratio_does_not_depend_on_the_rest_in_the_file():
    # the same contraction alone and with 12 s of rest appended: the same units (the
    # decomposition of the contraction, on each file's own filtered signal) have the same
    # ratio and the same acceptance, the ratio being taken over the active stretches only.
    # Over the whole file the rest would lower the RMS about twofold and let the small unit pass.
    from dataclasses import replace

    from edxreview.signal._detect import filter_bands
    from edxreview.signal._spontaneous import segment_activity

    x, fs = _contraction_and_rest(0.0)
    alone = Recording(samples=x, fs_hz=fs, calibrated=True, name="alone")
    dec = sort_units(alone)
    a = measure_muaps(alone, dec)
    x, fs = _contraction_and_rest(12.0)
    padded = Recording(samples=x, fs_hz=fs, calibrated=True, name="with rest")
    measure, detect = filter_bands(padded)
    seg = segment_activity(padded)
    assert seg["state"].tolist() == ["active", "rest"]        # the rest is seen as rest
    b = measure_muaps(padded, replace(dec, measure=measure, detect=detect), seg)
    assert len(a) == len(b) >= 2
    np.testing.assert_allclose(b["template_rms_ratio"], a["template_rms_ratio"], rtol=0.01)
    assert b["accepted"].tolist() == a["accepted"].tolist()
    assert b["reject_rule"].tolist() == a["reject_rule"].tolist()
    # the small unit is the one the rule judges: below 2.5 either way, the large one above
    assert set(a["reject_rule"]) == {"", "small_against_signal"}
    # the analysis as a whole reads the rest as rest and measures the small unit alike
    small = []
    for r in (alone, padded):
        m = analyze_recording(r).muaps
        small.append(m.loc[m["amplitude_uv"].idxmin()])
    assert small[1]["template_rms_ratio"] == pytest.approx(small[0]["template_rms_ratio"], rel=0.01)
    assert small[0]["reject_rule"] == small[1]["reject_rule"] == "small_against_signal"


def test_template_rms_ratio_without_an_active_stretch_is_against_the_whole_signal():
    from edxreview.signal._acceptance import template_rms_ratios

    signal = np.r_[np.full(50, 10.0), np.full(50, -10.0)]       # RMS 10
    tpl = np.array([[0.0, 30.0, -20.0]])
    whole = template_rms_ratios(tpl, signal)
    assert whole.tolist() == [5.0]
    assert template_rms_ratios(tpl, signal, np.zeros(100, bool)).tolist() == [5.0]
    active = np.arange(100) < 50
    assert template_rms_ratios(tpl, signal * np.r_[np.ones(50), np.full(50, 0.1)],
                               active).tolist() == [5.0]


def _dense_contraction_and_rest(rest_s: float):
    """The contraction of :func:`_contraction_and_rest` over a background of many small
    units (band-limited activity of about 10 µV SD) that a relaxed rest does not have."""
    from scipy import signal as sps

    x, fs = _contraction_and_rest(0.0)
    rng = np.random.default_rng(11)
    sos = sps.butter(2, [300.0, 2000.0], btype="bandpass", fs=fs, output="sos")
    background = sps.sosfiltfilt(sos, rng.normal(0, 1.0, x.size))
    x = x + background * (10.0 / background.std())
    return np.r_[x, rng.normal(0, 3.0, int(rest_s * fs))], fs


def test_sorting_and_measurement_noise_do_not_depend_on_the_rest_in_the_file():
    # The noise SD that sets the detection threshold and each average's expected noise is the
    # contraction's. Over the whole file, 12 s of rest beside a 4-s dense contraction would
    # lower it about threefold: a lower threshold, and duration markers running further out.
    from edxreview.signal._detect import filter_bands, robust_noise_sd

    runs = []
    for rest_s in (0.0, 12.0):
        x, fs = _dense_contraction_and_rest(rest_s)
        runs.append(analyze_recording(Recording(samples=x, fs_hz=fs, calibrated=True,
                                                name=f"rest {rest_s}")))
    alone, padded = runs
    assert padded.segments["state"].tolist() == ["active", "rest"]
    whole = robust_noise_sd(filter_bands(padded.recording)[1], padded.recording.fs_hz)
    assert whole < 0.5 * alone.decomposition.noise_sd                  # the file's noise: the rest's
    assert padded.decomposition.noise_sd == pytest.approx(alone.decomposition.noise_sd, rel=0.02)
    assert padded.muaps.attrs["noise_sd"] == pytest.approx(alone.muaps.attrs["noise_sd"],
                                                           rel=0.02)
    a, b = (r.muaps[r.muaps["accepted"]].sort_values("amplitude_uv") for r in runs)
    assert len(a) == len(b) >= 1
    np.testing.assert_allclose(b["duration_ms"], a["duration_ms"], atol=0.2)
