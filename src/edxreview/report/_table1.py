"""Table 1 as the report shows it: the cohort's :class:`~edxreview.cohort.Table1` worded from
a label file, by id (variables, levels, statistics, tests, footnotes), its numbers as computed."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..cohort._table1 import STATS, format_table1_note, table1_settings


def table1_words(t1, words: dict[str, Any]) -> dict[str, Any]:
    """Headers, rows and footnotes of ``t1`` in the language of ``words`` (a label file).

    A variable or level the label file does not name (a caller's own) is shown as the table
    has it.

    Parameters
    ----------
    t1 : Table1
        From :func:`~edxreview.report._render.table1`: its two groups are, in order, the
        patients with and without LMN involvement.
    words : dict
        :func:`~edxreview._words.load_labels` of the report's language.

    Returns
    -------
    dict
        ``columns`` (group column → header), ``overall`` (header), ``rows`` (records with
        ``text``, ``stat_text`` and ``p_text`` added), ``test_notes`` (mark, test name) and
        ``notes`` (text, whether it is the "not tested" note).
    """
    w = words["table1"]
    names = [w["group_yes"], w["group_no"]]
    columns = [(g, w["group"].format(group=name, n=n))
               for (g, n), name in zip(t1.groups.items(), names)]
    rows = t1.rows
    variables = rows["variable"].map(words["table1_variables"]).fillna(rows["label"])
    levels = rows["level"].map(words["table1_levels"]).fillna(rows["level"])
    stat_ids = rows["stat"].map({text: key for key, text in STATS.items()})
    stat_words = {**words["table1_stats"], "not_recorded": w["not_recorded"].format(
        stat=words["table1_stats"]["not_recorded"])}
    letters: dict[str, str] = {}
    for t in rows["test"]:
        if t and t not in letters:
            letters[t] = "abcdefgh"[len(letters)]
    shown = rows.assign(
        text=levels.where(rows["level"] != "", variables),
        stat_text=stat_ids.map(stat_words).fillna(rows["stat"]),
        mark=rows["test"].map(lambda t: letters.get(t, "")),
        not_tested_text=pd.Series(
            w["too_few"].format(minimum=int(table1_settings()["min_group_n"])),
            index=rows.index).where(rows["not_tested"] != "", ""))
    return {
        "overall": w["overall"].format(n=sum(t1.groups.values())),
        "columns": columns,
        "rows": shown.to_dict("records"),
        "test_notes": [(mark, w["test_note"].format(name=words["tests"][t]))
                       for t, mark in letters.items()],
        "notes": [(_note_text(key, values, words, variables[rows["level"] == ""],
                              rows.loc[rows["level"] == "", "variable"]),
                   key in ("not_tested", "none_tested"))
                  for key, values in t1.notes],
    }


def _note_text(key: str, values: dict, words: dict[str, Any], labels: pd.Series,
               variables: pd.Series) -> str:
    """One footnote of :attr:`Table1.notes` in ``words``' language."""
    return format_table1_note(key, values, words["table1_notes"], words["tests"],
                              dict(zip(variables, labels)), words["table1"]["variables_join"])
