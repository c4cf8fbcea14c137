"""De-identification of a validated study before it is reviewed.

Patient ids become salted keyed hashes (HMAC-SHA-256), so the same id gives the same pseudonym
within a run (and across runs given the same salt) but cannot be reversed without the salt.
Everything that is not on a closed vocabulary is treated as free text, because it may hold names,
record numbers, addresses or notes:

- free-text columns (``diagnosis``, ``location``) are emptied and columns the specification does
  not know are dropped; date columns, where a laboratory adds them, are shifted by a whole number
  of days (never zero) chosen per patient from the salted hash, so intervals within a patient are
  kept;
- stimulation and recording sites are kept only when they are spellings of a known site, muscle
  or reference recording site; any other text becomes ``"unrecognised site N"`` (numbered in
  order of first appearance, so distinct sites stay distinct);
- in warnings, a sheet the specification does not know becomes ``"an unrecognised sheet"``, an
  unknown column ``"an unrecognised column"``, and a cell value is kept only when it is a number
  (an id becomes its pseudonym); messages are the program's own text.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._errors import Problem
from .io import Study
from .io._read import normalize_header
from .io._schema import SHEETS
from .knowledge import load_anatomy
from .knowledge._tables import normalize_key

#: pseudonym prefix; the rest is the first hex digits of the keyed hash
PSEUDONYM_PREFIX = "P"
_HEX_DIGITS = 16
_MAX_SHIFT_DAYS = 365
#: what replaces text that is not on a closed vocabulary
UNRECOGNISED_SHEET = "an unrecognised sheet"
UNRECOGNISED_COLUMN = "an unrecognised column"
UNRECOGNISED_SITE = "unrecognised site"
_NUMERIC_KINDS = ("number", "number_nr")
#: kinds whose cells may hold any text (``None``: a column the specification does not know)
_OPEN_KINDS = (None, "id", "text", "site", "muscle")
#: shorter typed text is cut out of a message only where it is quoted, so that a value such as
#: "R" does not mangle the message's own words
_MIN_SCRUB_LENGTH = 3


def new_salt() -> str:
    """A random salt (32 hex digits). It is never written to any output."""
    return secrets.token_hex(16)


def _digest(value: str, salt: str) -> str:
    return hmac.new(salt.encode("utf-8"), value.encode("utf-8"), hashlib.sha256).hexdigest()


def pseudonymize_ids(ids: pd.Series, salt: str) -> pd.Series:
    """Replace each patient id by ``P`` + 16 hex digits of its salted hash.

    Works on distinct values only, then broadcasts; blanks stay blank.
    """
    codes, uniques = pd.factorize(ids.astype(object).where(ids.notna(), ""),
                                  use_na_sentinel=False)
    mapped = np.array([PSEUDONYM_PREFIX + _digest(str(u), salt)[:_HEX_DIGITS] if str(u) else ""
                       for u in uniques], dtype=object)
    return pd.Series(mapped[codes] if len(codes) else [], index=ids.index, dtype=object)


def _date_shift_days(ids: pd.Series, salt: str) -> pd.Series:
    """Per-patient shift in days, ±1 … ±365: never 0, so no original date is ever written."""
    codes, uniques = pd.factorize(ids.astype(str), use_na_sentinel=False)
    draws = np.array([int(_digest("date-shift:" + str(u), salt)[:8], 16) % (2 * _MAX_SHIFT_DAYS)
                      for u in uniques], dtype="int64")
    shifts = np.where(draws < _MAX_SHIFT_DAYS, draws - _MAX_SHIFT_DAYS, draws - _MAX_SHIFT_DAYS + 1)
    return pd.Series(shifts[codes] if len(codes) else [], index=ids.index, dtype="int64")


def _is_date_column(name: str) -> bool:
    return name.endswith("_date") or name == "date" or name.startswith("date_")


def site_vocabulary(recording_sites: Iterable[str] = ()) -> frozenset[str]:
    """Normalised spellings (see :func:`~edxreview.knowledge.normalize_key`) of every known site.

    Stimulation sites and their aliases, muscles and their aliases, and the recording sites of
    the reference limits (bundled, plus ``recording_sites`` of a laboratory's own set).
    """
    anatomy = load_anatomy()
    keys = set(anatomy.site_aliases) | set(anatomy.muscle_aliases)
    keys |= {normalize_key(s) for s in anatomy.sites["site"]}
    keys |= {normalize_key(s) for s in recording_sites if isinstance(s, str)}
    keys.discard("")
    return frozenset(keys)


def _map_sites(values: pd.Series, known: frozenset[str], labels: dict[str, str]) -> pd.Series:
    """Keep known site spellings; any other text becomes ``unrecognised site N``."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    mapped = np.empty(len(uniques), dtype=object)
    for i, u in enumerate(uniques):
        text = str(u)
        if normalize_key(text) in known:
            mapped[i] = u
        else:
            mapped[i] = labels.setdefault(text, f"{UNRECOGNISED_SITE} {len(labels) + 1}")
    out = np.full(len(values), None, dtype=object)
    out[codes >= 0] = mapped[codes[codes >= 0]]
    return pd.Series(out, index=values.index, dtype=object)


def _is_number(value: Any) -> bool:
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return True
    try:
        float(str(value).strip().replace(",", "."))
    except ValueError:
        return False
    return True


def deidentify_study(study: Study, salt: str, recording_sites: Iterable[str] = ()) -> Study:
    """Return a copy of ``study`` with pseudonymous ids, shifted dates and no free text.

    Parameters
    ----------
    study : Study
        A validated study.
    salt : str
        Secret salt of the keyed hash; without it the mapping cannot be recovered.
    recording_sites : iterable of str, optional
        Recording sites of a laboratory's own reference set, kept as known sites.

    Returns
    -------
    Study
        ``patient_id`` replaced in every sheet; free-text columns (``diagnosis``,
        ``location``) emptied; sites not on the site and muscle vocabularies replaced by
        ``"unrecognised site N"``; unknown columns dropped except date columns (``*_date``),
        which are shifted per patient and renamed ``date_1``, ``date_2``…; warnings
        de-identified by :func:`deidentify_problems`; the source file name is withheld.
    """
    known_sites = site_vocabulary(recording_sites)
    site_labels: dict[str, str] = {}
    tables: dict[str, pd.DataFrame] = {}
    extra_columns: dict[str, list[str]] = {}
    for name, table in study.tables.items():
        out = table.copy()
        spec = SHEETS.get(name)
        for column in spec.columns if spec else ():
            if column.name not in out or column.kind == "id":
                continue
            if column.free_text:
                out[column.name] = None
            elif column.kind in ("text", "site"):
                # open-vocabulary site columns: the validator keeps unknown spellings as typed
                out[column.name] = _map_sites(out[column.name], known_sites, site_labels)
        extras = study.extra_columns.get(name, [])
        dates = [c for c in extras if _is_date_column(c)]
        drop = [c for c in extras if c not in dates]
        if dates and "patient_id" in out:
            shift = pd.to_timedelta(_date_shift_days(out["patient_id"], salt), unit="D")
            for col in dates:
                parsed = pd.to_datetime(out[col], errors="coerce", format="ISO8601")
                out[col] = (parsed + shift).dt.strftime("%Y-%m-%d").where(parsed.notna(), None)
        # a laboratory's own header is typed text too: kept date columns become date_1, date_2…
        renamed = {c: f"date_{i}" for i, c in enumerate(dates, start=1)}
        out = out.drop(columns=drop).rename(columns=renamed)
        if renamed:
            extra_columns[name] = list(renamed.values())
        if "patient_id" in out:
            out["patient_id"] = pseudonymize_ids(out["patient_id"], salt).to_numpy()
        tables[name] = out
    return replace(study, tables=tables, warnings=deidentify_problems(study.warnings, salt),
                   source=Path("deidentified"), extra_columns=extra_columns)


def deidentify_problems(problems: Iterable[Problem], salt: str) -> list[Problem]:
    """Problems with nothing a user typed in them but numbers, known names and pseudonyms.

    The sheet is kept when the specification names it (else ``"an unrecognised sheet"``), the
    column when the sheet's specification names it (spelled as the specification does; a column
    the input did not name stays ``"column N"``; else ``"an unrecognised column"``). The value is
    kept only when it is a number in a numeric column; a ``patient_id`` becomes its pseudonym;
    any other value is withheld. The row number and the program's message are kept, so every
    problem can still be found in the original workbook. Any user text a message quotes (the
    withheld value, sheet or column) is cut out of it too.
    """
    cleaned: list[Problem] = []
    for p in problems:
        spec = SHEETS.get(p.sheet)
        sheet = p.sheet if (spec is not None or p.sheet == "") else UNRECOGNISED_SHEET
        column: str | None = None
        kind = None
        if p.column is not None:
            key = normalize_header(p.column)
            if spec is not None and key in {c.name for c in spec.columns}:
                column, kind = key, spec.column(key).kind
            elif re.fullmatch(r"column \d+", str(p.column)):
                column = p.column
            else:
                column = UNRECOGNISED_COLUMN
        value: Any = None
        if p.value is not None and str(p.value).strip():
            if kind == "id":
                value = pseudonymize_ids(pd.Series([str(p.value)]), salt).iloc[0]
            elif kind in _NUMERIC_KINDS and _is_number(p.value):
                value = p.value
        message = p.message
        typed = [p.sheet if sheet != p.sheet else None, p.column if column != p.column else None]
        if value is None and kind in _OPEN_KINDS:
            typed.append(p.value)
        for text in (str(t).strip() for t in typed if t is not None):
            if text:
                message = message.replace(repr(text), "…")
                if len(text) >= _MIN_SCRUB_LENGTH:
                    message = message.replace(text, "…")
        cleaned.append(replace(p, sheet=sheet, column=column, value=value, message=message))
    return cleaned


__all__ = ["deidentify_problems", "deidentify_study", "new_salt", "pseudonymize_ids",
           "site_vocabulary"]
