"""The public entry point ``edxreview.review``: arguments checked first, the result's table 1,
writer, printed forms, and the docstring examples (run as doctests)."""

import dataclasses
import doctest
import json

import pytest

import edxreview
from edxreview import InvalidParameterError, demo_path, review
from edxreview._pipeline import review_study
from edxreview._check import check_bool, check_option
from edxreview._errors import OutputExistsError
from edxreview.cli import main


@pytest.fixture(scope="module")
def demo(demo_result):
    return demo_result


# --- the shared checker -------------------------------------------------------------------

def test_check_option_returns_an_allowed_value():
    assert check_option("ci_method", "beta", ("wilson", "beta")) == "beta"


@pytest.mark.parametrize("given, hint", [("Wilson", "wilson"), ("wilsn", "wilson"),
                                         (" BETA", "beta")])
def test_check_option_names_the_argument_lists_values_and_suggests(given, hint):
    with pytest.raises(InvalidParameterError,
                       match=rf"'ci_method' parameter: '{given}'\. Allowed values are "
                             rf"'wilson' and 'beta'\. Did you mean '{hint}'\?"):
        check_option("ci_method", given, ("wilson", "beta"))


@pytest.mark.parametrize("given", ["wald", None, 1])
def test_check_option_gives_no_hint_when_nothing_is_close(given):
    with pytest.raises(InvalidParameterError, match="Allowed values are") as err:
        check_option("ci_method", given, ("wilson", "beta"))
    assert "Did you mean" not in str(err.value)


def test_check_option_error_is_also_a_value_error():
    with pytest.raises(ValueError):
        check_option("x", "c", ["a", "b"])


def test_check_bool_refuses_a_string_that_would_read_as_true():
    assert check_bool("deidentify", True) is True
    with pytest.raises(InvalidParameterError, match="'deidentify' parameter: 'no'"):
        check_bool("deidentify", "no")


# --- arguments are checked before any work ------------------------------------------------

@pytest.fixture
def no_work(monkeypatch):
    """Make any file reading fail loudly, so a check that comes late is seen."""
    import edxreview._pipeline as pipeline

    def boom(*args, **kwargs):
        raise AssertionError("the review started before its arguments were checked")

    monkeypatch.setattr(pipeline, "load_reference", boom)
    monkeypatch.setattr(pipeline, "load_study", boom)


@pytest.mark.parametrize("func", [review, review_study])
@pytest.mark.parametrize("kwargs, match", [
    ({"ci_method": "Wilson"}, r"'ci_method' parameter: 'Wilson'.*Did you mean 'wilson'\?"),
    ({"ci_method": "clopper"}, r"'ci_method'.*Allowed values are 'wilson' and 'beta'"),
    ({"deidentify": "yes"}, r"'deidentify' parameter: 'yes'"),
    ({"salt": "s3cret"}, r"'salt' parameter needs deidentify=True"),
    ({"salt": "  ", "deidentify": True}, r"salt '  ' is empty"),
    ({"reference": 3}, r"'reference' parameter: of type int"),
    ({"progress": "stages"}, r"'progress' parameter: 'stages' is not callable"),
])
def test_bad_arguments_fail_before_any_work(no_work, func, kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        func(demo_path(), **kwargs)


def test_good_arguments_reach_the_work(no_work):
    with pytest.raises(AssertionError, match="before its arguments were checked"):
        review(demo_path(), ci_method="beta", deidentify=True, salt="s3cret")


def test_review_options_are_keyword_only():
    with pytest.raises(TypeError):
        review(demo_path(), None, True)  # type: ignore[misc]


# --- the result ---------------------------------------------------------------------------

def test_review_is_exported_and_gives_the_published_counts(demo):
    assert "review" in edxreview.__all__ and edxreview.review is review
    assert [m["n"] for m in demo.summary["measures"].values()] == [13, 7, 4, 2, 9, 4]


def test_review_passes_its_options_through():
    result = review(demo_path(), ci_method="beta")
    assert result.summary["ci_method"] == "Clopper–Pearson exact interval"
    assert result.options["ci_method"] == "beta"


def test_table1_is_the_reports_table_and_computed_once(demo):
    t1 = demo.table1
    assert t1 is demo.table1
    assert t1.groups == {"LMN involvement": 9, "No LMN involvement": 50}
    assert sum(t1.groups.values()) == demo.summary["n_patients"]
    frame = t1.to_frame()
    assert frame.columns[1] == "Overall, N = 59"
    assert "Age, years, mean (SD)" in set(frame["Characteristic"])


def test_repr_is_short_and_names_no_patient(demo):
    text = repr(demo)
    assert text.startswith("<StudyResult: 59 patients included, 0 excluded;")
    for key, m in demo.summary["measures"].items():
        assert f"{key} {m['n']}/59" in text
    assert len(text) < 400 and "\n" not in text
    assert not any(str(pid) in text for pid in demo.patients["patient_id"])


def test_repr_html_is_the_results_table_escaped(demo):
    page = demo._repr_html_()
    assert page.count("<tr") == 1 + 6 and "13.4–34.1" in page
    assert not any(f">{pid}<" in page for pid in demo.patients["patient_id"])
    measures = json.loads(json.dumps(demo.summary["measures"]))
    measures["emg_denervation"]["label"] = "<script>alert(1)</script>"
    hostile = dataclasses.replace(demo, summary={**demo.summary, "measures": measures})
    page = hostile._repr_html_()
    assert "<script>" not in page and "&lt;script&gt;" in page


def _files(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


@pytest.mark.slow
def test_write_writes_what_edxreview_run_writes(demo, tmp_path):
    assert main(["run", str(demo_path()), "--out", str(tmp_path / "cli"), "-q"]) == 0
    out = demo.write(tmp_path / "api")
    assert out == tmp_path / "api"
    assert _files(out) == _files(tmp_path / "cli")
    assert {"report.html", "results.xlsx", "summary.json", "patients.csv"} <= set(_files(out))
    for name in ("patients.csv", "muscles.csv", "nerves.csv", "values.csv", "findings.csv"):
        assert (out / name).read_bytes() == (tmp_path / "cli" / name).read_bytes(), name
    ours, theirs = (json.loads((d / "summary.json").read_text()) for d in (out, tmp_path / "cli"))
    for s in (ours, theirs):
        s["provenance"].pop("generated_at")
    assert ours == theirs


def test_write_without_report_and_workbook(demo, tmp_path):
    out = demo.write(tmp_path / "plain", report=False, xlsx=False)
    files = _files(out)
    assert "patients.csv" in files and "summary.json" in files
    assert not {"report.html", "results.xlsx"} & set(files)
    assert not any(f.startswith("figures/") for f in files)


@pytest.mark.slow
def test_write_workbook_only(demo, tmp_path):
    files = _files(demo.write(tmp_path / "xlsx", report=False, xlsx=True))
    assert "results.xlsx" in files and "report.html" not in files


def test_write_refuses_an_existing_folder_unless_forced(demo, tmp_path):
    out = demo.write(tmp_path / "again", report=False, xlsx=False)
    with pytest.raises(OutputExistsError):
        demo.write(out, report=False, xlsx=False)
    assert demo.write(out, report=False, xlsx=False, force=True) == out


def test_write_checks_its_arguments_first(demo, tmp_path):
    with pytest.raises(InvalidParameterError, match="'report' parameter: 'no'"):
        demo.write(tmp_path / "x", report="no")  # type: ignore[arg-type]
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("mistake", [
    {"xlsx": "no"}, {"docx": 1}, {"pdf": "yes"}, {"lang": "fr"}, {"force": "yes"},
], ids=["xlsx", "docx", "pdf", "lang", "force"])
def test_write_and_render_report_refuse_an_option_in_the_same_words(mistake, demo, tmp_path):
    """One check of the report options (check_report_options) for both: the same mistake,
    the same error, before anything is written."""
    from edxreview.report import render_report

    with pytest.raises(InvalidParameterError) as by_write:
        demo.write(tmp_path / "w", **mistake)
    with pytest.raises(InvalidParameterError) as by_render:
        render_report(demo, tmp_path / "r", **mistake)
    assert str(by_write.value) == str(by_render.value)
    assert repr(next(iter(mistake))) in str(by_write.value)
    assert not (tmp_path / "w").exists() and not (tmp_path / "r").exists()


# --- the docstring examples run -----------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("module", ["edxreview._pipeline", "edxreview._check"])
def test_docstring_examples_run(module, tmp_path, monkeypatch):
    import importlib

    monkeypatch.chdir(tmp_path)  # examples that write a folder write it here

    mod = importlib.import_module(module)
    failed, attempted = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
    assert attempted > 0 and failed == 0
