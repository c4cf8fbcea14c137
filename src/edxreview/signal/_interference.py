"""Interference-pattern analysis (turns and amplitude, Willison-style): a reading of the whole
signal of a voluntary contraction that does not depend on decomposing it into motor units.

The measurement-band signal of the active stretches is cut into epochs; in each, *turns* are
the reversals of the signal by at least ``turn_threshold_uv`` (the zigzag of the signal with
that hysteresis), counted per second, and the *mean amplitude* is the mean voltage change
between consecutive turns. Each epoch is one point of the turns/amplitude "cloud"; the
reading compares the epochs' ratio log10(turns per s / mean amplitude) with the same ratio in
the laboratory's own controls: many small turns (a high ratio) is the myopathic pattern, few
large ones (a low ratio) the neurogenic one. The ratio, not turns or amplitude alone, is
compared because both grow with the force of the contraction, which is not controlled.

Each epoch also carries its RMS (the envelope of the contraction) and the median and mean
frequency of its power spectrum in the measurement band: short, polyphasic MUAPs put more power
at high frequencies (myopathy), long, large ones at low frequencies (neurogenic), and the
high-frequency content grows with the turns/amplitude ratio (Fuglsang-Frederiksen A, Ronager J,
J Neurol Sci 1990;97:81-91; abstract read, not the full text); its shape is kept as the
relative power in fixed octave bands of the measurement band.

The turns-amplitude cloud can also be read against a line fitted to a laboratory's control
epochs (:func:`cloud_line`): each epoch's standardised residual (:func:`cloud_residuals`) is
how many more (or fewer) turns it has than the controls' epochs of the same amplitude, which
takes the force of the contraction, moving an epoch along the cloud, out of the comparison.

References
----------
Willison RG. Analysis of electrical activity in healthy and dystrophic muscle in man.
J Neurol Neurosurg Psychiatry 1964;27:386-394.
Stalberg E, Chu J, Bril V, Nandedkar S, Stalberg S, Ericsson M. Automatic analysis of the EMG
interference pattern. Electroencephalogr Clin Neurophysiol 1983;56:672-681 (turns/amplitude
cloud).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import fft as sp_fft
from scipy import signal as sps

from edxreview.signal._classify import Reading, normalize_muscle
from edxreview.signal._detect import filter_bands
from edxreview.signal._params import load_signal_parameters
from edxreview.signal._readers import Recording

if TYPE_CHECKING:
    from edxreview.signal._reference import LabReference

#: columns of :func:`interference_epochs` that a lab reference holds
IP_FEATURES = ("ip_turns_per_s", "ip_log_amplitude", "ip_log_ratio")


def turning_points(x: np.ndarray, threshold: float) -> np.ndarray:
    """Indices of the turns of ``x``: the extremes between which the signal moves by at least
    ``threshold`` (same units as ``x``) each way, in time order.

    Only the signal's local extremes are walked (a turn is always one of them).
    """
    if x.size < 3:
        return np.empty(0, dtype=int)
    d = np.diff(x)
    ext = np.flatnonzero(np.sign(d[1:]) != np.sign(d[:-1])) + 1
    idx = _drop_wiggles(x, np.concatenate(([0], ext, [x.size - 1])), threshold)
    seq = x[idx].tolist()
    pts: list[int] = []
    hi = lo = seq[0]
    hi_i = lo_i = 0
    direction = 0
    ext_v, ext_i = seq[0], 0
    for i, v in enumerate(seq):
        if direction == 0:
            if v > hi:
                hi, hi_i = v, i
            if v < lo:
                lo, lo_i = v, i
            if hi - lo >= threshold:
                if hi_i < lo_i:  # went down from the high point
                    pts.append(hi_i)
                    direction, ext_v, ext_i = -1, lo, lo_i
                else:
                    pts.append(lo_i)
                    direction, ext_v, ext_i = 1, hi, hi_i
        elif direction > 0:
            if v > ext_v:
                ext_v, ext_i = v, i
            elif ext_v - v >= threshold:
                pts.append(ext_i)
                direction, ext_v, ext_i = -1, v, i
        else:
            if v < ext_v:
                ext_v, ext_i = v, i
            elif v - ext_v >= threshold:
                pts.append(ext_i)
                direction, ext_v, ext_i = 1, v, i
    return idx[np.asarray(pts, dtype=int)]


def _drop_wiggles(x: np.ndarray, idx: np.ndarray, threshold: float) -> np.ndarray:
    """``idx`` (the extremes of ``x``, in time order) less the pairs of consecutive extremes
    that cannot change the turns: a rise ``a < b`` smaller than ``threshold`` with
    ``b <= p`` and ``q < a`` (``p`` the extreme before, ``q`` the one after), or such a fall
    mirrored. Whatever the walk's state after ``p``, it is the same after ``q`` with the pair
    or without it, and neither of the pair becomes a turn; pairs that share no neighbour are
    dropped together, round after round (at most eight) while that shortens the walk much."""
    for _ in range(8):
        v = x[idx]
        p, a, b, q = v[:-3], v[1:-2], v[2:-1], v[3:]
        rise = b - a
        drop = (((rise > 0) & (rise < threshold) & (b <= p) & (q < a))
                | ((rise < 0) & (-rise < threshold) & (b >= p) & (a < q)))
        # no two pairs within two extremes of each other: each keeps its neighbours
        drop[1:] &= ~drop[:-1].copy()
        drop[2:] &= ~drop[:-2].copy()
        first = np.flatnonzero(drop) + 1
        keep = np.ones(idx.size, dtype=bool)
        keep[first] = keep[first + 1] = False
        idx = idx[keep]
        if first.size * 20 < idx.size:  # less than a tenth of the extremes went
            break
    return idx


def interference_epochs(rec: Recording, segments: pd.DataFrame) -> pd.DataFrame:
    """Turns and amplitude of each epoch of the active stretches of a recording.

    Parameters
    ----------
    rec : Recording
        A calibrated recording (µV): the turn threshold is a voltage.
    segments : pandas.DataFrame
        Output of :func:`~edxreview.signal.segment_activity`.

    Returns
    -------
    pandas.DataFrame
        One row per epoch of ``epoch_ms`` wholly inside an active stretch: ``start_s`` (s),
        ``ip_turns_per_s`` (turns/s), ``ip_mean_amplitude_uv`` (µV, mean change between
        consecutive turns), ``ip_log_amplitude`` (log10 of it), ``ip_log_ratio`` (log10 of
        turns/s over µV), and the envelope and spectrum columns of :func:`epoch_spectra`
        (:data:`SPECTRAL_COLUMNS`). Empty for an uncalibrated recording (``attrs["reason"]`` says why).
    """
    p = load_signal_parameters()["interference"]
    cols = ["start_s", "ip_turns_per_s", "ip_mean_amplitude_uv", *IP_FEATURES[1:],
            *SPECTRAL_COLUMNS, *band_columns()]
    if not rec.calibrated:
        out = pd.DataFrame(columns=cols)
        out.attrs["reason"] = ("interference pattern not measured: the turn threshold is a "
                               "voltage and the recording has no gain")
        return out
    measure, _ = filter_bands(rec)
    fs = rec.fs_hz
    n_ep = int(round(p["epoch_ms"] * 1e-3 * fs))
    active = segments[segments["state"] == "active"]
    parts = []  # per active stretch: start (s), turns and amplitude sum and count per epoch
    for a, b in zip(active["start_s"].tolist(), active["end_s"].tolist()):
        i0, i1 = int(round(a * fs)), min(measure.size, int(round(b * fs)))
        k = (i1 - i0) // n_ep
        if k == 0:
            continue
        x = measure[i0 : i0 + k * n_ep]
        t = turning_points(x, p["turn_threshold_uv"])
        ep = t // n_ep
        # amplitude: change between consecutive turns of one epoch
        same = ep[1:] == ep[:-1]
        dv = np.abs(np.diff(x[t]))[same]
        parts.append((a + np.arange(k) * n_ep / fs, np.bincount(ep, minlength=k),
                      np.bincount(ep[1:][same], weights=dv, minlength=k),
                      np.bincount(ep[1:][same], minlength=k)))
    if not parts:
        out = pd.DataFrame(columns=cols)
        out.attrs["reason"] = "no active epoch with turns"
        return out
    start, count, amp_sum, amp_n = (np.concatenate(c) for c in zip(*parts))
    rate = count / (n_ep / fs)
    with np.errstate(invalid="ignore", divide="ignore"):
        amp = np.where(amp_n > 0, amp_sum / amp_n, np.nan)
        log_amp = np.log10(np.where(amp > 0, amp, np.nan))
        log_ratio = np.log10(np.where(rate > 0, rate, np.nan) / np.where(amp > 0, amp, np.nan))
    out = pd.DataFrame(dict(zip(cols, (start, rate, amp, log_amp, log_ratio))))
    # the same epochs, in the same order
    out = pd.concat([out, epoch_spectra(measure, segments, fs, n_ep)], axis=1)
    out = out[~np.isnan(log_ratio)].reset_index(drop=True)
    if out.empty:
        out.attrs["reason"] = "no active epoch with turns"
    return out


#: per-epoch envelope and spectrum columns of :func:`interference_epochs`
SPECTRAL_COLUMNS = ("ip_log_rms", "ip_median_freq_hz", "ip_mean_freq_hz")


def band_edges() -> np.ndarray:
    """Edges (Hz, ascending) of the spectral bands of :func:`epoch_spectra`: ``[interference]
    spectral_octaves`` octaves down from the measurement band's upper edge, and the rest of the
    measurement band below them."""
    pf = load_signal_parameters()["filters"]
    k = int(load_signal_parameters()["interference"]["spectral_octaves"])
    top = float(pf["measure_lowpass_hz"])
    return np.concatenate(([float(pf["measure_highpass_hz"])], top / 2.0 ** np.arange(k, -1, -1)))


def band_columns() -> tuple[str, ...]:
    """Names of the relative band power columns of :func:`epoch_spectra` (1 the lowest band)."""
    return tuple(f"ip_log_rel_power_{i + 1}" for i in range(len(band_edges()) - 1))


def epoch_spectra(measure: np.ndarray, segments: pd.DataFrame, fs: float, n_ep: int) -> pd.DataFrame:
    """Envelope and spectrum of each epoch of the active stretches (the epochs of
    :func:`interference_epochs`, same order): ``ip_log_rms`` (log10 of the RMS, µV),
    ``ip_median_freq_hz`` and ``ip_mean_freq_hz`` of the epoch's power spectrum (periodogram
    of the whole epoch with a Hann window, zero-padded to a fast FFT length) within the
    measurement band; and ``ip_log_rel_power_1`` … (:func:`band_columns`), the log10 of the
    fraction of that power in each band of :func:`band_edges` (a band's lower edge inclusive;
    NaN for a band above half the sampling rate)."""
    pf = load_signal_parameters()["filters"]
    act = segments[segments["state"] == "active"]
    blocks = []
    for a, b in zip(act["start_s"], act["end_s"]):
        i0, i1 = int(round(a * fs)), min(measure.size, int(round(b * fs)))
        k = (i1 - i0) // n_ep
        if k:
            blocks.append(np.asarray(measure[i0 : i0 + k * n_ep]).reshape(k, n_ep))
    if not blocks:
        return pd.DataFrame(columns=[*SPECTRAL_COLUMNS, *band_columns()], dtype=float)
    x = np.concatenate(blocks)
    rms = np.sqrt((x ** 2).mean(1))
    nfft = sp_fft.next_fast_len(n_ep, real=True)
    pxx = np.abs(sp_fft.rfft(x * sps.get_window("hann", n_ep), n=nfft, axis=1)) ** 2
    f = sp_fft.rfftfreq(nfft, 1.0 / fs)
    band = (f >= pf["measure_highpass_hz"]) & (f <= min(pf["measure_lowpass_hz"], fs / 2))
    f, pxx = f[band], pxx[:, band]
    tot = pxx.sum(1)
    cum = np.cumsum(pxx, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mdf = f[np.minimum((cum < 0.5 * tot[:, None]).sum(1), f.size - 1)]
        mnf = (pxx * f).sum(1) / tot
        out = pd.DataFrame({"ip_log_rms": np.log10(np.where(rms > 0, rms, np.nan)),
                            "ip_median_freq_hz": np.where(tot > 0, mdf, np.nan),
                            "ip_mean_freq_hz": mnf})
        edges = band_edges()
        # bins per band: lower edge inclusive, the top band's upper edge too
        b = np.searchsorted(edges, f, side="right") - 1
        b[f == edges[-1]] = edges.size - 2
        share = np.stack([pxx[:, b == i].sum(1) for i in range(edges.size - 1)], 1) / tot[:, None]
        share[:, edges[1:] > fs / 2] = np.nan   # band beyond the Nyquist frequency
        rel = np.log10(np.where(share > 0, share, np.nan))
    return pd.concat([out, pd.DataFrame(rel, columns=list(band_columns()))], axis=1)


def cloud_line(epochs: pd.DataFrame, min_subjects: int) -> pd.DataFrame:
    """The control line of the turns-amplitude cloud, per muscle: the least-squares line of
    log10 turns/s on log10 mean amplitude per turn over ``epochs`` (a laboratory's control
    epochs pooled) and the SD of its residuals.

    Parameters
    ----------
    epochs : pandas.DataFrame
        Interference epochs (:func:`interference_epochs`) with columns ``subject`` and
        ``muscle``.
    min_subjects : int
        A muscle whose epochs come from fewer subjects has no line.

    Returns
    -------
    pandas.DataFrame
        Index muscle (normalised names): ``slope``, ``intercept``, ``resid_sd`` (residual SD,
        n - 2 degrees of freedom), ``n_epochs``, ``n_subjects``.
    """
    cols = ["slope", "intercept", "resid_sd", "n_epochs", "n_subjects"]
    d = pd.DataFrame({"muscle": epochs["muscle"].map(normalize_muscle),
                      "subject": epochs["subject"],
                      "x": epochs["ip_log_amplitude"].astype(float),
                      "y": np.log10(epochs["ip_turns_per_s"].astype(float).where(
                          epochs["ip_turns_per_s"] > 0))}).dropna(subset=["x", "y"])
    if d.empty:
        return pd.DataFrame(columns=cols, index=pd.Index([], name="muscle"), dtype=float)
    d["xx"], d["xy"], d["yy"] = d["x"] ** 2, d["x"] * d["y"], d["y"] ** 2
    g = d.groupby("muscle")
    n = g.size().astype(float)
    m = g[["x", "y", "xx", "xy", "yy"]].mean()
    sxx = (m["xx"] - m["x"] ** 2) * n
    sxy = (m["xy"] - m["x"] * m["y"]) * n
    syy = (m["yy"] - m["y"] ** 2) * n
    slope = sxy / sxx.where(sxx > 0)
    sse = (syy - slope * sxy).clip(lower=0)
    out = pd.DataFrame({"slope": slope, "intercept": m["y"] - slope * m["x"],
                        "resid_sd": np.sqrt(sse / (n - 2).where(n > 2)),
                        "n_epochs": n, "n_subjects": g["subject"].nunique().astype(float)})
    ok = (out["n_subjects"] >= min_subjects) & (out["resid_sd"] > 0)
    return out[ok]


def cloud_residuals(epochs: pd.DataFrame, line: pd.DataFrame) -> pd.Series:
    """Each epoch's standardised residual from its muscle's control line
    (:func:`cloud_line`): (log10 turns/s - the line at its log10 mean amplitude) / the
    residual SD. Above 0: more turns than the controls' epochs of that amplitude (the
    myopathic side of the cloud); below: fewer (neurogenic). NaN for a muscle without a line.
    ``epochs`` needs column ``muscle``."""
    ln = line.reindex(epochs["muscle"].map(normalize_muscle))
    y = np.log10(epochs["ip_turns_per_s"].astype(float).where(epochs["ip_turns_per_s"] > 0))
    fit = ln["intercept"].to_numpy(float) + ln["slope"].to_numpy(float) * epochs[
        "ip_log_amplitude"].to_numpy(float)
    return pd.Series((y.to_numpy(float) - fit) / ln["resid_sd"].to_numpy(float),
                     index=epochs.index, name="ip_cloud_z")


def interference_stats(epochs: pd.DataFrame) -> pd.DataFrame:
    """Per recording (column ``recording``) and feature of :data:`IP_FEATURES`: number of
    epochs ``n``, mean ``m`` and variance ``v`` (the long table of
    :func:`~edxreview.signal._reference.recording_stats`, so that a lab reference holds them
    beside the MUAP features)."""
    if epochs.empty:   # typed, so that it joins a table of MUAP statistics as numbers
        return pd.DataFrame({"recording": pd.Series(dtype=object),
                             "feature": pd.Series(dtype=object),
                             "n": pd.Series(dtype="int64"), "m": pd.Series(dtype=float),
                             "v": pd.Series(dtype=float)})
    long = epochs.melt(id_vars=["recording"], value_vars=list(IP_FEATURES),
                       var_name="feature").dropna(subset=["value"])
    return (long.groupby(["recording", "feature"])["value"].agg(n="size", m="mean", v="var")
            .reset_index())


def read_interference(
    epochs: pd.DataFrame, reference: LabReference | None, muscle: str | None,
) -> tuple[Reading, pd.DataFrame]:
    """Read a muscle's interference pattern (its epochs pooled over recordings) against a lab
    reference that holds the interference features of its controls.

    Rule ``interference_ratio``: the z-score of the mean ``ip_log_ratio`` beyond the
    prediction limit of :func:`~edxreview.signal._reference.zscore_muscle` above is myopathic
    (many small turns), below is neurogenic (few large turns), within is normal. Fewer than
    ``min_epochs`` epochs, no interference features in the reference for the muscle, or
    fewer control subjects than ``min_judging_control_subjects`` of section
    ``lab_reference``: indeterminate, with the reason.

    Returns
    -------
    (Reading, pandas.DataFrame)
        The reading and the z-score table (index: the interference features).
    """
    from edxreview.signal._reference import (
        control_subjects_short,
        count_control_subjects,
        zscore_muscle,
    )

    p = load_signal_parameters()["interference"]
    empty = pd.DataFrame(columns=["value", "n", "z", "limit", "lower", "upper"])
    if reference is None:
        return Reading("indeterminate", ["interference pattern not judged: no lab reference"],
                       rule="interference_no_reference"), empty
    mus = normalize_muscle(muscle) if muscle else None
    feats = (reference.table.loc[mus].index if mus in reference.muscles() else pd.Index([]))
    if "ip_log_ratio" not in feats:
        return Reading("indeterminate", [f"interference pattern not judged: the reference has "
                                         f"no interference features for {mus or 'this muscle'}"],
                       rule="interference_no_reference"), empty
    people = count_control_subjects(reference, mus, "ip_log_ratio").iloc[0]
    if people["too_few"]:
        short = control_subjects_short(people, reference)
        return Reading("indeterminate", [f"interference pattern {short}"],
                       rule="interference_too_few_control_subjects"), empty
    n = len(epochs)
    if n < p["min_epochs"]:
        why = epochs.attrs.get("reason", "")
        return Reading("indeterminate", [f"interference pattern: {n} active epoch(s) "
                                         f"(need {p['min_epochs']})" + (f"; {why}" if why else "")],
                       rule="interference_too_few_epochs"), empty
    z = zscore_muscle(epochs[[c for c in IP_FEATURES if c in epochs]], reference, mus)
    zr, lim = float(z.at["ip_log_ratio", "z"]), float(z.at["ip_log_ratio", "limit"])
    turns = float(epochs["ip_turns_per_s"].mean()) if "ip_turns_per_s" in epochs else np.nan
    reasons = [f"interference pattern, {n} epochs of {p['epoch_ms']:g} ms: turns "
               f"{turns:.0f}/s, log10 turns/s per µV z = {zr:+.1f} (abnormal when |z| > {lim:.2f})"]
    if zr > lim:
        return Reading("myopathic", reasons + ["many small turns: myopathic pattern"],
                       rule="interference_ratio"), z
    if zr < -lim:
        return Reading("neurogenic", reasons + ["few large turns: neurogenic pattern"],
                       rule="interference_ratio"), z
    return Reading("normal", reasons, rule="interference_ratio"), z
