"""Synthetic study workbooks: scenario builders and cohort generation.

Every patient gets a latent clinical scenario (carpal tunnel with APB denervation, cervical
myelitis with C5–C7 denervation, a normal study with fasciculations only, …); a normal baseline
is drawn for everyone and each scenario's builder then writes its pattern, for all of its
patients at once. Generative parameters live in ``patterns.toml`` next to this module.
"""

from ._generate import (
    SHEET_NAMES,
    TRUTH_COLUMNS,
    allocate_scenarios,
    build_study,
    generate_cohort,
    to_sheets,
    truth_table,
    write_csv_folder,
)
from ._scenarios import SCENARIO_BUILDERS
from ._study import SynthStudy, load_patterns

__all__ = [
    "SCENARIO_BUILDERS",
    "SHEET_NAMES",
    "TRUTH_COLUMNS",
    "SynthStudy",
    "allocate_scenarios",
    "build_study",
    "generate_cohort",
    "load_patterns",
    "to_sheets",
    "truth_table",
    "write_csv_folder",
]
