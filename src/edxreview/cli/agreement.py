"""``edxreview compare``: agreement between the software and human readers, their
disagreements and (with ``--adjudicated``) the final classifications with an audit trail;
``edxreview adjudicate``: the workbook in which an adjudicator settles each disagreement."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import os
from pathlib import Path

from rich.console import Console

from ._force import FOLDER_FORCE_HELP



def add_parser(subparsers) -> None:
    """Register ``compare`` and ``adjudicate``."""
    c = subparsers.add_parser(
        "compare", help="agreement between the software and readers; disagreements",
        description="Compare the software's patient classifications (RESULTS: an output "
                    "folder of 'edxreview run' or 'demo') with readers' (READERS: .csv or .xlsx "
                    "with patient_id, reader, any of the six classifications as yes/no and an "
                    "optional comment). Writes agreement.csv (percent agreement, Cohen's kappa, "
                    "Gwet's AC1, Fleiss' kappa), disagreements.csv and agreement.html.")
    c.add_argument("results", type=Path, metavar="RESULTS", help="output folder of edxreview run")
    c.add_argument("readers", type=Path, metavar="READERS", help="readers' classifications")
    c.add_argument("--out", type=Path, required=True, help="output folder")
    c.add_argument("--adjudicated", type=Path, default=None, metavar="FILE",
                   help="the filled workbook of 'edxreview adjudicate': also write the final "
                        "classifications (final_patients.csv), the counts from them beside the "
                        "software's (final_counts.csv) and audit.csv, and append the changes to "
                        "the audit log (--audit)")
    c.add_argument("--audit", type=Path, default=None, metavar="FILE",
                   help="audit log to append to (a plain file, created when missing, never "
                        "rewritten; checked before anything is written); "
                        "default: FILE.audit.csv beside the --adjudicated workbook")
    c.add_argument("--force", action="store_true", help=FOLDER_FORCE_HELP)
    c.add_argument("-q", "--quiet", action="store_true", help="no tables")
    c.set_defaults(func=run_compare)
    a = subparsers.add_parser(
        "adjudicate", help="write the adjudication workbook: one row per disagreement",
        description="Write an .xlsx workbook with one row per patient and classification on "
                    "which the software and the readers differ, the candidates beside the "
                    "software's explanation, and empty final, adjudicator and reason columns. "
                    "Fill them in and pass the file to 'edxreview compare --adjudicated'.")
    a.add_argument("results", type=Path, metavar="RESULTS")
    a.add_argument("readers", type=Path, metavar="READERS")
    a.add_argument("--out", type=Path, required=True, metavar="FILE",
                   help="workbook to write (.xlsx)")
    a.add_argument("--force", action="store_true",
                   help="replace an existing workbook in which no final, adjudicator or reason "
                        "is filled in; one holding any adjudication is never replaced")
    a.add_argument("-q", "--quiet", action="store_true")
    a.set_defaults(func=run_adjudicate)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _error(message: str) -> None:
    from . import _console, _print_error

    _print_error(_console(stderr=True), message)


def _refuse_adjudication_path(path: Path, force: bool) -> None:
    """Refuse an ``--out`` the adjudication workbook may not be written to: a folder; an
    existing file without ``--force``; with ``--force``, a workbook in which a final,
    adjudicator or reason is filled in, or one that cannot be read (``--force`` replaces a
    blank form, never an adjudication). A link is replaced with ``--force``, never written
    through: what it leads to is kept.

    Raises
    ------
    OutputExistsError
        ``path`` exists and ``force`` is false.
    OutputPathError
        ``path`` is a folder, or holds an adjudication or cannot be read.
    """
    from .._errors import InvalidInputError, OutputExistsError, OutputPathError
    from .._output import replaceable_without_reading
    from ..cohort._agreement import count_adjudicated_cells

    if replaceable_without_reading(path, force, "--force", "the adjudication workbook",
                                   "choose another --out"):
        return
    shown = repr(str(path))
    if not force:
        raise OutputExistsError(
            f"{shown} exists; pass --force to replace it (only a workbook with no final, "
            "adjudicator or reason filled in is replaced)")
    try:
        filled = count_adjudicated_cells(path)
    except InvalidInputError as exc:
        raise OutputPathError(
            f"{shown} exists and cannot be read ({exc}), so edxreview cannot tell that it "
            "holds no adjudication; --force replaces only a blank adjudication workbook: "
            "remove the file yourself or choose another --out") from None
    if filled:
        raise OutputPathError(
            f"{shown} holds {filled} filled final, adjudicator or reason cell(s) that writing "
            "a blank workbook over it would lose; --force replaces only a blank adjudication "
            "workbook, never an adjudication: pass this file to 'edxreview compare "
            "--adjudicated', or choose another --out")


def run_adjudicate(args: argparse.Namespace) -> int:
    """Write the adjudication workbook; 0 ok, 1 bad input, 2 usage."""
    from .._output import check_output_path, write_whole
    from .._tables import neutralize_formulas
    from ..cohort import find_disagreements, read_readers, read_software
    from ..cohort._agreement import adjudication_sheet

    if args.out.suffix.lower() != ".xlsx":
        _error(f"--out {str(args.out)!r} must end in .xlsx")
        return 2
    check_output_path(args.out, [args.results, args.readers], kind="file")
    _refuse_adjudication_path(args.out, args.force)   # OutputPathError: exit 2
    software = read_software(args.results)
    readers = read_readers(args.readers, software)
    sheet = adjudication_sheet(find_disagreements(software, readers))
    write_whole(args.out, lambda tmp: neutralize_formulas(sheet).to_excel(
        tmp, sheet_name="adjudication", index=False))
    Console(quiet=args.quiet).print(
        f"{len(sheet)} disagreement(s) written to {args.out}; fill final (yes/no), adjudicator "
        "and reason, then run: edxreview compare RESULTS READERS --adjudicated "
        f"{args.out} --out DIR")
    return 0


def _audit_refusal(audit: Path) -> str | None:
    """Why the audit log cannot be appended to, or None; checked before the output folder is
    set up, so that a log that cannot be written stops the command before anything is."""
    import stat

    if os.path.lexists(audit):
        try:
            mode = os.stat(audit).st_mode
        except OSError as exc:
            return (f"--audit {str(audit)!r} cannot be read ({exc.strerror}); give another "
                    "--audit")
        if not stat.S_ISREG(mode):
            return (f"--audit {str(audit)!r} is not a plain file (a folder, a device or a "
                    "pipe); the audit log is a CSV file kept for good: give another --audit")
        if not os.access(audit, os.R_OK | os.W_OK):
            return (f"--audit {str(audit)!r} cannot be appended to (permission denied); fix "
                    "its permissions or give another --audit")
    elif not os.access(audit.parent, os.W_OK | os.X_OK):
        return (f"--audit {str(audit)!r} cannot be created: the folder "
                f"{str(audit.parent)!r} is not writable; give another --audit")
    return None


def _append_audit(audit: Path, changes) -> str | None:
    """Append ``changes`` to the audit log in one write; None when done, else why it failed.
    A failed append is undone (the log cut back to its length before, or removed when this
    append created it), so the log never holds a half row."""
    from .._tables import neutralize_formulas

    existed = audit.exists()
    new = not existed or not audit.stat().st_size
    text = neutralize_formulas(changes).to_csv(header=new, index=False, lineterminator="\n")
    try:
        fd = os.open(audit, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    try:
        size = os.fstat(fd).st_size
        try:
            data = text.encode("utf-8")
            while data:
                data = data[os.write(fd, data):]
            os.fsync(fd)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, size)
                if not existed:     # a log this run created: removed, as it was
                    os.unlink(audit)
            return exc.strerror or type(exc).__name__
    finally:
        os.close(fd)
    return None


def run_compare(args: argparse.Namespace) -> int:
    """Run ``edxreview compare``; 0 ok, 1 bad input, 2 usage."""
    from .._errors import InvalidInputError
    from .._output import OutputFolder
    from .._tables import write_csv
    from ..cohort import (apply_adjudication, compute_agreement, find_disagreements,
                          ratings_table, read_adjudication, read_readers, read_software)
    from ..cohort._agreement import AUDIT_COLUMNS, compare_counts
    from ..report._agreement import render_agreement

    if args.audit is not None and args.adjudicated is None:
        _error("--audit needs --adjudicated")
        return 2
    audit = args.audit
    if args.adjudicated is not None and audit is None:
        audit = args.adjudicated.with_name(args.adjudicated.stem + ".audit.csv")
    if audit is not None:
        from .._output import check_output_path

        # the log is appended to: never inside the results or onto an input file
        check_output_path(audit, [args.results, args.readers, args.adjudicated], kind="file")
        if not audit.parent.is_dir():
            _error(f"--audit {str(audit)!r}: the folder {str(audit.parent)!r} does not exist")
            return 2
        refusal = _audit_refusal(audit)
        if refusal:
            _error(refusal)
            return 2
    inputs = [args.results, args.readers, args.adjudicated, audit]
    with OutputFolder(args.out, force=args.force, inputs=inputs, command="compare") as output:
        software = read_software(args.results)
        readers = read_readers(args.readers, software)
        agreement = compute_agreement(ratings_table(software, readers))
        disagreements = find_disagreements(software, readers)
        hashes = {"results_sha256": _sha256(args.results / "patients.csv"),
                  "readers_sha256": _sha256(args.readers)}
        tmp = output.staging
        write_csv(agreement, tmp / "agreement.csv")
        write_csv(disagreements, tmp / "disagreements.csv")
        changes = counts = None
        if args.adjudicated is not None:
            adjudicated = read_adjudication(args.adjudicated, disagreements)
            if audit.exists() and audit.stat().st_size:
                with open(audit, encoding="utf-8", errors="replace") as fh:
                    header = fh.readline().rstrip("\r\n").split(",")
                if header != AUDIT_COLUMNS:
                    raise InvalidInputError(
                        f"audit log {str(audit)!r} exists but is not an edxreview audit log "
                        f"(its columns are {header!r}); give another --audit")
            final, changes = apply_adjudication(software, adjudicated)
            changes = changes.assign(
                when=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                adjudication_sha256=_sha256(args.adjudicated), **hashes)[AUDIT_COLUMNS]
            counts = compare_counts(software, final)
            write_csv(final, tmp / "final_patients.csv")
            write_csv(counts, tmp / "final_counts.csv")
            write_csv(changes, tmp / "audit.csv")
        meta = {"readers": sorted(readers["reader"].unique().tolist()),
                "reader_rows": int(readers["row"].nunique()),
                "n_disagreements": len(disagreements),
                "n_adjudicated": None if changes is None else len(changes), **hashes}
        (tmp / "agreement.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        render_agreement(agreement, disagreements, tmp / "agreement.html", counts=counts,
                         changes=changes)
        output.commit()
    if changes is not None:
        failed = _append_audit(audit, changes)
        if failed:
            _error(f"the outputs were written to {str(args.out)!r} (agreement.csv, "
                   "disagreements.csv, agreement.html, final_patients.csv, final_counts.csv, "
                   f"audit.csv), but the audit log {str(audit)!r} could not be appended to "
                   f"({failed}) and was left as it was: its {len(changes)} change(s) are in "
                   f"{str(args.out / 'audit.csv')!r}; free the space or fix the permissions, "
                   "then append them to the log yourself or rerun with --force")
            return 2
    console = Console(quiet=args.quiet)
    console.print(f"{len(meta['readers'])} reader(s), {len(disagreements)} disagreement(s); "
                  f"outputs written to {args.out}/ (agreement.csv, disagreements.csv, "
                  "agreement.html" + (", final_patients.csv, final_counts.csv, audit.csv)"
                                      if changes is not None else ")"))
    if changes is not None:
        console.print(f"{len(changes)} adjudicated cell(s) appended to the audit log {audit}")
    return 0
