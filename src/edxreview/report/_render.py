"""The cohort report: ``report.html``, ``results.xlsx`` and ``figures/*.svg``."""

from __future__ import annotations

import functools
import html
import logging
import threading
from pathlib import Path
from typing import Any, Callable

import jinja2
import numpy as np
import pandas as pd
from markupsafe import Markup

from ..cohort import compute_table1
from ..cohort._summary import CI_METHODS, PUBLISHED
from ..cohort._table1 import build_characteristics
from .._errors import EdxreviewError
from . import _figures
from ._edx import display_names, edx_pages, format_number, load_layout, ncs_notes, temperatures
from ._readings import (exclusion_words, muscle_readings, nerve_readings, nerve_words,
                        segment_words, side_words, value_words)
from .._words import load_labels
from ._summary import reasoning_tables, summarize_patients
from ._table1 import table1_words
from ._centres import centre_figures, centre_sheets
from ._excel import WorkbookWriter
from .._tables import fill, isin, text_column
from ._frames import split_records
from ._methods import (describe_classifications, describe_muap_reference, describe_reference,
                       describe_rules, status_text)

log = logging.getLogger(__name__)

#: above this many patients, pages are written only for flagged patients
PATIENT_PAGE_THRESHOLD = 500
#: most patient pages in one report
MAX_PATIENT_PAGES = 500
#: files written for each matplotlib figure in ``figures/`` (journals take PNG and PDF)
FIGURE_FORMATS: tuple[str, ...] = ("svg", "png", "pdf")
#: above this many patients no report.pdf is written (even when asked for)
PDF_MAX_PATIENTS = PATIENT_PAGE_THRESHOLD
#: warnings written to results.xlsx for a registry reviewed in partitions (all are in
#: warnings.csv)
MAX_REGISTRY_WARNINGS = 10_000

_CLASS_COLUMNS = ["emg_denervation", "ncs_neuropathy", "denervation_explained_by_ncs",
                  "ncs_abnormal_without_denervation", "lmn_involvement",
                  "lmn_with_corresponding_mri"]
_DERIVED = ["amplitude_side_ratio", "r2_ipsi_contra_diff_ms", "r1_side_diff_ms",
            "r2_ipsi_side_diff_ms", "r2_contra_side_diff_ms"]


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("edxreview.report", "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
        lstrip_blocks=True, keep_trailing_newline=True)
    # element text (not attributes): quotes need no escape there ("study's" stays as written)
    env.filters["text"] = lambda value: Markup(html.escape(str(value), quote=False))
    return env


def _fmt(series: pd.Series, digits: int | None = None) -> pd.Series:
    """Numbers as short text ('' when missing)."""
    x = pd.to_numeric(series, errors="coerce")
    if digits is not None:
        x = x.round(digits)
    text = x.map(lambda v: "" if pd.isna(v) else f"{v:g}")
    return text.astype(object)


def _text(series: pd.Series) -> pd.Series:
    return series.astype(object).where(series.notna(), "").astype(str)


@functools.lru_cache(maxsize=1)
def bundled_demo_sha256() -> str:
    """SHA-256 of the bundled demonstration cohort, as the reader computes it for an input."""
    from importlib import resources

    from ..io import read_workbook

    # the folder edxreview.demo_path() names (the report layer does not import the pipeline)
    return read_workbook(Path(str(resources.files("edxreview").joinpath("data/demo")))).sha256


def _is_demo(result) -> bool:
    """Whether the input is the bundled demonstration cohort, byte for byte.

    Only then are the published study's counts shown beside the results: the check is the
    input's content hash, not its name, so a user's folder called ``demo`` is never compared
    with the published study, and an edited copy of the demo is not either.
    """
    sha = result.summary.get("provenance", {}).get("input_sha256")
    return bool(sha) and sha == bundled_demo_sha256()


def results_table(result) -> pd.DataFrame:
    """The six measures (from ``summary.json``) with the published counts for the demo."""
    demo = _is_demo(result)
    rows = []
    for key, m in result.summary["measures"].items():
        lo, hi = m["ci95"]
        row = {"key": key, "measure": m["label"], "n": m["n"], "denominator": m["denominator"],
               "percent": m["percent"], "ci95_low": lo, "ci95_high": hi,
               "ci_method": result.summary["ci_method"]}
        if demo and key in PUBLISHED:
            d = int(PUBLISHED.get("n_patients", result.summary["n_patients"]))
            row.update(published_n=PUBLISHED[key], published_denominator=d,
                       published_percent=round(100 * PUBLISHED[key] / d, 1) if d else None)
        rows.append(row)
    return pd.DataFrame(rows)


def flow_counts(patients: pd.DataFrame, rows: dict[str, Any] | None = None) -> dict[str, Any]:
    """Counts for the cohort flow diagram, from the patients table.

    ``rows`` is the row accounting of ``summary.json``; rejected ``patients`` rows are counted.
    """
    rejected = int((rows or {}).get("patients", {}).get("rejected", 0) or 0)
    inc = patients[patients["included"].astype(bool)]
    exc = patients[~patients["included"].astype(bool)]
    none_given = load_labels("en")["flow"]["no_reason"]
    reasons = _text(exc["exclusion_reason"]).replace("", none_given).value_counts()
    den = inc["emg_denervation"].astype(bool)
    return {
        "workbook": int(len(patients)), "rejected_rows": rejected, "excluded": int(len(exc)),
        "reasons": [(str(k), int(v)) for k, v in reasons.items()],
        "included": int(len(inc)), "emg_denervation": int(den.sum()),
        "no_denervation": int((~den).sum()),
        "denervation_explained_by_ncs": int(inc["denervation_explained_by_ncs"].sum()),
        "lmn_involvement": int(inc["lmn_involvement"].sum()),
        "lmn_with_corresponding_mri": int(inc["lmn_with_corresponding_mri"].sum()),
        "lmn_without_mri": int((inc["lmn_involvement"] & ~inc["lmn_with_corresponding_mri"])
                               .sum()),
        "ncs_abnormal_without_denervation": int(inc["ncs_abnormal_without_denervation"].sum()),
    }


def reason_words(reasons: list[tuple[str, int]], words: dict[str, Any]) -> list[tuple[str, int]]:
    """The exclusion reasons of :func:`flow_counts` in ``words``' language: each reason the
    review writes (classify's ``EXCLUSION_REASONS``) by its id; any other text as it is."""
    if not reasons:
        return []
    text = pd.Series([r for r, _ in reasons], dtype=object)
    shown = exclusion_words(text, words).where(
        text != load_labels("en")["flow"]["no_reason"], words["flow"]["no_reason"])
    return list(zip(shown, (n for _, n in reasons)))


def flow_svg(counts: dict[str, Any], words: dict[str, Any] | None = None) -> str:
    """The cohort flow diagram as standalone SVG (all text escaped), its words from the
    label file ``words`` (English when omitted)."""
    words = load_labels("en") if words is None else words
    f = words["flow"]
    w, h = 150, 46

    def box(key, x, y, title, n, extra=(), width=w):
        return {"key": key, "x": x, "y": y, "w": width, "h": h + 14 * len(extra),
                "title": title, "n": n, "extra": list(extra)}

    shown = reason_words(counts["reasons"], words)
    reasons = [f["reason_count"].format(reason=r if len(r) <= 30 else r[:29] + "…", n=n)
               for r, n in shown[:6]]
    if len(shown) > 6:
        reasons.append(f["more_reasons"].format(n=len(shown) - 6))
    boxes = [
        box("workbook", 250, 10, f["workbook"], counts["workbook"],
            [f["rejected_rows"].format(n=counts["rejected_rows"])]
            if counts.get("rejected_rows") else (), width=200),
        box("excluded", 520, 62, f["excluded"], counts["excluded"], reasons, width=230),
        box("included", 250, 130, f["included"], counts["included"], width=200),
        box("emg_denervation", 110, 230, f["emg_denervation"], counts["emg_denervation"],
            width=180),
        box("no_denervation", 420, 230, f["no_denervation"], counts["no_denervation"],
            width=180),
        box("denervation_explained_by_ncs", 10, 330, f["denervation_explained_by_ncs"],
            counts["denervation_explained_by_ncs"], width=170),
        box("lmn_involvement", 200, 330, f["lmn_involvement"], counts["lmn_involvement"],
            width=170),
        box("ncs_abnormal_without_denervation", 420, 330,
            f["ncs_abnormal_without_denervation"],
            counts["ncs_abnormal_without_denervation"], width=220),
        box("lmn_with_corresponding_mri", 110, 430, f["lmn_with_corresponding_mri"],
            counts["lmn_with_corresponding_mri"], width=200),
        box("lmn_without_mri", 330, 430, f["lmn_without_mri"],
            counts["lmn_without_mri"], width=190),
    ]
    b = {x["key"]: x for x in boxes}

    def bottom(k):
        return b[k]["x"] + b[k]["w"] / 2, b[k]["y"] + b[k]["h"]

    def top(k):
        return b[k]["x"] + b[k]["w"] / 2, b[k]["y"]

    arrows = []
    for src, dst in [("workbook", "included"), ("included", "emg_denervation"),
                     ("included", "no_denervation"),
                     ("emg_denervation", "denervation_explained_by_ncs"),
                     ("emg_denervation", "lmn_involvement"),
                     ("no_denervation", "ncs_abnormal_without_denervation"),
                     ("lmn_involvement", "lmn_with_corresponding_mri"),
                     ("lmn_involvement", "lmn_without_mri")]:
        (x1, y1), (x2, y2) = bottom(src), top(dst)
        arrows.append((x1, y1, x2, y2 - 2))
    wx, wy = bottom("workbook")
    side = (wx, wy + 30, b["excluded"]["x"] - 2, wy + 30)
    height = max(x["y"] + x["h"] for x in boxes) + 10
    return _env().get_template("flow.svg.j2").render(
        boxes=boxes, arrows=arrows, side=side, height=height, width=770, label=f["diagram"])


def table1(result) -> tuple[Any, pd.DataFrame]:
    """Table 1 of included patients by LMN involvement."""
    pts = result.patients[result.patients["included"].astype(bool)]
    given = _overview(result).get("characteristics")
    if given is not None:     # a registry: each partition described its patients
        ch = given[isin(pd.Series(given.index), pts["patient_id"])]
    else:
        typed = result.study.tables["patients"]
        typed = typed[isin(typed["patient_id"], pts["patient_id"])]
        ch = build_characteristics(typed, result.mri_lesions, result.study.tables.get("mri"))
    group = pts.drop_duplicates("patient_id").set_index("patient_id")["lmn_involvement"]
    group = group.reindex(ch.index).fillna(False).astype(bool)
    # aligned by position: an index of a registry's patient ids would be carried (and hashed)
    # through every selection of the table (about half its time at a million patients)
    groups = load_labels("en")["table1"]
    t1 = compute_table1(ch.reset_index(drop=True), group.to_numpy(),
                        (groups["group_yes"], groups["group_no"]))
    return t1, ch


def _patient_pages(result, ids: pd.Series, lang: str = "en") -> dict[str, Any]:
    """Per-patient tables, built from whole-table steps and split by patient once.

    Only the rows of ``ids`` are formatted; returns table name → patient id → rows.
    """
    words = load_labels(lang)
    english = lang == "en"
    keep = pd.Index(ids)
    # the per-site values are in the NCS tables (edx_pages); here only the values computed
    # across rows (side ratios, side differences), listed beneath them
    v = result.values[isin(result.values["patient_id"], keep)
                      & result.values["parameter"].isin(_DERIVED)].copy()
    value_text, limit_text = _fmt(v["value"], 2), _fmt(v["limit"], 2)
    formats = load_layout()["parameters"]
    param = v["parameter"].astype(str)
    for name in set(param.unique()) & set(formats):    # one format per parameter
        rows = (param == name).to_numpy()
        value_text[rows] = format_number(v.loc[rows, "value"], name)
        limit_text[rows] = format_number(v.loc[rows, "limit"], name)
    v["value_text"] = np.where(v["no_response"].astype(bool), "NR", value_text.to_numpy())
    v["limit_text"] = np.where(v["limit"].notna(),
                               np.where(_text(v["bound"]) == "lower", "≥ ", "≤ ")
                               + limit_text.to_numpy(), "")
    v["pct_text"] = _fmt(v["percent_of_limit"], 0)
    v["flag_text"] = value_words(v["flag"], words["flags"])
    v["where"] = (_text(v["site"]) + np.where(v["site"].notna() & v["recording_site"].notna(),
                                               " → ", "") +
                  _text(v["recording_site"])).str.replace("_", " ")
    v["parameter_id"] = v["parameter"].astype(str)
    v["parameter"] = v["parameter"].map(words["parameters"]).fillna(v["parameter"])
    if not english:     # a nerve id without a name (the blink reflex) is named by its study
        v["nerve"] = nerve_words(v["nerve"], words, lang)
    for c in ("study", "nerve", "side", "parameter", "unit", "reference"):
        v[c] = _text(v[c]).str.replace("_", " ")
    v["side"] = side_words(v["side"], words)
    v["abnormal"] = v["abnormal"].astype(bool)
    vcols = ["study", "nerve", "side", "where", "parameter", "value_text", "unit",
             "limit_text", "pct_text", "flag_text", "abnormal"]

    m = result.muscles[isin(result.muscles["patient_id"], keep)].copy()
    m["name"] = m["muscle"].map(display_names("muscle", lang)).fillna(m["muscle"])
    # a paraspinal with its sampled level, in the words the summary uses (label muscle_level)
    level = text_column(m, "paraspinal_level")
    m["name"] = _text(m["name"]).where(level.isna(), fill(
        words["summary"]["muscle_level"], m.index, muscle=_text(m["name"]), level=level))
    nucleus = _text(m["nucleus"]) + " (" + _text(m["brainstem_level"]) + ")"
    m["segments_text"] = np.where(m["nucleus"].notna(), nucleus,
                                  _text(m["segments"]).str.replace("|", ", "))
    m["segments_text"] = segment_words(pd.Series(m["segments_text"], index=m.index), words)
    m["den"] = m["denervation"].astype(bool)
    m["ncs_text"] = np.where(m["den"], np.where(m["explained_by_ncs"].astype(bool),
                                                words["page"]["ncs_accounted"],
                                                words["page"]["ncs_not_accounted"]), "")
    for c in ("side", "fibs", "psw", "fasciculations", "muap_duration", "muap_amplitude",
              "polyphasia", "recruitment", "reading"):
        m[c] = _text(m[c])
    if not english:                 # the readings written from the typed columns, in words
        m["reading"] = muscle_readings(m, words)
        for c in ("muap_duration", "muap_amplitude", "polyphasia", "recruitment"):
            m[c] = value_words(m[c].replace("", None), words[c])
    m["side"] = side_words(m["side"], words)
    mcols = ["name", "side", "segments_text", "fibs", "psw", "fasciculations", "muap_duration",
             "muap_amplitude", "polyphasia", "recruitment", "reading", "ncs_text", "den"]

    n = result.nerves[isin(result.nerves["patient_id"], keep)].copy()
    n["abnormal"] = n["abnormal"].astype(bool)
    n["counts"] = np.where(n["counts_as_neuropathy"].astype(bool), words["headings"]["yes"], "")
    # every language by interpret's composition of the reading column (English: that column)
    n["reading"] = nerve_readings(n, words)
    if not english:
        n["nerve"] = nerve_words(n["nerve"], words, lang)
        n["study"] = n["study"].astype(object).map(words["studies"]).fillna(n["study"])
    for c in ("study", "nerve", "side"):
        n[c] = _text(n[c]).str.replace("_", " ")
    n["reading"] = _text(n["reading"])
    n["side"] = side_words(n["side"], words)
    ncols = ["study", "nerve", "side", "reading", "counts", "abnormal"]

    mri = result.study.tables.get("mri", pd.DataFrame(columns=["patient_id"]))
    mri = mri[isin(mri["patient_id"], keep)].copy()
    if len(result.mri_lesions) and len(mri):
        seg = result.mri_lesions[["patient_id", "region", "level_from", "level_to",
                              "segments_text"]].drop_duplicates(
            ["patient_id", "region", "level_from", "level_to"])
        mri = mri.merge(seg, on=["patient_id", "region", "level_from", "level_to"], how="left")
    else:
        mri["segments_text"] = ""
    if not english:
        for c, names in (("region", words["regions"]), ("level_from", words["brainstem_levels"]),
                         ("level_to", words["brainstem_levels"])):
            if c in mri:
                mri[c] = mri[c].astype(object).map(names).fillna(mri[c])
    for c in ("region", "level_from", "level_to", "location", "segments_text"):
        mri[c] = _text(mri[c]).str.replace("_", " ") if c in mri else ""
    mri["segments_text"] = segment_words(mri["segments_text"], words)
    yes_no = {True: words["headings"]["yes"], False: words["headings"]["no"]}
    mri["enh"] = mri["enhancement"].map(yes_no).fillna("") if "enhancement" in mri else ""
    rcols = ["region", "level_from", "level_to", "segments_text", "location", "enh"]

    return {"values": split_records(v, vcols),
            **edx_pages(result, keep, lang, None if english else words["sides"]),
            **reasoning_tables(result, ids, lang),
            "summary": summarize_patients(result, ids, lang).to_dict(),
            "temperature": temperatures(result.study.tables, keep),
            "ncs_notes": ncs_notes(result, keep, words),
            "muscles": split_records(m, mcols),
            "nerves": split_records(n, ncols), "mri": split_records(mri, rcols)}


def _overview(result) -> dict[str, Any]:
    """What a registry's partitions counted (empty for a review held in memory)."""
    return getattr(result, "overview", None) or {}


def _pages_shown(patients: pd.DataFrame) -> np.ndarray:
    """Which patients have a page: every patient up to :data:`PATIENT_PAGE_THRESHOLD`, above
    it the first :data:`MAX_PATIENT_PAGES` with denervation on EMG or neuropathy on NCS, in
    the order of the table (the patients sheet's)."""
    if len(patients) <= PATIENT_PAGE_THRESHOLD:
        return np.ones(len(patients), dtype=bool)
    flagged = (patients["emg_denervation"].astype(bool)
               | patients["ncs_neuropathy"].astype(bool)).to_numpy()
    return flagged & (np.cumsum(flagged) <= MAX_PATIENT_PAGES)


def paged_patient_ids(patients: pd.DataFrame) -> pd.Series:
    """The ids of the patients the report gives a page (see :func:`_pages_shown`); a
    registry reads the full rows of these patients only."""
    return patients.loc[_pages_shown(patients), "patient_id"].reset_index(drop=True)


def _page_result(result):
    """The result whose ``patients`` hold the full rows of the patients with a page: a
    registry keeps them apart (``overview["shown_patients"]``), its per-patient table
    having no text columns."""
    shown = _overview(result).get("shown_patients")
    if shown is None:
        return result
    import copy

    view = copy.copy(result)
    view.patients = shown
    return view


def build_context(result, figures: dict[str, dict[str, Any]],
                  lang: str = "en") -> dict[str, Any]:
    """Everything the report template shows."""
    context = tables_context(result, lang)
    context.update(pages_context(result, figures, lang))
    return context


def _flagged_patients(result) -> pd.DataFrame:
    """The per-patient table with each patient's page anchor and whether it is flagged
    (denervation on EMG or neuropathy on NCS)."""
    patients = result.patients.reset_index(drop=True).copy()
    patients["anchor"] = "p" + (patients.index + 1).astype(str)
    patients["flagged"] = (patients["emg_denervation"].astype(bool)
                           | patients["ncs_neuropathy"].astype(bool))
    return patients


def _ci_text(summary: dict[str, Any], lang: str) -> str:
    """The summary's confidence interval method in ``lang``'s words, looked up by the
    method's id (``ci_method_id``). A summary written before the id was recorded names only
    the method's English display name: that name is mapped back to its id, and shown as it
    is when it names no known method."""
    method = summary.get("ci_method", "")
    method_id = summary.get("ci_method_id")
    if method_id is None:
        method_id = {text: key for key, text in CI_METHODS.items()}.get(method)
    return load_labels(lang)["ci_methods"].get(method_id, method)


def tables_context(result, lang: str = "en") -> dict[str, Any]:
    """What the report shows besides its figures and patient pages: all that
    :func:`export_tables` needs, so that ``results.xlsx`` can be written while they are
    drawn."""
    summary = result.summary
    prov = summary.get("provenance", {})
    patients = _flagged_patients(result)
    paged = patients[_pages_shown(patients)]
    t1, _ = table1(result)
    rows_acc = [{"sheet": k, **v} for k, v in summary.get("rows", {}).items()]
    flow = flow_counts(patients, summary.get("rows"))
    return {
        "summary": summary, "prov": prov, "demo": _is_demo(result),
        "results": results_table(result).to_dict("records"),
        "flow": flow, "flow_reasons": reason_words(flow["reasons"], load_labels(lang)),
        "table1": t1, "t1": table1_words(t1, load_labels(lang)),
        "paged_ids": paged["patient_id"],
        "n_patients_total": len(patients),
        "n_flagged": int(patients["flagged"].sum()), "class_columns": _CLASS_COLUMNS,
        "short": load_labels(lang)["short"],
        # the classifications' names: the measures' own in English, the label file's otherwise
        "labels": ({k: m["label"] for k, m in summary["measures"].items()} if lang == "en"
                   else load_labels(lang)["classes"]),
        "rules": describe_rules(reference=result.reference),
        "classifications": describe_classifications(),
        "tables": [t | {"status_text": status_text(t.get("status"))}
                   for t in prov.get("tables", [])],
        "reference_meta": getattr(result.reference, "meta", {}),
        "reference_basis": describe_reference(result.reference, _every_row(result, "values")),
        "muap_basis": describe_muap_reference(_every_row(result, "muscles"),
                                              getattr(result.reference, "muap", None)),
        "rows_accounting": rows_acc,
        "n_warnings": summary.get("warnings", len(result.study.warnings)),
        "ci_methods": CI_METHODS, "words": load_labels(lang),
        "ci_text": _ci_text(summary, lang),
    }


def pages_context(result, figures: dict[str, dict[str, Any]],
                  lang: str = "en") -> dict[str, Any]:
    """The report's figures and patient pages (the rest: :func:`tables_context`)."""
    patients = _flagged_patients(result)
    flagged = patients["flagged"]
    paged = patients[_pages_shown(patients)]
    page_note = ""
    if len(patients) > PATIENT_PAGE_THRESHOLD:
        words = load_labels(lang)["page"]
        page_note = words["page_note"].format(
            n_patients=len(patients), n_flagged=int(flagged.sum()), n_pages=len(paged),
            where=words["page_note_end"] if _overview(result) else words["page_note_end_xlsx"])
    page_result = _page_result(result)
    if page_result is not result:   # the text columns, from the pages' full rows
        full = page_result.patients.drop_duplicates("patient_id").set_index("patient_id")
        paged = paged.copy()
        for c in full.columns.difference(paged.columns):
            paged[c] = full[c].reindex(paged["patient_id"].to_numpy()).to_numpy()
    groups = _patient_pages(page_result, paged["patient_id"], lang)
    cls = paged[["patient_id", "anchor", "flagged", "included", "exclusion_reason",
                 "denervation_type", "denervated_muscles", "neuropathy_pattern",
                 "abnormal_nerves", "lmn_segments", "mri_cord_segments", "explanation",
                 *_CLASS_COLUMNS]].copy()
    for c in ("exclusion_reason", "denervation_type", "denervated_muscles",
              "neuropathy_pattern", "abnormal_nerves", "lmn_segments", "mri_cord_segments",
              "explanation", "patient_id"):
        cls[c] = _text(cls[c])
    pages = cls.to_dict("records")
    for p in pages:
        pid = p["patient_id"]
        for table in ("motor", "sensory", "f_waves", "blink"):
            p[table] = groups[table].get(pid, [])
        p["temperature"] = groups["temperature"].get(pid, "")
        p["ncs_notes"] = groups["ncs_notes"].get(str(pid), [])
        p["derived_rows"] = groups["values"].get(pid, [])
        p["plain"] = groups["summary"].get(str(pid), "")
        p["findings"] = groups["findings"].get(str(pid), [])
        p["lesions"] = groups["lesions"].get(str(pid), [])
        p["rules_used"] = sorted({(f["rule_id"], f["rule_text"]) for f in p["findings"]})
        p["emg_rows"] = groups["muscles"].get(pid, [])
        p["nerve_rows"] = groups["nerves"].get(pid, [])
        p["mri_rows"] = groups["mri"].get(pid, [])
    return {
        "flow_svg": Markup(figures["flow"]["inline"]),
        "figures": [f for k, f in figures.items() if k != "flow"],
        "pages": pages, "page_note": page_note,
    }


def _every_row(result, name: str) -> pd.DataFrame:
    """Every row of a table, for counting: a review run over partitions keeps the counts of
    every row's counted columns (``n``) in ``result.overview`` and full rows only for the
    patients shown."""
    return _overview(result).get(name, getattr(result, name))


def study_figures(result, lang: str = "en") -> dict[str, Any]:
    """The report's figures as matplotlib ``Figure`` objects, by key (see
    :meth:`StudyResult.figures`), their words in ``lang``."""
    inc = result.patients[result.patients["included"].astype(bool)]
    muscles, nerves = _every_row(result, "muscles"), _every_row(result, "nerves")
    ov = _overview(result)
    if "segments" in ov:      # a registry: counted by its partitions
        empty = pd.DataFrame(columns=["patient_id", "segments", "nucleus", "denervation",
                                      "explained_by_ncs", "pos_min", "pos_max"])
        return {
            "overlap": _figures.plot_overlap(
                inc, pd.DataFrame({"patient_id": ov["lesion_patients"]}), lang),
            "segmental_map": _figures.plot_segmental_map(
                inc, empty if ov["denervated"] is None else ov["denervated"],
                empty if ov["drawn_lesions"] is None else ov["drawn_lesions"],
                columns=ov["segment_columns"], counts=ov["segments"], lang=lang),
            "muscles": _figures.plot_muscle_findings(muscles, lang),
            "nerves": _figures.plot_nerve_findings(nerves, lang),
        }
    return {
        "overlap": _figures.plot_overlap(inc, result.mri_lesions, lang),
        "segmental_map": _figures.plot_segmental_map(inc, muscles, result.mri_lesions,
                                                     lang=lang),
        "muscles": _figures.plot_muscle_findings(muscles, lang),
        "nerves": _figures.plot_nerve_findings(nerves, lang),
    }


def figure_captions(result, lang: str = "en") -> dict[str, tuple[str, str]]:
    """Title and caption of each figure (the figures themselves carry no title), in
    ``lang``."""
    inc = result.patients[result.patients["included"].astype(bool)]
    seg_note = _figures.segmental_map_note(inc, lang)
    w = load_labels(lang)["figure_captions"]
    return {
        "flow": (w["flow_title"], w["flow"]),
        "overlap": (w["overlap_title"], w["overlap"]),
        "segmental_map": (w["segmental_map_title"], seg_note or w["segmental_map"]),
        "muscles": (w["muscles_title"], w["muscles"].format(max_bars=_figures.MAX_BARS)),
        "nerves": (w["nerves_title"], w["nerves"].format(max_bars=_figures.MAX_BARS)),
    }


def make_figures(result, objects: dict[str, Any] | None = None, lang: str = "en") \
        -> tuple[dict[str, dict[str, Any]], str]:
    """All report figures as SVG text, with titles and captions (``objects``: the
    ``Figure`` objects, made when omitted; the flow diagram's words in ``lang``)."""
    objects = study_figures(result, lang) if objects is None else objects
    captions = figure_captions(result, lang)
    formats = load_labels(lang)["figures"]
    svgs = {"flow": flow_svg(flow_counts(result.patients, result.summary.get("rows")),
                             load_labels(lang))}
    svgs.update({k: _figures.figure_svg(f, k) for k, f in objects.items()})
    for key, (title, svg, caption) in centre_figures(result).items():   # SVG only
        svgs[key] = svg
        captions[key] = (title, caption)
    out = {}
    for key, svg in svgs.items():
        title, caption = captions[key]
        out[key] = {"key": key, "title": title, "svg": svg, "caption": caption,
                    "file": f"figures/{key}.svg",
                    "formats": formats["formats_svg" if key not in objects else "formats_all"],
                    "inline": Markup(_figures.inline_svg(svg, f"fig-{key}"))}
    return out, _figures.segmental_map_note(
        result.patients[result.patients["included"].astype(bool)], lang)


def _warnings_table(warnings) -> pd.DataFrame:
    """The data warnings (``Problem``) as a table, as ``Problem.to_dict`` gives them."""
    return pd.DataFrame({
        "sheet": [p.sheet for p in warnings], "row": [p.row for p in warnings],
        "column": [p.column for p in warnings],
        "value": [None if p.value is None else str(p.value) for p in warnings],
        "message": [p.message for p in warnings], "severity": [p.severity for p in warnings]},
        columns=["sheet", "row", "column", "value", "message", "severity"])


def export_tables(result, context: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """Every table of the report, one per spreadsheet sheet."""
    t1 = context["table1"]
    t1_frame = t1.to_frame()
    prov = context["prov"]
    tables = pd.DataFrame([{k: v for k, v in t.items() if k not in ("status", "verified")}
                           for t in context["tables"]]).rename(
        columns={"status_text": "row_status"})
    info = pd.DataFrame([
        ("edxreview version", prov.get("edxreview_version")),
        ("input", prov.get("input")), ("input sha256", prov.get("input_sha256")),
        ("reference set", prov.get("reference_set")),
        ("confidence interval", context["summary"].get("ci_method")),
        ("python", prov.get("python")), ("pandas", prov.get("pandas")),
    ], columns=["item", "value"])
    flow = context["flow"]
    flow_frame = pd.DataFrame(
        [(k, v) for k, v in flow.items() if k != "reasons"] +
        [(f"excluded: {r}", n) for r, n in flow["reasons"]], columns=["step", "patients"])
    detail = {"muscles": result.muscles, "nerves": result.nerves, "values": result.values,
              "findings": result.findings, "lesions": result.lesions,
              "mri_lesions": result.mri_lesions}
    notes = context.setdefault("export_notes", {})
    if len(result.patients) > PATIENT_PAGE_THRESHOLD:
        keep = pd.Index(context["paged_ids"])
        for name, frame in detail.items():
            if len(frame) and "patient_id" in frame:
                detail[name] = frame[isin(frame["patient_id"], keep)]
                notes[name] = (f"rows of the {len(keep)} patients with a page only "
                               f"({len(detail[name])} of {len(frame)}); every row is in the "
                               f"CSV files")
    patients = result.patients
    ov = _overview(result)
    counts = {}
    if ov:
        # a registry reviewed in partitions: a million rows would take Excel's limit and
        # many minutes to write; the patients with a page (their full rows), as for the
        # detail tables, and the counts the figures draw
        patients = _page_result(result).patients
        if len(result.patients) > PATIENT_PAGE_THRESHOLD:
            notes["patients"] = (f"the {len(patients)} patients with a page only (of "
                                 f"{len(result.patients)}); every patient is in "
                                 "patients.csv")
        for name in ("muscles", "nerves"):
            if name in ov and len(ov[name]):
                counts[f"{name}_counted"] = ov[name]
                notes[f"{name}_counted"] = (f"rows of {name}.csv counted over every patient "
                                            "(n: number of rows); every row is in the CSV "
                                            "files")
    warnings = result.study.warnings
    n_warnings = result.summary.get("warnings", len(warnings)) if ov else len(warnings)
    if ov and n_warnings > MAX_REGISTRY_WARNINGS:
        notes["warnings"] = (f"the first {MAX_REGISTRY_WARNINGS} of {n_warnings} warnings; "
                             "every warning is in warnings.csv")
        warnings = warnings[:MAX_REGISTRY_WARNINGS]
    sheets = {
        "results": results_table(result), "flow": flow_frame, "table1": t1_frame,
        "patients": patients, **detail, **counts,
        "rows": pd.DataFrame(context["rows_accounting"]).astype(
            {"rejected_reasons": str}, errors="ignore"),
        "warnings": _warnings_table(warnings),
        "reference_tables": tables, "rules": pd.DataFrame(context["rules"]),
        "reference_limits": result.reference.limits, "provenance": info,
        **centre_sheets(result),
    }
    return sheets


class PdfUnavailableError(EdxreviewError, RuntimeError):
    """``pdf=True`` was asked for but WeasyPrint is not installed."""


PDF_HINT = ("report.pdf needs WeasyPrint, an optional dependency: pip install "
            "'edxreview[pdf]' (WeasyPrint also needs the Pango library: "
            "https://doc.courtbouillon.org/weasyprint/stable/first_steps.html). "
            "Or print report.html from a browser.")


def check_pdf_available() -> None:
    """Raise :class:`PdfUnavailableError` with the install hint when WeasyPrint is missing."""
    try:
        import weasyprint  # type: ignore[import-not-found]  # noqa: F401
    except ImportError as err:
        raise PdfUnavailableError(PDF_HINT) from err


def render_cohort_report(result, out_dir: str | Path, *, html: bool = True,
                         xlsx: bool = True, docx: bool = False, pdf: bool = False,
                         lang: str = "en", meanwhile: Callable[[], None] | None = None
                         ) -> Path:
    """Write ``report.html``, ``results.xlsx``, ``figures/`` and, on request, ``report.docx``
    and ``report.pdf`` into ``out_dir``.

    Parameters
    ----------
    result : StudyResult
    out_dir : str or Path
        Existing folder (the pipeline's temporary output folder).
    html : bool
        Write ``report.html`` and ``figures/`` (SVG, 300-dpi PNG, PDF).
    xlsx : bool
        Write ``results.xlsx``.
    docx : bool
        Write ``report.docx`` (results, Table 1, figures, methods; python-docx).
    pdf : bool
        Write ``report.pdf`` from the HTML (needs WeasyPrint, ``pip install 'edxreview[pdf]'``;
        :class:`PdfUnavailableError` when missing). Above :data:`PDF_MAX_PATIENTS` patients
        the PDF is not written (it takes WeasyPrint minutes); the HTML prints.
    lang : {"en", "zh"}
        Language of ``report.html``'s headings, results table, flow diagram, Table 1, figures
        (and ``figures/``) and patient pages (the methods, ``results.xlsx`` and
        ``report.docx`` stay in English).
    meanwhile : callable, optional
        Other work of the caller (file copies), run on a thread while the report is drawn;
        its error is raised once the report is written.

    Returns
    -------
    Path
        The path of ``report.html`` (not written when ``html`` is false).
    """
    load_labels(lang)                       # an unknown language fails before any work
    if pdf:
        check_pdf_available()
    out = Path(out_dir)
    path = out / "report.html"
    if not (html or xlsx or docx or pdf):
        if meanwhile is not None:
            meanwhile()
        return path
    # results.xlsx needs no figure and no page: written meanwhile (by a second process when
    # it is large, see WorkbookWriter), and ``meanwhile`` runs on a thread
    context = tables_context(result, lang)
    context["export_notes"] = {}
    workbook = (WorkbookWriter(export_tables(result, context), out / "results.xlsx",
                               context["export_notes"]) if xlsx else None)
    side = _Thread(meanwhile) if meanwhile is not None else None
    try:
        objects = study_figures(result, lang)
        figures, _ = make_figures(result, objects, lang)
        if html:
            (out / "figures").mkdir(parents=True, exist_ok=True)
            for key in figures.keys() - objects.keys():      # drawn as SVG text (flow, centres)
                (out / figures[key]["file"]).write_text(figures[key]["svg"], encoding="utf-8")
            for key, fig in objects.items():
                _figures.save_figure(fig, out / "figures" / key, key, figures[key]["svg"],
                                     formats=FIGURE_FORMATS)
        context.update(pages_context(result, figures, lang))
        if docx:
            from ._docx import write_docx

            # report.docx stays in English (its tables and methods are)
            write_docx(out / "report.docx", context, results_table(result),
                       objects if lang == "en" else study_figures(result),
                       figure_captions(result))
        _write_page(result, out, path, context, html, pdf)
    except BaseException:
        if workbook is not None:
            workbook.wait(check=False)
        if side is not None:
            side.join(check=False)
        raise
    if workbook is not None:
        workbook.wait()
    if side is not None:
        side.join()
    return path


class _Thread:
    """A function run on a thread; :meth:`join` raises its error."""

    def __init__(self, fn: Callable[[], None]) -> None:
        self._failed: list[BaseException] = []

        def run() -> None:
            try:
                fn()
            except BaseException as exc:  # raised again by join, in the caller's thread
                self._failed.append(exc)

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def join(self, check: bool = True) -> None:
        self._thread.join()
        if check and self._failed:
            raise self._failed[0]


def _write_page(result, out: Path, path: Path, context: dict[str, Any], html: bool,
                pdf: bool) -> None:
    """``report.html`` and, on request, ``report.pdf``."""
    if not (html or pdf):
        return
    page = _env().get_template("report.html.j2").render(**context)
    if html:
        path.write_text(page, encoding="utf-8")
        log.info("report written: %d patient pages", len(context["pages"]))
    if not pdf:
        return
    if len(result.patients) > PDF_MAX_PATIENTS:
        # laying out hundreds of patient pages takes WeasyPrint minutes; the HTML prints
        log.warning("PDF not written above %d patients; print report.html from a browser",
                    PDF_MAX_PATIENTS)
        return
    import weasyprint  # type: ignore[import-not-found]

    weasyprint.HTML(string=page, base_url=str(out)).write_pdf(out / "report.pdf")
