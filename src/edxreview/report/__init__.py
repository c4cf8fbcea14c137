"""HTML report, figures and exports."""

from __future__ import annotations

from pathlib import Path

from ._agreement import render_agreement
from ._excel import write_workbook
from ._figures import (plot_muscle_findings, plot_nerve_findings, plot_overlap,
                       plot_segmental_map)
from ._methods import describe_classifications, describe_rules
from ._render import render_cohort_report


def render_report(result, out_dir: str | Path) -> Path:
    """Write ``report.html``, ``results.xlsx`` and ``figures/*.svg`` into ``out_dir``.

    Parameters
    ----------
    result : StudyResult
        From :func:`edxreview.review_study`.
    out_dir : str or Path
        The output folder (created if missing).

    Returns
    -------
    Path
        The path of ``report.html``.
    """
    return render_cohort_report(result, out_dir)


__all__ = ["describe_classifications", "describe_rules", "plot_muscle_findings",
           "plot_nerve_findings", "plot_overlap", "plot_segmental_map", "render_agreement",
           "render_report",
           "write_workbook"]
