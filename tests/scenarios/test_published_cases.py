"""Published cases transcribed into the study workbook, read as their authors read them.

Each case prints its nerve conduction and needle findings in a published abstract or table; the
values below are the printed ones. A value the publication does not print is either left out or
taken from the clearly normal baseline of ``builders.py`` where the authors state that the rest
of the study was normal; each such value is named in the case's docstring. The expectation is
the authors' reading, not the tool's output: a case whose reading the tool does not reproduce
stays here as ``xfail`` with the reason, and no limit or rule is tuned to it.
"""

from __future__ import annotations

import pytest

from .builders import Study, normal_patient
from .test_textbook_cases import Expect, check_patient, explained


def slimmers_paralysis(pid: str) -> Study:
    """Min JH, Yu EH, Ko HY, Kim SY. Peroneal nerve compression secondary to weight loss:
    slimmer's paralysis. Korean Academy of Rehabilitation Medicine annual meeting 2019,
    abstract no. 132 (Pusan National University Yangsan Hospital),
    https://www.karm.or.kr/workshop/?abyear=201901&mode=green_view&sid=2337

    Printed: a 39-year-old woman with two weeks of left foot drop after losing 16 kg; peroneal
    motor study to EDB stimulated at the ankle, below and above the fibular neck; velocity
    across the fibular head 30.0 m/s on the left (59.0 m/s on the right); CMAP amplitude loss
    of about 91 % across the left fibular head; reduced left superficial peroneal SNAP; "other
    nerve conduction studies were within normal limits"; abnormal spontaneous activity in the
    left tibialis anterior and peroneus longus, reduced recruitment in tibialis anterior.
    Authors' reading: left common peroneal neuropathy at the fibular head.

    Not printed, so taken from the normal baseline: the distal latency and amplitude of both
    peroneal studies (4.5 ms, 6.0 mV) and the leg-segment velocity (50 m/s); the superficial
    peroneal amplitude (entered as 3.0 uV, half the conventional 6 uV limit: "reduced"); the
    fibrillation grade (entered as the lowest positive grade, 1+).
    """
    study = normal_patient(pid, age=39, sex="F", sides=("L", "R"), weakness="yes")
    distal = 6.0
    study.set_motor(pid, "peroneal", "L", amplitudes_mv=(distal, distal * 0.97,
                                                          round(distal * 0.09, 2)),
                    velocities_m_s=(50.0, 30.0))
    study.set_motor(pid, "peroneal", "R", amplitudes_mv=(distal, distal * 0.97, distal * 0.95),
                    velocities_m_s=(50.0, 59.0))
    study.set_sensory(pid, "superficial peroneal", "L", amplitude_uv=3.0)
    study.set_emg(pid, "Tibialis anterior", "L", fibs="1+", psw="1+", recruitment="reduced")
    return study.set_emg(pid, "Peroneus longus", "L", fibs="1+", psw="1+")


CASES = {
    "slimmers_paralysis": (slimmers_paralysis,
                           Expect(**explained("acute", ("peroneal", "fibular"),
                                              "mononeuropathy", "left"))),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_published_case_reads_as_its_authors(name, tmp_path):
    from edxreview._pipeline import review_study

    build, expected = CASES[name]
    folder = build("P1").write_csv(tmp_path / "study")
    check_patient(review_study(folder).patients, "P1", expected)
