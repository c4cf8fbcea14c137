"""The documentation: the example notebook is a valid notebook whose cells all run, and the
Sphinx site builds without a warning (where Sphinx is installed: ``pip install .[docs]``)."""

from __future__ import annotations

import importlib
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "docs" / "examples" / "review.ipynb"


@pytest.mark.slow
def test_the_example_notebook_runs(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat", reason="nbformat is in the dev extra")
    import matplotlib

    matplotlib.use("Agg")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__main__"}
    for number, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            exec(compile(cell.source, f"{NOTEBOOK.name} cell {number}", "exec"), namespace)
    assert int(namespace["lmn"].shape[0]) == 9
    assert "report.html" in {p.name for p in namespace["folder"].iterdir()}


def test_the_notebook_is_stored_without_outputs():
    nbformat = pytest.importorskip("nbformat", reason="nbformat is in the dev extra")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not c.get("outputs") for c in notebook.cells if c.cell_type == "code")


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("sphinx") is None
                    or importlib.util.find_spec("numpydoc") is None
                    or importlib.util.find_spec("myst_parser") is None,
                    reason="Sphinx, numpydoc and myst-parser are in the docs extra")
def test_the_docs_build_without_warnings(tmp_path):
    run = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b",
                          "html", str(ROOT / "docs"), str(tmp_path / "html")],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-4000:]
    api = (tmp_path / "html" / "api.html").read_text(encoding="utf-8")
    documented = set(re.findall(r'id="(edxreview[\w.]*)"', api))
    packages = re.findall(r"^\.\. automodule:: (\S+)",
                          (ROOT / "docs" / "api.rst").read_text(encoding="utf-8"), re.M)
    assert "edxreview" in packages
    missing = [f"{package}.{name}" for package in packages
               for name in importlib.import_module(package).__all__
               if name != "__version__" and f"{package}.{name}" not in documented]
    assert not missing, missing   # a public name resolved on first use is documented too
