"""The dataset facts of the evaluation (N2001 rate, gain, header and ages; the labels of N2001,
Algiers, PhysioNet and Pattichis) live in ``knowledge/data/emg_datasets.toml`` only: every key
there has a sidecar source, the loader refuses a file that lacks one, and
``edxreview.signal._datasets`` holds exactly the file's values with no number of its own."""

import ast
import copy
import tomllib
from pathlib import Path

import pytest

from edxreview import InvalidInputError
from edxreview.signal import _datasets
from edxreview.signal._params import DATASET_FACT_TYPES, check_dataset_facts

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "src" / "edxreview" / "knowledge" / "data"
FACTS = tomllib.loads((DATA / "emg_datasets.toml").read_text("utf-8"))
META = tomllib.loads((DATA / "emg_datasets.meta.toml").read_text("utf-8"))
KEYS = [f"{s}.{k}" for s, keys in DATASET_FACT_TYPES.items() for k in keys]


def test_the_file_holds_every_key_the_code_reads_and_no_other():
    in_file = [f"{s}.{k}" for s, section in FACTS.items() for k in section]
    assert sorted(in_file) == sorted(KEYS)
    check_dataset_facts(FACTS)


def test_every_key_is_covered_by_exactly_one_cited_source():
    assert META["id"] == "emg_datasets" and META["version"] and META["citation"]
    covered = [k for src in META["sources"].values() for k in src["covers"]]
    assert sorted(covered) == sorted(KEYS)
    for name, src in META["sources"].items():
        fields = ("citation", "read", "status", "used_for")
        assert all(src.get(f, "").strip() for f in fields), name
        assert "README.md" in src["citation"], name


@pytest.mark.parametrize("key", KEYS)
def test_a_missing_fact_is_refused_naming_its_key(key):
    section, name = key.split(".")
    broken = copy.deepcopy(FACTS)
    del broken[section][name]
    with pytest.raises(InvalidInputError, match=rf"{section}\.{name}") as info:
        check_dataset_facts(broken)
    assert [p.column for p in info.value.problems] == [key]


def test_a_fact_of_the_wrong_type_is_refused():
    broken = copy.deepcopy(FACTS)
    broken["n2001"]["header_samples"] = "10"
    with pytest.raises(InvalidInputError, match=r"n2001\.header_samples '10'"):
        check_dataset_facts(broken)


def test_the_module_holds_the_values_of_the_file():
    n, pat = FACTS["n2001"], FACTS["pattichis"]
    assert _datasets.N2001_FS_HZ == n["fs_hz"] == 23437.5
    assert _datasets.N2001_GAIN_ADU_PER_MV == n["gain_adu_per_mv"] == 13107.0
    assert _datasets.N2001_HEADER_SAMPLES == n["header_samples"] == 10
    assert _datasets.N2001_AGES == n["age_years"] == {"A01": 56.0, "C01": 29.0}
    assert _datasets.N2001_MUSCLES == n["muscle"]
    assert _datasets.N2001_GROUPS == n["group"]
    assert _datasets.ALGIERS_GROUPS == FACTS["algiers"]["group"]
    assert list(_datasets.PHYSIONET.items()) == list(FACTS["physionet"]["record"].items())
    assert _datasets.PHYSIONET_MUSCLE == FACTS["physionet"]["muscle"]
    assert _datasets.PATTICHIS_CLASSES == {int(k): v for k, v in pat["class"].items()}
    assert _datasets.PATTICHIS_MUSCLE == pat["muscle"]
    assert _datasets.PATTICHIS_MUAPS_PER_SUBJECT == pat["muaps_per_subject"] == 20
    # the classes are the classifier's, each dataset's labels map onto all three
    for labels in (n["group"], FACTS["algiers"]["group"], FACTS["physionet"]["record"],
                   pat["class"]):
        assert set(labels.values()) == {"normal", "neurogenic", "myopathic"}


@pytest.mark.parametrize("path", ["src/edxreview/signal/_datasets.py", "tools/emg_eval.py",
                                  "benchmarks/emg.py"])
def test_no_number_of_the_file_is_written_again_in_code(path):
    """A literal equal to a distinctive fact (rate, gain, ages) in the code that reads the
    datasets would be a second copy that can drift from the file (small counts such as the
    10 header samples are left out: 10 is also a slice bound of the file name)."""
    n = FACTS["n2001"]
    facts = {n["fs_hz"], n["gain_adu_per_mv"], *n["age_years"].values()}
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    found = [(node.lineno, node.value) for node in ast.walk(tree)
             if isinstance(node, ast.Constant) and not isinstance(node.value, bool)
             and isinstance(node.value, (int, float)) and node.value in facts]
    assert not found, found
