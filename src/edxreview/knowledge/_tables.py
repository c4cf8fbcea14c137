"""Loaders for the cited knowledge tables shipped in ``knowledge/data``.

Each table is a CSV (or TOML) file with a ``<name>.meta.toml`` sidecar naming its id, version,
citation and sources; tables with a ``status`` column say row by row whether each value was
read in its source (see ``data/README.md``). The loaders only read and index
data; rules live in :mod:`edxreview.interpret` and :mod:`edxreview.classify`.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from .._check import check_option, check_type
from .._errors import InvalidParameterError
from ._rules import Rules, read_rules

_DATA = "edxreview.knowledge.data"

#: Row status of the bundled knowledge tables (defined in ``data/README.md``).
ROW_STATUSES = ("verified", "corrected", "unsourced", "convention")

#: Who reads a bundled table, as its sidecar's ``scope`` declares (``"review"`` when it says
#: nothing): ``review`` a review of a workbook (the tables ``summary.json`` and the report
#: list), ``signal`` the needle-EMG signal analysis (``edxreview emg``), ``evaluation`` only
#: the evaluation tools (``tools/``, ``benchmarks/``).
TABLE_SCOPES = ("review", "signal", "evaluation")

# letters kept: Latin, digits, ±, +, and CJK ideographs (Chinese names are aliases too)
_NON_ALNUM = re.compile(r"[^0-9a-z±+\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0003134f]")


def normalize_key(text: str) -> str:
    """Reduce a user's spelling to the key aliases are matched on.

    Lower-case, with every character that is not a letter, digit, ``±`` or ``+`` removed, so
    that ``"1st DI"``, ``"1st-DI"`` and ``"1stdi"`` meet.
    """
    return _NON_ALNUM.sub("", unicodedata.normalize("NFKC", str(text)).strip().lower())


def closest_ids(key: str, vocabulary: dict[str, str], n: int = 3) -> list[str]:
    """The ids (values of ``vocabulary``, alias key -> id) whose aliases are closest to
    ``key`` (a :func:`normalize_key` key), each id once, at most ``n``: the "did you mean" of
    an unknown name."""
    close = difflib.get_close_matches(key, list(vocabulary), n=8, cutoff=0.6)
    return list(dict.fromkeys(vocabulary[k] for k in close))[:n]


def _data_path(name: str) -> Path:
    return Path(str(resources.files(_DATA).joinpath(name)))


def _read_meta(path: Path) -> dict[str, Any]:
    meta_path = path.with_name(path.stem + ".meta.toml") if path.suffix != ".toml" else path
    if not meta_path.exists():
        return {"id": path.stem, "version": "unversioned", "citation": ""}
    with open(meta_path, "rb") as fh:
        meta = tomllib.load(fh)
    meta.setdefault("id", path.stem)
    meta.setdefault("version", "unversioned")
    return meta


@lru_cache(maxsize=None)
def _read_csv_cached(path: str) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def read_table(name: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read a bundled knowledge CSV and its metadata.

    Parameters
    ----------
    name : str
        File stem in ``knowledge/data`` (e.g. ``"muscles"``).

    Returns
    -------
    table : pandas.DataFrame
        All columns as text; callers convert what they need.
    meta : dict
        The sidecar's content (id, version, citation, sources…).
    """
    path = _data_path(f"{name}.csv")
    if not path.exists():
        raise InvalidParameterError(f"no knowledge table named {name!r} in {_DATA}")
    return _read_csv_cached(str(path)).copy(), _read_meta(path)


@lru_cache(maxsize=None)
def load_rules() -> Rules:
    """The interpretation thresholds (``interpretation_rules.toml``), validated, with their
    sources (see :mod:`edxreview.knowledge._rules`).

    Returns
    -------
    Rules
        The validated thresholds, read once and then cached.

    Raises
    ------
    InvalidInputError
        The bundled rules file breaks its schema (a damaged installation).

    Examples
    --------
    >>> import edxreview
    >>> rules = edxreview.knowledge.load_rules()
    >>> sorted(rules.conventions())[:2]
    ['mri_tolerance_convention', 'plexus_elements_convention']
    """
    return read_rules(_data_path("interpretation_rules.toml"))


def _split(cell: str) -> list[str]:
    return [p.strip() for p in str(cell).split("|") if p.strip()]


@lru_cache(maxsize=None)
def load_segments() -> pd.DataFrame:
    """The ordered axis of brainstem levels and cord segments (``segment``, ``position``)."""
    table, _ = read_table("segments")
    table["position"] = table["position"].astype(int)
    return table.set_index("segment")


@dataclass(frozen=True)
class Anatomy:
    """Muscles, nerves and sites with their aliases, indexed for whole-table joins.

    Attributes
    ----------
    muscles : DataFrame
        One row per muscle id (index), with nerve, ``branch_rank`` (float), plexus element,
        ``roots_main`` (list of segment ids), cranial nerve, nucleus, brainstem level,
        ``distality`` (int), region and ``midline`` (bool: sampled in the midline, one
        recording for both sides, so the emg sheet may leave its side blank).
    nerves : DataFrame
        One row per nerve id (index); ``division_of`` names the nerve it is a division of
        (tibial and peroneal: sciatic), missing otherwise.
    sites : DataFrame
        One row per (nerve, site) with ``site_rank`` (float) and ``entrapment`` (bool).
    muscle_aliases, nerve_aliases : dict
        Normalised spelling → canonical id.
    site_aliases : dict
        Normalised spelling → canonical site id, over all nerves.
    sensory_sites : DataFrame
        One row per (nerve, recording_site) of ``sensory_recording_sites.csv`` (the median
        to the thumb, index or middle finger), with ``elements`` (list of plexus element ids)
        and ``roots``.
    sensory_site_aliases : dict
        (nerve, normalised spelling) → recording site id.
    meta : dict
        Sidecar metadata of each table, by table id.

    Examples
    --------
    >>> import edxreview
    >>> anatomy = edxreview.knowledge.load_anatomy()
    >>> anatomy.nerve_aliases["median"], len(anatomy.muscles) > 50
    ('median', True)
    """

    muscles: pd.DataFrame
    nerves: pd.DataFrame
    sites: pd.DataFrame
    muscle_aliases: dict[str, str]
    nerve_aliases: dict[str, str]
    site_aliases: dict[str, str]
    meta: dict[str, dict[str, Any]] = field(default_factory=dict)
    site_aliases_by_nerve: dict[tuple[str, str], str] = field(default_factory=dict)
    sensory: pd.DataFrame = field(default_factory=pd.DataFrame)
    plexus: pd.DataFrame = field(default_factory=pd.DataFrame)
    muscle_elements: pd.DataFrame = field(default_factory=pd.DataFrame)
    sensory_sites: pd.DataFrame = field(default_factory=pd.DataFrame)
    sensory_site_aliases: dict[tuple[str, str], str] = field(default_factory=dict)

    def sensory_recording_sites(self, nerve: pd.Series, recording_site: pd.Series) -> pd.Series:
        """The ``sensory_recording_sites.csv`` id of each SNAP's recording site.

        Parameters
        ----------
        nerve : Series
            Canonical nerve ids (``median``).
        recording_site : Series
            The recording sites as written (``thumb``, ``D3``, ``index finger``), aligned
            with ``nerve``; blank allowed.

        Returns
        -------
        Series
            Indexed like ``recording_site``: the site id (``digit_1``), missing where the
            site is blank or not listed for that nerve (aliases compared case- and
            punctuation-insensitively).

        Raises
        ------
        InvalidParameterError
            An argument is not a pandas Series.

        Examples
        --------
        >>> import pandas as pd
        >>> from edxreview.knowledge import load_anatomy
        >>> load_anatomy().sensory_recording_sites(
        ...     pd.Series(["median", "median", "radial"]),
        ...     pd.Series(["Thumb", "middle finger", "thumb"])).tolist()
        ['digit_1', 'digit_3', None]
        """
        check_type("nerve", nerve, pd.Series, "a pandas Series of nerve ids")
        check_type("recording_site", recording_site, pd.Series,
                   "a pandas Series of recording sites as written")
        text = recording_site.astype(object).where(recording_site.notna(), "")
        pairs = pd.DataFrame({"nerve": nerve.astype(object).astype(str),
                              "text": text.astype(str)})
        distinct = pairs.drop_duplicates()
        site = [self.sensory_site_aliases.get((n, normalize_key(t))) if t else None
                for n, t in zip(distinct["nerve"], distinct["text"])]
        lookup = distinct.assign(site=site)
        out = pairs.merge(lookup, on=["nerve", "text"], how="left")["site"]
        out = pd.Series(out.to_numpy(), index=recording_site.index, dtype=object)
        return out.where(out.notna(), None)


_TRUNK_WORDS = re.compile(r"upper|middle|lower")
_CORD_WORDS = re.compile(r"lateral|posterior|medial")


def plexus_elements_of(text: str) -> list[str]:
    """The plexus element ids in a ``plexus_element`` cell of ``muscles.csv``.

    ``"upper/middle trunk > lateral cord"`` → ``upper_trunk, middle_trunk, lateral_cord``;
    ``"middle + lower trunk > lateral + medial cords"`` → both trunks and both cords;
    ``"sacral plexus > sciatic (peroneal division)"`` → ``sacral_plexus``; ``"root"`` and
    ``"none"`` (supplied above the plexus, or outside it) → no element.
    """
    t = str(text).lower()
    out: list[str] = []
    for part in t.split(">"):
        if "trunk" in part:
            out += [w + "_trunk" for w in _TRUNK_WORDS.findall(part)]
        if "cord" in part:
            out += [w + "_cord" for w in _CORD_WORDS.findall(part)]
    for plexus in ("lumbar", "sacral"):
        if f"{plexus} plexus" in t:
            out.append(f"{plexus}_plexus")
    return list(dict.fromkeys(out))


def _alias_map(table: pd.DataFrame, id_col: str) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for ident, aliases, display in zip(
        table[id_col], table.get("aliases", ""), table.get("display_name", table[id_col])
    ):
        for spelling in [ident, display, *(_split(aliases) if isinstance(aliases, str) else [])]:
            key = normalize_key(spelling)
            if key:
                mapping.setdefault(key, ident)
    return mapping


def load_language_aliases() -> dict[str, list[tuple[str, str]]]:
    """Names in other languages (``aliases_<lang>.csv``): kind → [(id, spelling), …]."""
    out: dict[str, list[tuple[str, str]]] = {}
    folder = resources.files(_DATA)
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not (entry.name.startswith("aliases_") and entry.name.endswith(".csv")):
            continue
        table, _ = read_table(entry.name[:-4])
        for kind, ident, aliases in zip(table["kind"], table["id"], table["alias"]):
            out.setdefault(str(kind), []).extend((str(ident), a) for a in _split(aliases))
    return out


@lru_cache(maxsize=None)
def load_anatomy() -> Anatomy:
    """Load the anatomy vocabulary: muscles, nerves and stimulation/lesion sites.

    Returns
    -------
    Anatomy
        The muscle, nerve and site tables with their aliases (loaded once, then cached).

    Raises
    ------
    InvalidParameterError
        A bundled table is missing from the installation.

    Examples
    --------
    >>> import edxreview
    >>> anatomy = edxreview.knowledge.load_anatomy()
    >>> anatomy.muscles.loc["abductor_pollicis_brevis", "nerve"]
    'median'
    >>> anatomy.muscle_aliases["apb"]
    'abductor_pollicis_brevis'
    """
    muscles, muscles_meta = read_table("muscles")
    nerves, nerves_meta = read_table("nerves")
    sites, sites_meta = read_table("nerve_sites")

    extra = load_language_aliases()
    muscle_aliases = _alias_map(muscles, "muscle")
    nerve_aliases = _alias_map(nerves, "nerve")
    for kind, mapping in (("muscle", muscle_aliases), ("nerve", nerve_aliases)):
        for ident, spelling in extra.get(kind, []):
            mapping.setdefault(normalize_key(spelling), ident)
    site_extra: dict[str, list[str]] = {}
    for ident, spelling in extra.get("site", []):
        site_extra.setdefault(ident, []).append(spelling)
    site_aliases: dict[str, str] = {}
    by_nerve: dict[tuple[str, str], str] = {}
    for nerve, site, aliases in zip(sites["nerve"], sites["site"], sites["aliases"]):
        for spelling in [site, site.replace("_", " "), *_split(aliases),
                         *site_extra.get(site, [])]:
            site_aliases.setdefault(normalize_key(spelling), site)
            by_nerve.setdefault((nerve, normalize_key(spelling)), site)

    muscles = muscles.set_index("muscle")
    muscles["branch_rank"] = pd.to_numeric(muscles["branch_rank"], errors="coerce")
    muscles["distality"] = pd.to_numeric(muscles["distality"], errors="coerce").fillna(5).astype(int)
    muscles["roots_main_list"] = muscles["roots_main"].map(_split)
    muscles["midline"] = muscles["midline"].str.lower().isin(["true", "1", "yes"])
    sites["site_rank"] = pd.to_numeric(sites["site_rank"], errors="coerce")
    sites["entrapment"] = sites["entrapment"].str.lower().isin(["true", "1", "yes"])
    nerves = nerves.set_index("nerve")
    for col in ("lesion_axis_rank",):
        if col in nerves:
            nerves[col] = pd.to_numeric(nerves[col], errors="coerce")
    nerves["division_of"] = nerves["division_of"].replace("", None)
    unknown = set(nerves["division_of"].dropna()) - set(nerves.index)
    if unknown:
        raise InvalidParameterError(f"nerves.csv names divisions of nerves {sorted(unknown)} "
                                    "that it does not list")
    sensory, sensory_meta = read_table("sensory_nerves")
    sensory = sensory.set_index("nerve")
    sensory["branch_rank"] = pd.to_numeric(sensory["branch_rank"], errors="coerce")
    sensory["parent_nerve"] = sensory["parent_nerve"].replace("", None)
    sensory["elements"] = sensory["plexus_elements"].map(_split)
    sensory_sites, sensory_sites_meta = read_table("sensory_recording_sites")
    sensory_site_aliases: dict[tuple[str, str], str] = {}
    for nerve, site, display, aliases in zip(sensory_sites["nerve"], sensory_sites["recording_site"],
                                             sensory_sites["display_name"], sensory_sites["aliases"]):
        for spelling in [site, site.replace("_", " "), display, *_split(aliases)]:
            sensory_site_aliases.setdefault((nerve, normalize_key(spelling)), site)
    sensory_sites = sensory_sites.set_index(["nerve", "recording_site"])
    sensory_sites["elements"] = sensory_sites["plexus_elements"].map(_split)
    plexus, plexus_meta = read_table("plexus_elements")
    plexus = plexus.set_index("element")
    plexus["order"] = pd.to_numeric(plexus["order"], errors="coerce")
    plexus["roots_list"] = plexus["roots"].map(_split)
    elements = muscles["plexus_element"].map(plexus_elements_of)
    muscle_elements = elements.explode().dropna().rename("element").reset_index()
    unknown = set(muscle_elements["element"]) - set(plexus.index)
    if unknown:
        raise InvalidParameterError(f"muscles.csv names plexus elements {sorted(unknown)} that "
                                    "plexus_elements.csv does not list")
    unknown = set(sensory_sites["elements"].explode().dropna()) - set(plexus.index)
    if unknown:
        raise InvalidParameterError(f"sensory_recording_sites.csv names plexus elements "
                                    f"{sorted(unknown)} that plexus_elements.csv does not list")
    return Anatomy(
        sensory=sensory,
        sensory_sites=sensory_sites,
        sensory_site_aliases=sensory_site_aliases,
        plexus=plexus,
        muscle_elements=muscle_elements,
        muscles=muscles,
        nerves=nerves,
        sites=sites,
        muscle_aliases=muscle_aliases,
        nerve_aliases=nerve_aliases,
        site_aliases=site_aliases,
        site_aliases_by_nerve=by_nerve,
        meta={
            muscles_meta["id"]: muscles_meta,
            nerves_meta["id"]: nerves_meta,
            sites_meta["id"]: sites_meta,
            sensory_meta["id"]: sensory_meta,
            sensory_sites_meta["id"]: sensory_sites_meta,
            plexus_meta["id"]: plexus_meta,
        },
    )


@lru_cache(maxsize=None)
def load_vertebra_map() -> pd.DataFrame:
    """Vertebral body level → cord segments (lists of segment ids), indexed by vertebra."""
    table, _ = read_table("vertebra_segments")
    table["segments_main_list"] = table["segments_main"].map(_split)
    table["segments_adjacent_list"] = table["segments_adjacent"].map(_split)
    table["cord"] = table["cord"].str.lower().isin(["true", "1", "yes"])
    return table.set_index("vertebra")


@lru_cache(maxsize=1)
def vertebral_levels() -> tuple[str, ...]:
    """Vertebral body levels in rostro-caudal order (C1 … S5), the rows of
    ``vertebra_segments.csv``: the one list the validator, the MRI conversion and the
    synthetic cohorts use."""
    table, _ = read_table("vertebra_segments")
    return tuple(table["vertebra"])


@lru_cache(maxsize=None)
def load_brainstem_nuclei() -> pd.DataFrame:
    """Brainstem level → cranial motor nuclei and their muscles."""
    table, _ = read_table("brainstem_nuclei")
    return table


def load_muap_reference() -> pd.DataFrame:
    """MUAP reference limits by muscle and age (``muap_reference.csv``).

    Returns
    -------
    pandas.DataFrame
        One row per muscle and age band: ``duration_*_ms`` (ms), ``amplitude_*_uv`` (µV),
        ``polyphasic_upper_pct`` (%); ``attrs`` holds the sidecar (id, version, citation).
        A fresh copy each call.
    """
    path = _data_path("muap_reference.csv")
    table = _read_numeric_csv_cached(str(path)).copy()
    table.attrs.update(_read_meta(path))
    return table


@lru_cache(maxsize=None)
def _read_numeric_csv_cached(path: str) -> pd.DataFrame:
    return pd.read_csv(path, keep_default_na=True)


def table_provenance(scope: Literal["review", "signal", "evaluation"] | None = None
                     ) -> list[dict[str, Any]]:
    """Id, version, citation and row-status counts of the bundled tables.

    Parameters
    ----------
    scope : {"review", "signal", "evaluation"} or None
        Only the tables whose sidecar declares this ``scope`` (:data:`TABLE_SCOPES`; a
        sidecar without one is ``"review"``): ``"review"`` gives the tables a review of a
        workbook reads, the list ``summary.json`` records. ``None`` (default): every table.

    Returns
    -------
    list of dict
        ``id``, ``version``, ``citation``, ``verified``, ``file`` and ``status`` of each
        table. ``status`` maps each row status (verified, corrected, unsourced,
        convention) to its count for tables with a ``status`` column; it is ``None`` for
        tables without one, whose ``verified`` is the sidecar's table-level flag (``None``
        when the sidecar has none).

    Raises
    ------
    InvalidParameterError
        ``scope`` is not one of :data:`TABLE_SCOPES`, or a bundled sidecar declares a scope
        that is not (a damaged installation).

    Examples
    --------
    >>> from edxreview.knowledge._tables import table_provenance
    >>> every, review = table_provenance(), table_provenance("review")
    >>> [t["id"] for t in every if t not in review]
    ['emg_datasets', 'emg_signal_parameters']
    """
    if scope is not None:
        check_option("scope", scope, TABLE_SCOPES)
    out = []
    for path in sorted(_data_path("").glob("*.meta.toml")):
        meta = _read_meta(path)
        stem = path.name.replace(".meta.toml", "")
        declared = meta.get("scope", "review")
        if declared not in TABLE_SCOPES:
            raise InvalidParameterError(
                f"{path.name}: scope {declared!r} is not one of {', '.join(TABLE_SCOPES)} "
                "(a damaged installation: reinstall edxreview)")
        if scope is not None and declared != scope:
            continue
        csv = path.with_name(stem + ".csv")
        status = None
        if csv.exists():
            table = _read_csv_cached(str(csv))
            if "status" in table:
                counts = table["status"].value_counts()
                status = {s: int(counts.get(s, 0)) for s in ROW_STATUSES}
        out.append({k: meta.get(k) for k in ("id", "version", "citation", "verified")}
                   | {"file": stem, "status": status})
    if scope in (None, "review"):
        rules = load_rules()
        out.append({"id": rules["id"], "version": rules["version"],
                    "citation": rules["citation"], "verified": rules.get("verified"),
                    "file": "interpretation_rules.toml", "status": None})
    return out
