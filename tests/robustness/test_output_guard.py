"""The output folder: never over, around or inside an input; replaced only when edxreview wrote
it; locked while written; cleaned up on SIGTERM as on Ctrl-C; no CSV cell a spreadsheet runs."""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import edxreview
from edxreview._output import MARKER
from edxreview._tables import FORMULA_TRIGGERS
from edxreview.cli import main

from .corpus import base_book, tree_state, write_csv_folder, write_xlsx

SRC = Path(edxreview.__file__).resolve().parents[1]


_hashes = tree_state


def _study(tmp: Path, form: str) -> Path:
    data = tmp / "data"
    if form == "csv":
        return write_csv_folder(base_book(), data / "study")
    return write_xlsx(base_book(), data / "study.xlsx")


# (id, forms, how to build --out from the study path and the temporary folder)
LAYOUTS = [
    ("out is the study", ("csv", "xlsx"), lambda study, tmp: study),
    ("out contains the study", ("csv", "xlsx"), lambda study, tmp: study.parent),
    ("out contains the study two levels up", ("csv",), lambda study, tmp: tmp),
    ("out inside the study", ("csv",), lambda study, tmp: study / "results"),
    ("out is a sheet file", ("csv",), lambda study, tmp: study / "emg.csv"),
    ("out is the study through a link", ("csv", "xlsx"),
     lambda study, tmp: _link(tmp / "link", study)),
    ("out contains the study through a link", ("csv", "xlsx"),
     lambda study, tmp: _link(tmp / "link", study.parent)),
    ("out inside the study through a link", ("csv",),
     lambda study, tmp: _link(tmp / "link", study) / "results"),
    ("out spelled with ..", ("csv", "xlsx"),
     lambda study, tmp: study.parent / "x" / ".." / study.name),
    # the system follows the link before '..': link -> data/sub, so link/.. is data, and
    # link/../study is the study (a text-only '..' would read it as tmp/study)
    ("out spelled with a link then ..", ("csv", "xlsx"),
     lambda study, tmp: _link(tmp / "link", _mkdir(study.parent / "sub")) / ".." / study.name),
]


def _mkdir(p: Path) -> Path:
    p.mkdir()
    return p


def _link(link: Path, target: Path) -> Path:
    link.symlink_to(target, target_is_directory=target.is_dir())
    return link


def _guard_params():
    return [pytest.param(make, form, force, id=f"{name}, {form}{', --force' if force else ''}")
            for name, forms, make in LAYOUTS for form in forms for force in (True, False)]


@pytest.mark.parametrize(("make_out", "form", "force"), _guard_params())
def test_output_overlapping_the_input_is_refused(make_out, form, force, tmp_path, capsys):
    study = _study(tmp_path, form)
    out = make_out(study, tmp_path)
    before = _hashes(tmp_path)
    status = main(["run", str(study), "--out", str(out), "-q", *(["--force"] if force else [])])
    text = "".join(capsys.readouterr())
    assert status == 2, text
    assert "input" in text and "choose an --out outside it" in text, text
    assert "Traceback" not in text
    assert _hashes(tmp_path) == before


@pytest.mark.parametrize("force", [True, False], ids=["--force", "no --force"])
def test_output_is_the_reference_file(force, tmp_path, capsys):
    study = _study(tmp_path, "csv")
    reference = tmp_path / "lab" / "our-lab.csv"
    reference.parent.mkdir()
    reference.write_bytes((SRC / "edxreview/knowledge/data/ncs_limits_adult.csv").read_bytes())
    before = _hashes(tmp_path)
    for out in (reference, reference.parent):
        status = main(["run", str(study), "--reference", str(reference), "--out", str(out), "-q",
                       *(["--force"] if force else [])])
        text = "".join(capsys.readouterr())
        assert status == 2 and "our-lab.csv" in text, text
    assert _hashes(tmp_path) == before


def test_output_into_the_bundled_demo_data_is_refused(tmp_path, capsys):
    demo = edxreview.demo_path()
    before = _hashes(demo)
    assert main(["demo", "--out", str(demo / "results"), "-q"]) == 2
    assert main(["demo", "--out", str(demo), "-q", "--force"]) == 2
    assert "input" in capsys.readouterr().err
    assert _hashes(demo) == before


def test_emg_output_overlapping_a_recording_is_refused(tmp_path, capsys):
    rec = tmp_path / "recs" / "r1.bin"
    rec.parent.mkdir()
    rec.write_bytes(b"\x01\x00" * 4000)
    (tmp_path / "recs" / "r2.hea").write_text("r2 1 1000 10\n")
    before = _hashes(tmp_path)
    hea = tmp_path / "recs" / "r2.hea"
    for out in (rec, rec.parent, tmp_path, tmp_path / "recs" / "r2.dat"):
        # --fs belongs to the raw file only (a WFDB header gives its own rate): one run each
        files = [str(rec), "--fs", "1000"] if out.name != "r2.dat" else [str(hea)]
        assert main(["emg", "analyze", *files, "--out", str(out), "-q", "--force"]) == 2
        err = capsys.readouterr().err
        assert "input" in err and "Traceback" not in err, err
    assert _hashes(tmp_path) == before


def test_emg_reference_file_over_an_input_is_refused(tmp_path, capsys):
    recs = tmp_path / "recs"
    recs.mkdir()
    (recs / "c1.hea").write_text("c1 1 10000 100000\nc1.dat 16 1000 16 0 0 0 0 biceps\n")
    (recs / "c1.dat").write_bytes(b"\x01\x00" * 1000)
    (tmp_path / "subjects.csv").write_text("file,subject\nc1,S1\n")
    before = _hashes(tmp_path)
    for out in (recs / "c1.hea", recs / "c1.dat", tmp_path / "subjects.csv", recs):
        status = main(["emg", "reference", "build", str(recs / "c1.hea"), "--muscle", "biceps",
                       "--subjects", str(tmp_path / "subjects.csv"), "--out", str(out), "-q",
                       "--force"])
        err = capsys.readouterr().err
        assert status == 2, err
        assert ("input" in err or "not a file" in err) and "Traceback" not in err, err
    assert _hashes(tmp_path) == before


@pytest.mark.parametrize("force", [[], ["--force"]], ids=["without --force", "with --force"])
def test_emg_reference_file_that_is_a_folder_is_refused_by_name(force, tmp_path, capsys):
    recs = tmp_path / "recs"
    recs.mkdir()
    (recs / "c1.hea").write_text("c1 1 10000 100000\nc1.dat 16 1000 16 0 0 0 0 biceps\n")
    (recs / "c1.dat").write_bytes(b"\x01\x00" * 1000)
    out = tmp_path / "lab-reference.toml"
    (out / "kept").mkdir(parents=True)
    before = _hashes(tmp_path)
    assert main(["emg", "reference", "build", str(recs / "c1.hea"), "--muscle", "biceps",
                 "--out", str(out), "-q", *force]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"{str(out)!r} is a folder; the lab reference is a file and never replaces a " \
           "folder, even with --force" in err and "Traceback" not in err, err
    assert _hashes(tmp_path) == before


# -- --force replaces only what edxreview wrote --------------------------------------------

@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """A study and an output folder a run wrote."""
    root = tmp_path_factory.mktemp("written")
    study = write_csv_folder(base_book(), root / "study")
    assert main(["run", str(study), "--out", str(root / "out"), "-q"]) == 0
    return study, root / "out"


def test_every_output_folder_holds_its_manifest(written, tmp_path, capsys):
    study, out = written
    manifest = json.loads((out / MARKER).read_text())
    assert manifest["written_by"] == "edxreview" and manifest["command"] == "run"
    listed = sorted(p.relative_to(out).as_posix() for p in out.rglob("*")
                    if p.is_file() and p.name != MARKER)
    assert manifest["files"] == listed
    assert {"patients.csv", "summary.json", "report.html"} <= set(listed)
    assert main(["synth", "--patients", "3", "--out", str(tmp_path / "s"), "-q"]) == 0
    assert json.loads((tmp_path / "s" / MARKER).read_text())["command"] == "synth"


def test_force_replaces_a_folder_edxreview_wrote(written, tmp_path, capsys):
    study, out = written
    copy = tmp_path / "out"
    subprocess.run(["cp", "-a", str(out), str(copy)], check=True)
    assert main(["run", str(study), "--out", str(copy), "-q"]) == 2
    assert main(["run", str(study), "--out", str(copy), "-q", "--force"]) == 0
    assert (copy / "patients.csv").read_bytes() == (out / "patients.csv").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no backup, lock or temp left


@pytest.mark.parametrize("command", ["run", "demo", "synth", "emg"])
def test_force_never_deletes_a_folder_edxreview_did_not_write(command, tmp_path, capsys):
    study = write_csv_folder(base_book(), tmp_path / "study")
    out = tmp_path / "precious"
    (out / "sub").mkdir(parents=True)
    (out / "notes.txt").write_text("mine")
    (out / "sub" / "data.csv").write_text("a,b\n1,2\n")
    argv = {"run": ["run", str(study)], "demo": ["demo"],
            "synth": ["synth", "--patients", "2"],
            "emg": ["emg", "analyze", str(tmp_path / "r.bin"), "--fs", "1000"]}[command]
    (tmp_path / "r.bin").write_bytes(b"\x00\x01" * 3000)
    before = _hashes(tmp_path)
    for force in ([], ["--force"]):
        assert main([*argv, "--out", str(out), "-q", *force]) == 2
        err = capsys.readouterr().err
        assert "not written by edxreview" in err and MARKER in err, err
        assert "--force to replace" not in err  # never suggest --force where it would be refused
    assert _hashes(tmp_path) == before


def test_force_refuses_a_folder_holding_files_edxreview_did_not_write(written, tmp_path, capsys):
    study, out = written
    copy = tmp_path / "out"
    subprocess.run(["cp", "-a", str(out), str(copy)], check=True)
    (copy / "my-notes.txt").write_text("mine")
    before = _hashes(tmp_path)
    assert main(["run", str(study), "--out", str(copy), "-q", "--force"]) == 2
    err = capsys.readouterr().err
    assert "'my-notes.txt'" in err and "did not write" in err
    assert _hashes(tmp_path) == before


@pytest.mark.parametrize("command", ["run", "synth", "emg"])
def test_a_file_is_never_replaced_by_an_output_folder(command, tmp_path, capsys):
    study = write_csv_folder(base_book(), tmp_path / "study")
    (tmp_path / "r.bin").write_bytes(b"\x00\x01" * 3000)
    target = tmp_path / "report.docx"
    target.write_text("a manuscript")
    argv = {"run": ["run", str(study)], "synth": ["synth", "--patients", "2"],
            "emg": ["emg", "analyze", str(tmp_path / "r.bin"), "--fs", "1000"]}[command]
    before = _hashes(tmp_path)
    assert main([*argv, "--out", str(target), "-q", "--force"]) == 2
    assert "is a file" in capsys.readouterr().err
    assert _hashes(tmp_path) == before


def test_a_failed_run_removes_the_parent_folders_it_created(tmp_path, capsys):
    book = base_book()
    book["emg"][2][0] = "NMO-999"  # an unknown patient: invalid input
    study = write_csv_folder(book, tmp_path / "study")
    assert main(["run", str(study), "--out", str(tmp_path / "a" / "b" / "out"), "-q"]) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["study"]


# -- processes: the lock and the signals ---------------------------------------------------

_SLOW_RUN = r"""
import pathlib, signal, sys, time
# Ctrl-C as in a terminal: a test run started in the background (``make test &``) passes its
# children SIGINT ignored, and the run would never see the signal this test sends
signal.signal(signal.SIGINT, signal.default_int_handler)
import edxreview.report as report
real = report.write_report_files
def slow(result, folder, **options):
    real(result, folder, **options)
    print("WRITING", flush=True)
    go = pathlib.Path(sys.argv[1])
    while not go.exists():
        time.sleep(0.05)
report.write_report_files = slow
from edxreview.cli import main
sys.exit(main(sys.argv[2:]))
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(SRC)}


def _start_slow_run(study: Path, out: Path, go: Path) -> subprocess.Popen:
    """A run that stops, its files half-written in the temporary folder, until ``go`` exists."""
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_RUN, str(go), "run", str(study),
                             "--out", str(out), "-q"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=_env())
    line = proc.stdout.readline()
    assert line.strip() == "WRITING", (line, proc.stderr.read() if proc.poll() else "")
    return proc


@pytest.mark.slow
def test_a_second_run_to_the_same_folder_stops_at_once(tmp_path):
    first = write_csv_folder(base_book(), tmp_path / "first")
    book = base_book()
    book["patients"] = book["patients"][:3]  # a different study: two patients
    for sheet in book:
        book[sheet] = [book[sheet][0]] + [r for r in book[sheet][1:]
                                          if r[0] in ("NMO-001", "NMO-002")]
    second = write_csv_folder(book, tmp_path / "second")
    out, go = tmp_path / "out", tmp_path / "go"
    proc = _start_slow_run(first, out, go)
    try:
        other = subprocess.run([sys.executable, "-m", "edxreview", "run", str(second), "--out",
                                str(out), "-q", "--force"], capture_output=True, text=True,
                               env=_env(), timeout=120)
    finally:
        go.touch()
    stdout, stderr = proc.communicate(timeout=120)
    assert other.returncode == 2, other.stderr
    assert "being written by another edxreview command" in other.stderr
    assert f"process {proc.pid}" in other.stderr
    assert proc.returncode == 0, stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_patients"] + summary["n_excluded"] == 4  # the first study's results
    assert sorted(p.name for p in tmp_path.iterdir()) == ["first", "go", "out", "second"]


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "status"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)],
                         ids=["SIGTERM", "SIGINT"])
def test_a_signal_while_writing_leaves_nothing(signum, status, tmp_path):
    study = write_csv_folder(base_book(), tmp_path / "study")
    out = tmp_path / "results" / "out"
    proc = _start_slow_run(study, out, tmp_path / "never")
    hidden = [p for p in (tmp_path / "results").iterdir() if p.name.startswith(".out")]
    assert any((p / "patients.csv").exists() for p in hidden)  # patient data on disk now
    proc.send_signal(signum)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == status, stderr
    assert "interrupted; nothing was written" in stderr and "Traceback" not in stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["study"]  # created parent removed too


# -- CSV cells a spreadsheet would run -----------------------------------------------------

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
HOSTILE = {"NMO-001": "=HYPERLINK(\"http://x\",\"y\")", "NMO-002": "+1+2", "NMO-003": "@SUM(A1)",
           "NMO-028": "-2+3"}


def _formula_cells(folder: Path) -> list[tuple[str, str]]:
    found = []
    for path in sorted(folder.rglob("*.csv")):
        with open(path, newline="", encoding="utf-8") as fh:
            for row in csv.reader(fh):
                found += [(path.name, c) for c in row
                          if c.startswith(FORMULA_TRIGGERS) and not _NUMBER.fullmatch(c)]
    return found


@pytest.mark.parametrize("form", ["csv", "xlsx"])
def test_no_csv_cell_starts_a_formula(form, tmp_path, capsys):
    book = base_book()
    for rows in book.values():
        for r in rows[1:]:
            r[0] = HOSTILE.get(r[0], r[0])
    book["patients"][0].append("=notes")          # an unknown column: a warning names it
    for r in book["patients"][1:]:
        r.append("\tcmd")
    path = write_csv_folder(book, tmp_path / "book") if form == "csv" else \
        write_xlsx(book, tmp_path / "book.xlsx")
    out = tmp_path / "o"
    assert main(["run", str(path), "--out", str(out), "-q"]) == 0, capsys.readouterr()
    assert _formula_cells(out) == []
    patients = (out / "patients.csv").read_text()
    for hostile in HOSTILE.values():
        assert "'" + hostile.replace('"', '""') in patients
    warnings = (out / "warnings.csv").read_text()
    assert "'=notes" in warnings and "=notes" not in warnings.replace("'=notes", "")


@pytest.mark.parametrize(("cell", "written"), [
    ("=1+2", "'=1+2"), ("+1+2", "'+1+2"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tcmd", "'\tcmd"), ("\rcmd", "'\rcmd"), ("-", "'-"),
    ("-1.5", "-1.5"), ("+3", "+3"), ("-2e-3", "-2e-3"), ("NMO-001", "NMO-001"), ("", ""),
], ids=["equals", "plus", "minus formula", "at", "tab", "carriage return", "lone minus",
        "negative number as text", "signed number as text", "exponent", "ordinary id", "empty"])
def test_text_cells_are_neutralised_and_numbers_kept(cell, written):
    import numpy as np
    import pandas as pd

    from edxreview._tables import neutralize_formulas

    frame = pd.DataFrame({"text": [cell, None], "number": [-1.5, np.nan],
                          "category": pd.Categorical([cell, cell])})
    out = neutralize_formulas(frame)
    assert out["text"].tolist()[0] == written and pd.isna(out["text"].tolist()[1])
    assert out["category"].astype(str).tolist() == [written, written]
    assert out["number"].tolist()[0] == -1.5 and out["number"].dtype == float
    assert frame["text"].tolist()[0] == cell  # the caller's table is not changed


@pytest.mark.parametrize("cell", ["=1+2", "-2+3", "@SUM(A1)", "\tcmd", "-1.5", "NMO-001", "é="])
@pytest.mark.parametrize("form", ["object", "str", "category", "unused category", "sliced"])
def test_write_csv_writes_the_neutralised_table(cell, form, tmp_path):
    """write_csv scans text in Arrow (a categorical column through its categories) and
    neutralises through neutralize_formulas only where a cell needs it: the file is the
    neutralised table's, whichever form the text takes."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    from edxreview._tables import neutralize_formulas, write_csv

    cells = ["plain", None, cell, ""]
    column = {"object": pd.Series(cells, dtype=object),
              "str": pd.Series(cells, dtype="str"),
              "category": pd.Series(pd.Categorical(cells)),
              "unused category": pd.Series(pd.Categorical(["plain", None, "", ""],
                                                          categories=["", cell, "plain"])),
              "sliced": pd.Series(["=x"] + cells, dtype="str").iloc[1:].reset_index(drop=True),
              }[form]
    frame = pd.DataFrame({"text": column, "number": [-1.5, np.nan, 2.5, 0.5]})
    write_csv(frame, tmp_path / "fast.csv")
    # the neutralised table converted whole, as Arrow writes it
    table = pa.Table.from_pandas(neutralize_formulas(frame), preserve_index=False)
    table = pa.Table.from_arrays([pc.cast(c, c.type.value_type) if pa.types.is_dictionary(c.type)
                                  else c for c in table.columns], names=table.column_names)
    pacsv.write_csv(table, tmp_path / "expected.csv",
                    write_options=pacsv.WriteOptions(quoting_style="needed"))
    assert (tmp_path / "fast.csv").read_bytes() == (tmp_path / "expected.csv").read_bytes()
    if form != "unused category":   # (there, a category no row holds: nothing to write)
        written = pd.read_csv(tmp_path / "fast.csv", dtype=str, keep_default_na=False)
        assert written["text"][2] == neutralize_formulas(pd.DataFrame({"t": [cell]}))["t"][0]


def test_emg_and_synth_csvs_have_no_formula_cells(tmp_path, capsys):
    rec = tmp_path / "@r.bin"   # the file name reaches recordings.csv and emg_rows.csv
    rec.write_bytes(b"\x00\x01" * 3000)
    # a side outside the workbook's vocabulary is refused before anything is written
    assert main(["emg", "analyze", str(rec), "--fs", "1000", "--out", str(tmp_path / "e"), "-q",
                 "--no-figures", "--patient", "=1+1", "--side", "@left"]) == 2
    assert not (tmp_path / "e").exists()
    assert main(["emg", "analyze", str(rec), "--fs", "1000", "--out", str(tmp_path / "e"), "-q",
                 "--no-figures", "--patient", "=1+1", "--side", "left"]) == 0
    assert _formula_cells(tmp_path / "e") == []
    rows = (tmp_path / "e" / "emg_rows.csv").read_text()
    assert "'=1+1" in rows and "'@r" in rows
    assert main(["synth", "--patients", "20", "--out", str(tmp_path / "s"), "-q"]) == 0
    assert _formula_cells(tmp_path / "s") == []


# -- arguments -----------------------------------------------------------------------------

def test_a_negative_seed_is_a_usage_error(tmp_path, capsys):
    assert main(["synth", "--patients", "3", "--seed", "-1", "--out", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err
    assert "--seed" in err and "-1" in err and "internal error" not in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("salt", ["", "  "], ids=["empty", "blank"])
def test_an_empty_salt_is_refused(salt, written, tmp_path, capsys):
    study, _ = written
    for extra in (["--deidentify"], []):
        assert main(["run", str(study), "--out", str(tmp_path / "o"), "-q", *extra,
                     "--salt", salt]) == 2
        assert "--salt" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
    from edxreview._errors import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="salt .* is empty"):
        edxreview.review(study, deidentify=True, salt=salt)


def test_a_signal_during_the_swap_waits_until_the_output_is_in_place(tmp_path, monkeypatch):
    from edxreview import _output

    # Python's own Ctrl-C handler, whatever a test run before this one in the same worker left
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        out = tmp_path / "out"
        for text in ("old", "new"):
            with _output.OutputFolder(out, force=True) as folder:
                (folder.staging / "a.txt").write_text(text)
                if text == "new":
                    real = os.replace

                    def replace_after_ctrl_c(src, dst):
                        signal.raise_signal(signal.SIGINT)  # arrives between the two renames
                        real(src, dst)

                    monkeypatch.setattr(_output.os, "replace", replace_after_ctrl_c)
                    with pytest.raises(KeyboardInterrupt) as caught:
                        folder.commit()
                    assert caught.value.output_written
                else:
                    folder.commit()
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.SIG_DFL)
    assert (out / "a.txt").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def _walks_of(monkeypatch, folder: Path) -> list[str]:
    """Record every ``os.walk`` of ``folder`` (links resolved) from now on."""
    from edxreview import _output

    real, walks, top_real = os.walk, [], os.path.realpath(folder)

    def counting_walk(top, *args, **kwargs):
        if os.path.realpath(top) == top_real:
            walks.append(str(top))
        return real(top, *args, **kwargs)

    monkeypatch.setattr(_output.os, "walk", counting_walk)
    return walks


def test_entering_an_output_folder_walks_each_input_folder_once(tmp_path, monkeypatch):
    """The output folder and its lock file are checked against the same listing of the
    inputs (the links under a folder input): the folder is walked once, not once a check."""
    from edxreview import _output

    study = write_csv_folder(base_book(), tmp_path / "data" / "study")
    walks = _walks_of(monkeypatch, study)
    with _output.OutputFolder(tmp_path / "out", inputs=[study]) as folder:
        (folder.staging / "a.txt").write_text("a")
        folder.commit()
    assert walks == [str(study)]


def test_lock_file_reached_by_a_link_in_a_folder_input_is_refused(tmp_path, monkeypatch):
    """The one listing still holds the links under the input: a sheet that is a link to the
    lock file's path is refused, as before, and the folder is still walked once."""
    from edxreview import _output
    from edxreview._errors import OutputPathError

    study = write_csv_folder(base_book(), tmp_path / "data" / "study")
    lock = tmp_path / ".out.edxreview-lock"
    lock.write_text("")
    (study / "extra.csv").symlink_to(lock)
    walks = _walks_of(monkeypatch, study)
    with pytest.raises(OutputPathError, match=r"lock file .* is the input .*extra\.csv"):
        with _output.OutputFolder(tmp_path / "out", inputs=[study]):
            pass
    assert walks == [str(study)]
    assert not (tmp_path / "out").exists() and lock.read_text() == ""


def test_a_lock_file_that_is_a_hard_link_is_refused_not_truncated(tmp_path, capsys):
    """A hard link at the lock file's name shares its data with another file (here a sheet of
    the study): writing the process id there would truncate that sheet."""
    study = write_csv_folder(base_book(), tmp_path / "data" / "study")
    os.link(study / "patients.csv", tmp_path / ".res.edxreview-lock")
    before = _hashes(tmp_path / "data")
    status = main(["run", str(study), "--out", str(tmp_path / "res"), "-q"])
    text = "".join(capsys.readouterr())
    assert status == 2, text
    assert "hard link" in text and "Traceback" not in text, text
    assert _hashes(tmp_path / "data") == before
    assert not (tmp_path / "res").exists()


def test_emg_reference_through_a_link_then_dotdot_is_refused(tmp_path, capsys):
    recs = tmp_path / "recs"
    (recs / "sub").mkdir(parents=True)
    (recs / "c1.hea").write_text("c1 1 10000 100000\nc1.dat 16 1000 16 0 0 0 0 biceps\n")
    (recs / "c1.dat").write_bytes(b"\x01\x00" * 1000)
    link = _link(tmp_path / "L", recs / "sub")
    before = _hashes(tmp_path / "recs")
    status = main(["emg", "reference", "build", str(recs / "c1.hea"), "--muscle", "biceps",
                   "--out", str(link / ".." / "c1.hea"), "-q", "--force"])
    err = capsys.readouterr().err
    assert status == 2 and "input" in err and "Traceback" not in err, err
    assert _hashes(tmp_path / "recs") == before


_FORK_THEN_DIE = """
import os, signal, sys, time
from edxreview._output import OutputFolder

with OutputFolder(sys.argv[1]) as output:
    child = os.fork()       # as WorkbookWriter forks a copy to write results.xlsx
    if child == 0:
        null = os.open(os.devnull, os.O_WRONLY)   # the test reads the parent's output to its end
        os.dup2(null, 1)
        os.dup2(null, 2)
        time.sleep(60)
        os._exit(0)
    print(child, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)   # the parent dies; its copy lives on
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork: POSIX only")
def test_a_forked_copy_does_not_keep_the_lock_of_a_killed_parent(tmp_path):
    """After a SIGKILL of the command, the copy that writes the workbook must not hold the
    output's lock: the rerun would be refused, naming the dead parent."""
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-c", _FORK_THEN_DIE, str(out)],
                          capture_output=True, text=True, env=_env(), timeout=60)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    child = int(proc.stdout.split()[0])
    try:
        from edxreview._output import OutputFolder

        with OutputFolder(out) as output:   # the lock is free: the copy does not hold it
            (output.staging / "a.txt").write_text("a\n")
            output.commit()
        assert (out / "a.txt").is_file()
    finally:
        os.kill(child, signal.SIGKILL)
