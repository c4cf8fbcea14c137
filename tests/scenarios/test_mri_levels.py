"""MRI vertebral levels of the lumbar enlargement read as the published cadaver and MRI studies say.

Expectations are taken from the studies, not from the table:

- Canbay et al., Clin Anat 2014;27:227-233 (PMID 23649511; 16 cadavers): the lumbar cord
  segments begin at the upper third of the T11 vertebral body, the sacral segments at the upper
  third of the L1 body, and the cord ends between the axillae of the L1 and L2 roots.
- Saifuddin et al., Spine 1998;23:1452 (MRI, 504 adults): the conus lies at the lower third of
  L1 on average (range middle third of T12 to upper third of L3).
- Kim JH et al., J Korean Neurosurg Soc 2012;52:384: thoracic segment Tn lies at body T(n-2).
"""

from __future__ import annotations

import pandas as pd
import pytest

from edxreview.classify._mri import lesion_segments


def _segments(level_from: str, level_to: str | None = None) -> str:
    mri = pd.DataFrame({"patient_id": ["P"], "region": ["spinal_cord"],
                        "level_from": [level_from], "level_to": [level_to or level_from]})
    return str(lesion_segments(mri)["segments_text"].iloc[0])


def _names(text: str) -> set[str]:
    """Segment names of a ``L1-L2`` or ``S1-Co`` span."""
    order = ([f"T{i}" for i in range(1, 13)] + [f"L{i}" for i in range(1, 6)]
             + [f"S{i}" for i in range(1, 6)] + ["Co"])
    lo, _, hi = text.partition("-")
    hi = hi or lo
    return set(order[order.index(lo):order.index(hi) + 1])


def test_the_lumbar_cord_begins_at_the_t11_body():
    """A T11 body lesion involves the first lumbar segment (Canbay: lumbar cord from upper T11)."""
    assert "L1" in _names(_segments("T11"))


def test_the_t10_body_carries_no_lumbar_segment():
    """The lumbar cord starts below T10 (Canbay), and T10 faces T12 (Kim: Tn at T(n-2))."""
    names = _names(_segments("T10"))
    assert "T12" in names
    assert not any(n.startswith("L") for n in names)


def test_the_t12_body_carries_lumbar_segments_only():
    """Between the lumbar start (upper T11) and the sacral start (upper L1) lies T12: lumbar."""
    names = _names(_segments("T12"))
    assert names and all(n.startswith("L") for n in names)
    assert {"L4", "L5"} <= names  # the L4-L5 motor neurons of a foot drop lie behind T12


def test_the_sacral_cord_begins_at_the_l1_body():
    names = _names(_segments("L1"))
    assert "S1" in names and not any(n.startswith("L") for n in names)


@pytest.mark.parametrize("level", ["L2", "L3", "L4"])
def test_below_the_conus_there_is_no_cord(level):
    """The cord ends at L1-L2 (Canbay; Saifuddin mean conus lower third of L1)."""
    assert "cauda equina" in _segments(level)


def test_a_long_thoracolumbar_lesion_spans_the_whole_enlargement():
    names = _names(_segments("T11", "L1"))
    assert {"L1", "L3", "L5", "S1"} <= names
