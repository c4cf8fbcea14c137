"""Fixtures of the report tests."""

from __future__ import annotations

from pathlib import Path

import pytest


class _Reports(dict):
    """The demo's report in a language, rendered the first time a test asks for it."""

    def __init__(self, result, folders):
        super().__init__()
        self._result, self._folders = result, folders

    def __missing__(self, lang: str) -> Path:
        from edxreview.report import render_report

        folder = self._folders.mktemp(f"report_{lang}")
        render_report(self._result, folder, xlsx=False, lang=lang)
        self[lang] = folder
        return folder


@pytest.fixture(scope="session")
def demo_reports(demo_result, tmp_path_factory) -> dict[str, Path]:
    """The demo cohort's report (no workbook) by language: its folder, rendered once per
    session; read it, do not write to it."""
    return _Reports(demo_result, tmp_path_factory)


@pytest.fixture(scope="session")
def zh_page(demo_reports) -> str:
    """The demo's report.html in Chinese."""
    return (demo_reports["zh"] / "report.html").read_text(encoding="utf-8")
