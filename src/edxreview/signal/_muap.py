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
   the quieter end), the signal staying inside the band for
   ``quiet_ms`` beyond them (the amplitude criterion of Stalberg et al. 1986 and Nandedkar et
   al. 1995, stated relative to baseline noise instead of in µV so that uncalibrated records
   are measured the same way). Amplitude is peak-to-peak; phases are baseline crossings + 1;
   turns are slope reversals exceeding a fraction of the amplitude on both sides; thickness is
   area / amplitude (Nandedkar et al. 1988).

References
----------
Stalberg E, Andreassen S, Falck B, Lang H, Rosenfalck A, Trojaborg W. Quantitative analysis of
individual motor unit potentials: a proposition for standardized terminology and criteria for
measurement. J Clin Neurophysiol 1986;3:313-348.
Nandedkar SD, Barkhaus PE, Charles A. Multi-motor unit action potential analysis (MMA).
Muscle Nerve 1995;18:1155-1166.
McGill KC, Lateva ZC, Marateb HR. EMGLAB: an interactive EMG decomposition program.
J Neurosci Methods 2005;149:121-133.
"""

from __future__ import annotations

import bisect
import logging
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import ndimage
from scipy import signal as sps

from edxreview._check import check_option
from edxreview.signal._params import load_signal_parameters
from edxreview.signal._readers import Recording

logger = logging.getLogger(__name__)


# ------------------------------------------------------------------------------ filtering
def _sos_band(fs_hz: float, lo_hz: float | None, hi_hz: float | None, order: int) -> np.ndarray:
    """Butterworth second-order sections (designed once per rate and band; a copy: scipy's
    filters want a writeable array)."""
    return _design_band(fs_hz, lo_hz, hi_hz, order).copy()


@lru_cache(maxsize=16)
def _design_band(fs_hz: float, lo_hz: float | None, hi_hz: float | None, order: int) -> np.ndarray:
    nyq = fs_hz / 2
    hi = None if hi_hz is None or hi_hz >= 0.9 * nyq else hi_hz
    lo = lo_hz if lo_hz and lo_hz > 0 else None
    if lo and hi:
        return sps.butter(order, [lo, hi], btype="bandpass", fs=fs_hz, output="sos")
    if lo:
        return sps.butter(order, lo, btype="highpass", fs=fs_hz, output="sos")
    if hi:
        return sps.butter(order, hi, btype="lowpass", fs=fs_hz, output="sos")
    return np.array([[1.0, 0, 0, 1.0, 0, 0]])


_BANDS_CACHE: dict = {}


def filter_bands(rec: Recording) -> tuple[np.ndarray, np.ndarray]:
    """Measurement-band and detection-band versions of a recording.

    Parameters
    ----------
    rec : Recording

    Returns
    -------
    measure, detect : numpy.ndarray
        Zero-phase filtered signals, in the recording's units (µV or ADC units).
    """
    key = (id(rec.samples), rec.samples.size, float(rec.fs_hz))
    if _BANDS_CACHE.get("key") == key and _BANDS_CACHE.get("samples") is rec.samples:
        return _BANDS_CACHE["bands"]
    p = load_signal_parameters()["filters"]
    x = rec.samples - np.median(rec.samples)
    sos_m = _sos_band(rec.fs_hz, p["measure_highpass_hz"], p["measure_lowpass_hz"], p["order"])
    hi_d = min(p["detect_lowpass_hz"], 0.4 * rec.fs_hz)
    sos_d = _sos_band(rec.fs_hz, p["detect_highpass_hz"], hi_d, p["order"])
    measure = sps.sosfiltfilt(sos_m, x)
    detect = sps.sosfiltfilt(sos_d, measure)
    # segmentation, sorting and spontaneous activity all start from these bands: keep the last
    # recording's (read-only views, so that no caller can change the cached arrays)
    measure.flags.writeable = False
    detect.flags.writeable = False
    _BANDS_CACHE.update(key=key, samples=rec.samples, bands=(measure, detect))
    return measure, detect


_NOISE_CACHE: dict = {}


def robust_noise_sd(x: np.ndarray, fs_hz: float | None = None, centre: bool = False) -> float:
    """Baseline noise SD of a zero-mean signal (same units as ``x``).

    During a contraction the median absolute value is inflated by the discharges, so the noise
    is taken from the quietest stretches: the 10th percentile of the RMS over 5-ms blocks,
    never above median(|x|) / 0.6745. ``centre=True`` subtracts the median of ``x`` first.
    The result for a read-only array (the cached filter bands) is remembered, since
    segmentation, sorting, measurement and spontaneous activity all ask for it.
    """
    key = (id(x), x.size, fs_hz, centre)
    hit = _NOISE_CACHE.get(key)
    if hit is not None and hit[0] is x:
        return hit[1]
    sd = _robust_noise_sd(x - np.median(x) if centre else x, fs_hz)
    if not x.flags.writeable:
        while len(_NOISE_CACHE) >= 4:  # the bands of the last recording or two
            _NOISE_CACHE.pop(next(iter(_NOISE_CACHE)))
        _NOISE_CACHE[key] = (x, sd)
    return sd


def _robust_noise_sd(x: np.ndarray, fs_hz: float | None) -> float:
    mad_sd = float(np.median(np.abs(x)) / 0.6745)
    if fs_hz:
        n = max(4, int(round(5e-3 * fs_hz)))
        m = x.size // n
        if m >= 20:
            rms = np.sqrt(np.mean(x[: m * n].reshape(m, n) ** 2, axis=1))
            mad_sd = min(mad_sd, float(np.percentile(rms, 10)))
    return mad_sd if mad_sd > 0 else float(np.std(x)) or 1.0


# ------------------------------------------------------------------------------ detection
def _find_candidates(
    detect: np.ndarray, fs_hz: float, threshold: float, min_sep_ms: float
) -> np.ndarray:
    dist = max(1, int(round(min_sep_ms * 1e-3 * fs_hz)))
    peaks, _ = sps.find_peaks(np.abs(detect), height=threshold, distance=dist)
    return peaks


def detect_muaps(rec: Recording, threshold_sd: float | None = None) -> pd.DataFrame:
    """Detect candidate MUAP discharges.

    Parameters
    ----------
    rec : Recording
    threshold_sd : float, optional
        Detection threshold in robust noise SDs of the detection band (default from
        ``emg_signal_parameters.toml``).

    Returns
    -------
    pandas.DataFrame
        One row per candidate: ``sample``, ``time_s`` (s), ``peak`` (detection-band value at the
        peak, recording units). ``attrs["noise_sd"]`` is the robust noise SD used.
    """
    p = load_signal_parameters()["detection"]
    k = p["threshold_sd"] if threshold_sd is None else threshold_sd
    _, detect = filter_bands(rec)
    sd = robust_noise_sd(detect, rec.fs_hz)
    peaks = _find_candidates(detect, rec.fs_hz, k * sd, p["min_separation_ms"])
    df = pd.DataFrame(
        {"sample": peaks, "time_s": peaks / rec.fs_hz, "peak": detect[peaks]}
    )
    df.attrs["noise_sd"] = sd
    return df


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


def _snippets(x: np.ndarray, centers: np.ndarray, before: int, after: int) -> np.ndarray:
    idx = centers[:, None] + np.arange(-before, after + 1)[None, :]
    np.clip(idx, 0, x.size - 1, out=idx)
    return x[idx]


def median_snippet(x: np.ndarray, centers: np.ndarray, before: int, after: int) -> np.ndarray:
    """Sample-wise median of the snippets of ``x`` around ``centers`` (``before`` samples
    before to ``after`` after each; indices clipped to the signal), the same numbers as
    ``np.median(snippets, axis=0)``: the snippets are gathered one row per time sample and
    each row sorted, which is several times faster than numpy's median across rows."""
    idx = centers[None, :] + np.arange(-before, after + 1)[:, None]
    np.clip(idx, 0, x.size - 1, out=idx)
    return median_rows(x[idx])


def median_rows(a: np.ndarray) -> np.ndarray:
    """Median of each row of a 2-D array (as ``np.median(a, axis=1)``; ``a`` is sorted in
    place)."""
    a.sort(axis=1)
    m = a.shape[1]
    return (a[:, (m - 1) // 2] + a[:, m // 2]) / 2


def _build_templates(
    detect: np.ndarray, peaks: np.ndarray, before: int, after: int, shift: int,
    noise_energy: float, p: dict,
) -> list[np.ndarray]:
    """Greedy clustering in decreasing amplitude order (shift-invariant matching).

    Returns the aligned member samples of every cluster with enough members.
    """
    if peaks.size == 0:
        return []
    order = np.argsort(-np.abs(detect[peaks]))[: p["max_build_candidates"]]
    shifts = np.arange(-shift, shift + 1)
    sums: list[np.ndarray] = []
    members: list[list[int]] = []
    cands = peaks[order]
    # every candidate's shifted snippets and energies, gathered once
    snips = _snippets(detect, (cands[:, None] + shifts[None, :]).ravel(), before, after)
    snips = snips.reshape(cands.size, shifts.size, -1)
    energies = np.einsum("csl,csl->cs", snips, snips)
    frac = p["build_residual_fraction"]
    max_k = p["max_templates"]
    # templates live in preallocated rows (the first K are in use): no reallocation per new one
    L = before + after + 1
    temps = np.empty((max_k, L))
    tnorm = np.empty(max_k)
    K = 0
    for ci, c in enumerate(cands.tolist()):
        w, wn = snips[ci], energies[ci]
        if K:
            # residual energy of every (shift, template): |w|^2 + |t|^2 - 2 <w, t>
            cross = w @ temps[:K].T  # (n_shift, K)
            cross *= 2
            resid = wn[:, None] + tnorm[:K]
            resid -= cross
            i, k = divmod(int(resid.argmin()), K)
            if resid[i, k] < max(frac * wn[i], noise_energy):
                mk = members[k]
                mk.append(c + int(shifts[i]))
                if len(mk) <= 50:
                    sums[k] += w[i]
                    temps[k] = sums[k] / len(mk)
                    tnorm[k] = temps[k] @ temps[k]
                continue
        if K < max_k:
            sums.append(w[shift].copy())
            members.append([c])
            temps[K] = w[shift]
            tnorm[K] = w[shift] @ w[shift]
            K += 1
    n_min = max(3, p["min_discharges"] // 2)
    return [np.array(m) for m in members if len(m) >= n_min]


def _long_templates(detect: np.ndarray, members: list[np.ndarray], before: int, after: int) -> np.ndarray:
    """Median template of each cluster, centred on its main peak.

    A cluster seeded by a side lobe (or by filter ringing beside the main spike) is aligned on
    that lobe; its members are moved so that the template's largest peak is the discharge time,
    which makes shifted copies of one unit identical and lets them merge.
    """
    if not members:
        return np.empty((0, before + after + 1))
    temps = []
    for m in members:
        t = median_snippet(detect, m[:100], before, after)
        off = int(np.argmax(np.abs(t))) - before
        if off:
            t = median_snippet(detect, m[:100] + off, before, after)
        temps.append(t)
    return np.array(temps)


def _merge_templates(temps: np.ndarray, shift: int, frac: float) -> np.ndarray:
    """Merge templates that are the same waveform up to a shift (largest first)."""
    if temps.shape[0] == 0:
        return temps
    temps = temps[np.argsort(-np.einsum("ij,ij->i", temps, temps))]
    out: list[np.ndarray] = []
    kept: list[tuple[np.ndarray, float]] = []  # each kept template zero-padded, and its energy
    L = temps.shape[1]
    for t in temps:
        tn = t @ t
        merged = False
        for u_pad, un in kept:
            full = np.correlate(u_pad, t, mode="valid")  # lags -shift..shift
            r = tn + un - 2 * full.max()
            if r < frac * max(tn, un):
                merged = True
                break
        if not merged:
            out.append(t)
            kept.append((np.pad(t, shift), t @ t))
    return np.array(out).reshape(-1, L)


def _support(temps: np.ndarray, fraction: float, pad: int) -> np.ndarray:
    """Weights 1 where a template is above ``fraction`` of its peak (dilated by ``pad``)."""
    a = np.abs(temps) >= fraction * np.abs(temps).max(axis=1, keepdims=True)
    if pad:
        k = np.ones(2 * pad + 1)
        a = np.array([np.convolve(r, k, mode="same") > 0 for r in a.astype(float)])
    return a.astype(float)


def _peel(
    detect: np.ndarray, temps: np.ndarray, fs_hz: float, threshold: float, shift: int,
    noise_var: float, p: dict, min_sep_ms: float,
) -> tuple[list[int], list[int], np.ndarray]:
    """Template subtraction over the whole record; returns samples, units and the residual.

    ``temps`` are centred: sample ``half`` of each template is its discharge time.

    Each pass first fits every remaining peak at once (one gathered snippet array and one
    contraction per chunk of peaks) and subtracts, in decreasing peak order, the good fits whose
    windows do not overlap; this is repeated while it explains peaks. What is left (mostly
    superimposed discharges) is then resolved one peak at a time, trying pairs of templates.
    """
    resid = detect.copy()
    samples: list[int] = []
    units: list[int] = []
    K, L = temps.shape
    if K == 0:
        return samples, units, resid
    half = L // 2
    pk = np.argmax(np.abs(temps), axis=1) - half  # template main peak relative to its centre
    W = _support(temps, p["support_fraction"], max(1, shift))
    tnorm_s = np.einsum("ij,ij->i", W * temps, temps)
    shifts = np.arange(-shift, shift + 1)
    # candidate (template, shift) table
    kk = np.repeat(np.arange(K), shifts.size)
    ss = np.tile(shifts, K)
    off = -pk[kk] + ss - half  # window start relative to the peak being explained
    Wk = W[kk]
    TWk = temps[kk] * Wk
    base = np.arange(L)
    n = resid.size
    lo_margin, hi_margin = -off.min(), off.max() + L
    frac = p["residual_fraction"]
    nvar = p["noise_energy_factor"] * noise_var
    ns_k = W.sum(axis=1)
    limit_k = np.maximum(frac * tnorm_s, nvar * ns_k)  # energy allowed to be left, per template
    span = half + shift

    # a peak is worth fitting only when some template's main peak has its sign and a size
    # within [peak_ratio_min, peak_ratio_max] of it
    tpk = temps[np.arange(K), half + pk]
    rmin, rmax = p["peak_ratio_min"], p["peak_ratio_max"]

    S = shifts.size

    # every (template, shift) as one row over the union of their windows, so that fitting
    # all of them to a peak is one matrix product on one gathered stretch of the residual
    span_lo = int(off.min())
    span_w = int(off.max()) - span_lo + L
    TWs = np.zeros((kk.size, span_w))
    Ws = np.zeros((kk.size, span_w))
    cols = (off - span_lo)[:, None] + base[None, :]
    np.put_along_axis(TWs, cols, TWk, axis=1)
    np.put_along_axis(Ws, cols, Wk, axis=1)
    span_idx = span_lo + np.arange(span_w)
    tn_kk = tnorm_s[kk]
    TWs2T = np.ascontiguousarray(2 * TWs.T)
    WsT = np.ascontiguousarray(Ws.T)
    tpk_kk = tpk[kk]

    def fit_many(c: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Fit every (template, shift) to the peaks ``c`` at once; pairs whose template is not
        compatible with the peak (sign, size) get gain -inf."""
        w = resid[c[:, None] + span_idx]  # (P, span)
        gain = w @ TWs2T
        gain -= tn_kk
        left = np.square(w, out=w) @ WsT
        left -= gain
        ratio = resid[c][:, None] / tpk[None, :]
        bad = np.repeat((ratio < rmin) | (ratio > rmax), S, axis=1)
        gain[bad] = -np.inf
        left[bad] = np.inf
        return c[:, None] + off[None, :], gain, left

    def fit(c: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One peak (the one-at-a-time superposition search calls this thousands of times)."""
        w = resid[c + span_idx]
        g = 2 * (TWs @ w) - tn_kk
        lf = Ws @ (w * w) - g
        ratio = resid[c] / tpk_kk
        bad = (ratio < rmin) | (ratio > rmax)
        g[bad] = -np.inf
        lf[bad] = np.inf
        return c + off, g, lf

    def peaks_now() -> np.ndarray:
        pks = _find_candidates(resid, fs_hz, threshold, min_sep_ms)
        pks = pks[(pks >= lo_margin + span) & (pks + hi_margin + span < n)]
        a = resid[pks][:, None]
        ratio = a / tpk[None, :]
        pks = pks[((ratio >= rmin) & (ratio <= rmax)).any(axis=1)]
        return pks[np.argsort(-np.abs(resid[pks]), kind="stable")]

    # a peak that failed is retried only after a subtraction near it changed the residual
    stamp = np.zeros(n, dtype=np.int64)
    failed_at = np.full(n, -1, dtype=np.int64)  # clock when a peak failed one by one
    clock = 0
    reach = span + L  # a subtraction this close to a peak changes its fits

    def changed_near(c: np.ndarray, since: int) -> np.ndarray:
        """Whether the residual around each peak ``c`` changed after clock ``since``."""
        cs = np.concatenate([[0], np.cumsum(stamp > since)])
        return cs[np.minimum(n, c + reach)] - cs[np.maximum(0, c - reach)] > 0

    n_tries = p["overlap_tries"]
    region_w = 2 * span + span_w
    seg_cols = -span_lo + np.arange(2 * span)  # c - span .. c + span - 1, in stretch coordinates
    win_cols = np.arange(span_w)
    region_cols = np.arange(region_w)

    def pair_tries(cs: np.ndarray, gain: np.ndarray, starts: np.ndarray) -> tuple:
        """Superposition tries of the peaks ``cs`` (their fits ``gain``, ``starts``: (P, K*S)):
        the best ``overlap_tries`` first placements, each subtracted from a copy of the
        residual, then the best single fit at the largest peak left within ``span`` of the
        peak. Returns, each (P, tries), the first and second placements (start, template) and
        whether the second fits well (the first is checked again when the pair is taken)."""
        P = cs.size
        tries = np.argsort(-gain, axis=1)[:, :n_tries]
        T = tries.shape[1]
        pr = np.arange(P)[:, None]
        g1, st1, k1 = gain[pr, tries].ravel(), starts[pr, tries].ravel(), kk[tries].ravel()
        r0 = np.repeat(cs - span + span_lo, T)
        rr = resid[r0[:, None] + region_cols]  # (P * T, stretch): a copy
        rows = np.arange(P * T)
        rr[rows[:, None], (st1 - r0)[:, None] + base] -= temps[k1]
        c2 = np.repeat(cs, T) - span + np.argmax(np.abs(rr[:, seg_cols]), axis=1)
        a2 = rr[rows, c2 - r0]
        ok = (g1 > 0) & (np.abs(a2) >= threshold) & (c2 >= lo_margin) & (c2 < n - hi_margin)
        wv = rr[rows[:, None], (c2 - r0 + span_lo)[:, None] + win_cols]
        gain2 = wv @ TWs2T
        gain2 -= tn_kk
        left2 = np.square(wv, out=wv) @ WsT
        left2 -= gain2
        ratio = a2[:, None] / tpk[None, :]
        bad = np.repeat((ratio < rmin) | (ratio > rmax), S, axis=1)
        gain2[bad] = -np.inf
        left2[bad] = np.inf
        j2 = np.argmax(gain2, axis=1)
        ok &= (gain2[rows, j2] > 0) & (left2[rows, j2] <= limit_k[kk[j2]])
        st2 = c2 + off[j2]
        return (st1.reshape(P, T), k1.reshape(P, T), st2.reshape(P, T),
                kk[j2].reshape(P, T), ok.reshape(P, T))

    fitted_at = -1  # clock of the last batch fit: unchanged peaks would fit the same again
    for _ in range(p["peel_passes"]):
        accepted = 0
        # batch rounds: isolated, well-fitting discharges
        for _round in range(p.get("batch_rounds", 4)):
            peaks = peaks_now()
            if fitted_at >= 0:
                peaks = peaks[changed_near(peaks, fitted_at)]
            fitted_at = clock
            if peaks.size == 0:
                break
            starts, gain, left = fit_many(peaks)
            j = np.argmax(gain, axis=1)
            r = np.arange(peaks.size)
            g, lf, st = gain[r, j], left[r, j], starts[r, j]
            good = np.flatnonzero((g > 0) & (lf <= limit_k[kk[j]]))
            if good.size == 0:
                break
            taken = np.zeros(n, dtype=bool)
            chosen = []
            for i in good:  # decreasing peak order; no two subtractions may overlap
                s0 = int(st[i])
                if not taken[s0 : s0 + L].any():
                    taken[s0 : s0 + L] = True
                    chosen.append(i)
            chosen = np.array(chosen, dtype=int)
            cs, ck = st[chosen], kk[j[chosen]]
            resid[cs[:, None] + base] -= temps[ck]
            clock += 1
            stamp[cs[:, None] + base] = clock
            samples += (cs + half).tolist()
            units += ck.tolist()
            accepted += chosen.size
        # superpositions, one peak at a time: fitted all at once first, and refitted only when
        # a subtraction nearby has changed the residual since
        rest = peaks_now()
        fa = failed_at[rest]
        if (fa >= 0).any():
            latest = ndimage.maximum_filter1d(stamp, size=2 * reach + 1, mode="nearest")
            rest = rest[(fa < 0) | (latest[rest] > fa)]
        if rest.size == 0:
            if accepted == 0:
                break
            continue
        b_starts, b_gain, b_left = fit_many(rest)
        b_clock = clock
        # worth trying only where one template alone explains much of the peak's window
        jb = np.argmax(b_gain, axis=1)
        worth = b_gain[np.arange(rest.size), jb] >= p["overlap_min_gain"] * tnorm_s[kk[jb]]
        logger.debug("peel: %d peaks left after the batch rounds, %d tried one by one",
                     rest.size, int(worth.sum()))
        w_idx = np.flatnonzero(worth)
        # every peak's superposition tries at once, on the residual of this moment; a peak
        # whose stretch changes before its turn is scored again on its own
        b_pairs = pair_tries(rest[w_idx], b_gain[w_idx], b_starts[w_idx])
        for row, i in enumerate(w_idx.tolist()):
            c = int(rest[i])
            if abs(resid[c]) < threshold:
                continue
            fresh = stamp[max(0, c - span - L) : c + span + L].max() > b_clock
            if fresh:
                starts, gain, left = fit(c)
            else:
                starts, gain, left = b_starts[i], b_gain[i], b_left[i]
            j = int(np.argmax(gain))
            if gain[j] > 0 and left[j] <= limit_k[kk[j]]:
                resid[starts[j] : starts[j] + L] -= temps[kk[j]]
                clock += 1
                stamp[starts[j] : starts[j] + L] = clock
                samples.append(int(starts[j] + half))
                units.append(int(kk[j]))
                accepted += 1
                continue
            r0 = c - span + span_lo  # the stretch holding every first and second placement
            if fresh or stamp[r0 : r0 + region_w].max() > b_clock:
                st1s, k1s, st2s, k2s, oks = (a[0] for a in pair_tries(
                    np.array([c]), gain[None, :], starts[None, :]))
            else:
                st1s, k1s, st2s, k2s, oks = (a[row] for a in b_pairs)
            resolved = False
            ok_t = np.flatnonzero(oks)
            saved = resid[r0 : r0 + region_w].copy() if ok_t.size else None
            for t in ok_t.tolist():
                st1, k1, st2, k2 = int(st1s[t]), int(k1s[t]), int(st2s[t]), int(k2s[t])
                # the first template must now fit well too
                resid[st1 : st1 + L] -= temps[k1]
                resid[st2 : st2 + L] -= temps[k2]
                w1 = resid[st1 : st1 + L]
                if float(np.sum(W[k1] * w1 * w1)) <= limit_k[k1]:
                    clock += 1
                    stamp[min(st1, st2) : max(st1, st2) + L] = clock
                    samples += [st1 + half, st2 + half]
                    units += [k1, k2]
                    accepted += 2
                    resolved = True
                    break
                resid[r0 : r0 + region_w] = saved
            if not resolved:
                failed_at[c] = clock
        if accepted == 0:
            break
    return samples, units, resid


# ------------------------------------------------------------------------------ pursuit
def _template_xcorr(temps: np.ndarray) -> np.ndarray:
    """``X[a, b, d + L - 1]`` = sum_j temps[a, j] temps[b, j - d]: the inner product of template
    ``a`` placed at t and template ``b`` placed at t + d, for |d| < L."""
    K, L = temps.shape
    X = np.zeros((K, K, 2 * L - 1))
    for d in range(L):
        X[:, :, L - 1 + d] = temps[:, d:] @ temps[:, : L - d].T
        X[:, :, L - 1 - d] = temps[:, : L - d] @ temps[:, d:].T
    return X


def _pursuit(
    detect: np.ndarray, temps: np.ndarray, noise_var: float, p: dict,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Greedy template pursuit with a search for superimposed pairs.

    ``temps`` are centred (sample L // 2 is the discharge time). The gain of placing template k
    at t is the drop in residual energy, g = 2 <residual window, template> - |template|^2; it is
    kept for every (k, t) and updated exactly after each subtraction through the templates'
    cross-correlations. Each round takes every position whose best gain is the largest within
    one template length and at least ``pursuit_min_gain`` x that template's energy. Where the
    best single template leaves more than ``pursuit_fit_fraction`` of its energy (plus the noise)
    unexplained, every pair of templates at every relative shift within a template length is
    scored from the same gains (gain(a) + gain(b) - 2 <a, b>; the shifted-template pair search
    of peel-off decomposition, McGill et al. 2005) and the best pair is taken when both its
    members are worth keeping given the other. Rounds repeat until no acceptable fit is left.
    """
    resid = np.array(detect, dtype=float)
    K, L = temps.shape
    half = L // 2
    n = resid.size
    samples: list[int] = []
    units: list[int] = []
    if K == 0 or n < 4 * L:
        return np.array(samples, dtype=int), np.array(units, dtype=int), np.empty(0), resid
    theta = p["pursuit_min_gain"]
    e = np.einsum("ij,ij->i", temps, temps)
    need = theta * e
    lo, hi = L, n - L  # placements kept clear of the ends
    # a window can give a template an acceptable gain only when its energy is at least
    # ((1 + theta) / 2)^2 of that template's (Cauchy-Schwarz): the rest stays -inf
    csum = np.concatenate([[0.0], np.cumsum(resid * resid)])
    wen = np.full(n, 0.0)
    wen[lo:hi] = csum[lo + half + 1 : hi + half + 1] - csum[lo - half : hi - half]
    act = np.flatnonzero(wen >= ((1 + theta) / 2) ** 2 * e.min())
    g = np.full((K, n), -np.inf)
    tw2 = 2 * temps.T
    for a in range(0, act.size, 4096):
        c = act[a : a + 4096]
        g[:, c] = (resid[c[:, None] + np.arange(-half, half + 1)] @ tw2).T - e[:, None]
    X = _template_xcorr(temps)
    Xr = 2 * X[:, :, ::-1]  # g[:, t - L + 1 : t + L] -= Xr[:, k] after subtracting (k, t)
    X2 = 2 * X
    nfloor = p["noise_energy_factor"] * L * noise_var
    fit_frac = p["pursuit_fit_fraction"]
    n_first = p["pursuit_pair_first"]
    D = np.arange(-(L - 1), L)
    base = np.arange(-half, half + 1)

    quality: list[float] = []  # gain / template energy when placed (given a pair's partner)

    def sub(k: int, t: int, q: float) -> None:
        resid[t - half : t + half + 1] -= temps[k]
        g[:, t - L + 1 : t + L] -= Xr[:, k]
        samples.append(t)
        units.append(k)
        quality.append(q)

    region = act
    for _ in range(p["pursuit_max_rounds"]):
        if region.size == 0:
            break
        gr = g[:, region]
        gk = np.argmax(gr, axis=0)
        gm = gr[gk, np.arange(region.size)]
        okm = gm >= need[gk]
        full = np.full(n, -np.inf)
        full[region[okm]] = gm[okm]
        mx = ndimage.maximum_filter1d(full, size=2 * L - 1, mode="constant", cval=-np.inf)
        cand = region[okm][full[region[okm]] == mx[region[okm]]]
        if cand.size == 0:
            break
        cand = cand[np.argsort(-full[cand], kind="stable")]
        placed = len(samples)
        # candidates are at least a template length apart, so the ones that one template fits
        # well are taken at once (their windows do not overlap; gain updates are added up)
        kc = np.argmax(g[:, cand], axis=0)
        gc = g[kc, cand]
        wc = resid[cand[:, None] + base]
        well = np.einsum("ij,ij->i", wc, wc) - gc <= fit_frac * e[kc] + nfloor
        if well.any():
            cw, kw = cand[well], kc[well]
            resid[cw[:, None] + base] -= temps[kw]
            # gain updates reach a template length either side: every other one in time order
            # never overlap
            o = np.argsort(cw)
            for h in (o[0::2], o[1::2]):
                g[:, cw[h][:, None] + D] -= Xr[:, kw[h]]
            samples.extend(cw.tolist())
            units.extend(kw.tolist())
            quality.extend((gc[well] / e[kw]).tolist())
            cand = cand[~well]
        for c in cand:
            c = int(c)
            col = g[:, c]
            k = int(np.argmax(col))
            gs = col[k]
            if gs < need[k]:
                continue
            w = resid[c - half : c + half + 1]
            if w @ w - gs <= fit_frac * e[k] + nfloor:
                sub(k, c, gs / e[k])
                continue
            # pair search: the best few first placements near c, every second one within a
            # template length of each
            a0, a1 = max(lo, c - half), min(hi, c + half + 1)
            blk = g[:, a0:a1]
            top = np.argpartition(-blk, min(n_first, blk.size - 1), axis=None)[:n_first]
            k1, i1 = np.unravel_index(top, blk.shape)
            g1 = blk[k1, i1]
            keep = g1 > 0
            k1, t1, g1 = k1[keep], i1[keep] + a0, g1[keep]
            if k1.size:
                t2 = np.clip(t1[:, None] + D[None, :], lo, hi - 1)  # (F, 2L-1)
                G = g1[:, None, None] + g[:, t2].transpose(1, 0, 2) - X2[k1]  # (F, K, 2L-1)
                f, k2, j = np.unravel_index(int(np.argmax(G)), G.shape)
                gp = G[f, k2, j]
                ka, ta, tb = int(k1[f]), int(t1[f]), int(t2[f, j])
                x12 = X2[ka, k2, j]
                if (gp - gs >= need[k2] and g[ka, ta] - x12 >= need[ka]
                        and g[k2, tb] - x12 >= need[k2] and abs(tb - ta) <= L - 1
                        and t1[f] + D[j] == tb):
                    qa, qb = (g[ka, ta] - x12) / e[ka], (g[k2, tb] - x12) / e[k2]
                    sub(ka, ta, qa)
                    sub(int(k2), tb, qb)
                    continue
            sub(k, c, gs / e[k])
        new = np.array(samples[placed:], dtype=int)
        if new.size == 0:
            break
        # only gains within a template length of a subtraction changed, and only positions within
        # two template lengths can have become local maxima
        touched = np.zeros(n + 1, dtype=int)
        np.add.at(touched, np.clip(new - 2 * L, 0, n), 1)
        np.add.at(touched, np.clip(new + 2 * L + 1, 0, n), -1)
        mask = np.cumsum(touched[:n]) > 0
        mask[:lo] = False
        mask[hi:] = False
        region = np.flatnonzero(mask)
    return (np.array(samples, dtype=int), np.array(units, dtype=int), np.array(quality),
            resid)


def _train_conflicts(a: np.ndarray, b: np.ndarray, dup: int, refractory: int) -> int:
    """Intervals between a discharge of train ``a`` and the next one of train ``b`` (or the
    reverse) longer than ``dup`` and shorter than ``refractory`` samples: two trains of one
    motor unit have none, since a unit does not fire twice within its refractory interval."""
    x = np.concatenate([a, b])
    lab = np.concatenate([np.zeros(a.size, bool), np.ones(b.size, bool)])
    o = np.argsort(x, kind="stable")
    d = np.diff(x[o])
    cross = lab[o][1:] != lab[o][:-1]
    return int(np.sum(cross & (d > dup) & (d < refractory)))


def _unit_templates(
    resid: np.ndarray, temps: np.ndarray, samples: np.ndarray, units: np.ndarray, min_n: int,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Each unit's template re-estimated from its own discharges with every other unit's
    subtracted (residual + own template), re-centred on its main peak; units with fewer than
    ``min_n`` discharges are dropped. Returns templates and discharge trains."""
    K, L = temps.shape
    half = L // 2
    out_t, out_s = [], []
    for k in range(K):
        sk = np.sort(samples[units == k])
        if sk.size < min_n:
            continue
        sel = sk[:: max(1, sk.size // 100)]
        t = np.median(_snippets(resid, sel, half, half) + temps[k], axis=0)
        off = int(np.argmax(np.abs(t))) - half
        if off:
            # the same discharges seen one offset later: the own template moves with them
            sn = _snippets(resid, sel + off, half, half)
            own = np.zeros(L)
            if off > 0:
                own[: L - off] = temps[k][off:]
            else:
                own[-off:] = temps[k][: L + off]
            t = np.median(sn + own, axis=0)
            sk = sk + off
        out_t.append(t)
        out_s.append(sk)
    return out_t, out_s


def _merge_units(
    temps: list[np.ndarray], trains: list[np.ndarray], frac: float, refractory: int,
    conflict_fraction: float, min_expected: float, identical: float = 0.0,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Merge units whose templates are one waveform at some relative shift (whole-template
    cross-correlation over the full template length) and whose trains, put together, break the
    refractory interval far less often than two independent trains would (at most
    ``conflict_fraction`` of the expected count, which must be at least ``min_expected`` for the
    test to say anything): one unit found twice, aligned on different peaks. Templates that
    differ by less than ``identical`` are merged whatever their trains (trains gathered from
    residual peaks may hold some of another unit's)."""
    if not temps:
        return temps, trains
    L = temps[0].size
    order = np.argsort([-(t @ t) for t in temps])
    out_t: list[np.ndarray] = []
    out_s: list[np.ndarray] = []
    for i in order:
        t, s = temps[i], trains[i]
        tn = t @ t
        for j, u in enumerate(out_t):
            c = np.correlate(np.pad(u, L - 1), t, mode="valid")  # lags -(L-1)..L-1
            m = int(np.argmax(c))
            if tn + u @ u - 2 * c[m] >= frac * max(tn, u @ u):
                continue
            sh = m - (L - 1)
            n_conf = _train_conflicts(out_s[j], s + sh, L, refractory)
            # conflicts two independent trains would have: each discharge of the smaller train
            # falls within the refractory interval either side of the larger train's discharges
            a, b = sorted((s, out_s[j]), key=len)
            span = max(1, int(np.ptp(np.concatenate([a, b]))))
            expected = a.size * min(1.0, 2 * refractory * b.size / span)
            logger.debug("merge? sizes %d, %d, shape %.3f, shift %d, conflicts %d of %.1f expected",
                         s.size, out_s[j].size, (tn + u @ u - 2 * c[m]) / max(tn, u @ u), sh,
                         n_conf, expected)
            if (tn + u @ u - 2 * c[m] < identical * max(tn, u @ u)
                    or (expected >= min_expected and n_conf <= conflict_fraction * expected)):
                out_s[j] = np.sort(np.concatenate([out_s[j], s + sh]))
                break
        else:
            out_t.append(t)
            out_s.append(s)
    return out_t, out_s


def _refractory_keep(
    samples: np.ndarray, units: np.ndarray, quality: np.ndarray, refractory: int,
) -> np.ndarray:
    """Mask of the discharges kept when, of two discharges of one unit closer than the
    refractory interval, the one that fitted worse is dropped (best fits first)."""
    keep = np.zeros(samples.size, dtype=bool)
    for k in np.unique(units):
        idx = np.flatnonzero(units == k)
        idx = idx[np.argsort(-quality[idx], kind="stable")]
        taken: list[int] = []  # sorted
        for i in idx:
            t = int(samples[i])
            j = bisect.bisect_left(taken, t)
            if (j == 0 or t - taken[j - 1] >= refractory) and (
                j == len(taken) or taken[j] - t >= refractory
            ):
                taken.insert(j, t)
                keep[i] = True
    return keep


def _locked_fraction(a: np.ndarray, b: np.ndarray, reach: int, tol: int) -> float:
    """Fraction of the discharges of train ``a`` that have a discharge of train ``b`` at one
    constant lag (the commonest lag within ``reach`` samples, +-``tol``)."""
    if a.size == 0 or b.size == 0:
        return 0.0
    b = np.sort(b)
    i = np.searchsorted(b, a)
    lags = [a - b[np.clip(i + j, 0, b.size - 1)] for j in (-2, -1, 0, 1)]
    d = np.concatenate(lags)
    d = d[np.abs(d) <= reach]
    if d.size == 0:
        return 0.0
    h = np.convolve(np.bincount(d + reach, minlength=2 * reach + 1), np.ones(2 * tol + 1), "same")
    lag = int(np.argmax(h)) - reach
    near = np.min(np.abs(np.stack(lags) - lag), axis=0) <= tol
    return float(np.mean(near))


def _drop_locked(
    temps: list, trains: list[np.ndarray], reach: int, tol: int, fraction: float,
    energy: np.ndarray | None = None,
) -> tuple[list, list[np.ndarray]]:
    """Drop a unit whose discharges mostly come at one constant lag after or before those of a
    larger unit: a late or early part of that unit's potential beyond its template window
    (a satellite, or a slow phase), not a motor unit of its own."""
    if energy is None:
        energy = np.array([t @ t for t in temps])
    order = np.argsort(-np.asarray(energy), kind="stable")
    kept: list[int] = []
    for i in order:
        if not any(_locked_fraction(trains[i], trains[j], reach, tol) >= fraction for j in kept):
            kept.append(int(i))
    kept.sort()
    return [temps[i] for i in kept], [trains[i] for i in kept]


def _fill_gaps(
    resid: np.ndarray, temps: np.ndarray, samples: np.ndarray, units: np.ndarray,
    fs_hz: float, p: dict,
) -> tuple[np.ndarray, np.ndarray]:
    """Look for the discharges a steadily firing unit is missing (an interval about twice its
    usual one) where the firing pattern expects them: take the unit's template where it still
    reduces the residual energy, or, where another unit's template took the place of a
    superimposition, replace that template by this unit's plus the best second template when
    that explains the window nearly as well (within ``gap_slack`` of this unit's energy).
    ``resid`` is updated in place."""
    K, L = temps.shape
    half = L // 2
    n = resid.size
    if K == 0 or samples.size == 0:
        return samples, units
    e = np.einsum("ij,ij->i", temps, temps)
    X2 = 2 * _template_xcorr(temps)
    need = p["pursuit_min_gain"] * e
    slack = p["gap_slack"]
    base = np.arange(-half, half + 1)
    D = np.arange(-(L - 1), L)
    samples, units = list(samples), list(units)

    def gains(r: np.ndarray, pos: np.ndarray) -> np.ndarray:
        return 2 * (r[pos[:, None] + base] @ temps.T).T - e[:, None]  # (K, P)

    for k in range(K):
        tk = np.sort([s for s, u in zip(samples, units) if u == k])
        if tk.size < 4:
            continue
        isi = np.diff(tk)
        m = float(np.median(isi))
        w = int(p["gap_window_fraction"] * m)
        for a, gap in zip(tk[:-1], isi):
            n_miss = round(gap / m) - 1
            if gap < p["gap_interval_factor"] * m or n_miss < 1 or n_miss > 2:
                continue
            for jm in range(1, n_miss + 1):
                tau = int(a + jm * gap / (n_miss + 1))
                lo_, hi_ = max(2 * L, tau - w), min(n - 2 * L, tau + w + 1)
                if hi_ <= lo_:
                    continue
                pos = np.arange(lo_, hi_)
                gk = gains(resid, pos)[k]
                i = int(np.argmax(gk))
                if gk[i] >= need[k]:
                    t = int(pos[i])
                    resid[t - half : t + half + 1] -= temps[k]
                    samples.append(t)
                    units.append(k)
                    continue
                # a superimposition taken by another unit's template
                best = None
                sa, ua = np.asarray(samples), np.asarray(units)
                near = np.flatnonzero((sa >= max(lo_, 2 * L)) & (sa < min(hi_, n - 2 * L))
                                      & (ua != k))
                for j in near.tolist():
                    tj, kj = samples[j], units[j]
                    seg = slice(tj - 2 * L, tj + 2 * L + 1)
                    r2 = resid[seg].copy()
                    c0 = 2 * L
                    r2[c0 - half : c0 + half + 1] += temps[kj]
                    g_orig = 2 * r2[c0 - half : c0 + half + 1] @ temps[kj] - e[kj]
                    q = np.arange(L, 3 * L + 1)  # first placement within a template length
                    gq = gains(np.pad(r2, L), q + L)  # (K, len(q)), positions in r2 coordinates
                    g1 = gq[k]
                    i1 = int(np.argmax(g1))
                    t1 = int(q[i1])
                    # second template anywhere within a template length of the first
                    t2 = t1 + D
                    ok = (t2 >= L) & (t2 <= 3 * L)
                    g2 = gq[:, np.clip(t2 - L, 0, len(q) - 1)] - X2[k]
                    g2[:, ~ok] = -np.inf
                    k2, i2 = np.unravel_index(int(np.argmax(g2)), g2.shape)
                    G, second = g1[i1], None
                    if g2[k2, i2] >= need[k2]:
                        G, second = g1[i1] + g2[k2, i2], (int(k2), int(t2[i2]))
                    if G >= g_orig - slack * e[k] and (best is None or G - g_orig > best[0]):
                        best = (G - g_orig, j, tj, t1, second)
                if best is not None:
                    _, j, tj, t1, second = best
                    resid[tj - half : tj + half + 1] += temps[units[j]]
                    t = tj - 2 * L + t1
                    resid[t - half : t + half + 1] -= temps[k]
                    samples[j], units[j] = t, k
                    if second is not None:
                        t = tj - 2 * L + second[1]
                        resid[t - half : t + half + 1] -= temps[second[0]]
                        samples.append(t)
                        units.append(second[0])
    return np.array(samples, dtype=int), np.array(units, dtype=int)


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
    min_n = max(3, p["min_discharges"] // 2)
    refractory = round(p["refractory_ms"] * 1e-3 * fs_hz)
    reach, tol = round(p["locked_reach_ms"] * 1e-3 * fs_hz), max(1, round(0.2e-3 * fs_hz))

    def run(temps: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[int]]:
        s, u, q, r = _pursuit(detect, temps, noise_var, p)
        keep = _refractory_keep(s, u, q, refractory)
        n_k = np.bincount(u, minlength=temps.shape[0])
        n_drop = np.bincount(u[~keep], minlength=temps.shape[0])
        bad = np.flatnonzero(n_drop > p["max_short_interval_fraction"] * n_k).tolist()
        return s[keep], u[keep], r, bad

    samples, units, resid, bad = run(temps)
    for it in range(p["refine_passes"]):
        good = np.isin(units, bad, invert=True)
        tl, trains = _unit_templates(resid, temps, samples[good], units[good], min_n)
        if it == 0:
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
    for _ in range(3):
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


def _decimation_factor(fs_hz: float, match_rate_factor: float) -> int:
    p = load_signal_parameters()["filters"]
    hi = min(p["detect_lowpass_hz"], 0.4 * fs_hz)
    return max(1, int(fs_hz // (match_rate_factor * hi)))


def _refine_full_rate(
    detect: np.ndarray, samples: np.ndarray, units: np.ndarray, n_units: int, half: int, q: int
) -> tuple[np.ndarray, np.ndarray]:
    """Full-rate templates (median of each unit's discharges) and discharge times re-aligned to
    them within +-q samples (no change when q is 1)."""
    L = 2 * half + 1
    temps = np.zeros((n_units, L))
    samples = samples.copy()
    ok = (samples - half - q >= 0) & (samples + half + q < detect.size)
    shifts = np.arange(-q, q + 1)
    for k in range(n_units):
        sel = np.flatnonzero((units == k) & ok)
        if sel.size == 0:
            continue
        t = median_snippet(detect, samples[sel[:100]], half, half)
        if q > 1:
            # best shift per discharge: one gathered array, one contraction
            idx = samples[sel][:, None, None] + shifts[None, :, None] + np.arange(-half, half + 1)
            cross = np.einsum("dsl,l->ds", detect[idx], t)
            moved = shifts[np.argmax(cross, axis=1)]
            samples[sel] += moved
            if moved[:100].any():  # otherwise the median of the same snippets again
                t = median_snippet(detect, samples[sel[:100]], half, half)
        temps[k] = t
    return temps, samples


def sort_units(
    rec: Recording, detections: pd.DataFrame | None = None, method: str | None = None,
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
        sd = robust_noise_sd(detect, fs)
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
    before = max(2, int(round(pd_["window_before_ms"] * 1e-3 * fs_q)))
    after = max(2, int(round(pd_["window_after_ms"] * 1e-3 * fs_q)))
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
    L = 2 * half * q + 1
    disc = pd.DataFrame({"sample": samples, "unit": units})
    # drop units with too few discharges or too low a rate, then renumber by size
    dur = rec.samples.size / fs
    counts = disc["unit"].value_counts()
    keep = [
        u for u, c in counts.items()
        if c >= ps["min_discharges"] and c / dur >= ps["min_rate_hz"]
    ]
    n_dropped = int(disc["unit"].isin(keep).__invert__().sum())
    disc = disc[disc["unit"].isin(keep)]
    if keep:
        pp = np.ptp(temps[keep], axis=1)
        order = [keep[i] for i in np.argsort(-pp)]
        remap = {u: i for i, u in enumerate(order)}
        temps = temps[order]
        disc = disc.assign(unit=disc["unit"].map(remap))
    else:
        temps = np.empty((0, L))
    disc = disc.sort_values("sample", kind="stable").reset_index(drop=True)
    disc["time_s"] = disc["sample"] / fs
    n_left = _find_candidates(resid, fs_q, threshold, pd_["min_separation_ms"]).size
    return Decomposition(
        discharges=disc[["sample", "time_s", "unit"]],
        templates=temps,
        noise_sd=sd,
        n_candidates=int(peaks.size),
        n_unassigned=int(n_left + n_dropped),
        measure=measure,
        detect=detect,
    )
