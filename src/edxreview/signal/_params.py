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


#: the keys of ``emg_datasets.toml`` and the type of each value (structure, not facts)
DATASET_FACT_TYPES: dict[str, dict[str, type]] = {
    "n2001": {"fs_hz": float, "gain_adu_per_mv": float, "header_samples": int,
              "muscle": dict, "group": dict, "age_years": dict},
    "algiers": {"group": dict},
    "physionet": {"record": dict, "muscle": str},
    "pattichis": {"class": dict, "muscle": str, "muaps_per_subject": int},
}


def check_dataset_facts(facts: dict[str, Any], where: str = "emg_datasets.toml") -> None:
    """Raise :class:`~edxreview.InvalidInputError` naming every key of
    :data:`DATASET_FACT_TYPES` that ``facts`` lacks or holds with another type."""
    from edxreview._errors import InvalidInputError, Problem

    problems = []
    for section, keys in DATASET_FACT_TYPES.items():
        got = facts.get(section)
        for key, kind in keys.items():
            value = got.get(key) if isinstance(got, dict) else None
            ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
            if not ok:
                problems.append(Problem(where, None, f"{section}.{key}", value,
                                        f"missing or not a {kind.__name__}"))
    if problems:
        raise InvalidInputError(
            f"dataset facts {where} are incomplete ({len(problems)} problem(s)): "
            + "; ".join(f"{p.column} {p.value!r}" for p in problems), problems)


@lru_cache(maxsize=None)
def load_dataset_facts() -> dict[str, Any]:
    """Recording facts and labels of the evaluation's needle-EMG datasets
    (``emg_datasets.toml``; its sidecar names the passage each was read in), checked complete.

    Returns
    -------
    dict
        Sections ``n2001``, ``algiers``, ``physionet``, ``pattichis``.

    Raises
    ------
    InvalidInputError
        A key is missing or of the wrong type (a damaged installation).
    """
    text = resources.files(_DATA).joinpath("emg_datasets.toml").read_text("utf-8")
    facts = tomllib.loads(text)
    check_dataset_facts(facts)
    return facts
