"""A lab reference never overwrites another file: an existing one only with force (--force),
and force replaces only a lab reference, never a laboratory's other files."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from _cli import emg_cli as _cli  # noqa: E402

from edxreview import OutputExistsError, OutputPathError  # noqa: E402
from edxreview.signal._reference import LabReference, read_lab_reference  # noqa: E402

EMPTY_TABLE = pd.DataFrame(columns=["mean", "sd_between", "sd_within", "n_recordings",
                                    "n_subjects", "n_muaps"],
                           index=pd.MultiIndex.from_tuples([], names=["muscle", "feature"]))


def _reference(lab: str) -> LabReference:
    return LabReference(lab, "uV", EMPTY_TABLE.copy())


def test_write_refuses_an_existing_reference_without_force(tmp_path):
    path = tmp_path / "ref.toml"
    _reference("first").write(path)
    before = path.read_bytes()
    with pytest.raises(OutputExistsError, match=r"ref\.toml' exists; pass force=True"):
        _reference("second").write(path)
    assert path.read_bytes() == before
    _reference("second").write(path, force=True)
    assert read_lab_reference(path).lab == "second"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ref.toml"]


@pytest.mark.parametrize("force", [False, True], ids=["without force", "with force"])
def test_write_never_replaces_another_file(force, tmp_path):
    path = tmp_path / "controls.csv"
    path.write_text("file,subject,muscle\nc1.hea,S1,deltoid\n")
    error = OutputPathError if force else OutputExistsError
    with pytest.raises(error, match=r"controls\.csv' exists and is no lab reference"):
        _reference("lab").write(path, force=force)
    assert path.read_text() == "file,subject,muscle\nc1.hea,S1,deltoid\n"


def test_the_command_never_replaces_another_file_with_force(tmp_path, capsys):
    """`emg reference build --out FILE --force` over a file that is no lab reference: exit 2,
    before any recording is read; the file kept."""
    study = tmp_path / "study.xlsx"
    study.write_bytes(b"PK\x03\x04 a workbook")
    assert _cli(["emg", "reference", "build", str(tmp_path / "c1.bin"), "--fs", "10000",
                 "--muscle", "deltoid", "--out", str(study), "-q", "--force"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "is no lab reference" in err and "--force replaces only a lab reference" in err
    assert study.read_bytes() == b"PK\x03\x04 a workbook"
