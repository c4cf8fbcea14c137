"""Needle-EMG waveform analysis: readers, MUAP detection, sorting and measurement, spontaneous
activity and a neurogenic / myopathic / normal reading of each recording."""

from .._compat import private_names
from ._analyze import RecordingAnalysis, analyze_recording
from ._readers import Recording, read_signal

__all__ = ['Recording', 'RecordingAnalysis', 'analyze_recording', 'read_signal']

# public before 0.2: importable with a DeprecationWarning
__getattr__ = private_names(__name__, {
    'summarize_muaps': '._analyze',
    'Reading': '._classify',
    'ReferenceLimits': '._classify',
    'classify_recording': '._classify',
    'lookup_reference': '._classify',
    'normalize_muscle': '._classify',
    'measure_muaps': '._measure',
    'measure_waveform': '._measure',
    'Decomposition': '._muap',
    'detect_muaps': '._detect',
    'filter_bands': '._detect',
    'sort_units': '._muap',
    'load_muap_reference': '._params',
    'load_signal_parameters': '._params',
    'LabReference': '._reference',
    'build_lab_reference': '._reference',
    'read_lab_reference': '._reference',
    'read_muscle_against_reference': '._reference',
    'GRADES': '._spontaneous',
    'detect_spontaneous': '._spontaneous',
    'segment_activity': '._spontaneous',
})
