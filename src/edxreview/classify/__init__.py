"""The study's patient-level logic (spec §4)."""

from ._classify import CLASSIFICATIONS, PATIENT_COLUMNS, Classification, classify_patients
from ._mri import format_segment_runs, format_segments, lesion_segments

__all__ = ["CLASSIFICATIONS", "PATIENT_COLUMNS", "Classification", "classify_patients",
           "format_segment_runs", "format_segments", "lesion_segments"]
