"""HTML report, figures and exports."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .._check import check_bool
from .._compat import lazy_dir, lazy_names

if TYPE_CHECKING:
    from ._render import PdfUnavailableError


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
        Language of the report's headings, flow diagram, Table 1, figures, patient summaries
        and finding words.

    Returns
    -------
    Path
        The path of ``report.html``.

    Raises
    ------
    InvalidParameterError
        ``html``, ``xlsx``, ``docx`` or ``pdf`` is not a bool, or ``lang`` is not a language
        with a label set.
    PdfUnavailableError
        ``pdf`` is true and WeasyPrint is not installed (nothing is written).
    OSError
        ``out_dir`` cannot be created or written.

    Examples
    --------
    >>> import edxreview
    >>> result = edxreview.review(edxreview.demo_path())
    >>> edxreview.report.render_report(result, "report-only", xlsx=False).name
    'report.html'
    """
    from ._render import render_cohort_report
    from ._summary import load_labels

    for name, value in (("html", html), ("xlsx", xlsx), ("docx", docx), ("pdf", pdf)):
        check_bool(name, value)
    load_labels(lang)                       # an unknown language fails before any file
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    return render_cohort_report(result, out_dir, html=html, xlsx=xlsx, docx=docx, pdf=pdf,
                                lang=lang)


__all__ = ['render_report']

# the renderer (Jinja, matplotlib, XlsxWriter) is imported on first use: a registry's partition
# workers count the figures' data in this package's modules and draw nothing; the names
# public before 0.2 are importable with a DeprecationWarning
_LAZY = {"PdfUnavailableError": "._render"}
__dir__ = lazy_dir(__name__, _LAZY)
__getattr__ = lazy_names(__name__, _LAZY, {
    'render_agreement': '._agreement',
    'write_workbook': '._excel',
    'plot_muscle_findings': '._figures',
    'plot_nerve_findings': '._figures',
    'plot_overlap': '._figures',
    'plot_segmental_map': '._figures',
    'describe_classifications': '._methods',
    'describe_rules': '._methods',
})
