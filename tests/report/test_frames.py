"""Whole-table helpers of the report agree with the pandas operations they replace."""

import numpy as np
import pandas as pd
import pytest

from edxreview._tables import isin
from edxreview.report._frames import count_rows, split_records


@pytest.mark.parametrize("values, keys", [
    (pd.Series(["P1", "P2", None, "P3"], dtype="str"), pd.Series(["P3", "P1"], dtype="str")),
    (pd.Series(["P1", "P2"], dtype=object), pd.Series(["P2"], dtype="str")),
    (pd.Index(["P1", "P2"]), ["P2", "P9"]),
    (pd.Series([1, 2, 3]), pd.Series(["1", "2"])),
    (pd.Series([1, 2, 3]), [3]),
    (pd.Series(["P1", "P2"], dtype="str"), []),
    (pd.Series([1.5, np.nan]), [np.nan]),
], ids=["arrow text", "object against arrow text", "index and list",
        "numbers against text", "numbers", "no keys", "missing matches missing"])
def test_isin_agrees_with_pandas(values, keys):
    expected = np.asarray(pd.Series(values).isin(pd.Series(keys, dtype=object)), dtype=bool)
    assert isin(values, keys).tolist() == expected.tolist()


def test_split_records_keeps_row_order_within_each_patient():
    frame = pd.DataFrame({"patient_id": ["B", "A", "B", "C", "A"], "x": [0, 1, 2, 3, 4],
                          "t": pd.array(["b0", "a1", None, "c3", "a4"], dtype="str")})
    got = split_records(frame, ["x", "t"])
    assert list(got) == ["B", "A", "C"]
    assert [r["x"] for r in got["B"]] == [0, 2] and [r["x"] for r in got["A"]] == [1, 4]
    assert got["C"] == [{"x": 3, "t": "c3"}]
    assert pd.isna(got["B"][1]["t"])
    assert split_records(frame.iloc[:0], ["x"]) == {}


def test_count_rows_agrees_with_groupby():
    frame = pd.DataFrame({
        "muscle": pd.array(["deltoid", "deltoid", None, "biceps", "deltoid", "biceps"],
                           dtype="str"),
        "reading": pd.array(["normal", None, "acute", "normal", "normal", None], dtype="str"),
        "flag": [True, False, True, True, True, False]})
    got = count_rows(frame, ["muscle", "reading", "flag"], keep_missing=("reading",))
    expected = frame.groupby(["muscle", "reading", "flag"], dropna=False).size()
    expected = expected[expected.index.get_level_values("muscle").notna()]
    as_set = {(m, None if pd.isna(r) else r, bool(f), n)
              for m, r, f, n in got.itertuples(index=False)}
    assert as_set == {(m, None if pd.isna(r) else r, bool(f), n)
                      for (m, r, f), n in expected.items()}
    assert got["n"].sum() == 5
