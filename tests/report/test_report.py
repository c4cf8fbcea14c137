"""The cohort report: contents, numbers, escaping, exports and rendering in a browser."""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser

import openpyxl
import pandas as pd
import pytest

import edxreview
from edxreview import demo_path
from edxreview._pipeline import review_study
from edxreview._pipeline import write_outputs
from edxreview.report import render_report, write_report_files
from edxreview.report._excel import write_workbook

from ._chromium import find_chromium, open_page

SCRIPT_ID = "<script>alert(1)</script>"
FORMULA_ID = "=1+2"


class _Collect(HTMLParser):
    """Attributes of every element, and the page's text."""

    def __init__(self):
        super().__init__()
        self.elements: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def _parse(html: str) -> _Collect:
    p = _Collect()
    p.feed(html)
    return p


@pytest.fixture(scope="module")
def demo_result():
    return review_study(demo_path())


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory, demo_result):
    out = tmp_path_factory.mktemp("demo") / "out"
    write_outputs(demo_result, out, extra=lambda tmp, r: write_report_files(r, tmp))
    return out


@pytest.fixture(scope="module")
def hostile_out(tmp_path_factory):
    """A small workbook (the first 8 demo patients) with hostile patient IDs in every sheet."""
    src = demo_path()
    work = tmp_path_factory.mktemp("hostile")
    wb = work / "wb"
    wb.mkdir()
    ids = pd.read_csv(src / "patients.csv", dtype=str)["patient_id"].head(8).tolist()
    swap = {ids[0]: SCRIPT_ID, ids[1]: FORMULA_ID}
    for f in src.glob("*.csv"):
        frame = pd.read_csv(f, dtype=str, keep_default_na=False)
        frame = frame[frame["patient_id"].isin(ids)]
        frame["patient_id"] = frame["patient_id"].replace(swap)
        frame.to_csv(wb / f.name, index=False)
    result = review_study(wb)
    out = work / "out"
    write_outputs(result, out, extra=lambda tmp, r: write_report_files(r, tmp))
    return out


def test_demo_report_has_every_part(demo_out):
    html = (demo_out / "report.html").read_text(encoding="utf-8")
    page = _parse(html)
    ids = {a.get("id") for _, a in page.elements}
    for section in ("results", "flow", "table1", "figures", "patients", "methods", "exports"):
        assert section in ids
    figures = [a for _, a in page.elements if "data-figure" in a]
    assert len(figures) >= 4
    assert html.count("<svg") >= 5                      # flow diagram + figures, inline
    assert "Wilson score interval" in html
    text = "".join(page.text)
    assert "Fisher's exact test" in text and "Mann–Whitney U test" in text
    assert "Preston DC, Shapiro BE" in text and "Johnson's Practical Electromyography" in text
    # the methods say what the limits rest on, by status, and cite no internal document
    counts = json.loads((demo_out / "summary.json").read_text())[
        "provenance"]["reference_status"]["rows"]
    assert f"{counts['verified']} verified" in text and f"{counts['convention']} conventions" in text
    assert "Conventions used" in text
    assert "edx-knowledge" not in html and "specification §" not in html
    summary = json.loads((demo_out / "summary.json").read_text())
    assert summary["provenance"]["input_sha256"] in html
    assert f"edxreview {edxreview.__version__}" in html
    svgs = sorted(p.name for p in (demo_out / "figures").glob("*.svg"))
    assert len(svgs) >= 4 and "segmental_map.svg" in svgs
    assert (demo_out / "results.xlsx").is_file()


def test_no_external_resources(demo_out):
    html = (demo_out / "report.html").read_text(encoding="utf-8")
    page = _parse(html)
    for tag, attrs in page.elements:
        assert tag not in ("link", "iframe", "img", "object", "embed"), tag
        for name in ("src", "href", "action", "data", "xlink:href"):
            value = attrs.get(name) or ""
            assert not re.match(r"\s*(https?:|//|ftp:)", value), (tag, name, value)
    assert not re.search(r"url\(\s*['\"]?(https?:|//)", html)
    assert "@import" not in html and "@font-face" not in html
    assert not re.search(r"(https?|ftp)://", html)         # not even an SVG namespace


def test_element_ids_unique_and_resolved(demo_out):
    """Figures inlined in one page keep distinct ids (matplotlib numbers them per figure), and
    every ``url(#…)`` / ``href="#…"`` points at an element of the page."""
    html = (demo_out / "report.html").read_text(encoding="utf-8")
    ids = re.findall(r'\bid="([^"]+)"', html)
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    assert not repeated, repeated[:10]
    refs = set(re.findall(r'(?:url\(#|href="#)([^")]+)', html))
    assert refs and refs <= set(ids), sorted(refs - set(ids))[:10]


def test_numbers_equal_summary_and_csvs(demo_out):
    html = (demo_out / "report.html").read_text(encoding="utf-8")
    summary = json.loads((demo_out / "summary.json").read_text())
    patients = pd.read_csv(demo_out / "patients.csv", dtype={"patient_id": str})
    for col in ("included", "emg_denervation", "ncs_neuropathy", "denervation_explained_by_ncs",
                "ncs_abnormal_without_denervation", "lmn_involvement",
                "lmn_with_corresponding_mri"):
        patients[col] = patients[col].astype(str).str.lower() == "true"
    inc = patients[patients["included"]]
    page = _parse(html)
    rows = {a["data-measure"]: a for _, a in page.elements if "data-measure" in a}
    assert set(rows) == set(summary["measures"])
    for key, m in summary["measures"].items():
        r = rows[key]
        assert int(r["data-n"]) == m["n"] == int(inc[key].sum())
        assert int(r["data-denominator"]) == m["denominator"] == len(inc)
        assert float(r["data-percent"]) == m["percent"]
        assert [float(r["data-ci-low"]), float(r["data-ci-high"])] == m["ci95"]
    flow = {a["data-flow"]: int(a["data-n"]) for _, a in page.elements if "data-flow" in a}
    assert flow["workbook"] == len(patients)
    assert flow["included"] == summary["n_patients"]
    assert flow["excluded"] == summary["n_excluded"]
    for key in ("emg_denervation", "denervation_explained_by_ncs", "lmn_involvement",
                "lmn_with_corresponding_mri", "ncs_abnormal_without_denervation"):
        assert flow[key] == summary["measures"][key]["n"]
    t1_n = [a for _, a in page.elements if a.get("data-variable") == "n"]
    assert t1_n
    pages = [a for _, a in page.elements if "data-patient-page" in a]
    assert len(pages) == len(patients)


def test_hostile_ids_are_text(hostile_out):
    html = (hostile_out / "report.html").read_text(encoding="utf-8")
    assert SCRIPT_ID not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert html.count("<script>") == 1                 # the report's own filter script
    text = "".join(_parse(html).text)
    assert SCRIPT_ID in text and FORMULA_ID in text
    for svg in (hostile_out / "figures").glob("*.svg"):
        assert SCRIPT_ID not in svg.read_text(encoding="utf-8")


def test_xlsx_stores_formula_text_as_text(hostile_out):
    wb = openpyxl.load_workbook(hostile_out / "results.xlsx")
    found = {SCRIPT_ID: False, FORMULA_ID: False}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if cell.value in found:
                    found[cell.value] = True
                    assert cell.data_type == "s"
    assert all(found.values())
    assert "patients" in wb.sheetnames and "table1" in wb.sheetnames


def test_write_workbook_never_writes_formulas(tmp_path):
    hostile = ["=1+2", "+A1", "-3+4", "@SUM(A1:A2)", "=HYPERLINK(\"http://x\")", "plain"]
    frame = pd.DataFrame({"text": hostile, "n": range(len(hostile))})
    path = write_workbook({"t": frame}, tmp_path / "x.xlsx")
    ws = openpyxl.load_workbook(path)["t"]
    got = [(c.value, c.data_type) for c in ws["A"][1:]]
    assert got == [(v, "s") for v in hostile]
    assert [c.value for c in ws["B"][1:]] == list(range(len(hostile)))


def test_write_workbook_keeps_types_and_text(tmp_path):
    import numpy as np

    frame = pd.DataFrame({
        "n": [1, 2, 3], "x": [1.5, np.nan, 1e-5], "flag": [True, False, True],
        "mixed": [1, "a<b&c", None], "text": pd.array(["  spaced  ", None, "\x01bell"],
                                                        dtype="str")})
    path = write_workbook({"t": frame, "a/b": frame.iloc[:0]}, tmp_path / "x.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["t", "a_b", "codebook"]
    rows = [[c.value for c in row] for row in wb["t"].iter_rows()]
    assert rows[0] == ["n", "x", "Flag", "Mixed", "Text"]
    assert rows[1:] == [[1, 1.5, True, 1, "  spaced  "], [2, None, False, "a<b&c", None],
                        [3, 1e-5, True, None, "bell"]]
    assert wb["t"]["A1"].font.b


def test_workbook_is_laid_out_for_reading(tmp_path):
    long = "a long explanation " * 20
    frame = pd.DataFrame({"patient_id": ["P1", "=P2"], "muap_duration_ms": [10.25, 12.0],
                          "explanation": ["short", long], "n": [1, 2]})
    path = write_workbook({"patients": frame}, tmp_path / "x.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["patients"]
    assert [c.value for c in ws[1]] == ["Patient ID", "MUAP duration (ms)", "Explanation", "n"]
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:D3"
    widths = {k: d.width for k, d in ws.column_dimensions.items()}
    assert widths["A"] < widths["C"] < 61                  # from content, capped at 60
    assert widths["B"] >= len("duration")
    assert ws["A3"].value == "=P2" and ws["A3"].data_type == "s" and ws["A3"].quotePrefix
    assert ws["B2"].data_type == "n" and ws["D3"].value == 2
    book = wb["codebook"]
    rows = [[c.value for c in r] for r in book.iter_rows()]
    assert rows[0] == ["Sheet", "Column", "Machine name", "Type", "Filled cells"]
    assert ["patients", "MUAP duration (ms)", "muap_duration_ms", "number", 2] in rows
    assert ["patients", "Patient ID", "patient_id", "text", 2] in rows
    assert book.freeze_panes == "A2" and book.auto_filter.ref == "A1:E5"


def test_column_labels_are_readable_and_unique():
    from edxreview.report._labels import column_label, column_labels

    assert column_label("segment_velocity_m_s") == "Segment velocity (m/s)"
    assert column_label("lmn_with_corresponding_mri") == "LMN with corresponding MRI"
    assert column_label("age_years") == "Age (years)"
    assert column_label("LMN involvement, N = 9") == "LMN involvement, N = 9"
    assert column_label("p") == "p"
    assert column_labels(["ci95_low", "value", "Value"]) == [
        "95 % CI, lower", "Value [value]", "Value"]


def test_column_labels_in_chinese():
    """The headers of the label file's ``columns`` table are Chinese; a name spelled out word
    by word keeps its English words, with the Chinese unit and brackets."""
    from edxreview.report._labels import column_label, column_labels

    assert column_label("patient_id", "zh") == "患者编号"
    assert column_label("age_min_years", "zh") == "最小年龄（岁）"
    assert column_label("segment_velocity_m_s", "zh") == "Segment velocity（m/s）"
    assert column_label("LMN involvement, N = 9", "zh") == "LMN involvement, N = 9"
    assert column_labels(["ci95_low", "value", "Value"], "zh") == [
        "95 % 置信区间下限", "Value [value]", "Value"]


def test_every_named_header_is_a_column_of_the_workbook(demo_out):
    """No header of the ``columns`` table is stale: each names a column of a demo sheet (the
    codebook lists them), and the workbook shows it."""
    import openpyxl

    from edxreview._words import load_labels

    book = openpyxl.load_workbook(demo_out / "results.xlsx", read_only=True)
    rows = list(book["codebook"].iter_rows(min_row=2, values_only=True))
    shown = {machine: header for _, header, machine, _, _ in rows}
    columns = load_labels("en")["columns"]
    assert set(columns) <= set(shown), sorted(set(columns) - set(shown))
    assert all(shown[name] == header for name, header in columns.items())


def test_write_workbook_is_byte_identical(tmp_path):
    frame = pd.DataFrame({"id": ["a", "=b", "c"], "n": [1, 2, 3]})
    a = write_workbook({"t": frame, "u": frame}, tmp_path / "a.xlsx").read_bytes()
    b = write_workbook({"t": frame, "u": frame}, tmp_path / "b.xlsx").read_bytes()
    assert a == b


def test_figures_are_reproducible(demo_result, demo_out):
    from edxreview.report._render import make_figures

    figures, _ = make_figures(demo_result)
    for f in figures.values():
        assert f["svg"] == (demo_out / f["file"]).read_text(encoding="utf-8"), f["file"]


def test_large_cohort_pages_only_flagged(monkeypatch, tmp_path, demo_result):
    from edxreview.report import _render

    result = demo_result
    monkeypatch.setattr(_render, "PATIENT_PAGE_THRESHOLD", 20)
    monkeypatch.setattr(_render, "MAX_PATIENT_PAGES", 5)
    render_report(result, tmp_path)
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    pages = [a for _, a in _parse(html).elements if "data-patient-page" in a]
    assert len(pages) == 5
    assert "pages are shown only for patients with denervation" in html


@pytest.mark.skipif(find_chromium() is None,
                    reason="Chromium not installed (Debian package 'chromium'; .ci/run "
                           "installs it)")
def test_renders_in_chromium_offline(hostile_out, tmp_path):
    url = (hostile_out / "report.html").resolve().as_uri()
    visible = ("Array.from(document.querySelectorAll('section.patient'))"
               ".filter(s => s.offsetParent !== null).length")
    flagged = "document.querySelectorAll('section.patient.flagged').length"
    tick = ("(() => { const b = document.getElementById('only-flagged'); b.click(); "
            "return b.checked; })()")
    r = open_page(url, screenshot=tmp_path / "report.png",
                  expressions=(visible, flagged, tick, visible))
    assert r["loaded"]
    n_all, n_flagged, ticked, n_shown = r["values"]
    assert ticked and n_all > n_flagged and n_shown == n_flagged
    assert r["console_errors"] == [] and r["exceptions"] == [] and r["log_errors"] == []
    assert [u for u in r["requests"] if u != url] == []
    assert r["dialogs"] == []                            # the hostile ID never ran
    assert r["title"].startswith("Electrodiagnostic cohort review")
    assert (tmp_path / "report.png").stat().st_size > 10_000


def test_report_with_nobody_included(tmp_path, demo_result):
    import copy

    from edxreview.cohort import summarize_cohort

    result = copy.copy(demo_result)
    patients = demo_result.patients.copy()
    patients["included"] = False
    patients["exclusion_reason"] = "no needle EMG"
    result.patients = patients
    result.summary = {**demo_result.summary, **summarize_cohort(patients)}
    render_report(result, tmp_path)
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    flow = {a["data-flow"]: int(a["data-n"]) for _, a in _parse(html).elements
            if "data-flow" in a}
    assert flow["included"] == 0 and flow["excluded"] == len(patients)
    assert "no needle EMG" in html


def test_table1_groups_match_patients(demo_result, demo_out):
    from edxreview.report._render import table1

    patients = pd.read_csv(demo_out / "patients.csv", dtype={"patient_id": str})
    inc = patients[patients["included"].astype(str).str.lower() == "true"]
    lmn = int((inc["lmn_involvement"].astype(str).str.lower() == "true").sum())
    t1, _ = table1(demo_result)
    assert t1.groups == {"LMN involvement": lmn, "No LMN involvement": len(inc) - lmn}
    html = (demo_out / "report.html").read_text(encoding="utf-8")
    row = re.search(r'<tr data-variable="n">(.*?)</tr>', html, re.S).group(1)
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", row)
    assert cells[1:4] == [str(len(inc)), str(lmn), str(len(inc) - lmn)]
    head = re.search(r'<table class="table1">\s*<thead>(.*?)</thead>', html, re.S).group(1)
    assert re.findall(r"<th[^>]*>([^<]*)</th>", head)[1:4] == [
        f"Overall, N = {len(inc)}", f"LMN involvement, N = {lmn}",
        f"No LMN involvement, N = {len(inc) - lmn}"]
    sheet = openpyxl.load_workbook(demo_out / "results.xlsx")["table1"]
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    assert f"LMN involvement, N = {lmn}" in header and "p" in header


def test_methods_describe_every_entrapment_rule_in_full():
    from edxreview.knowledge import load_rules
    from edxreview.report._methods import describe_rules

    rules = load_rules()
    described = describe_rules(rules)
    topics = {r["topic"] for r in described}
    for ent in rules.get("entrapment", []) + rules.get("distal_entrapment", []):
        assert any(ent["nerve"] in t and ent["site"].replace("_", " ") in t for t in topics)
    for r in described:
        assert not re.search(r"\bwhen\s*\.", r["text"]), r


@pytest.mark.parametrize("pdf, limit, written", [(True, 1000, True), (True, 20, False),
                                                 (False, 1000, False)],
                         ids=["cohort: PDF", "registry: HTML only", "not asked: no PDF"])
def test_pdf_only_when_asked_and_for_cohorts(monkeypatch, tmp_path, demo_result, pdf, limit,
                                            written):
    import sys
    import types

    from edxreview.report import _render

    calls = []

    class _HTML:
        def __init__(self, **kwargs):
            pass

        def write_pdf(self, target):
            calls.append(target)

    monkeypatch.setitem(sys.modules, "weasyprint", types.SimpleNamespace(HTML=_HTML))
    monkeypatch.setattr(_render, "PDF_MAX_PATIENTS", limit)
    render_report(demo_result, tmp_path, xlsx=False, pdf=pdf)
    assert (tmp_path / "report.html").is_file()
    assert bool(calls) == written


def test_pdf_without_weasyprint_says_how_to_install(monkeypatch, tmp_path, demo_result):
    import sys

    from edxreview.cli import main
    from edxreview.report import PdfUnavailableError

    monkeypatch.setitem(sys.modules, "weasyprint", None)       # import fails
    with pytest.raises(PdfUnavailableError, match=r"pip install 'edxreview\[pdf\]'"):
        demo_result.write(tmp_path / "api", pdf=True)
    assert not (tmp_path / "api").exists()
    assert main(["demo", "--out", str(tmp_path / "cli"), "--pdf", "-q"]) == 2
    assert not (tmp_path / "cli").exists()


@pytest.mark.slow
def test_pdf_report_renders_its_pages(tmp_path, demo_result):
    """With WeasyPrint installed: report.pdf is a PDF of many A4 pages, patient tables within
    the page width."""
    weasyprint = pytest.importorskip("weasyprint")
    render_report(demo_result, tmp_path, xlsx=False, pdf=True)
    pdf = (tmp_path / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    doc = weasyprint.HTML(filename=tmp_path / "report.html").render()
    assert len(doc.pages) > 20
    widths = {round(p.width) for p in doc.pages}
    assert len(widths) == 1                       # no page grows to fit a wide table


def test_docx_holds_results_table1_figures_and_methods(tmp_path, demo_result):
    import docx

    demo_result.write(tmp_path / "out", docx=True, xlsx=False)
    doc = docx.Document(tmp_path / "out" / "report.docx")
    results, table1 = doc.tables[0], doc.tables[1]
    counts = {row.cells[0].text: row.cells[1].text for row in results.rows[1:]}
    for m in demo_result.summary["measures"].values():
        assert counts[m["label"]] == str(m["n"])
    assert [c.text for c in table1.rows[0].cells] == list(demo_result.table1.to_frame().columns)
    assert len(table1.rows) == len(demo_result.table1.to_frame()) + 1
    pictures = doc.inline_shapes
    assert len(pictures) == len(demo_result.figures())
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "Figure 1. Overlap of findings." in text and "Methods" in text
    assert "Asbury" in text                       # the methods cite the published sources
    assert "[rule" not in text and "edx-knowledge" not in text


def test_published_counts_only_beside_the_real_demo(tmp_path, demo_result):
    """A user's folder named 'demo' is not the demo; the bundled cohort is, under any name."""
    from edxreview.report._render import _is_demo, results_table

    assert _is_demo(demo_result)
    assert "published_n" in results_table(demo_result)
    mine = tmp_path / "demo"
    shutil.copytree(demo_path(), mine)
    copy = review_study(mine)
    assert _is_demo(copy)                         # the same bytes: the demo, renamed
    patients = mine / "patients.csv"
    patients.write_text(patients.read_text(encoding="utf-8").replace("NMOSD", "MS", 1),
                        encoding="utf-8")
    other = review_study(mine)
    assert other.summary["provenance"]["input"] == "demo"
    assert not _is_demo(other)
    assert "published_n" not in results_table(other)
    write_outputs(other, tmp_path / "out", extra=lambda tmp, r: write_report_files(r, tmp))
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "Published study" not in page and "demonstration cohort" not in page


def _forks() -> bool:
    import os
    import sys

    return sys.platform.startswith("linux") and len(os.sched_getaffinity(0)) > 1


def _in_a_fresh_process(code: str, *args: str) -> str:
    """``code`` run by a fresh interpreter (the test runner's own worker is never forked);
    its standard output."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.slow
def test_large_workbook_written_by_a_forked_copy_is_the_same(demo_out, tmp_path):
    """Above FORK_CELLS results.xlsx is written by a forked copy of the process while the
    report goes on: the same bytes, and the report beside it as before."""
    forked = _in_a_fresh_process("""
import sys
from edxreview import demo_path
from edxreview._pipeline import review_study, write_outputs
from edxreview.report import _excel, _render, write_report_files
_excel.FORK_CELLS = 0
_render.FIGURE_FORMATS = ("svg",)
forked = []
init = _excel.WorkbookWriter.__init__
def spy(self, *args, **kwargs):
    init(self, *args, **kwargs)
    forked.append(self._pid is not None)
_excel.WorkbookWriter.__init__ = spy
write_outputs(review_study(demo_path()), sys.argv[1], extra=lambda tmp, r: write_report_files(r, tmp))
print(forked)
""", str(tmp_path / "out"))
    assert forked.strip() == str([_forks()])
    for name in ("results.xlsx", "report.html"):
        assert (tmp_path / "out" / name).read_bytes() == (demo_out / name).read_bytes(), name


def test_workbook_error_in_the_forked_copy_is_raised(tmp_path):
    """A workbook its copy cannot write fails with the writer's own error, once the copy is
    done."""
    (tmp_path / "results.xlsx").mkdir()           # a folder where the file should go
    said = _in_a_fresh_process("""
import sys
import pandas as pd
from edxreview.report import _excel
_excel.FORK_CELLS = 0
writer = _excel.WorkbookWriter({"t": pd.DataFrame({"a": [1, 2]})}, sys.argv[1])
print(writer._pid is not None)
try:
    writer.wait()
except Exception as exc:
    print(type(exc).__name__, exc)
writer.wait()                                     # waited once: nothing left to raise
print("done")
""", str(tmp_path / "results.xlsx"))
    forked, error, done = said.strip().splitlines()
    assert forked == str(_forks())
    assert error.startswith("FileCreateError") and "Is a directory" in error
    assert done == "done"


def test_workbook_is_not_forked_while_another_thread_runs(tmp_path):
    """A lock held by another thread at the fork would stay held in the copy for ever (a
    Dask client's threads, a notebook's): with one alive, the workbook is written at once,
    here, with the same bytes."""
    said = _in_a_fresh_process("""
import sys, threading
import pandas as pd
from edxreview.report import _excel
_excel.FORK_CELLS = 0
sheets = {"t": pd.DataFrame({"a": [1, 2]})}
stop = threading.Event()
other = threading.Thread(target=stop.wait)
other.start()
writer = _excel.WorkbookWriter(sheets, sys.argv[1] + "/threaded.xlsx")
print(writer._pid is not None)
writer.wait()
stop.set()
other.join()
_excel.write_workbook(sheets, sys.argv[1] + "/here.xlsx")
""", str(tmp_path))
    assert said.strip() == "False"
    assert (tmp_path / "threaded.xlsx").read_bytes() == (tmp_path / "here.xlsx").read_bytes()


def test_workbook_cut_notes_are_known_before_it_is_written(tmp_path, monkeypatch):
    """The report states the tables cut at Excel's row limit; with the workbook written
    meanwhile, the notes are the writer's before the file exists."""
    from edxreview.report import _excel

    monkeypatch.setattr(_excel, "MAX_ROWS", 3)
    sheets = {"long": pd.DataFrame({"a": range(5)}), "short": pd.DataFrame({"a": range(3)})}
    assert _excel.cut_notes(sheets) == {"long": "5 rows; the first 3 are in the workbook"}
    notes: dict = {}
    write_workbook(sheets, tmp_path / "w.xlsx", notes)
    assert notes == _excel.cut_notes(sheets)
    wb = openpyxl.load_workbook(tmp_path / "w.xlsx", read_only=True)
    assert sum(1 for _ in wb["long"].iter_rows()) == 1 + 3
