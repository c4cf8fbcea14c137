"""Cohort counts, confidence intervals, Table 1 and group comparisons."""

from ._summary import CI_METHODS, MEASURE_LABELS, PUBLISHED, binomial_ci, summarize_cohort

__all__ = ["CI_METHODS", "MEASURE_LABELS", "PUBLISHED", "binomial_ci", "summarize_cohort"]
