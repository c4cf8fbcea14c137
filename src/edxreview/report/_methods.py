"""Methods text generated from what ran: versions, reference tables, rules, CI method."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from ..cohort._summary import MEASURE_LABELS
from ..knowledge import ReferenceSet, load_reference, load_rules
from ..knowledge._reference import STATUSES
from ..knowledge._tables import read_table

#: Citations of the project's own documents: not sources a reader can look up.
_INTERNAL = re.compile(r"^\s*(edx-knowledge|edxreview\b)", re.IGNORECASE)


def _pct(fraction: float) -> str:
    return f"{100 * fraction:g} %"


def describe_rules(rules: Mapping[str, Any] | None = None,
                   reference: ReferenceSet | None = None) -> list[dict[str, str]]:
    """The interpretation rules in words, each with its thresholds and cited sources.

    Parameters
    ----------
    rules : Rules, optional
        As returned by :func:`edxreview.knowledge.load_rules` (loaded when omitted).
    reference : ReferenceSet, optional
        The limits used (for the side-to-side fractions); the bundled set when omitted.

    Returns
    -------
    list of dict
        ``topic``, ``text`` and ``sources`` (citations joined by "; ").
    """
    r = rules or load_rules()
    cite = _citer(r.get("sources", {}))
    return (_nerve_rules(r, cite) + _entrapment_rules(r, cite) + _side_rule(reference)
            + _pattern_rules(r, cite))


def _citer(sources: Mapping[str, Any]) -> Callable[[dict[str, Any]], str]:
    """A function that cites a rules section from its ``source`` keys."""
    def cite(section: dict[str, Any]) -> str:
        keys = str(section.get("source", "")).split("|")
        parts = []
        for k in (k for k in keys if k):
            src = sources.get(k, {})
            if src.get("citation") and not _INTERNAL.match(str(src["citation"])):
                parts.append(str(src["citation"]))
            elif src.get("convention"):
                parts.append("edxreview convention: " + str(src["convention"]))
        if any(keys) and not parts:
            return "edxreview convention (no published threshold)"
        return "; ".join(parts)
    return cite


def _nerve_rules(r: Mapping[str, Any],
                 cite: Callable[[dict[str, Any]], str]) -> list[dict[str, str]]:
    """Needle EMG, demyelination and conduction block."""
    out = []
    e = r.get("emg", {})
    if e:
        out.append({"topic": "Needle EMG", "text": (
            f"A muscle shows acute denervation when fibrillation potentials or positive sharp "
            f"waves are graded {e['acute_min_grade']:g}+ or more, and chronic denervation "
            f"(reinnervation) when MUAP duration or amplitude is increased, read qualitatively "
            f"or from a quantitative mean: a mean is judged only against a verified (or the "
            f"laboratory's own) reference row of the muscle and age, above its upper limit "
            f"counting as increased and a duration below its lower limit as myopathic; either "
            f"reading is enough. Means with no such row are kept and not judged."),
            "sources": cite(e)})
    d = r.get("demyelination", {})
    if d:
        out.append({"topic": "Demyelination", "text": (
            f"A motor nerve is read as demyelinating when conduction velocity is below "
            f"{_pct(d['velocity_fraction_of_lln_preserved'])} of the lower limit with a CMAP of "
            f"at least {_pct(d['cmap_preserved_fraction_of_lln'])} of the lower limit (below "
            f"{_pct(d['velocity_fraction_of_lln_reduced'])} when the CMAP is lower), or distal "
            f"latency above {_pct(d['distal_latency_fraction_of_uln_preserved'])} "
            f"({_pct(d['distal_latency_fraction_of_uln_reduced'])}) of the upper limit, or F-wave "
            f"latency above {_pct(d['f_latency_fraction_of_uln_preserved'])} "
            f"({_pct(d['f_latency_fraction_of_uln_reduced'])}); axonal loss when the CMAP is low "
            f"and distal latency stays within "
            f"{_pct(d['axonal_distal_latency_max_fraction_of_uln'])} of the upper limit."),
            "sources": cite(d)})
    c = r.get("conduction_block", {})
    if c:
        out.append({"topic": "Conduction block", "text": (
            f"Conduction block: proximal/distal CMAP amplitude ratio below "
            f"{c['max_proximal_distal_ratio']:g} with a distal CMAP of at least "
            f"{_pct(c['min_distal_fraction_of_lln'])} of the lower limit; not assessed in "
            f"{', '.join(c.get('excluded_nerves', [])) or 'no'} nerve. Every segment whose CMAP "
            f"falls to that ratio of the CMAP that reached it (the distal one, or above a block "
            f"the one that block left) is a block at its own site."), "sources": cite(c)})
    return out


def _entrapment_rules(r: Mapping[str, Any],
                      cite: Callable[[dict[str, Any]], str]) -> list[dict[str, str]]:
    """The entrapment sites: segment slowing, distal latency, sensory responses."""
    out = []
    for ent in r.get("entrapment", []):
        parts = []
        if "max_velocity_drop_m_s" in ent:
            floor = (f"{ent['min_velocity_m_s']:g} m/s" if "min_velocity_m_s" in ent
                     else "the nerve's lower limit")
            parts.append(f"the velocity across the segment is below {floor}")
            parts.append(f"more than {ent['max_velocity_drop_m_s']:g} m/s slower than the "
                         "adjacent distal segment (slowing localised to the segment; uniform "
                         "slowing with a low CMAP is axon loss)")
        site = ent["site"].replace("_", " ")
        text = (f"Focal slowing when {' and '.join(parts)}." if parts else
                f"No velocity criterion; a conduction block in the segment that spans the "
                f"{site} is named at the {site}.")
        out.append({"topic": f"Entrapment: {ent['nerve']} at {site}", "text": text,
                    "sources": cite(ent)})
    for ent in r.get("distal_entrapment", []):
        site = ent["site"].replace("_", " ")
        out.append({"topic": f"Entrapment: {ent['nerve']} at the {site}", "text": (
            f"Focal slowing at the {site} when the distal motor latency is above the upper "
            "limit with a CMAP that axonal loss cannot account for."), "sources": cite(ent)})
    for ent in r.get("sensory_entrapment", []):
        site = ent["site"].replace("_", " ")
        out.append({"topic": f"Entrapment: {ent['nerve']} SNAP at the {site}", "text": (
            f"A slowed {ent['nerve']} SNAP, whose recorded segment crosses the {site}, "
            f"localises the lesion at the {site}."), "sources": cite(ent)})
    return out


def _side_rule(reference: ReferenceSet | None) -> list[dict[str, str]]:
    """The side-to-side amplitude fractions of the reference limits."""
    out = []
    ref = reference if reference is not None else load_reference()
    side = ref.limits[ref.limits["parameter"].eq("amplitude_side_ratio")]
    if len(side):
        which = ", ".join(f"{n.replace('_', ' ')} ({lim:g})" for n, lim in
                          zip(side["nerve"], side["limit"]))
        out.append({"topic": "Side-to-side comparison", "text": (
            f"Where a CMAP is compared with the other side ({which}), one below that fraction "
            "of the other side's is reduced."),
            "sources": "; ".join(dict.fromkeys(
                format_source(ref.meta.get("sources", {}).get(k, {}), k)
                for cell in side["source"].astype(str) for k in cell.split("|") if k))})
    return out


def _pattern_rules(r: Mapping[str, Any],
                   cite: Callable[[dict[str, Any]], str]) -> list[dict[str, str]]:
    """Localisation, sensory age, polyneuropathy, conventions and MRI correspondence."""
    out = []
    loc = r.get("localisation", {})
    if loc:
        out.append({"topic": "Localisation", "text": (
            f"A plexus element is named when SNAPs whose fibres pass through it are low or "
            f"absent (on one side), muscles of at least {loc['plexus_min_nerves']:g} peripheral "
            f"nerves sharing it are denervated, and the muscles supplied above it (root-level "
            f"nerves, paraspinals) are spared. A sensory branch belongs to its parent nerve. "
            f"Prolonged or absent F-waves with normal distal conduction in at least "
            f"{loc['proximal_f_min_nerves']:g} nerves are a proximal (polyradicular) pattern. "
            f"Blink-reflex patterns that are central (pontine, medullary) are not a neuropathy. "
            f"Conduction blocks and focal slowing at several sites of one nerve are a lesion at "
            f"each site (no one site makes findings at another); a muscle is accounted for by "
            f"the most proximal site beyond which it lies."),
            "sources": cite(loc)})
    s = r.get("sensory_age", {})
    if s:
        out.append({"topic": "Sensory responses with age", "text": (
            f"From age {s['age_years']:g} years, low or absent lower-limb sensory responses "
            f"({', '.join(n.replace('_', ' ') for n in s['lower_limb_nerves'])}) are not counted "
            f"as abnormal by themselves unless below {s['max_side_ratio']:g}× the other side."),
            "sources": cite(s)})
    p = r.get("polyneuropathy", {})
    if p:
        out.append({"topic": "Polyneuropathy", "text": (
            f"Polyneuropathy requires at least {p['min_nerves']:g} separate abnormal nerves "
            f"(a nerve on both sides is one) in a "
            f"length-dependent pattern (lower-limb sensory nerves "
            f"{', '.join(n.replace('_', ' ') for n in p['lower_limb_sensory_nerves'])}); "
            f"demyelinating when at least {p['demyelinating_min_nerves']:g} nerves are "
            f"demyelinating. Beside the abnormal sensory responses that make it, a reduced CMAP "
            f"recorded from a muscle in its territory is its motor involvement (sensorimotor). "
            f"It is called length-dependent only when the legs carry its findings at least as "
            f"the arms do, non-length-dependent when the arms carry them and the legs were "
            f"studied and normal, and neither when the legs were not studied. "
            f"Upper-limb SNAPs lost in several different nerves (not only "
            f"those prone to entrapment) with the lower-limb SNAPs spared and motor conduction "
            f"normal are a sensory neuronopathy; the same loss on both arms with no lower-limb "
            f"SNAP studied is one diffuse sensory neuropathy whose length dependence is "
            f"undetermined, not a mononeuropathy of each nerve."), "sources": cite(p)})
    limits, meta = read_table("temperature_limits")
    by_limb = dict(zip(limits["limb"], pd.to_numeric(limits["min_temperature_c"])))
    if by_limb:
        out.append({"topic": "Limb temperature and height", "text": (
            "Responses recorded below their limb's temperature limit ("
            + ", ".join(f"{limb} limb {value:g} °C" for limb, value in by_limb.items())
            + ") are judged as measured, without a correction; the explanation, the patient "
            "page and warnings.csv give the temperature beside the findings. A height-adjusted "
            "limit of a patient whose height is not given is the limit at its reference height, "
            "said beside the value and warned of."), "sources": str(meta.get("citation", ""))})
    conv = r.conventions() if hasattr(r, "conventions") else {}
    if conv:
        out.append({"topic": "Laboratory conventions", "text": " ".join(
            f"{k.replace('_', ' ')}: {v}" for k, v in conv.items()), "sources": "edxreview"})
    m = r.get("mri", {})
    if m:
        out.append({"topic": "Corresponding MRI lesion", "text": (
            f"LMN involvement has a corresponding MRI lesion when a cord lesion covers the "
            f"denervated segments within ±{m['segment_tolerance']:g} segment, or a brainstem "
            f"lesion lies at the level of the denervated cranial nucleus "
            f"(tolerance {m['brainstem_tolerance']:g})."), "sources": cite(m)})
    return out


def describe_classifications(rules: Mapping[str, Any] | None = None) -> list[dict[str, str]]:
    """The six patient-level classifications in words (study-workbook specification §4)."""
    grade = (rules or load_rules())["emg"]["acute_min_grade"]
    names = MEASURE_LABELS
    return [
        {"topic": names["emg_denervation"], "text": "At least one muscle with acute denervation "
         f"(fibrillation potentials or positive sharp waves {grade:g}+ or more) or chronic denervation "
         "(MUAPs of increased duration or amplitude). Fasciculations alone, reduced recruitment "
         "alone and myopathic MUAPs are not denervation."},
        {"topic": names["ncs_neuropathy"], "text": "A sensory response below "
         "its limit, absent or slowed (age-adjusted for lower-limb responses); a motor nerve "
         "with demyelinating-range change, conduction block or focal slowing across an "
         "entrapment site; or an abnormal facial CMAP or blink reflex. A reduced CMAP with "
         "normal sensory responses and no demyelinating features is not by itself a "
         "neuropathy."},
        {"topic": names["denervation_explained_by_ncs"], "text": "Denervation, and every "
         "denervated muscle is supplied by the affected nerve distal to the lesion site, lies "
         "in the territory of a length-dependent polyneuropathy, or is supplied by the affected "
         "cranial nerve."},
        {"topic": names["ncs_abnormal_without_denervation"], "text": "Neuropathy on NCS and no "
         "denervation on EMG."},
        {"topic": names["lmn_involvement"], "text": "Denervation, and at least one "
         "denervated muscle is not accounted for by NCS; the cord segments or brainstem nuclei "
         "of those muscles are the LMN segments."},
        {"topic": names["lmn_with_corresponding_mri"], "text": "LMN involvement and "
         "a brainstem or cord lesion on MRI covering at least one LMN segment or nucleus, "
         "vertebral levels converted to cord segments first (tolerance as above)."},
    ]


def describe_muap_reference(muscles: pd.DataFrame,
                            muap_reference: pd.DataFrame | None = None) -> dict[str, Any]:
    """How the workbook's quantitative MUAP means were read, counted from ``muscles.csv``.

    Parameters
    ----------
    muscles : DataFrame
        The run's muscle readings (``muap_duration_basis``, ``muap_amplitude_basis``; a column
        ``n`` where the rows are counts already, as a registry's partitions return them).
    muap_reference : DataFrame, optional
        The laboratory's MUAP reference the run used (``--muap-reference``); ``None``: the
        bundled table.

    Returns
    -------
    dict
        ``counts`` (quantitative means per basis rule id, duration and amplitude together),
        ``n_means``, ``n_not_judged`` and ``text``.
    """
    from ..interpret._muscles import MUAP_BASES
    from ..knowledge._tables import load_muap_reference

    counts = {b: 0 for b in MUAP_BASES if b != "not_given"}
    for col in ("muap_duration_basis", "muap_amplitude_basis"):
        if col not in muscles or not len(muscles):
            continue
        weights = muscles["n"] if "n" in muscles else pd.Series(1, index=muscles.index)
        by = weights.groupby(muscles[col].astype(str)).sum()
        for b in counts:
            counts[b] += int(by.get(b, 0))
    lab = muap_reference is not None
    meta = (muap_reference if lab else load_muap_reference()).attrs
    table = f"{meta.get('id', 'muap_reference')} v{meta.get('version', '?')}"
    status = ("the laboratory's own (--muap-reference)" if lab else
              str(meta.get("status", "") or ("verified" if meta.get("verified")
                                              else "unverified")))
    judged = counts["quantitative_reference"]
    unverified = counts["not_judged_unverified_reference"]
    missing = counts["not_judged_no_reference"]
    n_not = unverified + missing
    n_means = judged + n_not
    if not n_means:
        text = ("No quantitative MUAP mean was judged: MUAP duration and amplitude were read "
                "from the qualitative columns, where given. The MUAP reference "
                f"({table}) is {status}: "
                "no quantitative mean is judged against an unverified row.")
    else:
        parts = [f"{judged} were judged against verified or laboratory reference rows "
                 "(beside the qualitative reading where one was given: either is enough for a "
                 "finding)"]
        if unverified:
            parts.append(f"{unverified} given without a qualitative reading were not judged "
                         "because the reference row for the "
                         f"muscle is unverified ({table}, {status}" + (
                             "" if lab else ": no row could be traced to a printed source")
                         + ")")
        if missing:
            parts.append(f"{missing} given without a qualitative reading were not judged "
                         "because no reference row exists for the muscle and age")
        text = (f"Of {n_means} quantitative MUAP means (duration and amplitude counted apart) "
                "that could decide a finding, " + "; ".join(parts) + ". A mean beside a "
                "qualitative reading is judged only against a verified or laboratory row; "
                "otherwise the qualitative reading is read.")
        if n_not:
            text += (" A mean not judged is kept in muscles.csv (muap_duration_basis, "
                     "muap_amplitude_basis) and listed in warnings.csv; it can neither show nor "
                     "exclude chronic denervation. Give the qualitative reading, or a verified "
                     "reference.")
    unread = _muscles_without_muap_reading(muscles)
    if unread:
        text += " " + unread
    return {"counts": counts, "n_means": n_means, "n_not_judged": n_not, "text": text}


def _muscles_without_muap_reading(muscles: pd.DataFrame) -> str:
    """The methods' sentence on the muscle rows whose MUAPs were not read (``muap_reading``
    ``not_read``: every MUAP column blank, or polyphasia only) or whose means were none of them judged
    (``not_judged``): chronic denervation was not looked for in them; ``""`` when none."""
    if "muap_reading" not in muscles or not len(muscles):
        return ""
    weights = muscles["n"] if "n" in muscles else pd.Series(1, index=muscles.index)
    by = weights.groupby(muscles["muap_reading"].astype(str)).sum()
    n_read, n_judged = int(by.get("not_read", 0)), int(by.get("not_judged", 0))
    if not n_read + n_judged:
        return ""
    # "at rest only" would be wrong: recruitment may be graded beside no MUAP reading
    parts = ([f"{n_read} had no MUAP reading (every MUAP column blank, or polyphasia only)"]
             if n_read else []) + (
        [f"{n_judged} had quantitative MUAP means only, none of them judged"]
        if n_judged else [])
    return (f"Of {int(weights.sum())} muscles examined, " + " and ".join(parts)
            + ": chronic denervation was not looked for in them (muap_reading in "
            "muscles.csv).")


def format_source(entry: dict[str, Any], key: str = "") -> str:
    """A source entry of a sidecar as one citation: authors, title, journal, year, table."""
    parts = [str(entry[f]).strip() for f in ("authors", "title", "journal", "publisher")
             if str(entry.get(f, "")).strip()]
    if parts:
        year = str(entry.get("year", "")).strip()
        volume = str(entry.get("volume", "")).strip()
        return ". ".join(parts) + (f" {year}" if year else "") + (f";{volume}" if volume else "")
    return str(entry.get("citation") or entry.get("title") or key)


def _published_and_read(entry: dict[str, Any]) -> bool:
    """A published source (authors and year named) of which something was read."""
    return (bool(str(entry.get("authors", "")).strip() and str(entry.get("year", "")).strip())
            and not str(entry.get("read", "")).strip().upper().startswith("NOT"))


def status_text(status: dict[str, int] | None) -> str:
    """Row-status counts of one table in words; tables without row status say so."""
    if not status:
        return "no row status (sources named in its sidecar)"
    names = {"convention": "conventions"}
    return ", ".join(f"{n} {names.get(s, s)}" for s, n in status.items() if n) or "no rows"


def describe_reference(reference, values: pd.DataFrame) -> dict[str, Any]:
    """What the run's reference limits rest on: status counts, sources, conventions.

    Parameters
    ----------
    reference : ReferenceSet
        The active limits.
    values : DataFrame
        The run's flagged values (``reference_status``, ``source``, ``study``, ``nerve``,
        ``parameter``).

    Returns
    -------
    dict
        ``rows`` (active rows per status), ``values`` (values compared per status),
        ``sources`` (citations of the sources read, used in this run), ``conventions`` and
        ``unsourced`` (what the run used with that status, each with the reason), ``text``.
    """
    limits = reference.limits
    statuses = list(STATUSES) + (["lab"] if limits["status"].eq("lab").any() else [])
    rows = {s: int(limits["status"].eq(s).sum()) for s in statuses}
    judged = values[values["reference_status"].notna()] if "reference_status" in values \
        else values.iloc[:0]
    if "n" in judged:    # counted already (a registry's partitions)
        counts = judged.groupby(judged["reference_status"].astype(str))["n"].sum()
    else:
        counts = judged["reference_status"].astype(str).value_counts()
    used_values = {s: int(counts.get(s, 0)) for s in statuses}
    # the limit rows the run used (values name their limit's row in the file)
    rows_used = pd.to_numeric(judged.get("reference_row"), errors="coerce").dropna()
    positions = sorted({int(r) - 2 for r in rows_used.unique()} & set(range(len(limits))))
    used = limits.iloc[positions]
    meta_sources = reference.meta.get("sources", {}) or {}
    keys = sorted({k for cell in used["source"].astype(str) for k in cell.split("|") if k})
    sources = [format_source(meta_sources[k], k) for k in keys
               if _published_and_read(meta_sources.get(k, {}))]

    def listing(status: str) -> list[dict[str, str]]:
        part = used[used["status"] == status]
        out = []
        for reason, group in part.groupby("status_reason", sort=False):
            what = sorted({f"{st.replace('_', ' ')} {n.replace('_', ' ')} "
                           f"{p.replace('_', ' ')}" for st, n, p in
                           zip(group["study"], group["nerve"], group["parameter"])})
            out.append({"what": "; ".join(what), "reason": str(reason)})
        return out

    conventions, unsourced = listing("convention"), listing("unsourced")
    n_values = int(sum(used_values.values()))
    text = (f"The active limits ({reference.label}) have {len(limits)} rows: "
            + status_text(rows) + f". Of the {n_values} values compared with a limit in "
            "this run, " + (", ".join(f"{n} were judged against {s} rows" for s, n in
                                      used_values.items() if n) or "none were") + ".")
    if used_values.get("unsourced"):
        text += (f" {used_values['unsourced']} values were judged against limits for which no "
                 "published source could be read (listed below); confirm them against the "
                 "laboratory's own limits before relying on them.")
    return {"rows": rows, "values": used_values, "sources": sources,
            "conventions": conventions, "unsourced": unsourced, "text": text}
