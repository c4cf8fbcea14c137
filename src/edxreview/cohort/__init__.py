"""Cohort counts, confidence intervals, Table 1 and group comparisons."""

from ._agreement import (
    ADJUDICATION_COLUMNS, AGREEMENT_COLUMNS, AUDIT_COLUMNS, CLASSIFICATIONS, SOFTWARE,
    adjudication_sheet, apply_adjudication, cohen_kappa, compare_counts, compute_agreement,
    find_disagreements, gwet_ac1, ratings_table, read_adjudication, read_readers, read_software,
)
from ._centres import CENTRE_COLUMNS, summarize_centres
from ._compare import TEST_NAMES, Comparison, compare_categorical, compare_continuous, is_skewed
from ._summary import (
    CI_METHODS, MEASURE_LABELS, PUBLISHED, PUBLISHED_N_PATIENTS, binomial_ci, summarize_cohort,
)
from ._table1 import (
    TABLE1_LEVELS, TABLE1_VARIABLES, Table1, build_characteristics, compute_table1, format_p)

__all__ = ["ADJUDICATION_COLUMNS", "AGREEMENT_COLUMNS", "AUDIT_COLUMNS", "CLASSIFICATIONS",
           "SOFTWARE", "adjudication_sheet", "apply_adjudication", "cohen_kappa", "compare_counts",
           "compute_agreement", "read_adjudication",
           "find_disagreements", "gwet_ac1", "ratings_table", "read_readers", "read_software",
           "CI_METHODS", "MEASURE_LABELS", "PUBLISHED", "PUBLISHED_N_PATIENTS", "TABLE1_LEVELS",
           "TABLE1_VARIABLES", "TEST_NAMES", "Comparison", "Table1", "binomial_ci",
           "build_characteristics", "compare_categorical", "compare_continuous", "compute_table1",
           "format_p", "is_skewed", "summarize_cohort", "CENTRE_COLUMNS", "summarize_centres"]
