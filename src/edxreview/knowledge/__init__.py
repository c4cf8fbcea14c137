"""Cited reference data and anatomy: data files plus loaders, no rules."""

from ._reference import (
    LAB_STATUS,
    STATUSES,
    ReferenceSet,
    load_reference,
    read_limits_file,
    status_counts,
    validate_limits,
)
from ._rules import Rules, read_rules, validate_rules
from ._tables import (
    Anatomy,
    load_anatomy,
    load_language_aliases,
    load_brainstem_nuclei,
    load_muap_reference,
    load_rules,
    load_segments,
    load_vertebra_map,
    normalize_key,
    read_table,
    table_provenance,
)

__all__ = [
    "load_language_aliases",
    "LAB_STATUS",
    "STATUSES",
    "Anatomy",
    "Rules",
    "read_rules",
    "validate_rules",
    "ReferenceSet",
    "load_anatomy",
    "load_brainstem_nuclei",
    "load_muap_reference",
    "load_reference",
    "load_rules",
    "load_segments",
    "load_vertebra_map",
    "normalize_key",
    "read_limits_file",
    "read_table",
    "status_counts",
    "table_provenance",
    "validate_limits",
]
