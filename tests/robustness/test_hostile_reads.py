"""Reading odd and hostile inputs: every row present is read, nothing is replaced or guessed
silently, and the size of what is read is bounded by named limits."""

from __future__ import annotations

import csv
import re
import unicodedata
from pathlib import Path

import pandas as pd
import pytest

import edxreview
from edxreview._pipeline import review_study
from edxreview._errors import InvalidWorkbookError
from edxreview.cli import main
from edxreview.io import _read, load_study, read_workbook, validate_workbook

from .corpus import (
    base_book, rewrite_xlsx, set_cell, sheet_member, write_csv_folder, write_xlsx,
)

#: the six measures of the demonstration cohort (summary.json measures.*.n), of 59 patients
DEMO_COUNTS = [13, 7, 4, 2, 9, 4]


def _write(book, form: str, tmp: Path) -> Path:
    return write_csv_folder(book, tmp / "book") if form == "csv" else \
        write_xlsx(book, tmp / "book.xlsx")


def _demo_book():
    book = {}
    for path in sorted(edxreview.demo_path().glob("*.csv")):
        with open(path, newline="", encoding="utf-8") as fh:
            book[path.stem] = list(csv.reader(fh))
    return book


@pytest.mark.slow
def test_a_stale_dimension_tag_hides_no_rows(tmp_path):
    # other programs leave <dimension ref="A1:F10"/> in sheets that grew: every row is read
    book = _demo_book()
    path = write_xlsx(book, tmp_path / "demo.xlsx")
    for sheet in book:
        rewrite_xlsx(path, sheet_member(book, sheet),
                     lambda xml: re.sub(rb'<dimension ref="[^"]*"\s*/>', b'<dimension ref="A1:F10"/>',
                                        xml))
    result = review_study(path)
    assert {s: r["read"] for s, r in result.study.rows.items()} == \
        {s: len(rows) - 1 for s, rows in book.items()}
    assert result.study.rows["emg"]["read"] == 452
    assert [m["n"] for m in result.summary["measures"].values()] == DEMO_COUNTS
    assert result.summary["n_patients"] == 59


def test_empty_rows_in_a_workbook_keep_the_row_numbers(tmp_path, capsys):
    book = base_book()
    width = len(book["emg"][0])
    book["emg"][3:3] = [[""] * width] * 3  # rows 4–6 empty: Excel stores no cells for them
    book = set_cell("emg", 8, "fibs", "lots")(book)
    path = write_xlsx(book, tmp_path / "book.xlsx")
    raw = read_workbook(path)
    assert raw.sheets["emg"]["_row"].tolist()[:4] == [2, 3, 7, 8]
    assert main(["validate", str(path)]) == 1
    assert "sheet 'emg', row 8, column 'fibs': value 'lots'" in "".join(capsys.readouterr())


def test_rows_of_a_workbook_are_accounted_for(tmp_path):
    book = base_book()
    width = len(book["emg"][0])
    book["emg"].insert(4, [" "] + [""] * (width - 1))  # a row holding only a space: rejected
    study = load_study(write_xlsx(book, tmp_path / "book.xlsx"))
    r = study.rows["emg"]
    assert r["read"] == len(book["emg"]) - 1
    assert r["rejected"] == 1 and r["used"] == r["read"] - 1


@pytest.mark.parametrize(("text", "value"), [
    ("4,5", 4.5), ("0,123", 0.123), ("12,50", 12.5), ("1,0700", 1.07), ("1070", 1070.0),
    ("1.070", 1.07),
], ids=["decimal comma", "leading zero", "two decimals", "four decimals", "plain",
        "decimal point"])
def test_a_decimal_comma_is_read_as_a_decimal_point(text, value, tmp_path):
    book = set_cell("ncs_motor", 3, "distance_mm", text)(base_book())
    study = load_study(write_csv_folder(book, tmp_path / "book"))
    assert study.tables["ncs_motor"]["distance_mm"].iloc[1] == pytest.approx(value)


@pytest.mark.parametrize("text", ["1,070", "-1,500", "999,000", "+2,250"])
def test_a_comma_before_three_digits_is_refused_as_ambiguous(text, tmp_path):
    book = set_cell("ncs_motor", 3, "distance_mm", text)(base_book())
    with pytest.raises(InvalidWorkbookError) as info:
        load_study(write_csv_folder(book, tmp_path / "book"))
    problem = next(p for p in info.value.problems if p.column == "distance_mm")
    assert (problem.sheet, problem.row, problem.value) == ("ncs_motor", 3, text)
    assert re.search(r"ambiguous number.*thousands.*decimals.*Write", problem.message)


@pytest.mark.parametrize("form", ["csv", "xlsx"])
def test_ids_differing_only_in_unicode_normalisation_are_one_patient(form, tmp_path):
    composed, decomposed = (unicodedata.normalize(f, "José-01") for f in ("NFC", "NFD"))
    assert composed != decomposed
    book = base_book()
    for sheet, rows in book.items():
        for r in rows[1:]:
            if r[0] == "NMO-001":
                r[0] = composed if sheet == "patients" else decomposed
    study = load_study(_write(book, form, tmp_path))
    patients = study.tables["patients"]["patient_id"]
    assert composed in set(patients) and patients.nunique() == len(patients) == 4
    assert (study.tables["emg"]["patient_id"] == composed).any()


def test_the_same_id_in_two_normalisations_is_a_duplicate(tmp_path):
    book = base_book()
    book["patients"][1][0] = unicodedata.normalize("NFC", "José-01")
    book["patients"][2][0] = unicodedata.normalize("NFD", "José-01") + "\u200b "
    with pytest.raises(InvalidWorkbookError, match="the workbook has") as info:
        load_study(write_csv_folder(book, tmp_path / "book"))
    assert any(p.sheet == "patients" and p.row == 3 and "more than once" in p.message
               for p in info.value.problems)


@pytest.mark.parametrize("form", ["csv", "xlsx"])
def test_header_only_sheets_are_one_answer_for_validate_and_run(form, tmp_path, capsys):
    book = {sheet: rows[:1] for sheet, rows in base_book().items()}
    path = _write(book, form, tmp_path)
    assert main(["validate", str(path)]) == 1
    validated = "".join(capsys.readouterr())
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "-q"]) == 1
    ran = "".join(capsys.readouterr())
    line = "error: sheet 'patients': no patients: the sheet has a header but no rows"
    assert line in validated and line in ran
    assert not (tmp_path / "out").exists()


def test_warnings_csv_gives_row_numbers_as_integers(tmp_path):
    book = set_cell("ncs_motor", 2, "temperature_c", "25")(base_book())
    book["notes"] = [["text"], ["an unknown sheet: a warning without a row"]]
    path = write_csv_folder(book, tmp_path / "book")
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "-q"]) == 0
    warnings = pd.read_csv(tmp_path / "out" / "warnings.csv", dtype=str, keep_default_na=False)
    assert "" in set(warnings["row"]) and "2" in set(warnings["row"])
    assert not warnings["row"].str.contains(".", regex=False).any()


@pytest.mark.parametrize(("limit", "value"), [("MAX_ROWS", 10), ("MAX_CELLS", 100)])
@pytest.mark.parametrize("form", ["csv", "xlsx"])
def test_a_sheet_beyond_the_size_limits_is_refused_naming_the_limit(limit, value, form, tmp_path,
                                                                   monkeypatch):
    monkeypatch.setattr(_read, limit, value)
    with pytest.raises(InvalidWorkbookError) as info:
        load_study(_write(base_book(), form, tmp_path))
    sizes = [p for p in info.value.problems if limit in p.message]
    assert sizes and {p.sheet for p in sizes} >= {"emg", "ncs_motor"}
    # a sheet refused for its size is not also reported missing
    assert not any("is missing" in p.message for p in info.value.problems)


def test_a_parquet_sheet_beyond_the_limits_is_refused_before_it_is_read(tmp_path, monkeypatch):
    folder = write_csv_folder(base_book(), tmp_path / "book")
    emg = pd.read_csv(folder / "emg.csv", dtype=str, keep_default_na=False)
    (folder / "emg.csv").unlink()
    emg.to_parquet(folder / "emg.parquet")
    monkeypatch.setattr(_read, "MAX_ROWS", 10)
    monkeypatch.setattr(pd, "read_parquet", lambda *a, **k: pytest.fail("read before checked"))
    raw = read_workbook(folder)
    problem = next(p for p in raw.problems if p.sheet == "emg")
    assert problem.value == "emg.parquet" and "MAX_ROWS" in problem.message


def test_an_archive_beyond_the_uncompressed_limit_is_refused_before_it_is_parsed(tmp_path,
                                                                                monkeypatch):
    path = write_xlsx(base_book(), tmp_path / "book.xlsx")
    monkeypatch.setattr(_read, "MAX_XLSX_UNCOMPRESSED_BYTES", 10_000)
    monkeypatch.setattr("openpyxl.load_workbook", lambda *a, **k: pytest.fail("parsed"))
    with pytest.raises(InvalidWorkbookError) as info:
        read_workbook(path)
    assert "MAX_XLSX_UNCOMPRESSED_BYTES" in info.value.problems[0].message


def test_validated_tables_do_not_depend_on_the_form(tmp_path):
    book = base_book()
    a = load_study(write_csv_folder(book, tmp_path / "book"))
    b = load_study(write_xlsx(book, tmp_path / "book.xlsx"))
    for sheet in a.tables:
        pd.testing.assert_frame_equal(a.tables[sheet], b.tables[sheet], check_dtype=False)
    assert a.rows == b.rows
    assert validate_workbook(read_workbook(tmp_path / "book.xlsx")).rows == b.rows


def test_a_worksheet_storing_too_many_cells_is_refused_before_it_is_parsed(tmp_path, monkeypatch):
    path = write_xlsx(base_book(), tmp_path / "book.xlsx")
    monkeypatch.setattr(_read, "XLSX_MAX_CELLS", 100)
    parsed = []
    iter_sheet = _read._iter_sheet
    monkeypatch.setattr(_read, "_iter_sheet", lambda *a: parsed.append(1) or iter_sheet(*a))
    raw = read_workbook(path)
    refused = {p.sheet for p in raw.problems if "XLSX_MAX_CELLS" in p.message}
    large = {s for s, rows in base_book().items() if len(rows) * len(rows[0]) > 100}
    assert refused == large and len(parsed) == len(base_book()) - len(large) > 0


@pytest.mark.parametrize("form", ["csv", "xlsx"])
def test_a_file_beyond_the_size_limit_is_refused_before_it_is_read(form, tmp_path, monkeypatch):
    book = base_book()
    for sheet in ("blink_reflex", "f_waves", "mri", "ncs_sensory"):
        del book[sheet]  # the sheets left are all over 100 bytes
    path = _write(book, form, tmp_path)
    monkeypatch.setattr(_read, "MAX_FILE_BYTES", 100)
    monkeypatch.setattr(_read, "_decode_csv", lambda *a: pytest.fail("read"))
    monkeypatch.setattr(_read, "_sha256_file", lambda *a: pytest.fail("read"))
    with pytest.raises(InvalidWorkbookError) as info:
        load_study(path)
    assert any("MAX_FILE_BYTES" in p.message and p.value in ("book.xlsx", "emg.csv")
               for p in info.value.problems)


def test_a_worksheet_without_cell_references_reads_the_same(tmp_path):
    # some writers leave out the r="B7" references of rows and cells: position gives them
    book = base_book()
    plain = read_workbook(write_xlsx(book, tmp_path / "plain.xlsx"))
    path = write_xlsx(book, tmp_path / "book.xlsx")
    rewrite_xlsx(path, sheet_member(book, "emg"), lambda xml: re.sub(rb' r="[A-Z]*\d+"', b"", xml))
    bare = read_workbook(path)
    pd.testing.assert_frame_equal(bare.sheets["emg"], plain.sheets["emg"])
