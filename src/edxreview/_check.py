"""Argument checkers shared by the public functions: called first, before any work is done.

Each raises :class:`edxreview.InvalidParameterError` naming the argument, what it accepts and,
for a misspelt option, the closest allowed value.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

import numpy as np

from ._errors import InvalidParameterError


def check_option(name: str, value: Any, allowed: Iterable[str]) -> str:
    """Return ``value`` when it is one of ``allowed``; otherwise raise a helpful error.

    Parameters
    ----------
    name : str
        The argument's name, as the caller spelt it (``"ci_method"``).
    value : object
        The value given.
    allowed : iterable of str
        The accepted values, in the order they should be listed.

    Returns
    -------
    str
        ``value`` unchanged.

    Raises
    ------
    InvalidParameterError
        ``value`` is not one of ``allowed``; the message names the argument, lists the allowed
        values and suggests the closest one ("Did you mean 'wilson'?") when there is one.

    Examples
    --------
    >>> check_option("ci_method", "beta", ("wilson", "beta"))
    'beta'
    >>> check_option("ci_method", "Wilson", ("wilson", "beta"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    edxreview._errors.InvalidParameterError: ... Did you mean 'wilson'?
    """
    options = list(allowed)
    if isinstance(value, str) and value in options:
        return value
    listed = ", ".join(repr(o) for o in options[:-1])
    listed = f"{listed} and {options[-1]!r}" if len(options) > 1 else repr(options[0])
    message = f"Invalid value for the {name!r} parameter: {value!r}. Allowed values are {listed}."
    hint = _closest(value, options)
    if hint is not None:
        message += f" Did you mean {hint!r}?"
    raise InvalidParameterError(message)


def _closest(value: Any, options: list[str]) -> str | None:
    """The allowed value nearest to ``value`` ignoring case and spaces, or None."""
    if not isinstance(value, str):
        return None
    folded = {o.lower(): o for o in options}
    key = value.strip().lower()
    if key in folded:
        return folded[key]
    match = difflib.get_close_matches(key, list(folded), n=1, cutoff=0.6)
    return folded[match[0]] if match else None


def check_bool(name: str, value: Any) -> bool:
    """Return ``value`` when it is a bool (or a NumPy bool); otherwise raise.

    Parameters
    ----------
    name : str
        The argument's name.
    value : object
        The value given.

    Returns
    -------
    bool

    Raises
    ------
    InvalidParameterError
        ``value`` is not ``True`` or ``False`` (a string such as ``"no"`` would read as true).

    Examples
    --------
    >>> check_bool("deidentify", False)
    False
    """
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidParameterError(
            f"Invalid value for the {name!r} parameter: {value!r}. Give True or False.")
    return bool(value)


def check_type(name: str, value: Any, types: type | tuple[type, ...], expected: str) -> Any:
    """Return ``value`` when it is an instance of ``types``; otherwise raise.

    Parameters
    ----------
    name : str
        The argument's name.
    value : object
        The value given.
    types : type or tuple of type
        The accepted types.
    expected : str
        What to give, in words (``"a Study from edxreview.io.load_study"``).

    Returns
    -------
    object
        ``value`` unchanged.

    Raises
    ------
    InvalidParameterError
        ``value`` is of another type; the message names the argument, the type given and what
        to give instead.

    Examples
    --------
    >>> check_type("alpha", 0.05, float, "a number between 0 and 1")
    0.05
    >>> check_type("alpha", "5%", float, "a number between 0 and 1")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    edxreview._errors.InvalidParameterError: ... of type str. Give a number between 0 and 1.
    """
    if not isinstance(value, types):
        raise InvalidParameterError(f"Invalid value for the {name!r} parameter: of type "
                                    f"{type(value).__name__}. Give {expected}.")
    return value
