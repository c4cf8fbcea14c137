"""Per-patient nerve conduction tables in the layout EMG laboratories print.

One row per nerve × stimulation site (Natus / Cadwell style): latency, amplitude, duration and
area where given, the segment to the previous site, its distance and velocity, the limit beside
each value and the temperature. The measured values come from the validated workbook sheets
(so proximal latencies and amplitudes are shown); limits and flags come from ``values.csv``,
joined on the sheet row. Number formats and site names are data
(``report/data/edx_layout.toml``).
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InvalidParameterError
from ..io._validate import cooled_rows
from ..knowledge import load_anatomy
from ..knowledge._tables import read_table
from .._tables import isin
from ._frames import split_records


@lru_cache(maxsize=None)
def load_layout() -> dict[str, Any]:
    """The number formats, site names and flag marks of the per-patient tables."""
    text = resources.files("edxreview.report").joinpath("data/edx_layout.toml").read_text(
        encoding="utf-8")
    return tomllib.loads(text)


def format_number(values: pd.Series, parameter: str) -> pd.Series:
    """``values`` as text in the one format of ``parameter`` ('' where missing).

    Raises ``KeyError`` for a parameter without a format in ``edx_layout.toml``.
    """
    decimals = int(load_layout()["parameters"][parameter]["decimals"])
    x = pd.to_numeric(values, errors="coerce").astype(float)
    spec = f"{{:.{decimals}f}}"
    return pd.Series(np.where(x.isna(), "", x.map(spec.format)), index=values.index,
                     dtype=object)


def display_names(kind: str, lang: str = "en") -> pd.Series:
    """Names of nerves, muscles or sites (``kind``) in ``lang``, by id.

    English names come from the anatomy tables; another language's from the first spelling
    of each id in ``knowledge/data/aliases_<lang>.csv``, falling back to the English name.
    """
    anatomy = load_anatomy()
    if kind == "muscle":
        english = anatomy.muscles["display_name"]
    elif kind == "nerve":
        english = anatomy.nerves["display_name"].str.replace(r"\s*\(.*\)$", "", regex=True)
    else:
        sites = pd.Index(anatomy.sites["site"].unique())
        english = pd.Series(sites.str.replace("_", " "), index=sites)
    if lang == "en":
        return english
    try:
        table, _ = read_table(f"aliases_{lang}")
    except InvalidParameterError:
        return english
    table = table[table["kind"] == kind]
    local = pd.Series(table["alias"].str.split("|").str[0].to_numpy(), index=table["id"])
    local = local[~local.index.duplicated()]
    return local.reindex(english.index).fillna(english)


def site_names(sites: pd.Series, lang: str = "en") -> pd.Series:
    """Site ids (``above_elbow``) as printed (``Above elbow``); muscles by their display name;
    anything else with its underscores as spaces. Another ``lang`` uses its alias names."""
    names = dict(load_layout()["sites"])
    muscles = load_anatomy().muscles["display_name"]
    if lang != "en":
        names = {**names, **display_names("site", lang).to_dict()}
        muscles = display_names("muscle", lang)
    text = sites.astype(object).where(sites.notna(), None)
    shown = text.map(names)
    shown = shown.fillna(text.map(muscles))
    rest = text.astype(str).str.replace("_", " ")
    rest = rest.str[:1].str.upper() + rest.str[1:]
    return shown.fillna(rest.where(text.notna(), "")).astype(object)


def _limits(values: pd.DataFrame, sheet: str, parameters: list[str]) -> pd.DataFrame:
    """Limit text, flag mark and abnormal flag per sheet row and parameter (wide)."""
    marks = load_layout()["flags"]
    v = values[values["sheet"].astype(str) == sheet]
    v = v[v["parameter"].isin(parameters) & pd.to_numeric(v["row"], errors="coerce").notna()]
    v = v.drop_duplicates(["patient_id", "row", "parameter"])
    out = pd.DataFrame(index=pd.MultiIndex.from_arrays(
        [v["patient_id"].astype(str), pd.to_numeric(v["row"]).astype("int64")],
        names=["patient_id", "_row"]).unique())
    for p in parameters:
        rows = v[v["parameter"] == p]
        idx = pd.MultiIndex.from_arrays([rows["patient_id"].astype(str),
                                         pd.to_numeric(rows["row"]).astype("int64")])
        sign = np.where(rows["bound"].astype(str) == "lower", "≥ ", "≤ ")
        limit = format_number(rows["limit"], p)
        text = pd.Series(np.where(limit != "", sign + limit.astype(str), ""), index=idx)
        flag = rows["flag"].astype(str).map(marks).fillna("")
        out[f"{p}__limit"] = text.reindex(out.index).fillna("")
        out[f"{p}__mark"] = pd.Series(flag.to_numpy(), index=idx).reindex(out.index).fillna("")
        out[f"{p}__abn"] = pd.Series(rows["abnormal"].astype(bool).to_numpy(),
                                     index=idx).reindex(out.index).fillna(False).astype(bool)
    return out


def _measured(raw: pd.DataFrame, limits: pd.DataFrame, parameters: list[str]) -> pd.DataFrame:
    """Each parameter's value text ('NR' for no response), limit, mark and abnormal flag."""
    key = pd.MultiIndex.from_arrays([raw["patient_id"].astype(str),
                                     raw["_row"].astype("int64")])
    lim = limits.reindex(key)
    out = pd.DataFrame(index=raw.index)
    for p in parameters:
        if p not in raw:
            out[p], out[f"{p}__limit"], out[f"{p}__mark"], out[f"{p}__abn"] = "", "", "", False
            continue
        text = format_number(raw[p], p)
        nr = raw.get(f"{p}_nr")
        if nr is not None:
            text = text.where(~nr.fillna(False).astype(bool), "NR")
        out[p] = text
        if f"{p}__limit" in lim:
            out[f"{p}__limit"] = lim[f"{p}__limit"].fillna("").to_numpy()
            out[f"{p}__mark"] = lim[f"{p}__mark"].fillna("").to_numpy()
            out[f"{p}__abn"] = lim[f"{p}__abn"].fillna(False).astype(bool).to_numpy()
        else:
            out[f"{p}__limit"], out[f"{p}__mark"], out[f"{p}__abn"] = "", "", False
        # a no-response value is marked even where no limit applies to it
        if nr is not None:
            absent = nr.fillna(False).astype(bool).to_numpy()
            out[f"{p}__abn"] = out[f"{p}__abn"].to_numpy() | absent
    return out


def _mark_cooled(out: pd.DataFrame, raw: pd.DataFrame) -> pd.DataFrame:
    """The temperature of a row recorded below its limb's limit marked as a low value, with
    the limit beside it (:func:`edxreview.io._validate.cooled_rows`, the validation warning's
    definition)."""
    if "temperature_c" not in raw or not len(raw):
        return out
    rows = cooled_rows(raw)
    limit = format_number(rows["temperature_limit_c"], "temperature_c")
    out["temperature_c__limit"] = np.where(limit != "", "≥ " + limit.astype(str), "")
    out["temperature_c__abn"] = rows["cooled"].to_numpy()
    out["temperature_c__mark"] = np.where(rows["cooled"], load_layout()["flags"]["low"], "")
    return out


MOTOR = ["latency_ms", "amplitude_mv", "duration_ms", "area_mvms", "distance_mm",
         "velocity_m_s", "temperature_c"]
SENSORY = ["latency_ms", "amplitude_uv", "distance_mm", "velocity_m_s", "temperature_c"]
F_WAVES = ["min_latency_ms", "persistence_pct"]
BLINK = ["r1_ms", "r2_ipsi_ms", "r2_contra_ms"]


def _records(frame: pd.DataFrame, parameters: list[str], head: list[str]) -> list[str]:
    return head + [c for p in parameters for c in (p, f"{p}__limit", f"{p}__mark", f"{p}__abn")]


def motor_table(raw: pd.DataFrame, values: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """Motor NCS, one row per nerve × side × recording × stimulation site, distal first.

    ``segment`` names the stretch from the previous (more distal) site, where the row has a
    velocity.
    """
    sites = load_anatomy().sites
    raw = raw.copy()
    rank = pd.Series(sites["site_rank"].to_numpy(dtype=float),
                     index=pd.MultiIndex.from_arrays([sites["nerve"], sites["site"]]))
    key = pd.MultiIndex.from_arrays([raw["nerve"].astype(str), raw["stim_site"].astype(str)])
    raw["_rank"] = rank.reindex(key).to_numpy()
    default = load_anatomy().nerves["default_recording_site"].replace("", None)
    rec = raw["recording_site"].astype(object)
    raw["recording_site"] = rec.where(rec.notna(), raw["nerve"].astype(object).map(default))
    raw["_rec"] = raw["recording_site"].fillna("").astype(str)
    # nerves in the order the workbook lists them; within one, distal site first
    raw["_first"] = raw.groupby(["patient_id", "nerve", "side", "_rec"])["_row"] \
        .transform("min")
    raw = raw.sort_values(["patient_id", "_first", "_rank", "_row"],
                          ascending=[True, True, False, True], kind="stable")
    group = [raw["patient_id"], raw["nerve"], raw["side"], raw["_rec"]]
    raw["site_text"] = site_names(raw["stim_site"], lang)
    prev = raw.groupby(group, sort=False)["site_text"].shift(1)
    has_cv = pd.to_numeric(raw.get("velocity_m_s"), errors="coerce").notna()
    raw["segment"] = np.where(has_cv & prev.notna(),
                              prev.fillna("").astype(str) + " – " + raw["site_text"], "")
    raw["first"] = ~raw.duplicated(["patient_id", "nerve", "side", "_rec"])
    raw["nerve_text"] = _nerve_names(raw["nerve"], lang)
    raw["recording_text"] = site_names(raw["recording_site"], lang)
    out = pd.concat([raw[["patient_id", "nerve_text", "side", "site_text", "recording_text",
                          "segment", "first"]],
                     _measured(raw, _limits(values, "ncs_motor", MOTOR), MOTOR)], axis=1)
    return _mark_cooled(out, raw)


def sensory_table(raw: pd.DataFrame, values: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """Sensory NCS, one row per nerve × side × stimulation → recording site."""
    raw = raw.sort_values(["patient_id", "_row"], kind="stable").copy()
    raw["nerve_text"] = _nerve_names(raw["nerve"], lang)
    raw["site_text"] = site_names(raw["stim_site"], lang) if "stim_site" in raw else ""
    raw["recording_text"] = site_names(raw["recording_site"], lang) if "recording_site" in raw \
        else ""
    raw["method_text"] = raw["method"].astype(object).fillna("").astype(str) \
        if "method" in raw else ""
    out = pd.concat([raw[["patient_id", "nerve_text", "side", "site_text", "recording_text",
                          "method_text"]],
                     _measured(raw, _limits(values, "ncs_sensory", SENSORY), SENSORY)], axis=1)
    return _mark_cooled(out, raw)


def f_wave_table(raw: pd.DataFrame, values: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """F-waves, one row per nerve × side."""
    raw = raw.sort_values(["patient_id", "_row"], kind="stable").copy()
    raw["nerve_text"] = _nerve_names(raw["nerve"], lang)
    return pd.concat([raw[["patient_id", "nerve_text", "side"]],
                      _measured(raw, _limits(values, "f_waves", F_WAVES), F_WAVES)], axis=1)


def blink_table(raw: pd.DataFrame, values: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """Blink reflex, one row per side stimulated."""
    raw = raw.sort_values(["patient_id", "side", "_row"], kind="stable").copy()
    return pd.concat([raw[["patient_id", "side"]],
                      _measured(raw, _limits(values, "blink_reflex", BLINK), BLINK)], axis=1)


def _nerve_names(nerves: pd.Series, lang: str = "en") -> pd.Series:
    names = display_names("nerve", lang)
    text = nerves.astype(object)
    return text.map(names).fillna(text.astype(str).str.replace("_", " ")).astype(object)


def temperatures(tables: dict[str, pd.DataFrame], keep: pd.Index) -> dict[Any, str]:
    """Each patient's limb temperatures as one line ('33.9 °C'; range where they differ)."""
    frames = [t[["patient_id", "temperature_c"]] for name, t in tables.items()
              if name in ("ncs_motor", "ncs_sensory") and "temperature_c" in t]
    if not frames:
        return {}
    t = pd.concat(frames)
    t = t[isin(t["patient_id"], keep)].dropna(subset=["temperature_c"])
    if not len(t):
        return {}
    g = t.groupby(t["patient_id"].astype(str))["temperature_c"].agg(["min", "max"])
    lo, hi = format_number(g["min"], "temperature_c"), format_number(g["max"], "temperature_c")
    text = np.where(lo == hi, lo + " °C", lo + "–" + hi + " °C")
    return dict(zip(g.index, text))


def ncs_notes(result, keep: pd.Index, words: dict[str, Any]) -> dict[str, list[str]]:
    """Notes beneath each patient's NCS tables, in the words of the label file ``words``
    (table ``page``): the temperature limits a recording fell below (``cooled_note``;
    :func:`edxreview.io._validate.cooled_rows`) and the reference height of height-adjusted
    limits taken for a patient whose height is not given (``height_note``; ``values.csv``
    ``height_assumed_cm``). Keyed by the patient id as text."""
    page = words["page"]
    notes: dict[str, list[str]] = {}
    frames = [t[["patient_id", "nerve", "temperature_c"]] for name, t in result.study.tables.items()
              if name in ("ncs_motor", "ncs_sensory") and "temperature_c" in t and len(t)]
    if frames:
        t = pd.concat(frames, ignore_index=True)
        t = t[isin(t["patient_id"], keep)]
        rows = cooled_rows(t)
        cold = pd.DataFrame({"patient_id": t["patient_id"].astype(str).to_numpy(),
                             "limit": rows["temperature_limit_c"].to_numpy()})[
            rows["cooled"].to_numpy()].drop_duplicates().sort_values("limit", ascending=False)
        cold["text"] = "≥ " + format_number(cold["limit"], "temperature_c") + " °C"
        for pid, limits in cold.groupby("patient_id", sort=False)["text"]:
            notes.setdefault(pid, []).append(page["cooled_note"].format(
                limits=words["summary"]["list"].join(limits)))
    v = result.values
    if "height_assumed_cm" in v and len(v):
        v = v[isin(v["patient_id"], keep) & v["height_assumed_cm"].notna()]
        param = v["parameter"].astype(str)
        v = pd.DataFrame({"patient_id": v["patient_id"].astype(str).to_numpy(),
                          "parameter": param.map(words["parameters"]).fillna(param).to_numpy(),
                          "height": v["height_assumed_cm"].map("{:g}".format).to_numpy()})
        for pid, rows in v.groupby("patient_id", sort=False):
            join = words["summary"]["list"].join
            notes.setdefault(pid, []).append(page["height_note"].format(
                parameters=join(dict.fromkeys(rows["parameter"])),
                height=join(dict.fromkeys(rows["height"]))))
    return notes


def edx_pages(result, keep: pd.Index, lang: str = "en", sides: dict[str, str] | None = None
              ) -> dict[str, dict[Any, list[dict[str, Any]]]]:
    """The per-patient NCS tables of the patients ``keep``: table name → patient → rows.

    ``sides``, when given, names the sides (``L`` → its word in the report's language)."""
    tables = result.study.tables
    out: dict[str, dict[Any, list[dict[str, Any]]]] = {}
    builders = {"motor": ("ncs_motor", motor_table, MOTOR,
                          ["nerve_text", "side", "site_text", "recording_text", "segment",
                           "first"]),
                "sensory": ("ncs_sensory", sensory_table, SENSORY,
                            ["nerve_text", "side", "site_text", "recording_text",
                             "method_text"]),
                "f_waves": ("f_waves", f_wave_table, F_WAVES, ["nerve_text", "side"]),
                "blink": ("blink_reflex", blink_table, BLINK, ["side"])}
    for name, (sheet, build, params, head) in builders.items():
        raw = tables.get(sheet)
        if raw is None or not len(raw):
            out[name] = {}
            continue
        raw = raw[isin(raw["patient_id"], keep)]
        if not len(raw):
            out[name] = {}
            continue
        frame = build(raw, result.values, lang)
        if sides is not None:
            frame["side"] = frame["side"].astype(object).map(sides).fillna(frame["side"])
        frame["patient_id"] = frame["patient_id"].astype(object)
        out[name] = split_records(frame, _records(frame, params, head))
    return out
