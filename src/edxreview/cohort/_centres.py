"""Per-centre breakdown of the six measures, for a multi-centre registry (``centre`` column)."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from .._check import check_option
from ..classify._classify import CLASSIFICATIONS
from ._summary import CI_METHODS, MEASURE_LABELS, binomial_ci

#: the columns of :func:`summarize_centres`
CENTRE_COLUMNS = ["centre", "measure", "label", "n", "denominator", "percent", "ci95_low",
                  "ci95_high"]


def summarize_centres(patients: pd.DataFrame, centres: pd.DataFrame,
                      method: Literal["wilson", "beta"] = "wilson") -> pd.DataFrame:
    """Counts, percentages and 95 % CIs of the six measures in each centre.

    Parameters
    ----------
    patients : DataFrame
        The per-patient classifications (``patient_id``, ``included`` and the six measures).
    centres : DataFrame
        ``patient_id`` and ``centre`` (the typed ``patients`` sheet); patients without a centre
        are left out of the breakdown.
    method : {"wilson", "beta"}
        The binomial confidence interval, as for the cohort.

    Returns
    -------
    DataFrame
        One row per centre and measure (:data:`CENTRE_COLUMNS`), centres sorted by name,
        measures in the cohort's order; percentages and CI limits in percent. Empty when no
        patient has a centre.
    """
    check_option("method", method, CI_METHODS)
    if "centre" not in centres or not centres["centre"].notna().any():
        return pd.DataFrame(columns=CENTRE_COLUMNS)
    centre = centres.drop_duplicates("patient_id").set_index("patient_id")["centre"]
    inc = patients[patients["included"].astype(bool)]
    frame = pd.DataFrame({"centre": centre.reindex(inc["patient_id"].to_numpy()).to_numpy(),
                          **{c: inc[c].astype(bool).to_numpy() for c in CLASSIFICATIONS}})
    frame = frame[frame["centre"].notna()]
    if not len(frame):
        return pd.DataFrame(columns=CENTRE_COLUMNS)
    grouped = frame.groupby("centre", sort=True)
    counts = grouped[list(CLASSIFICATIONS)].sum()
    sizes = grouped.size()
    long = counts.stack().rename("n").reset_index().rename(columns={"level_1": "measure"})
    long["denominator"] = sizes.reindex(long["centre"]).to_numpy()
    lo, hi = binomial_ci(long["n"].to_numpy(), long["denominator"].to_numpy(), method)
    long["percent"] = np.round(100.0 * long["n"] / long["denominator"], 1)
    long["ci95_low"], long["ci95_high"] = lo, hi
    long["label"] = long["measure"].map(MEASURE_LABELS)
    long["n"] = long["n"].astype(int)
    long["denominator"] = long["denominator"].astype(int)
    return long[CENTRE_COLUMNS].reset_index(drop=True)
