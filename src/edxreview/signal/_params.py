"""Load the method parameters and reference tables the signal analysis uses (data, not code)."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources
from typing import Any

import pandas as pd

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
def _meta(name: str) -> dict[str, Any]:
    text = resources.files(_DATA).joinpath(f"{name}.meta.toml").read_text("utf-8")
    return tomllib.loads(text)


def load_muap_reference() -> pd.DataFrame:
    """MUAP reference limits by muscle and age (``muap_reference.csv``).

    Returns
    -------
    pandas.DataFrame
        One row per muscle and age band: ``duration_*_ms`` (ms), ``amplitude_*_uv`` (µV),
        ``polyphasic_upper_pct`` (%). ``attrs`` holds the sidecar (id, version, citation).
    """
    with resources.files(_DATA).joinpath("muap_reference.csv").open("r", encoding="utf-8") as f:
        df = pd.read_csv(f)
    df.attrs.update(_meta("muap_reference"))
    return df
