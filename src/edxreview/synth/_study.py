"""The synthetic study under construction: baseline (normal) draws and conversion to sheets.

A :class:`SynthStudy` holds one table per kind of measurement in a *wide* layout that scenario
builders can edit with boolean masks (one motor row per patient, nerve and side, with the
distal latency, distal amplitude and per-segment velocities and amplitude ratios). Everything is
drawn for all patients at once; :func:`to_sheets` expands the wide tables into the workbook's
long sheets (one motor row per stimulation site) and writes display spellings.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

from .._errors import EdxreviewError
from ..knowledge._tables import load_segments, vertebral_levels
from ._draw import (
    draw_categories,
    draw_exact_categories,
    draw_truncated_normal,
    round_within,
    sample_rows_without_replacement,
)

#: vertebral body levels, rostral first (the knowledge table's order)
VERTEBRAE: tuple[str, ...] = vertebral_levels()
_AXIS = load_segments()
#: spinal cord segments C1 … S5 on the knowledge axis (brainstem levels and Co left out)
SEGMENTS: tuple[str, ...] = tuple(
    _AXIS.index[_AXIS["region"].isin(["cervical", "thoracic", "lumbar", "sacral"])])

MOTOR_COLUMNS = ["patient_id", "nerve", "side", "nr", "latency_ms", "amplitude_mv", "velocity_1_m_s",
                 "velocity_2_m_s", "ratio_1", "ratio_2", "temperature_c", "required"]
SENSORY_COLUMNS = ["patient_id", "nerve", "side", "nr", "latency_ms", "amplitude_uv", "velocity_m_s",
                   "distance_mm", "temperature_c", "required"]
FWAVE_COLUMNS = ["patient_id", "nerve", "side", "min_latency_ms", "persistence_pct"]
BLINK_COLUMNS = ["patient_id", "side", "r1_ms", "r2_ipsi_ms", "r2_contra_ms"]
EMG_COLUMNS = ["patient_id", "muscle", "side", "insertional", "fibs", "psw", "fasciculations",
               "muap_amplitude", "muap_duration", "polyphasia", "recruitment", "required"]
MRI_COLUMNS = ["patient_id", "region", "level_from", "level_to", "location", "enhancement"]


@lru_cache(maxsize=None)
def _load_default_patterns() -> str:
    return resources.files("edxreview.synth").joinpath("patterns.toml").read_text(encoding="utf-8")


def load_patterns(path=None) -> dict[str, Any]:
    """Read the generator's parameters (``patterns.toml`` next to this module by default).

    Parameters
    ----------
    path : str or Path, optional
        Another TOML file with the same layout.

    Returns
    -------
    dict
    """
    text = _load_default_patterns() if path is None else open(path, encoding="utf-8").read()
    params = tomllib.loads(text)
    for key in ("anchors", "margins", "demographics", "protocol", "motor", "sensory", "muscles",
                "scenarios"):
        if key not in params:
            raise EdxreviewError(f"synthetic patterns file lacks the [{key}] table; "
                                 "start from edxreview/synth/patterns.toml")
    return params


@dataclass
class SynthStudy:
    """Wide tables of one synthetic cohort while it is being built."""

    patients: pd.DataFrame
    motor: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=MOTOR_COLUMNS))
    sensory: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=SENSORY_COLUMNS))
    fwave: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=FWAVE_COLUMNS))
    blink: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=BLINK_COLUMNS))
    emg: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=EMG_COLUMNS))
    mri: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=MRI_COLUMNS))


# ----------------------------------------------------------------------------------------------
# demographics
# ----------------------------------------------------------------------------------------------

def draw_patients(rng: np.random.Generator, scenarios: np.ndarray, params: dict[str, Any],
                  id_prefix: str = "NMO", exact: bool = True) -> pd.DataFrame:
    """Demographics and clinical signs for patients of the given latent scenarios.

    Parameters
    ----------
    rng : numpy.random.Generator
    scenarios : array of str
        Latent scenario of each patient, in patient order.
    params : dict
        :func:`load_patterns` output.
    id_prefix : str
        Patient ids are ``f"{id_prefix}-{k:03d}"`` (wider when needed).
    exact : bool
        Draw categorical demographics (sex, antibodies) in exact proportions (largest remainder)
        rather than independently; right for a small showcase cohort.

    Returns
    -------
    pandas.DataFrame
        One row per patient, with the latent ``scenario`` column (never written to a sheet).
    """
    d = params["demographics"]
    n = len(scenarios)
    width = max(3, len(str(n)))
    cat = (lambda props: draw_exact_categories(rng, n, props)) if exact else (
        lambda props: draw_categories(rng, props, n))
    sex = cat({"F": d["female_proportion"], "M": 1.0 - d["female_proportion"]})

    sc = params["scenarios"]
    age_lo = np.array([sc[s].get("age_years", [d["age_years"]["min"]] * 2)[0] for s in scenarios], float)
    age_hi = np.array([sc[s].get("age_years", [0, d["age_years"]["max"]])[1] for s in scenarios], float)
    age = np.floor(draw_truncated_normal(rng, d["age_years"]["mean"], d["age_years"]["sd"],
                                         age_lo, age_hi + 0.999)).astype(int)

    hf, hm = d["height_cm_female"], d["height_cm_male"]
    female = sex == "F"
    height = np.round(draw_truncated_normal(
        rng, np.where(female, hf["mean"], hm["mean"]), np.where(female, hf["sd"], hm["sd"]),
        np.where(female, hf["min"], hm["min"]), np.where(female, hf["max"], hm["max"])))

    aqp4 = cat(d["aqp4_igg"])
    mog = np.where(aqp4 == "negative", draw_categories(rng, d["mog_igg_if_aqp4_negative"], n),
                   draw_categories(rng, d["mog_igg_otherwise"], n))

    dd = d["disease_duration_months"]
    duration = np.exp(np.log(dd["median"]) + dd["log_sd"] * rng.standard_normal(n))
    duration = np.clip(np.round(duration), dd["min"], dd["max"]).astype(int)

    lmn = np.array([bool(sc[s].get("lmn_signs", False)) for s in scenarios])
    e = d["edss"]
    edss = draw_truncated_normal(rng, e["mean"] + lmn * e["lmn_shift"], e["sd"], e["min"], e["max"])
    edss = np.clip(np.round(edss * 2) / 2, e["min"], e["max"])

    signs = {}
    for sign in ("weakness", "atrophy", "hyporeflexia"):
        p = np.where(lmn, d["signs"]["lmn"][sign], d["signs"]["other"][sign])
        signs[sign] = rng.random(n) < p

    t = params["temperature"]
    hand = draw_truncated_normal(rng, t["hand_c"]["mean"], t["hand_c"]["sd"], t["hand_c"]["min"],
                                 t["hand_c"]["max"], n)
    foot = draw_truncated_normal(rng, t["foot_c"]["mean"], t["foot_c"]["sd"], t["foot_c"]["min"],
                                 t["foot_c"]["max"], n)
    return pd.DataFrame({
        "patient_id": [f"{id_prefix}-{k:0{width}d}" for k in range(1, n + 1)],
        "scenario": np.asarray(scenarios, dtype=object),
        "sex": sex, "age_years": age, "height_cm": height.astype(int), "diagnosis": "NMOSD",
        "aqp4_igg": aqp4, "mog_igg": mog, "disease_duration_months": duration, "edss": edss,
        **signs,
        "hand_temperature_c": round_within(hand, 1, t["hand_c"]["min"], t["hand_c"]["max"]),
        "foot_temperature_c": round_within(foot, 1, t["foot_c"]["min"], t["foot_c"]["max"]),
    })


# ----------------------------------------------------------------------------------------------
# normal nerve conduction, F-waves, blink reflex
# ----------------------------------------------------------------------------------------------

def _limb_temperature(patients: pd.DataFrame, ids: pd.Series, limb: str) -> np.ndarray:
    if limb == "head":
        return np.full(len(ids), np.nan)
    col = "hand_temperature_c" if limb == "upper" else "foot_temperature_c"
    return ids.map(patients.set_index("patient_id")[col]).to_numpy(float)


def draw_motor_normal(rng: np.random.Generator, keys: pd.DataFrame, patients: pd.DataFrame,
                      params: dict[str, Any]) -> pd.DataFrame:
    """Normal motor studies for ``keys`` (columns patient_id, nerve, side), all values drawn
    inside the normal margins of the design anchors."""
    m = params["margins"]
    common = params["motor_common"]
    parts = []
    for nerve, rows in keys.groupby("nerve", sort=True):
        g, a = params["motor"][nerve], params["anchors"]["motor"][nerve]
        n = len(rows)
        lat_hi = a["latency_ms_uln"] * m["normal_max_fraction_of_uln"]
        lat = draw_truncated_normal(rng, g["latency_ms"]["mean"], g["latency_ms"]["sd"],
                                    g["latency_ms"]["min"], lat_hi, n)
        amp_lo = a["amplitude_mv_lln"] * m["normal_motor_distal_min_fraction_of_lln"]
        amp = draw_truncated_normal(rng, g["amplitude_mv"]["mean"], g["amplitude_mv"]["sd"], amp_lo,
                                    g["amplitude_mv"]["max"], n)
        out = rows[["patient_id", "nerve", "side"]].copy()
        out["nr"] = False
        out["latency_ms"] = round_within(lat, 2, g["latency_ms"]["min"], lat_hi)
        out["amplitude_mv"] = round_within(amp, 1, amp_lo, g["amplitude_mv"]["max"])
        n_prox = len(g["sites"]) - 1
        cv_lo = a.get("velocity_m_s_lln", 0.0) * m["normal_min_fraction_of_lln"]
        ratio = common["proximal_amplitude_ratio"]
        delta = common["segment_velocity_delta_m_s"]
        cv1 = draw_truncated_normal(rng, g["velocity_m_s"]["mean"], g["velocity_m_s"]["sd"], cv_lo,
                                    g["velocity_m_s"]["max"], n)
        d2 = draw_truncated_normal(rng, 0.0, delta["sd"], -delta["max_abs"], delta["max_abs"], n)
        cv2 = np.clip(cv1 + d2, cv_lo, g["velocity_m_s"]["max"])
        r1, r2 = (rng.uniform(ratio["min"], ratio["max"], n) for _ in range(2))
        out["velocity_1_m_s"] = round_within(cv1, 1, cv_lo) if n_prox >= 1 else np.nan
        out["velocity_2_m_s"] = round_within(cv2, 1, cv_lo) if n_prox >= 2 else np.nan
        out["ratio_1"] = r1 if n_prox >= 1 else np.nan
        out["ratio_2"] = r2 if n_prox >= 2 else np.nan
        if nerve == "facial":   # the second side is a fraction of the first: no false asymmetry
            first = out.groupby("patient_id")["amplitude_mv"].transform("first").to_numpy()
            is_first = ~out.duplicated("patient_id").to_numpy()
            sr = g["side_ratio"]
            other = round_within(first * rng.uniform(sr["min"], sr["max"], n), 1, amp_lo)
            out["amplitude_mv"] = np.where(is_first, out["amplitude_mv"], other)
        out["temperature_c"] = _limb_temperature(patients, out["patient_id"], g["limb"])
        out["required"] = False
        parts.append(out)
    return _concat(parts, MOTOR_COLUMNS)


def draw_sensory_normal(rng: np.random.Generator, keys: pd.DataFrame, patients: pd.DataFrame,
                        params: dict[str, Any]) -> pd.DataFrame:
    """Normal antidromic sensory studies for ``keys`` (patient_id, nerve, side)."""
    m = params["margins"]
    rise = params["sensory_common"]["rise_time_ms"]
    parts = []
    for nerve, rows in keys.groupby("nerve", sort=True):
        g, a = params["sensory"][nerve], params["anchors"]["sensory"][nerve]
        n = len(rows)
        amp_lo = a["amplitude_uv_lln"] * m["normal_min_fraction_of_lln"]
        cv_lo = a["velocity_m_s_lln"] * m["normal_min_fraction_of_lln"]
        lat_hi = a["latency_ms_uln"] * m["normal_max_fraction_of_uln"]
        amp = draw_truncated_normal(rng, g["amplitude_uv"]["mean"], g["amplitude_uv"]["sd"], amp_lo,
                                    g["amplitude_uv"]["max"], n)
        cv = round_within(draw_truncated_normal(rng, g["velocity_m_s"]["mean"], g["velocity_m_s"]["sd"],
                                                cv_lo, g["velocity_m_s"]["max"], n), 1, cv_lo)
        rt = draw_truncated_normal(rng, rise["mean"], rise["sd"], rise["min"], rise["max"], n)
        out = rows[["patient_id", "nerve", "side"]].copy()
        out["nr"] = False
        out["latency_ms"] = round_within(g["distance_mm"] / cv + rt, 2, 0.0, lat_hi)
        out["amplitude_uv"] = round_within(amp, 1, amp_lo)
        out["velocity_m_s"] = cv
        out["distance_mm"] = float(g["distance_mm"])
        out["temperature_c"] = _limb_temperature(patients, out["patient_id"], g["limb"])
        out["required"] = False
        parts.append(out)
    return _concat(parts, SENSORY_COLUMNS)


def draw_fwave_normal(rng: np.random.Generator, keys: pd.DataFrame, patients: pd.DataFrame,
                      params: dict[str, Any]) -> pd.DataFrame:
    """Normal minimum F-wave latencies, rising with height, for ``keys``."""
    m = params["margins"]
    pers = params["f_waves"]["persistence_pct"]
    height = keys["patient_id"].map(patients.set_index("patient_id")["height_cm"]).to_numpy(float)
    parts = []
    for nerve, rows in keys.groupby("nerve", sort=True):
        g = params["motor"][nerve]["f_latency_ms"]
        h = height[keys.index.get_indexer(rows.index)]
        uln = (params["anchors"]["motor"][nerve]["f_latency_ms_uln"]
               + g["slope_ms_per_cm"] * (h - params["anchors"]["f_height_ref_cm"]))
        hi = uln * m["normal_f_max_fraction_of_uln"]
        mean = g["mean_at_165_cm"] + g["slope_ms_per_cm"] * (h - 165.0)
        lat = draw_truncated_normal(rng, mean, g["sd"], g["min"], hi)
        out = rows[["patient_id", "nerve", "side"]].copy()
        out["min_latency_ms"] = round_within(lat, 1, g["min"], hi)
        out["persistence_pct"] = rng.integers(pers["min"], pers["max"] + 1, len(rows)).astype(float)
        parts.append(out)
    return _concat(parts, FWAVE_COLUMNS)


def draw_blink_normal(rng: np.random.Generator, patient_ids: np.ndarray,
                      params: dict[str, Any]) -> pd.DataFrame:
    """Normal blink reflexes, both sides stimulated, for each patient id."""
    b, a, m = params["blink"], params["anchors"]["blink"], params["margins"]
    f = m["normal_max_fraction_of_uln"]
    n = len(patient_ids)
    r1_base = draw_truncated_normal(rng, b["r1_ms"]["mean"], b["r1_ms"]["sd"], b["r1_ms"]["min"],
                                    a["r1_ms_uln"] * f - b["r1_ms"]["side_jitter"], n)
    r2_base = draw_truncated_normal(rng, b["r2_ms"]["mean"], b["r2_ms"]["sd"], b["r2_ms"]["min"],
                                    a["r2_ipsi_ms_uln"] * f - b["r2_ms"]["side_jitter"], n)
    ids = np.repeat(np.asarray(patient_ids, dtype=object), 2)
    sides = np.tile(np.array(["L", "R"], dtype=object), n)
    r1 = np.repeat(r1_base, 2) + rng.uniform(-1, 1, 2 * n) * b["r1_ms"]["side_jitter"]
    r2i = np.repeat(r2_base, 2) + rng.uniform(-1, 1, 2 * n) * b["r2_ms"]["side_jitter"]
    d = b["r2_contra_minus_ipsi_ms"]
    r2c = r2i + rng.uniform(d["min"], d["max"], 2 * n)
    return pd.DataFrame({
        "patient_id": ids, "side": sides,
        "r1_ms": round_within(r1, 1, 0, a["r1_ms_uln"] * f),
        "r2_ipsi_ms": round_within(r2i, 1, 0, a["r2_ipsi_ms_uln"] * f),
        "r2_contra_ms": round_within(r2c, 1, 0, a["r2_contra_ms_uln"] * f),
    })


# ----------------------------------------------------------------------------------------------
# EMG and MRI
# ----------------------------------------------------------------------------------------------

def normal_emg_rows(rng: np.random.Generator, ids, muscles, sides, params) -> pd.DataFrame:
    """EMG rows with a normal examination (no spontaneous activity, normal MUAPs)."""
    n = len(ids)
    return pd.DataFrame({
        "patient_id": np.asarray(ids, dtype=object), "muscle": np.asarray(muscles, dtype=object),
        "side": np.asarray(sides, dtype=object), "insertional": "normal", "fibs": "0", "psw": "0",
        "fasciculations": draw_categories(rng, params["emg"]["fasciculations_absent"], n),
        "muap_amplitude": "normal", "muap_duration": "normal", "polyphasia": "normal",
        "recruitment": "normal", "required": False,
    }, columns=EMG_COLUMNS)


def draw_emg_background(rng: np.random.Generator, patients: pd.DataFrame,
                        params: dict[str, Any]) -> pd.DataFrame:
    """A routine set of normal muscles for every patient (weighted choice, random sides)."""
    names = list(params["muscles"])
    weights = [params["muscles"][k]["weight"] for k in names]
    k = params["protocol"]["emg_muscles"]
    n = len(patients)
    count = rng.integers(k["min"], k["max"] + 1, n)
    order = sample_rows_without_replacement(rng, weights, n)
    take = np.arange(len(names))[None, :] < count[:, None]
    pid = np.broadcast_to(patients["patient_id"].to_numpy(object)[:, None], order.shape)[take]
    muscle = np.asarray(names, dtype=object)[order][take]
    side = np.where(rng.random(muscle.size) < 0.5, "L", "R").astype(object)
    midline = np.array([params["muscles"][mm].get("midline", False) for mm in muscle], dtype=bool)
    side[midline] = ""
    return normal_emg_rows(rng, pid, muscle, side, params)


def cord_lesion_rows(rng: np.random.Generator, ids, level_from, level_to, params,
                     location=None) -> pd.DataFrame:
    """Spinal cord lesion rows with the given vertebral extent (location/enhancement drawn)."""
    n = len(ids)
    mp = params["mri"]
    loc = draw_categories(rng, mp["location"], n) if location is None else np.full(n, location, object)
    return pd.DataFrame({
        "patient_id": np.asarray(ids, dtype=object), "region": "spinal_cord",
        "level_from": np.asarray(level_from, dtype=object), "level_to": np.asarray(level_to, dtype=object),
        "location": loc, "enhancement": rng.random(n) < mp["enhancement"],
    }, columns=MRI_COLUMNS)


def brainstem_rows(ids, level: str, location: str) -> pd.DataFrame:
    n = len(ids)
    return pd.DataFrame({"patient_id": np.asarray(ids, dtype=object), "region": "brainstem",
                         "level_from": level, "level_to": level, "location": location,
                         "enhancement": np.zeros(n, bool)}, columns=MRI_COLUMNS)


def brain_rows(rng: np.random.Generator, ids, params) -> pd.DataFrame:
    n = len(ids)
    locs = np.asarray(params["mri"]["brain_locations"], dtype=object)
    return pd.DataFrame({"patient_id": np.asarray(ids, dtype=object), "region": "brain",
                         "level_from": "", "level_to": "", "location": locs[rng.integers(0, locs.size, n)],
                         "enhancement": rng.random(n) < params["mri"]["enhancement"] / 2},
                        columns=MRI_COLUMNS)


def draw_random_cord_lesions(rng: np.random.Generator, ids, params,
                             first: str = "C1", last: str = "T9") -> pd.DataFrame:
    """Longitudinally extensive cord lesions starting between ``first`` and ``last``."""
    ids = np.asarray(ids, dtype=object)
    n = len(ids)
    mp = params["mri"]
    lo, hi = VERTEBRAE.index(first), VERTEBRAE.index(last)
    t1 = VERTEBRAE.index("T1")
    cerv = (lo, min(hi, t1 - 1)) if lo < t1 else None
    thor = (max(lo, t1), hi) if hi >= t1 else None
    region = draw_categories(rng, mp["cord_start"], n)
    ranges = [cerv or thor, thor or cerv]
    start = np.where(region == "cervical", rng.integers(ranges[0][0], ranges[0][1] + 1, n),
                     rng.integers(ranges[1][0], ranges[1][1] + 1, n))
    span = rng.integers(mp["cord_span_segments"]["min"], mp["cord_span_segments"]["max"] + 1, n)
    end = np.minimum(start + span - 1, VERTEBRAE.index("L1"))
    v = np.asarray(VERTEBRAE, dtype=object)
    return cord_lesion_rows(rng, ids, v[start], v[end], params)


def draw_mri_background(rng: np.random.Generator, patient_ids, params) -> pd.DataFrame:
    """Lesions for patients whose scenario does not fix its MRI."""
    ids = np.asarray(patient_ids, dtype=object)
    n = len(ids)
    mp = params["mri"]
    parts = []
    has_cord = rng.random(n) < mp["spinal_cord"]
    parts.append(draw_random_cord_lesions(rng, ids[has_cord], params))
    second = has_cord & (rng.random(n) < mp["second_cord_lesion"])
    parts.append(draw_random_cord_lesions(rng, ids[second], params, first="T1", last="T8"))
    bs = rng.random(n) < mp["brainstem"]
    medulla = rng.random(n) < mp["brainstem_medulla"]
    parts.append(brainstem_rows(ids[bs & medulla], "medulla", "area_postrema"))
    parts.append(brainstem_rows(ids[bs & ~medulla], "pons", "dorsal"))
    parts.append(brain_rows(rng, ids[rng.random(n) < mp["brain"]], params))
    return _concat(parts, MRI_COLUMNS)


# ----------------------------------------------------------------------------------------------
# protocol
# ----------------------------------------------------------------------------------------------

def _expand_sides(ids: np.ndarray, sides: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Turn per-patient side choices (``L``, ``R``, ``both``) into (id, side) pairs."""
    ids = np.asarray(ids, dtype=object)
    sides = np.asarray(sides, dtype=object)
    both = sides == "both"
    out_ids = np.concatenate([ids[~both], ids[both], ids[both]])
    out_sides = np.concatenate([sides[~both], np.full(both.sum(), "L", object),
                                np.full(both.sum(), "R", object)])
    return out_ids, out_sides


def draw_protocol(rng: np.random.Generator, patients: pd.DataFrame, params: dict[str, Any]) -> SynthStudy:
    """A normal baseline study for every patient: routine NCS, optional F-waves, blink reflex
    and facial studies, a routine EMG and background MRI."""
    pr = params["protocol"]
    ids = patients["patient_id"].to_numpy(object)
    n = len(ids)
    limb_sides = {"upper": draw_categories(rng, pr["sides"], n),
                  "lower": draw_categories(rng, pr["sides"], n)}

    def keys_for(nerves: dict[str, float], table: dict[str, Any]) -> pd.DataFrame:
        frames = []
        for nerve, p in nerves.items():
            keep = rng.random(n) < p
            i, s = _expand_sides(ids[keep], limb_sides[table[nerve]["limb"]][keep])
            frames.append(pd.DataFrame({"patient_id": i, "nerve": nerve, "side": s}))
        return pd.concat(frames, ignore_index=True)

    motor_keys = keys_for(pr["motor_nerves"], params["motor"])
    facial = rng.random(n) < pr["facial_motor"]
    fi, fs = _expand_sides(ids[facial], np.full(facial.sum(), "both", object))
    motor_keys = pd.concat([motor_keys, pd.DataFrame({"patient_id": fi, "nerve": "facial", "side": fs})],
                           ignore_index=True)
    sensory_keys = keys_for(pr["sensory_nerves"], params["sensory"])

    study = SynthStudy(patients=patients)
    study.motor = draw_motor_normal(rng, motor_keys, patients, params)
    study.sensory = draw_sensory_normal(rng, sensory_keys, patients, params)
    with_f = set(ids[rng.random(n) < pr["f_waves"]])
    f_keys = motor_keys[motor_keys["patient_id"].isin(with_f) & (motor_keys["nerve"] != "facial")]
    study.fwave = draw_fwave_normal(rng, f_keys.reset_index(drop=True), patients, params)
    study.blink = draw_blink_normal(rng, ids[rng.random(n) < pr["blink_reflex"]], params)
    study.emg = draw_emg_background(rng, patients, params)
    study.mri = draw_mri_background(rng, ids, params)
    return study


def _concat(parts: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat(parts, ignore_index=True)[columns]
