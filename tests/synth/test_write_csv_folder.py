"""write_csv_folder keeps the promise of `edxreview synth --out`: never a user's file
overwritten; an existing folder replaced only with force, and only one edxreview wrote."""

from __future__ import annotations

import pytest

from edxreview import InvalidParameterError, OutputExistsError, OutputPathError
from edxreview._output import MARKER
from edxreview.synth import generate_cohort, write_csv_folder


@pytest.fixture(scope="module")
def sheets():
    return generate_cohort(seed=3, n=4)[0]


def _state(root):
    return {str(p.relative_to(root)): p.read_bytes() if p.is_file() else None
            for p in sorted(root.rglob("*"))}


def test_a_users_study_folder_is_never_written_into(sheets, tmp_path):
    """A folder holding the user's own patients.csv: refused, with or without force."""
    study = tmp_path / "my-study"
    study.mkdir()
    (study / "patients.csv").write_text("patient_id,sex\nREAL-1,F\n")
    before = _state(tmp_path)
    with pytest.raises(OutputExistsError, match="'.*my-study' is not empty and was not written "
                                                "by edxreview"):
        write_csv_folder(sheets, study)
    with pytest.raises(OutputPathError, match=f"not written by edxreview .*{MARKER}"):
        write_csv_folder(sheets, study, force=True)
    assert _state(tmp_path) == before


def test_force_replaces_a_folder_it_wrote_and_nothing_else(sheets, tmp_path):
    out = tmp_path / "synthetic"
    paths = write_csv_folder(sheets, out)
    assert [p.parent for p in paths] == [out] * len(paths) and all(p.is_file() for p in paths)
    with pytest.raises(OutputExistsError):
        write_csv_folder(sheets, out)
    assert write_csv_folder(generate_cohort(seed=4, n=2)[0], out, force=True) == paths
    (out / "my-notes.txt").write_text("mine")
    before = _state(tmp_path)
    with pytest.raises(OutputPathError, match="'my-notes.txt'"):
        write_csv_folder(sheets, out, force=True)
    assert _state(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["synthetic"]


def test_force_must_be_a_bool(sheets, tmp_path):
    with pytest.raises(InvalidParameterError, match="'force'"):
        write_csv_folder(sheets, tmp_path / "x", force=1)
    assert list(tmp_path.iterdir()) == []
