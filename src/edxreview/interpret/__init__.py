"""Nerve-level and muscle-level readings of a study, against cited reference limits."""

from ._findings import FINDING_COLUMNS, findings_table
from ._muscles import MUSCLE_COLUMNS, read_muscles
from ._nerves import VALUE_COLUMNS, flag_values
from ._readings import NERVE_COLUMNS, describe_values, read_nerves

__all__ = ["FINDING_COLUMNS", "findings_table", "MUSCLE_COLUMNS", "NERVE_COLUMNS", "VALUE_COLUMNS", "describe_values", "flag_values",
           "read_muscles", "read_nerves"]
