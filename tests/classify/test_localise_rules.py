"""Localisation rules on small tables: plexus elements, sparing above the plexus, confinement
of an unlocalised nerve lesion to its own muscles, and lesion names (spec §4.1)."""

from __future__ import annotations

import pandas as pd
import pytest

from edxreview.classify._classify import _lesion_label
from edxreview.classify._localise import (confined, one_element_patients, plexus_label,
                                          plexus_lesions, sensory_plexus_lesions)
from edxreview.knowledge import load_anatomy, load_rules
from edxreview.knowledge._tables import plexus_elements_of


def muscles(rows: list[tuple]) -> pd.DataFrame:
    """``(muscle, side, denervated)`` rows with the anatomy columns the rules read."""
    m = load_anatomy().muscles
    frame = pd.DataFrame(rows, columns=["muscle", "side", "denervation"])
    frame["patient_id"] = 0
    frame["_mid"] = range(len(frame))
    frame["nerve"] = frame["muscle"].map(m["nerve"])
    frame["region"] = frame["muscle"].map(m["region"])
    frame["segments"] = frame["muscle"].map(m["roots_main"])
    frame["nucleus"] = frame["muscle"].map(m["nucleus"])
    return frame


def snaps(*nerves: str, side: str = "R") -> pd.DataFrame:
    return pd.DataFrame({"patient_id": 0, "side": side, "nerve": list(nerves)})


UPPER = [("supraspinatus", "R", True), ("deltoid", "R", True), ("biceps_brachii", "R", True),
         ("rhomboid_major", "R", False), ("serratus_anterior", "R", False)]


@pytest.mark.parametrize("text, elements", [
    ("upper trunk > posterior cord", ["upper_trunk", "posterior_cord"]),
    ("upper/middle trunk > lateral cord", ["upper_trunk", "middle_trunk", "lateral_cord"]),
    ("middle + lower trunk > lateral + medial cords",
     ["middle_trunk", "lower_trunk", "lateral_cord", "medial_cord"]),
    ("lower (middle) trunk > posterior cord", ["lower_trunk", "middle_trunk", "posterior_cord"]),
    ("medial cord + lateral cord", ["lateral_cord", "medial_cord"]),
    ("sacral plexus > sciatic (peroneal division)", ["sacral_plexus"]),
    ("root", []), ("none", []),
])
def test_plexus_elements_parsed_from_the_anatomy_table(text, elements):
    assert sorted(plexus_elements_of(text)) == sorted(elements)


def test_upper_trunk_from_snaps_and_muscles_of_several_nerves():
    les, cov_s, cov_m = plexus_lesions(snaps("lateral_antebrachial_cutaneous", "radial"),
                                       muscles(UPPER), load_anatomy(), load_rules())
    assert les["element"].tolist() == ["upper_trunk"]
    assert set(cov_s["nerve"]) == {"lateral_antebrachial_cutaneous", "radial"}
    assert len(cov_m) == 3
    assert plexus_label(les, load_anatomy()).tolist() == ["plexopathy (brachial, upper trunk)"]


def test_denervation_above_the_plexus_rules_the_element_out():
    rows = UPPER[:3] + [("rhomboid_major", "R", True)]
    les, _, _ = plexus_lesions(snaps("lateral_antebrachial_cutaneous", "radial"), muscles(rows),
                               load_anatomy(), load_rules())
    assert les.empty


def test_one_nerve_is_not_a_plexopathy():
    les, _, _ = plexus_lesions(snaps("lateral_antebrachial_cutaneous"),
                               muscles([("biceps_brachii", "R", True), ("brachialis", "R", True)]),
                               load_anatomy(), load_rules())
    assert les.empty                                  # musculocutaneous: a mononeuropathy


def test_snaps_of_the_other_side_do_not_count():
    les, _, _ = plexus_lesions(snaps("lateral_antebrachial_cutaneous", "radial", side="L"),
                               muscles(UPPER), load_anatomy(), load_rules())
    assert les.empty


def test_lower_trunk_preferred_when_a_posterior_cord_c8_muscle_is_involved():
    rows = [("first_dorsal_interosseous", "R", True), ("abductor_pollicis_brevis", "R", True),
            ("extensor_indicis", "R", True)]
    les, _, _ = plexus_lesions(snaps("medial_antebrachial_cutaneous", "ulnar"), muscles(rows),
                               load_anatomy(), load_rules())
    assert les["element"].tolist() == ["lower_trunk"]
    spared = rows[:2] + [("extensor_indicis", "R", False)]
    les, _, _ = plexus_lesions(snaps("medial_antebrachial_cutaneous", "ulnar"), muscles(spared),
                               load_anatomy(), load_rules())
    assert les["element"].tolist() == ["medial_cord"]


PAN = [("supraspinatus", "R", True), ("deltoid", "R", True), ("biceps_brachii", "R", True),
       ("triceps", "R", True), ("extensor_digitorum_communis", "R", True),
       ("first_dorsal_interosseous", "R", True), ("abductor_pollicis_brevis", "R", True)]


def test_a_snap_shared_by_two_trunks_is_the_evidence_of_each():
    """Pan-plexopathy: the median and radial SNAPs carry upper- and middle-trunk fibres, so the
    middle trunk (triceps) rests on them after the upper trunk has used them."""
    les, cov_s, cov_m = plexus_lesions(
        snaps("lateral_antebrachial_cutaneous", "radial", "median",
              "medial_antebrachial_cutaneous", "ulnar"), muscles(PAN), load_anatomy(), load_rules())
    assert set(les["element"]) == {"upper_trunk", "middle_trunk", "lower_trunk"}
    assert set(cov_s.loc[cov_s["element"].eq("middle_trunk"), "nerve"]) == {"median", "radial"}
    assert set(cov_m["_mid"]) == set(range(len(PAN)))


def test_a_normal_snap_of_an_element_keeps_it_from_reusing_another_elements_snaps():
    normal = snaps("radial")
    les, _, cov_m = plexus_lesions(
        snaps("lateral_antebrachial_cutaneous", "median", "medial_antebrachial_cutaneous", "ulnar"),
        muscles(PAN), load_anatomy(), load_rules(), normal)
    assert set(les["element"]) == {"upper_trunk", "lower_trunk"}
    assert 3 not in set(cov_m["_mid"])                # triceps: not the middle trunk's


def test_snap_loss_confined_to_one_element_is_a_sensory_plexopathy():
    none = snaps()
    quiet = muscles([("deltoid", "R", False), ("biceps_brachii", "R", False)])
    les, cov = sensory_plexus_lesions(snaps("lateral_antebrachial_cutaneous", "radial"),
                                      snaps("lateral_antebrachial_cutaneous", "radial"), none,
                                      quiet, load_anatomy(), load_rules())
    assert les["element"].tolist() == ["upper_trunk"] and les["n_muscles"].tolist() == [0]
    assert set(cov["nerve"]) == {"lateral_antebrachial_cutaneous", "radial"}
    assert plexus_label(les, load_anatomy()).tolist() == [
        "plexopathy (brachial, upper trunk, sensory)"]


@pytest.mark.parametrize("lost, rows", [
    # the same SNAP lost on the other side: not confined to one side
    (pd.concat([snaps("lateral_antebrachial_cutaneous", "radial"),
                snaps("lateral_antebrachial_cutaneous", side="L")]), [("deltoid", "R", False)]),
    # denervation above the plexus at its roots: the lesion reaches the roots
    (snaps("lateral_antebrachial_cutaneous", "radial"), [("rhomboid_major", "R", True)]),
], ids=["lost on both sides", "rhomboid denervated"])
def test_snap_loss_that_is_not_one_elements_alone_is_no_sensory_plexopathy(lost, rows):
    les, _ = sensory_plexus_lesions(snaps("lateral_antebrachial_cutaneous", "radial"), lost,
                                    snaps(), muscles(rows), load_anatomy(), load_rules())
    assert les.empty


def test_snaps_of_three_elements_are_not_one_elements():
    les, _ = sensory_plexus_lesions(snaps("median", "ulnar", "radial"),
                                    snaps("median", "ulnar", "radial"), snaps(),
                                    muscles([("deltoid", "R", False)]), load_anatomy(), load_rules())
    assert les.empty
    assert one_element_patients(snaps("median", "ulnar", "radial"), load_anatomy()).empty
    assert one_element_patients(snaps("medial_antebrachial_cutaneous", "ulnar"),
                                load_anatomy()).tolist() == [0]


def test_unlocalised_lesion_explains_its_muscles_unless_they_share_segments_with_others():
    """Spec §4.1 (fewest sites): a nerve lesion explains its own denervated muscles whatever
    else is denervated; a muscle of another nerve sharing one of their segments makes them
    part of a myotomal (root / anterior horn) pattern, which the lesion does not explain."""
    unloc = pd.DataFrame({"patient_id": [0], "side": ["R"], "lesion_nerve": ["femoral"]})
    own = muscles([("vastus_lateralis", "R", True), ("rectus_femoris", "R", True)])
    assert len(confined(unloc, own, load_anatomy())) == 2
    # adductor longus (obturator) shares L3-L4 with the quadriceps: an L3-L4 pattern
    mixed = muscles([("vastus_lateralis", "R", True), ("adductor_longus", "R", True)])
    assert confined(unloc, mixed, load_anatomy()).empty
    # medial gastrocnemius (tibial, S1) shares no segment: a second, separate lesion
    unrelated = muscles([("vastus_lateralis", "R", True), ("gastrocnemius_medial", "R", True)])
    assert confined(unloc, unrelated, load_anatomy())["_mid"].tolist() == [0]
    other_side = muscles([("vastus_lateralis", "L", True)])
    assert confined(unloc, other_side, load_anatomy()).empty


def test_a_muscle_without_a_side_is_never_explained_by_a_lesion_on_one_side():
    """Spec §4.1 'side matters': a blank side is on neither side; a blank-side muscle of another
    nerve sharing a segment may lie on the lesion's side, so the lesion explains nothing."""
    unloc = pd.DataFrame({"patient_id": [0, 0], "side": ["R", "L"],
                          "lesion_nerve": ["facial", "femoral"]})
    blank = muscles([("frontalis", None, True), ("orbicularis_oculi", None, True)])
    assert confined(unloc, blank, load_anatomy()).empty
    mixed = muscles([("vastus_lateralis", "L", True), ("adductor_longus", None, True)])
    assert confined(unloc, mixed, load_anatomy()).empty
    own = muscles([("vastus_lateralis", "L", True), ("rectus_femoris", None, True)])
    assert confined(unloc, own, load_anatomy())["_mid"].tolist() == [0]


@pytest.mark.parametrize("row, label", [
    (dict(lesion_nerve="femoral", branch="saphenous", n_muscles_explained=2, has_motor=False),
     "mononeuropathy (femoral, proximal to the saphenous branch)"),
    (dict(lesion_nerve="femoral", branch="saphenous", n_muscles_explained=0, has_motor=False),
     "sensory neuropathy (saphenous)"),
    (dict(lesion_nerve="ulnar", branch=None, n_muscles_explained=1, has_motor=True),
     "mononeuropathy (ulnar, site not localised)"),
    (dict(lesion_nerve="ulnar", branch=None, lesion_site="elbow", localised=True,
          n_muscles_explained=1, has_motor=True), "mononeuropathy (ulnar, elbow)"),
    (dict(lesion_nerve="medial_antebrachial_cutaneous", branch=None, n_muscles_explained=0,
          has_motor=False), "sensory neuropathy (medial antebrachial cutaneous)"),
    (dict(lesion_nerve="trigeminal", kind="cranial_neuropathy", branch=None,
          n_muscles_explained=0, has_motor=False), "cranial neuropathy (trigeminal)"),
])
def test_lesion_names_come_from_typed_columns(row, label):
    base = dict(kind="mononeuropathy", lesion_site=None, localised=False)
    frame = pd.DataFrame([base | row])
    assert _lesion_label(frame, load_anatomy()).tolist() == [label]
