"""Synthetic study workbooks: scenario builders and cohort generation.

Every patient gets a latent clinical scenario (carpal tunnel with APB denervation, cervical
myelitis with C5–C7 denervation, a normal study with fasciculations only, …); a normal baseline
is drawn for everyone and each scenario's builder then writes its pattern, for all of its
patients at once. Generative parameters live in ``patterns.toml`` next to this module.
"""

from .._compat import private_names
from ._generate import generate_cohort, write_csv_folder

__all__ = ['generate_cohort', 'write_csv_folder']

# public before 0.2: importable with a DeprecationWarning
__getattr__ = private_names(__name__, {
    'SHEET_NAMES': '._generate',
    'TRUTH_COLUMNS': '._generate',
    'allocate_scenarios': '._generate',
    'build_study': '._generate',
    'to_sheets': '._generate',
    'truth_table': '._generate',
    'SCENARIO_BUILDERS': '._scenarios',
    'SynthStudy': '._study',
    'load_patterns': '._study',
})
