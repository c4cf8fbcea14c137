"""Scenario builders: one function per clinical pattern.

Every builder has the signature ``build(rng, study, ids, params)``: it edits the wide tables of
``study`` (a :class:`~edxreview.synth._study.SynthStudy` that already holds a normal baseline
for every patient) for all patients ``ids`` of its scenario at once. Builders add the studies
their pattern needs (``ensure_*``), overwrite values with abnormal ones placed far from the
design anchors, set EMG findings and fix the MRI lesions where the pattern depends on them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InvalidParameterError
from ._draw import draw_categories, draw_uniform, round_within
from ._study import (
    EMG_COLUMNS,
    MRI_COLUMNS,
    SynthStudy,
    _expand_sides,
    brain_rows,
    brainstem_rows,
    cord_lesion_rows,
    draw_blink_normal,
    draw_motor_normal,
    draw_random_cord_lesions,
    draw_sensory_normal,
    normal_emg_rows,
)

Builder = Callable[[np.random.Generator, SynthStudy, np.ndarray, dict[str, Any]], None]

_KEY = ["patient_id", "nerve", "side"]


# ----------------------------------------------------------------------------------------------
# helpers shared by the builders
# ----------------------------------------------------------------------------------------------

def pick_sides(rng: np.random.Generator, n: int) -> np.ndarray:
    """A random side (``L``/``R``) per patient."""
    return np.where(rng.random(n) < 0.5, "L", "R").astype(object)


def other_side(sides: np.ndarray) -> np.ndarray:
    return np.where(np.asarray(sides) == "L", "R", "L").astype(object)


def _ensure(rng, study: SynthStudy, attr: str, draw, ids, sides, nerve: str, params) -> np.ndarray:
    """Add normal rows for (id, nerve, side) keys that are missing; return the mask of all of
    them in the (possibly grown) table and mark them required."""
    i, s = _expand_sides(ids, np.broadcast_to(np.asarray(sides, dtype=object), (len(ids),)))
    keys = pd.DataFrame({"patient_id": i, "nerve": nerve, "side": s})
    table = getattr(study, attr)
    want = pd.MultiIndex.from_frame(keys)
    missing = keys[~want.isin(pd.MultiIndex.from_frame(table[_KEY]))].reset_index(drop=True)
    if len(missing):
        table = pd.concat([table, draw(rng, missing, study.patients, params)], ignore_index=True)
        setattr(study, attr, table)
    mask = pd.MultiIndex.from_frame(table[_KEY]).isin(want)
    if "required" in table.columns:
        table.loc[mask, "required"] = True
    return mask


def ensure_motor(rng, study, ids, sides, nerve, params) -> np.ndarray:
    """Make sure a motor study of ``nerve`` exists on ``sides`` (per id, or ``"both"``)."""
    return _ensure(rng, study, "motor", draw_motor_normal, ids, sides, nerve, params)


def ensure_sensory(rng, study, ids, sides, nerve, params) -> np.ndarray:
    """Make sure a sensory study of ``nerve`` exists on ``sides``."""
    return _ensure(rng, study, "sensory", draw_sensory_normal, ids, sides, nerve, params)


def ensure_blink(rng, study, ids, params) -> None:
    """Make sure both sides of the blink reflex were studied."""
    missing = np.setdiff1d(np.asarray(ids, dtype=object), study.blink["patient_id"].to_numpy(object))
    if missing.size:
        study.blink = pd.concat([study.blink, draw_blink_normal(rng, missing, params)], ignore_index=True)


def _lln(params, kind: str, nerves: pd.Series, key: str, fallback: str | None = None) -> np.ndarray:
    """Each nerve's anchor ``key`` (``fallback`` where a nerve has no ``key``)."""
    table = {k: v.get(key, v.get(fallback)) for k, v in params["anchors"][kind].items()}
    return nerves.map({k: v for k, v in table.items() if v is not None}).to_numpy(float)


def set_low_cmap(rng, study, mask, params, fraction_key: str = "low_amplitude_fraction_of_lln") -> None:
    """Distal CMAPs of the masked motor rows become low (a fraction of LLN, far below it)."""
    rows = study.motor.loc[mask]
    # the most lenient age band's limit, so that the CMAP is low at every age
    lln = _lln(params, "motor", rows["nerve"], "amplitude_mv_lln_min", "amplitude_mv_lln")
    frac = draw_uniform(rng, params["abnormal"][fraction_key], len(rows))
    high = lln * params["margins"]["abnormal_max_fraction_of_lln"]
    study.motor.loc[mask, "amplitude_mv"] = round_within(lln * frac, 1, 0.1, high)


def set_snap_absent_or_low(rng, study, mask, params, p_absent=None) -> None:
    """Masked SNAPs become absent (NR) or low (a fraction of the lowest age-group LLN)."""
    rows = study.sensory.loc[mask]
    n = len(rows)
    p = params["abnormal"]["snap_absent"] if p_absent is None else p_absent
    absent = rng.random(n) < p
    lln = _lln(params, "sensory", rows["nerve"], "amplitude_uv_lln_min")
    frac = draw_uniform(rng, params["abnormal"]["low_amplitude_fraction_of_lln"], n)
    high = lln * params["margins"]["abnormal_max_fraction_of_lln"]
    floor = params["abnormal"]["snap_min_uv"]
    study.sensory.loc[mask, "amplitude_uv"] = round_within(lln * frac, 1, floor, high)
    study.sensory.loc[mask, "nr"] = absent


def set_snap_slow_and_low(rng, study, mask, params) -> None:
    """Masked SNAPs become low with a prolonged peak latency and slow velocity (carpal tunnel)."""
    rows = study.sensory.loc[mask]
    n = len(rows)
    uln = _lln(params, "sensory", rows["nerve"], "latency_ms_uln")
    peak = round_within(uln * draw_uniform(rng, params["abnormal"]["cts_snap_latency_fraction_of_uln"], n),
                        2, uln * params["margins"]["abnormal_min_fraction_of_uln"])
    rise = params["sensory_common"]["rise_time_ms"]["mean"]
    study.sensory.loc[mask, "latency_ms"] = peak
    study.sensory.loc[mask, "velocity_m_s"] = np.round(rows["distance_mm"].to_numpy(float) / (peak - rise), 1)
    set_snap_absent_or_low(rng, study, mask, params, p_absent=0.0)


def set_emg(rng, study: SynthStudy, ids, muscle: str, sides, finding: str, params,
            kind: str | None = None) -> None:
    """Set the EMG finding of ``muscle`` on ``sides`` for each patient (row added or replaced).

    ``finding`` is one of ``denervated``, ``normal``, ``equivocal_fibs``, ``fasciculations``,
    ``reduced_recruitment``, ``decreased_activation``. ``kind`` fixes the denervation kind
    (``acute``, ``chronic``, ``acute_and_chronic``); by default it is drawn per muscle.
    """
    sides = np.broadcast_to(np.asarray(sides, dtype=object), (len(ids),))
    i, s = _expand_sides(ids, sides)
    rows = normal_emg_rows(rng, i, np.full(len(i), muscle, object), s, params)
    n = len(rows)
    e = params["emg"]
    if finding == "denervated":
        k = draw_categories(rng, e["denervation_kind"], n) if kind is None else np.full(n, kind, object)
        acute = (k == "acute") | (k == "acute_and_chronic")
        chronic = (k == "chronic") | (k == "acute_and_chronic")
        rows["fibs"] = np.where(acute, draw_categories(rng, e["acute_grade"], n), "0")
        rows["psw"] = np.where(acute, draw_categories(rng, e["acute_grade"], n), "0")
        rows["insertional"] = np.where(acute, "increased", "normal")
        both = rng.random(n) < e["chronic_both"]
        rows["muap_duration"] = np.where(chronic, "increased", "normal")
        rows["muap_amplitude"] = np.where(chronic & both, "increased", "normal")
        rows["polyphasia"] = np.where(chronic, "increased", "normal")
        rows["recruitment"] = np.where(chronic | (rng.random(n) < 0.5), "reduced", "normal")
    elif finding == "equivocal_fibs":
        rows["fibs"] = "±"
    elif finding == "fasciculations":
        rows["fasciculations"] = draw_categories(rng, {"present": 0.5, "1+": 0.3, "2+": 0.2}, n)
    elif finding == "reduced_recruitment":
        rows["recruitment"] = "reduced"
    elif finding == "decreased_activation":
        rows["recruitment"] = "decreased_activation"
    elif finding != "normal":
        raise InvalidParameterError(f"unknown EMG finding {finding!r} in the patterns")
    rows["required"] = True
    replace_emg_rows(study, rows)


def replace_emg_rows(study: SynthStudy, rows: pd.DataFrame) -> None:
    """Put ``rows`` into the EMG table, replacing rows of the same patient, muscle and side."""
    key = ["patient_id", "muscle", "side"]
    old = pd.MultiIndex.from_frame(study.emg[key])
    keep = ~old.isin(pd.MultiIndex.from_frame(rows[key]))
    study.emg = pd.concat([study.emg.loc[keep], rows[EMG_COLUMNS]], ignore_index=True)


def replace_mri(study: SynthStudy, ids, *frames: pd.DataFrame) -> None:
    """Replace all MRI lesions of ``ids`` by ``frames`` (none: a normal MRI)."""
    keep = ~study.mri["patient_id"].isin(set(ids))
    parts = [study.mri.loc[keep]] + [f for f in frames if len(f)]
    study.mri = pd.concat(parts, ignore_index=True)[MRI_COLUMNS]


def carpal_tunnel(rng, study, ids, sides, params, motor_slowing: bool) -> None:
    """Median neuropathy at the wrist on ``sides``: slow, low median SNAP; with
    ``motor_slowing`` a distal motor latency far beyond ULN and a normal CMAP. The ulnar nerve
    of the same side stays normal (so the finding is focal, not a polyneuropathy)."""
    if motor_slowing:
        m = ensure_motor(rng, study, ids, sides, "median", params)
        uln = params["anchors"]["motor"]["median"]["latency_ms_uln"]
        lat = uln * draw_uniform(rng, params["abnormal"]["cts_distal_latency_fraction_of_uln"], m.sum())
        study.motor.loc[m, "latency_ms"] = round_within(lat, 2)
    set_snap_slow_and_low(rng, study, ensure_sensory(rng, study, ids, sides, "median", params), params)
    ensure_sensory(rng, study, ids, sides, "ulnar", params)
    ensure_motor(rng, study, ids, sides, "ulnar", params)


def axonal_length_dependent(rng, study, ids, params, motor: bool) -> None:
    """Bilateral absent/low sural and superficial peroneal SNAPs; with ``motor`` low EDB
    (peroneal) CMAPs on both sides and sometimes low tibial CMAPs. Upper limbs stay normal."""
    for nerve in ("sural", "superficial_peroneal"):
        set_snap_absent_or_low(rng, study, ensure_sensory(rng, study, ids, "both", nerve, params), params)
    for nerve in ("median", "ulnar"):
        ensure_sensory(rng, study, ids, "R", nerve, params)
    if motor:
        set_low_cmap(rng, study, ensure_motor(rng, study, ids, "both", "peroneal", params), params)
        tib = ensure_motor(rng, study, ids, "both", "tibial", params)
        low_tib = np.asarray(ids)[rng.random(len(ids)) < 0.5]
        set_low_cmap(rng, study, tib & study.motor["patient_id"].isin(set(low_tib)).to_numpy(), params)
    else:
        ensure_motor(rng, study, ids, "both", "peroneal", params)


def lmn_low_cmaps(rng, study, ids, sides, nerve, params) -> None:
    """Low CMAPs (anterior horn / root loss) in a random part of the patients; SNAPs normal."""
    low = np.asarray(ids, dtype=object)[rng.random(len(ids)) < params["abnormal"]["lmn_low_cmap"]]
    if len(low) == 0:
        return
    sel = np.isin(np.asarray(ids, dtype=object), low)
    side_sel = sides if isinstance(sides, str) else np.asarray(sides, dtype=object)[sel]
    m = ensure_motor(rng, study, low, side_sel, nerve, params)
    set_low_cmap(rng, study, m, params, "lmn_low_cmap_fraction_of_lln")


# ----------------------------------------------------------------------------------------------
# denervation explained by NCS
# ----------------------------------------------------------------------------------------------

def build_carpal_tunnel_apb_denervation(rng, study, ids, params) -> None:
    """Carpal tunnel syndrome with denervation of APB only (median muscles above the wrist
    and C8–T1 ulnar muscles normal)."""
    s = pick_sides(rng, len(ids))
    carpal_tunnel(rng, study, ids, s, params, motor_slowing=True)
    set_emg(rng, study, ids, "abductor_pollicis_brevis", s, "denervated", params)
    for muscle in ("first_dorsal_interosseous", "pronator_teres"):
        set_emg(rng, study, ids, muscle, s, "normal", params)


def build_ulnar_elbow_hand_denervation(rng, study, ids, params) -> None:
    """Ulnar neuropathy at the elbow (across-elbow slowing, low ulnar SNAP) with FDI/ADM
    denervation; APB (median C8–T1) and EDC (radial C7–C8) normal."""
    s = pick_sides(rng, len(ids))
    m = ensure_motor(rng, study, ids, s, "ulnar", params)
    study.motor.loc[m, "velocity_2_m_s"] = round_within(
        draw_uniform(rng, params["abnormal"]["une_across_elbow_velocity_m_s"], m.sum()), 1)
    set_snap_absent_or_low(rng, study, ensure_sensory(rng, study, ids, s, "ulnar", params), params)
    ensure_sensory(rng, study, ids, s, "median", params)
    ensure_motor(rng, study, ids, s, "median", params)
    for muscle in ("first_dorsal_interosseous", "abductor_digiti_minimi"):
        set_emg(rng, study, ids, muscle, s, "denervated", params)
    for muscle in ("abductor_pollicis_brevis", "extensor_digitorum_communis"):
        set_emg(rng, study, ids, muscle, s, "normal", params)


def build_axonal_polyneuropathy_distal_denervation(rng, study, ids, params) -> None:
    """Length-dependent axonal sensorimotor polyneuropathy with TA/EDB/medial gastrocnemius
    denervation; proximal leg and hand muscles normal."""
    axonal_length_dependent(rng, study, ids, params, motor=True)
    s = pick_sides(rng, len(ids))
    set_emg(rng, study, ids, "tibialis_anterior", s, "denervated", params)
    set_emg(rng, study, ids, "extensor_digitorum_brevis", "both", "denervated", params)
    set_emg(rng, study, ids, "gastrocnemius_medial", s, "denervated", params, kind="chronic")
    set_emg(rng, study, ids, "vastus_lateralis", "both", "normal", params)
    set_emg(rng, study, ids, "first_dorsal_interosseous", s, "normal", params)


def build_facial_palsy_facial_denervation(rng, study, ids, params) -> None:
    """Peripheral facial palsy: low facial CMAP on one side, efferent blink-reflex pattern,
    frontalis and orbicularis oris denervated on that side."""
    s = pick_sides(rng, len(ids))
    ensure_motor(rng, study, ids, "both", "facial", params)
    pat = pd.MultiIndex.from_arrays([np.asarray(ids, dtype=object), s])
    m = pd.MultiIndex.from_frame(study.motor[["patient_id", "side"]]).isin(pat) & (
        study.motor["nerve"] == "facial").to_numpy()
    study.motor.loc[m, "amplitude_mv"] = round_within(
        draw_uniform(rng, params["abnormal"]["facial_palsy_amplitude_mv"], m.sum()), 1, 0.1)
    ensure_blink(rng, study, ids, params)
    b = pd.MultiIndex.from_frame(study.blink[["patient_id", "side"]])
    affected = b.isin(pat)
    other = b.isin(pd.MultiIndex.from_arrays([np.asarray(ids, dtype=object), other_side(s)]))
    study.blink.loc[affected, ["r1_ms", "r2_ipsi_ms"]] = np.nan      # NR: efferent (facial) lesion
    study.blink.loc[other, "r2_contra_ms"] = np.nan                   # recorded on the palsied side
    for muscle in ("frontalis", "orbicularis_oris"):
        set_emg(rng, study, ids, muscle, s, "denervated", params)


# ----------------------------------------------------------------------------------------------
# LMN involvement with a corresponding MRI lesion
# ----------------------------------------------------------------------------------------------

def build_cervical_myelitis_c5_c7(rng, study, ids, params) -> None:
    """Cervical myelitis C3–C6 (central gray) with bilateral C5–C7 denervation (deltoid,
    biceps, triceps) and an upper-motor-neuron pattern in the legs."""
    for muscle in ("deltoid", "biceps_brachii", "triceps"):
        set_emg(rng, study, ids, muscle, "both", "denervated", params)
    set_emg(rng, study, ids, "first_dorsal_interosseous", pick_sides(rng, len(ids)), "normal", params)
    set_emg(rng, study, ids, "tibialis_anterior", "both", "decreased_activation", params)
    replace_mri(study, ids, cord_lesion_rows(rng, ids, "C3", "C6", params, location="central_gray"))


def build_cervical_myelitis_c7_t1(rng, study, ids, params) -> None:
    """Cervical myelitis C5–C7 with C7–T1 denervation (triceps, EDC, FDI); the ulnar CMAP may
    be low with a normal ulnar SNAP."""
    s = pick_sides(rng, len(ids))
    for muscle in ("triceps", "extensor_digitorum_communis", "first_dorsal_interosseous"):
        set_emg(rng, study, ids, muscle, s, "denervated", params)
    set_emg(rng, study, ids, "triceps", other_side(s), "denervated", params)
    set_emg(rng, study, ids, "biceps_brachii", s, "normal", params)
    ensure_sensory(rng, study, ids, s, "ulnar", params)
    lmn_low_cmaps(rng, study, ids, s, "ulnar", params)
    replace_mri(study, ids, cord_lesion_rows(rng, ids, "C5", "C7", params))


def build_conus_myelitis_l3_s1(rng, study, ids, params) -> None:
    """Thoracolumbar myelitis T10–L1 with bilateral L3–S1 denervation (vastus lateralis, TA,
    medial gastrocnemius); peroneal/tibial CMAPs may be low, sural and superficial peroneal
    SNAPs normal."""
    for muscle in ("vastus_lateralis", "tibialis_anterior", "gastrocnemius_medial"):
        set_emg(rng, study, ids, muscle, "both", "denervated", params)
    for nerve in ("sural", "superficial_peroneal"):
        ensure_sensory(rng, study, ids, "both", nerve, params)
    lmn_low_cmaps(rng, study, ids, "both", "peroneal", params)
    lmn_low_cmaps(rng, study, ids, "both", "tibial", params)
    replace_mri(study, ids, cord_lesion_rows(rng, ids, "T10", "L1", params, location="central_gray"))


def build_medullary_lesion_tongue(rng, study, ids, params) -> None:
    """Area postrema / medullary lesion with tongue (genioglossus) denervation."""
    set_emg(rng, study, ids, "genioglossus", "", "denervated", params, kind="acute")
    replace_mri(study, ids, brainstem_rows(ids, "medulla", "area_postrema"),
                draw_random_cord_lesions(rng, ids, params, first="T2", last="T6"))


# ----------------------------------------------------------------------------------------------
# LMN involvement without a corresponding MRI lesion
# ----------------------------------------------------------------------------------------------

def build_lumbosacral_lmn_cervical_mri(rng, study, ids, params) -> None:
    """L3–S1 denervation while the only cord lesion is cervical (C2–C5)."""
    s = pick_sides(rng, len(ids))
    for muscle in ("vastus_lateralis", "tibialis_anterior", "gastrocnemius_medial"):
        set_emg(rng, study, ids, muscle, s, "denervated", params)
    set_emg(rng, study, ids, "tibialis_anterior", other_side(s), "denervated", params)
    ensure_sensory(rng, study, ids, "both", "sural", params)
    replace_mri(study, ids, cord_lesion_rows(rng, ids, "C2", "C5", params))


def build_cervical_lmn_thoracic_mri(rng, study, ids, params) -> None:
    """C5–C7 denervation while the only cord lesion is thoracic (T4–T7)."""
    s = pick_sides(rng, len(ids))
    set_emg(rng, study, ids, "deltoid", "both", "denervated", params)
    for muscle in ("biceps_brachii", "triceps"):
        set_emg(rng, study, ids, muscle, s, "denervated", params)
    replace_mri(study, ids, cord_lesion_rows(rng, ids, "T4", "T7", params))


def build_hand_lmn_brain_only_mri(rng, study, ids, params) -> None:
    """C8–T1 denervation (FDI, ADM, APB) with brain lesions only."""
    s = pick_sides(rng, len(ids))
    for muscle in ("first_dorsal_interosseous", "abductor_digiti_minimi", "abductor_pollicis_brevis"):
        set_emg(rng, study, ids, muscle, s, "denervated", params)
    for nerve in ("median", "ulnar"):
        ensure_sensory(rng, study, ids, s, nerve, params)
    lmn_low_cmaps(rng, study, ids, s, "ulnar", params)
    replace_mri(study, ids, brain_rows(rng, ids, params), brain_rows(rng, ids, params))


def build_lumbar_lmn_no_cord_lesion(rng, study, ids, params) -> None:
    """L2–L4 denervation (iliopsoas, vastus lateralis, rectus femoris) and a normal MRI."""
    s = pick_sides(rng, len(ids))
    for muscle in ("iliopsoas", "vastus_lateralis", "rectus_femoris"):
        set_emg(rng, study, ids, muscle, s, "denervated", params)
    replace_mri(study, ids)


def build_c5_c6_lmn_with_carpal_tunnel(rng, study, ids, params) -> None:
    """Carpal tunnel syndrome on NCS (APB normal) plus biceps/deltoid denervation that the
    median neuropathy cannot explain; the cord lesion is low thoracic (T8–T11)."""
    s = pick_sides(rng, len(ids))
    carpal_tunnel(rng, study, ids, s, params, motor_slowing=True)
    set_emg(rng, study, ids, "biceps_brachii", "both", "denervated", params)
    set_emg(rng, study, ids, "deltoid", s, "denervated", params)
    set_emg(rng, study, ids, "abductor_pollicis_brevis", s, "normal", params)
    replace_mri(study, ids, cord_lesion_rows(rng, ids, "T8", "T11", params))


# ----------------------------------------------------------------------------------------------
# NCS neuropathy without denervation
# ----------------------------------------------------------------------------------------------

def build_sensory_polyneuropathy(rng, study, ids, params) -> None:
    """Sensory-predominant length-dependent polyneuropathy; motor studies and EMG normal."""
    axonal_length_dependent(rng, study, ids, params, motor=False)
    for muscle in ("tibialis_anterior", "extensor_digitorum_brevis"):
        set_emg(rng, study, ids, muscle, pick_sides(rng, len(ids)), "normal", params)


def build_carpal_tunnel_normal_emg(rng, study, ids, params) -> None:
    """Mild carpal tunnel syndrome: slow, low median SNAP; normal motor latency and APB."""
    s = pick_sides(rng, len(ids))
    carpal_tunnel(rng, study, ids, s, params, motor_slowing=False)
    ensure_motor(rng, study, ids, s, "median", params)
    set_emg(rng, study, ids, "abductor_pollicis_brevis", s, "normal", params)


# ----------------------------------------------------------------------------------------------
# no denervation, no neuropathy: distractors a careful reader must not count
# ----------------------------------------------------------------------------------------------

def build_normal(rng, study, ids, params) -> None:
    """Normal study: the baseline as drawn."""


def _set_background_finding(rng, study, ids, finding, params) -> None:
    """Give one randomly chosen already-examined muscle per patient a non-denervation finding."""
    rows = study.emg.index[study.emg["patient_id"].isin(set(ids)).to_numpy()]
    rows = rows[rng.permutation(len(rows))]
    chosen = rows[~study.emg.loc[rows, "patient_id"].duplicated().to_numpy()]
    n = len(chosen)
    if finding == "equivocal_fibs":
        study.emg.loc[chosen, "fibs"] = "±"
    elif finding == "fasciculations":
        study.emg.loc[chosen, "fasciculations"] = draw_categories(
            rng, {"present": 0.5, "1+": 0.3, "2+": 0.2}, n)
    elif finding == "reduced_recruitment":
        study.emg.loc[chosen, "recruitment"] = "reduced"
    else:
        raise InvalidParameterError(f"unknown background finding {finding!r} in the patterns")
    study.emg.loc[chosen, "required"] = True


def build_equivocal_fibs(rng, study, ids, params) -> None:
    """Fibrillation potentials graded ± in one muscle only (not denervation)."""
    _set_background_finding(rng, study, ids, "equivocal_fibs", params)


def build_fasciculations_only(rng, study, ids, params) -> None:
    """Fasciculation potentials with normal MUAPs and no fibrillations (not denervation)."""
    _set_background_finding(rng, study, ids, "fasciculations", params)


def build_ulnar_forearm_block_hand_denervation(rng, study, ids, params) -> None:
    """Multifocal motor neuropathy type conduction block in the ulnar forearm segment (wrist to
    below the elbow; velocities and the ulnar SNAP normal) with FDI/ADM denervation; APB
    (median C8–T1) normal. Not in the bundled cohort (``demo_count`` 0): a patterns file that
    gives it a ``proportion`` draws it."""
    s = pick_sides(rng, len(ids))
    m = ensure_motor(rng, study, ids, s, "ulnar", params)
    study.motor.loc[m, "ratio_1"] = draw_uniform(
        rng, params["abnormal"]["block_proximal_amplitude_ratio"], m.sum())
    ensure_sensory(rng, study, ids, s, "ulnar", params)
    ensure_motor(rng, study, ids, s, "median", params)
    for muscle in ("first_dorsal_interosseous", "abductor_digiti_minimi"):
        set_emg(rng, study, ids, muscle, s, "denervated", params)
    set_emg(rng, study, ids, "abductor_pollicis_brevis", s, "normal", params)


def build_reduced_recruitment_only(rng, study, ids, params) -> None:
    """Reduced recruitment with normal MUAPs and no spontaneous activity (not denervation)."""
    _set_background_finding(rng, study, ids, "reduced_recruitment", params)


def build_umn_decreased_activation(rng, study, ids, params) -> None:
    """Decreased activation (upper motor neuron pattern) in leg muscles below a cord lesion."""
    for muscle in ("tibialis_anterior", "vastus_lateralis"):
        set_emg(rng, study, ids, muscle, "both", "decreased_activation", params)
    keep = study.mri[study.mri["patient_id"].isin(set(ids)) & (study.mri["region"] != "spinal_cord")]
    replace_mri(study, ids, keep, draw_random_cord_lesions(rng, ids, params, first="C2", last="T7"))


def build_older_absent_sural(rng, study, ids, params) -> None:
    """Age 60 or more with bilaterally absent sural SNAPs and nothing else abnormal."""
    m = ensure_sensory(rng, study, ids, "both", "sural", params)
    study.sensory.loc[m, "nr"] = True
    drop = study.sensory["patient_id"].isin(set(ids)) & (study.sensory["nerve"] == "superficial_peroneal")
    study.sensory = study.sensory.loc[~drop].reset_index(drop=True)


def build_low_peroneal_cmap(rng, study, ids, params) -> None:
    """A low peroneal (EDB) CMAP on one side with normal SNAPs and a normal EMG."""
    s = pick_sides(rng, len(ids))
    set_low_cmap(rng, study, ensure_motor(rng, study, ids, s, "peroneal", params), params)
    for nerve in ("sural", "superficial_peroneal"):
        ensure_sensory(rng, study, ids, s, nerve, params)


def build_cold_feet(rng, study, ids, params) -> None:
    """Feet at 29 °C with otherwise normal values."""
    ensure_motor(rng, study, ids, "both", "peroneal", params)
    ensure_sensory(rng, study, ids, "both", "sural", params)
    cold = params["temperature"]["cold_foot_c"]
    lower_motor = [k for k, v in params["motor"].items() if v["limb"] == "lower"]
    lower_sensory = [k for k, v in params["sensory"].items() if v["limb"] == "lower"]
    for attr, nerves in (("motor", lower_motor), ("sensory", lower_sensory)):
        t = getattr(study, attr)
        t.loc[t["patient_id"].isin(set(ids)) & t["nerve"].isin(nerves), "temperature_c"] = cold


SCENARIO_BUILDERS: dict[str, Builder] = {
    "carpal_tunnel_apb_denervation": build_carpal_tunnel_apb_denervation,
    "ulnar_elbow_hand_denervation": build_ulnar_elbow_hand_denervation,
    "axonal_polyneuropathy_distal_denervation": build_axonal_polyneuropathy_distal_denervation,
    "facial_palsy_facial_denervation": build_facial_palsy_facial_denervation,
    "cervical_myelitis_c5_c7": build_cervical_myelitis_c5_c7,
    "cervical_myelitis_c7_t1": build_cervical_myelitis_c7_t1,
    "conus_myelitis_l3_s1": build_conus_myelitis_l3_s1,
    "medullary_lesion_tongue": build_medullary_lesion_tongue,
    "lumbosacral_lmn_cervical_mri": build_lumbosacral_lmn_cervical_mri,
    "cervical_lmn_thoracic_mri": build_cervical_lmn_thoracic_mri,
    "hand_lmn_brain_only_mri": build_hand_lmn_brain_only_mri,
    "lumbar_lmn_no_cord_lesion": build_lumbar_lmn_no_cord_lesion,
    "c5_c6_lmn_with_carpal_tunnel": build_c5_c6_lmn_with_carpal_tunnel,
    "sensory_polyneuropathy": build_sensory_polyneuropathy,
    "carpal_tunnel_normal_emg": build_carpal_tunnel_normal_emg,
    "normal": build_normal,
    "equivocal_fibs": build_equivocal_fibs,
    "fasciculations_only": build_fasciculations_only,
    "reduced_recruitment_only": build_reduced_recruitment_only,
    "umn_decreased_activation": build_umn_decreased_activation,
    "older_absent_sural": build_older_absent_sural,
    "low_peroneal_cmap": build_low_peroneal_cmap,
    "cold_feet": build_cold_feet,
    "ulnar_forearm_block_hand_denervation": build_ulnar_forearm_block_hand_denervation,
}
