"""The cohort report: ``report.html``, ``results.xlsx`` and ``figures/*.svg``."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd
from markupsafe import Markup

from ..cohort import CI_METHODS, PUBLISHED, build_characteristics, compute_table1
from ..knowledge import load_anatomy
from . import _figures
from ._centres import centre_figures, centre_sheets
from ._excel import write_workbook
from ._frames import isin, split_records
from ._methods import describe_classifications, describe_reference, describe_rules, status_text

log = logging.getLogger(__name__)

#: above this many patients, pages are written only for flagged patients
PATIENT_PAGE_THRESHOLD = 500
#: most patient pages in one report
MAX_PATIENT_PAGES = 500
#: above this many patients no report.pdf is written (with WeasyPrint installed)
PDF_MAX_PATIENTS = PATIENT_PAGE_THRESHOLD
#: warnings written to results.xlsx for a registry reviewed in partitions (all are in
#: warnings.csv)
MAX_REGISTRY_WARNINGS = 10_000

_CLASS_COLUMNS = ["emg_denervation", "ncs_neuropathy", "denervation_explained_by_ncs",
                  "ncs_abnormal_without_denervation", "lmn_involvement",
                  "lmn_with_corresponding_mri"]
_SHORT = {"emg_denervation": "EMG den.", "ncs_neuropathy": "NCS neur.",
          "denervation_explained_by_ncs": "Expl. NCS",
          "ncs_abnormal_without_denervation": "NCS w/o den.", "lmn_involvement": "LMN",
          "lmn_with_corresponding_mri": "LMN + MRI"}
_PARAMETER_TEXT = {"latency_ms": "latency", "amplitude_mv": "amplitude",
                   "amplitude_uv": "amplitude",
                   "velocity_m_s": "conduction velocity", "min_latency_ms": "F-wave min. latency",
                   "r1_ms": "R1 latency", "r2_ipsi_ms": "R2 ipsilateral latency",
                   "r2_contra_ms": "R2 contralateral latency",
                   "r2_ipsi_contra_diff_ms": "R2 ipsi–contra difference",
                   "r1_side_diff_ms": "R1 side difference",
                   "r2_side_diff_ms": "R2 side difference",
                   "amplitude_side_ratio": "amplitude ratio to other side"}
_FLAG_TEXT = {"low": "low ▼", "high": "high ▲", "absent": "absent", "normal": "",
              "no_reference": "no limit"}


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("edxreview.report", "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
        lstrip_blocks=True, keep_trailing_newline=True)
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


def _is_demo(result) -> bool:
    return result.summary.get("provenance", {}).get("input") == "demo"


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
    reasons = _text(exc["exclusion_reason"]).replace("", "no reason given").value_counts()
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


def flow_svg(counts: dict[str, Any]) -> str:
    """The cohort flow diagram as standalone SVG (all text escaped)."""
    w, h = 150, 46

    def box(key, x, y, title, n, extra=(), width=w):
        return {"key": key, "x": x, "y": y, "w": width, "h": h + 14 * len(extra),
                "title": title, "n": n, "extra": list(extra)}

    reasons = [f"{r if len(r) <= 30 else r[:29] + '…'}: {n}" for r, n in counts["reasons"][:6]]
    if len(counts["reasons"]) > 6:
        reasons.append(f"… {len(counts['reasons']) - 6} more reasons")
    boxes = [
        box("workbook", 250, 10, "Patients in workbook", counts["workbook"],
            [f"({counts['rejected_rows']} invalid patient rows not read)"]
            if counts.get("rejected_rows") else (), width=200),
        box("excluded", 520, 62, "Excluded", counts["excluded"], reasons, width=230),
        box("included", 250, 130, "Included", counts["included"], width=200),
        box("emg_denervation", 110, 230, "Denervation on EMG", counts["emg_denervation"],
            width=180),
        box("no_denervation", 420, 230, "No denervation on EMG", counts["no_denervation"],
            width=180),
        box("denervation_explained_by_ncs", 10, 330, "Accounted for by NCS",
            counts["denervation_explained_by_ncs"], width=170),
        box("lmn_involvement", 200, 330, "LMN involvement", counts["lmn_involvement"],
            width=170),
        box("ncs_abnormal_without_denervation", 420, 330, "NCS abnormal without denervation",
            counts["ncs_abnormal_without_denervation"], width=220),
        box("lmn_with_corresponding_mri", 110, 430, "With corresponding MRI lesion",
            counts["lmn_with_corresponding_mri"], width=200),
        box("lmn_without_mri", 330, 430, "No corresponding MRI lesion",
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
        boxes=boxes, arrows=arrows, side=side, height=height, width=770)


def table1(result) -> tuple[Any, pd.DataFrame]:
    """Table 1 of included patients by LMN involvement."""
    pts = result.patients[result.patients["included"].astype(bool)]
    typed = result.study.tables["patients"]
    typed = typed[isin(typed["patient_id"], pts["patient_id"])]
    ch = build_characteristics(typed, result.mri_lesions, result.study.tables.get("mri"))
    group = pts.drop_duplicates("patient_id").set_index("patient_id")["lmn_involvement"]
    group = group.reindex(ch.index).fillna(False).astype(bool)
    t1 = compute_table1(ch, group, ("LMN involvement", "No LMN involvement"))
    return t1, ch


def _patient_pages(result, ids: pd.Series) -> dict[str, dict[Any, list[dict[str, Any]]]]:
    """Per-patient tables, built from whole-table steps and split by patient once.

    Only the rows of ``ids`` are formatted; returns table name → patient id → rows.
    """
    anatomy = load_anatomy()
    keep = pd.Index(ids)
    v = result.values[isin(result.values["patient_id"], keep)].copy()
    v["value_text"] = np.where(v["no_response"].astype(bool), "NR",
                               _fmt(v["value"], 2).to_numpy())
    v["limit_text"] = np.where(v["limit"].notna(),
                               np.where(_text(v["bound"]) == "lower", "≥ ", "≤ ")
                               + _fmt(v["limit"], 2).to_numpy(), "")
    v["pct_text"] = _fmt(v["percent_of_limit"], 0)
    v["flag_text"] = _text(v["flag"]).map(lambda f: _FLAG_TEXT.get(f, f))
    v["where"] = (_text(v["site"]) + np.where(v["site"].notna() & v["recording_site"].notna(),
                                               " → ", "") +
                  _text(v["recording_site"])).str.replace("_", " ")
    v["parameter"] = v["parameter"].map(_PARAMETER_TEXT).fillna(v["parameter"])
    for c in ("study", "nerve", "side", "parameter", "unit", "reference"):
        v[c] = _text(v[c]).str.replace("_", " ")
    v["abnormal"] = v["abnormal"].astype(bool)
    vcols = ["study", "nerve", "side", "where", "parameter", "value_text", "unit",
             "limit_text", "pct_text", "flag_text", "abnormal"]

    m = result.muscles[isin(result.muscles["patient_id"], keep)].copy()
    m["name"] = m["muscle"].map(anatomy.muscles["display_name"]).fillna(m["muscle"])
    m["name"] = _text(m["name"]) + np.where(m["paraspinal_level"].notna(), " " +
                                            _text(m["paraspinal_level"]), "")
    nucleus = _text(m["nucleus"]) + " (" + _text(m["brainstem_level"]) + ")"
    m["segments_text"] = np.where(m["nucleus"].notna(), nucleus,
                                  _text(m["segments"]).str.replace("|", ", "))
    m["den"] = m["denervation"].astype(bool)
    m["ncs_text"] = np.where(m["den"], np.where(m["explained_by_ncs"].astype(bool),
                                                "accounted for", "not accounted for"), "")
    for c in ("side", "fibs", "psw", "fasciculations", "muap_duration", "muap_amplitude",
              "polyphasia", "recruitment", "reading"):
        m[c] = _text(m[c])
    mcols = ["name", "side", "segments_text", "fibs", "psw", "fasciculations", "muap_duration",
             "muap_amplitude", "polyphasia", "recruitment", "reading", "ncs_text", "den"]

    n = result.nerves[isin(result.nerves["patient_id"], keep)].copy()
    n["abnormal"] = n["abnormal"].astype(bool)
    n["counts"] = np.where(n["counts_as_neuropathy"].astype(bool), "yes", "")
    for c in ("study", "nerve", "side", "reading"):
        n[c] = _text(n[c]).str.replace("_", " ")
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
    for c in ("region", "level_from", "level_to", "location", "segments_text"):
        mri[c] = _text(mri[c]).str.replace("_", " ") if c in mri else ""
    mri["enh"] = mri["enhancement"].map({True: "yes", False: "no"}).fillna("") \
        if "enhancement" in mri else ""
    rcols = ["region", "level_from", "level_to", "segments_text", "location", "enh"]

    return {"values": split_records(v, vcols), "muscles": split_records(m, mcols),
            "nerves": split_records(n, ncols), "mri": split_records(mri, rcols)}


def build_context(result, figures: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Everything the report template shows."""
    summary = result.summary
    prov = summary.get("provenance", {})
    patients = result.patients.reset_index(drop=True).copy()
    patients["anchor"] = "p" + (patients.index + 1).astype(str)
    flagged = patients["emg_denervation"].astype(bool) | patients["ncs_neuropathy"].astype(bool)
    patients["flagged"] = flagged
    if len(patients) > PATIENT_PAGE_THRESHOLD:
        paged = patients[flagged].head(MAX_PATIENT_PAGES)
        page_note = (f"{len(patients)} patients: pages are shown only for patients with "
                     f"denervation on EMG or neuropathy on NCS ({int(flagged.sum())}), "
                     f"the first {len(paged)} of them. Every patient is in patients.csv"
                     + ("." if getattr(result, "overview", None) else " and results.xlsx."))
    else:
        paged = patients
        page_note = ""
    groups = _patient_pages(result, paged["patient_id"])
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
        p["ncs_rows"] = groups["values"].get(pid, [])
        p["emg_rows"] = groups["muscles"].get(pid, [])
        p["nerve_rows"] = groups["nerves"].get(pid, [])
        p["mri_rows"] = groups["mri"].get(pid, [])
    t1, _ = table1(result)
    letters = {}
    for t in t1.rows["test"]:
        if t and t not in letters:
            letters[t] = "abcdefgh"[len(letters)]
    marks = t1.rows["test"].map(lambda t: letters.get(t, ""))
    t1_rows = t1.rows.assign(mark=marks).to_dict("records")
    test_notes = [(letters[t], name) for t, name in
                  t1.rows.drop_duplicates("test")[["test", "test_name"]].itertuples(index=False)
                  if t]
    rows_acc = [{"sheet": k, **v} for k, v in summary.get("rows", {}).items()]
    return {
        "summary": summary, "prov": prov, "demo": _is_demo(result),
        "results": results_table(result).to_dict("records"),
        "flow": flow_counts(patients, summary.get("rows")),
        "flow_svg": Markup(figures["flow"]["inline"]),
        "table1": t1, "t1_rows": t1_rows, "t1_groups": list(t1.groups.items()),
        "t1_test_notes": test_notes,
        "figures": [f for k, f in figures.items() if k != "flow"],
        "pages": pages, "page_note": page_note, "paged_ids": paged["patient_id"],
        "n_patients_total": len(patients),
        "n_flagged": int(flagged.sum()), "class_columns": _CLASS_COLUMNS, "short": _SHORT,
        "labels": {k: m["label"] for k, m in summary["measures"].items()},
        "rules": describe_rules(reference=result.reference),
        "classifications": describe_classifications(),
        "tables": [t | {"status_text": status_text(t.get("status"))}
                   for t in prov.get("tables", [])],
        "reference_meta": getattr(result.reference, "meta", {}),
        "reference_basis": describe_reference(result.reference, _every_row(result, "values")),
        "rows_accounting": rows_acc, "n_warnings": len(result.study.warnings),
        "ci_methods": CI_METHODS,
    }


def _every_row(result, name: str) -> pd.DataFrame:
    """Every row of a table, for counting: a review run over partitions keeps the counted
    columns of every row in ``result.overview`` and full rows only for the patients shown."""
    return getattr(result, "overview", {}).get(name, getattr(result, name))


def make_figures(result) -> tuple[dict[str, dict[str, Any]], str]:
    """All report figures as SVG text, with titles and captions."""
    inc = result.patients[result.patients["included"].astype(bool)]
    muscles, nerves = _every_row(result, "muscles"), _every_row(result, "nerves")
    seg_svg, seg_note = _figures.plot_segmental_map(inc, muscles, result.mri_lesions)
    figs = {
        "flow": ("Cohort flow", flow_svg(flow_counts(result.patients, result.summary.get("rows"))),
                 "From the workbook to the study's classifications."),
        "overlap": ("Overlap of findings", _figures.plot_overlap(inc, result.mri_lesions),
                    "Included patients by EMG denervation, NCS neuropathy and a cord or "
                    "brainstem lesion on MRI."),
        "segmental_map": ("Segmental map", seg_svg,
                          seg_note or "One row per patient with denervation. Columns: "
                          "cranial motor nuclei (cranial nerve, brainstem level), then cord "
                          "segments C1–S5. Dots: segments or nuclei of denervated muscles "
                          "(myotomes), accounted for by NCS or not; grey: segments covered by "
                          "an MRI lesion (vertebral levels converted to cord segments; a "
                          "brainstem lesion covers the nuclei at its level)."),
        "muscles": ("Findings per muscle", _figures.plot_muscle_findings(muscles),
                    "Muscles by number of rows examined (both sides; at most "
                    f"{_figures.MAX_BARS} muscles), "
                    "coloured by the needle EMG reading."),
        "nerves": ("Findings per nerve", _figures.plot_nerve_findings(nerves),
                   f"Nerve studies by number performed (both sides; at most {_figures.MAX_BARS}), "
                   "coloured by the nerve's reading."),
    }
    figs.update(centre_figures(result))
    out = {}
    for key, (title, svg, caption) in figs.items():
        out[key] = {"key": key, "title": title, "svg": svg, "caption": caption,
                    "file": f"figures/{key}.svg",
                    "inline": Markup(_figures.inline_svg(svg))}
    return out, seg_note


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
    if getattr(result, "overview", None) and len(patients) > PATIENT_PAGE_THRESHOLD:
        # a registry reviewed in partitions: a million rows would take Excel's limit and
        # many minutes to write; the patients with a page, as for the detail tables
        keep = pd.Index(context["paged_ids"])
        patients = patients[isin(patients["patient_id"], keep)]
        notes["patients"] = (f"the {len(patients)} patients with a page only (of "
                             f"{len(result.patients)}); every patient is in patients.csv")
    warnings = result.study.warnings
    if getattr(result, "overview", None) and len(warnings) > MAX_REGISTRY_WARNINGS:
        notes["warnings"] = (f"the first {MAX_REGISTRY_WARNINGS} of {len(warnings)} warnings; "
                             "every warning is in warnings.csv")
        warnings = warnings[:MAX_REGISTRY_WARNINGS]
    sheets = {
        "results": results_table(result), "flow": flow_frame, "table1": t1_frame,
        "patients": patients, **detail,
        "rows": pd.DataFrame(context["rows_accounting"]).astype(
            {"rejected_reasons": str}, errors="ignore"),
        "warnings": _warnings_table(warnings),
        "reference_tables": tables, "rules": pd.DataFrame(context["rules"]),
        "reference_limits": result.reference.limits, "provenance": info,
        **centre_sheets(result),
    }
    return sheets


def render_cohort_report(result, out_dir: str | Path, *, html: bool = True,
                         xlsx: bool = True) -> Path:
    """Write ``report.html``, ``results.xlsx`` and ``figures/*.svg`` into ``out_dir``.

    Parameters
    ----------
    result : StudyResult
    out_dir : str or Path
        Existing folder (the pipeline's temporary output folder).
    html : bool
        Write ``report.html`` (and ``report.pdf`` where WeasyPrint is installed) and
        ``figures/*.svg``.
    xlsx : bool
        Write ``results.xlsx``.

    Returns
    -------
    Path
        The path of ``report.html`` (not written when ``html`` is false).
    """
    out = Path(out_dir)
    path = out / "report.html"
    if not (html or xlsx):
        return path
    figures, _ = make_figures(result)
    if html:
        (out / "figures").mkdir(parents=True, exist_ok=True)
        for f in figures.values():
            (out / f["file"]).write_text(f["svg"], encoding="utf-8")
    context = build_context(result, figures)
    context["export_notes"] = {}
    if xlsx:
        sheets = export_tables(result, context)
        write_workbook(sheets, out / "results.xlsx", context["export_notes"])
    if not html:
        return path
    page = _env().get_template("report.html.j2").render(**context)
    path.write_text(page, encoding="utf-8")
    log.info("report written: %d patient pages", len(context["pages"]))
    if len(result.patients) > PDF_MAX_PATIENTS:
        # laying out hundreds of patient pages takes WeasyPrint minutes; the HTML prints
        log.info("PDF not written above %d patients; print report.html from a browser",
                 PDF_MAX_PATIENTS)
        return path
    try:
        import weasyprint  # type: ignore[import-not-found]
    except ImportError:
        return path
    try:
        weasyprint.HTML(string=page, base_url=str(out)).write_pdf(out / "report.pdf")
    except Exception as err:  # PDF is optional; the HTML report stands on its own
        log.warning("PDF not written: %s", err)
    return path
