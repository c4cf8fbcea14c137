"""Cited reference data and anatomy: data files plus loaders, no rules."""

from ._rules import Rules, read_rules, validate_rules
from ._tables import (
    Anatomy,
    ReferenceSet,
    load_anatomy,
    load_brainstem_nuclei,
    load_muap_reference,
    load_reference,
    load_rules,
    load_segments,
    load_vertebra_map,
    normalize_key,
    read_table,
    table_provenance,
)

__all__ = [
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
    "read_table",
    "table_provenance",
]
