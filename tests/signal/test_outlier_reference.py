"""Mean and outlier limits from a laboratory's own controls (multi-MUAP scheme), on small
synthetic MUAP tables whose truth is known (fast: no decomposition)."""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

sys.path.insert(0, str(Path(__file__).parent))
from test_reference import _lab, _muaps  # noqa: E402

from edxreview.signal._reference import build_lab_reference, read_lab_reference
from edxreview.signal._evaluate import evaluate, mahalanobis_loso, outliers_loso
from edxreview.signal._params import load_signal_parameters
from edxreview.signal._reference import (
    _ledoit_wolf,
    allowed_outliers,
    mahalanobis_readings,
    muap_features,
    muap_long,
    outlier_readings,
    recording_stats,
    unit_means,
)


def _read(ref, test):
    units = pd.DataFrame({"recording": test["recording"].unique(), "subject": "t",
                          "muscle": "biceps brachii"})
    return outlier_readings(units, muap_long(test), ref).iloc[0]


def test_outlier_limits_are_the_percentiles_of_the_control_muaps():
    recs, muaps = _lab(n_controls=8, seed=5)
    ref = build_lab_reference(muaps, recs)
    lo_q, hi_q = load_signal_parameters()["outlier_reference"]["outlier_percentiles"]
    f = muap_features(muaps)
    for feat in ("duration_ms", "log_amplitude", "phases"):
        row = ref.table.loc[("biceps_brachii", feat)]
        assert row["outlier_low"] == pytest.approx(np.percentile(f[feat], lo_q))
        assert row["outlier_high"] == pytest.approx(np.percentile(f[feat], hi_q))
        assert row["n_outlier_muaps"] == len(f)


def test_allowed_outliers_is_the_convention_at_its_n_and_scales_with_n():
    p = load_signal_parameters()["outlier_reference"]
    assert allowed_outliers(p["allowed_of_n"]) == p["allowed_outliers"]
    a = allowed_outliers(np.arange(1, 301))
    assert (np.diff(a) >= 0).all() and a[-1] > p["allowed_outliers"]
    # the tail probability of the allowance never exceeds that of the convention
    tail = 1 - p["outlier_percentiles"][1] / 100
    alpha = stats.binom.sf(p["allowed_outliers"], p["allowed_of_n"], tail)
    assert (stats.binom.sf(a, np.arange(1, 301), tail) <= alpha + 1e-12).all()


@pytest.mark.parametrize(("duration_ms", "amplitude_uv", "phases", "expected", "rule"), [
    (10.0, 400.0, 3.0, "normal", "outlier_normal"),
    (15.0, 1200.0, 3.0, "neurogenic", "outlier_large"),
    (6.0, 150.0, 3.0, "myopathic", "outlier_small"),
    (10.0, 400.0, 7.0, "myopathic", "outlier_complex"),
    (15.0, 130.0, 3.0, "indeterminate", "outlier_mixed"),
], ids=["normal", "large", "small", "polyphasic only", "long but tiny"])
def test_reading_by_mean_and_outlier_limits(duration_ms, amplitude_uv, phases, expected, rule):
    recs, muaps = _lab(n_controls=10, seed=1)
    ref = build_lab_reference(muaps, recs)
    r = _read(ref, _muaps("t", 25, duration_ms, amplitude_uv, phases, np.random.default_rng(9)))
    assert (r["pred"], r["rule"]) == (expected, rule)


def test_a_few_large_muaps_are_a_sign_though_the_mean_is_normal():
    recs, muaps = _lab(n_controls=10, seed=1)
    ref = build_lab_reference(muaps, recs)
    rng = np.random.default_rng(11)
    t = _muaps("t", 40, 10.0, 400.0, rng=rng)
    t.loc[:5, "amplitude_uv"] = 4000.0  # 6 of 40 MUAPs ten times the control amplitude
    r = _read(ref, t)
    assert r["hi_log_amplitude"] == 6 and r["hi_log_amplitude"] > r["allowed_log_amplitude"]
    assert abs(r["z_duration_ms"]) < 2
    assert (r["pred"], r["rule"]) == ("neurogenic", "outlier_large")


def test_too_few_muaps_or_no_reference_are_said_not_guessed():
    recs, muaps = _lab()
    ref = build_lab_reference(muaps, recs)
    need = load_signal_parameters()["lab_reference"]["min_muaps"]
    r = _read(ref, _muaps("t", need - 1, 20.0, 3000.0))
    assert (r["pred"], r["rule"]) == ("indeterminate", "too_few_muaps")
    units = pd.DataFrame({"recording": ["t"], "subject": "t", "muscle": "deltoid"})
    r = outlier_readings(units, muap_long(_muaps("t", 30, 20.0, 3000.0)), ref).iloc[0]
    assert (r["pred"], r["rule"]) == ("indeterminate", "no_reference_for_muscle")


def test_too_few_control_muaps_give_no_outlier_limits():
    need = load_signal_parameters()["outlier_reference"]["min_control_muaps"]
    recs, muaps = _lab(n_controls=5, recs_per=1, n_muaps=(need - 1) // 5)
    ref = build_lab_reference(muaps, recs)
    assert ref.muscles() == ["biceps_brachii"]
    assert ref.table["outlier_low"].isna().all()
    # the mean limits alone still read a grossly large muscle
    r = _read(ref, _muaps("t", 30, 20.0, 3000.0))
    assert r["pred"] == "neurogenic"


def test_outlier_limits_survive_the_reference_file(tmp_path):
    recs, muaps = _lab()
    ref = build_lab_reference(muaps, recs)
    ref.write(tmp_path / "ref.toml")
    back = read_lab_reference(tmp_path / "ref.toml")
    pd.testing.assert_frame_equal(back.table, ref.table, check_dtype=False)
    assert back.table["outlier_high"].notna().all()


def test_loso_outlier_limits_never_hold_the_subject_read():
    recs, muaps = _lab(n_controls=8, seed=2, extra=[("odd", "normal", 16.0, 1500.0, 3.0)])
    res = outliers_loso(recs, muaps)
    subj = res["subject"].set_index("subject")["pred"]
    assert subj["odd"] == "neurogenic"
    assert (subj.drop("odd") == "normal").sum() >= 6


def test_evaluation_has_the_outlier_method_row():
    recs, muaps = _lab(n_controls=8, seed=4, extra=[
        ("n1", "neurogenic", 16.0, 1500.0, 3.0), ("m1", "myopathic", 6.0, 150.0, 5.0)])
    res = evaluate(recs, muaps, centroids=False)
    row = res[(res["method"] == "mean + outlier limits") & (res["level"] == "subject")
              & (res["muscle"] == "all")].iloc[0]
    assert row["n"] == 10 and row["recall"]["neurogenic"] == (1, 1)
    assert row["recall"]["myopathic"] == (1, 1)
    assert "Mahalanobis" in set(res["method"])


# --------------------------------------------------------------------------- Mahalanobis
def _means(recs, muaps, key=("subject", "muscle")):
    return unit_means(recs, recording_stats(muaps), key)


def test_ledoit_wolf_is_between_the_sample_covariance_and_its_target():
    rng = np.random.default_rng(0)
    mix = np.eye(4)
    mix[0, 1] = 0.8
    x = rng.normal(size=(12, 4)) @ mix
    x = (x - x.mean(0)) / x.std(0, ddof=1)
    s = x.T @ x / len(x)
    c = _ledoit_wolf(x)
    mu = np.trace(s) / 4
    # same diagonal, off-diagonal pulled towards 0 but not past it
    assert np.allclose(np.diag(c), np.diag(s))
    off = ~np.eye(4, dtype=bool)
    assert (np.abs(c[off]) <= np.abs(s[off]) + 1e-12).all()
    assert np.all(np.sign(c[off]) * np.sign(s[off]) >= 0)
    assert np.linalg.eigvalsh(c).min() > 0 and mu > 0


@pytest.mark.parametrize(("duration_ms", "amplitude_uv", "phases", "expected"), [
    (10.0, 400.0, 3.0, "normal"),
    (15.0, 1200.0, 3.0, "neurogenic"),
    (6.0, 150.0, 3.0, "myopathic"),
], ids=["normal", "large", "small"])
def test_mahalanobis_reading(duration_ms, amplitude_uv, phases, expected):
    recs, muaps = _lab(n_controls=14, seed=1)
    t = _muaps("t", 30, duration_ms, amplitude_uv, phases, np.random.default_rng(9))
    units = pd.DataFrame({"recording": ["t"], "subject": ["t"], "muscle": ["biceps brachii"]})
    r = mahalanobis_readings(_means(recs, muaps), _means(units, t)).iloc[0]
    assert r["pred"] == expected, (r["d2"], r["limit"], r["side"])


def test_mahalanobis_needs_enough_control_muscles():
    need = load_signal_parameters()["mahalanobis_reference"]["min_control_units"]
    recs, muaps = _lab(n_controls=need - 1, seed=1)
    units = pd.DataFrame({"recording": ["t"], "subject": ["t"], "muscle": ["biceps_brachii"]})
    r = mahalanobis_readings(_means(recs, muaps), _means(units, _muaps("t", 30, 20.0, 3000.0)))
    assert (r.iloc[0]["pred"], r.iloc[0]["rule"]) == ("indeterminate", "no_reference_for_muscle")


def test_loso_mahalanobis_never_holds_the_subject_read():
    recs, muaps = _lab(n_controls=12, seed=2, extra=[("odd", "normal", 16.0, 1500.0, 3.0)])
    subj = mahalanobis_loso(recs, muaps)["subject"].set_index("subject")["pred"]
    assert subj["odd"] == "neurogenic"
    assert (subj.drop("odd") == "normal").sum() >= 10
