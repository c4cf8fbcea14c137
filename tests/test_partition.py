"""Registry scale: patient-partitioned datasets, the review over partitions, workers, engines."""

import json
from pathlib import Path

import pandas as pd
import pytest

from edxreview._pipeline import review_study
from edxreview._output import MARKER
from edxreview._partition import review_registry
from edxreview.cli import main
from edxreview.io._dataset import (dataset_buckets, is_partitioned_dataset, partition_folder,
                                   read_partition)

FLAGS = ["emg_denervation", "ncs_neuropathy", "denervation_explained_by_ncs",
         "ncs_abnormal_without_denervation", "lmn_involvement", "lmn_with_corresponding_mri"]
SHEETS = ["patients", "ncs_motor", "ncs_sensory", "f_waves", "blink_reflex", "emg", "mri"]


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    root = tmp_path_factory.mktemp("partitioned")
    assert main(["synth", "--patients", "100", "--seed", "5", "--out", str(root / "csv"),
                 "-q"]) == 0
    assert main(["synth", "--patients", "100", "--seed", "5", "--out", str(root / "dataset"),
                 "--format", "parquet", "--partitions", "3", "-q"]) == 0
    return root


@pytest.fixture(scope="module")
def single(registry, tmp_path_factory):
    """The registry reviewed in one piece, as every study below the partition size is."""
    out = tmp_path_factory.mktemp("single") / "out"
    assert main(["run", str(registry / "csv"), "--out", str(out), "--partitions", "1",
                 "-q"]) == 0
    return out


@pytest.fixture(scope="module")
def partitioned(registry, tmp_path_factory):
    out = tmp_path_factory.mktemp("parts") / "out"
    assert main(["run", str(registry / "csv"), "--out", str(out), "--partitions", "4",
                 "--jobs", "1", "-q"]) == 0
    return out


def _files(folder: Path) -> dict[str, bytes]:
    """Every file of an output folder; summary.json without the time it was written, and the
    manifest without the hash of summary.json (which holds that time)."""
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            data = p.read_bytes()
            if p.name == "summary.json":
                summary = json.loads(data)
                summary["provenance"].pop("generated_at")
                data = json.dumps(summary).encode()
            elif p.name == MARKER:
                manifest = json.loads(data)
                manifest["checksums"].pop("summary.json")
                data = json.dumps(manifest).encode()
            out[p.relative_to(folder).as_posix()] = data
    return out


def test_synth_writes_a_hive_partitioned_dataset(registry):
    dataset = registry / "dataset"
    assert is_partitioned_dataset(dataset) and not is_partitioned_dataset(registry / "csv")
    assert dataset_buckets(dataset) == [0, 1, 2]
    assert sorted(p.name for p in (dataset / "emg").iterdir()) == [
        "bucket=0", "bucket=1", "bucket=2"]
    assert (dataset / "truth.csv").is_file()


def test_every_patient_is_in_one_bucket_on_every_sheet(registry):
    seen: dict[str, int] = {}
    for bucket in dataset_buckets(registry / "dataset"):
        raw = read_partition(registry / "dataset", bucket)
        for sheet in SHEETS:
            for pid in raw.sheets[sheet]["patient_id"].unique():
                assert seen.setdefault(pid, bucket) == bucket, (sheet, pid)
    assert len(seen) == 100


def test_partition_rows_keep_their_row_in_the_sheet(registry, tmp_path):
    """A problem found in a bucket must name the row a user sees in the sheet."""
    partition_folder(registry / "csv", tmp_path, 3)
    source = pd.read_csv(registry / "csv" / "emg.csv", dtype=str, keep_default_na=False)
    for bucket in dataset_buckets(tmp_path):
        emg = read_partition(tmp_path, bucket).sheets["emg"]
        expected = source.iloc[emg["_row"].to_numpy() - 2].reset_index(drop=True)
        pd.testing.assert_frame_equal(emg.drop(columns="_row"), expected, check_dtype=False)


def test_ids_with_stray_spaces_fall_in_the_bucket_of_their_patient(tmp_path):
    """Validation strips ids; the bucket must be that of the stripped id, or a patient's rows
    would be split over buckets and reported as unknown."""
    from edxreview.io._dataset import write_partitioned

    frames = {"patients": pd.DataFrame({"patient_id": [f"P{i}" for i in range(40)]}),
              "emg": pd.DataFrame({"patient_id": [f" P{i}\u200b " for i in range(40)]})}
    write_partitioned(frames, tmp_path, 4)
    for bucket in dataset_buckets(tmp_path):
        raw = read_partition(tmp_path, bucket)
        ids = set(raw.sheets["patients"]["patient_id"])
        assert {s.strip().replace("\u200b", "") for s in raw.sheets["emg"]["patient_id"]} <= ids


def test_partitioned_review_gives_the_single_review_results(single, partitioned):
    a = json.loads((single / "summary.json").read_text())
    b = json.loads((partitioned / "summary.json").read_text())
    assert a["measures"] == b["measures"]
    assert a["rows"] == b["rows"] and a["warnings"] == b["warnings"]
    assert b["provenance"]["options"]["partitions"] == 4
    assert a["provenance"]["input_sha256"] == b["provenance"]["input_sha256"]
    # the per-patient table and the report's patients follow the patients sheet
    assert (single / "patients.csv").read_bytes() == (partitioned / "patients.csv").read_bytes()
    for name in ("patients", "muscles", "nerves", "values", "findings", "lesions", "warnings"):
        x = pd.read_csv(single / f"{name}.csv", dtype=str, keep_default_na=False)
        y = pd.read_csv(partitioned / f"{name}.csv", dtype=str, keep_default_na=False)
        assert list(x.columns) == list(y.columns), name
        key = list(x.columns)
        pd.testing.assert_frame_equal(x.sort_values(key).reset_index(drop=True),
                                      y.sort_values(key).reset_index(drop=True), obj=name)


def test_rows_in_equal_rows_used_plus_rejected_across_partitions(partitioned, registry):
    rows = json.loads((partitioned / "summary.json").read_text())["rows"]
    for sheet in SHEETS:
        source = pd.read_csv(registry / "csv" / f"{sheet}.csv", dtype=str)
        r = rows[sheet]
        assert r["read"] == len(source) == r["used"] + r["rejected"], sheet


def test_report_figures_count_every_row(single, partitioned):
    """The figures come from the counted columns of every partition, not from the rows of
    the patients shown: they are the single review's figures."""
    for name in ("muscles", "nerves", "overlap"):
        assert (single / "figures" / f"{name}.svg").read_bytes() == \
            (partitioned / "figures" / f"{name}.svg").read_bytes(), name
    # the same marks, drawn in bucket order
    a, b = ((out / "figures" / "segmental_map.svg").read_text().split(">")
            for out in (single, partitioned))
    assert sorted(a) == sorted(b)


def test_agreement_with_the_generator_truth(partitioned, registry):
    truth = pd.read_csv(registry / "csv" / "truth.csv", dtype=str).set_index("patient_id")
    got = pd.read_csv(partitioned / "patients.csv", dtype=str).set_index("patient_id")
    for col in FLAGS:
        assert (got[col] == truth.loc[got.index, col]).all(), col


@pytest.mark.slow
def test_jobs_do_not_change_a_byte(registry, partitioned, tmp_path):
    out = tmp_path / "jobs2"
    assert main(["run", str(registry / "csv"), "--out", str(out), "--partitions", "4",
                 "--jobs", "2", "-q"]) == 0
    assert _files(out) == _files(partitioned)


def test_the_dataset_is_reviewed_bucket_by_bucket(registry, single, tmp_path):
    out = tmp_path / "ds"
    review_registry(registry / "dataset", out, jobs=1, report=False)
    a = json.loads((single / "summary.json").read_text())
    b = json.loads((out / "summary.json").read_text())
    assert a["measures"] == b["measures"] and a["rows"] == b["rows"]
    assert b["provenance"]["options"]["partitions"] == 3
    assert b["provenance"]["input_format"] == "parquet"


def test_parquet_output_is_a_dataset_of_the_same_rows(registry, partitioned, tmp_path):
    out = tmp_path / "pq"
    review_registry(registry / "csv", out, partitions=4, jobs=1, output_format="parquet",
                    report=False)
    values = pd.read_parquet(out / "values")
    assert sorted(p.name for p in (out / "values").iterdir())[0] == "part-00000.parquet"
    csv = pd.read_csv(partitioned / "values.csv", dtype=str, keep_default_na=False)
    assert len(values) == len(csv)
    assert list(values["patient_id"]) == list(csv["patient_id"])
    patients = pd.read_parquet(out / "patients.parquet")
    expected = pd.read_csv(partitioned / "patients.csv", dtype=str, keep_default_na=False)
    assert list(patients["patient_id"]) == list(expected["patient_id"])
    for column in (*FLAGS, "explanation", "exclusion_reason"):
        got = patients[column].map(lambda v: str(v).lower() if isinstance(v, bool) else v)
        assert list(got.fillna("")) == list(expected[column]), column


def test_small_studies_stay_in_one_piece(registry):
    from edxreview import demo_path
    from edxreview._partition import choose_partitions

    assert choose_partitions(demo_path(), None) == 1
    assert choose_partitions(registry / "csv", None) == 1
    assert choose_partitions(registry / "csv", 5) == 5
    assert choose_partitions(registry / "dataset", 1) == 3   # a dataset keeps its buckets


def test_demo_in_partitions_derives_the_published_counts(tmp_path):
    assert main(["demo", "--out", str(tmp_path / "demo"), "--partitions", "3", "--jobs", "1",
                 "-q"]) == 0
    summary = json.loads((tmp_path / "demo" / "summary.json").read_text())
    assert [m["n"] for m in summary["measures"].values()] == [13, 7, 4, 2, 9, 4]
    assert summary["n_patients"] == 59


def test_a_problem_in_one_partition_stops_the_run_located(registry, tmp_path, capsys):
    bad = tmp_path / "bad"
    bad.mkdir()
    for p in (registry / "csv").glob("*.csv"):
        (bad / p.name).write_bytes(p.read_bytes())
    emg = pd.read_csv(bad / "emg.csv", dtype=str, keep_default_na=False)
    emg.loc[10, "fibs"] = "lots"
    emg.to_csv(bad / "emg.csv", index=False, lineterminator="\n")
    out = tmp_path / "out"
    assert main(["run", str(bad), "--out", str(out), "--partitions", "3", "--jobs", "1",
                 "-q"]) == 1
    err = capsys.readouterr().err
    assert "1 error(s)" in err
    assert "error: sheet 'emg', row 12" in err and "'lots'" in err
    assert not out.exists()


@pytest.mark.parametrize("argv, message", [
    (["--jobs", "0"], "--jobs 0 must be at least 1"),
    (["--partitions", "0"], "--partitions 0 must be at least 1"),
    (["--dask-address", "tcp://localhost:1"], "--dask-address needs --engine dask"),
    (["--partitions", "9223372036854775807"],
     "--partitions 9223372036854775807 is more than the most a review can split a study "
     "into, 2147483647"),
], ids=["no jobs", "no partitions", "address without dask", "beyond INT32"])
def test_wrong_usage_exits_2(registry, tmp_path, capsys, argv, message):
    assert main(["run", str(registry / "csv"), "--out", str(tmp_path / "o"), *argv]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_the_most_partitions_is_the_bucket_type_and_the_help_says_it():
    """A bucket is cast to DuckDB's INTEGER; the help states the same bound."""
    import duckdb

    from edxreview.cli import build_parser
    from edxreview.io._dataset import MAX_PARTITIONS

    con = duckdb.connect()
    assert con.execute(f"SELECT CAST({MAX_PARTITIONS} AS INTEGER)").fetchone()[0] == MAX_PARTITIONS
    with pytest.raises(duckdb.Error):
        con.execute(f"SELECT CAST({MAX_PARTITIONS + 1} AS INTEGER)").fetchone()
    parser = build_parser()
    for command in ("run", "synth"):
        sub = parser._subparsers._group_actions[0].choices[command]
        assert f"1 to {MAX_PARTITIONS}" in " ".join(sub.format_help().split())
    with pytest.raises(Exception, match="from 1 to 2147483647"):
        review_registry(Path("unused"), Path("unused-out"), partitions=MAX_PARTITIONS + 1)


def test_synth_partitions_alone_write_a_parquet_dataset(tmp_path, registry):
    """--partitions asks for the one partitioned format there is: Parquet (it was refused,
    exit 2, with a message that seemed to reject the number of buckets)."""
    out = tmp_path / "x"
    assert main(["synth", "--patients", "100", "--seed", "5", "--out", str(out),
                 "--partitions", "3", "-q"]) == 0
    assert is_partitioned_dataset(out)
    assert dataset_buckets(out) == dataset_buckets(registry / "dataset")
    assert (out / "truth.csv").read_bytes() == (registry / "dataset" / "truth.csv").read_bytes()


@pytest.mark.parametrize("argv, message", [
    (["--format", "csv", "--partitions", "2"],
     "--partitions writes a partitioned Parquet dataset, not CSV sheets: leave out --format csv"),
    (["--partitions", "0"], "--partitions 0 must be at least 1"),
    (["--format", "parquet", "--partitions", "-1"], "--partitions -1 must be at least 1"),
    (["--partitions", "9223372036854775807"],
     "--partitions 9223372036854775807 is more than the most buckets a dataset can have, "
     "2147483647"),
], ids=["csv with partitions", "no buckets", "negative buckets", "beyond INT32"])
def test_synth_partitions_wrong_usage_exits_2(tmp_path, capsys, argv, message):
    out = tmp_path / "x"
    assert main(["synth", "--patients", "5", "--out", str(out), *argv]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert message in err
    assert not out.exists()


def test_review_study_is_unchanged_for_a_sheet_folder(registry):
    """The in-memory API still reviews a folder in one piece."""
    result = review_study(registry / "csv")
    assert not result.overview and len(result.values) > len(result.patients)


@pytest.mark.slow
def test_dask_engine_gives_the_local_engine_bytes(registry, partitioned, tmp_path):
    """The same partition function on a Dask cluster of two worker processes."""
    pytest.importorskip("distributed")
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        out = tmp_path / "dask"
        assert main(["run", str(registry / "csv"), "--out", str(out), "--partitions", "4",
                     "--engine", "dask", "--dask-address", cluster.scheduler_address,
                     "-q"]) == 0
    assert _files(out) == _files(partitioned)


# -- multi-centre registries ----------------------------------------------------------------

def test_wilson_interval_of_one_centre_matches_r():
    """3 of 10: R prop.test(3, 10, correct = FALSE)$conf.int = 0.1077913, 0.6032219."""
    from edxreview.cohort._centres import summarize_centres

    patients = pd.DataFrame({"patient_id": [f"P{i}" for i in range(10)], "included": True,
                             **{c: [i < 3 for i in range(10)] for c in FLAGS}})
    centres = pd.DataFrame({"patient_id": patients["patient_id"], "centre": "A"})
    table = summarize_centres(patients, centres)
    row = table[table["measure"] == "emg_denervation"].iloc[0]
    assert (row["n"], row["denominator"], row["percent"]) == (3, 10, 30.0)
    assert (row["ci95_low"], row["ci95_high"]) == (10.8, 60.3)


def test_no_centre_column_no_breakdown():
    from edxreview.cohort._centres import summarize_centres

    patients = pd.DataFrame({"patient_id": ["P1"], "included": [True],
                             **{c: [False] for c in FLAGS}})
    assert summarize_centres(patients, pd.DataFrame({"patient_id": ["P1"]})).empty
    assert summarize_centres(patients, pd.DataFrame({"patient_id": ["P1"],
                                                     "centre": [None]})).empty


@pytest.fixture(scope="module")
def centres(tmp_path_factory):
    root = tmp_path_factory.mktemp("centres")
    assert main(["synth", "--patients", "90", "--seed", "8", "--centres", "3", "--out",
                 str(root / "csv"), "-q"]) == 0
    return root


@pytest.mark.parametrize("partitions", ["1", "3"], ids=["in one piece", "in partitions"])
def test_per_centre_breakdown_and_forest_plot(centres, tmp_path, partitions):
    out = tmp_path / "out"
    assert main(["run", str(centres / "csv"), "--out", str(out), "--partitions", partitions,
                 "--jobs", "1", "-q"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    table = pd.DataFrame(summary["centres"])
    assert sorted(table["centre"].unique()) == ["centre-01", "centre-02", "centre-03"]
    for key, m in summary["measures"].items():
        rows = table[table["measure"] == key]
        assert rows["n"].sum() == m["n"] and rows["denominator"].sum() == m["denominator"]
    svg = (out / "figures" / "centres.svg").read_text()
    assert "centre-02" in svg
    assert "Findings by centre" in (out / "report.html").read_text()
    import openpyxl

    assert "centres" in openpyxl.load_workbook(out / "results.xlsx", read_only=True).sheetnames
    patients = pd.read_csv(centres / "csv" / "patients.csv")
    assert "centre" in patients.columns
    assert not any("centre" in str(w) for w in
                   pd.read_csv(out / "warnings.csv", dtype=str)["column"].dropna())


def test_validate_reads_a_dataset_bucket_by_bucket(registry, capsys):
    assert main(["validate", str(registry / "dataset")]) == 0
    assert "valid: 100 patients" in capsys.readouterr().out


def test_dask_engine_without_dask_is_refused_before_any_work(tmp_path, monkeypatch):
    import importlib.util

    from edxreview import InvalidParameterError, demo_path, review_registry

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "distributed" else real(name, *a))
    with pytest.raises(InvalidParameterError, match="edxreview\\[dask\\]"):
        review_registry(demo_path(), tmp_path / "out", engine="dask", jobs=1)
    assert not (tmp_path / "out").exists()


# -- the command's memory: partitions return counts, the rows stay in their files ----------

def test_partitions_return_counts_and_patients_not_rows(registry, tmp_path):
    """What a partition sends back holds at most one row per patient (or counts): its value,
    nerve and muscle rows, its text and its warnings are in its files."""
    import pickle

    from edxreview._partition import PartitionTask, review_partition

    (tmp_path / "ds").mkdir()
    partition_folder(registry / "csv", tmp_path / "ds", 3)
    for bucket in dataset_buckets(tmp_path / "ds"):
        part = review_partition(PartitionTask(str(tmp_path / "ds"), bucket,
                                              str(tmp_path / "out")))
        ids = set(part.patients["patient_id"])
        frames = {"patients": part.patients, "characteristics": part.characteristics,
                  **{f"overview {k}": v for k, v in part.overview.items()
                     if isinstance(v, pd.DataFrame)}}
        for name, frame in frames.items():
            if "patient_id" in frame:
                assert set(frame["patient_id"]) <= ids, name
                if name in ("patients", "characteristics"):
                    assert frame["patient_id"].is_unique, name
            elif frame.index.name == "patient_id":
                assert frame.index.is_unique and set(frame.index) <= ids, name
            else:   # a table of counts: per muscle × reading, per segment …
                assert "n" in frame or name == "overview segments", name
        assert "explanation" not in part.patients
        written = pd.read_csv(part.files["values"], dtype=str)
        assert len(written) > 5 * len(ids)
        on_disk = sum(Path(f).stat().st_size for f in part.files.values())
        assert len(pickle.dumps(part)) < on_disk / 4


def test_a_partition_worker_imports_only_what_a_partition_runs(registry, tmp_path):
    """A worker process (spawned, or a Dask worker) reviews partitions without the report's
    drawing and templating libraries or the cohort's statistics, which only the command
    that merges the partitions runs: each would cost every worker its import time."""
    import subprocess
    import sys

    heavy = ["scipy", "statsmodels", "matplotlib", "jinja2", "xlsxwriter", "openpyxl", "docx",
             "duckdb"]
    code = (
        "import sys\n"
        "from edxreview._partition import PartitionTask, review_partition\n"
        f"part = review_partition(PartitionTask({str(registry / 'dataset')!r}, 0, "
        f"{str(tmp_path / 'out')!r}))\n"
        "assert part.patients is not None and len(part.patients)\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(heavy)!r}))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]", out.stdout


@pytest.fixture
def few_pages(monkeypatch):
    """Report pages for the first 12 flagged patients above 20 patients (as 500 above 500),
    so that a small registry exercises the choice over the whole registry."""
    from edxreview.report import _render

    monkeypatch.setattr(_render, "PATIENT_PAGE_THRESHOLD", 20)
    monkeypatch.setattr(_render, "MAX_PATIENT_PAGES", 12)


@pytest.mark.slow
def test_pages_and_patients_are_those_of_the_review_in_one_piece(registry, single, tmp_path,
                                                                 few_pages):
    from edxreview._tables import isin
    from edxreview.report._render import paged_patient_ids

    whole = review_study(registry / "csv")
    want = paged_patient_ids(whole.patients)
    assert 0 < len(want) == 12
    runs = {"jobs 1": {"jobs": 1}, "jobs 2": {"jobs": 2}}
    try:
        import distributed  # noqa: F401

        runs["dask"] = {"jobs": 2, "engine": "dask"}
    except ImportError:
        pass
    for name, options in runs.items():
        out = tmp_path / name.replace(" ", "")
        result = review_registry(registry / "csv", out, partitions=4, report=False,
                                 **options)
        shown = result.overview["shown_patients"]
        assert list(shown["patient_id"]) == list(want), name
        expected = whole.patients[isin(whole.patients["patient_id"], want)]
        pd.testing.assert_frame_equal(shown.astype(str).reset_index(drop=True),
                                      expected.astype(str).reset_index(drop=True), obj=name)
        for table in ("values", "muscles", "nerves", "findings", "lesions"):
            got = getattr(result, table)
            exp = getattr(whole, table)
            exp = exp[isin(exp["patient_id"], want)]
            key = list(exp.columns)
            pd.testing.assert_frame_equal(
                got[key].astype(str).sort_values(key).reset_index(drop=True),
                exp.astype(str).sort_values(key).reset_index(drop=True), obj=f"{name} {table}")
        assert (out / "patients.csv").read_bytes() == (single / "patients.csv").read_bytes()
        assert len(result.patients) == 100 and "explanation" not in result.patients


def test_warnings_beyond_the_first_are_counted_and_written(registry, partitioned, tmp_path,
                                                           monkeypatch):
    """A partition returns its first row warnings only; the count and warnings.csv are
    whole, the workbook lists the first ones and says how many there are."""
    import openpyxl

    from edxreview import _partition
    from edxreview.report import _render

    monkeypatch.setattr(_partition, "FIRST_WARNINGS", 3)
    monkeypatch.setattr(_render, "MAX_REGISTRY_WARNINGS", 3)
    out = tmp_path / "spill"
    result = review_registry(registry / "csv", out, partitions=4, jobs=1)
    total = json.loads((partitioned / "summary.json").read_text())["warnings"]
    assert total > 5
    assert json.loads((out / "summary.json").read_text())["warnings"] == total
    assert (out / "warnings.csv").read_bytes() == (partitioned / "warnings.csv").read_bytes()
    rows = [p for p in result.study.warnings if p.row is not None and p.row > 1]
    assert len(rows) == 3
    sheet = openpyxl.load_workbook(out / "results.xlsx", read_only=True)["warnings"]
    assert sum(1 for _ in sheet.iter_rows()) == 1 + 3
    assert f"the first 3 of {total} warnings" in (out / "report.html").read_text()


def test_patient_records_with_line_breaks_merge_in_sheet_order(tmp_path, monkeypatch):
    """patients.csv is merged from the partitions' files by row in the sheet; a record
    whose text holds a line break spans lines and stays whole."""
    import numpy as np

    from edxreview import _partition as partition
    from edxreview._partition import _extra_lines, _Merge, _merge_patients_csv
    from edxreview._tables import write_csv

    whole = pd.DataFrame({"patient_id": [f"P{i}" for i in range(9)],
                          "included": [i % 2 == 0 for i in range(9)],
                          "explanation": ["one", "two\nlines", "", "x\ny\nz", "5", "6\n",
                                          "=formula", "8", "nine"]})
    buckets = [[0, 3, 4, 8], [1, 2, 5], [6, 7]]
    files, lines, which = [], [], np.zeros(9, dtype=np.int64)
    for i, rows in enumerate(buckets):
        path = tmp_path / f"part{i}.csv"
        write_csv(whole.iloc[rows].reset_index(drop=True), path)
        files.append({"patients": str(path)})
        lines.append(_extra_lines(whole.iloc[rows]))
        which[rows] = i
    assert lines[2] is None and list(lines[0]) == [0, 2, 0, 0] and list(lines[1]) == [1, 0, 1]
    merge = _Merge(files, which, np.argsort(which, kind="stable"), lines, [], [], [])
    monkeypatch.setattr(partition, "_MERGE_WINDOW", 2)     # windows across the records
    _merge_patients_csv(merge, tmp_path / "merged.csv")
    write_csv(whole, tmp_path / "whole.csv")
    assert (tmp_path / "merged.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()


def test_each_partition_keeps_the_rows_of_every_patient_the_report_may_page():
    """A partition writes the rows of its first patients and of its first ones with a
    finding; the registry pages every patient up to a threshold, above it the first ones
    with a finding: each partition's share of them is among those it keeps."""
    from edxreview._partition import _DETAIL_PATIENTS
    from edxreview.report._render import MAX_PATIENT_PAGES, PATIENT_PAGE_THRESHOLD

    assert _DETAIL_PATIENTS >= max(PATIENT_PAGE_THRESHOLD, MAX_PATIENT_PAGES)


def test_tables_are_gathered_in_bucket_order_while_partitions_finish(tmp_path, monkeypatch):
    """Partitions finish in any order; their tables are handed on in bucket order, each as
    soon as every partition before it is done, and none once a partition is invalid."""
    from edxreview import _partition as partition
    from edxreview._errors import InvalidWorkbookError, Problem
    from edxreview._partition import PartitionResult, PartitionTask, _review_partitions
    from edxreview.io import _dataset

    monkeypatch.setattr(_dataset, "dataset_sha256", lambda path: "0" * 64)
    tasks = [PartitionTask("ds", b, str(tmp_path)) for b in range(5)]

    def finishing(order, invalid=()):
        def run(tasks, jobs, engine, address):
            for b in order:
                errors = [Problem("emg", 2, "side", "x", "bad")] if b in invalid else []
                seen.append(("done", b))
                yield PartitionResult(b, errors=errors, files={"values": f"v{b}"})
        return run

    seen: list = []
    handed = lambda files: seen.append(("handed", files["values"]))  # noqa: E731
    monkeypatch.setattr(partition, "_run_partitions", finishing([1, 0, 3, 4, 2]))
    _review_partitions(tmp_path, tasks, 2, "local", None, handed)
    assert seen == [("done", 1), ("done", 0), ("handed", "v0"), ("handed", "v1"),
                    ("done", 3), ("done", 4), ("done", 2), ("handed", "v2"),
                    ("handed", "v3"), ("handed", "v4")]
    seen.clear()
    monkeypatch.setattr(partition, "_run_partitions", finishing([0, 2, 1, 3, 4], {2}))
    with pytest.raises(InvalidWorkbookError):
        _review_partitions(tmp_path, tasks, 2, "local", None, handed)
    assert [s for s in seen if s[0] == "handed"] == [("handed", "v0")]


@pytest.mark.parametrize("kernel_copy", [True, False], ids=["copy_file_range", "read-write"])
def test_partition_csv_files_are_appended_under_one_header(tmp_path, monkeypatch, kernel_copy):
    """The partitions' CSV tables become one file with one header, the bytes of the files in
    bucket order (copied by the kernel where it can, else read and written); each
    partition's file is removed once copied, a partition without the table is skipped."""
    import os

    from edxreview._partition import _TableFiles

    if not kernel_copy:
        monkeypatch.delattr(os, "copy_file_range", raising=False)
    parts = []
    for i, body in enumerate([b"1,a\n2,b\n", b"", b"3,\"c\nd\"\n", None]):
        files = {}
        if body is not None:
            files["values"] = str(tmp_path / f"v{i}.csv")
            Path(files["values"]).write_bytes(b"id,x\n" + body)
        parts.append(files)
    out = tmp_path / "out"
    out.mkdir()
    with _TableFiles(out, "csv") as gathered:
        for files in parts:
            gathered.add(files)
    assert (out / "values.csv").read_bytes() == b"id,x\n1,a\n2,b\n3,\"c\nd\"\n"
    assert not list(tmp_path.glob("v*.csv"))
    assert sorted(p.name for p in out.iterdir()) == ["values.csv"]


def test_detail_read_while_partitions_run_is_what_the_end_would_read(tmp_path, monkeypatch):
    """Each partition's detail file is read as it finishes and only the rows of patients
    that can still have a page are kept; the pages' rows taken from it equal those read
    from the files at the end, whatever order the partitions finish in."""
    import pickle

    import numpy as np

    from edxreview._partition import PartitionResult, _DetailCache, _read_detail
    from edxreview.report import _render

    monkeypatch.setattr(_render, "PATIENT_PAGE_THRESHOLD", 4)
    monkeypatch.setattr(_render, "MAX_PATIENT_PAGES", 3)
    rng = np.random.default_rng(3)
    n, n_buckets = 40, 4
    rows = rng.permutation(n) + 2
    bucket_of = rng.integers(0, n_buckets, n)
    flagged = rng.random(n) < 0.4
    parts = []
    for b in range(n_buckets):
        mine = np.flatnonzero(bucket_of == b)
        mine = mine[np.argsort(rows[mine])]
        ids = [f"P{i}" for i in mine]
        patients = pd.DataFrame({"patient_id": ids, "emg_denervation": flagged[mine],
                                 "ncs_neuropathy": False})
        path = tmp_path / f"detail{b}.pkl"
        values = pd.DataFrame({"patient_id": np.repeat(ids, 2), "value": range(2 * len(ids))})
        path.write_bytes(pickle.dumps({"patients": patients, "values": values}))
        parts.append(PartitionResult(b, patients=patients, patient_rows=rows[mine],
                                     files={"detail": str(path)}))
    everyone = pd.concat([p.patients for p in parts], ignore_index=True)
    which = np.concatenate([[i] * len(p.patients) for i, p in enumerate(parts)])
    order = np.argsort(np.concatenate([p.patient_rows for p in parts]), kind="stable")
    everyone, which = everyone.iloc[order].reset_index(drop=True), which[order]
    ids = _render.paged_patient_ids(everyone)
    assert len(ids) == 3
    asked = everyone["patient_id"].isin(ids).to_numpy()
    expected = _read_detail(parts, pd.Index(ids), which[asked])
    saved = {p.files["detail"]: Path(p.files["detail"]).read_bytes() for p in parts}
    for finish in ([0, 1, 2, 3], [3, 1, 0, 2]):
        for path, data in saved.items():
            Path(path).write_bytes(data)
        cache = _DetailCache()
        for b in finish:
            cache.add(parts[b])
        kept = sum(len(k[1]["patients"]) for k in cache._kept.values())
        assert 3 <= kept < n
        for path in saved:           # nothing is read again at the end
            Path(path).unlink()
        got = _read_detail(parts, pd.Index(ids), which[asked], cache,
                           everyone["patient_id"].to_numpy()[asked])
        for name in expected:
            pd.testing.assert_frame_equal(got[name], expected[name])
