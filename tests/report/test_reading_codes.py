"""The readings are decided once, in ``interpret``, as codes: the English ``reading`` columns
and every report language's readings are words of the same codes, so that they cannot say
different things."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest

from edxreview.interpret._muscles import MUSCLE_READINGS, muscle_reading_codes
from edxreview.interpret._readings import (BLINK_READINGS, MOTOR_READING_FALLBACKS,
                                           MOTOR_READING_PARTS, NERVE_COLUMNS,
                                           NERVE_READING_WORDS, SENSORY_READINGS,
                                           motor_reading_fallback, motor_reading_parts,
                                           sensory_reading_codes)
from edxreview.report._readings import muscle_readings, nerve_readings, nerve_words
from edxreview._words import LANGUAGES, load_labels

#: every code's words and every form (join, at_site, block_cmap) of the nerve readings
NERVE_CODES = NERVE_READING_WORDS


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_code_has_words_in_every_language(lang):
    labels = load_labels(lang)
    muscle = labels["muscle_readings"]
    # no word for a code interpret never decides (a stale or misspelt key), none missing
    assert set(muscle) == set(MUSCLE_READINGS)
    assert all(muscle[code].strip() for code in MUSCLE_READINGS)
    # the words of different codes differ, so that a reading names one code
    assert len(set(muscle.values())) == len(muscle)
    nerve = labels["nerve_readings"]
    assert all(nerve.get(code, "").strip() for code in NERVE_CODES), \
        sorted(set(NERVE_CODES) - set(nerve))
    assert set(nerve) == set(NERVE_CODES), sorted(set(nerve) ^ set(NERVE_CODES))


def _all_muscles() -> pd.DataFrame:
    rows = itertools.product([True, False, None], [True, False], [True, False],
                             ["read", "not_read", "not_judged", None])
    return pd.DataFrame(rows, columns=["acute", "chronic", "myopathic", "muap_reading"])


@pytest.mark.parametrize("lang", LANGUAGES)
def test_muscle_reading_means_the_english_one(lang):
    """For every combination of the typed columns, the report's reading is the word of the
    code whose English words are interpret's reading: read back from the words to the code,
    the two agree."""
    muscles = _all_muscles()
    codes = muscle_reading_codes(muscles)
    assert set(codes) == set(MUSCLE_READINGS)              # every code is reachable
    english = codes.map(MUSCLE_READINGS)
    words = load_labels(lang)["muscle_readings"]
    back = {text: code for code, text in words.items()}
    english_back = {text: code for code, text in MUSCLE_READINGS.items()}
    shown = muscle_readings(muscles, load_labels(lang))
    assert (shown.map(back) == english.map(english_back)).all()


def test_nerve_codes_follow_the_typed_flags():
    nerves = pd.DataFrame({
        "study": ["sensory"] * 4 + ["motor"] * 2,
        "nerve": ["sural"] * 4 + ["median"] * 2,
        "absent": [True, False, False, False, False, False],
        "low_amplitude": [True, True, True, False, None, None],
        "slowed": [True, True, False, True, None, None],
        "demyelinating": [None, None, None, None, True, True],
        "f_proximal": [None, None, None, None, True, False],
        "axonal": [None, None, None, None, True, False]})
    assert sensory_reading_codes(nerves)[:4].tolist() == ["absent", "low_and_slowed", "low",
                                                          "slowed"]
    parts = motor_reading_parts(nerves)
    assert list(parts.columns) == list(MOTOR_READING_PARTS)
    # the F-wave alone is the proximal finding: no demyelinating-range change beside it
    assert parts.loc[4, ["demyelinating", "f_proximal", "axonal"]].tolist() == \
        [False, True, True]
    assert parts.loc[5, ["demyelinating", "f_proximal", "axonal"]].tolist() == \
        [True, False, False]
    en, zh = load_labels("en"), load_labels("zh")
    assert nerve_readings(nerves, en).tolist() == [
        "absent response", "low amplitude and slowed", "low amplitude (axonal)",
        "slowed / delayed",
        "F-wave prolonged or absent with normal distal conduction, axonal loss (low CMAP)",
        "demyelinating-range change"]
    zh_words = zh["nerve_readings"]
    assert nerve_readings(nerves, zh)[:4].tolist() == [
        zh_words[c] for c in ("absent", "low_and_slowed", "low", "slowed")]


def test_demo_readings_agree_by_code(demo_result):
    """On the demo, the Chinese reading of every muscle, sensory and blink-reflex recording
    is the word of the code of its English reading."""
    zh = load_labels("zh")
    muscles = demo_result.muscles
    zh_back = {text: code for code, text in zh["muscle_readings"].items()}
    en_back = {text: code for code, text in MUSCLE_READINGS.items()}
    assert (muscle_readings(muscles, zh).map(zh_back)
            == muscles["reading"].map(en_back)).all()
    for study, codes in (("sensory", SENSORY_READINGS), ("blink", BLINK_READINGS)):
        nerves = demo_result.nerves[demo_result.nerves["study"].eq(study)]
        assert len(nerves), study
        zh_back = {zh["nerve_readings"][code]: code for code in codes}
        en_back = {text: code for code, text in codes.items()}
        assert (nerve_readings(nerves, zh).map(zh_back)
                == nerves["reading"].map(en_back)).all(), study


def test_nerve_words():
    """A nerve by its name, an id that is no nerve (the blink reflex) by its study's name,
    else the id as written."""
    ids = pd.Series(["median", "blink_reflex", "unknown_nerve", None], dtype=object)
    zh = nerve_words(ids, load_labels("zh"), "zh").tolist()
    assert zh[1] == load_labels("zh")["studies"]["blink_reflex"]
    assert zh[2] == "unknown_nerve"
    assert zh[0] not in ("median", "") and zh[0].endswith("神经")


# -- the motor reading where no part holds: interpret's typed facial_abnormal decides -------

def test_nerves_table_carries_interprets_facial_flag():
    assert "facial_abnormal" in NERVE_COLUMNS


@pytest.mark.parametrize("lang", LANGUAGES)
def test_facial_fallback_reads_the_typed_flag_not_the_nerve_name(lang):
    """The report once decided "facial CMAP abnormal" on ``nerve == 'facial' and abnormal``,
    interpret on its ``facial_abnormal`` flag: a facial row that is abnormal without the flag
    (a nerves table from elsewhere, or a later change to either rule) was read differently by
    the two. Now both map interpret's code: the flag decides, the nerve's name does not."""
    nerves = pd.DataFrame({
        "study": ["motor"] * 4, "nerve": ["facial", "facial", "facial", "median"],
        "abnormal": [True, True, False, True],
        "facial_abnormal": [True, False, False, False]})
    assert motor_reading_fallback(nerves).tolist() == ["facial_abnormal", "borderline",
                                                      "normal", "borderline"]
    words = load_labels(lang)["nerve_readings"]
    assert nerve_readings(nerves, load_labels(lang)).tolist() == [
        words["facial_abnormal"], words["borderline"], words["normal"], words["borderline"]]


def test_report_and_interpret_read_a_mildly_slow_facial_nerve_alike(tmp_path):
    """A facial distal latency above its limit but short of the demyelinating range: no part
    of the motor reading holds, interpret flags the nerve facial_abnormal (a cranial
    neuropathy) and writes "facial CMAP abnormal"; the report's English reading of every motor
    recording without a part is interpret's ``reading``, the facial one included."""
    from edxreview._pipeline import review_study

    from scenarios.builders import normal_patient

    study = normal_patient("P1", age=40)
    for side, dml_ms in (("R", 4.6), ("L", 3.6)):
        study.set_motor("P1", "facial", side, dml_ms=dml_ms, amplitudes_mv=(2.5,),
                        recording="nasalis")
    nerves = review_study(study.write_csv(tmp_path / "study")).nerves
    facial = nerves[nerves["study"].eq("motor") & nerves["nerve"].eq("facial")].set_index("side")
    assert bool(facial.loc["R", "facial_abnormal"]) and not bool(facial.loc["L", "facial_abnormal"])
    assert facial.loc["R", "reading"] == MOTOR_READING_FALLBACKS["facial_abnormal"]
    motor = nerves[nerves["study"].eq("motor")]
    no_part = ~motor_reading_parts(motor).any(axis=1)
    shown = nerve_readings(motor[no_part], load_labels("en"))
    assert (shown == motor.loc[no_part, "reading"]).all()
