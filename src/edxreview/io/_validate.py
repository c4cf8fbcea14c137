"""Check a read workbook against the specification and convert it to typed tables.

Every problem is collected in one pass with its sheet, row, column and value; nothing is raised
until all sheets have been checked. Conversions work on whole columns (and on the distinct values
of a column for name look-ups), never row by row.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Hashable

import numpy as np
import pandas as pd

from .._errors import InvalidWorkbookError, Problem
from .._tables import map_distinct
from ..knowledge import load_anatomy
from ..knowledge._tables import closest_ids, normalize_key, read_table, vertebral_levels
from ._limits import MAX_SUGGESTIONS
from ._read import RawWorkbook
from ._schema import (
    ANTIBODY_VALUES, BOOL_VALUES, BRAINSTEM_LEVELS, ENUM_SYNONYMS, FASC_VALUES, GRADE_VALUES,
    BLANK_SIDE_REGIONS, NCS_SHEETS, REGION_VALUES, SEX_VALUES, SHEETS, SIDE_VALUES, TEMPLATE_SHEETS, Column,
)

_INVISIBLE = "[\u200b\u200c\u200d\u2060\ufeff]"
_AMBIGUOUS_COMMA = r"[+-]?[1-9]\d{0,2},\d{3}"
_LEVEL_RE = re.compile(r"^([CTLS])\s*0?(\d{1,2})$", re.I)
_BRAINSTEM_SYNONYMS = {"midbrain": "midbrain", "mesencephalon": "midbrain", "pons": "pons",
                       "pontine": "pons", "medulla": "medulla", "medullaoblongata": "medulla",
                       "areapostrema": "medulla", "medullary": "medulla"}
_PARASPINAL_RE = re.compile(
    r"^(?:(cervical|thoracic|lumbar|lumbosacral|sacral)\s*)?(?:para\s*spinals?|paraspinal muscles?"
    r"|multifidus)\s*(?:at\s*|level\s*)?([CTLS])\s*(\d{1,2})$"
    r"|^([CTLS])\s*(\d{1,2})\s*(?:para\s*spinals?|multifidus)$", re.I)


@dataclass
class Study:
    """A validated study: typed tables, warnings and row accounting.

    Attributes
    ----------
    tables : dict of str to DataFrame
        Canonical sheet name → typed table (absent optional sheets are empty tables with the
        spec's columns). Latency/amplitude columns that accept ``NR`` have a boolean companion
        ``<column>_nr``. ``_row`` keeps the spreadsheet row number.
    warnings : list of Problem
    rows : dict
        Per sheet: ``read``, ``used``, ``rejected`` and ``rejected_reasons``.
    source : Path
    sha256 : str
    format : str
    extra_columns : dict of str to list of str
        Per sheet, the columns kept as typed beside the specification's own and read by no
        rule: unknown columns (each named in a warning) and the sheet's informational ones
        (:attr:`Sheet.informational <edxreview.io._schema.Sheet>`, e.g. the provenance
        columns of ``emg_rows.csv``, without a warning).

    Examples
    --------
    >>> import edxreview
    >>> study = edxreview.io.load_study(edxreview.demo_path())
    >>> study.format, study.rows["patients"]["rejected"]
    ('csv', 0)
    """

    tables: dict[str, pd.DataFrame]
    warnings: list[Problem]
    rows: dict[str, dict[str, Any]]
    source: Path
    sha256: str
    format: str = "xlsx"
    extra_columns: dict[str, list[str]] = field(default_factory=dict)


def _unique_map(series: pd.Series, func: Callable[[str], Any]) -> pd.Series:
    """Apply ``func`` to each distinct value only, then broadcast (fast on large tables)."""
    codes, _, mapped = _map_distinct(series, func)
    return _broadcast(codes, mapped, series.index)


def _broadcast(codes: np.ndarray, mapped: np.ndarray, index: pd.Index) -> pd.Series:
    """Each row's value of ``mapped`` (one per distinct value) by its ``codes``."""
    return pd.Series(mapped[codes] if len(codes) else [], index=index, dtype=object)


def _map_distinct(series: pd.Series, func: Callable[[str], Any]
                  ) -> tuple[np.ndarray, Any, np.ndarray]:
    """``func`` of each distinct value: the rows' positions among the distinct values, the
    distinct values and what ``func`` gives for each (see :func:`_unique_map`)."""
    codes, uniques = pd.factorize(series, use_na_sentinel=False)
    mapped = np.empty(len(uniques), dtype=object)  # 1-D even when func returns tuples
    for i, u in enumerate(uniques):
        mapped[i] = func(u)
    return codes, uniques, mapped


def _typed_column(codes: np.ndarray, mapped: pd.Series, uniques: Any) -> Any:
    """The typed table's column of the rows' values, ``mapped`` (one value per distinct text
    of ``uniques``) taken by ``codes``, a blank cell (the text ``""``) missing.

    pandas stores a column of Python strings as Arrow text, converting every cell; here the
    few distinct values are converted and taken by position. The values are those of the
    rows (blanked as a row-by-row ``where`` blanks them), so pandas gives the column the same
    type; a column of other values goes in as its cells.
    """
    cells = mapped.where(~np.asarray(uniques == "", dtype=bool), None).to_numpy()
    if len(codes):
        typed = pd.Series(cells)
        if isinstance(typed.dtype, pd.StringDtype):
            return typed.array.take(codes)
    return cells[codes]


def _distinct(text: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """The distinct texts of a column (a Series of the column's type) and each row's position
    among them: a conversion done on the distinct texts is broadcast by these codes."""
    codes, distinct = pd.factorize(text, use_na_sentinel=False)
    return codes, pd.Series(distinct, dtype=text.dtype)


def _per_distinct(mask: pd.Series, codes: np.ndarray, n: int) -> np.ndarray:
    """A row mask that depends on the text alone, as one value per distinct text."""
    out = np.zeros(n, dtype=bool)
    out[codes] = mask.to_numpy(dtype=bool)
    return out


class _Collector:
    def __init__(self, raw: RawWorkbook):
        self.raw = raw
        self.problems: list[Problem] = []
        self.suggestions_left = MAX_SUGGESTIONS

    def add(self, sheet: str, frame: pd.DataFrame, mask: pd.Series, column: str,
            message: str | Callable[[str], str], severity: str = "error") -> None:
        if not mask.any():
            return
        header = self.raw.headers.get(sheet, {}).get(column, column)
        sub = frame.loc[mask, ["_row", column]]
        texts: dict[Any, str] = {}  # one message per distinct value, however many rows hold it
        for row, value in zip(sub["_row"].tolist(), sub[column].tolist()):
            if callable(message):
                key = value if isinstance(value, Hashable) else repr(value)
                text = texts.get(key)
                if text is None:
                    text = texts[key] = message(value)
            else:
                text = message
            self.problems.append(Problem(sheet, int(row), header, value, text, severity))

    def did_you_mean(self, value: str, vocabulary: dict[str, str]) -> str:
        """Close names for a misspelt one; only the first :data:`MAX_SUGGESTIONS` values get
        them (each takes milliseconds), the others are pointed to the template."""
        if self.suggestions_left <= 0:
            return "; see `edxreview template` for the accepted names"
        self.suggestions_left -= 1
        return _did_you_mean(value, vocabulary)


def _load_plausibility() -> pd.DataFrame:
    table, _ = read_table("plausibility")
    for col in ("error_min", "error_max", "warn_min", "warn_max"):
        table[col] = pd.to_numeric(table[col].replace("", None), errors="coerce")
    return table


def _convert_column(sheet: str, frame: pd.DataFrame, col: Column, raw: pd.Series,
                    out: pd.DataFrame, coll: _Collector, anatomy) -> None:
    """Convert one column of text cells (``raw``: the column's text, stripped) to its type into
    ``out``; every bad cell becomes a located problem. The required check is shared; the
    conversion is the kind's own."""
    if col.kind in ("number", "number_nr"):  # judged once per distinct text
        codes, text = _distinct(raw)
        blank = text.eq("") | text.str.lower().isin(["nan", "none", "na", "n/a", "-", "—"])
        blank = pd.Series(blank.to_numpy(dtype=bool)[codes], index=raw.index)
    else:
        blank = raw.eq("")
    if col.required:
        # a blank grade is often a recording without rest (emg analyze leaves it blank): 0
        # would count a muscle never examined at rest as examined and clean
        coll.add(sheet, frame, blank, col.name,
                 f"{col.name} is required; "
                 + ("fill in the grade from the examination at rest: 0 only if the muscle was "
                    "examined at rest and none were seen" if col.kind == "grade"
                    else "fill it in")
                 + (" (or NR for no response)" if col.kind == "number_nr" else ""))
    _CONVERTERS[col.kind](sheet, frame, col, raw, blank, out, coll, anatomy)


def _convert_number(sheet: str, frame: pd.DataFrame, col: Column, raw: pd.Series,
                    blank: pd.Series, out: pd.DataFrame, coll: _Collector, anatomy) -> None:
    """Numbers (decimal comma read, ambiguous thousands refused); ``NR`` where allowed.

    Each distinct text is read once (a column repeats its values), then broadcast to the rows.
    """
    codes, text = _distinct(raw)
    lower = text.str.lower()
    nr = (lower.eq("nr") | lower.eq("no response") | lower.eq("absent")).to_numpy()
    # a decimal comma is read as a decimal point (4,5 → 4.5); a comma followed by exactly
    # three digits after one to three others could be either that or a thousands
    # separator (1,070 → 1070 or 1.07), so it is refused rather than guessed
    ambiguous = text.str.fullmatch(_AMBIGUOUS_COMMA).to_numpy(dtype=bool)
    cleaned = text.where(~nr & ~ambiguous, "").str.replace(",", ".", regex=False)
    num = pd.to_numeric(cleaned.where(~_per_distinct(blank, codes, len(text)), None),
                        errors="coerce").astype(float).to_numpy()
    nr, ambiguous = (pd.Series(a[codes], index=raw.index) for a in (nr, ambiguous))
    num = pd.Series(num[codes], index=raw.index)
    coll.add(sheet, frame, ambiguous, col.name,
             lambda v: f"ambiguous number: the comma may separate thousands "
             f"({_without_comma(v)}) or decimals ({_decimal_point(v)}); edxreview reads a "
             f"comma as a decimal comma but never guesses here. Write {_without_comma(v)} "
             f"or {_decimal_point(v)} (no thousands separators)")
    blank = blank | ambiguous  # reported above: not "not a number" again
    bad = num.isna() & ~blank & ~nr
    if col.kind == "number":
        bad |= nr & ~blank
        coll.add(sheet, frame, nr & ~blank, col.name,
                 "NR (no response) is not allowed here; only latency and amplitude cells "
                 "may say NR. Leave the cell empty if it was not measured")
        coll.add(sheet, frame, num.isna() & ~blank & ~nr, col.name,
                 "not a number; write a number such as 12.5 (no units)")
    else:
        coll.add(sheet, frame, bad, col.name,
                 "not a number and not NR; write a number (no units) or NR for no response")
        out[f"{col.name}_nr"] = nr.to_numpy()
    out[col.name] = num.to_numpy()


def _convert_id(sheet: str, frame: pd.DataFrame, col: Column, raw: pd.Series,
                blank: pd.Series, out: pd.DataFrame, coll: _Collector, anatomy) -> None:
    """Patient ids: one id however its accents were encoded, invisible characters dropped."""
    # one id however its accents were encoded: 'José' typed on one system and pasted from
    # another (precomposed é or e + combining accent) is one patient; characters that
    # print as nothing (zero-width spaces, a stray byte-order mark) are not part of an id
    codes, text = _distinct(raw)
    ids = text.str.normalize("NFC").str.replace(_INVISIBLE, "", regex=True).str.strip()
    ids = ids.take(codes).set_axis(raw.index)
    coll.add(sheet, frame, ids.eq("") & ~blank, col.name,
             f"{col.name} holds only invisible characters; write the id")
    # Arrow text stays Arrow text (a round trip through Python strings converts every cell)
    out[col.name] = (ids.array if isinstance(ids.dtype, pd.StringDtype) and len(ids)
                     else ids.to_numpy())


def _convert_text(sheet: str, frame: pd.DataFrame, col: Column, raw: pd.Series,
                  blank: pd.Series, out: pd.DataFrame, coll: _Collector, anatomy) -> None:
    """Free text, as written."""
    out[col.name] = raw.where(~blank, None).to_numpy()


def _convert_vocabulary(sheet: str, frame: pd.DataFrame, col: Column, raw: pd.Series,
                        blank: pd.Series, out: pd.DataFrame, coll: _Collector, anatomy) -> None:
    """Closed vocabularies (sex, side, yes/no, antibody, grades, region) with synonyms."""
    table = {"sex": SEX_VALUES, "side": SIDE_VALUES, "side_optional": SIDE_VALUES,
             "bool": BOOL_VALUES, "antibody": ANTIBODY_VALUES, "grade": GRADE_VALUES,
             "fasc": FASC_VALUES, "region": REGION_VALUES}[col.kind]
    codes, uniques, distinct = _map_distinct(
        raw.str.lower(), lambda v: table.get(v, table.get(v.replace(" ", ""), None)))
    mapped = _broadcast(codes, distinct, raw.index)
    bad = mapped.isna() & ~blank
    allowed = {"sex": "F or M", "side": "L or R (left/right)", "side_optional": "L or R",
               "bool": "yes/no, true/false or 1/0", "antibody": "positive, negative or unknown",
               "grade": "0, ±, 1+, 2+, 3+ or 4+", "fasc": "a grade (0 … 4+) or present/absent",
               "region": "brain, brainstem or spinal_cord"}[col.kind]
    coll.add(sheet, frame, bad, col.name, lambda v: f"not allowed here; use {allowed}")
    out[col.name] = _typed_column(codes, pd.Series(distinct, dtype=object), uniques)


def _convert_enum(sheet: str, frame: pd.DataFrame, col: Column, raw: pd.Series,
                  blank: pd.Series, out: pd.DataFrame, coll: _Collector, anatomy) -> None:
    """Enumerations of the specification, spaces read as underscores."""
    codes, uniques, distinct = _map_distinct(
        raw.str.lower(), lambda v: ENUM_SYNONYMS.get(v, v.replace(" ", "_")))
    norm = _broadcast(codes, distinct, raw.index)
    bad = ~norm.isin(col.allowed) & ~blank
    coll.add(sheet, frame, bad, col.name,
             lambda v: "not allowed here; use one of " + ", ".join(col.allowed))
    out[col.name] = _typed_column(codes, pd.Series(distinct, dtype=object), uniques)


def _convert_nerve(sheet: str, frame: pd.DataFrame, col: Column, raw: pd.Series,
                   blank: pd.Series, out: pd.DataFrame, coll: _Collector, anatomy) -> None:
    """Nerve names through the anatomy's aliases, a recording muscle in brackets allowed."""
    codes, uniques, keys = _map_distinct(raw, normalize_key)
    distinct = pd.Series(keys, dtype=object).map(anatomy.nerve_aliases)
    mapped = distinct.take(codes).set_axis(raw.index)
    # "Ulnar (FDI)", "Peroneal (EDB)": the nerve with its recording muscle in brackets
    unresolved = mapped.isna() & ~blank & raw.str.contains("(", regex=False)
    if unresolved.any():
        parts = raw[unresolved].str.extract(r"^\s*(.*?)\s*\((.*)\)\s*$")
        nerve = _unique_map(parts[0].fillna(""), normalize_key).map(anatomy.nerve_aliases)
        mapped.loc[unresolved] = nerve.to_numpy()
        muscle = _unique_map(parts[1].fillna(""), normalize_key).map(anatomy.muscle_aliases)
        out["_recording_from_nerve"] = None
        out.loc[unresolved.to_numpy(), "_recording_from_nerve"] = muscle.to_numpy()
    bad = mapped.isna() & ~blank
    coll.add(sheet, frame, bad, col.name,
             lambda v: "unknown nerve" + coll.did_you_mean(v, anatomy.nerve_aliases))
    out[col.name] = (mapped.where(~blank, None).to_numpy() if unresolved.any()
                     else _typed_column(codes, distinct, uniques))


def _convert_muscle(sheet: str, frame: pd.DataFrame, col: Column, raw: pd.Series,
                    blank: pd.Series, out: pd.DataFrame, coll: _Collector, anatomy) -> None:
    """Muscle names through the anatomy's aliases; paraspinal levels parsed."""
    codes, uniques, keys = _map_distinct(raw, normalize_key)
    # each distinct name looked up (and parsed as a paraspinal level when it is no alias)
    distinct = pd.Series(keys, dtype=object).map(anatomy.muscle_aliases)
    levels = pd.Series(None, index=distinct.index, dtype=object)
    unresolved = distinct.isna().to_numpy() & np.asarray(uniques != "", dtype=bool)
    if unresolved.any():
        parsed = pd.Series([_parse_paraspinal(u) for u in uniques[unresolved]], dtype=object)
        distinct.loc[unresolved] = parsed.map(lambda t: t[0] if t else None).to_numpy()
        levels.loc[unresolved] = parsed.map(lambda t: t[1] if t else None).to_numpy()
    mapped = distinct.take(codes).set_axis(raw.index)
    bad = mapped.isna() & ~blank
    if sheet == "emg":
        coll.add(sheet, frame, bad, col.name,
                 lambda v: "unknown muscle" + coll.did_you_mean(v, anatomy.muscle_aliases))
        out["paraspinal_level"] = _typed_column(codes, levels, uniques)
    else:
        coll.add(sheet, frame, bad, col.name,
                 lambda v: "unknown recording muscle; the nerve's default recording site "
                 "will be assumed" + coll.did_you_mean(v, anatomy.muscle_aliases),
                 severity="warning")
    out[col.name] = _typed_column(codes, distinct, uniques)


def _convert_site(sheet: str, frame: pd.DataFrame, col: Column, raw: pd.Series,
                  blank: pd.Series, out: pd.DataFrame, coll: _Collector, anatomy) -> None:
    """Stimulation sites through the anatomy's aliases (per nerve first)."""
    keys = _unique_map(raw, normalize_key)
    nerve = out["nerve"] if "nerve" in out else pd.Series(None, index=raw.index)
    # looked up once per distinct (nerve, site) pair, then broadcast to the rows
    both = pd.DataFrame({"nerve": nerve.to_numpy(), "key": keys.to_numpy()}, dtype=object)
    codes = both.groupby(["nerve", "key"], dropna=False, sort=False).ngroup().to_numpy()
    distinct = both.drop_duplicates()
    pairs = pd.Series(list(zip(distinct["nerve"], distinct["key"])), dtype=object)
    mapped = pairs.map(anatomy.site_aliases_by_nerve)
    mapped = mapped.fillna(distinct["key"].reset_index(drop=True).map(anatomy.site_aliases))
    mapped = pd.Series(mapped.to_numpy()[codes], index=raw.index, dtype=object)
    bad = mapped.isna() & ~blank
    coll.add(sheet, frame, bad, col.name,
             lambda v: "unknown stimulation site; segments will follow row order"
             + coll.did_you_mean(v, anatomy.site_aliases), severity="warning")
    out[col.name] = mapped.where(~bad, raw.str.lower().str.replace(" ", "_")).where(
        ~blank, None).to_numpy()


def _convert_level(sheet: str, frame: pd.DataFrame, col: Column, raw: pd.Series,
                   blank: pd.Series, out: pd.DataFrame, coll: _Collector, anatomy) -> None:
    """Vertebral and brainstem levels."""
    parsed = _unique_map(raw, _parse_level)
    bad = parsed.isna() & ~blank
    coll.add(sheet, frame, bad, col.name,
             lambda v: "not a level; use a vertebral body level C1…C7, T1…T12, L1…L5, "
             "S1 (rostral first) or midbrain, pons, medulla for the brainstem")
    out[col.name] = parsed.where(~blank, None).to_numpy()


_CONVERTERS = {
    "number": _convert_number,
    "number_nr": _convert_number,
    "id": _convert_id,
    "text": _convert_text,
    "sex": _convert_vocabulary,
    "side": _convert_vocabulary,
    "side_optional": _convert_vocabulary,
    "bool": _convert_vocabulary,
    "antibody": _convert_vocabulary,
    "grade": _convert_vocabulary,
    "fasc": _convert_vocabulary,
    "region": _convert_vocabulary,
    "enum": _convert_enum,
    "nerve": _convert_nerve,
    "muscle": _convert_muscle,
    "site": _convert_site,
    "level": _convert_level,
}


def _without_comma(value: str) -> str:
    return str(value).strip().replace(",", "")


def _decimal_point(value: str) -> str:
    return str(value).strip().replace(",", ".").rstrip("0").rstrip(".")


def _did_you_mean(value: str, vocabulary: dict[str, str]) -> str:
    options = closest_ids(normalize_key(value), vocabulary)
    return f"; did you mean {' or '.join(repr(o) for o in options)}?" if options else \
        "; see `edxreview template` for the accepted names"


def _parse_level(value: str) -> str | None:
    key = normalize_key(value)
    if key in _BRAINSTEM_SYNONYMS:
        return _BRAINSTEM_SYNONYMS[key]
    m = _LEVEL_RE.match(str(value).strip())
    if not m:
        return None
    level = f"{m.group(1).upper()}{int(m.group(2))}"
    return level if level in vertebral_levels() else None


def _parse_paraspinal(value: str) -> tuple[str, str] | None:
    m = _PARASPINAL_RE.match(str(value).strip())
    if not m:
        return None
    letter = (m.group(2) or m.group(4)).upper()
    number = int(m.group(3) or m.group(5))
    limits = {"C": 8, "T": 12, "L": 5, "S": 5}
    if not 1 <= number <= limits[letter]:
        return None
    muscle = {"C": "cervical_paraspinals", "T": "thoracic_paraspinals"}.get(
        letter, "lumbosacral_paraspinals")
    return muscle, f"{letter}{number}"


def _check_ranges(sheet: str, frame: pd.DataFrame, out: pd.DataFrame, coll: _Collector,
                  plausibility: pd.DataFrame) -> None:
    for rule in plausibility[plausibility["sheet"] == sheet].itertuples():
        if rule.column not in out:
            continue
        values = out[rule.column]
        impossible = (values < rule.error_min) | (values > rule.error_max)
        coll.add(sheet, frame, impossible.fillna(False), rule.column,
                 f"impossible value (allowed {rule.error_min:g} to {rule.error_max:g}); "
                 "check the number and its unit")
        warn = pd.Series(False, index=values.index)
        if pd.notna(rule.warn_min):
            warn |= values < rule.warn_min
        if pd.notna(rule.warn_max):
            warn |= values > rule.warn_max
        warn &= ~impossible
        note = f" ({rule.note})" if isinstance(rule.note, str) and rule.note else ""
        coll.add(sheet, frame, warn.fillna(False), rule.column,
                 "outside the usual physiological range" + note + "; kept as entered",
                 severity="warning")


def cooled_rows(table: pd.DataFrame, anatomy=None) -> pd.DataFrame:
    """Each nerve conduction row's limb temperature limit and whether it was recorded below it.

    The one definition of a cooled limb, read by the validation warning, the nerve readings
    (``nerves.csv`` ``cooled``) and the report's tables: a row whose ``temperature_c`` is below
    the minimum of its nerve's limb (``temperature_limits.csv``: hand, foot).

    Parameters
    ----------
    table : DataFrame
        Rows with ``nerve`` (anatomy ids) and, where measured, ``temperature_c`` (°C).
    anatomy : Anatomy, optional
        :func:`edxreview.knowledge.load_anatomy` (read when not given).

    Returns
    -------
    DataFrame
        Aligned with ``table``: ``limb`` (``upper``, ``lower``; missing for a cranial nerve),
        ``temperature_limit_c`` (°C; missing where the limb has none) and ``cooled`` (bool;
        false where the temperature or the limit is missing).
    """
    anatomy = load_anatomy() if anatomy is None else anatomy
    limits, _ = read_table("temperature_limits")
    by_limb = limits.set_index("limb")["min_temperature_c"].pipe(pd.to_numeric, errors="coerce")
    limb_of = anatomy.nerves["limb"] if "limb" in anatomy.nerves else pd.Series(dtype=object)
    limb = (map_distinct(table["nerve"], limb_of) if len(table)
            else pd.Series(index=table.index, dtype=object))
    limit = pd.to_numeric(limb.map(by_limb), errors="coerce")
    temperature = (pd.to_numeric(table["temperature_c"], errors="coerce") if "temperature_c" in table
                   else pd.Series(np.nan, index=table.index))
    cooled = (temperature < limit).fillna(False).astype(bool)
    return pd.DataFrame({"limb": limb, "temperature_limit_c": limit, "cooled": cooled},
                        index=table.index)


def _check_temperatures(tables: dict[str, pd.DataFrame], coll: _Collector, anatomy) -> None:
    """Warn about cooled limbs: skin temperature below the limb's limit (hand / foot)."""
    for sheet in NCS_SHEETS:
        table = tables.get(sheet)
        if table is None or not len(table) or "temperature_c" not in table:
            continue
        rows = cooled_rows(table, anatomy)
        for name in read_table("temperature_limits")[0]["limb"]:   # the file's order
            cold = rows["cooled"] & rows["limb"].eq(name)
            if not cold.any():
                continue
            minimum = rows.loc[cold, "temperature_limit_c"].iloc[0]
            coll.add(sheet, table, cold, "temperature_c",
                     f"cooled limb: below {minimum:g} °C for a {name}-limb nerve; cooling slows "
                     "conduction and raises amplitudes. Results are kept as measured; warm the "
                     "limb next time or interpret with care", severity="warning")


def validate_workbook(raw: RawWorkbook) -> Study:
    """Validate a read workbook and return the typed study.

    Parameters
    ----------
    raw : RawWorkbook
        From :func:`edxreview.io.read_workbook`.

    Returns
    -------
    Study

    Raises
    ------
    InvalidWorkbookError
        With every problem found (errors and warnings) when any error was found.

    Examples
    --------
    >>> import edxreview
    >>> raw = edxreview.io.read_workbook(edxreview.demo_path())
    >>> study = edxreview.io.validate_workbook(raw)
    >>> study.tables["ncs_motor"]["latency_ms"].dtype
    dtype('float64')
    """
    anatomy = load_anatomy()
    plausibility = _load_plausibility()
    coll = _Collector(raw)
    coll.problems.extend(raw.problems)
    tables: dict[str, pd.DataFrame] = {}
    rows: dict[str, dict[str, Any]] = {}
    extra_columns: dict[str, list[str]] = {}

    present = set(raw.sheets)
    _check_sheets(raw, present, coll)

    for name, spec in SHEETS.items():
        frame = raw.sheets.get(name)
        if frame is None:
            tables[name] = _empty_table(spec)
            continue
        tables[name] = _validate_sheet(name, spec, frame, raw, coll, anatomy, plausibility,
                                       rows, extra_columns)

    if "patients" in raw.sheets and not rows.get("patients", {}).get("used"):
        has_header = len(raw.headers.get("patients", {})) > 0
        coll.problems.append(Problem(
            "patients", None, None, None,
            "no patients: the sheet has a header but no rows; add one row per patient"
            if has_header else "no patients: the sheet is empty; row 1 must hold the column "
            "names and each further row one patient (see `edxreview template`)"))
    _check_cross_sheet(tables, raw, coll, anatomy)
    _check_temperatures(tables, coll, anatomy)
    errors = [p for p in coll.problems if p.severity == "error"]
    warnings = [p for p in coll.problems if p.severity == "warning"]
    if errors:
        raise InvalidWorkbookError(
            f"the workbook has {len(errors)} problem(s) that must be fixed", errors + warnings)
    return Study(tables, warnings, rows, raw.source, raw.sha256, raw.format, extra_columns)


def _check_sheets(raw: RawWorkbook, present: set[str], coll: _Collector) -> None:
    """Missing required sheets, no NCS sheet at all, unknown sheets (warned)."""
    for name, spec in SHEETS.items():
        unreadable = any(p.sheet == name for p in raw.problems)
        if spec.required and name not in present and not unreadable:
            coll.problems.append(Problem(name, None, None, None,
                                         f"required sheet {name!r} is missing ({spec.description})"))
    if not present & set(NCS_SHEETS):
        coll.problems.append(Problem("ncs_motor", None, None, None,
                                     "the workbook needs at least one of the sheets 'ncs_motor' "
                                     "or 'ncs_sensory'"))
    for name in sorted(present - set(SHEETS) - set(TEMPLATE_SHEETS)):
        options = difflib.get_close_matches(name, list(SHEETS), n=1, cutoff=0.6)
        hint = f"; did you mean {options[0]!r}?" if options else ""
        coll.problems.append(Problem(name, None, None, None,
                                     f"unknown sheet, ignored{hint}", severity="warning"))


def _validate_sheet(name: str, spec, frame: pd.DataFrame, raw: RawWorkbook, coll: _Collector,
                    anatomy, plausibility, rows: dict[str, dict[str, Any]],
                    extra_columns: dict[str, list[str]]) -> pd.DataFrame:
    """One sheet typed: empty rows counted out, columns checked and converted, ranges checked."""
    frame = frame.copy()
    data_cols = [c for c in frame.columns if c != "_row"]
    text = {c: frame[c].astype(str).str.strip() for c in data_cols}
    empty_row = (pd.DataFrame(text).eq("").all(axis=1) if data_cols
                 else pd.Series(True, index=frame.index))
    n_read = int(len(frame))
    rejected = int(empty_row.sum())
    frame = frame.loc[~empty_row]
    rows[name] = {"read": n_read, "used": n_read - rejected, "rejected": rejected,
                  "rejected_reasons": ({"empty row": rejected} if rejected else {})}
    missing = [c.name for c in spec.columns if c.header_required and c.name not in frame.columns]
    for col in missing:
        options = difflib.get_close_matches(col, data_cols, n=1, cutoff=0.6)
        hint = f"; the sheet has {options[0]!r} — rename it to {col!r}" if options else ""
        coll.problems.append(Problem(name, 1, col, None, f"required column is missing{hint}"))
    extras = [c for c in data_cols if c not in {c.name for c in spec.columns}]
    # one warning per unknown column, the column's name in the column field (not in the
    # message text), so that --deidentify can withhold a name that is not on the
    # specification; the informational columns another edxreview command writes beside the
    # sheet's own (spec.informational) are kept as the unknown ones are, without a warning
    coll.problems += [Problem(name, 1, raw.headers.get(name, {}).get(c, c), None,
                              "unknown column, kept in the data but not used",
                              severity="warning")
                      for c in extras if c not in spec.informational]
    if extras:
        extra_columns[name] = extras
    out = pd.DataFrame(index=frame.index)
    out["_row"] = frame["_row"].astype(int).to_numpy()
    for col in spec.columns:
        if col.name not in frame.columns:
            out[col.name] = None if col.kind not in ("number", "number_nr") else np.nan
            if col.kind == "number_nr":
                out[f"{col.name}_nr"] = False
            continue
        _convert_column(name, frame, col, text[col.name][~empty_row], out, coll, anatomy)
    if "_recording_from_nerve" in out:
        if "recording_site" in out:
            missing = out["recording_site"].isna()
            out.loc[missing, "recording_site"] = out.loc[missing, "_recording_from_nerve"]
        out = out.drop(columns="_recording_from_nerve")
    for extra in extras:
        out[extra] = frame[extra].to_numpy()
    _check_ranges(name, frame, out, coll, plausibility)
    return out.reset_index(drop=True)


def _empty_table(spec) -> pd.DataFrame:
    cols: dict[str, pd.Series] = {"_row": pd.Series(dtype=int)}
    for col in spec.columns:
        if col.kind in ("number", "number_nr", "grade", "fasc"):
            cols[col.name] = pd.Series(dtype=float)
            if col.kind == "number_nr":
                cols[f"{col.name}_nr"] = pd.Series(dtype=bool)
        else:
            cols[col.name] = pd.Series(dtype=object)
    if spec.name == "emg":
        cols["paraspinal_level"] = pd.Series(dtype=object)
    return pd.DataFrame(cols)


def _check_cross_sheet(tables: dict[str, pd.DataFrame], raw: RawWorkbook, coll: _Collector,
                       anatomy) -> None:
    patients = tables["patients"]
    if "patient_id" in patients and len(patients):
        ids = patients["patient_id"]
        dup = ids.duplicated(keep="first") & ids.ne("")
        coll.add("patients", patients, dup, "patient_id",
                 "patient_id appears more than once; each patient needs one row with a unique id")
        known = pd.Index(pd.unique(ids[ids.ne("")].astype(object).to_numpy()))
        for name in SHEETS:
            if name == "patients":
                continue
            table = tables[name]
            if not len(table) or "patient_id" not in table:
                continue
            unknown = (pd.Series(known.get_indexer(table["patient_id"]) < 0, index=table.index)
                       & table["patient_id"].ne(""))
            coll.add(name, table, unknown, "patient_id",
                     "this patient_id is not in the 'patients' sheet; add the patient or fix the id")
    # the same study entered twice (often a left/right mix-up: the second row was meant for the
    # other side): both rows are kept and used, and the user is told
    repeat_keys = {"ncs_motor": ["nerve", "side", "stim_site", "recording_site"],
                   "ncs_sensory": ["nerve", "side", "recording_site"],
                   "f_waves": ["nerve", "side"], "blink_reflex": ["side"],
                   "emg": ["muscle", "side", "paraspinal_level"]}
    for name, cols in repeat_keys.items():
        table = tables[name]
        cols = [c for c in cols if c in table]
        if not len(table) or "patient_id" not in table or not cols:
            continue
        repeated = table.duplicated(subset=["patient_id", *cols], keep="first") & table["patient_id"].ne("")
        what = ", ".join(c for c in cols if c != "paraspinal_level")
        coll.add(name, table, repeated, cols[0],
                 f"the same patient, {what} appears in an earlier row too; if one of them belongs "
                 "to the other side, correct its side (both rows are used as entered)",
                 severity="warning")
    emg = tables["emg"]
    if len(emg) and "side" in emg and "muscle" in emg:
        blank_ok = map_distinct(emg["muscle"], anatomy.muscles["region"]).isin(BLANK_SIDE_REGIONS)
        missing_side = emg["side"].isna() & emg["muscle"].notna()
        coll.add("emg", emg, missing_side & ~blank_ok, "side",
                 "side is required for limb muscles (L or R); only midline muscles such as the "
                 "tongue may leave it blank")
        # a paired cranial, trunk or paraspinal muscle: kept, but no lesion on one side can
        # explain it (muscles.csv `midline` says which muscles have no side)
        midline = map_distinct(emg["muscle"], anatomy.muscles["midline"]).fillna(False).astype(bool)
        paired = missing_side & blank_ok & ~midline
        names = map_distinct(emg["muscle"], anatomy.muscles["display_name"])
        shown = emg.assign(side=emg["side"].fillna(""))          # the value shown: the blank cell
        for name in dict.fromkeys(names[paired]):
            coll.add("emg", shown, paired & names.eq(name), "side",
                     f"side is blank for {name!r}, a muscle with a left and a right; write L or R "
                     "(the row is used, but a lesion on one side cannot explain it, so its "
                     "denervation counts as unexplained unless a polyneuropathy covers it)",
                     severity="warning")
    mri = tables["mri"]
    if len(mri):
        needs = mri["region"].isin(["brainstem", "spinal_cord"])
        coll.add("mri", mri, needs & mri["level_from"].isna(), "level_from",
                 "level_from is required for brainstem and spinal cord lesions")
        coll.add("mri", mri, needs & mri["level_to"].isna() & mri["level_from"].notna(), "level_to",
                 "level_to is required for brainstem and spinal cord lesions (repeat level_from "
                 "for a one-level lesion)")
        cord = mri["region"].eq("spinal_cord")
        brainstem_level = mri["level_from"].isin(BRAINSTEM_LEVELS)
        coll.add("mri", mri, cord & brainstem_level, "level_from",
                 "a spinal cord lesion needs a vertebral level (C1…L2); use region 'brainstem' for "
                 "midbrain, pons or medulla")
        coll.add("mri", mri, mri["region"].eq("brainstem") & mri["level_from"].notna()
                 & ~brainstem_level, "level_from",
                 "a brainstem lesion's level is midbrain, pons or medulla")
