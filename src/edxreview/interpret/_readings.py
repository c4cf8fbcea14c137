"""Per-nerve readings built from the flagged values (normal, axonal loss, demyelinating-range
change, conduction block, focal slowing at a site, absent)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .._check import check_type
from .._errors import Problem
from .._tables import (fill, flag_column as _flag, group_join, join_nonempty, map_distinct,
                       text_column)
from .._words import english_words
from ..io import Study
from ..io._validate import cooled_rows
from ..knowledge import Anatomy
from ._nerves import _motor_sequence

#: the English words of each nerve conduction parameter in running text (table ``parameters``
#: of ``data/labels_en.toml``) and the forms of a flagged value (table ``flagged_values``), by
#: which :func:`describe_values` writes the ``flagged_values`` column
PARAMETER_WORDS = english_words("parameters")
FLAGGED_VALUE_WORDS = english_words("flagged_values")

NERVE_COLUMNS = [
    "patient_id", "study", "nerve", "side", "limb", "recording_site", "reading", "abnormal",
    "qualifies", "axonal", "absent", "demyelinating", "conduction_block", "focal_slowing",
    "lesion_nerve", "lesion_site", "lesion_rank", "distal_amplitude_fraction_of_lln",
    "flagged_values", "reference", "low_amplitude", "slowed", "f_proximal", "side_ratio_low",
    "facial_abnormal", "blink_pattern", "block_site", "block_rank", "block_ratio",
    "block_distal_amplitude_mv", "block_proximal_amplitude_mv", "slowing_site", "slowing_rank",
    "segment_velocity_m_s", "adjacent_velocity_m_s", "temperature_c", "temperature_limit_c",
    "cooled", "not_interpreted", "uninterpreted_recordings",
]


def describe_values(values: pd.DataFrame, labels: Mapping[str, Any] | None = None,
                    site_names: Mapping[str, str] | pd.Series | None = None) -> pd.Series:
    """Short text of each value beside its limit (e.g. ``CMAP 2.1 mV (LLN 4)``).

    Parameters
    ----------
    values : DataFrame
        Rows of :func:`flag_values` (``study``, ``parameter``, ``site``, ``value``, ``unit``,
        ``no_response``, ``bound``, ``limit``; ``height_assumed_cm`` where present).
    labels : mapping, optional
        A label file (:func:`~edxreview._words.load_labels`) whose tables ``parameters`` and
        ``flagged_values`` give the words (default: English, :data:`PARAMETER_WORDS` and
        :data:`FLAGGED_VALUE_WORDS`). A parameter without a word is written as its id.
    site_names : mapping or Series, optional
        Site ids to words, as for :func:`compose_nerve_readings` (default: the id with its
        underscores as spaces).

    Returns
    -------
    Series of str
        Aligned with ``values``: the parameter (a motor velocity with the site it ends at), the
        value with its unit (``NR`` without a response) and the limit it is judged by, with the
        height assumed where a height-adjusted limit had no height to adjust to.
    """
    names = PARAMETER_WORDS if labels is None else labels["parameters"]
    forms = FLAGGED_VALUE_WORDS if labels is None else labels["flagged_values"]
    idx = values.index
    if not len(values):
        return pd.Series([], index=idx, dtype=object)
    parameter = values["parameter"].astype(str)
    label = parameter.map(names).fillna(parameter)
    site = values["site"].astype(object)
    to_site = (values["study"].eq("motor") & parameter.eq("velocity_m_s")
               & site.notna() & site.astype(str).ne(""))
    label = label.where(~to_site, fill(forms["to_site"], idx, parameter=label,
                                       site=site_words(site, site_names)))
    unit = values["unit"].astype(object).where(values["unit"].notna()
                                               & values["unit"].ne("ratio"), "").astype(str)
    number = (values["value"].map(lambda v: f"{v:g}" if pd.notna(v) else "") + " "
              + unit).str.rstrip()
    value = number.where(~values["no_response"].astype(bool), forms["no_response"])
    # the limit to two decimals, as it was compared (a height-adjusted 30.68 is not "30.7",
    # which would equal a flagged 30.7)
    shown = values["limit"].map(lambda v: f"{round(v, 2):g}" if pd.notna(v) else "")
    lower = values["bound"].eq("lower")
    limit = fill(forms["lower_limit"], idx, limit=shown).where(
        lower, fill(forms["upper_limit"], idx, limit=shown)).where(
        values["limit"].notna(), forms["no_reference"])
    # a height-adjusted limit taken at the reference height (height not given) says so
    assumed = (pd.to_numeric(values["height_assumed_cm"], errors="coerce")
               if "height_assumed_cm" in values else pd.Series(np.nan, index=idx))
    said = assumed.notna() & values["limit"].notna()
    if said.any():
        limit = limit.where(~said, fill(forms["height_assumed"], idx, limit=limit,
                                        height=assumed.map(lambda v: f"{v:g}" if pd.notna(v) else "")))
    return fill(forms["value"], idx, parameter=label, value=value, limit=limit)


def height_warnings(values: pd.DataFrame, patients: pd.DataFrame) -> list[Problem]:
    """A warning for each patient whose height-adjusted limits were taken at the reference
    height because ``height_cm`` is not given (``values["height_assumed_cm"]``).

    Parameters
    ----------
    values : DataFrame
        From :func:`flag_values`, with the patient ids of ``patients``.
    patients : DataFrame
        The validated ``patients`` sheet (``patient_id``, ``_row``, ``height_cm``).

    Returns
    -------
    list of Problem
        Severity ``warning``: sheet ``patients``, the patient's row, column ``height_cm`` and
        its (blank) value, naming the limits that assumed a height and the height assumed.
    """
    if "height_assumed_cm" not in values or not len(values):
        return []
    v = values[values["height_assumed_cm"].notna()]
    if not len(v):
        return []
    what = (v["nerve"].astype(str).str.replace("_", " ") + " "
            + v["parameter"].astype(str).map(PARAMETER_WORDS).fillna(v["parameter"].astype(str)))
    per = pd.DataFrame({"patient_id": v["patient_id"].astype(str).to_numpy(),
                        "what": what.to_numpy(),
                        "height": v["height_assumed_cm"].map("{:g}".format).to_numpy()})
    per = per.groupby("patient_id", sort=False).agg(
        what=("what", lambda s: ", ".join(dict.fromkeys(s))),
        height=("height", lambda s: " / ".join(dict.fromkeys(s))))
    rows = patients.drop_duplicates("patient_id").assign(
        _pid=lambda p: p["patient_id"].astype(str)).set_index("_pid")
    per = per.join(rows[["_row", "height_cm"]], how="inner")
    return [Problem("patients", int(r), "height_cm", None if pd.isna(value) else value,
                    f"height not given: the height-adjusted limits of this patient ({what}) were "
                    f"taken at the reference height of {height} cm; give height_cm for limits "
                    "at the patient's height", severity="warning")
            for r, value, what, height in zip(per["_row"], per["height_cm"], per["what"],
                                              per["height"])]


def _join_text(frame: pd.DataFrame, keys: list[str], col: str, sep: str = "; ") -> pd.Series:
    codes = frame.groupby(keys, sort=False, dropna=False).ngroup()
    joined = group_join(codes, frame[col], sep=sep)
    first = frame.assign(_g=codes.to_numpy()).drop_duplicates("_g").set_index(keys)["_g"]
    return pd.Series(first.map(joined).to_numpy(), index=first.index)


def read_nerves(study: Study, values: pd.DataFrame, anatomy: Anatomy, rules: dict) -> pd.DataFrame:
    """Read every nerve studied (per patient, study type, nerve and side).

    Parameters
    ----------
    study : Study
    values : DataFrame
        From :func:`flag_values`.
    anatomy : Anatomy
    rules : dict
        :func:`edxreview.knowledge.load_rules`.

    Returns
    -------
    DataFrame
        Columns ``NERVE_COLUMNS``. ``qualifies`` marks a reading that is evidence of a
        neuropathy by itself (sensory abnormality, demyelinating-range change, conduction block,
        focal slowing at an entrapment site, cranial nerve abnormality) before the age rule of
        :mod:`edxreview.classify` is applied; a low CMAP alone does not qualify.
        Every conduction block and every focal slowing of a motor recording is found and named
        at its own site (:func:`focal_sites`): ``block_site`` lists each segment in which the
        CMAP falls to the block ratio of the CMAP that reached it (the distal one, or the one a
        block below left), or the entrapment site the segment crosses; ``slowing_site`` the
        distal entrapment site (a distal latency beyond its limit: the wrist) and each
        entrapment site the slowing is localised to. The sites are joined by ``|``, distal
        first, with their ranks (``block_rank``, ``slowing_rank``) and values (``block_ratio``,
        ``block_distal_amplitude_mv``, ``block_proximal_amplitude_mv``;
        ``segment_velocity_m_s``, ``adjacent_velocity_m_s``, blank for the distal site) in the
        same order. ``lesion_site`` and ``lesion_rank`` are those of the most proximal site,
        from which the nerve is affected (spec §4.1).

    Raises
    ------
    InvalidParameterError
        An argument is not of the type listed above (checked before any work).

    Examples
    --------
    >>> import edxreview
    >>> from edxreview.knowledge import load_anatomy, load_reference, load_rules
    >>> study = edxreview.io.load_study(edxreview.demo_path())
    >>> values = edxreview.interpret.flag_values(study, load_reference(), load_anatomy())
    >>> nerves = edxreview.interpret.read_nerves(study, values, load_anatomy(), load_rules())
    >>> nerves[["patient_id", "study", "nerve", "side", "reading"]].columns.size
    5
    """
    check_type('study', study, Study, 'a Study from edxreview.io.load_study')
    check_type('values', values, pd.DataFrame, 'the DataFrame from edxreview.interpret.flag_values')
    check_type('anatomy', anatomy, Anatomy, 'the Anatomy from edxreview.knowledge.load_anatomy')
    check_type('rules', rules, Mapping, 'the Rules from edxreview.knowledge.load_rules')
    parts = [_read_motor(study, values, anatomy, rules), _read_sensory(values, rules),
             _read_blink(values)]
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=NERVE_COLUMNS)
    nerves = pd.concat(parts, ignore_index=True)
    nerves["not_interpreted"] = _not_interpreted(values, nerves)
    nerves["uninterpreted_recordings"] = _uninterpreted_recordings(values, nerves)
    nerves["reading"] = compose_nerve_readings(nerves)
    limb = anatomy.nerves["limb"] if "limb" in anatomy.nerves else pd.Series(dtype=str)
    nerves["limb"] = map_distinct(nerves["nerve"], limb).fillna("cranial")
    flagged = values[values["abnormal"]].copy()
    flagged["text"] = describe_values(flagged)
    flagged["_study"] = flagged["study"].replace({"f_wave": "motor"})
    text = _join_text(flagged, ["patient_id", "_study", "nerve", "side"], "text",
                      sep=FLAGGED_VALUE_WORDS["join"])
    text.index = text.index.set_names(["patient_id", "study", "nerve", "side"])
    nerves = nerves.merge(text.rename("flagged_values").reset_index(),
                          on=["patient_id", "study", "nerve", "side"], how="left")
    nerves["flagged_values"] = nerves["flagged_values"].astype(object).where(
        nerves["flagged_values"].notna(), "")
    nerves = nerves.merge(_temperatures(study, anatomy), on=["patient_id", "study", "nerve", "side"],
                          how="left")
    nerves["cooled"] = _flag(nerves, "cooled")
    for col in NERVE_COLUMNS:
        if col not in nerves:
            nerves[col] = np.nan
    return nerves[NERVE_COLUMNS].sort_values(["patient_id", "study", "nerve", "side"],
                                             kind="stable").reset_index(drop=True)


def uninterpreted_studies(values: pd.DataFrame, by_recording: bool = False) -> pd.DataFrame:
    """The motor and sensory studies none of whose values could be judged.

    A study (patient, motor or sensory, nerve, side; a motor study's F-wave belongs to it) is
    not interpreted when none of its values has a reference limit (``limit`` missing: flag
    ``no_reference``; a side ratio counts as a limit) and none is an absent response (absent
    is abnormal without a limit). With ``by_recording`` each SNAP recording site of a nerve
    is a study of its own (the median to the thumb beside the median to the index finger).

    Returns
    -------
    DataFrame
        ``patient_id, study, nerve, side, recording_site, sheet, row``: one row per study,
        the sheet and row of its first value.
    """
    cols = ["patient_id", "study", "nerve", "side", "recording_site", "sheet", "row"]
    v = values[values["study"].isin(["motor", "sensory", "f_wave"])]
    if not len(v):
        return pd.DataFrame(columns=cols)
    study = v["study"].astype(str).replace({"f_wave": "motor"})
    key = pd.DataFrame({"patient_id": v["patient_id"].astype(str), "study": study,
                        "nerve": v["nerve"].astype(str), "side": v["side"].astype(str)})
    if by_recording:
        rec = v["recording_site"].astype(object)
        key["recording"] = rec.where(study.eq("sensory") & rec.notna(), "").astype(str)
    gid = key.groupby(list(key.columns), sort=False, dropna=False).ngroup().to_numpy()
    ok = (v["limit"].notna() | _flag(v, "no_response")).to_numpy()
    judged = np.bincount(gid, weights=ok, minlength=gid.max() + 1)[gid] > 0
    out = v[~judged].assign(study=study[~judged], _gid=gid[~judged])
    out = out.sort_values(["_gid", "row"], kind="stable").drop_duplicates("_gid")
    return out[cols].reset_index(drop=True)


def reference_warnings(values: pd.DataFrame) -> list[Problem]:
    """One warning per motor or sensory study that was not interpreted for want of a limit.

    Parameters
    ----------
    values : DataFrame
        From :func:`flag_values` (``row`` is the sheet's row number).

    Returns
    -------
    list of Problem
        Severity ``warning``: the study's sheet, the row of its first value, the column
        ``nerve`` and the nerve (a SNAP with a recording site: ``recording_site`` and the
        site as written), saying that no reference limit exists for it and that its values
        were not interpreted (:func:`uninterpreted_studies`, each SNAP recording site apart).
    """
    un = uninterpreted_studies(values, by_recording=True)
    if not len(un):
        return []
    rec = un["recording_site"].astype(object)
    has_rec = rec.notna().to_numpy()
    name = un["nerve"].astype(str).str.replace("_", " ") + " " + un["study"].astype(str)
    name = name + pd.Series(np.where(has_rec, " (recording " + rec.astype(str).str.replace(
        "_", " ") + ")", ""), index=un.index)
    # a SNAP's recording site is what has no limit; a motor study's nerve
    sensory_site = has_rec & un["study"].eq("sensory").to_numpy()
    column = np.where(sensory_site, "recording_site", "nerve")
    shown = np.where(sensory_site, rec, un["nerve"])
    ratio = pd.Series(np.where(un["study"].eq("motor"), " (nor a side ratio)", ""), index=un.index)
    text = ("no reference limit for " + name + " in the reference set" + ratio + ": the study "
            "was not interpreted, its values are flagged 'no_reference' and it counts neither "
            "as normal nor as a neuropathy; give a laboratory reference (--reference) with "
            "limits for it to read it")
    out = [Problem(str(sheet), None if pd.isna(row) else int(row), str(col), value, t,
                   severity="warning")
           for sheet, row, col, value, t in zip(un["sheet"], un["row"], column, shown, text)]
    return sorted(out, key=lambda p: (p.sheet, p.row or 0))


def _not_interpreted(values: pd.DataFrame, nerves: pd.DataFrame) -> pd.Series:
    """Each nerve reading's ``not_interpreted`` flag (:func:`uninterpreted_studies`)."""
    keys = ["patient_id", "study", "nerve", "side"]
    un = uninterpreted_studies(values)[keys].assign(_un=True)
    flag = nerves[keys].merge(un, on=keys, how="left")["_un"]
    return pd.Series(flag.notna().to_numpy(), index=nerves.index)


def _uninterpreted_recordings(values: pd.DataFrame, nerves: pd.DataFrame) -> pd.Series:
    """Each sensory reading's recording sites (as written) that had no limit while another
    recording of the nerve had one (the median to the thumb beside the index finger),
    ``|``-joined; ``""`` for the others."""
    keys = ["patient_id", "study", "nerve", "side"]
    un = uninterpreted_studies(values, by_recording=True)
    un = un[un["study"].eq("sensory") & un["recording_site"].notna()]
    empty = pd.Series("", index=nerves.index, dtype=object)
    if not len(un):
        return empty
    sites = un.groupby(keys, sort=False)["recording_site"].agg(
        lambda x: "|".join(dict.fromkeys(x.astype(str)))).rename("_sites").reset_index()
    joined = nerves[keys].merge(sites, on=keys, how="left")["_sites"]
    whole = _flag(nerves, "not_interpreted").to_numpy()
    out = pd.Series(joined.to_numpy(), index=nerves.index, dtype=object).where(~whole)
    return out.where(out.notna(), "")


def _temperatures(study: Study, anatomy: Anatomy) -> pd.DataFrame:
    """Per patient, study (motor, sensory), nerve and side: the lowest limb temperature
    recorded (``temperature_c``, °C), the limb's limit (``temperature_limit_c``) and whether
    the nerve was recorded below it (``cooled``, :func:`edxreview.io._validate.cooled_rows`).
    A motor nerve's F-wave is read with its motor rows."""
    keys = ["patient_id", "study", "nerve", "side"]
    parts = []
    for sheet, kind in (("ncs_motor", "motor"), ("ncs_sensory", "sensory")):
        table = study.tables.get(sheet)
        if table is None or not len(table) or "temperature_c" not in table:
            continue
        rows = cooled_rows(table, anatomy)
        parts.append(pd.DataFrame({
            "patient_id": table["patient_id"].to_numpy(), "study": kind,
            "nerve": table["nerve"].to_numpy(), "side": table["side"].to_numpy(),
            "temperature_c": pd.to_numeric(table["temperature_c"], errors="coerce").to_numpy(),
            "temperature_limit_c": rows["temperature_limit_c"].to_numpy(),
            "cooled": rows["cooled"].to_numpy()}))
    if not parts:
        return pd.DataFrame(columns=keys + ["temperature_c", "temperature_limit_c", "cooled"])
    frame = pd.concat(parts, ignore_index=True)
    return frame.groupby(keys, sort=False, dropna=False).agg(
        temperature_c=("temperature_c", "min"), temperature_limit_c=("temperature_limit_c", "first"),
        cooled=("cooled", "any")).reset_index()


def _pivot_param(values: pd.DataFrame, study: str, param: str, keys: list[str]) -> pd.DataFrame:
    sub = values[(values["study"] == study) & (values["parameter"] == param)]
    return sub.groupby(keys, sort=False, dropna=False).agg(
        value=("value", "first"), nr=("no_response", "first"), limit=("limit", "first"))


def _read_motor(study: Study, values: pd.DataFrame, anatomy: Anatomy, rules: dict) -> pd.DataFrame:
    """One reading per motor recording (ulnar to ADM and to FDI are two studies of one nerve):
    the distal CMAP and F-wave against their limits, distal entrapment, the segments (block,
    slowing, focal slowing across entrapment sites), then the flags and the reading's text."""
    motor = study.tables["ncs_motor"]
    fw = values[values["study"] == "f_wave"]
    if not len(motor) and not len(fw):
        return pd.DataFrame()
    seq = _motor_sequence(motor, anatomy)
    g = _motor_values(seq, values, fw)
    g = _distal_entrapment(g, rules)
    g, events = _segment_findings(g, seq, values, anatomy, rules)
    g = _motor_flags(g, events, values, anatomy, rules)
    g["study"] = "motor"
    g["lesion_nerve"] = np.where(g["lesion_site"].notna(), g["nerve"], None)
    g["distal_amplitude_fraction_of_lln"] = g["amp_frac"].round(3)
    g["reference"] = ""
    return g


_NKEYS = ["patient_id", "nerve", "side"]
_KEYS = _NKEYS + ["recording_site"]


def _recording_of_rows(seq: pd.DataFrame, rows: pd.Series) -> np.ndarray:
    """The recording (``_rec`` of :func:`_motor_sequence`) of each motor value, found by the
    value's row in the motor sheet; -1 for a value of no motor row."""
    rec = pd.Series(seq["_rec"].to_numpy(), index=seq["_row"].to_numpy())
    return rec.reindex(rows.to_numpy()).fillna(-1).to_numpy(dtype=np.int64)


def _motor_values(seq: pd.DataFrame, values: pd.DataFrame, fw: pd.DataFrame) -> pd.DataFrame:
    """One row per recording (F-wave-only nerves included): the distal CMAP amplitude and
    latency and the F-wave latency, each with its limit and no-response flag.

    The recordings are joined on their number (``_rec``), which F-wave-only nerves get after
    those of the motor rows."""
    nkeys, keys = _NKEYS, _KEYS
    vm = values[values["study"] == "motor"]
    vm = vm.assign(_rec=_recording_of_rows(seq, vm["row"]))
    groups = seq[seq["seq"] == 0][["_rec"] + keys + ["stim_site"]]
    # f-waves for nerves without a motor row still get a reading
    if len(fw):
        f_only = fw[nkeys].drop_duplicates().merge(groups[nkeys].drop_duplicates(), on=nkeys,
                                                   how="left", indicator=True)
        f_only = f_only[f_only["_merge"] == "left_only"].drop(columns="_merge")
        start = int(seq["_rec"].max()) + 1 if len(seq) else 0
        groups = pd.concat([groups, f_only.assign(
            _rec=np.arange(start, start + len(f_only)), recording_site=None, stim_site=None)],
            ignore_index=True)
    g = groups.set_index("_rec", drop=False)
    amp = _pivot_param(vm, "motor", "amplitude_mv", ["_rec"])
    lat = _pivot_param(vm, "motor", "latency_ms", ["_rec"])
    g["amp"], g["amp_nr"], g["amp_lln"] = amp["value"], amp["nr"], amp["limit"]
    g["dl"], g["dl_nr"], g["dl_uln"] = lat["value"], lat["nr"], lat["limit"]
    f = _pivot_param(fw, "f_wave", "min_latency_ms", nkeys).rename(
        columns={"value": "f", "nr": "f_nr", "limit": "f_uln"})
    g = g.reset_index(drop=True).merge(f.reset_index(), on=nkeys, how="left").set_index(keys)
    g["amp_nr"] = g["amp_nr"].fillna(False).astype(bool)
    with np.errstate(invalid="ignore", divide="ignore"):
        g["amp_frac"] = np.where(g["amp_nr"], 0.0, g["amp"] / g["amp_lln"])
    return g


def _distal_entrapment(g: pd.DataFrame, rules: dict) -> pd.DataFrame:
    """Demyelinating-range distal and F latencies, and distal entrapment (carpal tunnel,
    Guyon): DML > ULN with a CMAP axon loss cannot explain."""
    dm = rules["demyelination"]
    preserved = g["amp_frac"] >= dm["cmap_preserved_fraction_of_lln"]
    g["absent"] = g["amp_nr"]
    dl_thr = np.where(preserved, dm["distal_latency_fraction_of_uln_preserved"],
                      dm["distal_latency_fraction_of_uln_reduced"])
    f_thr = np.where(preserved, dm["f_latency_fraction_of_uln_preserved"],
                     dm["f_latency_fraction_of_uln_reduced"])
    dl_demyel = (g["dl"] > dl_thr * g["dl_uln"]).fillna(False)
    f_demyel = (g["f"] > f_thr * g["f_uln"]).fillna(False)
    distal_ent = pd.DataFrame(rules.get("distal_entrapment", []))
    g = g.reset_index()
    g["focal_site"] = None
    if len(distal_ent):
        ent_nerves = set(distal_ent["nerve"])
        site_of = dict(zip(distal_ent["nerve"], distal_ent["site"]))
        prolonged = (g["dl"] > g["dl_uln"]).fillna(False).to_numpy()
        not_axonal = ((g["amp_frac"] >= 1.0) | (g["dl"] > dm["axonal_distal_latency_max_fraction_of_uln"]
                                                  * g["dl_uln"])).fillna(False).to_numpy()
        at_site = g["stim_site"].eq(g["nerve"].map(site_of)) | g["stim_site"].isna()
        is_distal = g["nerve"].isin(ent_nerves).to_numpy() & prolonged & not_axonal & at_site.to_numpy()
        g.loc[is_distal, "focal_site"] = g.loc[is_distal, "nerve"].map(site_of)
    else:
        is_distal = np.zeros(len(g), dtype=bool)
    g["distal_focal"] = is_distal
    g["dl_demyel_raw"] = dl_demyel.to_numpy()
    g["dl_demyel"] = dl_demyel.to_numpy() & ~is_distal
    g["f_demyel"] = f_demyel.to_numpy()
    return g


#: each finding of a motor recording that has sites of its own, and the nerves columns that hold
#: them: one entry per site, joined by :data:`SITE_SEPARATOR`, distal first (the site, its rank
#: on the nerve's axis, then its values by their :func:`focal_sites` names)
SITE_COLUMNS = {
    "conduction_block": {"site": "block_site", "rank": "block_rank", "ratio": "block_ratio",
                         "distal_mv": "block_distal_amplitude_mv",
                         "proximal_mv": "block_proximal_amplitude_mv"},
    "focal_slowing": {"site": "slowing_site", "rank": "slowing_rank",
                      "velocity": "segment_velocity_m_s",
                      "adjacent_velocity": "adjacent_velocity_m_s"},
}
SITE_SEPARATOR = "|"
_EVENT_COLUMNS = ["_rec", "seq", "code", "site", "rank", "ratio", "distal_mv", "proximal_mv",
                  "velocity", "adjacent_velocity"]


def _segment_blocks(seg: pd.DataFrame, cb_rules: dict) -> pd.DataFrame:
    """Every conduction block of each recording, one row each (:data:`_EVENT_COLUMNS`).

    The segments are walked distal first. A segment is blocked when its proximal CMAP has
    fallen to the block ratio of the CMAP that reached it: the distal one, or above a block the
    CMAP that block left (sites above a block that keep its fallen CMAP repeat that block
    rather than show another; a further fall to the ratio of it is a second block), and that
    CMAP is not below the minimum for assessing block. A block is named and ranked where the
    data put it (spec §4.1): named and ranked at the entrapment site its segment crosses (or
    ends or starts at), so that a muscle whose branch leaves above the site is not one the
    named lesion accounts for; else named by the segment's two sites and ranked at its
    proximal end (it can lie anywhere in the segment). One round per site position: a fixed,
    small number of whole-table steps."""
    s = seg.sort_values(["_rec", "seq", "across"], ascending=[True, True, False]
                        ).drop_duplicates(["_rec", "seq"])
    assessed = (~s["nerve"].isin(cb_rules["excluded_nerves"])
                & ~s["amplitude_mv_nr"].fillna(False).astype(bool))
    reaching = s.groupby("_rec")["distal_amplitude_mv"].first().astype(float)
    found = []
    for position in range(1, int(s["seq"].max()) + 1 if len(s) else 1):
        at = s[s["seq"].eq(position)]
        ref = at["_rec"].map(reaching)
        ratio = at["amplitude_mv"] / ref
        block = ((ratio <= cb_rules["max_proximal_distal_ratio"])
                 & (ref >= cb_rules["min_distal_fraction_of_lln"] * at["amp_lln"])
                 & assessed[at.index]).fillna(False).astype(bool)
        hit = at[block]
        found.append(pd.DataFrame({
            "_rec": hit["_rec"], "seq": hit["seq"], "code": "conduction_block",
            "site": np.where(hit["across"], hit["ent_site"],
                             hit["prev_site"].astype(str) + "–" + hit["stim_site"].astype(str)),
            "rank": np.where(hit["across"], hit["ent_rank"], hit["site_rank"]),
            "ratio": ratio[block], "distal_mv": ref[block],
            "proximal_mv": hit["amplitude_mv"]}))
        reaching.loc[hit["_rec"].to_numpy()] = hit["amplitude_mv"].to_numpy(dtype=float)
    found = [f for f in found if len(f)]
    return (pd.concat(found, ignore_index=True).reindex(columns=_EVENT_COLUMNS) if found
            else pd.DataFrame(columns=_EVENT_COLUMNS))


def _segment_slowings(seg: pd.DataFrame) -> pd.DataFrame:
    """Every focal slowing across an entrapment site of each recording (``seg["focal"]``),
    one row per site crossed, named and ranked at that site (:data:`_EVENT_COLUMNS`)."""
    slow = seg[seg["focal"]].sort_values("seq").drop_duplicates(["_rec", "ent_site"])
    return pd.DataFrame({
        "_rec": slow["_rec"], "seq": slow["seq"], "code": "focal_slowing",
        "site": slow["ent_site"], "rank": slow["ent_rank"], "velocity": slow["velocity_m_s"],
        "adjacent_velocity": slow["prev_velocity_m_s"]}).reindex(columns=_EVENT_COLUMNS)


def _segment_findings(g: pd.DataFrame, seq: pd.DataFrame, values: pd.DataFrame, anatomy: Anatomy,
                      rules: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Conduction block, slowing and focal slowing across entrapment sites, per recording:
    ``g`` with ``cb`` and ``cv_demyel``, and the blocks and focal slowings, one row each
    (:data:`_EVENT_COLUMNS`)."""
    keys = _KEYS
    dm, cb_rules = rules["demyelination"], rules["conduction_block"]
    seg = seq[seq["seq"] > 0].copy() if len(seq) else seq
    g["cb"] = False
    g["cv_demyel"] = False
    events = pd.DataFrame(columns=_EVENT_COLUMNS)
    if len(seg):
        seg = seg.merge(g[["_rec", "amp_lln", "amp_frac"]], on="_rec", how="left")
        ent = pd.DataFrame(rules.get("entrapment", []))
        site_rank = anatomy.sites.set_index(["nerve", "site"])["site_rank"]
        if len(ent):
            ent["ent_rank"] = site_rank.reindex(pd.MultiIndex.from_frame(ent[["nerve", "site"]])).to_numpy()
            seg = seg.merge(ent[["nerve", "site", "ent_rank", "min_velocity_m_s",
                                 "max_velocity_drop_m_s"]].rename(columns={"site": "ent_site"}),
                            on="nerve", how="left")
            # a segment crosses the site when it runs from distal to proximal of it, or ends or
            # starts at it (inching: a stimulation point at the medial epicondyle or the
            # fibular head is the site itself, nerve_sites.csv)
            across = ((seg["prev_site_rank"] > seg["site_rank"])
                      & (seg["prev_site_rank"] >= seg["ent_rank"])
                      & (seg["site_rank"] <= seg["ent_rank"]))
        else:
            seg["ent_site"] = None
            seg["ent_rank"] = np.nan
            across = pd.Series(False, index=seg.index)
        seg["across"] = across.fillna(False)
        vel_lim = values[(values["study"] == "motor") & (values["parameter"] == "velocity_m_s")]
        # a velocity's limit, by its row in the motor sheet (which names the recording)
        seg = seg.merge(vel_lim[["row", "limit"]].rename(
            columns={"row": "_row", "limit": "cv_lln"}), on="_row", how="left")
        # spec §4.1: slowing is focal only when localised to the segment — below the site's
        # floor (the nerve's own lower limit where the rule gives none) AND clearly slower than
        # the adjacent distal segment; uniform slowing is axon loss or a diffuse process
        floor = seg["min_velocity_m_s"].where(seg["min_velocity_m_s"].notna(), seg["cv_lln"])
        slow_abs = (seg["velocity_m_s"] < floor).fillna(False)
        drop = ((seg["prev_velocity_m_s"] - seg["velocity_m_s"]) > seg["max_velocity_drop_m_s"]).fillna(False)
        pres = seg["amp_frac"] >= dm["cmap_preserved_fraction_of_lln"]
        cv_thr = np.where(pres, dm["velocity_fraction_of_lln_preserved"],
                          dm["velocity_fraction_of_lln_reduced"])
        # slowing across the site is focal only when the segment below it is not itself slowed
        # into the demyelinating range (uniform slowing is a diffuse process)
        distal_ok = ~(seg["prev_velocity_m_s"] < cv_thr * seg["cv_lln"]).fillna(False)
        seg["focal"] = seg["across"] & slow_abs & drop & distal_ok
        # every segment slowed into the demyelinating range is demyelinating-range change
        # unless it is focal slowing at its site: a segment across a site that cannot be
        # compared with an adjacent one (spec §4.1) is still seen, not localised
        seg["cv_demyel"] = ((seg["velocity_m_s"] < cv_thr * seg["cv_lln"]).fillna(False)
                            & ~seg["focal"])
        # per recording; a recording with a missing key (no recording site) has none
        seg = seg[seg[keys].notna().all(axis=1).to_numpy()]
        events = pd.concat([e for e in (_segment_blocks(seg, cb_rules), _segment_slowings(seg))
                            if len(e)] or [events], ignore_index=True)
        g["cb"] = g["_rec"].isin(events.loc[events["code"].eq("conduction_block"), "_rec"])
        g["cv_demyel"] = g["_rec"].isin(seg.loc[seg["cv_demyel"], "_rec"])
        # a prolonged distal latency in a nerve whose forearm/leg conduction is slowed into the
        # demyelinating range is part of a diffuse process, not focal slowing at the wrist
        diffuse = g["distal_focal"] & g["cv_demyel"]
        g.loc[diffuse, "focal_site"] = None
        g.loc[diffuse, "dl_demyel"] = g.loc[diffuse, "dl_demyel_raw"]
    return g, events


def _site_number(values: pd.Series) -> pd.Series:
    """Numbers as the text of a site list entry, as a CSV file writes a number: their shortest
    exact form, a whole number without its ``.0``, empty where none."""
    text = [repr(float(v)).removesuffix(".0") if pd.notna(v) else "" for v in values]
    return pd.Series(text, index=values.index, dtype=object)


def _site_lists(events: pd.DataFrame) -> pd.DataFrame:
    """The nerves columns of :data:`SITE_COLUMNS`, by recording (``_rec``): each finding's
    sites and values joined by :data:`SITE_SEPARATOR`, distal first; a value column none of
    whose sites has a value is missing."""
    out = []
    for code, columns in SITE_COLUMNS.items():
        sub = events[events["code"].eq(code)].sort_values(["_rec", "seq"], kind="stable")
        if not len(sub):
            continue
        for name, column in columns.items():
            text = sub[name].astype(object) if name == "site" else _site_number(sub[name])
            joined = sub.assign(_t=text).groupby("_rec", sort=False)["_t"].agg(SITE_SEPARATOR.join)
            empty = joined.str.replace(SITE_SEPARATOR, "", regex=False).eq("")
            out.append(joined.where(~empty).rename(column))
    return pd.concat(out, axis=1) if out else pd.DataFrame()


def _motor_flags(g: pd.DataFrame, events: pd.DataFrame, values: pd.DataFrame, anatomy: Anatomy,
                 rules: dict) -> pd.DataFrame:
    """Sites, lesion site and rank, demyelinating, axonal, proximal (F-wave), facial and
    abnormal."""
    nkeys, keys = _NKEYS, _KEYS
    dm = rules["demyelination"]
    dist_rank = anatomy.sites.set_index(["nerve", "site"])["site_rank"]
    # focal slowing at a distal entrapment site (the wrist) is a site of its own, below every
    # segment of the recording
    distal = g[g["focal_site"].notna()]
    distal_events = pd.DataFrame({
        "_rec": distal["_rec"], "seq": 0, "code": "focal_slowing", "site": distal["focal_site"],
        "rank": dist_rank.reindex(pd.MultiIndex.from_arrays(
            [distal["nerve"], distal["focal_site"]])).to_numpy()}).reindex(columns=_EVENT_COLUMNS)
    events = pd.concat([e for e in (distal_events, events) if len(e)] or [events],
                       ignore_index=True)
    events["rank"] = pd.to_numeric(events["rank"], errors="coerce")
    lists = _site_lists(events)
    for column in (c for columns in SITE_COLUMNS.values() for c in columns.values()):
        g[column] = (g["_rec"].map(lists[column]) if column in lists
                     else pd.Series(np.nan, index=g.index)).astype(object)
    # every block and focal slowing is a finding at its own site; the lesion from which the
    # nerve is affected is the most proximal site (a block where they tie; a site without a
    # rank is the least proximal)
    first = events.assign(_unranked=events["rank"].isna(),
                          _slowing=events["code"].eq("focal_slowing")).sort_values(
        ["_unranked", "rank", "_slowing", "seq"], kind="stable").drop_duplicates("_rec")
    first = first.set_index("_rec")
    g["lesion_site"] = g["_rec"].map(first["site"]).astype(object)
    g["lesion_rank"] = pd.to_numeric(g["_rec"].map(first["rank"]), errors="coerce")
    g["demyelinating"] = g["dl_demyel"] | g["f_demyel"] | g["cv_demyel"]
    # F-waves prolonged (or absent with a preserved CMAP) while distal conduction is normal:
    # evidence of proximal (root-level) slowing, judged per patient by classify (spec §4.1)
    f_absent = g["f_nr"].fillna(False).astype(bool) & (g["amp_frac"] >= dm["cmap_preserved_fraction_of_lln"]).fillna(False)
    distal_normal = ~(g["dl"] > g["dl_uln"]).fillna(False) & ~g["cv_demyel"] & ~g["cb"] & ~g["amp_nr"]
    g["f_proximal"] = (g["f_demyel"] | f_absent) & distal_normal
    side_low = values[values["parameter"].eq("amplitude_side_ratio") & values["abnormal"]][nkeys]
    side_low = side_low.drop_duplicates().assign(side_ratio_low=True)
    g = g.merge(side_low, on=nkeys, how="left")
    g["side_ratio_low"] = g["side_ratio_low"].fillna(False).astype(bool)
    g["conduction_block"] = g["cb"]
    g["focal_slowing"] = g["_rec"].isin(events.loc[events["code"].eq("focal_slowing"), "_rec"])
    g["axonal"] = ((g["amp_frac"] < 1.0) | g["amp_nr"] | g["side_ratio_low"]).fillna(False) & ~g["demyelinating"]
    cranial = g["nerve"].eq("facial")
    facial_abn = _facial_abnormal(values)
    g = g.merge(facial_abn, on=nkeys, how="left")
    g["facial_abnormal"] = g["facial_abnormal"].fillna(False).astype(bool) & cranial
    if g["nerve"].eq("facial").any():
        g.loc[g["facial_abnormal"] & g["lesion_site"].isna(), "lesion_site"] = "stylomastoid"
        g.loc[g["facial_abnormal"], "lesion_rank"] = dist_rank.get(("facial", "stylomastoid"), 0.0)
    g["qualifies"] = (g["demyelinating"] | g["conduction_block"] | g["focal_slowing"]
                      | g["facial_abnormal"])
    # a value flagged abnormal anywhere in the nerve (including a low CMAP)
    flagged = values[values["abnormal"]]
    motor_flag = flagged[flagged["study"].eq("motor")][keys].drop_duplicates().assign(flag_motor=True)
    f_flag = flagged[flagged["study"].eq("f_wave")][nkeys].drop_duplicates().assign(flag_f=True)
    g = g.merge(motor_flag, on=keys, how="left").merge(f_flag, on=nkeys, how="left")
    g["flag_any"] = g["flag_motor"].fillna(False).astype(bool) | g["flag_f"].fillna(False).astype(bool)
    g["abnormal"] = g["flag_any"].fillna(False).astype(bool) | g["qualifies"] | g["side_ratio_low"]
    return g


#: the English words of every nerve reading code: table ``nerve_readings`` of
#: ``data/labels_en.toml``, whose other languages' files give the same codes their words
_NERVE_WORDS = english_words("nerve_readings")

#: The parts of a motor recording's reading, in the order they are written, each the code of
#: a flag of :func:`motor_reading_parts`, with its English words (the ``reading`` column's).
MOTOR_READING_PARTS = {code: _NERVE_WORDS[code] for code in (
    "absent", "conduction_block", "focal_slowing", "demyelinating", "f_proximal", "axonal",
    "side_ratio_low")}

#: The reading of a motor recording none of whose :data:`MOTOR_READING_PARTS` holds, by code
#: (decided by :func:`motor_reading_fallback`), with its English words.
MOTOR_READING_FALLBACKS = {code: _NERVE_WORDS[code]
                           for code in ("facial_abnormal", "borderline", "not_interpreted",
                                        "normal")}

#: Each sensory recording's reading code (decided by :func:`sensory_reading_codes`), with its
#: English words.
SENSORY_READINGS = {code: _NERVE_WORDS[code]
                    for code in ("absent", "low_and_slowed", "low", "slowed", "not_interpreted",
                                 "normal")}

#: Each blink-reflex ``blink_pattern``, with its English words.
BLINK_READINGS = {code: _NERVE_WORDS[code] for code in (
    "efferent", "afferent", "efferent_mirror", "pontine", "medullary", "unclassified",
    "normal")}


#: How the words of a nerve reading are put together, in English; a report in another language
#: gives its own (table ``nerve_readings``, with the same ``{fields}``): ``join`` between the
#: parts of a motor reading, and between the sites of one part; ``at_site`` after a conduction
#: block or focal slowing (``{site}``: one site of :func:`focal_sites`, a site or a segment);
#: ``block_cmap`` after a conduction block (``{distal_mv}`` and ``{proximal_mv}``: the CMAP
#: that reached the block and the one above it; ``{percent}``: the block's ratio in per cent).
READING_FORMS = {code: _NERVE_WORDS[code] for code in ("join", "at_site", "block_cmap")}

#: Every English word of :func:`compose_nerve_readings`, by code (the default ``words``).
NERVE_READING_WORDS = {**MOTOR_READING_PARTS, **MOTOR_READING_FALLBACKS, **SENSORY_READINGS,
                       **BLINK_READINGS, **READING_FORMS}


def compose_nerve_readings(nerves: pd.DataFrame, words: Mapping[str, str] | None = None,
                           site_names: Mapping[str, str] | pd.Series | None = None) -> pd.Series:
    """Each nerve recording's reading in words, composed from its typed columns only.

    This is the one composition of a nerve reading: ``read_nerves`` writes the ``reading``
    column with it (English) and the report writes its readings with it in the report's
    language, so that the two cannot say different things.

    Parameters
    ----------
    nerves : DataFrame
        Rows of :func:`read_nerves` (column ``study``; motor rows read the flags of
        :func:`motor_reading_parts`, ``facial_abnormal``, ``abnormal`` and the sites of
        :func:`focal_sites`; sensory rows ``absent``, ``low_amplitude`` and ``slowed``;
        blink-reflex rows ``blink_pattern``). A missing column reads as false or blank.
    words : mapping, optional
        The words of every code of :data:`NERVE_READING_WORDS` (default: those, in English).
    site_names : mapping or Series, optional
        Site ids to words; a site it does not name, and every site by default, is written with
        its underscores as spaces. A segment (``below_elbow–above_elbow``) is named site by
        site.

    Returns
    -------
    Series of str
        Motor: the parts that hold, joined in the order of :data:`MOTOR_READING_PARTS`, each
        conduction block followed by its site and its CMAPs (the one that reached it and the
        one above it, mV, and the latter in per cent of the former), each focal slowing by its
        own site, distal first; where no part holds, the code of
        :func:`motor_reading_fallback`. Sensory: the code of
        :func:`sensory_reading_codes`. Blink reflex: its ``blink_pattern`` (``normal`` where
        blank).
    """
    w = NERVE_READING_WORDS if words is None else words
    idx = nerves.index
    study = nerves["study"].astype(str)
    blank = pd.Series(np.nan, index=idx)

    sites = focal_sites(nerves)
    shown = sites[["ratio", "distal_mv", "proximal_mv"]].notna().all(axis=1)
    cmap = fill(w["block_cmap"], sites.index,
                distal_mv=_formatted(sites.loc[shown, "distal_mv"], "{:g}"),
                proximal_mv=_formatted(sites.loc[shown, "proximal_mv"], "{:g}"),
                percent=_formatted((100 * sites.loc[shown, "ratio"]).round(0), "{:.0f}"))
    phrase = (sites["code"].map(w).astype(object)
              + fill(w["at_site"], sites.index, site=site_words(sites["site"], site_names))
              + cmap.where(shown & sites["code"].eq("conduction_block"), ""))
    parts = motor_reading_parts(nerves)
    after = {}
    for code in SITE_COLUMNS:
        of_code = sites["code"].eq(code)
        joined = group_join(sites.loc[of_code, "row"], phrase[of_code], sep=w["join"])
        after[code] = idx.to_series().map(joined).astype(object).to_numpy()
    texts = [np.where(parts[code], pd.Series(after[code]).fillna(w[code]).to_numpy()
                      if code in after else w[code], "") for code in parts.columns]
    motor = pd.Series(join_nonempty(texts, sep=w["join"]), index=idx, dtype=object)
    motor = motor.where(motor != "", motor_reading_fallback(nerves).map(w))
    sensory = sensory_reading_codes(nerves).map(w)
    pattern = nerves["blink_pattern"].astype(object) if "blink_pattern" in nerves else blank
    blink = pattern.astype(object).map(w).astype(object).fillna(w["normal"])
    text = np.select([study.eq("sensory"), study.eq("blink")], [sensory, blink], motor)
    return pd.Series(text, index=idx, dtype=object)


def _site_entries(column: pd.Series) -> pd.DataFrame:
    """A site list column split into its entries: ``row`` (the index label), ``order`` (0 for
    the first) and ``entry`` (text; a number kept as a number, in a table read back, is a
    one-entry list)."""
    text = column.astype(object).where(column.notna(), "").astype(str)
    entries = text.str.split(SITE_SEPARATOR, regex=False).explode()
    return pd.DataFrame({"row": entries.index, "order": entries.groupby(level=0).cumcount().to_numpy(),
                         "entry": entries.to_numpy()})


def focal_sites(nerves: pd.DataFrame) -> pd.DataFrame:
    """Every conduction block and every focal slowing of the motor recordings, one row each.

    Parameters
    ----------
    nerves : DataFrame
        Rows of :func:`read_nerves`: the flags ``conduction_block`` and ``focal_slowing`` and
        the site lists of :data:`SITE_COLUMNS`. A flagged recording without its site list (a
        table written before them) gives one site, its ``lesion_site`` and ``lesion_rank``.

    Returns
    -------
    DataFrame
        ``row`` (the index label of the recording in ``nerves``), ``code``
        (``conduction_block`` or ``focal_slowing``), ``order`` (0 for the most distal site of
        the finding), ``site`` (a site or a segment ``wrist–below_elbow``), ``rank`` (on the
        nerve's axis: smaller is more proximal), ``ratio``, ``distal_mv`` and ``proximal_mv``
        (a block's CMAP ratio, mV), ``velocity`` and ``adjacent_velocity`` (a focal slowing's
        segment and the adjacent distal one, m/s); missing where a site has none. Ordered by
        recording, finding and site, distal first.
    """
    out = []
    for code, columns in SITE_COLUMNS.items():
        flagged = nerves[_flag(nerves, code)]
        site = text_column(flagged, columns["site"])
        own = flagged[site.notna()]
        if len(own):
            found = _site_entries(own[columns["site"]]).rename(columns={"entry": "site"})
            for name, column in columns.items():
                if name == "site" or column not in own:
                    continue
                values = _site_entries(own[column]).rename(columns={"entry": name})
                found = found.merge(values, on=["row", "order"], how="left")
            out.append(found.assign(code=code))
        legacy = flagged[site.isna()]
        if len(legacy):
            found = pd.DataFrame({"row": legacy.index, "order": 0,
                                  "site": text_column(legacy, "lesion_site").to_numpy()})
            for name, column in {**columns, "site": "lesion_site", "rank": "lesion_rank"}.items():
                if name != "site" and column in legacy:
                    found[name] = legacy[column].to_numpy()
            out.append(found[found["site"].notna()].assign(code=code))
    numbers = ["rank", "ratio", "distal_mv", "proximal_mv", "velocity", "adjacent_velocity"]
    if not out:
        return pd.DataFrame(columns=["row", "code", "order", "site"] + numbers)
    sites = pd.concat(out, ignore_index=True).reindex(
        columns=["row", "code", "order", "site"] + numbers)
    for name in numbers:
        sites[name] = pd.to_numeric(sites[name].replace("", np.nan), errors="coerce")
    position = pd.Series(np.arange(len(nerves)), index=nerves.index)
    sites = sites.assign(_at=sites["row"].map(position)).sort_values(
        ["_at", "code", "order"], kind="stable").drop(columns="_at")
    return sites.reset_index(drop=True)


def _formatted(values: pd.Series, form: str) -> pd.Series:
    """Numbers as text in ``form`` (a Series of text, empty where there are none)."""
    return pd.Series([form.format(v) for v in values], index=values.index, dtype=object)


def site_words(sites: pd.Series, names: Mapping[str, str] | pd.Series | None) -> pd.Series:
    """Lesion sites (``wrist``, or a segment ``below_elbow–above_elbow``) in words, site by
    site; a site ``names`` lacks with its underscores as spaces."""
    text = sites.astype(object).where(sites.notna(), "").astype(str).reset_index(drop=True)
    flat = text.str.split("–").explode()
    shown = flat.str.replace("_", " ")
    if names is not None:
        shown = flat.map(names).fillna(shown)
    joined = shown.groupby(level=0).agg("–".join).reindex(text.index).fillna("")
    return pd.Series(joined.to_numpy(), index=sites.index, dtype=object)


def motor_reading_parts(nerves: pd.DataFrame) -> pd.DataFrame:
    """Which parts of :data:`MOTOR_READING_PARTS` each motor recording's reading holds (one
    boolean column per code, in their order), from its typed flags: a demyelinating-range
    change is written only where the F-wave alone is not the proximal finding."""
    parts = pd.DataFrame({code: _flag(nerves, code) for code in MOTOR_READING_PARTS},
                         index=nerves.index)
    parts["demyelinating"] &= ~parts["f_proximal"]
    return parts


def motor_reading_fallback(nerves: pd.DataFrame) -> pd.Series:
    """Each motor recording's reading as a code of :data:`MOTOR_READING_FALLBACKS`, the one
    written where none of its :func:`motor_reading_parts` holds: ``facial_abnormal`` where
    interpret's typed ``facial_abnormal`` flag is set (a facial nerve value flagged abnormal,
    which makes the reading a cranial neuropathy), ``borderline`` where the recording is
    otherwise ``abnormal``, ``not_interpreted`` where no value of the study had a reference
    limit (:func:`uninterpreted_studies`), else ``normal``."""
    code = np.select([_flag(nerves, "facial_abnormal"), _flag(nerves, "abnormal"),
                      _flag(nerves, "not_interpreted")],
                     ["facial_abnormal", "borderline", "not_interpreted"], "normal")
    return pd.Series(code, index=nerves.index, dtype=object)


def sensory_reading_codes(nerves: pd.DataFrame) -> pd.Series:
    """Each sensory recording's reading as a code of :data:`SENSORY_READINGS`, from its typed
    flags (``absent``, ``low_amplitude``, ``slowed``, ``not_interpreted``)."""
    low, slowed = _flag(nerves, "low_amplitude"), _flag(nerves, "slowed")
    code = np.select([_flag(nerves, "absent"), low & slowed, low, slowed,
                      _flag(nerves, "not_interpreted")],
                     ["absent", "low_and_slowed", "low", "slowed", "not_interpreted"], "normal")
    return pd.Series(code, index=nerves.index, dtype=object)


def _facial_abnormal(values: pd.DataFrame) -> pd.DataFrame:
    sub = values[(values["nerve"] == "facial") & values["abnormal"]]
    out = sub[["patient_id", "nerve", "side"]].drop_duplicates()
    out["facial_abnormal"] = True
    return out


def _read_sensory(values: pd.DataFrame, rules: dict) -> pd.DataFrame:
    s = values[values["study"] == "sensory"]
    if not len(s):
        return pd.DataFrame()
    keys = ["patient_id", "nerve", "side"]
    flags = s.assign(
        absent=s["no_response"],
        low=s["parameter"].eq("amplitude_uv") & s["flag"].eq("low"),
        slow=(s["parameter"].eq("latency_ms") & s["flag"].eq("high"))
        | (s["parameter"].eq("velocity_m_s") & s["flag"].eq("low")),
        frac=np.where(s["parameter"].eq("amplitude_uv"),
                      np.where(s["no_response"], 0.0, s["value"] / s["limit"]), np.nan),
        amp=np.where(s["parameter"].eq("amplitude_uv"),
                     np.where(s["no_response"], 0.0, s["value"]), np.nan),
    )
    g = flags.groupby(keys, sort=False).agg(
        absent=("absent", "any"), low=("low", "any"), slow=("slow", "any"),
        abnormal=("abnormal", "any"), frac=("frac", "min"), amplitude_uv=("amp", "min")
    ).reset_index()
    g["study"] = "sensory"
    g["axonal"] = g["low"] | g["absent"]
    g["qualifies"] = g["abnormal"]
    g["demyelinating"] = False
    g["conduction_block"] = False
    g["focal_slowing"] = False
    g["distal_amplitude_fraction_of_lln"] = g["frac"].round(3)
    g["low_amplitude"] = g["low"]
    g["slowed"] = g["slow"]
    # a slowed SNAP across a distal entrapment site (median at the wrist) localises the lesion
    # there: the recorded segment is the one that crosses it (rules: sensory_entrapment)
    ent = pd.DataFrame(rules.get("sensory_entrapment", []), columns=["nerve", "site"])
    site = g["nerve"].map(dict(zip(ent["nerve"], ent["site"])))
    at_site = g["slow"] & site.notna()
    g["lesion_site"] = site.where(at_site, None)
    g["lesion_nerve"] = g["nerve"].where(at_site, None)
    return g


#: the blink-reflex values (flag_values): each latency, and the differences between them
_BLINK_PARAMETERS = ("r1_ms", "r2_ipsi_ms", "r2_contra_ms", "r1_side_diff_ms",
                     "r2_ipsi_side_diff_ms", "r2_contra_side_diff_ms", "r2_ipsi_contra_diff_ms")


def _read_blink(values: pd.DataFrame) -> pd.DataFrame:
    b = values[values["study"] == "blink"]
    if not len(b):
        return pd.DataFrame()
    wide = b.pivot_table(index=["patient_id", "side"], columns="parameter", values="abnormal",
                         aggfunc="any").fillna(False)
    for col in _BLINK_PARAMETERS:
        if col not in wide:
            wide[col] = False
    wide = wide.astype(bool).reset_index()
    other = wide[["patient_id", "side", "r2_contra_ms"]].assign(
        side=wide["side"].map({"L": "R", "R": "L"})).rename(columns={"r2_contra_ms": "other_r2c"})
    wide = wide.merge(other, on=["patient_id", "side"], how="left")
    other_stim = wide[["patient_id", "side", "r2_ipsi_ms"]].assign(
        other_r1=wide["r1_ms"] | wide["r1_side_diff_ms"],
        side=wide["side"].map({"L": "R", "R": "L"})).rename(columns={"r2_ipsi_ms": "other_r2i"})
    wide = wide.merge(other_stim, on=["patient_id", "side"], how="left")
    wide[["other_r2c", "other_r1", "other_r2i"]] = wide[["other_r2c", "other_r1", "other_r2i"]].fillna(False).astype(bool)
    # R1 is delayed when beyond its limit or beyond the side-difference limit against the other
    # side (the difference is flagged on the slower side): a unilateral R1 delay within the
    # absolute limit is still a delay of that side's R1
    r1 = wide["r1_ms"] | wide["r1_side_diff_ms"]
    r2i, r2c = wide["r2_ipsi_ms"], wide["r2_contra_ms"]
    any_abn = wide[list(_BLINK_PARAMETERS)].any(axis=1)
    # efferent (facial) on side S: stimulating S, ipsilateral R1 and R2 abnormal with a normal
    # contralateral R2; stimulating the other side, its contralateral R2 (recorded on S) abnormal
    # (spec §4.1: "ipsilateral R1 and R2 affected from either side"); with R1 normal, the R2
    # recorded on S delayed from both sides is the medullary pattern, not a facial neuropathy
    efferent = r1 & r2i & ~r2c & wide["other_r2c"]
    afferent = r1 & r2i & r2c & ~wide["other_r1"] & ~wide["other_r2i"]
    pontine = r1 & ~r2i & ~r2c
    # stimulating the healthy side of an efferent lesion: only the R2 recorded on the affected
    # side is abnormal; that is the other side's facial lesion, not a second one
    eff_other = efferent.groupby(wide["patient_id"]).transform("sum") - efferent.astype(int)
    mirror = ~r1 & ~r2i & r2c & (eff_other > 0)
    # spec §4.1: only afferent and efferent patterns localise to a nerve; pontine (isolated R1)
    # and medullary (R1 preserved, R2 abnormal) patterns are central, not a neuropathy
    medullary = ~r1 & (r2i | r2c) & ~mirror
    pattern = np.select([efferent, afferent, mirror, pontine, medullary, any_abn],
                        ["efferent", "afferent", "efferent_mirror", "pontine", "medullary",
                         "unclassified"], "normal")
    wide["blink_pattern"] = pattern
    wide["nerve"] = np.where(efferent, "facial", np.where(afferent, "trigeminal", "blink_reflex"))
    wide["study"] = "blink"
    wide["abnormal"] = any_abn
    wide["qualifies"] = efferent | afferent
    wide["axonal"] = False
    wide["absent"] = False
    wide["demyelinating"] = False
    wide["conduction_block"] = False
    wide["focal_slowing"] = False
    wide["lesion_site"] = np.where(efferent, "stylomastoid", None)
    # flagged text is stored under nerve 'blink_reflex'; keep nerve for lesion logic separately
    wide["lesion_nerve"] = np.where(efferent, "facial", None)
    wide["nerve"] = "blink_reflex"
    wide["lesion_nerve"] = np.where(efferent, "facial", np.where(afferent, "trigeminal", None))
    out = wide[["patient_id", "study", "nerve", "side", "abnormal", "qualifies", "axonal",
                "absent", "demyelinating", "conduction_block", "focal_slowing", "lesion_site",
                "lesion_nerve", "blink_pattern"]]
    return out
