"""Property-based tests of the readers and the validator: any input either validates or is
refused with located problems; nothing else is raised, and rows are always accounted for."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edxreview._errors import InvalidWorkbookError
from edxreview.io import read_workbook, validate_workbook

from .corpus import base_book, write_csv_folder

BOOK = base_book()
SHEETS = sorted(BOOK)
TRICKY = ["", " ", "NR", "nr", "-", "—", "nan", "None", "inf", "-inf", "1e309", "-0", "0",
          "1,5", "1.5.2", "3.6 ms", "±", "+/-", "5+", "4+", "=1+2", "@x", "<script>", "'",
          '"', "\u00a0", "\ufeff", "L", "left", "C9", "T13", "median", "abd poll brev",
          "NMO-001", "NMO-999", "yes", "1", "-1", "1e6", "0.001", "\x00", "é", "视"]
pytestmark = pytest.mark.slow  # property-based: 30–50 s on 2 cores

SETTINGS = settings(max_examples=20, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


def _check(path: Path) -> None:
    try:
        raw = read_workbook(path)
    except InvalidWorkbookError as exc:
        assert exc.problems
        return
    try:
        study = validate_workbook(raw)
    except InvalidWorkbookError as exc:
        assert exc.problems
        assert all(p.severity in ("error", "warning") for p in exc.problems)
        return
    for sheet, r in study.rows.items():
        assert r["read"] == r["used"] + r["rejected"]
        assert r["read"] == len(raw.sheets[sheet])
        assert sum(r["rejected_reasons"].values()) == r["rejected"]


cell_edit = st.tuples(st.sampled_from(SHEETS), st.integers(0, 40), st.integers(0, 15),
                      st.one_of(st.sampled_from(TRICKY), st.text(max_size=12)))


@SETTINGS
@given(edits=st.lists(cell_edit, max_size=6))
def test_any_cell_content_is_validated_or_refused(edits):
    book = {k: [list(r) for r in v] for k, v in BOOK.items()}
    for sheet, row, column, value in edits:
        rows = book[sheet]
        r = rows[row % len(rows)]
        r[column % len(r)] = value.replace("\r", "").replace("\n", " ")
    with tempfile.TemporaryDirectory() as tmp:
        _check(write_csv_folder(book, Path(tmp) / "book"))


@SETTINGS
@given(sheet=st.sampled_from(SHEETS), data=st.binary(max_size=400))
def test_any_bytes_in_a_sheet_file_are_read_or_refused(sheet, data):
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_csv_folder(BOOK, Path(tmp) / "book")
        (folder / f"{sheet}.csv").write_bytes(data)
        _check(folder)


@SETTINGS
@given(sheet=st.sampled_from(SHEETS), cut=st.integers(0, 4000), junk=st.binary(max_size=20))
def test_truncated_or_spliced_csv_is_read_or_refused(sheet, cut, junk):
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_csv_folder(BOOK, Path(tmp) / "book")
        f = folder / f"{sheet}.csv"
        data = f.read_bytes()
        f.write_bytes(data[:cut] + junk + data[cut:])
        _check(folder)


@SETTINGS
@given(sheet=st.sampled_from(SHEETS), blanks=st.lists(st.integers(1, 40), max_size=8))
def test_read_equals_used_plus_rejected(sheet, blanks):
    book = {k: [list(r) for r in v] for k, v in BOOK.items()}
    rows = book[sheet]
    width = len(rows[0])
    for pos in blanks:
        rows.insert(1 + pos % len(rows), [""] * width)
    with tempfile.TemporaryDirectory() as tmp:
        study = validate_workbook(read_workbook(write_csv_folder(book, Path(tmp) / "b")))
    r = study.rows[sheet]
    assert r["read"] == len(rows) - 1
    assert r["rejected"] == len(blanks)
    assert r["read"] == r["used"] + r["rejected"]


@SETTINGS
@given(data=st.binary(max_size=300))
def test_any_bytes_named_xlsx_are_refused_cleanly(data):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "book.xlsx"
        path.write_bytes(b"PK\x03\x04" + data if data[:1] == b"\x00" else data)
        _check(path)
