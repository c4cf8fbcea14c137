"""The report names the confidence interval method from its id in summary.json, in the
report's language; a summary without the id (an older version's) still renders."""

from __future__ import annotations

import dataclasses

import pytest

from edxreview.cohort import summarize_cohort
from edxreview.report._render import tables_context
from edxreview._words import load_labels


def _with_summary(result, **changes):
    """``result`` with its summary's ``ci_method*`` fields replaced (``None`` drops one)."""
    summary = {k: v for k, v in result.summary.items() if not k.startswith("ci_method")}
    summary |= {k: v for k, v in changes.items() if v is not None}
    return dataclasses.replace(result, summary=summary)


@pytest.mark.parametrize("method", ["wilson", "beta"])
def test_summary_records_the_method_id(demo_result, method):
    summary = summarize_cohort(demo_result.patients, method=method)
    assert summary["ci_method_id"] == method
    assert summary["ci_method"] == load_labels("en")["ci_methods"][method]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_label_is_looked_up_by_id_not_by_display_name(demo_result, lang):
    # a display name this version does not know (renamed, or written in another language):
    # the id decides the label
    result = _with_summary(demo_result, ci_method="Clopper-Pearson (exact)",
                           ci_method_id="beta")
    assert tables_context(result, lang)["ci_text"] == load_labels(lang)["ci_methods"]["beta"]


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("method", ["wilson", "beta"])
def test_summary_without_id_falls_back_to_the_display_name(demo_result, lang, method):
    english = load_labels("en")["ci_methods"][method]
    result = _with_summary(demo_result, ci_method=english)
    assert tables_context(result, lang)["ci_text"] == load_labels(lang)["ci_methods"][method]


def test_unknown_method_without_id_is_shown_as_written(demo_result):
    result = _with_summary(demo_result, ci_method="Agresti–Coull interval")
    assert tables_context(result, "zh")["ci_text"] == "Agresti–Coull interval"
