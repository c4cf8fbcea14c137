"""Evaluate the needle-EMG analysis on the real recordings in ``../shared/data``.

Prints
1. EMGLAB R00108: discharge sensitivity and precision against the expert decomposition
   (``R00108.eaf``, 659 discharges of 8 units; a detected discharge matches an annotated one
   within 0.8 ms, one-to-one), units found and the annotated-to-found unit table; then the
   unit-aware agreement, each found unit paired with one annotated unit and aligned by its own
   constant time offset;
2. the readings of every labelled recording (EMGLAB N2001, Algiers, PhysioNet emgdb), scored
   per subject, per subject-muscle and per recording with Wilson 95 % intervals: the bundled
   rules (fixed, unverified limits; for comparison) and the lab reference read
   leave-one-subject-out within each laboratory (the reference built from the other control
   subjects of the laboratory) and across laboratories (one laboratory's controls as the
   reference of another's recordings), the same z-scores read by the nearest class
   centroid of the training subjects, the mean and outlier limits of the controls
   (multi-MUAP scheme), the Mahalanobis distance from the controls' muscle means, the
   interference pattern and the lab classifier (``edxreview.signal._classifier``: features of
   the MUAPs, interference pattern and spectrum standardised against the training controls, a
   class-balanced L2 logistic regression trained on the training fold's labelled subjects,
   its penalty chosen by inner folds of those subjects only). Nothing is fitted on the subject
   it scores;
3. the lab classifier on the features of the Pattichis per-subject MUAP table
   (``pattichis-muap/muap.csv``): leave-one-subject-out within it, and trained on Algiers.

Run from the repository root: ``python tools/emg_eval.py [--data ../shared/data] [--jobs 2]
[--cache DIR] [--results out.csv] [--by-muscle] [--skip-r00108] [--methods default,pursuit]
[--sorting peel|pursuit] [--only "lab classifier"]``;
R00108 is sorted with each decomposition method named (the readings use the parameter file's).
"""

from __future__ import annotations

import os

# "per core": one thread for the BLAS behind numpy's matrix products as well (set before numpy
# loads); with its default of one thread per CPU, parallel jobs oversubscribe the cores
for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse
import collections
import re
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import signal as sps

from edxreview.signal import read_signal
from edxreview.signal._datasets import (PATTICHIS_CLASSES, PATTICHIS_MUAPS_PER_SUBJECT,
                                        PATTICHIS_MUSCLE, list_recordings, measure_datasets)
from edxreview.signal._acceptance import REJECT_RULES
from edxreview.signal._evaluate import acceptance_table, evaluate, format_table
from edxreview.signal._measure import measure_muaps, measure_waveform
from edxreview.signal._muap import sort_units
from edxreview.signal._params import load_signal_parameters


# ------------------------------------------------------------------------------ R00108
def load_eaf(path: Path) -> tuple[np.ndarray, np.ndarray, dict[int, tuple[np.ndarray, int]]]:
    """Discharge times (s), unit numbers and templates (samples in µV where the file gives the
    template's gain, index of the time) of a .eaf."""
    text = path.read_bytes().decode("ascii").replace("\r", "\n")
    ev = re.search(r"<emglab_spike_events>(.*?)</emglab_spike_events>", text, re.S).group(1)
    rows = [ln.split() for ln in ev.split("\n") if ln.strip() and not ln.strip().startswith("<!")]
    times = np.array([float(r[0]) for r in rows])
    units = np.array([int(r[1]) for r in rows])
    temps = {}
    for m in re.finditer(r"<I(\d+)>(.*?)</I\1>", text, re.S):
        body = m.group(2)
        u = int(re.search(r"<unit[^>]*>([^<]*)</unit>", body).group(1))
        d = np.array(re.search(r"<data[^>]*>([^<]*)</data>", body).group(1).split(), float)
        idx = int(float(re.search(r"<index[^>]*>([^<]*)</index>", body).group(1)))
        g = re.search(r"<gain[^>]*>([^<]*)</gain>", body)  # ADC units per mV
        temps[u] = (d * 1000.0 / float(g.group(1)) if g else d, idx)
    return times, units, temps


def evaluate_r00108(data: Path, tol_ms: float = 0.8, method: str | None = None) -> dict:
    rec = read_signal(data / "emglab-R00108" / "R00108.hea")
    times, units, temps = load_eaf(data / "emglab-R00108" / "R00108.eaf")
    fs = rec.fs_hz
    t0 = time.process_time()
    dec = sort_units(rec, method=method)
    elapsed = time.process_time() - t0
    # annotated times are template reference points; our discharge time is the main peak of
    # the detection-band template, so shift each unit's annotations by that offset
    hp = sps.butter(2, 10, btype="highpass", fs=fs, output="sos")
    bp = sps.butter(2, [250, 3000], btype="bandpass", fs=fs, output="sos")
    truth = []
    for k, (tpl, idx) in temps.items():
        td = sps.sosfiltfilt(bp, sps.sosfiltfilt(hp, tpl))
        off = int(np.argmax(np.abs(td))) - (idx - 1)
        truth += [(int(round(t * fs)) + off, k) for t in times[units == k]]
    truth = np.array(truth)
    tol = int(tol_ms * 1e-3 * fs)
    ds = dec.discharges["sample"].to_numpy()
    du = dec.discharges["unit"].to_numpy()
    used = np.zeros(ds.size, bool)
    hit = np.zeros(len(truth), bool)
    pairs = []
    for j in np.argsort(truth[:, 0]):
        s = truth[j, 0]
        c = np.flatnonzero(~used & (np.abs(ds - s) <= tol))
        if c.size:
            i = c[np.argmin(np.abs(ds[c] - s))]
            used[i] = hit[j] = True
            pairs.append((int(truth[j, 1]), int(du[i]) + 1))
    cm = collections.Counter(pairs)
    table = {
        k: (int((truth[:, 1] == k).sum()), int(hit[truth[:, 1] == k].sum()),
            {v: c for (a, v), c in sorted(cm.items()) if a == k})
        for k in sorted(temps)
    }
    unit_aware = _match_units(truth, ds, du, tol, round(5e-3 * fs))
    durations = duration_errors(rec, dec, temps, times, units, unit_aware["unit_pairs"])
    return dict(durations=durations, sensitivity=float(hit.mean()), precision=float(used.mean()) if used.size else 0.0,
                n_found=int(ds.size), n_units=int(np.unique(du).size), table=table,
                seconds=elapsed, record_s=rec.samples.size / fs, **unit_aware)


def duration_errors(rec, dec, temps: dict, times: np.ndarray, units: np.ndarray,
                    pairs: dict[int, int]) -> pd.DataFrame:
    """MUAP duration of each found unit (our discharges, our average) against the duration the
    same marker gives on the expert's average of the unit it is paired with (``R00108.eaf``
    templates: averages over all the expert's discharges of a unit, so nearly free of noise).

    The expert template is put through the measurement band and cut to the averaging window
    around its own detection-band main peak; its expected noise is that of an average of the
    expert's number of discharges. The difference isolates what our decomposition and our
    (noisier) averages do to the duration marker; it is not a comparison with manual markers,
    which R00108 does not have. Amplitude, phases, turns and satellite are compared the same
    way (the same definitions on the expert's average and on ours).
    """
    fs = rec.fs_hz
    pm = load_signal_parameters()["measurement"]
    before = int(round(pm["window_before_ms"] * 1e-3 * fs))
    after = int(round(pm["window_after_ms"] * 1e-3 * fs))
    m = measure_muaps(rec, dec)
    noise_sd = float(m.attrs["noise_sd"])
    hp = sps.butter(2, 10, btype="highpass", fs=fs, output="sos")
    bp = sps.butter(2, [250, 3000], btype="bandpass", fs=fs, output="sos")
    ref = {}
    for k, (tpl, _idx) in temps.items():
        y = sps.sosfiltfilt(hp, tpl)
        c = int(np.argmax(np.abs(sps.sosfiltfilt(bp, y))))
        y = np.pad(y, (before, after), mode="edge")[c : c + before + after + 1]
        n_k = int((units == k).sum())
        # the expert's template is an average of all the unit's discharges, without halves:
        # it is taken as its own two halves (every late component in it counts as time-locked)
        expected = noise_sd / np.sqrt(n_k) * pm["median_average_noise_factor"] + 1e-12
        ref[k] = measure_waveform(y, fs, before, expected, calibrated=rec.calibrated,
                                  halves=(y, y))
    rows = []
    for f, a in sorted(pairs.items()):
        found = m[m["unit"] == f + 1]
        if found.empty:
            continue
        r = found.iloc[0]
        amp = r["amplitude_uv"] if rec.calibrated else r["amplitude_adu"]
        rows.append(dict(annotated=a, found=f + 1, n_found=int(r["n_discharges"]),
                         accepted=bool(r.get("accepted", True)),
                         reject_rule=str(r.get("reject_rule", "")),
                         expert_ms=ref[a]["duration_ms"], found_ms=float(r["duration_ms"]),
                         error_ms=float(r["duration_ms"]) - ref[a]["duration_ms"],
                         expert_amplitude=ref[a]["amplitude"], found_amplitude=float(amp),
                         expert_phases=ref[a]["phases"], found_phases=int(r["phases"]),
                         expert_turns=ref[a]["turns"], found_turns=int(r["turns"]),
                         expert_satellite=ref[a]["satellite"],
                         found_satellite=bool(r["satellite"])))
    return pd.DataFrame(rows)


def _match_units(truth: np.ndarray, ds: np.ndarray, du: np.ndarray, tol: int, reach: int) -> dict:
    """Unit-aware agreement, allowing each found unit a constant time offset.

    A unit's discharge time is a reference point on its waveform, and where two of its peaks are
    of similar size the expert's point and ours can differ by a constant (R00108 unit 8: about
    2 ms). Each found unit is paired with the annotated unit whose discharges it meets most
    often at one constant offset (the mode of the differences within ``reach`` samples, counted
    within ``tol``); several found units may pair with one annotated unit (a split unit). An
    annotated discharge is then found when a discharge of a paired found unit, shifted by that
    unit's offset, lies within ``tol`` (one-to-one). The same idea as the comparison of two
    decompositions in EMGLAB (McGill et al. 2005), where matched units are aligned first.
    """
    pair, shift = {}, {}
    for f in np.unique(du):
        sf = np.sort(ds[du == f])
        best = (0, None, 0)
        for a in np.unique(truth[:, 1]):
            ta = np.sort(truth[truth[:, 1] == a, 0])
            i = np.searchsorted(ta, sf)
            d = np.concatenate([sf - ta[np.clip(i - 1, 0, ta.size - 1)], sf - ta[np.clip(i, 0, ta.size - 1)]])
            d = d[np.abs(d) <= reach]
            if d.size == 0:
                continue
            h = np.bincount(d + reach, minlength=2 * reach + 1)
            win = np.convolve(h, np.ones(2 * tol + 1, int), mode="same")
            o = int(np.argmax(win))
            if win[o] > best[0]:
                best = (int(win[o]), int(a), o - reach)
        if best[1] is not None:
            pair[int(f)], shift[int(f)] = best[1], best[2]
    hit = np.zeros(len(truth), bool)
    used = np.zeros(ds.size, bool)
    for a in np.unique(truth[:, 1]):
        fs_ = [f for f, aa in pair.items() if aa == a]
        sel = np.flatnonzero(np.isin(du, fs_))
        cand = ds[sel] - np.array([shift[int(f)] for f in du[sel]])
        for j in np.flatnonzero(truth[:, 1] == a):
            c = np.flatnonzero(~used[sel] & (np.abs(cand - truth[j, 0]) <= tol))
            if c.size:
                i = c[np.argmin(np.abs(cand[c] - truth[j, 0]))]
                used[sel[i]] = hit[j] = True
    per_unit = {int(a): (int((truth[:, 1] == a).sum()), int(hit[truth[:, 1] == a].sum()),
                         sorted(f + 1 for f, aa in pair.items() if aa == a))
                for a in np.unique(truth[:, 1])}
    return dict(unit_sensitivity=float(hit.mean()),
                unit_precision=float(used.mean()) if used.size else 0.0, unit_table=per_unit,
                unit_pairs=pair)


# ------------------------------------------------------------------------------ Pattichis
#: the features of the lab classifier that the Pattichis per-subject table gives (mean and SD
#: of the subject's ~20 MUAPs); its amplitude is the mean in mV, so log10 of the mean amplitude
#: stands for the mean of log10 amplitudes (centred on each laboratory's own controls, the
#: difference is mostly an offset)
PATTICHIS_COLUMNS = {"duration_ms:mean": "DurMn", "duration_ms:sd": "DurSD",
                     "log_amplitude:mean": "AmpMn", "phases:mean": "PhMn", "turns:mean": "TurMn"}


def pattichis_units(path: Path) -> pd.DataFrame:
    """One unit per subject of the Pattichis table (biceps brachii), in the classifier's
    feature names."""
    t = pd.read_csv(path, dtype={"Pat.No.": str})
    out = pd.DataFrame({"subject": "pattichis-" + t["Pat.No."], "muscle": PATTICHIS_MUSCLE,
                        "truth": t["Cls"].map(PATTICHIS_CLASSES),
                        "n_muaps": PATTICHIS_MUAPS_PER_SUBJECT, "n_epochs": 0})
    for f, c in PATTICHIS_COLUMNS.items():
        out[f] = np.log10(t[c] * 1000.0) if f.startswith("log_amplitude") else t[c]
    return out


def evaluate_pattichis(data: Path, recs: pd.DataFrame, muaps: pd.DataFrame) -> pd.DataFrame:
    """The lab classifier on the Pattichis table's features: leave-one-subject-out within the
    table, and trained on the Algiers recordings as the lab classifier is trained
    (``training_rows``: same features, measured here) reading the
    table's subjects centred on the table's other normal subjects and scaled by the Algiers
    controls' SDs of biceps brachii. One subject = one muscle, so every level is the subject."""
    from edxreview.signal import _classifier as clf
    from edxreview.signal._evaluate import score

    path = data / "pattichis-muap" / "muap.csv"
    if not path.is_file():
        return pd.DataFrame()
    feats = list(PATTICHIS_COLUMNS)
    x = pattichis_units(path)
    rows = []
    preds = []
    for s in x["subject"]:
        m = clf.fit_classifier(x[x["subject"] != s], features=feats)
        preds.append(clf.read_units(m, x[x["subject"] == s]))
    r = pd.concat(preds)
    rows.append({"method": "lab classifier (Pattichis features)", "train": "pattichis (LOSO)",
                 "test": "pattichis", "level": "subject", "muscle": "all",
                 **score(r["truth"], r["pred"])})
    alg = recs[recs["dataset"] == "algiers"]
    if len(alg):
        u = clf.training_rows(muaps, None, alg, ("subject", "muscle"), features=feats)
        u = u.merge(alg.drop_duplicates(["subject", "muscle"])[["subject", "muscle", "truth"]],
                    on=["subject", "muscle"])
        m = clf.fit_classifier(u, features=feats)
        preds = []
        for s in x["subject"]:   # re-centred as 'emg reference build --classifier-from' does
            ctrl = x[(x["truth"] == "normal") & (x["subject"] != s)]
            local = clf.transfer_classifier(m, ctrl) if m is not None else None
            preds.append(clf.read_units(local if isinstance(local, clf.LabClassifier) else None,
                                        x[x["subject"] == s]))
        r = pd.concat(preds)
        rows.append({"method": "lab classifier (Pattichis features)", "train": "algiers",
                     "test": "pattichis", "level": "subject", "muscle": "all",
                     **score(r["truth"], r["pred"])})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------ readings
def measure_all(data: Path, jobs: int, cache: Path | None, sorting: str | None = None,
                ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Analyse every labelled recording once (or read the tables a previous run cached)."""
    names = ("recordings.csv", "muaps.csv", "epochs.csv")
    if cache is not None and all((cache / n).is_file() for n in names):
        return tuple(pd.read_csv(cache / n) for n in names)
    tables = measure_datasets(list_recordings(data), jobs=jobs, sorting=sorting)
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        for n, t in zip(names, tables):
            t.to_csv(cache / n, index=False)
    return tables


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(Path(__file__).resolve().parents[1].parent / "shared" / "data"))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--cache", default=None, metavar="DIR",
                    help="keep the measured tables here and reuse them on the next run")
    ap.add_argument("--results", default=None, metavar="CSV", help="write the score table here")
    ap.add_argument("--by-muscle", action="store_true", help="also print the rows per muscle")
    ap.add_argument("--skip-r00108", action="store_true")
    ap.add_argument("--methods", default="default,pursuit",
                    help="R00108 decomposition methods to evaluate, comma-separated "
                         "(default = the parameter file's; peel; pursuit)")
    ap.add_argument("--only", default=None, metavar="METHODS",
                    help="evaluate only these readings, comma-separated ('lab classifier', "
                         "'lab reference' = all the others)")
    ap.add_argument("--sorting", choices=["peel", "pursuit"], default=None,
                    help="decomposition of the readings' measuring pass (default: the parameter "
                         "file's)")
    a = ap.parse_args(argv)
    data = Path(a.data)
    if not data.is_dir():
        print(f"data folder {str(data)!r} not found; pass --data", file=sys.stderr)
        return 1
    for meth in ([] if a.skip_r00108 else a.methods.split(",")):
        r = evaluate_r00108(data, method=None if meth == "default" else meth)
        print(f"R00108 [{meth}]: sensitivity {r['sensitivity']:.3f}, precision {r['precision']:.3f}, "
              f"{r['n_found']} discharges in {r['n_units']} units "
              f"(sorting {r['record_s'] / r['seconds']:.1f} x real time)")
        for k, (n, h, m) in r["table"].items():
            print(f"  annotated unit {k}: {n} discharges, {h} found; found as {m}")
        print(f"R00108 unit-aware, each found unit aligned by its own constant offset: "
              f"sensitivity {r['unit_sensitivity']:.3f}, precision {r['unit_precision']:.3f}")
        for k, (n, h, fu) in r["unit_table"].items():
            print(f"  annotated unit {k}: {h}/{n} found by found unit(s) {fu}")
        d = r["durations"]
        if len(d):
            e = d["error_ms"].abs()
            print(f"R00108 MUAP duration, found units against the expert's averages of the units "
                  f"they pair with (n = {len(d)}): mean absolute error {e.mean():.2f} ms, median "
                  f"{e.median():.2f} ms, mean signed {d['error_ms'].mean():+.2f} ms")
            ok = d[d["accepted"]]
            if len(ok):
                e = ok["error_ms"].abs()
                print(f"  the accepted units only ([acceptance]; n = {len(ok)}): mean absolute "
                      f"error {e.mean():.2f} ms, median {e.median():.2f} ms, mean signed "
                      f"{ok['error_ms'].mean():+.2f} ms")
            for row in d.itertuples():
                print(f"  annotated {row.annotated} / found {row.found} ({row.n_found} discharges):"
                      f" expert {row.expert_ms:.2f} ms, found {row.found_ms:.2f} ms; amplitude "
                      f"{row.expert_amplitude:.0f} / {row.found_amplitude:.0f}; phases "
                      f"{row.expert_phases} / {row.found_phases}; turns {row.expert_turns} / "
                      f"{row.found_turns}; satellite {row.expert_satellite} / "
                      f"{row.found_satellite}"
                      + ("" if row.accepted else f" (rejected: {row.reject_rule})"))
            amp_err = (d["found_amplitude"] / d["expert_amplitude"] - 1).abs()
            print(f"R00108 same units, other measures (expert / found): amplitude median absolute "
                  f"error {100 * amp_err.median():.1f} %; phases equal in "
                  f"{int((d['expert_phases'] == d['found_phases']).sum())}/{len(d)} (mean "
                  f"absolute difference {(d['expert_phases'] - d['found_phases']).abs().mean():.2f}"
                  f"); turns equal in {int((d['expert_turns'] == d['found_turns']).sum())}/"
                  f"{len(d)} (mean absolute difference "
                  f"{(d['expert_turns'] - d['found_turns']).abs().mean():.2f}); satellite agrees "
                  f"in {int((d['expert_satellite'] == d['found_satellite']).sum())}/{len(d)}")
    t0 = time.perf_counter()
    recs, muaps, epochs = measure_all(data, a.jobs, Path(a.cache) if a.cache else None,
                                      a.sorting)
    print(f"\nMeasured {len(recs)} recordings, {len(muaps)} MUAPs "
          f"({time.perf_counter() - t0:.0f} s wall)")
    for ds, g in recs.groupby("dataset", sort=False):
        print(f"  {ds}: {g['subject'].nunique()} subjects, {len(g)} recordings, analysis "
              f"{g['record_s'].sum() / g['cpu_s'].sum():.1f} x real time per core")
    acc = acceptance_table(recs, muaps)
    print("\nMUAP acceptance ([acceptance] of emg_signal_parameters.toml; the readings below use "
          "the accepted MUAPs only): rows in = accepted + rejected per rule; median duration of "
          "all / accepted MUAPs")
    for r in acc.itertuples():
        why = ", ".join(f"{k} {getattr(r, k)}" for k in REJECT_RULES)
        print(f"  {r.dataset} {r.truth}: {r.n_muaps} MUAPs = {r.accepted} accepted + "
              f"{r.rejected} rejected ({r.rejected_pct:.0f} %: {why}); median duration "
              f"{r.median_duration_all_ms:.2f} / {r.median_duration_accepted_ms:.2f} ms")
    res = evaluate(recs, muaps, epochs=epochs,
                   only=a.only.split(",") if a.only else None)
    if not a.only or "lab classifier" in a.only:
        res = pd.concat([res, evaluate_pattichis(data, recs, muaps)], ignore_index=True)
    print("\nReadings (indeterminate counts as wrong; 95 % CI: Wilson). Bundled rules = "
          "the unverified muap_reference limits and the fixed rules, per subject by majority "
          "over recordings. Lab reference = z-scores against the controls of the reference lab, "
          "per subject pooled over muscles; within a lab leave-one-subject-out. z + centroids = "
          "nearest class centroid (mean z-vector) of the training subjects. Mean + outlier limits = "
          "a muscle abnormal when its mean is beyond the controls' prediction limits or more "
          "MUAPs than allowed (2 of 20, binomially scaled) lie beyond the controls' 2.5th / "
          "97.5th percentiles. Mahalanobis = distance of the muscle's MUAP means from the "
          "controls' muscle means (shrinkage covariance, Hotelling limit). Interference = the "
          "turns/amplitude ratio of the active epochs against the controls' (rule "
          "interference_ratio), independent of the decomposition. Lab classifier = features of "
          "the MUAPs, interference pattern and spectrum of each subject-muscle standardised "
          "against the training controls, read by a class-balanced L2 multinomial logistic "
          "regression trained on the training fold's labelled subjects (penalty by inner "
          "cross-validation on them; subject = geometric mean of its muscles' probabilities; "
          "the row 'one abnormal muscle = abnormal' pools its muscles' classes as the other "
          "readings pool them); "
          "across laboratories centred on the test laboratory's other controls. Pattichis rows: "
          "the same classifier on the features that table gives.\n")
    print(format_table(res, muscles=a.by_muscle))
    if a.results:
        res.to_csv(a.results, index=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
