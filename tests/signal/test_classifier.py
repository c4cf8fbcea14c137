"""The lab classifier: features of subject-muscles standardised against the lab's controls, a
class-balanced L2 multinomial logistic regression, stored in the reference TOML as plain data."""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from _cli import emg_cli as _cli  # noqa: E402
from test_reference import _muaps  # noqa: E402

from edxreview._errors import InvalidInputError
from edxreview.signal import _classifier as clf
from edxreview.signal._params import load_signal_parameters
from edxreview.signal._reference import LabReference, read_lab_reference

# planted classes: duration (ms), amplitude (µV), phases of the MUAPs; MUAPs per recording
PLANTED = {"normal": (10.0, 400.0, 3.0, 12), "neurogenic": (15.0, 1200.0, 3.5, 6),
           "myopathic": (6.5, 180.0, 5.0, 18)}


def _labelled(per_class=7, seed=0, muscles=("biceps_brachii", "deltoid"), classes=PLANTED):
    """Synthetic labelled subjects, two recordings per muscle, each subject's class mean
    jittered."""
    rng = np.random.default_rng(seed)
    recs, muaps = [], []
    for truth in classes:
        d, a, ph, n = PLANTED[truth]
        for i in range(per_class):
            s = f"{truth[:3]}{i}"
            dj, aj = d * np.exp(rng.normal(0, 0.06)), a * np.exp(rng.normal(0, 0.1))
            for mus in muscles:
                for j in range(2):
                    r = f"{s}-{mus}-{j}"
                    recs.append(dict(dataset="lab", recording=r, subject=s, muscle=mus,
                                     truth=truth, record_s=5.0))
                    muaps.append(_muaps(r, n, dj, aj, ph, rng, sd_ms=1.5))
    return pd.DataFrame(recs), pd.concat(muaps, ignore_index=True)


def _units(recs, muaps):
    x = clf.unit_features(muaps, None, recs)
    return x.merge(recs.drop_duplicates(["subject", "muscle"])[["subject", "muscle", "truth"]],
                   on=["subject", "muscle"])


def test_features_pool_a_subjects_recordings_of_one_muscle():
    recs, muaps = _labelled(per_class=5)
    x = clf.unit_features(muaps, None, recs).set_index(["subject", "muscle"])
    one = muaps[muaps["recording"].str.startswith("myo0-deltoid-")]
    assert x.at[("myo0", "deltoid"), "n_muaps"] == len(one) == 36
    assert x.at[("myo0", "deltoid"), "duration_ms:median"] == pytest.approx(one["duration_ms"].median())
    assert x.at[("myo0", "deltoid"), "muaps_per_s"] == pytest.approx(36 / 10.0)
    assert x.at[("myo0", "deltoid"), "polyphasic:mean"] == pytest.approx((one["phases"] >= 5).mean())
    # no epochs: the interference features are missing, not invented
    assert x["ip_log_ratio:mean"].isna().all()


def test_the_firing_rate_is_pooled_like_the_other_muap_statistics_when_named():
    recs, muaps = _labelled(per_class=5)
    muaps = muaps.assign(firing_rate_hz=np.arange(len(muaps)) % 17 + 6.0)
    feats = ["duration_ms:median", "firing_rate_hz:median"]
    x = clf.unit_features(muaps, None, recs, features=feats).set_index(["subject", "muscle"])
    one = muaps[muaps["recording"].str.startswith("neu2-biceps_brachii-")]
    assert x.at[("neu2", "biceps_brachii"), "firing_rate_hz:median"] == pytest.approx(
        one["firing_rate_hz"].median())
    # MUAP tables without rates (older outputs) give a missing feature, not an error
    y = clf.unit_features(muaps.drop(columns="firing_rate_hz"), None, recs, features=feats)
    assert y["firing_rate_hz:median"].isna().all() and y["duration_ms:median"].notna().all()


def test_a_site_extreme_is_the_feature_of_each_recording_then_its_max_or_min():
    recs, muaps = _labelled(per_class=5)
    feats = ["duration_ms:median", "duration_ms:median@min", "log_amplitude:median@max"]
    # one recording of myo0's deltoid cut to 4 MUAPs: below min_muaps, it does not count
    cut = muaps[~((muaps["recording"] == "myo0-deltoid-1")
                  & (muaps.groupby("recording").cumcount() >= 4))]
    x = clf.unit_features(cut, None, recs, features=feats).set_index(["subject", "muscle"])
    assert list(x.columns[-3:]) == feats
    per = cut.groupby("recording")["duration_ms"].median()
    amp = np.log10(cut["amplitude_uv"]).groupby(cut["recording"]).median()
    assert x.at[("nor1", "biceps_brachii"), "duration_ms:median@min"] == pytest.approx(
        min(per["nor1-biceps_brachii-0"], per["nor1-biceps_brachii-1"]))
    assert x.at[("nor1", "biceps_brachii"), "log_amplitude:median@max"] == pytest.approx(
        max(amp["nor1-biceps_brachii-0"], amp["nor1-biceps_brachii-1"]))
    assert x.at[("myo0", "deltoid"), "duration_ms:median@min"] == pytest.approx(
        per["myo0-deltoid-0"])
    with pytest.raises(ValueError, match="max or min"):
        clf.unit_features(muaps, None, recs, features=["duration_ms:median@mean"])


def test_a_model_trained_on_synthetic_features_recovers_a_planted_class():
    recs, muaps = _labelled()
    model = clf.fit_classifier(_units(recs, muaps))
    assert model is not None and model.classes == ["normal", "neurogenic", "myopathic"]
    assert model.c in load_signal_parameters()["lab_classifier"]["c_grid"]
    rng = np.random.default_rng(99)
    for truth, (d, a, ph, n) in PLANTED.items():
        new = pd.concat([_muaps(f"new-{j}", n, d, a, ph, rng, sd_ms=1.5) for j in range(2)])
        u = pd.DataFrame({"recording": ["new-0", "new-1"], "subject": "new",
                          "muscle": "biceps_brachii", "record_s": 5.0})
        r = clf.read_units(model, clf.unit_features(new, None, u))
        assert r["pred"].iloc[0] == truth
        assert r[truth].iloc[0] > 0.5


@pytest.mark.slow
def test_the_held_out_subject_is_read_by_a_model_that_never_saw_it():
    from edxreview.signal._evaluate import classifier_loso, score

    recs, muaps = _labelled(per_class=6, seed=3, muscles=("biceps_brachii",))
    res = classifier_loso(recs, muaps, None)
    s = score(res["subject"]["truth"], res["subject"]["pred"])
    assert s["n"] == 18 and s["balanced_accuracy"] >= 0.8
    # a subject no other subject resembles cannot be read right by a model without it: label
    # one normal-looking subject "myopathic" and it is read normal
    recs2 = recs.copy()
    recs2.loc[recs2["subject"] == "nor0", "truth"] = "myopathic"
    res2 = classifier_loso(recs2, muaps, None)["subject"].set_index("subject")
    assert res2.at["nor0", "pred"] == "normal"


def test_too_few_subjects_of_a_class_is_no_valid_reference():
    need = load_signal_parameters()["lab_classifier"]["min_class_subjects"]
    recs, muaps = _labelled(per_class=need - 1)
    x = _units(recs, muaps)
    assert clf.fit_classifier(x) is None
    assert "no valid reference" in clf.validity(x)
    recs, muaps = _labelled(per_class=need, classes=("normal", "myopathic"))
    assert "neurogenic (0 subject(s))" in clf.validity(_units(recs, muaps))
    r = clf.read_units(None, _units(recs, muaps))
    assert (r["pred"] == "indeterminate").all()


def _two_group_model():
    """A hand-made model over four MUAP and two interference features of one muscle (control
    mean 0, SD 1), whose coefficients favour neurogenic on long MUAPs and myopathic on many
    turns per amplitude."""
    feats = ["duration_ms:median", "log_amplitude:median", "phases:mean", "size_index:median",
             "ip_log_ratio:mean", "ip_turns_per_s:mean"]
    classes = ["normal", "neurogenic", "myopathic"]
    frame = pd.DataFrame([[0.0] * len(feats)], index=["biceps_brachii"], columns=feats)
    coef = np.zeros((3, len(feats)))
    coef[1, 0], coef[2, 4] = 2.0, 2.0
    return clf.LabClassifier(feats, classes, frame, frame + 1.0, coef, np.zeros(3), 1.0)


def _group_units(rows):
    """Units of biceps_brachii: (n_muaps, n_epochs, values of the model's six features)."""
    model = _two_group_model()
    return pd.DataFrame([{"subject": f"s{i}", "muscle": "biceps_brachii", "n_muaps": m,
                          "n_epochs": e, **dict(zip(model.features, v))}
                         for i, (m, e, v) in enumerate(rows)])


NAN = np.nan


def test_a_feature_group_complete_on_its_own_is_read():
    need_m = load_signal_parameters()["lab_classifier"]["min_muaps"]
    need_e = load_signal_parameters()["interference"]["min_epochs"]
    model = _two_group_model()
    x = _group_units([
        # too few MUAPs, epochs enough: read from the interference pattern (myopathic side)
        (need_m - 1, need_e, [NAN, NAN, NAN, NAN, 3.0, 0.0]),
        # MUAPs enough, no epochs: read from the MUAPs (neurogenic side)
        (need_m, 0, [3.0, 0.0, 0.0, 0.0, NAN, NAN]),
        # both
        (need_m, need_e, [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]),
        # neither minimum
        (need_m - 1, need_e - 1, [NAN] * 6),
    ])
    r = clf.read_units(model, x)
    assert r["rule"].tolist() == ["lab_classifier"] * 3 + ["too_few_units"]
    assert r["pred"].tolist()[:2] == ["myopathic", "neurogenic"]
    assert r["missing_groups"].tolist()[:3] == ["muap", "interference", ""]
    assert r["n_missing"].tolist()[:3] == [4, 2, 0]
    # the two groups alike: under one limit over all six features (more than half missing:
    # not read) the first unit (4 of 6 missing) was refused and the second (2 of 6) read
    assert 4 > 0.5 * len(model.features) >= 2


def test_a_group_with_more_than_its_share_of_features_missing_is_not_read():
    frac = load_signal_parameters()["lab_classifier"]["max_missing_fraction_of_group"]
    need_m = load_signal_parameters()["lab_classifier"]["min_muaps"]
    model = _two_group_model()
    k = int(frac * 4)   # MUAP features that may be missing (of 4)
    ok = [NAN] * k + [3.0] * (4 - k)
    over = [NAN] * (k + 1) + [3.0] * (3 - k)
    x = _group_units([(need_m, 0, ok + [NAN, NAN]), (need_m, 0, over + [NAN, NAN])])
    r = clf.read_units(model, x)
    assert r["rule"].tolist() == ["lab_classifier", "too_many_missing"]
    assert r.loc[1, "pred"] == "indeterminate" and r.loc[1, model.classes].isna().all()
    assert r["missing_groups"].tolist() == ["interference", "muap; interference"]
    pooled = clf.pool_probabilities(r, pd.Series(["s", "s"]), model.classes)
    assert pooled.loc["s", "pred"] == r.loc[0, "pred"]   # the unread unit does not vote


def test_feature_groups_split_the_default_features():
    feats = load_signal_parameters()["lab_classifier"]["features"]
    groups = pd.Series([clf.feature_group(f) for f in feats])
    assert set(groups) == {"muap", "interference"}
    assert (groups == "interference").sum() == sum(f.startswith("ip_") for f in feats) == 6


def test_the_screen_marks_a_weak_reading_and_its_missing_features():
    from edxreview.cli.emg import _subject_summary

    weak = load_signal_parameters()["lab_classifier"]["weak_probability"]
    s = pd.DataFrame({"subject": ["S", "S"], "muscle": ["deltoid", "biceps_brachii"],
                      "n_recordings": [1, 2], "n_muaps": [12, 30],
                      "pattern": ["normal", "normal"], "rule": ["lab_normal", "lab_normal"],
                      "ip_pattern": ["normal", "normal"],
                      "ip_rule": ["interference_ratio", "interference_ratio"],
                      "clf_pattern": ["neurogenic", "normal"],
                      "clf_probability": [weak - 0.03, 0.9], "clf_reasons": ["", ""],
                      "clf_model": ["", ""], "clf_provisional": ["", ""],
                      "clf_n_missing": [10, 0], "clf_n_features": [24, 24],
                      "clf_subject_pattern": ["normal", "normal"],
                      "clf_subject_probability": [0.6, 0.6],
                      "clf_subject_n_read": [2, 2],
                      "clf_subject_readings": ["normal 1, neurogenic 1"] * 2,
                      "primary_pattern": ["neurogenic", "normal"],
                      "primary_rule": ["lab_classifier", "lab_classifier"]})
    lines = _subject_summary(s)
    assert lines[0] == (f"subject S, deltoid (1 recording(s), 12 MUAPs): primary reading "
                        f"neurogenic (lab classifier, probability {weak - 0.03:.2f} (weak "
                        f"reading: below {weak:g}); 10 of 24 features missing, set to the "
                        "control mean; MUAP means normal (rule lab_normal)); interference "
                        "normal (rule interference_ratio)")
    assert lines[1].startswith("subject S, biceps_brachii (2 recording(s), 30 MUAPs): primary "
                               "reading normal (lab classifier, probability 0.90; MUAP means")
    # the pooled class does not hide the muscle read neurogenic
    assert lines[2] == ("subject S, its 2 muscles pooled: lab classifier normal, probability "
                        "0.60 (the muscles' probabilities pooled; 2 read: normal 1, neurogenic "
                        "1); a muscle read neurogenic is a finding of its own: see its line")
    # a borrowed classifier centred on too few local controls: provisional, and it says why
    s.loc[1, ["clf_provisional", "clf_model", "primary_rule"]] = [
        "provisional: a classifier borrowed from another laboratory, centred on 1 local control "
        "subject(s), fewer than the 5 a muscle's MUAP means are judged against; its probability "
        "is not calibrated for this laboratory",
        "transferred from 'A', centred on 1 local control subject(s)", "lab_classifier_provisional"]
    line = _subject_summary(s)[1]
    assert "primary reading normal (lab classifier, probability 0.90; provisional: a classifier " \
           "borrowed" in line and "(transferred from 'A', centred on 1 local" in line


def test_a_focal_abnormality_is_the_subjects_reading_not_outvoted_by_normal_muscles():
    # one muscle neurogenic 0.80 beside one normal 0.90: the normalised geometric mean of their
    # probabilities reads normal; the clinical pooling reads neurogenic
    classes = ["normal", "neurogenic", "myopathic"]
    r = pd.DataFrame({"pred": ["neurogenic", "normal", "normal", "normal", "neurogenic",
                               "myopathic", "indeterminate", "indeterminate"],
                      "probability": [0.80, 0.90, 0.70, 0.95, 0.60, 0.55, np.nan, np.nan],
                      "normal": [0.15, 0.90, 0.70, 0.95, 0.2, 0.3, np.nan, np.nan],
                      "neurogenic": [0.80, 0.05, 0.2, 0.03, 0.6, 0.15, np.nan, np.nan],
                      "myopathic": [0.05, 0.05, 0.1, 0.02, 0.2, 0.55, np.nan, np.nan]})
    by = pd.Series(["focal", "focal", "normal", "normal", "mixed", "mixed", "unread", "normal"])
    assert clf.pool_probabilities(r.iloc[:2], by.iloc[:2], classes).at["focal", "pred"] == "normal"
    out = clf.pool_muscle_readings(r, by, classes)
    assert out.at["focal", "pred"] == "neurogenic"
    assert out.at["focal", "probability"] == pytest.approx(0.80)
    assert (out.at["focal", "n_read"], out.at["focal", "n_class"]) == (2, 1)
    # all read normal: normal, the least certain normal muscle stands for it; an unread muscle
    # is left out
    assert out.at["normal", "pred"] == "normal"
    assert out.at["normal", "probability"] == pytest.approx(0.70)
    assert out.at["normal", "n_read"] == 2
    assert out.at["mixed", "pred"] == "indeterminate" and np.isnan(out.at["mixed", "probability"])
    assert out.at["unread", "pred"] == "indeterminate" and out.at["unread", "n_read"] == 0


def test_subject_pools_its_muscles_by_the_geometric_mean():
    p = pd.DataFrame({"normal": [0.6, 0.1, 0.2], "neurogenic": [0.3, 0.8, 0.2],
                      "myopathic": [0.1, 0.1, 0.6]})
    out = clf.pool_probabilities(p, pd.Series(["a", "a", "b"]), list(p.columns))
    g = np.sqrt(np.array([0.6 * 0.1, 0.3 * 0.8, 0.1 * 0.1]))
    assert out.loc["a", ["normal", "neurogenic", "myopathic"]].to_numpy(float) == pytest.approx(g / g.sum())
    assert out.loc["a", "pred"] == "neurogenic" and out.loc["b", "pred"] == "myopathic"


def test_the_model_round_trips_through_the_reference_toml(tmp_path):
    recs, muaps = _labelled(seed=5)
    model = clf.fit_classifier(_units(recs, muaps))
    table = pd.DataFrame(columns=["mean", "sd_between", "sd_within", "n_recordings",
                                  "n_subjects", "n_muaps"],
                         index=pd.MultiIndex.from_tuples([], names=["muscle", "feature"]))
    ref = LabReference("syn", "uV", table, classifier=model)
    ref.write(tmp_path / "ref.toml")
    text = (tmp_path / "ref.toml").read_text()
    assert "[classifier.muscles.deltoid]" in text and "pickle" not in text
    back = read_lab_reference(tmp_path / "ref.toml").classifier
    assert back.features == model.features and back.classes == model.classes
    np.testing.assert_allclose(back.coef, model.coef)
    np.testing.assert_allclose(back.intercept, model.intercept)
    assert back.counts == model.counts and back.c == model.c
    x = _units(recs, muaps)
    pd.testing.assert_frame_equal(back.predict_proba(x), model.predict_proba(x))
    # a damaged model is a located error, not a traceback
    bad = text.replace("coef = [[", "coef = [[1.0, ", 1)
    (tmp_path / "bad.toml").write_text(bad)
    with pytest.raises(InvalidInputError, match=r"\[classifier\] coef: rows of different"):
        read_lab_reference(tmp_path / "bad.toml")
    bad = text.replace("intercept = [", "intercept = [0.5, ", 1)
    (tmp_path / "bad1.toml").write_text(bad)
    with pytest.raises(InvalidInputError, match=r"\[classifier\] intercept: 4 values for 3"):
        read_lab_reference(tmp_path / "bad1.toml")
    bad = text.replace("scale = [", "scale = [2.0, ", 1)
    (tmp_path / "bad2.toml").write_text(bad)
    with pytest.raises(InvalidInputError, match=rf"\[classifier.muscles.\w+\] scale: {len(model.features) + 1} values"):
        read_lab_reference(tmp_path / "bad2.toml")


def test_a_reference_without_labelled_patients_has_no_classifier(tmp_path):
    recs, muaps = _labelled(per_class=6, classes=("normal",))
    from edxreview.signal._reference import build_lab_reference

    ref = build_lab_reference(muaps, recs)
    ref.write(tmp_path / "ref.toml")
    assert "[classifier" not in (tmp_path / "ref.toml").read_text()
    back = read_lab_reference(tmp_path / "ref.toml")
    assert back.classifier is None and back.classifier_status == ""


@pytest.mark.slow
def test_cli_stores_the_classifier_and_reads_a_subject_with_it(tmp_path, monkeypatch):
    # synthetic records of 2-4 units: nearly every feature is missing; the wiring is tested
    # here, the minimum of features in test_a_group_with_more_than_its_share_of_features_missing_is_not_read
    monkeypatch.setitem(load_signal_parameters()["lab_classifier"], "max_missing_fraction_of_group", 1.0)
    # ... and a recording of 2-4 MUAPs is readable (else it neither trains nor is read)
    monkeypatch.setitem(load_signal_parameters()["lab_classifier"], "min_muaps", 1)
    from _synth import weak_contraction

    # three groups of synthetic recordings, 5 subjects each (the minimum), one recording each
    kinds = {"normal": [(10.0, 800.0, 3), (8.0, 500.0, 2), (12.0, 350.0, 4)],
             "neurogenic": [(9.0, 2500.0, 3), (11.0, 1800.0, 3)],
             "myopathic": [(14.0, 250.0, 6), (12.0, 200.0, 7), (16.0, 300.0, 6), (10.0, 150.0, 5)]}
    files, rows = [], []
    for g, units in kinds.items():
        for i in range(5):
            x, _ = weak_contraction(seed=30 + 7 * i + len(g), duration_s=3.0, units=units,
                                    spiky=True, spike_ms=1.2)
            p = tmp_path / f"{g}{i}.bin"
            np.round(x * 5).astype("<i2").tofile(p)
            files.append(str(p))
            rows.append({"file": p.name, "subject": f"{g}{i}", "muscle": "biceps_brachii",
                         "group": g})
    sub = tmp_path / "subjects.csv"
    pd.DataFrame(rows).to_csv(sub, index=False)
    ref = tmp_path / "ref.toml"
    assert _cli(["emg", "reference", "build", *files, "--fs", "10000", "--gain", "5000",
                 "--subjects", str(sub), "--out", str(ref), "-q"]) == 0
    back = read_lab_reference(ref)
    assert back.classifier is not None and back.classifier.muscles() == ["biceps_brachii"]
    assert back.classifier.counts["subjects"] == {"normal": 5, "neurogenic": 5, "myopathic": 5}
    out = tmp_path / "out"
    assert _cli(["emg", "analyze", files[5], "--fs", "10000", "--gain", "5000", "--muscle",
                 "biceps_brachii", "--reference", str(ref), "--subject", "S1", "--out",
                 str(out), "-q", "--no-figures"]) == 0
    s = pd.read_csv(out / "subjects.csv")
    assert s.loc[0, "clf_pattern"] in ("normal", "neurogenic", "myopathic")
    assert s.loc[0, "clf_probability"] == pytest.approx(
        s.loc[0, ["clf_p_normal", "clf_p_neurogenic", "clf_p_myopathic"]].max())
    assert s.loc[0, "clf_subject_pattern"] == s.loc[0, "clf_pattern"]
    # several subjects in one run: each file's subject and muscle from a CSV
    many = tmp_path / "many.csv"
    pd.DataFrame({"file": [Path(files[5]).name, Path(files[6]).name, Path(files[12]).name],
                  "subject": ["X", "X", "Y"], "muscle": "biceps_brachii"}).to_csv(many, index=False)
    out4 = tmp_path / "out4"
    assert _cli(["emg", "analyze", files[5], files[6], files[12], "--fs", "10000", "--gain",
                 "5000", "--reference", str(ref), "--subjects", str(many), "--out", str(out4),
                 "-q", "--no-figures"]) == 0
    s4 = pd.read_csv(out4 / "subjects.csv")
    assert s4["subject"].tolist() == ["X", "Y"] and s4["n_recordings"].tolist() == [2, 1]
    assert _cli(["emg", "analyze", files[5], "--fs", "10000", "--reference", str(ref),
                 "--subjects", str(many), "--subject", "X", "--out", str(tmp_path / "o5"),
                 "-q"]) == 2
    assert _cli(["emg", "analyze", files[0], "--fs", "10000", "--reference", str(ref),
                 "--subjects", str(many), "--out", str(tmp_path / "o6"), "-q"]) == 1  # no row
    # a muscle the classifier was not trained on: no valid reference, said, not guessed
    out2 = tmp_path / "out2"
    assert _cli(["emg", "analyze", files[5], "--fs", "10000", "--gain", "5000", "--muscle",
                 "deltoid", "--reference", str(ref), "--subject", "S1", "--out",
                 str(out2), "-q", "--no-figures"]) == 0
    s2 = pd.read_csv(out2 / "subjects.csv")
    assert s2.loc[0, "clf_pattern"] == "indeterminate"
    assert "no valid reference" in s2.loc[0, "clf_reasons"]
    # labelled, but a class short of subjects: the reference says why and analyze repeats it
    pd.DataFrame(rows[:14]).to_csv(sub, index=False)
    ref2 = tmp_path / "ref2.toml"
    assert _cli(["emg", "reference", "build", *files[:14], "--fs", "10000", "--gain", "5000",
                 "--subjects", str(sub), "--out", str(ref2), "-q"]) == 0
    assert "no valid reference" in read_lab_reference(ref2).classifier_status
    out3 = tmp_path / "out3"
    assert _cli(["emg", "analyze", files[5], "--fs", "10000", "--gain", "5000", "--muscle",
                 "biceps_brachii", "--reference", str(ref2), "--subject", "S1", "--out",
                 str(out3), "-q", "--no-figures"]) == 0
    s3 = pd.read_csv(out3 / "subjects.csv")
    assert s3.loc[0, "clf_pattern"] == "indeterminate"
    assert "myopathic (4 subject(s))" in s3.loc[0, "clf_reasons"]


def test_bad_subjects_files_are_located_errors(tmp_path, capsys):
    files = []
    for i in range(2):
        p = tmp_path / f"r{i}.bin"
        np.zeros(1000, "<i2").tofile(p)
        files.append(str(p))
    sub = tmp_path / "subjects.csv"
    pd.DataFrame({"file": ["r0.bin", "r1.bin"], "subject": ["a", "b"],
                  "muscle": "biceps_brachii", "group": ["normal", "ALS?"]}).to_csv(sub, index=False)
    assert _cli(["emg", "reference", "build", *files, "--fs", "10000", "--subjects", str(sub),
                 "--out", str(tmp_path / "r.toml"), "-q"]) == 1
    err = capsys.readouterr().err
    assert "file 'r1': group 'ALS?'" in err
    pd.DataFrame({"file": ["r0.bin"], "subject": ["a"]}).to_csv(sub, index=False)
    assert _cli(["emg", "reference", "build", *files, "--fs", "10000", "--subjects", str(sub),
                 "--muscle", "deltoid", "--out", str(tmp_path / "r.toml"), "-q"]) == 1
    assert "has no row for ['r1']" in capsys.readouterr().err
    pd.DataFrame({"file": ["r0.bin"], "group": ["normal"]}).to_csv(sub, index=False)
    assert _cli(["emg", "reference", "build", *files, "--fs", "10000", "--subjects", str(sub),
                 "--muscle", "deltoid", "--out", str(tmp_path / "r.toml"), "-q"]) == 1
    assert "lacks column(s) ['subject']" in capsys.readouterr().err
    assert not (tmp_path / "r.toml").exists()


def test_group_names_of_a_manifest_are_understood(tmp_path):
    import argparse

    from edxreview.cli import emg

    sub = tmp_path / "subjects.csv"
    pd.DataFrame({"file": ["a.hea", "b.hea", "c.hea"], "subject": ["A", "B", "C"],
                  "muscle": "deltoid", "group": ["healthy", "Myopathy", "neuropathy "]}
                 ).to_csv(sub, index=False)
    args = argparse.Namespace(subjects=str(sub), muscle=None)
    mapping, code = emg._subject_mapping(args, [Path("a"), Path("b"), Path("c")])
    assert code == 0
    assert mapping["truth"].tolist() == ["normal", "myopathic", "neurogenic"]


def test_analyze_prints_the_classifiers_reading_of_each_subject_muscle(tmp_path, capsys, monkeypatch):
    # synthetic records of 2-4 units: nearly every feature is missing; the wiring is tested
    # here, the minimum of features in test_a_group_with_more_than_its_share_of_features_missing_is_not_read
    monkeypatch.setitem(load_signal_parameters()["lab_classifier"], "max_missing_fraction_of_group", 1.0)
    from _synth import raw_contractions

    recs, muaps = _labelled(seed=5)
    model = clf.fit_classifier(_units(recs, muaps))
    table = pd.DataFrame(columns=["mean", "sd_between", "sd_within", "n_recordings",
                                  "n_subjects", "n_muaps"],
                         index=pd.MultiIndex.from_tuples([], names=["muscle", "feature"]))
    ref = tmp_path / "ref.toml"
    LabReference("syn", "uV", table, classifier=model).write(ref)
    files = raw_contractions(tmp_path, 3, seed=40, duration_s=6.0)
    many = tmp_path / "many.csv"
    pd.DataFrame({"file": ["r0.bin", "r1.bin", "r2.bin"], "subject": ["X", "X", "Y"],
                  "muscle": ["biceps_brachii", "deltoid", "vastus_medialis"]}
                 ).to_csv(many, index=False)
    out = tmp_path / "out"
    assert _cli(["emg", "analyze", *files, "--fs", "10000", "--gain", "5000", "--reference",
                 str(ref), "--subjects", str(many), "--out", str(out), "--no-figures"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("r0: ")   # stdout holds the readings only (bar on stderr)
    s = pd.read_csv(out / "subjects.csv")
    for r in s.itertuples():
        head = f"subject {r.subject}, {r.muscle} ({r.n_recordings} recording(s), {r.n_muaps} MUAPs)"
        if r.muscle == "vastus_medialis":   # not in the model: said, not guessed
            assert r.clf_pattern == "indeterminate"
            want = (f"{head}: primary reading {r.primary_pattern} (MUAP means, rule "
                    f"{r.rule}; lab classifier not read: no valid reference")
        else:
            assert r.clf_pattern in ("normal", "neurogenic", "myopathic")
            want = (f"{head}: primary reading {r.clf_pattern} (lab classifier, probability "
                    f"{r.clf_probability:.2f}")
            # a muscle with too few MUAPs for the MUAP group is read from its epochs: the
            # group not read is named, in the column and in the reasons
            if r.n_muaps < clf.classifier_parameters()["min_muaps"]:
                assert r.clf_missing_groups == "muap"
                n_muap = sum(clf.feature_group(f) == "muap" for f in model.features)
                assert f"the {n_muap} MUAP features not read ({r.n_muaps} MUAP(s))" in r.clf_reasons
            else:
                assert "muap" not in str(r.clf_missing_groups)
        assert any(line.startswith(want) for line in printed), (want, printed)
    recs = pd.read_csv(out / "recordings.csv")      # each recording's own reading, its rule named
    for r in recs.itertuples():     # then the classifier reading the recording alone, then
        said = f"lab classifier {r.clf_pattern}"   # the spontaneous activity
        said += "" if pd.isna(r.clf_probability) else f" {r.clf_probability:.2f}"
        said += " (weak)" if r.clf_probability < clf.classifier_parameters()["weak_probability"] else ""
        rej = (f", {r.n_muaps_rejected} rejected ({r.reject_rules})" if r.n_muaps_rejected
               else "")
        assert f"{r.file}: {r.pattern} ({r.n_units} units{rej}; rule {r.rule}); {said}; " \
               "spontaneous " \
               "activity " in "\n".join(printed)
    # each recording read alone by the classifier, as the evaluation's recording level
    r0 = recs.set_index("file").loc["r0"]
    alone = s[(s["subject"] == "X") & (s["muscle"] == "biceps_brachii")].iloc[0]
    assert r0["clf_pattern"] == alone["clf_pattern"]      # r0 is X's only biceps recording
    assert r0["clf_probability"] == pytest.approx(alone["clf_probability"])
    assert recs.set_index("file").loc["r2", "clf_pattern"] == "indeterminate"  # no model muscle
    x = s[s["subject"] == "X"].iloc[0]
    assert (f"subject X, its 2 muscles pooled: lab classifier {x['clf_subject_pattern']}, "
            f"probability {x['clf_subject_probability']:.2f}") in " ".join(printed)
    assert f"; {x['clf_subject_n_read']} read: {x['clf_subject_readings']})" in " ".join(printed)
    # -q: nothing on the screen
    assert _cli(["emg", "analyze", *files, "--fs", "10000", "--gain", "5000", "--reference",
                 str(ref), "--subjects", str(many), "--out", str(tmp_path / "o2"),
                 "--no-figures", "-q"]) == 0
    assert "lab classifier" not in capsys.readouterr().out


def _variants_tool():
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
    import emg_clf_variants

    return emg_clf_variants


def test_the_variants_tool_takes_outlier_limits_from_the_controls_it_is_given(tmp_path):
    tool = _variants_tool()
    recs, muaps = _labelled(per_class=5)
    recs["dataset"] = "algiers"
    epochs = pd.DataFrame({"recording": recs["recording"], "ip_log_ratio": 0.0,
                           "ip_log_amplitude": 2.0, "ip_mean_freq_hz": 200.0})
    lab = tool.Lab(recs, muaps, epochs, "algiers")
    ctrl = ["nor0", "nor1", "nor2"]
    u = lab.units("V1", ctrl).set_index(["subject", "muscle"])
    f = lab.f
    lim = f[f["subject"].isin(ctrl) & (f["muscle"] == "deltoid")]["duration_ms"].quantile(0.025)
    mine = f[(f["subject"] == "myo0") & (f["muscle"] == "deltoid")]["duration_ms"]
    assert u.at[("myo0", "deltoid"), "frac_short"] == pytest.approx((mine < lim).mean())
    assert u.at[("myo0", "deltoid"), "frac_short"] > 0.5    # planted: 6.5 ms against 10 ms
    # other controls, other limits: the fractions follow the controls given
    u2 = lab.units("V1", ["nor3", "nor4"]).set_index(["subject", "muscle"])
    assert not np.allclose(u["frac_long"], u2["frac_long"])
    assert tool.features_of("V4")[-7:] == tool.EXTREMES


def test_the_variants_tool_says_what_is_wrong_with_its_arguments(tmp_path, capsys):
    tool = _variants_tool()
    assert tool.main(["--cache", str(tmp_path)]) == 1
    assert "run tools/emg_eval.py --cache" in capsys.readouterr().err
    for n in ("recordings.csv", "muaps.csv", "epochs.csv"):
        (tmp_path / n).write_text("recording\n")
    assert tool.main(["--cache", str(tmp_path), "--only", "V0,V99"]) == 2
    assert "unknown variant(s) ['V99']" in capsys.readouterr().err


def test_the_variants_tool_fits_the_cloud_line_to_the_controls_it_is_given():
    tool = _variants_tool()
    recs, muaps = _labelled(per_class=5)
    recs["dataset"] = "algiers"
    rng = np.random.default_rng(11)
    n = 6   # epochs per recording
    e = recs.loc[recs.index.repeat(n), ["recording", "subject"]].reset_index(drop=True)
    x = rng.uniform(2.0, 3.0, len(e))
    # controls on the line 1 + 0.5 x (noise SD 0.05); myopathy 0.2 above it
    y = 1.0 + 0.5 * x + rng.normal(0, 0.05, len(e)) + np.where(
        e["subject"].str.startswith("myo"), 0.2, 0.0)
    epochs = pd.DataFrame({"recording": e["recording"], "ip_log_amplitude": x,
                           "ip_turns_per_s": 10 ** y, "ip_log_ratio": y - x,
                           "ip_mean_freq_hz": 200.0})
    lab = tool.Lab(recs, muaps, epochs, "algiers")
    ctrl = [f"nor{i}" for i in range(5)]
    u = lab.units("V9", ctrl).set_index(["subject", "muscle"])
    assert u.at[("myo0", "deltoid"), "ip_cloud_z:mean"] == pytest.approx(4.0, abs=1.5)
    assert abs(u.at[("nor0", "deltoid"), "ip_cloud_z:mean"]) < 1.0
    assert (u.loc["myo0", "ip_cloud_z:mean@max"] >= u.loc["myo0", "ip_cloud_z:mean@min"]).all()
    # the line comes from the controls given: four controls are too few (min_control_subjects)
    mixed = lab.units("V9", ctrl + ["myo0", "myo1"]).set_index(["subject", "muscle"])
    assert (mixed.loc["myo0", "ip_cloud_z:mean"] < u.loc["myo0", "ip_cloud_z:mean"] - 1).all()
    assert lab.units("V9", ctrl[:4])["ip_cloud_z:mean"].isna().all()
    assert tool.features_of("V13") == tool.features_of("V4") + tool.CLOUD


def test_the_variants_tool_averages_an_ensembles_probabilities():
    tool = _variants_tool()
    a = pd.DataFrame({"subject": ["s"] * 2, "muscle": ["biceps_brachii", "deltoid"],
                      "normal": [0.6, np.nan], "neurogenic": [0.3, np.nan],
                      "myopathic": [0.1, np.nan], "pred": ["normal", "indeterminate"]})
    b = a.assign(normal=[0.2, 0.5], neurogenic=[0.3, 0.2], myopathic=[0.5, 0.3])
    m = tool._mean_reading([a, b])
    assert m[["normal", "neurogenic", "myopathic"]].iloc[0].tolist() == pytest.approx(
        [0.4, 0.3, 0.3])
    assert m["pred"].tolist() == ["normal", "indeterminate"]   # a member without a reading


def _same_muscle_units(n_units: int, recs_per_unit: int, seed: int):
    """Units (subject-muscles) whose recordings are all drawn from one muscle's distribution,
    96 MUAPs and 160 interference epochs per unit, 40 s, shared among its recordings."""
    rng = np.random.default_rng(seed)
    ip = {"ip_turns_per_s": (400.0, 60.0), "ip_log_amplitude": (2.5, 0.1),
          "ip_log_ratio": (0.1, 0.1), "ip_log_rms": (2.3, 0.1),
          "ip_median_freq_hz": (300.0, 40.0), "ip_mean_freq_hz": (400.0, 40.0)}
    units, muaps, epochs = [], [], []
    for i in range(n_units):
        for j in range(recs_per_unit):
            r = f"s{i}-r{j}"
            units.append({"recording": r, "subject": f"s{i}", "muscle": "biceps_brachii",
                          "record_s": 40.0 / recs_per_unit})
            muaps.append(_muaps(r, 96 // recs_per_unit, 10.0, 400.0, 3.0, rng, sd_ms=2.0))
            epochs.append(pd.DataFrame({"recording": r, **{c: rng.normal(m, s, 160 // recs_per_unit)
                                                           for c, (m, s) in ip.items()}}))
    return (pd.DataFrame(units), pd.concat(muaps, ignore_index=True),
            pd.concat(epochs, ignore_index=True))


def test_a_units_features_do_not_depend_on_how_many_recordings_it_pools():
    # A recording (read alone in recordings.csv and at the evaluation's recording level) and a
    # subject-muscle of 1, 2 or 10 recordings are read by one model against one control centre,
    # so each feature must mean the same whatever the number of recordings its MUAPs and
    # epochs come from (here the same 96 MUAPs and 160 epochs per unit, from 1 or 8
    # recordings: the small-sample bias of a quantile over fewer MUAPs is another matter). An
    # extreme over the recordings does not: the largest of 8 recordings' medians lies far above
    # the median of their MUAPs pooled. In the Algiers training data the number of recordings
    # per muscle follows the class (controls 2, patients mostly 1), so such a feature taught
    # the model "spread between recordings = normal", and an N2001 muscle of 10 recordings
    # read normal while every one of its recordings read abnormal.
    feats = list(clf.classifier_parameters()["features"])
    one = clf.unit_features(*_reorder(_same_muscle_units(300, 1, seed=1)))[feats]
    many = clf.unit_features(*_reorder(_same_muscle_units(300, 8, seed=2)))[feats]
    assert one.notna().all().all() and many.notna().all().all()
    shift = (many.mean() - one.mean()).abs() / one.std().where(one.std() > 0, 1.0)
    assert (shift < 0.25).all(), shift[shift >= 0.25].round(2).to_dict()


def _reorder(t):
    units, muaps, epochs = t
    return muaps, epochs, units


def test_a_pooled_muscle_says_how_many_of_its_recordings_read_alone_agree():
    # a muscle pools its recordings' MUAPs and epochs and may read otherwise than most of them
    # read alone: subjects.csv counts the recordings agreeing (each read as recordings.csv
    # reads it) and the screen says so beside the muscle's class
    from types import SimpleNamespace

    from edxreview.cli._emg_analyze import _subject_summary
    from edxreview.cli._emg_readings import _classifier_columns, _recording_classifier

    recs, muaps = _labelled(seed=3)
    model = clf.fit_classifier(_units(recs, muaps))
    table = pd.DataFrame(columns=["mean", "sd_between", "sd_within", "n_recordings",
                                  "n_subjects", "n_muaps"],
                         index=pd.MultiIndex.from_tuples([], names=["muscle", "feature"]))
    ref = LabReference("syn", "uV", table, classifier=model)
    rng = np.random.default_rng(7)
    analyses = []
    for i, truth in enumerate(["myopathic", "myopathic", "normal", "neurogenic"]):
        d, a, ph, n = PLANTED[truth]
        analyses.append(SimpleNamespace(
            muscle="biceps_brachii", muaps=_muaps(f"f{i}", n, d, a, ph, rng, sd_ms=1.5),
            interference=None,
            recording=SimpleNamespace(name=f"f{i}", samples=np.zeros(50_000), fs_hz=10_000.0)))
    t, _ = _classifier_columns(pd.DataFrame({"muscle": ["biceps_brachii"], "side": [""]}),
                               {("biceps_brachii", ""): analyses}, ref, "S")
    alone = [_recording_classifier(a, ref)["clf_pattern"] for a in analyses]
    assert sorted(alone) == ["myopathic", "myopathic", "neurogenic", "normal"]
    row = t.iloc[0]
    assert row["clf_recordings_read"] == 4
    assert row["clf_recordings_agreeing"] == alone.count(row["clf_pattern"])
    assert row["clf_recordings_readings"] == "normal 1, neurogenic 1, myopathic 2"
    s = t.assign(subject="S", n_recordings=4, n_muaps=48, pattern="indeterminate",
                 rule="no_reference", ip_pattern="indeterminate", ip_rule="x",
                 primary_pattern=t["clf_pattern"], primary_rule="lab_classifier")
    line = _subject_summary(s)[0]
    assert (f"; {row['clf_recordings_agreeing']} of 4 recordings read alone agree (normal 1, "
            "neurogenic 1, myopathic 2); MUAP means indeterminate") in line, line
    # a muscle of one recording: nothing to compare
    one, _ = _classifier_columns(pd.DataFrame({"muscle": ["biceps_brachii"], "side": [""]}),
                                 {("biceps_brachii", ""): analyses[:1]}, ref, "S")
    assert one.at[0, "clf_recordings_read"] == 1
    assert "recordings read alone" not in _subject_summary(
        s.assign(n_recordings=1, clf_recordings_read=1))[0]


def test_a_row_of_weight_two_fits_as_the_same_row_twice():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(30, 3))
    y = np.repeat([0, 1, 2], 10)
    x[y == 1] += 1.0
    w = np.where(np.arange(30) % 3 == 0, 2.0, 1.0)
    twice = np.flatnonzero(w == 2.0)
    xd, yd = np.vstack([x, x[twice]]), np.r_[y, y[twice]]
    a = clf.fit_logistic(x, y, 3, 1.0, w)
    b = clf.fit_logistic(xd, yd, 3, 1.0)
    # the class balance scales every weight by n / (k * class weight): the same for both
    # up to the factor len(xd) / len(x), so compare against the penalty scaled alike
    c = clf.fit_logistic(xd, yd, 3, len(x) / len(xd))
    assert not np.allclose(a[0], b[0])
    np.testing.assert_allclose(a[0], c[0], atol=1e-6)
    np.testing.assert_allclose(a[1], c[1], atol=1e-6)


def test_the_control_centre_and_sd_weigh_each_subject_muscle_as_one():
    x = pd.DataFrame({"subject": ["a", "a", "b", "c", "d", "e"], "muscle": "deltoid",
                      "truth": "normal", "f": [1.0, 3.0, 2.0, 4.0, np.nan, 6.0],
                      "weight": [0.5, 0.5, 1.0, 1.0, 1.0, 1.0]})
    centre, scale, n = clf._standardisation(x, ["f"], 5)
    # weights 0.5, 0.5, 1, 1, 1 over the known values 1, 3, 2, 4, 6
    w, v = np.array([0.5, 0.5, 1, 1, 1]), np.array([1.0, 3, 2, 4, 6])
    m = (w * v).sum() / w.sum()
    var = (w * (v - m) ** 2).sum() / (w.sum() - (w ** 2).sum() / w.sum())
    assert centre.at["deltoid", "f"] == pytest.approx(m)
    assert scale.at["deltoid", "f"] == pytest.approx(np.sqrt(var))
    assert n["deltoid"] == 5
    # a constant feature has SD 0 (then unscaled), not a rounding residue
    c3, s3, _ = clf._standardisation(x.assign(f=0.1, weight=[0.3, 0.7, 1, 1, 1, 1]), ["f"], 5)
    assert s3.at["deltoid", "f"] == 1.0
    # equal weights: the ordinary mean and n - 1 SD
    c2, s2, _ = clf._standardisation(x.drop(columns="weight"), ["f"], 5)
    assert c2.at["deltoid", "f"] == pytest.approx(x["f"].mean())
    assert s2.at["deltoid", "f"] == pytest.approx(x["f"].std())


def test_training_on_recordings_gives_a_row_per_recording_weighing_its_muscle_as_one(monkeypatch):
    recs, muaps = _labelled(per_class=5)
    recs = recs[~recs["recording"].str.match(r"(neu|myo)\d-.*-1$")]   # patients: 1 recording
    monkeypatch.setitem(load_signal_parameters()["lab_classifier"], "training_unit", "recording")
    x = clf.training_rows(muaps, None, recs)
    assert len(x) == len(recs)
    w = x.groupby(["subject", "muscle"])["weight"].sum()
    assert np.allclose(w, 1.0)
    assert set(x.loc[x["subject"].str.startswith("nor"), "weight"]) == {0.5}
    model = clf.fit_classifier(x.merge(recs[["recording", "truth"]], on="recording"))
    assert model is not None
    # the units counted are subject-muscles, not recordings
    assert model.counts["units"] == {"normal": 10, "neurogenic": 10, "myopathic": 10}
    # the control centre and SD are those of the control recordings, each weighing one half
    ctrl = x[x["subject"].str.startswith("nor") & (x["muscle"] == "deltoid")]
    f = "duration_ms:median"
    assert model.centre.at["deltoid", f] == pytest.approx(ctrl[f].mean())
    assert model.scale.at["deltoid", f] == pytest.approx(
        np.sqrt(((ctrl[f] - ctrl[f].mean()) ** 2).sum() * 0.5 / (5 - 2.5 / 5)))
    monkeypatch.setitem(load_signal_parameters()["lab_classifier"], "training_unit", "sites")
    with pytest.raises(Exception, match="training_unit must be one of"):
        clf.training_rows(muaps, None, recs)


def test_the_inner_folds_loss_weighs_each_row():
    d = pd.DataFrame({"t": ["a", "a", "b"], "w": [0.5, 1.5, 1.0], "l": [1.0, 3.0, 2.0]})
    # class a: (0.5 + 4.5) / 2 = 2.5, class b: 2.0 -> 2.25; unweighted it would be 2.0
    assert clf.balanced_loss(d) == pytest.approx(2.25)
    assert clf.balanced_loss(d.assign(w=1.0)) == pytest.approx(2.0)


def test_a_recording_too_poor_to_be_read_does_not_train(monkeypatch):
    recs, muaps = _labelled(per_class=5)
    monkeypatch.setitem(load_signal_parameters()["lab_classifier"], "training_unit", "recording")
    poor = "myo0-deltoid-1"
    few = muaps[muaps["recording"] != poor]
    few = pd.concat([few, muaps[muaps["recording"] == poor].head(2)], ignore_index=True)
    x = clf.training_rows(few, None, recs)
    assert poor not in set(x["recording"])
    # its muscle's other recording now weighs as the whole muscle
    assert x.loc[x["recording"] == "myo0-deltoid-0", "weight"].item() == 1.0


def _signed_problem(seed=3):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(90, 4))
    y = np.repeat([0, 1, 2], 30)
    # feature 0 runs against its declared sign for class 1 (lower in class 1, declared up)
    x[y == 1, 0] -= 1.5
    x[y == 2, 1] += 1.0
    signs = np.array([[1, 0, -1, 0], [0, 1, 0, -1]])
    return x, y, signs, rng.uniform(0.5, 1.0, 90)


def test_a_signed_fit_holds_its_signs_at_the_optimum():
    """Projected Newton reaches the constrained optimum: every coefficient on its declared
    side, the reference class at 0, and the KKT conditions of the penalised objective (a zero
    gradient where a coefficient is free or inside its bound; at a bound, a gradient that
    pushes outwards only)."""
    x, y, signs, w = _signed_problem()
    c = 1.0
    coef, icpt = clf.fit_logistic(x, y, 3, c, w, signs)
    assert np.all(coef[0] == 0) and icpt[0] == 0
    assert np.all(coef[1:][signs > 0] >= 0) and np.all(coef[1:][signs < 0] <= 0)
    assert coef[1, 0] == 0            # the direction the data want is refused: held at 0
    free = clf.fit_logistic(x, y, 3, c, w)
    assert free[0][1, 0] - free[0][0, 0] < -0.3   # unconstrained, the data's direction
    # gradient of the objective at the signed optimum (reference coding)
    n, k = len(y), 3
    cnt = np.bincount(y, weights=w, minlength=k)
    ww = w * n / (k * cnt)[y]
    xt = np.hstack([x, np.ones((n, 1))])
    theta = np.hstack([coef, icpt[:, None]])
    pr = clf.softmax(xt @ theta.T)
    pen = np.r_[np.ones(4), 1e-9]
    g = (c * ((pr - np.eye(k)[y]) * ww[:, None]).T @ xt + pen * theta)[1:, :4]
    at_bound = (signs != 0) & (coef[1:] == 0)
    assert np.abs(g[~at_bound]).max() < 1e-5
    # at a bound "up" (>= 0) the gradient is positive (descent would leave the side), "down" negative
    assert np.all(g[at_bound & (signs > 0)] >= -1e-8) and np.all(g[at_bound & (signs < 0)] <= 1e-8)


def _gradient(x, y, w, c, coef, icpt):
    """The gradient of fit_logistic's objective at (coef, icpt), intercepts included."""
    n, k = len(y), coef.shape[0]
    cnt = np.bincount(y, weights=w, minlength=k)
    ww = w * n / (k * cnt)[y]
    xt = np.hstack([x, np.ones((n, 1))])
    theta = np.hstack([coef, icpt[:, None]])
    pr = clf.softmax(xt @ theta.T)
    pen = np.r_[np.ones(x.shape[1]), 1e-9]
    return c * ((pr - np.eye(k)[y]) * ww[:, None]).T @ xt + pen * theta


def test_signs_of_zero_fit_the_reference_coded_optimum():
    """All signs free: the reference-coded fit is the optimum of its own objective (zero
    gradient of every coefficient and intercept of the classes against the reference), and
    its probabilities differ from the symmetric fit's only by the penalty's parametrisation."""
    x, y, _, w = _signed_problem()
    coef, icpt = clf.fit_logistic(x, y, 3, 1.0, w, np.zeros((2, 4)))
    assert np.all(coef[0] == 0) and icpt[0] == 0
    assert np.abs(_gradient(x, y, w, 1.0, coef, icpt)[1:]).max() < 1e-6
    sym = clf.fit_logistic(x, y, 3, 1.0, w)
    p_ref = clf.softmax(x @ coef.T + icpt)
    p_sym = clf.softmax(x @ sym[0].T + sym[1])
    assert not np.allclose(p_ref, p_sym, atol=1e-6)
    assert np.abs(p_ref - p_sym).max() < 0.2


@pytest.mark.parametrize("c", [0.01, 1.0, 100.0])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_signed_fit_reaches_the_optimum_scipy_finds(seed, c):
    """Against an independent solver (scipy's L-BFGS-B with the same bounds) on problems
    whose features are strongly correlated, one of each pair held to a sign the data push
    across (a free coefficient's Newton step then crosses its bound): the same objective
    value, and the projected gradient zero at the solution (intercepts included)."""
    from scipy.optimize import minimize

    rng = np.random.default_rng(seed)
    n, k = 120, 3
    z = rng.normal(size=(n, 3))
    x = np.column_stack([z[:, 0], z[:, 0] + 0.1 * rng.normal(size=n), z[:, 1],
                         z[:, 1] + 0.1 * rng.normal(size=n), z[:, 2]])
    y = np.repeat([0, 1, 2], n // 3)
    x[y == 1, :2] -= 0.8             # against "up" for class 1 on feature 0
    x[y == 2, 2:4] += 0.8            # against "down" for class 2 on feature 2
    signs = np.array([[1, 0, 0, 0, -1], [0, 0, -1, 0, 1]])
    w = rng.uniform(0.5, 1.0, n)
    coef, icpt = clf.fit_logistic(x, y, k, c, w, signs)
    p = x.shape[1]
    cnt = np.bincount(y, weights=w, minlength=k)
    ww = w * n / (k * cnt)[y]
    xt = np.hstack([x, np.ones((n, 1))])
    pen = np.r_[np.ones(p), 1e-9]
    onehot = np.eye(k)[y]

    def fg(v):
        th = np.vstack([np.zeros(p + 1), v.reshape(k - 1, p + 1)])
        a = xt @ th.T
        a = a - a.max(1, keepdims=True)
        lse = np.log(np.exp(a).sum(1))
        f = 0.5 * (pen * th ** 2).sum() + c * (ww * (lse - (a * onehot).sum(1))).sum()
        g = c * ((np.exp(a - lse[:, None]) - onehot) * ww[:, None]).T @ xt + pen * th
        return f, g[1:].ravel()

    bounds = [(0, None) if j < p and s_ > 0 else (None, 0) if j < p and s_ < 0 else (None, None)
              for row in signs for j, s_ in enumerate(list(row) + [0])]
    ref = minimize(fg, np.zeros((k - 1) * (p + 1)), jac=True, method="L-BFGS-B",
                   bounds=bounds, options={"maxiter": 20000, "ftol": 1e-15, "gtol": 1e-10})
    ours = fg(np.hstack([coef, icpt[:, None]])[1:].ravel())[0]
    assert ours <= ref.fun + 1e-7 * max(1.0, abs(ref.fun))
    assert np.all(coef[1:][signs > 0] >= 0) and np.all(coef[1:][signs < 0] <= 0)
    assert (coef[1:][signs != 0] == 0).any()       # a bound is active in every problem
    g = _gradient(x, y, w, c, coef, icpt)[1:]
    theta = np.hstack([coef, icpt[:, None]])[1:]
    lo = np.where(np.c_[signs, np.zeros((2, 1))] > 0, 0.0, -np.inf)
    hi = np.where(np.c_[signs, np.zeros((2, 1))] < 0, 0.0, np.inf)
    assert np.abs(theta - np.clip(theta - g, lo, hi)).max() < 1e-6 * max(1.0, abs(ours))


def test_every_classifier_feature_has_a_declared_direction():
    p = load_signal_parameters()["lab_classifier"]
    table = p["signs"]
    assert table["classes"] == [c for c in p["classes"] if c != "normal"]
    assert p["classes"][0] == "normal"
    for f in p["features"]:
        assert f in table, f"no direction declared for {f}"
        assert len(table[f]) == 2 and set(table[f]) <= {"up", "down", "free"}, (f, table[f])
    unknown = set(table) - set(p["features"]) - {"classes"}
    assert not unknown, unknown


def test_sign_matrix_follows_the_switch(monkeypatch):
    p = load_signal_parameters()["lab_classifier"]
    feats = ["duration_ms:median", "ip_log_ratio:mean", "not_a_feature"]
    monkeypatch.setitem(p, "sign_constraints", False)
    assert clf.sign_matrix(feats, list(p["classes"])) is None
    monkeypatch.setitem(p, "sign_constraints", True)
    np.testing.assert_array_equal(clf.sign_matrix(feats, list(p["classes"])),
                                  [[1, -1, 0], [-1, 1, 0]])


@pytest.mark.parametrize(("key", "value", "message"), [
    ("classes", ["myopathic"], "stated against 'normal'"),
    ("duration_ms:median", ["Up", "down"], "'up', 'down' or 'free'"),
    ("duration_ms:median", ["up"], "'up', 'down' or 'free'"),
])
def test_sign_matrix_refuses_signs_it_cannot_read(monkeypatch, key, value, message):
    from edxreview._errors import InvalidParameterError

    p = load_signal_parameters()["lab_classifier"]
    monkeypatch.setitem(p, "sign_constraints", True)
    monkeypatch.setitem(p, "signs", {**p["signs"], key: value})
    with pytest.raises(InvalidParameterError, match=message):
        clf.sign_matrix(list(p["features"]), list(p["classes"]))
    monkeypatch.setitem(p, "signs", {**p["signs"]})
    with pytest.raises(InvalidParameterError, match="stated against 'normal'"):
        clf.sign_matrix(list(p["features"]), ["neurogenic", "normal", "myopathic"])
