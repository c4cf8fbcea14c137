"""Names that were public before 0.2 and are private now: still importable, with a warning.

Each subpackage's ``__init__`` imports only its public names (its ``__all__``). A name that an
earlier version exported there resolves through :func:`private_names`, which warns once per
import and says where the name lives now, so code written against 0.1 keeps working while it
is updated.
"""

from __future__ import annotations

import importlib
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
        if name not in moved:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = moved[name]
        warnings.warn(f"{package}.{name} is not part of the public API since edxreview 0.2 "
                      f"(it lives in {package}{module}, which may change without notice); "
                      f"see the API reference for the supported functions",
                      DeprecationWarning, stacklevel=2)
        return getattr(importlib.import_module(module, package), name)

    return __getattr__
