"""A laboratory's own MUAP reference for the workbook's quantitative means (``edxreview run
--muap-reference FILE``), read and checked row by row like a laboratory's NCS limits.

The file has the columns of the bundled ``muap_reference.csv`` that the review reads; a
``.meta.toml`` sidecar beside it names it. A row without a ``status`` is the laboratory's own
(``lab``) and judges a quantitative mean; a row with a status other than ``verified`` or
``lab`` is kept and judges nothing, as the bundled, unverified table does.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .._errors import InvalidInputError, Problem
from ._reference import LAB_STATUS, _overlaps, header_problems, read_lab_csv
from ._tables import ROW_STATUSES, closest_ids, load_anatomy, normalize_key

#: Columns a laboratory's MUAP reference must have (durations in ms, amplitude in µV).
MUAP_REFERENCE_COLUMNS = ["muscle", "age_min_years", "age_max_years", "duration_lower_ms",
                          "duration_upper_ms", "amplitude_upper_uv"]
_NUMERIC = MUAP_REFERENCE_COLUMNS[1:]


def load_muap_reference_file(path: str | Path) -> pd.DataFrame:
    """Read and check a laboratory's MUAP reference.

    Parameters
    ----------
    path : str or Path
        A UTF-8 CSV with the columns of :data:`MUAP_REFERENCE_COLUMNS` (one row per muscle and
        age band ``[age_min_years, age_max_years)``; limits in ms and µV), optionally
        ``status`` (``verified``, ``corrected``, ``unsourced``, ``convention`` or ``lab``;
        empty: ``lab``), ``technique`` and ``source``.

    Returns
    -------
    DataFrame
        Canonical muscle ids, numbers as floats, ``status`` filled; ``attrs`` holds the
        sidecar (``id``, ``version``, ``citation`` …) and ``path``.

    Raises
    ------
    InvalidInputError
        The file is missing, unreadable or any row is unusable: every problem is listed with
        its row, column and value, and nothing is used.
    """
    path = Path(path)
    name = path.name
    if path.suffix.lower() == ".toml":   # the lab reference of 'emg reference build', likely
        raise InvalidInputError(
            f"--muap-reference reads a CSV (muscle, age_min_years, age_max_years, "
            f"duration_lower_ms, duration_upper_ms, amplitude_upper_uv), not {name!r}; a "
            "reference built by 'edxreview emg reference build' is read by 'edxreview emg "
            "analyze --reference'",
            [Problem(name, None, None, str(path), "a TOML file, not the MUAP reference CSV")])
    table, meta, problems = read_lab_csv(path, "MUAP reference file")
    if table is not None:
        table, problems = _validate(table, name)
    if problems:
        raise InvalidInputError(f"MUAP reference file {name!r} has {len(problems)} problem(s); "
                                "nothing was used", problems)
    table.attrs.update(meta)
    table.attrs["path"] = str(path)
    return table


def reference_status(ref: pd.DataFrame, lab: bool) -> pd.Series:
    """Each MUAP reference row's status, one rule for the bundled table and a laboratory's: its
    ``status`` cell where given; else, where the table has a ``verified`` column, ``verified``
    when true and ``unsourced`` when not; else ``lab`` for a laboratory's own table and
    ``unsourced`` for the bundled one."""
    default = pd.Series(LAB_STATUS if lab else "unsourced", index=ref.index, dtype=object)
    if "verified" in ref:
        flag = ref["verified"].astype("string").str.strip().str.lower().isin(["true", "1", "yes"])
        default = pd.Series(np.where(flag, "verified", "unsourced"), index=ref.index, dtype=object)
    if "status" not in ref:
        return default
    status = ref["status"].astype("string").str.strip().str.lower()
    return status.where(status.notna() & status.ne(""), default).astype(object)


def _validate(table: pd.DataFrame, sheet: str) -> tuple[pd.DataFrame, list[Problem]]:
    """The table typed, and every problem of its rows."""
    table, problems = header_problems(table, sheet, MUAP_REFERENCE_COLUMNS)
    if problems:
        return table, problems
    text = table.astype(str).apply(lambda col: col.str.strip())
    row_no = np.arange(len(table)) + 2

    def add(mask, column: str, message) -> None:
        for i in np.flatnonzero(np.asarray(mask, dtype=bool)):
            msg = message(i) if callable(message) else message
            problems.append(Problem(sheet, int(row_no[i]), column, table.iloc[i][column], msg))

    num = {}
    for col in _NUMERIC:
        given = text[col].ne("")
        val = pd.to_numeric(text[col].where(given, None), errors="coerce").astype(float)
        bad = given & ~np.isfinite(val.to_numpy())     # NaN (not a number) is not finite
        add(bad, col, "not a finite number")
        num[col] = val.where(~bad)
    for col in ("duration_lower_ms", "duration_upper_ms", "amplitude_upper_uv"):
        add(text[col].eq(""), col, "a limit is required")
        add(num[col].notna() & (num[col] <= 0), col, "must be greater than 0")
    add(num["duration_lower_ms"].notna() & num["duration_upper_ms"].notna()
        & (num["duration_lower_ms"] >= num["duration_upper_ms"]), "duration_lower_ms",
        "the lower duration limit must be below the upper one")
    add(num["age_min_years"].notna() & num["age_max_years"].notna()
        & (num["age_min_years"] >= num["age_max_years"]), "age_min_years",
        "age_min_years must be below age_max_years; the band is [age_min, age_max)")
    anatomy = load_anatomy()
    muscle = text["muscle"].map(normalize_key).map(anatomy.muscle_aliases)
    add(muscle.isna(), "muscle", lambda i: "unknown muscle" + (
        "; did you mean " + ", ".join(repr(m) for m in close) + "?"
        if (close := closest_ids(normalize_key(text["muscle"].iloc[i]),
                                 anatomy.muscle_aliases)) else ""))
    status = reference_status(text, lab=True)
    allowed = ROW_STATUSES + (LAB_STATUS,)
    add(~status.isin(allowed), "status", f"must be one of {', '.join(allowed)} (empty: lab, "
        "or by the verified column where there is one)")
    if problems:
        return table, problems
    out = table.copy()
    out["muscle"] = muscle
    out["status"] = status
    for col in _NUMERIC:
        out[col] = num[col]
    # one muscle, overlapping age bands: a mean would meet two sets of limits, and the file's
    # row order would choose between them
    limits = out["duration_lower_ms"].map("{:g}".format) + "-" + out["duration_upper_ms"].map(
        "{:g}".format) + " ms, " + out["amplitude_upper_uv"].map("{:g}".format) + " uV"
    return out, _overlaps(out.assign(limit=limits), pd.Series(row_no, index=out.index), sheet,
                          key=["muscle"], what="muscle")
