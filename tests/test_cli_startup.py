"""The ``emg`` command's modules load no numerical library when imported: the command line
builds its parser from them at every start, so numpy, pandas, scipy and the rest are imported
inside the functions that use them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

CLI = Path(__file__).resolve().parents[1] / "src" / "edxreview" / "cli"
HEAVY = ("numpy", "pandas", "scipy", "matplotlib", "sklearn", "pyarrow", "duckdb", "polars")
EMG_MODULES = sorted(p.stem for p in CLI.glob("*emg*.py"))


def test_emg_modules_are_found():
    assert {"emg", "_emg_analyze", "_emg_reference", "_emg_subjects"} <= set(EMG_MODULES)


@pytest.mark.parametrize("module", EMG_MODULES)
def test_emg_module_imports_no_numerical_library(module):
    code = (f"import sys, edxreview.cli.{module}\n"
            f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"importing edxreview.cli.{module} loads {out.stdout.split()}"
