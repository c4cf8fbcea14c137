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


def test_names_sheet_lists_every_accepted_name(tmp_path):
    from edxreview.knowledge import load_anatomy

    path = tmp_path / "study.xlsx"
    main(["template", str(path)])
    book = load_workbook(path)
    names = book["names"]
    cells = {str(c.value) for row in names.iter_rows() for c in row if c.value is not None}
    anatomy = load_anatomy()
    assert set(anatomy.muscles.index) <= cells and set(anatomy.nerves.index) <= cells
    assert set(anatomy.sites["site"]) <= cells
    assert any("APB" in c for c in cells)                 # aliases are listed too
    assert any("拇短展肌" in c for c in cells)            # and the Chinese names
    assert book["lists"].sheet_state == "hidden"


def test_name_columns_have_dropdowns_that_refuse_other_values(tmp_path):
    path = tmp_path / "study.xlsx"
    main(["template", str(path)])
    book = load_workbook(path)
    for sheet, column, source in [("ncs_motor", "B", "accepted_nerve"),
                                  ("ncs_motor", "D", "accepted_site"),
                                  ("ncs_motor", "E", "accepted_muscle"),
                                  ("emg", "B", "accepted_muscle"),
                                  ("f_waves", "B", "accepted_nerve"),
                                  ("emg", "E", None)]:
        rules = [dv for dv in book[sheet].data_validations.dataValidation
                 if any(str(r).startswith(f"{column}2:") for r in dv.sqref.ranges)]
        assert len(rules) == 1, (sheet, column)
        dv = rules[0]
        assert dv.type == "list" and dv.showErrorMessage and dv.errorStyle in (None, "stop")
        if source:
            assert dv.formula1 == source
    defined = book.defined_names
    lists = book["lists"]
    muscles = {c.value for c in lists["B"][1:]}
    assert {"abductor_pollicis_brevis", "Abductor pollicis brevis", "APB", "拇短展肌"} <= muscles
    assert defined["accepted_muscle"].attr_text == f"lists!$B$2:$B${len(muscles) + 1}"


def test_a_workbook_filled_from_the_names_sheet_validates(tmp_path):
    """Aliases the names sheet lists ('APB', 'ulnar nerve', 'AE') are read as their names."""
    path = tmp_path / "study.xlsx"
    main(["template", str(path)])
    book = load_workbook(path)
    motor = book["ncs_motor"]
    motor.append(["P001", "ulnar nerve", "R", "wrist", "ADM", 2.9, 9.8, "", 70, "", "", 33])
    motor.append(["P001", "median nerve", "R", "AE", "APB", 7.4, 8.0, 55, 230, "", "", 33])
    book.save(path)
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "-q"]) == 0
    import pandas as pd

    values = pd.read_csv(tmp_path / "out" / "values.csv")
    motor_rows = values[values["study"] == "motor"]
    assert {"ulnar", "median"} <= set(motor_rows["nerve"])
    assert "above_elbow" in set(motor_rows["site"])


def test_force_replaces_an_empty_template(tmp_path):
    path = tmp_path / "study.xlsx"
    assert main(["template", str(path)]) == 0
    assert main(["template", str(path), "--force"]) == 0   # its own example rows are not data


def test_force_never_replaces_a_filled_study(tmp_path, capsys):
    """--force over a study workbook would wipe the study: refused, the file untouched."""
    path = tmp_path / "study.xlsx"
    main(["template", str(path)])
    book = load_workbook(path)
    book["patients"].append(["P002", "M", 50])
    book["emg"].append(["P002", "deltoid", "L"])
    book.create_sheet("my notes").append(["anything"])
    book.save(path)
    before = path.read_bytes()
    capsys.readouterr()
    assert main(["template", str(path), "--force"]) == 2
    err = capsys.readouterr().err
    assert "3 row(s) of data" in err and repr(str(path)) in err.replace("\n", "")
    assert "remove the file" in err and "Traceback" not in err
    assert path.read_bytes() == before


def test_force_never_replaces_an_edited_example_row(tmp_path, capsys):
    path = tmp_path / "study.xlsx"
    main(["template", str(path)])
    book = load_workbook(path)
    book["patients"]["C2"] = "M"          # the example patient's sex changed: the user's data
    book.save(path)
    assert main(["template", str(path), "--force"]) == 2
    assert "1 row(s) of data ('patients' 1)" in capsys.readouterr().err.replace("\n", "")


def test_force_never_replaces_a_file_it_cannot_read(tmp_path, capsys):
    path = tmp_path / "study.xlsx"
    path.write_text("not a workbook\n")
    assert main(["template", str(path), "--force"]) == 2
    assert "cannot be read as a workbook" in capsys.readouterr().err
    assert path.read_text() == "not a workbook\n"


# -- the Python function keeps the command's promise -----------------------------------------

import pytest  # noqa: E402

from edxreview import InvalidParameterError, OutputExistsError, OutputPathError  # noqa: E402
from edxreview.io import write_template  # noqa: E402


def _filled(path):
    write_template(path)
    book = load_workbook(path)
    book["patients"].append(["P002", "M", 50])
    book["emg"].append(["P002", "deltoid", "L"])
    book.create_sheet("my notes").append(["anything"])
    book.save(path)
    return path


def test_write_template_never_overwrites_without_force(tmp_path):
    path = tmp_path / "study.xlsx"
    write_template(path)
    before = path.read_bytes()
    with pytest.raises(OutputExistsError, match=r"study\.xlsx' exists, an empty template .*"
                                                r"pass force=True to replace it"):
        write_template(path)
    assert path.read_bytes() == before
    assert write_template(path, force=True) == path    # its example rows are not data
    assert sorted(p.name for p in tmp_path.iterdir()) == ["study.xlsx"]


@pytest.mark.parametrize("force", [False, True], ids=["without force", "with force"])
def test_write_template_never_replaces_a_study(force, tmp_path):
    path = _filled(tmp_path / "study.xlsx")
    before = path.read_bytes()
    error = OutputPathError if force else OutputExistsError
    with pytest.raises(error, match=r"holds 3 row\(s\) of data \('patients' 1, 'emg' 1, "
                                    r"'my notes' 1\).*never a study") as caught:
        write_template(str(path), force=force)
    assert repr(str(path)) in str(caught.value)
    assert force or isinstance(caught.value, FileExistsError)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["study.xlsx"]


@pytest.mark.parametrize("force", [False, True], ids=["without force", "with force"])
def test_write_template_never_replaces_a_file_it_cannot_read(force, tmp_path):
    path = tmp_path / "study.xlsx"
    path.write_text("my notes, not a workbook\n")
    with pytest.raises(OutputPathError, match="cannot be read as a workbook"):
        write_template(path, force=force)
    assert path.read_text() == "my notes, not a workbook\n"


def test_write_template_never_replaces_a_folder(tmp_path):
    (tmp_path / "study.xlsx").mkdir()
    with pytest.raises(OutputPathError, match=r"is a folder; .* even with force=True"):
        write_template(tmp_path / "study.xlsx", force=True)
    assert (tmp_path / "study.xlsx").is_dir()


def test_write_template_replaces_a_link_never_what_it_leads_to(tmp_path):
    study = _filled(tmp_path / "real.xlsx")
    before = study.read_bytes()
    link = tmp_path / "study.xlsx"
    link.symlink_to(study)
    with pytest.raises(OutputExistsError, match="a symbolic link"):
        write_template(link)
    write_template(link, force=True)
    assert not link.is_symlink() and study.read_bytes() == before


def test_write_template_force_must_be_a_bool(tmp_path):
    with pytest.raises(InvalidParameterError, match="'force'"):
        write_template(tmp_path / "study.xlsx", force="yes")
    assert list(tmp_path.iterdir()) == []


def test_the_command_and_the_function_refuse_in_the_same_words(tmp_path, capsys):
    """One check for both: the command's message is the function's, --force for force=True."""
    path = _filled(tmp_path / "study.xlsx")
    with pytest.raises(OutputPathError) as caught:
        write_template(path, force=True)
    capsys.readouterr()
    assert main(["template", str(path), "--force"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert " ".join(str(caught.value).replace("force=True", "--force").split()) in err

