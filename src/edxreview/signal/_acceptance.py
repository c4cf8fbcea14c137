"""Acceptance criteria of measured MUAPs (section ``acceptance`` of the parameter file): which
averages are MUAPs fit to measure, and the one filter every aggregation applies.

An average enters the recording means, a subject's pooled muscle, a laboratory reference and the
lab classifier only when it was averaged over enough discharges, stands out from its own
baseline at its discharge time, is large enough against the signal for its unit to have been
sorted reliably, and has a main spike that rises fast enough to show the needle near the unit's
fibres. The others stay in the MUAP table with ``accepted = False`` and the id of
the first rule they fail (``reject_rule``), so that rows in = accepted + rejected with a reason.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from edxreview.signal._measure import _duration_markers, duration_band, smooth_rows
from edxreview.signal._params import load_signal_parameters

#: the acceptance rules, in the order they are tested (a MUAP carries the first it fails)
REJECT_RULES = ("too_few_discharges", "not_above_baseline", "small_against_signal", "rise_time")


def assess_waveforms(
    y: np.ndarray, fs_hz: float, center: int, noise_sd: np.ndarray, n_averaged: np.ndarray,
    markers: tuple | None = None, template_rms_ratio: np.ndarray | None = None,
) -> pd.DataFrame:
    """Rise time and acceptance of averaged MUAPs.

    Parameters
    ----------
    y : numpy.ndarray
        Averaged MUAPs in the measurement band, one per row (recording units), the discharge time
        at column ``center``.
    fs_hz : float
        Sampling rate (Hz).
    center : int
        Column of the discharge time.
    noise_sd : numpy.ndarray
        Expected noise SD of each average (recording units).
    n_averaged : numpy.ndarray
        Number of discharges averaged in each row.
    markers : tuple, optional
        The first eight results of :func:`~edxreview.signal._measure._duration_markers` for
        these rows, when the measurement computed them already.
    template_rms_ratio : numpy.ndarray, optional
        Peak-to-peak amplitude of each unit's detection-band template over the RMS of the
        recording's detection-band signal during its active stretches
        (:func:`template_rms_ratios`); rule
        ``small_against_signal`` where it is below ``[acceptance] min_template_rms_ratio``.
        Not judged where omitted or NaN (averages without their decomposition).

    Returns
    -------
    pandas.DataFrame
        One row per waveform: ``rise_time_ms`` (ms; NaN for a flat row),
        ``template_rms_ratio`` (as given; NaN when not), ``accepted`` (bool) and
        ``reject_rule`` (one of :data:`REJECT_RULES`, ``""`` when accepted). The rise-time rule
        rejects only where ``[acceptance] apply_rise_time`` is true (false in the bundled
        parameters: the TOML says why); the rise time is measured either way.

    Notes
    -----
    The main peak and band are those of the duration measurement
    (:func:`~edxreview.signal._measure.measure_waveform`): the largest excursion of the MUAP
    within +-5 ms of the discharge. Rise time, on the average smoothed over 0.2 ms: from the
    peak that precedes the main peak in the opposite direction (walking back from the main
    peak, the first turning point of the average) to the main peak. For a negative main spike
    this is the source's "preceding positive peak"; a spike without a preceding opposite phase
    rises from where it leaves the baseline (or a slower phase it rides on); either polarity is
    measured alike (a project convention).

    References
    ----------
    On the selection of concentric needle electromyogram motor unit action potentials: is the
    rise time criterion too restrictive? (abstract read; see ``emg_signal_parameters.meta.toml``
    [sources.rise_time_criterion]).
    McGill KC, Lateva ZC, Marateb HR. EMGLAB: an interactive EMG decomposition program. J
    Neurosci Methods 2005;149:121-133 (abstract read: decomposition 100 % accurate for MUPs of
    peak-to-peak amplitude above 2.5 times the RMS signal amplitude; [sources.mcgill2005_accuracy]).
    """
    params = load_signal_parameters()
    pm, pa = params["measurement"], params["acceptance"]
    if not len(y):
        return pd.DataFrame({"rise_time_ms": pd.Series(dtype=float),
                             "template_rms_ratio": pd.Series(dtype=float),
                             "accepted": pd.Series(dtype=bool),
                             "reject_rule": pd.Series(dtype=object)})
    y = np.asarray(y, float).reshape(len(y), -1)
    noise_sd = np.asarray(noise_sd, float)
    n_averaged = np.asarray(n_averaged)
    yb, _lo, _hi, ipk, amp, baseline_sd, _onset, _end = (
        markers or _duration_markers(y, fs_hz, center, noise_sd, pm))
    band = duration_band(baseline_sd, noise_sd, amp, pm)
    ys = smooth_rows(yb, fs_hz, pm["smooth_ms"])
    above = (amp > 0) & (np.abs(ys[:, center]) > band)
    rise_ms = np.where(amp > 0, _rise_samples(ys, ipk) / fs_hz * 1e3, np.nan)
    slow = (np.nan_to_num(rise_ms, nan=0.0) > float(pa["rise_time_max_ms"])) \
        & bool(pa["apply_rise_time"])
    ratio = (np.full(len(y), np.nan) if template_rms_ratio is None
             else np.asarray(template_rms_ratio, float).reshape(len(y)))
    small = np.nan_to_num(ratio, nan=np.inf) < float(pa["min_template_rms_ratio"])
    rule = np.select([n_averaged < int(pa["min_discharges_averaged"]), ~above, small, slow],
                     list(REJECT_RULES), "")
    return pd.DataFrame({"rise_time_ms": rise_ms, "template_rms_ratio": ratio,
                         "accepted": rule == "", "reject_rule": rule.astype(object)})


def template_rms_ratios(templates: np.ndarray, detect: np.ndarray,
                        active: np.ndarray | None = None) -> np.ndarray:
    """Peak-to-peak amplitude of each detection-band template (one unit per row) over the RMS
    of the detection-band signal ``detect`` during voluntary contraction, the quantity of the
    ``small_against_signal`` rule (NaN for every row when that signal is empty or flat).

    Parameters
    ----------
    templates : numpy.ndarray
        Detection-band templates, one unit per row.
    detect : numpy.ndarray
        The recording's detection-band signal.
    active : numpy.ndarray, optional
        Boolean, one per sample of ``detect``: the samples of the active stretches of
        :func:`~edxreview.signal._spontaneous.segment_activity`
        (:func:`~edxreview.signal._spontaneous.active_mask`). The RMS is taken over these
        samples only, so that a unit's ratio does not depend on how much rest the file holds.
        Omitted, or without any active sample (segmentation found no contraction, e.g. one
        that runs throughout and inflates the noise estimate segmentation compares with): the
        whole signal.

    Examples
    --------
    >>> import numpy as np
    >>> signal = np.r_[np.full(50, 10.0), np.full(50, -10.0)]   # RMS 10
    >>> template_rms_ratios(np.array([[0.0, 30.0, -20.0], [0.0, 5.0, -5.0]]), signal).tolist()
    [5.0, 1.0]
    >>> with_rest = np.r_[signal, np.zeros(300)]                 # the same, then rest
    >>> template_rms_ratios(np.array([[0.0, 30.0, -20.0]]), with_rest,
    ...                     np.arange(400) < 100).tolist()
    [5.0]
    """
    templates = np.asarray(templates, float)
    detect = np.asarray(detect, float)
    if active is not None:
        active = np.asarray(active, bool)
        if active.shape == detect.shape and active.any():
            detect = detect[active]
    rms = float(np.sqrt(np.mean(np.square(detect)))) if np.size(detect) else 0.0
    if rms <= 0 or not np.isfinite(rms) or templates.ndim != 2:
        return np.full(len(templates), np.nan)
    return np.ptp(templates, axis=1) / rms


def _rise_samples(ys: np.ndarray, ipk: np.ndarray) -> np.ndarray:
    """Rise time of each row's main spike, in samples, on the smoothed average ``ys``: from the
    turning point that precedes the main peak ``ipk`` (walking back from the peak, the first
    sample where the average stops moving away from the peak's value: the preceding peak of
    the opposite direction) to the peak."""
    rows = np.arange(len(ys))
    cols = np.arange(1, ys.shape[1])[None, :]
    z = np.sign(ys[rows, ipk])[:, None] * ys      # the main peak positive
    turn = (z[:, :-1] >= z[:, 1:]) & (cols < ipk[:, None])   # z[j - 1] >= z[j]: j is a foot
    foot = np.where(turn, cols, 0).max(axis=1)
    return (ipk - foot).astype(float)


def accepted_muaps(muaps: pd.DataFrame) -> pd.DataFrame:
    """The accepted rows of a MUAP table (all rows of a table without an ``accepted`` column,
    e.g. one made by hand; a missing value counts as accepted).

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"duration_ms": [9.0, 2.0], "accepted": [True, False]})
    >>> accepted_muaps(t)["duration_ms"].tolist()
    [9.0]
    """
    if muaps is None or "accepted" not in muaps:
        return muaps
    return muaps[accepted_mask(muaps)]


def accepted_mask(muaps: pd.DataFrame) -> np.ndarray:
    """Which rows of a MUAP table are accepted (bool array; all of a table without an
    ``accepted`` column; text ``True``/``False`` as a CSV gives it; a missing value counts as
    accepted)."""
    if "accepted" not in muaps:
        return np.ones(len(muaps), bool)
    a = muaps["accepted"]
    if a.dtype == bool:
        return a.to_numpy()
    return (a.isna() | a.astype(str).str.strip().str.lower().isin(["true", "1", "1.0"])
            ).to_numpy(bool)


def count_rejections(muaps: pd.DataFrame | None) -> dict[str, int]:
    """Number of rejected MUAPs per rule, in the order of :data:`REJECT_RULES` (rules with none
    left out)."""
    if muaps is None or not len(muaps) or "reject_rule" not in muaps:
        return {}
    c = muaps.loc[~accepted_mask(muaps), "reject_rule"].fillna("").astype(str).value_counts()
    order = [*REJECT_RULES, *sorted(set(c.index) - set(REJECT_RULES))]
    return {r: int(c[r]) for r in order if r in c.index}


def format_rejections(counts: dict[str, int]) -> str:
    """``rule:n`` pairs, ``"; "``-separated (the ``reject_rules`` column)."""
    return "; ".join(f"{r}:{n}" for r, n in counts.items())


def describe_rejections(muaps: pd.DataFrame | None) -> str:
    """One line for the screen: how many MUAPs were rejected and why (``""`` when none)."""
    counts = count_rejections(muaps)
    if not counts:
        return ""
    n = sum(counts.values())
    why = ", ".join(f"{r.replace('_', ' ')} {k}" for r, k in counts.items())
    return f"{n} of {len(muaps)} MUAP(s) rejected by the acceptance criteria ({why})"
