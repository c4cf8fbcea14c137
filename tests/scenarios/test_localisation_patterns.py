"""Localisation patterns of spec §4.1, one scenario each, written from the domain guide.

Plexus elements (guide §2.8: SNAPs of the element low, muscles of ≥ 2 nerves sharing it
denervated, paraspinals and root-level muscles spared), a sensory branch read with its parent
nerve, focal versus uniform slowing across the elbow and the fibular head, side-to-side CMAP
comparison where no adult limit exists, blink-reflex patterns (guide §2.10) and F-wave-only
proximal slowing.
"""

from __future__ import annotations

import pytest

from .builders import ACUTE, ACUTE_AND_CHRONIC, NR, Study, normal_patient
from .test_second_review import Case, case
from .test_textbook_cases import NEUROPATHY_ONLY, NONE, _text, check_patient, explained, lmn


def bilateral(pid: str, age: float = 45, **fields) -> Study:
    return normal_patient(pid, age=age, sides=("R", "L"), **fields)


def snap(study: Study, pid: str, nerve: str, side: str, amplitude, latency=2.6,
         velocity=58.0) -> Study:
    return study.set_sensory(pid, nerve, side, amplitude_uv=amplitude, latency_ms=latency,
                             velocity_m_s=velocity, distance_mm=100, temperature_c=33.0)


# -- plexus ------------------------------------------------------------------------------------
def upper_trunk(pid: str) -> Study:
    """LABC and superficial radial SNAPs low on the right (left normal); supraspinatus,
    deltoid, biceps and brachioradialis denervated; rhomboid, serratus and cervical
    paraspinals normal (guide §2.8 upper trunk)."""
    study = bilateral(pid, age=38)
    for side, amp in (("R", 3.0), ("L", 18.0)):
        snap(study, pid, "lateral antebrachial cutaneous", side, amp)
    study.set_sensory(pid, "radial", "R", amplitude_uv=5.0)
    for muscle in ("Supraspinatus", "Deltoid", "Biceps brachii", "Brachioradialis"):
        study.set_emg(pid, muscle, "R", **ACUTE)
    for muscle in ("Rhomboid major", "Serratus anterior", "Cervical paraspinals"):
        study.set_emg(pid, muscle, "R")
    return study


def upper_trunk_with_paraspinals(pid: str) -> Study:
    """The same, but the C5-C6 paraspinals are denervated: not a plexopathy (the lesion reaches
    the roots), so the muscles stay unexplained."""
    study = upper_trunk(pid)
    return study.set_emg(pid, "Cervical paraspinals", "R", **ACUTE)


def lower_trunk(pid: str) -> Study:
    """MABC, ulnar and dorsal ulnar cutaneous SNAPs low on the right; FDI, ADM, APB and EIP
    denervated; cervical paraspinals normal (guide §2.8 lower trunk; EIP involved → trunk)."""
    study = bilateral(pid, age=29)
    for side, (mabc, duc) in (("R", (1.5, 2.0)), ("L", (9.0, 14.0))):
        snap(study, pid, "medial antebrachial cutaneous", side, mabc)
        snap(study, pid, "dorsal ulnar cutaneous", side, duc, latency=2.0)
    study.set_sensory(pid, "ulnar", "R", amplitude_uv=6.0)
    for muscle in ("First dorsal interosseous", "ADM", "APB", "EIP"):
        study.set_emg(pid, muscle, "R", **ACUTE_AND_CHRONIC)
    return study.set_emg(pid, "Cervical paraspinals", "R")


def lumbar_plexus(pid: str) -> Study:
    """Saphenous absent on the right (left 9 µV); iliopsoas, vastus lateralis and adductor
    longus (femoral + obturator) denervated; lumbosacral paraspinals normal."""
    study = bilateral(pid, age=52)
    study.set_sensory(pid, "saphenous", "R", amplitude_uv=NR, distance_mm=140)
    study.set_sensory(pid, "saphenous", "L", amplitude_uv=9.0, latency_ms=3.6,
                      velocity_m_s=46.0, distance_mm=140, temperature_c=31.5)
    for muscle in ("Iliopsoas", "Vastus lateralis", "Adductor longus"):
        study.set_emg(pid, muscle, "R", **ACUTE)
    return study.set_emg(pid, "Lumbosacral paraspinals", "R")


# -- sensory branch → parent nerve -------------------------------------------------------------
def femoral_neuropathy(pid: str) -> Study:
    """Saphenous absent on the right; femoral CMAP 1.1 mV right vs 4.4 mV left (no adult limit:
    a quarter of the other side); vastus lateralis and rectus femoris denervated; adductor
    longus and paraspinals normal."""
    study = bilateral(pid, age=58)
    study.set_sensory(pid, "saphenous", "R", amplitude_uv=NR, distance_mm=140)
    study.set_sensory(pid, "saphenous", "L", amplitude_uv=8.0, latency_ms=3.7,
                      velocity_m_s=45.0, distance_mm=140, temperature_c=31.5)
    for side, amp in (("R", 1.1), ("L", 4.4)):
        study.set_motor(pid, "femoral", side, dml_ms=6.0, amplitudes_mv=(amp,),
                        recording="rectus femoris", stim_site="inguinal")
    for muscle in ("Vastus lateralis", "Rectus femoris"):
        study.set_emg(pid, muscle, "R", **ACUTE)
    for muscle in ("Adductor longus", "Lumbosacral paraspinals"):
        study.set_emg(pid, muscle, "R")
    return study


def femoral_cmap_asymmetry_only(pid: str) -> Study:
    """Femoral CMAP a quarter of the other side, everything else normal: a reduced CMAP by
    side-to-side comparison is recorded, but a low CMAP alone is not a neuropathy (spec §4)."""
    study = bilateral(pid, age=50)
    for side, amp in (("R", 1.1), ("L", 4.4)):
        study.set_motor(pid, "femoral", side, dml_ms=6.0, amplitudes_mv=(amp,),
                        recording="rectus femoris", stim_site="inguinal")
    return study


def musculocutaneous(pid: str) -> Study:
    """LABC absent on the right; biceps and brachialis denervated; deltoid normal."""
    study = bilateral(pid, age=41)
    snap(study, pid, "lateral antebrachial cutaneous", "R", NR)
    snap(study, pid, "lateral antebrachial cutaneous", "L", 17.0)
    for muscle in ("Biceps brachii", "Brachialis"):
        study.set_emg(pid, muscle, "R", **ACUTE)
    return study


# -- focal versus uniform slowing --------------------------------------------------------------
def ulnar_elbow(pid: str, forearm: float, across: float, adm_mv: float) -> Study:
    study = bilateral(pid, age=55)
    study.set_motor(pid, "ulnar", "R", dml_ms=3.1, amplitudes_mv=(adm_mv, adm_mv * 0.97, adm_mv * 0.95),
                    velocities_m_s=(forearm, across))
    return study.set_emg(pid, "First dorsal interosseous", "R", **ACUTE)


def peroneal_fibular_head(pid: str, leg: float, across: float, edb_mv: float) -> Study:
    study = bilateral(pid, age=48)
    study.set_motor(pid, "peroneal", "R", dml_ms=5.0, amplitudes_mv=(edb_mv, edb_mv * 0.95, edb_mv * 0.93),
                    velocities_m_s=(leg, across))
    return study.set_emg(pid, "Tibialis anterior", "R", **ACUTE)


# -- blink reflex ------------------------------------------------------------------------------
def blink(r: tuple, l: tuple):
    def build(pid: str) -> Study:
        study = normal_patient(pid, age=40)
        return study.add("blink_reflex",
                         {"patient_id": pid, "side": "R", "r1_ms": r[0], "r2_ipsi_ms": r[1],
                          "r2_contra_ms": r[2]},
                         {"patient_id": pid, "side": "L", "r1_ms": l[0], "r2_ipsi_ms": l[1],
                          "r2_contra_ms": l[2]})
    return build


# -- F-waves alone -----------------------------------------------------------------------------
def f_waves_only(pid: str) -> Study:
    """Minimum F latencies ≥ 125 % of ULN in four nerves with normal CMAPs, distal latencies
    and velocities: proximal (polyradicular) slowing (spec §4.1)."""
    study = normal_patient(pid, age=47)
    for nerve, latency in (("median", 40.0), ("ulnar", 41.0), ("peroneal", 71.0), ("tibial", 72.0)):
        study.set_f_wave(pid, nerve, "R", latency)
    return study


def low_cmap_no_leg_sensory(pid: str) -> Study:
    """Peroneal CMAP low, no lower-limb SNAP recorded, tibialis anterior denervated: the text
    must not claim 'normal sensory responses'."""
    study = normal_patient(pid, age=50)
    study.remove("ncs_sensory", patient_id=pid, nerve="sural")
    study.remove("ncs_sensory", patient_id=pid, nerve="superficial peroneal")
    study.set_motor(pid, "peroneal", "R", dml_ms=5.0, amplitudes_mv=(1.0, 0.95, 0.93),
                    velocities_m_s=(46.0, 45.0))
    return study.set_emg(pid, "Tibialis anterior", "R", **ACUTE)


CASES = [
    case("upper trunk plexopathy", upper_trunk,
         **explained("acute", "plexopathy (brachial, upper trunk"),
         pattern_absent=("neuronopathy", "mononeuropathy")),
    case("upper trunk findings with paraspinal denervation are not a plexopathy",
         upper_trunk_with_paraspinals, **lmn("acute", "C5", neuropathy=True),
         pattern_absent=("plexopathy",)),
    case("lower trunk plexopathy", lower_trunk,
         **explained("acute_and_chronic", "plexopathy (brachial, lower trunk"),
         pattern_absent=("neuronopathy", "presumed")),
    case("lumbar plexopathy", lumbar_plexus,
         **explained("acute", "plexopathy (lumbosacral, lumbar plexus")),
    case("femoral neuropathy through the saphenous branch and side-to-side CMAP",
         femoral_neuropathy, **explained("acute", "mononeuropathy (femoral"),
         pattern_absent=("sensory neuropathy (saphenous",)),
    case("femoral CMAP a quarter of the other side alone is not a neuropathy",
         femoral_cmap_asymmetry_only, **NONE),
    case("musculocutaneous neuropathy through the LABC", musculocutaneous,
         **explained("acute", "mononeuropathy (musculocutaneous")),
    # forearm 60, across elbow 38 m/s (< 50 and 22 m/s slower): focal slowing at the elbow
    case("ulnar focal slowing across the elbow", lambda pid: ulnar_elbow(pid, 60.0, 38.0, 9.0),
         **explained("acute", "ulnar, elbow")),
    # forearm 44, across elbow 43 m/s with ADM 3 mV: uniform slowing with axon loss, not focal
    case("ulnar uniform slowing with a low CMAP is not focal", lambda pid: ulnar_elbow(pid, 44.0, 43.0, 3.0),
         **lmn("acute", "C8"), pattern_absent=("elbow",)),
    case("peroneal focal slowing across the fibular head",
         lambda pid: peroneal_fibular_head(pid, 50.0, 30.0, 5.0),
         **explained("acute", "peroneal, fibular head")),
    case("peroneal uniform slowing with a low CMAP is not focal",
         lambda pid: peroneal_fibular_head(pid, 38.0, 37.0, 1.0),
         **lmn("acute", "L5"), pattern_absent=("fibular head",)),
    # guide §2.10: lateral medulla — R1 preserved, R2 abnormal bilaterally on stimulating R
    case("medullary blink pattern is central, not a neuropathy",
         blink((10.5, 48.0, 50.0), (10.4, 30.5, 31.0)), **NONE),
    case("pontine blink pattern (isolated R1 delay) is central, not a neuropathy",
         blink((14.5, 31.0, 31.5), (10.4, 30.5, 31.0)), **NONE),
    case("afferent blink pattern is a trigeminal neuropathy",
         blink((NR, NR, NR), (10.4, 30.5, 31.0)), **NEUROPATHY_ONLY, pattern=("trigeminal",)),
    case("efferent blink pattern is a facial neuropathy",
         blink((15.5, 47.0, 31.0), (10.4, 30.5, 48.0)), **NEUROPATHY_ONLY, pattern=("facial",)),
    case("F-waves alone in four nerves: proximal pattern", f_waves_only,
         **NEUROPATHY_ONLY, pattern=("proximal",), pattern_absent=("length-dependent",)),
]


@pytest.mark.parametrize("c", CASES)
def test_localisation_case(c: Case, tmp_path) -> None:
    from edxreview._pipeline import review_study

    folder = c.build("P1").write_csv(tmp_path / "study")
    patients = review_study(folder).patients
    check_patient(patients, "P1", c.expect)
    row = patients.iloc[0]
    pattern = _text(row["neuropathy_pattern"]).lower()
    for unwanted in c.pattern_absent:
        assert unwanted.lower() not in pattern, f"{unwanted!r} in {pattern!r}: {row['explanation']}"


def test_explanation_does_not_claim_unmeasured_sensory_responses(tmp_path) -> None:
    from edxreview._pipeline import review_study

    text = _text(review_study(low_cmap_no_leg_sensory("P1").write_csv(tmp_path / "s"))
                 .patients.iloc[0]["explanation"])
    assert "normal sensory responses" not in text, text
    assert "no sensory response of that limb measured" in text, text


def test_lesion_table_names_the_plexus_element_and_its_findings(tmp_path) -> None:
    from edxreview._pipeline import review_study

    result = review_study(upper_trunk("P1").write_csv(tmp_path / "s"))
    plex = result.lesions[result.lesions["kind"].eq("plexopathy")]
    assert plex["element"].tolist() == ["upper_trunk"]
    assert plex["side"].tolist() == ["R"]
    assert plex["n_muscles_explained"].tolist() == [4]
    assert "lateral_antebrachial_cutaneous sensory" in plex["findings"].iloc[0]


def test_findings_and_lesions_are_written_beside_the_patients(tmp_path) -> None:
    import pandas as pd

    from edxreview._pipeline import review_study, write_outputs

    result = review_study(femoral_neuropathy("P1").write_csv(tmp_path / "s"))
    out = write_outputs(result, tmp_path / "out")
    findings = pd.read_csv(out / "findings.csv")
    lesions = pd.read_csv(out / "lesions.csv")
    kinds = set(findings["kind"])
    assert {"absent_response", "reduced_side_to_side", "acute_denervation"} <= kinds
    ratio = findings[findings["kind"].eq("reduced_side_to_side")].iloc[0]
    assert (ratio["nerve"], ratio["side"], ratio["value"], ratio["limit"]) == ("femoral", "R", 0.25, 0.5)
    assert lesions["label"].tolist() == ["mononeuropathy (femoral, proximal to the saphenous branch)"]
    assert lesions["findings"].iloc[0] == "saphenous sensory|femoral motor"
