"""The manifest records each file as edxreview wrote it (size and SHA-256), so that ``--force``
never deletes a file the user edited in place: a report opened and worked on, rows added to a
CSV. A manifest of an earlier version (names only) is still honoured by name."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest

from edxreview import OutputPathError, demo_path, review
from edxreview._output import MARKER
from edxreview.cli import main
from edxreview.report import render_report
from edxreview.synth import generate_cohort, write_csv_folder

from .corpus import base_book, tree_state, write_csv_folder as write_study


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_manifest_matches(out: Path) -> dict:
    """The manifest lists every file under ``out`` with its size and SHA-256 as it is now."""
    manifest = json.loads((out / MARKER).read_text())
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*")
                   if p.is_file() and p.name != MARKER)
    assert manifest["files"] == files
    assert sorted(manifest["checksums"]) == files
    for name in files:
        assert manifest["checksums"][name] == {"size": (out / name).stat().st_size,
                                               "sha256": _sha256(out / name)}, name
    return manifest


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory):
    """The folder ``edxreview demo`` wrote."""
    out = tmp_path_factory.mktemp("demo") / "out"
    assert main(["demo", "--out", str(out), "-q"]) == 0
    return out


def _copy(out: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "out"
    subprocess.run(["cp", "-a", str(out), str(copy)], check=True)
    return copy


def _add_a_row(path: Path) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("MY-OWN-ROW,added by hand\n")


def _same_size_edit(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01          # one bit: the size stays, the content does not
    path.write_bytes(bytes(data))


def _replaced(path: Path) -> None:
    path.write_bytes(b"a workbook the user saved over the one edxreview wrote")


EDITS = {"rows added to a CSV": ("patients.csv", _add_a_row),
         "the report edited, same size": ("report.html", _same_size_edit),
         "the workbook saved over": ("results.xlsx", _replaced)}


@pytest.mark.parametrize("edit", EDITS)
def test_force_refuses_a_file_edited_since_edxreview_wrote_it(edit, demo_out, tmp_path, capsys):
    name, change = EDITS[edit]
    out = _copy(demo_out, tmp_path)
    change(out / name)
    edited = (out / name).read_bytes()
    before = tree_state(tmp_path)
    assert main(["demo", "--out", str(out), "-q", "--force"]) == 2
    err = capsys.readouterr().err
    assert repr(name) in err and "changed since edxreview wrote" in err, err
    assert "Traceback" not in err
    assert (out / name).read_bytes() == edited
    assert tree_state(tmp_path) == before     # nothing moved, removed or left beside it


def test_force_refuses_an_edited_file_from_python(demo_out, tmp_path):
    out = _copy(demo_out, tmp_path)
    _add_a_row(out / "patients.csv")
    edited = (out / "patients.csv").read_bytes()
    result = review(demo_path())
    with pytest.raises(OutputPathError, match="changed since edxreview wrote them "
                                              r"\('patients.csv'"):
        result.write(out, report=False, xlsx=False, force=True)
    assert (out / "patients.csv").read_bytes() == edited


def test_force_names_edited_and_foreign_files_together(demo_out, tmp_path, capsys):
    out = _copy(demo_out, tmp_path)
    _add_a_row(out / "patients.csv")
    (out / "my-notes.txt").write_text("mine")
    before = tree_state(tmp_path)
    assert main(["demo", "--out", str(out), "-q", "--force"]) == 2
    err = capsys.readouterr().err
    assert "'my-notes.txt'" in err and "did not write" in err, err
    assert "'patients.csv'" in err and "changed since" in err, err
    assert tree_state(tmp_path) == before


def test_force_replaces_an_unedited_output(demo_out, tmp_path):
    out = _copy(demo_out, tmp_path)
    assert main(["demo", "--out", str(out), "-q", "--force"]) == 0
    assert (out / "patients.csv").read_bytes() == (demo_out / "patients.csv").read_bytes()
    assert_manifest_matches(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no backup, lock or temp left


def test_force_replaces_an_output_with_an_earlier_names_only_manifest(demo_out, tmp_path):
    """An earlier version's manifest records names only: checked by name, as then (an edited
    listed file cannot be told from an unedited one, and is replaced)."""
    out = _copy(demo_out, tmp_path)
    manifest = json.loads((out / MARKER).read_text())
    del manifest["checksums"]
    manifest["version"] = "0.9.0"
    (out / MARKER).write_text(json.dumps(manifest, indent=2) + "\n")
    _add_a_row(out / "patients.csv")
    assert main(["demo", "--out", str(out), "-q", "--force"]) == 0
    assert (out / "patients.csv").read_bytes() == (demo_out / "patients.csv").read_bytes()
    assert_manifest_matches(out)


def test_a_listed_file_the_manifest_records_nothing_of_is_refused(demo_out, tmp_path, capsys):
    """A manifest with checksums that lacks one listed file's: never taken as unchanged."""
    out = _copy(demo_out, tmp_path)
    manifest = json.loads((out / MARKER).read_text())
    del manifest["checksums"]["summary.json"]
    (out / MARKER).write_text(json.dumps(manifest, indent=2) + "\n")
    assert main(["demo", "--out", str(out), "-q", "--force"]) == 2
    assert "'summary.json'" in capsys.readouterr().err


# -- every writer records what it wrote ------------------------------------------------------

def test_demo_records_every_file(demo_out):
    manifest = assert_manifest_matches(demo_out)
    assert {"patients.csv", "report.html", "results.xlsx"} <= set(manifest["files"])


@pytest.mark.parametrize("command", ["run", "synth", "emg"])
def test_every_command_records_every_file(command, tmp_path, capsys):
    study = write_study(base_book(), tmp_path / "study")
    (tmp_path / "r.bin").write_bytes(b"\x00\x01" * 3000)
    argv = {"run": ["run", str(study)], "synth": ["synth", "--patients", "3"],
            "emg": ["emg", "analyze", str(tmp_path / "r.bin"), "--fs", "1000"]}[command]
    assert main([*argv, "--out", str(tmp_path / "out"), "-q"]) == 0
    assert_manifest_matches(tmp_path / "out")


def test_python_writers_record_every_file(demo_result, tmp_path):
    demo_result.write(tmp_path / "write", report=False, xlsx=True)
    assert_manifest_matches(tmp_path / "write")
    render_report(demo_result, tmp_path / "report", html=True, xlsx=False)
    assert_manifest_matches(tmp_path / "report")
    write_csv_folder(generate_cohort(seed=3, n=4)[0], tmp_path / "csv")
    assert_manifest_matches(tmp_path / "csv")


def test_a_partitioned_output_written_by_workers_is_recorded(tmp_path):
    """Parquet parts written in worker processes: listed, with the hashes of the files."""
    from edxreview import review_registry

    assert main(["synth", "--patients", "60", "--seed", "5", "--out", str(tmp_path / "csv"),
                 "-q"]) == 0
    out = tmp_path / "out"
    review_registry(tmp_path / "csv", out, partitions=3, jobs=2, output_format="parquet",
                    report=False)
    manifest = assert_manifest_matches(out)
    assert any(name.startswith("values/part-") for name in manifest["files"])
    # edited in place, a part is the user's now
    part = next(p for p in sorted((out / "values").iterdir()))
    _same_size_edit(part)
    edited = part.read_bytes()
    with pytest.raises(OutputPathError, match="changed since edxreview wrote them"):
        review_registry(tmp_path / "csv", out, partitions=3, jobs=2, output_format="parquet",
                        report=False, force=True)
    assert part.read_bytes() == edited and os.path.isdir(out / "values")
