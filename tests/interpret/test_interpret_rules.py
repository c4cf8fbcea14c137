"""Rule by rule, on small hand-made tables: focal versus uniform slowing, side-to-side CMAP
comparison, blink-reflex patterns, F-waves alone, and the findings table (spec §4.1)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from edxreview.interpret import findings_table, flag_values, read_nerves
from edxreview.interpret._readings import _read_blink, focal_sites
from edxreview.io import Study
from edxreview.knowledge import load_anatomy, load_reference, load_rules

MOTOR_COLUMNS = ["patient_id", "nerve", "side", "stim_site", "recording_site", "latency_ms",
                 "latency_ms_nr", "amplitude_mv", "amplitude_mv_nr", "velocity_m_s", "_row"]


def study(motor: list[tuple], f_waves: list[tuple] = (), age: float = 45.0) -> Study:
    """A one-patient study from motor rows ``(nerve, side, site, recording, latency, amplitude,
    velocity)``, distal site first, and F rows ``(nerve, side, min_latency_ms)``."""
    m = pd.DataFrame([{"patient_id": 0, "nerve": n, "side": s, "stim_site": site,
                       "recording_site": rec, "latency_ms": lat, "latency_ms_nr": False,
                       "amplitude_mv": amp, "amplitude_mv_nr": False, "velocity_m_s": cv,
                       "_row": i + 2} for i, (n, s, site, rec, lat, amp, cv) in enumerate(motor)],
                     columns=MOTOR_COLUMNS)
    f = pd.DataFrame([{"patient_id": 0, "nerve": n, "side": s, "min_latency_ms": lat,
                       "min_latency_ms_nr": lat is None, "_row": i + 2}
                      for i, (n, s, lat) in enumerate(f_waves)],
                     columns=["patient_id", "nerve", "side", "min_latency_ms", "min_latency_ms_nr", "_row"])
    tables = {
        "patients": pd.DataFrame({"patient_id": [0], "age_years": [age], "height_cm": [170.0]}),
        "ncs_motor": m, "f_waves": f,
        "ncs_sensory": pd.DataFrame(columns=["patient_id", "nerve", "side", "latency_ms", "amplitude_uv",
                                             "velocity_m_s", "_row"]),
        "blink_reflex": pd.DataFrame(columns=["patient_id", "side", "r1_ms", "r2_ipsi_ms", "r2_contra_ms",
                                              "r1_ms_nr", "r2_ipsi_ms_nr", "r2_contra_ms_nr", "_row"]),
    }
    return Study(tables=tables, warnings=[], rows={}, source=Path("small"), sha256="")


def read(s: Study) -> tuple[pd.DataFrame, pd.DataFrame]:
    anatomy = load_anatomy()
    values = flag_values(s, load_reference(), anatomy)
    return values, read_nerves(s, values, anatomy, load_rules())


def ulnar(forearm: float, across: float, adm: float = 10.0) -> list[tuple]:
    return [("ulnar", "R", "wrist", "abductor_digiti_minimi", 2.8, adm, None),
            ("ulnar", "R", "below_elbow", "abductor_digiti_minimi", 6.5, adm * 0.97, forearm),
            ("ulnar", "R", "above_elbow", "abductor_digiti_minimi", 8.5, adm * 0.95, across)]


@pytest.mark.parametrize("forearm, across, adm, focal", [
    (60.0, 38.0, 10.0, True),    # below 50 m/s and 22 m/s slower than the forearm
    (62.0, 47.0, 10.0, True),    # just below the floor, 15 m/s slower
    (60.0, 52.0, 10.0, False),   # above the 50 m/s floor
    (50.0, 45.0, 10.0, False),   # below the floor but only 5 m/s slower: not localised
    (44.0, 43.0, 3.0, False),    # uniform slowing with a low CMAP: axon loss
], ids=["focal", "borderline focal", "above floor", "not clearly slower", "uniform"])
def test_focal_slowing_needs_a_segment_slower_than_its_neighbour(forearm, across, adm, focal):
    _, nerves = read(study(ulnar(forearm, across, adm)))
    row = nerves[nerves["study"].eq("motor")].iloc[0]
    assert bool(row["focal_slowing"]) is focal
    assert (row["lesion_site"] == "elbow") is focal
    if focal:
        site = focal_sites(nerves[nerves["study"].eq("motor")]).iloc[0]
        assert (site["code"], site["site"]) == ("focal_slowing", "elbow")
        assert (site["velocity"], site["adjacent_velocity"]) == (across, forearm)
        assert (row["segment_velocity_m_s"], row["adjacent_velocity_m_s"]) == (
            f"{across:g}", f"{forearm:g}")


def ulnar_sites(*sites: tuple) -> list[tuple]:
    """Ulnar to ADM, rows ``(site, latency_ms, amplitude_mv, velocity_m_s)`` distal first."""
    return [("ulnar", "R", site, "abductor_digiti_minimi", lat, amp, cv)
            for site, lat, amp, cv in sites]


# A block and focal slowing of one recording are two findings, each at its own site; the
# lesion (the site from which the muscles it accounts for are counted) is the more proximal
# one. Ranks: axilla 20, above elbow 30, elbow 40, below elbow 50 (nerve_sites.csv).
@pytest.mark.parametrize("sites, block_site, slowing_site, lesion_site, lesion_rank", [
    ([("wrist", 2.8, 10.0, None), ("below_elbow", 6.5, 9.7, 60.0),
      ("above_elbow", 8.5, 9.5, 38.0), ("axilla", 10.5, 3.5, 58.0)],
     "above_elbow–axilla", "elbow", "above_elbow–axilla", 20.0),
    ([("wrist", 2.8, 10.0, None), ("below_elbow", 6.5, 5.0, 60.0),
      ("above_elbow", 8.5, 4.9, 38.0)],
     "wrist–below_elbow", "elbow", "elbow", 40.0),
    ([("wrist", 2.8, 10.0, None), ("below_elbow", 6.5, 9.7, 60.0),
      ("above_elbow", 8.5, 5.0, 38.0)],
     "elbow", "elbow", "elbow", 30.0),
    ([("wrist", 2.8, 10.0, None), ("below_elbow", 6.5, 5.0, 60.0),
      ("above_elbow", 8.2, 4.9, 58.0), ("axilla", 10.2, 4.8, 60.0)],
     "wrist–below_elbow", None, "wrist–below_elbow", 50.0),
], ids=["block above the slowing", "block below the slowing", "block and slowing across the elbow",
        "CMAP stays low above a forearm block: one block"])
def test_a_block_and_focal_slowing_are_each_found_at_their_site(
        sites, block_site, slowing_site, lesion_site, lesion_rank):
    values, nerves = read(study(ulnar_sites(*sites)))
    row = nerves[nerves["study"].eq("motor")].iloc[0]
    assert row["conduction_block"]
    assert bool(row["focal_slowing"]) is (slowing_site is not None)
    assert row["block_site"] == block_site
    assert (row["slowing_site"] if pd.notna(row["slowing_site"]) else None) == slowing_site
    assert float(row["block_rank"]) == pytest.approx(lesion_rank if lesion_site == block_site
                                                     else float(row["block_rank"]))
    assert (row["lesion_site"], row["lesion_rank"]) == (lesion_site, lesion_rank)
    f = findings_table(values, nerves, pd.DataFrame(), load_rules())
    sites_found = f[f["kind"].isin(["conduction_block", "focal_slowing"])]
    assert dict(zip(sites_found["kind"].astype(str), sites_found["site"])) == {
        "conduction_block": block_site, **({"focal_slowing": slowing_site} if slowing_site else {})}
    reading = row["reading"]
    assert f"conduction block at {block_site.replace('_', ' ')} (CMAP" in reading
    assert ("focal slowing at elbow" in reading) is (slowing_site is not None)


def test_slowing_at_the_wrist_and_a_block_in_the_upper_arm_are_two_findings():
    """Median DML 6.0 ms with a normal CMAP (carpal tunnel) and a block between elbow and
    axilla: the lesion is the block's, named at its own segment (it was named 'at wrist' with
    the block's rank), and the slowing keeps the wrist."""
    motor = [("median", "R", "wrist", "abductor_pollicis_brevis", 6.0, 8.0, None),
             ("median", "R", "elbow", "abductor_pollicis_brevis", 10.0, 7.8, 56.0),
             ("median", "R", "axilla", "abductor_pollicis_brevis", 12.0, 3.0, 60.0)]
    row = read(study(motor))[1].iloc[0]
    assert row["conduction_block"] and row["focal_slowing"]
    assert (row["block_site"], row["slowing_site"]) == ("elbow–axilla", "wrist")
    assert (row["lesion_site"], row["lesion_rank"]) == ("elbow–axilla", 20.0)
    assert row["reading"] == ("conduction block at elbow–axilla (CMAP 8 → 3 mV, 38 % of distal), "
                              "focal slowing at wrist")


# Every segment meeting the block criterion is a block at its own site; every entrapment site
# the slowing is localised to, and a distal latency meeting the distal entrapment rule, a focal
# slowing at its own; the lesion is the most proximal site. Ranks: Erb 10, axilla 20, above
# elbow 30, elbow 40, below elbow 50, wrist 80 (nerve_sites.csv).
@pytest.mark.parametrize("motor, blocks, slowings, lesion", [
    ([("ulnar", "R", "wrist", "abductor_digiti_minimi", 2.8, 9.0, None),
      ("ulnar", "R", "below_elbow", "abductor_digiti_minimi", 6.4, 4.5, 62.0),
      ("ulnar", "R", "above_elbow", "abductor_digiti_minimi", 8.0, 4.4, 60.0),
      ("ulnar", "R", "axilla", "abductor_digiti_minimi", 10.0, 4.3, 60.0),
      ("ulnar", "R", "erb", "abductor_digiti_minimi", 13.0, 1.8, 60.0)],
     [("wrist–below_elbow", 50.0, 0.5, 9.0, 4.5), ("axilla–erb", 10.0, 0.4, 4.5, 1.8)], [],
     ("axilla–erb", 10.0)),
    # 3.2 is 36 % of the distal CMAP but 71 % of the 4.5 mV the forearm block left: one block
    ([("ulnar", "R", "wrist", "abductor_digiti_minimi", 2.8, 9.0, None),
      ("ulnar", "R", "below_elbow", "abductor_digiti_minimi", 6.4, 4.5, 62.0),
      ("ulnar", "R", "above_elbow", "abductor_digiti_minimi", 8.0, 4.4, 60.0),
      ("ulnar", "R", "axilla", "abductor_digiti_minimi", 10.0, 3.2, 60.0)],
     [("wrist–below_elbow", 50.0, 0.5, 9.0, 4.5)], [], ("wrist–below_elbow", 50.0)),
    ([("ulnar", "R", "wrist", "abductor_digiti_minimi", 4.6, 9.0, None),
      ("ulnar", "R", "below_elbow", "abductor_digiti_minimi", 8.2, 8.8, 61.0),
      ("ulnar", "R", "above_elbow", "abductor_digiti_minimi", 11.0, 8.6, 36.0)],
     [], [("wrist", 80.0, None, None), ("elbow", 40.0, 36.0, 61.0)], ("elbow", 40.0)),
    ([("ulnar", "R", "wrist", "abductor_digiti_minimi", 4.6, 9.0, None),
      ("ulnar", "R", "below_elbow", "abductor_digiti_minimi", 8.2, 4.4, 61.0),
      ("ulnar", "R", "above_elbow", "abductor_digiti_minimi", 11.0, 4.3, 36.0),
      ("ulnar", "R", "axilla", "abductor_digiti_minimi", 13.0, 1.9, 60.0)],
     [("wrist–below_elbow", 50.0, 4.4 / 9.0, 9.0, 4.4), ("above_elbow–axilla", 20.0, 1.9 / 4.4,
                                                           4.4, 1.9)],
     [("wrist", 80.0, None, None), ("elbow", 40.0, 36.0, 61.0)], ("above_elbow–axilla", 20.0)),
], ids=["blocks in the forearm and between axilla and Erb's point",
        "a smaller fall above a block is the same block",
        "slowing across the elbow and a prolonged distal latency",
        "two blocks, slowing at the elbow and at the wrist"])
def test_every_block_and_focal_slowing_is_found_at_its_own_site(motor, blocks, slowings, lesion):
    values, nerves = read(study(motor))
    row = nerves[nerves["study"].eq("motor")].iloc[0]
    sites = focal_sites(nerves[nerves["study"].eq("motor")])
    found = sites[sites["code"].eq("conduction_block")]
    assert list(found["site"]) == [b[0] for b in blocks]
    assert found[["rank", "ratio", "distal_mv", "proximal_mv"]].to_numpy().ravel().tolist() == \
        pytest.approx([value for b in blocks for value in b[1:]])
    found = sites[sites["code"].eq("focal_slowing")]
    assert list(found["site"]) == [s[0] for s in slowings]
    assert [(r, None if pd.isna(v) else v, None if pd.isna(a) else a) for r, v, a in
            found[["rank", "velocity", "adjacent_velocity"]].to_numpy().tolist()] == \
        [tuple(s[1:]) for s in slowings]
    assert bool(row["conduction_block"]) is bool(blocks)
    assert bool(row["focal_slowing"]) is bool(slowings)
    assert (row["lesion_site"], row["lesion_rank"]) == lesion
    # the findings table holds each, at its own site; the reading names each, distal first
    f = findings_table(values, nerves, pd.DataFrame(), load_rules())
    f = f[f["kind"].isin(["conduction_block", "focal_slowing"])]
    assert sorted(zip(f["kind"].astype(str), f["site"])) == sorted(
        [("conduction_block", b[0]) for b in blocks] + [("focal_slowing", s[0]) for s in slowings])
    named = [f"conduction block at {b[0].replace('_', ' ')} (CMAP" for b in blocks] + [
        f"focal slowing at {s[0]}" for s in slowings]
    positions = [row["reading"].find(n) for n in named]
    assert -1 not in positions and positions == sorted(positions), row["reading"]
    assert row["reading"].count("conduction block") == len(blocks)
    assert row["reading"].count("focal slowing") == len(slowings)


def test_peroneal_floor_is_the_nerves_own_limit():
    legs = [("peroneal", "R", "ankle", "extensor_digitorum_brevis", 4.5, 5.0, None),
            ("peroneal", "R", "below_fibular_head", "extensor_digitorum_brevis", 10.5, 4.8, 50.0)]
    slow = legs + [("peroneal", "R", "above_fibular_head", "extensor_digitorum_brevis", 13.8, 4.7, 30.0)]
    fine = legs + [("peroneal", "R", "above_fibular_head", "extensor_digitorum_brevis", 12.4, 4.7, 45.0)]
    assert read(study(slow))[1].iloc[0]["lesion_site"] == "fibular_head"
    assert not read(study(fine))[1].iloc[0]["focal_slowing"]


def test_side_to_side_ratio_where_no_adult_limit():
    femoral = [("femoral", "R", "groin", "rectus_femoris", 6.0, 1.1, None),
               ("femoral", "L", "groin", "rectus_femoris", 6.0, 4.4, None)]
    values, nerves = read(study(femoral))
    ratio = values[values["parameter"].eq("amplitude_side_ratio")].set_index("side")
    assert ratio.loc["R", "abnormal"] and not ratio.loc["L", "abnormal"]
    assert ratio.loc["R", "value"] == pytest.approx(0.25)
    assert ratio.loc["R", "source"] == "side_ratio_convention"
    by_side = nerves.set_index("side")
    assert by_side.loc["R", "side_ratio_low"] and by_side.loc["R", "axonal"]
    assert not by_side.loc["R", "qualifies"]          # a low CMAP alone is not a neuropathy


def test_f_waves_alone_are_marked_proximal():
    motor = [("median", "R", "wrist", "abductor_pollicis_brevis", 3.4, 9.0, None),
             ("median", "R", "elbow", "abductor_pollicis_brevis", 7.5, 8.6, 58.0)]
    _, nerves = read(study(motor, [("median", "R", 40.0)]))
    row = nerves.iloc[0]
    assert row["f_proximal"] and row["demyelinating"]
    slow = [motor[0], ("median", "R", "elbow", "abductor_pollicis_brevis", 12.0, 8.6, 30.0)]
    _, nerves = read(study(slow, [("median", "R", 40.0)]))
    assert not nerves.iloc[0]["f_proximal"]            # distal conduction slowed too


def blink_values(r: dict, l: dict) -> pd.DataFrame:
    rows = [{"patient_id": 0, "side": side, "study": "blink", "parameter": p, "abnormal": v}
            for side, flags in (("R", r), ("L", l)) for p, v in flags.items()]
    return pd.DataFrame(rows)


N = {"r1_ms": False, "r2_ipsi_ms": False, "r2_contra_ms": False}


@pytest.mark.parametrize("right, left, pattern, qualifies", [
    ({"r1_ms": True, "r2_ipsi_ms": True, "r2_contra_ms": True}, N, "afferent", True),
    ({"r1_ms": True, "r2_ipsi_ms": True, "r2_contra_ms": False},
     {"r1_ms": False, "r2_ipsi_ms": False, "r2_contra_ms": True}, "efferent", True),
    ({"r1_ms": True, "r2_ipsi_ms": False, "r2_contra_ms": False}, N, "pontine", False),
    ({"r1_ms": False, "r2_ipsi_ms": True, "r2_contra_ms": True}, N, "medullary", False),
])
def test_blink_patterns(right, left, pattern, qualifies):
    out = _read_blink(blink_values(right, left)).set_index("side")
    assert out.loc["R", "blink_pattern"] == pattern
    assert bool(out.loc["R", "qualifies"]) is qualifies
    assert out.loc["L", "blink_pattern"] in ("normal", "efferent_mirror")
    assert not out.loc["L", "qualifies"]


def test_blink_r2_recorded_on_one_side_with_r1_normal_is_medullary_not_efferent():
    # stimulating R: ipsilateral R2 delayed; stimulating L: the contralateral R2 (recorded on
    # R) delayed; R1 normal both sides (spec §4.1: efferent needs R1 and R2 affected)
    out = _read_blink(blink_values({"r1_ms": False, "r2_ipsi_ms": True, "r2_contra_ms": False},
                                   {"r1_ms": False, "r2_ipsi_ms": False, "r2_contra_ms": True})
                      ).set_index("side")
    assert list(out["blink_pattern"]) == ["medullary", "medullary"]
    assert not out["qualifies"].any() and out["lesion_nerve"].isna().all()
    # with the ipsilateral R1 delayed it is the efferent (facial) pattern
    out = _read_blink(blink_values({"r1_ms": True, "r2_ipsi_ms": True, "r2_contra_ms": False},
                                   {"r1_ms": False, "r2_ipsi_ms": False, "r2_contra_ms": True})
                      ).set_index("side")
    assert out.loc["R", "blink_pattern"] == "efferent" and out.loc["R", "qualifies"]


def test_blink_r1_delayed_against_the_other_side_counts_as_r1_delayed():
    right = {"r1_ms": False, "r1_side_diff_ms": True, "r2_ipsi_ms": True, "r2_contra_ms": True}
    out = _read_blink(blink_values(right, N)).set_index("side")
    assert out.loc["R", "blink_pattern"] == "afferent" and out.loc["R", "qualifies"]
    # without the side difference the same R2 delays are the medullary pattern
    out = _read_blink(blink_values({**right, "r1_side_diff_ms": False}, N)).set_index("side")
    assert out.loc["R", "blink_pattern"] == "medullary"
    # an isolated unilateral R1 delay shown by the side difference alone is pontine
    out = _read_blink(blink_values({**N, "r1_side_diff_ms": True}, N)).set_index("side")
    assert out.loc["R", "blink_pattern"] == "pontine"


def test_findings_table_rows_carry_value_limit_rule_and_source():
    values, nerves = read(study(ulnar(60.0, 38.0)))
    muscles = pd.DataFrame({"patient_id": [0], "side": ["R"], "nerve": ["ulnar"],
                            "muscle": ["first_dorsal_interosseous"], "paraspinal_level": [None],
                            "acute": [True], "chronic": [False]})
    f = findings_table(values, nerves, muscles, load_rules())
    focal = f[f["kind"].eq("focal_slowing")].iloc[0]
    assert (focal["nerve"], focal["site"], focal["value"], focal["rule"]) == ("ulnar", "elbow", 38.0, "entrapment")
    assert "aanem_une" in focal["source"]
    slow = f[f["kind"].eq("slowed_conduction")].iloc[0]
    assert slow["value"] == 38.0 and slow["limit"] > 38.0 and slow["rule"] == "reference_limit"
    den = f[f["kind"].eq("acute_denervation")].iloc[0]
    assert den["muscle"] == "first_dorsal_interosseous" and den["limit"] == 1.0
    assert set(f["kind"].astype(str)) == {"focal_slowing", "slowed_conduction", "acute_denervation"}
    assert not np.isnan(f.loc[f["kind"].eq("slowed_conduction"), "limit"]).any()
