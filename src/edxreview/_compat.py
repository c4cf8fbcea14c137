"""Names that were public before 0.2 and are private now: still importable, with a warning.

Each subpackage's ``__init__`` imports only its public names (its ``__all__``). A name that an
earlier version exported there resolves through :func:`private_names`, which warns once per
import and says where the name lives now, so code written against 0.1 keeps working while it
is updated.

A package whose public names live in modules with heavy imports (SciPy, matplotlib, Jinja)
resolves them on first use with :func:`lazy_names`, so that a process which needs one step
(a worker reviewing a partition) imports only the modules that step runs.
"""

from __future__ import annotations

import importlib
import sys
import warnings
from collections.abc import Callable, Mapping
from typing import Any


def private_names(package: str, moved: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` resolving the names in ``moved`` (name → private module).

    Parameters
    ----------
    package : str
        The package the names were imported from (``"edxreview.knowledge"``).
    moved : mapping of str to str
        Each former public name and the module, relative to ``package``, that defines it.

    Returns
    -------
    callable
        ``__getattr__(name)`` for the package: the object, after a ``DeprecationWarning``.
    """

    def __getattr__(name: str) -> Any:
        return _moved(package, moved, name)

    return __getattr__


def _moved(package: str, moved: Mapping[str, str], name: str) -> Any:
    """A former public name, with its warning (given at the line that asked for it)."""
    if name not in moved:
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    module = moved[name]
    warnings.warn(f"{package}.{name} is not part of the public API since edxreview 0.2 "
                  f"(it lives in {package}{module}, which may change without notice); "
                  f"see the API reference for the supported functions",
                  DeprecationWarning, stacklevel=3)
    return getattr(importlib.import_module(module, package), name)


def lazy_names(package: str, public: Mapping[str, str], moved: Mapping[str, str] | None = None
               ) -> Callable[[str], Any]:
    """A module ``__getattr__`` importing each public name's module on first use.

    Parameters
    ----------
    package : str
        The package whose names they are (``"edxreview"``).
    public : mapping of str to str
        Each public name and the module, relative to ``package``, that defines it: resolved
        without a warning and kept in the package, so it is looked up once.
    moved : mapping of str to str, optional
        Former public names, resolved as by :func:`private_names` (with a warning).

    Returns
    -------
    callable
        ``__getattr__(name)`` for the package.
    """
    moved = moved or {}

    def __getattr__(name: str) -> Any:
        if name not in public:
            return _moved(package, moved, name)
        value = getattr(importlib.import_module(public[name], package), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__


def lazy_dir(package: str, public: Mapping[str, str]) -> Callable[[], list[str]]:
    """A module ``__dir__`` listing the names :func:`lazy_names` resolves on first use beside
    those already imported (``dir()``, tab completion and Sphinx's autodoc see them all)."""

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(public))

    return __dir__
