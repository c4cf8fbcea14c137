"""Leg responses of older and younger patients read against the age-banded default limits.

The tibial CMAP limits are mean − 2 SD of the three age groups of Buschbacher's tibial
abductor-hallucis study (Am J Phys Med Rehabil 1999;78 Suppl, PMID 10573092: 15.3 ± 4.5,
12.9 ± 4.5, 9.8 ± 4.2 mV), and the peroneal velocity limit is the strictest mean − 2 SD of
the peroneal EDB study's demographic groups (means 44–49 m/s, SD 4–5). A 3.0 mV tibial CMAP
is within the published range of a 70-year-old but not of a 30-year-old; 41–43 m/s across a
peroneal segment is within every group's range.
"""

from __future__ import annotations

import pytest

from .builders import Study, normal_patient


def _flags(tmp_path, study: Study, nerve: str, parameter: str):
    from edxreview import review_study

    folder = study.write_csv(tmp_path / "study")
    values = review_study(folder).values
    hit = values[(values["nerve"] == nerve) & (values["parameter"] == parameter)
                 & values["value"].notna()]
    return hit


@pytest.mark.parametrize(("age", "flag"), [(70, "normal"), (65, "normal"), (30, "low"),
                                           (45, "low"), (25, "low")])
def test_tibial_cmap_of_3_mv_by_age(tmp_path, age, flag):
    study = normal_patient("P1", age=age).set_motor("P1", "tibial", "R",
                                                    amplitudes_mv=[3.0, 2.8])
    hit = _flags(tmp_path, study, "tibial", "amplitude_mv")
    distal = hit[hit["site"] == "ankle"]
    assert list(distal["flag"]) == [flag]
    assert distal["reference_status"].iloc[0] == "corrected"


def test_tibial_cmap_of_5_mv_is_low_only_in_the_youngest_group(tmp_path):
    young = normal_patient("P1", age=24).set_motor("P1", "tibial", "R", amplitudes_mv=[5.0, 4.8])
    older = normal_patient("P1", age=50).set_motor("P1", "tibial", "R", amplitudes_mv=[5.0, 4.8])
    assert _flags(tmp_path / "a", young, "tibial", "amplitude_mv")["flag"].iloc[0] == "low"
    assert _flags(tmp_path / "b", older, "tibial", "amplitude_mv")["flag"].iloc[0] == "normal"


@pytest.mark.parametrize(("velocity", "flag"), [(43.0, "normal"), (42.0, "normal"),
                                                (41.0, "normal"), (39.0, "low")])
def test_peroneal_leg_velocity_of_an_older_patient(tmp_path, velocity, flag):
    study = normal_patient("P1", age=65).set_motor(
        "P1", "peroneal", "R", velocities_m_s=[velocity, 50.0])
    hit = _flags(tmp_path, study, "peroneal", "velocity_m_s")
    leg = hit[hit["site"] == "below_fibular_head"]
    assert list(leg["flag"]) == [flag]
    assert leg["limit"].iloc[0] == pytest.approx(41)
