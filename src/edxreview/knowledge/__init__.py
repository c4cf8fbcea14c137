"""Cited reference data and anatomy: data files plus loaders, no rules."""

from .._compat import private_names
from ._reference import ReferenceSet, load_reference
from ._rules import Rules
from ._tables import Anatomy, load_anatomy, load_rules

__all__ = ['Anatomy', 'ReferenceSet', 'Rules', 'load_anatomy', 'load_reference', 'load_rules']

# public before 0.2: importable with a DeprecationWarning
__getattr__ = private_names(__name__, {
    'LAB_STATUS': '._reference',
    'STATUSES': '._reference',
    'read_limits_file': '._reference',
    'status_counts': '._reference',
    'validate_limits': '._reference',
    'read_rules': '._rules',
    'validate_rules': '._rules',
    'load_brainstem_nuclei': '._tables',
    'load_muap_reference': '._tables',
    'load_segments': '._tables',
    'load_vertebra_map': '._tables',
    'normalize_key': '._tables',
    'read_table': '._tables',
    'table_provenance': '._tables',
})
