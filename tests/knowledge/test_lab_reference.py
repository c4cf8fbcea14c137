"""A laboratory's own limits file: used only when every row is usable, every problem located."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from edxreview._errors import InvalidInputError
from edxreview.knowledge import load_reference
from edxreview.knowledge._reference import read_limits_file

BUNDLED = (Path(__file__).resolve().parents[2] / "src" / "edxreview" / "knowledge" / "data"
           / "ncs_limits_adult.csv")


def _bundled() -> pd.DataFrame:
    return pd.read_csv(BUNDLED, dtype=str, keep_default_na=False)


def _write(tmp_path, table: pd.DataFrame, name="lab.csv") -> Path:
    path = tmp_path / name
    table.to_csv(path, index=False)
    return path


def _problems(path):
    _, _, problems = read_limits_file(path)
    return [p for p in problems if p.severity == "error"]


def test_an_unchanged_bare_copy_of_the_bundled_file_loads_as_the_labs_own(tmp_path):
    path = tmp_path / "copy.csv"
    shutil.copy(BUNDLED, path)
    ref = load_reference(path)
    assert len(ref.limits) == len(load_reference().limits)
    assert ref.meta["population"] == "" and ref.meta["id"] == "copy"
    # the copy keeps the bundled statuses it states
    assert set(ref.limits["status"]) <= {"verified", "corrected", "unsourced", "convention"}


def test_a_minimal_file_without_status_columns_is_lab_status(tmp_path):
    table = _bundled().drop(columns=["status", "status_reason", "technique", "source",
                                     "distance_mm"])
    ref = load_reference(_write(tmp_path, table))
    assert set(ref.limits["status"]) == {"lab"}


def test_legacy_verified_column_is_ignored(tmp_path):
    table = _bundled().drop(columns=["status", "status_reason"]).assign(verified="false")
    ref = load_reference(_write(tmp_path, table))
    assert set(ref.limits["status"]) == {"lab"}


def test_sidecar_without_population(tmp_path):
    path = _write(tmp_path, _bundled())
    (tmp_path / "lab.meta.toml").write_text('id = "our_lab"\nversion = "2"\n', encoding="utf-8")
    ref = load_reference(path)
    assert ref.label == "our_lab v2" and ref.meta["population"] == ""


def test_broken_toml_is_located(tmp_path):
    path = _write(tmp_path, _bundled())
    (tmp_path / "lab.meta.toml").write_text('id = "x"\nversion = \n', encoding="utf-8")
    with pytest.raises(InvalidInputError) as err:
        load_reference(path)
    (p,) = err.value.problems
    assert p.sheet == "lab.meta.toml" and p.row == 2


def test_empty_and_header_only_files(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(InvalidInputError) as err:
        load_reference(empty)
    assert "empty" in err.value.problems[0].message
    header = _write(tmp_path, _bundled().iloc[:0], "header.csv")
    with pytest.raises(InvalidInputError) as err:
        load_reference(header)
    assert "no limit rows" in err.value.problems[0].message


def test_missing_required_column(tmp_path):
    path = _write(tmp_path, _bundled().drop(columns=["bound"]))
    (p,) = _problems(path)
    assert (p.row, p.column) == (1, "bound")


@pytest.mark.parametrize(("column", "value", "fragment"), [
    ("limit", "inf", "finite"),
    ("limit", "nan", "not a number"),
    ("limit", "-4", "greater than 0"),
    ("limit", "", "required"),
    ("limit", "4,0", "not a number"),
    ("study", "motr", "Did you mean 'motor'"),
    ("parameter", "amplitude_uv", "unknown parameter"),
    ("nerve", "medain", "Did you mean 'median'"),
    ("recording_site", "abductor pollicis brevvis", "unknown recording muscle"),
    ("bound", "upper", "lower bounds"),
    ("bound", "min", "'lower' or 'upper'"),
    ("unit", "uV", "mV"),
    ("age_min_years", "-3", "between 0 and 120"),
    ("height_ref_cm", "17", "height in cm"),
    ("status", "checked", "must be one of"),
])
def test_a_bad_cell_is_located(tmp_path, column, value, fragment):
    table = _bundled()
    table.loc[0, column] = value  # row 0 = motor median APB amplitude, spreadsheet row 2
    problems = _problems(_write(tmp_path, table))
    assert (problems[0].row, problems[0].column) == (2, column), problems
    assert {p.row for p in problems} == {2}
    assert fragment in problems[0].message


def test_age_min_above_age_max(tmp_path):
    table = _bundled()
    table.loc[0, ["age_min_years", "age_max_years"]] = ["60", "40"]
    (p,) = _problems(_write(tmp_path, table))
    assert (p.row, p.column) == (2, "age_min_years") and "below age_max_years" in p.message


def test_contradicting_and_repeated_rows(tmp_path):
    table = _bundled()
    extra = table.iloc[[0, 1]].copy()
    extra.iloc[0, extra.columns.get_loc("limit")] = "3.5"    # contradicts row 2
    table = pd.concat([table, extra], ignore_index=True)
    problems = _problems(_write(tmp_path, table))
    n = len(table) + 1
    assert [(p.row, p.column) for p in problems] == [(n - 1, "limit"), (n, "limit")]
    assert "contradicts row 2" in problems[0].message
    assert "duplicate of row 3" in problems[1].message


def test_non_overlapping_age_bands_are_fine(tmp_path):
    table = _bundled()
    extra = table.iloc[[0]].copy()
    table.loc[0, "age_max_years"] = "60"
    extra["age_min_years"], extra["limit"] = "60", "3.0"
    ref = load_reference(_write(tmp_path, pd.concat([table, extra], ignore_index=True)))
    assert len(ref.limits) == len(table) + 1


def test_every_problem_is_reported_and_nothing_used(tmp_path):
    table = _bundled()
    table.loc[0, "limit"] = "inf"
    table.loc[5, "nerve"] = "ulnr"
    table.loc[9, "age_min_years"] = "abc"
    with pytest.raises(InvalidInputError) as err:
        load_reference(_write(tmp_path, table))
    assert sorted(p.row for p in err.value.problems) == [2, 7, 11]


def test_aliases_become_canonical_ids(tmp_path):
    table = _bundled()
    table.loc[0, ["nerve", "recording_site"]] = ["Median", "APB"]
    ref = load_reference(_write(tmp_path, table))
    assert tuple(ref.limits.loc[0, ["nerve", "recording_site"]]) == (
        "median", "abductor_pollicis_brevis")


def test_a_motor_row_without_muscle_uses_the_nerves_routine_muscle(tmp_path):
    table = _bundled()
    table.loc[0, "recording_site"] = ""
    ref = load_reference(_write(tmp_path, table))
    assert ref.limits.loc[0, "recording_site"] == "abductor_pollicis_brevis"


def test_limits_the_file_leaves_out_are_warned_about(tmp_path):
    table = _bundled()
    table = table[table["nerve"] != "sural"]
    _, _, problems = read_limits_file(_write(tmp_path, table))
    assert problems and {p.severity for p in problems} == {"warning"}
    assert {p.value for p in problems} == {"sensory sural lateral_malleolus amplitude_uv",
                                           "sensory sural lateral_malleolus latency_ms",
                                           "sensory sural lateral_malleolus velocity_m_s"}
    assert len(load_reference(tmp_path / "lab.csv").limits) == len(table)
