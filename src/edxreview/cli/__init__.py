"""Command-line interface: ``edxreview demo | run | validate | template | reference | emg |
compare | adjudicate``.

Thin layer: parses arguments, calls the library, prints with rich. Exit status 0 success,
1 invalid input (every problem listed, nothing written), 2 wrong usage (an --out that cannot be
used included), 3 internal error (a bug in edxreview), 128 + the signal number when interrupted (130 Ctrl-C, 143 SIGTERM).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path
from typing import Sequence

from rich.console import Console
from rich.table import Table

from .. import __version__
from .._errors import EdxreviewError, InvalidInputError, OutputPathError
from .._words import LANGUAGES
from ._force import FOLDER_FORCE_HELP

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


def _console(quiet: bool = False, stderr: bool = False) -> Console:
    return Console(stderr=stderr, quiet=quiet, highlight=False, soft_wrap=False)


def _print_error(console: Console, message: str) -> None:
    """``error: message``, the message printed as written (paths may hold ``[``)."""
    from rich.text import Text

    console.print(Text.assemble(("error:", "bold red"), " ", message), soft_wrap=True)


def print_problems(problems, console: Console, limit: int = 200) -> None:
    """Print problems, errors first, one plain line each: sheet, row, column, value, message.

    Lines are never wrapped or interpreted as markup, so every problem can be searched for
    (``edxreview validate book.xlsx | grep ncs_motor``) and cell text prints as written.
    """
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity != "error"]
    console.print(f"{len(errors)} error(s), {len(warnings)} warning(s):", markup=False)
    for p in (errors + warnings)[:limit]:
        console.print(str(p), markup=False, highlight=False, soft_wrap=True, emoji=False)
    if len(problems) > limit:
        console.print(f"… and {len(problems) - limit} more (fix these and run again to see them)",
                      markup=False)


def informational_notes(extra_columns: dict[str, list[str]]) -> list[str]:
    """One line per sheet naming the informational columns it holds (those another edxreview
    command writes beside the sheet's own, such as the provenance columns of
    ``emg_rows.csv``): kept in the data, read by no rule, and drawing no warning. Only names
    of the specification are printed, never a user's own header."""
    from ..io._schema import SHEETS

    notes = []
    for sheet, columns in extra_columns.items():
        known = [c for c in columns if sheet in SHEETS and c in SHEETS[sheet].informational]
        if known:
            notes.append(f"{sheet}: {len(known)} informational column(s) kept for the review, "
                         f"read by no rule: {', '.join(known)}")
    return notes


def print_results(summary: dict, console: Console, published: dict | None = None) -> None:
    """The cohort results table."""
    table = Table(title=f"Cohort results — {summary['n_patients']} patients included, "
                        f"{summary['n_excluded']} excluded")
    table.add_column("measure")
    for col in ("n", "of", "%", "95% CI"):
        table.add_column(col, justify="right")
    if published:
        table.add_column("published study", justify="right")
    for key, m in summary["measures"].items():
        ci = "—" if m["ci95"][0] is None else f"{m['ci95'][0]:.1f}–{m['ci95'][1]:.1f}"
        row = [m["label"], str(m["n"]), str(m["denominator"]),
               "—" if m["percent"] is None else f"{m['percent']:.1f}", ci]
        if published:
            from ..cohort._summary import PUBLISHED_N_PATIENTS

            row.append(f"{published[key]}/{PUBLISHED_N_PATIENTS}")
        table.add_row(*row)
    console.print(table)
    console.print(f"95% CI: {summary['ci_method']}.")


def _add_run_options(p: argparse.ArgumentParser, default_out: str | None) -> None:
    p.add_argument("--out", default=default_out, type=Path,
                   help="output folder (written atomically)" + (f"; default {default_out}" if default_out else ""))
    p.add_argument("--reference", type=Path, default=None,
                   help="a laboratory's own reference limits CSV (format of ncs_limits_adult.csv; "
                        "check it with: edxreview reference check FILE)")
    p.add_argument("--muap-reference", type=Path, default=None, metavar="FILE",
                   help="a laboratory's own MUAP reference CSV (muscle, age_min_years, "
                        "age_max_years, duration_lower_ms, duration_upper_ms, "
                        "amplitude_upper_uv; optional status, empty = lab) against which the "
                        "emg sheet's quantitative MUAP means are judged (beside a qualitative "
                        "reading either is enough); without it they are kept and not judged "
                        "(the bundled table is unverified)")
    p.add_argument("--ci", choices=["wilson", "beta"], default="wilson",
                   help="binomial CI method: wilson (score) or beta (Clopper-Pearson); default wilson")
    p.add_argument("--force", action="store_true",
                   help=FOLDER_FORCE_HELP)
    p.add_argument("--deidentify", action="store_true",
                   help="replace patient ids by salted hashes, shift dates per patient and drop "
                        "free text (diagnosis, location, unknown columns, unrecognised sites) "
                        "before the review; "
                        "the mapping cannot be recovered without the salt")
    p.add_argument("--salt", default=None, metavar="TEXT",
                   help="salt for --deidentify (keep it secret; the same salt gives the same "
                        "pseudonyms); default: a random salt that is written nowhere")
    p.add_argument("--docx", action="store_true",
                   help="also write report.docx (results, Table 1, figures, methods) for a "
                        "manuscript")
    p.add_argument("--pdf", action="store_true",
                   help="also write report.pdf (needs the optional WeasyPrint: "
                        "pip install 'edxreview[pdf]')")
    p.add_argument("--lang", choices=LANGUAGES, default="en",
                   help="language of report.html's headings, results, flow diagram, Table 1, "
                        "figures and patient pages (default en; zh = Chinese)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress or tables")
    g = p.add_argument_group(
        "registry scale", "a folder of sheets larger than a few tens of MB, or a partitioned "
        "dataset (synth --format parquet --partitions N), is reviewed in partitions of patients, "
        "in parallel; the outputs do not depend on --jobs or --engine")
    g.add_argument("--partitions", type=int, default=None, metavar="N",
                   help="split a folder of sheets into N partitions of patients, 1 to "
                        "2147483647 (default: one per 24 MB of input; 1 reviews the study in "
                        "one piece)")
    g.add_argument("--jobs", type=int, default=None, metavar="N",
                   help="worker processes for the partitions (default: all cores)")
    g.add_argument("--engine", choices=["local", "dask"], default="local",
                   help="local: a process pool on this machine (default); dask: Dask "
                        "distributed (pip install 'edxreview[dask]')")
    g.add_argument("--dask-address", default=None, metavar="ADDRESS",
                   help="a running Dask scheduler, e.g. tcp://scheduler:8786 (default with "
                        "--engine dask: a local cluster of --jobs workers)")
    g.add_argument("--output-format", choices=["csv", "parquet"], default="csv",
                   help="tables as CSV files (default) or as Parquet datasets, one file per "
                        "partition (for registries)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="edxreview",
        description="Retrospective review of nerve conduction studies and needle EMG.")
    parser.add_argument("--version", action="version", version=f"edxreview {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    p = sub.add_parser("demo", help="run the whole pipeline on the bundled 59-patient NMOSD cohort")
    _add_run_options(p, "edxreview-demo")
    p = sub.add_parser("run", help="run the whole pipeline on a study workbook")
    p.add_argument("workbook", type=Path, help=".xlsx workbook or folder of <sheet>.csv files")
    _add_run_options(p, None)
    p = sub.add_parser("validate", help="check a workbook; list every problem")
    p.add_argument("workbook", type=Path)
    p.add_argument("--muap-reference", type=Path, default=None, metavar="FILE",
                   help="the laboratory's MUAP reference CSV that 'run --muap-reference' "
                        "would read: the emg sheet's quantitative MUAP means it does not judge "
                        "are listed as warnings, as run lists them (without it, those the "
                        "bundled, unverified table does not judge: every one)")
    p = sub.add_parser("template", help="write an empty workbook with drop-downs and an example row")
    p.add_argument("path", type=Path, help="where to write the .xlsx file")
    p.add_argument("--force", action="store_true",
                   help="replace an existing empty template (one holding no row of data besides "
                        "the example rows); a workbook holding data is never replaced")
    for module in ("reference", "emg", "synth", "agreement"):
        # a subcommand that cannot be imported is a broken installation: fail loudly rather
        # than drop the command from the help
        importlib.import_module(f"edxreview.cli.{module}").add_parser(sub)
    return parser


def _run_pipeline(workbook: Path, args, console: Console, published: dict | None = None) -> int:
    from .._output import OutputFolder
    from .._pipeline import review_study, study_inputs, write_result_files
    from ..report import write_report_files

    if args.salt is not None and not args.deidentify:
        _console(stderr=True).print("[bold red]error:[/] --salt needs --deidentify")
        return EXIT_USAGE
    if args.salt is not None and not args.salt.strip():
        _print_error(_console(stderr=True),
                     f"--salt {args.salt!r} is empty; give a secret text (the same salt gives "
                     "the same pseudonyms) or leave --salt out for a random salt")
        return EXIT_USAGE
    if args.pdf:
        from ..report import PdfUnavailableError
        from ..report._render import check_pdf_available

        try:
            check_pdf_available()
        except PdfUnavailableError as exc:
            _print_error(_console(stderr=True), f"--pdf: {exc}")
            return EXIT_USAGE
    for name in ("partitions", "jobs"):
        value = getattr(args, name, None)
        if value is not None and value < 1:
            _print_error(_console(stderr=True), f"--{name} {value} must be at least 1")
            return EXIT_USAGE
    from ..io._dataset import MAX_PARTITIONS

    if args.partitions is not None and args.partitions > MAX_PARTITIONS:
        _print_error(_console(stderr=True),
                     f"--partitions {args.partitions} is more than the most a review can split "
                     f"a study into, {MAX_PARTITIONS} (a bucket is a 32-bit integer); give a "
                     "smaller number (partitions beyond the number of patients stay empty)")
        return EXIT_USAGE
    if args.dask_address and args.engine != "dask":
        _print_error(_console(stderr=True), "--dask-address needs --engine dask")
        return EXIT_USAGE
    out = args.out if args.out is not None else Path(f"{workbook.stem}-edxreview")
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    stages = ["read and validate", "flag values", "read nerves and muscles", "classify patients",
              "cohort results", "write outputs and report"]
    bar = Progress(SpinnerColumn(), TextColumn("{task.description:<26}"), BarColumn(),
                   TextColumn("{task.completed}/{task.total} stages"), TimeElapsedColumn(),
                   console=_console(stderr=True), transient=True, disable=args.quiet)
    with OutputFolder(out, force=args.force,
                      inputs=study_inputs(workbook, args.reference, args.muap_reference),
                      command=args.command) as output, bar:
        task = bar.add_task("reviewing", total=len(stages))

        def progress(stage: str) -> None:
            done = stages.index(stage) if stage in stages else bar.tasks[0].completed
            bar.update(task, description=stage, completed=done)

        if _partitioned(workbook, args):
            from .._partition import review_registry

            result = review_registry(
                workbook, out, args.reference, ci_method=args.ci, partitions=args.partitions,
                jobs=args.jobs, engine=args.engine, dask_address=args.dask_address,
                output_format=args.output_format, deidentify=args.deidentify, salt=args.salt,
                docx=args.docx, pdf=args.pdf, lang=args.lang, progress=progress, output=output,
                muap_reference=args.muap_reference)
        else:
            result = review_study(workbook, reference=args.reference, ci_method=args.ci,
                                  progress=progress, deidentify=args.deidentify, salt=args.salt,
                                  muap_reference=args.muap_reference)
            progress("write outputs and report")
            write_result_files(result, output.staging,
                               extra=lambda tmp, r: write_report_files(
                                   r, tmp, docx=args.docx, pdf=args.pdf, lang=args.lang))
        output.commit()
        bar.update(task, completed=len(stages))
    n_warnings = result.summary.get("warnings", len(result.study.warnings))
    if n_warnings and not args.quiet:
        console.print(f"{n_warnings} warning(s); see {out / 'warnings.csv'}")
    print_results(result.summary, console, published)
    extra = "".join(f", {name}" for name, on in (("report.docx", args.docx),
                                                  ("report.pdf", args.pdf)) if on)
    console.print(f"Outputs written to {out}/ (summary.json, patients.csv, muscles.csv, nerves.csv, "
                  "values.csv, findings.csv, lesions.csv, warnings.csv, report.html, results.xlsx"
                  f"{extra}, figures/)")
    return EXIT_OK


def _partitioned(workbook: Path, args) -> bool:
    """Whether the run goes over partitions of patients (see ``edxreview._partition``): a
    partitioned dataset, a sheet folder of more than one partition, or an option that needs
    it (--engine dask, --output-format parquet)."""
    from .._partition import choose_partitions
    from ..io._dataset import is_partitioned_dataset

    if is_partitioned_dataset(workbook):
        return True
    if not workbook.is_dir():
        return False
    return (args.engine == "dask" or args.output_format == "parquet"
            or choose_partitions(workbook, args.partitions) > 1)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    console = _console(quiet=getattr(args, "quiet", False))
    err = _console(stderr=True)
    try:
        if args.command == "demo":
            from .._pipeline import demo_path
            from ..cohort._summary import PUBLISHED

            return _run_pipeline(demo_path(), args, console, PUBLISHED)
        if args.command == "run":
            return _run_pipeline(args.workbook, args, console)
        if args.command == "validate":
            from ..interpret._muscles import check_muap_means
            from ..io import load_study
            from ..io._dataset import is_partitioned_dataset
            from ..knowledge._muap import load_muap_reference_file

            # the laboratory's table first: a bad row stops before the workbook is read
            muap = (None if args.muap_reference is None
                    else load_muap_reference_file(args.muap_reference))
            if is_partitioned_dataset(args.workbook):
                from .._partition import validate_dataset

                study = validate_dataset(args.workbook, muap)
            else:
                study = load_study(args.workbook)
                # the means run would keep without judging them: warnings, as run gives them
                study.warnings.extend(check_muap_means(study, muap))
            if study.warnings:
                print_problems(study.warnings, console)
            for line in informational_notes(study.extra_columns):
                console.print(line, markup=False, highlight=False, soft_wrap=True)
            n_rows = sum(r["read"] for r in study.rows.values())
            console.print(f"[green]valid[/]: {len(study.tables['patients'])} patients, "
                          f"{n_rows} rows read, {len(study.warnings)} warning(s)")
            return EXIT_OK
        if args.command == "template":
            from ..io._template import write_template_file

            # the function's own refusal of an existing file (OutputPathError: exit 2)
            write_template_file(args.path, args.force, "--force")
            console.print(f"template written to {args.path}")
            return EXIT_OK
        if hasattr(args, "func"):
            return int(args.func(args))
        if args.command in ("reference", "emg", "synth"):
            mod = __import__(f"edxreview.cli.{args.command}", fromlist=["run"])
            return int(mod.run(args))
    except InvalidInputError as exc:
        err.print(f"[bold red]invalid input:[/] {exc}")
        if exc.problems:
            print_problems(exc.problems, err)
        return EXIT_INVALID
    except OutputPathError as exc:  # the --out folder cannot be used: wrong usage
        _print_error(err, str(exc))
        return EXIT_USAGE
    except EdxreviewError as exc:
        err.print(f"[bold red]error:[/] {exc}")
        return EXIT_INVALID
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM/SIGHUP while an output is written
        err.print("interrupted; " + ("the output was complete and is in place"
                                     if getattr(exc, "output_written", False)
                                     else "nothing was written"))
        return 128 + getattr(exc, "signum", 2)
    except OSError as exc:  # the file system refused (missing folder, permissions, disk full)
        if os.environ.get("EDXREVIEW_DEBUG"):
            raise
        where = f" {str(exc.filename)!r}" if exc.filename else ""
        err.print(f"[bold red]error:[/] cannot read or write{where}: "
                  f"{exc.strerror or type(exc).__name__}; nothing was written")
        return EXIT_USAGE
    except Exception as exc:  # noqa: BLE001 - the one boundary that catches all: anything not
        # handled above is a bug; say so without a traceback or any cell content
        if os.environ.get("EDXREVIEW_DEBUG"):
            raise
        err.print(f"[bold red]internal error[/] ({type(exc).__name__}) while processing the "
                  "input; nothing was written. This is a bug in edxreview: please report it "
                  "(set EDXREVIEW_DEBUG=1 to see the details)")
        return EXIT_INTERNAL
    parser.error(f"unknown command {args.command!r}")
    return EXIT_USAGE


def _entry() -> None:
    sys.exit(main())
