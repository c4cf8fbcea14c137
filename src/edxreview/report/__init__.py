"""HTML report, figures and exports."""

from __future__ import annotations

from pathlib import Path

from .._check import check_bool
from .._compat import private_names
from ._render import render_cohort_report


def render_report(result, out_dir: str | Path, *, html: bool = True, xlsx: bool = True) -> Path:
    """Write ``report.html``, ``results.xlsx`` and ``figures/*.svg`` into ``out_dir``.

    Parameters
    ----------
    result : StudyResult
        From :func:`edxreview.review`.
    out_dir : str or Path
        The output folder (created if missing).
    html : bool
        Write ``report.html`` and ``figures/*.svg``.
    xlsx : bool
        Write ``results.xlsx``.

    Returns
    -------
    Path
        The path of ``report.html``.

    Raises
    ------
    InvalidParameterError
        ``html`` or ``xlsx`` is not a bool.
    OSError
        ``out_dir`` cannot be created or written.

    Examples
    --------
    >>> import edxreview
    >>> result = edxreview.review(edxreview.demo_path())
    >>> edxreview.report.render_report(result, "report-only", xlsx=False).name
    'report.html'
    """
    check_bool("html", html)
    check_bool("xlsx", xlsx)
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    return render_cohort_report(result, out_dir, html=html, xlsx=xlsx)


__all__ = ['render_report']

# public before 0.2: importable with a DeprecationWarning
__getattr__ = private_names(__name__, {
    'render_agreement': '._agreement',
    'write_workbook': '._excel',
    'plot_muscle_findings': '._figures',
    'plot_nerve_findings': '._figures',
    'plot_overlap': '._figures',
    'plot_segmental_map': '._figures',
    'describe_classifications': '._methods',
    'describe_rules': '._methods',
})
