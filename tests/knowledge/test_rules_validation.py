"""The rules file is one validated object: missing, unknown or mistyped keys are refused with
the file, the key and a suggestion; every source is a citation or a declared convention."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path

import pytest

from edxreview._errors import InvalidInputError
from edxreview.knowledge import load_rules
from edxreview.knowledge._rules import read_rules, validate_rules
from edxreview.knowledge._tables import _data_path


def raw() -> dict:
    with open(_data_path("interpretation_rules.toml"), "rb") as fh:
        return tomllib.load(fh)


def problems(data: dict) -> list:
    with pytest.raises(InvalidInputError) as err:
        validate_rules(data)
    return err.value.problems


def test_bundled_rules_are_valid_and_read_only():
    rules = load_rules()
    assert rules["demyelination"]["velocity_fraction_of_lln_reduced"] == 0.70
    with pytest.raises(TypeError):
        rules["emg"] = {}                                        # type: ignore[index]


def test_unknown_key_names_the_key_and_suggests_the_spelling():
    data = raw()
    data["emg"]["acute_min_grad"] = data["emg"].pop("acute_min_grade")
    found = {p.column: p.message for p in problems(data)}
    assert "did you mean 'acute_min_grade'" in found["emg.acute_min_grad"]
    assert found["emg.acute_min_grade"] == "required key missing"


def test_unknown_section_and_wrong_type_are_refused():
    data = raw()
    data["polyneuropaty"] = {}
    data["mri"]["segment_tolerance"] = "one"
    found = {p.column: p.message for p in problems(data)}
    assert "did you mean 'polyneuropathy'" in found["polyneuropaty"]
    assert "integer" in found["mri.segment_tolerance"]


def test_every_source_is_listed_and_cited_or_a_convention():
    data = raw()
    data["conduction_block"]["source"] = "ean_pns_2012"
    data["sources"]["bare"] = {"verified": False}
    found = {p.column: p.message for p in problems(copy.deepcopy(data))}
    assert "names no entry" in found["conduction_block.source"]
    assert "convention" in found["sources.bare"]


def test_conventions_carry_their_reason():
    conv = load_rules().conventions()
    assert conv and all(len(reason) > 40 for reason in conv.values())


def test_a_broken_file_is_a_located_error(tmp_path: Path):
    path = tmp_path / "rules.toml"
    path.write_text("[emg\n", encoding="utf-8")
    with pytest.raises(InvalidInputError) as err:
        read_rules(path)
    assert "rules.toml" in str(err.value)


def test_no_rule_threshold_is_repeated_in_the_logic():
    """The numbers the rules file owns do not appear as literals in the decision code."""
    import re

    src = Path(__file__).resolve().parents[2] / "src" / "edxreview"
    code = "".join((src / p).read_text(encoding="utf-8") for p in (
        "classify/_classify.py", "classify/_localise.py", "interpret/_readings.py",
        "interpret/_muscles.py", "interpret/_findings.py"))
    for literal in (r"≥ 60", r"\b60\b", r"±1\b", r"1\+ = acute", r"get\(\"C1\""):
        assert not re.search(literal, code), literal
