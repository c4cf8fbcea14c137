"""Settings shared by the whole test suite."""

import pytest


@pytest.fixture(autouse=True, scope="session")
def _svg_figures_only():
    """Reports written by tests save their figures as SVG only: the 300-dpi PNG and the PDF
    of each figure add seconds to every run (tests/report/test_figures.py checks them)."""
    from edxreview.report import _render

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_render, "FIGURE_FORMATS", ("svg",))
        yield
