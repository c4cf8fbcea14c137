"""Second, independent review of the classification logic: more clinical scenarios.

Each case is a small CSV study built from the clearly normal baseline of ``builders.py`` plus
the findings of one clinical picture, with the values a careful neurophysiologist gives under
the definitions of ``spec/study-workbook.md`` §4 (the spec) and ``domain/edx-knowledge.md``
(the guide).  The cases probe edges the first set (``test_textbook_cases.py``) does not reach:
distal entrapments other than carpal tunnel, forearm conduction block, uniform demyelination,
sensory branches, thoracic / lumbosacral paraspinal levels, cranial nuclei, cauda equina, and
the spellings clinicians type.

Cases whose expectation the current code does not meet are marked
``xfail(strict=True)`` with the root cause in the reason, so the suite stays green and the bug
stays visible: when the code is fixed the strict xfail turns into a failure and the mark must
be removed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from .builders import (
    ACUTE,
    ACUTE_AND_CHRONIC,
    CHRONIC,
    HAND_TEMPERATURE_C,
    NR,
    Study,
    emg_row,
    normal_patient,
    patient,
    normal_ncs,
)
from .test_textbook_cases import (
    NEUROPATHY_ONLY,
    NONE,
    Expect,
    _text,
    axonal_polyneuropathy_ncs,
    carpal_tunnel_ncs,
    check_patient,
    cts_with_apb_denervation,
    explained,
    lmn,
)


# -- the case record -----------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """One patient (id ``P1``): a builder, the expected row, and substrings the neuropathy
    pattern must not contain (e.g. a bilateral carpal tunnel is not a neuronopathy)."""

    id: str
    build: Callable[[str], Study]
    expect: Expect
    pattern_absent: tuple[str, ...] = ()
    mri_cord_segments: str | None = None  # exact expected text, when given


def case(id: str, build: Callable[[str], Study], *, pattern_absent=(), mri_text=None,
         xfail: str | None = None, **expected):
    marks = [pytest.mark.xfail(reason=xfail, strict=True)] if xfail else []
    return pytest.param(Case(id, build, Expect(**expected), tuple(pattern_absent), mri_text),
                        id=id, marks=marks)


PARASPINAL_CRASH = (
    "io/_validate.py::_unique_map builds np.array([func(u) ...], dtype=object); when every "
    "unresolved muscle parses to a (muscle, level) tuple, numpy makes a 2-D array and pd.Series "
    "raises 'Data must be 1-dimensional': any workbook with a levelled paraspinal ('paraspinal "
    "T8', 'T8 paraspinal', 'L5 paraspinal') crashes with a traceback")


# -- small row helpers -----------------------------------------------------------------------
def motor_study(pid: str, nerve: str, side: str, recording: str,
                sites: list[tuple], temperature_c: float = HAND_TEMPERATURE_C) -> list[dict]:
    """Motor rows from ``(site, distance_mm, latency_ms, amplitude_mv, velocity_m_s)``,
    distal site first (velocity of the segment from the previous row; None for the first)."""
    return [{"patient_id": pid, "nerve": nerve, "side": side, "stim_site": site,
             "recording_site": recording, "latency_ms": latency, "amplitude_mv": amplitude,
             "velocity_m_s": velocity, "distance_mm": distance, "temperature_c": temperature_c}
            for site, distance, latency, amplitude, velocity in sites]


def bilateral(pid: str, age: float = 45, **fields) -> Study:
    return normal_patient(pid, age=age, sides=("R", "L"), **fields)


# -- scenarios -------------------------------------------------------------------------------
def bilateral_cts_cervical_ahc(pid: str) -> Study:
    study = bilateral(pid, age=50, weakness="yes")
    for side in ("R", "L"):
        carpal_tunnel_ncs(study, pid, side)
        study.set_emg(pid, "APB", side, fibs="1+", psw="1+", recruitment="reduced")
        for muscle in ("Deltoid", "Biceps brachii"):
            study.set_emg(pid, muscle, side, **ACUTE_AND_CHRONIC)
    return study.add_mri(pid, "spinal_cord", "C4", "C5", location="central_gray")


def bilateral_sensory_cts(apb_denervated: bool) -> Callable[[str], Study]:
    """Median SNAP low and slowed at both wrists, motor studies normal (mild CTS, §2.6)."""
    def build(pid: str) -> Study:
        study = bilateral(pid, age=49)
        for side in ("R", "L"):
            study.set_sensory(pid, "median", side, amplitude_uv=11.0, latency_ms=4.3,
                              velocity_m_s=40.0)
        if apb_denervated:
            study.set_emg(pid, "APB", "R", fibs="1+", psw="1+")
        return study
    return build


def cts_opposite_side_apb(pid: str) -> Study:
    study = carpal_tunnel_ncs(bilateral(pid, age=55), pid, "R")
    return study.set_emg(pid, "APB", "L", **ACUTE)


def cts_with_fpl(pid: str) -> Study:
    study = carpal_tunnel_ncs(normal_patient(pid, age=58), pid, "R")
    study.set_emg(pid, "APB", "R", **ACUTE)
    return study.set_emg(pid, "Flexor pollicis longus", "R", spelled="FPL", **ACUTE)


def guyon(fcu_denervated: bool) -> Callable[[str], Study]:
    """Ulnar DML 4.6 ms (139 % of 3.3) with a normal ADM CMAP (7.5 mV), normal forearm and
    across-elbow CV, normal ulnar SNAP (deep-branch lesion in Guyon's canal, guide §2.6)."""
    def build(pid: str) -> Study:
        study = normal_patient(pid, age=44, sex="M")
        study.set_motor(pid, "ulnar", "R", dml_ms=4.6, amplitudes_mv=(7.5, 7.3, 7.2),
                        velocities_m_s=(60.0, 58.0))
        study.set_emg(pid, "First dorsal interosseous", "R", spelled="FDI", **ACUTE)
        study.set_emg(pid, "ADM", "R", fibs="1+", psw="1+")
        study.set_emg(pid, "Flexor carpi ulnaris", "R", spelled="FCU",
                      **(ACUTE if fcu_denervated else {}))
        return study.set_emg(pid, "FDP 4-5", "R")
    return build


def deep_palmar_ulnar(pid: str) -> Study:
    """Ulnar motor recorded at ADM (normal) and at FDI (DML 6.5 ms, 144 % of 4.5): a lesion of
    the deep palmar branch; FDI denervated, ADM spared (guide §2.6)."""
    study = normal_patient(pid, age=47, sex="M")
    study.add("ncs_motor", *motor_study(pid, "ulnar", "R", "FDI", [
        ("wrist", 80, 6.5, 8.0, None), ("below elbow", 220, 10.1, 7.8, 61.0)]))
    study.set_emg(pid, "First dorsal interosseous", "R", **ACUTE)
    return study.set_emg(pid, "ADM", "R")


def radial_spiral_groove(triceps_denervated: bool) -> Callable[[str], Study]:
    """EIP CMAP 4.2 mV at the forearm, 1.1 mV above the spiral groove (74 % block between
    below and above the groove), slowing across it; SNAP normal (guide §2.4, §2.6)."""
    def build(pid: str) -> Study:
        study = normal_patient(pid, age=39, sex="M")
        study.add("ncs_motor", *motor_study(pid, "radial", "R", "EIP", [
            ("forearm", 80, 2.4, 4.2, None), ("elbow", 120, 4.4, 4.0, 60.0),
            ("below spiral groove", 100, 6.1, 3.9, 59.0),
            ("above spiral groove", 100, 9.0, 1.1, 34.0)]))
        for muscle in ("Brachioradialis", "ECRL", "EDC", "EIP"):
            study.set_emg(pid, muscle, "R", **ACUTE)
        return study.set_emg(pid, "Triceps", "R", **(ACUTE if triceps_denervated else {}))
    return build


def tarsal_tunnel(pid: str) -> Study:
    """Tibial DML to AH 8.0 ms (138 % of 5.8) with a normal CMAP (5.0 mV) and normal leg CV:
    demyelinating-range distal slowing at the ankle; AH and ADM pedis denervated,
    gastrocnemius and soleus normal (guide §2.3, §2.6)."""
    study = normal_patient(pid, age=51)
    study.set_motor(pid, "tibial", "R", dml_ms=8.0, amplitudes_mv=(5.0, 4.4),
                    velocities_m_s=(45.0,))
    study.set_emg(pid, "Abductor hallucis", "R", **ACUTE)
    study.set_emg(pid, "Abductor digiti minimi pedis", "R", fibs="1+", psw="1+")
    return study.set_emg(pid, "Soleus", "R")


def tibial_pseudo_block(pid: str) -> Study:
    """Tibial CMAP 12 mV at the ankle, 5 mV at the knee (58 % drop): the tibial nerve is
    excluded from conduction block (submaximal popliteal stimulation, guide §2.4)."""
    return normal_patient(pid, age=36).set_motor(pid, "tibial", "R", amplitudes_mv=(12.0, 5.0),
                                                 velocities_m_s=(47.0,))


def cmt1_like(pid: str) -> Study:
    """Uniform slowing (CV 20-24 m/s, 41-55 % of LLN) in every motor nerve, prolonged DMLs and
    F-waves, no block; absent lower-limb SNAPs, low upper-limb SNAPs; chronic distal
    denervation in feet and legs and FDI (guide §2.5 'inherited demyelinating')."""
    study = bilateral(pid, age=34, weakness="yes", atrophy="yes")
    for side in ("R", "L"):
        study.set_motor(pid, "median", side, dml_ms=7.8, amplitudes_mv=(3.5, 3.2),
                        velocities_m_s=(22.0,))
        study.set_motor(pid, "ulnar", side, dml_ms=5.9, amplitudes_mv=(5.0, 4.7, 4.5),
                        velocities_m_s=(23.0, 22.0))
        study.set_motor(pid, "peroneal", side, dml_ms=11.5, amplitudes_mv=(0.9, 0.8, 0.8),
                        velocities_m_s=(20.0, 19.0))
        study.set_motor(pid, "tibial", side, dml_ms=10.5, amplitudes_mv=(1.5, 1.3),
                        velocities_m_s=(20.0,))
        for nerve, latency in (("median", 55.0), ("ulnar", 56.0), ("peroneal", 95.0),
                               ("tibial", 96.0)):
            study.set_f_wave(pid, nerve, side, latency)
        study.set_sensory(pid, "median", side, amplitude_uv=8.0, latency_ms=5.8,
                          velocity_m_s=24.0)
        study.set_sensory(pid, "ulnar", side, amplitude_uv=6.0, latency_ms=5.0,
                          velocity_m_s=23.0)
        for nerve in ("sural", "superficial peroneal"):
            study.set_sensory(pid, nerve, side, amplitude_uv=NR)
        study.set_emg(pid, "EDB", side, **CHRONIC)
        study.set_emg(pid, "Abductor hallucis", side, **ACUTE_AND_CHRONIC)
        study.set_emg(pid, "Tibialis anterior", side, **CHRONIC)
        study.set_emg(pid, "First dorsal interosseous", side, **CHRONIC)
    return study


def forearm_block(nerve: str, denervated: str | None) -> Callable[[str], Study]:
    """Conduction block between wrist and elbow/below-elbow, outside entrapment sites, with
    normal SNAPs (MMN-like, guide §2.4, §2.9 differential table)."""
    def build(pid: str) -> Study:
        study = normal_patient(pid, age=42, sex="M", weakness="yes")
        if nerve == "ulnar":
            study.set_motor(pid, "ulnar", "R", amplitudes_mv=(9.0, 3.2, 3.1),
                            velocities_m_s=(55.0, 56.0))
        else:
            study.set_motor(pid, "median", "R", amplitudes_mv=(8.5, 2.9), velocities_m_s=(52.0,))
        if denervated:
            study.set_emg(pid, denervated, "R", fibs="1+", psw="1+", recruitment="reduced")
        return study
    return build


def f_wave_borderline(pid: str) -> Study:
    """Median minimum F 33 ms against a height-adjusted ULN of ~30.7 ms (107 %), everything
    else normal: below the 120 % demyelinating threshold (guide §2.3)."""
    return normal_patient(pid, age=46).set_f_wave(pid, "median", "R", 33.0)


def superficial_peroneal_absent(pid: str) -> Study:
    return bilateral(pid, age=40).set_sensory(pid, "superficial peroneal", "L", amplitude_uv=NR)


def sural_absent_with_ah(pid: str) -> Study:
    """Sural SNAP absent on the right at 45 (left normal), abductor hallucis denervated."""
    study = bilateral(pid, age=45).set_sensory(pid, "sural", "R", amplitude_uv=NR)
    return study.set_emg(pid, "Abductor hallucis", "R", **ACUTE)


def absent_median_cmap(pid: str) -> Study:
    """Median CMAP NR with normal median and ulnar SNAPs, F-wave NR; APB and opponens
    denervated, FDI normal: motor axon loss, not a neuropathy (spec §4)."""
    study = normal_patient(pid, age=61, sex="M", weakness="yes", atrophy="yes")
    study.set_motor(pid, "median", "R", amplitudes_mv=(NR, NR), velocities_m_s=(None,))
    study.set_f_wave(pid, "median", "R", NR, persistence_pct=0)
    study.set_emg(pid, "APB", "R", **ACUTE_AND_CHRONIC)
    return study.set_emg(pid, "Opponens pollicis", "R", **ACUTE_AND_CHRONIC)


def thoracic_paraspinal(spelled: str) -> Callable[[str], Study]:
    def build(pid: str) -> Study:
        study = normal_patient(pid, age=35)
        study.add("emg", emg_row(pid, spelled, "R", **ACUTE))
        return study.add_mri(pid, "spinal_cord", "T6", "T6", location="central_gray")
    return build


def lumbosacral_paraspinal(pid: str) -> Study:
    study = normal_patient(pid, age=48, sex="M")
    study.add("emg", emg_row(pid, "paraspinal L5", "R", **ACUTE))
    study.set_emg(pid, "Gluteus medius", "R", **ACUTE)
    return study.add_mri(pid, "spinal_cord", "T12", "T12")


def cauda_equina_level(pid: str) -> Study:
    """L5 denervation (TA, gluteus medius, tibialis posterior) and a lesion at the L3
    vertebra: below the conus, no cord there (guide §4.3 'L2 and below')."""
    study = normal_patient(pid, age=53, sex="M")
    for muscle in ("Tibialis anterior", "Gluteus medius", "Tibialis posterior"):
        study.set_emg(pid, muscle, "R", **ACUTE)
    return study.add_mri(pid, "spinal_cord", "L3", "L3")


def accessory_upper_cervical(pid: str) -> Study:
    study = normal_patient(pid, age=41)
    study.set_emg(pid, "SCM", "R", **ACUTE)
    study.set_emg(pid, "Trapezius", "R", **ACUTE)
    return study.add_mri(pid, "spinal_cord", "C1", "C2", location="central_gray")


def masseter_with(level: str) -> Callable[[str], Study]:
    def build(pid: str) -> Study:
        study = normal_patient(pid, age=39)
        study.set_emg(pid, "Masseter", "R", **ACUTE)
        return study.add_mri(pid, "brainstem", level, level)
    return build


def facial_palsy_with_masseter(pid: str) -> Study:
    """Facial CMAP 0.3 mV (12 % of the other side), frontalis denervated (explained) and
    masseter denervated (trigeminal, not the facial nerve)."""
    study = normal_patient(pid, age=40)
    for side, amplitude in (("R", 0.3), ("L", 2.6)):
        study.add("ncs_motor", *motor_study(pid, "facial", side, "nasalis",
                                            [("stylomastoid", None, 3.6, amplitude, None)]))
    study.set_emg(pid, "Frontalis", "R", **ACUTE)
    return study.set_emg(pid, "Masseter", "R", **ACUTE)


def cervical_ahc_with_mri(level_from: str, level_to: str) -> Callable[[str], Study]:
    def build(pid: str) -> Study:
        study = normal_patient(pid, age=38)
        for muscle in ("Deltoid", "Biceps brachii", "Brachioradialis"):
            study.set_emg(pid, muscle, "R", **ACUTE_AND_CHRONIC)
        return study.add_mri(pid, "spinal_cord", level_from, level_to)
    return build


def sensory_neuronopathy_with_denervation(pid: str) -> Study:
    """Median, ulnar and radial SNAPs absent on both sides, surals and superficial peroneal
    normal, motor conduction normal; biceps and FDI denervated (guide §2.5)."""
    study = bilateral(pid, age=57)
    for side in ("R", "L"):
        for nerve in ("median", "ulnar", "radial"):
            study.set_sensory(pid, nerve, side, amplitude_uv=NR)
    study.set_emg(pid, "Biceps brachii", "R", **ACUTE)
    return study.set_emg(pid, "First dorsal interosseous", "R", **ACUTE)


def pn_with_low_hand_cmaps(pid: str) -> Study:
    """Length-dependent axonal PN in the legs (surals absent, low peroneal/tibial CMAPs);
    hands: median and ulnar CMAPs low (45 %, 42 % of LLN) with normal DML/CV/F and *normal*
    median, ulnar and radial SNAPs; APB and FDI denervated, EDB denervated."""
    study = bilateral(pid, age=58, sex="M")
    axonal_polyneuropathy_ncs(study, pid, sides=("R", "L"))
    study.set_motor(pid, "ulnar", "R", dml_ms=3.0, amplitudes_mv=(2.5, 2.4, 2.3),
                    velocities_m_s=(56.0, 54.0))
    study.set_motor(pid, "median", "R", dml_ms=3.8, amplitudes_mv=(1.8, 1.7),
                    velocities_m_s=(52.0,))
    for muscle in ("APB", "First dorsal interosseous"):
        study.set_emg(pid, muscle, "R", **ACUTE_AND_CHRONIC)
    return study.set_emg(pid, "EDB", "R", **ACUTE_AND_CHRONIC)


def tongue_only(pid: str) -> Study:
    """EMG sheet holds only the tongue, side left blank (spec §1: midline muscle)."""
    study = Study().add("patients", patient(pid, age=66)) + normal_ncs(pid)
    return study.add("emg", emg_row(pid, "Tongue", "", **ACUTE_AND_CHRONIC))


def quantitative_only(duration_ms: float, amplitude_uv: float, age: float = 50
                      ) -> Callable[[str], Study]:
    """EMG rows with no qualitative MUAP columns at all, only quantitative means."""
    def build(pid: str) -> Study:
        study = Study().add("patients", patient(pid, age=age)) + normal_ncs(pid)
        for muscle in ("Deltoid", "Biceps brachii"):
            study.add("emg", {"patient_id": pid, "muscle": muscle, "side": "R", "fibs": "0",
                              "psw": "0", "muap_duration_ms": duration_ms,
                              "muap_amplitude_uv": amplitude_uv, "polyphasic_pct": 12})
        return study
    return build


def lower_case_nr(pid: str) -> Study:
    study = bilateral(pid, age=45)
    for side in ("R", "L"):
        study.set_sensory(pid, "sural", side, amplitude_uv="nr")
        study.update("ncs_sensory", {"patient_id": pid, "nerve": "sural", "side": side},
                     latency_ms="nr")
    return study


def clinician_spellings(pid: str) -> Study:
    """Grades written '+2', sides written 'Right' and 'left'."""
    study = Study().add("patients", patient(pid, age=52)) + normal_ncs(pid, sides=("Right",))
    study.add("emg", emg_row(pid, "Tibialis anterior", "Right", fibs="+2", psw="+1"),
              emg_row(pid, "Medial gastrocnemius", "left", fibs="0", psw="+2"),
              emg_row(pid, "Biceps brachii", "left"))
    return study


CASES = [
    # Bilateral CTS explains both APBs; deltoid/biceps (C5-C6, other nerves) are not
    # explained; C4-C5 bodies → cord C5-C7 (spec §4; guide §2.6, §4.3).
    case("bilateral CTS plus cervical anterior horn under C4-C5", bilateral_cts_cervical_ahc,
         **lmn("acute_and_chronic", "C5", "C6", mri=True, neuropathy=True,
               pattern=("median",), segments_absent=("C8", "T1"))),
    # Median SNAP low at both wrists, motor normal: bilateral mild CTS, two mononeuropathies,
    # not a sensory neuronopathy (which needs non-length-dependent loss in several *nerves*,
    # guide §2.5; the same nerve on two sides is not that).
    case("bilateral sensory-only CTS is not a neuronopathy", bilateral_sensory_cts(False),
         **NEUROPATHY_ONLY, pattern=(("median, wrist", "mononeuropathy"),),
         pattern_absent=("neuronopathy",)),
    # The same with right APB fibrillations: APB is median-innervated distal to the wrist.
    case("bilateral sensory-only CTS with APB denervation is explained",
         bilateral_sensory_cts(True), **explained("acute", "median"),
         pattern_absent=("neuronopathy",)),
    # Right CTS cannot explain a left APB (spec §4: the affected nerve; side matters).
    case("right CTS with left APB denervation", cts_opposite_side_apb,
         **lmn("acute", "C8", neuropathy=True, pattern=("median",))),
    # FPL (anterior interosseous) branches proximal to the carpal tunnel (guide §3a, §2.6).
    case("CTS with FPL denervation, FPL not explained", cts_with_fpl,
         **lmn("acute", "C8", neuropathy=True, pattern=("median",))),
    # Guyon: prolonged ulnar DML with a normal CMAP = focal slowing at the wrist; FDI and ADM
    # distal, FCU and FDP 4-5 (forearm) normal (guide §2.6; interpretation_rules
    # distal_entrapment ulnar/wrist).
    case("ulnar neuropathy at the wrist (Guyon), forearm muscles spared", guyon(False),
         **explained("acute", "ulnar", "wrist")),
    # FCU is supplied at the elbow/forearm, proximal to Guyon's canal: not explained.
    case("ulnar neuropathy at the wrist with FCU denervated", guyon(True),
         **lmn("acute", "C8", neuropathy=True, pattern=("ulnar",))),
    # Deep palmar branch: abnormal only in the FDI recording; ADM recording normal.
    case("ulnar deep palmar branch lesion seen only in the FDI recording", deep_palmar_ulnar,
         **explained("acute", "ulnar")),
    # Block between below and above the spiral groove; brachioradialis, ECRL, EDC, EIP distal;
    # triceps normal (guide §2.6).
    case("radial neuropathy at the spiral groove, triceps spared", radial_spiral_groove(False),
         **explained("acute", "radial")),
    # The block is named at the spiral groove, the entrapment site its segment crosses, and
    # ranked there: the triceps branches leave above the groove (muscles.csv), so a lesion
    # named at the groove does not account for them (spec §4.1 'supplies it distal to the
    # lesion'; 'a presumed site is named only when the data show it'): C7.
    case("radial block across the spiral groove with triceps denervated",
         radial_spiral_groove(True), **lmn("acute", "C7", neuropathy=True, pattern=("radial",))),
    # Distal tibial slowing at the ankle (DML 138 % ULN, CMAP normal → demyelinating range);
    # plantar-nerve muscles distal, soleus normal (guide §2.3, §2.6).
    case("tibial neuropathy at the ankle (tarsal tunnel)", tarsal_tunnel,
         **explained("acute", "tibial")),
    # A 58 % knee-ankle drop in the tibial nerve is not conduction block (guide §2.4).
    case("tibial proximal amplitude drop is not a block", tibial_pseudo_block, **NONE),
    # Uniform demyelinating PN; distal denervation lies in its territory (spec §4, guide §2.5).
    case("CMT1-like uniform demyelinating neuropathy with distal denervation", cmt1_like,
         **explained("acute_and_chronic", "polyneuropathy", "demyelinating")),
    # ... and its pattern names no carpal tunnel or Guyon lesion: with uniform slowing (forearm
    # CV 22-23 m/s) the prolonged DML is part of the diffuse process, not focal slowing
    # across the wrist (spec §4 'focal slowing across an entrapment site'; guide §2.5).
    case("CMT1-like pattern names no wrist entrapments", cmt1_like,
         **explained("acute_and_chronic", "polyneuropathy", "demyelinating"),
         pattern_absent=("mononeuropathy",)),
    # Forearm conduction block outside entrapment sites, SNAPs normal: a neuropathy (spec §4
    # 'conduction block'); FDI is ulnar, distal to the block.
    case("MMN-like ulnar forearm block with FDI denervation", forearm_block("ulnar", "FDI"),
         **explained("acute", "ulnar")),
    case("MMN-like median forearm block without denervation", forearm_block("median", None),
         **NEUROPATHY_ONLY, pattern=("median",)),
    # F-wave 107 % of ULN with everything else normal: not demyelinating range (spec §4).
    case("isolated mildly prolonged F-wave", f_wave_borderline, **NONE),
    # An absent SNAP at 40 is abnormal (age rule applies only at ≥ 60, spec §4).
    case("superficial peroneal SNAP absent on one side at 40", superficial_peroneal_absent,
         **NEUROPATHY_ONLY, pattern=("peroneal",), pattern_absent=("polyneuropathy",)),
    # Spec §4.1 'a sensory branch belongs to its parent nerve': an absent sural SNAP on one side
    # with denervation confined to tibial muscles on that side is a tibial neuropathy proximal
    # to the sural branch (popliteal fossa or above), which explains abductor hallucis. (This
    # case expected S1 lower motor neuron involvement before §4.1 was written.)
    case("absent sural SNAP with abductor hallucis: tibial neuropathy", sural_absent_with_ah,
         **explained("acute", "tibial, proximal to the sural branch")),
    # Absent CMAP, normal SNAPs, no demyelinating feature: motor neuron/root loss (spec §4).
    case("absent median CMAP with normal SNAPs and thenar denervation", absent_median_cmap,
         **lmn("acute_and_chronic", "C8", "T1")),
    # Thoracic paraspinal at T8 under a T6-body lesion (→ cord T8, guide §4.3).
    case("thoracic paraspinal 'paraspinal T8' under a T6 lesion",
         thoracic_paraspinal("paraspinal T8"), **lmn("acute", "T8", mri=True,
                                                     segments_absent=("T1", "T12")),
         mri_text="T8"),
    case("thoracic paraspinal 'T8 paraspinal' under a T6 lesion",
         thoracic_paraspinal("T8 paraspinal"), **lmn("acute", "T8", mri=True),
         ),
    # L5 paraspinal + gluteus medius (L5) under a T12-body lesion (→ L4-S1, guide §4.3).
    case("lumbosacral paraspinal L5 under a T12 lesion", lumbosacral_paraspinal,
         **lmn("acute", "L5", mri=True)),
    # L3 vertebra: cauda equina, no cord segment (guide §4.3); no corresponding cord lesion.
    case("L5 denervation with a lesion at the L3 vertebra (cauda equina)", cauda_equina_level,
         **lmn("acute", "L5", mri=False), mri_text=""),
    # SCM (C2-C3) and trapezius (C3-C4) under a C1-C2 cord lesion (guide §3d, §4.3; ±1).
    case("SCM and trapezius denervation with an upper cervical lesion",
         accessory_upper_cervical, **lmn("acute", "C2", "C3", mri=True)),
    # Masseter: trigeminal motor nucleus, mid-pons (guide §3d).
    case("masseter denervation with a pontine lesion", masseter_with("pons"),
         **lmn("acute", "trigeminal motor nucleus", mri=True)),
    case("masseter denervation with a medullary lesion only", masseter_with("medulla"),
         **lmn("acute", "trigeminal motor nucleus", mri=False)),
    # Facial neuropathy explains frontalis, not masseter (different cranial nerve, spec §4).
    case("facial neuropathy does not explain masseter", facial_palsy_with_masseter,
         **lmn("acute", "trigeminal", neuropathy=True, pattern=("facial",),
               segments_absent=("C5",))),
    # MRI levels as typed: 'C 4', 'c5'; and reversed order 'C6' → 'C3' (spec §1 mri).
    case("MRI levels written 'C 4' to 'c5'", cervical_ahc_with_mri("C 4", "c5"),
         **lmn("acute_and_chronic", "C5", "C6", mri=True)),
    case("MRI levels in reversed order C6 to C3", cervical_ahc_with_mri("C6", "C3"),
         **lmn("acute_and_chronic", "C5", "C6", mri=True)),
    # Upper-limb SNAPs lost, lower-limb spared, motor normal: sensory neuronopathy; it supplies
    # no muscle, so biceps and FDI stay unexplained (spec §4, guide §2.5).
    case("sensory neuronopathy with denervation is LMN", sensory_neuronopathy_with_denervation,
         **lmn("acute", "C5", "C8", neuropathy=True, pattern=("neuronopathy",))),
    # Low hand CMAPs with normal hand SNAPs are motor neuron loss (spec §4), not evidence that
    # the leg polyneuropathy reaches the hands (guide §2.5: upper-limb SNAPs are affected
    # before the hands are in the territory); APB/FDI stay unexplained, EDB is explained.
    case("leg polyneuropathy does not explain hand denervation with normal hand SNAPs",
         pn_with_low_hand_cmaps,
         **lmn("acute_and_chronic", "C8", neuropathy=True, pattern=("polyneuropathy",),
               segments_absent=("S1", "L5"))),
    # Only a tongue row, side blank: included, bulbar LMN (spec §1 emg side, §4).
    case("EMG of the tongue only, side blank", tongue_only,
         **lmn("acute_and_chronic", "hypoglossal")),
    # Quantitative means without any qualitative column (spec §1 emg, §4 chronic): the bundled
    # muap_reference.csv is unverified-illustrative, so they are kept and not judged (a
    # warning each); against a verified reference they are (tests/interpret/test_muap_reference.py).
    case("quantitative MUAP duration above the unverified reference: not judged",
         quantitative_only(19.0, 900), **NONE),
    case("quantitative MUAP amplitude above the unverified reference: not judged",
         quantitative_only(12.0, 4200), **NONE),
    case("quantitative MUAP means within reference, no qualitative columns",
         quantitative_only(11.5, 600), **NONE),
    case("quantitative MUAP duration far above the unverified reference at 84 years",
         quantitative_only(24.0, 900, age=84), **NONE),
    # 'nr' in lower case means no response (spec §1: NR any case): absent surals at 45, a
    # neuropathy of the sural on each side (both surals are one nerve: not yet the two separate
    # nerves of the polyneuropathy definition, England et al. 2005)
    case("lower-case nr in sural latency and amplitude", lower_case_nr,
         **NEUROPATHY_ONLY, pattern=("sural",)),
    # '+2' grades and 'Right'/'left' sides (spec §1).
    case("grades written +2 and sides written Right/left", clinician_spellings,
         **lmn("acute", "L4", "S1")),
]


@pytest.mark.parametrize("c", CASES)
def test_second_review_case(c: Case, tmp_path) -> None:
    from edxreview._pipeline import review_study

    folder = c.build("P1").write_csv(tmp_path / "study")
    patients = review_study(folder).patients
    assert len(patients) == 1
    check_patient(patients, "P1", c.expect)
    row = patients.iloc[0]
    pattern = _text(row["neuropathy_pattern"]).lower()
    for unwanted in c.pattern_absent:
        assert unwanted.lower() not in pattern, f"{unwanted!r} in {pattern!r}: {row['explanation']}"
    if c.mri_cord_segments is not None:
        assert _text(row["mri_cord_segments"]) == c.mri_cord_segments, row["explanation"]


# -- explanation text ------------------------------------------------------------------------
# spec §3: the explanation is one paragraph "a neurologist can check against the tables".
def explanation_case(id: str, build: Callable[[str], Study], *, has=(), lacks=(),
                     xfail: str | None = None):
    marks = [pytest.mark.xfail(reason=xfail, strict=True)] if xfail else []
    return pytest.param(build, tuple(has), tuple(lacks), id=id, marks=marks)


EXPLANATIONS = [
    # The muscles, the rule and the values beside their limits are named.
    explanation_case("Guyon: muscles, site and the flagged latency are named", guyon(False),
                     has=("First dorsal interosseous R by mononeuropathy (ulnar, wrist)",
                          "latency 4.6 ms (ULN 3.3)")),
    explanation_case("absent median CMAP: the not-counted reason is stated",
                     absent_median_cmap, has=("not a neuropathy by itself", "C8-T1")),
    # A normal CMAP with a borderline F-wave must not be described as a reduced CMAP.
    explanation_case("borderline F-wave is not called a reduced CMAP", f_wave_borderline,
                     has=("F-wave",), lacks=("reduced CMAP",)),
    # The motor study localises the carpal tunnel; 'presumed site' for the same lesion
    # (from the SNAP) beside it reads as two lesions.
    explanation_case("carpal tunnel is one lesion, not a localised plus a presumed one",
                     cts_with_apb_denervation, lacks=("presumed site",)),
    # A block must be checkable: the distal and proximal amplitudes belong in the text.
    explanation_case("conduction block shows the amplitudes it was computed from",
                     forearm_block("median", None), has=("8.5", "2.9")),
    # A spinal-cord row was recorded (at L3): the text must not say none was recorded.
    explanation_case("lesion below the conus is reported, not called absent", cauda_equina_level,
                     lacks=("no brainstem or spinal cord lesion recorded",)),
    # C1-C2 bodies → cord C1-C2; ±1 reaches C3 (SCM), not C4 (trapezius).
    explanation_case("MRI text claims only the segments it covers", accessory_upper_cervical,
                     lacks=("covers C2-C4",)),
]


@pytest.mark.parametrize("build, has, lacks", EXPLANATIONS)
def test_second_review_explanation(build, has, lacks, tmp_path) -> None:
    from edxreview._pipeline import review_study

    text = _text(review_study(build("P1").write_csv(tmp_path / "study")).patients
                 .iloc[0]["explanation"])
    for wanted in has:
        assert wanted in text, f"{wanted!r} missing: {text}"
    for unwanted in lacks:
        assert unwanted not in text, f"{unwanted!r} present: {text}"
