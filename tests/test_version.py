"""The version is stated in four places; they must agree."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

import edxreview

ROOT = Path(__file__).resolve().parents[1]


def test_package_pyproject_citation_and_changelog_agree():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    citation = (ROOT / "CITATION.cff").read_text(encoding="utf-8")
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    cff = re.search(r"^version:\s*(\S+)", citation, re.M)
    released = re.search(r"^## (\d+\.\d+\.\d+)", changelog, re.M)
    if cff is None or released is None:
        pytest.fail("CITATION.cff or CHANGELOG.md does not state a version")
    assert {pyproject["project"]["version"], cff.group(1), released.group(1)} == {
        edxreview.__version__}
