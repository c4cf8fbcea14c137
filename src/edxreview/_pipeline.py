"""The whole review: workbook in, readings, classifications and cohort results out."""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from . import __version__
from ._errors import OutputExistsError
from ._tables import write_csv
from .classify import Classification, classify_patients
from .cohort import summarize_cohort
from .interpret import flag_values, read_muscles, read_nerves
from .interpret._keys import decode_patient_ids, encode_patient_ids
from .io import Study, load_study
from .knowledge import ReferenceSet, load_anatomy, load_reference, load_rules, table_provenance


@dataclass
class StudyResult:
    """Everything a review produces.

    Attributes
    ----------
    patients, muscles, nerves, values : DataFrame
        The tables written to ``patients.csv``, ``muscles.csv``, ``nerves.csv`` and
        ``values.csv``.
    summary : dict
        The content of ``summary.json``.
    study : Study
        The validated input.
    reference : ReferenceSet
    lesions : DataFrame
        MRI lesions converted to cord segments.
    """

    patients: pd.DataFrame
    muscles: pd.DataFrame
    nerves: pd.DataFrame
    values: pd.DataFrame
    summary: dict[str, Any]
    study: Study
    reference: ReferenceSet
    lesions: pd.DataFrame = field(default_factory=pd.DataFrame)
    options: dict[str, Any] = field(default_factory=dict)


def review_study(path: str | Path, reference: str | Path | ReferenceSet | None = None,
                 ci_method: str = "wilson",
                 progress: Callable[[str], None] | None = None, deidentify: bool = False,
                 salt: str | None = None) -> StudyResult:
    """Run the review pipeline on a study workbook.

    Parameters
    ----------
    path : str or Path
        ``.xlsx`` workbook, or folder of one CSV (or Parquet) file per sheet.
    reference : str, Path or ReferenceSet, optional
        A laboratory's own limits file (same format as the bundled ``ncs_limits_adult.csv``);
        ``None`` uses the bundled cited set.
    ci_method : {"wilson", "beta"}
        Binomial confidence interval method.
    progress : callable, optional
        Called with the name of each stage as it starts.
    deidentify : bool
        Replace patient ids by salted hashes, shift dates per patient and drop free text before
        the review (see :func:`edxreview._privacy.deidentify_study`).
    salt : str, optional
        Salt of the id hash; ``None`` draws a random one that is written nowhere, so the
        mapping cannot be recovered.

    Returns
    -------
    StudyResult

    Raises
    ------
    InvalidWorkbookError
        The workbook is invalid; ``problems`` lists every problem found.
    """
    step = progress or (lambda name: None)
    step("read and validate")
    study = load_study(path)
    if deidentify:
        from ._privacy import deidentify_study, new_salt

        study = deidentify_study(study, salt if salt else new_salt())
    ref = reference if isinstance(reference, ReferenceSet) else load_reference(reference)
    anatomy = load_anatomy()
    rules = load_rules()
    step("flag values")
    keyed, ids = encode_patient_ids(study)
    values = flag_values(keyed, ref, anatomy)
    step("read nerves and muscles")
    nerves = read_nerves(keyed, values, anatomy, rules)
    muscles = read_muscles(keyed, anatomy, rules)
    step("classify patients")
    result: Classification = classify_patients(keyed, nerves, muscles, anatomy, rules)
    result = Classification(*(decode_patient_ids(t, ids) for t in (
        result.patients, result.muscles, result.nerves, result.lesions)))
    values = decode_patient_ids(values, ids)
    step("cohort results")
    summary = summarize_cohort(result.patients, method=ci_method)  # type: ignore[arg-type]
    options = {"ci_method": ci_method, "reference": "bundled" if reference is None else "user",
               "deidentify": bool(deidentify),
               "salt": ("given" if salt else "random, not recorded") if deidentify else None}
    summary["rows"] = study.rows
    summary["warnings"] = len(study.warnings)
    summary["provenance"] = {
        "edxreview_version": __version__,
        "reference_set": ref.label,
        "reference_path": "bundled" if ref.path == "bundled" else Path(ref.path).name,
        "input": "withheld (--deidentify)" if deidentify else Path(study.source).name,
        "input_format": study.format,
        "input_sha256": study.sha256,
        "tables": table_provenance(),
        "options": options,
        "python": platform.python_version(),
        "pandas": pd.__version__,
        "numpy": np.__version__,
        "generated_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    muscles_out = result.muscles.drop(columns=["unexplained"], errors="ignore")
    return StudyResult(result.patients, muscles_out, result.nerves, values, summary, study, ref,
                       result.lesions, options)


def write_outputs(result: StudyResult, out_dir: str | Path, force: bool = False,
                  extra: Callable[[Path, StudyResult], None] | None = None) -> Path:
    """Write the output files atomically.

    Files are written into a temporary folder beside ``out_dir`` and moved into place only when
    all are complete, so a failure leaves no half-written output.

    Parameters
    ----------
    result : StudyResult
    out_dir : str or Path
    force : bool
        Replace an existing non-empty ``out_dir``.
    extra : callable, optional
        Writes further files (the report) into the temporary folder.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())) and not force:
        raise OutputExistsError(
            f"output folder {str(out_dir)!r} exists and is not empty; choose another folder or "
            "pass --force to replace it")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        write_csv(result.patients, tmp / "patients.csv")
        write_csv(result.muscles, tmp / "muscles.csv")
        write_csv(result.nerves, tmp / "nerves.csv")
        write_csv(result.values, tmp / "values.csv")
        warnings = pd.DataFrame([p.to_dict() for p in result.study.warnings],
                                columns=["sheet", "row", "column", "value", "message", "severity"])
        warnings["row"] = warnings["row"].astype("Int64")  # 162, not 162.0 beside empty rows
        warnings.to_csv(tmp / "warnings.csv", index=False, lineterminator="\n")
        with open(tmp / "summary.json", "w", encoding="utf-8") as fh:
            json.dump(result.summary, fh, indent=2, ensure_ascii=False)
            fh.write("\n")
        if extra is not None:
            extra(tmp, result)
        if out_dir.exists():
            backup = out_dir.with_name(f".{out_dir.name}.old")
            if backup.exists():
                shutil.rmtree(backup)
            os.replace(out_dir, backup)
            os.replace(tmp, out_dir)
            shutil.rmtree(backup, ignore_errors=True)
        else:
            os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def demo_path() -> Path:
    """Folder of the bundled 59-patient NMOSD demonstration cohort (CSV sheets)."""
    from importlib import resources

    return Path(str(resources.files("edxreview").joinpath("data/demo")))
