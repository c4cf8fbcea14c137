"""``edxreview validate`` lists the quantitative MUAP means that ``edxreview run`` keeps without
judging them, as the same located warnings (one function gives both), against the same table
(``--muap-reference``, as run takes it); they are warnings, so the exit status stays 0."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from edxreview.cli import main

LAB_CSV = ("muscle,age_min_years,age_max_years,duration_lower_ms,duration_upper_ms,"
           "amplitude_upper_uv\nbiceps_brachii,18,90,8,12,2000\n")
MUAP_COLUMNS = ("muap_duration_ms", "muap_amplitude_uv")


def _workbook(tmp_path: Path) -> Path:
    """One patient: a biceps and a tibialis anterior with means only, a deltoid read
    qualitatively beside its means, a triceps with no MUAP column at all."""
    folder = tmp_path / "book"
    folder.mkdir()
    (folder / "patients.csv").write_text("patient_id,sex,age_years\nP1,F,54\n", encoding="utf-8")
    (folder / "ncs_motor.csv").write_text(
        "patient_id,nerve,side,stim_site,latency_ms,amplitude_mv\nP1,median,R,wrist,3.5,8\n",
        encoding="utf-8")
    (folder / "emg.csv").write_text(
        "patient_id,muscle,side,fibs,psw,muap_duration,muap_amplitude,muap_duration_ms,"
        "muap_amplitude_uv\n"
        "P1,biceps_brachii,R,0,0,,,10.2,600\n"
        "P1,tibialis_anterior,R,0,0,,,11.0,\n"
        "P1,deltoid,R,0,0,normal,normal,9.0,500\n"
        "P1,triceps_brachii,R,0,0,,,,\n", encoding="utf-8")
    return folder


def _validate_warnings(text: str) -> set[tuple[int, str, str]]:
    """(row, column, message) of each MUAP-mean warning line of validate's output."""
    out = set()
    for line in text.splitlines():
        m = re.match(r"warning: sheet 'emg', row (\d+), column '(\w+)': value [^:]+: (.*)$", line)
        if m and m.group(2) in MUAP_COLUMNS:
            out.add((int(m.group(1)), m.group(2), m.group(3)))
    return out


def _run_warnings(out: Path) -> set[tuple[int, str, str]]:
    w = pd.read_csv(out / "warnings.csv")
    w = w[w["sheet"].eq("emg") & w["column"].isin(MUAP_COLUMNS)]
    return {(int(r), c, m) for r, c, m in zip(w["row"], w["column"], w["message"])}


@pytest.mark.parametrize("lab", [False, True], ids=["bundled table", "laboratory table"])
def test_validate_warns_of_the_means_run_does_not_judge(tmp_path, capsys, lab):
    book = _workbook(tmp_path)
    extra = []
    if lab:
        (tmp_path / "lab.csv").write_text(LAB_CSV, encoding="utf-8")
        extra = ["--muap-reference", str(tmp_path / "lab.csv")]
    capsys.readouterr()
    assert main(["validate", str(book), *extra]) == 0
    listed = _validate_warnings(capsys.readouterr().out)
    assert main(["run", str(book), "--out", str(tmp_path / "out"), "-q", *extra]) == 0
    assert listed == _run_warnings(tmp_path / "out")
    rows = {(r, c) for r, c, _ in listed}
    if lab:   # the biceps is judged against the lab's row; the tibialis has none
        assert rows == {(3, "muap_duration_ms")}
        assert all("no MUAP reference for tibialis anterior" in m for _, _, m in listed)
    else:     # the bundled table judges nothing: every mean without a qualitative reading
        assert rows == {(2, "muap_duration_ms"), (2, "muap_amplitude_uv"),
                        (3, "muap_duration_ms")}


def test_a_bad_laboratory_table_is_refused_by_validate_as_by_run(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("muscle,age_min_years,age_max_years,duration_lower_ms,duration_upper_ms,"
                   "amplitude_upper_uv\nbiceps_brachii,18,90,14,12,2000\n", encoding="utf-8")
    assert main(["validate", str(_workbook(tmp_path)), "--muap-reference", str(bad)]) == 1
    captured = capsys.readouterr()
    assert "the lower duration limit must be below the upper one" in captured.out + captured.err


def test_a_partitioned_dataset_is_warned_of_as_a_workbook(tmp_path, capsys):
    book = _workbook(tmp_path)
    dataset = tmp_path / "dataset"
    for sheet in ("patients", "ncs_motor", "emg"):
        part = dataset / sheet / "bucket=0"
        part.mkdir(parents=True)
        pd.read_csv(book / f"{sheet}.csv", dtype=str).to_parquet(part / "part0.parquet")
    capsys.readouterr()
    assert main(["validate", str(dataset)]) == 0
    listed = _validate_warnings(capsys.readouterr().out)
    assert len(listed) == 3 and listed == _validate_warnings_of(book, capsys)


def _validate_warnings_of(book: Path, capsys) -> set[tuple[int, str, str]]:
    assert main(["validate", str(book)]) == 0
    return _validate_warnings(capsys.readouterr().out)
