"""The study's patient-level logic (spec §4)."""

from .._compat import private_names
from ._classify import Classification, classify_patients

__all__ = ['Classification', 'classify_patients']

# public before 0.2: importable with a DeprecationWarning
__getattr__ = private_names(__name__, {
    'CLASSIFICATIONS': '._classify',
    'PATIENT_COLUMNS': '._classify',
    'format_segment_runs': '._mri',
    'format_segments': '._mri',
    'lesion_segments': '._mri',
})
