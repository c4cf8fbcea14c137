"""Cohort counts with 95 % binomial confidence intervals (spec §3, summary.json)."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
# statsmodels is imported by the functions that use it: a review's partition workers import
# this module and run none of them

from .._check import check_option
from .._words import english_words
from ..classify._classify import CLASSIFICATIONS

#: the binomial confidence interval methods, by id, in words (table ``ci_methods`` of
#: ``data/labels_en.toml``)
CI_METHODS = english_words("ci_methods")

#: the classifications counted, by column, in words (table ``classes`` of
#: ``data/labels_en.toml``)
MEASURE_LABELS = english_words("classes")

def _load_published() -> tuple[dict[str, int], int]:
    from ..knowledge._tables import _data_path
    import tomllib

    with open(_data_path("published_study.toml"), "rb") as fh:
        data = tomllib.load(fh)
    return {k: int(v) for k, v in data["counts"].items()}, int(data["n_patients"])


#: the published study's counts and size (knowledge/data/published_study.toml), shown beside
#: the demo cohort's results
PUBLISHED, PUBLISHED_N_PATIENTS = _load_published()


def binomial_ci(n: np.ndarray | int, denominator: np.ndarray | int,
                method: Literal["wilson", "beta"] = "wilson") -> tuple[np.ndarray, np.ndarray]:
    """95 % binomial confidence interval, in percent.

    Parameters
    ----------
    n, denominator : int or array of int
    method : {"wilson", "beta"}
        ``"wilson"`` (score interval) or ``"beta"`` (Clopper–Pearson), computed by
        :func:`statsmodels.stats.proportion.proportion_confint`.

    Returns
    -------
    low, high : float or array of float
        The interval's bounds in percent (NaN where ``denominator`` is 0).

    Raises
    ------
    InvalidParameterError
        ``method`` is not one of the allowed methods.

    Examples
    --------
    >>> from edxreview.cohort import binomial_ci
    >>> [round(float(b), 1) for b in binomial_ci(13, 59)]
    [13.4, 34.1]
    >>> [round(float(b), 1) for b in binomial_ci(13, 59, method="beta")]
    [12.3, 34.7]
    """
    from statsmodels.stats.proportion import proportion_confint
    check_option("method", method, CI_METHODS)
    n = np.asarray(n)
    d = np.asarray(denominator)
    safe = np.where(d > 0, d, 1)
    lo, hi = proportion_confint(n, safe, alpha=0.05, method=method)
    lo = np.where(d > 0, lo, np.nan)
    hi = np.where(d > 0, hi, np.nan)
    return np.round(100 * lo, 1), np.round(100 * hi, 1)


def summarize_cohort(patients: pd.DataFrame, method: Literal["wilson", "beta"] = "wilson") -> dict:
    """Counts, percentages and 95 % CIs of the six measures over included patients.

    Parameters
    ----------
    patients : DataFrame
        ``patients`` table from :func:`edxreview.classify.classify_patients`.
    method : {"wilson", "beta"}

    Returns
    -------
    dict
        ``n_patients``, ``n_excluded``, ``ci_method`` (the method's display name, in
        English), ``ci_method_id`` (its id, ``method``) and ``measures`` as in spec §3.

    Raises
    ------
    InvalidParameterError
        ``method`` is not one of the allowed methods (checked before counting).

    Examples
    --------
    >>> import edxreview
    >>> result = edxreview.review(edxreview.demo_path())
    >>> summary = edxreview.cohort.summarize_cohort(result.patients, method="beta")
    >>> summary["measures"]["lmn_involvement"]["n"], summary["ci_method"]  # doctest: +ELLIPSIS
    (9, '...Clopper...')
    """
    check_option("method", method, CI_METHODS)
    inc = patients[patients["included"]]
    denominator = int(len(inc))
    counts = np.array([int(inc[c].sum()) for c in CLASSIFICATIONS])
    lo, hi = binomial_ci(counts, np.full(len(counts), denominator), method)
    measures = {}
    for i, col in enumerate(CLASSIFICATIONS):
        pct = round(100.0 * counts[i] / denominator, 1) if denominator else None
        measures[col] = {
            "n": int(counts[i]), "denominator": denominator, "percent": pct,
            "ci95": [None if np.isnan(lo[i]) else float(lo[i]),
                     None if np.isnan(hi[i]) else float(hi[i])],
            "label": MEASURE_LABELS[col],
        }
    return {"n_patients": denominator, "n_excluded": int((~patients["included"]).sum()),
            "ci_method": CI_METHODS[method], "ci_method_id": method, "measures": measures}
