"""Muscle-level readings from needle EMG: acute, chronic, acute and chronic denervation,
myopathic, or normal — from the human grading or from quantitative MUAP means."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .._check import check_type
from .._tables import flag_column as _flag, join_nonempty, map_distinct
from .._words import english_words
from .._errors import Problem
from ..io import Study
from ..knowledge import Anatomy
from ..knowledge._muap import reference_status
from ..knowledge._tables import load_muap_reference

MUSCLE_COLUMNS = [
    "patient_id", "muscle", "side", "paraspinal_level", "nerve", "roots", "segments",
    "nucleus", "brainstem_level", "region", "distality", "branch_rank", "fibs", "psw",
    "fasciculations", "muap_duration", "muap_amplitude", "polyphasia", "recruitment",
    "muap_duration_ms", "muap_amplitude_uv", "polyphasic_pct", "reference_duration_ms",
    "reference_duration_lower_ms", "reference_amplitude_uv", "muap_reference_status",
    "muap_duration_basis", "muap_amplitude_basis", "muap_reading", "acute", "chronic",
    "myopathic", "denervation", "reading", "other_findings", "row",
]

#: Each muscle's reading code (decided by :func:`muscle_reading_codes`) and its English
#: words, those of the ``reading`` column: table ``muscle_readings`` of
#: ``data/labels_en.toml``, whose other languages' files give the same codes their words.
MUSCLE_READINGS = english_words("muscle_readings")


def muscle_reading_codes(muscles: pd.DataFrame) -> pd.Series:
    """Each muscle's reading as a code of :data:`MUSCLE_READINGS`, from its typed columns
    (``acute``, ``chronic``, ``myopathic``, ``muap_reading``): acute and/or chronic
    denervation first (acute beside myopathic MUAPs names both), then myopathic, then MUAPs
    not read or not judged, else normal."""
    acute, chronic = _flag(muscles, "acute"), _flag(muscles, "chronic")
    myopathic = _flag(muscles, "myopathic")
    muap = muscles["muap_reading"].astype(object) if "muap_reading" in muscles else \
        pd.Series("read", index=muscles.index, dtype=object)
    not_read, not_judged = muap.eq("not_read"), muap.eq("not_judged")
    code = np.select(
        [acute & chronic, acute & not_read, acute & not_judged, acute & myopathic, acute,
         chronic, myopathic, not_read, not_judged],
        ["acute_and_chronic", "acute_not_read", "acute_not_judged", "acute_and_myopathic",
         "acute", "chronic", "myopathic", "not_read", "not_judged"], "normal")
    return pd.Series(code, index=muscles.index, dtype=object)


#: The MUAP columns of the ``emg`` sheet, qualitative and quantitative: a row with all of
#: them blank had its MUAPs not read.
MUAP_READING_COLUMNS = ("muap_duration", "muap_amplitude", "polyphasia", "muap_duration_ms",
                        "muap_amplitude_uv", "polyphasic_pct")
#: the size columns a MUAP reading rests on: qualitative, and the quantitative means judged
MUAP_SIZE_COLUMNS = ("muap_duration", "muap_amplitude")
MUAP_SIZE_MEANS = ("muap_duration_ms", "muap_amplitude_uv")

#: Whether a muscle's MUAPs were read: the rule ids of ``muap_reading`` in ``muscles.csv``.
#: A muscle whose MUAPs were not read is not denervated unless fibrillation potentials or
#: positive sharp waves say so, but it is never called normal: chronic denervation and
#: myopathic change were not looked for.
#: A MUAP reading is one of size (duration or amplitude): polyphasia rises in neurogenic and
#: myopathic disease alike and on its own reads neither, so it is kept in ``other_findings``
#: and never makes a muscle ``read``.
MUAP_READINGS = {
    "read": "a qualitative MUAP size column (muap_duration, muap_amplitude) was given, or a "
            "quantitative duration or amplitude mean was judged against a verified or "
            "laboratory reference row",
    "not_judged": "no qualitative MUAP size column; quantitative means were given but none "
                  "was judged (no verified or laboratory reference row: muap_*_basis): its "
                  "reading says 'MUAP means not judged', never 'normal'",
    "not_read": "no MUAP reading: every MUAP column is blank, or polyphasia only (recruitment "
                "may be graded); its reading says 'MUAPs not read', never 'normal'",
}

_GRADE_TEXT = {0.0: "0", 0.5: "±", 1.0: "1+", 2.0: "2+", 3.0: "3+", 4.0: "4+"}


#: Row statuses of a MUAP reference a quantitative mean is judged against: a value read in
#: its named printed source (``verified``), or a laboratory's own table (``lab``). A mean meets
#: no other row: the bundled ``muap_reference.csv`` could not be traced to any source
#: (``unverified-illustrative``), so its limits call nothing long or short.
JUDGED_REFERENCE_STATUSES = ("verified", "lab")

#: Why a muscle's MUAP duration (or amplitude) was read the way it was: the rule ids of
#: ``muap_duration_basis`` and ``muap_amplitude_basis`` in ``muscles.csv``.
MUAP_BASES = {
    "qualitative": "the qualitative reading was given and read; a quantitative mean beside "
                   "it, if any, is kept, not judged (its reference row is not verified, or "
                   "there is none)",
    "quantitative_reference": "the quantitative mean was judged against a verified (or the "
                              "laboratory's own) reference row, beside the qualitative reading "
                              "where one was given: either is enough for the finding (spec "
                              "section 4)",
    "not_judged_unverified_reference": "no qualitative reading; the quantitative mean was not "
                                       "judged: the reference row for the muscle and age is "
                                       "not verified",
    "not_judged_no_reference": "no qualitative reading; the quantitative mean was not judged: "
                               "no reference row for the muscle and age",
    "not_given": "neither a qualitative reading nor a quantitative mean",
}


def _muap_limits(emg: pd.DataFrame, ages: pd.Series,
                 reference: pd.DataFrame | None = None) -> pd.DataFrame:
    """The MUAP reference row of each EMG row: limits and row status (NaN / None where none).

    ``reference`` is a laboratory's own table (rows without a status are ``lab``); ``None``
    reads the bundled ``muap_reference.csv``.
    """
    lab = reference is not None
    ref = load_muap_reference() if reference is None else reference
    out = pd.DataFrame({"ref_duration": np.nan, "ref_amplitude": np.nan,
                        "ref_duration_low": np.nan, "status": None}, index=emg.index)
    if ref is None or not len(ref):
        return out
    ref = ref.copy()
    ref["status"] = reference_status(ref, lab)
    for col in ("age_min_years", "age_max_years", "duration_mean_ms", "duration_upper_ms",
                "duration_lower_ms", "amplitude_upper_uv"):
        if col in ref:
            ref[col] = pd.to_numeric(ref[col], errors="coerce")
        else:
            ref[col] = np.nan
    # joined on integer muscle codes: the names repeat over every row
    codes, muscles = pd.factorize(emg["muscle"])
    ref = ref.assign(_m=pd.Index(muscles).get_indexer(ref["muscle"]))
    rows = pd.DataFrame({"_m": codes, "age": ages.to_numpy(), "_i": np.arange(len(emg))})
    bands = ref.loc[ref["_m"] >= 0, ["_m", "age_min_years", "age_max_years", "duration_upper_ms",
                                      "amplitude_upper_uv", "duration_lower_ms", "status"]]
    j = rows.merge(bands, on="_m", how="inner")
    # ages outside the tabulated bands are read against the nearest band
    lo = j.groupby("_m")["age_min_years"].transform("min")
    hi = j.groupby("_m")["age_max_years"].transform("max")
    j["age"] = np.minimum(np.maximum(j["age"], lo), hi - 1e-6)
    in_band = (j["age_min_years"].isna() | (j["age"] >= j["age_min_years"])) & \
              (j["age_max_years"].isna() | (j["age"] < j["age_max_years"]))
    j = j[in_band.fillna(False)].drop_duplicates("_i")
    at = j["_i"].to_numpy()
    out.iloc[at, 0] = j["duration_upper_ms"].to_numpy()
    out.iloc[at, 1] = j["amplitude_upper_uv"].to_numpy()
    out.iloc[at, 2] = j["duration_lower_ms"].to_numpy()
    out.iloc[at, 3] = j["status"].to_numpy()
    return out


def _muap_basis(qualitative: pd.Series, mean: pd.Series, status: pd.Series) -> np.ndarray:
    """Rule id of :data:`MUAP_BASES` for one MUAP property (duration or amplitude)."""
    given = qualitative.notna() & qualitative.astype(object).ne("")
    judged = mean.notna() & status.isin(JUDGED_REFERENCE_STATUSES)
    return np.select(
        [judged.to_numpy(dtype=bool), given.to_numpy(dtype=bool),
         mean.isna().to_numpy(dtype=bool), status.isna().to_numpy(dtype=bool)],
        ["quantitative_reference", "qualitative", "not_given", "not_judged_no_reference"],
        "not_judged_unverified_reference").astype(object)


def read_muscles(study: Study, anatomy: Anatomy, rules: dict,
                 muap_reference: pd.DataFrame | None = None) -> pd.DataFrame:
    """Read every muscle examined.

    A muscle shows *acute* denervation when fibrillation potentials or positive sharp waves are
    graded 1+ or more (``±`` is not enough), *chronic* denervation when MUAP duration and/or
    amplitude is increased (qualitatively, or a quantitative mean above the muscle's reference
    limit). Fasciculations, reduced recruitment or decreased activation alone are recorded as
    other findings, never as denervation. A row with no MUAP reading (every MUAP column of
    :data:`MUAP_READING_COLUMNS` blank, or polyphasia only) is ``muap_reading`` ``not_read``, and its
    reading says "MUAPs not read", never "normal"; one with quantitative means only, none of
    them judged, is ``not_judged`` ("MUAP means not judged"; see :data:`MUAP_READINGS`).
    Either is denervated only when fibrillation potentials or positive sharp waves say so.

    For each of MUAP duration and amplitude the qualitative reading, where given, is read, and
    a quantitative mean is judged only when the reference row for the muscle and age has a
    status of :data:`JUDGED_REFERENCE_STATUSES` (read in its printed source, or the
    laboratory's own); either is enough for a finding, as the study's definitions say
    ("read qualitatively, or a quantitative mean above the muscle's reference limit"). Other
    means are kept, not judged
    (``muap_duration_basis`` / ``muap_amplitude_basis`` say why, see :data:`MUAP_BASES`;
    :func:`muap_reference_warnings` words it). Every row of the bundled
    ``muap_reference.csv`` is unverified, so with it no quantitative mean is judged.

    Parameters
    ----------
    study : Study
    anatomy : Anatomy
    rules : dict
    muap_reference : DataFrame, optional
        A laboratory's own MUAP reference in the format of ``muap_reference.csv`` (columns
        ``muscle``, ``age_min_years``, ``age_max_years``, ``duration_lower_ms``,
        ``duration_upper_ms``, ``amplitude_upper_uv``; a ``status`` column, where given,
        row by row, else ``lab``). ``None`` reads the bundled table.

    Returns
    -------
    DataFrame
        Columns ``MUSCLE_COLUMNS``; ``segments`` is the pipe-separated list of cord segments
        (main roots, or the sampled level for a paraspinal muscle), ``nucleus`` the cranial
        nucleus for bulbar muscles; ``reference_duration_lower_ms``,
        ``reference_duration_ms`` (upper) and ``reference_amplitude_uv`` (upper) are the
        reference row's limits (ms, µV), given only where its status lets a mean be judged.

    Raises
    ------
    InvalidParameterError
        An argument is not of the type listed above (checked before any work).

    References
    ----------
    Daube JR, Rubin DI. Needle electromyography. Muscle Nerve 2009;39:244-270.

    Examples
    --------
    >>> import edxreview
    >>> from edxreview.knowledge import load_anatomy, load_rules
    >>> study = edxreview.io.load_study(edxreview.demo_path())
    >>> muscles = edxreview.interpret.read_muscles(study, load_anatomy(), load_rules())
    >>> len(muscles) == study.rows["emg"]["used"]
    True
    """
    check_type('study', study, Study, 'a Study from edxreview.io.load_study')
    check_type('anatomy', anatomy, Anatomy, 'the Anatomy from edxreview.knowledge.load_anatomy')
    check_type('rules', rules, Mapping, 'the Rules from edxreview.knowledge.load_rules')
    emg = study.tables["emg"].copy()
    if not len(emg):
        return pd.DataFrame(columns=MUSCLE_COLUMNS)
    rule = rules["emg"]
    m = anatomy.muscles
    emg["nerve"] = map_distinct(emg["muscle"], m["nerve"])
    emg["region"] = map_distinct(emg["muscle"], m["region"])
    emg["distality"] = map_distinct(emg["muscle"], m["distality"])
    emg["branch_rank"] = map_distinct(emg["muscle"], m["branch_rank"])
    emg["nucleus"] = map_distinct(emg["muscle"], m["nucleus"]).replace("", None)
    emg["brainstem_level"] = map_distinct(emg["muscle"], m["brainstem_level"]).replace("", None)
    emg["roots"] = map_distinct(emg["muscle"], m["roots_main"]).fillna("")
    level = emg["paraspinal_level"] if "paraspinal_level" in emg else pd.Series(None, index=emg.index)
    emg["segments"] = np.where(level.notna() & level.astype(object).ne(""), level.astype(object),
                               emg["roots"].to_numpy(dtype=object))

    ages = emg["patient_id"].map(study.tables["patients"].drop_duplicates("patient_id")
                                 .set_index("patient_id")["age_years"])
    limits = _muap_limits(emg, ages, muap_reference)
    usable = limits["status"].isin(JUDGED_REFERENCE_STATUSES).to_numpy()
    # limits are shown only where a mean could be judged against them
    emg["reference_duration_ms"] = limits["ref_duration"].where(usable).to_numpy()
    emg["reference_duration_lower_ms"] = limits["ref_duration_low"].where(usable).to_numpy()
    emg["reference_amplitude_uv"] = limits["ref_amplitude"].where(usable).to_numpy()
    emg["muap_reference_status"] = limits["status"].to_numpy()
    emg["muap_duration_basis"] = _muap_basis(emg["muap_duration"], emg["muap_duration_ms"],
                                             limits["status"])
    emg["muap_amplitude_basis"] = _muap_basis(emg["muap_amplitude"], emg["muap_amplitude_uv"],
                                              limits["status"])
    by_duration = emg["muap_duration_basis"].eq("quantitative_reference")
    by_amplitude = emg["muap_amplitude_basis"].eq("quantitative_reference")

    # whether the MUAPs were read: a qualitative column, or a mean judged (MUAP_READINGS)
    def given(cols) -> np.ndarray:
        return np.column_stack([np.zeros(len(emg), dtype=bool)] + [
            (emg[c].notna() & emg[c].astype(object).ne("")).to_numpy(dtype=bool)
            for c in cols if c in emg]).any(axis=1)

    read = given(MUAP_SIZE_COLUMNS) | (by_duration | by_amplitude).to_numpy()
    # a percentage polyphasic alone is not a size mean, and is never judged: not 'not_judged'
    measured = given(MUAP_SIZE_MEANS)
    emg["muap_reading"] = np.select([read, measured], ["read", "not_judged"], "not_read")
    not_judged = emg["muap_reading"].eq("not_judged")

    spont = np.fmax(emg["fibs"].astype(float), emg["psw"].astype(float))
    emg["acute"] = (spont >= rule["acute_min_grade"]).fillna(False)
    qual_chronic = emg["muap_duration"].eq("increased") | emg["muap_amplitude"].eq("increased")
    quant_chronic = (by_duration & (emg["muap_duration_ms"] > emg["reference_duration_ms"])) | \
                    (by_amplitude & (emg["muap_amplitude_uv"] > emg["reference_amplitude_uv"]))
    emg["chronic"] = (qual_chronic | quant_chronic).astype(bool)
    # short MUAPs are myopathic whether read qualitatively or from the mean, as for chronic
    # denervation (spec section 4): small amplitude, polyphasia and early recruitment go with
    # them but are not needed (polyphasia and small MUAPs also come with early reinnervation)
    qual_myo = emg["muap_duration"].eq("decreased")
    quant_myo = by_duration & (emg["muap_duration_ms"] < emg["reference_duration_lower_ms"])
    emg["myopathic"] = (qual_myo | quant_myo) & ~emg["chronic"]
    emg["denervation"] = emg["acute"] | emg["chronic"]
    emg["reading"] = muscle_reading_codes(emg).map(MUSCLE_READINGS)
    other = []
    fasc = emg["fasciculations"].astype(float)
    other.append(np.where(fasc > 0, "fasciculations", ""))
    other.append(np.where(spont == 0.5, "equivocal (±) spontaneous activity", ""))
    other.append(np.where(emg["recruitment"].eq("reduced"), "reduced recruitment", ""))
    other.append(np.where(emg["recruitment"].eq("decreased_activation"),
                          "decreased activation (upper motor neuron or effort)", ""))
    other.append(np.where(emg["recruitment"].eq("early"), "early recruitment", ""))
    other.append(np.where(emg["recruitment"].eq("none"), "no voluntary units", ""))
    other.append(np.where(emg["insertional"].eq("increased"), "increased insertional activity", ""))
    other.append(np.where(emg["polyphasia"].eq("increased"), "increased polyphasia", ""))
    # beside MUAPs read otherwise (a row whose every mean went unjudged says so in its reading)
    not_judged_mean = (emg["muap_duration_basis"].str.startswith("not_judged")
                       | emg["muap_amplitude_basis"].str.startswith("not_judged")) & ~not_judged
    other.append(np.where(not_judged_mean, np.where(
        emg["muap_duration_basis"].eq("not_judged_unverified_reference")
        | emg["muap_amplitude_basis"].eq("not_judged_unverified_reference"),
        "quantitative MUAP means not judged (unverified reference)",
        "quantitative MUAP means not judged (no reference)"), ""))
    emg["other_findings"] = join_nonempty(other)
    emg["row"] = emg["_row"]
    for col in ("fibs", "psw"):
        emg[col] = emg[col].map(_GRADE_TEXT)
    emg["fasciculations"] = fasc.map(_GRADE_TEXT)
    return emg[MUSCLE_COLUMNS].reset_index(drop=True)


def muap_reference_warnings(muscles: pd.DataFrame,
                            muap_reference: pd.DataFrame | None = None) -> list[Problem]:
    """One warning per quantitative MUAP mean kept in ``muscles.csv`` but not judged.

    Parameters
    ----------
    muscles : DataFrame
        From :func:`read_muscles` (``row`` is the ``emg`` sheet's row number).
    muap_reference : DataFrame, optional
        The laboratory's table given to :func:`read_muscles` (its ``attrs`` name it);
        ``None`` for the bundled ``muap_reference.csv``.

    Returns
    -------
    list of Problem
        Severity ``warning``; sheet ``emg``, the row, the column (``muap_duration_ms`` or
        ``muap_amplitude_uv``), the mean, and why it was not judged (rule ids
        ``not_judged_unverified_reference``, ``not_judged_no_reference`` of :data:`MUAP_BASES`).
    """
    meta = (load_muap_reference() if muap_reference is None else muap_reference).attrs
    table = f"{meta.get('id', 'muap_reference')} v{meta.get('version', '?')}"
    out: list[Problem] = []
    for column, basis in (("muap_duration_ms", "muap_duration_basis"),
                          ("muap_amplitude_uv", "muap_amplitude_basis")):
        if basis not in muscles:
            continue
        part = muscles[muscles[basis].isin(["not_judged_unverified_reference",
                                            "not_judged_no_reference"])]
        if not len(part):
            continue
        name = part["muscle"].astype(str).str.replace("_", " ")
        unverified = part[basis].eq("not_judged_unverified_reference")
        why = np.where(
            unverified,
            "not judged: the MUAP reference for " + name + " is unverified (" + table
            + ", row status " + part["muap_reference_status"].astype(str) + ")",
            "not judged: there is no MUAP reference for " + name + " at this age")
        text = pd.Series(why, index=part.index) + (
            "; give the qualitative reading (muap_duration / muap_amplitude) or a verified "
            "reference")
        out.extend(Problem("emg", int(r), column, v, t, severity="warning")
                   for r, v, t in zip(part["row"], part[column], text))
    return sorted(out, key=lambda p: (p.row or 0, p.column or ""))


def check_muap_means(study: Study, muap_reference: pd.DataFrame | None = None) -> list[Problem]:
    """The warnings ``edxreview run`` gives on the ``emg`` sheet's quantitative MUAP means, for
    a validated study, without the review (``edxreview validate``): :func:`read_muscles` and
    :func:`muap_reference_warnings`, the functions the review calls.

    Parameters
    ----------
    study : Study
        From :func:`edxreview.io.load_study`.
    muap_reference : DataFrame, optional
        A laboratory's own MUAP reference (``run --muap-reference``); ``None`` reads the
        bundled table.

    Returns
    -------
    list of Problem
        Severity ``warning``, one per quantitative mean not judged (see
        :func:`muap_reference_warnings`).

    Raises
    ------
    InvalidParameterError
        ``study`` is not a Study.
    """
    from ..knowledge import load_anatomy, load_rules

    check_type('study', study, Study, 'a Study from edxreview.io.load_study')
    muscles = read_muscles(study, load_anatomy(), load_rules(), muap_reference=muap_reference)
    return muap_reference_warnings(muscles, muap_reference)
