"""Table 1 and the group comparisons behind it."""

import numpy as np
import pandas as pd
import pytest

from edxreview.cohort import compare_categorical, compare_continuous, compute_table1
from edxreview.cohort._table1 import format_p
from edxreview.cohort._table1 import table1_settings


def test_fisher_exact_lady_tasting_tea():
    # Fisher RA, The Design of Experiments (1935): 3/1 vs 1/3, two-sided exact p = 0.4857
    # (R documentation, ?fisher.test: fisher.test(TeaTasting), two-sided p-value = 0.4857)
    res = compare_categorical(np.array([[3, 1], [1, 3]]))
    assert res.test == "fisher"
    assert res.p_value == pytest.approx(0.4857, abs=1e-4)


def test_mann_whitney_r_wilcox_example():
    # R documentation, ?wilcox.test (Hollander & Wolfe 1973, p. 69): W = 35, one-sided
    # p = 0.1272, so the two-sided exact p is 0.2544
    x = [0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46]
    y = [1.15, 0.88, 0.90, 0.74, 1.21]
    res = compare_continuous(x, y)
    assert res.test == "mannwhitney"
    assert res.p_value == pytest.approx(0.2544, abs=1e-4)


def test_chi_squared_when_cells_are_large():
    res = compare_categorical(np.array([[40, 20], [20, 40]]))
    assert res.test == "chi2"
    assert 0 < res.p_value < 0.01


def _frame(n=30, seed=1):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "age_years": rng.normal(45, 10, n),
        "sex": ["F"] * n,
        "aqp4_igg": (["positive", "negative", "unknown", None] * n)[:n],
        "edss": rng.gamma(2, 1.5, n),
        "weakness": rng.random(n) < 0.5,
    }, index=[f"P{i}" for i in range(n)])


def test_level_absent_in_one_group_is_kept():
    ch = _frame()
    group = pd.Series(np.arange(len(ch)) < 10, index=ch.index)
    ch.loc[ch.index[~group.to_numpy()][:5], "sex"] = "M"   # M only in the second group
    t1 = compute_table1(ch, group, ("A", "B"))
    m = t1.rows[(t1.rows["variable"] == "sex") & (t1.rows["level"] == "M")].iloc[0]
    assert m["A"] == "0 (0.0)"
    assert m["B"] == "5 (25.0)"
    head = t1.rows[(t1.rows["variable"] == "sex") & (t1.rows["level"] == "")].iloc[0]
    assert head["test"] == "fisher" and head["p_value"] != ""


def test_missing_categoricals_counted_and_left_out_of_percentages():
    ch = _frame(n=8)
    group = pd.Series([True, False] * 4, index=ch.index)
    t1 = compute_table1(ch, group, ("A", "B"))
    rows = t1.rows[t1.rows["variable"] == "aqp4_igg"]
    assert rows.iloc[0]["missing"] == "4"       # 'unknown' and None
    pos = rows[rows["level"] == "positive"].iloc[0]
    assert pos["overall"] == "2 (50.0)"
    assert set(rows["level"]) == {"", "positive", "negative"}


def test_all_missing_column_is_listed_not_tested():
    ch = _frame(n=12)
    ch["edss"] = np.nan
    ch["mog_igg"] = None
    group = pd.Series([True] * 6 + [False] * 6, index=ch.index)
    t1 = compute_table1(ch, group, ("A", "B"))
    for var in ("edss", "mog_igg"):
        row = t1.rows[t1.rows["variable"] == var].iloc[0]
        assert row["missing"] == "12"
        assert row["p_value"] == "" and row["test"] == ""
        assert row["stat"] == "not recorded"


def test_empty_group_gives_no_test():
    ch = _frame(n=10)
    t1 = compute_table1(ch, pd.Series(False, index=ch.index), ("A", "B"))
    assert t1.groups == {"A": 0, "B": 10}
    assert (t1.rows["p_value"] == "").all()


def test_tests_named_in_footnotes():
    ch = _frame(n=40)
    group = pd.Series(np.arange(40) % 3 == 0, index=ch.index)
    t1 = compute_table1(ch, group, ("A", "B"))
    text = " ".join(t1.footnotes)
    for t in t1.rows["test_name"]:
        if t:
            assert t in text
    edss = t1.rows[t1.rows["variable"] == "edss"].iloc[0]
    assert edss["test"] == "mannwhitney" and edss["stat"] == "median [Q1, Q3]"


@pytest.mark.parametrize("values", [
    [True, False, None, True, np.nan, False, True, True],
    pd.array([True, False, None, True, None, False, True, True], dtype="boolean"),
    ["yes", "no", "unknown", " yes ", "", "no", "yes", "yes"],
], ids=["object booleans with gaps", "nullable booleans", "yes/no text"])
def test_binary_spellings_read_alike(values):
    ch = _frame(n=8)
    ch["weakness"] = values
    group = pd.Series([True, False] * 4, index=ch.index)
    row = compute_table1(ch, group, ("A", "B")).rows.set_index("variable").loc["weakness"]
    assert (row["missing"], row["overall"]) == ("2", "4 (66.7)")


@pytest.mark.parametrize("p, text", [
    (0.0004, "<0.001"), (0.001, "0.001"), (0.0083, "0.008"), (0.049, "0.049"),
    (0.08, "0.080"), (0.0996, "0.10"), (0.45, "0.45"), (0.9, "0.90"), (0.95, ">0.9"),
    (1.0, ">0.9"), (float("nan"), ""), (None, ""),
])
def test_p_values_formatted_as_gtsummary(p, text):
    assert format_p(p) == text


def test_headers_carry_group_sizes():
    ch = _frame(n=12)
    group = pd.Series([True] * 5 + [False] * 7, index=ch.index)
    t1 = compute_table1(ch, group, ("LMN involvement", "No LMN involvement"))
    assert t1.headers == {"overall": "Overall, N = 12", "LMN involvement": "LMN involvement, N = 5",
                          "No LMN involvement": "No LMN involvement, N = 7"}
    printed = t1.to_frame()
    assert list(printed.columns[1:4]) == list(t1.headers.values())
    assert len(printed) == len(t1.rows)


def test_level_no_patient_has_is_kept():
    ch = _frame(n=12)                              # every patient F, nobody M
    ch["aqp4_igg"] = "positive"                    # nobody negative
    group = pd.Series([True] * 6 + [False] * 6, index=ch.index)
    rows = compute_table1(ch, group, ("A", "B")).rows
    m = rows[(rows["variable"] == "sex") & (rows["level"] == "M")]
    assert len(m) == 1 and (m.iloc[0]["overall"], m.iloc[0]["A"], m.iloc[0]["B"]) == (
        "0 (0.0)", "0 (0.0)", "0 (0.0)")
    neg = rows[(rows["variable"] == "aqp4_igg") & (rows["level"] == "negative")].iloc[0]
    assert neg["overall"] == "0 (0.0)"
    assert list(rows.loc[rows["variable"] == "sex", "level"]) == ["", "F", "M"]


def test_group_below_minimum_is_not_tested_and_footnoted():
    minimum = table1_settings()["min_group_n"]
    n = 20
    group = pd.Series(np.arange(n) < 10, index=[f"P{i}" for i in range(n)])

    def table(recorded_in_a: int):
        ch = _frame(n=n)
        gone = ch.index[recorded_in_a:10]          # group A keeps `recorded_in_a` values
        ch.loc[gone, "age_years"] = np.nan
        ch["weakness"] = ch["weakness"].astype(object)
        ch.loc[gone, "weakness"] = None
        return compute_table1(ch, group, ("A", "B"))

    t1 = table(minimum - 1)                        # one short of the minimum
    rows = t1.rows.set_index("variable")
    for var in ("age_years", "weakness"):
        assert rows.loc[var, "p_value"] == "" and rows.loc[var, "test"] == ""
        assert f"fewer than {minimum}" in rows.loc[var, "not_tested"]
    assert rows.loc["edss", "p_value"] != "" and rows.loc["edss", "not_tested"] == ""
    note = next(f for f in t1.footnotes if f.startswith("Not tested"))
    assert "Age, years" in note and "Weakness" in note and "EDSS" not in note
    assert t1.to_frame().set_index("Characteristic").loc["Weakness, n (%)", "p"] == "not tested"
    t2 = table(minimum)                            # at the minimum the same variables are tested
    rows = t2.rows.set_index("variable")
    assert rows.loc["age_years", "p_value"] != "" and rows.loc["weakness", "p_value"] != ""
    assert not any(f.startswith("Not tested") for f in t2.footnotes)


def test_minimum_group_size_is_a_stated_convention():
    settings = table1_settings()
    assert isinstance(settings["min_group_n"], int) and settings["min_group_n"] >= 2
    assert settings["min_group_n_status"] == "convention"
    assert len(settings["min_group_n_reason"]) > 40


def test_no_variable_tested_is_said_once():
    ch = _frame(n=10)
    group = pd.Series([True] + [False] * 9, index=ch.index)
    t1 = compute_table1(ch, group, ("A", "B"))
    assert (t1.rows["p_value"] == "").all()
    assert any(f.startswith("No variable was tested") for f in t1.footnotes)
    assert not any(f.startswith("p-values") for f in t1.footnotes)
