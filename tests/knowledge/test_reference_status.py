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
    table, _ = _read("ncs_limits_adult")
    derived = table[table["status_reason"].str.contains("Derived mean-2SD", regex=False)]
    assert set(derived["status"]) == {"corrected"}
    assert set(zip(derived["study"], derived["nerve"], derived["parameter"])) == {
        ("motor", "peroneal", "velocity_m_s"), ("motor", "peroneal", "latency_ms"),
        ("motor", "tibial", "amplitude_mv"), ("motor", "tibial", "latency_ms"),
        ("sensory", "saphenous", "velocity_m_s"), ("f_wave", "tibial", "min_latency_ms")}


def test_sural_default_is_not_one_laboratory_norm():
    """Published sural limits disagree (12.4 uV at 18-30 y in one Indian laboratory vs 7.7-8.3 uV
    elsewhere): the default stays one row, unsourced, and its reason names the disagreement."""
    table, _ = _read("ncs_limits_adult")
    sural = table[(table["nerve"] == "sural") & (table["parameter"] == "amplitude_uv")]
    assert len(sural) == 1
    assert sural["status"].iloc[0] == "unsourced"
    assert "Sreenivasan" in sural["status_reason"].iloc[0]


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
