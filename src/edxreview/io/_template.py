"""An empty study workbook with headers, drop-down validation and a worked example row."""

from __future__ import annotations

from pathlib import Path

from .._check import check_type
from .._errors import InvalidParameterError
from ._schema import SHEETS

_EXAMPLE = {
    "patients": ["P001", "F", 42, 162, "NMOSD", "positive", "negative", 36, 3.5, "yes", "no", "no"],
    "ncs_motor": ["P001", "median", "R", "wrist", "abductor_pollicis_brevis", 3.6, 8.2, "", 70, 5.1, 28, 33],
    "ncs_sensory": ["P001", "median", "R", "wrist", "digit_2", 3.1, 32, 56, 130, 33, "antidromic"],
    "f_waves": ["P001", "median", "R", 26.4, 85],
    "blink_reflex": ["P001", "R", 10.6, 30.2, 31.0],
    "emg": ["P001", "biceps_brachii", "R", "normal", "0", "0", "0", "normal", "normal", "normal",
            "normal", "", "", ""],
    "mri": ["P001", "spinal_cord", "C3", "C6", "central_gray", "yes"],
}

_LISTS = {
    "sex": "F,M", "side": "L,R", "side_optional": "L,R", "bool": "yes,no",
    "antibody": "positive,negative,unknown", "grade": "0,±,1+,2+,3+,4+",
    "fasc": "0,±,1+,2+,3+,4+,present,absent", "region": "brain,brainstem,spinal_cord",
}


def write_template(path: str | Path) -> Path:
    """Write an empty study workbook.

    Every sheet of the specification with its headers, one worked example row (patient
    ``P001``), drop-down lists for columns with a fixed set of values, and a ``README`` sheet
    explaining the columns. Delete the example rows before entering real data.

    Parameters
    ----------
    path : str or Path
        Where to write the ``.xlsx`` file (its folder must exist).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    InvalidParameterError
        ``path`` does not end in ``.xlsx``.
    OSError
        The file cannot be written (missing folder, permissions).

    Examples
    --------
    >>> import edxreview
    >>> path = edxreview.io.write_template("my-study.xlsx")
    >>> edxreview.io.read_workbook(path).sheets["patients"]["patient_id"].tolist()
    ['P001']
    """
    check_type("path", path, (str, Path), "the path of the .xlsx file to write")
    if Path(path).suffix.lower() != ".xlsx":
        raise InvalidParameterError(
            f"Invalid value for the 'path' parameter: {str(path)!r}. The template is an Excel "
            "workbook: give a path ending in .xlsx.")
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    path = Path(path)
    book = Workbook()
    readme = book.active
    readme.title = "README"
    readme.append(["edxreview study workbook"])
    readme.append(["One row per patient in 'patients'; one row per stimulation site, response, "
                   "muscle or lesion in the other sheets, keyed by patient_id."])
    readme.append(["Write NR in a latency or amplitude cell for no response. Delete the example "
                   "rows (patient P001) before entering data."])
    readme.append(["Numbers: no units and no thousands separators. A comma is read as a decimal "
                   "comma (4,5 = 4.5), but a comma before exactly three digits (1,070) is refused "
                   "as ambiguous: write 1070 or 1.07."])
    readme.append([])
    readme.append(["sheet", "column", "type", "required", "allowed values"])
    for sheet in SHEETS.values():
        for col in sheet.columns:
            allowed = ", ".join(col.allowed) if col.allowed else _LISTS.get(col.kind, "")
            readme.append([sheet.name, col.name, col.kind, "yes" if col.header_required else "",
                           allowed])
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for sheet in SHEETS.values():
        ws = book.create_sheet(sheet.name)
        ws.append([c.name for c in sheet.columns])
        for cell in ws[1]:
            cell.font = bold
            cell.fill = fill
        ws.append(_EXAMPLE[sheet.name])
        ws.freeze_panes = "A2"
        for i, col in enumerate(sheet.columns, start=1):
            letter = get_column_letter(i)
            ws.column_dimensions[letter].width = max(12, len(col.name) + 2)
            options = ",".join(col.allowed) if col.allowed else _LISTS.get(col.kind)
            if options:
                dv = DataValidation(type="list", formula1=f'"{options}"', allow_blank=True,
                                    showErrorMessage=False)
                dv.prompt = f"{col.name}: {options}"
                ws.add_data_validation(dv)
                dv.add(f"{letter}2:{letter}5000")
    book.save(path)
    return path
