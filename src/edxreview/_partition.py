"""The review at registry scale: patients in partitions, reviewed independently, in parallel.

Every classification depends on one patient's rows only, so a registry is split into buckets
of patients (a hash of the patient id, computed by DuckDB, see :mod:`edxreview.io._dataset`);
each bucket is read, validated, interpreted and classified on its own by
:func:`review_partition`, which writes the bucket's output tables and returns what the cohort
needs: the per-patient tables, row accounting, warnings, the few columns the figures count, and
the full rows of the patients the report shows. Memory is bounded by a partition, not by the
registry: the value table of the whole registry is never held.

The partitions run in worker processes (``jobs``), or on a Dask cluster (``engine="dask"``);
the outputs are concatenated in bucket order, so the result does not depend on how many
workers ran or in which order they finished.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import tempfile
import threading
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Callable, Literal

import numpy as np
import pandas as pd

from ._check import check_option
from ._errors import InvalidParameterError, InvalidWorkbookError, Problem
from ._privacy import deidentify_problems, deidentify_study
from ._tables import write_csv

log = logging.getLogger(__name__)

#: input bytes per partition when their number is chosen automatically; a partition of this
#: size (about 10,000 synthetic patients) peaks near 1 GB while it is reviewed
PARTITION_BYTES = 24 * 1024**2
#: every output table written per partition, in the order they are written
TABLES = ("patients", "muscles", "nerves", "values", "findings", "lesions")
#: patients whose full rows each partition returns for the report's pages (its first ones,
#: and its first ones with a finding): the report shows at most this many
_DETAIL_PATIENTS = 500
ENGINES = ("local", "dask")
OUTPUT_FORMATS = ("csv", "parquet")


@dataclass
class PartitionTask:
    """What a worker needs to review one bucket (plain values, so it travels to any worker)."""

    dataset: str
    bucket: int
    out: str
    reference: str | None = None
    deidentify_key: str = ""
    output_format: str = "csv"


@dataclass
class PartitionResult:
    """What one bucket returns to the cohort (small: per-patient tables and counts)."""

    bucket: int
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    patients: pd.DataFrame | None = None
    typed_patients: pd.DataFrame | None = None
    mri: pd.DataFrame | None = None
    mri_lesions: pd.DataFrame | None = None
    overview: dict[str, pd.DataFrame] = field(default_factory=dict)
    detail: dict[str, pd.DataFrame] = field(default_factory=dict)
    value_status: dict[str, int] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)


def _isin(values: pd.Series, keys: pd.Index) -> np.ndarray:
    """``values.isin(keys)`` hashed in Arrow (pandas converts Arrow text one key at a time)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    left = pa.array(values.astype(object), type=pa.string(), from_pandas=True)
    right = pa.array(keys.astype(object), type=pa.string(), from_pandas=True)
    return np.asarray(pc.is_in(left, value_set=right).to_numpy(zero_copy_only=False), dtype=bool)


def _category(series: pd.Series) -> pd.Series:
    return series.astype("category")


def review_partition(task: PartitionTask) -> PartitionResult:
    """Read, validate, interpret and classify one bucket; write its output tables.

    Parameters
    ----------
    task : PartitionTask

    Returns
    -------
    PartitionResult
        ``errors`` lists the bucket's problems when it is invalid (nothing else is filled).
    """
    from ._pipeline import classify_study
    from .io import validate_workbook
    from .io._dataset import read_partition
    raw = read_partition(task.dataset, task.bucket)
    if not any(len(f) for f in raw.sheets.values()):
        return PartitionResult(task.bucket)
    ref = _reference(task.reference)
    try:
        study = validate_workbook(raw)
    except InvalidWorkbookError as exc:
        problems = [p for p in exc.problems if not _is_empty_bucket_problem(p)]
        if task.deidentify_key:
            problems = deidentify_problems(problems, task.deidentify_key)
        errors = [p for p in problems if p.severity == "error"]
        if errors:
            return PartitionResult(task.bucket, errors=errors,
                                   warnings=[p for p in problems if p.severity != "error"])
        raise  # pragma: no cover - only the empty-bucket problem: cannot happen with rows
    if task.deidentify_key:
        study = deidentify_study(study, task.deidentify_key,
                                 recording_sites=ref.limits["recording_site"])
    result, values, findings = classify_study(study, ref)
    muscles = result.muscles.drop(columns=["unexplained"], errors="ignore")
    tables = {"patients": result.patients, "muscles": muscles, "nerves": result.nerves,
              "values": values, "findings": findings, "lesions": result.lesions}
    folder = Path(task.out) / f"part-{task.bucket:05d}"
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for name, table in tables.items():
        if not len(table.columns) or name == "patients":
            continue  # the per-patient table is written whole, in sheet order
        if task.output_format == "parquet":
            path = folder / f"{name}.parquet"
            table.to_parquet(path, index=False)
        else:
            path = folder / f"{name}.csv"
            write_csv(table, path)
        files[name] = str(path)

    patients = result.patients
    flagged = patients["emg_denervation"].astype(bool) | patients["ncs_neuropathy"].astype(bool)
    shown = pd.Index(pd.concat([patients["patient_id"].head(_DETAIL_PATIENTS),
                                patients.loc[flagged, "patient_id"].head(_DETAIL_PATIENTS)]
                               ).unique())
    detail = {name: t[_isin(t["patient_id"], shown)].reset_index(drop=True)
              for name, t in tables.items() if name != "patients" and "patient_id" in t}
    overview = {
        "muscles": pd.DataFrame({
            "muscle": _category(muscles["muscle"]),
            "reading": _category(muscles["reading"]),
            "denervation": muscles["denervation"].astype(bool),
            "explained_by_ncs": muscles["explained_by_ncs"].astype(bool),
            # only the denervated rows are drawn on the segmental map
            **{c: muscles[c].where(muscles["denervation"].astype(bool))
               for c in ("patient_id", "segments", "nucleus")}}),
        "nerves": pd.DataFrame({
            "nerve": _category(result.nerves["nerve"]),
            "study": _category(result.nerves["study"]),
            "counts_as_neuropathy": result.nerves["counts_as_neuropathy"].astype(bool),
            "abnormal": result.nerves["abnormal"].astype(bool)}),
        "values": pd.DataFrame({
            "reference_status": _category(values["reference_status"]),
            "reference_row": pd.to_numeric(values["reference_row"],
                                           errors="coerce").astype("float32")}),
    }
    status = {str(k): int(v) for k, v in values["reference_status"].value_counts().items() if v}
    return PartitionResult(
        task.bucket, warnings=list(study.warnings), rows=study.rows, patients=patients,
        typed_patients=study.tables["patients"], mri=study.tables["mri"],
        mri_lesions=result.mri_lesions, overview=overview, detail=detail,
        value_status=status, files=files)


_REFERENCES: dict[tuple, Any] = {}


def _reference(path: str | None):
    """The limits of a worker's partitions, read once per worker (per file version)."""
    from .knowledge import load_reference

    key = (path, os.stat(path).st_mtime_ns if path else None)
    if key not in _REFERENCES:
        _REFERENCES.clear()
        _REFERENCES[key] = load_reference(path)
    return _REFERENCES[key]


def _is_empty_bucket_problem(p: Problem) -> bool:
    """The 'no patients' problem, which a bucket without patients raises: the registry as a
    whole is checked for patients after every bucket is read."""
    return p.sheet == "patients" and p.row is None and str(p.message).startswith("no patients")


def choose_partitions(path: str | Path, partitions: int | None) -> int:
    """How many partitions a review runs over.

    A partitioned dataset keeps its own buckets; an ``.xlsx`` workbook is one partition; a
    folder of sheets is one partition up to :data:`PARTITION_BYTES` and one more per
    :data:`PARTITION_BYTES` above it, unless ``partitions`` says otherwise.
    """
    from .io._dataset import dataset_buckets, input_bytes, is_partitioned_dataset

    path = Path(path)
    if is_partitioned_dataset(path):
        return max(len(dataset_buckets(path)), 1)
    if not path.is_dir():
        return 1
    if partitions is not None:
        return partitions
    return max(1, math.ceil(input_bytes(path) / PARTITION_BYTES))


def _run_partitions(tasks: list[PartitionTask], jobs: int, engine: str,
                    dask_address: str | None) -> list[PartitionResult]:
    """Run :func:`review_partition` over every task; results in task order."""
    if engine == "dask":
        return _run_dask(tasks, jobs, dask_address)
    if jobs <= 1 or len(tasks) <= 1:
        return [review_partition(t) for t in tasks]
    # spawn: a fresh interpreter per worker, not a fork of a process holding DuckDB's threads
    with ProcessPoolExecutor(max_workers=min(jobs, len(tasks)),
                             mp_context=get_context("spawn")) as pool:
        return list(pool.map(review_partition, tasks))


def _require_dask() -> None:
    """Refuse ``engine='dask'`` before any work where Dask distributed is not installed."""
    from importlib.util import find_spec

    if find_spec("distributed") is None:
        raise InvalidParameterError(
            "engine 'dask' needs Dask distributed; install it with "
            "pip install 'edxreview[dask]'")


def _run_dask(tasks: list[PartitionTask], jobs: int, address: str | None
              ) -> list[PartitionResult]:
    _require_dask()
    from dask.distributed import Client, LocalCluster

    if address:
        with Client(address) as client:
            futures = client.map(review_partition, tasks, pure=False)
            return client.gather(futures)
    with LocalCluster(n_workers=max(jobs, 1), threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        futures = client.map(review_partition, tasks, pure=False)
        return client.gather(futures)


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if f is not None]
    if not frames:
        return pd.DataFrame()
    nonempty = [f for f in frames if len(f)]
    return pd.concat(nonempty or frames[:1], ignore_index=True)


def _concat_categorical(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate frames whose text columns are categorical, keeping them categorical."""
    from pandas.api.types import union_categoricals

    frames = [f for f in frames if f is not None and len(f)]
    if not frames:
        return pd.DataFrame()
    out = {}
    for col in frames[0].columns:
        parts = [f[col] for f in frames]
        if isinstance(parts[0].dtype, pd.CategoricalDtype):
            out[col] = pd.Series(union_categoricals([p.astype("category") for p in parts],
                                                    ignore_order=True))
        else:
            out[col] = pd.concat(parts, ignore_index=True)
    return pd.DataFrame(out)


def _merge_rows(parts: list[PartitionResult]) -> dict[str, dict[str, Any]]:
    """Row accounting summed over partitions, sheets in the order they were first seen."""
    total: dict[str, dict[str, Any]] = {}
    for p in parts:
        for sheet, r in p.rows.items():
            t = total.setdefault(sheet, {"read": 0, "used": 0, "rejected": 0,
                                         "rejected_reasons": {}})
            for k in ("read", "used", "rejected"):
                t[k] += int(r[k])
            for reason, n in r["rejected_reasons"].items():
                t["rejected_reasons"][reason] = t["rejected_reasons"].get(reason, 0) + int(n)
    return total


def _merge_problems(lists: list[list[Problem]]) -> list[Problem]:
    """Problems of every partition: those of a whole sheet (no row, or the header row) once,
    first; then the rows' problems, partition by partition."""
    sheet_level: dict[tuple, Problem] = {}
    rows: list[Problem] = []
    for problems in lists:
        for p in problems:
            if p.row is None or p.row <= 1:
                key = (p.sheet, p.row, p.column, str(p.value), p.message, p.severity)
                sheet_level.setdefault(key, p)
            else:
                rows.append(p)
    return list(sheet_level.values()) + rows


def review_registry(path: str | Path, out_dir: str | Path, reference: str | Path | None = None,
                    *, ci_method: str = "wilson", partitions: int | None = None,
                    jobs: int | None = None, engine: Literal["local", "dask"] = "local",
                    dask_address: str | None = None, output_format: str = "csv",
                    deidentify: bool = False, salt: str | None = None,
                    progress: Callable[[str], None] | None = None,
                    report: bool = True, docx: bool = False, pdf: bool = False,
                    lang: str = "en", force: bool = False,
                    output: Any = None) -> "Any":
    """Review a registry partition by partition and write the output folder.

    Parameters
    ----------
    path : str or Path
        A partitioned dataset (``synth --format parquet --partitions N``) or a folder of CSV or
        Parquet sheets (partitioned by DuckDB into a temporary dataset first).
    out_dir : str or Path
        The output folder (written atomically, as by ``edxreview run``).
    reference : str or Path, optional
        A laboratory's own limits file; ``None`` for the bundled set.
    ci_method : {"wilson", "beta"}
    partitions : int, optional
        Number of partitions of a sheet folder (default: one per
        :data:`PARTITION_BYTES` of input).
    jobs : int, optional
        Worker processes (default: all cores).
    engine : {"local", "dask"}
        ``"local"``: a process pool on this machine; ``"dask"``: Dask distributed, on the
        cluster at ``dask_address`` or on a local cluster of ``jobs`` workers.
    dask_address : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``); the workers must see the
        input and output folders at the same paths.
    output_format : {"csv", "parquet"}
        The tables as CSV files (one per table, the partitions concatenated in order) or as
        Parquet datasets (``values/part-00000.parquet`` …).
    deidentify, salt
        As for :func:`edxreview.review`.
    progress : callable, optional
        Called with the name of each stage as it starts.
    report : bool
        Write ``report.html``, ``results.xlsx`` and ``figures/``.
    docx, pdf : bool
        Also write ``report.docx`` / ``report.pdf`` (as :meth:`StudyResult.write`).
    lang : {"en", "zh"}
        Language of the report's headings and patient summaries.
    force : bool
        Replace an existing output folder that edxreview wrote.
    output : OutputFolder, optional
        An output folder already entered (the CLI holds it from the start of the command).

    Returns
    -------
    StudyResult
        The per-patient table and cohort results; ``muscles``, ``nerves``, ``values``,
        ``findings`` and ``lesions`` hold the rows of the patients the report shows, and
        ``overview`` the counted columns of every row (every row is in the output files).

    Raises
    ------
    InvalidWorkbookError
        Some partition is invalid: every problem of every partition, located by sheet and row.
    InvalidParameterError
        An option is not one it accepts.

    Notes
    -----
    The local workers are fresh Python processes (``spawn``), which import the calling
    script: in a script, call this function under ``if __name__ == "__main__":``.

    Examples
    --------
    >>> import edxreview
    >>> result = edxreview.review_registry(edxreview.demo_path(), "registry-out",
    ...                                    partitions=3, jobs=1, report=False)
    >>> result.summary["measures"]["lmn_involvement"]["n"]
    9
    """
    from ._output import OutputFolder
    from ._pipeline import study_inputs

    from ._check import check_bool
    from ._pipeline import _check_review_options

    check_option("engine", engine, ENGINES)
    if engine == "dask":
        _require_dask()
    check_option("output_format", output_format, OUTPUT_FORMATS)
    _check_review_options(reference, ci_method, deidentify, salt, progress)
    check_bool("report", report)
    check_bool("docx", docx)
    check_bool("pdf", pdf)
    check_bool("force", force)
    if jobs is not None and (not isinstance(jobs, int) or jobs < 1):
        raise InvalidParameterError(f"jobs {jobs!r} must be a whole number ≥ 1 (or None for "
                                    "all cores)")
    if partitions is not None and (not isinstance(partitions, int) or partitions < 1):
        raise InvalidParameterError(f"partitions {partitions!r} must be a whole number ≥ 1")
    if output is None:
        with OutputFolder(out_dir, force=force, inputs=study_inputs(path, reference),
                          command="run") as held:
            result = review_registry(path, out_dir, reference, ci_method=ci_method,
                                     partitions=partitions, jobs=jobs, engine=engine,
                                     dask_address=dask_address, output_format=output_format,
                                     deidentify=deidentify, salt=salt, progress=progress,
                                     report=report, docx=docx, pdf=pdf, lang=lang, output=held)
            held.commit()
        return result
    return _review_into(Path(path), output.staging, reference, ci_method, partitions,
                        jobs or os.cpu_count() or 1, engine, dask_address, output_format,
                        deidentify, salt, progress or (lambda name: None), report,
                        {"docx": docx, "pdf": pdf, "lang": lang})


def _review_into(path: Path, staging: Path, reference, ci_method, partitions, jobs, engine,
                 dask_address, output_format, deidentify, salt, step, report, report_options):
    from ._privacy import new_salt
    from .knowledge import ReferenceSet, load_reference

    if isinstance(reference, ReferenceSet):
        raise InvalidParameterError(
            "a review over partitions reads the reference from its file: give the path of the "
            "limits file, or None for the bundled limits")
    step("read and validate")
    key = (salt if salt else new_salt()) if deidentify else ""
    ref = load_reference(reference)  # a bad limits file stops the run before any work
    work = Path(tempfile.mkdtemp(prefix=".partitions.", dir=staging.parent))
    try:
        dataset, buckets, fmt = _dataset_of(path, partitions, work)
        tasks = [PartitionTask(str(dataset), b, str(work / "out"),
                               None if reference is None else str(reference), key,
                               output_format) for b in buckets]
        step("flag values")
        parts, sha = _review_partitions(path, tasks, jobs, engine, dask_address)
        rows = _merge_rows(parts)
        if not rows.get("patients", {}).get("used"):
            raise InvalidWorkbookError("the workbook has 1 problem(s) that must be fixed", [
                Problem("patients", None, None, None,
                        "no patients: the sheet has no rows; add one row per patient")])
        step("cohort results")
        result = _registry_result(parts, path, sha, fmt, rows, ref, reference, ci_method,
                                  deidentify, salt, len(buckets))
        files = [p.files for p in parts]
        del parts  # the partitions' tables are merged: free them before the report
        step("write outputs and report")
        _write_registry(result, files, staging, output_format, report, report_options)
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _dataset_of(path: Path, partitions, work: Path) -> tuple[Path, list, str]:
    """The partitioned dataset to review (the input itself, or a folder of sheets split by
    DuckDB into ``work``), its buckets and the input's format."""
    from .io._dataset import dataset_buckets, is_partitioned_dataset, partition_folder

    if is_partitioned_dataset(path):
        return path, dataset_buckets(path), "parquet"
    n = choose_partitions(path, partitions)
    dataset = work / "dataset"
    dataset.mkdir()
    partition_folder(path, dataset, n)
    fmt = "parquet" if any(p.suffix.lower() == ".parquet" for p in path.iterdir()) else "csv"
    return dataset, dataset_buckets(dataset), fmt


def _review_partitions(path: Path, tasks: list, jobs, engine, dask_address) -> tuple[list, str]:
    """Every partition reviewed (the input's checksum read meanwhile); the problems of every
    partition raised together when any is invalid."""
    from .io._dataset import dataset_sha256

    checksum: dict[str, str] = {}
    hasher = threading.Thread(target=lambda: checksum.update(sha=dataset_sha256(path)),
                              daemon=True)
    hasher.start()
    parts = _run_partitions(tasks, jobs, engine, dask_address)
    hasher.join()
    errors = [p.errors for p in parts if p.errors]
    if errors:
        problems = _merge_problems(errors) + _merge_problems(
            [p.warnings for p in parts if p.errors])
        raise InvalidWorkbookError(
            f"the workbook has {len(problems)} problem(s) that must be fixed", problems)
    return parts, checksum["sha"]


def _ordered_patients(parts: list) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The typed and the classified per-patient tables in the order of the patients sheet, as
    a review in one piece has them (each bucket keeps that order, so a patient shown in the
    report is among the first ones of its bucket)."""
    typed = _concat([p.typed_patients for p in parts])
    order = np.argsort(typed["_row"].to_numpy(), kind="stable")
    typed = typed.iloc[order].reset_index(drop=True)
    patients = _concat([p.patients for p in parts])
    position = pd.Series(np.arange(len(typed)), index=typed["patient_id"].to_numpy())
    patients = patients.iloc[np.argsort(
        position.reindex(patients["patient_id"].to_numpy()).to_numpy(), kind="stable")
    ].reset_index(drop=True)
    return typed, patients


def _registry_result(parts: list, path: Path, sha: str, fmt: str, rows: dict, ref, reference,
                     ci_method, deidentify, salt, n_buckets: int):
    """The StudyResult of the whole registry from its partitions' tables and counts."""
    from ._pipeline import StudyResult, add_centres, provenance, review_options
    from .cohort import summarize_cohort
    from .io import Study
    from .io._validate import SHEETS, _empty_table

    warnings = _merge_problems([_unknown_sheets(path)] + [p.warnings for p in parts]) \
        + list(ref.warnings)
    typed, patients = _ordered_patients(parts)
    tables = {name: _empty_table(spec) for name, spec in SHEETS.items()}
    tables["patients"] = typed
    tables["mri"] = _concat([p.mri for p in parts])
    study = Study(tables, warnings, rows, path, sha, fmt)
    summary = summarize_cohort(patients, method=ci_method)  # type: ignore[arg-type]
    add_centres(summary, patients, typed, ci_method)
    options = review_options(reference, ci_method, deidentify, salt)
    options["partitions"] = n_buckets
    summary["rows"] = rows
    summary["warnings"] = len(warnings)
    status: dict[str, int] = {}
    for p in parts:
        for k, v in p.value_status.items():
            status[k] = status.get(k, 0) + v
    summary["provenance"] = provenance(
        study, ref, options, dict(sorted(status.items(), key=lambda kv: (-kv[1], kv[0]))),
        deidentify)
    detail = {name: _concat([p.detail.get(name) for p in parts])
              for name in TABLES if name != "patients"}
    overview = {name: _concat_categorical([p.overview.get(name) for p in parts])
                for name in ("muscles", "nerves", "values")}
    return StudyResult(patients, detail["muscles"], detail["nerves"], detail["values"],
                       summary, study, ref, _concat([p.mri_lesions for p in parts]),
                       options, lesions=detail["lesions"], findings=detail["findings"],
                       overview=overview)


def _write_registry(result, files: list, staging: Path, output_format: str, report: bool,
                    report_options: dict) -> None:
    """The partitions' tables copied together (file I/O, which frees the interpreter) while
    the summary and the report are written."""
    from ._pipeline import write_summary_files

    failed: list[BaseException] = []

    def gather() -> None:
        try:
            _gather_tables(files, staging, output_format, result.patients)
        except BaseException as exc:  # re-raised below, in this thread
            failed.append(exc)

    copier = threading.Thread(target=gather, daemon=True)
    copier.start()
    try:
        write_summary_files(result, staging)
        if report:
            from .report import render_report

            render_report(result, staging, **report_options)
    finally:
        copier.join()
    if failed:
        raise failed[0]


def validate_dataset(path: str | Path):
    """Validate a partitioned dataset bucket by bucket (``edxreview validate``).

    Returns
    -------
    Study
        Row accounting and warnings of every bucket; ``tables`` holds the typed patients only.

    Raises
    ------
    InvalidWorkbookError
        With every problem of every bucket.
    """
    from .io import Study, validate_workbook
    from .io._dataset import dataset_buckets, dataset_sha256, read_partition

    path = Path(path)
    results = []
    for bucket in dataset_buckets(path):
        raw = read_partition(path, bucket)
        if not any(len(f) for f in raw.sheets.values()):
            continue
        try:
            study = validate_workbook(raw)
        except InvalidWorkbookError as exc:
            problems = [p for p in exc.problems if not _is_empty_bucket_problem(p)]
            results.append(PartitionResult(
                bucket, errors=[p for p in problems if p.severity == "error"],
                warnings=[p for p in problems if p.severity != "error"]))
            continue
        results.append(PartitionResult(bucket, warnings=study.warnings, rows=study.rows,
                                       typed_patients=study.tables["patients"]))
    if any(r.errors for r in results):
        problems = _merge_problems([r.errors for r in results]) + _merge_problems(
            [r.warnings for r in results if r.errors])
        raise InvalidWorkbookError(
            f"the workbook has {len(problems)} problem(s) that must be fixed", problems)
    warnings = _merge_problems([_unknown_sheets(path)] + [r.warnings for r in results])
    return Study({"patients": _concat([r.typed_patients for r in results])}, warnings,
                 _merge_rows(results), path, dataset_sha256(path), "parquet")


def _unknown_sheets(path: Path) -> list[Problem]:
    """The warning a single-partition review gives for each file that is not a sheet (such as
    ``truth.csv`` beside a synthetic registry): listed, never read."""
    import difflib

    from .io._read import normalize_header
    from .io._schema import SHEETS

    names = sorted({normalize_header(p.stem) for p in path.iterdir()
                    if p.suffix.lower() in (".csv", ".parquet")} - set(SHEETS) - {"readme"})
    out = []
    for name in names:
        options = difflib.get_close_matches(name, list(SHEETS), n=1, cutoff=0.6)
        hint = f"; did you mean {options[0]!r}?" if options else ""
        out.append(Problem(name, None, None, None, f"unknown sheet, ignored{hint}",
                           severity="warning"))
    return out


def _gather_tables(parts: list[dict[str, str]], folder: Path, output_format: str,
                   patients: pd.DataFrame) -> None:
    """The partitions' tables into the output folder, in bucket order: CSV files concatenated
    (one header), or Parquet files moved into one dataset folder per table. The per-patient
    table is written whole (``patients.csv`` or ``patients.parquet``), in the order of the
    patients sheet."""
    if output_format == "csv":
        write_csv(patients, folder / "patients.csv")
    else:
        patients.to_parquet(folder / "patients.parquet", index=False)
    for name in TABLES:
        if name == "patients":
            continue
        files = [p[name] for p in parts if name in p]
        if not files:
            continue
        if output_format == "parquet":
            target = folder / name
            target.mkdir()
            for i, f in enumerate(files):
                shutil.move(f, target / f"part-{i:05d}.parquet")
            continue
        with open(folder / f"{name}.csv", "wb") as out:
            for i, f in enumerate(files):
                with open(f, "rb") as fh:
                    header = fh.readline()
                    if i == 0:
                        out.write(header)
                    shutil.copyfileobj(fh, out, 1 << 20)
