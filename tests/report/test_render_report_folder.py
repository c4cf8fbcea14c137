"""render_report writes its folder as `edxreview run --out` does: a user's files are never
overwritten, an existing folder is replaced only with force and only if edxreview wrote it,
and the folder may not overlap the study it reports on."""

from __future__ import annotations

import shutil

import pytest

from edxreview import (InvalidParameterError, OutputExistsError, OutputPathError, demo_path,
                       review)
from edxreview._output import MARKER
from edxreview.report import render_report

NOTHING = dict(html=False, xlsx=False)     # the folder's rules, without drawing the report


def _state(root):
    return {str(p.relative_to(root)): p.read_bytes() if p.is_file() else None
            for p in sorted(root.rglob("*"))}


@pytest.mark.parametrize("force", [False, True], ids=["without force", "with force"])
def test_a_users_manuscript_folder_is_never_written_into(force, demo_result, tmp_path):
    paper = tmp_path / "paper"
    paper.mkdir()
    (paper / "report.docx").write_bytes(b"my manuscript")
    before = _state(tmp_path)
    error = OutputPathError if force else OutputExistsError
    with pytest.raises(error, match=f"'.*paper' is not empty and was not written by edxreview "
                                    f".*{MARKER}"):
        render_report(demo_result, paper, docx=True, force=force, **NOTHING)
    assert _state(tmp_path) == before


def test_force_replaces_a_report_folder_edxreview_wrote(demo_result, tmp_path):
    out = tmp_path / "report"
    assert render_report(demo_result, out, **NOTHING) == out / "report.html"
    with pytest.raises(OutputExistsError,
                       match="choose another out_dir or pass force=True to replace it"):
        render_report(demo_result, out, **NOTHING)
    render_report(demo_result, out, force=True, **NOTHING)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]
    assert [p.name for p in out.iterdir()] == [MARKER]


def test_the_report_never_goes_into_the_study(tmp_path):
    study = shutil.copytree(demo_path(), tmp_path / "study")
    result = review(study)
    before = _state(tmp_path)
    with pytest.raises(OutputPathError, match="lies inside the input"):
        render_report(result, study / "report", **NOTHING)
    with pytest.raises(OutputPathError, match="is the input"):
        render_report(result, study, force=True, **NOTHING)
    assert _state(tmp_path) == before


def test_force_must_be_a_bool(demo_result, tmp_path):
    with pytest.raises(InvalidParameterError, match="'force'"):
        render_report(demo_result, tmp_path / "out", force="no")
    assert list(tmp_path.iterdir()) == []


def test_python_callers_are_told_the_parameters_not_the_options(demo_result, tmp_path):
    """A refusal names what the caller can change: force=True, not the command's --force."""
    from edxreview.synth import generate_cohort, write_csv_folder

    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("mine")
    calls = {"result.write": lambda: demo_result.write(tmp_path / "mine", report=False,
                                                       xlsx=False),
             "render_report": lambda: render_report(demo_result, tmp_path / "mine", **NOTHING),
             "write_csv_folder": lambda: write_csv_folder(generate_cohort(seed=1, n=2)[0],
                                                          tmp_path / "mine")}
    for name, call in calls.items():
        with pytest.raises(OutputExistsError) as caught:
            call()
        text = str(caught.value)
        assert "force=True replaces only a folder edxreview wrote" in text, name
        assert "--" not in text, (name, text)
