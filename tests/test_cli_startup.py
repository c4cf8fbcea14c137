"""The command line's modules load no numerical library when imported: ``edxreview`` builds
its parser from all of them at every start (``--help`` included), so numpy, pandas, scipy and
the rest are imported inside the functions that use them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

CLI = Path(__file__).resolve().parents[1] / "src" / "edxreview" / "cli"
HEAVY = ("numpy", "pandas", "scipy", "matplotlib", "sklearn", "pyarrow", "duckdb", "polars")
EMG_MODULES = sorted(p.stem for p in CLI.glob("*emg*.py"))
PARSER_MODULES = ["reference"]


def test_emg_modules_are_found():
    assert {"emg", "_emg_analyze", "_emg_reference", "_emg_subjects"} <= set(EMG_MODULES)


@pytest.mark.parametrize("module", EMG_MODULES)
def test_emg_module_imports_no_numerical_library(module):
    code = (f"import sys, edxreview.cli.{module}\n"
            f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"importing edxreview.cli.{module} loads {out.stdout.split()}"


@pytest.mark.parametrize("module", PARSER_MODULES)
def test_the_parser_modules_import_no_numerical_library(module):
    name = "edxreview.cli" if module == "__init__" else f"edxreview.cli.{module}"
    code = (f"import sys, {name}\n"
            f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"importing {name} loads {out.stdout.split()}"


def test_the_whole_parser_is_built_without_a_numerical_library():
    code = ("import sys\nfrom edxreview.cli import build_parser\nbuild_parser()\n"
            f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"building the parser loads {out.stdout.split()}"
