"""Cohort counts, confidence intervals, Table 1 and group comparisons."""

from .._compat import private_names
from ._agreement import (
    apply_adjudication, cohen_kappa, compute_agreement, find_disagreements, gwet_ac1,
    ratings_table, read_adjudication, read_readers, read_software,
)
from ._compare import Comparison, compare_categorical, compare_continuous
from ._summary import binomial_ci, summarize_cohort
from ._table1 import Table1, compute_table1

__all__ = ['Comparison', 'Table1', 'apply_adjudication', 'binomial_ci', 'cohen_kappa',
           'compare_categorical', 'compare_continuous', 'compute_agreement', 'compute_table1',
           'find_disagreements', 'gwet_ac1', 'ratings_table', 'read_adjudication',
           'read_readers', 'read_software', 'summarize_cohort']

# public before 0.2: importable with a DeprecationWarning
__getattr__ = private_names(__name__, {
    'ADJUDICATION_COLUMNS': '._agreement',
    'AGREEMENT_COLUMNS': '._agreement',
    'AUDIT_COLUMNS': '._agreement',
    'CLASSIFICATIONS': '._agreement',
    'SOFTWARE': '._agreement',
    'adjudication_sheet': '._agreement',
    'compare_counts': '._agreement',
    'TEST_NAMES': '._compare',
    'is_skewed': '._compare',
    'CI_METHODS': '._summary',
    'MEASURE_LABELS': '._summary',
    'PUBLISHED': '._summary',
    'PUBLISHED_N_PATIENTS': '._summary',
    'TABLE1_LEVELS': '._table1',
    'TABLE1_VARIABLES': '._table1',
    'build_characteristics': '._table1',
    'format_p': '._table1',
})
