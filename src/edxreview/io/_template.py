"""An empty study workbook a person can fill without reading the code.

Every sheet of the specification with its headers, widths, a frozen header row and a worked
example row; a ``names`` sheet listing every accepted nerve, muscle and stimulation site with
its display name and the other spellings read as the same; drop-down lists on every column with
a closed set of values (nerve, muscle, site, side, grades …) that refuse anything else. The
nerve, muscle and site lists are read from the knowledge tables, so a name added there is
accepted by the template too.
"""

from __future__ import annotations

from pathlib import Path

from .._check import check_bool, check_type
from .._errors import InvalidParameterError

import pandas as pd

from ..knowledge import load_anatomy
from ..knowledge._tables import load_language_aliases
from ._schema import SHEETS

_EXAMPLE = {
    "patients": ["P001", "F", 42, 162, "NMOSD", "positive", "negative", 36, 3.5, "yes", "no", "no"],
    "ncs_motor": ["P001", "median", "R", "wrist", "abductor_pollicis_brevis", 3.6, 8.2, "", 70, 5.1, 28, 33],
    "ncs_sensory": ["P001", "median", "R", "wrist", "digit_2", 3.1, 32, 56, 130, 33, "antidromic"],
    "f_waves": ["P001", "median", "R", 26.4, 85],
    "blink_reflex": ["P001", "R", 10.6, 30.2, 31.0],
    "emg": ["P001", "biceps_brachii", "R", "normal", "0", "0", "0", "normal", "normal", "normal",
            "normal", "", "", ""],
    "mri": ["P001", "spinal_cord", "C3", "C6", "central_gray", "yes"],
}

_LISTS = {
    "sex": "F,M", "side": "L,R", "side_optional": "L,R", "bool": "yes,no",
    "antibody": "positive,negative,unknown", "grade": "0,±,1+,2+,3+,4+",
    "fasc": "0,±,1+,2+,3+,4+,present,absent", "region": "brain,brainstem,spinal_cord",
}

#: first data row and last row a drop-down covers (1-based, as Excel counts)
_FIRST_ROW, _LAST_ROW = 2, 20000


def _split(text) -> list[str]:
    return [t.strip() for t in str(text).split("|") if t.strip()] if isinstance(text, str) \
        else []


def accepted_names() -> dict[str, pd.DataFrame]:
    """Every accepted nerve, muscle and stimulation site, with its name and other spellings.

    Returns
    -------
    dict of DataFrame
        ``nerves`` (``nerve, name, also_accepted``), ``muscles`` (``muscle, name, nerve,
        roots, also_accepted``) and ``sites`` (``nerve, site, also_accepted``).
    """
    a = load_anatomy()
    nerves = pd.DataFrame({"nerve": a.nerves.index,
                           "name": a.nerves["display_name"].to_numpy(),
                           "also_accepted": _with_languages(a.nerves["aliases"], "nerve")})
    muscles = pd.DataFrame({"muscle": a.muscles.index,
                            "name": a.muscles["display_name"].to_numpy(),
                            "nerve": a.muscles["nerve"].fillna("").to_numpy(),
                            "roots": a.muscles["roots_main"].fillna("").astype(str)
                            .str.replace("|", ", ", regex=False).to_numpy(),
                            "also_accepted": _with_languages(a.muscles["aliases"], "muscle")})
    sites = pd.DataFrame({"nerve": a.sites["nerve"].to_numpy(),
                          "site": a.sites["site"].to_numpy(),
                          "also_accepted": _with_languages(
                              a.sites.set_index("site")["aliases"], "site")})
    return {"nerves": nerves, "muscles": muscles.sort_values("muscle", kind="stable"),
            "sites": sites}


def _with_languages(aliases: pd.Series, kind: str) -> list[str]:
    """Each id's aliases with its names in other languages, joined by '; '."""
    extra: dict[str, list[str]] = {}
    for ident, spelling in load_language_aliases().get(kind, []):
        extra.setdefault(ident, []).append(spelling)
    return ["; ".join([*_split(text), *extra.get(str(ident), [])])
            for ident, text in zip(aliases.index, aliases)]


def _spellings(ids: pd.Index | pd.Series, names: pd.Series | None,
               aliases: pd.Series) -> list[str]:
    """Canonical ids first, then names and aliases, each once (case-insensitively)."""
    out: list[str] = []
    seen: set[str] = set()
    extra = [] if names is None else list(names)
    for text in [*ids, *extra, *(t for a in aliases for t in _split(a))]:
        key = str(text).strip().lower()
        if key and key not in seen:
            seen.add(key)
            out.append(str(text).strip())
    return out


def write_template(path: str | Path, *, force: bool = False) -> Path:
    """Write an empty study workbook.

    Every sheet of the specification with its headers, one worked example row (patient
    ``P001``), drop-down lists that refuse values outside them, a ``names`` sheet with every
    accepted nerve, muscle and site (and the other spellings read as the same), and a
    ``README`` sheet explaining the columns. Delete the example rows before entering real data.

    An existing file is never overwritten without ``force``, and ``force`` replaces only an
    empty template: a workbook holding any row of data besides the example rows (a study), or
    one that cannot be read, is refused, as ``edxreview template PATH --force`` refuses it.

    Parameters
    ----------
    path : str or Path
        Where to write the ``.xlsx`` file (its folder must exist).
    force : bool
        Replace an existing file at ``path`` if it holds nothing of a user's: an empty template
        (no row of data besides its example rows), or a symbolic link (the link is replaced,
        what it leads to is kept).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    InvalidParameterError
        ``path`` does not end in ``.xlsx``, or ``force`` is not a bool.
    OutputExistsError
        ``path`` exists and ``force`` is false; the message says what it holds.
    OutputPathError
        ``path`` is a folder, or ``force`` is true and the file holds rows of data (named by
        sheet) or cannot be read as a workbook; nothing is written.
    OSError
        The file cannot be written (missing folder, permissions).

    Examples
    --------
    >>> import edxreview
    >>> path = edxreview.io.write_template("my-study.xlsx")
    >>> edxreview.io.read_workbook(path).sheets["patients"]["patient_id"].tolist()
    ['P001']
    >>> try:
    ...     edxreview.io.write_template("my-study.xlsx")
    ... except edxreview.OutputExistsError:
    ...     print("exists: force=True replaces an empty template, never a study")
    exists: force=True replaces an empty template, never a study
    """
    check_type("path", path, (str, Path), "the path of the .xlsx file to write")
    check_bool("force", force)
    return write_template_file(Path(path), force, "force=True")


def write_template_file(path: Path, force: bool, force_name: str) -> Path:
    """:func:`write_template`, ``force`` spelled ``force_name`` in its messages (the command
    line's ``--force``): the one writer of the template, for the function and the command."""
    if path.suffix.lower() != ".xlsx":
        raise InvalidParameterError(
            f"Invalid value for the 'path' parameter: {str(path)!r}. The template is an Excel "
            "workbook: give a path ending in .xlsx.")
    import errno
    import os

    from .._output import write_whole

    refuse_template_path(path, force, force_name)
    if not path.parent.is_dir():
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(path.parent))
    a = load_anatomy()
    names = accepted_names()
    lists = _accepted_lists(a, names)
    # whole or not at all, a link at ``path`` replaced, never written through
    return write_whole(path, lambda tmp: _write_book(str(tmp), a, names, lists))


def refuse_template_path(path: Path, force: bool, force_name: str) -> None:
    """Refuse a ``path`` the template may not be written to: one that exists, unless ``force``
    and it holds nothing of a user's (an empty template, or a link: the link is replaced, what
    it leads to kept). The message names the path and what it holds.

    Raises
    ------
    OutputExistsError
        ``path`` exists and ``force`` is false.
    OutputPathError
        ``path`` is a folder, or holds rows of data or cannot be read, ``force`` or not.
    """
    from .._errors import InvalidWorkbookError, OutputExistsError, OutputPathError
    from .._output import replaceable_without_reading

    if replaceable_without_reading(path, force, force_name, "the template",
                                   "choose another path"):
        return
    shown = repr(str(path))
    try:
        counts = count_data_rows(path)
    except InvalidWorkbookError as exc:
        why = exc.problems[0].message if exc.problems else str(exc)
        raise (OutputPathError if force else OutputExistsError)(
            f"{shown} exists and cannot be read as a workbook ({why}), so edxreview cannot "
            f"tell that it holds no study; {force_name} replaces only an empty template: "
            "remove the file yourself or choose another path") from None
    if not counts:
        if force:
            return
        raise OutputExistsError(
            f"{shown} exists, an empty template (no row of data besides its example rows); "
            f"pass {force_name} to replace it")
    where = ", ".join(f"{sheet!r} {n}" for sheet, n in counts.items())
    raise (OutputPathError if force else OutputExistsError)(
        f"{shown} exists and holds {sum(counts.values())} row(s) of data ({where}) that "
        f"writing the template over it would lose; {force_name} replaces only an empty "
        "template, never a study: remove the file yourself or choose another path")


def _write_book(path: str, a, names: dict[str, pd.DataFrame], lists: dict[str, list[str]]) -> None:
    """The template workbook written to ``path``."""
    import errno

    import xlsxwriter
    from xlsxwriter.exceptions import FileCreateError

    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False,
                                           "strings_to_numbers": False})
    bold = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1,
                            "text_wrap": True, "valign": "top"})
    title = book.add_format({"bold": True, "font_size": 14})
    example = book.add_format({"italic": True, "font_color": "#5D6D7E"})

    _write_readme(book, lists, bold, title)
    _write_lists(book, lists)
    _write_sheets(book, lists, bold, example)
    _write_names(book, names, bold, title)
    try:
        book.close()
    except FileCreateError as err:          # the OSError inside, for the CLI's message
        cause = err.args[0] if err.args and isinstance(err.args[0], OSError) else None
        raise cause or OSError(errno.EIO, str(err), str(path)) from err


def _accepted_lists(a, names: dict[str, pd.DataFrame]) -> dict[str, list[str]]:
    """Every accepted spelling of nerve, muscle and stimulation-site names, by kind."""
    return {
        "nerve": _spellings(a.nerves.index, a.nerves["display_name"],
                            names["nerves"]["also_accepted"].str.replace("; ", "|")),
        "muscle": _spellings(a.muscles.index, a.muscles["display_name"],
                             names["muscles"]["also_accepted"].str.replace("; ", "|")),
        "site": _spellings(pd.Index(a.sites["site"].unique()),
                           a.sites["site"].str.replace("_", " "),
                           names["sites"]["also_accepted"].str.replace("; ", "|")),
    }


def _write_readme(book, lists: dict[str, list[str]], bold, title) -> None:
    """The README sheet: how to fill the workbook, then every column with its allowed values."""
    readme = book.add_worksheet("README")
    readme.write(0, 0, "edxreview study workbook", title)
    lines = [
        "One row per patient in 'patients'; one row per stimulation site, response, muscle or "
        "lesion in the other sheets, keyed by patient_id.",
        "Nerve, muscle and stimulation-site cells take a name from the drop-down: the 'names' "
        "sheet lists every accepted name with the other spellings read as the same "
        "(e.g. APB for abductor_pollicis_brevis). Other values are refused.",
        "Write NR in a latency or amplitude cell for no response. Delete the example rows "
        "(patient P001, in grey italics) before entering data.",
        "Numbers: no units and no thousands separators. A comma is read as a decimal comma "
        "(4,5 = 4.5), but a comma before exactly three digits (1,070) is refused as "
        "ambiguous: write 1070 or 1.07.",
    ]
    for i, line in enumerate(lines, start=1):
        readme.write(i, 0, line)
    header_row = len(lines) + 2
    readme.write_row(header_row, 0, ["sheet", "column", "type", "required", "allowed values"],
                     bold)
    row = header_row + 1
    for sheet in SHEETS.values():
        for col in sheet.columns:
            if col.allowed:
                allowed = ", ".join(col.allowed)
            elif col.kind in lists:
                allowed = f"see the 'names' sheet ({len(lists[col.kind])} accepted spellings)"
            else:
                allowed = _LISTS.get(col.kind, "").replace(",", ", ")
            readme.write_row(row, 0, [sheet.name, col.name, col.kind,
                                      "yes" if col.header_required else "", allowed])
            row += 1
    readme.set_column(0, 0, 16)
    readme.set_column(1, 1, 24)
    readme.set_column(2, 3, 12)
    readme.set_column(4, 4, 60)


def _write_lists(book, lists: dict[str, list[str]]) -> None:
    """The hidden single-column lists the drop-downs read, each under a defined name."""
    hidden = book.add_worksheet("lists")
    for j, (kind, values) in enumerate(lists.items()):
        hidden.write(0, j, kind)
        hidden.write_column(1, j, values)
        letter = chr(ord("A") + j)
        book.define_name(f"accepted_{kind}", f"=lists!${letter}$2:${letter}${len(values) + 1}")
    hidden.hide()


def _write_sheets(book, lists: dict[str, list[str]], bold, example) -> None:
    """One sheet per specification sheet: headers, the example row and the drop-downs."""
    for sheet in SHEETS.values():
        ws = book.add_worksheet(sheet.name)
        ws.write_row(0, 0, [c.name for c in sheet.columns], bold)
        ws.write_row(1, 0, _EXAMPLE[sheet.name], example)
        ws.freeze_panes(1, 0)
        ws.set_row(0, 30)
        for i, col in enumerate(sheet.columns):
            ws.set_column(i, i, max(12, len(col.name) + 3) if col.kind not in lists else 26)
            if col.kind in lists:
                source = f"=accepted_{col.kind}"
                hint = f"{col.name}: a name from the drop-down (the 'names' sheet lists them)."
            elif col.allowed or col.kind in _LISTS:
                source = list(col.allowed) if col.allowed else _LISTS[col.kind].split(",")
                hint = f"{col.name}: {', '.join(source)}"
            else:
                continue
            ws.data_validation(_FIRST_ROW - 1, i, _LAST_ROW - 1, i, {
                "validate": "list", "source": source, "ignore_blank": True,
                "input_title": col.name[:32], "input_message": hint[:255],
                "error_type": "stop", "error_title": "Not an accepted value",
                "error_message": (f"{col.name} takes a value from the drop-down list"
                                  + (" (see the 'names' sheet)." if col.kind in lists
                                     else ".")),
            })


def _write_names(book, names: dict[str, pd.DataFrame], bold, title) -> None:
    """The names sheet: every accepted nerve, muscle and site with its other spellings."""
    sheet_names = book.add_worksheet("names")
    sheet_names.write(0, 0, "Accepted names: the first column is what edxreview writes; every "
                            "spelling in the row is read as the same.", title)
    col = 0
    for label, frame in (("Nerves", names["nerves"]), ("Muscles", names["muscles"]),
                         ("Stimulation sites (motor studies)", names["sites"])):
        sheet_names.write(1, col, label, title)
        sheet_names.write_row(2, col, list(frame.columns), bold)
        for r, values in enumerate(frame.astype(str).itertuples(index=False), start=3):
            sheet_names.write_row(r, col, list(values))
        for j, name in enumerate(frame.columns):
            longest = int(frame[name].astype(str).str.len().max() or 0)
            sheet_names.set_column(col + j, col + j, min(max(longest, len(name)) + 2, 70))
        col += len(frame.columns) + 1
    sheet_names.freeze_panes(3, 0)


#: the template's own sheets, written anew each time: never a user's data
_OWN_SHEETS = ("readme", "lists", "names")


def _same_cell(value, example) -> bool:
    """A cell read back equals the example's value (numbers compared as numbers)."""
    if value is None or value == "":
        return example is None or example == ""
    if str(value).strip() == str(example).strip():
        return True
    try:
        return float(value) == float(example)
    except (TypeError, ValueError):
        return False


def _is_example(row: tuple, example: list) -> bool:
    """The row is the template's example row, unchanged."""
    cells = list(row) + [None] * max(0, len(example) - len(row))
    return (all(_same_cell(v, e) for v, e in zip(cells, example))
            and all(v is None or v == "" for v in cells[len(example):]))


def count_data_rows(path: str | Path) -> dict[str, int]:
    """The rows of data an existing workbook holds, per sheet, that writing the template over
    it would lose.

    Every non-empty row below the header of each study sheet counts, except the template's
    example row (patient ``P001``, unchanged); every non-empty row of a sheet the template does
    not write counts; the template's ``README``, ``lists`` and ``names`` sheets are its own.
    An empty template therefore holds none.

    Parameters
    ----------
    path : str or Path
        An existing ``.xlsx`` file.

    Returns
    -------
    dict of str to int
        Sheet name (as written in the workbook) → rows of data; sheets without any are left out.

    Raises
    ------
    InvalidWorkbookError
        The file cannot be read as a workbook (so what it holds cannot be told).
    """
    import openpyxl

    from .._errors import InvalidWorkbookError, Problem
    from ._read import check_workbook_archive, normalize_header

    path = Path(path)
    check_workbook_archive(path)  # a damaged archive or a zip bomb is refused before it is parsed
    counts: dict[str, int] = {}
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=False)
        try:
            for ws in book.worksheets:
                name = normalize_header(ws.title)
                if name in _OWN_SHEETS:
                    continue
                example = _EXAMPLE.get(name)
                rows = [r for r in ws.iter_rows(values_only=True)
                        if any(v is not None and str(v).strip() for v in r)]
                # a sheet of the template: rows below its header, but for the example row; any
                # other sheet is the user's own, and every row of it counts
                data = rows if example is None else [
                    r for r in rows[1:] if not _is_example(r, example)]
                if data:
                    counts[ws.title] = len(data)
        finally:
            book.close()
    except Exception as exc:  # noqa: BLE001 - boundary: a damaged archive raises many types
        raise InvalidWorkbookError(
            "the workbook cannot be opened",
            [Problem("", None, None, path.name,
                     f"the file cannot be read as an .xlsx workbook ({type(exc).__name__})")]
        ) from None
    return counts
