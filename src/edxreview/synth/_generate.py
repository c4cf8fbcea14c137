"""Allocate scenarios, build a cohort, write it as workbook sheets plus a truth table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._check import check_bool, check_type
from .._errors import EdxreviewError, InvalidParameterError
from .._tables import map_text
from ._draw import allocate_counts, draw_categories, round_within
from ._scenarios import SCENARIO_BUILDERS
from ._study import SEGMENTS, SynthStudy, draw_patients, draw_protocol, load_patterns

SHEET_NAMES = ("patients", "ncs_motor", "ncs_sensory", "f_waves", "blink_reflex", "emg", "mri")
TRUTH_COLUMNS = ["patient_id", "scenario", "emg_denervation", "ncs_neuropathy",
                 "denervation_explained_by_ncs", "ncs_abnormal_without_denervation",
                 "lmn_involvement", "lmn_with_corresponding_mri", "lmn_segments"]


def allocate_scenarios(rng: np.random.Generator, params: dict[str, Any], n: int | None = None,
                       exact: bool = True) -> np.ndarray:
    """Latent scenario of each patient, in random order.

    Parameters
    ----------
    rng : numpy.random.Generator
    params : dict
        :func:`load_patterns` output.
    n : int, optional
        Number of patients. ``None`` gives the bundled demonstration cohort: exactly
        ``demo_count`` patients of each scenario. Otherwise scenarios are allocated by their
        ``proportion`` (default ``demo_count`` / total).
    exact : bool
        With ``n``: exact largest-remainder counts (default) or independent (multinomial)
        draws, so that counts vary around the proportions.
    """
    sc = params["scenarios"]
    unknown = set(sc) - set(SCENARIO_BUILDERS)
    if unknown:
        raise EdxreviewError(f"no builder for scenario(s) {sorted(unknown)!r}; "
                             f"known: {sorted(SCENARIO_BUILDERS)!r}")
    if n is None:
        counts = {k: int(v.get("demo_count", 0)) for k, v in sc.items()}
    else:
        total = sum(v.get("demo_count", 0) for v in sc.values())
        props = {k: v.get("proportion", v.get("demo_count", 0) / total) for k, v in sc.items()}
        if not exact:
            return draw_categories(rng, props, n)
        counts = allocate_counts(n, props)
    labels = np.repeat(np.array(list(counts), dtype=object), list(counts.values()))
    return rng.permutation(labels)


def build_study(rng: np.random.Generator, scenarios: np.ndarray, params: dict[str, Any],
                exact: bool = True) -> SynthStudy:
    """Demographics, a normal baseline for everyone, then every scenario's builder."""
    patients = draw_patients(rng, scenarios, params, exact=exact)
    study = draw_protocol(rng, patients, params)
    for name, builder in SCENARIO_BUILDERS.items():
        ids = patients.loc[patients["scenario"] == name, "patient_id"].to_numpy(object)
        if len(ids):
            builder(rng, study, ids, params)
    _trim_emg(rng, study, params["protocol"]["emg_muscles"]["max"])
    return study


def _trim_emg(rng: np.random.Generator, study: SynthStudy, max_muscles: int) -> None:
    """At most ``max_muscles`` muscles per patient: drop background muscles first."""
    emg = study.emg.iloc[rng.permutation(len(study.emg))]
    emg = emg.sort_values("required", ascending=False, kind="stable")
    keep = emg.groupby("patient_id", sort=False).cumcount() < max_muscles
    study.emg = emg.loc[keep].reset_index(drop=True)


# ----------------------------------------------------------------------------------------------
# sheets
# ----------------------------------------------------------------------------------------------

def _fmt(values, decimals: int, nr=None) -> np.ndarray:
    """Numbers as fixed-decimal text; NaN as an empty cell; ``nr`` rows as ``NR``."""
    v = np.asarray(values, dtype=float)
    missing = np.isnan(v)
    out = np.char.mod(f"%.{decimals}f", np.where(missing, 0.0, v)).astype(object)
    out[missing] = ""
    if nr is not None:
        out[np.asarray(nr, dtype=bool)] = "NR"
    return out


def _blank(rng: np.random.Generator, values: np.ndarray, rate: float, eligible=None) -> np.ndarray:
    """Blank optional cells at ``rate`` (only where ``eligible``)."""
    hit = rng.random(len(values)) < rate
    if eligible is not None:
        hit &= np.asarray(eligible, dtype=bool)
    out = np.asarray(values, dtype=object).copy()
    out[hit] = ""
    return out


def _yes_no(values) -> np.ndarray:
    return np.where(np.asarray(values, dtype=bool), "yes", "no").astype(object)


def _motor_long(study: SynthStudy, params: dict[str, Any]) -> pd.DataFrame:
    """One row per stimulation site, distal first, velocity on the proximal row."""
    parts = []
    for nerve, w in study.motor.groupby("nerve", sort=False):
        g = params["motor"][nerve]
        lat = w["latency_ms"].to_numpy(float)
        distal = w["amplitude_mv"].to_numpy(float)
        amp = distal
        # written proximal amplitudes never fall below this fraction of the written distal one,
        # so rounding small CMAPs cannot fake a conduction block; a segment drawn with a ratio
        # below the normal range is a block (a scenario's), and the sites above it are held to
        # the same fraction of the CMAP it left
        normal_min = params["motor_common"]["proximal_amplitude_ratio"]["min"]
        floor = distal * normal_min
        for k, (site, dist) in enumerate(zip(g["sites"], g["distances_mm"])):
            cv = np.full(len(w), np.nan)
            if k > 0:
                cv = w[f"velocity_{k}_m_s"].to_numpy(float)
                lat = lat + dist / cv
                ratio = w[f"ratio_{k}"].to_numpy(float)
                blocked = ratio < normal_min
                amp = round_within(amp * ratio, 1, np.where(blocked, 0.1, floor))
                floor = np.where(blocked, amp * normal_min, floor)
            parts.append(pd.DataFrame({
                "patient_id": w["patient_id"].to_numpy(object), "nerve": nerve,
                "side": w["side"].to_numpy(object), "stim_site": site, "site_order": k,
                "latency_ms": round_within(lat, 2), "amplitude_mv": amp,
                "velocity_m_s": cv, "distance_mm": float(dist) if dist else np.nan,
                "temperature_c": w["temperature_c"].to_numpy(float), "nr": w["nr"].to_numpy(bool),
                "required": w["required"].to_numpy(bool),
            }))
    return pd.concat(parts, ignore_index=True)


def _order(frame: pd.DataFrame, by: list[str], orders: dict[str, list[str]]) -> pd.DataFrame:
    keys = {c: frame[c].map({v: i for i, v in enumerate(o)}) for c, o in orders.items()}
    tmp = frame.assign(**{f"_{c}": k for c, k in keys.items()})
    cols = [f"_{c}" if c in orders else c for c in by]
    return tmp.sort_values(cols, kind="stable").drop(columns=[f"_{c}" for c in orders])


def to_sheets(rng: np.random.Generator, study: SynthStudy, params: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """The workbook's sheets (all cells as text, spec column names), sorted by patient."""
    pr = params["protocol"]
    miss = pr["missing_rate"]
    sides = ["L", "R", ""]
    p = study.patients
    patients = pd.DataFrame({
        "patient_id": p["patient_id"], "sex": p["sex"], "age_years": p["age_years"].astype(str),
        "height_cm": _blank(rng, p["height_cm"].astype(str).to_numpy(object), miss),
        "diagnosis": p["diagnosis"], "aqp4_igg": p["aqp4_igg"], "mog_igg": p["mog_igg"],
        "disease_duration_months": _blank(rng, p["disease_duration_months"].astype(str).to_numpy(object), miss),
        "edss": _fmt(p["edss"], 1), "weakness": _yes_no(p["weakness"]),
        "atrophy": _yes_no(p["atrophy"]), "hyporeflexia": _yes_no(p["hyporeflexia"]),
    }).sort_values("patient_id", kind="stable")

    m = _motor_long(study, params)
    m = _order(m, ["patient_id", "nerve", "side", "site_order"],
               {"nerve": list(params["motor"]), "side": sides})
    # "fibular" spelling chosen per peroneal study (all its sites spelled alike)
    row_key = m["patient_id"] + "|" + m["side"]
    studies = pd.unique(row_key[m["nerve"] == "peroneal"])
    spell = pd.Series(rng.random(len(studies)) < pr["fibular_spelling"], index=studies)
    fibular = (m["nerve"] == "peroneal") & row_key.map(spell).fillna(False).astype(bool)
    ncs_motor = pd.DataFrame({
        "patient_id": m["patient_id"], "nerve": np.where(fibular, "fibular", m["nerve"]),
        "side": m["side"], "stim_site": m["stim_site"],
        "latency_ms": _fmt(m["latency_ms"], 2, m["nr"]), "amplitude_mv": _fmt(m["amplitude_mv"], 1, m["nr"]),
        "velocity_m_s": _fmt(np.where(m["nr"], np.nan, m["velocity_m_s"]), 1),
        "distance_mm": _blank(rng, _fmt(m["distance_mm"], 0), miss, ~m["required"]),
        "temperature_c": _blank(rng, _fmt(m["temperature_c"], 1), miss, ~m["required"]),
    })

    s = _order(study.sensory, ["patient_id", "nerve", "side"],
               {"nerve": list(params["sensory"]), "side": sides})
    ncs_sensory = pd.DataFrame({
        "patient_id": s["patient_id"], "nerve": s["nerve"], "side": s["side"],
        "latency_ms": _fmt(s["latency_ms"], 2, s["nr"]), "amplitude_uv": _fmt(s["amplitude_uv"], 1, s["nr"]),
        "velocity_m_s": _fmt(np.where(s["nr"], np.nan, s["velocity_m_s"].astype(float)), 1),
        "distance_mm": _blank(rng, _fmt(s["distance_mm"], 0), miss, ~s["required"].astype(bool)),
        "temperature_c": _blank(rng, _fmt(s["temperature_c"], 1), miss, ~s["required"].astype(bool)),
    })

    f = _order(study.fwave, ["patient_id", "nerve", "side"], {"nerve": list(params["motor"]), "side": sides})
    f_waves = pd.DataFrame({
        "patient_id": f["patient_id"], "nerve": f["nerve"], "side": f["side"],
        "min_latency_ms": _fmt(f["min_latency_ms"], 1),
        "persistence_pct": _blank(rng, _fmt(f["persistence_pct"], 0), miss),
    })

    b = _order(study.blink, ["patient_id", "side"], {"side": sides})
    blink = pd.DataFrame({"patient_id": b["patient_id"], "side": b["side"],
                          **{c: _fmt(b[c], 1, b[c].isna()) for c in ("r1_ms", "r2_ipsi_ms", "r2_contra_ms")}})

    emg_t = study.emg.assign(region=study.emg["muscle"].map(
        {k: v["region"] for k, v in params["muscles"].items()}))
    e = _order(emg_t, ["patient_id", "region", "muscle", "side"],
               {"region": ["cranial", "upper", "trunk", "lower"], "muscle": list(params["muscles"]),
                "side": sides})
    alias = e["muscle"].map({k: v.get("alias", "") for k, v in params["muscles"].items()})
    use_alias = (alias != "") & (rng.random(len(e)) < pr["alias_spelling"])
    optional_blank = ~e["required"].astype(bool)
    emg = pd.DataFrame({
        "patient_id": e["patient_id"], "muscle": np.where(use_alias, alias, e["muscle"]),
        "side": e["side"], "insertional": _blank(rng, e["insertional"].to_numpy(object), miss, optional_blank),
        "fibs": e["fibs"], "psw": e["psw"], "fasciculations": e["fasciculations"],
        "muap_amplitude": e["muap_amplitude"], "muap_duration": e["muap_duration"],
        "polyphasia": _blank(rng, e["polyphasia"].to_numpy(object), miss, optional_blank),
        "recruitment": e["recruitment"],
    })

    r = study.mri.assign(_r=study.mri["region"].map({"spinal_cord": 0, "brainstem": 1, "brain": 2}))
    r = r.sort_values(["patient_id", "_r", "level_from"], kind="stable")
    mri = pd.DataFrame({"patient_id": r["patient_id"], "region": r["region"],
                        "level_from": r["level_from"], "level_to": r["level_to"],
                        "location": r["location"], "enhancement": _yes_no(r["enhancement"])})

    sheets = {"patients": patients, "ncs_motor": ncs_motor, "ncs_sensory": ncs_sensory,
              "f_waves": f_waves, "blink_reflex": blink, "emg": emg, "mri": mri}
    return {k: v.reset_index(drop=True).astype(str) for k, v in sheets.items()}


# ----------------------------------------------------------------------------------------------
# truth
# ----------------------------------------------------------------------------------------------

def _segment_label(segments: set[str], nuclei: set[str]) -> str:
    idx = sorted(SEGMENTS.index(s) for s in segments)
    runs, start = [], None
    for k, i in enumerate(idx):
        if start is None:
            start = i
        if k == len(idx) - 1 or idx[k + 1] != i + 1:
            runs.append(SEGMENTS[start] if start == i else f"{SEGMENTS[start]}-{SEGMENTS[i]}")
            start = None
    return "; ".join(runs + sorted(nuclei))


def truth_table(study: SynthStudy, params: dict[str, Any]) -> pd.DataFrame:
    """The intended classification of each patient (what its scenario was built to be).

    ``lmn_segments`` lists the main roots (or brainstem nucleus) of the denervated muscles of
    patients with LMN involvement, as written in the patterns file.
    """
    sc = params["scenarios"]
    p = study.patients
    flag = {k: p["scenario"].map({s: bool(v.get(k, False)) for s, v in sc.items()}).to_numpy(bool)
            for k in ("denervation", "neuropathy", "explained", "mri_match")}
    den, neu = flag["denervation"], flag["neuropathy"]
    explained = den & flag["explained"]
    lmn = den & ~flag["explained"]

    e = study.emg
    acute = e["fibs"].isin(["1+", "2+", "3+", "4+"]) | e["psw"].isin(["1+", "2+", "3+", "4+"])
    chronic = (e["muap_duration"] == "increased") | (e["muap_amplitude"] == "increased")
    denervated = e.loc[acute | chronic, ["patient_id", "muscle"]]
    labels = {}
    lmn_ids = set(p.loc[lmn, "patient_id"])
    for pid, muscles in denervated[denervated["patient_id"].isin(lmn_ids)].groupby("patient_id")["muscle"]:
        segs, nuclei = set(), set()
        for mname in set(muscles):
            info = params["muscles"][mname]
            segs.update(info.get("main_roots", []))
            if info.get("nucleus") and not info.get("main_roots"):
                nuclei.add(info["nucleus"])
        labels[pid] = _segment_label(segs, nuclei)
    truth = pd.DataFrame({
        "patient_id": p["patient_id"], "scenario": p["scenario"],
        "emg_denervation": den, "ncs_neuropathy": neu,
        "denervation_explained_by_ncs": explained, "ncs_abnormal_without_denervation": neu & ~den,
        "lmn_involvement": lmn, "lmn_with_corresponding_mri": lmn & flag["mri_match"],
        "lmn_segments": map_text(p["patient_id"], pd.Series(labels, dtype=object)),
    })
    for c in TRUTH_COLUMNS[2:8]:
        truth[c] = np.where(truth[c], "true", "false")
    return truth.sort_values("patient_id", kind="stable").reset_index(drop=True)[TRUTH_COLUMNS]


# ----------------------------------------------------------------------------------------------
# public entry points
# ----------------------------------------------------------------------------------------------

def generate_cohort(seed: int | np.random.Generator, n: int | None = None,
                    params: dict[str, Any] | None = None,
                    exact: bool = True,
                    borderline: bool = False) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Generate a synthetic NMOSD study workbook and its truth table.

    Parameters
    ----------
    seed : int or numpy.random.Generator
        Seed (or generator); the same seed and parameters give identical output.
    n : int, optional
        Number of patients; ``None`` gives the bundled 59-patient demonstration cohort with
        exactly ``demo_count`` patients per scenario. Larger cohorts allocate scenarios by
        proportion and draw demographics independently.
    params : dict, optional
        :func:`load_patterns` output; the bundled ``patterns.toml`` by default.
    exact : bool
        With ``n``: allocate scenarios in exact proportions (default) or by independent draws.
    borderline : bool
        Draw values close to the reference limits (``[margins_borderline]`` of the patterns
        file), still on the side each scenario needs, instead of clearly normal or abnormal.

    Returns
    -------
    sheets : dict of str to pandas.DataFrame
        ``patients``, ``ncs_motor``, ``ncs_sensory``, ``f_waves``, ``blink_reflex``, ``emg``,
        ``mri``; every cell is text as it would be typed (``NR`` for absent responses).
    truth : pandas.DataFrame
        Patient id, latent scenario, the six intended classifications and the intended LMN
        segments. Keep it out of the workbook.

    Raises
    ------
    InvalidParameterError
        ``seed`` is neither an int nor a Generator, ``n`` is not a positive whole number,
        ``exact`` or ``borderline`` is not a bool (all checked before any work).
    EdxreviewError
        ``params`` names a scenario that has no builder.

    Examples
    --------
    >>> from edxreview.synth import generate_cohort
    >>> sheets, truth = generate_cohort(seed=1, n=20)
    >>> len(sheets["patients"]), len(truth)
    (20, 20)
    >>> generate_cohort(seed=1, n=0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    edxreview._errors.InvalidParameterError: Invalid value for the 'n' parameter: 0. ...
    """
    check_type("seed", seed, (int, np.integer, np.random.Generator),
               "an int or a numpy.random.Generator")
    if n is not None and (isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1):
        raise InvalidParameterError(
            f"Invalid value for the 'n' parameter: {n!r}. Give a positive whole number of "
            "patients, or None for the bundled 59-patient cohort.")
    check_bool("exact", exact)
    check_bool("borderline", borderline)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    params = load_patterns() if params is None else params
    if borderline:
        params = {**params, "margins": {**params["margins"], **params.get("margins_borderline", {})}}
    scenarios = allocate_scenarios(rng, params, n, exact=exact)
    study = build_study(rng, scenarios, params, exact=n is None)
    return to_sheets(rng, study, params), truth_table(study, params)


def write_csv_folder(sheets: dict[str, pd.DataFrame], folder: str | Path, *,
                     force: bool = False) -> list[Path]:
    """Write each sheet as ``<sheet>.csv`` (UTF-8, ``\\n`` line ends) into a folder of its own.

    The folder is written as ``edxreview synth --out`` writes it: into a hidden temporary
    folder beside it, moved into place when complete, with the manifest
    ``.edxreview-output.json`` listing the files. An existing folder that is not empty is never
    written into or over without ``force``, and ``force`` replaces only a folder edxreview wrote
    that holds no file its manifest does not list: a user's own files are never overwritten.

    Parameters
    ----------
    sheets : dict of str to DataFrame
        The workbook's sheets, as :func:`generate_cohort` returns them.
    folder : str or Path
        The folder to write; created if missing; an existing one must be empty (or ``force``).
    force : bool
        Replace an existing non-empty ``folder`` that edxreview wrote.

    Returns
    -------
    list of Path
        The files written, one per sheet.

    Raises
    ------
    InvalidParameterError
        ``sheets`` lacks one of the workbook's sheets, or ``force`` is not a bool (checked
        before anything is written).
    OutputExistsError
        ``folder`` exists and is not empty, and ``force`` is false.
    OutputPathError
        ``folder`` is a file, holds files edxreview did not write, or is being written by
        another edxreview command; nothing is written.
    OSError
        The folder cannot be created or written.

    Examples
    --------
    >>> import edxreview
    >>> from edxreview.synth import generate_cohort, write_csv_folder
    >>> sheets, truth = generate_cohort(seed=7, n=12)
    >>> paths = write_csv_folder(sheets, "synthetic-study")
    >>> [p.name for p in paths][:2]
    ['patients.csv', 'ncs_motor.csv']
    >>> edxreview.review("synthetic-study").summary["n_patients"] <= 12
    True
    >>> paths = write_csv_folder(sheets, "synthetic-study", force=True)  # edxreview wrote it
    """
    from .._output import OutputFolder

    check_bool("force", force)
    missing = [name for name in SHEET_NAMES if name not in sheets]
    if missing:
        raise InvalidParameterError(
            f"Invalid value for the 'sheets' parameter: no sheet {missing!r}. Give every sheet "
            f"of the workbook: {list(SHEET_NAMES)!r}.")
    check_type("folder", folder, (str, Path), "the path of the folder to write")
    with OutputFolder(folder, force=force, command="synth",
                      spelled=("folder", "force=True")) as output:
        for name in SHEET_NAMES:
            sheets[name].to_csv(output.staging / f"{name}.csv", index=False, encoding="utf-8",
                                lineterminator="\n")
        output.commit()
    return [Path(folder) / f"{name}.csv" for name in SHEET_NAMES]
