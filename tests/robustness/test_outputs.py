"""Nothing lost, nothing leaked, every result re-creatable: outputs of whole runs."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from edxreview.cli import main

from .corpus import base_book, tree_hashes, write_csv_folder, write_xlsx

HOSTILE = {"NMO-001": "<script>alert(1)</script>", "NMO-002": "=1+2", "NMO-003": "@SUM(A1)",
           "NMO-028": "-2+3"}


def _replace_ids(book, mapping):
    for rows in book.values():
        for r in rows[1:]:
            r[0] = mapping.get(r[0], r[0])
    return book


def _run(path: Path, out: Path, *extra: str) -> int:
    return main(["run", str(path), "--out", str(out), "-q", *extra])


def _all_text(folder: Path) -> dict[str, str]:
    """Every output file as text; xlsx members are unzipped (their XML is searched)."""
    texts = {}
    for p in sorted(folder.rglob("*")):
        if not p.is_file():
            continue
        if p.suffix == ".xlsx":
            with zipfile.ZipFile(p) as z:
                texts[p.name] = "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
        else:
            texts[p.name] = p.read_bytes().decode("utf-8", "replace")
    return texts


@pytest.fixture(scope="module")
def book_csv(tmp_path_factory):
    return write_csv_folder(base_book(), tmp_path_factory.mktemp("in") / "book")


@pytest.mark.slow
def test_two_runs_give_byte_identical_outputs(book_csv, tmp_path, capsys):
    assert _run(book_csv, tmp_path / "a") == 0
    assert _run(book_csv, tmp_path / "b") == 0
    a, b = tmp_path / "a", tmp_path / "b"
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    for name in names:
        if name.endswith(".csv"):
            assert (a / name).read_bytes() == (b / name).read_bytes(), name
    sa, sb = (json.loads((d / "summary.json").read_text()) for d in (a, b))
    assert sa["provenance"].pop("generated_at") and sb["provenance"].pop("generated_at")
    assert sa == sb


def test_provenance_records_input_tables_version_and_options(book_csv, tmp_path, capsys):
    assert _run(book_csv, tmp_path / "o", "--ci", "beta") == 0
    prov = json.loads((tmp_path / "o" / "summary.json").read_text())["provenance"]
    assert len(prov["input_sha256"]) == 64
    assert prov["edxreview_version"]
    assert prov["options"]["ci_method"] == "beta"
    ids = {t["id"]: t["version"] for t in prov["tables"]}
    assert ids["plausibility"] and ids["temperature_limits"] and ids["ncs_limits_adult"]
    assert prov["generated_at"]


def test_row_accounting_in_summary(book_csv, tmp_path, capsys):
    assert _run(book_csv, tmp_path / "o") == 0
    rows = json.loads((tmp_path / "o" / "summary.json").read_text())["rows"]
    book = base_book()
    for sheet, r in rows.items():
        assert r["read"] == r["used"] + r["rejected"]
        assert r["read"] == len(book[sheet]) - 1


@pytest.mark.parametrize("form", ["csv", "xlsx"])
def test_hostile_ids_run_and_stay_text(form, tmp_path, capsys):
    book = _replace_ids(base_book(), HOSTILE)
    path = write_csv_folder(book, tmp_path / "book") if form == "csv" else \
        write_xlsx(book, tmp_path / "book.xlsx")
    out = tmp_path / "o"
    assert _run(path, out) == 0, capsys.readouterr()
    patients = (out / "patients.csv").read_text()
    for hostile in HOSTILE.values():
        assert hostile in patients
    html = out / "report.html"
    if html.exists():
        assert "<script>alert(1)</script>" not in html.read_text()
    xlsx = out / "results.xlsx"
    if xlsx.exists():
        import openpyxl

        wb = openpyxl.load_workbook(xlsx)
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)


def test_deidentify_leaves_no_original_id_or_free_text(tmp_path, capsys):
    ids = {"NMO-001": "Smith-John-1960", "NMO-002": "DOE-JANE-0042", "NMO-003": "MRN-7731920",
           "NMO-028": "MRN-8812345"}
    book = _replace_ids(base_book(), ids)
    book["patients"][0].append("notes")
    for r in book["patients"][1:]:
        r[4] = "Seen by Dr Freud"
        r.append("lives at 12 Baker Street")
    for r in book["mri"][1:]:
        r[4] = "Freud-lesion-note"
    path = write_csv_folder(book, tmp_path / "Smith-John-1960-study")
    out = tmp_path / "o"
    assert _run(path, out, "--deidentify") == 0, capsys.readouterr()
    printed = "".join(capsys.readouterr())
    for name, text in _all_text(out).items():
        for secret in [*ids.values(), "Freud", "Baker Street", "Smith-John"]:
            assert secret not in text, (name, secret)
    for secret in ids.values():
        assert secret not in printed
    patients = (out / "patients.csv").read_text().splitlines()
    assert len(patients) == 1 + len(ids)


@pytest.mark.slow
def test_deidentify_with_a_salt_is_reproducible(book_csv, tmp_path, capsys):
    for name in ("a", "b"):
        assert _run(book_csv, tmp_path / name, "--deidentify", "--salt", "s3cret") == 0
    assert (tmp_path / "a" / "patients.csv").read_bytes() == \
        (tmp_path / "b" / "patients.csv").read_bytes()
    assert "s3cret" not in "".join(_all_text(tmp_path / "a").values())
    assert _run(book_csv, tmp_path / "c", "--deidentify") == 0
    assert (tmp_path / "a" / "patients.csv").read_bytes() != \
        (tmp_path / "c" / "patients.csv").read_bytes()


def test_a_non_empty_output_folder_is_never_overwritten(book_csv, tmp_path, capsys):
    out = tmp_path / "o"
    out.mkdir()
    (out / "keep.txt").write_text("precious")
    assert _run(book_csv, out) == 2
    assert (out / "keep.txt").read_text() == "precious"
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
    # --force replaces only a folder edxreview wrote (tests/robustness/test_output_guard.py)
    assert _run(book_csv, out, "--force") == 2
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
    (out / "keep.txt").unlink()
    assert _run(book_csv, out) == 0
    assert _run(book_csv, out, "--force") == 0
    assert (out / "summary.json").exists()


@pytest.mark.slow
def test_input_files_are_never_modified(tmp_path, capsys):
    path = write_xlsx(base_book(), tmp_path / "book.xlsx")
    folder = write_csv_folder(base_book(), tmp_path / "book")
    before = tree_hashes(path) | tree_hashes(folder)
    assert _run(path, tmp_path / "o1") == 0
    assert _run(folder, tmp_path / "o2") == 0
    assert main(["validate", str(path)]) == 0
    assert tree_hashes(path) | tree_hashes(folder) == before


def test_a_failure_while_writing_leaves_nothing(book_csv, tmp_path, monkeypatch):
    from edxreview import _pipeline
    from edxreview._errors import EdxreviewError

    result = _pipeline.review_study(book_csv)

    def broken(tmp, r):
        (tmp / "half.html").write_text("<html>")
        raise EdxreviewError("disk full")

    with pytest.raises(EdxreviewError):
        _pipeline.write_outputs(result, tmp_path / "o", extra=broken)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["semicolon", "bom", "utf16", "crlf"])
def test_csv_dialects_give_the_same_results(variant, book_csv, tmp_path, capsys):
    book = base_book()
    if variant == "semicolon":
        for rows in book.values():
            for r in rows[1:]:
                r[:] = [c.replace(".", ",") if c.replace(".", "").isdigit() else c for c in r]
        path = write_csv_folder(book, tmp_path / "book", delimiter=";")
    elif variant == "bom":
        path = write_csv_folder(book, tmp_path / "book", encoding="utf-8-sig")
    elif variant == "utf16":
        path = write_csv_folder(book, tmp_path / "book", encoding="utf-16")
    else:
        path = write_csv_folder(book, tmp_path / "book")
        for f in path.iterdir():
            f.write_bytes(f.read_bytes().replace(b"\n", b"\r\n"))
    assert _run(book_csv, tmp_path / "ref") == 0
    assert _run(path, tmp_path / "o") == 0, capsys.readouterr()
    for name in ("patients.csv", "nerves.csv", "muscles.csv", "values.csv"):
        assert (tmp_path / "o" / name).read_bytes() == (tmp_path / "ref" / name).read_bytes()


@pytest.mark.slow
def test_xlsx_and_csv_forms_agree(book_csv, tmp_path, capsys):
    path = write_xlsx(base_book(), tmp_path / "book.xlsx")
    assert _run(book_csv, tmp_path / "a") == 0
    assert _run(path, tmp_path / "b") == 0
    for name in ("patients.csv", "nerves.csv", "muscles.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_messages_name_only_the_row_concerned(tmp_path, capsys):
    book = base_book()
    book["emg"][3][0] = "NMO-999"
    path = write_csv_folder(book, tmp_path / "book")
    assert _run(path, tmp_path / "o") == 1
    text = "".join(capsys.readouterr())
    assert "NMO-999" in text
    for other in ("NMO-001", "NMO-002", "NMO-003", "NMO-028"):
        assert other not in text


@pytest.mark.slow
def test_sensory_amplitude_in_mv_is_a_warning(tmp_path, capsys):
    book = base_book()
    i = book["ncs_sensory"][0].index("amplitude_uv")
    book["ncs_sensory"][2][i] = "0.035"
    path = write_csv_folder(book, tmp_path / "book")
    assert _run(path, tmp_path / "o") == 0
    warnings = (tmp_path / "o" / "warnings.csv").read_text()
    assert "ncs_sensory,3,amplitude_uv,0.035" in warnings
    assert "mV" in warnings
