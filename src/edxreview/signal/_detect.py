"""Filtering and discharge detection: the detection and measurement bands, the robust noise
SD and the candidate peaks (steps 1-2 of :mod:`edxreview.signal._muap`)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import signal as sps

from edxreview.signal._params import load_signal_parameters
from edxreview.signal._readers import Recording


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
    key = (rec.samples.size, float(rec.fs_hz))
    # one slot, read once: (samples, key, bands) of the last recording; the samples object is
    # held, so its identity cannot pass to another array. The samples must not be changed in
    # place between analyses of the same array (a copy is a new array, and is filtered anew).
    hit = _BANDS_CACHE.get("last")
    if hit is not None and hit[0] is rec.samples and hit[1] == key:
        return hit[2]
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
    bands = (measure, detect)
    _BANDS_CACHE["last"] = (rec.samples, key, bands)
    return bands


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
    mad_sd = float(np.median(np.abs(x), overwrite_input=True) / 0.6745)  # |x| is a temporary
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
