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
    """

    sheet: str
    row: int | None
    column: str | None
    value: Any
    message: str
    severity: Literal["error", "warning"] = "error"

    def location(self) -> str:
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
        d = asdict(self)
        d["value"] = None if self.value is None else str(self.value)
        return d


class EdxreviewError(Exception):
    """Base class of every error edxreview raises on purpose."""


class InvalidInputError(EdxreviewError, ValueError):
    """The user's input cannot be used; ``problems`` lists every reason found."""

    def __init__(self, message: str, problems: list[Problem] | None = None):
        super().__init__(message)
        self.problems: list[Problem] = list(problems or [])


class InvalidWorkbookError(InvalidInputError):
    """A study workbook failed validation."""


class InvalidParameterError(EdxreviewError, ValueError):
    """A function or command was called with an argument it does not accept."""


class OutputPathError(EdxreviewError, ValueError):
    """The output path cannot be used: it overlaps an input, is a file, holds files edxreview
    did not write, or another edxreview command is writing it (wrong usage: exit status 2)."""


class OutputExistsError(OutputPathError, FileExistsError):
    """The output folder exists and is not empty (use ``--force`` to replace it)."""


class SignalFileError(InvalidInputError):
    """A signal recording is truncated, inconsistent or unreadable."""
