"""Every feature variant of the lab classifier that was tried, scored the same way.

The lab classifier (``edxreview.signal._classifier``) was first evaluated with 17 features of
each subject-muscle (variant V0). The variants below were then tried, in this order, each
declared (with its reason, in ``docs/emg-evaluation.md``) before it was run; this script
prints what each one reads, so the choice among them is on the record:

- V1-V3, outlier fractions (after the multi-MUAP scheme of quantitative EMG): the fraction of a
  subject-muscle's MUAPs beyond the 2.5th / 97.5th percentile of the pooled control MUAPs of
  the training fold (shorter, smaller, longer, larger), and of its interference epochs beyond
  the control epochs' percentiles (turns per amplitude above and below, amplitude above). The
  limits are recomputed from the controls of every training fold, inner folds included;
- V4, the most abnormal recording of the muscle: seven features computed per recording, then
  their maximum or minimum over the muscle's recordings (``feature@max``). V4 was the default
  until these extremes were found to grow with the number of recordings, which in the Algiers
  data follows the class (controls 2 per muscle, patients 1): the default is V0 again
  (``docs/emg-evaluation.md``, "Site extremes depend on the number of recordings"), and the
  V4, V9, V13 and V14 rows of this table carry that confound;
- V6, tail quantiles of the pooled MUAPs and epochs (10th / 90th percentiles);
- V7, V4 and V6 together;
- V8, the feature set (V0, V4 or V6) chosen together with the penalty by the inner folds of
  each training fold (nested: the choice among variants made without the held-out subject).

(V5, outliers and extremes together, was started and stopped when V1 and V2 had read worse
than V0; it has no result.) A second round, declared before it was run:

- V9, the turns-amplitude cloud: each epoch's standardised residual from the control line of
  log10 turns/s on log10 mean amplitude per turn (the line fitted to the epochs of the
  training fold's controls, per muscle, recomputed in every training fold, inner folds
  included); its mean over the subject-muscle's epochs and the largest and smallest of its
  recordings' means;
- V10, the spectral shape: the mean log10 relative power of the epochs in six fixed bands of
  the measurement band (five octaves down from its top and the rest);
- V11, the mean of the class probabilities of the V0, V4 and V6 models;
- V13, V4 and the cloud; V14, V4 and the spectral bands;
- V12, the variant (V0, V4, V6, V9, V10, V11, V13 or V14) chosen with its penalty by the
  inner folds of each training fold.

Declared with the satellites of the MUAP measurement (reported only, never the default):

- V15, V4 and the fraction of the subject-muscle's MUAPs with a satellite.

Every variant here is trained on subject-muscles (each training row a subject-muscle, its
recordings pooled: ``[lab_classifier] training_unit = "subject_muscle"``, the only training
unit when they were run); the default has trained on recordings since parameters 0.15.0
(``docs/emg-evaluation.md``, "Lab classifier trained on recordings"), so V0 here is the
previous default, not today's.

Each is read leave-one-subject-out within Algiers (the model, its standardisation, its outlier
limits and its penalty refitted without the held-out subject, the penalty by the parameter
file's inner folds), and trained on all of Algiers reading N2001 (each N2001 subject centred on
N2001's other controls, scaled by the Algiers controls' SDs, as ``tools/emg_eval.py`` does).

Run from the repository root after ``python tools/emg_eval.py --cache DIR`` has measured the
recordings: ``python tools/emg_clf_variants.py --cache DIR [--only V0,V4] [--jobs 2]`` (each
worker keeps its fits, so an ensemble or nested choice run after its members in the same
worker reuses them; each row is also printed to stderr as it is done).
"""

from __future__ import annotations

import os

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from edxreview.signal import _classifier as clf
from edxreview.signal._evaluate import score
from edxreview.signal._interference import band_columns, cloud_line, cloud_residuals
from edxreview.signal._reference import muap_features

P = clf.classifier_parameters()
CLASSES = list(P["classes"])
V0 = [f for f in P["features"] if "@" not in f]      # the 17 features evaluated first
EXTREMES = ["duration_ms:median@min", "log_amplitude:median@max", "polyphasic:mean@max",
            "ip_mean_freq_hz:mean@max", "ip_log_ratio:mean@max", "ip_log_ratio:mean@min",
            "ip_log_rms:mean@max"]
QUANTILES = ["duration_ms:q10", "log_amplitude:q10", "log_amplitude:q90", "turns:q90",
             "ip_mean_freq_hz:q90", "ip_log_ratio:q90", "ip_log_ratio:q10"]
# outlier fraction: (table m = MUAPs / e = epochs, column, side, control percentile)
OUTLIERS = {
    "frac_short": ("m", "duration_ms", "lo", 2.5),
    "frac_small": ("m", "log_amplitude", "lo", 2.5),
    "frac_long": ("m", "duration_ms", "hi", 97.5),
    "frac_large": ("m", "log_amplitude", "hi", 97.5),
    "ip_frac_ratio_hi": ("e", "ip_log_ratio", "hi", 97.5),
    "ip_frac_ratio_lo": ("e", "ip_log_ratio", "lo", 2.5),
    "ip_frac_amp_hi": ("e", "ip_log_amplitude", "hi", 97.5),
}
#: the turns-amplitude cloud residual (V9): control line recomputed in every training fold
CLOUD = ["ip_cloud_z:mean", "ip_cloud_z:mean@max", "ip_cloud_z:mean@min"]
BANDS = [f"{c}:mean" for c in band_columns()]
#: the fraction of a subject-muscle's MUAPs with a satellite (V15; at least min_muaps MUAPs)
SATELLITE = ["frac_satellite"]
MUAP_OUT = ["frac_short", "frac_small", "frac_long", "frac_large"]
IP_OUT = ["ip_frac_ratio_hi", "ip_frac_ratio_lo", "ip_frac_amp_hi"]
VARIANTS = {   # name: (features unit_features computes, outlier fractions)
    "V0": (V0, []),
    "V1": (V0, MUAP_OUT),
    "V2": (V0, IP_OUT),
    "V3": (V0, MUAP_OUT + IP_OUT),
    "V4": (V0 + EXTREMES, []),
    "V6": (V0 + QUANTILES, []),
    "V7": (V0 + QUANTILES + EXTREMES, []),
    "V9": (V0, CLOUD),
    "V10": (V0 + BANDS, []),
    "V13": (V0 + EXTREMES, CLOUD),
    "V14": (V0 + EXTREMES + BANDS, []),
    "V15": (V0 + EXTREMES, SATELLITE),
}
#: ensembles: the mean of the members' class probabilities
ENSEMBLE = {"V11": ["V0", "V4", "V6"]}
SELECT = {"V8": ["V0", "V4", "V6"],
          "V12": ["V0", "V4", "V6", "V9", "V10", "V11", "V13", "V14"]}
DESCRIPTION = {
    "V0": "17 features (pooled MUAPs, interference, spectrum)",
    "V1": "V0 + MUAP outlier fractions",
    "V2": "V0 + interference-epoch outlier fractions",
    "V3": "V0 + both outlier fractions",
    "V4": "V0 + most abnormal recording (7 @max/@min)",
    "V6": "V0 + tail quantiles (7)",
    "V7": "V0 + tail quantiles + most abnormal recording",
    "V8": "V0 / V4 / V6 chosen by the inner folds",
    "V9": "V0 + turns-amplitude cloud residual (mean, @max, @min)",
    "V10": "V0 + relative power in 6 fixed bands",
    "V11": "mean probability of the V0, V4 and V6 models",
    "V13": "V4 + turns-amplitude cloud residual",
    "V14": "V4 + relative power in 6 fixed bands",
    "V12": "V0 / V4 / V6 / V9 / V10 / V11 / V13 / V14 chosen by the inner folds",
    "V15": "V4 + fraction of MUAPs with a satellite",
}


class Lab:
    """One laboratory's cached tables: recordings, per-MUAP features, epochs."""

    def __init__(self, recs: pd.DataFrame, muaps: pd.DataFrame, epochs: pd.DataFrame, ds: str):
        r = recs[recs["dataset"] == ds].copy()
        r["muscle"] = r["muscle"].map(clf.normalize_muscle)
        self.recs, self.muaps, self.epochs = r, muaps, epochs
        m = muaps[muaps["recording"].isin(r["recording"])]
        keys = r[["recording", "subject", "muscle", "truth"]]
        self.f = muap_features(m).assign(
            recording=m["recording"].to_numpy(),
            satellite=(m["satellite"].astype(float).to_numpy() if "satellite" in m
                       else np.nan)).merge(keys, on="recording")
        self.e = epochs[epochs["recording"].isin(r["recording"])].merge(keys, on="recording")
        self._static: dict[str, pd.DataFrame] = {}

    def static(self, v: str) -> pd.DataFrame:
        """The fold-independent features of variant ``v``, one row per subject-muscle."""
        if v not in self._static:
            u = clf.unit_features(self.muaps, self.epochs, self.recs, ("subject", "muscle"),
                                  VARIANTS[v][0])
            self._static[v] = u.merge(
                self.recs.drop_duplicates(["subject", "muscle"])[["subject", "muscle", "truth"]],
                on=["subject", "muscle"])
        return self._static[v]

    def units(self, v: str, controls, limits_from: "Lab | None" = None) -> pd.DataFrame:
        """Variant ``v``'s features, outlier fractions against the percentiles of the MUAPs and
        epochs of ``controls`` (subjects of ``limits_from``, default this laboratory)."""
        u = self.static(v)
        names = VARIANTS[v][1]
        if not names:
            return u
        src = limits_from or self
        min_ep = clf.load_signal_parameters()["interference"]["min_epochs"]
        cloud = [n for n in names if n in CLOUD]
        if cloud:
            ce = src.e[src.e["subject"].isin(controls)]
            line = cloud_line(ce, int(P["min_control_subjects"]))
            ez = self.e[["recording"]].assign(ip_cloud_z=cloud_residuals(self.e, line))
            cz = clf.unit_features(self.muaps, ez, self.recs, ("subject", "muscle"), cloud)
            u = u.drop(columns=cloud, errors="ignore").merge(
                cz[["subject", "muscle", *cloud]], on=["subject", "muscle"], how="left")
        if "frac_satellite" in names:   # not fold-dependent: no control limit
            g = self.f.groupby(["subject", "muscle"])["satellite"]
            val = g.mean().where(g.count() >= P["min_muaps"]).rename("frac_satellite")
            u = u.drop(columns="frac_satellite", errors="ignore").merge(
                val.reset_index(), on=["subject", "muscle"], how="left")
        for n in [n for n in names if n not in CLOUD and n not in SATELLITE]:
            t, col, side, pc = OUTLIERS[n]
            d, ref = (self.f, src.f) if t == "m" else (self.e, src.e)
            lim = ref[ref["subject"].isin(controls)].groupby("muscle")[col].quantile(pc / 100)
            lo = d["muscle"].map(lim)
            beyond = (d[col] < lo) if side == "lo" else (d[col] > lo)
            s = beyond.astype(float).where(d[col].notna() & lo.notna()).groupby(
                [d["subject"], d["muscle"]])
            need = P["min_muaps"] if t == "m" else min_ep
            val = s.mean().where(s.count() >= need).rename(n).reset_index()
            u = u.drop(columns=n, errors="ignore").merge(val, on=["subject", "muscle"], how="left")
        return u


def features_of(v: str) -> list[str]:
    return VARIANTS[v][0] + VARIANTS[v][1]


class Fit:
    """A variant fitted on training subjects: its member models (one; several for an
    ensemble), each member's units, the inner-fold loss, the penalty chosen (text) and the
    inner folds' out-of-fold probabilities (columns subject, muscle, truth and the classes)."""

    def __init__(self, models: dict, units: dict, loss: float, c: str, inner: pd.DataFrame):
        self.models, self.units, self.loss, self.c, self.inner = models, units, loss, c, inner


def _balanced_ce(pred: pd.DataFrame) -> float:
    """Class-balanced cross-entropy of out-of-fold probabilities (rows with a truth)."""
    pt = pred[CLASSES].to_numpy(float)[np.arange(len(pred)),
                                       pred["truth"].map(CLASSES.index).to_numpy(int)]
    return clf.balanced_loss(pd.DataFrame({"t": pred["truth"].to_numpy(), "w": 1.0,
                                           "l": -np.log(np.clip(pt, 1e-12, 1))}))


_FITS: dict = {}


def fit_nested(lab: Lab, v: str, train: list[str]) -> Fit:
    """Variant ``v`` on the ``train`` subjects (memoised): a single variant's model with its
    penalty chosen by the parameter file's subject-grouped inner folds of ``train`` (outlier
    limits and cloud lines recomputed from each inner training fold's controls); an ensemble
    (:data:`ENSEMBLE`), its members so fitted, its inner probabilities their mean."""
    key = (id(lab), v, tuple(train))
    if key in _FITS:
        return _FITS[key]
    if v in ENSEMBLE:
        fits = [fit_nested(lab, m, train) for m in ENSEMBLE[v]]
        ids = ["subject", "muscle", "truth"]
        inner = fits[0].inner[ids].copy()
        probs = []
        for f in fits:
            probs.append(inner[ids].merge(f.inner, on=ids, how="left")[CLASSES].to_numpy(float))
        inner[CLASSES] = np.mean(probs, axis=0)
        inner = inner.dropna(subset=CLASSES)
        out = Fit({m: f.models[m] for m, f in zip(ENSEMBLE[v], fits)},
                  {m: f.units[m] for m, f in zip(ENSEMBLE[v], fits)}, _balanced_ce(inner),
                  "/".join(f"{m} {f.c}" for m, f in zip(ENSEMBLE[v], fits)), inner)
        _FITS[key] = out
        return out
    grid = [float(c) for c in P["c_grid"]]
    feats = features_of(v)
    tr = lab.static(v)
    tr = tr[tr["subject"].isin(train)]
    fold = clf.inner_folds(tr, int(P["inner_folds"]))
    preds = {i: [] for i in range(len(grid))}
    for k in sorted(fold.unique()):
        itr = tr[fold != k]
        u = lab.units(v, itr.loc[itr["truth"] == "normal", "subject"].unique())
        a = u[u["subject"].isin(itr["subject"])]
        b = u[u["subject"].isin(tr.loc[fold == k, "subject"])]
        for i, c in enumerate(grid):
            m = clf._fit_fixed(a, feats, CLASSES, c, P["min_control_subjects"])
            pr = m.predict_proba(b).dropna(subset=CLASSES)
            preds[i].append(pd.concat([b.loc[pr.index, ["subject", "muscle", "truth"]],
                                       pr[CLASSES]], axis=1))
    preds = {i: pd.concat(p, ignore_index=True) for i, p in preds.items()}
    loss = [_balanced_ce(preds[i]) for i in range(len(grid))]
    best = int(np.argmin(loss))
    c = grid[best]
    u = lab.units(v, tr.loc[tr["truth"] == "normal", "subject"].unique())
    model = clf._fit_fixed(u[u["subject"].isin(train)], feats, CLASSES, c,
                           P["min_control_subjects"])
    out = Fit({v: model}, {v: u}, float(loss[best]), f"C={c:g}", preds[best])
    _FITS[key] = out
    return out


def _mean_reading(rows: list[pd.DataFrame]) -> pd.DataFrame:
    """One reading per unit from the members' readings (same units, same order): the mean of
    their class probabilities (NaN where any member has none), its most probable class."""
    if len(rows) == 1:
        return rows[0]
    out = rows[0].copy()
    p = np.mean([r[CLASSES].to_numpy(float) for r in rows], axis=0)
    out[CLASSES] = p
    ok = ~np.isnan(p).any(axis=1)
    out["pred"] = np.where(ok, np.asarray(CLASSES)[np.nan_to_num(p, nan=-1).argmax(1)],
                           "indeterminate")
    out["probability"] = out[CLASSES].max(axis=1)
    return out


def _subject_scores(muscle_rows: list[pd.DataFrame]) -> tuple[dict, dict]:
    """Scores of the subjects (muscles pooled) and of the subject-muscles; the latter with
    ``by_muscle``, the score of each muscle's subject-muscles."""
    mu = pd.concat(muscle_rows, ignore_index=True)
    pooled = clf.pool_probabilities(mu, mu["subject"], CLASSES)
    sub = mu.groupby("subject").agg(truth=("truth", "first")).join(pooled)
    ms = score(mu["truth"], mu["pred"])
    ms["by_muscle"] = {k: score(g["truth"], g["pred"]) for k, g in mu.groupby("muscle")}
    return score(sub["truth"], sub["pred"]), ms


def loso(lab: Lab, name: str) -> tuple[dict, dict, dict]:
    """Leave-one-subject-out within ``lab``; ``name`` a variant, an ensemble or a nested
    choice (SELECT)."""
    subjects = sorted(lab.recs["subject"].unique())
    rows, chosen = [], []
    for s in subjects:
        train = [x for x in subjects if x != s]
        cands = SELECT.get(name, [name])
        fits = [fit_nested(lab, v, train) for v in cands]
        i = int(np.argmin([f.loss for f in fits]))
        f = fits[i]
        chosen.append(f"{cands[i]} {f.c}" if len(cands) > 1 else f.c)
        rows.append(_mean_reading([
            clf.read_units(f.models[m], f.units[m][f.units[m]["subject"] == s]
                           .sort_values("muscle")) for m in f.models]))
    subj, mus = _subject_scores(rows)
    return subj, mus, pd.Series(chosen).value_counts().to_dict()


def cross_lab(train: Lab, test: Lab, name: str) -> tuple[dict, dict]:
    """Trained on all of ``train`` (nested penalty / variant), reading ``test``'s subjects
    centred on ``test``'s other controls, scaled by ``train``'s control SDs (their mean over
    the training muscles where it lacks the muscle); outlier limits and cloud lines from
    ``test``'s other controls."""
    cands = SELECT.get(name, [name])
    subjects = sorted(train.recs["subject"].unique())
    fits = [fit_nested(train, v, subjects) for v in cands]
    f = fits[int(np.argmin([f.loss for f in fits]))]
    rows = []
    for s in sorted(test.recs["subject"].unique()):
        ctrl = [x for x in test.recs.loc[test.recs["truth"] == "normal", "subject"].unique()
                if x != s]
        reads = []
        for v, model in f.models.items():
            u = test.units(v, ctrl)
            # re-centred as 'emg reference build --classifier-from' does
            local = clf.transfer_classifier(model, u[u["subject"].isin(ctrl)])
            reads.append(clf.read_units(local if isinstance(local, clf.LabClassifier) else None,
                                        u[u["subject"] == s].sort_values("muscle")))
        rows.append(_mean_reading(reads))
    return _subject_scores(rows)


def _recall(s: dict) -> str:
    r = s["recall"]
    return " / ".join(f"{r[c][0]}/{r[c][1]}" if c in r else "-" for c in CLASSES)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", required=True, metavar="DIR",
                    help="the tables tools/emg_eval.py --cache DIR measured")
    ap.add_argument("--only", default=None, metavar="NAMES", help="variants, comma-separated")
    ap.add_argument("--jobs", type=int, default=1, help="variants evaluated in parallel")
    a = ap.parse_args(argv)
    cache = Path(a.cache)
    names = ("recordings.csv", "muaps.csv", "epochs.csv")
    if not all((cache / n).is_file() for n in names):
        print(f"{str(cache)!r} lacks {names}; run tools/emg_eval.py --cache {cache} first",
              file=sys.stderr)
        return 1
    known = [*VARIANTS, *ENSEMBLE, *SELECT]
    want = a.only.split(",") if a.only else known
    unknown = [w for w in want if w not in known]
    if unknown:
        print(f"unknown variant(s) {unknown!r}; known: {known}", file=sys.stderr)
        return 2
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=a.jobs) as pool:
        rows = list(pool.map(_one, [cache] * len(want), want))
    print("Lab classifier variants (subject level; indeterminate counts as wrong; recall "
          "normal / neurogenic / myopathic):\n")
    print("| variant | features | Algiers LOSO: right | balanced | recall N / Neu / Myo | "
          "per muscle balanced (deltoid / biceps) | biceps recall N / Neu / Myo | "
          "penalty (and set) chosen | Algiers -> N2001: right | recall N / Neu / Myo |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(r)
    return 0


_LABS: dict = {}


def _one(cache: Path, name: str) -> str:
    t0 = time.perf_counter()
    if str(cache) not in _LABS:   # kept, so that a worker's later variants reuse its fits
        recs, muaps, epochs = (pd.read_csv(cache / n) for n in
                               ("recordings.csv", "muaps.csv", "epochs.csv"))
        _LABS[str(cache)] = (Lab(recs, muaps, epochs, "algiers"),
                             Lab(recs, muaps, epochs, "n2001"))
    alg, n2 = _LABS[str(cache)]
    s, m, ch = loso(alg, name)
    xs, _ = cross_lab(alg, n2, name)
    chosen = ", ".join(f"{k}: {v}" for k, v in sorted(ch.items()))
    bm = m["by_muscle"]
    per = " / ".join(f"{bm[k]['balanced_accuracy']:.2f}" if k in bm else "-"
                     for k in ("deltoid", "biceps_brachii"))
    bic = _recall(bm["biceps_brachii"]) if "biceps_brachii" in bm else "-"
    row = (f"| {name} | {DESCRIPTION[name]} | {s['correct']}/{s['n']} | "
           f"{s['balanced_accuracy']:.2f} | {_recall(s)} | {m['balanced_accuracy']:.2f} "
           f"({per}) | {bic} | {chosen} | {xs['correct']}/{xs['n']} | {_recall(xs)} |")
    print(f"{name}: {time.perf_counter() - t0:.0f} s {row}", file=sys.stderr, flush=True)
    return row


if __name__ == "__main__":
    raise SystemExit(main())
