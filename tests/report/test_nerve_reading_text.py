"""A nerve recording's reading says the same in nerves.csv and in the report, in every
language: one composition (``compose_nerve_readings``) from the typed columns, with each
language's words.

Checked on the demo and on a small registry of the scenarios the demo lacks (conduction blocks,
one beside a low distal CMAP, one above focal slowing in the same recording; focal slowing at
the elbow and the fibular head; absent and
prolonged F-waves; absent SNAPs; the four blink-reflex patterns): the English report's reading
is interpret's ``reading``, word for word, and the Chinese one holds every typed part of its row
(each part's words, the lesion site, a block's CMAPs and per cent) and the same numbers as the
English one.
"""

from __future__ import annotations

import html
import re

import pandas as pd
import pytest

from edxreview.interpret._readings import (BLINK_READINGS, MOTOR_READING_PARTS, READING_FORMS,
                                           compose_nerve_readings, focal_sites,
                                           motor_reading_fallback,
                                           motor_reading_parts, sensory_reading_codes)
from edxreview.report import render_report
from edxreview.report._edx import display_names
from edxreview.report._readings import nerve_readings
from edxreview._words import LANGUAGES, load_labels


def _low_distal_block(pid: str):
    """Ulnar CMAP 4.0 mV at the wrist (67 % of LLN 6), 3.9 below and 3.8 mV above the elbow,
    1.2 mV at the axilla (30 % of the distal): a block in the upper arm beside a low CMAP."""
    from scenarios.test_localisation_cases import bilateral, motor_sites

    study = bilateral(pid, 48, weakness="yes")
    return motor_sites(study, pid, "ulnar", "R", "ADM", [
        ("wrist", 70, 2.8, 4.0, None), ("below elbow", 220, 6.3, 3.9, 62.0),
        ("above elbow", 100, 8.0, 3.8, 59.0), ("axilla", 120, 10.2, 1.2, 55.0)])


def _absent_and_demyelinating(pid: str):
    """Right peroneal CMAP absent at every site; right median forearm velocity 32 m/s (65 % of
    LLN 49) with a normal CMAP and distal latency: demyelinating range."""
    from scenarios.builders import NR
    from scenarios.test_localisation_cases import bilateral

    study = bilateral(pid, 52, weakness="yes")
    study.set_motor(pid, "peroneal", "R", amplitudes_mv=(NR, NR, NR))
    return study.set_motor(pid, "median", "R", amplitudes_mv=(9.0, 8.7),
                           velocities_m_s=(32.0,))


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    """The scenarios, one patient each, reviewed as one registry."""
    from edxreview._pipeline import review_study
    from scenarios import test_localisation_cases as cases
    from scenarios.builders import Study

    builders = [cases.ulnar_upper_arm_block, cases.median_upper_arm_block, _low_distal_block,
                _absent_and_demyelinating,
                cases.ulnar_elbow_focal_with_axon_loss, cases.peroneal_fibular_head_focal,
                cases.ulnar_elbow_focal(38.0, 61.0), cases.f_waves_prolonged,
                cases.f_waves_absent, cases.surals_absent_at(59), cases.tiny_median_cmap,
                cases.blink_afferent_delayed, cases.blink_efferent(True), cases.blink_medullary,
                cases.blink_pontine, cases.peroneal_block_above_fibular_head_slowing,
                cases.ulnar_blocks_forearm_and_axilla_erb,
                cases.ulnar_elbow_slowing_and_wrist_latency]
    cohort = Study()
    for number, build in enumerate(builders):
        for sheet, rows in build(f"RD{number:02d}").sheets.items():
            cohort.add(sheet, *rows)
    return review_study(cohort.write_csv(tmp_path_factory.mktemp("readings") / "study"))


@pytest.fixture(params=["demo", "registry"])
def nerves(request, demo_result, registry) -> pd.DataFrame:
    return (demo_result if request.param == "demo" else registry).nerves


def test_the_registry_holds_every_kind_of_part(registry):
    """The registry is there for the parts the demo lacks: without them the checks below
    would pass on nothing."""
    n = registry.nerves
    parts = motor_reading_parts(n[n["study"].eq("motor")])
    assert parts.any().all(), parts.sum()
    assert (parts["conduction_block"] & parts["axonal"]).any()
    assert (parts["conduction_block"] & parts["focal_slowing"]).any()
    assert {"afferent", "efferent", "efferent_mirror", "pontine", "medullary"} <= set(
        n["blink_pattern"].dropna())
    assert sensory_reading_codes(n[n["study"].eq("sensory")]).eq("absent").any()


def test_english_report_reading_is_interprets(nerves):
    """Word for word, a block's CMAPs and site included."""
    shown = nerve_readings(nerves, load_labels("en"))
    differ = shown != nerves["reading"]
    assert not differ.any(), pd.DataFrame({"report": shown[differ],
                                           "interpret": nerves["reading"][differ]})


def test_a_block_reading_names_its_site_and_cmaps(registry):
    n = registry.nerves.set_index("patient_id")
    block = n[n["conduction_block"].astype(bool)]
    assert set(block["reading"]) == {
        "conduction block at above elbow–axilla (CMAP 9 → 3.4 mV, 38 % of distal)",
        "conduction block at elbow–axilla (CMAP 8.5 → 3 mV, 35 % of distal)",
        # the site and the CMAPs follow the block, not the part written last
        "conduction block at above elbow–axilla (CMAP 4 → 1.2 mV, 30 % of distal), "
        "axonal loss (low CMAP)",
        # a block and focal slowing in one recording: each named at its own site
        "conduction block at above fibular head–thigh (CMAP 5 → 2 mV, 40 % of distal), "
        "focal slowing at fibular head",
        # two blocks: each at its own segment, with the CMAP that reached it
        "conduction block at wrist–below elbow (CMAP 9 → 4.5 mV, 50 % of distal), "
        "conduction block at axilla–erb (CMAP 4.5 → 1.8 mV, 40 % of distal)"}
    assert block.loc["RD02", ["block_distal_amplitude_mv", "block_proximal_amplitude_mv",
                              "block_ratio"]].tolist() == ["4", "1.2", "0.3"]
    assert block.loc["RD16", ["block_site", "block_rank", "block_distal_amplitude_mv",
                              "block_proximal_amplitude_mv", "block_ratio"]].tolist() == [
        "wrist–below_elbow|axilla–erb", "50|10", "9|4.5", "4.5|1.8", "0.5|0.4"]


def test_every_slowing_reading_names_its_sites_distal_first(registry):
    """Slowing across the elbow with a prolonged distal latency: the wrist is a site of its own
    (it was dropped for the elbow), its velocities blank in the lists."""
    n = registry.nerves.set_index("patient_id")
    row = n.loc["RD17"]
    row = row[row["study"].eq("motor") & row["nerve"].eq("ulnar") & row["side"].eq("R")].iloc[0]
    assert row["reading"] == "focal slowing at wrist, focal slowing at elbow"
    assert row[["slowing_site", "slowing_rank", "segment_velocity_m_s",
                "adjacent_velocity_m_s"]].tolist() == ["wrist|elbow", "80|40", "|36", "|61"]


def _numbers(text: pd.Series) -> pd.Series:
    return text.astype(str).map(lambda t: sorted(re.findall(r"\d+(?:\.\d+)?", t)))


def test_chinese_reading_holds_every_typed_part(nerves):
    """Each part the English names has its Chinese words in the Chinese reading, and the two
    readings hold the same numbers (a block's CMAPs and per cent, R1 / R2)."""
    zh = load_labels("zh")
    words = zh["nerve_readings"]
    text = nerve_readings(nerves, zh).astype(str)
    motor, sensory, blink = (nerves["study"].eq(s) for s in ("motor", "sensory", "blink"))
    missing = []

    def expect(mask, wanted, what):
        wanted = pd.Series(wanted, index=nerves.index).astype(object).fillna("").map(str)
        lacking = mask & ~pd.Series([w in t for w, t in zip(wanted, text)], index=nerves.index)
        missing.extend(f"{what}: {w!r} not in {t!r}" for w, t in zip(wanted[lacking],
                                                                      text[lacking]))

    parts = motor_reading_parts(nerves)
    for code in MOTOR_READING_PARTS:
        expect(motor & parts[code], words[code], code)
    expect(motor & ~parts.any(axis=1), motor_reading_fallback(nerves).map(words), "fallback")
    expect(sensory, sensory_reading_codes(nerves).map(words), "sensory")
    expect(blink, nerves["blink_pattern"].map(words), "blink")
    sites = display_names("site", "zh")
    found = focal_sites(nerves)
    at = found["row"]

    def expect_site(wanted, what):
        """Each site's words in its recording's Chinese reading."""
        wanted = pd.Series(wanted, index=found.index).astype(object).fillna("").map(str)
        text_at = text.loc[at].to_numpy()
        missing.extend(f"{what}: {w!r} not in {t!r}" for w, t in zip(wanted, text_at)
                       if w not in t)

    for end in (0, -1):        # both ends of a segment (a site is its own two ends)
        site = found["site"].astype(str).str.split("–").str[end]
        expect_site(site.map(sites), "site")
    block = found["code"].eq("conduction_block")
    for name in ("distal_mv", "proximal_mv"):
        expect_site(found[name].where(block).map(lambda v: "" if pd.isna(v) else f"{v:g}"), name)
    expect_site((100 * found["ratio"].where(block)).round(0).map(
        lambda v: "" if pd.isna(v) else f"{v:.0f}"), "ratio")
    assert not missing, missing
    same = _numbers(text) == _numbers(nerves["reading"])
    assert same.all(), pd.DataFrame({"zh": text[~same], "en": nerves["reading"][~same]})


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_language_forms_hold_the_same_fields(lang):
    """A form that drops a field (a block's per cent, the site) drops a part silently."""
    def fields(text):
        return sorted(re.findall(r"\{(\w+)\}", text))
    words = load_labels(lang)["nerve_readings"]
    assert {k: fields(words[k]) for k in READING_FORMS} == \
        {k: fields(v) for k, v in READING_FORMS.items()}


def test_the_english_defaults_are_the_label_file(registry):
    n = registry.nerves
    assert (compose_nerve_readings(n) == compose_nerve_readings(
        n, load_labels("en")["nerve_readings"], display_names("site", "en"))).all()
    assert (compose_nerve_readings(n) == n["reading"]).all()


@pytest.fixture(scope="module")
def pages(registry, tmp_path_factory):
    out = {}
    for lang in LANGUAGES:
        folder = tmp_path_factory.mktemp(f"pages-{lang}")
        render_report(registry, folder, xlsx=False, lang=lang)
        out[lang] = html.unescape((folder / "report.html").read_text(encoding="utf-8"))
    return out


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_patient_pages_print_the_readings(registry, pages, lang):
    """The rendered pages print each block's, focal slowing's and blink pattern's reading as
    composed: in English nerves.csv's ``reading``."""
    n = registry.nerves
    shown = n["conduction_block"].astype(bool) | n["focal_slowing"].astype(bool) | \
        n["blink_pattern"].isin([p for p in BLINK_READINGS if p != "normal"])
    text = nerve_readings(n[shown], load_labels(lang))
    if lang == "en":
        assert (text == n.loc[shown, "reading"]).all()
    lacking = sorted(set(t for t in text if t not in pages[lang]))
    assert not lacking, lacking


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_block_finding_prints_its_ratio_in_the_page_format(registry, lang):
    """The reasoning table prints a block's proximal/distal ratio with the page's two
    decimals (it printed 0.377778), in every language."""
    from edxreview.report._summary import reasoning_tables

    tables = reasoning_tables(registry, registry.patients["patient_id"], lang)
    rows = [f for rows in tables["findings"].values() for f in rows
            if f["rule_id"] == "conduction_block" or "block" in str(f["rule_id"])]
    assert rows, "no block finding in the registry"
    for f in rows:
        number = f["value_text"].split()[0]
        assert re.fullmatch(r"\d+\.\d\d", number), f["value_text"]


def test_the_chinese_summary_names_a_lesion_segment_site_by_site(registry):
    """A lesion at a segment (above_elbow–axilla) is named site by site in the Chinese summary,
    as the English label names it (it was dropped: the segment is no single site id)."""
    from edxreview.report._edx import display_names
    from edxreview.report._summary import summarize_patients

    les = registry.lesions[registry.lesions["site"].astype(str).str.contains("–")]
    assert len(les), "no lesion at a segment in the registry"
    zh = summarize_patients(registry, les["patient_id"], "zh")
    names = display_names("site", "zh")
    for pid, site in zip(les["patient_id"], les["site"]):
        a, b = site.split("–")
        assert f"{names[a]}–{names[b]}" in zh[str(pid)], (site, zh[str(pid)])
