"""HTML report, figures and exports."""

from __future__ import annotations

from pathlib import Path

from ._agreement import render_agreement
from ._excel import write_workbook
from ._figures import (figure_svg, plot_muscle_findings, plot_nerve_findings, plot_overlap,
                       plot_segmental_map, save_figure)
from ._methods import describe_classifications, describe_rules
from ._render import PdfUnavailableError, render_cohort_report


def render_report(result, out_dir: str | Path, *, html: bool = True, xlsx: bool = True,
                  docx: bool = False, pdf: bool = False, lang: str = "en") -> Path:
    """Write ``report.html``, ``results.xlsx`` and ``figures/`` (SVG, PNG, PDF) into ``out_dir``,
    and on request ``report.docx`` and ``report.pdf``.

    Parameters
    ----------
    result : StudyResult
        From :func:`edxreview.review`.
    out_dir : str or Path
        The output folder (created if missing).
    html : bool
        Write ``report.html`` and ``figures/*.svg`` (with ``.png`` at 300 dpi and ``.pdf``).
    xlsx : bool
        Write ``results.xlsx``.
    docx : bool
        Write ``report.docx``: results with confidence intervals, Table 1, figures (PNG) and
        methods, for a manuscript.
    pdf : bool
        Write ``report.pdf`` from the HTML report; needs the optional WeasyPrint
        (``pip install 'edxreview[pdf]'``).
    lang : {"en", "zh"}
        Language of the report's headings, patient summaries and finding words.

    Returns
    -------
    Path
        The path of ``report.html``.

    Raises
    ------
    PdfUnavailableError
        ``pdf`` is true and WeasyPrint is not installed (nothing is written).
    """
    from ._summary import load_labels

    load_labels(lang)                       # an unknown language fails before any file
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    return render_cohort_report(result, out_dir, html=html, xlsx=xlsx, docx=docx, pdf=pdf,
                                lang=lang)


__all__ = ["PdfUnavailableError", "describe_classifications", "describe_rules", "figure_svg",
           "plot_muscle_findings", "plot_nerve_findings", "plot_overlap", "plot_segmental_map",
           "render_agreement", "render_report", "save_figure", "write_workbook"]
