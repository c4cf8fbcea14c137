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
from edxreview.signal._params import load_dataset_facts
from edxreview.signal._readers import read_signal

# Recording facts and labels of the datasets (not reference values): knowledge/data/
# emg_datasets.toml, whose sidecar names the passage of the data README each was read in
_FACTS = load_dataset_facts()
N2001_FS_HZ: float = _FACTS["n2001"]["fs_hz"]
N2001_GAIN_ADU_PER_MV: float = _FACTS["n2001"]["gain_adu_per_mv"]  # ADC units per mV
N2001_HEADER_SAMPLES: int = _FACTS["n2001"]["header_samples"]      # header samples of each file
N2001_AGES: dict[str, float] = dict(_FACTS["n2001"]["age_years"])
N2001_MUSCLES: dict[str, str] = dict(_FACTS["n2001"]["muscle"])
N2001_GROUPS: dict[str, str] = dict(_FACTS["n2001"]["group"])
ALGIERS_GROUPS: dict[str, str] = dict(_FACTS["algiers"]["group"])
PHYSIONET: dict[str, str] = dict(_FACTS["physionet"]["record"])
PHYSIONET_MUSCLE: str = _FACTS["physionet"]["muscle"]
PATTICHIS_CLASSES: dict[int, str] = {int(k): v for k, v in _FACTS["pattichis"]["class"].items()}
PATTICHIS_MUSCLE: str = _FACTS["pattichis"]["muscle"]
PATTICHIS_MUAPS_PER_SUBJECT: int = _FACTS["pattichis"]["muaps_per_subject"]


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
                  subject=f"physionet-{k[4:]}", muscle=PHYSIONET_MUSCLE, truth=v,
                  age_years=np.nan)
             for k, v in PHYSIONET.items() if (pn / f"{k}.hea").is_file()]
    return pd.DataFrame(rows)


def read_dataset_recording(row: dict):
    """Read one row of :func:`list_recordings` the way the evaluation reads it (N2001: its
    rate, gain and header from ``emg_datasets.toml``)."""
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
