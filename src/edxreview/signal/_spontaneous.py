"""Rest vs voluntary segmentation, and spontaneous activity at rest (fibrillation potentials,
positive sharp waves, fasciculations) graded 0-4+.

References
----------
Daube JR, Rubin DI. Needle electromyography. Muscle Nerve 2009;39:244-270.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
import pandas as pd

from edxreview.signal._detect import _find_candidates, filter_bands, robust_noise_sd
from edxreview.signal._params import load_signal_parameters
from edxreview.signal._readers import Recording
from edxreview.signal._templates import median_snippet

GRADES = ("0", "±", "1+", "2+", "3+", "4+")

#: why spontaneous activity was not graded (``spont_not_graded_reason``): the first step of
#: :func:`select_rest` after which less than ``min_rest_s`` of rest was left, in their order
NOT_GRADED_REASONS = {
    "no_rest_recorded": "no rest recorded",
    "uncalibrated_without_contraction": "rest cannot be told from a steady contraction",
    "rest_not_relaxed": "the rest is not relaxed",
    "rest_near_voluntary": "the relaxed rest lies next to voluntary activity",
    "rest_in_pauses": "the relaxed rest is only pauses within the contraction",
}


def segment_activity(rec: Recording) -> pd.DataFrame:
    """Split a recording into rest and voluntary-activity stretches.

    A block of ``block_ms`` is active when its detection-band RMS exceeds ``active_factor``
    baseline-noise SDs; active stretches shorter than ``active_min_ms`` count as rest (isolated
    spontaneous potentials do not make a contraction).

    Parameters
    ----------
    rec : Recording

    Returns
    -------
    pandas.DataFrame
        ``start_s``, ``end_s`` (s), ``state`` (``"rest"`` / ``"active"``).
    """
    p = load_signal_parameters()["segmentation"]
    _, detect = filter_bands(rec)
    sd = robust_noise_sd(detect, rec.fs_hz)
    n = max(1, int(round(p["block_ms"] * 1e-3 * rec.fs_hz)))
    m = detect.size // n
    if m == 0:
        return pd.DataFrame({"start_s": [0.0], "end_s": [rec.duration_s], "state": ["rest"]})
    rms = np.sqrt(np.mean(detect[: m * n].reshape(m, n) ** 2, axis=1))
    active = rms > p["active_factor"] * sd
    min_blocks = max(1, int(np.ceil(p["active_min_ms"] / p["block_ms"])))
    rows = []
    i = 0
    while i < m:
        j = i
        while j < m and active[j] == active[i]:
            j += 1
        state = "active" if active[i] and (j - i) >= min_blocks else "rest"
        if rows and rows[-1][2] == state:
            rows[-1][1] = j
        else:
            rows.append([i, j, state])
        i = j
    rows[-1][1] = detect.size / n
    return pd.DataFrame(
        {
            "start_s": [r[0] * n / rec.fs_hz for r in rows],
            "end_s": [r[1] * n / rec.fs_hz for r in rows],
            "state": [r[2] for r in rows],
        }
    )


def active_mask(segments: pd.DataFrame, n_samples: int, fs_hz: float) -> np.ndarray:
    """Which of ``n_samples`` samples lie in an active stretch of :func:`segment_activity`'s
    ``segments`` (a stretch from ``start_s`` inclusive to ``end_s`` exclusive).

    Examples
    --------
    >>> import pandas as pd
    >>> seg = pd.DataFrame({"start_s": [0.0, 0.2], "end_s": [0.2, 0.5],
    ...                     "state": ["active", "rest"]})
    >>> int(active_mask(seg, 50, 100.0).sum())
    20
    """
    mask = np.zeros(n_samples, dtype=bool)
    act = segments[segments["state"] == "active"]
    for a, b in zip(act["start_s"].tolist(), act["end_s"].tolist()):
        mask[max(0, int(round(a * fs_hz))) : min(n_samples, int(round(b * fs_hz)))] = True
    return mask


@dataclass
class RestSelection:
    """The rest stretches of a recording in which spontaneous activity is graded.

    Attributes
    ----------
    stretches : DataFrame
        ``start_s``, ``end_s`` (s) of the rest graded (empty when none).
    rest_s : float
        Seconds that segmentation called rest.
    graded_s : float
        Seconds of rest fit for grading (``rest_s`` less the blocks that are not true rest).
    rule : str
        ``spont_graded`` or ``spont_not_graded``.
    reasons : list of str
        Why, with the numbers (baseline SDs and the limits they were held to).
    """

    stretches: pd.DataFrame
    rest_s: float
    graded_s: float
    rule: str
    reasons: list[str]
    #: why not graded, one of :data:`NOT_GRADED_REASONS` (``""`` when graded)
    not_graded_reason: str = ""


def select_rest(rec: Recording, segments: pd.DataFrame | None = None) -> RestSelection:
    """The rest stretches fit for grading spontaneous activity.

    A block (``segmentation.block_ms``) of a rest stretch of :func:`segment_activity` is graded
    only when its baseline, the robust SD of the detection band (median absolute value /
    0.6745, which sparse spontaneous potentials leave unchanged and an interference pattern
    raises), is at most ``rest_max_fraction_of_active`` times the median RMS of the active
    blocks (when the recording has any) and, for a calibrated recording, at most
    ``rest_max_sd_uv`` µV. An uncalibrated recording with no active block has neither
    criterion and is not graded. Such blocks count only when they lie at least
    ``rest_guard_s`` after the end of voluntary activity and before its next start (a guard
    time: voluntary activity being the active blocks and the rest blocks that fail the baseline
    criteria), and only in stretches of at least ``rest_min_stretch_s`` (shorter ones are
    pauses within a contraction). Fewer than ``min_rest_s`` seconds of such rest: not graded,
    with the first of these steps after which too little rest was left as its reason
    (``not_graded_reason``, one of :data:`NOT_GRADED_REASONS`): ``no_rest_recorded`` (the
    segmentation calls less than ``min_rest_s`` of the recording rest: a contraction
    throughout), ``uncalibrated_without_contraction``, ``rest_not_relaxed`` (the baseline
    criteria), ``rest_near_voluntary`` (the guard time), ``rest_in_pauses`` (the short
    stretches). A recording not graded was not examined at rest: its grades are blank, which
    does not mean that it has no spontaneous activity.

    Parameters
    ----------
    rec : Recording
    segments : pandas.DataFrame, optional
        Output of :func:`segment_activity`; computed when omitted.

    Returns
    -------
    RestSelection

    Examples
    --------
    >>> import numpy as np
    >>> from edxreview.signal import Recording
    >>> rng = np.random.default_rng(0)
    >>> quiet = Recording(samples=rng.normal(0, 5, 40_000), fs_hz=20_000.0, calibrated=True,
    ...                   name="rest")
    >>> sel = select_rest(quiet)
    >>> sel.rule, sel.graded_s
    ('spont_graded', 2.0)
    >>> busy = Recording(samples=rng.normal(0, 300, 40_000), fs_hz=20_000.0, calibrated=True,
    ...                  name="contraction")
    >>> sel = select_rest(busy)
    >>> sel.rule, sel.not_graded_reason
    ('spont_not_graded', 'rest_not_relaxed')
    """
    if segments is None:
        segments = segment_activity(rec)
    ps = load_signal_parameters()["segmentation"]
    p = load_signal_parameters()["spontaneous"]
    fs = rec.fs_hz
    _, detect = filter_bands(rec)
    n = max(1, int(round(ps["block_ms"] * 1e-3 * fs)))
    m = detect.size // n
    block_s = n / fs
    starts = np.arange(m) * block_s
    rest = np.zeros(m, dtype=bool)
    active = np.zeros(m, dtype=bool)
    mid = starts + block_s / 2
    for a, b, state in zip(segments["start_s"], segments["end_s"], segments["state"]):
        inside = (mid >= a) & (mid < b)
        (rest if state == "rest" else active)[inside] = True
    blocks = detect[: m * n].reshape(m, n)
    rsd = np.median(np.abs(blocks - np.median(blocks, axis=1, keepdims=True)), axis=1) / 0.6745
    rms = np.sqrt(np.mean(blocks**2, axis=1))
    unit = "µV" if rec.calibrated else rec.unit
    limits, texts = [], []
    if active.any():
        act = float(np.median(rms[active]))
        lim = p["rest_max_fraction_of_active"] * act
        limits.append(lim)
        texts.append(f"{p['rest_max_fraction_of_active']:g} x the active blocks' median RMS "
                     f"{act:.3g} {unit} = {lim:.3g} {unit}")
    if rec.calibrated:
        limits.append(float(p["rest_max_sd_uv"]))
        texts.append(f"rest ceiling {p['rest_max_sd_uv']:g} {unit}")
    reasons = []
    left = {"no_rest_recorded": float(rest.sum() * block_s)}   # rest left after each step
    if limits:
        fit = rest & (rsd <= min(limits))
    else:
        fit = np.zeros(m, dtype=bool)
        if rest.any():
            reasons.append("uncalibrated recording without an active stretch: its rest cannot "
                           "be told from a steady contraction")
    rest_s = float(rest.sum() * block_s)
    left["uncalibrated_without_contraction" if not limits else "rest_not_relaxed"] = float(
        fit.sum() * block_s)
    left_out = rest & ~fit
    if left_out.any() and limits:
        reasons.append(f"{left_out.sum() * block_s:.1f} s of rest left out as not relaxed: "
                       f"baseline robust SD {np.median(rsd[left_out]):.3g} {unit} (median of "
                       f"those blocks), above the limit {min(limits):.3g} {unit} ("
                       + "; ".join(texts) + ")")
    # guard time: the blocks within rest_guard_s of voluntary activity (active, or rest not
    # relaxed) are its derecruiting or first recruited units, not a relaxed muscle
    busy = active | (rest & ~fit)
    g = int(np.ceil(p["rest_guard_s"] / block_s - 1e-9))
    if g > 0 and busy.any():
        c = np.r_[0, np.cumsum(busy)]
        i = np.arange(m)
        near = c[np.minimum(i + g + 1, m)] > c[np.maximum(i - g, 0)]
        guarded = fit & near
        if guarded.any():
            fit &= ~near
            reasons.append(f"{guarded.sum() * block_s:.1f} s of rest left out within "
                           f"{p['rest_guard_s']:g} s of voluntary activity (guard time: its "
                           f"last or first motor units, not a relaxed muscle)")
    left["rest_near_voluntary"] = float(fit.sum() * block_s)
    # stretches of relaxed blocks; the short ones are lulls within a contraction, not rest
    edges = np.flatnonzero(np.diff(np.r_[0, fit.astype(np.int8), 0]))
    short = (edges[1::2] - edges[0::2]) * block_s < p["rest_min_stretch_s"] - 1e-9
    if short.any():
        lull = np.zeros(m + 1, dtype=np.int64)
        np.add.at(lull, edges[0::2][short], 1)
        np.add.at(lull, edges[1::2][short], -1)
        fit &= ~np.cumsum(lull)[:m].astype(bool)
        reasons.append(f"{((edges[1::2] - edges[0::2])[short]).sum() * block_s:.1f} s of rest "
                       f"left out as pauses within the contraction ({short.sum()} stretch(es) "
                       f"shorter than {p['rest_min_stretch_s']:g} s)")
        edges = np.flatnonzero(np.diff(np.r_[0, fit.astype(np.int8), 0]))
    graded_s = float(fit.sum() * block_s)
    stretches = pd.DataFrame({"start_s": edges[0::2] * block_s, "end_s": edges[1::2] * block_s},
                             dtype=float)
    left["rest_in_pauses"] = graded_s
    why = ""
    if graded_s < p["min_rest_s"]:
        rule = "spont_not_graded"
        why = next(k for k, v in left.items() if v < p["min_rest_s"])
        first = (f"{rest_s:.1f} s of the {m * block_s:.1f} s recording called rest"
                 if why == "no_rest_recorded" else
                 f"{graded_s:.1f} s of rest fit for grading of {rest_s:.1f} s called rest")
        reasons.insert(0, f"not graded: {NOT_GRADED_REASONS[why]} ({first}, needs >= "
                          f"{p['min_rest_s']:g} s): the muscle was not examined at rest here, "
                          "which does not mean it has no spontaneous activity")
    else:
        rule = "spont_graded"
        reasons.insert(0, f"graded in {graded_s:.1f} s of rest")
    return RestSelection(stretches, rest_s, graded_s, rule, reasons, why)


def describe_spontaneous(grades: dict) -> str:
    """One line on spontaneous activity, from the grades of :func:`detect_spontaneous` or a
    row of ``recordings.csv`` (``rest_graded_s`` instead of ``rest_s``).

    Examples
    --------
    >>> describe_spontaneous({"fibs": "0", "psw": "0", "fasciculations": "absent",
    ...                       "rest_s": "4.0", "spont_rule": "spont_graded",
    ...                       "spont_reasons": "graded in 4.0 s of rest"})
    'spontaneous activity (4.0 s of rest): fibs 0, PSW 0, fasciculations absent'
    >>> from edxreview.signal import Recording
    >>> contraction = Recording(samples=np.random.default_rng(1).normal(0, 20, 40_000),
    ...                         fs_hz=20_000.0, calibrated=True, name="contraction")
    >>> segments = pd.DataFrame({"start_s": [0.0], "end_s": [2.0], "state": ["active"]})
    >>> _, grades = detect_spontaneous(contraction, segments)
    >>> grades["fibs"], grades["spont_not_graded_reason"]
    ('', 'no_rest_recorded')
    >>> describe_spontaneous(grades)  # doctest: +NORMALIZE_WHITESPACE
    'spontaneous activity not graded: no rest recorded (0.0 s of the 2.0 s recording called
    rest, needs >= 1 s): the muscle was not examined at rest here, which does not mean it has
    no spontaneous activity'
    """
    if grades.get("spont_rule") != "spont_graded":
        why = str(grades.get("spont_reasons", "")).split("; ")[0].removeprefix("not graded: ")
        return f"spontaneous activity not graded: {why}"
    rest_s = float(grades.get("rest_graded_s", grades.get("rest_s")))
    return (f"spontaneous activity ({rest_s:.1f} s of rest): fibs {grades['fibs']}, "
            f"PSW {grades['psw']}, fasciculations {grades['fasciculations']}")


def _shapes(y: np.ndarray, c: int, fs: float, sd: float, p: dict) -> pd.DataFrame:
    """Duration and initial polarity of spontaneous potentials, one per row of ``y`` (each
    around index ``c``, less its median): ``duration_ms``, ``first_sign`` (the sign of the
    first sample beyond ``polarity_band_sd`` noise SDs and ``polarity_band_fraction_pp`` x the
    peak-to-peak amplitude), ``amplitude``, ``asym`` (0 where nothing exceeds that band or no
    duration is found)."""
    from edxreview.signal._measure import measure_durations

    amp = np.ptp(y, axis=1)
    dur = measure_durations(y, fs, c, sd)
    above = np.abs(y) > np.maximum(p["polarity_band_sd"] * sd,
                                   p["polarity_band_fraction_pp"] * amp)[:, None]
    first = np.sign(y[np.arange(y.shape[0]), np.argmax(above, axis=1)])
    asym = y.max(axis=1) / (-y.min(axis=1) + 1e-12)
    found = above.any(axis=1) & np.isfinite(dur)
    return pd.DataFrame({"duration_ms": np.where(found, dur, 0.0),
                         "first_sign": np.where(found, first, 0.0), "amplitude": amp,
                         "asym": np.where(found, asym, 0.0)})


def _is_regular(s: np.ndarray, fs: float, p: dict) -> bool:
    """Regular firing (fibrillation-like): CV of the intervals below ``regular_isi_cv`` and a
    rate within the fibrillation range, intervals within one rest stretch only."""
    if s.size < p["train_min_discharges"]:
        return False
    isi = np.diff(np.sort(s)) / fs
    isi = isi[isi < p["regular_max_interval_factor"] / p["fib_rate_min_hz"]]
    if isi.size < p["train_min_discharges"] - 1:
        return False
    # an interval of about two or three (missed_max_intervals) base intervals is a missed
    # discharge (a potential lost under another one), not irregular firing, unless more than
    # missed_max_fraction of the intervals are such
    base = float(np.median(isi))
    k = np.clip(np.round(isi / base), 1, None)
    if np.any(k > p["missed_max_intervals"]) or np.mean(k > 1) > p["missed_max_fraction"]:
        k = np.ones_like(isi)
    isi = isi / k
    cv = float(np.std(isi) / np.mean(isi))
    rate = 1 / float(np.median(isi))
    return cv < p["regular_isi_cv"] and p["fib_rate_min_hz"] <= rate <= p["fib_rate_max_hz"]


def _split_interleaved(
    train: np.ndarray, t_id: int, peaks: np.ndarray, norms: np.ndarray, fs: float, p: dict
) -> tuple[np.ndarray, int]:
    """Split a group of similar-shaped potentials that fires irregularly into groups of one
    size each when that makes them regular.

    Two fibres with similar waveforms are grouped together by shape; their interleaved
    discharges look irregular although each fibre fires regularly. A fibre's potentials keep
    their size at a stable needle position, so the group is cut in two by size (the cut of the
    sorted log sizes with the least within-group variance); the cut is kept when the two
    sizes differ by at least ``split_size_ratio`` and ``split_separation_sd`` within-group SDs
    and at least one part then fires regularly.
    """
    gap_min = p["split_size_ratio"]
    sep_sd = p["split_separation_sd"]
    todo = list(range(t_id))
    while todo:
        t = todo.pop()
        idx = np.flatnonzero(train == t)
        if idx.size < 2 * p["train_min_discharges"] or _is_regular(peaks[idx], fs, p):
            continue
        order = idx[np.argsort(norms[idx])]
        v = np.log(norms[order])
        # two size groups: the cut that minimises the within-group variance (Otsu)
        k = np.arange(1, v.size)
        c1 = np.cumsum(v)[:-1]
        c2 = np.cumsum(v * v)[:-1]
        within = (c2 - c1**2 / k) + ((v * v).sum() - c2 - (v.sum() - c1) ** 2 / (v.size - k))
        cut = int(k[np.argmin(within)])
        low, high = order[:cut], order[cut:]
        sd = np.sqrt(within.min() / max(1, v.size - 2))
        if v[cut:].mean() - v[:cut].mean() < max(np.log1p(gap_min), sep_sd * sd):
            continue
        if _is_regular(peaks[low], fs, p) or _is_regular(peaks[high], fs, p):
            train[high] = t_id
            todo += [t, t_id]
            t_id += 1
    return train, t_id


def detect_spontaneous(
    rec: Recording, segments: pd.DataFrame | None = None, rest: RestSelection | None = None
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Detect and grade spontaneous activity in the rest stretches of a recording.

    Only rest fit for grading (:func:`select_rest`) is examined. A discharge is one
    potential: its largest peak, the smaller ones within ``discharge_window_ms`` being its other
    phases. Potentials
    are grouped into trains by waveform similarity; a train is *regular* when the coefficient
    of variation of its intervals is below ``regular_isi_cv``. Regular brief spikes
    (``fib_min_duration_ms`` to ``fib_max_duration_ms``) are fibrillation potentials; regular
    potentials with a sharp initial positive phase and a long slow phase are positive sharp
    waves. Other MUAP-like potentials (>= ``fasc_min_duration_ms``) are a voluntary motor unit
    when their train fires at ``fasc_max_rate_hz`` or faster (1 / the median interval within
    one rest stretch), regularly or not; those that fire irregularly and slower are
    fasciculations, unless they are seen only in rest stretches where such a voluntary unit
    fires (a muscle not relaxed).

    Parameters
    ----------
    rec : Recording
    segments : pandas.DataFrame, optional
        Output of :func:`segment_activity`; computed when omitted.
    rest : RestSelection, optional
        Output of :func:`select_rest`; computed when omitted.

    Returns
    -------
    potentials : pandas.DataFrame
        One row per spontaneous potential (one per discharge): ``time_s``, ``train``, ``kind``
        (``fib``, ``psw``, ``fasc``, ``voluntary``, ``other``), ``duration_ms``.
    grades : dict
        ``fibs``, ``psw`` (grades ``0``, ``±``, ``1+`` ... ``4+``; ``""`` when not graded),
        ``fasciculations`` (``present`` / ``absent`` / ``""``), ``rest_s`` (seconds of rest
        graded, as text), ``spont_rule`` (``spont_graded`` / ``spont_not_graded``),
        ``spont_not_graded_reason`` (one of :data:`NOT_GRADED_REASONS`, ``""`` when graded)
        and ``spont_reasons`` (why, ``"; "``-separated).
    """
    p = load_signal_parameters()["spontaneous"]
    if segments is None:
        segments = segment_activity(rec)
    if rest is None:
        rest = select_rest(rec, segments)
    fs = rec.fs_hz
    measure, detect = filter_bands(rec)
    sd = robust_noise_sd(detect, fs)
    msd = robust_noise_sd(measure, fs, centre=True)
    why = {"rest_s": f"{rest.graded_s:.1f}", "spont_rule": rest.rule,
           "spont_not_graded_reason": rest.not_graded_reason,
           "spont_reasons": "; ".join(rest.reasons)}
    empty = pd.DataFrame(columns=["time_s", "train", "kind", "duration_ms"])
    if rest.rule != "spont_graded":
        return empty, {"fibs": "", "psw": "", "fasciculations": "", **why}
    # one candidate per discharge: a multiphasic potential crosses the threshold once per
    # phase, and its smaller peaks within discharge_window_ms of its largest are its phases
    # (else one unit's discharges are spread over several trains, one per phase)
    peaks_all = _find_candidates(detect, fs, p["threshold_sd"] * sd, p["discharge_window_ms"])
    in_rest = np.zeros(detect.size, dtype=bool)
    for a, b in zip(rest.stretches["start_s"], rest.stretches["end_s"]):
        in_rest[int(round(a * fs)) : int(round(b * fs))] = True
    # divided, not multiplied, so that the window in s is the same double as before
    half = int(round(p["potential_half_window_ms"] / 1e3 * fs))
    peaks = peaks_all[in_rest[peaks_all] & (peaks_all > half) & (peaks_all < detect.size - half)]
    if peaks.size == 0:
        return empty, {"fibs": "0", "psw": "0", "fasciculations": "absent", **why}
    # the rest stretch of every potential: intervals are measured within one stretch only
    stretch = np.searchsorted(np.round(rest.stretches["start_s"].to_numpy() * fs), peaks,
                              side="right") - 1
    train, _ = _group_trains(detect, peaks, fs, p)
    pot, stats = _classify_trains(measure, peaks, train, half, fs, msd, p, stretch)
    grades = _grade_trains(stats, in_rest, fs, p)
    grades.update(why)
    return pot.reset_index(drop=True), grades


def _group_trains(detect: np.ndarray, peaks: np.ndarray, fs: float, p: dict) -> tuple[np.ndarray, int]:
    """Train number of every potential and the number of trains.

    Greedy, largest first: the potentials still free whose detection-band snippet
    (+-``group_window_ms`` around the peak) is ``group_size_ratio_min`` to
    ``group_size_ratio_max`` times the size of the largest free one and whose normalised
    correlation with it, at the best shift up to +-``group_max_shift_ms``, exceeds
    ``group_min_similarity`` join its train (then :func:`_split_interleaved`)."""
    # group into trains by normalised waveform similarity (greedy, largest first)
    w = int(round(p["group_window_ms"] / 1e3 * fs))
    snips = detect[peaks[:, None] + np.arange(-w, w + 1)[None, :]]
    norms = np.linalg.norm(snips, axis=1)
    unitv = snips / norms[:, None]
    train = -np.ones(peaks.size, dtype=int)
    kmax = max(1, int(round(p["group_max_shift_ms"] / 1e3 * fs)))
    t_id = 0
    n = unitv.shape[1]  # odd
    # the reference wrapped kmax samples either side: its windows of n samples are its
    # circular shifts np.roll(ref, -k) for k = -kmax..kmax
    wrap_idx = (np.arange(n + 2 * kmax) - kmax) % n
    # a bound of the similarity at every circular shift, from the magnitude spectra:
    # |u . roll(r, k)| <= sum_f |U_f| |R_f| / n over the whole spectrum (each bin of the real
    # spectrum but the first stands for two); a potential whose bound is clearly below the
    # similarity needed cannot join, and is not compared shift by shift
    weight = np.r_[1.0, np.full(n // 2, 2.0)]
    mag = np.abs(np.fft.rfft(unitv, axis=1)) * np.sqrt(weight / n)
    for i in np.argsort(-norms):
        if train[i] >= 0:
            continue
        # only free potentials of a similar size can join: their shapes alone are compared
        ratio = norms / norms[i]
        cand = np.flatnonzero((train < 0) & (ratio > p["group_size_ratio_min"])
                              & (ratio < p["group_size_ratio_max"]))
        cand = cand[mag[cand] @ mag[i] > p["group_min_similarity"] - 1e-9]
        # circular shifts of the reference instead of every candidate: one matrix product
        # (np.roll(u, k) @ ref == u @ np.roll(ref, -k))
        refs = np.ascontiguousarray(sliding_window_view(unitv[i][wrap_idx], n))
        sim = (unitv[cand] @ refs.T).max(axis=1)
        members = cand[sim > p["group_min_similarity"]]
        train[members] = t_id
        train[i] = t_id
        t_id += 1
    train, t_id = _split_interleaved(train, t_id, peaks, norms, fs, p)
    return train, t_id


def _rate_hz(s: np.ndarray, stretch: np.ndarray, fs: float) -> float:
    """Firing rate of a train: 1 / the median interval between its successive potentials within
    one rest stretch (``nan`` when it has no such interval)."""
    isi = np.diff(s)[np.diff(stretch) == 0] / fs
    return 1.0 / float(np.median(isi)) if isi.size else float("nan")


def _classify_trains(measure: np.ndarray, peaks: np.ndarray, train: np.ndarray, half: int,
                     fs: float, msd: float, p: dict,
                     stretch: np.ndarray) -> tuple[pd.DataFrame, list]:
    """Kind of every train (fib, psw, fasc, voluntary, other): the potentials table and
    (train, kind, span, peaks). ``stretch`` is the rest stretch of every potential."""
    # every train's potentials in time order, and its median potential less its median
    order = np.lexsort((peaks, train))
    cuts = np.flatnonzero(np.diff(train[order])) + 1
    ids = train[order][np.r_[0, cuts]].tolist()
    trains = np.split(peaks[order], cuts)
    stretches = np.split(stretch[order], cuts)
    # the median of one potential is the potential: those are gathered at once
    y = np.empty((len(trains), 2 * half + 1))
    one = np.diff(np.r_[cuts, peaks.size], prepend=0) == 1
    y[one] = sliding_window_view(measure, 2 * half + 1)[peaks[order][np.r_[0, cuts][one]] - half]
    for t in np.flatnonzero(~one).tolist():
        y[t] = median_snippet(measure, trains[t], half, half)
    y -= np.median(y, axis=1, keepdims=True)
    shapes = _shapes(y, half, fs, msd, p)
    kinds = []
    for s, st, sh in zip(trains, stretches, shapes.itertuples(index=False)):
        regular = _is_regular(s, fs, p)
        dur = sh.duration_ms
        if regular and p["fib_min_duration_ms"] <= dur < p["fib_max_duration_ms"]:
            kind = "fib"
        elif regular and sh.first_sign > 0 and p["psw_min_duration_ms"] <= dur <= p["psw_max_duration_ms"] \
                and sh.asym > p["psw_min_asymmetry"]:
            kind = "psw"
        elif dur >= p["fasc_min_duration_ms"] and _rate_hz(s, st, fs) >= p["fasc_max_rate_hz"]:
            # a MUAP-like train firing as fast as a voluntary unit is one (regular or not)
            kind = "voluntary"
        elif not regular and dur >= p["fasc_min_duration_ms"]:
            kind = "fasc"
        else:
            kind = "other"
        kinds.append(kind)
    # a rest stretch in which a motor unit fires voluntarily is not relaxed: a MUAP-like
    # potential there is more likely a discharge of that unit (or of another one recruited)
    # than a fasciculation, so a "fasc" train seen only in such stretches is not one
    busy = {int(x) for k, st in zip(kinds, stretches) if k == "voluntary" for x in st}
    rows = []
    stats = []
    for t, s, st, kind, dur in zip(ids, trains, stretches, kinds, shapes["duration_ms"]):
        if kind == "fasc" and busy.issuperset(st.tolist()):
            kind = "voluntary"
        span = (s[-1] - s[0]) / fs
        stats.append((t, kind, span, s))
        for x in s:
            rows.append((x / fs, t, kind, dur))
    pot = pd.DataFrame(rows, columns=["time_s", "train", "kind", "duration_ms"]).sort_values("time_s")
    return pot, stats


def _grade_trains(stats: list, in_rest: np.ndarray, fs: float, p: dict) -> dict[str, str]:
    """Fibrillation and PSW grades from trains and baseline fill; fasciculations present or absent."""
    # baseline fill: fraction of rest blocks (fill_block_ms, 100 ms) holding a fib/psw
    # potential (divided, not multiplied, so that 100 ms is exactly 0.1 s)
    blk = int(p["fill_block_ms"] / 1e3 * fs)
    rest_blocks = np.flatnonzero(in_rest[::blk])
    grades = {}
    for kind, key in (("fib", "fibs"), ("psw", "psw")):
        trains = [st for st in stats if st[1] == kind]
        if not trains:
            grades[key] = "0"
            continue
        hit_blocks = np.unique(np.concatenate([st[3] for st in trains]) // blk)
        fill = hit_blocks.size / max(1, rest_blocks.size)
        sustained = any(st[2] >= p["sustained_s"] for st in trains)
        n = len(trains)
        if fill >= p["grade_4_fill"] and n >= p["grade_3_trains"]:
            g = "4+"
        elif n >= p["grade_3_trains"]:
            g = "3+"
        elif n >= p["grade_2_trains"]:
            g = "2+"
        elif sustained:
            g = "1+"
        else:
            g = "±"
        grades[key] = g
    grades["fasciculations"] = "present" if any(st[1] == "fasc" for st in stats) else "absent"
    return grades
