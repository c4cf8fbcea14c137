"""Group comparisons with the test chosen for the data (SciPy implementations).

Categorical variables: Fisher's exact test when any expected cell count is below 5, Pearson's
chi-squared test otherwise. Continuous variables: Mann–Whitney U test when either group departs
from normality (Shapiro–Wilk p < 0.05, skewness, or fewer than 8 values), Welch's t-test
otherwise; three or more groups, the Kruskal–Wallis H test. Each function returns the p-value
with the name of the test that produced it, so the report can name it in a footnote.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd
# SciPy is imported by the functions that use it: a review's partition workers import
# this module and run none of them

from .._check import check_bool
from .._errors import InvalidParameterError
from .._words import english_words

#: names of the tests, as printed in footnotes (table ``tests`` of ``data/labels_en.toml``)
TEST_NAMES = english_words("tests")

#: r×c tables above this many observations use chi-squared (exact enumeration grows too fast)
_FISHER_RXC_MAX_N = 2000


@lru_cache(maxsize=1)
def test_settings() -> dict:
    """The ``[tests]`` section of ``knowledge/data/statistics.toml``: how a test is chosen
    (expected-count rule, normality check), each a declared convention with its reason."""
    text = resources.files("edxreview.knowledge.data").joinpath("statistics.toml").read_text(
        "utf-8")
    return tomllib.loads(text)["tests"]


@dataclass(frozen=True)
class Comparison:
    """Result of one test: ``test`` is a key of :data:`TEST_NAMES` (or ``""`` if none ran).

    Attributes
    ----------
    test : str
        The key of the test that ran (``"fisher"``, ``"chi2"``, ``"mannwhitney"``, ``"welch"``,
        ``"kruskal"``), or ``""`` when none ran.
    p_value : float
        Its p-value (NaN when none ran).
    note : str
        Why no test ran, or a caveat (``"expected counts below 5"``).

    Examples
    --------
    >>> from edxreview.cohort import compare_categorical
    >>> result = compare_categorical([[8, 2], [3, 9]])
    >>> result.test_name, round(result.p_value, 4)
    ("Pearson's chi-squared test", 0.0102)
    """

    test: str
    p_value: float
    note: str = ""

    @property
    def test_name(self) -> str:
        return TEST_NAMES.get(self.test, "")


_NONE = Comparison("", float("nan"), "not tested")


def compare_categorical(table: pd.DataFrame | np.ndarray) -> Comparison:
    """Test independence of a levels × groups contingency table.

    Rows or columns that are all zero (a level seen in neither group, a group with no
    non-missing value) are dropped first, so a level absent from one group is kept and tested.

    Parameters
    ----------
    table : DataFrame or array of int
        Counts, one row per level and one column per group.

    Returns
    -------
    Comparison
        Fisher's exact test when any expected count is below 5 (2×2 at any size; r×c up to
        2000 observations), Pearson's chi-squared test otherwise.

    Raises
    ------
    InvalidParameterError
        ``table`` holds a negative or non-finite count.

    Examples
    --------
    >>> from edxreview.cohort import compare_categorical
    >>> compare_categorical([[8, 2], [3, 9]]).test
    'chi2'
    >>> compare_categorical([[3, 0], [1, 4]]).test_name  # an expected count below 5
    "Fisher's exact test"
    """
    from scipy import stats
    counts = np.asarray(table, dtype=float)
    if counts.size and (not np.isfinite(counts).all() or (counts < 0).any()):
        raise InvalidParameterError(
            "Invalid value for the 'table' parameter: counts must be finite and non-negative.")
    counts = counts[counts.sum(axis=1) > 0][:, counts.sum(axis=0) > 0] if counts.size else counts
    if counts.ndim != 2 or counts.shape[0] < 2 or counts.shape[1] < 2:
        return _NONE
    n = counts.sum()
    expected = np.outer(counts.sum(axis=1), counts.sum(axis=0)) / n
    below = test_settings()["fisher_expected_below"]
    small = bool((expected < below).any())
    if small and (counts.shape == (2, 2) or n <= _FISHER_RXC_MAX_N):
        res = stats.fisher_exact(counts.astype(int))
        return Comparison("fisher", float(res.pvalue))
    res = stats.chi2_contingency(counts, correction=False)
    note = f"expected counts below {below}" if small else ""
    return Comparison("chi2", float(res.pvalue), note)


def is_skewed(values: pd.Series | np.ndarray) -> bool:
    """Whether a sample should be summarised by median and IQR rather than mean and SD.

    True when it has fewer than 8 values, or its Shapiro–Wilk test gives p < 0.05
    (on at most 5000 values, the test's valid range), or it is constant.
    """
    from scipy import stats
    settings = test_settings()
    x = np.asarray(pd.to_numeric(pd.Series(values), errors="coerce").dropna(), dtype=float)
    if len(x) < settings["normality_min_n"] or np.ptp(x) == 0:
        return True
    if len(x) > settings["shapiro_max_n"]:
        x = np.sort(x)[np.linspace(0, len(x) - 1, settings["shapiro_max_n"]).astype(int)]
    return bool(stats.shapiro(x).pvalue < settings["normality_alpha"])


def compare_continuous(*groups: pd.Series | np.ndarray, skewed: bool | None = None) -> Comparison:
    """Compare a continuous variable between two groups, or among three or more.

    Parameters
    ----------
    *groups : arrays of numbers
        Two or more groups; missing values are dropped.
    skewed : bool, optional
        For two groups, use the Mann–Whitney U test; by default decided with
        :func:`is_skewed` on each group. Three or more groups are always compared with the
        Kruskal–Wallis H test, which does not assume normality.

    Returns
    -------
    Comparison
        Two groups: Mann–Whitney U (two-sided) for skewed data, Welch's t-test otherwise.
        Three or more: Kruskal–Wallis H. No test (``note`` ``"not tested"``) when a group has
        no values, or (Welch) fewer than two.

    Raises
    ------
    InvalidParameterError
        Fewer than two groups are given, or ``skewed`` is not a bool or None.

    Examples
    --------
    >>> from edxreview.cohort import compare_continuous
    >>> compare_continuous([1.0, 2, 3, 4, 5], [3.0, 4, 5, 6, 7, 8])
    Comparison(test='mannwhitney', p_value=0.066..., note='')
    >>> compare_continuous([1.0, 2, 3], [4.0, 5, 6], [7.0, 8, 9]).test_name
    'Kruskal–Wallis H test'
    """
    from scipy import stats
    if len(groups) < 2:
        raise InvalidParameterError(
            f"compare_continuous needs at least two groups to compare; {len(groups)} given")
    if skewed is not None:
        check_bool("skewed", skewed)
    xs = [np.asarray(pd.to_numeric(pd.Series(g), errors="coerce").dropna(), dtype=float)
          for g in groups]
    if any(len(x) == 0 for x in xs):
        return _NONE
    if len(xs) > 2:
        if np.ptp(np.concatenate(xs)) == 0:  # every value equal: no difference to find
            return Comparison("kruskal", 1.0)
        return Comparison("kruskal", float(stats.kruskal(*xs).pvalue))
    if skewed is None:
        skewed = any(is_skewed(x) for x in xs)
    if skewed:
        if np.ptp(np.concatenate(xs)) == 0:
            return Comparison("mannwhitney", 1.0)
        res = stats.mannwhitneyu(xs[0], xs[1], alternative="two-sided")
        return Comparison("mannwhitney", float(res.pvalue))
    if any(len(x) < 2 for x in xs):
        return _NONE
    res = stats.ttest_ind(xs[0], xs[1], equal_var=False)
    return Comparison("welch", float(res.pvalue))
