"""HTML report, figures and exports."""

from __future__ import annotations

from pathlib import Path

from ._agreement import render_agreement
from ._excel import write_workbook
from ._figures import (figure_svg, plot_muscle_findings, plot_nerve_findings, plot_overlap,
                       plot_segmental_map, save_figure)
from ._methods import describe_classifications, describe_rules
from ._render import render_cohort_report


def render_report(result, out_dir: str | Path, *, html: bool = True, xlsx: bool = True) -> Path:
    """Write ``report.html``, ``results.xlsx`` and ``figures/`` (SVG, PNG, PDF) into ``out_dir``.

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

    Returns
    -------
    Path
        The path of ``report.html``.
    """
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    return render_cohort_report(result, out_dir, html=html, xlsx=xlsx)


__all__ = ["describe_classifications", "describe_rules", "figure_svg", "plot_muscle_findings",
           "plot_nerve_findings", "plot_overlap", "plot_segmental_map", "render_agreement",
           "render_report",
           "save_figure", "write_workbook"]
