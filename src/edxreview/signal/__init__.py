"""Needle-EMG waveform analysis: readers, MUAP detection and measurement, spontaneous activity."""

from edxreview.signal._readers import Recording, read_signal

__all__ = ["Recording", "read_signal"]
