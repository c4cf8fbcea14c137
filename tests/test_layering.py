"""Imports flow one way: io → knowledge → interpret → classify → cohort → report; signal feeds
interpret; synth builds inputs from io and knowledge only; the pipeline may use every layer
below it; nothing but the command line imports cli. Checked over every module, relative and
absolute imports alike (function-level imports included)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "edxreview"
LAYERS = ["io", "knowledge", "interpret", "classify", "cohort", "report"]
SUBPACKAGES = set(LAYERS) | {"signal", "synth", "cli"}
FOUNDATION = {"_check", "_compat", "_errors", "_tables", "_output", "_words"}  # used by every layer


def _forbidden(unit: str) -> set[str]:
    """What ``unit`` (a subpackage or a top-level module) may not import."""
    everything = SUBPACKAGES | {"_pipeline", "_partition", "_privacy"}
    if unit in ("cli", "__main__"):
        return set()
    if unit in ("_pipeline", "_partition", "__init__"):
        return {"cli"}
    if unit in FOUNDATION:
        return everything
    if unit == "_privacy":  # de-identifies a validated Study
        return everything - {"io", "knowledge"}
    if unit == "signal":
        return everything - {"io", "knowledge"}
    if unit == "synth":
        return everything - {"io", "knowledge"}
    later = set(LAYERS[LAYERS.index(unit) + 1:])
    if unit == "io":
        later.discard("knowledge")  # the validator looks names up in the anatomy vocabulary
    feeds = {"signal"} if LAYERS.index(unit) >= LAYERS.index("interpret") else set()
    return later | ({"signal", "synth"} - feeds) | {"cli", "_pipeline", "_partition", "_privacy"}


def _imports(path: Path, source: str | None = None) -> set[str]:
    """The edxreview units (``io``, ``_pipeline``…) a module imports."""
    rel = path.relative_to(SRC)
    package = ["edxreview", *rel.parts[:-1]]
    found = set()
    for node in ast.walk(ast.parse(source if source is not None else path.read_text(encoding="utf-8"))):
        modules = []
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[:len(package) - node.level + 1]
            modules = ([".".join(base + [node.module])] if node.module
                       else [".".join(base + [a.name]) for a in node.names])
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules = [node.module]
        elif isinstance(node, ast.Import):
            modules = [a.name for a in node.names]
        found |= {m.split(".")[1] for m in modules if m.startswith("edxreview.")}
    return found


def _units():
    units = {}
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC)
        units.setdefault(rel.parts[0] if len(rel.parts) > 1 else rel.stem, []).append(path)
    return units


UNITS = _units()


def test_every_package_is_covered():
    assert SUBPACKAGES | {"_pipeline", "_privacy"} | FOUNDATION <= set(UNITS)


@pytest.mark.parametrize("unit", sorted(UNITS))
def test_imports_flow_one_way(unit):
    forbidden = _forbidden(unit)
    for path in UNITS[unit]:
        bad = (_imports(path) - {unit}) & forbidden
        assert not bad, f"{path.relative_to(SRC)} imports {sorted(bad)}"


@pytest.mark.parametrize("source", [
    "def f():\n    from edxreview.cohort import summarize_cohort\n",
    "from ..cohort._summary import binomial_ci\n", "import edxreview.cohort\n",
    "from .. import cohort\n"], ids=["absolute in a function", "relative", "import", "from .."])
def test_the_checker_sees_every_form_of_import(source):
    probe = SRC / "signal" / "_probe.py"  # never written: the source is passed in
    assert "cohort" in _imports(probe, source) & _forbidden("signal")
