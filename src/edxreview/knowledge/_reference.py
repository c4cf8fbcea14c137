"""NCS reference limits: the bundled set or a laboratory's own file, validated row by row.

The same checks run on the bundled ``ncs_limits_adult.csv``, on ``edxreview reference check``
and on ``edxreview run --reference``: a file is used only when every row is usable, and every
problem is reported with its row, column and value.
"""

from __future__ import annotations

import difflib
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InvalidInputError, Problem
from ._tables import ROW_STATUSES as STATUSES
from ._tables import _data_path, load_anatomy, normalize_key, read_table
#: Status of a row in a laboratory's own file that does not state one.
LAB_STATUS = "lab"

LIMIT_COLUMNS = [
    "study", "nerve", "recording_site", "parameter", "bound", "limit", "unit",
    "age_min_years", "age_max_years", "height_ref_cm", "height_slope_ms_per_cm",
]
OPTIONAL_COLUMNS = ["distance_mm", "technique", "source", "status", "status_reason"]
_NUMERIC = ["limit", "age_min_years", "age_max_years", "height_ref_cm", "height_slope_ms_per_cm",
            "distance_mm"]
_KEY = ["study", "nerve", "recording_site", "parameter", "bound"]


@dataclass(frozen=True)
class ReferenceSet:
    """A set of NCS reference limits with provenance.

    Attributes
    ----------
    limits : DataFrame
        Columns ``study, nerve, recording_site, parameter, bound, limit, unit, age_min_years,
        age_max_years, height_ref_cm, height_slope_ms_per_cm, distance_mm, technique, source,
        status, status_reason``; numeric columns as floats.
    meta : dict
        ``id``, ``version``, ``citation``, ``population``, ``technique`` and ``sources``
        (always present; empty text where a laboratory's sidecar leaves them out).
    path : str
        Where the set was read from (``"bundled"`` for the default).
    warnings : tuple of Problem
        What a laboratory's file leaves out (limits of the bundled set it has no row for).
    muap : DataFrame or None
        A laboratory's own MUAP reference for the workbook's quantitative means (``edxreview
        run --muap-reference``, see :func:`edxreview.knowledge._muap.load_muap_reference_file`);
        ``None``: the bundled ``muap_reference.csv``, whose unverified rows judge nothing.

    Examples
    --------
    >>> import edxreview
    >>> reference = edxreview.knowledge.load_reference()
    >>> reference.label  # doctest: +ELLIPSIS
    'ncs_limits_adult v...'
    """

    limits: pd.DataFrame
    meta: dict[str, Any]
    path: str = "bundled"
    warnings: tuple = ()
    muap: pd.DataFrame | None = None

    @property
    def label(self) -> str:
        return f"{self.meta.get('id', 'reference')} v{self.meta.get('version', '?')}"


def status_counts(table: pd.DataFrame) -> dict[str, int]:
    """Rows per status (every status of :data:`STATUSES` listed, ``lab`` when present)."""
    counts = table["status"].value_counts() if "status" in table else pd.Series(dtype=int)
    out = {s: int(counts.get(s, 0)) for s in STATUSES}
    if counts.get(LAB_STATUS, 0):
        out[LAB_STATUS] = int(counts[LAB_STATUS])
    return out


def read_sidecar(path: Path) -> dict[str, Any]:
    """The ``<stem>.meta.toml`` beside ``path``, or defaults when there is none.

    A sidecar that is not valid TOML is an error located at its line; missing keys are filled
    (``population``, ``technique`` and ``citation`` empty, ``sources`` empty).
    """
    meta_path = path.with_name(path.stem + ".meta.toml")
    meta: dict[str, Any] = {}
    if meta_path.is_file():
        try:
            with open(meta_path, "rb") as fh:
                meta = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            text = str(exc)
            line = None
            if "(at line " in text:
                try:
                    line = int(text.split("(at line ", 1)[1].split(",", 1)[0])
                except ValueError:
                    line = None
            raise InvalidInputError(
                f"reference sidecar {meta_path.name!r} is not valid TOML",
                [Problem(meta_path.name, line, None, None, f"TOML syntax error: {text}")],
            ) from None
        except UnicodeDecodeError:
            raise InvalidInputError(
                f"reference sidecar {meta_path.name!r} is not UTF-8 text",
                [Problem(meta_path.name, None, None, None, "not UTF-8 text")]) from None
    meta = dict(meta)
    meta.setdefault("id", path.stem)
    meta.setdefault("version", "unversioned")
    for key in ("citation", "population", "technique"):
        meta[key] = str(meta.get(key, "") or "")
    if not isinstance(meta.get("sources"), dict):
        meta["sources"] = {}
    return meta


@dataclass(frozen=True)
class _Vocabulary:
    params: dict[tuple[str, str], tuple[str, str]]   # (study, parameter) -> (bound, unit)
    studies: tuple[str, ...]


def _vocabulary() -> _Vocabulary:
    """Studies, parameters, bounds and units the bundled limits use: the accepted vocabulary."""
    table, _ = read_table("ncs_limits_adult")
    first = table.drop_duplicates(["study", "parameter"])
    params = {(st, pa): (b, u) for st, pa, b, u in
              zip(first["study"], first["parameter"], first["bound"], first["unit"])}
    return _Vocabulary(params, tuple(dict.fromkeys(table["study"])))


def _suggest(word: str, choices) -> str:
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""


def _unit_key(unit: str) -> str:
    return normalize_key(str(unit).replace("µ", "u").replace("μ", "u"))


def header_problems(table: pd.DataFrame, sheet: str, required, rows: str = "rows"
                    ) -> tuple[pd.DataFrame, list[Problem]]:
    """A laboratory table's header checked before its rows: the table with its column names
    stripped and lower-cased, and a problem per missing ``required`` column, or one for a
    file with a header but no ``rows`` (none when it can be read on)."""
    table = table.copy()
    table.columns = [str(c).strip().lower() for c in table.columns]
    missing = [c for c in required if c not in table.columns]
    if missing:
        return table, [Problem(sheet, 1, c, None, "required column missing (columns: "
                               + ", ".join(required) + ")") for c in missing]
    if not len(table):
        return table, [Problem(sheet, None, None, None, f"the file has a header but no {rows}")]
    return table, []


def validate_limits(table: pd.DataFrame, sheet: str, *, lab: bool) -> tuple[pd.DataFrame, list[Problem]]:
    """Check a limits table and return it typed, with every problem found.

    Parameters
    ----------
    table : DataFrame
        The file as read (all text).
    sheet : str
        The name problems are filed under (the file name).
    lab : bool
        ``True`` for a laboratory's own file: a missing or empty ``status`` becomes ``lab``.
        The bundled table must give one of :data:`STATUSES` on every row.

    Returns
    -------
    table : DataFrame
        Canonical nerve and muscle ids, numeric columns as floats, optional columns filled.
    problems : list of Problem
        Row numbers as a spreadsheet shows them (header = row 1).
    """
    table, problems = header_problems(table, sheet, LIMIT_COLUMNS, "limit rows")
    if problems:
        return table, problems
    for c in OPTIONAL_COLUMNS:
        if c not in table.columns:
            table[c] = ""
    text = table.astype(str).apply(lambda col: col.str.strip())
    row_no = pd.Series(np.arange(len(table)) + 2, index=table.index)

    add = _problem_adder(table, row_no, sheet, problems)
    num = _check_numbers(table, text, add)
    study, param, bound = _check_vocabulary(text, add)
    nerve, rec, motor, muscle, default_rec = _check_anatomy(text, study, add)
    status = _check_status(text, lab, add)

    if problems:
        return table, problems

    out = table.copy()
    out["study"], out["parameter"], out["bound"] = study, param, bound
    out["nerve"] = nerve
    out["recording_site"] = np.where(motor, np.where(rec.eq(""), default_rec, muscle), rec)
    out["status"] = status
    for col in _NUMERIC:
        out[col] = num[col]
    for col in ("unit", "technique", "source", "status_reason"):
        out[col] = text[col]
    problems.extend(_overlaps(out, row_no, sheet))
    return out, problems


def _problem_adder(table: pd.DataFrame, row_no: pd.Series, sheet: str, problems: list[Problem]):
    """A function that files one Problem per row of a mask (message text or ``row -> text``)."""
    def add(mask: pd.Series, column: str, message) -> None:
        for idx in table.index[mask.to_numpy(dtype=bool)]:
            msg = message(idx) if callable(message) else message
            problems.append(Problem(sheet, int(row_no[idx]), column, table.at[idx, column], msg))
    return add


def _check_numbers(table: pd.DataFrame, text: pd.DataFrame, add) -> dict[str, pd.Series]:
    """The numeric columns as floats, filing every bad number, age band and height rule."""
    # numbers: finite where given; limit required
    num = {}
    for col in _NUMERIC:
        raw = text[col].replace({"nan": "", "NaN": ""}) if col != "limit" else text[col]
        val = pd.to_numeric(raw.where(raw.ne(""), None), errors="coerce")
        given = raw.ne("")
        add(given & val.isna(), col, "not a number")
        inf = given & val.notna() & ~np.isfinite(val.astype(float))
        add(inf, col, "must be a finite number")
        val = val.where(~inf)
        num[col] = val.astype(float)
    add(text["limit"].eq(""), "limit", "a limit is required")
    add(num["limit"].notna() & (num["limit"] <= 0), "limit", "must be greater than 0")
    # ages and heights within what a workbook may hold (plausibility.csv, error range)
    plaus, _ = read_table("plausibility")
    plaus = plaus[plaus["sheet"] == "patients"].set_index("column")
    age_lo, age_hi = (float(plaus.at["age_years", c]) for c in ("error_min", "error_max"))
    h_lo, h_hi = (float(plaus.at["height_cm", c]) for c in ("error_min", "error_max"))
    for col in ("age_min_years", "age_max_years"):
        add(num[col].notna() & ((num[col] < age_lo) | (num[col] > age_hi)), col,
            f"must be an age in years between {age_lo:g} and {age_hi:g}")
    add(num["age_min_years"].notna() & num["age_max_years"].notna()
        & (num["age_min_years"] >= num["age_max_years"]), "age_min_years",
        lambda i: f"age_min_years must be below age_max_years ({table.at[i, 'age_max_years']!r});"
                  " the band is [age_min, age_max)")
    add(num["distance_mm"].notna() & (num["distance_mm"] < 0), "distance_mm", "must not be negative")
    h, s = num["height_ref_cm"], num["height_slope_ms_per_cm"]
    add(h.notna() & ((h < h_lo) | (h > h_hi)), "height_ref_cm",
        f"must be a height in cm ({h_lo:g}–{h_hi:g})")
    add(s.notna() & (s < 0), "height_slope_ms_per_cm", "must not be negative")
    add(h.isna() & s.notna() & text["height_ref_cm"].eq(""), "height_ref_cm",
        "height_slope_ms_per_cm needs a reference height")
    add(h.notna() & s.isna() & text["height_slope_ms_per_cm"].eq(""), "height_slope_ms_per_cm",
        "height_ref_cm needs a slope (0 for none)")
    return num


def _check_vocabulary(text: pd.DataFrame, add) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Study, parameter, bound and unit against the vocabulary; returns study, parameter, bound."""
    # vocabulary: study, parameter, bound, unit
    vocab = _vocabulary()
    study = text["study"].str.lower()
    param = text["parameter"].str.lower()
    bad_study = ~study.isin(vocab.studies)
    add(bad_study, "study", lambda i: f"unknown study; one of {', '.join(vocab.studies)}."
        + _suggest(study[i], vocab.studies))
    known = {(st, pa) for st, pa in vocab.params}
    pair_ok = pd.Series([(a, b) in known for a, b in zip(study, param)], index=text.index)
    add(~bad_study & ~pair_ok, "parameter", lambda i: (
        f"unknown parameter for study {study[i]!r}; one of "
        + ", ".join(pa for st, pa in vocab.params if st == study[i]) + "."
        + _suggest(param[i], [pa for st, pa in vocab.params if st == study[i]])))
    bound = text["bound"].str.lower()
    add(~bound.isin(["lower", "upper"]), "bound", "must be 'lower' or 'upper'")
    expect = pd.Series([vocab.params.get((a, b), ("", ""))[0] for a, b in zip(study, param)],
                       index=text.index)
    add(pair_ok & bound.isin(["lower", "upper"]) & bound.ne(expect), "bound",
        lambda i: f"{param[i]} limits are {expect[i]} bounds")
    unit = pd.Series([vocab.params.get((a, b), ("", ""))[1] for a, b in zip(study, param)],
                     index=text.index)
    unit_bad = pair_ok & text["unit"].ne("") & (text["unit"].map(_unit_key) != unit.map(_unit_key))
    add(unit_bad, "unit", lambda i: f"{param[i]} is in {unit[i]}")
    return study, param, bound


def _check_anatomy(text: pd.DataFrame, study: pd.Series, add):
    """Canonical nerve and recording-muscle ids; a motor limit needs its recording muscle."""
    # nerve and recording muscle: canonical ids
    anatomy = load_anatomy()
    nerve_key = text["nerve"].map(normalize_key)
    nerve = nerve_key.map(anatomy.nerve_aliases)
    add(nerve.isna(), "nerve", lambda i: "unknown nerve." + _suggest(
        text.at[i, "nerve"].lower(), anatomy.nerves.index))
    rec = text["recording_site"]
    motor = study.eq("motor")
    muscle = rec.map(normalize_key).map(anatomy.muscle_aliases)
    default_rec = nerve.map(anatomy.nerves["default_recording_site"]).fillna("")
    add(motor & rec.ne("") & muscle.isna(), "recording_site", lambda i: (
        "unknown recording muscle for a motor limit." + _suggest(rec[i].lower(), anatomy.muscles.index)))
    no_rec = motor & rec.eq("") & nerve.notna() & default_rec.eq("")
    add(no_rec, "recording_site", lambda i: f"a motor limit needs its recording muscle; "
        f"{nerve[i]} has no default recording muscle")
    return nerve, rec, motor, muscle, default_rec


def _check_status(text: pd.DataFrame, lab: bool, add) -> pd.Series:
    """The status column (a laboratory file defaults to ``lab``) and, for the bundled table, its reason."""
    # status
    status = text["status"].str.lower()
    allowed = STATUSES + ((LAB_STATUS,) if lab else ())
    if lab:
        status = status.where(status.ne(""), LAB_STATUS)
    add(~status.isin(allowed), "status", f"must be one of {', '.join(allowed)}")
    if not lab:
        add(text["status_reason"].eq(""), "status_reason", "every row needs a status_reason")
    return status


def _overlaps(table: pd.DataFrame, row_no: pd.Series, sheet: str, key: list[str] = _KEY,
              what: str = "study, nerve, recording site, parameter and bound") -> list[Problem]:
    """Rows of one ``key`` whose age bands overlap: a value would meet two limits (``what``
    names the key in the message; ``limit``: the limit, or a text of a row's limits)."""
    t = table.assign(row_no=row_no.to_numpy(),
                     lo=table["age_min_years"].fillna(-math.inf),
                     hi=table["age_max_years"].fillna(math.inf))
    keyed = t[t.duplicated(key, keep=False)][key + ["row_no", "lo", "hi", "limit"]]
    if keyed.empty:
        return []
    pairs = keyed.merge(keyed, on=key, suffixes=("", "_o"))
    pairs = pairs[(pairs["row_no"] > pairs["row_no_o"]) & (pairs["lo"] < pairs["hi_o"])
                  & (pairs["lo_o"] < pairs["hi"])]
    pairs = pairs.sort_values(["row_no", "row_no_o"]).drop_duplicates("row_no")
    out = []
    for r in pairs.itertuples(index=False):
        same = r.limit == r.limit_o
        limit_o = f"{r.limit_o:g}" if isinstance(r.limit_o, float) else str(r.limit_o)
        out.append(Problem(sheet, int(r.row_no), "limit", r.limit, (
            f"duplicate of row {int(r.row_no_o)} (same {what} and overlapping age band)")
            if same else (
            f"contradicts row {int(r.row_no_o)} (limit {limit_o} for the same {what}, with an "
            "overlapping age band); keep one or give them age bands that do not overlap")))
    return out


def read_lab_csv(path: str | Path, what: str
                 ) -> tuple[pd.DataFrame | None, dict[str, Any], list[Problem]]:
    """A laboratory's CSV (all cells text) and its sidecar, before any validation: the table, or
    None with the one problem that kept it from being read (empty, not UTF-8, not CSV).

    Raises
    ------
    InvalidInputError
        The file does not exist (``what`` names it in the message).
    """
    path = Path(path)
    name = path.name
    if not path.is_file():
        raise InvalidInputError(f"{what} not found: {str(path)!r}",
                                [Problem(name, None, None, str(path), "file not found")])
    meta = read_sidecar(path)
    try:
        return (pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig"),
                meta, [])
    except pd.errors.EmptyDataError:
        why = "the file is empty (no header, no rows)"
    except UnicodeDecodeError:
        why = "not UTF-8 text; save it as CSV UTF-8"
    except pd.errors.ParserError as exc:
        why = f"not a readable CSV: {exc}"
    return None, meta, [Problem(name, None, None, None, why)]


def read_limits_file(path: str | Path) -> tuple[pd.DataFrame, dict[str, Any], list[Problem]]:
    """Read a laboratory's limits CSV and its sidecar; validate every row.

    Returns
    -------
    table, meta, problems
        ``problems`` is empty when the file can be used.
    """
    table, meta, problems = read_lab_csv(path, "reference limits file")
    if table is None:
        return pd.DataFrame(), meta, problems
    name = Path(path).name
    table, problems = validate_limits(table, name, lab=True)
    if not problems:
        problems = _coverage(table, name)
    return table, meta, problems


def _coverage(table: pd.DataFrame, sheet: str) -> list[Problem]:
    """Warnings for limits the bundled set has and the laboratory's file does not."""
    bundled, _ = read_table("ncs_limits_adult")
    key = ["study", "nerve", "recording_site", "parameter"]
    have = table[key].astype(str).drop_duplicates()
    missing = bundled[key].drop_duplicates().merge(have, on=key, how="left", indicator=True)
    missing = missing[missing["_merge"] == "left_only"]
    return [Problem(sheet, None, None, " ".join(v for v in r if v),
                    "no limit for this study, nerve and parameter: such values will be read "
                    "without a reference (flag 'no_reference')", severity="warning")
            for r in missing[key].itertuples(index=False)]


def load_reference(path: str | Path | None = None,
                   muap_path: str | Path | None = None) -> ReferenceSet:
    """Load NCS reference limits: the bundled cited set, or a laboratory's own file.

    Parameters
    ----------
    path : str or Path, optional
        A CSV in the format of ``ncs_limits_adult.csv``; a ``.meta.toml`` sidecar beside it is
        read when present. Without a ``status`` column every row has status ``lab``. ``None``
        loads the bundled set.
    muap_path : str or Path, optional
        A laboratory's own MUAP reference (``muscle, age_min_years, age_max_years,
        duration_lower_ms, duration_upper_ms, amplitude_upper_uv``, optional ``status``),
        held as ``muap``; ``None`` leaves the bundled, unverified table (nothing judged).

    Returns
    -------
    ReferenceSet

    Raises
    ------
    InvalidInputError
        The file is missing, empty, has no rows, or any row is unusable; every problem is
        listed with its row, column and value, and nothing is used.

    Examples
    --------
    >>> import edxreview
    >>> reference = edxreview.knowledge.load_reference()
    >>> reference.path, sorted(reference.limits["bound"].unique())
    ('bundled', ['lower', 'upper'])
    """
    muap = None
    if muap_path is not None:
        from ._muap import load_muap_reference_file

        muap = load_muap_reference_file(muap_path)
    if path is None:
        table, _ = read_table("ncs_limits_adult")
        table, problems = validate_limits(table, "ncs_limits_adult.csv", lab=False)
        if problems:  # a packaging error: the bundled table is tested
            raise InvalidInputError("the bundled reference limits are invalid", problems)
        return ReferenceSet(table, read_sidecar(_data_path("ncs_limits_adult.csv")), muap=muap)
    table, meta, problems = read_limits_file(path)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise InvalidInputError(
            f"reference limits file {Path(path).name!r} has {len(errors)} problem(s); "
            "nothing was used", problems)
    return ReferenceSet(table, meta, path=str(path),
                        warnings=tuple(p for p in problems if p.severity != "error"), muap=muap)
