"""Score the readings ``edxreview emg analyze`` gave labelled subjects, as the evaluation does.

A laboratory (or a reviewer with held-out recordings) reads new labelled subjects with
``edxreview emg analyze RECORDINGS --reference REF.toml --subjects TABLE.csv --out RESULTS``
and scores the readings against the group column of the same table:

    python tools/emg_score.py RESULTS --truth TABLE.csv [--results scores.csv]

TABLE.csv is the ``--subjects`` table (file, subject, muscle, [side], group), read by the
parser ``emg analyze`` uses: groups normal (control, healthy), neurogenic (neuropathy) and
myopathic (myopathy). Every recording, subject and subject-muscle of the table must be in
RESULTS and every one in RESULTS in the table; otherwise the script names what is missing and
exits 2 (so it does for a table or folder it cannot read).

Scored with ``score`` and printed by ``format_table`` of ``edxreview.signal._evaluate`` (the
table ``tools/emg_eval.py`` prints: correct / n, accuracy with its Wilson 95 % interval,
balanced accuracy, indeterminate readings, recall per class; indeterminate counts as wrong),
per level and, below the subject, per muscle; the method column names the column scored:

- subject: with a lab classifier in the reference, ``clf_subject_pattern`` of subjects.csv
  (the subject's muscles' class probabilities pooled by their normalised geometric mean,
  ``pool_probabilities`` of ``edxreview.signal._classifier``, as emg analyze wrote it: the
  evaluation's subject level); without one, the subject's ``primary_pattern`` readings pooled
  by ``pool_readings`` of ``edxreview.signal._reference`` (one abnormal class alone = that
  class, all normal = normal, else indeterminate);
- subject-muscle (and side, where the table gives sides): ``primary_pattern`` of subjects.csv
  (the lab classifier's class where it read the muscle, else the reading of the pooled MUAP
  means);
- recording: with a lab classifier, ``clf_pattern`` of recordings.csv (the classifier reading
  the recording alone: the evaluation's recording level; a recording it did not read is
  indeterminate); without one, ``pattern`` (the reading of the recording's MUAP means).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from edxreview._errors import EdxreviewError
from edxreview._output import write_whole
from edxreview.cli._emg_subjects import _read_subjects, _recording_cells, _subject_mapping
from edxreview.signal._evaluate import _subject_level, format_table, level_scores


def _say(msg: str) -> None:
    print(f"emg_score: error: {msg}", file=sys.stderr)


def _listed(items, limit: int = 10) -> str:
    items = list(items)
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def read_results(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """``recordings.csv`` and ``subjects.csv`` of an ``emg analyze --subjects`` output folder,
    every cell as text (blank = ""); None (and why) when either is missing or unreadable."""
    tables = []
    for name, need in (("recordings.csv", ("file", "muscle", "pattern")),
                       ("subjects.csv", ("subject", "muscle", "side", "primary_pattern"))):
        path = folder / name
        if not path.is_file():
            _say(f"{str(path)!r} not found: RESULTS must be the --out folder of 'edxreview emg "
                 "analyze ... --reference REF.toml --subjects TABLE.csv' (subjects.csv is "
                 "written with --subjects and a lab reference).")
            return None
        try:
            t = pd.read_csv(path, dtype=str, keep_default_na=False)
        except (OSError, ValueError) as exc:
            _say(f"cannot read {str(path)!r}: {exc}")
            return None
        lacking = [c for c in need if c not in t]
        if lacking:
            _say(f"{str(path)!r} lacks column(s) {lacking!r}: not a table 'emg analyze' wrote.")
            return None
        tables.append(t)
    return tables[0], tables[1]


def match_truth(truth_csv: str, recs: pd.DataFrame, subj: pd.DataFrame) -> pd.DataFrame | None:
    """Each recording's subject, muscle, side and ``truth`` from the table, read by the
    ``--subjects`` parser of ``emg analyze``; None (every mismatch named) unless the table's
    recordings and subject-muscles are exactly those of the results."""
    names = recs["file"].tolist()
    sub = _read_subjects(truth_csv)
    if sub is None:
        return None
    if "group" not in sub:   # the parser would take every file for a control
        _say(f"--truth {truth_csv!r} has no group column (its columns: "
             f"{[c for c in sub.columns if c != '_row']!r}): give each file's group, normal / "
             "neurogenic / myopathic.")
        return None

    def differ(problems: list[str]) -> bool:
        for p in problems:
            _say(f"--truth {truth_csv!r} and the results differ: {p}. Score the folder with the "
                 "table it was analysed with.")
        return bool(problems)

    problems = []
    if "file" in sub:
        cells = _recording_cells(sub["file"], names)
        absent = sub[cells.notna() & ~cells.isin(names)]
        if len(absent):
            problems.append(f"{len(absent)} recording(s) of the table not in recordings.csv: "
                            + _listed(f"{f!r} (row {r})" for f, r in
                                      zip(absent["file"], absent["_row"])))
        untold = [n for n in names if n not in set(cells.dropna())]
        if untold:
            problems.append(f"{len(untold)} recording(s) of recordings.csv not in the table: "
                            + _listed(map(repr, untold)))
    if "subject" in sub:
        table_ids, result_ids = set(sub["subject"].dropna()), set(subj["subject"])
        for what, ids in (("subject(s) of the table not in subjects.csv", table_ids - result_ids),
                          ("subject(s) of subjects.csv not in the table", result_ids - table_ids)):
            if ids:
                problems.append(f"{len(ids)} {what}: " + _listed(map(repr, sorted(ids))))
    if differ(problems):
        return None
    args = argparse.Namespace(subjects=truth_csv, muscle=None, side="", quiet=True)
    mapping, _ = _subject_mapping(args, [Path(n) for n in names], names)
    if mapping is None:
        return None
    mapping = mapping.astype({"subject": str})
    groups = mapping.groupby("subject")["truth"].unique()
    mixed = groups[groups.map(len) > 1]
    if len(mixed):
        _say(f"--truth {truth_csv!r}: subject(s) in more than one group: "
             + _listed(f"{s!r} ({', '.join(g)})" for s, g in mixed.items())
             + "; give each subject one group.")
        return None
    told = mapping.set_index("file")["muscle"]
    wrote = recs.set_index("file")["muscle"]
    other = [f"{f!r} ({wrote[f] or 'none'} in recordings.csv, {told[f]} in the table)"
             for f in names if wrote[f] != told[f]]
    if other:
        _say(f"--truth {truth_csv!r} and recordings.csv name another muscle for "
             + _listed(other) + ". Score the folder with the table it was analysed with.")
        return None
    key = lambda t: set(zip(t["subject"], t["muscle"], t["side"]))  # noqa: E731
    table_units, result_units = key(mapping), key(subj)
    for what, units in (("the table's subject-muscle(s) not in subjects.csv",
                         table_units - result_units),
                        ("subjects.csv's subject-muscle(s) not in the table",
                         result_units - table_units)):
        problems += [f"{len(units)} of {what}: " + _listed(
            f"{s!r} {m}" + (f" {d}" if d else "") for s, m, d in sorted(units))] if units else []
    if differ(problems):
        return None
    return mapping


def readings(recs: pd.DataFrame, subj: pd.DataFrame, mapping: pd.DataFrame
             ) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """Per level (subject, muscle, recording) a table with ``truth``, ``pred`` and ``muscle``
    (not at the subject level), and the column each level scores."""
    with_clf = "clf_pattern" in recs    # written only when the reference holds a classifier
    truth = mapping.drop_duplicates("subject").set_index("subject")["truth"]
    mus = subj.assign(truth=subj["subject"].map(truth), pred=subj["primary_pattern"])
    if with_clf:
        sub = (mus.groupby("subject").agg(truth=("truth", "first"),
                                          pred=("clf_subject_pattern", "first")).reset_index())
        subject_col = "clf_subject_pattern of subjects.csv"
    else:
        sub = _subject_level(mus)
        subject_col = "primary_pattern of subjects.csv, pooled (pool_readings)"
    rec_col = "clf_pattern" if with_clf else "pattern"
    rec = recs.merge(mapping[["file", "subject", "truth"]], on="file").assign(pred=recs[rec_col])
    columns = {"subject": subject_col, "muscle": "primary_pattern of subjects.csv",
               "recording": f"{rec_col} of recordings.csv"}
    return {"subject": sub, "muscle": mus, "recording": rec}, columns


def score_levels(levels: dict[str, pd.DataFrame], columns: dict[str, str], tested_on: str
                 ) -> pd.DataFrame:
    """One row per level and (below the subject) per muscle, as the evaluation scores them
    (:func:`~edxreview.signal._evaluate.level_scores`)."""
    return pd.DataFrame([row for level, d in levels.items() for row in level_scores(
        columns[level], "the results' reference", tested_on, level, d)])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results_dir", metavar="RESULTS_DIR",
                    help="the --out folder of 'emg analyze ... --subjects TABLE.csv'")
    ap.add_argument("--truth", required=True, metavar="TABLE.csv",
                    help="the --subjects table the results were analysed with, with a group "
                         "column (normal / neurogenic / myopathic)")
    ap.add_argument("--results", default=None, metavar="CSV",
                    help="also write the scores here (a new file: an existing one is not "
                         "replaced)")
    a = ap.parse_args(argv)
    folder = Path(a.results_dir)
    if a.results and Path(a.results).exists():
        _say(f"--results {a.results!r} exists; give a new file name (it is not replaced).")
        return 2
    tables = read_results(folder)
    if tables is None:
        return 2
    recs, subj = tables
    mapping = match_truth(a.truth, recs, subj)
    if mapping is None:
        return 2
    levels, columns = readings(recs, subj, mapping)
    res = score_levels(levels, columns, folder.name or str(folder))
    print(f"{folder}: {len(levels['subject'])} subjects, {len(levels['muscle'])} "
          f"subject-muscles, {len(levels['recording'])} recordings scored against the group "
          f"column of {a.truth} (indeterminate counts as wrong; 95 % CI: Wilson). Method = the "
          "column scored.\n")
    print(format_table(res, muscles=True))
    if a.results:
        try:
            write_whole(a.results, lambda p: res.to_csv(p, index=False))
        except (OSError, EdxreviewError) as exc:
            _say(f"cannot write --results {a.results!r}: {exc}")
            return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
