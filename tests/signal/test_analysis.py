import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _synth import add_train, fibrillation_wave, muap_shape, weak_contraction  # noqa: E402

from edxreview._errors import InvalidParameterError
from edxreview.signal._params import load_signal_parameters
from edxreview.signal import Recording, analyze_recording
from edxreview.signal._classify import classify_recording, lookup_reference
from edxreview.signal._spontaneous import detect_spontaneous, segment_activity
from edxreview.signal._measure import measure_waveform
from edxreview.signal._muap import sort_units

FS = 10000.0


def _rec(x, calibrated=True):
    return Recording(samples=x, fs_hz=FS, calibrated=calibrated, name="synthetic")


def _match(found, truth, tol):
    found = np.sort(found)
    hits = 0
    for s in truth:
        i = np.searchsorted(found, s)
        near = [found[j] for j in (i - 1, i) if 0 <= j < found.size]
        hits += any(abs(f - s) <= tol for f in near)
    return hits


def test_decomposition_finds_synthetic_units():
    x, truth = weak_contraction()
    dec = sort_units(_rec(x))
    all_truth = np.concatenate([t for _, t in truth])
    found = dec.discharges["sample"].to_numpy()
    sens = _match(found, all_truth, int(1.5e-3 * FS)) / all_truth.size
    prec = _match(all_truth, found, int(1.5e-3 * FS)) / max(1, found.size)
    assert sens >= 0.9 and prec >= 0.9
    # a unit may be split in two by the sorter; it must not be missed
    assert 3 <= dec.discharges["unit"].nunique() <= 4


@pytest.mark.parametrize("duration_ms", [6.0, 10.0, 16.0])
def test_duration_measured_within_tolerance(duration_ms):
    # a triphasic wave whose extent above 3 % of peak-to-peak is known analytically
    w = muap_shape(FS, duration_ms, 600.0, 3)
    y = np.zeros(int(0.04 * FS))
    c = y.size // 2
    y[c - w.size // 2 : c - w.size // 2 + w.size] += w
    m = measure_waveform(y, FS, c, noise_sd=2.0)
    # noiseless average: the band is 3 x the expected noise SD of the average (6 µV here)
    above = np.flatnonzero(np.abs(w) > 3 * 2.0)
    expected = (above[-1] - above[0]) / FS * 1e3
    assert m["duration_ms"] == pytest.approx(expected, abs=0.5)
    assert m["phases"] == 3
    assert m["amplitude"] == pytest.approx(600.0, rel=0.02)


def test_duration_is_that_of_the_component_at_the_discharge_time():
    # the average of a unit holds a larger potential 4.5 ms after its own (another unit firing in
    # step with it), separated by baseline: the duration is that of the unit's own MUAP, the one
    # at the discharge time it was aligned on, not that of the largest excursion
    own = muap_shape(FS, 4.0, 200.0, 3)
    other = muap_shape(FS, 2.0, 800.0, 2)
    y = np.zeros(int(0.04 * FS))
    c = y.size // 2
    y[c - own.size // 2 : c - own.size // 2 + own.size] += own
    d = c + int(4.5e-3 * FS)
    y[d - other.size // 2 : d - other.size // 2 + other.size] += other
    m = measure_waveform(y, FS, c, noise_sd=2.0)
    above = np.flatnonzero(np.abs(own) > 3 * 2.0)
    expected = (above[-1] - above[0]) / FS * 1e3
    assert m["onset_ms"] <= 0.0 <= m["end_ms"]
    assert m["duration_ms"] == pytest.approx(expected, abs=0.5)
    assert m["end_ms"] < 3.5  # the other potential (from 3.5 ms on) is left out
    assert m["spike_duration_ms"] < 2.0  # the spike is the unit's own


def test_duration_band_follows_the_averages_own_baseline_noise():
    # background left in the average by other units' activity widens the band: the duration is
    # where the MUAP leaves 3 SD of that baseline, not the extent down to the quiet-record noise
    rng = np.random.default_rng(0)
    w = muap_shape(FS, 16.0, 600.0, 3)
    y = np.zeros(int(0.04 * FS))
    c = y.size // 2
    y[c - w.size // 2 : c - w.size // 2 + w.size] += w
    base_sd = 8.0
    slow = np.convolve(rng.normal(0, 1, y.size), np.ones(5) / 5, mode="same")
    y_noisy = y + base_sd * slow / slow.std()
    m_clean = measure_waveform(y, FS, c, noise_sd=0.3)
    m_noisy = measure_waveform(y_noisy, FS, c, noise_sd=0.3)
    assert m_noisy["baseline_sd"] == pytest.approx(base_sd, rel=0.5)
    above = np.flatnonzero(np.abs(w) > 3 * m_noisy["baseline_sd"])
    expected = (above[-1] - above[0]) / FS * 1e3
    assert m_noisy["duration_ms"] == pytest.approx(expected, abs=1.5)
    assert m_noisy["duration_ms"] < m_clean["duration_ms"]


def test_duration_ignores_a_baseline_offset_between_the_window_ends():
    # slow drift: the averaged MUAP ends 60 µV above where it starts
    w = muap_shape(FS, 10.0, 600.0, 3)
    y = np.zeros(int(0.03 * FS))
    c = y.size // 2
    y[c - w.size // 2 : c - w.size // 2 + w.size] += w
    flat = measure_waveform(y, FS, c, noise_sd=2.0)
    drift = measure_waveform(y + np.linspace(-30.0, 30.0, y.size), FS, c, noise_sd=2.0)
    assert drift["duration_ms"] == pytest.approx(flat["duration_ms"], abs=1.0)


@pytest.mark.parametrize(
    "summary,calibrated,expected",
    [
        (dict(n_units=10, mean_duration_ms=11.0, mean_amplitude_uv=600, polyphasic_pct=5), True, "normal"),
        (dict(n_units=10, mean_duration_ms=16.0, mean_amplitude_uv=2500, polyphasic_pct=30), True, "neurogenic"),
        (dict(n_units=10, mean_duration_ms=6.5, mean_amplitude_uv=150, polyphasic_pct=40), True, "myopathic"),
        (dict(n_units=2, mean_duration_ms=6.5, mean_amplitude_uv=150, polyphasic_pct=40), True, "indeterminate"),
        (dict(n_units=10, mean_duration_ms=16.0, mean_amplitude_uv=100, polyphasic_pct=0), True, "indeterminate"),
        (dict(n_units=10, mean_duration_ms=16.0, mean_amplitude_uv=np.nan, polyphasic_pct=0), False, "neurogenic"),
    ],
    ids=["normal biceps", "chronic reinnervation", "myopathy", "too few units", "conflicting signs",
         "uncalibrated long MUAPs"],
)
def test_reading(summary, calibrated, expected):
    ref = lookup_reference("biceps_brachii", 45)
    r = classify_recording(summary, ref, calibrated)
    assert r.pattern == expected
    if not calibrated:
        assert any("no gain" in s for s in r.reasons)


def test_polyphasia_alone_is_non_specific():
    # normal duration, uncalibrated: excess polyphasia does not choose a side by itself
    ref = lookup_reference("biceps_brachii", 45)
    s = dict(n_units=10, mean_duration_ms=ref.duration_mean_ms + 0.5, mean_amplitude_uv=np.nan,
             polyphasic_pct=60)
    r = classify_recording(s, ref, False)
    assert r.pattern == "indeterminate"
    assert any("non-specific" in x for x in r.reasons)
    # with a long duration it supports the neurogenic reading
    r2 = classify_recording(dict(s, mean_duration_ms=ref.duration_upper_ms + 2), ref, False)
    assert r2.pattern == "neurogenic" and any("counts as neurogenic" in x for x in r2.reasons)


@pytest.mark.parametrize(
    "summary,calibrated,expected,reason",
    [
        # PhysioNet emg_myopathy-like: normal duration, normal amplitude, 73 % polyphasic
        (dict(n_units=15, mean_duration_ms=14.7, mean_amplitude_uv=425, polyphasic_pct=73),
         True, "myopathic", "not large"),
        # polyphasia with normal duration but MUAPs above 500 µV (MND subjects 090 and 108 of
        # the Pattichis table): no side
        (dict(n_units=15, mean_duration_ms=11.7, mean_amplitude_uv=750, polyphasic_pct=50),
         True, "indeterminate", "not small"),
        # uncalibrated, thin polyphasic MUAPs: myopathic
        (dict(n_units=8, mean_duration_ms=11.0, mean_amplitude_uv=np.nan, polyphasic_pct=50,
              mean_thickness_ms=1.0), False, "myopathic", "thin MUAPs"),
        # uncalibrated, polyphasic but not thin: no side
        (dict(n_units=8, mean_duration_ms=11.0, mean_amplitude_uv=np.nan, polyphasic_pct=50,
              mean_thickness_ms=2.2), False, "indeterminate", "not thin"),
        # uncalibrated, long but thin polyphasic MUAPs (N2001 M03-like): the length is not
        # counted as neurogenic and the polyphasia is myopathic
        (dict(n_units=8, mean_duration_ms=15.6, mean_amplitude_uv=np.nan, polyphasic_pct=100,
              mean_thickness_ms=1.0), False, "myopathic", "not counted as neurogenic"),
        # uncalibrated, long and thick: neurogenic as before
        (dict(n_units=8, mean_duration_ms=15.6, mean_amplitude_uv=np.nan, polyphasic_pct=50,
              mean_thickness_ms=2.4), False, "neurogenic", "counts as neurogenic"),
        # uncalibrated, long thin MUAPs without polyphasia: thinness alone is no sign
        (dict(n_units=8, mean_duration_ms=15.6, mean_amplitude_uv=np.nan, polyphasic_pct=0,
              mean_thickness_ms=1.0), False, "normal", "not counted as neurogenic"),
    ],
    ids=["polymyositis, calibrated", "polyphasic large MUAPs", "thin polyphasic, no gain",
         "thick polyphasic, no gain", "long thin polyphasic, no gain",
         "long thick polyphasic, no gain", "long thin, no gain"],
)
def test_polyphasia_side_follows_size(summary, calibrated, expected, reason):
    ref = lookup_reference("biceps_brachii", 45) if calibrated is False else \
        lookup_reference("tibialis_anterior", 57)
    r = classify_recording(summary, ref, calibrated)
    assert r.pattern == expected
    assert any(reason in x for x in r.reasons), r.reasons


def test_polyphasia_needs_enough_muaps():
    # 2 of 9 MUAPs polyphasic (22 %) against a 15 % limit: P(X >= 2 | 9, 0.15) = 0.40, so the
    # excess is not counted; 5 of 9 (56 %): P = 0.006, counted (scipy.stats.binom; by hand
    # 1 - sum_{k<5} C(9,k) 0.15^k 0.85^(9-k) = 0.0056)
    ref = lookup_reference("biceps_brachii", 45)
    s = dict(n_units=9, mean_duration_ms=11.0, mean_amplitude_uv=300, polyphasic_pct=100 * 2 / 9)
    r = classify_recording(s, ref, True)
    assert r.pattern == "normal" and any("not significantly" in x for x in r.reasons)
    r = classify_recording(dict(s, polyphasic_pct=100 * 5 / 9), ref, True)
    assert r.pattern == "myopathic"


def test_very_large_muaps_outweigh_short_duration():
    # PhysioNet emg_neuropathy-like summary: short mean duration but > 3 mV and polyphasic;
    # the threshold is the lower end of "high, often > 3-5 mV" (domain notes 2.2)
    ref = lookup_reference("tibialis_anterior", 62)
    s = dict(n_units=8, mean_duration_ms=8.6, mean_amplitude_uv=3130, polyphasic_pct=62)
    r = classify_recording(s, ref, True)
    assert r.pattern == "neurogenic"
    assert any("not counted as myopathic" in x for x in r.reasons)
    # the same numbers without a gain cannot use amplitude: short duration stays myopathic
    s_raw = dict(s, mean_amplitude_uv=float("nan"))
    assert classify_recording(s_raw, ref, False).pattern == "myopathic"


def test_unknown_muscle_suggests():
    with pytest.raises(InvalidParameterError, match="Did you mean 'biceps_brachii'"):
        lookup_reference("biceps_brachi", 40)


def test_unknown_age_uses_a_middle_aged_adult_and_says_so():
    ref = lookup_reference("biceps_brachii", None)
    mid = lookup_reference("biceps_brachii", 45)
    assert (ref.duration_lower_ms, ref.duration_upper_ms) == (mid.duration_lower_ms, mid.duration_upper_ms)
    assert ref.age_note.startswith("age unknown") and "40-49 y" in ref.age_note
    young, old = lookup_reference("biceps_brachii", 25), lookup_reference("biceps_brachii", 75)
    assert young.duration_lower_ms < ref.duration_lower_ms and ref.duration_upper_ms < old.duration_upper_ms


def test_reference_covers_adult_ages():
    for m in ["biceps_brachii", "vastus_medialis", "tibialis_anterior", "deltoid", "first_dorsal_interosseous"]:
        for age in (20, 35, 50, 65, 80):
            ref = lookup_reference(m, age)
            assert ref.duration_lower_ms < ref.duration_mean_ms < ref.duration_upper_ms


def _rest_with(generators, duration_s=10.0, seed=3):
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 8.0, int(duration_s * FS))
    for wave, times in generators:
        add_train(x, FS, wave, times)
    return x


@pytest.mark.parametrize(
    "n_trains,expected",
    [
        (0, "0"),
        (1, "1+"),
        (2, "2+"),
        pytest.param(5, "3+", marks=pytest.mark.xfail(reason="dense trains make the record read as voluntary activity", strict=False)),
    ],
    ids=["clean rest", "one sustained train", "two trains", "many trains"],
)
def test_fibrillation_grades(n_trains, expected):
    rng = np.random.default_rng(n_trains)
    gens = []
    for i in range(n_trains):
        w = fibrillation_wave(FS, 100.0 + 60 * i) * (1 if i % 2 == 0 else -1) ** 0
        rate = 2.0 + 1.7 * i
        times = np.arange(0.1 + 0.011 * i, 9.9, 1 / rate) + rng.normal(0, 0.002, size=1)
        gens.append((w if i % 2 == 0 else np.roll(w, 3) * 0.8, times))
    x = _rest_with(gens)
    pot, grades = detect_spontaneous(_rec(x))
    assert grades["fibs"] == expected


def test_fasciculations_irregular_muap_like():
    rng = np.random.default_rng(7)
    w = muap_shape(FS, 10.0, 900.0, 3)
    times = np.sort(rng.uniform(0.2, 9.8, 6))
    x = _rest_with([(w, times)])
    _, grades = detect_spontaneous(_rec(x))
    assert grades["fasciculations"] == "present"
    assert grades["fibs"] == "0"


def test_segmentation_rest_then_activity():
    x, _ = weak_contraction(duration_s=4.0)
    rest = np.random.default_rng(2).normal(0, 10.0, int(4 * FS))
    seg = segment_activity(_rec(np.r_[x, rest]))
    active = seg[seg.state == "active"]
    assert len(active) >= 1
    assert active.start_s.min() < 0.5 and active.end_s.max() == pytest.approx(4.0, abs=0.3)


def test_analyze_and_emg_row():
    x, _ = weak_contraction()
    a = analyze_recording(_rec(x), muscle="biceps_brachii", age_years=40)
    row = a.emg_row("P01", "right")
    assert row["patient_id"] == "P01" and row["muscle"] == "biceps_brachii"
    assert 3 <= a.summary["n_units"] <= 4
    assert a.recordings_row()["pattern"] in {"normal", "neurogenic", "myopathic", "indeterminate"}


def test_the_illustrative_table_is_used_only_when_asked_for():
    x, _ = weak_contraction(spiky=True, spike_ms=1.2)  # MUAPs the acceptance criteria keep
    a = analyze_recording(_rec(x), muscle="biceps_brachii", age_years=40)
    assert a.reading.pattern == "indeterminate" and a.reading.rule == "no_reference"
    b = analyze_recording(_rec(x), muscle="biceps_brachii", age_years=40, reference="illustrative")
    assert b.reference is not None and "unverified" in b.reading.reasons[0]
    # the workbook row takes no qualitative reading from the unverified table (the review
    # lets a qualitative reading stand); it carries the reading the screen shows
    row = b.emg_row("P01")
    assert (row["muap_duration"], row["muap_amplitude"], row["polyphasia"]) == ("", "", "")
    assert (row["muap_pattern"], row["muap_rule"]) == (b.reading.pattern, b.reading.rule)
    assert row["muap_rule"] == "illustrative_rules"
    with pytest.raises(InvalidParameterError, match="illustrative"):
        analyze_recording(_rec(x), muscle="biceps_brachii", reference="buchthal")


def _cli(argv):
    from edxreview.cli import emg

    parser = argparse.ArgumentParser()
    emg.add_parser(parser.add_subparsers(dest="command"))
    return emg.run(parser.parse_args(argv))


def test_cli_writes_outputs_and_refuses_existing(tmp_path):
    x, _ = weak_contraction()  # smooth pulses rising over ms: every MUAP rejected
    p = tmp_path / "syn.bin"
    np.round(x).astype("<i2").tofile(p)
    out = tmp_path / "out"
    rc = _cli(["emg", "analyze", str(p), "--fs", "10000", "--out", str(out), "-q", "--muscle",
               "biceps_brachii", "--patient", "P1", "--no-figures"])
    assert rc == 0
    rows = pd.read_csv(out / "recordings.csv")
    assert list(rows.columns) == ["file", "muscle", "calibrated", "n_units", "n_muaps_accepted",
                                  "n_muaps_rejected", "reject_rules", "n_discharges",
                                  "mean_duration_ms", "mean_amplitude_uv", "polyphasic_pct",
                                  "mean_thickness_ms", "satellite_pct", "mains_fraction",
                                  "pattern", "rule",
                                  "reasons",
                                  "ip_epochs", "ip_turns_per_s", "ip_mean_amplitude_uv",
                                  "ip_pattern", "ip_rule", "ip_reasons", "rest_graded_s",
                                  "fibs", "psw", "fasciculations", "spont_rule",
                                  "spont_not_graded_reason", "spont_reasons", "reference_note"]
    assert not rows.loc[0, "calibrated"] and "no gain" in rows.loc[0, "reasons"]
    # a weak contraction all along (its quiet stretches are pauses between bursts, within the
    # guard time of the bursts): spontaneous activity not graded, and the workbook row says
    # nothing (blank, the emg sheet's missing value) rather than a grade
    assert rows.loc[0, "spont_rule"] == "spont_not_graded"
    assert rows.loc[0, "spont_reasons"].startswith("not graded: ")
    assert "guard time" in rows.loc[0, "spont_reasons"]
    emg = pd.read_csv(out / "emg_rows.csv", keep_default_na=False, dtype=str)
    assert emg.loc[0, ["fibs", "psw", "fasciculations"]].tolist() == ["", "", ""]
    # smooth pulses whose main spike rises over milliseconds: the rise time is measured, but
    # the bundled parameters do not reject by it ([acceptance] apply_rise_time = false); the
    # all-rejected path (rule no_accepted_muaps) is tested in test_acceptance.py. muaps.csv
    # keeps every MUAP with its rule (rows in = accepted + rejected)
    assert rows.loc[0, "n_units"] > 0
    assert rows.loc[0, "n_muaps_accepted"] + rows.loc[0, "n_muaps_rejected"] == rows.loc[0, "n_units"]
    m = pd.read_csv(out / "muaps.csv", keep_default_na=False)
    assert len(m) == rows.loc[0, "n_units"]
    limit = load_signal_parameters()["acceptance"]["rise_time_max_ms"]
    assert (m["rise_time_ms"].astype(float) > limit).any()
    assert "rise_time" not in set(m["reject_rule"])
    assert (out / "muaps.csv").is_file() and (out / "emg_rows.csv").is_file()
    # an existing output folder is wrong usage (exit 2), as for every command; --force replaces it
    assert _cli(["emg", "analyze", str(p), "--fs", "10000", "--out", str(out), "-q"]) == 2
    assert _cli(["emg", "analyze", str(p), "--fs", "10000", "--out", str(out), "-q",
                 "--no-figures", "--force"]) == 0
    assert not (out / "emg_rows.csv").exists()


def test_cli_bad_file_clear_message(tmp_path, capsys):
    p = tmp_path / "odd.bin"
    p.write_bytes(b"abc")
    rc = _cli(["emg", "analyze", str(p), "--fs", "1000", "--out", str(tmp_path / "o"), "-q"])
    assert rc == 1
    err = capsys.readouterr().err
    assert "odd.bin" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_spiky_muaps_are_not_split_into_shifted_copies():
    # brief main spikes on slow phases (as recorded near the fibres): the lobes and filter
    # ringing beside a spike must not become units of their own (shifted copies)
    fs = 23437.5
    x, truth = weak_contraction(fs_hz=fs, duration_s=6.0, spiky=True)
    dec = sort_units(Recording(samples=x, fs_hz=fs, calibrated=True, name="spiky"))
    all_truth = np.concatenate([t for _, t in truth])
    found = dec.discharges["sample"].to_numpy()
    assert _match(found, all_truth, int(1e-3 * fs)) / all_truth.size >= 0.8
    assert 3 <= dec.discharges["unit"].nunique() <= 4


def test_spike_duration_lies_within_the_muap():
    # a main spike, 2 ms of baseline, then a late component of 70 % of its size: the late
    # component is a satellite, outside the duration, and so outside the spike as well
    w = muap_shape(FS, 3.0, 600.0, 2)
    y = np.zeros(int(0.04 * FS))
    c = y.size // 2
    y[c - w.size // 2 : c - w.size // 2 + w.size] += w
    late = c + w.size // 2 + int(2e-3 * FS)
    y[late : late + w.size] += 0.7 * w
    m = measure_waveform(y, FS, c, noise_sd=2.0)
    assert m["end_ms"] < (late - c) / FS * 1e3          # the satellite is left out
    assert 0 < m["spike_duration_ms"] <= m["duration_ms"]


def test_the_filter_bands_of_one_recording_are_never_served_for_another():
    from edxreview.signal._detect import filter_bands

    x, _ = weak_contraction(seed=2)
    a = _rec(x)
    first = filter_bands(a)
    assert filter_bands(a)[0] is first[0]             # the same samples: computed once
    b = _rec(x.copy())                                # equal values, another array
    assert filter_bands(b)[0] is not first[0]
    np.testing.assert_array_equal(filter_bands(b)[0], first[0])
    c = _rec(np.r_[x[: x.size // 2], x[: x.size // 2]])
    assert not np.array_equal(filter_bands(c)[0], first[0])
