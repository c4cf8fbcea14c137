"""MUAP analysis of a weak voluntary contraction: detect discharges, sort them into motor units,
average each unit's MUAP and measure it.

The method in brief (the methods text of the report says the same in prose):

1. Two zero-phase Butterworth bands: a *detection* band (250 Hz - 3 kHz) that keeps the fast
   main spike of the MUAPs close to the needle, and a *measurement* band (10 Hz - 10 kHz).
2. Candidate discharges are peaks of the absolute detection signal above ``threshold_sd``
   times a robust noise SD (median absolute value / 0.6745).
3. Templates are built from the candidates in decreasing amplitude order: a candidate joins
   the template it matches (shift-invariant residual energy) or starts a new one. Similar
   templates are merged.
4. The whole record is then decomposed by *peel-off*: at every remaining peak the template
   and shift that explain it best are subtracted, so that superimposed discharges are found.
   Three passes. Optionally (``sorting.method = "pursuit"``) a template pursuit instead: the
   placement of every template at every time is scored by the drop in residual energy, the
   best placements are taken round by round, superimposed pairs are found by scoring every
   pair of templates at every relative shift within a template length, and templates are
   re-estimated from each unit's own discharges, new units sought in the residual and units
   found twice (aligned on different peaks) merged by whole-template cross-correlation when
   their trains together respect the refractory interval; last, discharges a steadily firing
   unit misses are sought where its firing pattern expects them.
5. Units with too few discharges or too low a firing rate are dropped. Each unit's MUAP is the
   sample-wise median of its discharges in the measurement band.
6. Duration runs from onset to end: the outermost points, searching outward from the main
   peak, where the averaged MUAP leaves a band of 3 SD of its own baseline noise around a
   straight baseline through the first and last 4 ms of the averaging window (the noise from
   the quieter end), followed by an isoelectric interval of ``quiet_ms`` beyond them (from
   where the signal reaches its baseline, so that a slow baseline crossing between two phases
   does not end the MUAP) (the amplitude criterion of Stalberg et al. 1986 and Nandedkar et
   al. 1995, stated relative to baseline noise instead of in µV so that uncalibrated records
   are measured the same way). Amplitude is peak-to-peak between onset and end; phases are
   baseline crossings + 1; turns are slope reversals of at least a threshold in µV on both
   sides (a fraction of the amplitude when uncalibrated; Pfeiffer & Kunze 1992); a satellite
   is a time-locked late component after such an isoelectric interval (Finsterer & Mamoli 1997);
   thickness is area / amplitude (Nandedkar et al. 1988). Definitions and sources:
   ``[measurement]`` of ``emg_signal_parameters.toml``.

References
----------
Stalberg E, Andreassen S, Falck B, Lang H, Rosenfalck A, Trojaborg W. Quantitative analysis of
individual motor unit potentials: a proposition for standardized terminology and criteria for
measurement. J Clin Neurophysiol 1986;3:313-348.
Nandedkar SD, Barkhaus PE, Charles A. Multi-motor unit action potential analysis (MMA).
Muscle Nerve 1995;18:1155-1166.
McGill KC, Lateva ZC, Marateb HR. EMGLAB: an interactive EMG decomposition program.
J Neurosci Methods 2005;149:121-133.

The stages live in their own modules: filtering and detection in :mod:`._detect`, snippets and
templates in :mod:`._templates`, peel-off in :mod:`._peel`, pursuit in :mod:`._pursuit`, the
measurement of each MUAP in :mod:`._measure`; this module sorts (:func:`sort_units`) and keeps
the public names.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
import pandas as pd

from edxreview._check import check_option
from edxreview.signal._detect import (  # noqa: F401 (detect_muaps, filter_bands and median_rows re-exported)
    _find_candidates,
    detect_muaps,
    detection_noise_sd,
    filter_bands,
    robust_noise_sd,
)
from edxreview.signal._params import load_signal_parameters
from edxreview.signal._peel import _peel
from edxreview.signal._pursuit import (
    _drop_locked,
    _fill_gaps,
    _merge_units,
    _pursuit,
    _refractory_keep,
    _unit_templates,
)
from edxreview.signal._readers import Recording
from edxreview.signal._templates import (  # noqa: F401
    _build_templates,
    _long_templates,
    _merge_templates,
    median_rows,
    median_snippet,
    min_cluster_discharges,
)

logger = logging.getLogger(__name__)


# ------------------------------------------------------------------------------ sorting
@dataclass
class Decomposition:
    """Result of sorting a recording's discharges into motor units.

    Attributes
    ----------
    discharges : pandas.DataFrame
        ``sample``, ``time_s`` (s), ``unit`` (0-based unit number) of every assigned discharge.
    templates : numpy.ndarray
        Detection-band template of each unit, shape (n_units, window samples).
    noise_sd : float
        Robust noise SD of the detection band (recording units).
    n_candidates : int
        Candidate peaks found before sorting.
    n_unassigned : int
        Peaks left unexplained after peel-off.
    measure : numpy.ndarray
        Measurement-band signal the MUAPs are averaged from.
    """

    discharges: pd.DataFrame
    templates: np.ndarray
    noise_sd: float
    n_candidates: int
    n_unassigned: int
    measure: np.ndarray = field(repr=False, default_factory=lambda: np.empty(0))
    detect: np.ndarray = field(repr=False, default_factory=lambda: np.empty(0))


def _decompose(
    detect: np.ndarray, temps: np.ndarray, fs_hz: float, threshold: float, noise_var: float,
    p: dict, min_sep_ms: float, build: tuple[int, int, int],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pursuit, then ``refine_passes`` times: templates re-estimated from each unit's own
    discharges, new units sought among the residual's peaks (first pass), units that are one
    unit merged, units that fire within the refractory interval too often dropped, pursuit
    again. Of two discharges of one unit within the refractory interval the worse fit is
    dropped. Returns samples, units, residual and the final templates."""
    L = temps.shape[1]
    half = L // 2
    min_n = min_cluster_discharges(p)
    refractory = round(p["refractory_ms"] * 1e-3 * fs_hz)
    reach = round(p["locked_reach_ms"] * 1e-3 * fs_hz)
    tol = max(1, round(p["locked_tolerance_ms"] / 1e3 * fs_hz))

    def run(temps: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[int]]:
        return _pursue(detect, temps, noise_var, p, refractory)

    samples, units, resid, bad = run(temps)
    for it in range(p["refine_passes"]):
        good = np.isin(units, bad, invert=True)
        tl, trains = _unit_templates(resid, temps, samples[good], units[good], min_n,
                                     p["refine_sample_discharges"])
        if it == 0:
            _add_residual_units(tl, trains, resid, fs_hz, threshold, noise_var, p, min_sep_ms,
                                build, half)
        tl, trains = _drop_locked(tl, trains, reach, tol, p["locked_fraction"])
        tl, trains = _merge_units(tl, trains, p["merge_full_fraction"], refractory,
                                  p["merge_conflict_fraction"], p["merge_min_expected_conflicts"],
                                  p["merge_identical_fraction"])
        logger.debug("refine pass %d: %d units (sizes %s)", it, len(tl), [t.size for t in trains])
        temps = np.array(tl).reshape(-1, L)
        samples, units, resid, bad = run(temps)
    # a unit that passed the previous pass is kept: only its worse fits within the refractory
    # interval go (a small unit's template also fits some background spikes); one that now
    # fires locked to a larger unit is part of that unit's potential. Units that go (and those
    # with too few discharges, which sort_units drops) would have taken the place of other
    # units' discharges in superimpositions: the pursuit is run again without them.
    n_least = max(p["min_discharges"], p["min_rate_hz"] * detect.size / fs_hz)
    for _ in range(p["final_drop_passes"]):
        trains = [samples[units == k] for k in range(temps.shape[0])]
        kept, _ = _drop_locked(list(range(temps.shape[0])), trains, reach, tol,
                               p["locked_fraction"], energy=np.einsum("ij,ij->i", temps, temps))
        kept = [k for k in kept if trains[k].size >= n_least]
        if len(kept) == temps.shape[0]:
            break
        temps = temps[kept]
        samples, units, resid, _ = run(temps)
    for _ in range(int(p["gap_fill_passes"])):
        samples, units = _fill_gaps(resid, temps, samples, units, fs_hz, p)
        q = np.ones(samples.size)
        keep = _refractory_keep(samples, units, q, refractory)
        samples, units = samples[keep], units[keep]
    return samples, units, resid, temps


def _pursue(
    detect: np.ndarray, temps: np.ndarray, noise_var: float, p: dict, refractory: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[int]]:
    """One pursuit: the discharges kept after the refractory check, the residual, and the units
    that lost more than ``max_short_interval_fraction`` of their discharges to it."""
    s, u, q, r = _pursuit(detect, temps, noise_var, p)
    keep = _refractory_keep(s, u, q, refractory)
    n_k = np.bincount(u, minlength=temps.shape[0])
    n_drop = np.bincount(u[~keep], minlength=temps.shape[0])
    bad = np.flatnonzero(n_drop > p["max_short_interval_fraction"] * n_k).tolist()
    return s[keep], u[keep], r, bad


def _add_residual_units(
    tl: list, trains: list, resid: np.ndarray, fs_hz: float, threshold: float, noise_var: float,
    p: dict, min_sep_ms: float, build: tuple[int, int, int], half: int,
) -> None:
    """New units among the residual's peaks: templates built as at the start (``build``:
    before, after, shift), appended to ``tl`` and ``trains`` when they have at least
    ``min_discharges`` members."""
    before, after, shift = build
    pk = _find_candidates(resid, fs_hz, threshold, min_sep_ms)
    pk = pk[(pk - half - shift >= 0) & (pk + half + shift < resid.size)]
    members = _build_templates(
        resid, pk, before, after, shift,
        p["noise_energy_factor"] * (before + after + 1) * noise_var, p,
    )
    for t, m in zip(_long_templates(resid, members, half, half), members):
        if len(m) >= p["min_discharges"]:
            tl.append(t)
            trains.append(np.sort(m))


def _decimation_factor(fs_hz: float, match_rate_factor: float) -> int:
    p = load_signal_parameters()["filters"]
    hi = min(p["detect_lowpass_hz"], p["detect_lowpass_max_fs_fraction"] * fs_hz)
    return max(1, int(fs_hz // (match_rate_factor * hi)))


def _refine_full_rate(
    detect: np.ndarray, samples: np.ndarray, units: np.ndarray, n_units: int, half: int, q: int
) -> tuple[np.ndarray, np.ndarray]:
    """Full-rate templates (median of each unit's first ``[sorting] template_max_discharges``
    discharges) and discharge times re-aligned to them within +-q samples (no change when q is
    1)."""
    L = 2 * half + 1
    temps = np.zeros((n_units, L))
    samples = samples.copy()
    ok = (samples - half - q >= 0) & (samples + half + q < detect.size)
    shifts = np.arange(-q, q + 1)
    if not ok.any():
        return temps, samples
    windows = sliding_window_view(detect, L + 2 * q)
    top = int(load_signal_parameters()["sorting"]["template_max_discharges"])
    for k in range(n_units):
        sel = np.flatnonzero((units == k) & ok)
        if sel.size == 0:
            continue
        t = median_snippet(detect, samples[sel[:top]], half, half)
        if q > 1:
            # best shift per discharge: each discharge's stretch gathered once (rows of a
            # sliding view), its shifted windows a view of it, one contraction
            rows = windows[samples[sel] - half - q]
            cross = np.einsum("dsl,l->ds", sliding_window_view(rows, L, axis=1), t)
            moved = shifts[np.argmax(cross, axis=1)]
            samples[sel] += moved
            if moved[:top].any():  # otherwise the median of the same snippets again
                t = median_snippet(detect, samples[sel[:top]], half, half)
        temps[k] = t
    return temps, samples


def sort_units(
    rec: Recording, detections: pd.DataFrame | None = None, method: str | None = None,
    segments: pd.DataFrame | None = None,
) -> Decomposition:
    """Sort a recording's discharges into motor units by template matching and peel-off.

    Parameters
    ----------
    rec : Recording
    detections : pandas.DataFrame, optional
        Output of :func:`detect_muaps`; computed when omitted.
    method : {"peel", "pursuit"}, optional
        Decomposition after the templates are built: ``"peel"`` (peel-off) or ``"pursuit"``
        (template pursuit with a shifted-template pair search, template re-estimation, new
        units from the residual and merging of split units). Default from
        ``emg_signal_parameters.toml`` (``sorting.method``).
    segments : pandas.DataFrame, optional
        :func:`~edxreview.signal._spontaneous.segment_activity` of ``rec`` (computed when
        omitted): the detection threshold is ``threshold_sd`` x the noise SD of the active
        stretches (:func:`~edxreview.signal._detect.contraction_noise_sd`), not of the whole
        file, so that it does not depend on the rest recorded beside the contraction.

    Returns
    -------
    Decomposition

    Raises
    ------
    InvalidParameterError
        ``method`` is neither ``"peel"`` nor ``"pursuit"`` (checked before any work).
    """
    prm = load_signal_parameters()
    pd_, ps = prm["detection"], prm["sorting"]
    method = check_option("method", ps["method"] if method is None else method,
                          ("peel", "pursuit"))
    measure, detect = filter_bands(rec)
    fs = rec.fs_hz
    if detections is None:
        sd = detection_noise_sd(rec, segments)
        peaks = _find_candidates(detect, fs, pd_["threshold_sd"] * sd, pd_["min_separation_ms"])
    else:
        sd = float(detections.attrs.get("noise_sd", robust_noise_sd(detect, fs)))
        peaks = detections["sample"].to_numpy(dtype=int)
    threshold = pd_["threshold_sd"] * sd
    # matching runs on the detection band decimated to the lowest integer fraction of the
    # sampling rate that still exceeds `match_rate_factor` x the detection low-pass; discharge
    # times are then refined at the full rate
    q = _decimation_factor(fs, pd_["match_rate_factor"])
    det_q, fs_q = detect[::q], fs / q
    temps, (before, after, shift), half = _initial_templates(det_q, fs_q, peaks, q, sd, pd_, ps)
    if method == "pursuit":
        samples, units, resid, temps = _decompose(
            det_q, temps, fs_q, threshold, sd**2, ps, pd_["min_separation_ms"],
            (before, after, shift),
        )
    else:
        samples, units, resid = _peel(
            det_q, temps, fs_q, threshold, shift, sd**2, ps, pd_["min_separation_ms"],
        )
    samples = np.array(samples, dtype=int) * q
    units = np.array(units, dtype=int)
    temps, samples = _refine_full_rate(detect, samples, units, temps.shape[0], half * q, q)
    samples, units, temps, n_dropped = _keep_units(samples, units, temps, rec.samples.size / fs,
                                                   2 * half * q + 1, ps)
    n_left = _find_candidates(resid, fs_q, threshold, pd_["min_separation_ms"]).size
    return Decomposition(
        discharges=pd.DataFrame({"sample": samples, "time_s": samples / fs, "unit": units}),
        templates=temps,
        noise_sd=sd,
        n_candidates=int(peaks.size),
        n_unassigned=int(n_left + n_dropped),
        measure=measure,
        detect=detect,
    )


def _initial_templates(
    det_q: np.ndarray, fs_q: float, peaks: np.ndarray, q: int, sd: float, pd_: dict, ps: dict,
) -> tuple[np.ndarray, tuple[int, int, int], int]:
    """The templates built from the candidate ``peaks`` (full-rate samples) on the detection
    band decimated by ``q``, lengthened to ``half`` samples either side and merged; returns
    them, the matching window (``before``, ``after``, ``shift``) and ``half``."""
    floor = int(pd_["window_min_samples"])
    before = max(floor, int(round(pd_["window_before_ms"] * 1e-3 * fs_q)))
    after = max(floor, int(round(pd_["window_after_ms"] * 1e-3 * fs_q)))
    shift = max(1, int(round(pd_["max_shift_ms"] * 1e-3 * fs_q)))
    L = before + after + 1
    noise_energy = ps["noise_energy_factor"] * L * sd**2
    peaks_q = np.unique(np.round(peaks / q).astype(int))
    # discard candidates too close to the ends
    peaks_q = peaks_q[(peaks_q - before - shift >= 0) & (peaks_q + after + shift < det_q.size)]
    members = _build_templates(det_q, peaks_q, before, after, shift, noise_energy, ps)
    lb = max(before, int(round(ps["template_before_ms"] * 1e-3 * fs_q)))
    la = max(after, int(round(ps["template_after_ms"] * 1e-3 * fs_q)))
    half = max(lb, la)
    temps = _long_templates(det_q, members, half, half)
    merge_shift = max(shift, int(round(ps["merge_shift_ms"] * 1e-3 * fs_q)))
    temps = _merge_templates(temps, merge_shift, ps["merge_residual_fraction"])
    return temps, (before, after, shift), half


def _keep_units(
    samples: np.ndarray, units: np.ndarray, temps: np.ndarray, dur: float, L: int, ps: dict,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Drop units with too few discharges or too low a rate (over ``dur`` seconds), then
    renumber by size (peak-to-peak of the template); returns the discharges (samples and
    units) in time order, the templates kept (width ``L`` when none) and the number of
    discharges dropped."""
    counts = np.bincount(units, minlength=temps.shape[0])
    kept = (counts >= ps["min_discharges"]) & (counts / dur >= ps["min_rate_hz"])
    mask = kept[units]
    n_dropped = int(units.size - mask.sum())
    keep = np.flatnonzero(kept)
    if keep.size:
        order = keep[np.argsort(-np.ptp(temps[keep], axis=1), kind="stable")]
        remap = np.empty(temps.shape[0], dtype=units.dtype)
        remap[order] = np.arange(order.size)
        temps = temps[order]
    else:
        remap = units
        temps = np.empty((0, L))
    samples, units = samples[mask], remap[units[mask]]
    by_time = np.argsort(samples, kind="stable")
    return samples[by_time], units[by_time], temps, n_dropped
