"""The review at registry scale: patients in partitions, reviewed independently, in parallel.

Every classification depends on one patient's rows only, so a registry is split into buckets
of patients (a hash of the patient id, computed by DuckDB, see :mod:`edxreview.io._dataset`);
each bucket is read, validated, interpreted and classified on its own by
:func:`review_partition`, which writes the bucket's output tables (and the full rows of the
patients the report may show, and its row warnings) into its folder and returns only what the
cohort counts: a per-patient table of the classifications without text, the Table 1
characteristics, row accounting, the counts the figures and the methods draw, and its first
warnings. The command reduces each result as it arrives, chooses the patients the report
pages over the whole registry and reads their rows back from the buckets' files, and merges
``patients.csv`` from the buckets' files by row in the patients sheet. The command's memory
follows the number of patients (a few booleans each), not the number of rows; a worker's
follows its partition.

The partitions run in worker processes (``jobs``), or on a Dask cluster (``engine="dask"``);
the outputs are assembled in bucket order, so the result does not depend on how many
workers ran or in which order they finished.
"""

from __future__ import annotations

import logging
import math
import os
import pickle
import shutil
import tempfile
import threading
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Callable, Iterator, Literal

import numpy as np
import pandas as pd

from ._check import check_option
from ._errors import InvalidParameterError, InvalidWorkbookError, Problem
from ._privacy import deidentify_problems, deidentify_study
from ._tables import isin, write_csv

log = logging.getLogger(__name__)

#: input bytes per partition when their number is chosen automatically; a partition of this
#: size (about 10,000 synthetic patients) peaks near 1 GB while it is reviewed
PARTITION_BYTES = 24 * 1024**2
#: every output table written per partition, in the order they are written
TABLES = ("patients", "muscles", "nerves", "values", "findings", "lesions")
#: patients whose full rows each partition returns for the report's pages (its first ones,
#: and its first ones with a finding): the report shows at most this many
_DETAIL_PATIENTS = 500
#: row warnings each partition returns (the report's workbook lists the first 10,000 of the
#: registry: :data:`edxreview.report._render.MAX_REGISTRY_WARNINGS`); every warning is
#: written to warnings.csv from the partitions' files
FIRST_WARNINGS = 10_000
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
    #: row warnings a bucket returns (the others are in its warnings file, counted)
    first_warnings: int = FIRST_WARNINGS
    #: a laboratory's own MUAP reference file (None: the bundled table)
    muap_reference: str | None = None


@dataclass
class PartitionResult:
    """What one bucket returns to the cohort: counts and a compact per-patient table.

    No table with a row per value, nerve or muscle travels back: those are written into the
    bucket's folder (``files``), with the full rows of the patients the report may show
    (``files["detail"]``) and the per-patient table with its text (``files["patients"]``).
    """

    bucket: int
    errors: list[Problem] = field(default_factory=list)
    #: the problems of whole sheets, and the bucket's first ``first_warnings`` row warnings
    warnings: list[Problem] = field(default_factory=list)
    #: row warnings of the bucket in all (those not returned are in ``files["warnings"]``)
    n_row_warnings: int = 0
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: the classifications, one row per patient in sheet order, without text or list columns
    patients: pd.DataFrame | None = None
    #: each patient's row in the patients sheet (aligned with ``patients``)
    patient_rows: np.ndarray | None = None
    #: extra lines of each patient's record in the bucket's patients.csv (text with a line
    #: break), None when every record is one line
    patient_lines: np.ndarray | None = None
    #: Table 1 characteristics of every patient (index: patient id)
    characteristics: pd.DataFrame | None = None
    #: ``patient_id`` and ``centre`` when the patients sheet names a centre
    centres: pd.DataFrame | None = None
    #: the counts the figures and the methods draw (see :func:`_overview`)
    overview: dict[str, Any] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)


def _is_sheet_problem(p: Problem) -> bool:
    """A problem of a whole sheet (no row, or the header row): given once for the registry."""
    return p.row is None or p.row <= 1


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
    from ._pipeline import classify_study, write_warnings
    from .cohort._table1 import build_characteristics
    from .io import validate_workbook
    from .io._dataset import read_partition
    raw = read_partition(task.dataset, task.bucket)
    if not any(len(f) for f in raw.sheets.values()):
        return PartitionResult(task.bucket)
    ref = _reference(task.reference, task.muap_reference)
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
    typed, mri = study.tables["patients"], study.tables["mri"]
    patients, patient_rows = _in_sheet_order(result.patients, typed)
    tables = {"muscles": muscles, "nerves": result.nerves, "values": values,
              "findings": findings, "lesions": result.lesions}
    folder = Path(task.out) / f"part-{task.bucket:05d}"
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for name, table in tables.items():
        if not len(table.columns):
            continue
        if task.output_format == "parquet":
            path = folder / f"{name}.parquet"
            table.to_parquet(path, index=False)
        else:
            path = folder / f"{name}.csv"
            write_csv(table, path)
        files[name] = str(path)
    # the per-patient table with its text, in sheet order: merged with the other buckets'
    # by row in the patients sheet (see _merge_patients_csv)
    lines = None
    if task.output_format == "parquet":
        import pyarrow as pa

        files["patients"] = str(folder / "patients.arrow")
        table = pa.Table.from_pandas(patients, preserve_index=False)
        with pa.OSFile(files["patients"], "wb") as sink, \
                pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
    else:
        files["patients"] = str(folder / "patients.csv")
        write_csv(patients, files["patients"])
        lines = _extra_lines(patients)

    # the full rows of the patients the report may show (its first ones, and its first ones
    # with a finding; see report._render.paged_patient_ids): written, read back
    # only for the patients the registry as a whole shows
    flagged = _flagged(patients)
    ids = patients["patient_id"]
    candidates = pd.Index(pd.concat([ids.head(_DETAIL_PATIENTS),
                                     ids[flagged].head(_DETAIL_PATIENTS)]).unique())
    detail = {name: t[isin(t["patient_id"], candidates)].reset_index(drop=True)
              for name, t in tables.items() if "patient_id" in t}
    detail.update({name: t[isin(t["patient_id"], candidates)].reset_index(drop=True)
                   for name, t in (("patients", patients), ("typed", typed), ("mri", mri),
                                   ("mri_lesions", result.mri_lesions))
                   if "patient_id" in t})
    files["detail"] = str(folder / "detail.pkl")
    with open(files["detail"], "wb") as fh:
        pickle.dump(detail, fh, protocol=pickle.HIGHEST_PROTOCOL)
    del detail

    # warnings: those of whole sheets returned (merged once), the rows' written and counted
    row_warnings = [p for p in study.warnings if not _is_sheet_problem(p)]
    files["warnings"] = str(folder / "warnings.csv")
    with open(files["warnings"], "w", encoding="utf-8", newline="") as fh:
        write_warnings(row_warnings, fh, header=False)

    centres = None
    if "centre" in typed and typed["centre"].notna().any():
        centres = typed[["patient_id", "centre"]].reset_index(drop=True)
    characteristics = build_characteristics(typed, result.mri_lesions, mri)
    return PartitionResult(
        task.bucket,
        warnings=[p for p in study.warnings if _is_sheet_problem(p)]
        + row_warnings[:task.first_warnings],
        n_row_warnings=len(row_warnings), rows=study.rows,
        patients=_compact(patients), patient_rows=patient_rows, patient_lines=lines,
        characteristics=characteristics, centres=centres,
        overview=_overview(patients, muscles, result.nerves, values, result.mri_lesions),
        files=files)


#: the per-patient columns that are text or lists: in patients.csv and on the patient pages,
#: not in the registry's per-patient table
TEXT_COLUMNS = ("denervated_muscles", "abnormal_nerves", "lmn_segments", "mri_cord_segments",
                "explanation")


def _compact(patients: pd.DataFrame) -> pd.DataFrame:
    """The classifications without text: booleans, categories and the patient id."""
    out = patients.drop(columns=[c for c in TEXT_COLUMNS if c in patients])
    for name in out.columns:
        if name != "patient_id" and out[name].dtype != bool:
            out[name] = out[name].astype("category")
    return out.reset_index(drop=True)


def _flagged(patients: pd.DataFrame) -> pd.Series:
    """Patients with denervation on EMG or neuropathy on NCS (those the report pages)."""
    return patients["emg_denervation"].astype(bool) | patients["ncs_neuropathy"].astype(bool)


def _in_sheet_order(patients: pd.DataFrame, typed: pd.DataFrame
                    ) -> tuple[pd.DataFrame, np.ndarray]:
    """The per-patient table in the order of the patients sheet, and each patient's row in
    the sheet (a patient without one last, as a review in one piece orders them)."""
    row_of = pd.Series(typed["_row"].to_numpy(dtype=np.int64),
                       index=typed["patient_id"].to_numpy()).groupby(level=0).first()
    rows = row_of.reindex(patients["patient_id"].to_numpy()).to_numpy(dtype=float)
    order = np.argsort(rows, kind="stable")
    rows = np.where(np.isnan(rows), np.iinfo(np.int64).max, rows)[order]
    return patients.iloc[order].reset_index(drop=True), rows.astype(np.int64)


def _extra_lines(patients: pd.DataFrame) -> np.ndarray | None:
    """Line breaks inside each patient's CSV record (text cells are written as they are), or
    None when there are none: records are then one line each."""
    extra = np.zeros(len(patients), dtype=np.int64)
    for name in patients.columns:
        column = patients[name]
        if column.dtype == bool or pd.api.types.is_numeric_dtype(column.dtype):
            continue
        extra += column.astype(str).str.count("\n").fillna(0).to_numpy(dtype=np.int64)
    return extra if extra.any() else None


def _overview(patients: pd.DataFrame, muscles: pd.DataFrame, nerves: pd.DataFrame,
              values: pd.DataFrame, lesions: pd.DataFrame) -> dict[str, Any]:
    """What the figures and the methods count, counted in the bucket (sums over buckets give
    the registry's counts).

    ``muscles``, ``nerves`` and ``values``: the distinct combinations of the counted columns
    with their number of rows ``n`` (see :func:`edxreview.report._frames.count_rows`);
    ``lesion_patients``: the patients with a brainstem or cord lesion; ``nuclei``: the
    nuclei of denervated muscles; ``segments``: the segmental map's counts per column;
    ``denervated`` and ``drawn_lesions``: the rows the segmental map draws one per patient,
    when the bucket has few enough patients with denervation for such a map.
    """
    from .report._segments import SEGMENT_MAP_MAX_ROWS, segment_cells, segment_columns
    from .report._frames import count_rows

    den_rows = muscles["denervation"].astype(bool)
    nuclei = sorted(set(muscles.loc[den_rows, "nucleus"].dropna().astype(str)))
    inc = patients[patients["included"].astype(bool)]
    ids = inc.loc[inc["emg_denervation"].astype(bool), "patient_id"]
    den = muscles.loc[den_rows & isin(muscles["patient_id"], pd.Index(ids)),
                      ["patient_id", "segments", "nucleus", "explained_by_ncs", "denervation"]]
    drawn = lesions[isin(lesions["patient_id"], pd.Index(ids))] if len(lesions) else lesions
    # every possible column (every nucleus), so that a bucket counts the columns the
    # registry's map has whichever nuclei the other buckets saw
    from .knowledge._tables import load_brainstem_nuclei
    spec = segment_columns(pd.DataFrame({"nucleus": load_brainstem_nuclei()["nucleus"]}))
    cells, covered = segment_cells(den, drawn, spec)
    segments = pd.DataFrame({
        "unexplained": cells[cells["unexplained"]].groupby("segment").size(),
        "explained": cells[~cells["unexplained"]].groupby("segment").size(),
        "mri": covered.groupby("segment").size()}).fillna(0).astype(np.int64)
    few = len(ids) <= SEGMENT_MAP_MAX_ROWS
    return {
        "muscles": count_rows(muscles, MUSCLE_COUNTED, keep_missing=("reading",)),
        "nerves": count_rows(pd.DataFrame({
            "nerve": nerves["nerve"], "study": nerves["study"],
            "counts_as_neuropathy": nerves["counts_as_neuropathy"].astype(bool),
            "abnormal": nerves["abnormal"].astype(bool)}),
            ["nerve", "study", "counts_as_neuropathy", "abnormal"]),
        "values": count_rows(pd.DataFrame({
            "reference_status": values["reference_status"],
            "reference_row": pd.to_numeric(values["reference_row"], errors="coerce")}),
            ["reference_status", "reference_row"], keep_missing=("reference_row",)),
        "lesion_patients": pd.Index(lesions["patient_id"].unique()) if len(lesions)
        else pd.Index([], dtype=object),
        "nuclei": nuclei,
        "segments": segments,
        "n_denervated": len(ids),
        "denervated": den.reset_index(drop=True) if few else None,
        "drawn_lesions": drawn.reset_index(drop=True) if few else None,
    }


#: the muscle columns a registry's partitions count for the figures and the methods
MUSCLE_COUNTED = ["muscle", "reading", "muap_duration_basis", "muap_amplitude_basis",
                  "muap_reading", "acute", "chronic"]

_REFERENCES: dict[tuple, Any] = {}


def _reference(path: str | None, muap_path: str | None = None):
    """The limits of a worker's partitions, read once per worker (per file version)."""
    from .knowledge import load_reference

    key = (path, os.stat(path).st_mtime_ns if path else None,
           muap_path, os.stat(muap_path).st_mtime_ns if muap_path else None)
    if key not in _REFERENCES:
        _REFERENCES.clear()
        _REFERENCES[key] = load_reference(path, muap_path)
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
                    dask_address: str | None) -> Iterator[PartitionResult]:
    """Run :func:`review_partition` over every task; results as they finish (in any order),
    so that each is reduced and freed before the next arrives."""
    if engine == "dask":
        yield from _run_dask(tasks, jobs, dask_address)
        return
    if jobs <= 1 or len(tasks) <= 1:
        for task in tasks:
            yield review_partition(task)
        return
    # spawn: a fresh interpreter per worker, not a fork of a process holding DuckDB's threads
    with ProcessPoolExecutor(max_workers=min(jobs, len(tasks)),
                             mp_context=get_context("spawn")) as pool:
        pending = {pool.submit(review_partition, t) for t in tasks}
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                while done:
                    yield done.pop().result()
        finally:
            for future in pending:  # a failure: the partitions not started are not run
                future.cancel()


def _require_dask() -> None:
    """Refuse ``engine='dask'`` before any work where Dask distributed is not installed."""
    from importlib.util import find_spec

    if find_spec("distributed") is None:
        raise InvalidParameterError(
            "engine 'dask' needs Dask distributed; install it with "
            "pip install 'edxreview[dask]'")


def _run_dask(tasks: list[PartitionTask], jobs: int, address: str | None
              ) -> Iterator[PartitionResult]:
    _require_dask()
    from dask.distributed import Client, LocalCluster, as_completed

    def run(client) -> Iterator[PartitionResult]:
        for future in as_completed(client.map(review_partition, tasks, pure=False)):
            result = future.result()
            future.release()  # the worker forgets it too
            yield result

    if address:
        with Client(address) as client:
            yield from run(client)
        return
    with LocalCluster(n_workers=max(jobs, 1), threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        yield from run(client)


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if f is not None]
    if not frames:
        return pd.DataFrame()
    nonempty = [f for f in frames if len(f)]
    return pd.concat(nonempty or frames[:1], ignore_index=True)


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
                    output: Any = None, muap_reference: str | Path | None = None) -> "Any":
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
    muap_reference : str or Path, optional
        A laboratory's own MUAP reference file (see :func:`edxreview.review`); ``None``: the
        bundled, unverified table (quantitative means kept, not judged).

    Returns
    -------
    StudyResult
        The cohort results; ``patients`` holds every patient's classifications without the
        text and list columns (``denervated_muscles``, ``abnormal_nerves``,
        ``lmn_segments``, ``mri_cord_segments``, ``explanation``: in ``patients.csv``);
        ``muscles``, ``nerves``, ``values``, ``findings``, ``lesions``, ``mri_lesions`` and
        ``study.tables`` hold the rows of the patients the report shows, and ``overview``
        the counts of every row that the figures and the methods draw, the Table 1
        characteristics, and the full rows of the patients shown (``shown_patients``).
        ``study.warnings`` holds the warnings of whole sheets and the first
        :data:`FIRST_WARNINGS` row warnings; ``summary["warnings"]`` counts them all (every
        warning is in ``warnings.csv``).

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
    from .io._dataset import MAX_PARTITIONS

    if partitions is not None and (not isinstance(partitions, int)
                                   or not 1 <= partitions <= MAX_PARTITIONS):
        raise InvalidParameterError(f"partitions {partitions!r} must be a whole number from 1 "
                                    f"to {MAX_PARTITIONS}")
    if output is None:
        with OutputFolder(out_dir, force=force,
                          inputs=study_inputs(path, reference, muap_reference),
                          command="run", spelled=("out_dir", "force=True")) as held:
            result = review_registry(path, out_dir, reference, ci_method=ci_method,
                                     partitions=partitions, jobs=jobs, engine=engine,
                                     dask_address=dask_address, output_format=output_format,
                                     deidentify=deidentify, salt=salt, progress=progress,
                                     report=report, docx=docx, pdf=pdf, lang=lang, output=held,
                                     muap_reference=muap_reference)
            held.commit()
        return result
    return _review_into(Path(path), output.staging, reference, ci_method, partitions,
                        jobs or os.cpu_count() or 1, engine, dask_address, output_format,
                        deidentify, salt, progress or (lambda name: None), report,
                        {"docx": docx, "pdf": pdf, "lang": lang}, muap_reference)


def _review_into(path: Path, staging: Path, reference, ci_method, partitions, jobs, engine,
                 dask_address, output_format, deidentify, salt, step, report, report_options,
                 muap_reference=None):
    from ._privacy import new_salt
    from .knowledge import ReferenceSet, load_reference

    if isinstance(reference, ReferenceSet):
        raise InvalidParameterError(
            "a review over partitions reads the reference from its file: give the path of the "
            "limits file, or None for the bundled limits")
    step("read and validate")
    key = (salt if salt else new_salt()) if deidentify else ""
    # a bad limits file stops the run before any work
    ref = load_reference(reference, muap_reference)
    work = Path(tempfile.mkdtemp(prefix=".partitions.", dir=staging.parent))
    try:
        dataset, buckets, fmt = _dataset_of(path, partitions, work)
        tasks = [PartitionTask(str(dataset), b, str(work / "out"),
                               None if reference is None else str(reference), key,
                               output_format, FIRST_WARNINGS,
                               None if muap_reference is None else str(muap_reference))
                 for b in buckets]
        step("flag values")
        warm = _import_report() if report else None
        detail = _DetailCache()
        with _TableFiles(staging, output_format) as gathered:
            parts, sha = _review_partitions(path, tasks, jobs, engine, dask_address,
                                            gathered.add, detail.add)
        if warm is not None:
            warm.join()
        rows = _merge_rows(parts)
        if not rows.get("patients", {}).get("used"):
            raise InvalidWorkbookError("the workbook has 1 problem(s) that must be fixed", [
                Problem("patients", None, None, None,
                        "no patients: the sheet has no rows; add one row per patient")])
        step("cohort results")
        result, merge = _registry_result(parts, path, sha, fmt, rows, ref, reference,
                                         ci_method, deidentify, salt, len(buckets), detail)
        del detail
        del parts  # the partitions' counts are merged: free them before the report
        step("write outputs and report")
        _write_registry(result, merge, staging, output_format, report, report_options)
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _import_report() -> threading.Thread:
    """The report's modules (matplotlib, Jinja2, XlsxWriter) imported on a thread while the
    partitions run, rather than after the last of them; an import that fails here fails
    again, with its message, where the report is written."""
    def run() -> None:
        try:
            from .report import _render  # noqa: F401
        except Exception:  # noqa: BLE001 - raised again by the report's own import
            pass

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


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


def _review_partitions(path: Path, tasks: list, jobs, engine, dask_address,
                       in_order: Callable[[dict[str, str]], None] = lambda files: None,
                       arrived: Callable[[PartitionResult], None] = lambda part: None
                       ) -> tuple[list[PartitionResult], str]:
    """Every partition reviewed (the input's checksum read meanwhile), in bucket order; the
    problems of every partition raised together when any is invalid.

    Results are reduced as they arrive: a partition's row warnings beyond the first
    ``first_warnings`` of the registry (in bucket order) are dropped from memory as soon as
    the partitions before it are known to hold that many (they stay in its warnings file);
    ``in_order`` is given each partition's files in bucket order, as soon as every partition
    before it has finished (and none so far was invalid), while the others run; ``arrived``
    each valid partition's result as it finishes.
    """
    from .io._dataset import dataset_sha256

    checksum: dict[str, str] = {}
    hasher = threading.Thread(target=lambda: checksum.update(sha=dataset_sha256(path)),
                              daemon=True)
    hasher.start()
    order = [t.bucket for t in tasks]
    first = min((t.first_warnings for t in tasks), default=FIRST_WARNINGS)
    parts: dict[int, PartitionResult] = {}
    ready, invalid = 0, False
    for part in _run_partitions(tasks, jobs, engine, dask_address):
        parts[part.bucket] = part
        invalid = invalid or bool(part.errors)
        if not part.errors:
            _drop_late_warnings(parts, order, first)
            if not invalid:
                arrived(part)
        while not invalid and ready < len(order) and order[ready] in parts:
            in_order(parts[order[ready]].files)
            ready += 1
    hasher.join()
    ordered = [parts[b] for b in order if b in parts]
    errors = [p.errors for p in ordered if p.errors]
    if errors:
        problems = _merge_problems(errors) + _merge_problems(
            [p.warnings for p in ordered if p.errors])
        raise InvalidWorkbookError(
            f"the workbook has {len(problems)} problem(s) that must be fixed", problems)
    return ordered, checksum["sha"]


def _drop_late_warnings(parts: dict[int, PartitionResult], order: list[int], first: int
                        ) -> None:
    """Forget the row warnings that cannot be among the registry's first ``first``: those of
    a partition whose predecessors (in bucket order) already hold that many."""
    before = 0
    for bucket in order:
        part = parts.get(bucket)
        if part is None or part.errors:
            continue
        if before >= first and part.n_row_warnings:
            part.warnings = [p for p in part.warnings if _is_sheet_problem(p)]
        before += part.n_row_warnings


def _ordered_patients(parts: list[PartitionResult]
                      ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The registry's per-patient table in the order of the patients sheet, as a review in
    one piece has it; with the partition (its position in ``parts``) of each patient and the
    order that puts the partitions' patients (concatenated) in sheet order."""
    held = [(i, p) for i, p in enumerate(parts) if p.patients is not None]
    rows = np.concatenate([p.patient_rows for _, p in held]) if held else np.zeros(0, np.int64)
    which = np.repeat([i for i, _ in held], [len(p.patients) for _, p in held]
                      ).astype(np.int64)
    order = np.argsort(rows, kind="stable")
    patients = _concat([p.patients for _, p in held])
    for _, p in held:
        p.patients = None
    return patients.iloc[order].reset_index(drop=True), which[order], order


def _registry_result(parts: list, path: Path, sha: str, fmt: str, rows: dict, ref, reference,
                     ci_method, deidentify, salt, n_buckets: int,
                     cache: "_DetailCache | None" = None):
    """The StudyResult of the whole registry from its partitions' counts and per-patient
    tables, with the full rows of the patients the report shows (read back from the
    partitions' files); and what writing the tables needs (:class:`_Merge`)."""
    from ._pipeline import StudyResult, add_centres, provenance, review_options
    from .cohort import summarize_cohort
    from .io import Study
    from .io._validate import SHEETS, _empty_table
    from .report._render import paged_patient_ids

    sheet_level = _merge_problems([_unknown_sheets(path)] + [
        [p for p in part.warnings if _is_sheet_problem(p)] for part in parts])
    row_warnings = [p for part in parts for p in part.warnings if not _is_sheet_problem(p)]
    n_warnings = len(sheet_level) + sum(p.n_row_warnings for p in parts) + len(ref.warnings)
    warnings = sheet_level + row_warnings[:FIRST_WARNINGS] + list(ref.warnings)

    patients, which, order = _ordered_patients(parts)
    ids = paged_patient_ids(patients)
    asked = isin(patients["patient_id"], pd.Index(ids))
    detail = _read_detail(parts, pd.Index(ids), which[asked], cache,
                          patients["patient_id"].to_numpy()[asked])
    shown = detail.pop("patients")
    # the pages' patients in the order the report pages them (the sheet's)
    shown = shown.set_index("patient_id", drop=False).reindex(ids.to_numpy()).reset_index(
        drop=True)
    tables = {name: _empty_table(spec) for name, spec in SHEETS.items()}
    tables["patients"] = detail.pop("typed")
    tables["mri"] = detail.pop("mri")
    study = Study(tables, warnings, rows, path, sha, fmt)
    summary = summarize_cohort(patients, method=ci_method)  # type: ignore[arg-type]
    centres = _concat([p.centres for p in parts])
    add_centres(summary, patients,
                centres if len(centres) else pd.DataFrame(columns=["patient_id"]), ci_method)
    options = review_options(reference, ci_method, deidentify, salt)
    options["partitions"] = n_buckets
    summary["rows"] = rows
    summary["warnings"] = n_warnings
    overview = _merge_overview(parts, patients)
    counted = overview["values"]
    status = ({str(k): int(v) for k, v in counted.groupby(
        "reference_status", observed=True)["n"].sum().items() if v} if len(counted) else {})
    summary["provenance"] = provenance(
        study, ref, options, dict(sorted(status.items(), key=lambda kv: (-kv[1], kv[0]))),
        deidentify)
    overview["shown_patients"] = shown
    mri_lesions = detail.pop("mri_lesions")
    merge = _Merge([p.files for p in parts], which, order,
                   [p.patient_lines for p in parts], sheet_level,
                   [p.files.get("warnings") for p in parts], list(ref.warnings))
    result = StudyResult(patients, detail["muscles"], detail["nerves"], detail["values"],
                         summary, study, ref, mri_lesions, options, lesions=detail["lesions"],
                         findings=detail["findings"], overview=overview)
    return result, merge


@dataclass
class _Merge:
    """What the partitions' files need to be written as the registry's tables."""

    files: list[dict[str, str]]
    which: np.ndarray          # partition of each patient, in sheet order
    order: np.ndarray          # sheet order of the partitions' patients concatenated
    lines: list                # extra lines per patient record, per partition (or None)
    sheet_warnings: list       # warnings of whole sheets, first in warnings.csv
    warning_files: list        # each partition's row warnings
    last_warnings: list        # the reference's warnings, last


def _read_detail(parts: list, ids: pd.Index, buckets: np.ndarray,
                 cache: "_DetailCache | None" = None, owners: np.ndarray | None = None
                 ) -> dict[str, pd.DataFrame]:
    """The full rows of the patients ``ids``, read from the files of the partitions that
    hold them (``buckets``: their positions in ``parts``), in partition order. With
    ``cache`` (and ``owners``, the patient of each of ``buckets``), a partition whose rows
    read while the partitions ran hold all its patients of ``ids`` is not read again."""
    frames: dict[str, list] = {}
    for i in sorted(set(buckets.tolist())):
        detail = None
        if cache is not None and owners is not None:
            detail = cache.get(parts[i].bucket, pd.Index(owners[buckets == i]))
        if detail is None:
            with open(parts[i].files["detail"], "rb") as fh:
                detail = pickle.load(fh)
        for name, table in detail.items():
            frames.setdefault(name, []).append(
                table[isin(table["patient_id"], ids)].reset_index(drop=True))
    if not frames:  # nothing to show: the tables' columns, from any partition
        with open(next(p.files["detail"] for p in parts if "detail" in p.files), "rb") as fh:
            frames = {name: [t.iloc[:0]] for name, t in pickle.load(fh).items()}
    out = {name: _concat(f) for name, f in frames.items()}
    for name in ("muscles", "nerves", "values", "findings", "lesions", "typed", "mri",
                 "mri_lesions", "patients"):
        out.setdefault(name, pd.DataFrame())
    return out


class _DetailCache:
    """The full rows of the patients the report may page, read from each partition's detail
    file as the partition finishes (while the others run) rather than after the last, and
    kept only for the patients that can still have a page.

    The report pages every patient up to ``PATIENT_PAGE_THRESHOLD`` patients, above that
    the first ``MAX_PATIENT_PAGES`` flagged ones in the order of the patients sheet (see
    :func:`edxreview.report._render.paged_patient_ids`). Once more patients than the
    threshold are known, a patient can have a page only if flagged with fewer than
    ``MAX_PATIENT_PAGES`` flagged patients known before it in the sheet: the others' rows
    are dropped as read. The pages are chosen at the end as before; a partition whose
    patients to show are not all kept is read from its file again.
    """

    def __init__(self) -> None:
        self._patients = 0
        #: the sheet rows of the first flagged patients known (at most MAX_PATIENT_PAGES)
        self._first_flagged = np.zeros(0, dtype=np.int64)
        self._kept: dict[int, tuple[pd.Index, dict[str, pd.DataFrame]]] = {}

    def add(self, part: PartitionResult) -> None:
        """A partition as it finishes: its detail file read, the rows of patients that
        can still have a page kept."""
        if part.patients is None or "detail" not in part.files:
            return
        # read here, not before the partitions start: the report's module takes a while to
        # import (on a thread meanwhile, see _import_report)
        from .report._render import MAX_PATIENT_PAGES, PATIENT_PAGE_THRESHOLD

        flagged = _flagged(part.patients).to_numpy()
        rows = np.asarray(part.patient_rows, dtype=np.int64)
        self._patients += len(rows)
        self._first_flagged = np.sort(np.concatenate(
            [self._first_flagged, rows[flagged]]), kind="stable")[:MAX_PATIENT_PAGES]
        keep = flagged & (np.searchsorted(self._first_flagged, rows, side="left")
                          < MAX_PATIENT_PAGES)
        if self._patients <= PATIENT_PAGE_THRESHOLD:
            keep[:] = True
        try:
            with open(part.files["detail"], "rb") as fh:
                detail = pickle.load(fh)
        except Exception:  # noqa: BLE001 - read again (and its error raised) at the end
            return
        ids = pd.Index(part.patients["patient_id"].to_numpy()[keep])
        self._kept[part.bucket] = (ids, {
            name: t[isin(t["patient_id"], ids)].reset_index(drop=True)
            for name, t in detail.items()})

    def get(self, bucket: int, ids: pd.Index) -> dict[str, pd.DataFrame] | None:
        """The rows kept of a partition, when they hold all of ``ids`` (its patients to
        show); None when its file must be read."""
        kept = self._kept.pop(bucket, None)
        if kept is None or not isin(pd.Series(ids), kept[0]).all():
            return None
        return kept[1]


def _merge_overview(parts: list, patients: pd.DataFrame) -> dict[str, Any]:
    """The partitions' counts summed into the registry's (see :func:`_overview`)."""
    from .report._segments import SEGMENT_MAP_MAX_ROWS, segment_columns

    views = [p.overview for p in parts if p.overview]
    out: dict[str, Any] = {}
    for name, columns in (("muscles", MUSCLE_COUNTED),
                          ("nerves", ["nerve", "study", "counts_as_neuropathy", "abnormal"]),
                          ("values", ["reference_status", "reference_row"])):
        frame = _concat([v[name] for v in views])
        if len(frame):
            frame = frame.groupby(columns, dropna=False, sort=False, observed=True)["n"] \
                .sum().reset_index()
        out[name] = frame
    out["lesion_patients"] = pd.Index(np.concatenate(
        [np.asarray(v["lesion_patients"], dtype=object) for v in views])
        if views else [], dtype=object)
    nuclei = sorted(set().union(*[v["nuclei"] for v in views]))
    out["segment_columns"] = segment_columns(pd.DataFrame({"nucleus": pd.Series(
        nuclei, dtype=object)}))
    segments = pd.concat([v["segments"] for v in views]) if views else pd.DataFrame(
        columns=["unexplained", "explained", "mri"])
    out["segments"] = segments.groupby(level=0).sum().astype(np.int64)
    n_denervated = sum(v["n_denervated"] for v in views)
    few = n_denervated <= SEGMENT_MAP_MAX_ROWS
    out["denervated"] = _concat([v["denervated"] for v in views]) if few else None
    out["drawn_lesions"] = _concat([v["drawn_lesions"] for v in views]) if few else None
    characteristics = pd.concat([p.characteristics for p in parts
                                 if p.characteristics is not None])
    out["characteristics"] = characteristics.reindex(patients["patient_id"].to_numpy())
    for p in parts:
        p.characteristics = None
    return out


def _write_registry(result, merge: _Merge, staging: Path, output_format: str, report: bool,
                    report_options: dict) -> None:
    """The report, with the summary files written and the per-patient table merged on a
    thread meanwhile (mostly file I/O, which frees the interpreter)."""

    def gather() -> None:
        _write_summary(result, merge, staging)
        _gather_tables(merge, staging, output_format)

    if not report:
        gather()
        return
    from .report._render import render_cohort_report

    render_cohort_report(result, staging, meanwhile=gather, **report_options)


def _write_summary(result, merge: _Merge, folder: Path) -> None:
    """``summary.json`` and ``warnings.csv`` (the warnings of whole sheets, every partition's
    row warnings from its file, in bucket order, then the reference's), as
    :func:`edxreview._pipeline.write_summary_files` writes them for a review in one piece."""
    from ._pipeline import write_summary_json, write_warnings

    with open(folder / "warnings.csv", "w", encoding="utf-8", newline="") as out:
        write_warnings(merge.sheet_warnings, out, header=True)
        out.flush()
        for f in merge.warning_files:
            if f:
                with open(f, encoding="utf-8", newline="") as fh:
                    shutil.copyfileobj(fh, out, 1 << 20)
        write_warnings(merge.last_warnings, out, header=False)
    write_summary_json(result.summary, folder)


def validate_dataset(path: str | Path, muap_reference: pd.DataFrame | None = None):
    """Validate a partitioned dataset bucket by bucket (``edxreview validate``); each valid
    bucket's quantitative MUAP means not judged against ``muap_reference`` (``None``: the
    bundled table) are warned of as the review warns of them
    (:func:`~edxreview.interpret._muscles.check_muap_means`).

    Returns
    -------
    Study
        Row accounting and warnings of every bucket; ``tables`` holds the typed patients only.

    Raises
    ------
    InvalidWorkbookError
        With every problem of every bucket.
    """
    from .interpret._muscles import check_muap_means
    from .io import Study, validate_workbook
    from .io._dataset import dataset_buckets, dataset_sha256, read_partition

    path = Path(path)
    results = []
    typed: list[pd.DataFrame] = []
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
        results.append(PartitionResult(
            bucket, warnings=study.warnings + check_muap_means(study, muap_reference),
            rows=study.rows))
        typed.append(study.tables["patients"])
    if any(r.errors for r in results):
        problems = _merge_problems([r.errors for r in results]) + _merge_problems(
            [r.warnings for r in results if r.errors])
        raise InvalidWorkbookError(
            f"the workbook has {len(problems)} problem(s) that must be fixed", problems)
    warnings = _merge_problems([_unknown_sheets(path)] + [r.warnings for r in results])
    return Study({"patients": _concat(typed)}, warnings,
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


def _gather_tables(merge: _Merge, folder: Path, output_format: str) -> None:
    """The per-patient table (``patients.csv`` or ``patients.parquet``) in the order of the
    patients sheet: the partitions' tables merged by each patient's row in the sheet. (The
    other tables are gathered as the partitions finish: :class:`_TableFiles`.)"""
    if output_format == "csv":
        _merge_patients_csv(merge, folder / "patients.csv")
    else:
        _merge_patients_parquet(merge, folder / "patients.parquet")


class _TableFiles:
    """The partitions' tables but the per-patient one, gathered into the output folder in
    bucket order as the partitions finish: CSV files appended to one file per table (one
    header; the bytes copied by the kernel), or Parquet files moved into one dataset folder
    per table (``values/part-00000.parquet`` …). A partition's file is removed once copied.
    """

    def __init__(self, folder: Path, output_format: str) -> None:
        self.folder, self.output_format = Path(folder), output_format
        self._files: dict[str, int] = {}     # files gathered per table
        self._out: dict[str, Any] = {}       # open CSV outputs

    def __enter__(self) -> "_TableFiles":
        return self

    def __exit__(self, *exc) -> None:
        for out in self._out.values():
            out.close()
        self._out = {}

    def add(self, files: dict[str, str]) -> None:
        """One partition's files (the next in bucket order)."""
        for name in TABLES:
            if name == "patients" or name not in files:
                continue
            i = self._files.get(name, 0)
            self._files[name] = i + 1
            if self.output_format == "parquet":
                target = self.folder / name
                if i == 0:
                    target.mkdir()
                shutil.move(files[name], target / f"part-{i:05d}.parquet")
                continue
            if name not in self._out:
                self._out[name] = open(self.folder / f"{name}.csv", "wb", buffering=0)
            _append_file(files[name], self._out[name], header=i == 0)
            os.remove(files[name])


def _append_file(source: str, out, header: bool) -> None:
    """``source`` appended to the unbuffered file ``out``, with its first line or without
    it; copied by the kernel (``copy_file_range``) where it can."""
    with open(source, "rb") as fh:
        first = fh.readline()
        if header:
            _write_all(out, first)
        start, size = len(first), os.fstat(fh.fileno()).st_size
        copy = getattr(os, "copy_file_range", None)
        while copy is not None and start < size:
            try:
                done = copy(fh.fileno(), out.fileno(), size - start, start)
            except OSError:   # not between these files: copied below
                break
            if not done:
                break
            start += done
        fh.seek(start)
        while chunk := fh.read(1 << 20):
            _write_all(out, chunk)


def _write_all(out, data: bytes) -> None:
    """``data`` written whole to an unbuffered file (whose writes may be partial)."""
    view = memoryview(data)
    while view:
        view = view[out.write(view):]


#: patient records merged at a time (a window of the patients sheet)
_MERGE_WINDOW = 1 << 16


def _merge_patients_parquet(merge: _Merge, target: Path) -> None:
    """``patients.parquet`` in sheet order from the partitions' Arrow files (memory-mapped),
    window by window of the sheet (one row group per window): the rows and columns of the
    table written whole, without holding it."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    tables = {i: pa.ipc.open_file(pa.memory_map(p["patients"])).read_all()
              for i, p in enumerate(merge.files) if "patients" in p}
    if not tables:
        return
    schema = pa.unify_schemas([t.schema for t in tables.values()],
                              promote_options="permissive")
    schema = schema.with_metadata(next(iter(tables.values())).schema.metadata)
    cursor = dict.fromkeys(tables, 0)
    with pq.ParquetWriter(target, schema) as writer:
        which = merge.which
        for start in range(0, max(len(which), 1), _MERGE_WINDOW):
            window = which[start:start + _MERGE_WINDOW]
            pieces, where = [], []
            for i in np.unique(window):
                at = np.flatnonzero(window == i)
                pieces.append(tables[i].slice(cursor[i], len(at)).cast(schema))
                cursor[i] += len(at)
                where.append(at)
            if not pieces:   # no patient: the columns only
                writer.write_table(schema.empty_table())
                break
            placed = np.concatenate(where)
            joined = pa.concat_tables(pieces)
            writer.write_table(joined.take(np.argsort(placed, kind="stable")))


def _merge_patients_csv(merge: _Merge, target: Path) -> None:
    """``patients.csv`` in sheet order from the partitions' files, each already in sheet
    order: window by window of the sheet, each partition gives its next records (a record
    is one line, or one plus the line breaks in its text), placed at their rows. Only a
    window's records are held; the bytes are those of the table written whole."""
    from itertools import islice

    sources = [p.get("patients") for p in merge.files]
    handles = {i: open(f, "rb") for i, f in enumerate(sources) if f}
    cursor = dict.fromkeys(handles, 0)
    try:
        with open(target, "wb") as out:
            header = None
            for i, fh in handles.items():
                line = fh.readline()
                header = header or line
            out.write(header or b"")
            which = merge.which
            for start in range(0, len(which), _MERGE_WINDOW):
                window = which[start:start + _MERGE_WINDOW]
                records = np.empty(len(window), dtype=object)
                for i in np.unique(window):
                    at = np.flatnonzero(window == i)
                    extra = merge.lines[i]
                    if extra is None:
                        got = list(islice(handles[i], len(at)))
                    else:
                        n = extra[cursor[i]:cursor[i] + len(at)]
                        got = [b"".join(islice(handles[i], 1 + int(k))) for k in n]
                    cursor[i] += len(at)
                    records[at] = np.fromiter(got, dtype=object, count=len(got))
                out.write(b"".join(records))
    finally:
        for fh in handles.values():
            fh.close()
