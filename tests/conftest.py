"""Shared fixtures and markers.

- ``demo_result`` / ``demo_study``: the bundled 59-patient demo cohort, reviewed (or read and
  validated) once per test session. Treat them as read-only; a test that changes a table
  copies it first.
- ``@pytest.mark.shared_data("emglab-n2001", ...)``: the test needs those folders of the real
  recordings in ``../shared/data``; it is skipped, with the folder named, where they are absent.
  The ``shared_data`` fixture gives that folder's path.
- ``@pytest.mark.slow``: a test that takes more than about 10 s (fuzzing, whole cohorts). Slow
  tests still run in ``make test`` and CI; ``-m "not slow"`` leaves them out while working.
"""

from __future__ import annotations

from pathlib import Path

import pytest

#: the real recordings beside the repository (absent in a plain clone)
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

def pytest_configure(config):
    config.addinivalue_line(
        "markers", "shared_data(*folders): needs these folders of ../shared/data; skipped "
                   "with a reason where they are absent")

def pytest_runtest_setup(item):
    for mark in item.iter_markers(name="shared_data"):
        missing = [name for name in mark.args if not (SHARED_DATA / name).is_dir()]
        if missing or not SHARED_DATA.is_dir():
            pytest.skip(f"../shared/data/{', '.join(missing) or ''} (real recordings) is absent")

@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``: the real recordings (use with the ``shared_data`` marker)."""
    return SHARED_DATA

@pytest.fixture(scope="session")
def demo_result():
    """The demo cohort reviewed with the default options (about 1.5 s, once per session)."""
    from edxreview import demo_path, review

    return review(demo_path())

@pytest.fixture(scope="session")
def demo_study():
    """The demo cohort read and validated (a :class:`edxreview.io.Study`)."""
    from edxreview import demo_path
    from edxreview.io import load_study

    return load_study(demo_path())

@pytest.fixture(autouse=True, scope="session")
def _svg_figures_only():
    """Reports written by tests save their figures as SVG only: the 300-dpi PNG and the PDF
    of each figure add seconds to every run (tests/report/test_figures.py checks them)."""
    from edxreview.report import _render

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_render, "FIGURE_FORMATS", ("svg",))
        yield
