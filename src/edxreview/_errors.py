"""The one small family of exceptions edxreview raises, and the Problem record.

Problems in a user's data are collected as :class:`Problem` records and reported together
(:class:`InvalidWorkbookError`); misuse and bugs raise the exceptions below, each also
subclassing the built-in it resembles.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal


@dataclass(frozen=True)
class Problem:
    """One problem found in a user's input.

    Parameters
    ----------
    sheet : str
        Sheet (or CSV file stem) the problem is in; ``""`` for the workbook as a whole.
    row : int or None
        Spreadsheet row number as the user sees it (header = row 1, first data row = 2).
    column : str or None
        Column name as spelled in the input, or the expected name when it is missing.
    value : Any
        The offending cell value (``None`` when absent).
    message : str
        What is wrong and how to fix it.
    severity : {"error", "warning"}
        Errors make the input invalid; warnings are reported and the run goes on.

    Examples
    --------
    >>> from edxreview import Problem
    >>> problem = Problem("ncs_motor", 12, "latency_ms", "3,5,1", "not a number; write 3.5")
    >>> print(problem)
    error: sheet 'ncs_motor', row 12, column 'latency_ms': value '3,5,1': not a number; write 3.5
    """

    sheet: str
    row: int | None
    column: str | None
    value: Any
    message: str
    severity: Literal["error", "warning"] = "error"

    def location(self) -> str:
        """Where the problem is, in words.

        Returns
        -------
        str
            ``sheet 'NAME', row N, column 'COLUMN'``, leaving out what is not known.

        Raises
        ------
        Nothing
            It only formats the fields.

        Examples
        --------
        >>> from edxreview import Problem
        >>> Problem("emg", 7, None, None, "no muscle").location()
        "sheet 'emg', row 7"
        """
        parts = [f"sheet {self.sheet!r}" if self.sheet else "workbook"]
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column {self.column!r}")
        return ", ".join(parts)

    def __str__(self) -> str:
        value = "" if self.value is None else f" value {self.value!r}:"
        return f"{self.severity}: {self.location()}:{value} {self.message}"

    def to_dict(self) -> dict[str, Any]:
        """The problem as a row of ``warnings.csv``.

        Returns
        -------
        dict
            The fields, the value as text (``None`` when absent).

        Raises
        ------
        Nothing
            It only copies the fields.

        Examples
        --------
        >>> from edxreview import Problem
        >>> Problem("patients", 3, "age_years", 250, "outside 0-120", "warning").to_dict()["value"]
        '250'
        """
        d = asdict(self)
        d["value"] = None if self.value is None else str(self.value)
        return d


class EdxreviewError(Exception):
    """Base class of every error edxreview raises on purpose.

    Examples
    --------
    >>> import edxreview
    >>> try:
    ...     edxreview.review(edxreview.demo_path(), ci_method="exact")
    ... except edxreview.EdxreviewError as exc:
    ...     print(type(exc).__name__)
    InvalidParameterError
    """


class InvalidInputError(EdxreviewError, ValueError):
    """The user's input cannot be used; ``problems`` lists every reason found.

    Attributes
    ----------
    problems : list of Problem
        Every problem found, each with its sheet, row, column and value.

    Examples
    --------
    >>> import edxreview
    >>> try:
    ...     edxreview.knowledge.load_reference("no-such-limits.csv")
    ... except edxreview.InvalidInputError as exc:
    ...     print(isinstance(exc, ValueError))
    True
    """

    def __init__(self, message: str, problems: list[Problem] | None = None):
        super().__init__(message)
        self.problems: list[Problem] = list(problems or [])


class InvalidWorkbookError(InvalidInputError):
    """A study workbook failed validation.

    Examples
    --------
    >>> import edxreview, pandas as pd
    >>> edxreview.synth.write_csv_folder(edxreview.synth.generate_cohort(seed=3, n=5)[0], "bad")
    ... # doctest: +ELLIPSIS
    [...]
    >>> pd.DataFrame({"patient_id": ["P1"], "sex": ["X"]}).to_csv("bad/patients.csv", index=False)
    >>> try:
    ...     edxreview.io.load_study("bad")
    ... except edxreview.InvalidWorkbookError as exc:
    ...     print(any(p.column == "sex" for p in exc.problems))
    True
    """


class InvalidParameterError(EdxreviewError, ValueError):
    """A function or command was called with an argument it does not accept.

    Examples
    --------
    >>> import edxreview
    >>> edxreview.review(edxreview.demo_path(), ci_method="Wilson")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    edxreview._errors.InvalidParameterError: ... Did you mean 'wilson'?
    """


class OutputPathError(EdxreviewError, ValueError):
    """The output path cannot be used: it overlaps an input, is a file, holds files edxreview
    did not write, or another edxreview command is writing it (wrong usage: exit status 2).

    Examples
    --------
    >>> import edxreview
    >>> result = edxreview.review(edxreview.demo_path())
    >>> result.write(edxreview.demo_path())  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    edxreview._errors.OutputPathError: ...
    """


class OutputExistsError(OutputPathError, FileExistsError):
    """The output folder exists and is not empty (use ``--force`` to replace it).

    Examples
    --------
    >>> import edxreview
    >>> result = edxreview.review(edxreview.demo_path())
    >>> folder = result.write("review", report=False, xlsx=False)
    >>> try:
    ...     result.write("review", report=False, xlsx=False)
    ... except edxreview.OutputExistsError:
    ...     print("exists: pass force=True to replace it")
    exists: pass force=True to replace it
    """


class SignalFileError(InvalidInputError):
    """A signal recording is truncated, inconsistent or unreadable.

    Examples
    --------
    >>> import edxreview
    >>> open("empty.hea", "w").close()
    >>> try:
    ...     edxreview.signal.read_signal("empty.hea")
    ... except edxreview.SignalFileError as exc:
    ...     print(isinstance(exc, edxreview.InvalidInputError))
    True
    """
