"""Needle-EMG waveform analysis: readers, MUAP detection, sorting and measurement, spontaneous
activity, the interference pattern (turns/amplitude) and a neurogenic / myopathic / normal
reading of each recording."""

from edxreview.signal._analyze import RecordingAnalysis, analyze_recording, summarize_muaps
from edxreview.signal._classify import (
    Reading,
    ReferenceLimits,
    classify_recording,
    lookup_reference,
    normalize_muscle,
)
from edxreview.signal._interference import interference_epochs, read_interference, turning_points
from edxreview.signal._measure import measure_muaps, measure_waveform
from edxreview.signal._muap import Decomposition, detect_muaps, filter_bands, sort_units
from edxreview.signal._params import load_muap_reference, load_signal_parameters
from edxreview.signal._readers import Recording, read_signal
from edxreview.signal._reference import (
    LabReference,
    build_lab_reference,
    read_lab_reference,
    read_muscle_against_reference,
)
from edxreview.signal._spontaneous import GRADES, detect_spontaneous, segment_activity

__all__ = [
    "GRADES",
    "Decomposition",
    "LabReference",
    "Reading",
    "Recording",
    "RecordingAnalysis",
    "ReferenceLimits",
    "analyze_recording",
    "build_lab_reference",
    "classify_recording",
    "detect_muaps",
    "detect_spontaneous",
    "filter_bands",
    "interference_epochs",
    "load_muap_reference",
    "load_signal_parameters",
    "lookup_reference",
    "measure_muaps",
    "measure_waveform",
    "normalize_muscle",
    "read_lab_reference",
    "read_muscle_against_reference",
    "read_interference",
    "read_signal",
    "segment_activity",
    "sort_units",
    "summarize_muaps",
    "turning_points",
]
