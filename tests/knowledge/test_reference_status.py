"""What ``verified`` means, enforced on every row that carries a status.

Definition (``knowledge/data/README.md``, "Row status"): a row is ``verified`` only when its
value was read in a source named in its ``source`` cell, and that source's sidecar entry names
it precisely: authors, title, year, the table or page read, and the technique. ``corrected``
rows were changed to what such a source gives (or to a value derived from it, said so in the
reason). ``unsourced`` and ``convention`` rows say why in ``status_reason``.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pandas as pd
import pytest

DATA = Path(__file__).resolve().parents[2] / "src" / "edxreview" / "knowledge" / "data"
STATUSES = {"verified", "corrected", "unsourced", "convention"}
SOURCE_FIELDS = ("authors", "title", "year", "table", "technique")


def _tables_with_status():
    out = []
    for csv in sorted(DATA.glob("*.csv")):
        header = csv.read_text(encoding="utf-8").splitlines()[0].split(",")
        if "status" in header:
            out.append(csv.stem)
    return out


TABLES = _tables_with_status()


def _read(name):
    table = pd.read_csv(DATA / f"{name}.csv", dtype=str, keep_default_na=False)
    with open(DATA / f"{name}.meta.toml", "rb") as fh:
        return table, tomllib.load(fh)


def test_the_status_tables_are_the_audited_ones():
    assert {"ncs_limits_adult", "vertebra_segments", "brainstem_nuclei", "muscles",
            "temperature_limits"} <= set(TABLES)


@pytest.mark.parametrize("name", TABLES)
def test_status_is_closed_and_every_row_says_why(name):
    table, _ = _read(name)
    assert set(table["status"]) <= STATUSES, name
    assert table["status_reason"].str.strip().str.len().gt(10).all(), name
    assert "verified" not in table.columns  # the old boolean flag is gone


@pytest.mark.parametrize("name", TABLES)
def test_a_verified_or_corrected_row_names_a_source_read_precisely(name):
    table, meta = _read(name)
    sources = meta.get("sources", {})
    for i, row in table[table["status"].isin(["verified", "corrected"])].iterrows():
        keys = [k for k in row["source"].split("|") if k]
        precise = [k for k in keys
                   if all(str(sources.get(k, {}).get(f, "")).strip() for f in SOURCE_FIELDS)
                   and not str(sources[k].get("read", "")).upper().startswith("NOT")]
        assert precise, (f"{name} row {i + 2} is {row['status']} but names no source with "
                         f"{', '.join(SOURCE_FIELDS)} that was read")


@pytest.mark.parametrize("name", TABLES)
def test_a_source_marked_not_read_supports_no_verified_row(name):
    table, meta = _read(name)
    not_read = {k for k, v in meta.get("sources", {}).items()
                if str(v.get("read", "")).upper().startswith("NOT")}
    for i, row in table[table["status"] == "verified"].iterrows():
        keys = set(row["source"].split("|"))
        assert keys - not_read, f"{name} row {i + 2}"


def test_derived_limits_are_corrected_not_verified():
    """A limit derived from a read mean and SD is `corrected`; where the derivation rests on
    something not read (the age bands of the tibial CMAP groups, or which peroneal group a mean
    and SD belong to) the row is a named convention instead."""
    table, _ = _read("ncs_limits_adult")
    derived = table[table["status_reason"].str.contains("Derived mean-2SD", regex=False)]
    corrected = derived[derived["status"] == "corrected"]
    assert set(derived["status"]) == {"corrected", "convention"}
    assert set(zip(corrected["study"], corrected["nerve"], corrected["parameter"])) == {
        ("motor", "peroneal", "latency_ms"), ("motor", "tibial", "latency_ms"),
        ("sensory", "saphenous", "velocity_m_s"), ("f_wave", "tibial", "min_latency_ms")}
    assumed = derived[derived["status"] == "convention"]
    assert set(zip(assumed["nerve"], assumed["parameter"])) == {("tibial", "amplitude_mv")}
    assert assumed["status_reason"].str.contains("age bands assumed", regex=False).all()
    peroneal_v = table[(table["nerve"] == "peroneal") & (table["parameter"] == "velocity_m_s")]
    assert set(peroneal_v["status"]) == {"convention"}
    assert peroneal_v["status_reason"].str.contains("strictest", regex=False).all()


def test_sural_default_is_not_one_laboratory_norm_below_61():
    """Published sural limits disagree below 61 y (12.4 uV at 18-30 y in one Indian laboratory vs
    7.7-8.3 uV elsewhere): there the default is a named convention whose reason names the
    disagreement; from 61 the only age-banded limits read (Sreenivasan et al.) are adopted."""
    table, _ = _read("ncs_limits_adult")
    sural = table[(table["nerve"] == "sural") & (table["parameter"] == "amplitude_uv")]
    young = sural[sural["age_min_years"] == ""]
    assert len(young) == 1 and young["age_max_years"].iloc[0] == "61"
    assert young["status"].iloc[0] == "convention"
    assert "Sreenivasan" in young["status_reason"].iloc[0]
    old = sural[sural["age_min_years"] != ""]
    assert set(old["status"]) == {"verified"}   # printed in the abstract, not derived
    assert set(old["source"]) == {"sreenivasan2016_sural"}


def test_no_default_limit_is_unsourced_without_being_a_convention():
    """Issue 10's judging line: every bundled limit is verified, corrected or a named convention."""
    table, _ = _read("ncs_limits_adult")
    assert not table["status"].eq("unsourced").any(), table[table["status"] == "unsourced"]


def test_readme_defines_the_statuses():
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    for status in STATUSES:
        assert f"`{status}`" in readme


def test_no_internal_document_in_a_citation():
    """Citations name published sources; the project's own notes are not a source."""
    for name in TABLES:
        _, meta = _read(name)
        text = str(meta.get("citation", "")) + " ".join(
            str(v) for s in meta.get("sources", {}).values() for v in s.values())
        assert "edx-knowledge" not in text and "§" not in text, name


def test_lower_limb_defaults_no_longer_call_older_normals_abnormal():
    """Audit differences 1 and 2: peroneal velocity 44 m/s and tibial CMAP 4.0 mV at any age."""
    table, _ = _read("ncs_limits_adult")
    per = table[(table["nerve"] == "peroneal") & (table["parameter"] == "velocity_m_s")]
    assert set(per["limit"].astype(float)) == {41.0}
    tib = table[(table["nerve"] == "tibial") & (table["parameter"] == "amplitude_mv")]
    bands = {(r.age_min_years, r.age_max_years): float(r.limit) for r in tib.itertuples()}
    assert bands == {("", "30"): 6.3, ("30", "60"): 3.9, ("60", ""): 1.4}


def test_facial_limits_cite_johnson_table_9_1():
    table, meta = _read("ncs_limits_adult")
    facial = table[(table["nerve"] == "facial") & table["parameter"].isin(
        ["amplitude_mv", "latency_ms"])]
    assert set(facial["source"]) == {"johnson2007_table9_1"}
    assert "Table 9-1" in meta["sources"]["johnson2007_table9_1"]["table"]


def test_kim_2012_is_cited_under_its_first_author():
    table, meta = _read("vertebra_segments")
    assert "chang2012" not in meta["sources"]
    assert meta["sources"]["kim2012"]["authors"].startswith("Kim JH")
    assert not table["source"].str.contains("chang2012").any()


def test_no_row_of_any_status_table_is_unsourced_without_being_a_convention():
    """Issue 10's judging line over every table with a row status."""
    for name in TABLES:
        table, _ = _read(name)
        assert not table["status"].eq("unsourced").any(), name


@pytest.mark.parametrize("name", TABLES)
def test_a_convention_row_says_it_is_one(name):
    """A convention is named as one in its reason (the report's methods print the reason)."""
    table, _ = _read(name)
    conv = table[table["status"] == "convention"]
    bad = conv[~conv["status_reason"].str.lower().str.contains("convention")]
    assert bad.empty, f"{name} rows {[i + 2 for i in bad.index]}"


# Main roots as printed in the abstracts read (Phillips & Park 1991, Muscle Nerve 14:1213:
# "major root innervation"; Furukawa et al. 2021, Clin Neurophysiol Pract 6:88: "suggested
# dominant myotomes" and the C7 results).
PUBLISHED_MAIN_ROOT = {
    "adductor_longus": "L3", "peroneus_longus": "L5", "gastrocnemius_medial": "S1",
    "gastrocnemius_lateral": "S1", "gluteus_maximus": "S1", "infraspinatus": "C5",
    "extensor_carpi_radialis_brevis": "C6", "pronator_teres": "C6", "flexor_carpi_radialis": "C7",
    # consistent but not the whole main-root set: these stay conventions
    "vastus_medialis": "L3", "vastus_lateralis": "L3", "tibialis_anterior": "L4",
    "brachioradialis": "C5",
}


@pytest.mark.parametrize(("muscle", "root"), sorted(PUBLISHED_MAIN_ROOT.items()))
def test_muscle_main_roots_agree_with_the_muscle_level_studies(muscle, root):
    table, _ = _read("muscles")
    row = table.set_index("muscle").loc[muscle]
    main = row["roots_main"].split("|")
    assert root in main
    # verified only where the published major root is the whole main-root set
    assert row["status"] == ("verified" if main == [root] else "convention")
