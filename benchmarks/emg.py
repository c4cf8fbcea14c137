"""Throughput of the needle-EMG analysis (``analyze_recording``, the default decomposition
method unless ``--method``) in multiples of real time per core, on real recordings (EMGLAB
N2001 at 23.4 kHz, Algiers at 32.8 kHz, from ``../shared/data``) and on the synthetic record of
the tests; with each figure its cost in passes of one scipy.signal.sosfiltfilt over the same
record (a unit that moves less than seconds do when the machine is shared).

CPU time of this process (time.process_time), one thread; each record is analysed ``--repeat``
times from a fresh copy (nothing cached) and the fastest run counts.

Run: python benchmarks/emg.py [--data ../shared/data] [--records 12] [--repeat 3]
     [--method peel|pursuit] [--target 60]
Exit status 1 when a dataset is below ``--target`` x real time.
"""

from __future__ import annotations

import os

# "per core": one thread for the BLAS behind numpy's matrix products as well (set before numpy
# loads); with its default of one thread per CPU, parallel jobs oversubscribe the cores
for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from scipy import signal as sps

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "signal"))
from _synth import weak_contraction  # noqa: E402

from edxreview.signal import Recording, analyze_recording  # noqa: E402
from edxreview.signal._datasets import (N2001_FS_HZ, list_recordings,  # noqa: E402
                                        read_dataset_recording)
from edxreview.signal._params import load_signal_parameters  # noqa: E402


def _cpu(f) -> float:
    t = time.process_time()
    f()
    return time.process_time() - t


def time_record(rec: Recording, muscle: str | None, repeat: int) -> tuple[float, float]:
    """Fastest CPU time (s) of the analysis of ``rec`` and of one sosfiltfilt pass over it."""
    sos = sps.butter(2, [250, 3000], btype="bandpass", fs=rec.fs_hz, output="sos")
    t_an, t_f = np.inf, np.inf
    for _ in range(repeat):
        fresh = replace(rec, samples=rec.samples.copy())  # nothing cached from the last run
        t_an = min(t_an, _cpu(lambda: analyze_recording(fresh, muscle=muscle)))
        t_f = min(t_f, _cpu(lambda: sps.sosfiltfilt(sos, fresh.samples)))
    return t_an, t_f


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--records", type=int, default=12,
                    help="records per dataset, spread evenly over its list (0: all)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--method", default=None, choices=["peel", "pursuit"],
                    help="decomposition method (default: the parameter file's)")
    ap.add_argument("--target", type=float, default=60.0)
    a = ap.parse_args(argv)
    if a.method:
        load_signal_parameters()["sorting"]["method"] = a.method  # this process only
    print(f"decomposition: {load_signal_parameters()['sorting']['method']}; CPU time of one "
          f"thread, fastest of {a.repeat} runs per record")
    rows = []
    listed = list_recordings(Path(a.data)) if Path(a.data).is_dir() else None
    for ds in ("n2001", "algiers"):
        g = listed[listed["dataset"] == ds] if listed is not None else []
        if len(g) == 0:
            print(f"{ds}: no recordings under {a.data!r} (skipped)")
            continue
        if a.records:
            g = g.iloc[np.unique(np.linspace(0, len(g) - 1, a.records).round().astype(int))]
        dur = t_an = t_f = 0.0
        worst = np.inf
        for r in g.to_dict("records"):
            rec = read_dataset_recording(r)
            ta, tf = time_record(rec, r["muscle"], a.repeat)
            d = rec.samples.size / rec.fs_hz
            dur, t_an, t_f = dur + d, t_an + ta, t_f + tf
            worst = min(worst, d / ta)
        rows.append((ds, len(g), dur, t_an, t_f, worst))
    fs = N2001_FS_HZ   # the synthetic record at N2001's rate
    x, _ = weak_contraction(fs_hz=fs, duration_s=11.1848, noise_uv=10.0, spiky=True)
    rec = Recording(samples=x, fs_hz=fs, calibrated=True, name="synthetic")
    ta, tf = time_record(rec, "biceps_brachii", a.repeat)
    rows.append(("synthetic", 1, x.size / fs, ta, tf, x.size / fs / ta))
    below = []
    for ds, n, dur, ta, tf, worst in rows:
        x_rt = dur / ta
        print(f"{ds:9s} {n:3d} records, {dur:7.1f} s of signal: {x_rt:6.1f} x real time per "
              f"core (slowest record {worst:.1f} x); analysis = {ta / tf:.0f} sosfiltfilt passes")
        if ds != "synthetic" and x_rt < a.target:
            below.append(ds)
    if below:
        print(f"below the target of {a.target:g} x real time: {', '.join(below)}")
    return 1 if below else 0


if __name__ == "__main__":
    raise SystemExit(main())
