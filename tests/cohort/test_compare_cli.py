"""``edxreview compare`` and ``adjudicate`` on the demo with two simulated readers."""

from __future__ import annotations

import pandas as pd
import pytest

from edxreview import demo_path
from edxreview._pipeline import review_study
from edxreview._pipeline import write_outputs
from edxreview.cli import main
from edxreview.cohort._agreement import CLASSIFICATIONS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "results"
    write_outputs(review_study(demo_path()), out)
    return out


@pytest.fixture(scope="module")
def software(results):
    frame = pd.read_csv(results / "patients.csv", dtype=str, keep_default_na=False)
    return frame[frame["included"] == "true"]


def _readers(software: pd.DataFrame, flips: dict[str, str]) -> pd.DataFrame:
    """Reader A agrees with the software everywhere; reader B differs on ``flips``
    (patient -> classification) and explains it in a comment."""
    rows = []
    for reader in ("A", "B"):
        frame = software[["patient_id", *CLASSIFICATIONS]].copy()
        frame[list(CLASSIFICATIONS)] = frame[list(CLASSIFICATIONS)].replace(
            {"true": "yes", "false": "no"})
        frame.insert(1, "reader", reader)
        frame["comment"] = ""
        if reader == "B":
            for pid, field in flips.items():
                at = frame["patient_id"] == pid
                frame.loc[at, field] = frame.loc[at, field].map({"yes": "no", "no": "yes"})
                frame.loc[at, "comment"] = "=borderline <b>fibs</b>"
        rows.append(frame)
    return pd.concat(rows, ignore_index=True)


def _pick(software: pd.DataFrame, field: str, value: str, k: int) -> list[str]:
    return software.loc[software[field] == value, "patient_id"].head(k).tolist()


@pytest.fixture(scope="module")
def flips(software):
    yes = _pick(software, "emg_denervation", "true", 2)
    no = _pick(software, "lmn_involvement", "false", 1)
    return {yes[0]: "emg_denervation", yes[1]: "emg_denervation", no[0]: "lmn_involvement"}


@pytest.fixture(scope="module")
def compared(results, software, flips, tmp_path_factory):
    base = tmp_path_factory.mktemp("readers")
    readers = base / "readers.csv"
    _readers(software, flips).to_csv(readers, index=False)
    out = base / "out"
    assert main(["compare", str(results), str(readers), "--out", str(out), "-q"]) == 0
    return base, readers, out


def test_agreement_equals_hand_computation_on_the_demo(compared, software):
    _, _, out = compared
    table = pd.read_csv(out / "agreement.csv").set_index(["classification", "rater_a", "rater_b"])
    n = len(software)
    assert n == 59
    # emg_denervation: software 13 yes / 46 no; B says no for two software-yes patients:
    # table software x B = [[46, 0], [2, 11]]; pa = 57/59;
    # kappa: pe = (13*11 + 46*48)/59^2 = 2351/3481, kappa = (57*59 - 2351)/(3481 - 2351) = 1012/1130
    # AC1: pi_yes = 24/118, pe = 2*24*94/118^2 = 4512/13924, AC1 = (57*236 - 4512)/(13924 - 4512)
    row = table.loc[("emg_denervation", "software", "B")]
    assert row["n"] == 59 and row["n_agree"] == 57
    assert row["percent_agreement"] == pytest.approx(100 * 57 / 59)
    assert row["kappa"] == pytest.approx(1012 / 1130)
    assert row["ac1"] == pytest.approx(8940 / 9412)
    # lmn_involvement: software 9 yes; B says yes for one more: [[49, 1], [0, 9]]
    # kappa: pe = (9*10 + 50*49)/3481 = 2540/3481, kappa = (58*59 - 2540)/(3481 - 2540) = 882/941
    row = table.loc[("lmn_involvement", "software", "B")]
    assert row["kappa"] == pytest.approx(882 / 941)
    # pi_yes = 19/118, pe = 2*19*99/13924 = 3762/13924, AC1 = (58*236 - 3762)/(13924 - 3762)
    assert row["ac1"] == pytest.approx(9926 / 10162)
    for field in CLASSIFICATIONS:
        assert table.loc[(field, "software", "A")]["kappa"] == pytest.approx(1.0)
        assert table.loc[(field, "all", "all")]["n_raters"] == 3
    # statsmodels agrees with the value written
    from statsmodels.stats.inter_rater import cohens_kappa
    assert cohens_kappa([[46, 0], [2, 11]]).kappa == pytest.approx(1012 / 1130)


def test_disagreements_table_is_formula_safe(compared, flips):
    _, _, out = compared
    dis = pd.read_csv(out / "disagreements.csv", dtype=str, keep_default_na=False)
    assert sorted(zip(dis["patient_id"], dis["classification"])) == sorted(flips.items())
    assert (dis["comment:B"] == "'=borderline <b>fibs</b>").all()
    assert dis["explanation"].str.len().gt(0).all()
    html = (out / "agreement.html").read_text(encoding="utf-8")
    assert "<b>fibs</b>" not in html and "&lt;b&gt;fibs&lt;/b&gt;" in html


def test_adjudicated_run_changes_exactly_the_adjudicated_cells(compared, results, flips):
    base, readers, _ = compared
    workbook = base / "adjudicate.xlsx"
    assert main(["adjudicate", str(results), str(readers), "--out", str(workbook), "-q"]) == 0
    sheet = pd.read_excel(workbook, dtype=str, keep_default_na=False)
    assert len(sheet) == 3 and {"final", "adjudicator", "reason", "software",
                                "reader:B"} <= set(sheet.columns)
    assert (sheet["comment:B"] == "'=borderline <b>fibs</b>").all()  # text, not a formula
    emg = sheet[sheet["classification"] == "emg_denervation"].index
    sheet.loc[emg[0], ["final", "adjudicator", "reason"]] = ["no", "Dr R", "no fibs on re-review"]
    sheet.loc[emg[1], ["final", "adjudicator", "reason"]] = ["yes", "Dr R", "software right"]
    filled = base / "filled.csv"
    sheet.to_csv(filled, index=False)
    out = base / "adjudicated"
    audit = base / "audit.csv"
    args = ["compare", str(results), str(readers), "--out", str(out), "--adjudicated",
            str(filled), "--audit", str(audit), "-q"]
    assert main(args) == 0
    before = pd.read_csv(results / "patients.csv", dtype=str, keep_default_na=False)
    after = pd.read_csv(out / "final_patients.csv", dtype=str, keep_default_na=False)
    changed = (before[list(CLASSIFICATIONS)] != after[list(CLASSIFICATIONS)]).stack()
    changed = changed[changed]
    assert [(before.loc[i, "patient_id"], f) for i, f in changed.index] == \
        [(sheet.loc[emg[0], "patient_id"], "emg_denervation")]
    counts = pd.read_csv(out / "final_counts.csv").set_index("classification")
    assert counts.loc["emg_denervation", "software_n"] == 13
    assert counts.loc["emg_denervation", "final_n"] == 12
    assert (counts.drop("emg_denervation")["software_n"]
            == counts.drop("emg_denervation")["final_n"]).all()
    log = pd.read_csv(audit, dtype=str)
    assert len(log) == 2
    assert log["new"].tolist() == ["no", "yes"] and log["old"].tolist() == ["yes", "yes"]
    assert log["who"].eq("Dr R").all() and log["adjudication_sha256"].str.len().eq(64).all()
    first = audit.read_bytes()
    assert main(args + ["--force"]) == 0  # a second run appends, never rewrites
    assert audit.read_bytes().startswith(first) and len(pd.read_csv(audit)) == 4


def test_adjudicating_an_undisputed_cell_is_a_located_error(compared, results, software,
                                                            capsys):
    base, readers, _ = compared
    undisputed = _pick(software, "ncs_neuropathy", "false", 1)[0]
    bad = base / "bad-adjudication.csv"
    pd.DataFrame([dict(patient_id=undisputed, classification="ncs_neuropathy", final="yes",
                       adjudicator="Dr R", reason="")]).to_csv(bad, index=False)
    out = base / "never"
    assert main(["compare", str(results), str(readers), "--out", str(out), "--adjudicated",
                 str(bad), "--audit", str(base / "never.csv")]) == 1
    err = capsys.readouterr().err
    assert "row 2" in err and "not disputed" in err and "give the reason" in err
    assert not out.exists() and not (base / "never.csv").exists()


def test_bad_reader_rows_are_located_errors(results, software, tmp_path, capsys):
    known = software["patient_id"].iloc[0]
    readers = tmp_path / "readers.csv"
    readers.write_text("patient_id,reader,emg_denervation,comment\n"
                       f"NOPE-1,A,yes,\n{known},A,perhaps,\n{known},A,no,\n", encoding="utf-8")
    assert main(["compare", str(results), str(readers), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "row 2, column 'patient_id': value 'NOPE-1'" in err
    assert "row 3, column 'emg_denervation': value 'perhaps'" in err
    assert "row 4" in err and "second row for this reader and patient" in err
    readers.write_text("patient_id,reader,lmn_grade\nx,A,1\n", encoding="utf-8")
    assert main(["compare", str(results), str(readers), "--out", str(tmp_path / "o")]) == 1
    assert "column 'lmn_grade'" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_usage_errors_exit_2(results, tmp_path):
    readers = tmp_path / "r.csv"
    readers.write_text("patient_id,reader,emg_denervation\n", encoding="utf-8")
    assert main(["compare", str(results), str(readers), "--out", str(tmp_path / "o"),
                 "--audit", str(tmp_path / "a.csv")]) == 2
    assert main(["compare", str(results), str(readers), "--out", str(results)]) == 2
    with pytest.raises(SystemExit) as exc:
        main(["compare", str(results)])
    assert exc.value.code == 2


def test_readers_sheet_of_a_workbook(results, software, tmp_path, capsys):
    known = software["patient_id"].iloc[:2].tolist()
    book = tmp_path / "readers.xlsx"
    with pd.ExcelWriter(book) as writer:
        pd.DataFrame({"x": [1]}).to_excel(writer, sheet_name="notes", index=False)
        pd.DataFrame({"patient_id": known, "reader": ["A", "A"],
                      "ncs_neuropathy": ["TRUE", "maybe"]}).to_excel(
            writer, sheet_name="readers", index=False)
    assert main(["compare", str(results), str(book), "--out", str(tmp_path / "o")]) == 1
    assert "sheet 'readers.xlsx:readers', row 3, column 'ncs_neuropathy': value 'maybe'" \
        in capsys.readouterr().err


def test_reader_rows_without_any_answer_and_empty_files_are_refused(results, software,
                                                                    tmp_path, capsys):
    known = software["patient_id"].iloc[0]
    readers = tmp_path / "readers.csv"
    readers.write_text(f"patient_id,reader,emg_denervation\n{known},A,\n", encoding="utf-8")
    assert main(["compare", str(results), str(readers), "--out", str(tmp_path / "o")]) == 1
    assert "row 2" in capsys.readouterr().err
    readers.write_text("patient_id,reader,emg_denervation\n", encoding="utf-8")
    assert main(["compare", str(results), str(readers), "--out", str(tmp_path / "o")]) == 1
    assert "no reader rows" in capsys.readouterr().err


def test_audit_log_may_not_be_written_into_the_results(compared, results, capsys):
    base, readers, _ = compared
    filled = base / "empty-adjudication.csv"
    filled.write_text("patient_id,classification,final,adjudicator,reason\n", encoding="utf-8")
    assert main(["compare", str(results), str(readers), "--out", str(base / "x"),
                 "--adjudicated", str(filled), "--audit", str(results / "audit.csv")]) == 2
    assert not (results / "audit.csv").exists()


def test_no_disagreement_page_and_an_empty_audit_log(results, software, tmp_path):
    readers = tmp_path / "readers.csv"
    _readers(software, {}).to_csv(readers, index=False)
    out = tmp_path / "o"
    assert main(["compare", str(results), str(readers), "--out", str(out), "-q"]) == 0
    html = (out / "agreement.html").read_text(encoding="utf-8")
    assert "Readers: A, B." in html and "None: every reader agrees" in html
    filled = tmp_path / "adj.csv"
    filled.write_text("patient_id,classification,final,adjudicator,reason\n", encoding="utf-8")
    audit = tmp_path / "audit.csv"
    audit.touch()
    assert main(["compare", str(results), str(readers), "--out", str(tmp_path / "o2"),
                 "--adjudicated", str(filled), "--audit", str(audit), "-q"]) == 0
    assert audit.read_text(encoding="utf-8").splitlines()[0].startswith("patient_id,field,old")


def test_a_foreign_audit_log_is_refused(compared, results, capsys):
    base, readers, _ = compared
    filled = base / "empty-adjudication-2.csv"
    filled.write_text("patient_id,classification,final,adjudicator,reason\n", encoding="utf-8")
    audit = base / "notes.csv"
    audit.write_text("a,b\n1,2\n", encoding="utf-8")
    assert main(["compare", str(results), str(readers), "--out", str(base / "y"),
                 "--adjudicated", str(filled), "--audit", str(audit)]) == 1
    assert "not an edxreview audit log" in " ".join(capsys.readouterr().err.split())
    assert audit.read_text(encoding="utf-8") == "a,b\n1,2\n" and not (base / "y").exists()


def test_adjudicate_force_never_replaces_an_adjudication(compared, results, capsys):
    """--force replaces a blank form, never a workbook in which an adjudicator has written."""
    from openpyxl import load_workbook

    base, readers, _ = compared
    workbook = base / "adj-force.xlsx"
    args = ["adjudicate", str(results), str(readers), "--out", str(workbook), "-q"]
    assert main(args) == 0
    assert main(args + ["--force"]) == 0            # blank: replaced
    book = load_workbook(workbook)
    ws = book["adjudication"]
    header = [c.value for c in ws[1]]
    ws.cell(2, header.index("final") + 1, "no")
    ws.cell(2, header.index("adjudicator") + 1, "Dr R")
    ws.cell(3, header.index("reason") + 1, "re-read the tracing")
    book.save(workbook)
    before = workbook.read_bytes()
    capsys.readouterr()
    assert main(args + ["--force"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "holds 3 filled final, adjudicator or reason cell(s)" in err
    assert repr(str(workbook)).replace(" ", "") in err.replace(" ", "") and "Traceback" not in err
    assert workbook.read_bytes() == before
    workbook.write_bytes(b"not a workbook")
    assert main(args + ["--force"]) == 2 and workbook.read_bytes() == b"not a workbook"


def test_adjudicate_never_replaces_a_folder_or_writes_through_a_link(compared, results,
                                                                       capsys):
    """The first checks every one-file writer makes (replaceable_without_reading): a folder is
    refused with or without --force; a link is refused without --force and replaced with it,
    what it leads to kept; an existing file is refused without --force, untouched."""
    base, readers, _ = compared
    folder = base / "adj-folder.xlsx"
    (folder / "inside").mkdir(parents=True)
    for force in ([], ["--force"]):
        capsys.readouterr()
        assert main(["adjudicate", str(results), str(readers), "--out", str(folder), "-q",
                     *force]) == 2
        err = " ".join(capsys.readouterr().err.split())
        assert f"{str(folder)!r} is a folder; the adjudication workbook is a file" in err
        assert "Traceback" not in err
        assert [p.name for p in folder.iterdir()] == ["inside"]
    kept = base / "kept.xlsx"
    kept.write_bytes(b"the link's target")
    link = base / "adj-link.xlsx"
    link.symlink_to(kept)
    args = ["adjudicate", str(results), str(readers), "--out", str(link), "-q"]
    capsys.readouterr()
    assert main(args) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"{str(link)!r} exists, a symbolic link (to {str(kept)!r}); pass --force" in err
    assert link.is_symlink() and kept.read_bytes() == b"the link's target"
    assert main(args + ["--force"]) == 0
    assert not link.is_symlink() and link.is_file()
    assert kept.read_bytes() == b"the link's target"
    before = link.read_bytes()
    capsys.readouterr()
    assert main(args) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"{str(link)!r} exists; pass --force to replace it" in err
    assert link.read_bytes() == before


def _filled_adjudication(results, readers, base) -> "Path":
    workbook = base / "to-fill.xlsx"
    assert main(["adjudicate", str(results), str(readers), "--out", str(workbook), "-q",
                 "--force"]) == 0
    sheet = pd.read_excel(workbook, dtype=str, keep_default_na=False)
    sheet.loc[0, ["final", "adjudicator", "reason"]] = ["yes", "Dr R", "software right"]
    filled = base / "filled-once.csv"
    sheet.to_csv(filled, index=False)
    return filled


def test_an_audit_log_that_cannot_be_written_stops_before_anything_is(compared, results,
                                                                         capsys):
    base, readers, _ = compared
    filled = _filled_adjudication(results, readers, base)
    out = base / "cmp-full"
    (base / "a-folder").mkdir()
    for audit in ("/dev/full", str(base / "a-folder")):
        capsys.readouterr()
        assert main(["compare", str(results), str(readers), "--adjudicated", str(filled),
                     "--audit", audit, "--out", str(out), "-q"]) == 2
        err = " ".join(capsys.readouterr().err.split())
        assert f"--audit {audit!r} is not a plain file" in err and "Traceback" not in err
        assert not out.exists()


def test_a_failed_append_after_the_outputs_says_what_was_written(compared, results, capsys,
                                                                 monkeypatch):
    """The log cannot be checked for space in advance: a failed append is undone and the
    message says the outputs are written and the log is not."""
    import errno
    import os

    base, readers, _ = compared
    filled = _filled_adjudication(results, readers, base)
    audit = base / "full-disk-audit.csv"
    out = base / "cmp-appended"
    args = ["compare", str(results), str(readers), "--adjudicated", str(filled), "--audit",
            str(audit), "--out", str(out), "-q"]
    assert main(args) == 0
    before = audit.read_bytes()
    real = os.write
    calls = []

    def disk_fills(fd, data):
        calls.append(fd)
        if len(calls) == 1:
            return real(fd, data[:7])                # part of the first row, then a full disk
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", disk_fills)
    capsys.readouterr()
    assert main(args + ["--force"]) == 2
    monkeypatch.undo()
    err = " ".join(capsys.readouterr().err.split())
    assert "the outputs were written to" in err and "could not be appended to" in err
    assert "1 change(s) are in" in err and "Traceback" not in err
    assert (out / "audit.csv").is_file() and audit.read_bytes() == before
    fresh = base / "fresh-audit.csv"                 # a log the failed append would create
    calls.clear()
    monkeypatch.setattr(os, "write", disk_fills)
    code = main(["compare", str(results), str(readers), "--adjudicated", str(filled),
                 "--audit", str(fresh), "--out", str(base / "cmp-fresh"), "-q"])
    monkeypatch.undo()
    assert code == 2 and not fresh.exists()


def test_the_compare_folder_records_each_file_as_written(compared, results):
    """The manifests list every file with its size and SHA-256, so that --force can tell a file
    the user edited there from edxreview's own."""
    import hashlib
    import json

    from edxreview._output import MARKER

    for out in (compared[2], results):
        manifest = json.loads((out / MARKER).read_text())
        files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*")
                       if p.is_file() and p.name != MARKER)
        assert manifest["files"] == files and sorted(manifest["checksums"]) == files
        for name in files:
            data = (out / name).read_bytes()
            assert manifest["checksums"][name] == {
                "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}, name
