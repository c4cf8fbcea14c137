"""Registry-scale benchmark: a synthetic registry reviewed end to end (review, output tables
as CSV or Parquet, report), with its seconds, peak memory of the whole process tree, cores used, the ratio to a
bare DuckDB scan of the same input, and the agreement with the generator's truth.

Usage::

    python benchmarks/scale.py [N ...] [--jobs J] [--input dataset|csv]
                               [--output-format csv|parquet]

(default N: 100000 1000000). Registries are generated once with ``edxreview synth`` into
``benchmarks/.cache/`` (ignored by git): ``--input dataset`` (default) a hive-partitioned
Parquet dataset of one bucket per 10,000 patients, ``--input csv`` a folder of CSV sheets.
Each review runs in a fresh process tree, sampled every 0.1 s for its resident memory (the
command and all its workers together, and the command's own process alone).

Timings depend on the machine and on what else runs on it: report them with the machine.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import duckdb
import psutil

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
FLAGS = ["emg_denervation", "ncs_neuropathy", "denervation_explained_by_ncs",
         "ncs_abnormal_without_denervation", "lmn_involvement", "lmn_with_corresponding_mri"]
SHEETS = ["patients", "ncs_motor", "ncs_sensory", "f_waves", "blink_reflex", "emg", "mri"]
PATIENTS_PER_BUCKET = 10_000


def registry(n: int, kind: str) -> Path:
    """The cached registry of ``n`` patients (generated on first use)."""
    path = CACHE / f"registry_{kind}_{n}"
    if not (path / "truth.csv").exists():
        cmd = [sys.executable, "-m", "edxreview", "synth", "--patients", str(n), "--seed", "7",
               "--out", str(path), "--force", "-q"]
        if kind == "dataset":
            cmd += ["--format", "parquet", "--partitions",
                    str(max(1, math.ceil(n / PATIENTS_PER_BUCKET)))]
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True)
        print(f"  generated {n:,} patients ({kind}) in {time.perf_counter() - t0:.0f} s",
              flush=True)
    return path


def duckdb_scan(path: Path, kind: str) -> float:
    """Seconds DuckDB takes to read every column of every sheet once (no review)."""
    t0 = time.perf_counter()
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    for sheet in SHEETS:
        source = (f"read_parquet('{path}/{sheet}/*/*.parquet')" if kind == "dataset"
                  else f"read_csv('{path}/{sheet}.csv', all_varchar = true)")
        con.execute(f"SELECT max(COLUMNS(*)) FROM {source}").fetchall()
    con.close()
    return time.perf_counter() - t0


class TreeMemory:
    """Peak resident memory of a process and all its descendants, sampled every 0.1 s: the
    sum of their resident sets (RSS), and the sum of their proportional sets (PSS, where
    the Linux kernel gives it: a page shared by several processes, such as a forked copy's,
    counted once in all)."""

    def __init__(self, pid: int):
        self.root = psutil.Process(pid)
        self.peak = 0
        self.pss_peak = 0       # 0 where the platform gives no PSS
        self.root_peak = 0      # the command's own process (without its workers)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            total = pss = 0
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.Error:
                break
            for p in procs:
                try:
                    info = p.memory_full_info()
                except psutil.Error:
                    continue
                total += info.rss
                pss += getattr(info, "pss", 0)
                if p.pid == self.root.pid:
                    self.root_peak = max(self.root_peak, info.rss)
            self.peak = max(self.peak, total)
            self.pss_peak = max(self.pss_peak, pss)
            self._stop.wait(0.1)

    def __enter__(self) -> "TreeMemory":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def review(path: Path, out: Path, jobs: int | None, output_format: str = "csv") -> dict:
    cmd = [sys.executable, "-m", "edxreview", "run", str(path), "--out", str(out), "--force",
           "-q", "--output-format", output_format] + (["--jobs", str(jobs)] if jobs else [])
    before = os.times()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    with TreeMemory(proc.pid) as mem:
        _, err = proc.communicate()
    seconds = time.perf_counter() - t0
    after = os.times()
    if proc.returncode:
        raise SystemExit(f"edxreview run failed ({proc.returncode}): {err.decode()[-2000:]}")
    cpu = (after.children_user - before.children_user) + (after.children_system
                                                         - before.children_system)
    return {"seconds": seconds, "peak_bytes": mem.peak, "pss_peak_bytes": mem.pss_peak,
            "command_peak_bytes": mem.root_peak,
            "cpu_seconds": cpu, "cores_used": cpu / seconds, "load": os.getloadavg()[0]}


def agreement(out: Path, truth: Path) -> tuple[int, int]:
    """Patients whose six classifications all equal the truth, and patients compared (from
    ``patients.csv`` or ``patients.parquet``, whichever the review wrote)."""
    same = " AND ".join(f"lower(CAST(p.{c} AS VARCHAR)) = lower(CAST(t.{c} AS VARCHAR))"
                        for c in FLAGS)
    patients = (f"read_parquet('{out}/patients.parquet')"
                if (out / "patients.parquet").exists()
                else f"read_csv('{out}/patients.csv', all_varchar = true)")
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    agree, total = con.execute(
        f"SELECT count(*) FILTER (WHERE {same}), count(*) "
        f"FROM {patients} p "
        f"JOIN read_csv('{truth}', all_varchar = true) t USING (patient_id)").fetchone()
    con.close()
    return int(agree), int(total)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[100_000, 1_000_000])
    parser.add_argument("--jobs", type=int, default=None, help="default: all cores")
    parser.add_argument("--input", choices=["dataset", "csv"], default="dataset")
    parser.add_argument("--output-format", choices=["csv", "parquet"], default="csv",
                        help="the review's tables as CSV files or Parquet datasets")
    parser.add_argument("--keep", action="store_true", help="keep the output folders")
    args = parser.parse_args()
    CACHE.mkdir(exist_ok=True)
    print(f"machine: {os.cpu_count()} cores, "
          f"{psutil.virtual_memory().total / 1024**3:.0f} GB; load average "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
    results = {}
    for n in args.sizes:
        path = registry(n, args.input)
        scan = duckdb_scan(path, args.input)
        out = Path(tempfile.mkdtemp(prefix="edxreview-bench-")) / "review"
        try:
            figures = review(path, out, args.jobs, args.output_format)
            agree, total = agreement(out, path / "truth.csv")
        finally:
            if not args.keep:
                shutil.rmtree(out.parent, ignore_errors=True)
        figures.update(scan_seconds=scan, agree=agree, compared=total)
        results[n] = figures
        print(f"N={n:>9,}: {figures['seconds']:7.1f} s  peak {figures['peak_bytes'] / 1024**3:5.2f} GB"
              f" (process tree; PSS {figures['pss_peak_bytes'] / 1024**3:.2f} GB;"
              f" command alone {figures['command_peak_bytes'] / 1024**3:.2f} GB)"
              f"  cores used {figures['cores_used']:.2f}  load average after "
              f"{figures['load']:.1f}  DuckDB scan "
              f"{scan:.2f} s  ratio {figures['seconds'] / max(scan, 1e-9):.0f}×  agreement "
              f"{agree:,}/{total:,} ({100 * agree / max(total, 1):.2f} %)", flush=True)
    if 100_000 in results and 1_000_000 in results:
        print(f"t(1M)/t(100k) = "
              f"{results[1_000_000]['seconds'] / results[100_000]['seconds']:.1f} (target ≤ 11)")


if __name__ == "__main__":
    main()
