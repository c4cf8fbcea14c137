"""Muscle-level readings from needle EMG: acute, chronic, acute and chronic denervation,
myopathic, or normal — from the human grading or from quantitative MUAP means."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .._check import check_type
from .._tables import join_nonempty, map_distinct
from ..io import Study
from ..knowledge import Anatomy
from ..knowledge._tables import load_muap_reference

MUSCLE_COLUMNS = [
    "patient_id", "muscle", "side", "paraspinal_level", "nerve", "roots", "segments",
    "nucleus", "brainstem_level", "region", "distality", "branch_rank", "fibs", "psw",
    "fasciculations", "muap_duration", "muap_amplitude", "polyphasia", "recruitment",
    "muap_duration_ms", "muap_amplitude_uv", "polyphasic_pct", "reference_duration_ms",
    "reference_amplitude_uv", "acute", "chronic", "myopathic", "denervation", "reading",
    "other_findings", "row",
]

_GRADE_TEXT = {0.0: "0", 0.5: "±", 1.0: "1+", 2.0: "2+", 3.0: "3+", 4.0: "4+"}


def _muap_limits(emg: pd.DataFrame, ages: pd.Series) -> pd.DataFrame:
    """Reference MUAP duration and amplitude limits for each EMG row (NaN where none)."""
    ref = load_muap_reference()
    out = pd.DataFrame({"ref_duration": np.nan, "ref_amplitude": np.nan,
                        "ref_duration_low": np.nan}, index=emg.index)
    if ref is None or not len(ref):
        return out
    ref = ref.copy()
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
                                      "amplitude_upper_uv", "duration_lower_ms"]]
    j = rows.merge(bands, on="_m", how="inner")
    # ages outside the tabulated bands are read against the nearest band
    lo = j.groupby("_m")["age_min_years"].transform("min")
    hi = j.groupby("_m")["age_max_years"].transform("max")
    j["age"] = np.minimum(np.maximum(j["age"], lo), hi - 1e-6)
    in_band = (j["age_min_years"].isna() | (j["age"] >= j["age_min_years"])) & \
              (j["age_max_years"].isna() | (j["age"] < j["age_max_years"]))
    j = j[in_band.fillna(False)].drop_duplicates("_i")
    out.iloc[j["_i"].to_numpy(), 0] = j["duration_upper_ms"].to_numpy()
    out.iloc[j["_i"].to_numpy(), 1] = j["amplitude_upper_uv"].to_numpy()
    out.iloc[j["_i"].to_numpy(), 2] = j["duration_lower_ms"].to_numpy()
    return out


def read_muscles(study: Study, anatomy: Anatomy, rules: dict) -> pd.DataFrame:
    """Read every muscle examined.

    A muscle shows *acute* denervation when fibrillation potentials or positive sharp waves are
    graded 1+ or more (``±`` is not enough), *chronic* denervation when MUAP duration and/or
    amplitude is increased (qualitatively, or a quantitative mean above the muscle's reference
    limit). Fasciculations, reduced recruitment or decreased activation alone are recorded as
    other findings, never as denervation.

    Parameters
    ----------
    study : Study
    anatomy : Anatomy
    rules : dict

    Returns
    -------
    DataFrame
        Columns ``MUSCLE_COLUMNS``; ``segments`` is the pipe-separated list of cord segments
        (main roots, or the sampled level for a paraspinal muscle), ``nucleus`` the cranial
        nucleus for bulbar muscles.

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
    limits = _muap_limits(emg, ages)
    emg["reference_duration_ms"] = limits["ref_duration"].to_numpy()
    emg["reference_amplitude_uv"] = limits["ref_amplitude"].to_numpy()

    spont = np.fmax(emg["fibs"].astype(float), emg["psw"].astype(float))
    emg["acute"] = (spont >= rule["acute_min_grade"]).fillna(False)
    qual_chronic = emg["muap_duration"].eq("increased") | emg["muap_amplitude"].eq("increased")
    quant_chronic = (emg["muap_duration_ms"] > emg["reference_duration_ms"]).fillna(False) | \
                    (emg["muap_amplitude_uv"] > emg["reference_amplitude_uv"]).fillna(False)
    emg["chronic"] = (qual_chronic | quant_chronic).astype(bool)
    qual_myo = emg["muap_duration"].eq("decreased") & (
        emg["muap_amplitude"].eq("decreased") | emg["polyphasia"].eq("increased")
        | emg["recruitment"].eq("early"))
    quant_myo = (emg["muap_duration_ms"] < limits["ref_duration_low"].to_numpy()).fillna(False)
    emg["myopathic"] = (qual_myo | quant_myo) & ~emg["chronic"]
    emg["denervation"] = emg["acute"] | emg["chronic"]
    emg["reading"] = np.select(
        [emg["acute"] & emg["chronic"], emg["acute"], emg["chronic"], emg["myopathic"]],
        ["acute and chronic denervation", "acute denervation", "chronic denervation (reinnervation)",
         "myopathic"], "normal")
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
    emg["other_findings"] = join_nonempty(other)
    emg["row"] = emg["_row"]
    for col in ("fibs", "psw"):
        emg[col] = emg[col].map(_GRADE_TEXT)
    emg["fasciculations"] = fasc.map(_GRADE_TEXT)
    return emg[MUSCLE_COLUMNS].reset_index(drop=True)
