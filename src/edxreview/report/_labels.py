"""Readable column headers for the exported tables (``patient_id`` → ``Patient ID``).

A header is looked up in :data:`COLUMN_LABELS`; any other machine name made of lower-case
words joined by ``_`` is spelled out word by word (:data:`WORDS`), with a unit at its end put in
brackets (``segment_velocity_m_s`` → ``Segment velocity (m/s)``). Other headers (already
readable, such as Table 1's) are kept as they are. The machine names stay in the workbook's
codebook sheet.
"""

from __future__ import annotations

import re

#: whole column names whose spelled-out form would read badly
COLUMN_LABELS: dict[str, str] = {
    "patient_id": "Patient ID",
    "key": "Measure key",
    "ci95_low": "95 % CI, lower",
    "ci95_high": "95 % CI, upper",
    "ci_method": "CI method",
    "fibs": "Fibrillations",
    "psw": "Positive sharp waves",
    "polyphasic_pct": "Polyphasic MUAPs (%)",
    "percent_of_limit": "% of limit",
    "distal_amplitude_fraction_of_lln": "Distal amplitude / LLN",
    "height_slope_ms_per_cm": "Height slope (ms/cm)",
    "height_ref_cm": "Reference height (cm)",
    "n_muscles_explained": "Muscles explained",
    "pos_min": "First cord position",
    "pos_max": "Last cord position",
    "segments_text": "Cord segments",
    "lmn_segments": "LMN segments",
    "mri_cord_segments": "MRI cord segments",
    "f_proximal": "F-wave proximal",
    "side_ratio_low": "Low side ratio",
    "facial_abnormal": "Facial CMAP abnormal",
    "age_min_years": "Minimum age (years)",
    "age_max_years": "Maximum age (years)",
    "row": "Row",
    "reference_row": "Reference row",
}

#: words spelled differently from their lower-case machine form
WORDS: dict[str, str] = {
    "id": "ID", "emg": "EMG", "ncs": "NCS", "mri": "MRI", "lmn": "LMN", "muap": "MUAP",
    "ci": "CI", "ci95": "95 % CI", "lln": "LLN", "uln": "ULN", "sha256": "SHA-256",
    "igg": "IgG", "aqp4": "AQP4", "mog": "MOG", "edss": "EDSS", "pct": "%",
}

#: trailing words read as a unit, shown in brackets
UNITS: dict[tuple[str, ...], str] = {
    ("m", "s"): "m/s", ("ms",): "ms", ("uv",): "µV", ("mv",): "mV", ("cm",): "cm",
    ("mm",): "mm", ("years",): "years", ("months",): "months", ("pct",): "%",
}

_MACHINE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


def column_label(name: str) -> str:
    """The header shown for the machine column name ``name``."""
    if name in COLUMN_LABELS:
        return COLUMN_LABELS[name]
    if not _MACHINE.match(name) or len(name) == 1:
        return name
    words = name.split("_")
    unit = ""
    for tail, shown in UNITS.items():
        if len(words) > len(tail) and tuple(words[-len(tail):]) == tail:
            words, unit = words[:-len(tail)], shown
            break
    text = " ".join(WORDS.get(w, w) for w in words)
    text = text[:1].upper() + text[1:]
    return f"{text} ({unit})" if unit else text


def column_labels(names: list[str]) -> list[str]:
    """Headers for a table's columns, each unique (a clash keeps the machine name beside it)."""
    labels = [column_label(str(n)) for n in names]
    seen: dict[str, int] = {}
    for label in labels:
        seen[label.lower()] = seen.get(label.lower(), 0) + 1
    return [f"{lab} [{n}]" if seen[lab.lower()] > 1 and lab != str(n) else lab
            for lab, n in zip(labels, names)]
