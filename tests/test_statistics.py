"""Confidence intervals checked against values computed independently."""

import numpy as np
import pytest
from scipy.stats import binomtest

from edxreview.cohort import binomial_ci
from edxreview import InvalidParameterError


@pytest.mark.parametrize("n, d", [(13, 59), (7, 59), (4, 59), (2, 59), (9, 59), (0, 20), (20, 20)])
def test_wilson_matches_scipy(n, d):
    # scipy's binomtest(...).proportion_ci(method="wilson") is an independent implementation
    # (R: prop.test(n, d, correct = FALSE)$conf.int gives the same interval)
    ref = binomtest(n, d).proportion_ci(confidence_level=0.95, method="wilson")
    lo, hi = binomial_ci(n, d, "wilson")
    assert float(lo) == pytest.approx(100 * ref.low, abs=0.05)
    assert float(hi) == pytest.approx(100 * ref.high, abs=0.05)


@pytest.mark.parametrize("n, d", [(13, 59), (4, 59), (0, 10), (10, 10)])
def test_clopper_pearson_matches_scipy(n, d):
    ref = binomtest(n, d).proportion_ci(confidence_level=0.95, method="exact")
    lo, hi = binomial_ci(n, d, "beta")
    assert float(lo) == pytest.approx(100 * ref.low, abs=0.05)
    assert float(hi) == pytest.approx(100 * ref.high, abs=0.05)


def test_wilson_worked_example():
    # Wilson score interval by hand for 13/59, z = 1.959964: centre 0.23745, half-width 0.10389
    lo, hi = binomial_ci(13, 59)
    assert (float(lo), float(hi)) == (13.4, 34.1)


def test_empty_denominator_gives_no_interval():
    lo, hi = binomial_ci(np.array([0]), np.array([0]))
    assert np.isnan(lo[0]) and np.isnan(hi[0])


def test_unknown_method_is_named():
    with pytest.raises(InvalidParameterError, match="'method' parameter: 'wald'. Allowed values are 'wilson' and 'beta'"):
        binomial_ci(1, 2, "wald")
