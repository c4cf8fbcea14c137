"""The whole review: workbook in, readings, classifications and cohort results out."""

from __future__ import annotations

import dataclasses
import datetime as _dt
import html
import json
import platform
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from . import __version__
from ._check import check_bool, check_option
from ._errors import InvalidParameterError, InvalidWorkbookError
from ._output import OutputFolder
from ._privacy import deidentify_problems, deidentify_study, new_salt
from ._tables import neutralize_formulas, write_csv
from .classify import Classification, classify_patients
from .cohort import Table1, summarize_cohort
from .cohort._summary import CI_METHODS
from .cohort._centres import summarize_centres
from .interpret import findings_table, flag_values, read_muscles, read_nerves
from .interpret._muscles import muap_reference_warnings
from .interpret._readings import height_warnings, reference_warnings
from .interpret._keys import decode_patient_ids, encode_patient_ids
from .interpret._nerves import _motor_sequence
from .io import Study, load_study
from .knowledge import ReferenceSet, load_anatomy, load_reference, load_rules
from .knowledge._muap import load_muap_reference_file
from .knowledge._reference import status_counts
from .knowledge._tables import table_provenance


@dataclass(repr=False)
class StudyResult:
    """Everything a review produces (returned by :func:`edxreview.review`).

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
    mri_lesions : DataFrame
        MRI lesions converted to cord segments.
    lesions : DataFrame
        The peripheral lesions localised from the NCS and EMG findings (spec §4.1), one row per
        lesion (nerve at a site, plexus element, cranial nerve, polyneuropathy) with the
        findings it rests on and the number of denervated muscles it explains.
    findings : DataFrame
        Every abnormal finding as a typed row (kind, value, limit, rule, source); see
        :func:`edxreview.interpret.findings_table`.
    overview : dict
        Empty for a review held in memory. A review run over partitions (registry scale)
        holds here what its partitions counted: ``muscles``, ``nerves`` and ``values``, the
        distinct combinations of the columns the figures and the methods count with their
        number of rows (``n``), the segmental map's counts, the Table 1
        ``characteristics``, and ``shown_patients``, the full rows of the patients the
        report gives a page; ``patients`` then has no text columns and ``muscles``,
        ``nerves``, ``values``, ``findings`` and ``lesions`` hold the rows of the patients
        shown. Every row is in the CSV files (see ``docs/scale.md``).
    table1 : Table1
        Table 1 of the included patients by LMN involvement, as the report shows it
        (computed on first use).

    Methods
    -------
    figures()
        The report's figures as matplotlib ``Figure`` objects.
    write(out, *, report=True, xlsx=True, docx=False, pdf=False, lang="en", force=False)
        Write the output folder ``edxreview run`` writes.

    Examples
    --------
    >>> import edxreview
    >>> result = edxreview.review(edxreview.demo_path())
    >>> result  # doctest: +ELLIPSIS
    <StudyResult: 59 patients included, 0 excluded; emg_denervation 13/59, ...>
    >>> result.patients.loc[result.patients["lmn_involvement"], "patient_id"].size
    9
    """

    patients: pd.DataFrame
    muscles: pd.DataFrame
    nerves: pd.DataFrame
    values: pd.DataFrame
    summary: dict[str, Any]
    study: Study
    reference: ReferenceSet
    mri_lesions: pd.DataFrame = field(default_factory=pd.DataFrame)
    options: dict[str, Any] = field(default_factory=dict)
    lesions: pd.DataFrame = field(default_factory=pd.DataFrame)
    findings: pd.DataFrame = field(default_factory=pd.DataFrame)
    overview: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def table1(self) -> Table1:
        """Table 1 of the included patients by LMN involvement, as in ``report.html``.

        Returns
        -------
        Table1
            ``.rows`` (one row per variable and level), ``.groups``, ``.footnotes`` and
            ``.to_frame()`` (the table as printed).
        """
        from .report._render import table1

        return table1(self)[0]

    def figures(self) -> dict[str, Any]:
        """The report's figures as matplotlib ``Figure`` objects.

        Returns
        -------
        dict of str to matplotlib.figure.Figure
            ``overlap`` (EMG × NCS × MRI, UpSet style), ``segmental_map`` (denervated
            segments against MRI lesion segments), ``muscles`` and ``nerves`` (readings per
            muscle and per nerve). The figures carry no title (the report's captions name
            them) and use the Okabe–Ito palette; save one with
            ``fig.savefig("fig.png", dpi=300)``. Each call draws new figures.

        Raises
        ------
        Nothing
            Figures of an empty cohort are drawn empty.

        Examples
        --------
        >>> import edxreview
        >>> figures = edxreview.review(edxreview.demo_path()).figures()
        >>> sorted(figures)
        ['muscles', 'nerves', 'overlap', 'segmental_map']
        >>> type(figures["overlap"]).__name__
        'Figure'
        """
        from .report._render import study_figures

        return study_figures(self)

    def write(self, out: str | Path, *, report: bool = True, xlsx: bool = True,
              docx: bool = False, pdf: bool = False, lang: str = "en",
              force: bool = False) -> Path:
        """Write the folder ``edxreview run`` writes: tables, summary, report and workbook.

        The files are written into a temporary folder and moved into place only when all are
        complete (see :func:`write_outputs`), so a failure leaves nothing half-written.

        Parameters
        ----------
        out : str or Path
            The output folder; created if missing.
        report : bool
            Write ``report.html`` and ``figures/`` (SVG, 300-dpi PNG and PDF of each figure).
        xlsx : bool
            Write ``results.xlsx``, every table of the report as a spreadsheet sheet.
        docx : bool
            Write ``report.docx``: results with confidence intervals, Table 1, the figures and
            the methods, as a Word document for a manuscript.
        pdf : bool
            Write ``report.pdf`` from the HTML report. Needs the optional WeasyPrint
            (``pip install 'edxreview[pdf]'``).
        lang : {"en", "zh"}
            Language of the report's headings, flow diagram, Table 1, figures, patient
            summaries and finding words.
        force : bool
            Replace an existing non-empty folder that edxreview wrote.

        Returns
        -------
        Path
            ``out``.

        Raises
        ------
        InvalidParameterError
            ``report``, ``xlsx``, ``docx``, ``pdf`` or ``force`` is not a bool, or ``lang`` is
            not a language with a label set (the errors of :func:`edxreview.report.render_report`
            for the same mistake).
        PdfUnavailableError
            ``pdf`` is true and WeasyPrint is not installed (checked before anything is
            written).
        OutputExistsError
            ``out`` exists and is not empty, and ``force`` is false.
        OutputPathError
            ``out`` overlaps the input or the reference file, is a file, holds files edxreview
            did not write, or is being written by another command.

        Examples
        --------
        >>> import edxreview
        >>> result = edxreview.review(edxreview.demo_path())
        >>> folder = result.write("review", report=False, xlsx=False)
        >>> sorted(p.name for p in folder.iterdir())  # doctest: +NORMALIZE_WHITESPACE
        ['.edxreview-output.json', 'findings.csv', 'lesions.csv', 'muscles.csv', 'nerves.csv',
         'patients.csv', 'summary.json', 'values.csv', 'warnings.csv']
        """
        from .report import check_report_options, write_report_files

        check_bool("force", force)
        check_report_options(html=report, xlsx=xlsx, docx=docx, pdf=pdf, lang=lang,
                             html_name="report")

        def render(folder: Path, result: StudyResult) -> None:
            write_report_files(result, folder, html=report, xlsx=xlsx, docx=docx, pdf=pdf,
                               lang=lang)

        return write_outputs(self, out, force=force,
                             extra=render if report or xlsx or docx or pdf else None,
                             spelled=("out", "force=True"))

    def _input_paths(self) -> list[Path]:
        """Every path the review read (:func:`study_inputs`): an output may overlap none."""
        muap = self.reference.muap
        return study_inputs(self.study.source, self.reference.path,
                            None if muap is None else muap.attrs.get("path"))

    def _counts(self) -> pd.DataFrame:
        """The six measures as a small table (no patient-level data)."""
        rows = []
        for key, m in self.summary.get("measures", {}).items():
            lo, hi = m["ci95"]
            rows.append({"measure": m["label"], "n": m["n"], "of": m["denominator"],
                         "%": "—" if m["percent"] is None else f"{m['percent']:.1f}",
                         "95% CI": "—" if lo is None else f"{lo:.1f}–{hi:.1f}"})
        return pd.DataFrame(rows, columns=["measure", "n", "of", "%", "95% CI"])

    def __repr__(self) -> str:
        n = self.summary.get("n_patients", len(self.patients))
        excluded = self.summary.get("n_excluded", 0)
        counts = ", ".join(f"{key} {m['n']}/{m['denominator']}"
                           for key, m in self.summary.get("measures", {}).items())
        return (f"<StudyResult: {n} patients included, {excluded} excluded; {counts}; "
                f"95% CI {self.summary.get('ci_method', '?')}>")

    def _repr_html_(self) -> str:
        n = self.summary.get("n_patients", len(self.patients))
        excluded = self.summary.get("n_excluded", 0)
        caption = html.escape(f"StudyResult: {n} patients included, {excluded} excluded; "
                              f"95% CI: {self.summary.get('ci_method', '?')}")
        table = self._counts().to_html(index=False, escape=True, border=0)
        return f"<div><p><strong>{caption}</strong></p>{table}</div>"


def review(path: str | Path, reference: str | Path | ReferenceSet | None = None, *,
           deidentify: bool = False, salt: str | None = None, ci_method: str = "wilson",
           progress: Callable[[str], None] | None = None,
           muap_reference: str | Path | None = None) -> StudyResult:
    """Review a study: read and validate the workbook, read every nerve and muscle, classify
    each patient and count the cohort.

    Every argument is checked before any file is read, so a misspelt option fails at once.

    Parameters
    ----------
    path : str or Path
        The study: an ``.xlsx`` workbook, or a folder of one CSV (or Parquet) file per sheet
        (the format of ``edxreview template``).
    reference : str, Path or ReferenceSet, optional
        A laboratory's own reference limits file (the format of the bundled
        ``ncs_limits_adult.csv``, checked by ``edxreview reference check``); ``None`` uses the
        bundled cited set.
    deidentify : bool
        Replace patient ids by salted hashes, shift dates per patient and drop free text
        before the review.
    salt : str, optional
        Secret salt of the id hash (needs ``deidentify=True``); ``None`` draws a random one
        that is written nowhere, so the pseudonyms cannot be traced back.
    ci_method : {"wilson", "beta"}
        95 % binomial confidence interval: Wilson score or Clopper–Pearson (``"beta"``).
    progress : callable, optional
        Called with the name of each stage as it starts.
    muap_reference : str or Path, optional
        A laboratory's own MUAP reference CSV (``muscle, age_min_years, age_max_years,
        duration_lower_ms, duration_upper_ms, amplitude_upper_uv``; rows without a
        ``status`` are the laboratory's, ``lab``) against which the workbook's quantitative
        MUAP means are judged (beside a qualitative reading either is enough). ``None``: the bundled
        table, which is unverified, so no quantitative mean is judged.

    Returns
    -------
    StudyResult
        ``.patients``, ``.muscles``, ``.nerves``, ``.values``, ``.findings``, ``.lesions``
        (DataFrames), ``.summary`` (what ``summary.json`` holds), ``.table1``, and
        ``.write(out)`` to write the output folder with the report.

    Raises
    ------
    InvalidParameterError
        An argument is not one it accepts, e.g. ``ci_method="Wilson"`` (the message lists
        the allowed values and suggests the closest).
    InvalidWorkbookError
        The workbook is invalid; ``problems`` lists every problem found (sheet, row, column,
        value).
    InvalidInputError
        The reference limits file or the MUAP reference file is invalid (every problem with
        its row, column and value).

    See Also
    --------
    edxreview.demo_path : the bundled 59-patient demonstration cohort.

    Examples
    --------
    >>> import edxreview
    >>> result = edxreview.review(edxreview.demo_path())
    >>> result.summary["n_patients"]
    59
    >>> [m["n"] for m in result.summary["measures"].values()]
    [13, 7, 4, 2, 9, 4]
    >>> result.table1.groups
    {'LMN involvement': 9, 'No LMN involvement': 50}
    >>> edxreview.review(edxreview.demo_path(), ci_method="Wilson")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    edxreview._errors.InvalidParameterError: ... Did you mean 'wilson'?
    """
    return review_study(path, reference, ci_method=ci_method, progress=progress,
                        deidentify=deidentify, salt=salt, muap_reference=muap_reference)


def review_study(path: str | Path, reference: str | Path | ReferenceSet | None = None,
                 ci_method: str = "wilson",
                 progress: Callable[[str], None] | None = None, deidentify: bool = False,
                 salt: str | None = None,
                 muap_reference: str | Path | None = None) -> StudyResult:
    """Run the review pipeline on a study workbook (the engine of :func:`review`).

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
        mapping cannot be recovered. An empty or blank salt is refused.
    muap_reference : str or Path, optional
        A laboratory's own MUAP reference CSV (see :func:`review`).

    Returns
    -------
    StudyResult

    Raises
    ------
    InvalidWorkbookError
        The workbook is invalid; ``problems`` lists every problem found.
    InvalidParameterError
        An argument is not one it accepts (checked before any work is done): ``ci_method``
        not one of the allowed methods, ``deidentify`` not a bool, ``salt`` empty or blank or
        given without ``deidentify``, ``reference`` of another type, ``progress`` not callable.
    """
    _check_review_options(reference, ci_method, deidentify, salt, progress)
    step = progress or (lambda name: None)
    step("read and validate")
    key = (salt if salt else new_salt()) if deidentify else ""
    # the limits first: a laboratory file with a bad row stops the run before any work
    if muap_reference is not None and not isinstance(muap_reference, (str, Path)):
        raise InvalidParameterError(
            "Invalid value for the 'muap_reference' parameter: of type "
            f"{type(muap_reference).__name__}. Give the path of a MUAP reference CSV, or None.")
    if isinstance(reference, ReferenceSet):
        ref = reference if muap_reference is None else dataclasses.replace(
            reference, muap=load_muap_reference_file(muap_reference))
    else:
        ref = load_reference(reference, muap_reference)
    try:
        study = load_study(path)
    except InvalidWorkbookError as exc:
        if not deidentify:
            raise
        # the problems are printed: under --deidentify they name no typed text either
        raise InvalidWorkbookError(
            f"{exc} (cell values are withheld under --deidentify; `edxreview validate` shows "
            "them)", deidentify_problems(exc.problems, key)) from None
    if deidentify:
        study = deidentify_study(study, key, recording_sites=ref.limits["recording_site"])
    study.warnings.extend(ref.warnings)
    result, values, findings = classify_study(study, ref, step)
    step("cohort results")
    summary = summarize_cohort(result.patients, method=ci_method)  # type: ignore[arg-type]
    add_centres(summary, result.patients, study.tables["patients"], ci_method)
    options = review_options(reference, ci_method, deidentify, salt)
    summary["rows"] = study.rows
    summary["warnings"] = len(study.warnings)
    summary["provenance"] = provenance(
        study, ref, options, {str(k): int(v) for k, v in
                              values["reference_status"].value_counts().items() if v},
        deidentify)
    muscles_out = result.muscles.drop(columns=["unexplained"], errors="ignore")
    return StudyResult(result.patients, muscles_out, result.nerves, values, summary, study, ref,
                       result.mri_lesions, options, lesions=result.lesions, findings=findings)


def classify_study(study: Study, ref: ReferenceSet,
                   step: Callable[[str], None] = lambda name: None
                   ) -> tuple[Classification, pd.DataFrame, pd.DataFrame]:
    """Flag the values, read every nerve and muscle and classify the patients of a validated
    study (one partition of a registry, or the whole study).

    Returns
    -------
    (Classification, values, findings)
        Tables keyed by the text patient ids.
    """
    anatomy = load_anatomy()
    rules = load_rules()
    step("flag values")
    keyed, ids = encode_patient_ids(study)
    # the motor rows in conduction order, once for the values and the nerve readings
    keyed.tables["ncs_motor"] = _motor_sequence(keyed.tables["ncs_motor"], anatomy)
    values = flag_values(keyed, ref, anatomy)
    step("read nerves and muscles")
    nerves = read_nerves(keyed, values, anatomy, rules)
    muscles = read_muscles(keyed, anatomy, rules, muap_reference=ref.muap)
    study.warnings.extend(reference_warnings(values))
    study.warnings.extend(muap_reference_warnings(muscles, ref.muap))
    findings = findings_table(values, nerves, muscles, rules)
    step("classify patients")
    result: Classification = classify_patients(keyed, nerves, muscles, anatomy, rules)
    result = Classification(*(decode_patient_ids(t, ids) for t in (
        result.patients, result.muscles, result.nerves, result.mri_lesions, result.lesions)))
    values = decode_patient_ids(values, ids)
    # a height-adjusted limit taken at the reference height: warned of on the patients row
    study.warnings.extend(height_warnings(values, study.tables["patients"]))
    return result, values, decode_patient_ids(findings, ids)


def provenance(study: Study, ref: ReferenceSet, options: dict[str, Any],
               value_status: dict[str, int], deidentify: bool) -> dict[str, Any]:
    """The ``provenance`` block of ``summary.json``."""
    return {
        "edxreview_version": __version__,
        "reference_set": ref.label,
        "muap_reference": "bundled (unverified: quantitative means not judged)"
        if ref.muap is None else ("withheld (--deidentify)" if deidentify else
                                  Path(str(ref.muap.attrs.get("path", ""))).name),
        "reference_path": "bundled" if ref.path == "bundled" else (
            "withheld (--deidentify)" if deidentify else Path(ref.path).name),
        "input": "withheld (--deidentify)" if deidentify else Path(study.source).name,
        "input_format": study.format,
        "input_sha256": study.sha256,
        # the tables a review reads (a sidecar's scope says who reads its table)
        "tables": table_provenance("review"),
        # rows of the active limits, and values judged, per row status (verified, corrected…)
        "reference_status": {
            "rows": status_counts(ref.limits),
            "values": value_status,
        },
        "options": options,
        "python": platform.python_version(),
        "pandas": pd.__version__,
        "numpy": np.__version__,
        "generated_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


def add_centres(summary: dict[str, Any], patients: pd.DataFrame, typed: pd.DataFrame,
                ci_method: str) -> None:
    """Add the per-centre breakdown to ``summary`` (``centres``) when the patients sheet names
    a centre for some patient; a single-centre study's summary is left as it was."""
    table = summarize_centres(patients, typed, method=ci_method)  # type: ignore[arg-type]
    if len(table):
        summary["centres"] = [
            {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items()}
            for row in table.astype(object).to_dict("records")]


def review_options(reference, ci_method: str, deidentify: bool, salt: str | None) -> dict:
    """The ``options`` recorded in the provenance."""
    return {"ci_method": ci_method, "reference": "bundled" if reference is None else "user",
            "deidentify": bool(deidentify),
            "salt": ("given" if salt is not None else "random, not recorded")
            if deidentify else None}


def _check_review_options(reference, ci_method, deidentify, salt, progress) -> None:
    """Check the options of :func:`review_study` before any file is read."""
    check_option("ci_method", ci_method, CI_METHODS)
    check_bool("deidentify", deidentify)
    if reference is not None and not isinstance(reference, (str, Path, ReferenceSet)):
        raise InvalidParameterError(
            "Invalid value for the 'reference' parameter: of type "
            f"{type(reference).__name__}. Give the path of a limits file, a ReferenceSet, or "
            "None for the bundled limits.")
    if progress is not None and not callable(progress):
        raise InvalidParameterError(
            f"Invalid value for the 'progress' parameter: {progress!r} is not callable.")
    if salt is not None:
        if not isinstance(salt, str) or not salt.strip():
            raise InvalidParameterError(
                f"salt {salt!r} is empty; give a secret text (the same salt gives the same "
                "pseudonyms), or leave it out for a random salt that is written nowhere")
        if not deidentify:
            raise InvalidParameterError(
                "the 'salt' parameter needs deidentify=True (the salt keys the pseudonyms "
                "that de-identification gives)")


def write_outputs(result: StudyResult, out_dir: str | Path, force: bool = False,
                  extra: Callable[[Path, StudyResult], None] | None = None,
                  spelled: tuple[str, str] = ("out_dir", "force=True")) -> Path:
    """Write the output files atomically into a folder of their own.

    Files are written into a temporary folder beside ``out_dir`` and moved into place only when
    all are complete, so a failure leaves no half-written output (see
    :class:`edxreview._output.OutputFolder`: the folder is locked while it is written, may not
    overlap the input, and holds a manifest of the files written).

    Parameters
    ----------
    result : StudyResult
    out_dir : str or Path
    force : bool
        Replace an existing non-empty ``out_dir`` that edxreview wrote.
    extra : callable, optional
        Writes further files (the report) into the temporary folder.
    spelled : (str, str)
        How messages name the folder's argument and ``force`` (see :class:`OutputFolder`).

    Raises
    ------
    OutputPathError
        ``out_dir`` is, contains or lies inside the input or the reference file, is a file,
        holds files edxreview did not write, or is being written by another command.
    OutputExistsError
        ``out_dir`` exists and is not empty, and ``force`` is false.
    """
    with OutputFolder(out_dir, force=force, inputs=result._input_paths(), command="run",
                      spelled=spelled) as output:
        write_result_files(result, output.staging, extra)
        output.commit()
    return Path(out_dir)


def study_inputs(workbook: str | Path, reference: str | Path | None = None,
                 muap_reference: str | Path | None = None) -> list[Path]:
    """Every path a review reads: the workbook (file or folder) and a user's reference file with
    its ``.meta.toml`` sidecar. An output folder may overlap none of them."""
    paths = [Path(workbook)]
    for file in (reference, muap_reference):
        if file is not None and str(file) not in ("", "bundled"):
            ref = Path(file)
            paths += [ref, ref.with_name(f"{ref.stem}.meta.toml")]
    return paths


def write_result_files(result: StudyResult, folder: Path,
                       extra: Callable[[Path, StudyResult], None] | None = None) -> None:
    """Write the tables, ``warnings.csv`` and ``summary.json`` (and ``extra``) into ``folder``.

    Every CSV is written with :func:`edxreview._tables.write_csv` or neutralised by
    :func:`edxreview._tables.neutralize_formulas`, so no cell starts a spreadsheet formula.
    """
    write_csv(result.patients, folder / "patients.csv")
    write_csv(result.muscles, folder / "muscles.csv")
    write_csv(result.nerves, folder / "nerves.csv")
    write_csv(result.values, folder / "values.csv")
    if len(result.findings.columns):
        write_csv(result.findings, folder / "findings.csv")
    if len(result.lesions.columns):
        write_csv(result.lesions, folder / "lesions.csv")
    write_summary_files(result, folder)
    if extra is not None:
        extra(folder, result)


def write_summary_files(result: StudyResult, folder: Path) -> None:
    """Write ``warnings.csv`` and ``summary.json`` into ``folder``."""
    with open(folder / "warnings.csv", "w", encoding="utf-8", newline="") as fh:
        write_warnings(result.study.warnings, fh)
    write_summary_json(result.summary, folder)


def write_warnings(problems: list, fh, header: bool = True) -> None:
    """Write problems as rows of ``warnings.csv`` to an open text file (each row's text
    depends on that problem only, so parts written one after another give the whole)."""
    warnings = pd.DataFrame([p.to_dict() for p in problems],
                            columns=["sheet", "row", "column", "value", "message", "severity"])
    warnings["row"] = warnings["row"].astype("Int64")  # 162, not 162.0 beside empty rows
    neutralize_formulas(warnings).to_csv(fh, index=False, lineterminator="\n", header=header)


def write_summary_json(summary: dict[str, Any], folder: Path) -> None:
    """Write ``summary.json`` into ``folder``."""
    with open(folder / "summary.json", "w", encoding="utf-8") as fh:
        json.dump(summary, fh, indent=2, ensure_ascii=False)
        fh.write("\n")


def demo_path() -> Path:
    """Folder of the bundled 59-patient NMOSD demonstration cohort (CSV sheets).

    Returns
    -------
    Path
        A folder of one ``<sheet>.csv`` per sheet, inside the installed package (read it;
        do not write into it).

    Raises
    ------
    Nothing
        The folder ships with the package.

    Examples
    --------
    >>> import edxreview
    >>> sorted(p.name for p in edxreview.demo_path().glob("*.csv"))[:3]
    ['blink_reflex.csv', 'emg.csv', 'f_waves.csv']
    """
    from importlib import resources

    return Path(str(resources.files("edxreview").joinpath("data/demo")))
