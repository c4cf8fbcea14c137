"""A study entered twice for the same side is reported (a left/right mix-up), never dropped."""

import shutil

import pandas as pd

from edxreview import demo_path
from edxreview._pipeline import review_study


def test_repeated_muscle_on_one_side_warns_and_keeps_both(tmp_path):
    folder = tmp_path / "study"
    shutil.copytree(demo_path(), folder, ignore=shutil.ignore_patterns("*.md"))
    emg = pd.read_csv(folder / "emg.csv", dtype=str, keep_default_na=False)
    first = emg.iloc[0]
    twin = emg.index[(emg["patient_id"] == first["patient_id"]) & (emg.index > 0)][0]
    emg.loc[twin, ["muscle", "side"]] = [first["muscle"], first["side"]]
    emg.to_csv(folder / "emg.csv", index=False)

    result = review_study(folder)
    repeats = [w for w in result.study.warnings if "earlier row" in w.message]
    assert [(w.sheet, w.row, w.column) for w in repeats] == [("emg", twin + 2, "muscle")]
    assert "correct its side" in repeats[0].message
    assert result.summary["rows"]["emg"]["used"] == len(emg)


def test_every_column_kind_of_the_workbook_has_a_converter():
    from edxreview.io._schema import SHEETS
    from edxreview.io._validate import _CONVERTERS

    kinds = {col.kind for sheet in SHEETS.values() for col in sheet.columns}
    assert kinds <= set(_CONVERTERS), sorted(kinds - set(_CONVERTERS))
