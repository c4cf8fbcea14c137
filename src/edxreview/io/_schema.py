"""The study workbook's sheets and columns, as the specification (§1) defines them.

This is the contract, not reference data: types and allowed values of every column.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal[
    "id", "text", "number", "number_nr", "sex", "side", "side_optional", "bool", "antibody",
    "grade", "fasc", "nerve", "muscle", "site", "region", "level", "enum",
]


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    required: bool = False
    allowed: tuple[str, ...] = ()
    #: columns that must be present in the sheet header (a column can be required in the header
    #: but allowed to be blank in a row, e.g. fibs when the muscle was not examined at rest)
    in_header: bool | None = None
    free_text: bool = False

    @property
    def header_required(self) -> bool:
        return self.required if self.in_header is None else self.in_header


@dataclass(frozen=True)
class Sheet:
    name: str
    columns: tuple[Column, ...]
    required: bool = False
    description: str = ""
    #: columns another edxreview command writes beside the sheet's own, kept in the data
    #: without a warning and read by no rule (see :data:`EMG_ANALYSIS_COLUMNS`)
    informational: tuple[str, ...] = ()

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


_LEVELS = ("normal", "increased", "decreased")

#: the columns ``edxreview emg analyze`` writes in ``emg_rows.csv`` after the ``emg`` sheet's
#: own: what each row rests on (the reading and its rule, how the qualitative columns were
#: decided, what the grades rest on, the recordings), for the clinician's review. Pasted into
#: the workbook with the rows they are kept as typed, without a warning, and no rule reads
#: them; the writer takes its column list from here, so the two cannot drift apart.
EMG_ANALYSIS_COLUMNS = ("muap_pattern", "muap_rule", "muap_columns_rule",
                        "muap_columns_withheld", "spont_basis", "files")

SHEETS: dict[str, Sheet] = {
    s.name: s
    for s in (
        Sheet("patients", (
            Column("patient_id", "id", True),
            Column("sex", "sex", True),
            Column("age_years", "number", True),
            Column("height_cm", "number"),
            Column("diagnosis", "text", free_text=True),
            Column("aqp4_igg", "antibody"),
            Column("mog_igg", "antibody"),
            Column("disease_duration_months", "number"),
            Column("edss", "number"),
            Column("weakness", "bool"),
            Column("atrophy", "bool"),
            Column("hyporeflexia", "bool"),
            # optional: the centre that examined the patient, in a multi-centre registry (a
            # per-centre breakdown and forest plot are reported when it is filled)
            Column("centre", "text"),
        ), required=True, description="one row per patient"),
        Sheet("ncs_motor", (
            Column("patient_id", "id", True),
            Column("nerve", "nerve", True),
            Column("side", "side", True),
            Column("stim_site", "site", True),
            Column("recording_site", "muscle"),
            Column("latency_ms", "number_nr", True),
            Column("amplitude_mv", "number_nr", True),
            Column("velocity_m_s", "number"),
            Column("distance_mm", "number"),
            Column("duration_ms", "number"),
            Column("area_mvms", "number"),
            Column("temperature_c", "number"),
        ), description="one row per stimulation site, distal site first"),
        Sheet("ncs_sensory", (
            Column("patient_id", "id", True),
            Column("nerve", "nerve", True),
            Column("side", "side", True),
            Column("stim_site", "text"),
            Column("recording_site", "text"),
            Column("latency_ms", "number_nr", True),
            Column("amplitude_uv", "number_nr", True),
            Column("velocity_m_s", "number"),
            Column("distance_mm", "number"),
            Column("temperature_c", "number"),
            Column("method", "enum", allowed=("antidromic", "orthodromic")),
        ), description="one row per recorded sensory response"),
        Sheet("f_waves", (
            Column("patient_id", "id", True),
            Column("nerve", "nerve", True),
            Column("side", "side", True),
            Column("min_latency_ms", "number_nr", True),
            Column("persistence_pct", "number"),
        ), description="minimum F-wave latency per nerve and side"),
        Sheet("blink_reflex", (
            Column("patient_id", "id", True),
            Column("side", "side", True),
            Column("r1_ms", "number_nr", True),
            Column("r2_ipsi_ms", "number_nr", True),
            Column("r2_contra_ms", "number_nr", True),
        ), description="one row per stimulated side"),
        Sheet("emg", (
            Column("patient_id", "id", True),
            Column("muscle", "muscle", True),
            Column("side", "side_optional", in_header=True),
            Column("insertional", "enum", allowed=_LEVELS),
            Column("fibs", "grade", True),
            Column("psw", "grade", True),
            Column("fasciculations", "fasc"),
            Column("muap_amplitude", "enum", allowed=_LEVELS),
            Column("muap_duration", "enum", allowed=_LEVELS),
            Column("polyphasia", "enum", allowed=("normal", "increased")),
            Column("recruitment", "enum",
                   allowed=("normal", "reduced", "early", "decreased_activation", "none")),
            Column("muap_amplitude_uv", "number"),
            Column("muap_duration_ms", "number"),
            Column("polyphasic_pct", "number"),
        ), required=True, description="one row per muscle examined",
            informational=EMG_ANALYSIS_COLUMNS),
        Sheet("mri", (
            Column("patient_id", "id", True),
            Column("region", "region", True),
            Column("level_from", "level"),
            Column("level_to", "level"),
            Column("location", "text", free_text=True),
            Column("enhancement", "bool"),
        ), description="one row per lesion"),
    )
}

#: sheets of the template that are not study data (read case-insensitively, never validated)
TEMPLATE_SHEETS = ("readme", "names", "lists")

#: at least one of these must be present
NCS_SHEETS = ("ncs_motor", "ncs_sensory")

BOOL_VALUES = {"yes": True, "y": True, "true": True, "1": True, "no": False, "n": False,
               "false": False, "0": False}
SIDE_VALUES = {"l": "L", "left": "L", "lt": "L", "r": "R", "right": "R", "rt": "R"}
#: regions of the muscles whose ``side`` may be blank in the emg sheet without an error; a
#: paired muscle there (muscles.csv ``midline`` false) still draws a warning
BLANK_SIDE_REGIONS = ("cranial", "trunk", "paraspinal")
SEX_VALUES = {"f": "F", "female": "F", "woman": "F", "m": "M", "male": "M", "man": "M"}
ANTIBODY_VALUES = {"positive": "positive", "pos": "positive", "+": "positive",
                   "negative": "negative", "neg": "negative", "-": "negative",
                   "unknown": "unknown", "not tested": "unknown", "nt": "unknown",
                   "na": "unknown"}
GRADE_VALUES = {"0": 0.0, "none": 0.0, "absent": 0.0, "±": 0.5, "+/-": 0.5, "+-": 0.5,
                "equivocal": 0.5, "1+": 1.0, "1": 1.0, "+1": 1.0, "2+": 2.0, "2": 2.0, "+2": 2.0,
                "3+": 3.0, "3": 3.0, "+3": 3.0, "4+": 4.0, "4": 4.0, "+4": 4.0}
FASC_VALUES = {**GRADE_VALUES, "present": 1.0, "yes": 1.0, "rare": 1.0, "occasional": 1.0,
               "frequent": 2.0, "no": 0.0}
REGION_VALUES = {"brain": "brain", "brainstem": "brainstem", "brain stem": "brainstem",
                 "spinal_cord": "spinal_cord", "spinal cord": "spinal_cord", "cord": "spinal_cord",
                 "spine": "spinal_cord"}
ENUM_SYNONYMS = {"decreased activation": "decreased_activation", "reduced activation":
                 "decreased_activation", "poor activation": "decreased_activation",
                 "poor effort": "decreased_activation", "incr": "increased", "inc": "increased",
                 "decr": "decreased", "dec": "decreased", "nl": "normal", "norm": "normal",
                 "rapid": "early", "absent": "none", "normal ": "normal",
                 # MUAP size and duration as often written in reports
                 "long": "increased", "prolonged": "increased", "large": "increased",
                 "high": "increased", "short": "decreased", "small": "decreased",
                 "low": "decreased", "polyphasic": "increased", "normal recruitment": "normal",
                 "reduced recruitment": "reduced", "early recruitment": "early"}
BRAINSTEM_LEVELS = ("midbrain", "pons", "medulla")
