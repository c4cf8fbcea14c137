"""Segmental map cells: denervated segments or nuclei against MRI lesion segments."""

import pandas as pd
import pytest

from edxreview.knowledge._tables import load_segments
from edxreview.report._figures import segment_cells, segment_columns


def _muscle(pid, segments, explained, nucleus=None):
    return {"patient_id": pid, "segments": segments, "nucleus": nucleus,
            "explained_by_ncs": explained, "denervation": True}


def _lesion(pid, seg_from, seg_to):
    pos = load_segments()["position"]
    return {"patient_id": pid, "pos_min": float(pos[seg_from]), "pos_max": float(pos[seg_to])}


@pytest.mark.parametrize("muscles, lesions, unexplained, mri", [
    ([_muscle("A", "C5|C6", False)], [_lesion("A", "C4", "C7")],
     {("A", "C5"): True, ("A", "C6"): True}, {("A", s) for s in ("C4", "C5", "C6", "C7")}),
    ([_muscle("B", "C8|T1", True), _muscle("B", "C8", False)], [],
     {("B", "C8"): True, ("B", "T1"): False}, set()),
    ([_muscle("C", None, False, nucleus="hypoglossal nucleus")],
     [_lesion("C", "medulla", "medulla")],
     {("C", "hypoglossal nucleus"): True}, {("C", "hypoglossal nucleus")}),
], ids=["cervical myelitis C5-C6 within lesion", "carpal tunnel APB beside C8 LMN",
        "hypoglossal nucleus with medullary lesion"])
def test_segment_cells(muscles, lesions, unexplained, mri):
    m = pd.DataFrame(muscles)
    les = pd.DataFrame(lesions, columns=["patient_id", "pos_min", "pos_max"])
    den, cover = segment_cells(m, les, segment_columns(m))
    assert {(p, s): u for p, s, u in den.itertuples(index=False)} == unexplained
    assert set(map(tuple, cover[["patient_id", "segment"]].to_numpy())) == mri


def test_columns_run_from_nuclei_to_s5():
    cols = segment_columns()
    assert cols["key"].iloc[-1] == "S5"
    assert "C1" in set(cols["key"]) and "facial nucleus" in set(cols["key"])
    assert cols["position"].is_monotonic_increasing
