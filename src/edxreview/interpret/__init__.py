"""Nerve-level and muscle-level readings of a study, against cited reference limits."""

from .._compat import private_names
from ._findings import findings_table
from ._muscles import read_muscles
from ._nerves import flag_values
from ._readings import read_nerves

__all__ = ['findings_table', 'flag_values', 'read_muscles', 'read_nerves']

# public before 0.2: importable with a DeprecationWarning
__getattr__ = private_names(__name__, {
    'FINDING_COLUMNS': '._findings',
    'MUSCLE_COLUMNS': '._muscles',
    'VALUE_COLUMNS': '._nerves',
    'NERVE_COLUMNS': '._readings',
    'describe_values': '._readings',
})
