"""Throughput of the needle-EMG analysis at 23.4 kHz, in multiples of real time per core, and
its ratio to one scipy.signal.sosfiltfilt pass over the same signal.

Run: python benchmarks/emg.py [--seconds 11.2] [--method peel|pursuit]
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
from pathlib import Path

import numpy as np
from scipy import signal as sps

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "signal"))
from _synth import weak_contraction  # noqa: E402

from edxreview.signal import Recording, analyze_recording  # noqa: E402
from edxreview.signal._params import load_signal_parameters  # noqa: E402

FS = 23437.5


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=11.1848)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--method", default=None, choices=["peel", "pursuit"],
                    help="decomposition method (default: the parameter file's)")
    a = ap.parse_args()
    if a.method:
        load_signal_parameters()["sorting"]["method"] = a.method  # this process only
    x, truth = weak_contraction(fs_hz=FS, duration_s=a.seconds, noise_uv=10.0, spiky=True)
    rec = Recording(samples=x, fs_hz=FS, calibrated=True, name="bench")
    sos = sps.butter(2, [250, 3000], btype="bandpass", fs=FS, output="sos")
    t_filt = min(_time(lambda: sps.sosfiltfilt(sos, x)) for _ in range(a.repeat))
    t_an = min(_time(lambda: analyze_recording(rec, muscle="biceps_brachii", age_years=40))
               for _ in range(a.repeat))
    meth = load_signal_parameters()["sorting"]["method"]
    print(f"decomposition: {meth}")
    print(f"signal: {a.seconds:.1f} s at {FS} Hz ({x.size} samples), CPU time of one thread")
    print(f"analysis: {t_an:.3f} s -> {a.seconds / t_an:.1f} x real time per core (target >= 60)")
    print(f"one sosfiltfilt pass: {t_filt * 1e3:.1f} ms; analysis = {t_an / t_filt:.0f} sosfiltfilt passes")


def _time(f) -> float:
    t = time.process_time()
    f()
    return time.process_time() - t


if __name__ == "__main__":
    main()
