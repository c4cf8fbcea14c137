"""HTML report, figures and exports."""

from ._basic import render_basic_report


def render_report(result, out_dir):
    """Write ``report.html`` (and the report's other files) into ``out_dir``."""
    from pathlib import Path

    return render_basic_report(result, Path(out_dir) / "report.html")


__all__ = ["render_basic_report", "render_report"]
