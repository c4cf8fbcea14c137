"""Average each motor unit's MUAP and measure duration, amplitude, phases, turns, area, rate."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from edxreview._errors import InvalidParameterError
from edxreview.signal._detect import contraction_noise_sd
from edxreview.signal._muap import Decomposition
from edxreview.signal._params import load_signal_parameters
from edxreview.signal._readers import Recording
from edxreview.signal._spontaneous import active_mask, segment_activity
from edxreview.signal._templates import median_rows, median_snippet


def _runs_below(mask_above: np.ndarray, quiet: int, start: int, step: int,
                values: np.ndarray | None = None, tol: float = 0.0) -> int:
    """From ``start`` walk by ``step`` and return the last index above threshold before an
    isoelectric interval of ``quiet`` samples (or the array edge); ``start`` when no sample on
    the way is above it.

    Without ``values`` the isoelectric interval is any stretch of ``quiet`` samples below
    threshold. With ``values`` (the signal less its baseline, as compared with the threshold)
    it begins where the signal returns to its baseline: the first sample after an excursion
    above threshold at which ``values`` reaches or crosses zero (the opposite sign to that
    excursion, or zero), and it lasts until the next sample above threshold; a stretch below
    threshold in which the signal does not reach zero (a slow phase still returning, or
    passing through the band into the next phase) holds none. With ``tol`` > 0 the signal
    reaches its baseline also where ``|values|`` <= ``tol`` (within the average's own noise of
    zero: ``[measurement] isoelectric_tolerance_sd``)."""
    a = mask_above[start::step] if step > 0 else mask_above[start::-1]
    if values is None:
        below = np.concatenate(([0], np.cumsum(~a)))
        runs = np.flatnonzero(below[quiet:] - below[:-quiet] == quiet) if a.size >= quiet else []
        if len(runs):
            a = a[: runs[0]]  # the walk stops at the first quiet stretch
        hits = np.flatnonzero(a)
        return start + step * int(hits[-1]) if hits.size else start
    hits = np.flatnonzero(a)
    if not hits.size or hits[0] >= quiet:
        # nothing above threshold, or the walk begins with an isoelectric interval
        return start
    v = values[start::step] if step > 0 else values[start::-1]
    # the sign of the last excursion above threshold at or before each sample of the walk
    last = np.maximum.accumulate(np.where(a, np.arange(a.size), -1))
    back = np.flatnonzero(~a & ((v * np.sign(v[np.maximum(last, 0)]) <= 0)
                             | (np.abs(v) <= tol)))
    # per excursion sample: the first return to the baseline after it, and the next excursion
    nxt = np.append(hits[1:], a.size)
    k = np.searchsorted(back, hits + 1)
    ret = np.append(back, a.size)[k]   # none: the array's end
    ok = nxt - ret >= quiet
    j = int(np.argmax(ok)) if ok.any() else hits.size - 1
    return start + step * int(hits[j])


def measure_waveform(
    y: np.ndarray, fs_hz: float, center: int, noise_sd: float, params: dict | None = None,
    calibrated: bool = False, halves: tuple[np.ndarray, np.ndarray] | None = None,
) -> dict[str, float]:
    """Measure one averaged MUAP.

    Onset and end are the outermost points, searching outward from the component at the
    discharge time, where the averaged MUAP (smoothed over ``smooth_ms``, 0.2 ms) leaves a band
    around its baseline (a straight line through the medians of the two ends of the window),
    followed beyond them by an isoelectric interval of at least ``quiet_ms``: with
    ``isoelectric_from_baseline``, from where the signal returns to its baseline (reaches or
    crosses zero) to where it leaves the band again, so that a phase passing slowly through the
    band into the next one (a slow terminal phase) stays in the MUAP; without it, any
    ``quiet_ms`` inside the band. The component at the discharge
    time is the sample outside the band nearest to the discharge time (the discharge time itself
    when it is outside the band), within +-``main_spike_window_ms`` (5 ms) of it; the search goes
    outward from that sample, and the onset-to-end window always contains the discharge time. The discharge time is the point on
    which the unit's discharges were aligned, so the potential there is the unit's own; the
    largest excursion of the average may be another one (a second unit firing in step with it,
    left in the average, or a late component), and searching outward from it measured, in 327 of
    3446 MUAPs of the evaluation recordings, a window that did not contain the discharge at all.
    The band's half-width is the largest of

    - ``threshold_baseline_sd`` x the baseline noise of the averaged MUAP itself: the RMS of the
      first and of the last ``baseline_edge_ms`` of the averaging window, the smaller of the
      two (one end may hold a late component). This noise includes what is left of the other
      units' activity after averaging, which a noise estimate from the quiet parts of the
      record misses;
    - ``threshold_noise_sd`` x ``noise_sd`` (the expected noise of the average);
    - ``threshold_fraction_pp`` x the peak-to-peak amplitude.

    This is the amplitude ("level") criterion of automatic duration measurement, with the band
    stated relative to baseline noise instead of in µV so that uncalibrated records are
    measured the same way. Because the search stops at the first ``quiet_ms`` of baseline, a
    late component separated from the MUAP by a stretch of baseline (a satellite potential)
    is left out of the duration, as the standard terminology asks (Stalberg et al. 1986).

    The other measures, each within the MUAP (onset to end), by the definitions declared in
    section ``[measurement]`` of ``emg_signal_parameters.toml``:

    - amplitude: peak-to-peak between onset and end (area, thickness = area / amplitude and
      the size index use this same amplitude);
    - phases: baseline crossings + 1, a crossing counted only between excursions beyond
      ``phase_fraction_pp`` x the amplitude and beyond the noise floor;
    - turns: slope reversals with an excursion of at least the turn threshold on both sides:
      ``turn_threshold_uv`` where the waveform is in µV (``calibrated``, rule
      ``"absolute_uv"``), else ``turn_fraction_pp`` x the amplitude (rule ``"relative_pp"``),
      never below the noise floor;
    - noise floor: ``threshold_noise_sd`` x ``noise_sd`` and, with
      ``noise_floor_from_baseline``, ``threshold_baseline_sd`` x the average's own baseline
      SD (the noise part of the duration band), the larger;
    - satellite: a late component after the end, separated from it by an isoelectric interval
      of at least ``quiet_ms`` (the duration search stops there) and reaching ``satellite_threshold_sd``
      x the noise of the average (the larger of its baseline SD and ``noise_sd``) as well as
      the duration band, within the averaging window; with ``satellite_split_half`` and
      ``halves`` it must also be in both halves (time-locked to the MUAP).

    Parameters
    ----------
    y : numpy.ndarray
        Averaged MUAP in the measurement band (recording units).
    fs_hz : float
        Sampling rate (Hz).
    center : int
        Index of the discharge time (main spike) in ``y``.
    noise_sd : float
        Expected noise SD of ``y`` (recording units).
    params : dict, optional
        Overrides of the ``measurement`` parameters.
    calibrated : bool
        ``y`` is in µV: turns use the µV threshold (``turn_threshold_uv``), otherwise the
        threshold relative to the amplitude.
    halves : tuple of numpy.ndarray, optional
        The medians of each half of the unit's discharges (odd and even ones), aligned as
        ``y``. With ``satellite_split_half``, a satellite counts only where each half holds it
        too, at its peak sample, with its sign and at least its threshold; without halves no
        satellite is reported (its time-locking cannot be shown).

    Returns
    -------
    dict
        ``duration_ms``, ``amplitude`` (peak-to-peak between onset and end, recording units),
        ``phases``, ``turns``, ``turn_rule`` (``"absolute_uv"`` or ``"relative_pp"``),
        ``satellite`` (bool), ``satellite_ms`` (the isoelectric interval: from the MUAP's
        return to the baseline after its end, or with ``isoelectric_from_baseline`` off from
        its end, to the satellite's departure from the band, ms; NaN without one),
        ``area`` (recording units x ms, between onset and end), ``thickness_ms`` (area /
        amplitude, ms), ``onset_ms``/``end_ms`` relative to the discharge time,
        ``spike_duration_ms`` (first to last sample above ``spike_fraction_of_peak``, half,
        of the main peak, the largest
        excursion between onset and end within +-5 ms of the discharge, within those same
        bounds, so never longer than the duration),
        ``baseline_sd`` (recording units).

    References
    ----------
    Stalberg E, Andreassen S, Falck B, et al. Quantitative analysis of individual motor unit
    potentials: a proposition for standardized terminology and criteria for measurement.
    J Clin Neurophysiol 1986;3:313-348.
    Pfeiffer G, Kunze K. Electroencephalogr Clin Neurophysiol 1992;85:161-165 (turn amplitude
    limit in µV).
    Finsterer J, Mamoli B. Satellite potentials as a measure of neuromuscular disorders.
    Muscle Nerve 1997;20:585-592 (satellite: after an isoelectric interval).
    Nandedkar SD, Barkhaus PE, Charles A. Multi-motor unit action potential analysis (MMA).
    Muscle Nerve 1995;18:1155-1166.
    Nandedkar SD, Barkhaus PE, Sanders DB, Stalberg EV. Analysis of amplitude and area of
    concentric needle EMG motor unit action potentials. Electroencephalogr Clin Neurophysiol
    1988;69:561-567 (area / amplitude, "thickness").
    """
    p = dict(load_signal_parameters()["measurement"])
    if params:
        p.update(params)
    h = None if halves is None else np.array([np.asarray(halves[0])[None, :],
                                              np.asarray(halves[1])[None, :]])
    return _measure_rows(y[None, :], fs_hz, center, np.array([noise_sd]), p, calibrated,
                         h)[0]


def _measure_rows(
    y: np.ndarray, fs_hz: float, center: int, noise_sd: np.ndarray, p: dict,
    calibrated: bool = False, halves=None, markers: tuple | None = None,
) -> list[dict[str, float]]:
    """:func:`measure_waveform` for each row of ``y`` (waveforms of one length, the discharge
    at ``center``; ``noise_sd`` one per row; ``halves``: the two half-medians of every row,
    shape (2, rows, samples), a function of row indices giving those rows' half-medians, or
    None): the duration markers and satellites of all rows at once (``markers``: those of
    :func:`_duration_markers` with satellites, when already computed), then each row's phases,
    turns, area and spike."""
    rule = "absolute_uv" if calibrated else "relative_pp"
    nan = dict(duration_ms=np.nan, amplitude=0.0, phases=0, turns=0, turn_rule=rule,
               satellite=False, satellite_ms=np.nan, area=np.nan, thickness_ms=np.nan,
               onset_ms=np.nan, end_ms=np.nan, spike_duration_ms=np.nan, baseline_sd=np.nan)
    yb, lo, hi, ipk, amp, baseline_sd, onset, end, sat = markers or _duration_markers(
        y, fs_hz, center, noise_sd, p, satellites=True)
    sat_ms = sat["gap_ms"]
    if p["satellite_split_half"]:
        # only the rows with a candidate satellite need their halves
        cand = np.flatnonzero(np.isfinite(sat_ms))
        keep = np.zeros(sat_ms.size, bool)
        if cand.size and halves is not None:
            h = halves(cand) if callable(halves) else np.asarray(halves)[:, cand]
            keep[cand] = _in_both_halves(h, {k: v[cand] for k, v in sat.items()},
                                         y.shape[1], fs_hz, p)
        sat_ms = np.where(keep, sat_ms, np.nan)
    return [_measure_row(r, lo, hi, *v, fs_hz, center, p, calibrated) if v[1] > 0
            else dict(nan)
            for r, v in zip(yb, zip(ipk.tolist(), amp.tolist(), baseline_sd.tolist(),
                                    onset.tolist(), end.tolist(), noise_sd.tolist(),
                                    sat_ms.tolist()))]


def _measure_row(
    yb: np.ndarray, lo: int, hi: int, ipk: int, amp_window: float, baseline_sd: float,
    onset: int, end: int, noise_sd: float, satellite_ms: float, fs_hz: float, center: int,
    p: dict, calibrated: bool,
) -> dict[str, float]:
    """Amplitude, phases, turns, area and spike of one waveform less its baseline, from its
    markers (``amp_window``, the peak-to-peak within +-5 ms of the discharge, only says the
    row is not flat)."""
    duration_ms = (end - onset) / fs_hz * 1e3
    part = yb[onset : end + 1]
    # amplitude: peak-to-peak of the MUAP, onset to end (not of the +-5 ms window, which may
    # hold another unit's potential or the satellite left out of the MUAP)
    amp = float(np.ptp(part))
    # the noise floor of phases and turns: the noise of the average (with
    # noise_floor_from_baseline, that of its own baseline too: the duration band's noise part)
    floor = p["threshold_noise_sd"] * noise_sd
    if p["noise_floor_from_baseline"]:
        floor = max(floor, p["threshold_baseline_sd"] * baseline_sd)
    # phases: baseline crossings between onset and end, counting only excursions that reach
    # the phase threshold
    pthr = max(p["phase_fraction_pp"] * amp, floor)
    sig = np.where(part > pthr, 1, np.where(part < -pthr, -1, 0))
    sig = sig[sig != 0]
    phases = int(1 + np.count_nonzero(np.diff(sig))) if sig.size else 0
    # turns: reversals with at least the turn threshold on both sides, in µV where calibrated
    turn = p["turn_threshold_uv"] if calibrated else p["turn_fraction_pp"] * amp
    tthr = max(turn, floor)
    turns = _count_turns(part, tthr)
    area = float(np.sum(np.abs(part)) / fs_hz * 1e3)
    # spike duration: first to last peak above spike_fraction_of_peak (half) of the main peak,
    # within the MUAP (onset to end): a component beyond a quiet stretch is a satellite,
    # outside the MUAP and its spike
    a, b = max(lo, onset), min(hi, end + 1)
    big = np.flatnonzero(np.abs(yb[a:b]) >= p["spike_fraction_of_peak"] * np.abs(yb[ipk]))
    spike_ms = (big[-1] - big[0]) / fs_hz * 1e3 if big.size else 0.0
    return dict(
        duration_ms=float(duration_ms), amplitude=amp, phases=phases, turns=turns,
        turn_rule="absolute_uv" if calibrated else "relative_pp",
        satellite=bool(np.isfinite(satellite_ms)), satellite_ms=satellite_ms, area=area,
        thickness_ms=area / amp if amp > 0 else np.nan, onset_ms=(onset - center) / fs_hz * 1e3,
        end_ms=(end - center) / fs_hz * 1e3, spike_duration_ms=float(spike_ms),
        baseline_sd=baseline_sd,
    )


def smooth_rows(yb: np.ndarray, fs_hz: float, smooth_ms: float) -> np.ndarray:
    """Each row of ``yb`` smoothed over ``smooth_ms`` (a centred moving average; ``[measurement]
    smooth_ms``, 0.2 ms) so that single-sample noise does not cross the duration band."""
    k = max(1, int(round(smooth_ms * 1e-3 * fs_hz)))
    return np.array([np.convolve(r, np.ones(k) / k, mode="same") for r in yb]).reshape(yb.shape)


def duration_band(baseline_sd: np.ndarray, noise_sd: float | np.ndarray, amp: np.ndarray,
                  p: dict) -> np.ndarray:
    """Half-width of the band around the baseline that onset and end are measured against: the
    largest of ``threshold_baseline_sd`` x the average's own baseline SD, ``threshold_noise_sd``
    x its expected noise and ``threshold_fraction_pp`` x its peak-to-peak amplitude (recording
    units, one per row)."""
    return np.maximum(np.maximum(p["threshold_baseline_sd"] * baseline_sd,
                                 p["threshold_noise_sd"] * noise_sd),
                      p["threshold_fraction_pp"] * amp)


def _duration_markers(
    y: np.ndarray, fs_hz: float, center: int, noise_sd: float | np.ndarray, p: dict,
    satellites: bool = False,
) -> tuple:
    """The first step of :func:`measure_waveform` for each row of ``y`` (waveforms of one
    length, the discharge at ``center``; ``noise_sd`` one for all or one per row): the rows
    less their baselines, the +-5 ms window
    ``lo:hi`` around the discharge, and per row the main peak, the peak-to-peak amplitude in
    that window (0 or less: a flat row, whose markers mean nothing), the baseline SD, onset
    and end (indices); with ``satellites``, also a dict of per-row arrays: the satellite's
    isoelectric interval ``gap_ms`` (NaN: no satellite, see :func:`measure_waveform`), its
    ``peak`` sample, ``sign`` and threshold ``thr``."""
    n = y.shape[1]
    e = _edge_samples(n, fs_hz, p)
    # baseline: a straight line through the medians of the first and last ``e`` samples, so
    # that a slow offset between the two ends of the window (drift, the tail of another unit)
    # does not put the band off the baseline on one side
    yb = _less_baseline(y, e)
    # main spike: largest excursion within +-main_spike_window_ms (5 ms) of the discharge time
    w = int(round(p["main_spike_window_ms"] * 1e-3 * fs_hz))
    lo, hi = max(0, center - w), min(n, center + w + 1)
    seg = yb[:, lo:hi]
    amp = seg.max(axis=1) - seg.min(axis=1)
    ys = smooth_rows(yb, fs_hz, p["smooth_ms"])
    baseline_sd = np.sqrt(np.minimum(np.add.reduce(np.square(ys[:, :e]), axis=1),
                                     np.add.reduce(np.square(ys[:, -e:]), axis=1)) / e)
    thr = duration_band(baseline_sd, noise_sd, amp, p)
    above = np.abs(ys) > thr[:, None]
    quiet = max(int(p["quiet_min_samples"]), int(round(p["quiet_ms"] * 1e-3 * fs_hz)))
    # the search starts from the component at the discharge time: the sample outside the band
    # nearest to it within +-5 ms (the discharge time itself when it is outside the band), not
    # from the largest excursion, which may be another unit's potential left in the average
    far = n + 1
    dist = np.where(above[:, lo:hi], np.abs(np.arange(lo, hi) - center), far)
    start = np.where(dist.min(axis=1) < far, lo + np.argmin(dist, axis=1), center).tolist()
    # the isoelectric interval that ends the MUAP: from the return to the baseline (with
    # isoelectric_from_baseline) or from the entry into the band
    vals = ys if p["isoelectric_from_baseline"] else [None] * len(ys)
    # ... where the signal comes within isoelectric_tolerance_sd x the average's noise (the
    # larger of its own baseline SD and its expected noise SD, the noise the duration band and
    # the satellite threshold are multiples of) of the baseline, or crosses it (0: exact zero)
    avg_noise = np.maximum(baseline_sd, np.broadcast_to(noise_sd, baseline_sd.shape))
    tol = p["isoelectric_tolerance_sd"] * avg_noise
    onset = np.minimum([_runs_below(a, quiet, i, -1, v, t)
                        for a, i, v, t in zip(above, start, vals, tol.tolist())], center)
    end = np.maximum([_runs_below(a, quiet, i, +1, v, t)
                      for a, i, v, t in zip(above, start, vals, tol.tolist())], center)
    # main peak: the largest excursion of the MUAP (onset to end) within +-5 ms
    cols = np.arange(lo, hi)
    inside = (cols >= onset[:, None]) & (cols <= end[:, None])
    ipk = lo + np.argmax(np.where(inside, np.abs(seg), -1.0), axis=1)
    onset, end = onset.astype(int), end.astype(int)
    if not satellites:
        return yb, lo, hi, ipk, amp, baseline_sd, onset, end
    sat_thr = np.maximum(thr, p["satellite_threshold_sd"] * avg_noise)
    sat = _satellites(ys, above, end, sat_thr, quiet,
                      max(1, int(round(p["satellite_peak_window_ms"] * 1e-3 * fs_hz))), fs_hz,
                      p["isoelectric_from_baseline"], tol)
    return yb, lo, hi, ipk, amp, baseline_sd, onset, end, sat



def _less_baseline(y: np.ndarray, e: int) -> np.ndarray:
    """Each row less its baseline: a straight line through the medians of its first and last
    ``e`` samples."""
    n = y.shape[1]
    b0, b1 = median_rows(y[:, :e].copy())[:, None], median_rows(y[:, -e:].copy())[:, None]
    return y - (b0 + (b1 - b0) * (np.arange(n) - (e - 1) / 2) / max(1.0, n - e))


def _edge_samples(n: int, fs_hz: float, p: dict) -> int:
    """Samples at each end of an averaging window of ``n`` samples that its baseline is taken
    from: ``baseline_edge_ms`` when that is at least ``baseline_edge_min_samples`` (3) and at
    most ``baseline_edge_max_fraction`` (a quarter) of the window, else
    ``baseline_edge_fallback_fraction`` (a tenth) of the window, at least
    ``baseline_edge_min_samples``. One rule for the measurement and its half-medians."""
    e = int(round(p["baseline_edge_ms"] * 1e-3 * fs_hz))
    e_min = int(p["baseline_edge_min_samples"])
    if e_min <= e <= int(n * p["baseline_edge_max_fraction"]):
        return e
    return max(e_min, int(n * p["baseline_edge_fallback_fraction"]))


def _in_both_halves(halves: np.ndarray, sat: dict, n: int, fs_hz: float,
                    p: dict) -> np.ndarray:
    """Per row, whether its satellite is time-locked: each half-median (less its own baseline,
    smoothed as the whole) holds it at the satellite's peak sample with its sign and at least
    its threshold."""
    e = _edge_samples(n, fs_hz, p)
    rows = np.arange(sat["peak"].size)
    ok = np.ones(rows.size, bool)
    for h in halves:
        v = smooth_rows(_less_baseline(np.asarray(h, float), e), fs_hz,
                        p["smooth_ms"])[rows, sat["peak"]]
        ok &= v * sat["sign"] >= sat["thr"]
    return ok


def _satellites(ys: np.ndarray, above: np.ndarray, end: np.ndarray, sat_thr: np.ndarray,
                quiet: int, peak_window: int, fs_hz: float, from_baseline: bool,
                tol: np.ndarray) -> dict:
    """Per row, the isoelectric interval ``gap_ms`` between the MUAP's end and its first late
    component reaching ``sat_thr`` (to that component's departure from the duration band
    ``above``), NaN where there is none or the interval is shorter than ``quiet`` samples;
    that component's ``peak`` (the largest excursion within ``peak_window`` samples from where
    it reaches ``sat_thr``: ``[measurement] satellite_peak_window_ms``), its ``sign`` and
    ``thr`` = ``sat_thr`` (whole-table). The interval begins just after the end or, with
    ``from_baseline``, where the signal returns to its baseline after the end (the first sample
    inside the band of the sign opposite to the end's, or zero, or within ``tol`` of zero, one
    per row; none: no isoelectric interval, no satellite)."""
    mag = np.abs(ys)
    n = mag.shape[1]
    cols = np.arange(n)
    rows = np.arange(mag.shape[0])
    late = cols > end[:, None]
    big = late & (mag > sat_thr[:, None])
    first = np.where(big.any(axis=1), np.argmax(big, axis=1), -1)
    # the satellite leaves the band just after the last in-band sample before its peak
    gap = late & ~above & (cols < first[:, None])
    last_quiet = np.where(gap.any(axis=1), n - 1 - np.argmax(gap[:, ::-1], axis=1), end)
    start = last_quiet + 1
    if from_baseline:
        back = late & ~above & ((ys * np.sign(ys[rows, end])[:, None] <= 0)
                                | (np.abs(ys) <= tol[:, None]))
        ret = np.where(back.any(axis=1), np.argmax(back, axis=1), n)
        ok = (first >= 0) & (start - ret >= quiet)
        gap_ms = (start - ret) / fs_hz * 1e3
    else:
        ok = (first >= 0) & (start - end - 1 >= quiet)
        gap_ms = (start - end) / fs_hz * 1e3
    near = np.clip(np.maximum(first, 0)[:, None] + np.arange(peak_window),
                   0, n - 1)
    peak = near[rows, np.argmax(mag[rows[:, None], near], axis=1)]
    return dict(gap_ms=np.where(ok, gap_ms, np.nan), peak=peak,
                sign=np.sign(ys[rows, peak]), thr=sat_thr)


def measure_durations(y: np.ndarray, fs_hz: float, center: int, noise_sd: float) -> np.ndarray:
    """The durations (ms) :func:`measure_waveform` gives for each row of ``y`` (waveforms of
    one length, the discharge at ``center``; NaN for a flat row), without the other
    measurements."""
    *_, amp, _, onset, end = _duration_markers(y, fs_hz, center, noise_sd,
                                               load_signal_parameters()["measurement"])
    return np.where(amp > 0, (end - onset) / fs_hz * 1e3, np.nan)


def _count_turns(x: np.ndarray, thr: float) -> int:
    """Number of slope reversals whose excursions on both sides exceed ``thr``.

    The walk keeps the extreme value since the last reversal; a sample inside a strictly
    monotone stretch cannot start a reversal that its neighbour on the way out would not, so
    only the first and last samples and the points where the slope changes (or stalls) are
    walked."""
    if x.size < 3:
        return 0
    d = np.diff(x)
    inner = ((d[:-1] > 0) & (d[1:] > 0)) | ((d[:-1] < 0) & (d[1:] < 0))
    seq = x[np.concatenate(([True], ~inner, [True]))].tolist()
    turns = 0
    direction = 0
    x0 = ext = seq[0]
    for v in seq[1:]:
        if direction >= 0:
            if v > ext:
                ext = v
                if direction == 0 and v - x0 >= thr:
                    direction = 1
            elif ext - v >= thr:
                if direction == 1:
                    turns += 1
                direction, ext = -1, v
        if direction < 0:
            if v < ext:
                ext = v
            elif v - ext >= thr:
                turns += 1
                direction, ext = 1, v
    return turns


# [measurement] average_less_other_units: what each other unit's reconstruction is made of
_LESS_OTHER_UNITS = {"none", "averaging_window", "muap"}


def _averages_less_other_units(
    x: np.ndarray, found: list, waves: list[np.ndarray], before: int, after: int,
) -> tuple[list[np.ndarray], Callable[[int], np.ndarray]]:
    """Each unit's median average of the signal less the other units' reconstruction.

    The reconstruction of the record is every unit's template (``waves``: its first-pass
    median average, the whole averaging window or only its MUAP) placed at each of its
    discharges (all of them, the windows cut at the record's ends); unit ``k`` is averaged
    again, as before, over its discharges whose window fits, in ``x`` less the reconstruction
    of the units other than ``k``: the other units' potentials that overlap its discharges
    leave its average. One pass: the templates subtracted are the first-pass averages.

    Returns
    -------
    waves : list of numpy.ndarray
        The cleaned averages, one per unit of ``found``.
    signal_of : callable
        ``signal_of(r)``: the signal the average of unit ``r`` was taken from (for the
        half-medians of the satellite test).
    """
    n = x.size
    offsets = np.arange(-before, after + 1)
    own = []  # per unit: (the flat sample indices its template covers, the values there)
    for (_, s, _), t in zip(found, waves):
        idx = (s[:, None] + offsets[None, :]).ravel()
        val = np.broadcast_to(t, (s.size, offsets.size)).ravel()
        keep = (idx >= 0) & (idx < n)
        own.append((idx[keep], val[keep]))
    recon = np.zeros(n)
    np.add.at(recon, np.concatenate([i for i, _ in own]), np.concatenate([v for _, v in own]))
    less_all = x - recon

    def signal_of(r: int) -> np.ndarray:
        y = less_all.copy()
        np.add.at(y, own[r][0], own[r][1])
        return y

    return [median_snippet(signal_of(r), s_ok, before, after)
            for r, (_, _, s_ok) in enumerate(found)], signal_of


def measure_muaps(rec: Recording, dec: Decomposition,
                  segments: pd.DataFrame | None = None) -> pd.DataFrame:
    """Average and measure every motor unit of a decomposition.

    Parameters
    ----------
    rec : Recording
    dec : Decomposition
        Output of :func:`sort_units`.
    segments : pandas.DataFrame, optional
        The recording's rest and active stretches
        (:func:`~edxreview.signal._spontaneous.segment_activity`); computed when omitted. The
        ``template_rms_ratio`` is taken against the signal of the active stretches, and the
        noise SD (the expected noise of each average, ``amplitude_snr``) over them
        (:func:`~edxreview.signal._detect.contraction_noise_sd`).

    Returns
    -------
    pandas.DataFrame
        One row per unit: ``unit``, ``n_discharges``, ``firing_rate_hz`` (Hz, median of
        1/inter-discharge interval over the intervals within ``firing_interval_min_ms`` to
        ``firing_interval_max_ms``, 20-500 ms), ``duration_ms``,
        ``amplitude_uv`` (µV, NaN when uncalibrated), ``amplitude_adu`` (ADC units, NaN when
        calibrated), ``amplitude_snr`` (peak-to-peak / baseline noise SD: scale-free),
        ``phases``, ``turns``, ``turn_rule`` (``absolute_uv``: the µV turn threshold of a
        calibrated recording; ``relative_pp``: the threshold relative to the amplitude),
        ``area_uv_ms`` (or ``area_adu_ms``), ``thickness_ms`` (area / amplitude, ms:
        scale-free), ``polyphasic``, ``satellite`` (a late component after an isoelectric
        interval of >= ``quiet_ms``), ``satellite_ms`` (that interval, ms; NaN without one),
        ``rise_time_ms`` (rise time of the main spike, ms), ``template_rms_ratio``
        (peak-to-peak of the unit's detection-band template over the RMS of the detection-band
        signal of the active stretches, the whole signal when there are none; NaN without the decomposition's templates), ``accepted`` (bool) and
        ``reject_rule`` (the first acceptance rule failed, ``""`` when accepted:
        :func:`~edxreview.signal._acceptance.assess_waveforms`). The amplitude is the
        peak-to-peak between onset and end (:func:`measure_waveform`). Every unit is kept;
        what aggregates MUAPs uses the accepted ones only
        (:func:`~edxreview.signal._acceptance.accepted_muaps`).
        With ``average_less_other_units`` ([measurement]) ``"averaging_window"`` or
        ``"muap"`` each unit is averaged over the signal less the other units' first-pass
        averages (the whole averaging window, or only the MUAP: onset to end, less its
        baseline) placed at their discharges (:func:`_averages_less_other_units`); with
        ``"none"`` over the signal itself.
        ``attrs["waveforms"]`` holds the averaged MUAPs (units x samples) and ``attrs["t_ms"]``
        their time axis.
    """
    pm = load_signal_parameters()["measurement"]
    fs = rec.fs_hz
    before = int(round(pm["window_before_ms"] * 1e-3 * fs))
    after = int(round(pm["window_after_ms"] * 1e-3 * fs))
    x = dec.measure if dec.measure.size else rec.samples
    n = x.size

    # the expected noise of an average taken during the contraction is the contraction's
    # background, not the rest's (contraction_noise_sd)
    if segments is None:
        segments = segment_activity(rec)
    noise_sd = contraction_noise_sd(x, fs, active_mask(segments, n, fs), centre=True)
    disc = dec.discharges
    units = disc["unit"].to_numpy()
    order = np.argsort(units, kind="stable")
    bounds = np.flatnonzero(np.diff(units[order])) + 1
    all_s = disc["sample"].to_numpy()[order]
    found = []  # (unit, its discharges, those whose window fits in the record)
    for s, u in zip(np.split(all_s, bounds), units[order][np.r_[0, bounds]] if units.size else []):
        s_ok = s[(s - before >= 0) & (s + after < n)]
        if s_ok.size:
            found.append((u, s, s_ok))
    waves = [median_snippet(x, s_ok, before, after) for _, _, s_ok in found]
    signal_of = (lambda r: x)
    # the expected noise of each average (a median of its discharges)
    expected = np.array([noise_sd / np.sqrt(max(1, s_ok.size))
                         * pm["median_average_noise_factor"] + 1e-12 for _, _, s_ok in found])
    less = pm["average_less_other_units"]
    if less not in _LESS_OTHER_UNITS:
        raise InvalidParameterError(
            f"emg_signal_parameters.toml [measurement] average_less_other_units must be one "
            f"of {sorted(_LESS_OTHER_UNITS)}, not {less!r}.")
    if less != "none" and len(found) > 1:
        first = np.array(waves).reshape(len(waves), before + after + 1)
        if less == "muap":
            # each template is its first-pass MUAP: less its baseline, onset to end, zero
            # elsewhere (the duration markers of the first pass)
            yb, *_, onset, end = _duration_markers(first, fs, before, expected, pm)
            cols = np.arange(first.shape[1])
            first = np.where((cols >= onset[:, None]) & (cols <= end[:, None]), yb, 0.0)
        waves, signal_of = _averages_less_other_units(x, found, list(first), before, after)

    def halves(rows: np.ndarray) -> np.ndarray:
        """The medians of each half of the discharges (odd and even ones) of these units: a
        satellite must be in both (time-locked); a unit with a single discharge has no
        halves (a flat half: no satellite). Computed only for the units with a candidate."""
        flat = np.zeros(before + after + 1)
        sig = {r: signal_of(r) for r in rows if found[r][2].size > 1}  # once per unit
        return np.array([[median_snippet(sig[r], found[r][2][i::2], before, after)
                          if r in sig else flat for r in rows] for i in (0, 1)]
                        ).reshape(2, len(rows), before + after + 1)

    y = np.array(waves).reshape(len(waves), before + after + 1)
    # the duration markers once, for the measures and the acceptance criteria alike
    markers = _duration_markers(y, fs, before, expected, pm, satellites=True)
    measured = _measure_rows(y, fs, before, expected, pm, rec.calibrated, halves, markers)
    # the acceptance criteria (section acceptance): rise time, accepted, reject_rule
    # (imported here: _acceptance builds on this module's duration markers)
    from edxreview.signal._acceptance import assess_waveforms, template_rms_ratios
    # the unit's size where the decomposition sorted it: its detection-band template against
    # the detection-band signal of the contraction, the active stretches (a hand-made
    # decomposition without them: not judged)
    t = dec.templates
    ratio = np.full(len(found), np.nan)
    if dec.detect.size and np.ndim(t) == 2:
        rows = np.array([u for u, _, _ in found], int)
        have = rows < len(t)
        ratio[have] = template_rms_ratios(t[rows[have]], dec.detect,
                                          active_mask(segments, dec.detect.size, fs))
    quality = assess_waveforms(y, fs, before, expected,
                               np.array([s_ok.size for _, _, s_ok in found], int), markers[:8],
                               template_rms_ratio=ratio)
    # firing intervals within the declared bounds (s; divided, not multiplied, so that the
    # bounds are exactly 0.02 and 0.5 s)
    isi_min, isi_max = pm["firing_interval_min_ms"] / 1e3, pm["firing_interval_max_ms"] / 1e3
    rows = []
    for (u, s, _), m in zip(found, measured):
        isi = np.diff(np.sort(s)) / fs
        isi = isi[(isi >= isi_min) & (isi <= isi_max)]
        rate = float(np.median(1 / isi)) if isi.size else np.nan
        cal = rec.calibrated
        rows.append(
            dict(
                unit=int(u) + 1,
                n_discharges=int(s.size),
                firing_rate_hz=rate,
                duration_ms=m["duration_ms"],
                amplitude_uv=m["amplitude"] if cal else np.nan,
                amplitude_adu=np.nan if cal else m["amplitude"],
                amplitude_snr=m["amplitude"] / noise_sd if noise_sd > 0 else np.nan,
                phases=m["phases"],
                turns=m["turns"],
                turn_rule=m["turn_rule"],
                area_uv_ms=m["area"] if cal else np.nan,
                area_adu_ms=np.nan if cal else m["area"],
                spike_duration_ms=m["spike_duration_ms"],
                thickness_ms=m["thickness_ms"],
                onset_ms=m["onset_ms"],
                end_ms=m["end_ms"],
                polyphasic=bool(m["phases"] >= pm["polyphasic_min_phases"]),
                satellite=m["satellite"],
                satellite_ms=m["satellite_ms"],
            )
        )
    df = pd.DataFrame(rows)
    if len(df):
        df = df.join(quality)
    df.attrs["waveforms"] = np.array(waves)
    df.attrs["t_ms"] = np.arange(-before, after + 1) / fs * 1e3
    df.attrs["noise_sd"] = noise_sd
    return df
