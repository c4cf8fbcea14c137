"""The qualitative MUAP columns of ``emg_rows.csv`` (draft rows of the study workbook's ``emg``
sheet), decided from each mean's level *and* the row's reading, so that they never say what
the reading does not.

The workbook reads the qualitative columns, not the reading: ``muap_duration`` or
``muap_amplitude`` ``increased`` is chronic denervation there (study-workbook contract,
section 4). A mean judged one at a time against its limit can point another way than the
reading that weighed all of them (a myopathic reading beside a mean amplitude just above its
limit); written as it is, it would turn that muscle into denervation. So a level is written
only where the reading goes its way, and every other judged level is left blank (not read),
with a rule id and the levels withheld kept in the row; the quantitative means stay.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: the qualitative columns of the workbook's ``emg`` sheet decided here, in its order
QUALITATIVE_COLUMNS = ("muap_amplitude", "muap_duration", "polyphasia")

#: the level of each qualitative column that each reading stands for (study-workbook contract,
#: section 4: chronic denervation is MUAPs of increased duration and/or amplitude; myopathic
#: MUAPs are short, small and polyphasic; polyphasia rises in both)
READING_LEVELS = {
    "normal": {"muap_amplitude": "normal", "muap_duration": "normal", "polyphasia": "normal"},
    "neurogenic": {"muap_amplitude": "increased", "muap_duration": "increased",
                   "polyphasia": "increased"},
    "myopathic": {"muap_amplitude": "decreased", "muap_duration": "decreased",
                  "polyphasia": "increased"},
}

#: rule ids of ``muap_columns_rule`` in ``emg_rows.csv``: how the qualitative columns were
#: decided from the means' levels and the row's reading (``muap_pattern``)
MUAP_COLUMN_RULES = {
    "follows_reading": "every mean judged is written: each is at the level the reading stands "
                       "for, or within its limits beside another that is (a myopathic reading "
                       "with short MUAPs of normal amplitude)",
    "opposes_reading": "a mean beyond its limit the way the reading does not go (large beside a "
                       "myopathic reading, small beside a neurogenic one, phases beside a "
                       "normal one) is left blank, not read; the columns that follow the "
                       "reading are written",
    "size_opposes_normal": "the reading is normal but a size mean (amplitude or duration) is "
                           "beyond its limit: every qualitative column is left blank (the "
                           "reading and the mean disagree and the clinician decides; 'normal' "
                           "beside it would call the muscle normal)",
    "no_sign_of_reading": "the reading is myopathic or neurogenic but no size mean (amplitude, "
                          "duration) is beyond its limit its way: every qualitative column is "
                          "left blank (written 'normal' they would call the MUAPs normal; a "
                          "mean the other way would call them something else; polyphasia "
                          "rises in both and shows neither)",
    "reading_indeterminate": "the reading is indeterminate: every qualitative column is left "
                             "blank, whatever the means' levels",
    "not_judged": "no mean was judged against a reference (no lab reference, too few MUAPs, "
                  "amplitude not calibrated): the qualitative columns are blank",
}

#: the size means: the only ones that tell neurogenic from myopathic MUAPs (polyphasia rises
#: in both), so the only ones that can show a reading or stand against a normal one
_SIZE_COLUMNS = ("muap_amplitude", "muap_duration")

def decide_muap_columns(levels: pd.DataFrame, pattern: pd.Series) -> pd.DataFrame:
    """The qualitative MUAP columns written beside each reading, and the rule that decided them.

    Parameters
    ----------
    levels : DataFrame
        Columns :data:`QUALITATIVE_COLUMNS`: each mean against its limits, ``increased`` /
        ``decreased`` / ``normal`` (polyphasia ``increased`` / ``normal``), ``""`` where the
        mean was not judged.
    pattern : Series
        The row's reading (``normal``, ``neurogenic``, ``myopathic``, ``indeterminate``), on
        the index of ``levels``.

    Returns
    -------
    DataFrame
        On the index of ``levels``: :data:`QUALITATIVE_COLUMNS` as written (a level, or ``""``
        where withheld or not judged), ``muap_columns_rule`` (a key of
        :data:`MUAP_COLUMN_RULES`) and ``muap_columns_withheld`` (the levels judged but not
        written, e.g. ``"muap_amplitude increased"``, ``"; "``-separated; ``""`` when none).

    Examples
    --------
    >>> import pandas as pd
    >>> from edxreview.signal._muap_columns import decide_muap_columns
    >>> levels = pd.DataFrame({"muap_amplitude": ["increased", "normal"],
    ...                        "muap_duration": ["decreased", "decreased"],
    ...                        "polyphasia": ["normal", "normal"]})
    >>> out = decide_muap_columns(levels, pd.Series(["myopathic", "myopathic"]))
    >>> out["muap_amplitude"].tolist(), out["muap_columns_rule"].tolist()
    (['', 'normal'], ['opposes_reading', 'follows_reading'])
    """
    pattern = pd.Series(pattern, index=levels.index).fillna("").astype(str)
    known = pattern.isin(READING_LEVELS).to_numpy()
    abnormal = pattern.isin(["neurogenic", "myopathic"]).to_numpy()
    level, agree, opposed = {}, {}, {}
    for col in QUALITATIVE_COLUMNS:
        v = levels[col].fillna("").astype(str).to_numpy(dtype=object)
        want = pattern.map({p: d[col] for p, d in READING_LEVELS.items()}).fillna("").to_numpy()
        level[col] = v
        agree[col] = (v != "") & (v == want)
        opposed[col] = known & (v != "") & (v != "normal") & (v != want)
    judged = np.column_stack([level[c] != "" for c in QUALITATIVE_COLUMNS]).any(axis=1)
    any_agree = np.column_stack([agree[c] for c in _SIZE_COLUMNS]).any(axis=1)
    any_opposed = np.column_stack([opposed[c] for c in QUALITATIVE_COLUMNS]).any(axis=1)
    size_opposed = np.column_stack([opposed[c] for c in _SIZE_COLUMNS]).any(axis=1)
    normal = (pattern == "normal").to_numpy()
    rule = np.select(
        [~judged, ~known, abnormal & ~any_agree, normal & size_opposed, any_opposed],
        ["not_judged", "reading_indeterminate", "no_sign_of_reading", "size_opposes_normal",
         "opposes_reading"],
        "follows_reading").astype(object)
    # a mean within its limits is written only beside a reading that one of the means shows
    shown = (rule == "follows_reading") | (rule == "opposes_reading")
    out = pd.DataFrame(index=levels.index)
    withheld = []
    for col in QUALITATIVE_COLUMNS:
        written = shown & (level[col] != "") & ~opposed[col]
        out[col] = np.where(written, level[col], "")
        withheld.append(np.where((level[col] != "") & ~written, col + " " + level[col], ""))
    out["muap_columns_rule"] = rule
    stacked = np.column_stack(withheld)
    out["muap_columns_withheld"] = ["; ".join(w for w in r if w) for r in stacked]
    return out


def withheld_warnings(rows: pd.DataFrame, file: str = "emg_rows.csv") -> list[str]:
    """One located line per row of ``emg_rows.csv`` whose judged levels were not all written.

    Parameters
    ----------
    rows : DataFrame
        The rows as written (``muscle``, ``side``, ``muap_pattern``, ``muap_rule``,
        ``muap_columns_rule``, ``muap_columns_withheld``), in file order.
    file : str
        The file named in the lines.

    Returns
    -------
    list of str
        ``"emg_rows.csv, row 2 (biceps_brachii R): ..."``: the spreadsheet row (the header is
        row 1), the muscle and side, never the patient; the columns left blank, their levels,
        why (the rule id) and that the quantitative means are kept.
    """
    if "muap_columns_withheld" not in rows or not len(rows):
        return []
    held = rows["muap_columns_withheld"].fillna("").astype(str)
    part = rows[held.ne("").to_numpy()]
    if not len(part):
        return []
    row_no = pd.Series(np.flatnonzero(held.ne("").to_numpy()) + 2, index=part.index).astype(str)
    side = part["side"].fillna("").astype(str)
    where = (file + ", row " + row_no + " (" + part["muscle"].fillna("").astype(str)
             + np.where(side.ne(""), " " + side, "") + ")")
    pattern = part["muap_pattern"].astype(str)
    reading = ("the reading " + pattern + " (rule " + part["muap_rule"].astype(str) + ")")
    means = held[part.index].str.replace("muap_", "", regex=False).str.replace(
        "polyphasia", "phases", regex=False).str.replace(";", ",", regex=False)
    columns = held[part.index].str.replace(r" (increased|decreased|normal)", "",
                                           regex=True).str.replace(";", ",", regex=False)
    rule = part["muap_columns_rule"].astype(str)
    why = np.select(
        [rule.eq("opposes_reading"), rule.eq("no_sign_of_reading"),
         rule.eq("size_opposes_normal"), rule.eq("reading_indeterminate")],
        ["beyond its limit the way " + reading + " does not go",
         "no size mean (amplitude, duration) is beyond its limit the way " + reading + " goes",
         "a size mean is beyond its limit beside " + reading + "; the clinician decides",
         reading + " says nothing of them"], "")
    why = pd.Series(why, index=part.index) + " (means: " + means + ")"
    text = (where + ": " + columns + " left blank, not read: " + why + "; rule "
            + rule + ", the quantitative means are kept")
    return text.tolist()
