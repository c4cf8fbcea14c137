"""Small study workbooks for the clinical scenario tests, written from Python rows.

A :class:`Study` holds one list of row dicts per sheet of the study workbook
(``spec/study-workbook.md`` §1) and writes them as a CSV folder (one ``<sheet>.csv`` per
sheet, header = union of the row keys in first-seen order) or as an ``.xlsx`` workbook.

The ``normal_*`` helpers give a clearly normal baseline: every value sits well inside the
adult single-cut-off limits of ``domain/edx-knowledge.md`` §1.1 (amplitudes ≥ 130 % of the
lower limit, latencies ≤ 85 % of the upper limit, velocities comfortably above the lower
limit), at normal limb temperature. A scenario starts from that baseline and overrides the few
rows its clinical picture needs (:meth:`Study.set_motor`, :meth:`Study.set_sensory`,
:meth:`Study.set_emg`, ...).

Spellings are deliberately the ones clinicians type (``APB``, ``Tib ant``, ``below elbow``,
``popliteal fossa``, ``2+``, ``yes``); the reader is expected to accept them.
"""

from __future__ import annotations

import copy
import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

SHEETS = ("patients", "ncs_motor", "ncs_sensory", "f_waves", "blink_reflex", "emg", "mri")

NR = "NR"  # no response: an abnormal finding, not a missing value (spec §1)

HAND_TEMPERATURE_C = 33.0  # hand ≥ 32 °C (guide, global caveats)
FOOT_TEMPERATURE_C = 31.5  # foot ≥ 30 °C

# Normal motor conduction, per nerve: recording muscle, distal site (name, distance_mm,
# onset latency_ms, amplitude_mv), then proximal segments (site, segment distance_mm,
# velocity_m_s, amplitude_mv).  Against §1.1: median 9.0 mV / 3.4 ms / 58 m/s (LLN 4 mV,
# ULN 4.4 ms, LLN 49 m/s); ulnar 10 mV / 2.8 ms / 60-62 m/s (6 mV, 3.3 ms, 49 m/s); peroneal
# 6 mV / 4.5 ms / 50 m/s (2 mV, 6.4 ms, 41 m/s); tibial 12 mV / 4.2 ms / 48 m/s (6.3 mV under
# 30 y, 6.1 ms, 41 m/s).  Proximal amplitude falls stay under 15 %.
NORMAL_MOTOR: dict[str, dict] = {
    "median": {
        "recording": "APB",
        "distal": ("wrist", 70, 3.4, 9.0),
        "proximal": [("elbow", 240, 58.0, 8.6)],
        "temperature_c": HAND_TEMPERATURE_C,
    },
    "ulnar": {
        "recording": "ADM",
        "distal": ("wrist", 70, 2.8, 10.0),
        "proximal": [("below elbow", 220, 62.0, 9.7), ("above elbow", 100, 60.0, 9.5)],
        "temperature_c": HAND_TEMPERATURE_C,
    },
    "peroneal": {
        "recording": "EDB",
        "distal": ("ankle", 90, 4.5, 6.0),
        "proximal": [("below fibular head", 300, 50.0, 5.7), ("popliteal fossa", 100, 50.0, 5.6)],
        "temperature_c": FOOT_TEMPERATURE_C,
    },
    "tibial": {
        "recording": "AH",
        "distal": ("ankle", 90, 4.2, 12.0),
        "proximal": [("popliteal fossa", 400, 48.0, 10.5)],
        "temperature_c": FOOT_TEMPERATURE_C,
    },
}

# Normal antidromic SNAPs: distance_mm, peak latency_ms, amplitude_uv, velocity_m_s.
# Against §1.1: median 35 µV / 2.9 ms (LLN 20 µV, ULN 3.5 ms); ulnar 30 µV / 2.6 ms (17 µV,
# 3.1 ms); radial 28 µV / 2.3 ms (15 µV, 2.9 ms); sural 15 µV / 3.5 ms (6 µV under 61 y, 4.4 ms);
# superficial peroneal 12 µV / 3.2 ms (6 µV, 4.4 ms); velocities ≥ 116 % of LLN (50 / 40 m/s).
NORMAL_SENSORY: dict[str, dict] = {
    "median": {"distance_mm": 130, "latency_ms": 2.9, "amplitude_uv": 35.0,
               "velocity_m_s": 58.0, "temperature_c": HAND_TEMPERATURE_C},
    "ulnar": {"distance_mm": 110, "latency_ms": 2.6, "amplitude_uv": 30.0,
              "velocity_m_s": 58.0, "temperature_c": HAND_TEMPERATURE_C},
    "radial": {"distance_mm": 100, "latency_ms": 2.3, "amplitude_uv": 28.0,
               "velocity_m_s": 58.0, "temperature_c": HAND_TEMPERATURE_C},
    "sural": {"distance_mm": 140, "latency_ms": 3.5, "amplitude_uv": 15.0,
              "velocity_m_s": 48.0, "temperature_c": FOOT_TEMPERATURE_C},
    "superficial peroneal": {"distance_mm": 120, "latency_ms": 3.2, "amplitude_uv": 12.0,
                             "velocity_m_s": 48.0, "temperature_c": FOOT_TEMPERATURE_C},
}

# Normal minimum F-wave latencies (ULN median 31, ulnar 32, peroneal 56, tibial 55.2 ms).
NORMAL_F_WAVES: dict[str, tuple[float, float]] = {
    "median": (26.0, 80.0),
    "ulnar": (26.5, 85.0),
    "peroneal": (46.0, 60.0),
    "tibial": (47.0, 90.0),
}

NORMAL_BLINK = {"r1_ms": 10.5, "r2_ipsi_ms": 30.5, "r2_contra_ms": 31.0}

# A routine screen: proximal and distal, arm and leg.
DEFAULT_MUSCLES = (
    "Deltoid",
    "Biceps brachii",
    "Triceps",
    "First dorsal interosseous",
    "APB",
    "Vastus lateralis",
    "Tibialis anterior",
    "Medial gastrocnemius",
)

NORMAL_MUSCLE = {
    "insertional": "normal",
    "fibs": "0",
    "psw": "0",
    "fasciculations": "absent",
    "muap_amplitude": "normal",
    "muap_duration": "normal",
    "polyphasia": "normal",
    "recruitment": "normal",
}

# Needle findings, to be merged into a muscle row.
ACUTE = {"fibs": "2+", "psw": "2+", "recruitment": "reduced"}
CHRONIC = {"muap_duration": "increased", "muap_amplitude": "increased",
           "polyphasia": "increased", "recruitment": "reduced"}
ACUTE_AND_CHRONIC = {**ACUTE, **CHRONIC}
MYOPATHIC = {"muap_duration": "decreased", "muap_amplitude": "decreased",
             "polyphasia": "increased", "recruitment": "early"}


def _matches(row: dict, where: dict) -> bool:
    return all(row.get(key) == value for key, value in where.items())


@dataclass
class Study:
    """Rows per sheet of one study workbook; combine studies with ``+``."""

    sheets: dict[str, list[dict]] = field(default_factory=lambda: {s: [] for s in SHEETS})

    def __add__(self, other: Study) -> Study:
        merged = copy.deepcopy(self)
        for sheet, rows in other.sheets.items():
            merged.sheets.setdefault(sheet, []).extend(copy.deepcopy(rows))
        return merged

    def add(self, sheet: str, *rows: dict) -> Study:
        self.sheets.setdefault(sheet, []).extend(rows)
        return self

    def rows(self, sheet: str, **where) -> list[dict]:
        return [row for row in self.sheets.get(sheet, []) if _matches(row, where)]

    def update(self, sheet: str, where: dict, **changes) -> Study:
        """Change fields of every row matching ``where``; at least one must match."""
        hits = self.rows(sheet, **where)
        assert hits, f"no {sheet} row matches {where!r}"
        for row in hits:
            row.update(changes)
        return self

    def remove(self, sheet: str, **where) -> Study:
        self.sheets[sheet] = [r for r in self.sheets.get(sheet, []) if not _matches(r, where)]
        return self

    def _replace(self, sheet: str, where: dict, new_rows: list[dict]) -> Study:
        rows = self.sheets.setdefault(sheet, [])
        positions = [i for i, row in enumerate(rows) if _matches(row, where)]
        kept = [row for row in rows if not _matches(row, where)]
        at = positions[0] if positions else len(kept)  # where the first replaced row stood
        self.sheets[sheet] = kept[:at] + new_rows + kept[at:]
        return self

    # -- scenario overrides ------------------------------------------------------------
    def set_motor(self, patient_id: str, nerve: str, side: str, *, spelled: str | None = None,
                  **values) -> Study:
        """Replace the motor study of ``nerve``/``side`` (see :func:`motor_rows`)."""
        new = motor_rows(patient_id, nerve, side, spelled=spelled, **values)
        return self._replace("ncs_motor", {"patient_id": patient_id, "nerve": nerve,
                                           "side": side}, new)

    def set_sensory(self, patient_id: str, nerve: str, side: str, **values) -> Study:
        """Replace (or add) the SNAP of ``nerve``/``side``; NR amplitude also blanks velocity."""
        row = sensory_row(patient_id, nerve, side, **values)
        return self._replace("ncs_sensory", {"patient_id": patient_id, "nerve": nerve,
                                             "side": side}, [row])

    def set_f_wave(self, patient_id: str, nerve: str, side: str, min_latency_ms,
                   persistence_pct: float | None = None) -> Study:
        row = {"patient_id": patient_id, "nerve": nerve, "side": side,
               "min_latency_ms": min_latency_ms,
               "persistence_pct": NORMAL_F_WAVES[nerve][1] if persistence_pct is None
               else persistence_pct}
        return self._replace("f_waves", {"patient_id": patient_id, "nerve": nerve,
                                         "side": side}, [row])

    def set_emg(self, patient_id: str, muscle: str, side: str, *, spelled: str | None = None,
                **findings) -> Study:
        """Set the findings of one muscle, adding a normal row for it first if absent.

        ``spelled`` renames the muscle as written in the workbook (e.g. ``FDI``).
        """
        where = {"patient_id": patient_id, "muscle": muscle, "side": side}
        if not self.rows("emg", **where):
            self.add("emg", emg_row(patient_id, muscle, side))
        self.update("emg", where, **findings)
        if spelled is not None:
            self.update("emg", where, muscle=spelled)
        return self

    def add_mri(self, patient_id: str, region: str, level_from: str = "", level_to: str = "",
                **extra) -> Study:
        return self.add("mri", {"patient_id": patient_id, "region": region,
                                "level_from": level_from, "level_to": level_to, **extra})

    # -- output ------------------------------------------------------------------------
    def write_csv(self, folder: Path) -> Path:
        """Write one UTF-8 ``<sheet>.csv`` per non-empty sheet into ``folder``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for sheet, rows in self.sheets.items():
            if not rows:
                continue
            header = _union_of_keys(rows)
            with open(folder / f"{sheet}.csv", "w", newline="", encoding="utf-8") as handle:
                writer = csv.DictWriter(handle, fieldnames=header)
                writer.writeheader()
                for row in rows:
                    writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
        return folder

    def write_xlsx(self, path: Path) -> Path:
        """Write the same sheets into one ``.xlsx`` workbook (numbers stay numbers)."""
        path = Path(path)
        with pd.ExcelWriter(path, engine="openpyxl") as writer:
            for sheet, rows in self.sheets.items():
                if rows:
                    frame = pd.DataFrame(rows, columns=_union_of_keys(rows))
                    frame.to_excel(writer, sheet_name=sheet, index=False)
        return path


def _union_of_keys(rows: Iterable[dict]) -> list[str]:
    header: list[str] = []
    for row in rows:
        header.extend(key for key in row if key not in header)
    return header


# -- rows ------------------------------------------------------------------------------
def patient(patient_id: str, *, age: float = 45, sex: str = "F", height_cm: float = 168,
            **extra) -> dict:
    return {"patient_id": patient_id, "sex": sex, "age_years": age, "height_cm": height_cm,
            **extra}


def motor_rows(patient_id: str, nerve: str, side: str, *, spelled: str | None = None,
               dml_ms=None, amplitudes_mv: Sequence | None = None,
               velocities_m_s: Sequence | None = None, recording: str | None = None,
               stim_site: str = "stylomastoid") -> list[dict]:
    """One row per stimulation site, distal first, latencies consistent with the velocities.

    Defaults come from :data:`NORMAL_MOTOR`; a nerve without a default there (``facial``)
    gets one distal row at ``stim_site``.  An amplitude ``NR`` makes that site's latency NR.
    """
    base = NORMAL_MOTOR.get(nerve)
    if base is None:
        sites = [(stim_site, None)]
        distal_latency, temperature = dml_ms, None
        distal_distance = None
    else:
        distal_site, distal_distance, normal_dml, _ = base["distal"]
        sites = [(distal_site, distal_distance)] + [(s, d) for s, d, _, _ in base["proximal"]]
        distal_latency = normal_dml if dml_ms is None else dml_ms
        temperature = base["temperature_c"]
        recording = recording or base["recording"]
    if amplitudes_mv is None:
        amplitudes_mv = [base["distal"][3]] + [a for *_, a in base["proximal"]]
    if velocities_m_s is None:
        velocities_m_s = [v for _, _, v, _ in base["proximal"]] if base else []
    assert len(amplitudes_mv) == len(sites), (nerve, amplitudes_mv, sites)
    assert len(velocities_m_s) == len(sites) - 1, (nerve, velocities_m_s, sites)

    rows, latency = [], distal_latency
    for i, ((site, distance), amplitude) in enumerate(zip(sites, amplitudes_mv)):
        velocity = None if i == 0 else velocities_m_s[i - 1]
        if i > 0 and latency != NR:
            latency = round(latency + distance / velocity, 2)
        row = {"patient_id": patient_id, "nerve": spelled or nerve, "side": side,
               "stim_site": site, "recording_site": recording,
               "latency_ms": NR if amplitude == NR else latency,
               "amplitude_mv": amplitude,
               "velocity_m_s": None if amplitude == NR else velocity,
               "distance_mm": distance, "temperature_c": temperature}
        rows.append(row)
        if amplitude == NR:
            latency = NR
    return rows


def sensory_row(patient_id: str, nerve: str, side: str, **values) -> dict:
    """A SNAP row: the normal values of ``nerve`` overridden by ``values``."""
    row = {"patient_id": patient_id, "nerve": nerve, "side": side,
           **NORMAL_SENSORY.get(nerve, {})}
    row.update(values)
    if row.get("amplitude_uv") == NR:
        row.update(latency_ms=NR, velocity_m_s=None)
    return row


def emg_row(patient_id: str, muscle: str, side: str, **findings) -> dict:
    return {"patient_id": patient_id, "muscle": muscle, "side": side,
            **NORMAL_MUSCLE, **findings}


# -- normal baselines ------------------------------------------------------------------
def normal_ncs(patient_id: str, sides: Sequence[str] = ("R",)) -> Study:
    """Clearly normal motor (with F-waves) and sensory studies of arm and leg, per side."""
    study = Study()
    for side in sides:
        for nerve in NORMAL_MOTOR:
            study.add("ncs_motor", *motor_rows(patient_id, nerve, side))
        for nerve in NORMAL_SENSORY:
            study.add("ncs_sensory", sensory_row(patient_id, nerve, side))
        for nerve, (latency, persistence) in NORMAL_F_WAVES.items():
            study.add("f_waves", {"patient_id": patient_id, "nerve": nerve, "side": side,
                                  "min_latency_ms": latency, "persistence_pct": persistence})
    return study


def normal_emg(patient_id: str, muscles: Sequence[str] = DEFAULT_MUSCLES,
               sides: Sequence[str] = ("R",)) -> Study:
    """Normal needle findings (no spontaneous activity, normal MUAPs) in every muscle."""
    return Study().add("emg", *(emg_row(patient_id, m, s) for s in sides for m in muscles))


def normal_patient(patient_id: str, *, age: float = 45, sex: str = "F",
                   sides: Sequence[str] = ("R",), muscles: Sequence[str] = DEFAULT_MUSCLES,
                   **patient_fields) -> Study:
    """A complete, entirely normal one-patient study (patient row, NCS, F-waves, EMG)."""
    study = Study().add("patients", patient(patient_id, age=age, sex=sex, **patient_fields))
    return study + normal_ncs(patient_id, sides) + normal_emg(patient_id, muscles, sides)
