"""Filtering and discharge detection: mains hum removal, the detection and measurement bands,
the robust noise SD and the candidate peaks (steps 1-2 of :mod:`edxreview.signal._muap`)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
import scipy.fft
from scipy import signal as sps

from edxreview._check import check_option
from edxreview.signal._params import load_signal_parameters
from edxreview.signal._readers import Recording


# ------------------------------------------------------------------------------ filtering
def _sos_band(fs_hz: float, lo_hz: float | None, hi_hz: float | None, order: int) -> np.ndarray:
    """Butterworth second-order sections (designed once per rate and band; a copy: scipy's
    filters want a writeable array). A low-pass at or above ``[filters]
    lowpass_max_nyquist_fraction`` of the Nyquist frequency is left out."""
    top = float(load_signal_parameters()["filters"]["lowpass_max_nyquist_fraction"])
    return _design_band(fs_hz, lo_hz, hi_hz, order, top).copy()


@lru_cache(maxsize=16)
def _design_band(fs_hz: float, lo_hz: float | None, hi_hz: float | None, order: int,
                 max_nyquist_fraction: float) -> np.ndarray:
    nyq = fs_hz / 2
    hi = None if hi_hz is None or hi_hz >= max_nyquist_fraction * nyq else hi_hz
    lo = lo_hz if lo_hz and lo_hz > 0 else None
    if lo and hi:
        return sps.butter(order, [lo, hi], btype="bandpass", fs=fs_hz, output="sos")
    if lo:
        return sps.butter(order, lo, btype="highpass", fs=fs_hz, output="sos")
    if hi:
        return sps.butter(order, hi, btype="lowpass", fs=fs_hz, output="sos")
    return np.array([[1.0, 0, 0, 1.0, 0, 0]])


# ------------------------------------------------------------------------------ mains hum
@dataclass(frozen=True)
class MainsHum:
    """Mains interference found in (and removed from) one recording.

    Attributes
    ----------
    mains_hz : float or None
        Nominal mains frequency looked for (50 or 60 Hz); None when removal is off.
    fundamental_hz : float or None
        Measured fundamental (Hz), when it stood out of the neighbouring spectrum.
    fraction : float
        Fraction of the measurement-band power that was interference: the power removed at
        the fundamental and its harmonics over the band's power before removal (0 to 1).
    harmonics : int
        How many of the fundamental and its harmonics stood out and were removed.
    """

    mains_hz: float | None
    fundamental_hz: float | None
    fraction: float
    harmonics: int


def remove_mains_hum(x: np.ndarray, fs_hz: float) -> tuple[np.ndarray, MainsHum]:
    """Remove mains interference (fundamental and harmonics) by spectrum interpolation.

    The mains frequency is 50 or 60 Hz (``filters.mains_hz``; ``"auto"``: the series whose
    fundamental, 2nd or 3rd harmonic stands highest above its neighbouring spectrum in the
    FFT of the whole record), measured to a small fraction of a bin (Jacobsen's three-bin
    estimator). When one of them stands out, the spectrum is taken again over a stretch holding
    a whole number of mains cycles (the longest with a fast FFT length; a second one, ending at
    the record's end, covers the rest), so that every harmonic falls on a bin and does not leak
    into its neighbours. At the fundamental and at each harmonic inside the measurement band,
    the largest bin within ``mains_search_hz`` is hum when its power exceeds
    ``mains_peak_factor`` times the median power of the neighbouring bins
    (``mains_half_width_hz`` to ``mains_half_width_hz + mains_neighbour_hz`` away on each
    side); then every bin within ``mains_half_width_hz`` of that peak whose magnitude exceeds
    the neighbours' median magnitude is brought down to it, its phase kept. Harmonics that do
    not stand out are left untouched, so a record without hum passes unchanged (no notch, no
    ringing).

    Parameters
    ----------
    x : numpy.ndarray
        Zero-mean samples (any units).
    fs_hz : float
        Sampling rate (Hz).

    Returns
    -------
    cleaned : numpy.ndarray
        The samples without the hum (a new array; ``x`` itself when nothing stood out).
    hum : MainsHum

    References
    ----------
    Mewett DT, Reynolds KJ, Nazeran H. Reducing power line interference in digitised
    electromyogram recordings by spectrum interpolation. Med Biol Eng Comput 2004;42:524-531.

    Jacobsen E, Kootsookos P. Fast, accurate frequency estimators. IEEE Signal Process Mag
    2007;24(3):123-125.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(100_000) / 20_000.0
    >>> emg = np.random.default_rng(0).normal(0, 20, t.size)
    >>> cleaned, hum = remove_mains_hum(emg + 300 * np.sin(2 * np.pi * 50.02 * t), 20_000.0)
    >>> hum.mains_hz, round(hum.fundamental_hz, 2), round(hum.fraction, 2)
    (50.0, 50.02, 0.99)
    >>> round(float(np.std(cleaned - emg)), 1)  # of 212 µV RMS hum, what is left (µV RMS)
    2.6
    """
    p = load_signal_parameters()["filters"]
    mains = str(p["mains_hz"]).removesuffix(".0")
    check_option("filters.mains_hz (emg_signal_parameters.toml)", mains,
                 ("auto", "50", "60", "off"))
    if mains == "off" or x.size < 16:
        return x, MainsHum(None, None, 0.0, 0)
    factor = float(p["mains_peak_factor"])
    # up to the measurement band's top: its low-pass, or the Nyquist fraction above which no
    # low-pass is applied (the same cap as _design_band's)
    hi_band = min(float(p["measure_lowpass_hz"]),
                  float(p["lowpass_max_nyquist_fraction"]) * fs_hz / 2)
    # 1. which mains, and its frequency: one FFT of the whole record (zero-padded to a length
    # with small prime factors: 262,134 samples of N2001 cost 3 times 262,144)
    n_fft = scipy.fft.next_fast_len(x.size, real=True)
    spec = scipy.fft.rfft(x, n_fft)
    nominal = (50.0, 60.0) if mains == "auto" else (float(mains),)
    n_h = int(p["mains_find_harmonics"])  # the fundamental and harmonics up to this one
    order = np.tile(np.arange(1, n_h + 1), len(nominal))
    k0, ratio0, _ = _stand_out(spec, fs_hz / n_fft, np.repeat(nominal, n_h) * order, p)
    best = int(np.argmax(ratio0))
    f_mains = nominal[best // n_h]
    if ratio0[best] <= factor:
        return x, MainsHum(f_mains, None, 0.0, 0)
    f0 = _jacobsen(spec, int(k0[best])) * fs_hz / n_fft / order[best]
    # 2. stretches of a whole number of cycles, on which every harmonic falls on a bin
    n_win = _whole_cycles(x.size, fs_hz / f0, float(p["mains_cycle_offset"]))
    out = np.empty_like(x, dtype=float)
    starts = [0] if n_win == x.size else [0, x.size - n_win]
    fraction, n_hit = 0.0, 0
    for i, start in enumerate(starts):
        if not (n_win == n_fft == x.size):  # else the spectrum of step 1 is this one
            spec = scipy.fft.rfft(x[start: start + n_win])
        df = fs_hz / n_win
        power = spec.real**2 + spec.imag**2
        band_power = float(power[int(np.ceil(float(p["measure_highpass_hz"]) / df)):
                                 int(hi_band / df) + 1].sum())
        k, ratio, ref_mag = _stand_out(spec, df, f0 * np.arange(1, int(hi_band // f0) + 1), p,
                                       power)
        hit = ratio > factor
        hw = int(np.floor(float(p["mains_half_width_hz"]) / df))
        idx = np.clip(k[hit, None] + np.arange(-hw, hw + 1), 0, spec.size - 1).ravel()
        cap = np.repeat(ref_mag[hit], 2 * hw + 1)
        mag = np.sqrt(power[idx])
        over = mag > cap
        idx, cap, mag = idx[over], cap[over], mag[over]
        spec[idx] *= cap / mag
        cleaned = scipy.fft.irfft(spec, n_win)
        if i == 0:  # the index from the first (longest-reaching) stretch
            removed = float((mag**2 - cap**2).sum())
            fraction = removed / band_power if band_power > 0 else 0.0
            n_hit = int(hit.sum())
            out[:n_win] = cleaned
        else:
            out[n_win:] = cleaned[2 * n_win - x.size:]
    return out, MainsHum(f_mains, float(f0), min(1.0, fraction), n_hit)


def _stand_out(spec: np.ndarray, df: float, centres_hz: np.ndarray, p: dict,
               power: np.ndarray | None = None):
    """For each frequency: the largest bin within ``mains_search_hz``, its power over the
    median power of its neighbours, and the neighbours' median magnitude."""
    if power is None:
        power = spec.real**2 + spec.imag**2
    hw = int(np.floor(float(p["mains_half_width_hz"]) / df))
    search = max(1, int(np.floor(float(p["mains_search_hz"]) / df)))
    nb = max(3, int(np.ceil(float(p["mains_neighbour_hz"]) / df)))
    c = np.rint(centres_hz / df).astype(int)
    near = np.clip(c[:, None] + np.arange(-search, search + 1), 0, power.size - 1)
    k = near[np.arange(c.size), np.argmax(power[near], axis=1)]
    side = np.arange(hw + 1, hw + 1 + nb)
    nbr = np.clip(np.concatenate([k[:, None] - side, k[:, None] + side], axis=1),
                  0, power.size - 1)
    ref = np.median(power[nbr], axis=1)
    return k, power[k] / np.maximum(ref, np.finfo(float).tiny), np.sqrt(ref)


def _jacobsen(spec: np.ndarray, k: int) -> float:
    """Peak position (in bins) from the complex values of the peak bin and its neighbours
    (Jacobsen's estimator; a fraction of a thousandth of a bin for a tone in a rectangular
    window, against a tenth for a parabola through the log power)."""
    if k < 1 or k + 1 >= spec.size:
        return float(k)
    a, b, c = spec[k - 1], spec[k], spec[k + 1]
    den = 2 * b - a - c
    d = float(np.real((a - c) / den)) if den != 0 else 0.0
    return k + float(np.clip(d, -0.5, 0.5))


def _whole_cycles(n: int, period: float, max_offset: float) -> int:
    """The longest stretch of at most ``n`` and at least ``n / 2`` samples whose FFT is fast
    (a length with no prime factor above 11) and that holds a whole number of ``period``
    (samples) to within ``max_offset`` of a period; else the one nearest a whole number."""
    lengths = _fast_lengths(n)
    cycles = lengths / period
    offset = np.abs(cycles - np.rint(cycles))
    ok = offset <= max_offset
    return int(lengths[ok].max() if ok.any() else lengths[np.argmin(offset)])


@lru_cache(maxsize=8)
def _fast_lengths(n: int) -> np.ndarray:
    """Every length in [n / 2, n] with no prime factor above 11 (at least one: a power of 2)."""
    out = np.array([1], dtype=np.int64)
    for prime in (2, 3, 5, 7, 11):
        powers = prime ** np.arange(int(np.log(n) / np.log(prime)) + 1, dtype=np.int64)
        out = (out[:, None] * powers[None, :]).ravel()
        out = out[out <= n]
    return np.sort(out[out >= (n + 1) // 2])


_BANDS_CACHE: dict = {}


def mains_hum(rec: Recording) -> MainsHum:
    """The mains hum found in (and removed from) a recording before its bands were built
    (:func:`remove_mains_hum`; computed with the bands, remembered with them)."""
    filter_bands(rec)
    return _BANDS_CACHE["last"][3]


def filter_bands(rec: Recording) -> tuple[np.ndarray, np.ndarray]:
    """Measurement-band and detection-band versions of a recording, mains hum removed.

    Parameters
    ----------
    rec : Recording

    Returns
    -------
    measure, detect : numpy.ndarray
        Zero-phase filtered signals, in the recording's units (µV or ADC units), after the
        mains interference was removed (:func:`remove_mains_hum`; what was removed:
        :func:`mains_hum`).
    """
    key = (rec.samples.size, float(rec.fs_hz))
    # one slot, read once: (samples, key, bands, hum) of the last recording; the samples object
    # is held, so its identity cannot pass to another array. The samples must not be changed in
    # place between analyses of the same array (a copy is a new array, and is filtered anew).
    hit = _BANDS_CACHE.get("last")
    if hit is not None and hit[0] is rec.samples and hit[1] == key:
        return hit[2]
    p = load_signal_parameters()["filters"]
    x, hum = remove_mains_hum(rec.samples - np.median(rec.samples), rec.fs_hz)
    sos_m = _sos_band(rec.fs_hz, p["measure_highpass_hz"], p["measure_lowpass_hz"], p["order"])
    hi_d = min(p["detect_lowpass_hz"], p["detect_lowpass_max_fs_fraction"] * rec.fs_hz)
    sos_d = _sos_band(rec.fs_hz, p["detect_highpass_hz"], hi_d, p["order"])
    measure = sps.sosfiltfilt(sos_m, x)
    detect = sps.sosfiltfilt(sos_d, measure)
    # segmentation, sorting and spontaneous activity all start from these bands: keep the last
    # recording's (read-only views, so that no caller can change the cached arrays)
    measure.flags.writeable = False
    detect.flags.writeable = False
    bands = (measure, detect)
    _BANDS_CACHE["last"] = (rec.samples, key, bands, hum)
    return bands


_NOISE_CACHE: dict = {}


def robust_noise_sd(x: np.ndarray, fs_hz: float | None = None, centre: bool = False) -> float:
    """Baseline noise SD of a zero-mean signal (same units as ``x``).

    During a contraction the median absolute value is inflated by the discharges, so the noise
    is taken from the quietest stretches: the ``noise_percentile`` (10th) percentile of the RMS
    over blocks of ``noise_block_ms`` (5 ms; at least ``noise_block_min_samples`` samples) when
    the signal holds at least ``noise_min_blocks`` of them (``[detection]``), never above
    median(|x|) / 0.6745 (the SD of Gaussian noise from its median absolute value). ``centre=True`` subtracts the median of ``x`` first.
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


def contraction_noise_sd(x: np.ndarray, fs_hz: float, active: np.ndarray | None,
                         centre: bool = False) -> float:
    """The robust noise SD (:func:`robust_noise_sd`) of the contraction: over the samples of
    ``x`` where ``active`` is true (the active stretches of
    :func:`~edxreview.signal._spontaneous.segment_activity`), so that a unit's detection
    threshold and the expected noise of its average do not depend on how much rest was
    recorded beside the contraction. The whole of ``x`` when ``active`` is ``None``, all true,
    or holds fewer than ``noise_min_blocks`` blocks (``[detection]``).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> contraction = rng.normal(0, 3.0, 20_000)
    >>> rest = rng.normal(0, 1.0, 20_000)
    >>> x = np.r_[contraction, rest]
    >>> active = np.r_[np.ones(20_000, bool), np.zeros(20_000, bool)]
    >>> whole, alone = robust_noise_sd(x, 10_000.0), robust_noise_sd(contraction, 10_000.0)
    >>> bool(contraction_noise_sd(x, 10_000.0, active) == alone), bool(whole < alone)
    (True, True)
    """
    if active is None or active.all() or not active.any():
        return robust_noise_sd(x, fs_hz, centre)
    min_blocks = load_signal_parameters()["detection"]["noise_min_blocks"]
    if int(active.sum()) // _noise_block(fs_hz) < min_blocks:
        return robust_noise_sd(x, fs_hz, centre)
    y = x[active]
    return _robust_noise_sd(y - np.median(y) if centre else y, fs_hz)


def _noise_block(fs_hz: float) -> int:
    """Samples in one block of the noise estimate (``noise_block_ms``, at least
    ``noise_block_min_samples``)."""
    p = load_signal_parameters()["detection"]
    # divided, not multiplied, so that the block in s is the same double as before
    return max(int(p["noise_block_min_samples"]), int(round(p["noise_block_ms"] / 1e3 * fs_hz)))


def detection_noise_sd(rec: Recording, segments: pd.DataFrame | None = None) -> float:
    """The noise SD of ``rec``'s detection band over its active stretches
    (:func:`contraction_noise_sd`; ``segments`` from
    :func:`~edxreview.signal._spontaneous.segment_activity`, computed when omitted): the unit
    of the sorting's detection threshold."""
    # imported here: segmentation builds on this module's filter bands and noise SD
    from edxreview.signal._spontaneous import active_mask, segment_activity

    _, detect = filter_bands(rec)
    if segments is None:
        segments = segment_activity(rec)
    return contraction_noise_sd(detect, rec.fs_hz, active_mask(segments, detect.size, rec.fs_hz))


def _robust_noise_sd(x: np.ndarray, fs_hz: float | None) -> float:
    mad_sd = float(np.median(np.abs(x), overwrite_input=True) / 0.6745)  # |x| is a temporary
    if fs_hz:
        p = load_signal_parameters()["detection"]
        n = _noise_block(fs_hz)
        m = x.size // n
        if m >= p["noise_min_blocks"]:
            rms = np.sqrt(np.mean(x[: m * n].reshape(m, n) ** 2, axis=1))
            mad_sd = min(mad_sd, float(np.percentile(rms, p["noise_percentile"])))
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
        Detection threshold in robust noise SDs of the detection band's active stretches
        (:func:`contraction_noise_sd`; default from ``emg_signal_parameters.toml``).

    Returns
    -------
    pandas.DataFrame
        One row per candidate: ``sample``, ``time_s`` (s), ``peak`` (detection-band value at the
        peak, recording units). ``attrs["noise_sd"]`` is the robust noise SD used.
    """
    p = load_signal_parameters()["detection"]
    k = p["threshold_sd"] if threshold_sd is None else threshold_sd
    _, detect = filter_bands(rec)
    sd = detection_noise_sd(rec)
    peaks = _find_candidates(detect, rec.fs_hz, k * sd, p["min_separation_ms"])
    df = pd.DataFrame(
        {"sample": peaks, "time_s": peaks / rec.fs_hz, "peak": detect[peaks]}
    )
    df.attrs["noise_sd"] = sd
    return df
