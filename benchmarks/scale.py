"""Registry-scale benchmark: rows, seconds per stage, peak memory, and the ratio of end-to-end
time to a bare DuckDB scan of the same input files.

Usage: python benchmarks/scale.py [N ...]   (default 1000 10000 100000)

Registries are generated once with ``edxreview synth`` into ``benchmarks/.cache/`` (ignored by
git). Each measurement runs in a fresh process so that peak memory is that run's own.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"

_CHILD = r"""
import json, resource, sys, time, tempfile
from pathlib import Path
from edxreview._pipeline import review_study, write_outputs
from edxreview.report import render_report
path = sys.argv[1]
stages, last = {}, [time.perf_counter(), None]
def progress(name):
    now = time.perf_counter()
    if last[1] is not None:
        stages[last[1]] = round(now - last[0], 2)
    last[0], last[1] = now, name
t0 = time.perf_counter()
result = review_study(path, progress=progress)
progress("write outputs and report")
out = Path(tempfile.mkdtemp()) / "out"
write_outputs(result, out, extra=lambda tmp, r: render_report(r, tmp))
progress("done")
rows = sum(v["read"] for v in result.summary["rows"].values())
print(json.dumps({"seconds": round(time.perf_counter() - t0, 2), "stages": stages, "rows": rows,
                  "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))
"""

_SCAN = r"""
import sys, time, duckdb
from pathlib import Path
t0 = time.perf_counter()
con = duckdb.connect()
n = 0
for f in sorted(Path(sys.argv[1]).glob("*.csv")):
    if f.name == "truth.csv":
        continue
    n += con.execute(f"select count(*) from read_csv('{f}', all_varchar=true)").fetchone()[0]
print(time.perf_counter() - t0, n)
"""


def _registry(n: int) -> Path:
    path = CACHE / f"registry_{n}"
    if not (path / "patients.csv").exists():
        subprocess.run([sys.executable, "-m", "edxreview", "synth", "--patients", str(n),
                        "--seed", "7", "--out", str(path), "--force", "-q"], check=True)
    return path


def main(sizes: list[int]) -> None:
    CACHE.mkdir(exist_ok=True)
    results = {}
    for n in sizes:
        path = _registry(n)
        scan = subprocess.run([sys.executable, "-c", _SCAN, str(path)], capture_output=True,
                              text=True, check=True).stdout.split()
        run = subprocess.run([sys.executable, "-c", _CHILD, str(path)], capture_output=True,
                             text=True, check=True)
        figures = json.loads(run.stdout.strip().splitlines()[-1])
        figures["duckdb_scan_seconds"] = round(float(scan[0]), 2)
        figures["ratio_to_scan"] = round(figures["seconds"] / max(float(scan[0]), 1e-9), 1)
        results[n] = figures
        print(f"N={n:>7,}: rows {figures['rows']:>10,}  total {figures['seconds']:>7.1f} s  "
              f"peak {figures['peak_mb']:>6,} MB  DuckDB scan {figures['duckdb_scan_seconds']:.2f} s  "
              f"ratio {figures['ratio_to_scan']}×", flush=True)
        for stage, secs in figures["stages"].items():
            print(f"    {stage:<28} {secs:>7.2f} s")
    if 10000 in results and 100000 in results:
        print(f"time(100k) / time(10k) = {results[100000]['seconds'] / results[10000]['seconds']:.1f} "
              "(target ≤ 12)")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1000, 10000, 100000])
