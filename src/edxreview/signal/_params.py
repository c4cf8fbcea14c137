"""Load the method parameters and reference tables the signal analysis uses (data, not code)."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources
from typing import Any

# one loader for the MUAP reference table, shared with the review pipeline
from edxreview.knowledge._tables import load_muap_reference  # noqa: F401 (re-exported)

_DATA = "edxreview.knowledge.data"


@lru_cache(maxsize=None)
def load_signal_parameters() -> dict[str, Any]:
    """Method parameters of the needle-EMG analysis (``emg_signal_parameters.toml``).

    Returns
    -------
    dict
        Sections ``filters``, ``detection``, ``sorting``, ``measurement``, ``spontaneous``,
        ``reading``; see the TOML file for units and sources.
    """
    text = resources.files(_DATA).joinpath("emg_signal_parameters.toml").read_text("utf-8")
    return tomllib.loads(text)



@lru_cache(maxsize=None)
def signal_parameters_version() -> str:
    """Version of ``emg_signal_parameters.toml`` (its ``.meta.toml`` sidecar): a lab reference
    records it, so that one built with other measurement settings is noticed."""
    text = resources.files(_DATA).joinpath("emg_signal_parameters.meta.toml").read_text("utf-8")
    return str(tomllib.loads(text).get("version", ""))
