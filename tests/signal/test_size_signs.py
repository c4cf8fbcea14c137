"""The size signs of a muscle's MUAP means against a lab reference are decided once
(:func:`read_size_signs`): the product's reading of one muscle
(:func:`read_muscle_against_reference`) and the evaluation's whole-table reading
(:func:`classify_by_centroids`) must read every z-table alike, edge cases included (NaN means,
amplitude in ADC units against a µV reference, means exactly on their limit)."""

import sys
from dataclasses import replace
from itertools import product
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_reference import _labelled_lab, _muaps  # noqa: E402

import edxreview.signal._reference as reference_module
from edxreview.signal._params import load_signal_parameters
from edxreview.signal._reference import (
    build_lab_reference,
    classify_by_centroids,
    prediction_limit,
    read_muscle_against_reference,
    read_size_signs,
)

MUSCLE = "biceps_brachii"
FEATURES = ["duration_ms", "log_amplitude", "phases", "turns", "thickness_ms", "size_index"]


@pytest.fixture(scope="module")
def reference():
    """A calibrated lab reference of one muscle with hand-placed centroids (normal at the
    control mean, myopathic small and polyphasic, neurogenic long and large), so that ties, readings
    against the size sign and readings within limits all occur on the grid."""
    recs, muaps = _labelled_lab()
    ref = build_lab_reference(muaps, recs[recs["truth"] == "normal"], lab="syn")
    assert set(ref.table.loc[MUSCLE].index) == set(FEATURES)
    ref.centroids = pd.DataFrame(
        [[0.0] * 6, [-1, -3, 3, 3, -1, -3], [3, 3, 1, 1, 1, 3], [-3, 3, 0, 0, 0, 0]],
        columns=[f"z_{f}" for f in FEATURES],
        index=pd.MultiIndex.from_tuples([(MUSCLE, "normal"), (MUSCLE, "myopathic"),
                                         (MUSCLE, "neurogenic"), (MUSCLE, "other")],
                                        names=["muscle", "truth"])).assign(n_units=6)
    return ref


def _limits(reference) -> pd.Series:
    t = reference.table.loc[MUSCLE]
    return pd.Series(prediction_limit(t["n_recordings"]), index=t.index)


def _z_tables(limit: pd.Series, n: int = 120, seed: int = 0) -> list[dict]:
    """z-vectors of one muscle: a fixed set of edge cases and a seeded random sample whose
    values are drawn from NaN, exactly -limit / +limit, just inside them, 0 and far beyond.
    ``None`` stands for a feature the muscle's z-table lacks (amplitude in ADC units against a
    µV reference: no amplitude and no size index)."""
    lim = limit.to_dict()

    def choices(f):
        lf = lim[f]
        return [np.nan, -lf, lf, np.nextafter(lf, 0), -np.nextafter(lf, 0), 0.0, 3.5, -3.5]

    cases = [
        {f: 0.0 for f in FEATURES},                                        # all within
        {f: np.nan for f in FEATURES},                                     # nothing judged
        {**{f: 0.0 for f in FEATURES}, "duration_ms": lim["duration_ms"]},   # on the limit
        {**{f: 0.0 for f in FEATURES}, "duration_ms": -lim["duration_ms"]},
        {**{f: 0.0 for f in FEATURES}, "log_amplitude": 3.0},               # amplitude alone
        {**{f: 0.0 for f in FEATURES}, "log_amplitude": 3.0, "duration_ms": np.nan},
        {**{f: 0.0 for f in FEATURES}, "log_amplitude": None, "size_index": None,
         "duration_ms": 3.0},                                              # ADC units
        {**{f: 0.0 for f in FEATURES}, "log_amplitude": None, "size_index": None,
         "thickness_ms": -3.0},                                            # thin only
        {**{f: 0.0 for f in FEATURES}, "phases": 3.0},                      # complex only
        {**{f: 0.0 for f in FEATURES}, "duration_ms": 3.0, "log_amplitude": -3.0},  # mixed
        {**{f: 0.0 for f in FEATURES}, "duration_ms": -3.0, "log_amplitude": -3.0,
         "size_index": -3.0},                                              # myopathic
        {**{f: 0.0 for f in FEATURES}, "duration_ms": 3.0, "log_amplitude": 3.0,
         "size_index": 3.0},                                               # neurogenic
        {"duration_ms": 2.5, "log_amplitude": -1.5, "phases": 3.0, "turns": 3.0,
         "thickness_ms": -1.0, "size_index": -3.0},        # nearest myopathic, MUAPs long
    ]
    rng = np.random.default_rng(seed)
    for _ in range(n):
        row = {f: rng.choice(choices(f)) for f in FEATURES}
        if rng.random() < 0.2:
            row["log_amplitude"] = row["size_index"] = None
        cases.append(row)
    return cases


def _row_path(z: dict, limit: pd.Series, reference, monkeypatch, centroids: bool):
    """:func:`read_muscle_against_reference` reading a muscle whose z-table is ``z``."""
    feats = [f for f, v in z.items() if v is not None]
    table = pd.DataFrame({"value": [0.0] * len(feats), "n": 25,
                          "z": [z[f] for f in feats], "limit": limit[feats].to_numpy(),
                          "lower": -1.0, "upper": 1.0}, index=pd.Index(feats, name="feature"))
    monkeypatch.setattr(reference_module, "zscore_muscle", lambda *a, **k: table)
    saved = reference.centroids
    if not centroids:
        reference.centroids = None
    try:
        r, _ = read_muscle_against_reference(_muaps("t", 25, 10.0, 400.0), reference, MUSCLE)
    finally:
        reference.centroids = saved
    return r


def _wide(cases: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([{"muscle": MUSCLE, "n_muaps": 25,
                          **{f"z_{f}": (np.nan if v is None else v) for f, v in z.items()}}
                         for z in cases])


def _old_rule(z: dict, limit: pd.Series, nearest: str | None, tie: bool) -> tuple[str, str]:
    """The rule as it was written row by row before it was decided in one place (an
    independent transcription, kept to catch both paths drifting together)."""
    p = load_signal_parameters()["lab_reference"]
    zs = {f: v for f, v in z.items() if v is not None}
    size = [c for c in p["size_features"] if c in zs and np.isfinite(zs[c])]
    cplx = [c for c in p["complexity_features"] if c in zs and np.isfinite(zs[c])]
    large = [c for c in size if zs[c] > limit[c]]
    small = [c for c in size if zs[c] < -limit[c]]
    if large and small:
        return "indeterminate", "lab_mixed"
    if nearest is not None:
        beyond = [k for k in zs if np.isfinite(zs[k]) and abs(zs[k]) > limit[k]]
        if not beyond:
            return "normal", "lab_centroid_within_limits"
        if tie:
            return "indeterminate", "lab_centroid_tie"
        if (nearest == "myopathic" and large) or (nearest == "neurogenic" and small):
            return "indeterminate", "lab_centroid_against_sign"
        return nearest, "lab_centroid"
    if large:
        return "neurogenic", "lab_large"
    if small:
        return "myopathic", "lab_small"
    if any(zs[c] > limit[c] for c in cplx):
        return "indeterminate", "lab_complex_only"
    return "normal", "lab_normal"


@pytest.mark.slow
def test_the_product_and_the_evaluation_read_every_z_table_alike(reference, monkeypatch):
    limit = _limits(reference)
    cases = _z_tables(limit)
    array = classify_by_centroids(_wide(cases), reference.centroids, reference)
    nearest, tie = _nearest(reference, cases)
    rules = set()
    for i, z in enumerate(cases):
        r = _row_path(z, limit, reference, monkeypatch, centroids=True)
        old = _old_rule(z, limit, nearest[i], tie[i])
        assert (r.pattern, r.rule) == old, (i, z)
        assert array.iloc[i] == r.pattern, (i, z, r.rule)
        rules.add(r.rule)
        plain = _row_path(z, limit, reference, monkeypatch, centroids=False)
        assert (plain.pattern, plain.rule) == _old_rule(z, limit, None, False), (i, z)
        rules.add(plain.rule)
        assert (plain.rule == "lab_large"
                and any(x.startswith("amplitude alone") for x in plain.reasons)) == (
            plain.rule == "lab_large" and _amplitude_alone(z, limit)), (i, z)
    # the grid reaches every rule of the reading
    assert rules == {"lab_mixed", "lab_large", "lab_small", "lab_complex_only", "lab_normal",
                     "lab_centroid", "lab_centroid_tie", "lab_centroid_against_sign",
                     "lab_centroid_within_limits"}


def _nearest(reference, cases):
    from edxreview.signal._reference import nearest_centroids

    _, nearest, tie = nearest_centroids(_wide(cases), reference.centroids.loc[MUSCLE])
    return nearest, tie


def _amplitude_alone(z: dict, limit: pd.Series) -> bool:
    d, a = z["duration_ms"], z["log_amplitude"]
    return (a is not None and np.isfinite(a) and a > limit["log_amplitude"]
            and d is not None and np.isfinite(d) and not d > limit["duration_ms"])


LIM = pd.Series({f: 2.0 for f in FEATURES})


@pytest.mark.parametrize(("z", "nearest", "tie", "expected"), [
    ({"duration_ms": 2.0}, None, False, ("normal", "lab_normal", "")),
    ({"duration_ms": 2.5}, None, False, ("neurogenic", "lab_large", "large")),
    ({"log_amplitude": -2.5}, None, False, ("myopathic", "lab_small", "small")),
    ({"duration_ms": 2.5, "log_amplitude": -2.5}, None, False, ("indeterminate", "lab_mixed", "")),
    ({"turns": 2.5, "phases": -9.0}, None, False, ("indeterminate", "lab_complex_only", "")),
    ({"duration_ms": np.nan, "thickness_ms": -9.0}, None, False, ("normal", "lab_normal", "")),
    ({"thickness_ms": -2.5}, "myopathic", False, ("myopathic", "lab_centroid", "")),
    ({"thickness_ms": 2.0}, "myopathic", False, ("normal", "lab_centroid_within_limits", "")),
    ({"duration_ms": 2.5}, "myopathic", False,
     ("indeterminate", "lab_centroid_against_sign", "large")),
    ({"duration_ms": -2.5}, "neurogenic", False,
     ("indeterminate", "lab_centroid_against_sign", "small")),
    ({"duration_ms": -2.5}, "myopathic", True, ("indeterminate", "lab_centroid_tie", "small")),
    ({"duration_ms": 2.5, "log_amplitude": -2.5}, "normal", True,
     ("indeterminate", "lab_mixed", "")),
], ids=["on the limit", "long", "small", "mixed", "turns only", "NaN not judged",
        "centroid", "centroid within limits", "myopathic with large MUAPs",
        "neurogenic with small MUAPs", "near tie", "mixed before tie"])
def test_each_rule_of_the_size_signs(z, nearest, tie, expected):
    frame = pd.DataFrame([z])
    r = read_size_signs(frame, LIM, None if nearest is None else [nearest],
                        None if nearest is None else [tie]).iloc[0]
    assert (r["pattern"], r["rule"], r["sign"]) == expected


def test_the_beyond_columns_say_which_mean_and_which_side():
    z = pd.DataFrame({"duration_ms": [3.0, np.nan, -2.0], "log_amplitude": [-3.0, 1.0, 2.5]})
    r = read_size_signs(z, pd.DataFrame({"duration_ms": [2.0, 2.0, 2.0],
                                         "log_amplitude": [2.0, np.nan, 2.0]}))
    assert r["beyond_duration_ms"].tolist() == ["above", "", ""]
    assert r["beyond_log_amplitude"].tolist() == ["below", "", "above"]
    assert r["within"].tolist() == [False, True, False]
    assert r["amplitude_alone"].tolist() == [False, False, True]


def test_amplitude_alone_needs_a_judged_duration():
    z = pd.DataFrame({"duration_ms": [np.nan, 0.0], "log_amplitude": [3.0, 3.0]})
    r = read_size_signs(z, LIM)
    assert r["amplitude_alone"].tolist() == [False, True]
    assert (r["rule"] == "lab_large").all()


@pytest.mark.parametrize(("z", "nearest"), list(product([0.0, 3.0, -3.0], ["normal", "myopathic"])))
def test_one_unit_or_many_read_alike(z, nearest):
    one = read_size_signs(pd.DataFrame({"duration_ms": [z]}), LIM, [nearest], [False])
    many = read_size_signs(pd.DataFrame({"duration_ms": [z, 0.0, -3.0]}), LIM,
                           [nearest, "normal", "neurogenic"], [False, False, True])
    assert one.iloc[0].equals(many.iloc[0])


def test_the_workbook_row_says_of_each_mean_what_the_reading_judged():
    """``emg_row``'s qualitative columns take the side of each mean from the z-score and its
    limit, as the reading does, not from a second comparison in native units (which could
    disagree on a mean at its limit)."""
    from dataclasses import replace

    from edxreview.signal import Recording, analyze_recording

    rec = Recording(samples=np.random.default_rng(0).normal(0, 20, 40_000), fs_hz=20_000.0,
                    calibrated=True, name="quiet")
    a = analyze_recording(rec, muscle=MUSCLE)
    # the duration's mean exactly on its limit in z, a hair above it in native units
    z = pd.DataFrame({"value": [12.0 + 1e-12, np.log10(900.0), 3.5],
                      "n": 25, "z": [2.0, -2.5, 2.5], "limit": 2.0,
                      "lower": [8.0, np.log10(300.0), 1.5], "upper": [12.0, np.log10(1000.0), 3.0]},
                     index=["duration_ms", "log_amplitude", "phases"])
    # the levels before emg_row writes only those the reading goes with (muap_columns_rule)
    row = replace(a, zscores=z)._muap_levels()
    assert (row["muap_duration"], row["muap_amplitude"], row["polyphasia"]) == (
        "normal", "decreased", "increased")
    signs = read_size_signs(z["z"].to_frame().T, z["limit"]).iloc[0]
    assert (signs["beyond_duration_ms"], signs["beyond_log_amplitude"]) == ("", "below")


def test_too_few_control_subjects_is_a_typed_decision(reference):
    """Whether a muscle is judged is decided on the count of control subjects, counted once
    (:func:`count_control_subjects`, whole-table), and the sentence is written from that
    typed result, not recounted."""
    from edxreview.signal._reference import control_subjects_short, count_control_subjects

    need = load_signal_parameters()["lab_reference"]["min_judging_control_subjects"]
    n = int(reference.table.loc[MUSCLE, "n_subjects"].max())
    c = count_control_subjects(reference, [MUSCLE, "deltoid"])
    assert list(c.columns) == ["muscle", "n_control_subjects", "need", "too_few"]
    assert c["n_control_subjects"].tolist() == [n, 0]       # a muscle the reference lacks: 0
    assert c["need"].tolist() == [need, need]
    assert c["too_few"].tolist() == [n < need, True]
    assert (control_subjects_short(c.iloc[0], reference) != "") == (n < need)
    few = c.iloc[0].copy()
    few[["n_control_subjects", "too_few"]] = [need - 1, True]
    assert f"rests on {need - 1} control subject(s), fewer than {need}" in \
        control_subjects_short(few, reference)
    # a feature's own controls count where the muscle has the feature
    t = reference.table.copy()
    t.loc[(MUSCLE, "phases"), "n_subjects"] = need - 1
    lean = replace(reference, table=t)
    assert count_control_subjects(lean, MUSCLE, "phases")["n_control_subjects"].iloc[0] == need - 1
    assert count_control_subjects(lean, MUSCLE, "no_such_feature")["n_control_subjects"].iloc[0] \
        == t.loc[MUSCLE, "n_subjects"].max()


def test_the_evaluation_does_not_read_centroids_of_too_few_control_subjects(reference,
                                                                             monkeypatch):
    """The product does not judge a muscle against a reference of fewer control subjects than
    ``min_judging_control_subjects`` (rule ``too_few_control_subjects``); the evaluation's
    centroid path (:func:`classify_by_centroids`) must not either, centroids or not."""
    need = load_signal_parameters()["lab_reference"]["min_judging_control_subjects"]
    lean = replace(reference, table=reference.table.assign(n_subjects=need - 1))
    limit = _limits(reference)
    cases = _z_tables(limit, n=10)
    array = classify_by_centroids(_wide(cases), lean.centroids, lean)
    for i, z in enumerate(cases):
        r = _row_path(z, limit, lean, monkeypatch, centroids=True)
        assert (r.pattern, r.rule) == ("indeterminate", "too_few_control_subjects")
        assert array.iloc[i] == r.pattern, (i, z)
    # enough people: read (the grid has normal readings)
    enough = replace(reference, table=reference.table.assign(n_subjects=need))
    assert (classify_by_centroids(_wide(cases), enough.centroids, enough) != "indeterminate").any()