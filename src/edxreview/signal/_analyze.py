"""One call from a recording to its MUAP table, spontaneous activity grades and reading."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from edxreview._check import check_option, check_type
from edxreview._errors import InvalidParameterError, SignalFileError
from edxreview.signal._acceptance import (
    accepted_muaps,
    count_rejections,
    describe_rejections,
    format_rejections,
)
from edxreview.signal._classify import (
    Reading,
    ReferenceLimits,
    check_age,
    classify_recording,
    lookup_reference,
    normalize_muscle,
)
from edxreview.signal._detect import mains_hum
from edxreview.signal._interference import interference_epochs, read_interference
from edxreview.signal._measure import measure_muaps
from edxreview.signal._muap import Decomposition, sort_units
from edxreview.signal._muap_columns import QUALITATIVE_COLUMNS, decide_muap_columns
from edxreview.signal._params import load_signal_parameters
from edxreview.signal._readers import Recording, check_sampling_rate
from edxreview.signal._reference import (
    MEAN_DECIMALS,
    LabReference,
    native_zscores,
    read_muscle_against_reference,
)
from edxreview.signal._spontaneous import (
    RestSelection,
    detect_spontaneous,
    segment_activity,
    select_rest,
)


@dataclass
class RecordingAnalysis:
    """Everything :func:`analyze_recording` found in one recording.

    Attributes
    ----------
    recording : Recording
        The recording analysed.
    muscle : str or None
        Canonical muscle id (None when not known).
    age_years : float or None
        The subject's age, when known.
    decomposition : Decomposition
        The motor units found and their discharges.
    muaps : DataFrame
        One row per motor unit: duration (ms), amplitude (µV), phases, turns, thickness.
    segments, spontaneous : DataFrame
        The activity segments and the spontaneous potentials found in the rest segments.
    grades : dict of str to str
        Spontaneous-activity grades (``fibs``, ``psw``, ``fasciculations``; ``""`` when not
        graded), ``rest_s`` graded and why (``spont_rule``, ``spont_reasons``).
    summary : dict
        The recording's means (the row of ``recordings.csv``).
    reference : ReferenceLimits or None
        The illustrative limits used, if any.
    reading : Reading
        ``pattern`` (normal, neurogenic, myopathic, indeterminate), ``rule`` and ``reasons``.
    notes : list of str
        What was noticed while reading and analysing.
    lab_reference : LabReference or None
        The laboratory reference the means were judged against, if any.
    zscores : DataFrame or None
        The z-score of each mean against ``lab_reference``, if any.

    Examples
    --------
    >>> import numpy as np
    >>> from edxreview.signal import Recording, analyze_recording
    >>> rec = Recording(samples=np.random.default_rng(0).normal(0, 20, 40_000), fs_hz=20_000.0,
    ...                 calibrated=True, name="quiet")
    >>> analysis = analyze_recording(rec)
    >>> analysis.muscle is None, analysis.reading.pattern
    (True, 'indeterminate')
    """

    recording: Recording
    muscle: str | None
    age_years: float | None
    decomposition: Decomposition
    muaps: pd.DataFrame
    segments: pd.DataFrame
    spontaneous: pd.DataFrame
    grades: dict[str, str]
    summary: dict
    reference: ReferenceLimits | None
    reading: Reading
    notes: list[str] = field(default_factory=list)
    lab_reference: LabReference | None = None
    zscores: pd.DataFrame | None = None
    #: turns and amplitude per epoch of the active stretches (:func:`interference_epochs`)
    interference: pd.DataFrame | None = None
    #: the second, decomposition-free reading (rule ``interference_ratio``)
    interference_reading: Reading | None = None
    #: the rest stretches in which spontaneous activity was graded (:func:`select_rest`)
    rest: RestSelection | None = None

    def recordings_row(self) -> dict:
        """Row of ``recordings.csv``.

        Returns
        -------
        dict
            ``file``, ``muscle``, ``calibrated``, ``n_units`` (units found), ``n_muaps_accepted``
            and ``n_muaps_rejected`` (by the acceptance criteria; ``reject_rules``: ``rule:n``
            pairs), ``n_discharges``, the mean MUAP duration (ms), amplitude (µV), % polyphasic,
            thickness (ms) and % of MUAPs with a satellite (``satellite_pct``) of the accepted
            MUAPs, the reading's ``pattern``,
            ``rule`` and ``reasons``, the interference-pattern reading (``ip_*``) and the
            spontaneous activity: ``rest_graded_s`` (seconds of rest graded), ``fibs``, ``psw``,
            ``fasciculations`` (``""`` when not graded), ``spont_rule``,
            ``spont_not_graded_reason`` (why not graded: one of
            :data:`~edxreview.signal._spontaneous.NOT_GRADED_REASONS`, ``""`` when graded) and
            ``spont_reasons``.

        Raises
        ------
        KeyError
            The summary lacks a field :func:`analyze_recording` writes (a hand-made analysis).

        Examples
        --------
        >>> import numpy as np
        >>> from edxreview.signal import Recording, analyze_recording
        >>> rec = Recording(samples=np.random.default_rng(0).normal(0, 20, 40_000), fs_hz=20_000.0,
        ...                 calibrated=True, name="quiet")
        >>> row = analyze_recording(rec, muscle="biceps_brachii").recordings_row()
        >>> row["file"], row["pattern"]
        ('quiet', 'indeterminate')
        """
        s, g = self.summary, self.grades
        ip, ipr = self.interference, self.interference_reading
        return {
            "file": self.recording.name,
            "muscle": self.muscle or "",
            "calibrated": self.recording.calibrated,
            "n_units": s["n_units"],
            "n_muaps_accepted": s.get("n_muaps_accepted", s["n_units"]),
            "n_muaps_rejected": s.get("n_muaps_rejected", 0),
            "reject_rules": s.get("reject_rules", ""),
            "n_discharges": s["n_discharges"],
            "mean_duration_ms": s["mean_duration_ms"],
            "mean_amplitude_uv": s["mean_amplitude_uv"],
            "polyphasic_pct": s["polyphasic_pct"],
            "mean_thickness_ms": s.get("mean_thickness_ms", np.nan),
            "satellite_pct": s.get("satellite_pct", np.nan),
            "mains_fraction": s.get("mains_fraction", np.nan),
            "pattern": self.reading.pattern,
            "rule": self.reading.rule,
            "reasons": "; ".join(self.reading.reasons + self.notes),
            "ip_epochs": len(ip) if ip is not None else 0,
            "ip_turns_per_s": _mean(ip, "ip_turns_per_s"),
            "ip_mean_amplitude_uv": _mean(ip, "ip_mean_amplitude_uv"),
            "ip_pattern": ipr.pattern if ipr is not None else "",
            "ip_rule": ipr.rule if ipr is not None else "",
            "ip_reasons": "; ".join(ipr.reasons) if ipr is not None else "",
            "rest_graded_s": float(g["rest_s"]) if g.get("rest_s") else np.nan,
            "fibs": g.get("fibs", ""),
            "psw": g.get("psw", ""),
            "fasciculations": g.get("fasciculations", ""),
            "spont_rule": g.get("spont_rule", ""),
            "spont_not_graded_reason": g.get("spont_not_graded_reason", ""),
            "spont_reasons": g.get("spont_reasons", ""),
        }

    def emg_row(self, patient_id: str, side: str = "") -> dict:
        """Row in the workbook's ``emg`` sheet format (quantitative columns and grades).

        Parameters
        ----------
        patient_id : str
            The patient the recording belongs to.
        side : str
            ``"L"``, ``"R"`` or ``""`` when not known.

        Returns
        -------
        dict
            ``patient_id``, ``muscle``, ``side``, the spontaneous-activity grades (``fibs``,
            ``psw``, ``fasciculations``: blank, the workbook's missing value, when not graded,
            e.g. without true rest; ``recordings_row`` says why; the workbook requires them,
            filled in from the examination at rest), the qualitative MUAP columns (each mean
            judged only against a lab reference, blank with the illustrative table or none,
            and written only where the recording's reading goes its way:
            ``muap_columns_rule``, a rule id of
            :data:`~edxreview.signal._muap_columns.MUAP_COLUMN_RULES`, and
            ``muap_columns_withheld``, the levels judged but left blank), the quantitative
            means, the recording's reading (``muap_pattern``, ``muap_rule``: what the
            screen and ``recordings.csv`` say) and ``spont_basis`` (what the grades rest on:
            :func:`spont_basis`).

        Raises
        ------
        KeyError
            The summary lacks a field :func:`analyze_recording` writes (a hand-made analysis).

        Examples
        --------
        >>> import numpy as np
        >>> from edxreview.signal import Recording, analyze_recording
        >>> rec = Recording(samples=np.random.default_rng(0).normal(0, 20, 40_000), fs_hz=20_000.0,
        ...                 calibrated=True, name="quiet")
        >>> row = analyze_recording(rec, muscle="biceps_brachii").emg_row("P001", side="R")
        >>> row["patient_id"], row["muscle"], row["side"], row["fibs"]
        ('P001', 'biceps_brachii', 'R', '0')
        """
        s = self.summary
        row = {
            "patient_id": patient_id,
            "muscle": self.muscle or "",
            "side": side,
            "fibs": self.grades.get("fibs", ""),
            "psw": self.grades.get("psw", ""),
            "fasciculations": self.grades.get("fasciculations", ""),
            "muap_amplitude": "",
            "muap_duration": "",
            "polyphasia": "",
            "muap_amplitude_uv": s["mean_amplitude_uv"],
            "muap_duration_ms": s["mean_duration_ms"],
            "polyphasic_pct": s["polyphasic_pct"],
            # the recording's reading, beside the per-parameter columns it may go beyond (a
            # nearest-centroid reading weighs all parameters at once): kept by the workbook
            # reader as informational columns (EMG_ANALYSIS_COLUMNS), read by no rule, so the
            # row never says less than the screen did
            "muap_pattern": self.reading.pattern,
            "muap_rule": self.reading.rule,
            "spont_basis": spont_basis(pd.DataFrame([self.recordings_row()])),
        }
        # each mean against its limits, then written only where the reading goes its way
        # (rule ids MUAP_COLUMN_RULES): the workbook reads these columns, not the reading
        levels = pd.DataFrame([self._muap_levels()])
        decided = decide_muap_columns(levels, pd.Series([self.reading.pattern]))
        row.update(decided.iloc[0].to_dict())
        return row

    def _muap_levels(self) -> dict:
        """Each MUAP mean against the lab reference's limits (``increased`` / ``decreased`` /
        ``normal``; polyphasia ``increased`` / ``normal``; ``""`` where not judged: the
        illustrative table or none, amplitude not calibrated)."""
        out = dict.fromkeys(QUALITATIVE_COLUMNS, "")
        z = self.zscores
        if z is not None and len(z):
            # the side of each mean as the reading's rule judges it (native_zscores' beyond)
            nat = native_zscores(z)
            word = {"above": "increased", "below": "decreased", "": "normal"}

            def qual(feature: str) -> str:
                judged = np.isfinite(nat.at[feature, "value"])
                return word[nat.at[feature, "beyond"]] if judged else ""

            if "duration_ms" in nat.index:
                out["muap_duration"] = qual("duration_ms")
            if "log_amplitude" in nat.index and self.recording.calibrated:
                out["muap_amplitude"] = qual("log_amplitude")
            if "phases" in nat.index:
                out["polyphasia"] = ("increased" if nat.at["phases", "beyond"] == "above"
                                     else "normal")
        # the illustrative table (``ref``) is unverified, for teaching: a workbook row takes
        # no qualitative reading from it, since the review lets a qualitative reading stand;
        # its reading stays in muap_pattern / muap_rule (illustrative_rules)
        return out


def spont_basis(recordings: pd.DataFrame) -> str:
    """What a row's spontaneous-activity grades rest on, from the rows of ``recordings.csv``
    of its recordings (``spont_rule``, ``rest_graded_s``, ``spont_not_graded_reason``): how
    many of them were graded and in how many seconds of rest, and why the others were not.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"spont_rule": ["spont_graded", "spont_not_graded",
    ...                                     "spont_not_graded"],
    ...                      "rest_graded_s": [2.1, 0.0, 0.0],
    ...                      "spont_not_graded_reason": ["", "rest_near_voluntary",
    ...                                                  "rest_near_voluntary"]})
    >>> spont_basis(rows)
    'graded in 1 of 3 recording(s), 2.1 s of rest; not graded in 2: rest_near_voluntary 2'
    >>> spont_basis(rows.iloc[1:])
    'not graded in 2 of 2 recording(s): rest_near_voluntary 2'
    """
    graded = recordings["spont_rule"].eq("spont_graded").to_numpy()
    n = len(recordings)
    why = recordings.loc[~graded, "spont_not_graded_reason"].fillna("").astype(str)
    counts = ", ".join(f"{k or 'unknown'} {v}" for k, v in why.value_counts(sort=False).items())
    if not graded.any():
        return f"not graded in {n} of {n} recording(s): {counts}"
    rest_s = float(pd.to_numeric(recordings.loc[graded, "rest_graded_s"]).sum())
    text = f"graded in {int(graded.sum())} of {n} recording(s), {rest_s:.1f} s of rest"
    return text + (f"; not graded in {n - int(graded.sum())}: {counts}" if counts else "")


def _mean(df: pd.DataFrame | None, col: str) -> float:
    return round(float(df[col].mean()), 2) if df is not None and len(df) else np.nan


#: decimals of the per-MUAP columns of ``muaps.csv``: as :func:`summarize_muaps` rounds the
#: recording means of ``recordings.csv`` (durations 2, amplitudes 1, thickness 3), firing rate
#: 2, signal-to-noise ratio and areas 1
MUAP_CSV_DECIMALS = {"firing_rate_hz": 2, "duration_ms": 2, "amplitude_uv": 1,
                     "amplitude_adu": 1, "amplitude_snr": 1, "area_uv_ms": 1, "area_adu_ms": 1,
                     "spike_duration_ms": 2, "thickness_ms": 3, "satellite_ms": 2,
                     "template_rms_ratio": 2}


def round_muaps(muaps: pd.DataFrame) -> pd.DataFrame:
    """The MUAP table as ``muaps.csv`` writes it: floats rounded by :data:`MUAP_CSV_DECIMALS`
    (the analysis itself uses the unrounded values), without the averaged waveforms."""
    out = muaps.copy()
    out.attrs = {}  # the averaged waveforms stay with the analysis, not in the table
    return out.round({c: d for c, d in MUAP_CSV_DECIMALS.items() if c in out})


def summarize_muaps(muaps: pd.DataFrame, n_discharges: int) -> dict:
    """Recording summary: units found, their discharges, how many MUAPs the acceptance criteria
    kept and rejected (and why), and over the accepted MUAPs only the mean duration (ms),
    amplitude (µV), % polyphasic, thickness (ms) and % of MUAPs with a satellite."""
    n = len(muaps)
    ok = accepted_muaps(muaps) if n else muaps
    rejected = count_rejections(muaps)
    counts = {"n_units": n, "n_discharges": n_discharges, "n_muaps_accepted": len(ok),
              "n_muaps_rejected": n - len(ok), "reject_rules": format_rejections(rejected)}
    if len(ok) == 0:
        return {**counts, "mean_duration_ms": np.nan,
                "mean_amplitude_uv": np.nan, "mean_amplitude_adu": np.nan,
                "polyphasic_pct": np.nan, "mean_phases": np.nan, "mean_turns": np.nan,
                "mean_thickness_ms": np.nan, "satellite_pct": np.nan}
    muaps = ok
    d = MEAN_DECIMALS   # as subjects.csv rounds its means

    def mean(col: str, feature: str) -> float:
        return round(float(muaps[col].mean()), d[feature])

    return {
        **counts,
        "mean_duration_ms": mean("duration_ms", "duration_ms"),
        "mean_amplitude_uv": mean("amplitude_uv", "log_amplitude"),
        "mean_amplitude_adu": mean("amplitude_adu", "log_amplitude"),
        "polyphasic_pct": round(100.0 * float(muaps["polyphasic"].mean()), 1),
        "mean_phases": mean("phases", "phases"),
        "mean_turns": mean("turns", "turns"),
        "mean_thickness_ms": mean("thickness_ms", "thickness_ms"),
        "satellite_pct": (round(100.0 * float(muaps["satellite"].mean()), 1)
                          if "satellite" in muaps else np.nan),
    }


def implausible_amplitude(mean_amplitude_uv: float, rec: Recording) -> str:
    """Why a calibrated recording's mean MUAP amplitude (µV) is not plausible (outside section
    ``plausibility`` of ``emg_signal_parameters.toml``): a gain probably given in the wrong
    unit, with the gain that the usual slip (per µV or per V instead of per mV) implies; ``""``
    when plausible, uncalibrated or not measured.

    Examples
    --------
    >>> import numpy as np
    >>> from edxreview.signal import Recording
    >>> rec = Recording(np.zeros(10), 23437.5, True, "N2001A01BB01", gain_adu_per_mv=13.107)
    >>> implausible_amplitude(455264.1, rec)  # doctest: +ELLIPSIS
    'gain probably wrong: mean MUAP amplitude 455 mV, ...: was the gain given per µV? x1000: 13.107 -> 13107 ADC units per mV'
    >>> implausible_amplitude(740.0, rec)
    ''
    """
    p = load_signal_parameters()["plausibility"]
    lo, hi = float(p["mean_muap_amplitude_min_uv"]), float(p["mean_muap_amplitude_max_uv"])
    if not rec.calibrated or not np.isfinite(mean_amplitude_uv) or lo <= mean_amplitude_uv <= hi:
        return ""
    amp = (f"{mean_amplitude_uv / 1e3:.3g} mV" if mean_amplitude_uv >= 1e3
           else f"{mean_amplitude_uv:.3g} µV")
    big = mean_amplitude_uv > hi
    g = rec.gain_adu_per_mv
    if g is None or not np.isfinite(g):
        hint = ("the samples are read as µV: were they written in " + ("mV or V" if big else "nV")
                + "?")
    else:
        hint = (f"was the gain given per µV? x1000: {g:g} -> {g * 1e3:g} ADC units per mV" if big
                else f"was the gain given per V? /1000: {g:g} -> {g / 1e3:g} ADC units per mV")
    return (f"gain probably wrong: mean MUAP amplitude {amp}, outside the plausible "
            f"{lo:g} µV - {hi / 1e3:g} mV (emg_signal_parameters.toml [plausibility]); not read: "
            + hint)


def check_recording(rec: Recording) -> None:
    """Refuse a recording the analysis cannot read meaningfully.

    Its sampling rate must be in :data:`~edxreview.signal._readers.FS_RANGE_HZ` and it must hold
    at least one activity block (``segmentation.block_ms`` of ``emg_signal_parameters.toml``),
    the shortest stretch whose activity is judged.

    Raises
    ------
    InvalidParameterError
        The sampling rate is out of range.
    SignalFileError
        The recording is shorter than one block.
    """
    check_sampling_rate(rec.fs_hz, f"{rec.path or rec.name}: sampling rate")
    block_ms = float(load_signal_parameters()["segmentation"]["block_ms"])
    need = int(np.ceil(block_ms * 1e-3 * rec.fs_hz))
    if rec.samples.size < need:
        raise SignalFileError(
            f"{rec.path or rec.name}: {rec.samples.size} sample(s) ({1e3 * rec.duration_s:.3g} ms "
            f"at {rec.fs_hz:g} Hz) is too short to analyse; a recording needs at least one "
            f"{block_ms:g} ms activity block ({need} samples).")


def analyze_recording(
    rec: Recording, muscle: str | None = None, age_years: float | None = None,
    sorting: str | None = None,
    reference: LabReference | Literal["illustrative"] | None = None,
) -> RecordingAnalysis:
    """Decompose, measure, grade spontaneous activity and read one recording.

    Parameters
    ----------
    rec : Recording
    muscle : str, optional
        Muscle id; defaults to the muscle named in the file's header, if any.
    age_years : float, optional
        Age (years); defaults to the header's age, if any.
    sorting : {"peel", "pursuit"}, optional
        Decomposition method (:func:`sort_units`); the parameter file's default when omitted.
    reference : LabReference or "illustrative", optional
        What the MUAP means are judged against. A :class:`LabReference` (built from the
        laboratory's own controls: :func:`build_lab_reference`) gives z-scores and the reading
        of :func:`read_muscle_against_reference`. ``"illustrative"`` uses the bundled
        ``muap_reference.csv`` with the fixed rules of :func:`classify_recording`: that table
        is unverified (its values could not be traced to a printed source) and is for
        illustration only. Without a reference the means are measured but not judged and the
        reading is ``indeterminate`` ("no verified reference"). A recording in which no motor
        unit is found reads ``indeterminate`` with rule ``no_units`` whatever the reference,
        one whose MUAPs are all rejected by the acceptance criteria (``[acceptance]``:
        :func:`~edxreview.signal._acceptance.assess_waveforms`) with rule
        ``no_accepted_muaps``,
        and a calibrated one whose mean MUAP amplitude is implausible (a gain in the wrong unit:
        :func:`implausible_amplitude`) with rule ``implausible_amplitude``.

    Returns
    -------
    RecordingAnalysis

    Raises
    ------
    InvalidParameterError
        ``age_years`` is not a plausible age, or the sampling rate is out of range.
    SignalFileError
        The recording is too short to analyse (see :func:`check_recording`).

    Examples
    --------
    >>> import numpy as np
    >>> from edxreview.signal import Recording, analyze_recording
    >>> rng = np.random.default_rng(0)
    >>> samples = rng.normal(0, 20, 40_000)  # 2 s of baseline noise, µV, at 20 kHz
    >>> muap = 400 * np.sin(np.linspace(0, 2 * np.pi, 20)) * np.hanning(20)  # 1 ms, biphasic
    >>> for start in range(1_000, 39_800, 1_900):  # one motor unit firing at about 10 Hz
    ...     samples[start:start + 20] += muap
    >>> rec = Recording(samples=samples, fs_hz=20_000.0, calibrated=True, name="demo")
    >>> analysis = analyze_recording(rec, muscle="biceps_brachii", age_years=40)
    >>> analysis.muaps[["accepted", "reject_rule"]].values.tolist()  # it rises within 0.5 ms
    [[True, '']]
    >>> analysis.reading.pattern, analysis.reading.rule  # no lab reference: not judged
    ('indeterminate', 'no_reference')
    """
    check_type("rec", rec, Recording, "a Recording from edxreview.signal.read_signal")
    if isinstance(reference, str):
        check_option("reference", reference, ("illustrative",))
    elif reference is not None:
        check_type("reference", reference, LabReference,
                   "a LabReference (emg reference build), 'illustrative' or None")
    if sorting is not None:
        check_option("sorting", sorting, ("peel", "pursuit"))
    check_age(age_years)
    check_recording(rec)
    notes = list(rec.notes)
    muscle = normalize_muscle(muscle or rec.metadata.get("muscle"))
    if age_years is None and rec.metadata.get("age"):
        try:
            age_years = float(rec.metadata["age"])
            check_age(age_years, "the header's age")
        except ValueError:  # InvalidParameterError included: read without the header's age
            notes.append(f"the header's age {rec.metadata['age']!r} is not a plausible age in "
                         "years; read as age unknown")
            age_years = None
    segments = segment_activity(rec)
    dec = sort_units(rec, method=sorting, segments=segments)
    muaps = measure_muaps(rec, dec, segments)
    summary = summarize_muaps(muaps, len(dec.discharges))
    hum = mains_hum(rec)
    summary["mains_fraction"] = round(hum.fraction, 4)
    if hum.fraction >= float(load_signal_parameters()["filters"]["mains_note_fraction"]):
        notes.append(f"mains hum: {100 * hum.fraction:.0f} % of the measurement-band power at "
                     f"{hum.fundamental_hz:.2f} Hz ({hum.harmonics} peak(s): fundamental and "
                     "harmonics), removed before the MUAPs were measured (spectrum interpolation)")
    limits, zscores, lab = None, None, None
    if isinstance(reference, str):
        if muscle:
            try:
                limits = lookup_reference(muscle, age_years)
            except InvalidParameterError as exc:  # unknown muscle: read without limits, say why
                notes.append(str(exc))
        reading = classify_recording(summary, limits, rec.calibrated)
        reading.reasons.insert(0, "illustrative reference (muap_reference.csv, unverified: not "
                                  "traced to a printed source)")
        reading.rule = reading.rule or "illustrative_rules"
    else:
        lab = reference
        reading, zscores = read_muscle_against_reference(muaps, reference, muscle)
    rest = select_rest(rec, segments)
    spont, grades = detect_spontaneous(rec, segments, rest)
    ip = interference_epochs(rec, segments)
    ip_reading, _ = read_interference(ip, lab, muscle)
    if summary["n_units"] == 0:  # nothing was judged: say what to check, not "no reference"
        reading = Reading("indeterminate", ["no motor units found: check the sampling rate and "
                                            "that the muscle was contracting"], rule="no_units")
    elif summary["n_muaps_accepted"] == 0:  # units found, none fit to measure: not judged
        reading = Reading("indeterminate", [describe_rejections(muaps) + "; none left to judge"],
                          rule="no_accepted_muaps")
    elif summary["n_muaps_rejected"] and reading.rule != "too_few_muaps":
        # (a too_few_muaps reading already says what was rejected)
        notes.append(describe_rejections(muaps))
    implausible = implausible_amplitude(summary["mean_amplitude_uv"], rec)
    if implausible:
        reading = Reading("indeterminate", [implausible], rule="implausible_amplitude")
    if reading.pattern == "indeterminate" and ip_reading.pattern != "indeterminate":
        notes.append(f"interference pattern reads {ip_reading.pattern} "
                     f"({ip_reading.rule}; a second reading, independent of the decomposition)")
    return RecordingAnalysis(rec, muscle, age_years, dec, muaps, segments, spont, grades,
                             summary, limits, reading, notes, lab, zscores, ip, ip_reading,
                             rest)
