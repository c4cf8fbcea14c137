"""``report.docx``: the results, Table 1, figures and methods as a Word document.

Made for pasting into a manuscript: real Word tables (not pictures), figures as 300-dpi PNG
with numbered captions, and the methods text with its published sources. Written with
python-docx.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pandas as pd

from .._words import load_labels
from ._figures import _RC

#: the document's headings, in English as its text is (``data/labels_en.toml``)
_WORDS = load_labels("en")

#: body and table font sizes, in points
BODY_PT, TABLE_PT = 10, 8.5
#: page margins and the text width between them (US Letter / A4 both fit), in inches
MARGIN_IN, TEXT_WIDTH_IN = 0.8, 6.9


def _table(doc, frame: pd.DataFrame, numeric: set[str] = frozenset(),
           narrow: dict[str, float] | None = None, first_in: float = 2.0):
    """A Word table of ``frame`` (header row bold, numbers right-aligned); the first column
    ``first_in`` inches wide, the ``narrow`` ones as given, the others share the rest."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Inches, Pt

    text = frame.astype(object).where(frame.notna(), "").astype(str)
    table = doc.add_table(rows=1, cols=len(frame.columns))
    table.style = "Table Grid"
    for cell, name in zip(table.rows[0].cells, frame.columns):
        cell.text = ""
        run = cell.paragraphs[0].add_run(str(name))
        run.bold = True
        run.font.size = Pt(TABLE_PT)
    for values in text.itertuples(index=False):
        cells = table.add_row().cells
        for cell, name, value in zip(cells, frame.columns, values):
            par = cell.paragraphs[0]
            run = par.add_run(value)
            run.font.size = Pt(TABLE_PT)
            if name in numeric:
                par.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    table.autofit = False
    narrow = narrow or {}
    shared = [c for c in frame.columns[1:] if c not in narrow]
    rest = (TEXT_WIDTH_IN - first_in - sum(narrow.values())) / max(len(shared), 1)
    for i, (name, column) in enumerate(zip(frame.columns, table.columns)):
        width = Inches(first_in if i == 0 else narrow.get(name, rest))
        column.width = width            # the grid, which LibreOffice reads
        for cell in column.cells:       # the cells, which Word reads
            cell.width = width
    return table


def _note(doc, text: str):
    from docx.shared import Pt

    par = doc.add_paragraph()
    run = par.add_run(text)
    run.font.size = Pt(TABLE_PT)
    return par


def _png(fig) -> io.BytesIO:
    import matplotlib

    buf = io.BytesIO()
    with matplotlib.rc_context(_RC):
        fig.savefig(buf, format="png", dpi=300, bbox_inches="tight",
                    metadata={"Software": None})
    buf.seek(0)
    return buf


def write_docx(path: str | Path, context: dict[str, Any], results: pd.DataFrame,
               figures: dict[str, Any], captions: dict[str, tuple[str, str]]) -> Path:
    """Write ``report.docx`` from the report's context.

    Parameters
    ----------
    path : str or Path
        The file to write.
    context : dict
        :func:`edxreview.report._render.build_context`.
    results : DataFrame
        :func:`edxreview.report._render.results_table`.
    figures : dict of Figure
        :meth:`StudyResult.figures`.
    captions : dict
        Title and caption of each figure.
    """
    import docx
    from docx.shared import Inches, Pt

    doc = docx.Document()
    for section in doc.sections:
        section.left_margin = section.right_margin = Inches(MARGIN_IN)
    style = doc.styles["Normal"]
    style.font.name = "Calibri"
    style.font.size = Pt(BODY_PT)
    prov = context["prov"]
    doc.add_heading(_WORDS["page"]["title"], level=0)
    _note(doc, f"Input {prov.get('input')} · SHA-256 {prov.get('input_sha256')} · edxreview "
               f"{prov.get('edxreview_version')} · reference limits {prov.get('reference_set')}")

    _results_section(doc, context, results)
    _table1_section(doc, context)
    _figures_section(doc, figures, captions)
    _methods_section(doc, context)
    path = Path(path)
    doc.save(path)
    return path


def _results_section(doc, context: dict[str, Any], results: pd.DataFrame) -> None:
    """The results table: each measure with its n, percentage, CI and published count."""
    summary = context["summary"]
    doc.add_heading(_WORDS["page"]["results"], level=1)
    doc.add_paragraph(
        f"{summary['n_patients']} patients included"
        + (f", {summary['n_excluded']} excluded" if summary.get("n_excluded") else "")
        + f". Percentages are of included patients; 95 % confidence intervals by the "
          f"{summary['ci_method']}.")
    res = pd.DataFrame({
        "Measure": results["measure"], "n": results["n"], "Included": results["denominator"],
        "%": results["percent"].map(lambda v: "—" if pd.isna(v) else f"{v:.1f}"),
        "95 % CI": [("—" if pd.isna(lo) else f"{lo:.1f}–{hi:.1f}")
                    for lo, hi in zip(results["ci95_low"], results["ci95_high"])]})
    if "published_n" in results:
        res["Published study"] = (results["published_n"].astype("Int64").astype(str) + "/"
                                  + results["published_denominator"].astype("Int64")
                                  .astype(str)).where(results["published_n"].notna(), "")
    _table(doc, res, {"n", "Included", "%", "95 % CI", "Published study"},
           {"n": 0.45, "Included": 0.8, "%": 0.55}, first_in=2.8)
    if context.get("demo"):
        _note(doc, "Bundled demonstration cohort: synthetic data shaped like a published "
                   "study; the published counts are shown beside the results.")


def _table1_section(doc, context: dict[str, Any]) -> None:
    """Table 1 by lower motor neuron involvement, level rows indented, with its notes."""
    summary = context["summary"]
    t1 = context["table1"]
    doc.add_heading(_WORDS["table1"]["heading"], level=1)
    frame = t1.to_frame()
    frame["Missing"] = frame["Missing"].map(lambda v: "" if pd.isna(v) else f"{v:.0f}")
    # level rows indented under their variable, as in the HTML table (same row order)
    levels = t1.rows["level"].fillna("").astype(str).ne("").to_numpy()
    frame["Characteristic"] = frame["Characteristic"].where(
        ~levels, "    " + frame["Characteristic"].astype(str))
    _table(doc, frame, {c for c in frame.columns if c not in ("Characteristic", "Test")},
           {"Missing": 0.65, "p": 0.6, "Test": 1.0}, first_in=1.65)
    _note(doc, _WORDS["table1"]["included"].format(n=summary["n_patients"]))
    for note in t1.footnotes:
        _note(doc, note)


def _figures_section(doc, figures: dict[str, Any],
                     captions: dict[str, tuple[str, str]]) -> None:
    """Each figure as a picture with its numbered title and caption."""
    from docx.shared import Inches

    doc.add_heading(_WORDS["page"]["figures"], level=1)
    for i, (key, fig) in enumerate(figures.items(), start=1):
        doc.add_picture(_png(fig), width=Inches(6.0))
        title, caption = captions[key]
        par = doc.add_paragraph()
        run = par.add_run(_WORDS["figure_captions"]["heading"].format(n=i, title=title) + ". ")
        run.bold = True
        par.add_run(caption)


def _methods_section(doc, context: dict[str, Any]) -> None:
    """Methods: how the review ran, the classifications, rules and reference limits."""
    summary, prov = context["summary"], context["prov"]
    doc.add_heading(_WORDS["page"]["methods"], level=1)
    doc.add_paragraph(
        f"The review was run with edxreview {prov.get('edxreview_version')} on the workbook "
        f"{prov.get('input')} (SHA-256 {prov.get('input_sha256')}). Every nerve conduction "
        f"value was compared with the limit of the reference set {prov.get('reference_set')}. "
        f"Proportions are given with 95 % confidence intervals by the {summary['ci_method']}. "
        "Table 1 compares included patients with and without lower motor neuron involvement; "
        "the tests are named in its footnotes.")
    doc.add_heading("Classifications", level=2)
    for c in context["classifications"]:
        par = doc.add_paragraph()
        par.add_run(f"{c['topic']}. ").bold = True
        par.add_run(str(c["text"]))
    doc.add_heading("Rules and thresholds", level=2)
    for r in context["rules"]:
        par = doc.add_paragraph()
        par.add_run(f"{r['topic']}. ").bold = True
        par.add_run(str(r["text"]))
        if r.get("sources"):
            par.add_run(f" Sources: {r['sources']}.").italic = True
    basis = context["reference_basis"]
    doc.add_heading("Reference limits", level=2)
    doc.add_paragraph(str(basis["text"]))
    for c in basis.get("sources", []):
        doc.add_paragraph(str(c), style="List Bullet")
    if context.get("muap_basis"):
        doc.add_paragraph(str(context["muap_basis"]["text"]))
