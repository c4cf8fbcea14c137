"""De-identification of a validated study before it is reviewed.

Patient ids become salted keyed hashes (HMAC-SHA-256), so the same id gives the same pseudonym
within a run (and across runs given the same salt) but cannot be reversed without the salt.
Free-text columns and columns the specification does not know are dropped, because they may hold
names, dates or notes; date columns, where a laboratory adds them, are shifted by a whole number
of days chosen per patient from the salted hash, so intervals within a patient are kept.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from ._errors import Problem
from .io import Study
from .io._schema import SHEETS

#: pseudonym prefix; the rest is the first hex digits of the keyed hash
PSEUDONYM_PREFIX = "P"
_HEX_DIGITS = 16
_MAX_SHIFT_DAYS = 365


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
    codes, uniques = pd.factorize(ids.astype(str), use_na_sentinel=False)
    shifts = np.array([int(_digest("date-shift:" + str(u), salt)[:8], 16)
                       % (2 * _MAX_SHIFT_DAYS + 1) - _MAX_SHIFT_DAYS for u in uniques])
    return pd.Series(shifts[codes] if len(codes) else [], index=ids.index, dtype="int64")


def _is_date_column(name: str) -> bool:
    return name.endswith("_date") or name == "date" or name.startswith("date_")


def deidentify_study(study: Study, salt: str) -> Study:
    """Return a copy of ``study`` with pseudonymous ids, shifted dates and no free text.

    Parameters
    ----------
    study : Study
        A validated study.
    salt : str
        Secret salt of the keyed hash; without it the mapping cannot be recovered.

    Returns
    -------
    Study
        ``patient_id`` replaced in every sheet; free-text columns (``diagnosis``,
        ``location``) emptied; unknown columns dropped except date columns (``*_date``), which
        are shifted per patient; warnings keep their sheet, row and column but not values from
        removed columns; the source file name is withheld.
    """
    tables: dict[str, pd.DataFrame] = {}
    removed: dict[str, set[str]] = {}
    for name, table in study.tables.items():
        out = table.copy()
        spec = SHEETS.get(name)
        free = [c.name for c in spec.columns if c.free_text] if spec else []
        for col in free:
            if col in out:
                out[col] = None
        extras = study.extra_columns.get(name, [])
        dates = [c for c in extras if _is_date_column(c)]
        drop = [c for c in extras if c not in dates]
        if dates and "patient_id" in out:
            shift = pd.to_timedelta(_date_shift_days(out["patient_id"], salt), unit="D")
            for col in dates:
                parsed = pd.to_datetime(out[col], errors="coerce", format="ISO8601")
                out[col] = (parsed + shift).dt.strftime("%Y-%m-%d").where(parsed.notna(), None)
        out = out.drop(columns=drop)
        if "patient_id" in out:
            out["patient_id"] = pseudonymize_ids(out["patient_id"], salt).to_numpy()
        tables[name] = out
        removed[name] = set(free) | set(drop) | set(dates)
    id_map: dict[str, str] = {}

    def clean(p: Problem) -> Problem:
        if p.column is not None and (p.column.strip().lower() in removed.get(p.sheet, set())):
            return replace(p, value=None)
        if p.column is not None and p.column.strip().lower() == "patient_id" and p.value:
            if p.value not in id_map:
                id_map[p.value] = pseudonymize_ids(pd.Series([str(p.value)]), salt).iloc[0]
            return replace(p, value=id_map[p.value])
        return p

    extra_columns = {k: [c for c in v if _is_date_column(c)] for k, v in
                     study.extra_columns.items()}
    return replace(study, tables=tables, warnings=[clean(p) for p in study.warnings],
                   source=Path("deidentified"), extra_columns=extra_columns)


__all__ = ["deidentify_study", "new_salt", "pseudonymize_ids"]
