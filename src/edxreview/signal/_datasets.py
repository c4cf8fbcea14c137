"""The real needle-EMG datasets of the evaluation (N2001, Algiers, PhysioNet): file lists with
their labels, and one pass that measures every recording (for ``tools/emg_eval.py``)."""

from __future__ import annotations

import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from edxreview.signal._analyze import analyze_recording
from edxreview.signal._classify import classify_recording, lookup_reference
from edxreview.signal._readers import read_signal

# Recording facts given by the data README (../shared/data/README.md), not reference values.
N2001_FS_HZ = 23437.5
N2001_GAIN_ADU_PER_MV = 13107.0  # 13.107 ADC units per µV
N2001_HEADER_SAMPLES = 10        # the first 20 bytes of each file are a header
N2001_AGES = {"A01": 56.0, "C01": 29.0}
N2001_MUSCLES = {"BB": "biceps_brachii", "VM": "vastus_medialis"}
N2001_GROUPS = {"A": "neurogenic", "C": "normal", "M": "myopathic"}
ALGIERS_GROUPS = {"healthy": "normal", "myopathy": "myopathic", "neuropathy": "neurogenic"}
PHYSIONET = {"emg_healthy": "normal", "emg_myopathy": "myopathic", "emg_neuropathy": "neurogenic"}


def list_recordings(data: Path) -> pd.DataFrame:
    """One row per labelled recording found under ``data`` (``../shared/data``).

    Returns
    -------
    pandas.DataFrame
        ``dataset``, ``path``, ``recording``, ``subject`` (unique across datasets), ``muscle``,
        ``truth`` (normal / neurogenic / myopathic), ``age_years`` (NaN when not known).
    """
    rows = []
    n2001 = data / "emglab-n2001"
    for f in sorted(n2001.glob("N2001*.bin")):
        s = f.name[5:8]
        rows.append(dict(dataset="n2001", path=str(f), recording=f.stem, subject=f"n2001-{s}",
                         muscle=N2001_MUSCLES[f.name[8:10]], truth=N2001_GROUPS[s[0]],
                         age_years=N2001_AGES.get(s, np.nan)))
    alg = data / "mendeley-algiers" / "MANIFEST.csv"
    if alg.is_file():
        m = pd.read_csv(alg)
        rows += [dict(dataset="algiers", path=str(alg.parent / f"{r.record}.hea"),
                      recording=r.record, subject=f"algiers-{r.subject}", muscle=r.muscle,
                      truth=ALGIERS_GROUPS[r.group], age_years=np.nan)
                 for r in m.itertuples()]
    pn = data / "physionet-emgdb"
    rows += [dict(dataset="physionet", path=str(pn / f"{k}.hea"), recording=k,
                  subject=f"physionet-{k[4:]}", muscle="tibialis_anterior", truth=v,
                  age_years=np.nan)
             for k, v in PHYSIONET.items() if (pn / f"{k}.hea").is_file()]
    return pd.DataFrame(rows)


def read_dataset_recording(row: dict):
    """Read one row of :func:`list_recordings` the way the evaluation reads it (N2001: its
    rate, gain and 20-byte header from the data README)."""
    if row["dataset"] == "n2001":
        return read_signal(row["path"], format="raw", fs_hz=N2001_FS_HZ,
                           gain_adu_per_mv=N2001_GAIN_ADU_PER_MV,
                           header_bytes=2 * N2001_HEADER_SAMPLES)
    return read_signal(row["path"])


def _measure_one(row: dict, sorting: str | None = None) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    rec = read_dataset_recording(row)
    t0 = time.process_time()
    a = analyze_recording(rec, muscle=row["muscle"], age_years=None, sorting=sorting)
    cpu = time.process_time() - t0
    s = a.summary
    # the readings of the bundled (unverified) rules as a user ran them without a reference:
    # N2001 without its gain (scale-free rules), the others calibrated; age not given
    cal_today = row["dataset"] != "n2001"
    ref = lookup_reference(row["muscle"], None)
    base = classify_recording(s, ref, cal_today)
    out = dict(row, n_units=s["n_units"], n_muaps_accepted=s["n_muaps_accepted"],
               n_muaps_rejected=s["n_muaps_rejected"], mean_duration_ms=s["mean_duration_ms"],
               mean_amplitude_uv=s["mean_amplitude_uv"], polyphasic_pct=s["polyphasic_pct"],
               baseline=base.pattern, cpu_s=round(cpu, 3), record_s=rec.samples.size / rec.fs_hz)
    m = a.muaps.drop(columns=["onset_ms", "end_ms"], errors="ignore").copy()
    m.attrs = {}
    m.insert(0, "recording", row["recording"])
    ip = a.interference.copy() if a.interference is not None else pd.DataFrame()
    ip.attrs = {}
    ip.insert(0, "recording", row["recording"])
    return out, m, ip


def measure_datasets(
    recordings: pd.DataFrame, jobs: int = 1, sorting: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Analyse every recording once: a recordings table (with the bundled rules' reading in
    ``baseline``), the table of all MUAPs and that of all interference-pattern epochs (both
    with column ``recording``)."""
    work = recordings.to_dict("records")
    if jobs > 1:
        with ProcessPoolExecutor(jobs) as ex:
            res = list(ex.map(_measure_one, work, [sorting] * len(work), chunksize=4))
    else:
        res = [_measure_one(w, sorting) for w in work]
    recs = pd.DataFrame([r for r, _, _ in res])
    muaps = pd.concat([m for _, m, _ in res if len(m)], ignore_index=True)
    epochs = pd.concat([e for _, _, e in res if len(e)] or [pd.DataFrame(columns=["recording"])],
                       ignore_index=True)
    return recs, muaps, epochs
