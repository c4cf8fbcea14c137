"""The template a user starts from validates and runs as it is."""

from openpyxl import load_workbook

from edxreview.cli import main
from edxreview.io._schema import SHEETS


def test_template_has_every_sheet_with_dropdowns(tmp_path):
    path = tmp_path / "study.xlsx"
    assert main(["template", str(path)]) == 0
    book = load_workbook(path)
    for name, sheet in SHEETS.items():
        ws = book[name]
        assert [c.value for c in ws[1]] == [c.name for c in sheet.columns]
    assert book["emg"].data_validations.dataValidation, "drop-down lists are missing"
    assert main(["template", str(path)]) == 2  # never overwritten without --force


def test_template_validates_and_runs(tmp_path, capsys):
    path = tmp_path / "study.xlsx"
    main(["template", str(path)])
    assert main(["validate", str(path)]) == 0
    assert "unknown sheet" not in capsys.readouterr().out
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "-q"]) == 0
    assert (tmp_path / "out" / "patients.csv").is_file()


def test_template_into_a_missing_folder_is_a_clear_error(tmp_path, capsys):
    assert main(["template", str(tmp_path / "no" / "such" / "study.xlsx")]) == 2
    err = capsys.readouterr().err
    assert "cannot read or write" in err and "Traceback" not in err
