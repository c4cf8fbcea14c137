"""Every malformed input exits 1, names sheet, row, column and value, prints no traceback,
writes nothing and leaves the input untouched."""

from __future__ import annotations

import contextlib
import signal

import pytest

from edxreview.cli import main

from edxreview.io._read import _cell_text

from .corpus import _number, CASES, base_book, corpus_params, tree_hashes, write_csv_folder, write_xlsx


@contextlib.contextmanager
def deadline(seconds: int):
    """Fail, rather than hang, when a read blocks (a named pipe) or runs away (a huge sheet)."""

    def expire(signum, frame):
        raise TimeoutError(f"took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 40
    assert len(corpus_params()) >= 60


@pytest.mark.parametrize("form", ["csv", "xlsx"])
def test_the_base_workbook_is_valid(form, tmp_path, capsys):
    book = base_book()
    path = write_csv_folder(book, tmp_path / "book") if form == "csv" else \
        write_xlsx(book, tmp_path / "book.xlsx")
    assert main(["validate", str(path)]) == 0, capsys.readouterr()


@pytest.mark.parametrize(("case", "form"), corpus_params())
def test_malformed_input_is_refused_with_its_location(case, form, tmp_path, capsys):
    path = case.write(form, tmp_path)
    before = tree_hashes(path)
    out = tmp_path / "results"
    with deadline(60):
        status = main(["run", str(path), "--out", str(out), "-q"])
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert status == 1, text
    assert "Traceback" not in text
    assert "internal error" not in text
    if case.sheet:
        assert f"sheet {case.sheet!r}" in text, text
    if case.row is not None:
        assert f"row {case.row}" in text, text
    if case.column:
        assert f"column {case.column!r}" in text, text
    if case.value is not None:
        value = case.value
        if form == "xlsx" and case.build is None:  # numbers travel as numbers in a workbook
            value = _cell_text(_number(value))[0]
        assert f"value {str(value)!r}" in text, text
    for phrase in case.also:
        assert phrase.lower() in text.lower(), text
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".results")]
    assert tree_hashes(path) == before


@pytest.mark.parametrize(("case", "form"), corpus_params()[::5])
def test_validate_reports_the_same_problem(case, form, tmp_path, capsys):
    path = case.write(form, tmp_path)
    with deadline(60):
        assert main(["validate", str(path)]) == 1
    text = "".join(capsys.readouterr())
    assert "Traceback" not in text
    if case.row is not None:
        assert f"row {case.row}" in text
