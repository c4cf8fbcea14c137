"""Chinese names are aliases: a workbook written in Chinese reads like its English twin."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from edxreview import demo_path, review
from edxreview.knowledge import load_anatomy
from edxreview.knowledge._tables import normalize_key, read_table


@pytest.fixture(scope="module")
def zh():
    table, meta = read_table("aliases_zh")
    table["first"] = table["alias"].str.split("|").str[0]
    return table, meta


def test_every_chinese_name_reads_as_its_own_id(zh):
    table, meta = zh
    anatomy = load_anatomy()
    known = {"nerve": set(anatomy.nerves.index), "muscle": set(anatomy.muscles.index),
             "site": set(anatomy.sites["site"])}
    maps = {"nerve": anatomy.nerve_aliases, "muscle": anatomy.muscle_aliases,
            "site": anatomy.site_aliases}
    for kind, ident, aliases in zip(table["kind"], table["id"], table["alias"]):
        assert ident in known[kind], (kind, ident)
        for spelling in aliases.split("|"):
            assert maps[kind][normalize_key(spelling)] == ident, (kind, spelling)
    # every nerve and muscle has a Chinese name
    assert known["nerve"] <= set(table.loc[table["kind"] == "nerve", "id"])
    assert known["muscle"] <= set(table.loc[table["kind"] == "muscle", "id"])
    assert meta["citation"] and meta["verified"] is False


def test_normalize_key_keeps_chinese_and_full_width_forms():
    assert normalize_key("拇短展肌") == "拇短展肌"
    assert normalize_key("拇短展肌 (APB)") == "拇短展肌apb"
    assert normalize_key("ＡＰＢ") == "apb"                     # full-width Latin
    assert normalize_key("1st-DI") == normalize_key("1st DI") == "1stdi"


@pytest.mark.slow
def test_chinese_workbook_gives_the_english_results(tmp_path, zh):
    table, _ = zh
    english = review(demo_path())
    folder = tmp_path / "中文"
    shutil.copytree(demo_path(), folder)
    names = {k: dict(zip(g["id"], g["first"])) for k, g in table.groupby("kind")}
    anatomy = load_anatomy()
    canonical = {"nerve": anatomy.nerve_aliases, "muscle": anatomy.muscle_aliases,
                 "site": anatomy.site_aliases}
    changed = 0
    for sheet, columns in {"ncs_motor": {"nerve": "nerve", "stim_site": "site",
                                         "recording_site": "muscle"},
                           "ncs_sensory": {"nerve": "nerve"}, "f_waves": {"nerve": "nerve"},
                           "emg": {"muscle": "muscle"}}.items():
        path = folder / f"{sheet}.csv"
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        for column, kind in columns.items():
            if column not in frame:
                continue
            ids = frame[column].map(normalize_key).map(canonical[kind])
            translated = ids.map(names[kind])
            changed += int(translated.notna().sum())
            frame[column] = translated.fillna(frame[column])
        frame.to_csv(path, index=False, encoding="utf-8")
    assert changed > 1000
    chinese = review(folder)
    assert {k: m["n"] for k, m in chinese.summary["measures"].items()} == \
        {k: m["n"] for k, m in english.summary["measures"].items()}
    cols = ["patient_id", "emg_denervation", "ncs_neuropathy", "lmn_involvement",
            "lmn_segments", "denervated_muscles", "abnormal_nerves"]
    pd.testing.assert_frame_equal(chinese.patients[cols], english.patients[cols])
    assert len(chinese.study.warnings) == len(english.study.warnings)
