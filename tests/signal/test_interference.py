"""Interference-pattern (turns/amplitude) reading: turns, epochs, the reading against a lab's
controls, and its place in the analysis output."""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _cli import emg_cli as _cli  # noqa: E402
from _synth import weak_contraction  # noqa: E402

from edxreview.signal import Recording, analyze_recording
from edxreview.signal._spontaneous import segment_activity
from edxreview.signal._interference import (
    SPECTRAL_COLUMNS,
    IP_FEATURES,
    band_columns,
    band_edges,
    cloud_line,
    cloud_residuals,
    interference_epochs,
    interference_stats,
    read_interference,
    turning_points,
)
from edxreview.signal._reference import build_lab_reference, read_lab_reference


@pytest.mark.parametrize("x,thr,turns", [
    ([0, 150, 100, 300, 0], 100, [0, 3]),       # the dip of 50 is no turn; the last extreme unconfirmed
    ([0, 150, 100, 300, 0, 120], 100, [0, 3, 4]),
    ([0, 50, 20, 60, 10], 100, []),             # never 100 apart
    ([200, 0, 150, 149, 300, 100], 100, [0, 1, 4]),
], ids=["rise with a small dip", "full zigzag", "below threshold", "starts falling"])
def test_turns_are_reversals_of_at_least_the_threshold(x, thr, turns):
    assert turning_points(np.array(x, float), thr).tolist() == turns


def test_turns_alternate_and_every_swing_reaches_the_threshold():
    rng = np.random.default_rng(3)
    x = rng.normal(size=5000).cumsum() * 20
    t = turning_points(x, 100.0)
    swings = np.diff(x[t])
    assert t.size > 10 and np.all(np.abs(swings) >= 100.0)
    assert np.all(np.sign(swings[1:]) == -np.sign(swings[:-1]))  # up, down, up...


UNITS = [(10.0, 1200.0, 3), (8.0, 900.0, 2), (12.0, 700.0, 4), (14.0, 1000.0, 3)]


def _rec(scale=1.0, seed=1, units=UNITS, noise_uv=10.0, calibrated=True):
    x, _ = weak_contraction(fs_hz=10000.0, duration_s=6.0, seed=seed, units=units,
                            noise_uv=noise_uv)
    return Recording(samples=x * scale, fs_hz=10000.0, calibrated=calibrated, name=f"r{seed}")


def test_epochs_of_a_contraction_and_none_without_a_gain():
    rec = _rec()
    ep = interference_epochs(rec, segment_activity(rec))
    assert len(ep) >= 6 and (ep["ip_turns_per_s"] > 0).all()
    np.testing.assert_allclose(ep["ip_log_ratio"],
                               np.log10(ep["ip_turns_per_s"] / ep["ip_mean_amplitude_uv"]))
    # the same motor units three times larger over the same noise: larger changes between turns
    big = _rec(units=[(r, a * 3, ph) for r, a, ph in UNITS])
    ep3 = interference_epochs(big, segment_activity(big))
    assert ep3["ip_mean_amplitude_uv"].mean() > 2 * ep["ip_mean_amplitude_uv"].mean()
    raw = _rec(calibrated=False)
    none = interference_epochs(raw, segment_activity(raw))
    assert none.empty and "no gain" in none.attrs["reason"]


def _controls(n=6):
    rows, recs = [], []
    for i in range(n):
        rec = _rec(seed=20 + i)
        ep = interference_epochs(rec, segment_activity(rec)).assign(recording=f"c{i}")
        rows.append(ep)
        recs.append({"recording": f"c{i}", "subject": f"c{i}", "muscle": "biceps_brachii"})
    ep = pd.concat(rows, ignore_index=True)
    ref = build_lab_reference(None, pd.DataFrame(recs), stats=interference_stats(ep),
                              features=list(IP_FEATURES))
    return ref


def test_reading_against_the_controls():
    ref = _controls()
    assert set(ref.table.loc["biceps_brachii"].index) == set(IP_FEATURES)
    own = _rec(seed=40)
    r, z = read_interference(interference_epochs(own, segment_activity(own)), ref,
                             "biceps_brachii")
    assert r.pattern == "normal" and r.rule == "interference_ratio"
    # many small turns (small, many units: the myopathic pattern) read above the controls' ratio
    small = _rec(seed=41, units=[(u[0], u[1] / 4, 5) for u in UNITS * 2])
    r, z = read_interference(interference_epochs(small, segment_activity(small)), ref,
                             "biceps_brachii")
    assert z.at["ip_log_ratio", "z"] > 0


@pytest.mark.parametrize("case,rule", [("no reference", "interference_no_reference"),
                                       ("other muscle", "interference_no_reference"),
                                       ("too few epochs", "interference_too_few_epochs")])
def test_no_reading_without_a_reference_or_enough_epochs(case, rule):
    ref = _controls(5)
    rec = _rec(seed=50)
    ep = interference_epochs(rec, segment_activity(rec))
    if case == "no reference":
        r, _ = read_interference(ep, None, "biceps_brachii")
    elif case == "other muscle":
        r, _ = read_interference(ep, ref, "deltoid")
    else:
        r, _ = read_interference(ep.iloc[:2], ref, "biceps_brachii")
    assert r.pattern == "indeterminate" and r.rule == rule




@pytest.mark.slow
def test_reference_build_holds_the_interference_features_and_analyze_reads_them(tmp_path):
    files = []
    for i in range(5):
        x, _ = weak_contraction(seed=60 + i, duration_s=4.0, units=UNITS, spiky=True,
                                spike_ms=1.2)
        p = tmp_path / f"ctrl{i}.txt"
        p.write_text("\n".join(f"{v:.2f}" for v in x))
        files.append(str(p))
    ref = tmp_path / "ref.toml"
    assert _cli(["emg", "reference", "build", *files, "--fs", "10000", "--muscle",
                 "biceps_brachii", "--out", str(ref), "-q"]) == 0
    feats = read_lab_reference(ref).table.loc["biceps_brachii"].index
    assert set(IP_FEATURES) <= set(feats)
    out = tmp_path / "out"
    assert _cli(["emg", "analyze", *files[:2], "--fs", "10000", "--muscle", "biceps_brachii",
                 "--reference", str(ref), "--subject", "S1", "--out", str(out), "-q",
                 "--no-figures"]) == 0
    rows = pd.read_csv(out / "recordings.csv")
    assert set(rows["ip_rule"]) <= {"interference_ratio", "interference_too_few_epochs"}
    subj = pd.read_csv(out / "subjects.csv")
    assert subj.loc[0, "ip_rule"] == "interference_ratio" and np.isfinite(subj.loc[0, "z_ip_log_ratio"])


def test_analysis_carries_the_second_reading():
    a = analyze_recording(_rec(seed=70), muscle="biceps_brachii")
    assert a.interference is not None and len(a.interference) >= 4
    assert a.interference_reading.rule == "interference_no_reference"
    row = a.recordings_row()
    assert row["ip_epochs"] == len(a.interference) and row["ip_turns_per_s"] > 0


def test_no_epochs_give_typed_statistics_that_join_muap_statistics():
    """Uncalibrated recordings have no interference epochs: their empty statistics must not
    turn the MUAP statistics they are joined to into text (a lab reference is built from the
    joined table)."""
    empty = interference_stats(pd.DataFrame())
    assert len(empty) == 0
    muap_stats = pd.DataFrame({"recording": ["r1"], "feature": ["duration_ms"], "n": [12],
                               "m": [9.5], "v": [4.0]})
    joined = pd.concat([muap_stats, empty], ignore_index=True)
    assert joined["m"].dtype == float and joined["v"].dtype == float
    assert joined["n"].dtype == "int64"


def test_epoch_spectrum_median_and_mean_frequency_and_envelope():
    from edxreview.signal._interference import epoch_spectra

    fs, n_ep = 20000.0, 10000
    t = np.arange(6 * n_ep) / fs   # 3 s
    # first 1.5 s: 200 Hz; then 1200 Hz, twice as large (RMS of a sine = amplitude / sqrt 2)
    x = np.where(t < 1.5, 100 * np.sin(2 * np.pi * 200 * t), 200 * np.sin(2 * np.pi * 1200 * t))
    seg = pd.DataFrame({"state": ["active"], "start_s": [0.0], "end_s": [1.5 + 1.0]})
    s = epoch_spectra(x, seg, fs, n_ep)
    assert len(s) == 5   # 2.5 s of activity: five whole epochs of 0.5 s
    assert s["ip_median_freq_hz"].iloc[:3].tolist() == pytest.approx([200] * 3, abs=4)
    assert s["ip_median_freq_hz"].iloc[3:].tolist() == pytest.approx([1200] * 2, abs=4)
    assert s["ip_mean_freq_hz"].iloc[0] == pytest.approx(200, abs=10)
    assert s["ip_log_rms"].iloc[0] == pytest.approx(np.log10(100 / np.sqrt(2)), abs=0.01)
    assert s["ip_log_rms"].iloc[4] == pytest.approx(np.log10(200 / np.sqrt(2)), abs=0.01)
    none = epoch_spectra(x, seg.assign(state="rest"), fs, n_ep)
    assert none.empty and list(none.columns) == [*SPECTRAL_COLUMNS, *band_columns()]


def test_spectral_bands_are_octaves_down_from_the_measurement_band_and_hold_its_power():
    from edxreview.signal._interference import epoch_spectra

    # measurement band 10 Hz - 10 kHz, five octaves down from the top and the rest below
    assert band_edges().tolist() == [10.0, 312.5, 625.0, 1250.0, 2500.0, 5000.0, 10000.0]
    assert band_columns() == tuple(f"ip_log_rel_power_{i}" for i in range(1, 7))
    fs, n_ep = 25000.0, 12500
    t = np.arange(2 * n_ep) / fs
    # equal sines at 200 Hz (band 1) and 3 kHz (band 5): half the power each
    x = 100 * np.sin(2 * np.pi * 200 * t) + 100 * np.sin(2 * np.pi * 3000 * t)
    seg = pd.DataFrame({"state": ["active"], "start_s": [0.0], "end_s": [1.0]})
    s = epoch_spectra(x, seg, fs, n_ep)
    rel = s[list(band_columns())].to_numpy()
    assert rel[:, [0, 4]] == pytest.approx(np.log10(0.5), abs=1e-3)
    assert (rel[:, [1, 2, 3, 5]] < -6).all()          # only leakage of the Hann window
    # 4 kHz sampling: the bands above 2 kHz do not exist (missing), the rest hold the power
    lo = epoch_spectra(100 * np.sin(2 * np.pi * 400 * np.arange(4000) / 4000.0), seg, 4000.0,
                       2000)
    assert lo[list(band_columns())[3:]].isna().all().all()
    assert lo["ip_log_rel_power_2"].tolist() == pytest.approx([0.0, 0.0], abs=1e-3)


def _cloud_epochs(rng, subjects, muscle, slope, intercept, sd, n=40):
    x = rng.uniform(2.0, 3.0, size=(len(subjects), n))
    y = intercept + slope * x + rng.normal(0, sd, size=x.shape)
    return pd.DataFrame({"subject": np.repeat(subjects, n), "muscle": muscle,
                         "ip_log_amplitude": x.ravel(), "ip_turns_per_s": 10 ** y.ravel()})


def test_cloud_line_is_the_least_squares_line_of_log_turns_on_log_amplitude():
    rng = np.random.default_rng(7)
    e = pd.concat([_cloud_epochs(rng, [f"c{i}" for i in range(5)], "Deltoid", 0.6, 1.0, 0.05),
                   _cloud_epochs(rng, ["c0", "c1"], "biceps_brachii", 0.6, 1.0, 0.05)])
    line = cloud_line(e, min_subjects=5)
    assert list(line.index) == ["deltoid"]              # biceps: 2 subjects, no line
    d = e[e["muscle"] == "Deltoid"]
    y = np.log10(d["ip_turns_per_s"])
    b, a = np.polyfit(d["ip_log_amplitude"], y, 1)
    res = y - (a + b * d["ip_log_amplitude"])
    assert line.at["deltoid", "slope"] == pytest.approx(b, rel=1e-9)
    assert line.at["deltoid", "intercept"] == pytest.approx(a, rel=1e-9)
    assert line.at["deltoid", "resid_sd"] == pytest.approx(np.sqrt((res ** 2).sum() / (len(d) - 2)))
    assert line.at["deltoid", "slope"] == pytest.approx(0.6, abs=0.05)   # the planted line
    assert line.at["deltoid", "n_epochs"] == 200 and line.at["deltoid", "n_subjects"] == 5


def test_cloud_residual_is_above_zero_for_more_turns_than_the_controls_at_that_amplitude():
    line = pd.DataFrame({"slope": [0.5], "intercept": [1.0], "resid_sd": [0.1]},
                        index=pd.Index(["deltoid"], name="muscle"))
    # at log amplitude 2 the line says 10^2 turns/s; 10^2.2 is 2 SD above, 10^1.9 1 SD below
    e = pd.DataFrame({"muscle": ["deltoid", "Deltoid", "deltoid", "biceps_brachii"],
                      "ip_log_amplitude": [2.0, 2.0, 3.0, 2.0],
                      "ip_turns_per_s": [10 ** 2.2, 10 ** 1.9, 10 ** 2.5, 100.0]})
    z = cloud_residuals(e, line)
    assert z.iloc[:3].tolist() == pytest.approx([2.0, -1.0, 0.0])
    assert np.isnan(z.iloc[3])                          # no line for the muscle
    assert z.name == "ip_cloud_z"
