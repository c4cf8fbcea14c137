"""edxreview: retrospective review of nerve conduction studies and needle EMG."""

__version__ = "0.1.0"
