"""A small valid study workbook, writers for its CSV-folder and xlsx forms, and the corpus of
malformed variants: each case applies one mutation and says where the problem must be reported.

Row numbers are those a user sees: header = row 1, first data row = row 2.
"""

from __future__ import annotations

import csv
import hashlib
import os
import struct
import zipfile
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


def _both(id: str, sheet: str | None, csv_build: Callable[[Book, Path], Path],
          xlsx_build: Callable[[Book, Path], Path], **kw) -> list[Case]:
    """The same case built differently as a CSV folder and as a workbook."""
    return [Case(id, sheet, build=csv_build, forms=("csv",), **kw),
            Case(id, sheet, build=xlsx_build, forms=("xlsx",), **kw)]


def _second_sheet(title: str, of: str) -> tuple[Callable, Callable]:
    """Builds (CSV, xlsx): a further sheet named ``title`` that normalises to sheet ``of``."""

    def rows(book: Book) -> list[list[str]]:
        return [list(r) for r in book[of][:2]]

    def csv_build(book: Book, tmp: Path) -> Path:
        folder = write_csv_folder(book, tmp / "book")
        write_csv_folder({title: rows(book)}, folder)
        return folder

    def xlsx_build(book: Book, tmp: Path) -> Path:
        return write_xlsx({**book, title: rows(book)}, tmp / "book.xlsx")

    return csv_build, xlsx_build


def _special_sheet_file(name: str, make: Callable[[Path], None]) -> Callable[[Book, Path], Path]:
    """Build: CSV folder in which ``name`` is replaced by ``make(path)`` (a link, folder, pipe)."""

    def build(book: Book, tmp: Path) -> Path:
        folder = write_csv_folder(book, tmp / "book")
        (folder / name).unlink()
        make(folder / name)
        return folder

    return build


def _special_xlsx(make: Callable[[Path], None]) -> Callable[[Book, Path], Path]:
    def build(book: Book, tmp: Path) -> Path:
        make(tmp / "book.xlsx")
        return tmp / "book.xlsx"

    return build


def _dangling_link(path: Path) -> None:
    os.symlink(path.with_name("gone.csv"), path)


def _link_loop(path: Path) -> None:
    os.symlink(path.name, path)


def _folder(path: Path) -> None:
    path.mkdir()
    (path / "inside.csv").write_text("patient_id\n")


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _header_only(book: Book) -> Book:
    return {sheet: rows[:1] for sheet, rows in book.items()}


def _long_cell_csv(book: Book, tmp: Path) -> Path:
    return write_csv_folder(set_cell("patients", 3, "diagnosis", "a" * 40_000)(book), tmp / "book")


def _long_cell_xlsx(book: Book, tmp: Path) -> Path:
    # Excel and openpyxl cut a cell at 32,767 characters when they write it; other programs
    # do not
    path = write_xlsx(set_cell("patients", 3, "diagnosis", "LONG-CELL")(book), tmp / "book.xlsx")
    return rewrite_xlsx(path, sheet_member(book, "patients"),
                        lambda xml: xml.replace(b"LONG-CELL", b"a" * 40_000))


def _extra_columns(sheet: str, n: int) -> Callable[[Book], Book]:
    def mutate(book: Book) -> Book:
        rows = book[sheet]
        rows[0] = rows[0] + [f"extra_{i}" for i in range(1, n + 1)]
        for r in rows[1:]:
            r += ["1"] * n
        return book

    return mutate


def _far_cell(wb) -> None:
    wb["emg"]["XFD1048576"] = "x"


def rewrite_xlsx(path: Path, member: str, edit: Callable[[bytes], bytes]) -> Path:
    """Rewrite one member of an .xlsx archive in place (as another program might write it)."""
    with zipfile.ZipFile(path) as archive:
        items = [(info, archive.read(info.filename)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in items:
            if info.filename == member:
                edited = edit(data)
                assert edited != data, f"the edit changed nothing in {member}"
                data = edited
            archive.writestr(info, data)
    return path


def sheet_member(book: Book, sheet: str) -> str:
    """The archive member that holds ``sheet`` in a workbook written by :func:`write_xlsx`."""
    return f"xl/worksheets/sheet{list(book).index(sheet) + 1}.xml"


def _row_past_excel_limit(book: Book, tmp: Path) -> Path:
    path = write_xlsx(book, tmp / "book.xlsx")
    extra = b'<row r="1048577"><c r="A1048577" t="inlineStr"><is><t>NMO-001</t></is></c></row>'
    return rewrite_xlsx(path, sheet_member(book, "emg"),
                        lambda xml: xml.replace(b"</sheetData>", extra + b"</sheetData>"))


def declare_size(path: Path, member: str, size: int) -> Path:
    """Patch the uncompressed size the archive declares for ``member`` (both headers)."""
    data = bytearray(path.read_bytes())
    name = member.encode()
    for signature, size_at, name_len_at, name_at in ((b"PK\x03\x04", 22, 26, 30),
                                                     (b"PK\x01\x02", 24, 28, 46)):
        start = 0
        while (start := data.find(signature, start)) >= 0:
            n = struct.unpack_from("<H", data, start + name_len_at)[0]
            if bytes(data[start + name_at:start + name_at + n]) == name:
                struct.pack_into("<I", data, start + size_at, size)
            start += 4
    path.write_bytes(bytes(data))
    return path


def _with_member(name: str, data: bytes, declared: int | None = None
                 ) -> Callable[[Book, Path], Path]:
    """Build: the workbook with one more archive member, optionally declaring another size."""

    def build(book: Book, tmp: Path) -> Path:
        path = write_xlsx(book, tmp / "book.xlsx")
        with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(name, data)
        return declare_size(path, name, declared) if declared is not None else path

    return build


def _sheet_inflating_past_its_size(book: Book, tmp: Path) -> Path:
    """A sheet member that decompresses to far more than the size the archive declares."""
    path = write_xlsx(book, tmp / "book.xlsx")
    member = sheet_member(book, "emg")
    padding = b"<!--" + b" " * (8 * 1024**2) + b"-->"
    rewrite_xlsx(path, member, lambda xml: xml.replace(b"<sheetData>", padding + b"<sheetData>"))
    return declare_size(path, member, 4096)


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
         mutate=extra_field("ncs_motor", 4, "oops")),
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
    # hostile and odd files: every one a located error, never a silent change of the data
    *_both("two sheets 'emg' and 'EMG '", "emg", *_second_sheet("EMG ", "emg"),
           also=("'EMG ", "keep one")),
    *_both("two sheets 'ncs_motor' and ' ncs_motor'", "ncs_motor",
           *_second_sheet(" ncs_motor", "ncs_motor"), also=("' ncs_motor", "keep one")),
    Case("sheet file is a dangling link", "mri", value="mri.csv",
         build=_special_sheet_file("mri.csv", _dangling_link), forms=("csv",),
         also=("does not exist",)),
    Case("sheet file is a link loop", "mri", value="mri.csv",
         build=_special_sheet_file("mri.csv", _link_loop), forms=("csv",), also=("loop",)),
    Case("sheet file is a folder", "mri", value="mri.csv",
         build=_special_sheet_file("mri.csv", _folder), forms=("csv",), also=("a folder",)),
    Case("sheet file is a named pipe", "patients", value="patients.csv",
         build=_special_sheet_file("patients.csv", _fifo), forms=("csv",), also=("pipe",)),
    Case("workbook is a named pipe", None, build=_special_xlsx(_fifo), forms=("xlsx",),
         also=("pipe",)),
    Case("workbook is a dangling link", None, build=_special_xlsx(_dangling_link),
         forms=("xlsx",), also=("does not exist",)),
    Case("workbook is a link loop", None, build=_special_xlsx(_link_loop), forms=("xlsx",),
         also=("loop",)),
    Case("every sheet header-only", "patients", mutate=_header_only,
         also=("no patients", "header but no rows")),
    Case("thousands separator in distance", "ncs_motor", 3, "distance_mm", "1,070",
         mutate=set_cell("ncs_motor", 3, "distance_mm", "1,070"), also=("1070", "1.07")),
    *_both("cell of 40,000 characters", "patients", _long_cell_csv, _long_cell_xlsx, row=3,
           column="diagnosis", value="a" * 60 + "…", also=("MAX_CELL_CHARS",)),
    Case("300 columns", "emg", mutate=_extra_columns("emg", 300), also=("MAX_COLUMNS",)),
    Case("a cell at XFD1048576", "emg", 1048576, "column 16384", "x",
         build=_xlsx_hook(_far_cell), forms=("xlsx",), also=("MAX_COLUMNS",)),
    Case("a row past Excel's last row", "emg", 1048577, build=_row_past_excel_limit,
         forms=("xlsx",), also=("XLSX_MAX_ROWS",)),
    Case("archive declaring 300 MiB", None, value="book.xlsx",
         build=_with_member("xl/media/image1.bin", b"0" * 1000, declared=300 * 1024**2),
         forms=("xlsx",), also=("MAX_XLSX_UNCOMPRESSED_BYTES",)),
    Case("zip bomb member", None, value="book.xlsx",
         build=_with_member("xl/media/image1.bin", bytes(4 * 1024**2)), forms=("xlsx",),
         also=("MAX_COMPRESSION_RATIO", "zip bomb")),
    Case("sheet inflating past its declared size", None, value="book.xlsx",
         build=_sheet_inflating_past_its_size, forms=("xlsx",), also=("damaged",)),
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


def tree_state(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root``, links not followed (a link is recorded as its
    target path), so that nothing is moved, deleted or changed without this changing."""
    out = {}
    for dirpath, dirs, files in os.walk(root):
        for name in files + [d for d in dirs if os.path.islink(os.path.join(dirpath, d))]:
            p = Path(dirpath, name)
            out[str(p)] = os.readlink(p) if p.is_symlink() else tree_hashes(p)[str(p)]
    return out
