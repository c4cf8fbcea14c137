"""The findings table: every abnormal finding of a study as one typed row.

A finding is what a rule concluded from the measurements: an absent or low response, a slowed
or prolonged value, a response reduced against the other side, a conduction block, focal
slowing across an entrapment site, demyelinating-range change, F-waves prolonged with normal
distal conduction, a blink-reflex pattern, acute or chronic denervation of a muscle. Each row
carries its value, the limit it was judged against, the rule's id and the cited source, so the
text written about a patient can be generated from, and checked against, these rows.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .._check import check_type
from .._tables import map_distinct
from ._readings import focal_sites

FINDING_COLUMNS = [
    "patient_id", "side", "study", "nerve", "muscle", "site", "kind", "parameter", "value",
    "unit", "limit", "rule", "source", "table",
]

# (study, parameter, flag) of a flagged value → finding kind
_VALUE_KIND = {
    ("amplitude_mv", "low"): "axon_loss", ("amplitude_uv", "low"): "axon_loss",
    ("latency_ms", "high"): "prolonged_latency", ("velocity_m_s", "low"): "slowed_conduction",
    ("min_latency_ms", "high"): "prolonged_f_wave",
    ("amplitude_side_ratio", "low"): "reduced_side_to_side",
}


def _value_findings(values: pd.DataFrame) -> pd.DataFrame:
    v = values[values["abnormal"]]
    if not len(v):
        return pd.DataFrame(columns=FINDING_COLUMNS)
    param = v["parameter"].astype(str)
    flag = v["flag"].astype(str)
    kind = pd.Series([_VALUE_KIND.get(k) for k in zip(param, flag)], index=v.index, dtype=object)
    kind = kind.where(flag.ne("absent"), "absent_response")
    kind = kind.where(~v["study"].astype(str).eq("blink") | flag.eq("absent"), "blink_delay")
    kind = kind.fillna("outside_limit")
    return pd.DataFrame({
        "patient_id": v["patient_id"].to_numpy(), "side": v["side"].to_numpy(),
        "study": v["study"].astype(str).to_numpy(), "nerve": v["nerve"].to_numpy(), "muscle": None,
        "site": v["site"].astype(object).to_numpy(), "kind": kind.to_numpy(),
        "parameter": param.to_numpy(), "value": v["value"].to_numpy(dtype=float),
        "unit": v["unit"].astype(str).to_numpy(), "limit": v["limit"].to_numpy(dtype=float),
        "rule": np.where(param.eq("amplitude_side_ratio"), "side_to_side", "reference_limit"),
        "source": v["source"].astype(object).to_numpy(),
        "table": v["reference"].astype(object).to_numpy()})


def _nerve_findings(nerves: pd.DataFrame, rules: dict) -> pd.DataFrame:
    """Findings a rule draws from several values of one nerve (block, focal slowing …)."""
    parts = []
    cb = rules["conduction_block"]
    dm = rules["demyelination"]
    loc = rules["localisation"]

    def part(mask, kind, rule, source, value=None, limit=np.nan, parameter="", unit="",
             site=nerves["lesion_site"]):
        sub = nerves[mask.fillna(False).astype(bool)]
        if not len(sub):
            return
        parts.append(pd.DataFrame({
            "patient_id": sub["patient_id"].to_numpy(), "side": sub["side"].to_numpy(),
            "study": sub["study"].to_numpy(), "nerve": sub["nerve"].to_numpy(), "muscle": None,
            "site": site[sub.index].astype(object).to_numpy(), "kind": kind,
            "parameter": parameter,
            "value": (sub[value].to_numpy(dtype=float) if value else np.nan),
            "unit": unit, "limit": limit, "rule": rule,
            "source": source[sub.index].to_numpy() if isinstance(source, pd.Series) else source}))

    def by_nerve(section: str) -> pd.Series:
        table = {e["nerve"]: e.get("source", "") for e in rules.get(section, [])}
        return map_distinct(nerves["nerve"], table).astype(object)

    # every block and every focal slowing of a recording is a finding at its own site
    sites = focal_sites(nerves)
    block = sites["code"].eq("conduction_block")
    across = sites["code"].eq("focal_slowing") & sites["velocity"].notna()
    distal = sites["code"].eq("focal_slowing") & sites["velocity"].isna()
    for mask, rule, source, value, limit, parameter, unit in (
            (block, "conduction_block", cb["source"], "ratio", cb["max_proximal_distal_ratio"],
             "proximal_distal_amplitude_ratio", "ratio"),
            (across, "entrapment", by_nerve("entrapment"), "velocity", np.nan, "velocity_m_s",
             "m/s"),
            (distal, "distal_entrapment", by_nerve("distal_entrapment"), None, np.nan, "", "")):
        sub = sites[mask]
        if not len(sub):
            continue
        rows = nerves.loc[sub["row"]]
        parts.append(pd.DataFrame({
            "patient_id": rows["patient_id"].to_numpy(), "side": rows["side"].to_numpy(),
            "study": rows["study"].to_numpy(), "nerve": rows["nerve"].to_numpy(), "muscle": None,
            "site": sub["site"].astype(object).to_numpy(),
            "kind": sub["code"].astype(object).to_numpy(), "parameter": parameter,
            "value": sub[value].to_numpy(dtype=float) if value else np.nan, "unit": unit,
            "limit": limit, "rule": rule,
            "source": (source.loc[sub["row"]].to_numpy() if isinstance(source, pd.Series)
                       else source)}))
    part(nerves["demyelinating"] & ~nerves["f_proximal"].fillna(False).astype(bool),
         "demyelinating_range", "demyelination", dm["source"])
    part(nerves["f_proximal"], "proximal_f_wave", "proximal_f_waves", loc["source"])
    part(nerves["study"].eq("sensory") & nerves["lesion_site"].notna(), "focal_slowing",
         "sensory_entrapment", by_nerve("sensory_entrapment"))
    bp = nerves["blink_pattern"].astype(object)
    for pattern in ("afferent", "efferent", "pontine", "medullary"):
        part(bp.eq(pattern), f"blink_{pattern}", "blink_pattern", "guide_2_10")
    if not parts:
        return pd.DataFrame(columns=FINDING_COLUMNS)
    return pd.concat(parts, ignore_index=True)


def _muscle_findings(muscles: pd.DataFrame, rules: dict) -> pd.DataFrame:
    parts = []
    src = rules["emg"]["source"]
    for col, kind in (("acute", "acute_denervation"), ("chronic", "chronic_denervation")):
        sub = muscles[muscles[col].fillna(False).astype(bool)]
        if not len(sub):
            continue
        parts.append(pd.DataFrame({
            "patient_id": sub["patient_id"].to_numpy(), "side": sub["side"].to_numpy(),
            "study": "emg", "nerve": sub["nerve"].to_numpy(), "muscle": sub["muscle"].to_numpy(),
            "site": sub["paraspinal_level"].astype(object).to_numpy(), "kind": kind,
            "parameter": "fibs_psw_grade" if col == "acute" else "muap",
            "value": np.nan, "unit": "", "limit": rules["emg"]["acute_min_grade"] if col == "acute" else np.nan,
            "rule": "emg_" + col, "source": src}))
    if not parts:
        return pd.DataFrame(columns=FINDING_COLUMNS)
    return pd.concat(parts, ignore_index=True)


def findings_table(values: pd.DataFrame, nerves: pd.DataFrame, muscles: pd.DataFrame,
                   rules: dict) -> pd.DataFrame:
    """One row per finding of every patient.

    Parameters
    ----------
    values : DataFrame
        From :func:`edxreview.interpret.flag_values`.
    nerves : DataFrame
        From :func:`edxreview.interpret.read_nerves`.
    muscles : DataFrame
        From :func:`edxreview.interpret.read_muscles`.
    rules : dict
        :func:`edxreview.knowledge.load_rules`.

    Returns
    -------
    DataFrame
        Columns ``FINDING_COLUMNS``. ``kind`` is one of ``absent_response``, ``axon_loss``,
        ``prolonged_latency``, ``slowed_conduction``, ``prolonged_f_wave``,
        ``reduced_side_to_side``, ``blink_delay``, ``outside_limit`` (a value beyond its limit),
        ``conduction_block``, ``focal_slowing``, ``demyelinating_range``, ``proximal_f_wave``,
        ``blink_afferent``, ``blink_efferent``, ``blink_pontine``, ``blink_medullary`` (rules
        over a nerve's values), ``acute_denervation``, ``chronic_denervation`` (a muscle).
        ``rule`` names the rule (a table of ``interpretation_rules.toml`` or
        ``reference_limit``); ``source`` its citation key(s); ``table`` the id and version of
        the reference set or rules file it was read from.

    Raises
    ------
    InvalidParameterError
        An argument is not of the type listed above (checked before any work).

    Examples
    --------
    >>> import edxreview
    >>> from edxreview.knowledge import load_anatomy, load_reference, load_rules
    >>> study = edxreview.io.load_study(edxreview.demo_path())
    >>> anatomy, rules = load_anatomy(), load_rules()
    >>> values = edxreview.interpret.flag_values(study, load_reference(), anatomy)
    >>> nerves = edxreview.interpret.read_nerves(study, values, anatomy, rules)
    >>> muscles = edxreview.interpret.read_muscles(study, anatomy, rules)
    >>> findings = edxreview.interpret.findings_table(values, nerves, muscles, rules)
    >>> findings["rule"].notna().all()
    np.True_
    """
    check_type('values', values, pd.DataFrame, 'the DataFrame from edxreview.interpret.flag_values')
    check_type('nerves', nerves, pd.DataFrame, 'the DataFrame from edxreview.interpret.read_nerves')
    check_type('muscles', muscles, pd.DataFrame, 'the DataFrame from edxreview.interpret.read_muscles')
    check_type('rules', rules, Mapping, 'the Rules from edxreview.knowledge.load_rules')
    parts = [_value_findings(values)]
    if len(nerves):
        parts.append(_nerve_findings(nerves, rules))
    if len(muscles):
        parts.append(_muscle_findings(muscles, rules))
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=FINDING_COLUMNS)
    out = pd.concat(parts, ignore_index=True)
    rules_table = f"{rules.get('id', 'interpretation_rules')} v{rules.get('version', '?')}"
    out["table"] = out["table"].where(out["table"].notna(), rules_table) if "table" in out else rules_table
    out = out[FINDING_COLUMNS]
    for col in ("study", "kind", "rule", "unit", "parameter"):
        out[col] = out[col].astype("category")
    return out.sort_values(["patient_id", "study", "nerve", "side"], kind="stable").reset_index(drop=True)
