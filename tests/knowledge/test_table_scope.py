"""A review lists the reference tables it reads, and only those: a table read by other tools
(the signal analysis, the evaluation) says so in its sidecar's ``scope``."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from edxreview import InvalidParameterError
from edxreview.knowledge import _tables
from edxreview.knowledge._tables import TABLE_SCOPES, table_provenance

DATA = Path(__file__).resolve().parents[2] / "src" / "edxreview" / "knowledge" / "data"


def _scopes() -> dict[str, str]:
    """Each bundled sidecar's declared scope, by table id (``review`` when it has none)."""
    out = {}
    for path in DATA.glob("*.meta.toml"):
        meta = tomllib.loads(path.read_text("utf-8"))
        out[meta["id"]] = meta.get("scope", "review")
    return out


def test_every_declared_scope_is_known():
    assert set(_scopes().values()) <= set(TABLE_SCOPES)


def test_evaluation_and_signal_tables_declare_their_scope():
    scopes = _scopes()
    assert scopes["emg_datasets"] == "evaluation"
    assert scopes["emg_signal_parameters"] == "signal"


def test_review_lists_only_review_tables_and_all_lists_every_table():
    scopes = _scopes()
    review = {t["id"] for t in table_provenance("review")}
    every = {t["id"] for t in table_provenance()}
    assert review == {i for i, s in scopes.items() if s == "review"} | {"interpretation_rules"}
    assert every == set(scopes) | {"interpretation_rules"}
    assert {t["id"] for t in table_provenance("evaluation")} == {"emg_datasets"}


def test_summary_and_report_leave_out_tables_a_review_does_not_read(demo_result, tmp_path):
    from edxreview._pipeline import write_outputs
    from edxreview.report import write_report_files
    write_outputs(demo_result, tmp_path,
                  extra=lambda tmp, r: write_report_files(r, tmp, xlsx=False))
    listed = {t["id"] for t in
              json.loads((tmp_path / "summary.json").read_text("utf-8"))["provenance"]["tables"]}
    assert "emg_datasets" not in listed and "emg_signal_parameters" not in listed
    assert {"ncs_limits_adult", "anatomy_muscles", "interpretation_rules"} <= listed
    page = (tmp_path / "report.html").read_text("utf-8")
    assert "emg_datasets" not in page and "emg_signal_parameters" not in page
    assert "ncs_limits_adult" in page


def test_unknown_scope_is_refused():
    with pytest.raises(InvalidParameterError, match=r"'scope'.*'evaluaton'.*evaluation"):
        table_provenance("evaluaton")


def test_sidecar_with_unknown_scope_is_a_clear_error(tmp_path, monkeypatch):
    (tmp_path / "odd.meta.toml").write_text('id = "odd"\nversion = "1.0.0"\nscope = "x"\n',
                                            encoding="utf-8")
    monkeypatch.setattr(_tables, "_data_path", lambda name: tmp_path / name)
    with pytest.raises(InvalidParameterError, match=r"odd\.meta\.toml: scope 'x' is not one"):
        table_provenance("review")
