"""Per-patient NCS tables in the EMG-laboratory layout: every site, one format per parameter."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from edxreview import demo_path
from edxreview._pipeline import review_study
from edxreview.report._edx import edx_pages, format_number, load_layout, site_names


@pytest.fixture(scope="module")
def demo_result():
    return review_study(demo_path())


@pytest.fixture(scope="module")
def pages(demo_result):
    return edx_pages(demo_result, pd.Index(demo_result.patients["patient_id"]))


def test_every_motor_row_of_the_workbook_is_shown(demo_result, pages):
    raw = demo_result.study.tables["ncs_motor"]
    shown = sum(len(rows) for rows in pages["motor"].values())
    assert shown == len(raw)
    # proximal sites keep their latency and amplitude (a conduction block can be checked)
    proximal = [r for rows in pages["motor"].values() for r in rows
                if r["site_text"] in ("Above elbow", "Above fibular head", "Popliteal fossa")]
    assert proximal and all(r["latency_ms"] and r["amplitude_mv"] for r in proximal)


def test_segment_names_the_previous_site(pages):
    rows = pages["motor"]["NMO-008"]
    ulnar = [r for r in rows if r["nerve_text"] == "Ulnar" and r["side"] == "L"]
    assert [r["site_text"] for r in ulnar] == ["Wrist", "Below elbow", "Above elbow"]
    assert [r["segment"] for r in ulnar] == ["", "Wrist – Below elbow",
                                             "Below elbow – Above elbow"]
    assert ulnar[0]["recording_text"] == "Abductor digiti minimi (hand)"


@pytest.mark.parametrize("table, parameter", [
    ("motor", "latency_ms"), ("motor", "amplitude_mv"), ("motor", "velocity_m_s"),
    ("motor", "distance_mm"), ("sensory", "amplitude_uv"), ("f_waves", "min_latency_ms")])
def test_one_number_format_per_parameter(pages, table, parameter):
    decimals = load_layout()["parameters"][parameter]["decimals"]
    pattern = re.compile(r"^-?\d+\.\d{%d}$" % decimals if decimals else r"^-?\d+$")
    cells = [r[parameter] for rows in pages[table].values() for r in rows
             if r[parameter] not in ("", "NR")]
    limits = [r[f"{parameter}__limit"][2:] for rows in pages[table].values() for r in rows
              if r[f"{parameter}__limit"]]
    assert cells
    assert all(pattern.match(c) for c in cells + limits), [c for c in cells + limits
                                                             if not pattern.match(c)][:5]


def test_abnormal_values_are_marked_beside_their_limit(demo_result, pages):
    """The median mononeuropathy at the wrist of NMO-008: the right distal motor latency."""
    row = next(r for r in pages["motor"]["NMO-008"]
               if r["nerve_text"] == "Median" and r["side"] == "R" and r["site_text"] == "Wrist")
    assert (row["latency_ms"], row["latency_ms__limit"], row["latency_ms__mark"],
            row["latency_ms__abn"]) == ("7.28", "≤ 4.40", "▲", True)
    flagged = demo_result.values[(demo_result.values["sheet"] == "ncs_sensory")
                                 & demo_result.values["abnormal"].astype(bool)]
    marked = sum(r[f"{p}__abn"] for rows in pages["sensory"].values() for r in rows
                 for p in ("latency_ms", "amplitude_uv", "velocity_m_s"))
    assert marked == len(flagged)


def test_no_response_is_printed_nr_and_marked(demo_result, pages):
    raw = demo_result.study.tables["ncs_sensory"]
    n_nr = int(raw["amplitude_uv_nr"].sum())
    cells = [r for rows in pages["sensory"].values() for r in rows if r["amplitude_uv"] == "NR"]
    assert n_nr and len(cells) == n_nr and all(r["amplitude_uv__abn"] for r in cells)


def test_formats_and_site_names_come_from_data():
    assert list(format_number(pd.Series([1, 2.345, None]), "latency_ms")) == ["1.00", "2.35",
                                                                              ""]
    assert list(format_number(pd.Series([70.4]), "distance_mm")) == ["70"]
    names = site_names(pd.Series(["above_fibular_head", "abductor_pollicis_brevis", "d2_ring",
                                  None]))
    assert list(names) == ["Above fibular head", "Abductor pollicis brevis", "D2 ring", ""]
