"""Arguments are checked before any work, with errors from the project's family naming the
argument and the closest allowed value (MNE's _check_option)."""

from __future__ import annotations

import numpy as np
import pytest

from edxreview import InvalidParameterError
from edxreview.cohort import compare_categorical, compare_continuous, cohen_kappa, gwet_ac1
from edxreview.signal import Recording, analyze_recording, read_signal
from edxreview.synth import generate_cohort


def _quiet():
    return Recording(samples=np.zeros(40_000), fs_hz=20_000.0, calibrated=True, name="q")


@pytest.mark.parametrize(("call", "match"), [
    (lambda: read_signal("x.bin", format="RAW"), r"'format'.*Did you mean 'raw'\?"),
    (lambda: analyze_recording(_quiet(), sorting="Pursuit"), r"'sorting'.*Did you mean 'pursuit'"),
    (lambda: analyze_recording(_quiet(), reference="ilustrative"),
     r"'reference'.*Did you mean 'illustrative'"),
    (lambda: analyze_recording(np.zeros(10)), r"'rec'.*of type ndarray"),
    (lambda: generate_cohort(seed=1, n=0), r"'n' parameter: 0"),
    (lambda: generate_cohort(seed="1"), r"'seed'.*of type str"),
    (lambda: compare_continuous([1.0, 2.0]), "at least two groups"),
    (lambda: compare_categorical([[1, -1], [2, 3]]), "non-negative"),
    (lambda: cohen_kappa([[1, 2, 3]]), "q × q table"),
    (lambda: gwet_ac1([[1, 2], [3, np.nan]]), "finite"),
], ids=["format", "sorting", "reference", "recording type", "n", "seed", "one group",
        "negative count", "kappa shape", "ac1 nan"])
def test_a_bad_argument_is_refused_with_its_name(call, match):
    with pytest.raises(InvalidParameterError, match=match):
        call()


def test_parameter_errors_are_value_errors_for_callers_that_catch_those():
    with pytest.raises(ValueError):
        generate_cohort(seed=1, n=-3)


# three groups: the Kruskal–Wallis H test, checked by hand: ranks 1–12 in groups of 4 give rank
# sums 10, 26, 42; H = 12 / (12 · 13) · (10² + 26² + 42²) / 4 − 3 · 13 = 9.846 (no ties), and
# with 2 degrees of freedom p = exp(−H / 2) = 0.007277
def test_three_groups_are_compared_with_kruskal_wallis():
    res = compare_continuous([1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12])
    assert res.test == "kruskal" and res.test_name == "Kruskal–Wallis H test"
    assert res.p_value == pytest.approx(0.007277, abs=5e-6)
    assert compare_continuous([2, 2], [2, 2], [2]).p_value == 1.0
    assert compare_continuous([1, 2], [], [3]).note == "not tested"


def test_a_broken_subcommand_fails_loudly(monkeypatch):
    import sys

    from edxreview import cli

    monkeypatch.setitem(sys.modules, "edxreview.cli.agreement", None)  # import fails
    with pytest.raises(ImportError):
        cli.build_parser()


def test_an_internal_error_exits_3_without_a_traceback(monkeypatch, capsys):
    from edxreview import cli
    from edxreview.io import _validate

    def bug(raw):
        raise ZeroDivisionError("a bug")

    monkeypatch.delenv("EDXREVIEW_DEBUG", raising=False)
    monkeypatch.setattr("edxreview.io.validate_workbook", bug)
    monkeypatch.setattr(_validate, "validate_workbook", bug)
    from edxreview import demo_path

    assert cli.main(["validate", str(demo_path())]) == 3
    err = capsys.readouterr().err
    assert "internal error" in err and "ZeroDivisionError" in err and "Traceback" not in err
