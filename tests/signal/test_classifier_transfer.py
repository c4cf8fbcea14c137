"""A lab classifier borrowed from another laboratory and re-centred on the local controls
(``transfer_classifier``; ``emg reference build --classifier-from``): the centre is the local
controls' mean, the scale the model's, the provenance stored, the reference round-trips."""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_classifier import _labelled, _units  # noqa: E402
from _cli import emg_cli as _cli  # noqa: E402
from test_reference import _muaps  # noqa: E402

from edxreview._errors import InvalidInputError, InvalidParameterError
from edxreview.signal import _classifier as clf
from edxreview.signal._params import load_signal_parameters
from edxreview.signal._reference import LabReference, read_lab_reference

EMPTY_TABLE = pd.DataFrame(columns=["mean", "sd_between", "sd_within", "n_recordings",
                                    "n_subjects", "n_muaps"],
                           index=pd.MultiIndex.from_tuples([], names=["muscle", "feature"]))


@pytest.fixture(scope="module")
def model():
    recs, muaps = _labelled(seed=5)
    return clf.fit_classifier(_units(recs, muaps))


def _other_lab(subjects, muscles=("biceps_brachii", "vastus_medialis"), seed=11,
               duration_ms=13.0, amplitude_uv=900.0, phases=3.0):
    """Subject-muscles of another laboratory whose controls read longer and larger than the
    model's (other equipment): its features, one unit per subject and muscle."""
    rng = np.random.default_rng(seed)
    recs, muaps = [], []
    for s in subjects:
        for mus in muscles:
            r = f"{s}-{mus}"
            recs.append(dict(recording=r, subject=s, muscle=mus, record_s=5.0))
            muaps.append(_muaps(r, 15, duration_ms * np.exp(rng.normal(0, 0.04)),
                                amplitude_uv, phases, rng, sd_ms=1.5))
    recs = pd.DataFrame(recs)
    return clf.unit_features(pd.concat(muaps, ignore_index=True), None, recs)


def test_the_centre_is_the_local_controls_mean_and_the_scale_the_models(model):
    ctrl = _other_lab(["k1", "k2"])
    local = clf.transfer_classifier(model, ctrl, from_lab="syn", from_reference="syn.toml")
    assert isinstance(local, clf.LabClassifier)
    assert local.muscles() == ["biceps_brachii", "vastus_medialis"]   # deltoid: no local control
    mean = ctrl.groupby("muscle")[model.features].mean()
    pd.testing.assert_frame_equal(local.centre, mean)
    pd.testing.assert_series_equal(local.scale.loc["biceps_brachii"],
                                   model.scale.loc["biceps_brachii"])
    # vastus medialis is not in the model: the mean of its muscles' SDs, feature by feature
    pd.testing.assert_series_equal(local.scale.loc["vastus_medialis"], model.scale.mean(),
                                   check_names=False)
    np.testing.assert_array_equal(local.coef, model.coef)
    np.testing.assert_array_equal(local.intercept, model.intercept)
    assert local.transfer == {"from_lab": "syn", "from_reference": "syn.toml",
                              "min_control_subjects": 1,
                              "local_control_subjects": {"biceps_brachii": 2, "vastus_medialis": 2},
                              "borrowed_scale": ["vastus_medialis"], "short_control_subjects": {}}


def test_it_is_the_evaluations_cross_lab_convention(model):
    """The same numbers as the centring the cross-laboratory evaluation did inline before it
    called transfer_classifier: centre passed to read_units, scale reindexed and filled with the
    mean of the model's muscles' SDs."""
    ctrl = _other_lab(["k1", "k2", "k3"])
    test = _other_lab(["p1"], seed=12, duration_ms=9.0, amplitude_uv=500.0, phases=4.5)
    mus = sorted(pd.concat([ctrl, test])["muscle"].unique())
    inline = clf.LabClassifier(model.features, model.classes, model.centre,
                               model.scale.reindex(mus).fillna(model.scale.mean()), model.coef,
                               model.intercept, model.c, model.counts)
    want = clf.read_units(inline, test, ctrl.groupby("muscle")[model.features].mean())
    got = clf.read_units(clf.transfer_classifier(model, ctrl), test)
    pd.testing.assert_frame_equal(got, want)


def test_a_subject_like_the_local_controls_reads_normal_and_other_controls_move_it(model):
    ctrl = _other_lab(["k1", "k2", "k3"])
    like = _other_lab(["p1"], seed=21)                       # recorded like the local controls
    short = _other_lab(["p2"], seed=22, duration_ms=13.0 * 0.65, amplitude_uv=900 * 0.45,
                       phases=5.0)                           # shorter, smaller, polyphasic
    local = clf.transfer_classifier(model, ctrl)
    r = clf.read_units(local, pd.concat([like, short], ignore_index=True))
    assert (r.loc[r["subject"] == "p1", "pred"] == "normal").all()
    assert (r.loc[r["subject"] == "p2", "pred"] == "myopathic").all()
    # without the re-centring the model reads the other laboratory's normal subject by its own
    # controls (shorter and smaller): not normal
    assert (clf.read_units(model, like.query("muscle == 'biceps_brachii'"))["pred"]
            != "normal").all()
    # centred on other controls, other probabilities
    other = clf.transfer_classifier(model, _other_lab(["q1", "q2"], seed=30, duration_ms=11.0,
                                                      amplitude_uv=600.0))
    r2 = clf.read_units(other, like)
    assert not np.allclose(r2[model.classes].to_numpy(float),
                           r.loc[r["subject"] == "p1", model.classes].to_numpy(float))


def test_a_muscle_short_of_local_controls_has_no_valid_reference(model, monkeypatch):
    monkeypatch.setitem(load_signal_parameters()["lab_classifier"]["transfer"],
                        "min_control_subjects", 2)
    ctrl = pd.concat([_other_lab(["k1", "k2"], muscles=("biceps_brachii",)),
                      _other_lab(["k3"], muscles=("vastus_medialis",))], ignore_index=True)
    local = clf.transfer_classifier(model, ctrl)
    assert local.muscles() == ["biceps_brachii"]
    assert local.transfer["short_control_subjects"] == {"vastus_medialis": 1}
    r = clf.read_units(local, _other_lab(["p1"]))
    assert r.set_index("muscle").at["vastus_medialis", "pred"] == "indeterminate"
    why = clf.transfer_classifier(model, ctrl[ctrl["muscle"] == "vastus_medialis"])
    assert isinstance(why, str) and why.startswith("no valid reference: no muscle has 2 local")
    # a control subject-muscle without MUAPs enough or epochs is no centre
    empty = ctrl.assign(n_muaps=2)
    assert isinstance(clf.transfer_classifier(model, empty), str)


def test_what_cannot_be_transferred_is_said(model):
    local = clf.transfer_classifier(model, _other_lab(["k1"]), from_lab="syn")
    with pytest.raises(InvalidParameterError, match="already transferred \\(from 'syn'\\)"):
        clf.transfer_classifier(local, _other_lab(["k1"]))
    with pytest.raises(InvalidParameterError, match=r"lack column\(s\) \['turns:mean'\]"):
        clf.transfer_classifier(model, _other_lab(["k1"]).drop(columns="turns:mean"))


def test_a_transferred_model_round_trips_through_the_reference_toml(model, tmp_path):
    ctrl = _other_lab(["k1", "k2"])
    local = clf.transfer_classifier(model, ctrl, from_lab="Algiers \"A\"", from_reference="a.toml")
    LabReference("n2001", "uV", EMPTY_TABLE, classifier=local).write(tmp_path / "ref.toml")
    text = (tmp_path / "ref.toml").read_text()
    assert "[classifier.transfer]" in text and '"vastus_medialis" = 2' in text
    back = read_lab_reference(tmp_path / "ref.toml").classifier
    assert back.transfer == local.transfer and back.counts == local.counts
    test = _other_lab(["p1", "p2"], seed=40, duration_ms=10.0)
    pd.testing.assert_frame_equal(clf.read_units(back, test), clf.read_units(local, test))
    bad = text.replace('"biceps_brachii" = 2', '"biceps_brachii" = "two"')
    (tmp_path / "bad.toml").write_text(bad)
    with pytest.raises(InvalidInputError, match=r"\[classifier.transfer\] has a value of the"):
        read_lab_reference(tmp_path / "bad.toml")
    bad = text.replace("min_control_subjects = 1\n", "")
    (tmp_path / "bad2.toml").write_text(bad)
    with pytest.raises(InvalidInputError, match=r"\[classifier.transfer\] min_control_subjects: "
                                                r"missing"):
        read_lab_reference(tmp_path / "bad2.toml")



@pytest.mark.parametrize(("source_unit", "local_unit", "want"), [
    ("subject-muscle-side", "subject-muscle", "subject-muscle-side"),
    ("subject-muscle", "subject-muscle-side", "subject-muscle"),
    ("", "subject-muscle", ""),   # a source built before the unit was stored: not known
], ids=["per side, controls pooled", "pooled, controls by side", "source without the unit"])
def test_a_borrowed_model_keeps_the_unit_it_was_trained_on(model, source_unit, local_unit,
                                                           want):
    """The coefficients were fitted in the other laboratory: the unit analyze is warned about
    is the source's, not the local controls' (which only centre the model)."""
    from edxreview.cli._emg_analyze import _trained_unit_warning
    from edxreview.cli._emg_reference import _trained_per

    source = LabReference("A", "uV", EMPTY_TABLE, classifier=model,
                          recorded={"trained_per": source_unit} if source_unit else {})
    local = clf.transfer_classifier(model, _other_lab(["k1"]), from_lab="A",
                                    from_reference="a.toml")
    ref = LabReference("B", "uV", EMPTY_TABLE, classifier=local)
    assert _trained_per(ref, source, local_unit) == want
    # its own model (no --classifier-from) is trained on this build's unit
    assert _trained_per(LabReference("A", "uV", EMPTY_TABLE, classifier=model), None,
                        local_unit) == local_unit
    assert _trained_per(LabReference("B", "uV", EMPTY_TABLE), None, local_unit) == ""
    ref.recorded = {"trained_per": want} if want else {}
    pooled = pd.DataFrame({"subject": ["P", "P"], "side": ["", ""]})
    warned = _trained_unit_warning(ref, pooled)
    assert warned.startswith("the reference's lab classifier was trained per "
                             "side") == (want == "subject-muscle-side")

def _recordings(tmp_path, names, seed=50, units=None, spike_ms=1.2):
    from _synth import FIVE_UNITS, weak_contraction

    files = []
    for i, n in enumerate(names):
        x, _ = weak_contraction(seed=seed + i, duration_s=6.0, spiky=True, spike_ms=spike_ms,
                                units=units or FIVE_UNITS)
        p = tmp_path / f"{n}.bin"
        np.round(x * 5).astype("<i2").tofile(p)
        files.append(str(p))
    return files


RAW = ["--fs", "10000", "--gain", "5000"]


@pytest.mark.slow
def test_cli_borrows_a_classifier_and_analyze_says_so(model, tmp_path, capsys):
    src = tmp_path / "src.toml"
    LabReference("syn", "uV", EMPTY_TABLE, classifier=model).write(src)
    ctrl = _recordings(tmp_path, ["c1", "c2", "c3"])
    sub = tmp_path / "controls.csv"
    pd.DataFrame({"file": ["c1.bin", "c2.bin", "c3.bin"], "subject": ["K1", "K1", "K2"],
                  "muscle": ["biceps_brachii", "vastus_medialis", "biceps_brachii"]}
                 ).to_csv(sub, index=False)
    ref = tmp_path / "local.toml"
    assert _cli(["emg", "reference", "build", *ctrl, *RAW, "--subjects", str(sub),
                 "--classifier-from", str(src), "--lab", "here", "--out", str(ref)]) == 0
    printed = capsys.readouterr().out
    # 1-2 recordings per muscle: too few for the z-score reference, enough to centre the model
    assert "biceps_brachii: no z-score reference (too few control recordings)" in printed
    assert "lab classifier: transferred from 'syn' (src.toml)" in printed
    assert "vastus_medialis: transferred from 'syn' (src.toml), centred on 1 local control " \
           "subject(s); scale borrowed" in printed
    back = read_lab_reference(ref)
    t = back.classifier.transfer
    assert t["local_control_subjects"] == {"biceps_brachii": 2, "vastus_medialis": 1}
    assert t["from_lab"] == "syn" and t["borrowed_scale"] == ["vastus_medialis"]
    assert back.classifier.muscles() == ["biceps_brachii", "vastus_medialis"]
    assert any("transferred from 'syn'" in n for n in back.notes)
    # analyze with it: the clf_* columns, the line per subject-muscle names the source
    pats = _recordings(tmp_path, ["p1", "p2", "p3"], seed=70,
                       units=[(6.0, 150.0, 6), (5.0, 220.0, 7), (7.0, 300.0, 5),
                              (5.5, 400.0, 6), (6.5, 520.0, 5), (4.5, 650.0, 6)], spike_ms=1.6)
    many = tmp_path / "many.csv"
    pd.DataFrame({"file": ["p1.bin", "p2.bin", "p3.bin"], "subject": ["X", "X", "Y"],
                  "muscle": ["biceps_brachii", "vastus_medialis", "deltoid"]}
                 ).to_csv(many, index=False)
    out = tmp_path / "out"
    assert _cli(["emg", "analyze", *pats, *RAW, "--reference", str(ref), "--subjects",
                 str(many), "--out", str(out), "--no-figures"]) == 0
    printed = capsys.readouterr().out.splitlines()
    s = pd.read_csv(out / "subjects.csv").set_index("muscle")
    for mus, n in (("biceps_brachii", 2), ("vastus_medialis", 1)):
        r = s.loc[mus]
        assert r["clf_pattern"] in ("normal", "neurogenic", "myopathic")
        assert r["clf_model"].startswith(f"transferred from 'syn' (src.toml), centred on {n} local")
        assert f"centred on {n} local control subject(s)" in r["clf_reasons"]
        # centred on fewer local controls than a muscle's means are judged against (and the
        # vastus on a borrowed scale): the answer is provisional, and says so
        assert r["primary_rule"] == "lab_classifier_provisional"
        assert r["clf_provisional"].startswith("provisional: a classifier borrowed from another "
                                               f"laboratory, centred on {n} local control")
        assert ("scale borrowed" in r["clf_provisional"]) == (mus == "vastus_medialis")
        want = (f"subject X, {mus} (1 recording(s), {r['n_muaps']} MUAPs): primary reading "
                f"{r['clf_pattern']} (lab classifier, probability {r['clf_probability']:.2f}"
                f"; provisional: a classifier borrowed")
        line = next((v for v in printed if v.startswith(want)), None)
        assert line is not None and "(transferred from 'syn' (src.toml), centred on " \
            f"{n} local" in line, (want, printed)
    # deltoid: the source was trained on it, but this laboratory has no control of it
    assert s.loc["deltoid", "clf_pattern"] == "indeterminate"
    assert "no valid reference" in s.loc["deltoid", "clf_reasons"]
    # the same subjects read with the model centred on other controls: other probabilities
    ref2 = tmp_path / "local2.toml"
    ctrl2 = _recordings(tmp_path, ["d1", "d2", "d3"], seed=90,
                        units=[(12.0, 1200.0, 3), (11.0, 900.0, 3), (14.0, 700.0, 4)])
    pd.DataFrame({"file": ["d1.bin", "d2.bin", "d3.bin"], "subject": ["K1", "K1", "K2"],
                  "muscle": ["biceps_brachii", "vastus_medialis", "biceps_brachii"]}
                 ).to_csv(sub, index=False)
    assert _cli(["emg", "reference", "build", *ctrl2, *RAW, "--subjects", str(sub),
                 "--classifier-from", str(src), "--out", str(ref2), "-q"]) == 0
    assert _cli(["emg", "analyze", *pats, *RAW, "--reference", str(ref2), "--subjects",
                 str(many), "--out", str(tmp_path / "out2"), "--no-figures", "-q"]) == 0
    s2 = pd.read_csv(tmp_path / "out2" / "subjects.csv").set_index("muscle")
    cols = ["clf_p_normal", "clf_p_neurogenic", "clf_p_myopathic"]
    assert not np.allclose(s2.loc["biceps_brachii", cols].to_numpy(float),
                           s.loc["biceps_brachii", cols].to_numpy(float))


def test_cli_refuses_what_it_cannot_borrow(model, tmp_path, capsys, monkeypatch):
    ctrl = [str(tmp_path / f"c{i}.bin") for i in range(2)]
    for p in ctrl:
        np.zeros(1000, "<i2").tofile(p)
    out = tmp_path / "local.toml"
    base = ["emg", "reference", "build", *ctrl, *RAW, "--muscle", "biceps_brachii", "--out",
            str(out), "-q", "--classifier-from"]
    # a reference without a classifier (controls only)
    LabReference("syn", "uV", EMPTY_TABLE).write(tmp_path / "plain.toml")
    assert _cli([*base, str(tmp_path / "plain.toml")]) == 2
    assert "holds no lab classifier" in capsys.readouterr().err
    # trained on other features than this version's parameter file
    k = len(model.features) - 1
    fewer = clf.LabClassifier(model.features[:k], model.classes, model.centre.iloc[:, :k],
                              model.scale.iloc[:, :k], model.coef[:, :k], model.intercept,
                              model.c, model.counts)
    LabReference("syn", "uV", EMPTY_TABLE, classifier=fewer).write(tmp_path / "old.toml")
    assert _cli([*base, str(tmp_path / "old.toml")]) == 2
    err = capsys.readouterr().err
    assert "trained on other features" in err and repr(model.features[-1]) in err
    # a classifier that is itself borrowed
    local = clf.transfer_classifier(model, _other_lab(["k1"]), from_lab="syn")
    LabReference("n2001", "uV", EMPTY_TABLE, classifier=local).write(tmp_path / "lent.toml")
    assert _cli([*base, str(tmp_path / "lent.toml")]) == 2
    assert "already transferred from 'syn'" in capsys.readouterr().err
    # a file that is not there, or not a reference: bad input
    assert _cli([*base, str(tmp_path / "none.toml")]) == 1
    assert "--classifier-from: reference file" in capsys.readouterr().err
    # the source is an input: never the output
    LabReference("syn", "uV", EMPTY_TABLE, classifier=model).write(tmp_path / "src.toml")
    assert _cli([*base[:-4], "--out", str(tmp_path / "src.toml"), "--force",
                 "--classifier-from", str(tmp_path / "src.toml")]) == 2
    assert "never writes over its input" in capsys.readouterr().err
    # labelled patients beside a borrowed classifier: refused, not silently mixed
    sub = tmp_path / "s.csv"
    pd.DataFrame({"file": ["c0.bin", "c1.bin"], "subject": ["a", "b"],
                  "muscle": "biceps_brachii", "group": ["normal", "myopathy"]}
                 ).to_csv(sub, index=False)
    assert _cli([*base[:-2], "--subjects", str(sub), "--classifier-from",
                 str(tmp_path / "src.toml")]) == 2
    assert "file 'c1': group 'myopathy'" in capsys.readouterr().err
    assert not out.exists()


def test_a_provisional_reading_is_decided_on_typed_flags_and_its_text_written_last():
    """``lab_classifier_provisional`` follows the typed flags (local control subjects against
    ``min_judging_control_subjects``, a borrowed scale), never whether a text column is empty;
    the text is written from the same flags."""
    from types import SimpleNamespace

    from edxreview.cli._emg_provenance import _provisional_flags, _provisional_text
    from edxreview.cli._emg_readings import _primary_columns

    need = int(load_signal_parameters()["lab_reference"]["min_judging_control_subjects"])
    model = SimpleNamespace(transfer={
        "local_control_subjects": {"biceps_brachii": need - 1, "deltoid": need,
                                   "vastus_medialis": need},
        "borrowed_scale": ["vastus_medialis"]})
    f = _provisional_flags(model, pd.Series(["biceps_brachii", "deltoid", "vastus_medialis",
                                             "tibialis_anterior"]))
    assert f["few_local_controls"].tolist() == [True, False, False, False]
    assert f["borrowed_scale"].tolist() == [False, False, True, False]
    assert f["provisional"].tolist() == [True, False, True, False]
    assert f["n_local_control_subjects"].tolist()[:3] == [need - 1, need, need]
    assert pd.isna(f["n_local_control_subjects"].iloc[3])   # no local centre: not read at all
    text = [_provisional_text(r) for _, r in f.iterrows()]
    assert [t != "" for t in text] == f["provisional"].tolist()
    assert f"centred on {need - 1} local control subject(s), fewer than the {need}" in text[0]
    assert "scale borrowed" in text[2] and "fewer than" not in text[2]
    # the laboratory's own classifier: never provisional
    own = _provisional_flags(SimpleNamespace(transfer={}), pd.Series(["biceps_brachii"]))
    assert not own["provisional"].any()
    # the primary rule reads the typed flag, whatever the text column holds
    t = pd.DataFrame({"pattern": ["normal"] * 3, "rule": ["lab_normal"] * 3,
                      "clf_pattern": ["neurogenic", "neurogenic", "indeterminate"],
                      "clf_provisional": ["", "some words", ""]})
    out = _primary_columns(t, np.array([True, False, True]))
    assert out["primary_rule"].tolist() == ["lab_classifier_provisional", "lab_classifier",
                                            "lab_normal"]
    assert out["primary_pattern"].tolist() == ["neurogenic", "neurogenic", "normal"]
