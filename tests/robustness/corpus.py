"""A small valid study workbook, writers for its CSV-folder and xlsx forms, and the corpus of
malformed variants: each case applies one mutation and says where the problem must be reported.

Row numbers are those a user sees: header = row 1, first data row = row 2.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import edxreview

Book = dict[str, list[list[str]]]

#: patients of the demonstration cohort kept in the small workbook (NMO-028 has blink reflexes)
BASE_IDS = ("NMO-001", "NMO-002", "NMO-003", "NMO-028")


def base_book() -> Book:
    """Sheets of the small valid workbook: header row + data rows, all text."""
    book: Book = {}
    for path in sorted(edxreview.demo_path().glob("*.csv")):
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
        book[path.stem] = [rows[0]] + [r for r in rows[1:] if r and r[0] in BASE_IDS]
    return book


def _number(text: str):
    try:
        value = float(text)
    except ValueError:
        return text
    if value != value or value in (float("inf"), float("-inf")):
        return text
    return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() \
        else value


def write_csv_folder(book: Book, folder: Path, encoding: str = "utf-8", delimiter: str = ",") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for sheet, rows in book.items():
        with open(folder / f"{sheet}.csv", "w", newline="", encoding=encoding) as fh:
            csv.writer(fh, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return folder


def write_xlsx(book: Book, path: Path, cell_hook: Callable | None = None) -> Path:
    """Write the book as .xlsx, numbers as numbers; ``cell_hook(ws)`` may change cells after."""
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for sheet, rows in book.items():
        ws = wb.create_sheet(sheet)
        for r in rows:
            ws.append([_number(c) if i else c for i, c in enumerate(r)])
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    cell.data_type = "s"  # text, not a formula
    if cell_hook is not None:
        cell_hook(wb)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def col(book: Book, sheet: str, name: str) -> int:
    return book[sheet][0].index(name)


def set_cell(sheet: str, row: int, column: str, value: str) -> Callable[[Book], Book]:
    """Mutation: set the cell at spreadsheet ``row`` (2 = first data row) of ``column``."""

    def mutate(book: Book) -> Book:
        book[sheet][row - 1][col(book, sheet, column)] = value
        return book

    return mutate


def drop_sheet(*sheets: str) -> Callable[[Book], Book]:
    def mutate(book: Book) -> Book:
        for s in sheets:
            del book[s]
        return book

    return mutate


def drop_column(sheet: str, column: str) -> Callable[[Book], Book]:
    def mutate(book: Book) -> Book:
        i = col(book, sheet, column)
        book[sheet] = [r[:i] + r[i + 1:] for r in book[sheet]]
        return book

    return mutate


def rename_column(sheet: str, column: str, new: str) -> Callable[[Book], Book]:
    def mutate(book: Book) -> Book:
        book[sheet][0][col(book, sheet, column)] = new
        return book

    return mutate


def title_row(sheet: str, title: str) -> Callable[[Book], Book]:
    def mutate(book: Book) -> Book:
        width = len(book[sheet][0])
        book[sheet].insert(0, [title] + [""] * (width - 1))
        return book

    return mutate


def extra_field(sheet: str, row: int, value: str) -> Callable[[Book], Book]:
    def mutate(book: Book) -> Book:
        book[sheet][row - 1] = book[sheet][row - 1] + [value]
        return book

    return mutate


def compose(*mutations: Callable[[Book], Book]) -> Callable[[Book], Book]:
    def mutate(book: Book) -> Book:
        for m in mutations:
            book = m(book)
        return book

    return mutate


@dataclass
class Case:
    """One malformed input and where its problem must be reported."""

    id: str
    sheet: str | None
    row: int | None = None
    column: str | None = None
    value: str | None = None
    mutate: Callable[[Book], Book] | None = None
    #: writes the whole input itself: (base book, tmp folder) -> input path
    build: Callable[[Book, Path], Path] | None = None
    forms: tuple[str, ...] = ("csv", "xlsx")
    #: text that must also appear (e.g. the fix)
    also: tuple[str, ...] = field(default=())

    def write(self, form: str, tmp: Path) -> Path:
        book = base_book()
        if self.build is not None:
            return self.build(book, tmp)
        book = self.mutate(book) if self.mutate else book
        if form == "csv":
            return write_csv_folder(book, tmp / "book")
        return write_xlsx(book, tmp / "book.xlsx")


def _csv_with(sheet: str, encoded: Callable[[str], bytes]) -> Callable[[Book, Path], Path]:
    """Build: CSV folder in which ``sheet`` is written with custom bytes."""

    def build(book: Book, tmp: Path) -> Path:
        folder = write_csv_folder(book, tmp / "book")
        text = (folder / f"{sheet}.csv").read_text(encoding="utf-8")
        (folder / f"{sheet}.csv").write_bytes(encoded(text))
        return folder

    return build


def _with_diagnosis(text: str, diagnosis: str) -> str:
    lines = text.split("\n")
    cells = lines[2].split(",")
    cells[4] = diagnosis
    lines[2] = ",".join(cells)
    return "\n".join(lines)


def _xlsx_hook(hook: Callable, mutate: Callable[[Book], Book] | None = None
               ) -> Callable[[Book, Path], Path]:
    def build(book: Book, tmp: Path) -> Path:
        return write_xlsx(mutate(book) if mutate else book, tmp / "book.xlsx", hook)

    return build


def _formula(wb) -> None:
    wb["emg"]["E3"] = "=1+1"


def _date_cell(wb) -> None:
    import datetime

    wb["patients"]["C4"] = datetime.date(2023, 5, 17)


def _merged_header(wb) -> None:
    ws = wb["ncs_motor"]
    ws.insert_rows(1)
    ws["A1"] = "Motor nerve conduction"
    ws.merge_cells("A1:I1")


def _file(name: str, data: bytes) -> Callable[[Book, Path], Path]:
    def build(book: Book, tmp: Path) -> Path:
        path = tmp / name
        path.write_bytes(data)
        return path

    return build


def _truncated_xlsx(book: Book, tmp: Path) -> Path:
    path = write_xlsx(book, tmp / "full.xlsx")
    data = path.read_bytes()
    path.unlink()
    out = tmp / "book.xlsx"
    out.write_bytes(data[: len(data) // 2])
    return out


def _empty_csv(book: Book, tmp: Path) -> Path:
    folder = write_csv_folder(book, tmp / "book")
    (folder / "patients.csv").write_bytes(b"")
    return folder


CASES: list[Case] = [
    # missing sheets and columns
    Case("missing sheet patients", "patients", mutate=drop_sheet("patients"), also=("missing",)),
    Case("missing sheet emg", "emg", mutate=drop_sheet("emg"), also=("missing",)),
    Case("no NCS sheet", "ncs_motor", mutate=drop_sheet("ncs_motor", "ncs_sensory"),
         also=("ncs_sensory",)),
    Case("missing column patient_id", "emg", 1, "patient_id",
         mutate=drop_column("emg", "patient_id")),
    Case("missing column latency", "ncs_motor", 1, "latency_ms",
         mutate=drop_column("ncs_motor", "latency_ms")),
    Case("misspelt column amplitude", "ncs_sensory", 1, "amplitude_uv",
         mutate=rename_column("ncs_sensory", "amplitude_uv", "amplitude_v"), also=("rename",)),
    Case("missing column fibs", "emg", 1, "fibs", mutate=drop_column("emg", "fibs")),
    Case("duplicate column", "emg", 1, "psw", "psw", mutate=rename_column("emg", "fibs", "psw")),
    # wrong types
    Case("age as words", "patients", 3, "age_years", "forty",
         mutate=set_cell("patients", 3, "age_years", "forty")),
    Case("latency with unit", "ncs_motor", 4, "latency_ms", "3.6 ms",
         mutate=set_cell("ncs_motor", 4, "latency_ms", "3.6 ms")),
    Case("height as words", "patients", 2, "height_cm", "tall",
         mutate=set_cell("patients", 2, "height_cm", "tall")),
    Case("persistence as words", "f_waves", 3, "persistence_pct", "most",
         mutate=set_cell("f_waves", 3, "persistence_pct", "most")),
    Case("blank required grade", "emg", 5, "fibs", mutate=set_cell("emg", 5, "fibs", ""),
         also=("required",)),
    Case("blank patient id", "ncs_sensory", 3, "patient_id",
         mutate=set_cell("ncs_sensory", 3, "patient_id", ""), also=("required",)),
    Case("boolean maybe", "patients", 2, "weakness", "maybe",
         mutate=set_cell("patients", 2, "weakness", "maybe")),
    Case("antibody unknown word", "patients", 4, "aqp4_igg", "weak",
         mutate=set_cell("patients", 4, "aqp4_igg", "weak")),
    # unknown names and values
    Case("unknown nerve", "ncs_motor", 2, "nerve", "medain",
         mutate=set_cell("ncs_motor", 2, "nerve", "medain"), also=("did you mean",)),
    Case("unknown muscle", "emg", 3, "muscle", "bicepz femorus",
         mutate=set_cell("emg", 3, "muscle", "bicepz femorus")),
    Case("unknown sex", "patients", 3, "sex", "X", mutate=set_cell("patients", 3, "sex", "X")),
    Case("unknown side", "ncs_sensory", 2, "side", "middle",
         mutate=set_cell("ncs_sensory", 2, "side", "middle")),
    Case("unknown region", "mri", 2, "region", "liver",
         mutate=set_cell("mri", 2, "region", "liver")),
    Case("unknown recruitment", "emg", 2, "recruitment", "plenty",
         mutate=set_cell("emg", 2, "recruitment", "plenty")),
    Case("unknown fasciculations", "emg", 4, "fasciculations", "lots",
         mutate=set_cell("emg", 4, "fasciculations", "lots")),
    # identity
    Case("duplicate patient", "patients", 3, "patient_id", "NMO-001",
         mutate=set_cell("patients", 3, "patient_id", "NMO-001")),
    Case("emg row for unknown patient", "emg", 4, "patient_id", "NMO-999",
         mutate=set_cell("emg", 4, "patient_id", "NMO-999")),
    Case("motor row for unknown patient", "ncs_motor", 3, "patient_id", "XYZ-1",
         mutate=set_cell("ncs_motor", 3, "patient_id", "XYZ-1")),
    # NR where it cannot be
    Case("NR in velocity", "ncs_motor", 3, "velocity_m_s", "NR",
         mutate=set_cell("ncs_motor", 3, "velocity_m_s", "NR")),
    Case("NR in age", "patients", 2, "age_years", "nr", mutate=set_cell("patients", 2, "age_years", "nr")),
    Case("NR in persistence", "f_waves", 2, "persistence_pct", "NR",
         mutate=set_cell("f_waves", 2, "persistence_pct", "NR")),
    Case("NR in fibs", "emg", 2, "fibs", "NR", mutate=set_cell("emg", 2, "fibs", "NR")),
    # impossible values
    Case("negative latency", "ncs_motor", 2, "latency_ms", "-3.2",
         mutate=set_cell("ncs_motor", 2, "latency_ms", "-3.2")),
    Case("amplitude 1e6", "ncs_motor", 5, "amplitude_mv", "1e6",
         mutate=set_cell("ncs_motor", 5, "amplitude_mv", "1e6")),
    Case("negative SNAP", "ncs_sensory", 4, "amplitude_uv", "-20",
         mutate=set_cell("ncs_sensory", 4, "amplitude_uv", "-20")),
    Case("grade 5+", "emg", 3, "fibs", "5+", mutate=set_cell("emg", 3, "fibs", "5+")),
    Case("level C9", "mri", 3, "level_from", "C9", mutate=set_cell("mri", 3, "level_from", "C9")),
    Case("EDSS 11", "patients", 2, "edss", "11", mutate=set_cell("patients", 2, "edss", "11")),
    Case("age 200", "patients", 4, "age_years", "200",
         mutate=set_cell("patients", 4, "age_years", "200")),
    Case("infinite latency", "blink_reflex", 2, "r1_ms", "inf",
         mutate=set_cell("blink_reflex", 2, "r1_ms", "inf")),
    Case("cord lesion without level", "mri", 3, "level_from",
         mutate=set_cell("mri", 3, "level_from", ""), also=("required",)),
    # layout
    Case("title row above header", "patients", 1, "column 1", "Patient list 2023",
         mutate=title_row("patients", "Patient list 2023"), also=("Delete row 1",)),
    Case("value beyond the last column", "ncs_motor", 4, "column 10", "oops",
         mutate=extra_field("ncs_motor", 4, "oops"), forms=("csv",)),
    # files
    Case("empty CSV file", "patients", 1, value="patients.csv", build=_empty_csv, forms=("csv",),
         also=("empty",)),
    Case("Latin-1 CSV", "patients", 3, "diagnosis", "N\ufffdvrite optique",
         build=_csv_with("patients", lambda t: _with_diagnosis(t, "Névrite optique").encode("latin-1")),
         forms=("csv",), also=("UTF-8", "iconv")),
    Case("GBK CSV", "patients", 3, "diagnosis",
         build=_csv_with("patients", lambda t: _with_diagnosis(t, "视神经脊髓炎").encode("gbk")),
         forms=("csv",), also=("GBK", "iconv")),
    Case("text file named .xlsx", None, value="book.xlsx",
         build=_file("book.xlsx", b"patient_id,sex\nNMO-001,F\n"), forms=("xlsx",),
         also=("not an Excel",)),
    Case("empty .xlsx file", None, value="book.xlsx", build=_file("book.xlsx", b""),
         forms=("xlsx",)),
    Case("corrupt xlsx", None, value="book.xlsx", build=_truncated_xlsx, forms=("xlsx",),
         also=("damaged",)),
    Case("password-protected workbook", None, value="book.xlsx",
         build=_file("book.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 1024),
         forms=("xlsx",), also=("password",)),
    Case("formula cell", "emg", 3, "fibs", "=1+1", build=_xlsx_hook(_formula), forms=("xlsx",),
         also=("formula",)),
    Case("date-typed cell", "patients", 4, "age_years", "2023-05-17",
         build=_xlsx_hook(_date_cell), forms=("xlsx",), also=("date",)),
    Case("merged two-row header", "ncs_motor", 1, "column 1", "Motor nerve conduction",
         build=_xlsx_hook(_merged_header), forms=("xlsx",), also=("Delete row 1",)),
]


def corpus_params():
    """(case, form) pairs for pytest.mark.parametrize, with readable ids."""
    import pytest

    return [pytest.param(case, form, id=f"{case.id} [{form}]")
            for case in CASES for form in case.forms]


def tree_hashes(path: Path) -> dict[str, str]:
    """sha256 of every file under ``path`` (or of ``path`` itself)."""
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}
