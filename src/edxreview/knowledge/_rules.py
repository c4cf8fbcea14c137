"""The interpretation rules (``interpretation_rules.toml``) as one validated, read-only object.

Every threshold the logic and the methods text read lives in that file. The loader refuses a
file with a missing key, an unknown key (with the nearest known spelling), a value of the wrong
type, or a ``source`` that names no entry of ``[sources]``; every source entry either cites a
publication (``citation``) or declares a laboratory ``convention`` with its reason.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from .._errors import InvalidInputError, Problem

_F, _I, _S, _B, _LS = "number", "integer", "text", "true/false", "list of text"

# section → key → (type, required); a list section holds one table per entry
_TOP = {"id": (_S, True), "version": (_S, True), "citation": (_S, True), "verified": (_B, True)}
_SECTIONS: dict[str, dict[str, tuple[str, bool]]] = {
    "emg": {"acute_min_grade": (_F, True), "source": (_S, True)},
    "demyelination": {k: (_F, True) for k in (
        "cmap_preserved_fraction_of_lln", "velocity_fraction_of_lln_preserved",
        "velocity_fraction_of_lln_reduced", "distal_latency_fraction_of_uln_preserved",
        "distal_latency_fraction_of_uln_reduced", "f_latency_fraction_of_uln_preserved",
        "f_latency_fraction_of_uln_reduced", "axonal_distal_latency_max_fraction_of_uln")}
    | {"source": (_S, True)},
    "conduction_block": {"max_proximal_distal_ratio": (_F, True),
                         "min_distal_fraction_of_lln": (_F, True),
                         "excluded_nerves": (_LS, True), "source": (_S, True)},
    "localisation": {"plexus_min_nerves": (_I, True), "proximal_f_min_nerves": (_I, True),
                     "max_plexus_elements_per_side": (_I, True), "source": (_S, True)},
    "sensory_age": {"age_years": (_F, True), "lower_limb_nerves": (_LS, True),
                    "max_side_ratio": (_F, True), "source": (_S, True)},
    "polyneuropathy": {"min_nerves": (_I, True), "lower_limb_sensory_nerves": (_LS, True),
                       "lower_limb_max_distality": (_I, True),
                       "upper_limb_max_distality": (_I, True),
                       "demyelinating_min_nerves": (_I, True),
                       "entrapment_prone_sensory_nerves": (_LS, True), "source": (_S, True)},
    "mri": {"segment_tolerance": (_I, True), "brainstem_tolerance": (_I, True),
            "first_cord_segment": (_S, True), "source": (_S, True)},
}
_LISTS: dict[str, dict[str, tuple[str, bool]]] = {
    "entrapment": {"nerve": (_S, True), "site": (_S, True), "min_velocity_m_s": (_F, False),
                   "max_velocity_drop_m_s": (_F, False), "source": (_S, True)},
    "distal_entrapment": {"nerve": (_S, True), "site": (_S, True), "source": (_S, True)},
    "sensory_entrapment": {"nerve": (_S, True), "site": (_S, True), "source": (_S, True)},
}
_SOURCE = {"citation": (_S, False), "convention": (_S, False), "verified": (_B, False),
           "url": (_S, False)}


def _type_ok(value: Any, kind: str) -> bool:
    if kind == _F:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == _I:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == _S:
        return isinstance(value, str)
    if kind == _B:
        return isinstance(value, bool)
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _suggest(key: str, known) -> str:
    near = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
    return f"; did you mean {near[0]!r}?" if near else f"; known keys: {', '.join(sorted(known))}"


class Rules(Mapping):
    """The validated interpretation rules: a read-only mapping of sections.

    ``rules["demyelination"]["velocity_fraction_of_lln_reduced"]``; list sections
    (``entrapment``, ``distal_entrapment``, ``sensory_entrapment``) are lists of tables;
    ``rules["sources"][key]`` has ``citation`` or ``convention``. ``path`` is the file read.

    Parameters
    ----------
    data : dict
        The parsed rules, section by section (validated by the loader).
    path : str
        The file they were read from.

    Examples
    --------
    >>> import edxreview
    >>> rules = edxreview.knowledge.load_rules()
    >>> "demyelination" in rules, rules.path.endswith("interpretation_rules.toml")
    (True, True)
    """

    def __init__(self, data: dict[str, Any], path: str):
        self._data = data
        self.path = path

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def conventions(self) -> dict[str, str]:
        """Source keys that are laboratory conventions, with their reasons.

        Returns
        -------
        dict of str to str
            Each source key that is an edxreview convention (no published source), with the reason
            given for it.

        Raises
        ------
        KeyError
            The rules have no ``sources`` section (never for rules from :func:`load_rules`).

        Examples
        --------
        >>> import edxreview
        >>> conventions = edxreview.knowledge.load_rules().conventions()
        >>> conventions["mri_tolerance_convention"]  # doctest: +ELLIPSIS
        'One segment of tolerance between LMN segments and MRI cord segments...'
        """
        return {k: v["convention"] for k, v in self._data["sources"].items() if "convention" in v}


def validate_rules(data: dict[str, Any], where: str = "interpretation_rules.toml") -> Rules:
    """Check a parsed rules file against the schema and return it as :class:`Rules`.

    Raises
    ------
    InvalidInputError
        Listing every problem: file, key, value and what to do.
    """
    problems: list[Problem] = []

    def bad(key: str, value: Any, message: str) -> None:
        problems.append(Problem(where, None, key, value, message))

    def check_table(prefix: str, table: Any, schema: dict[str, tuple[str, bool]]) -> None:
        if not isinstance(table, dict):
            bad(prefix, table, "must be a table")
            return
        for key, value in table.items():
            if key not in schema:
                bad(f"{prefix}.{key}", value, "unknown key" + _suggest(key, schema))
            elif not _type_ok(value, schema[key][0]):
                bad(f"{prefix}.{key}", value, f"must be a {schema[key][0]}")
        for key, (_, required) in schema.items():
            if required and key not in table:
                bad(f"{prefix}.{key}", None, "required key missing")

    known = set(_TOP) | set(_SECTIONS) | set(_LISTS) | {"sources"}
    for key, value in data.items():
        if key not in known:
            bad(key, value, "unknown section or key" + _suggest(key, known))
    for key, (kind, _) in _TOP.items():
        if key not in data:
            bad(key, None, "required key missing")
        elif not _type_ok(data[key], kind):
            bad(key, data[key], f"must be a {kind}")
    for name, schema in _SECTIONS.items():
        if name not in data:
            bad(name, None, "required section missing")
        else:
            check_table(name, data[name], schema)
    for name, schema in _LISTS.items():
        entries = data.get(name, [])
        if not isinstance(entries, list):
            bad(name, entries, "must be a list of tables ([[" + name + "]])")
            continue
        for i, entry in enumerate(entries):
            check_table(f"{name}[{i}]", entry, schema)
    sources = data.get("sources", {})
    if not isinstance(sources, dict) or not sources:
        bad("sources", sources, "required table of cited sources missing")
        sources = {}
    for key, entry in sources.items():
        check_table(f"sources.{key}", entry, _SOURCE)
        if isinstance(entry, dict) and not (entry.get("citation") or entry.get("convention")):
            bad(f"sources.{key}", None, "needs a 'citation' or a 'convention' with its reason")
    # every source a section names must be listed
    named = [(n, data[n]) for n in _SECTIONS if isinstance(data.get(n), dict)]
    named += [(f"{n}[{i}]", e) for n in _LISTS if isinstance(data.get(n), list)
              for i, e in enumerate(data[n]) if isinstance(e, dict)]
    for where_key, table in named:
        for src in str(table.get("source", "")).split("|"):
            if src and src not in sources:
                bad(f"{where_key}.source", src, "names no entry of [sources]" + _suggest(src, sources))
    if problems:
        raise InvalidInputError(f"rules file {where} is invalid ({len(problems)} problem(s))", problems)
    return Rules(data, where)


def read_rules(path: str | Path) -> Rules:
    """Read and validate a rules file."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInputError(f"cannot read rules file {path.name!r}: {exc}",
                                [Problem(path.name, None, None, None, str(exc))]) from None
    return validate_rules(data, path.name)
