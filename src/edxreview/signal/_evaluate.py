"""Honest evaluation of the needle-EMG readings: leave-one-subject-out within a laboratory,
train on one laboratory and test on another, scored per subject and per recording with Wilson
95 % confidence intervals.

Inputs are two tables a measuring pass produces once (``tools/emg_eval.py``): ``recordings``
(``dataset``, ``recording``, ``subject``, ``muscle``, ``truth`` and, for the bundled rules,
``baseline``) and ``muaps`` (one row per MUAP, column ``recording``). Nothing here is fitted on
the subject it scores: the only thing learnt is the lab reference, built from the control
subjects of the training fold.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint

from edxreview.signal import _classifier as clf
from edxreview.signal._acceptance import REJECT_RULES, accepted_mask, accepted_muaps
from edxreview.signal._interference import IP_FEATURES, interference_stats, read_interference
from edxreview.signal._reference import (
    build_lab_reference,
    classify_by_centroids,
    fit_centroids,
    mahalanobis_readings,
    muap_long,
    outlier_readings,
    pool_readings,
    read_muscle_against_reference,
    recording_stats,
    unit_means,
    zscore_units,
)

CLASSES = ("normal", "neurogenic", "myopathic")


def wilson_interval(k: int, n: int) -> tuple[float, float]:
    """Wilson score 95 % interval of ``k`` successes in ``n`` (NaN, NaN when ``n`` is 0)."""
    if n == 0:
        return (np.nan, np.nan)
    lo, hi = proportion_confint(k, n, alpha=0.05, method="wilson")
    return float(lo), float(hi)


def score(truth: pd.Series, pred: pd.Series) -> dict:
    """Accuracy (indeterminate counts as wrong) with its Wilson interval, recall per class and
    the balanced accuracy (mean recall over the classes present)."""
    ok = truth.to_numpy() == pred.to_numpy()
    k, n = int(ok.sum()), int(ok.size)
    lo, hi = wilson_interval(k, n)
    recall = {}
    for c in CLASSES:
        m = truth.to_numpy() == c
        if m.any():
            recall[c] = (int(ok[m].sum()), int(m.sum()))
    bal = float(np.mean([a / b for a, b in recall.values()])) if recall else np.nan
    return {"correct": k, "n": n, "accuracy": k / n if n else np.nan, "ci_low": lo,
            "ci_high": hi, "balanced_accuracy": bal, "recall": recall,
            "indeterminate": int((pred == "indeterminate").sum())}


def majority(patterns: pd.Series) -> str:
    """Most frequent reading; a tie between the top two is ``indeterminate``."""
    c = patterns.value_counts()
    if c.size > 1 and c.iloc[0] == c.iloc[1]:
        return "indeterminate"
    return str(c.index[0])


_LEVELS = ("subject", "muscle", "recording")


def _per_subject(subjects, read_one, levels=_LEVELS) -> dict:
    """``read_one(subject)`` (tables by level) for each subject in turn, each level's tables
    concatenated: the folds of a leave-one-subject-out evaluation."""
    parts: dict[str, list] = {k: [] for k in levels}
    for s in subjects:
        r = read_one(s)
        for k in parts:
            parts[k].append(r[k])
    return {k: pd.concat(v, ignore_index=True) for k, v in parts.items()}


def _subject_level(muscle: pd.DataFrame) -> pd.DataFrame:
    """Each subject's reading from its muscles' (``truth``, ``pred``), pooled by
    :func:`~edxreview.signal._reference.pool_readings`."""
    return (muscle.groupby("subject").agg(truth=("truth", "first"), pred=("pred", pool_readings))
            .reset_index())


def _read_units(muaps: pd.DataFrame, units: pd.DataFrame, key: list[str], reference) -> pd.DataFrame:
    """Read each group of ``units`` (grouped by ``key``) with its MUAPs pooled."""
    by_rec = muaps.groupby("recording")
    rows = []
    for k, g in units.groupby(key, sort=True):
        recs = [r for r in g["recording"] if r in by_rec.groups]
        m = pd.concat([by_rec.get_group(r) for r in recs]) if recs else muaps.iloc[:0]
        reading, z = read_muscle_against_reference(m, reference, g["muscle"].iloc[0])
        zz = z["z"].to_dict() if len(z) else {}
        rows.append({**dict(zip(key, k if isinstance(k, tuple) else (k,))),
                     "truth": g["truth"].iloc[0], "pred": reading.pattern, "rule": reading.rule,
                     "n_muaps": len(m), **{f"z_{f}": v for f, v in zz.items()}})
    return pd.DataFrame(rows)


def read_fold(train: pd.DataFrame, test: pd.DataFrame, muaps: pd.DataFrame, lab: str = "",
              stats: pd.DataFrame | None = None) -> dict:
    """Build the reference from the controls in ``train`` and read ``test`` by subject-muscle
    (MUAPs pooled over its recordings), by subject (muscles pooled by
    :func:`~edxreview.signal._reference.pool_readings`) and by recording."""
    ctrl = train[train["truth"] == "normal"]
    ref = build_lab_reference(muaps, ctrl, lab=lab, stats=stats)
    mus = _read_units(muaps, test, ["subject", "muscle"], ref)
    rec = _read_units(muaps, test, ["recording", "subject", "muscle"], ref)
    return {"subject": _subject_level(mus), "muscle": mus, "recording": rec}


def leave_one_subject_out(recordings: pd.DataFrame, muaps: pd.DataFrame) -> dict:
    """Leave-one-subject-out within one laboratory: each subject read against a reference
    built from the laboratory's other control subjects."""
    st = recording_stats(muaps[muaps["recording"].isin(recordings["recording"])])
    return _per_subject(recordings["subject"].unique(), lambda s: read_fold(
        recordings[recordings["subject"] != s], recordings[recordings["subject"] == s], muaps,
        stats=st))


_KEYS = {"muscle": ("subject", "muscle"), "recording": ("recording", "subject", "muscle")}


def _controls_reference(recordings: pd.DataFrame, stats: pd.DataFrame, lab: str = ""):
    ctrl = recordings[recordings["truth"] == "normal"]
    return build_lab_reference(None, ctrl, lab=lab, stats=stats)


def _unit_truth(units: pd.DataFrame, key) -> pd.DataFrame:
    return units.drop_duplicates(list(key))[[*key, "truth"]]


def _centroid_levels(z_test: dict, centroids: pd.DataFrame, test: pd.DataFrame,
                     reference) -> dict:
    out = {}
    for level, key in _KEYS.items():
        t = _unit_truth(test, key).merge(z_test[level], on=list(key), how="left")
        t["pred"] = classify_by_centroids(t, centroids, reference)
        out[level] = t
    out["subject"] = _subject_level(out["muscle"])
    return out


def centroids_loso(recordings: pd.DataFrame, muaps: pd.DataFrame) -> dict:
    """Leave-one-subject-out, z-scores plus nearest class centroid: in each fold the reference
    is built from the training controls and the centroids (mean z-vector per muscle and class)
    from all training subjects; the held-out subject is read against both."""
    st = recording_stats(muaps[muaps["recording"].isin(recordings["recording"])])

    def fold(s):
        train = recordings[recordings["subject"] != s]
        test = recordings[recordings["subject"] == s]
        ref = _controls_reference(train, st)
        z_train = zscore_units(None, train, ref, stats=st).merge(
            _unit_truth(train, _KEYS["muscle"]), on=list(_KEYS["muscle"]))
        cent = fit_centroids(z_train)
        z_test = {lvl: zscore_units(None, test, ref, key, stats=st) for lvl, key in _KEYS.items()}
        return _centroid_levels(z_test, cent, test, ref)

    return _per_subject(recordings["subject"].unique(), fold)


def centroids_cross_lab(train: pd.DataFrame, test: pd.DataFrame, muaps: pd.DataFrame) -> dict:
    """Centroids learnt on one laboratory (z against its own controls) applied to another's
    subjects, each read against the *test* laboratory's other controls (its own reference,
    leave-one-subject-out): what transfers is the decision in z-units, not the limits."""
    st = recording_stats(muaps[muaps["recording"].isin(pd.concat([train, test])["recording"])])
    ref = _controls_reference(train, st)
    z_train = zscore_units(None, train, ref, stats=st).merge(
        _unit_truth(train, _KEYS["muscle"]), on=list(_KEYS["muscle"]))
    cent = fit_centroids(z_train)

    def fold(s):
        own = _controls_reference(test[test["subject"] != s], st)
        t = test[test["subject"] == s]
        z_test = {lvl: zscore_units(None, t, own, key, stats=st) for lvl, key in _KEYS.items()}
        return _centroid_levels(z_test, cent, t, own)

    return _per_subject(test["subject"].unique(), fold)


def _read_levels(test: pd.DataFrame, read) -> dict:
    """``read(key)`` (one row per unit of ``key``, with ``pred``) at the muscle and recording
    levels, every unit of ``test`` kept (``indeterminate`` where not read), and the subject
    level pooled from the muscles."""
    out = {level: _unit_truth(test, key).merge(read(key), on=list(key), how="left").fillna(
        {"pred": "indeterminate"}) for level, key in _KEYS.items()}
    out["subject"] = _subject_level(out["muscle"])
    return out


def _outlier_levels(test: pd.DataFrame, pm: pd.DataFrame, st: pd.DataFrame, ref) -> dict:
    return _read_levels(test, lambda key: outlier_readings(test, pm, ref, key, stats_=st))


def outliers_loso(recordings: pd.DataFrame, muaps: pd.DataFrame) -> dict:
    """Leave-one-subject-out reading by mean and outlier limits
    (:func:`~edxreview.signal._reference.outlier_readings`): in each fold the limits come
    from the *other* control subjects of the laboratory only."""
    m = muaps[muaps["recording"].isin(recordings["recording"])]
    pm, st = muap_long(m), recording_stats(m)

    def fold(s):
        train = recordings[recordings["subject"] != s]
        ctrl = train[train["truth"] == "normal"]
        ref = build_lab_reference(None, ctrl, stats=st, per_muap=pm)
        return _outlier_levels(recordings[recordings["subject"] == s], pm, st, ref)

    return _per_subject(recordings["subject"].unique(), fold)


def outliers_cross_lab(train: pd.DataFrame, test: pd.DataFrame, muaps: pd.DataFrame) -> dict:
    """One laboratory's subjects read by the mean and outlier limits of another's controls."""
    m = muaps[muaps["recording"].isin(pd.concat([train, test])["recording"])]
    pm, st = muap_long(m), recording_stats(m)
    ref = build_lab_reference(None, train[train["truth"] == "normal"], stats=st, per_muap=pm)
    return _outlier_levels(test, pm, st, ref)


def _mahalanobis_levels(ctrl_means: pd.DataFrame, test: pd.DataFrame, st: pd.DataFrame) -> dict:
    return _read_levels(test, lambda key: mahalanobis_readings(ctrl_means,
                                                               unit_means(test, st, key)))


def mahalanobis_loso(recordings: pd.DataFrame, muaps: pd.DataFrame) -> dict:
    """Leave-one-subject-out Mahalanobis reading: each subject's muscles against the
    distribution of the *other* control subjects' muscle means
    (:func:`~edxreview.signal._reference.mahalanobis_readings`)."""
    st = recording_stats(muaps[muaps["recording"].isin(recordings["recording"])])
    ctrl = recordings[recordings["truth"] == "normal"]
    cm = unit_means(ctrl, st)
    return _per_subject(recordings["subject"].unique(), lambda s: _mahalanobis_levels(
        cm[cm["subject"] != s], recordings[recordings["subject"] == s], st))


def mahalanobis_cross_lab(train: pd.DataFrame, test: pd.DataFrame, muaps: pd.DataFrame) -> dict:
    """One laboratory's subjects against the distribution of another's control muscles."""
    st = recording_stats(muaps[muaps["recording"].isin(pd.concat([train, test])["recording"])])
    return _mahalanobis_levels(unit_means(train[train["truth"] == "normal"], st), test, st)


def _interference_reference(recordings: pd.DataFrame, ip_stats: pd.DataFrame, lab: str = ""):
    ctrl = recordings[recordings["truth"] == "normal"]
    return build_lab_reference(None, ctrl, lab=lab, stats=ip_stats, features=list(IP_FEATURES))


def _read_interference_units(epochs: pd.DataFrame, test: pd.DataFrame, ref) -> dict:
    """Interference reading of ``test`` per subject-muscle (epochs pooled over its recordings),
    per recording and per subject (muscles pooled by
    :func:`~edxreview.signal._reference.pool_readings`)."""
    by_rec = {r: g for r, g in epochs.groupby("recording")}
    out = {}
    for level, key in _KEYS.items():
        rows = []
        for k, g in test.groupby(list(key), sort=True):
            parts = [by_rec[r] for r in g["recording"] if r in by_rec]
            ep = pd.concat(parts, ignore_index=True) if parts else epochs.iloc[:0]
            reading, _ = read_interference(ep, ref, g["muscle"].iloc[0])
            rows.append({**dict(zip(key, k)), "truth": g["truth"].iloc[0],
                         "pred": reading.pattern, "rule": reading.rule})
        out[level] = pd.DataFrame(rows)
    out["subject"] = _subject_level(out["muscle"])
    return out


def interference_loso(recordings: pd.DataFrame, epochs: pd.DataFrame) -> dict:
    """Leave-one-subject-out reading of the interference pattern: each subject against a
    reference built from the laboratory's other control subjects' epochs."""
    st = interference_stats(epochs[epochs["recording"].isin(recordings["recording"])])
    return _per_subject(recordings["subject"].unique(), lambda s: _read_interference_units(
        epochs, recordings[recordings["subject"] == s],
        _interference_reference(recordings[recordings["subject"] != s], st)))


def interference_cross_lab(train: pd.DataFrame, test: pd.DataFrame, epochs: pd.DataFrame) -> dict:
    """The interference pattern of one laboratory's subjects read against another's controls."""
    st = interference_stats(epochs[epochs["recording"].isin(train["recording"])])
    return _read_interference_units(epochs, test, _interference_reference(train, st))


def _classifier_units(recordings: pd.DataFrame, muaps: pd.DataFrame,
                      epochs: pd.DataFrame | None) -> dict:
    """:func:`~edxreview.signal._classifier.unit_features` of every subject-muscle and every
    recording (with ``truth``), computed once: they do not depend on the training fold."""
    out = {}
    for level, key in _KEYS.items():
        f = clf.unit_features(muaps, epochs, recordings, key)
        out[level] = f.merge(_unit_truth(recordings, key), on=list(key))
    return out


_CLASSIFIER_LEVELS = ("subject", "muscle", "recording", "subject_any_abnormal")


def _training(units: dict) -> pd.DataFrame:
    """The training rows of :func:`_classifier_units`' tables (``[lab_classifier]
    training_unit``): the subject-muscles, or the recordings weighted as
    :func:`~edxreview.signal._classifier.training_rows` keeps and weighs them."""
    if clf.training_unit() == "recording":
        return clf.readable_training_units(units["recording"], _KEYS["muscle"])
    return units["muscle"]


def _classifier_levels(model, units: dict, test_subjects, centre=None) -> dict:
    out = {}
    for level in _KEYS:
        u = units[level][units[level]["subject"].isin(test_subjects)]
        out[level] = clf.read_units(model, u, centre)
    classes = list(clf.classifier_parameters()["classes"])
    m = out["muscle"]
    truth = m.groupby("subject").agg(truth=("truth", "first"))
    out["subject"] = (truth.join(clf.pool_probabilities(m, m["subject"], classes))
                      .reset_index().rename(columns={"index": "subject"}))
    # the clinical pooling (one abnormal muscle = that class), a comparison row: declared as
    # the default and counted, then not kept (docs/emg-evaluation.md says why)
    out["subject_any_abnormal"] = (truth.join(clf.pool_muscle_readings(m, m["subject"], classes))
                                   .reset_index().rename(columns={"index": "subject"}))
    return out


def classifier_loso(recordings: pd.DataFrame, muaps: pd.DataFrame,
                    epochs: pd.DataFrame | None) -> dict:
    """Leave-one-subject-out lab classifier: in each fold the model (standardisation from the
    training controls, penalty chosen by cross-validation on the training subjects, coefficients)
    is trained on the other subjects of the laboratory and reads the held-out subject's
    muscles, recordings and (muscles pooled) the subject."""
    units = _classifier_units(recordings, muaps, epochs)
    train = _training(units)
    return _per_subject(recordings["subject"].unique(), lambda s: _classifier_levels(
        clf.fit_classifier(train[train["subject"] != s]), units, [s]),
        _CLASSIFIER_LEVELS)


def classifier_cross_lab(train: pd.DataFrame, test: pd.DataFrame, muaps: pd.DataFrame,
                         epochs: pd.DataFrame | None) -> dict:
    """The classifier trained on one laboratory's labelled subjects reads another's: for each
    test subject the model is re-centred on the *test* laboratory's other control subjects by
    :func:`~edxreview.signal._classifier.transfer_classifier` (the product's ``emg reference
    build --classifier-from``): centre the mean of those controls' features, scale the training
    laboratory's control SDs (of the same muscle, or their mean over the training muscles where
    it lacks the muscle). What transfers is the decision on features expressed against one's
    own controls."""
    model = clf.fit_classifier(_training(_classifier_units(train, muaps, epochs)))
    units = _classifier_units(test, muaps, epochs)

    def fold(s):
        ctrl = units["muscle"][(units["muscle"]["truth"] == "normal")
                               & (units["muscle"]["subject"] != s)]
        local = clf.transfer_classifier(model, ctrl) if model is not None else None
        return _classifier_levels(local if isinstance(local, clf.LabClassifier) else None,
                                  units, [s])

    return _per_subject(test["subject"].unique(), fold, _CLASSIFIER_LEVELS)


def baseline_readings(recordings: pd.DataFrame) -> dict:
    """Readings of the bundled rules (column ``baseline``): per recording, and per subject the
    majority over its recordings, as the tool was judged before."""
    rec = recordings.rename(columns={"baseline": "pred"})[["recording", "subject", "muscle",
                                                          "truth", "pred"]]
    subj = (rec.groupby("subject").agg(truth=("truth", "first"), pred=("pred", majority))
            .reset_index())
    mus = (rec.groupby(["subject", "muscle"]).agg(truth=("truth", "first"), pred=("pred", majority))
           .reset_index())
    return {"subject": subj, "muscle": mus, "recording": rec}


def level_scores(method: str, train: str, test: str, level: str,
                 readings: pd.DataFrame) -> list[dict]:
    """The rows of one level's readings (``truth``, ``pred``; ``muscle`` below the subject
    level) in :func:`evaluate`'s table: all of them, then (below the subject level) each
    muscle's, with :func:`score`'s columns."""
    groups = [("all", readings)]
    if level != "subject":
        groups += list(readings.groupby("muscle"))
    return [{"method": method, "train": train, "test": test, "level": level, "muscle": mus,
             **score(g["truth"], g["pred"])} for mus, g in groups]


def evaluate(recordings: pd.DataFrame, muaps: pd.DataFrame, centroids: bool = True,
             epochs: pd.DataFrame | None = None, outliers: bool = True,
             classifier: bool = True, only: list[str] | None = None) -> pd.DataFrame:
    """Every evaluation: per dataset the bundled rules (baseline), the lab reference rule,
    (``outliers``) the mean and outlier limits of the controls and the Mahalanobis distance
    from the controls' muscle means,
    (``centroids``) z-scores with nearest centroids, (``epochs`` given) the
    interference-pattern rule and (``classifier``) the lab classifier, read
    leave-one-subject-out (``only``: just these method names; "lab reference" stands for all
    but the classifier); then each laboratory's reference
    (or centroids) applied to each other laboratory. One row per (method, train, test, level,
    muscle) with the scores of :func:`score`. Only the accepted MUAPs are read
    (:func:`~edxreview.signal._acceptance.accepted_muaps`; :func:`acceptance_table` counts
    the others)."""
    rows = []
    muaps = accepted_muaps(muaps)  # the acceptance criteria: every reading uses these only

    def add(method: str, train: str, test: str, res: dict,
            levels: tuple[str, ...] = ("subject", "muscle", "recording")) -> None:
        for level in levels:
            rows.extend(level_scores(method, train, test, level, res[level]))

    def add_geometric_mean(train: str, test: str, res: dict) -> None:
        add("lab classifier, one abnormal muscle = abnormal", train, test,
            {"subject": res["subject_any_abnormal"]}, levels=("subject",))

    datasets = list(dict.fromkeys(recordings["dataset"]))
    want = (lambda m: True) if only is None else (lambda m: m in only)  # noqa: E731
    for ds in datasets:
        r = recordings[recordings["dataset"] == ds]
        if want("lab reference"):
            if "baseline" in r:
                add("bundled rules", "(none: fixed)", ds, baseline_readings(r))
            add("lab reference", f"{ds} (LOSO)", ds, leave_one_subject_out(r, muaps))
            if outliers:
                add("mean + outlier limits", f"{ds} (LOSO)", ds, outliers_loso(r, muaps))
                add("Mahalanobis", f"{ds} (LOSO)", ds, mahalanobis_loso(r, muaps))
            if centroids:
                add("z + centroids", f"{ds} (LOSO)", ds, centroids_loso(r, muaps))
            if epochs is not None:
                add("interference", f"{ds} (LOSO)", ds, interference_loso(r, epochs))
        if classifier and want("lab classifier"):
            res = classifier_loso(r, muaps, epochs)
            add("lab classifier", f"{ds} (LOSO)", ds, res)
            add_geometric_mean(f"{ds} (LOSO)", ds, res)
    for tr in datasets:
        for te in datasets:
            if tr != te and want("lab reference"):
                add("lab reference", tr, te,
                    read_fold(recordings[recordings["dataset"] == tr],
                              recordings[recordings["dataset"] == te], muaps, lab=tr))
                if outliers:
                    add("mean + outlier limits", tr, te,
                        outliers_cross_lab(recordings[recordings["dataset"] == tr],
                                           recordings[recordings["dataset"] == te], muaps))
                    add("Mahalanobis", tr, te,
                        mahalanobis_cross_lab(recordings[recordings["dataset"] == tr],
                                              recordings[recordings["dataset"] == te], muaps))
                if centroids:
                    add("z + centroids", tr, te,
                        centroids_cross_lab(recordings[recordings["dataset"] == tr],
                                            recordings[recordings["dataset"] == te], muaps))
                if epochs is not None:
                    add("interference", tr, te,
                        interference_cross_lab(recordings[recordings["dataset"] == tr],
                                               recordings[recordings["dataset"] == te], epochs))
            if tr != te and classifier and want("lab classifier"):
                res = classifier_cross_lab(recordings[recordings["dataset"] == tr],
                                           recordings[recordings["dataset"] == te], muaps, epochs)
                add("lab classifier", tr, te, res)
                add_geometric_mean(tr, te, res)
    return pd.DataFrame(rows)


def acceptance_table(recordings: pd.DataFrame, muaps: pd.DataFrame) -> pd.DataFrame:
    """MUAPs accepted and rejected (per rule) by dataset and group (``truth``), with the median
    duration of all MUAPs and of the accepted ones (ms): rows in = accepted + rejected.

    Parameters
    ----------
    recordings : pandas.DataFrame
        ``recording``, ``dataset``, ``truth``.
    muaps : pandas.DataFrame
        MUAPs with column ``recording`` and the acceptance columns of
        :func:`~edxreview.signal.measure_muaps`.
    """
    m = muaps.merge(recordings[["recording", "dataset", "truth"]], on="recording")
    ok = accepted_mask(m)
    rule = (m["reject_rule"].fillna("").astype(str) if "reject_rule" in m
            else pd.Series("", index=m.index))
    m = m.assign(accepted_=ok, rule=rule.where(~ok, ""))
    g = m.groupby(["dataset", "truth"], sort=False)
    out = pd.DataFrame({"n_muaps": g.size(), "accepted": g["accepted_"].sum(),
                        "median_duration_all_ms": g["duration_ms"].median(),
                        "median_duration_accepted_ms":
                            m[m["accepted_"]].groupby(["dataset", "truth"])["duration_ms"].median()})
    out["rejected"] = out["n_muaps"] - out["accepted"]
    out["rejected_pct"] = 100.0 * out["rejected"] / out["n_muaps"]
    for r in REJECT_RULES:
        out[r] = m[m["rule"] == r].groupby(["dataset", "truth"]).size()
    return out.fillna({r: 0 for r in REJECT_RULES}).astype({r: int for r in REJECT_RULES}).reset_index()


def format_table(res: pd.DataFrame, muscles: bool = True) -> str:
    """The evaluation as a Markdown table (accuracy with its Wilson 95 % CI)."""
    out = ["| method | reference from | tested on | level | muscle | correct / n | accuracy "
           "(95 % CI) | balanced acc. | indeterminate | recall N / Neu / Myo |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for r in res.itertuples():
        if not muscles and r.muscle != "all":
            continue
        rec = " / ".join(f"{r.recall[c][0]}/{r.recall[c][1]}" if c in r.recall else "–"
                         for c in CLASSES)
        acc = (f"{r.accuracy:.2f} ({r.ci_low:.2f}–{r.ci_high:.2f})" if r.n else "–")
        out.append(f"| {r.method} | {r.train} | {r.test} | {r.level} | {r.muscle} | "
                   f"{r.correct}/{r.n} | {acc} | {r.balanced_accuracy:.2f} | {r.indeterminate} "
                   f"| {rec} |")
    return "\n".join(out)
