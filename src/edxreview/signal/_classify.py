"""Reference lookup and the neurogenic / myopathic / normal reading of one recording."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy.stats import binom

from edxreview.knowledge import load_anatomy
from edxreview.knowledge._tables import closest_ids, normalize_key
from edxreview._errors import InvalidParameterError
from edxreview.signal._params import load_muap_reference, load_signal_parameters

Pattern = Literal["normal", "neurogenic", "myopathic", "indeterminate"]

#: Said wherever a reading made with the bundled, unverified ``muap_reference.csv``
#: (``reference="illustrative"``, rule ``illustrative_rules``) is shown: screen and figure.
ILLUSTRATIVE_CAVEAT = "illustrative, unverified reference: for teaching, not for reading patients"

def normalize_muscle(name: str | None) -> str | None:
    """Muscle id from a free-text name (``"brachial biceps"`` -> ``biceps_brachii``): the
    anatomy's names and aliases (``muscles.csv``, the ones a workbook accepts), else the name
    in snake case."""
    if not name:
        return None
    known = load_anatomy().muscle_aliases.get(normalize_key(name))
    return known or re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


def check_muscle(name: str, where: str = "muscle") -> str:
    """The canonical id of a muscle name, checked against the knowledge vocabulary.

    The names and aliases of ``muscles.csv`` and ``aliases_zh.csv`` (the ones a workbook
    accepts), matched once case, spaces and punctuation are ignored.

    Parameters
    ----------
    name : str
        The name as the user wrote it (``"Biceps brachii"``, ``"BB"``, ``"三角肌"``).
    where : str
        What the name came from, for the message (``"--muscle"``).

    Returns
    -------
    str
        The muscle id (``biceps_brachii``).

    Raises
    ------
    InvalidParameterError
        The name is not in the vocabulary; the message names ``where`` and the closest ids.

    Examples
    --------
    >>> from edxreview.signal._classify import check_muscle
    >>> check_muscle("Biceps brachii"), check_muscle("BB")
    ('biceps_brachii', 'biceps_brachii')
    >>> check_muscle("deltiod", "--muscle")
    Traceback (most recent call last):
    ...
    edxreview._errors.InvalidParameterError: --muscle 'deltiod' is not a known muscle; did you mean 'deltoid'?
    """
    aliases = load_anatomy().muscle_aliases
    key = normalize_key(name)
    if key in aliases:
        return aliases[key]
    ids = closest_ids(key, aliases)
    hint = (f"did you mean {' or '.join(repr(i) for i in ids)}?" if ids else
            "the accepted names are those of muscles.csv (edxreview template lists them).")
    raise InvalidParameterError(f"{where} {name!r} is not a known muscle; {hint}")


@dataclass
class ReferenceLimits:
    """MUAP limits for one muscle and age (durations ms, amplitudes µV, polyphasic %)."""

    muscle: str
    duration_mean_ms: float
    duration_lower_ms: float
    duration_upper_ms: float
    amplitude_lower_uv: float
    amplitude_upper_uv: float
    polyphasic_upper_pct: float
    age_note: str
    table: str


def check_age(age_years: float | None, where: str = "age_years") -> None:
    """Raise :class:`InvalidParameterError` unless the age is plausible.

    The range is the study workbook's (``patients, age_years`` of the bundled
    ``plausibility.csv``: error_min … error_max), so a recording and a workbook accept the same
    ages.
    """
    if age_years is None:
        return
    lo, hi = age_range_years()
    try:
        value = float(age_years)
    except (TypeError, ValueError):
        value = float("nan")
    if not (np.isfinite(value) and lo <= value <= hi):
        raise InvalidParameterError(
            f"{where}={age_years!r} is not a plausible age; give the age at the study in years, "
            f"between {lo:g} and {hi:g}.")


def age_range_years() -> tuple[float, float]:
    """(lowest, highest) plausible age in years, from ``plausibility.csv``."""
    from edxreview.knowledge._tables import read_table

    table, _ = read_table("plausibility")
    row = table[(table["sheet"] == "patients") & (table["column"] == "age_years")].iloc[0]
    return float(row["error_min"]), float(row["error_max"])


def lookup_reference(muscle: str, age_years: float | None) -> ReferenceLimits:
    """Reference limits for a muscle and age from ``muap_reference.csv``.

    That table is ``unverified-illustrative`` (no row could be traced to a printed source);
    :func:`~edxreview.signal.analyze_recording` uses it only when asked for
    (``reference="illustrative"``).

    Parameters
    ----------
    muscle : str
        Muscle id (snake case; common aliases accepted).
    age_years : float, optional
        Age (years). Without it the band that holds ``age_unknown_years`` of
        ``emg_signal_parameters.toml`` (the middle of the adult range) is used and the note says
        so, with the span of the limits over all adult ages; spanning every band instead would
        widen the normal range by about 30 % and hide moderate changes.

    Returns
    -------
    ReferenceLimits

    Raises
    ------
    InvalidParameterError
        The muscle is not in the table (the message suggests the closest id).
    """
    ref = load_muap_reference()
    mid = normalize_muscle(muscle)
    rows = ref[ref["muscle"] == mid]
    if rows.empty:
        known = sorted(ref["muscle"].unique())
        close = difflib.get_close_matches(str(mid), known, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise InvalidParameterError(
            f"muscle {muscle!r} has no MUAP reference; known muscles: {', '.join(known)}.{hint}"
        )
    table = f"{ref.attrs.get('id', 'muap_reference')} {ref.attrs.get('version', '')}".strip()
    known_age = age_years is not None and np.isfinite(age_years)
    a_req = float(age_years) if known_age else float(load_signal_parameters()["reading"]["age_unknown_years"])
    a = float(np.clip(a_req, rows["age_min_years"].min(), rows["age_max_years"].max()))
    r = rows[(rows["age_min_years"] <= a) & (rows["age_max_years"] >= a)].iloc[0]
    band = f"{r.age_min_years:.0f}-{np.floor(r.age_max_years):.0f} y"
    if known_age:
        note = f"reference for {mid}, {band}"
        if a != age_years:
            note += f" (age {age_years:g} y outside the table; nearest band used)"
    else:
        lo_all, hi_all = float(rows["duration_lower_ms"].min()), float(rows["duration_upper_ms"].max())
        note = (f"age unknown: reference for {mid} of a middle-aged adult ({band}); over adult "
                f"ages the duration limits run from {lo_all:.1f} to {hi_all:.1f} ms")
    return ReferenceLimits(mid, r.duration_mean_ms, r.duration_lower_ms, r.duration_upper_ms,
                           r.amplitude_lower_uv, r.amplitude_upper_uv, r.polyphasic_upper_pct,
                           note, table)


@dataclass
class Reading:
    """Reading of one recording with the reasons behind it."""

    pattern: Pattern
    reasons: list[str] = field(default_factory=list)
    rule: str = ""


def classify_recording(
    summary: dict, reference: ReferenceLimits | None, calibrated: bool
) -> Reading:
    """Read a recording as normal, neurogenic, myopathic or indeterminate.

    Rules (each a sign counted for one side):

    - mean duration above the upper limit: neurogenic; below the lower limit: myopathic;
    - calibrated only: mean amplitude above the upper limit: neurogenic; below the lower
      limit: myopathic. Uncalibrated records use only scale-free features (duration, phases)
      and the reasons say so;
    - % polyphasic above the upper limit supports the side another sign points to. As the
      only abnormality it is myopathic when the MUAPs are not large (myopathic MUAPs are
      small, short and polyphasic; neurogenic MUAPs are large, "of increased duration and/or
      amplitude, with polyphasia": Gold Coast criteria): calibrated, a mean amplitude of at
      most ``polyphasia_myopathic_max_amplitude_uv``; uncalibrated, thin MUAPs (mean
      thickness below ``thickness_lower_ms``). Otherwise it makes the reading
      ``indeterminate`` (polyphasia occurs in both disorders, Daube & Rubin 2009);
    - uncalibrated only: a long mean duration of thin MUAPs is not counted as neurogenic (the
      length comes from low-level components of small MUAPs, not from large ones). Thinness
      is never a sign on its own;
    - calibrated only: a mean amplitude of at least ``amplitude_very_high_uv`` (3 mV: "high,
      often > 3-5 mV" in chronic reinnervation; myopathic MUAPs are small) is neurogenic even
      when the mean duration is short: the short duration is then not counted as myopathic
      and polyphasia counts as neurogenic (large MUAPs "of increased duration and/or
      amplitude, with polyphasia": Gold Coast criteria).

    Excess polyphasia counts only when it is significant for the number of MUAPs (one-sided
    binomial test against the upper limit, ``polyphasic_alpha``): with 6 MUAPs one polyphasic
    unit is 17 %.

    Neurogenic and myopathic signs together give ``indeterminate``; so do fewer than
    ``min_units`` motor units.

    Parameters
    ----------
    summary : dict
        ``n_units``, ``mean_duration_ms``, ``mean_amplitude_uv``, ``polyphasic_pct``;
        optionally ``mean_thickness_ms`` (area / amplitude, ms).
    reference : ReferenceLimits or None
        Limits for the muscle and age; without them the reading is ``indeterminate``.
    calibrated : bool
        Whether amplitudes are in µV.

    Returns
    -------
    Reading

    References
    ----------
    Daube JR, Rubin DI. Needle electromyography. Muscle Nerve 2009;39:244-270.
    Shefner JM, Al-Chalabi A, Baker MR, et al. A proposal for new diagnostic criteria for ALS
    (Gold Coast criteria). Clin Neurophysiol 2020;131:1975-1978.
    Sonoo M, Stalberg E. The ability of MUP parameters to discriminate between normal and
    neurogenic MUPs in concentric EMG: analysis of the MUP "thickness" and the proposal of
    "size index". Electroencephalogr Clin Neurophysiol 1993;89:291-303.
    Pattichis CS, Schizas CN, Middleton LT. Neural network models in EMG diagnosis. IEEE Trans
    Biomed Eng 1995;42:486-496 (per-subject MUAP table behind the amplitude limit).
    """
    p = load_signal_parameters()["reading"]
    reasons: list[str] = []
    # the units the means are of: the accepted MUAPs (all units found, in a summary without
    # acceptance counts)
    n = int(summary.get("n_muaps_accepted", summary.get("n_units")) or 0)
    if not calibrated:
        reasons.append("no gain: amplitudes in ADC units, reading from scale-free features only")
    if n < p["min_units"]:
        reasons.append(f"only {n} motor unit(s) found and accepted (need {p['min_units']})")
        return Reading("indeterminate", reasons)
    if reference is None:
        reasons.append("no muscle given: no reference limits to compare with")
        return Reading("indeterminate", reasons)
    reasons.append(reference.age_note + f" ({reference.table})")
    d = summary["mean_duration_ms"]
    a = summary.get("mean_amplitude_uv", np.nan) if calibrated else np.nan
    # very large MUAPs are not myopathic: with a calibrated gain they outweigh a short duration
    very_large = bool(np.isfinite(a) and a >= p["amplitude_very_high_uv"])
    # uncalibrated: thickness (area / amplitude, ms) stands in for size; thin MUAPs are not large
    th = float(summary.get("mean_thickness_ms", np.nan))
    thin = bool(not calibrated and np.isfinite(th) and th < p["thickness_lower_ms"])
    thin_text = f"thin MUAPs (mean thickness {th:.2f} ms < {p['thickness_lower_ms']:.2f} ms)"
    neuro, myo = _duration_sign(d, a, reference, p, thin, thin_text, very_large, reasons)
    neuro, myo = _amplitude_sign(a, reference, calibrated, very_large, neuro, myo, reasons)
    neuro, myo, nonspecific = _polyphasia_sign(
        summary, n, reference, p, calibrated, a, th, thin, thin_text, very_large, neuro, myo, reasons)
    return _verdict(neuro, myo, nonspecific, reasons)


def _duration_sign(d, a, reference, p, thin, thin_text, very_large, reasons) -> tuple[int, int]:
    """Mean duration against its limits: (neurogenic, myopathic) sign counts; appends the reason."""
    neuro, myo = 0, 0
    if d > reference.duration_upper_ms and thin:
        reasons.append(
            f"mean duration {d:.1f} ms > upper limit {reference.duration_upper_ms:.1f} ms, not "
            f"counted as neurogenic: {thin_text} are not large, and a long duration counts as "
            "neurogenic only with large MUAPs (the length likely comes from low-level slow "
            "components around thin spikes)"
        )
    elif d > reference.duration_upper_ms:
        neuro += 1
        reasons.append(f"mean duration {d:.1f} ms > upper limit {reference.duration_upper_ms:.1f} ms")
    elif d < reference.duration_lower_ms:
        if very_large:
            reasons.append(
                f"mean duration {d:.1f} ms < lower limit {reference.duration_lower_ms:.1f} ms, "
                f"not counted as myopathic: mean amplitude {a:.0f} µV >= "
                f"{p['amplitude_very_high_uv']:.0f} µV (very large MUAPs are neurogenic)"
            )
        else:
            myo += 1
            reasons.append(f"mean duration {d:.1f} ms < lower limit {reference.duration_lower_ms:.1f} ms")
    else:
        reasons.append(
            f"mean duration {d:.1f} ms within {reference.duration_lower_ms:.1f}-"
            f"{reference.duration_upper_ms:.1f} ms"
        )
    return neuro, myo


def _amplitude_sign(a, reference, calibrated, very_large, neuro, myo, reasons) -> tuple[int, int]:
    """Calibrated only: mean amplitude against its limits, added to the sign counts."""
    if calibrated:
        if a > reference.amplitude_upper_uv or very_large:
            neuro += 1
            reasons.append(f"mean amplitude {a:.0f} µV > upper limit {reference.amplitude_upper_uv:.0f} µV")
        elif a < reference.amplitude_lower_uv:
            myo += 1
            reasons.append(f"mean amplitude {a:.0f} µV < lower limit {reference.amplitude_lower_uv:.0f} µV")
    return neuro, myo


def _polyphasia_sign(summary, n, reference, p, calibrated, a, th, thin, thin_text, very_large,
                     neuro, myo, reasons) -> tuple[int, int, bool]:
    """Excess polyphasia: the side it supports, if any; returns the counts and whether it is non-specific."""
    poly = summary["polyphasic_pct"]
    nonspecific = False
    # with few MUAPs one polyphasic unit moves the percentage by 10-20 points: the excess counts
    # only when that many polyphasic MUAPs would be unlikely at the upper limit (binomial)
    k_poly = round(poly * n / 100) if np.isfinite(poly) else 0
    p_poly = float(binom.sf(k_poly - 1, n, reference.polyphasic_upper_pct / 100)) if k_poly else 1.0
    if poly > reference.polyphasic_upper_pct and p_poly >= p["polyphasic_alpha"]:
        reasons.append(
            f"{poly:.0f} % polyphasic ({k_poly} of {n}) > {reference.polyphasic_upper_pct:.0f} % "
            f"but not significantly with {n} MUAPs (binomial p = {p_poly:.2f} >= "
            f"{p['polyphasic_alpha']:g}): not counted"
        )
    elif poly > reference.polyphasic_upper_pct:
        # polyphasia supports the side that duration or amplitude points to; on its own it is
        # myopathic only with MUAPs that are not large, and otherwise picks no side
        a_max = p["polyphasia_myopathic_max_amplitude_uv"]
        small = bool(calibrated and np.isfinite(a) and a <= a_max) or thin
        if very_large or (neuro and not myo):
            side = "neurogenic"
            neuro += 1
            basis = (f"mean amplitude >= {p['amplitude_very_high_uv']:.0f} µV" if very_large
                     else "the other signs")
        elif myo and not neuro:
            side = "myopathic"
            myo += 1
            basis = "the other signs"
        elif not (neuro or myo) and small:
            side = "myopathic"
            myo += 1
            basis = ("no neurogenic sign and " + (f"mean amplitude {a:.0f} µV <= {a_max:.0f} µV"
                     if calibrated else thin_text)
                     + ": polyphasic MUAPs that are not large (early reinnervation, nascent "
                     "units, can look alike)")
        else:
            side = None
            nonspecific = not (neuro or myo)
            if neuro and myo:
                basis = "signs on both sides"
            elif calibrated and np.isfinite(a):
                basis = f"mean amplitude {a:.0f} µV > {a_max:.0f} µV: MUAPs not small, no side"
            elif np.isfinite(th):
                basis = (f"mean thickness {th:.2f} ms >= {p['thickness_lower_ms']:.2f} ms: "
                         "MUAPs not thin, no side")
            else:
                basis = "no other sign to say which side"
        reasons.append(
            f"{poly:.0f} % polyphasic > {reference.polyphasic_upper_pct:.0f} % "
            + (f"with {basis}: counts as {side}" if side else f"({basis}): non-specific")
        )
    return neuro, myo, nonspecific


def _verdict(neuro: int, myo: int, nonspecific: bool, reasons: list[str]) -> Reading:
    """The reading from the sign counts."""
    if nonspecific:
        return Reading("indeterminate", reasons)
    if neuro and myo:
        reasons.append("neurogenic and myopathic signs together")
        return Reading("indeterminate", reasons)
    if neuro:
        return Reading("neurogenic", reasons)
    if myo:
        return Reading("myopathic", reasons)
    return Reading("normal", reasons)
