"""HTML report, figures and exports."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .._check import check_bool
from .._compat import lazy_dir, lazy_names

if TYPE_CHECKING:
    from ._render import PdfUnavailableError


def render_report(result, out_dir: str | Path, *, html: bool = True, xlsx: bool = True,
                  docx: bool = False, pdf: bool = False, lang: str = "en",
                  force: bool = False) -> Path:
    """Write ``report.html``, ``results.xlsx`` and ``figures/`` (SVG, PNG, PDF) into a folder of
    their own, ``out_dir``, and on request ``report.docx`` and ``report.pdf``.

    The folder is written as ``edxreview run --out`` writes it: into a hidden temporary folder
    beside it, moved into place only when every file is complete, with the manifest
    ``.edxreview-output.json``; it may not be, contain or lie inside the study's input. An
    existing folder that is not empty is never written into or over without ``force``, and
    ``force`` replaces only a folder edxreview wrote that holds no file its manifest does not
    list and no listed file changed since it was written (the manifest records each file's size
    and SHA-256), so a user's files (a manuscript's ``report.docx``, also one edxreview wrote
    and the user then edited there) are never overwritten. To add the
    report to the tables, write them together: :meth:`edxreview.StudyResult.write`.

    Parameters
    ----------
    result : StudyResult
        From :func:`edxreview.review`.
    out_dir : str or Path
        The output folder (created if missing; an existing one must be empty, or ``force``).
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
    force : bool
        Replace an existing non-empty ``out_dir`` that edxreview wrote.

    Returns
    -------
    Path
        The path of ``report.html``.

    Raises
    ------
    InvalidParameterError
        ``html``, ``xlsx``, ``docx``, ``pdf`` or ``force`` is not a bool, or ``lang`` is not a
        language with a label set.
    PdfUnavailableError
        ``pdf`` is true and WeasyPrint is not installed (nothing is written).
    OutputExistsError
        ``out_dir`` exists and is not empty, and ``force`` is false.
    OutputPathError
        ``out_dir`` overlaps the study's input or reference file, is a file, holds files
        edxreview did not write, or is being written by another command; nothing is written.
    OSError
        ``out_dir`` cannot be created or written.

    Examples
    --------
    >>> import edxreview
    >>> result = edxreview.review(edxreview.demo_path())
    >>> edxreview.report.render_report(result, "report-only", xlsx=False).name
    'report.html'
    """
    from .._output import OutputFolder

    check_bool("force", force)
    check_report_options(html=html, xlsx=xlsx, docx=docx, pdf=pdf, lang=lang)
    with OutputFolder(out_dir, force=force, inputs=result._input_paths(), command="report",
                      spelled=("out_dir", "force=True")) as output:
        write_report_files(result, output.staging, html=html, xlsx=xlsx, docx=docx, pdf=pdf,
                           lang=lang)
        output.commit()
    return Path(out_dir) / "report.html"


def check_report_options(*, html: bool, xlsx: bool, docx: bool, pdf: bool, lang: str,
                         html_name: str = "html") -> None:
    """Refuse report options :func:`render_report` does not accept, before anything is
    written: a flag that is not a bool, a language without a label set, ``pdf`` without
    WeasyPrint. ``html_name`` is how the caller names the ``html`` flag in its messages
    (:meth:`edxreview.StudyResult.write` calls it ``report``)."""
    from ._render import check_pdf_available
    from .._words import load_labels

    for name, value in ((html_name, html), ("xlsx", xlsx), ("docx", docx), ("pdf", pdf)):
        check_bool(name, value)
    load_labels(lang)                       # an unknown language fails before any file
    if pdf:
        check_pdf_available()


def write_report_files(result, folder: Path, *, html: bool = True, xlsx: bool = True,
                       docx: bool = False, pdf: bool = False, lang: str = "en") -> Path:
    """The files :func:`render_report` writes, written into ``folder`` (the temporary folder
    of an output being written) as they are; the path of ``report.html``."""
    from ._render import render_cohort_report

    check_report_options(html=html, xlsx=xlsx, docx=docx, pdf=pdf, lang=lang)
    return render_cohort_report(result, folder, html=html, xlsx=xlsx, docx=docx, pdf=pdf,
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
