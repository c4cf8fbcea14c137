"""What reading left and right apart costs the lab classifier on the Algiers recordings.

Leave-one-subject-out within the Algiers laboratory (the lab classifier of
``edxreview.signal._classifier``, trained in each fold on the other subjects only), three ways:

a. trained and read by subject-muscle (the recordings of a muscle pooled over both sides);
b. trained by subject-muscle, read by subject-muscle-side (a reference built without sides,
   ``emg analyze --subjects`` given sides);
c. trained and read by subject-muscle-side (``emg reference build`` and ``emg analyze`` both
   given sides).

The classifier here is trained on the units' pooled features (``[lab_classifier]
training_unit = "subject_muscle"``, the only training unit when this comparison was made and
reported in ``docs/emg.md``); trained on recordings (the default since parameters 0.15.0) the
side changes only the training rows' weights, so ways a and b train nearly the same model.

Printed for each: the readings of the units read (per class, Wilson 95 % interval) and the
subjects, their units pooled two ways: the normalised geometric mean of the units'
probabilities, and the rule of the other readings (one abnormal class = that class, all normal
= normal, both = indeterminate; :func:`edxreview.signal._reference.pool_readings`). The sides
come from the data folder's ``mendeley-algiers/MANIFEST.csv``.

Run from the repository root: ``python tools/emg_side_eval.py [--data ../shared/data]
[--jobs 2] [--cache DIR]`` (the cache is that of ``tools/emg_eval.py``: the measured tables
are shared).
"""

from __future__ import annotations

import os

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from emg_eval import measure_all  # noqa: E402

from edxreview.signal import _classifier as clf  # noqa: E402
from edxreview.signal._evaluate import score  # noqa: E402
from edxreview.signal._reference import pool_readings  # noqa: E402

WAYS = {"a": ("subject-muscle", "subject-muscle"),
        "b": ("subject-muscle", "subject-muscle-side"),
        "c": ("subject-muscle-side", "subject-muscle-side")}
KEYS = {"subject-muscle": ("subject", "muscle"),
        "subject-muscle-side": ("subject", "muscle", "side")}


def side_readings(recs: pd.DataFrame, muaps: pd.DataFrame, epochs: pd.DataFrame) -> dict:
    """Each way's leave-one-subject-out readings of the units (``WAYS``)."""
    units = {}
    for name, key in KEYS.items():
        f = clf.unit_features(muaps, epochs, recs, key)
        units[name] = f.merge(recs.drop_duplicates(list(key))[[*key, "truth"]], on=list(key))
    out: dict[str, list] = {w: [] for w in WAYS}
    for s in recs["subject"].unique():
        models = {n: clf.fit_classifier(u[u["subject"] != s]) for n, u in units.items()}
        for w, (train, read) in WAYS.items():
            u = units[read]
            out[w].append(clf.read_units(models[train], u[u["subject"] == s]))
    return {w: pd.concat(v, ignore_index=True) for w, v in out.items()}


def subject_scores(r: pd.DataFrame) -> dict:
    """The subjects' scores, their units pooled by the geometric mean and by the rule."""
    classes = list(clf.classifier_parameters()["classes"])
    truth = r.groupby("subject")["truth"].first()
    geo = clf.pool_probabilities(r, r["subject"], classes)["pred"].reindex(truth.index)
    read = r[r["pred"].isin(classes)]
    rule = read.groupby("subject")["pred"].agg(pool_readings).reindex(truth.index)
    return {"geometric mean": score(truth, geo.fillna("indeterminate")),
            "rule": score(truth, rule.fillna("indeterminate"))}


def _line(sc: dict) -> str:
    per = ", ".join(f"{c} {k}/{n}" for c, (k, n) in sc["recall"].items())
    return (f"{sc['correct']}/{sc['n']} ({sc['ci_low']:.2f}-{sc['ci_high']:.2f}), balanced "
            f"{sc['balanced_accuracy']:.3f}; {per}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(Path(__file__).resolve().parents[1].parent / "shared" / "data"))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--cache", default=None, metavar="DIR")
    a = ap.parse_args(argv)
    data = Path(a.data)
    manifest = data / "mendeley-algiers" / "MANIFEST.csv"
    if not manifest.is_file():
        print(f"{str(manifest)!r} not found; pass --data", file=sys.stderr)
        return 1
    recs, muaps, epochs = measure_all(data, a.jobs, Path(a.cache) if a.cache else None)
    recs = recs[recs["dataset"] == "algiers"].copy()
    recs["side"] = recs["recording"].map(pd.read_csv(manifest).set_index("record")["side"])
    if recs["side"].isna().any():
        print("recordings without a side in MANIFEST.csv: "
              f"{recs.loc[recs['side'].isna(), 'recording'].tolist()[:5]}", file=sys.stderr)
        return 1
    print(f"Algiers: {recs['subject'].nunique()} subjects, {len(recs)} recordings; "
          f"{len(recs.drop_duplicates(['subject', 'muscle']))} subject-muscles, "
          f"{len(recs.drop_duplicates(['subject', 'muscle', 'side']))} subject-muscle-sides\n")
    for w, r in side_readings(recs, muaps, epochs).items():
        train, read = WAYS[w]
        print(f"{w}. trained by {train}, read by {read}")
        print(f"   units read:                   {_line(score(r['truth'], r['pred']))}")
        for how, sc in subject_scores(r).items():
            print(f"   subjects ({how + '):':<16} {_line(sc)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
