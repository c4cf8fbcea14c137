"""Meta-tests over the public API (every name in ``edxreview.__all__`` and each subpackage's
``__all__``), in the manner of scikit-learn's ``test_docstrings``: each public function and
each public method of a public class documents its Parameters, Returns, Raises and has an
Examples section, and the examples run (doctest)."""

from __future__ import annotations

import doctest
import importlib
import inspect
import re

import pytest

PACKAGES = ["edxreview", "edxreview.io", "edxreview.knowledge", "edxreview.interpret",
            "edxreview.classify", "edxreview.cohort", "edxreview.report", "edxreview.signal",
            "edxreview.synth"]


def _public():
    """(qualified name, object) for every public function and class."""
    out = []
    for package in PACKAGES:
        module = importlib.import_module(package)
        for name in module.__all__:
            obj = getattr(module, name)
            if callable(obj):
                out.append((f"{package}.{name}", obj))
    return out


def _unwrap(obj):
    return getattr(obj, "__wrapped__", obj)  # functools.lru_cache / wraps


def _methods(cls):
    """Public methods a class defines itself (properties and inherited methods excluded)."""
    for name, member in vars(cls).items():
        if name.startswith("_"):
            continue
        func = member.__func__ if isinstance(member, (classmethod, staticmethod)) else member
        if inspect.isfunction(func):
            yield name, func


PUBLIC = _public()
CALLABLES = [(name, _unwrap(obj)) for name, obj in PUBLIC if not inspect.isclass(obj)]
CALLABLES += [(f"{name}.{m}", func) for name, obj in PUBLIC if inspect.isclass(obj)
              for m, func in _methods(obj)]
CLASSES = [(name, obj) for name, obj in PUBLIC if inspect.isclass(obj)]


def _sections(doc: str | None) -> set[str]:
    return set(re.findall(r"^[ \t]*([A-Z][A-Za-z ]+)\n[ \t]*-{3,}[ \t]*$", doc or "", re.M))


def _takes_arguments(func) -> bool:
    params = [p for p in inspect.signature(func).parameters.values()
              if p.name not in ("self", "cls")]
    return bool(params)


def test_the_public_api_is_small():
    # scikit-learn's rule of thumb: what a user calls is listed; the rest lives in _modules
    assert 30 <= len(PUBLIC) <= 70, [name for name, _ in PUBLIC]
    top = importlib.import_module("edxreview")
    assert {"review", "StudyResult", "demo_path", "EdxreviewError"} <= set(top.__all__)


@pytest.mark.parametrize(("name", "func"), CALLABLES, ids=[n for n, _ in CALLABLES])
def test_functions_document_parameters_returns_raises_and_examples(name, func):
    sections = _sections(func.__doc__)
    needed = {"Returns", "Raises", "Examples"} | ({"Parameters"} if _takes_arguments(func)
                                                 else set())
    assert needed <= sections, f"{name}: docstring lacks {sorted(needed - sections)}"
    examples = func.__doc__.split("Examples", 1)[1]
    assert ">>> " in examples, f"{name}: the Examples section has no example"


@pytest.mark.parametrize(("name", "cls"), CLASSES, ids=[n for n, _ in CLASSES])
def test_classes_document_their_fields_and_examples(name, cls):
    sections = _sections(cls.__doc__)
    if not issubclass(cls, BaseException):
        assert sections & {"Parameters", "Attributes"}, f"{name}: fields not documented"
    assert "Examples" in sections, f"{name}: docstring lacks an Examples section"


def _doctests():
    finder = doctest.DocTestFinder(recurse=True, exclude_empty=True)
    seen, cases = set(), []
    for name, obj in PUBLIC:
        for test in finder.find(_unwrap(obj), name, globs={}):
            if test.examples and test.name not in seen:
                seen.add(test.name)
                cases.append(test)
    return cases


DOCTESTS = _doctests()


def test_every_public_name_has_a_doctest():
    missing = [n for n, _ in PUBLIC if not any(t.name == n or t.name.startswith(n + ".")
                                               for t in DOCTESTS)]
    assert not missing, missing


@pytest.mark.slow  # several examples run the demo review (about 1.5 s each)
@pytest.mark.parametrize("test", DOCTESTS, ids=[t.name for t in DOCTESTS])
def test_examples_run(test, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # an example that writes files writes them here
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    report = []
    runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)


@pytest.mark.parametrize(("package", "name"), [
    ("edxreview", "review_study"), ("edxreview.knowledge", "read_table"),
    ("edxreview.cohort", "PUBLISHED"), ("edxreview.signal", "sort_units")])
def test_names_made_private_still_import_with_a_warning(package, name):
    module = importlib.import_module(package)
    with pytest.warns(DeprecationWarning, match=rf"{package}\.{name} is not part of the public"):
        assert getattr(module, name) is not None
    assert name not in module.__all__


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        importlib.import_module("edxreview.cohort").no_such_name
