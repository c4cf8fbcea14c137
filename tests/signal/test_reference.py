"""Lab MUAP reference, its reading rule and the leave-one-subject-out evaluation, on small
synthetic MUAP tables whose truth is known (fast: no decomposition)."""

import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from _cli import emg_cli as _cli  # noqa: E402
from _synth import raw_contractions  # noqa: E402

from edxreview._errors import InvalidInputError
from edxreview.signal._reference import build_lab_reference, read_lab_reference, read_muscle_against_reference
from edxreview.signal._evaluate import (
    centroids_loso,
    evaluate,
    format_table,
    leave_one_subject_out,
    majority,
    score,
    wilson_interval,
)
from edxreview.signal._params import load_signal_parameters
from edxreview.signal._reference import (
    classify_by_centroids,
    fit_centroids,
    muap_features,
    pool_readings,
    zscore_muscle,
    zscore_units,
)


def _muaps(recording, n, duration_ms, amplitude_uv, phases=3.0, rng=None, sd_ms=2.0):
    rng = rng or np.random.default_rng(0)
    return pd.DataFrame({
        "recording": recording,
        "duration_ms": rng.normal(duration_ms, sd_ms, n),
        "amplitude_uv": amplitude_uv * np.exp(rng.normal(0, 0.2, n)),
        "amplitude_adu": np.nan,
        "phases": np.clip(np.round(rng.normal(phases, 0.7, n)), 1, None),
        "turns": np.clip(np.round(rng.normal(phases, 0.7, n)), 1, None),
        "thickness_ms": rng.normal(2.0, 0.2, n),
    })


def _lab(n_controls=6, recs_per=2, n_muaps=15, seed=0, extra=()):
    """Controls (duration 10 ms, 400 µV) plus ``extra`` (subject, truth, duration, amplitude,
    phases) subjects, one muscle (biceps_brachii)."""
    rng = np.random.default_rng(seed)
    recs, muaps = [], []
    subjects = [(f"c{i}", "normal", rng.normal(10, 0.5), 400 * np.exp(rng.normal(0, 0.05)), 3.0)
                for i in range(n_controls)] + list(extra)
    for s, truth, d, a, ph in subjects:
        for j in range(recs_per):
            r = f"{s}-r{j}"
            recs.append(dict(dataset="lab", recording=r, subject=s, muscle="biceps_brachii",
                             truth=truth, baseline="normal"))
            muaps.append(_muaps(r, n_muaps, d + rng.normal(0, 0.3), a, ph, rng))
    return pd.DataFrame(recs), pd.concat(muaps, ignore_index=True)


# --------------------------------------------------------------------------- Wilson, scoring
@pytest.mark.parametrize(("k", "n"), [(0, 10), (8, 10), (3, 4), (74, 146), (1, 1)])
def test_wilson_matches_the_closed_form(k, n):
    # Wilson EB, J Am Stat Assoc 1927;22:209: (p + z²/2n ± z sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)
    z = 1.959963984540054
    p = k / n
    c = (p + z * z / (2 * n)) / (1 + z * z / n)
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    lo, hi = wilson_interval(k, n)
    assert lo == pytest.approx(max(0.0, c - h), abs=1e-9)
    assert hi == pytest.approx(min(1.0, c + h), abs=1e-9)


def test_wilson_of_nothing_is_undefined():
    assert all(math.isnan(v) for v in wilson_interval(0, 0))


def test_score_counts_indeterminate_as_wrong_and_balances_classes():
    truth = pd.Series(["normal"] * 4 + ["myopathic"] * 2)
    pred = pd.Series(["normal", "normal", "normal", "indeterminate", "myopathic", "normal"])
    s = score(truth, pred)
    assert (s["correct"], s["n"], s["indeterminate"]) == (4, 6, 1)
    assert s["recall"] == {"normal": (3, 4), "myopathic": (1, 2)}
    assert s["balanced_accuracy"] == pytest.approx((0.75 + 0.5) / 2)


@pytest.mark.parametrize(("patterns", "expected"), [
    (["normal", "normal", "myopathic"], "normal"),
    (["normal", "myopathic"], "indeterminate"),
], ids=["majority", "tie"])
def test_majority(patterns, expected):
    assert majority(pd.Series(patterns)) == expected


@pytest.mark.parametrize(("patterns", "expected"), [
    (["normal", "normal"], "normal"),
    (["neurogenic", "normal"], "neurogenic"),
    (["myopathic", "indeterminate"], "myopathic"),
    (["neurogenic", "myopathic"], "indeterminate"),
    (["normal", "indeterminate"], "indeterminate"),
], ids=["all normal", "one neurogenic", "one myopathic", "both sides", "normal and unknown"])
def test_subject_pools_its_muscles(patterns, expected):
    assert pool_readings(pd.Series(patterns)) == expected


# --------------------------------------------------------------------------- the reference
def test_reference_recovers_the_control_distribution():
    recs, muaps = _lab(n_controls=20, recs_per=2, n_muaps=30, seed=3)
    ref = build_lab_reference(muaps, recs, lab="synthetic")
    d = ref.table.loc[("biceps_brachii", "duration_ms")]
    assert d["mean"] == pytest.approx(10.0, abs=0.4)
    assert d["sd_within"] == pytest.approx(2.0, abs=0.2)
    # between recordings: subject SD 0.5 and recording jitter 0.3 -> sqrt(0.34) = 0.58
    assert d["sd_between"] == pytest.approx(0.58, abs=0.25)
    assert (d["n_subjects"], d["n_recordings"], d["n_muaps"]) == (20, 40, 1200)
    assert ref.amplitude_unit == "uV"


def test_reference_file_round_trip(tmp_path):
    recs, muaps = _lab()
    ref = build_lab_reference(muaps, recs, lab='lab "A"')
    ref.write(tmp_path / "ref.toml")
    back = read_lab_reference(tmp_path / "ref.toml")
    assert back.lab == 'lab "A"' and back.muscles() == ["biceps_brachii"]
    pd.testing.assert_frame_equal(back.table, ref.table, check_dtype=False)


@pytest.mark.parametrize(("text", "match"), [
    (None, "not found"),
    ("format = ", "not valid TOML"),
    ('format = "other"', "build one with"),
    ('format = "edxreview-lab-reference/1"\n[muscles.deltoid.duration_ms]\nmean = 1.0', "lacks"),
], ids=["missing", "not toml", "wrong format", "incomplete"])
def test_bad_reference_file_is_a_clear_error(tmp_path, text, match):
    p = tmp_path / "ref.toml"
    if text is not None:
        p.write_text(text)
    with pytest.raises(InvalidInputError, match=match):
        read_lab_reference(p)


def test_too_few_control_recordings_give_no_reference():
    need = load_signal_parameters()["lab_reference"]["min_control_recordings"]
    recs, muaps = _lab(n_controls=need - 1, recs_per=1)
    ref = build_lab_reference(muaps, recs)
    assert ref.muscles() == []
    r, _ = read_muscle_against_reference(muaps[muaps["recording"] == "c0-r0"], ref,
                                         "biceps_brachii")
    assert r.pattern == "indeterminate" and r.rule == "no_reference_for_muscle"
    assert "no reference for this lab" in r.reasons[0]


# --------------------------------------------------------------------------- the reading rule
@pytest.mark.parametrize(("duration_ms", "amplitude_uv", "phases", "expected", "rule"), [
    (10.0, 400.0, 3.0, "normal", "lab_normal"),
    (15.0, 1200.0, 3.0, "neurogenic", "lab_large"),
    (6.0, 150.0, 3.0, "myopathic", "lab_small"),
    (6.0, 150.0, 6.0, "myopathic", "lab_small"),
    (10.0, 400.0, 7.0, "indeterminate", "lab_complex_only"),
    (15.0, 130.0, 3.0, "indeterminate", "lab_mixed"),
], ids=["normal", "large", "small", "small and complex", "complex only", "long but tiny"])
def test_reading_against_the_lab_reference(duration_ms, amplitude_uv, phases, expected, rule):
    recs, muaps = _lab(n_controls=10, seed=1)
    ref = build_lab_reference(muaps, recs)
    test = _muaps("t", 25, duration_ms, amplitude_uv, phases, np.random.default_rng(9))
    r, z = read_muscle_against_reference(test, ref, "biceps brachii")
    assert (r.pattern, r.rule) == (expected, rule), r.reasons
    assert {"duration_ms", "log_amplitude", "phases", "size_index"} <= set(z.index)


def test_fewer_muaps_than_required_are_not_judged():
    recs, muaps = _lab()
    ref = build_lab_reference(muaps, recs)
    need = load_signal_parameters()["lab_reference"]["min_muaps"]
    r, _ = read_muscle_against_reference(_muaps("t", need - 1, 20.0, 3000.0), ref, "biceps_brachii")
    assert r.pattern == "indeterminate" and r.rule == "too_few_muaps"


def test_no_reference_is_said_not_guessed():
    r, z = read_muscle_against_reference(_muaps("t", 30, 20.0, 3000.0), None, "biceps_brachii")
    assert r.pattern == "indeterminate" and z.empty
    assert "no verified reference: quantitative MUAP means not judged" in r.reasons[0]


def test_few_muaps_widen_the_limits():
    recs, muaps = _lab()
    ref = build_lab_reference(muaps, recs)
    rng = np.random.default_rng(4)
    _, z_few = read_muscle_against_reference(_muaps("t", 10, 12.0, 400.0, rng=rng), ref, "biceps_brachii")
    _, z_many = read_muscle_against_reference(_muaps("t", 200, 12.0, 400.0, rng=rng), ref, "biceps_brachii")
    w = lambda z: z.at["duration_ms", "upper"] - z.at["duration_ms", "lower"]  # noqa: E731
    assert w(z_few) > w(z_many)


# --------------------------------------------------------------------------- evaluation
def test_loso_never_puts_a_subject_in_its_own_reference():
    # an outlying "control": read against the other controls it is neurogenic; had it been in
    # its own reference the spread would have absorbed it
    recs, muaps = _lab(n_controls=6, seed=2,
                       extra=[("odd", "normal", 16.0, 1500.0, 3.0)])
    res = leave_one_subject_out(recs, muaps)
    subj = res["subject"].set_index("subject")["pred"]
    assert subj["odd"] == "neurogenic"
    assert (subj.drop("odd") == "normal").sum() >= 5


@pytest.mark.slow
def test_evaluate_reports_loso_and_cross_lab_with_intervals():
    a_recs, a_muaps = _lab(n_controls=5, seed=5, extra=[("n1", "neurogenic", 16.0, 1500.0, 3.0),
                                                         ("m1", "myopathic", 6.0, 150.0, 5.0)])
    b_recs, b_muaps = _lab(n_controls=4, seed=6, extra=[("n2", "neurogenic", 17.0, 1600.0, 3.0)])
    b_recs = b_recs.assign(dataset="other", recording="b" + b_recs["recording"],
                           subject="b" + b_recs["subject"])
    b_muaps = b_muaps.assign(recording="b" + b_muaps["recording"])
    res = evaluate(pd.concat([a_recs, b_recs]), pd.concat([a_muaps, b_muaps]))
    loso = res[(res["train"] == "lab (LOSO)") & (res["level"] == "subject")].iloc[0]
    readings = leave_one_subject_out(a_recs, a_muaps)["subject"].set_index("subject")["pred"]
    assert readings["n1"] == "neurogenic" and readings["m1"] == "myopathic"
    assert loso["n"] == 7 and loso["correct"] == (readings == a_recs.drop_duplicates(
        "subject").set_index("subject")["truth"]).sum()
    assert (loso["ci_low"], loso["ci_high"]) == pytest.approx(
        wilson_interval(int(loso["correct"]), 7))
    assert loso["recall"]["neurogenic"] == (1, 1) and loso["recall"]["myopathic"] == (1, 1)
    cross = res[(res["train"] == "lab") & (res["test"] == "other") & (res["level"] == "subject")]
    assert set(cross["method"]) == {"lab reference", "mean + outlier limits", "Mahalanobis",
                                    "z + centroids", "lab classifier",
                                    "lab classifier, one abnormal muscle = abnormal"}
    assert (cross["n"] == 5).all()
    base = res[(res["method"] == "bundled rules") & (res["test"] == "lab") & (res["level"] == "subject")]
    assert base.iloc[0]["correct"] == 5  # the fixed "baseline" column says normal for everyone
    text = format_table(res, muscles=False)
    assert f"| lab reference | lab (LOSO) | lab | subject | all | {loso['correct']}/7 |" in text


# --------------------------------------------------------------------------- the command


@pytest.mark.slow
def test_cli_builds_a_reference_and_reads_a_subject_against_it(tmp_path):
    files = raw_contractions(tmp_path, 5, seed=10, prefix="ctrl")
    ref = tmp_path / "ref.toml"
    assert _cli(["emg", "reference", "build", *files, "--fs", "10000", "--gain", "5000",
                 "--muscle", "biceps_brachii", "--out", str(ref), "-q", "--lab", "syn"]) == 0
    assert read_lab_reference(ref).muscles() == ["biceps_brachii"]
    assert _cli(["emg", "reference", "build", *files, "--fs", "10000", "--muscle",
                 "biceps_brachii", "--out", str(ref), "-q"]) == 2  # exists, no --force: usage
    out = tmp_path / "out"
    assert _cli(["emg", "analyze", *files[:3], "--fs", "10000", "--gain", "5000", "--muscle",
                 "deltoid", "--reference", str(ref), "--subject", "S1", "--out", str(out),
                 "-q", "--no-figures"]) == 0
    subj = pd.read_csv(out / "subjects.csv")
    assert not any(c.startswith("clf_") for c in subj.columns)  # controls only: no classifier
    assert subj.loc[0, "pattern"] == "indeterminate"
    assert "no reference for this lab" in subj.loc[0, "reasons"]
    assert _cli(["emg", "analyze", files[0], "--fs", "10000", "--subject", "S1", "--out",
                 str(tmp_path / "o2"), "-q"]) == 2  # --subject needs --reference
    bad = tmp_path / "subjects.csv"
    pd.DataFrame({"file": [Path(f).name for f in files], "subject": "S", "muscle": "deltoid",
                  "group": ["normal"] * 4 + ["ALS?"]}).to_csv(bad, index=False)
    assert _cli(["emg", "reference", "build", *files, "--fs", "10000", "--subjects", str(bad),
                 "--out", str(tmp_path / "r2.toml"), "-q"]) == 1
    assert not (tmp_path / "r2.toml").exists()


def test_a_recording_unlike_the_references_controls_is_flagged(tmp_path, capsys):
    files = raw_contractions(tmp_path, 5, seed=20, prefix="ctrl")
    ref = tmp_path / "ref.toml"
    assert _cli(["emg", "reference", "build", *files, "--fs", "10000", "--gain", "5000",
                 "--muscle", "biceps_brachii", "--out", str(ref), "-q"]) == 0
    back = read_lab_reference(ref)
    assert back.recorded["fs_hz"] == [10000.0] and back.recorded["sorting"] == "peel"

    def notes(*extra, reference=ref):
        out = tmp_path / f"o{len(list(tmp_path.iterdir()))}"
        assert _cli(["emg", "analyze", files[0], "--gain", "5000", "--muscle", "biceps_brachii",
                     "--reference", str(reference), "--out", str(out), "--no-figures",
                     *extra]) == 0
        printed = [ln for ln in capsys.readouterr().err.splitlines() if "may not apply" in ln]
        col = pd.read_csv(out / "recordings.csv", dtype={"reference_note": str})["reference_note"]
        return col.fillna("").tolist(), printed

    assert notes("--fs", "10050") == ([""], [])               # within 1 %: the same setting
    col, printed = notes("--fs", "12000", "--sorting", "pursuit")
    assert col == ["recorded at 12000 Hz; the reference's controls at 10000 Hz; decomposed by "
                   "pursuit; the reference's controls by peel"]
    assert printed == [f"edxreview emg: warning: {col[0]}: the reference may not apply "
                       "(reference_note in recordings.csv)"]
    # a reference written before the recording conditions were stored: nothing to compare
    old = tmp_path / "old.toml"
    text = ref.read_text(encoding="utf-8")
    start = text.index("[recorded]")
    old.write_text(text[:start] + text[text.index("\n\n", start) + 2:], encoding="utf-8")
    assert read_lab_reference(old).recorded == {}
    assert notes("--fs", "12000", reference=old) == ([""], [])
    # a reference built with another version of the measurement settings
    from edxreview.signal._params import signal_parameters_version
    now = signal_parameters_version()
    assert read_lab_reference(ref).recorded["parameters"] == now
    stale = tmp_path / "stale.toml"
    stale.write_text(text.replace(f'parameters = "{now}"', 'parameters = "0.1.0"'), encoding="utf-8")
    col, printed = notes("--fs", "10000", reference=stale)
    assert col == [f"measured with emg_signal_parameters {now}; the reference's controls with "
                   "0.1.0 (rebuild the reference from the controls)"]
    unknown = tmp_path / "unknown.toml"   # written before the settings' version was recorded
    unknown.write_text(text.replace(f'parameters = "{now}"\n', ""), encoding="utf-8")
    col, printed = notes("--fs", "10000", reference=unknown)
    assert col[0].startswith("the reference does not say which measurement settings measured "
                             "its controls (built by edxreview ")
    assert len(printed) == 1
    broken = tmp_path / "broken.toml"
    broken.write_text(text.replace("fs_hz = [10000.0]", 'fs_hz = ["fast"]'), encoding="utf-8")
    with pytest.raises(InvalidInputError, match=r"\[recorded\] fs_hz is not a list of numbers"):
        read_lab_reference(broken)
    not_a_table = tmp_path / "not-a-table.toml"   # hand-edited: a located error, no traceback
    start = text.index("[recorded]")
    not_a_table.write_text('recorded = 5\n' + text[:start] + text[text.index("\n\n", start) + 2:],
                           encoding="utf-8")
    with pytest.raises(InvalidInputError, match=r"\[recorded\] is 5, not a table"):
        read_lab_reference(not_a_table)


def test_whole_table_z_scores_equal_the_per_muscle_ones():
    recs, muaps = _lab(n_controls=8, seed=7, extra=[("p", "neurogenic", 14.0, 900.0, 4.0)])
    ref = build_lab_reference(muaps, recs[recs["truth"] == "normal"])
    wide = zscore_units(muaps, recs, ref).set_index("subject")
    one = zscore_muscle(muap_features(muaps[muaps["recording"].str.startswith("p-")]), ref,
                        "biceps_brachii")
    for f in one.index:
        assert wide.at["p", f"z_{f}"] == pytest.approx(one.at[f, "z"])
    assert wide.at["p", "n_muaps"] == 30


@pytest.mark.slow
def test_centroids_fitted_without_the_held_out_subject():
    rng = np.random.default_rng(11)
    extra = [(f"n{i}", "neurogenic", rng.normal(15, 0.5), 1300.0, 3.0) for i in range(6)]
    extra += [(f"m{i}", "myopathic", rng.normal(6.5, 0.5), 160.0, 5.0) for i in range(6)]
    recs, muaps = _lab(n_controls=8, seed=8, extra=extra)
    res = centroids_loso(recs, muaps)["subject"]
    s = score(res["truth"], res["pred"])
    assert s["recall"]["neurogenic"] == (6, 6) and s["recall"]["myopathic"] == (6, 6)
    assert s["n"] == 20


def _labelled_lab(seed=12, per_class=6):
    rng = np.random.default_rng(seed)
    extra = [(f"n{i}", "neurogenic", rng.normal(14, 0.5), 1000.0, 3.0) for i in range(per_class)]
    extra += [(f"m{i}", "myopathic", rng.normal(7.5, 0.5), 250.0, 4.5) for i in range(per_class)]
    return _lab(n_controls=8, seed=seed, extra=extra)


def test_centroids_in_the_reference_file_decide_the_reading(tmp_path):
    recs, muaps = _labelled_lab()
    ref = build_lab_reference(muaps, recs[recs["truth"] == "normal"], lab="syn")
    z = zscore_units(muaps, recs, ref).merge(recs.drop_duplicates("subject")[["subject", "truth"]],
                                             on="subject")
    ref.centroids = fit_centroids(z)
    assert set(ref.centroids.index.get_level_values("truth")) == {"normal", "neurogenic", "myopathic"}
    ref.write(tmp_path / "ref.toml")
    back = read_lab_reference(tmp_path / "ref.toml")
    pd.testing.assert_frame_equal(back.centroids, ref.centroids, check_dtype=False, check_like=True)
    r, _ = read_muscle_against_reference(_muaps("t", 20, 7.0, 240.0, 4.5), back, "biceps_brachii")
    assert (r.pattern, r.rule) == ("myopathic", "lab_centroid")
    assert "nearest class centroid" in r.reasons[-1]


def test_a_near_tie_between_centroids_reads_indeterminate():
    margin = load_signal_parameters()["lab_reference"]["centroid_margin"]
    from edxreview.signal._reference import nearest_class, read_size_signs
    d = np.array([[2.8, 2.9, 3.2], [2.0, 2.0 * (1 + margin) * 1.01, 5.0], [1.0, 1.0, 1.0]])
    nearest, tie = nearest_class(d, ["myopathic", "normal", "neurogenic"])
    # short MUAPs (a myopathic sign) in the first two units, long and small in the third
    z = pd.DataFrame({"duration_ms": [-3.0, -3.0, 3.0], "log_amplitude": [0.0, 0.0, -3.0]})
    r = read_size_signs(z, pd.Series({"duration_ms": 2.0, "log_amplitude": 2.0}), nearest, tie)
    assert list(r["pattern"]) == ["indeterminate", "myopathic", "indeterminate"]
    assert list(r["rule"]) == ["lab_centroid_tie", "lab_centroid", "lab_mixed"]


def _reference_with_centroids(tmp_path, centroids):
    recs, muaps = _labelled_lab()
    ref = build_lab_reference(muaps, recs[recs["truth"] == "normal"], lab="syn")
    ref.centroids = centroids
    ref.write(tmp_path / "ref.toml")
    return read_lab_reference(tmp_path / "ref.toml")


#: the features of the hand-made centroids of these tests, in order
CENTROID_FEATURES = ["duration_ms", "log_amplitude", "phases", "turns", "thickness_ms"]


def _centroids(rows):
    df = pd.DataFrame([{**{f"z_{f}": v for f, v in zip(CENTROID_FEATURES, zs)},
                        "muscle": "biceps_brachii", "truth": t, "n_units": 6} for t, zs in rows])
    return df.set_index(["muscle", "truth"])


def _evaluation_reading(z: pd.Series, reference) -> list[str]:
    """How the evaluation's whole-table path (:func:`classify_by_centroids`) reads one biceps of
    25 MUAPs with z-scores ``z``: it must read as the product does."""
    units = pd.DataFrame([{"muscle": "biceps_brachii", "n_muaps": 25,
                           **{f"z_{k}": v for k, v in z.items()}}])
    return classify_by_centroids(units, reference.centroids, reference).tolist()


def test_the_product_and_the_evaluation_read_a_near_tie_alike(tmp_path):
    back = _reference_with_centroids(tmp_path, None)
    m = _muaps("t", 25, 14.0, 400.0, 3.0, np.random.default_rng(3), sd_ms=0.5)  # long MUAPs
    zt = zscore_muscle(muap_features(m), back, "biceps_brachii")
    assert zt.at["duration_ms", "z"] > zt.at["duration_ms", "limit"]
    z = zt["z"]
    zs = [z[f] for f in CENTROID_FEATURES]
    # normal and myopathic centroids equally far from the muscle (duration +-2 z), neurogenic far
    back.centroids = _centroids([("normal", [zs[0] + 2, *zs[1:]]), ("myopathic", [zs[0] - 2, *zs[1:]]),
                                 ("neurogenic", [8, 8, *zs[2:]])])
    r, _ = read_muscle_against_reference(m, back, "biceps_brachii")
    assert (r.pattern, r.rule) == ("indeterminate", "lab_centroid_tie")
    assert any("near tie" in x for x in r.reasons)
    assert _evaluation_reading(z, back) == ["indeterminate"]


def test_a_muscle_with_every_mean_within_its_limits_reads_normal_whatever_the_centroids(tmp_path):
    back = _reference_with_centroids(tmp_path, None)
    m = _muaps("t", 25, 10.0, 400.0, 3.0, np.random.default_rng(3))
    zt = zscore_muscle(muap_features(m), back, "biceps_brachii")
    assert (zt["z"].abs() <= zt["limit"]).all()
    zs = [zt.at[f, "z"] for f in CENTROID_FEATURES]
    # the myopathic centroid sits on the muscle itself: nearest by far, yet nothing is abnormal
    back.centroids = _centroids([("normal", [3, 3, 0, 0, 0]), ("myopathic", zs),
                                 ("neurogenic", [8, 8, 0, 0, 0])])
    r, _ = read_muscle_against_reference(m, back, "biceps_brachii")
    assert (r.pattern, r.rule) == ("normal", "lab_centroid_within_limits")
    assert "the nearest labelled pattern, myopathic, is not read" in r.reasons[-1]
    assert _evaluation_reading(zt["z"], back) == ["normal"]


def test_large_and_small_together_read_indeterminate_before_the_centroids(tmp_path):
    back = _reference_with_centroids(tmp_path, _centroids([
        ("normal", [0, 0, 0, 0, 0]), ("myopathic", [8, -8, 0, 0, 0]), ("neurogenic", [9, 9, 0, 0, 0])]))
    m = _muaps("t", 25, 16.0, 120.0, 3.0, np.random.default_rng(4), sd_ms=0.5)  # long and small
    r, z = read_muscle_against_reference(m, back, "biceps_brachii")
    assert z.at["duration_ms", "z"] > z.at["duration_ms", "limit"]
    assert z.at["log_amplitude", "z"] < -z.at["log_amplitude", "limit"]
    assert (r.pattern, r.rule) == ("indeterminate", "lab_mixed")
    assert _evaluation_reading(z["z"], back) == ["indeterminate"]


def test_a_class_with_too_few_subjects_has_no_centroid():
    need = load_signal_parameters()["lab_reference"]["min_class_units"]
    recs, muaps = _labelled_lab(per_class=need - 1)
    ref = build_lab_reference(muaps, recs[recs["truth"] == "normal"])
    z = zscore_units(muaps, recs, ref).merge(recs.drop_duplicates("subject")[["subject", "truth"]],
                                             on="subject")
    assert set(fit_centroids(z).index.get_level_values("truth")) == {"normal"}


def test_large_amplitude_alone_is_read_neurogenic_and_called_the_weaker_sign(tmp_path):
    back = _reference_with_centroids(tmp_path, None)
    m = _muaps("t", 25, 10.0, 2500.0, 3.0, np.random.default_rng(5))   # usual duration, big
    r, z = read_muscle_against_reference(m, back, "biceps_brachii")
    assert z.at["log_amplitude", "z"] > z.at["log_amplitude", "limit"]
    assert abs(z.at["duration_ms", "z"]) <= z.at["duration_ms", "limit"]
    assert (r.pattern, r.rule) == ("neurogenic", "lab_large")
    assert r.reasons[-1].startswith("amplitude alone, the duration within its limits: the weaker")
    long_ = _muaps("t", 25, 16.0, 2500.0, 3.0, np.random.default_rng(5), sd_ms=0.5)
    r2, _ = read_muscle_against_reference(long_, back, "biceps_brachii")
    assert r2.rule == "lab_large" and not any("amplitude alone" in x for x in r2.reasons)


def test_a_nearest_centroid_against_the_size_sign_is_not_read(tmp_path):
    back = _reference_with_centroids(tmp_path, None)
    m = _muaps("t", 25, 10.0, 2500.0, 3.0, np.random.default_rng(5))   # large amplitude only
    zt = zscore_muscle(muap_features(m), back, "biceps_brachii")
    assert zt.at["log_amplitude", "z"] > zt.at["log_amplitude", "limit"]
    zs = [zt.at[f, "z"] for f in CENTROID_FEATURES]
    # the myopathic centroid sits on the muscle: nearest, yet its MUAPs are large
    back.centroids = _centroids([("normal", [-6, -6, 0, 0, 0]), ("myopathic", zs),
                                 ("neurogenic", [9, 9, 5, 5, 5])])
    r, _ = read_muscle_against_reference(m, back, "biceps_brachii")
    assert (r.pattern, r.rule) == ("indeterminate", "lab_centroid_against_sign")
    assert "points against the size sign (large MUAPs)" in r.reasons[-1]
    assert _evaluation_reading(zt["z"], back) == ["indeterminate"]


def test_the_size_index_is_that_of_sonoo_and_stalberg():
    # Sonoo M, Stalberg E, Electroencephalogr Clin Neurophysiol 1993;89:291-303: size index =
    # 2 log10(amplitude, mV) + thickness (ms); 1 mV and 10 mV MUAPs of thickness 1.5 ms
    m = pd.DataFrame({"duration_ms": [10.0, 10.0], "amplitude_uv": [1000.0, 10000.0],
                      "amplitude_adu": np.nan, "phases": 3.0, "turns": 3.0,
                      "thickness_ms": [1.5, 1.5]})
    assert muap_features(m)["size_index"].tolist() == pytest.approx([1.5, 3.5])
