"""Table 1: patient characteristics by group, with missing counts and named tests."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd

from .._check import check_type
from .._tables import isin
from .._errors import InvalidParameterError
from .._words import english_words
from ..io._schema import ANTIBODY_VALUES, SEX_VALUES
from ._compare import (TEST_NAMES, Comparison, compare_categorical, compare_continuous, is_skewed,
                       test_settings)

#: Table 1's headings and notes in English (table ``table1`` of ``data/labels_en.toml``)
_WORDS = english_words("table1")

#: each characteristic's kind, in the order Table 1 shows them
_KINDS = {"age_years": "continuous", "sex": "categorical", "aqp4_igg": "categorical",
          "mog_igg": "categorical", "disease_duration_months": "continuous",
          "edss": "continuous", "weakness": "binary", "atrophy": "binary",
          "hyporeflexia": "binary", "cord_lesion_segments": "continuous",
          "cord_lesion": "binary", "brainstem_lesion": "binary"}

#: characteristics shown in Table 1: column → (label, kind, unit); the labels, their unit
#: written in, are table ``table1_variables`` of ``data/labels_en.toml``
TABLE1_VARIABLES: dict[str, tuple[str, str, str]] = {
    col: (english_words("table1_variables")[col], kind, "") for col, kind in _KINDS.items()}

#: the summary statistic of a row (its ``stat`` column), by id (table ``table1_stats`` of
#: ``data/labels_en.toml``)
STATS: dict[str, str] = english_words("table1_stats")

#: the footnotes, by id (:attr:`Table1.notes`), filled with the settings of
#: ``statistics.toml`` (table ``table1_notes`` of ``data/labels_en.toml``)
TABLE1_NOTES: dict[str, str] = english_words("table1_notes")

#: text values read as "not recorded"
MISSING_TEXT = ("", "unknown", "not_done", "not done", "na", "n/a", "nan", "none")

_LEVEL_ORDER = ["F", "M", "positive", "negative", "yes", "no"]

#: every level a categorical variable can take in the workbook, shown even with no patient
TABLE1_LEVELS: dict[str, list[str]] = {
    "sex": list(dict.fromkeys(SEX_VALUES.values())),
    "aqp4_igg": [v for v in dict.fromkeys(ANTIBODY_VALUES.values()) if v not in MISSING_TEXT],
    "mog_igg": [v for v in dict.fromkeys(ANTIBODY_VALUES.values()) if v not in MISSING_TEXT],
}


@lru_cache(maxsize=1)
def table1_settings() -> dict:
    """The ``[table1]`` section of ``knowledge/data/statistics.toml`` (reporting conventions)."""
    text = resources.files("edxreview.knowledge.data").joinpath("statistics.toml").read_text(
        "utf-8")
    return tomllib.loads(text)["table1"]


def format_p(p: float | None) -> str:
    """A p-value as gtsummary prints it: ``<0.001``, ``>0.9``, else 2 or 3 decimals.

    Two decimals from 0.10 up (0.45), three below (0.080, 0.049, 0.008) so that a p just under
    0.05 is never printed as 0.05 (gtsummary's ``style_pvalue(digits = 2)`` below 0.9);
    ``""`` for a missing p.
    """
    if p is None or not np.isfinite(p):
        return ""
    if p < 0.001:
        return "<0.001"
    if p > 0.9:
        return ">0.9"
    if round(p, 2) >= 0.1:
        return f"{p:.2f}"
    return f"{p:.3f}"


@dataclass
class Table1:
    """Table 1 as data.

    Attributes
    ----------
    rows : DataFrame
        One row per variable (``level`` empty) and per category level, with columns
        ``variable, label, level, overall, <group labels...>, missing, p_value, test, stat,
        note, not_tested, test_name``.
    groups : dict
        Group label → number of patients.
    footnotes : list of str
        The summary statistics and the tests used, in words.
    notes : list of (str, dict)
        The same footnotes as data: the id of each (a key of :data:`TABLE1_NOTES`) and the
        values it is filled with (``variables``: the ids of the variables not tested), so
        that a report can word them in another language.

    Examples
    --------
    >>> import edxreview
    >>> table = edxreview.review(edxreview.demo_path()).table1
    >>> table.groups
    {'LMN involvement': 9, 'No LMN involvement': 50}
    >>> table.to_frame().columns[0]
    'Characteristic'
    """

    rows: pd.DataFrame
    groups: dict[str, int]
    footnotes: list[str] = field(default_factory=list)
    group_column: str = ""
    notes: list[tuple[str, dict]] = field(default_factory=list)

    @property
    def headers(self) -> dict[str, str]:
        """Column → header in gtsummary style (``"Overall, N = 59"``, ``"A, N = 9"``)."""
        out = {"overall": _WORDS["overall"].format(n=sum(self.groups.values()))}
        return out | {g: _WORDS["group"].format(group=g, n=n) for g, n in self.groups.items()}

    def to_frame(self) -> pd.DataFrame:
        """The table as it is printed: one column per header, p-values as text.

        Returns
        -------
        DataFrame
            The table as printed: one row per variable and level, the group headers carrying their
            N, the p-value formatted as gtsummary does and the test's name.

        Raises
        ------
        KeyError
            ``rows`` lacks a column :func:`compute_table1` writes (a hand-made Table1).

        Examples
        --------
        >>> import edxreview
        >>> frame = edxreview.review(edxreview.demo_path()).table1.to_frame()
        >>> frame.loc[0, "Characteristic"]
        'Patients, n'
        """
        rows = self.rows
        shown = rows["label"].where(rows["level"] == "", "    " + rows["level"])
        stat = rows["stat"].where(~rows["stat"].isin(["", STATS["not_recorded"]]), "")
        shown = shown.where(stat == "", shown + ", " + stat)
        p = rows["p_value"].where(rows["not_tested"] == "", _WORDS["not_tested"])
        frame = pd.DataFrame({"Characteristic": shown})
        for col, head in self.headers.items():
            frame[head] = rows[col]
        frame["Missing"] = pd.to_numeric(rows["missing"], errors="coerce")
        frame["p"] = p
        frame["Test"] = rows["test_name"]
        return frame


def build_characteristics(patients: pd.DataFrame, lesions: pd.DataFrame | None = None,
                          mri: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per patient with the Table 1 characteristics.

    Parameters
    ----------
    patients : DataFrame
        The typed ``patients`` sheet.
    lesions : DataFrame, optional
        Brainstem and cord lesions (``patient_id, region, pos_min, pos_max``).
    mri : DataFrame, optional
        The ``mri`` sheet; patients with no row in it have MRI characteristics missing.

    Returns
    -------
    DataFrame
        Indexed by ``patient_id``; cord lesion extent in cord segments (0 when the patient had
        MRI without a cord lesion).
    """
    cols = [c for c in TABLE1_VARIABLES if c in patients.columns]
    out = patients.drop_duplicates("patient_id").set_index("patient_id")[cols].copy()
    if lesions is not None and mri is not None:
        imaged = isin(out.index, mri["patient_id"].dropna())
        les = lesions if len(lesions) else pd.DataFrame(
            columns=["patient_id", "region", "pos_min", "pos_max"])
        cord = les[les["region"].astype(str) == "spinal_cord"]
        extent = (pd.to_numeric(cord["pos_max"]) - pd.to_numeric(cord["pos_min"]) + 1)
        longest = extent.groupby(cord["patient_id"]).max()
        brainstem = pd.Index(les.loc[les["region"].astype(str) == "brainstem", "patient_id"])
        out["cord_lesion_segments"] = np.where(
            imaged, longest.reindex(out.index).fillna(0).to_numpy(dtype=float), np.nan)
        out["cord_lesion"] = pd.Series(isin(out.index, longest.index), index=out.index,
                                       dtype=object).where(imaged, None)
        out["brainstem_lesion"] = pd.Series(isin(out.index, brainstem), index=out.index,
                                            dtype=object).where(imaged, None)
    return out


def _as_category(s: pd.Series) -> pd.Series:
    """Text (or bool) values with every spelling of 'not recorded' as missing."""
    if s.dtype == bool:
        return s.map({True: "yes", False: "no"})
    # each distinct value is read once (a handful), then spread back to the patients
    codes, uniques = pd.factorize(s, use_na_sentinel=True)

    def word(v) -> str | None:
        text = ("yes" if v else "no") if isinstance(v, (bool, np.bool_)) else str(v).strip()
        return None if text.lower() in MISSING_TEXT else text

    words = np.array([word(v) for v in uniques] + [None], dtype=object)
    return pd.Series(words[codes], index=s.index, dtype=object)


def _fmt_num(x: float, digits: int = 1) -> str:
    return "—" if x is None or not np.isfinite(x) else f"{x:.{digits}f}"


def _small_groups(parts: list[pd.Series | np.ndarray], minimum: int) -> bool:
    """Whether a group has fewer than ``minimum`` recorded values (none included)."""
    return min(len(p) for p in parts) < minimum


def compute_table1(characteristics: pd.DataFrame, group: pd.Series,
                   labels: tuple[str, str] = ("Yes", "No"),
                   variables: dict[str, tuple[str, str, str]] | None = None) -> Table1:
    """Characteristics by a two-level grouping, with missing counts and named tests.

    Continuous variables are shown as mean (SD) and compared with Welch's t-test when both
    groups look normal, otherwise as median [Q1, Q3] with the Mann–Whitney U test.
    Categorical variables are shown as n (%) of patients with a recorded value; every level
    the workbook allows (:data:`TABLE1_LEVELS`) is listed, with 0 (0.0) where no patient has
    it; the test is Fisher's exact test when an expected count is below 5, Pearson's
    chi-squared test otherwise. Missing values (including the text ``unknown``) are counted in
    the ``missing`` column and left out of percentages and tests. A variable with no recorded
    value is listed with its missing count and not tested; one where a group has fewer
    patients with a recorded value than ``min_group_n`` of ``statistics.toml`` is not tested
    either (``not_tested`` gives the reason, and a footnote names the variables). p-values are
    formatted by :func:`format_p`.

    Parameters
    ----------
    characteristics : DataFrame
        One row per patient (from :func:`build_characteristics`).
    group : Series of bool
        Aligned with ``characteristics``; True is the first group.
    labels : (str, str)
        Labels of the True and False groups.
    variables : dict, optional
        Column → (label, kind, unit); defaults to :data:`TABLE1_VARIABLES`.

    Returns
    -------
    Table1

    Raises
    ------
    InvalidParameterError
        ``characteristics`` is not a DataFrame, or ``group`` has not one value per row.

    Examples
    --------
    >>> import pandas as pd
    >>> from edxreview.cohort import compute_table1
    >>> patients = pd.DataFrame({"age_years": [34.0, 51, 47, 29, 62, 40, 38, 55],
    ...                          "sex": ["F", "F", "M", "F", "F", "M", "F", "F"]})
    >>> group = pd.Series([True, False, True, False, True, False, True, False])
    >>> table = compute_table1(patients, group, labels=("Treated", "Control"),
    ...                        variables={"age_years": ("Age, years", "continuous", ""),
    ...                                   "sex": ("Sex", "categorical", "")})
    >>> table.groups
    {'Treated': 4, 'Control': 4}
    """
    check_type("characteristics", characteristics, pd.DataFrame,
               "a DataFrame with one row per patient")
    if len(group) != len(characteristics):
        raise InvalidParameterError(
            f"Invalid value for the 'group' parameter: {len(group)} values for "
            f"{len(characteristics)} patients. Give one True/False value per row of "
            "'characteristics'.")
    variables = variables or TABLE1_VARIABLES
    g = pd.Series(np.asarray(group, dtype=bool), index=characteristics.index)
    masks = {labels[0]: g.to_numpy(), labels[1]: ~g.to_numpy()}
    n_groups = {k: int(v.sum()) for k, v in masks.items()}
    minimum = int(table1_settings()["min_group_n"])
    rows: list[dict] = [{"variable": "n", "label": english_words("table1_variables")["n"],
                         "level": "",
                         "overall": str(len(g)), labels[0]: str(n_groups[labels[0]]),
                         labels[1]: str(n_groups[labels[1]]), "missing": "", "p_value": "",
                         "test": "", "stat": ""}]
    for col, (label, kind, unit) in variables.items():
        if col not in characteristics.columns:
            continue
        shown = f"{label}, {unit}" if unit else label
        if kind == "continuous":
            rows.append(_continuous_row(col, shown, characteristics[col], masks, minimum))
        else:
            rows.extend(_categorical_rows(col, shown, kind, characteristics[col], g, labels,
                                          minimum))
    frame = _finish_frame(rows)
    notes = _table1_notes(frame, minimum)
    return Table1(frame, n_groups, _note_texts(notes, frame), notes=notes)


def _too_few(minimum: int) -> Comparison:
    return Comparison("", float("nan"), _WORDS["too_few"].format(minimum=minimum))


def _not_recorded(col: str, shown: str, n_missing: int, groups) -> dict:
    return {"variable": col, "label": shown, "level": "",
            **dict.fromkeys(["overall", *groups], "—"), "missing": str(n_missing),
            "p_value": "", "test": "", "stat": STATS["not_recorded"]}


def _continuous_row(col: str, shown: str, s: pd.Series, masks: dict[str, np.ndarray],
                    minimum: int) -> dict:
    """One row: mean (SD) or median [Q1, Q3] per group, with Welch or Mann–Whitney."""
    x = pd.to_numeric(s, errors="coerce")
    n_missing = int(x.isna().sum())
    if x.notna().sum() == 0:
        return _not_recorded(col, shown, n_missing, masks)
    parts = [x[m].dropna() for m in masks.values()]
    skewed = any(is_skewed(p) for p in parts if len(p)) or is_skewed(x)
    too_few = _small_groups(parts, minimum)
    cmp = _too_few(minimum) if too_few else compare_continuous(*parts, skewed=skewed)

    def summary(v: pd.Series) -> str:
        v = v.dropna()
        if not len(v):
            return "—"
        if skewed:
            q1, med, q3 = np.percentile(v, [25, 50, 75])
            return f"{_fmt_num(med)} [{_fmt_num(q1)}, {_fmt_num(q3)}]"
        sd = v.std(ddof=1) if len(v) > 1 else float("nan")
        return f"{_fmt_num(v.mean())} ({_fmt_num(sd)})"

    return {"variable": col, "label": shown, "level": "", "overall": summary(x),
            **{k: summary(x[m]) for k, m in masks.items()},
            "missing": str(n_missing), "p_value": format_p(cmp.p_value), "test": cmp.test,
            "stat": STATS["median_iqr"] if skewed else STATS["mean_sd"],
            "not_tested": cmp.note if too_few else ""}


def _categorical_rows(col: str, shown: str, kind: str, s: pd.Series, g: pd.Series,
                      labels: tuple[str, str], minimum: int) -> list[dict]:
    """A header row with the test, then n (%) per level (a yes/no variable: one row)."""
    cat = _as_category(s)
    n_missing = int(cat.isna().sum())
    present = cat.dropna()
    if not len(present):
        return [_not_recorded(col, shown, n_missing, labels)]
    known = TABLE1_LEVELS.get(col, [])
    levels = known + sorted(set(present.unique()) - set(known), key=lambda v: (
        _LEVEL_ORDER.index(v) if v in _LEVEL_ORDER else len(_LEVEL_ORDER), v))
    counts = pd.crosstab(cat, g).reindex(index=levels, columns=[True, False], fill_value=0)
    too_few = min(counts.sum(axis=0).to_numpy()) < minimum
    cmp = _too_few(minimum) if too_few else compare_categorical(counts.to_numpy())
    totals = {"overall": int(counts.to_numpy().sum()),
              labels[0]: int(counts[True].sum()), labels[1]: int(counts[False].sum())}

    def level_cells(lev) -> dict[str, str]:
        c = ({"overall": int(counts.loc[lev].sum()), labels[0]: int(counts.loc[lev, True]),
              labels[1]: int(counts.loc[lev, False])} if lev in counts.index
             else dict.fromkeys(totals, 0))
        return {k: _n_pct(c[k], totals[k]) for k in c}

    header = {"variable": col, "label": shown, "level": "", "missing": str(n_missing),
              "p_value": format_p(cmp.p_value), "test": cmp.test, "stat": STATS["n_pct"],
              "note": "" if too_few else cmp.note, "not_tested": cmp.note if too_few else ""}
    if kind == "binary" and set(levels) <= {"yes", "no"}:
        return [{**header, **level_cells("yes")}]
    return [{**header, **dict.fromkeys(["overall", *labels], "")}] + [
        {"variable": col, "label": "", "level": str(lev), **level_cells(lev), "missing": "",
         "p_value": "", "test": "", "stat": ""} for lev in levels]


def _finish_frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    for column in ("test", "note", "not_tested"):
        frame[column] = frame[column].fillna("") if column in frame else ""
    frame["test_name"] = frame["test"].map(lambda t: TEST_NAMES.get(t, ""))
    return frame


def _table1_notes(frame: pd.DataFrame, minimum: int) -> list[tuple[str, dict]]:
    """The footnotes as (id, values): how each statistic is shown and every test used, from
    the settings."""
    settings = test_settings()
    alpha, min_n = settings["normality_alpha"], settings["normality_min_n"]
    below = settings["fisher_expected_below"]
    shown_stats = set(frame["stat"])
    notes: list[tuple[str, dict]] = []
    if STATS["mean_sd"] in shown_stats:
        notes.append(("mean_sd", {"alpha": alpha, "min_n": min_n}))
    if STATS["median_iqr"] in shown_stats:
        notes.append(("median_iqr", {"alpha": alpha, "min_n": min_n}))
    notes.append(("categorical", {}))
    used = set(frame["test"])
    notes += [(f"test_{t}", {"test": t, "below": below})
              for t in ("fisher", "chi2", "mannwhitney", "welch") if t in used]
    skipped = frame.loc[frame["not_tested"] != "", "variable"].tolist()
    if skipped:
        notes.append(("none_tested", {"minimum": minimum}) if (frame["p_value"] == "").all()
                     else ("not_tested", {"variables": skipped, "minimum": minimum}))
    if (frame["p_value"] != "").any():
        notes.append(("p_values", {}))
    return notes


def _note_texts(notes: list[tuple[str, dict]], frame: pd.DataFrame) -> list[str]:
    """The footnotes in English words (:data:`TABLE1_NOTES`)."""
    labels = dict(zip(frame.loc[frame["level"] == "", "variable"],
                      frame.loc[frame["level"] == "", "label"]))
    return [format_table1_note(key, values, TABLE1_NOTES, TEST_NAMES, labels)
            for key, values in notes]


def format_table1_note(key: str, values: dict, texts: dict[str, str],
                       test_names: dict[str, str], labels: dict[str, str],
                       join: str = "; ") -> str:
    """One footnote of :attr:`Table1.notes` in the words given: ``texts[key]`` filled with
    ``values``, a test id named from ``test_names``, variable ids named from ``labels`` and
    joined by ``join`` (the report words them in its language)."""
    fields = dict(values)
    if "test" in fields:
        fields["name"] = test_names[fields["test"]]
    if "variables" in fields:
        fields["variables"] = join.join(labels[v] for v in fields["variables"])
    return texts[key].format(**fields)


def _n_pct(n: int, total: int) -> str:
    return f"{n} ({100.0 * n / total:.1f})" if total else "—"
