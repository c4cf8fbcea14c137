"""``--deidentify``: no planted identifier reaches any byte of any output.

A small study gets a distinctive identifier in every text cell a user can type free text into
(ids, diagnosis, sensory and unknown motor sites, unknown recording muscles, MRI location, extra
columns and their headers, dates, an unknown sheet, the input's own name). The run must succeed
and no output file (every CSV, the report, the figures, the JSON summary, every member of
results.xlsx) may contain any of them. Matching ignores case and punctuation, so a value that
was lower-cased or had its spaces turned into underscores is still found.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from edxreview.cli import main

from .corpus import base_book, col, write_csv_folder, write_xlsx

#: original id → planted identifier (a name and a record number)
PLANTED_IDS = {"NMO-001": "Qzid-Smithers-Waylon", "NMO-002": "MRN-QZ-88213907",
               "NMO-003": "Qzid Burns, Montgomery", "NMO-028": "qzid.flanders@example.org"}
#: dates typed in an extra date column (shifted per patient in the output, never kept)
PLANTED_DATES = ("1961-02-17", "2019-11-03", "1987-07-30", "2020-01-09")


def _planted(kind: str, n: int) -> str:
    """A distinctive identifier-like text, different in every cell it is put in."""
    forms = ["Qz{k}{n} Homer Simpson", "+1 (555) 01{n:02d} Qz{k}", "742 Evergreen Tce Qz{k}{n}",
             "MRN Qz{k}{n:04d}", "Dr Qz{k} Hibbert #{n}"]
    return forms[n % len(forms)].format(k=kind, n=n)


def _planted_book() -> tuple[dict, list[str]]:
    book = base_book()
    secrets: list[str] = list(PLANTED_IDS.values()) + list(PLANTED_IDS)
    for rows in book.values():
        for r in rows[1:]:
            r[0] = PLANTED_IDS.get(r[0], r[0])
    counter = iter(range(10_000))

    def plant(kind: str) -> str:
        text = _planted(kind, next(counter))
        secrets.append(text)
        return text

    # free-text and open-vocabulary cells of the specification
    for r in book["patients"][1:]:
        r[col(book, "patients", "diagnosis")] = plant("diag")
    for r in book["mri"][1:]:
        r[col(book, "mri", "location")] = plant("loc")
    book["ncs_sensory"][0] += ["stim_site", "recording_site"]
    for r in book["ncs_sensory"][1:]:
        r += [plant("sstim"), plant("srec")]
    motor = book["ncs_motor"]
    motor[0].append("recording_site")
    for i, r in enumerate(motor[1:]):
        r.append(plant("mrec") if i % 2 else "APB")
        if i % 3 == 1:
            r[col(book, "ncs_motor", "stim_site")] = plant("mstim")
    # extra columns in every sheet: free text under an identifying header, and dates
    for sheet, rows in book.items():
        header = plant("hdr")
        rows[0] += [header, "visit_date"]
        for i, r in enumerate(rows[1:]):
            date = PLANTED_DATES[i % len(PLANTED_DATES)]
            r += [plant("note"), date if i % 5 else plant("date")]
    secrets += PLANTED_DATES
    # a sheet the specification does not know, named after a patient
    sheet = "Qzsheet Krabappel notes"
    secrets.append(sheet)
    book[sheet] = [["patient_id", "remark"], [PLANTED_IDS["NMO-001"], plant("unk")]]
    return book, secrets


def _needle(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.lower())


def _output_bytes(folder: Path) -> dict[str, bytes]:
    """Every output file's bytes and name; the members of a zip (results.xlsx) each on their own."""
    found: dict[str, bytes] = {}
    for p in sorted(folder.rglob("*")):
        if not p.is_file():
            continue
        data = p.read_bytes()
        found[str(p.relative_to(folder))] = data
        found[f"name of {p.relative_to(folder)}"] = str(p.relative_to(folder)).encode()
        if zipfile.is_zipfile(io.BytesIO(data)):
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                for member in z.namelist():
                    found[f"{p.name}!{member}"] = z.read(member)
    return found


def _leaks(haystacks: dict[str, bytes], secrets: list[str]) -> list[tuple[str, str]]:
    leaks = []
    for name, data in haystacks.items():
        text = _needle(data.decode("utf-8", "replace"))
        leaks += [(name, s) for s in secrets if _needle(s) in text]
    return leaks


@pytest.mark.slow
@pytest.mark.parametrize("form", ["csv", "xlsx"])
def test_no_planted_identifier_in_any_output(form, tmp_path, capsys):
    book, secrets = _planted_book()
    name = "Qzfile Wiggum study"
    secrets.append(name)
    if form == "csv":
        path = write_csv_folder(book, tmp_path / name)
    else:
        path = write_xlsx(book, tmp_path / f"{name}.xlsx")
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--deidentify"]) == 0, capsys.readouterr()
    printed = capsys.readouterr()
    outputs = _output_bytes(out)
    assert {"values.csv", "warnings.csv", "report.html", "results.xlsx"} <= set(outputs)
    outputs["stdout+stderr"] = (printed.out + printed.err).encode()
    assert _leaks(outputs, secrets) == []
    # the review itself is unchanged: the same counts as without --deidentify
    plain = tmp_path / "plain"
    assert main(["run", str(path), "--out", str(plain), "-q"]) == 0
    measures = [json.loads((o / "summary.json").read_text())["measures"] for o in (out, plain)]
    assert measures[0] == measures[1]
    # and the byte search is not blind: without --deidentify the planted text is found
    leaked = {s for _, s in _leaks(_output_bytes(plain), secrets)}
    assert set(PLANTED_IDS.values()) <= leaked and any("sstim" in s.lower() for s in leaked)
    assert (out / "patients.csv").read_text().count("\n") == 1 + len(PLANTED_IDS)
    assert len(pd.read_csv(out / "values.csv")) == len(pd.read_csv(plain / "values.csv"))
    values = (out / "values.csv").read_text()
    assert "unrecognised site" in values
    warnings = (out / "warnings.csv").read_text()
    assert "an unrecognised sheet" in warnings and "an unrecognised column" in warnings


def test_an_invalid_workbook_under_deidentify_prints_locations_not_values(tmp_path, capsys):
    book = base_book()
    nerve = col(book, "ncs_motor", "nerve")
    book["ncs_motor"][3][nerve] = "Qzbad Ned Flanders 555-0113"
    book["emg"][2][0] = "MRN-QZ-40017"  # not in the patients sheet
    path = write_csv_folder(book, tmp_path / "in")
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "--deidentify"]) == 1
    printed = "".join(capsys.readouterr())
    assert "qzbad" not in printed.lower() and "40017" not in printed
    assert "'ncs_motor', row 4, column 'nerve'" in printed and "unknown nerve" in printed
    assert "'emg', row 3, column 'patient_id'" in printed
    assert "withheld under --deidentify" in printed
    assert not (tmp_path / "out").exists()


def test_dates_are_always_moved():
    """The per-patient shift is ±1…±365 days, never 0 (an unmoved date is the original)."""
    from edxreview._privacy import _date_shift_days

    shifts = _date_shift_days(pd.Series([f"id-{i}" for i in range(20_000)]), "salt")
    assert shifts.ne(0).all() and shifts.abs().le(365).all()
    assert shifts.min() == -365 and shifts.max() == 365


@pytest.mark.parametrize("problem, expected", [
    (("Qz Moe Szyslak", None, None, None, "unknown sheet, ignored"),
     ("an unrecognised sheet", None, None, None, "unknown sheet, ignored")),
    (("patients", 1, "Qz Barney phone", None, "unknown column, kept in the data but not used"),
     ("patients", 1, "an unrecognised column", None,
      "unknown column, kept in the data but not used")),
    (("ncs_motor", 7, "Stim Site", "Qz Lenny's house", "unknown stimulation site"),
     ("ncs_motor", 7, "stim_site", None, "unknown stimulation site")),
    (("ncs_motor", 7, "latency_ms", "41.5", "implausible latency"),
     ("ncs_motor", 7, "latency_ms", "41.5", "implausible latency")),
    (("ncs_motor", 7, "latency_ms", "Qz Carl", "not a number"),
     ("ncs_motor", 7, "latency_ms", None, "not a number")),
    (("patients", 3, "diagnosis", "Qz Apu", "the text 'Qz Apu' is odd"),
     ("patients", 3, "diagnosis", None, "the text … is odd")),
    (("emg", 2, "side", "R", "side is required for limb muscles (L or R)"),
     ("emg", 2, "side", None, "side is required for limb muscles (L or R)")),
    (("", None, None, "Qz Kent Brockman.xlsx", "the workbook cannot be opened"),
     ("", None, None, None, "the workbook cannot be opened")),
    (("emg", 9, "column 14", "Qz Otto", "this row has a value beyond the last named column"),
     ("emg", 9, "column 14", None, "this row has a value beyond the last named column")),
], ids=["unknown sheet", "unknown column", "unknown site", "number kept", "text in a number column",
        "quoted value cut from the message", "short value does not mangle the message",
        "file name", "unnamed column"])
def test_problems_keep_their_place_but_no_typed_text(problem, expected):
    from edxreview._errors import Problem
    from edxreview._privacy import deidentify_problems

    (got,) = deidentify_problems([Problem(*problem, severity="warning")], "salt")
    assert (got.sheet, got.row, got.column, got.value, got.message) == expected


def test_a_problem_about_an_id_names_the_pseudonym():
    from edxreview._errors import Problem
    from edxreview._privacy import deidentify_problems, pseudonymize_ids

    (got,) = deidentify_problems([Problem("emg", 4, "Patient ID", "Qz-Homer", "not in patients")],
                                 "salt")
    assert got.column == "patient_id"
    assert got.value == pseudonymize_ids(pd.Series(["Qz-Homer"]), "salt").iloc[0]


def test_kept_date_columns_are_shifted_and_lose_their_typed_names(tmp_path):
    from edxreview._privacy import deidentify_study
    from edxreview.io import load_study

    book = base_book()
    book["patients"][0].append("Qz Burns admission_date")
    for r in book["patients"][1:]:
        r.append("2020-01-09")
    study = deidentify_study(load_study(write_csv_folder(book, tmp_path / "in")), "salt")
    table = study.tables["patients"]
    assert study.extra_columns["patients"] == ["date_1"]
    assert not any("qz" in str(c).lower() for c in table.columns)
    shifted = pd.to_datetime(table["date_1"]) - pd.Timestamp("2020-01-09")
    assert shifted.dt.days.ne(0).all() and shifted.dt.days.abs().le(365).all()
