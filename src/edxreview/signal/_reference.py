"""A laboratory's own MUAP reference, built from its control subjects, and the reading of a
muscle against it (z-scores of the MUAP means)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from edxreview._errors import InvalidInputError
from edxreview.signal._acceptance import accepted_muaps, describe_rejections
from edxreview.signal._classify import Reading, normalize_muscle
from edxreview.signal._params import load_signal_parameters, signal_parameters_version

REFERENCE_FORMAT = "edxreview-lab-reference/1"
_STATS = ["mean", "sd_between", "sd_within", "n_recordings", "n_subjects", "n_muaps"]


def muap_features(muaps: pd.DataFrame) -> pd.DataFrame:
    """The reference features of each MUAP (whole-table).

    ``log_amplitude`` is log10 of the peak-to-peak amplitude in µV (ADC units when
    uncalibrated); ``size_index`` = k log10(amplitude, mV) + thickness (ms), calibrated only,
    k the ``size_index_log_amplitude_factor`` of section ``lab_reference`` (Sonoo & Stalberg
    1993).
    """
    k = float(load_signal_parameters()["lab_reference"]["size_index_log_amplitude_factor"])
    amp_uv = pd.to_numeric(muaps.get("amplitude_uv"), errors="coerce")
    amp_adu = pd.to_numeric(muaps.get("amplitude_adu"), errors="coerce")
    calibrated = amp_uv.notna()
    amp = amp_uv.where(calibrated, amp_adu)
    out = pd.DataFrame({
        "duration_ms": muaps["duration_ms"].astype(float),
        "log_amplitude": np.log10(amp.where(amp > 0)),
        "phases": muaps["phases"].astype(float),
        "turns": muaps["turns"].astype(float),
        "thickness_ms": muaps["thickness_ms"].astype(float),
    }, index=muaps.index)
    out["size_index"] = (k * np.log10(amp_uv.where(amp_uv > 0) / 1e3) + out["thickness_ms"])
    return out


@dataclass
class LabReference:
    """MUAP reference of one laboratory: per muscle and feature the control mean, the
    between-recording SD of recording means and the within-recording SD of single MUAPs.

    Attributes
    ----------
    lab : str
        Name of the laboratory / equipment the controls were recorded with.
    amplitude_unit : {"uV", "adu"}
        Unit of the amplitudes behind ``log_amplitude`` (``adu``: uncalibrated).
    table : pandas.DataFrame
        Index (muscle, feature); columns ``mean``, ``sd_between``, ``sd_within``,
        ``n_recordings``, ``n_subjects``, ``n_muaps``.
    centroids : pandas.DataFrame, optional
        Index (muscle, class); columns ``z_<feature>`` (the class's mean z-vector) and
        ``n_units`` (subject-muscles behind it): :func:`fit_centroids`.
    classifier : LabClassifier, optional
        The lab classifier trained on the laboratory's labelled subjects
        (:func:`~edxreview.signal._classifier.fit_classifier`).
    classifier_status : str
        Empty, or why labelled subjects were given but gave no valid classifier.
    recorded : dict
        How the controls were recorded and measured: ``fs_hz`` (their sampling rates),
        ``sorting`` (the decomposition that measured them), ``edxreview`` (the version),
        ``parameters`` (the version of ``emg_signal_parameters.toml``) and ``trained_per`` (the
        unit the centroids and the classifier were trained on: ``subject-muscle`` or
        ``subject-muscle-side``) and ``training_unit`` (the lab classifier's training rows,
        ``[lab_classifier] training_unit``: ``recording`` or ``subject_muscle``); empty for a
        reference written before these were stored (the last three: before they were).
        :func:`reference_mismatches`
        compares a recording with them.
    """

    lab: str
    amplitude_unit: str
    table: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    centroids: pd.DataFrame | None = None
    classifier: object | None = None
    classifier_status: str = ""
    recorded: dict = field(default_factory=dict)

    def muscles(self) -> list[str]:
        return sorted(self.table.index.get_level_values("muscle").unique())

    def write(self, path: str | Path, *, force: bool = False) -> None:
        """Write the reference as TOML (one table per muscle and feature), whole or not at all.

        An existing file is never replaced without ``force``, and ``force`` replaces only a lab
        reference (a file whose first line names its format, ``format = "edxreview-lab-
        reference/..."``) or a link (the link, not what it leads to): any other file, a
        workbook given by mistake among them, is refused and nothing is written.

        Raises
        ------
        OutputExistsError
            ``path`` exists and ``force`` is false.
        OutputPathError
            ``path`` is a folder, or ``force`` is true and the file is no lab reference.
        """
        from edxreview._check import check_bool

        check_bool("force", force)
        self.write_checked(Path(path), force, "force=True")

    def write_checked(self, path: Path, force: bool, force_name: str) -> None:
        """:meth:`write`, ``force`` spelled ``force_name`` in its messages (the command line's
        ``--force``)."""
        from edxreview._output import write_whole

        refuse_reference_path(path, force, force_name)
        write_whole(path, self._write_toml)

    def _write_toml(self, path: Path) -> None:
        """The reference written as TOML to the new file ``path``."""
        lines = [f'format = "{REFERENCE_FORMAT}"', f"lab = {_q(self.lab)}",
                 f'amplitude_unit = "{self.amplitude_unit}"',
                 "notes = [" + ", ".join(_q(n) for n in self.notes) + "]", ""]
        if self.recorded:
            r = self.recorded
            lines += ["[recorded]", "fs_hz = [" + ", ".join(_num(v) for v in r["fs_hz"]) + "]",
                      f"sorting = {_q(r['sorting'])}", f"edxreview = {_q(r['edxreview'])}"]
            if r.get("parameters"):
                lines.append(f"parameters = {_q(r['parameters'])}")
            if r.get("trained_per"):
                lines.append(f"trained_per = {_q(r['trained_per'])}")
            if r.get("training_unit"):
                lines.append(f"training_unit = {_q(r['training_unit'])}")
            lines.append("")
        for (mus, feat), r in self.table.iterrows():
            lines.append(f"[muscles.{mus}.{feat}]")
            for k in _STATS:
                v = r[k]
                lines.append(f"{k} = {int(v)}" if k.startswith("n_") else f"{k} = {float(v)!r}")
            for k in _OUTLIER_COLS:
                v = r.get(k, np.nan)
                if pd.notna(v):
                    lines.append(f"{k} = {int(v)}" if k.startswith("n_") else f"{k} = {float(v)!r}")
            lines.append("")
        if self.centroids is not None:
            for (mus, cls), r in self.centroids.iterrows():
                lines.append(f"[centroids.{mus}.{cls}]")
                lines += [f"{k} = {int(v)}" if k == "n_units" else f"{k} = {float(v)!r}"
                          for k, v in r.items()]
                lines.append("")
        if self.classifier is not None or self.classifier_status:
            lines += _classifier_toml(self.classifier, self.classifier_status)
        Path(path).write_text("\n".join(lines), encoding="utf-8")


def refuse_reference_path(path: Path, force: bool, force_name: str) -> None:
    """Refuse a ``path`` a lab reference may not be written to: a folder; an existing file
    without ``force``; with ``force``, a file that is no lab reference (its first line does not
    name the format), so that a laboratory's other files are never overwritten. A link is
    replaced with ``force``, never written through: what it leads to is kept.

    Raises
    ------
    OutputExistsError
        ``path`` exists and ``force`` is false.
    OutputPathError
        ``path`` is a folder, or the file is no lab reference.
    """
    from edxreview._errors import OutputExistsError, OutputPathError
    from edxreview._output import replaceable_without_reading

    if replaceable_without_reading(path, force, force_name, "the lab reference",
                                   "give a file name such as lab-reference.toml",
                                   prefix="reference file "):
        return
    shown = repr(str(path))
    try:
        with open(path, "rb") as fh:
            first = fh.readline(200).strip()
    except OSError as exc:
        what = f"cannot be read ({exc.strerror or type(exc).__name__})"
    else:
        prefix = f'format = "{REFERENCE_FORMAT.rsplit("/", 1)[0]}/'.encode()
        if first.startswith(prefix):
            if force:
                return
            raise OutputExistsError(f"reference file {shown} exists; pass {force_name} to "
                                    "replace it")
        what = "is no lab reference (its first line does not name the format " \
               f"{REFERENCE_FORMAT!r})"
    raise (OutputPathError if force else OutputExistsError)(
        f"{shown} exists and {what}; {force_name} replaces only a lab reference, never another "
        "file: remove it yourself or choose another file name")


def _num(v: float) -> str:
    v = float(v)
    return repr(v) if np.isfinite(v) else "nan"


def _classifier_toml(model, status: str) -> list[str]:
    """The ``[classifier]`` tables of a reference: plain data (features, classes, penalty,
    coefficients, intercepts, per-muscle control mean and SD, training counts)."""
    lines = ["[classifier]", f"status = {_q(status)}"]
    if model is None:
        return lines + [""]
    lines += ["features = [" + ", ".join(_q(f) for f in model.features) + "]",
              "classes = [" + ", ".join(_q(c) for c in model.classes) + "]",
              f"c = {_num(model.c)}",
              "intercept = [" + ", ".join(_num(v) for v in model.intercept) + "]",
              "coef = [" + ", ".join("[" + ", ".join(_num(v) for v in row) + "]"
                                      for row in model.coef) + "]", ""]
    for name, d in model.counts.items():
        lines.append(f"[classifier.counts.{name}]")
        lines += [f"{_q(k)} = {int(v)}" for k, v in d.items()] + [""]
    for mus in model.muscles():
        lines.append(f"[classifier.muscles.{mus}]")
        lines.append("centre = [" + ", ".join(_num(v) for v in model.centre.loc[mus, model.features]) + "]")
        lines.append("scale = [" + ", ".join(_num(v) for v in model.scale.loc[mus, model.features]) + "]")
        lines.append("")
    if model.transfer:
        lines += _transfer_toml(model.transfer)
    return lines


def _transfer_toml(t: dict) -> list[str]:
    """``[classifier.transfer]``: where a re-centred model came from, its local control
    subjects per muscle and the muscles whose scale is borrowed."""
    lines = ["[classifier.transfer]", f"from_lab = {_q(t.get('from_lab', ''))}",
             f"from_reference = {_q(t.get('from_reference', ''))}",
             f"min_control_subjects = {int(t.get('min_control_subjects', 0))}",
             "borrowed_scale = [" + ", ".join(_q(m) for m in t.get("borrowed_scale", [])) + "]",
             ""]
    for name in ("local_control_subjects", "short_control_subjects"):
        lines.append(f"[classifier.transfer.{name}]")
        lines += [f"{_q(k)} = {int(v)}" for k, v in t.get(name, {}).items()] + [""]
    return lines


def _read_transfer(t, where: str) -> dict:
    """The ``[classifier.transfer]`` table of a reference document (empty when absent)."""
    if t is None:
        return {}
    if not isinstance(t, dict):
        raise InvalidInputError(f"{where}: [classifier.transfer] is not a table.")
    try:
        out = {"from_lab": str(t.get("from_lab", "")),
               "from_reference": str(t.get("from_reference", "")),
               "min_control_subjects": int(t["min_control_subjects"]),
               "local_control_subjects": {str(k): int(v) for k, v in
                                          t["local_control_subjects"].items()},
               "borrowed_scale": [str(m) for m in t.get("borrowed_scale", [])],
               "short_control_subjects": {str(k): int(v) for k, v in
                                          (t.get("short_control_subjects") or {}).items()}}
    except KeyError as exc:
        raise InvalidInputError(f"{where}: [classifier.transfer] {exc.args[0]}: missing.") from None
    except (AttributeError, TypeError, ValueError) as exc:
        raise InvalidInputError(f"{where}: [classifier.transfer] has a value of the wrong kind "
                                f"({exc}).") from None
    return out


def _read_classifier(doc: dict, where: str):
    """The classifier of a reference document (or None) and its status; located errors."""
    from edxreview.signal._classifier import LabClassifier

    c = doc.get("classifier")
    if c is None:
        return None, ""
    if not isinstance(c, dict):
        raise InvalidInputError(f"{where}: [classifier] is not a table.")
    status = str(c.get("status", ""))
    if "coef" not in c:
        return None, status
    def bad(key: str, what: str) -> InvalidInputError:
        return InvalidInputError(f"{where}: [classifier] {key}: {what}.")
    rows = c.get("coef")
    if isinstance(rows, list) and len({len(r) if isinstance(r, list) else -1 for r in rows}) > 1:
        raise bad("coef", "rows of different lengths (one row of coefficients per class, one "
                          "value per feature)")
    try:
        feats = [str(f) for f in c["features"]]
        classes = [str(k) for k in c["classes"]]
        coef = np.asarray(c["coef"], dtype=float)
        icpt = np.asarray(c["intercept"], dtype=float)
        cval = float(c["c"])
    except KeyError as exc:
        raise bad(str(exc.args[0]), "missing") from None
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{where}: [classifier] has a value that is not a number or a "
                                f"list of numbers ({exc}).") from None
    if coef.shape != (len(classes), len(feats)):
        raise bad("coef", f"shape {coef.shape!r}, expected {(len(classes), len(feats))!r} "
                          "(classes x features)")
    if icpt.shape != (len(classes),):
        raise bad("intercept", f"{icpt.size} values for {len(classes)} classes")
    muscles = c.get("muscles") or {}
    if not muscles:
        raise bad("muscles", "no muscle has a standardisation")
    cen, sca = {}, {}
    for mus, t in muscles.items():
        for k, dest in (("centre", cen), ("scale", sca)):
            v = np.asarray(t.get(k, []), dtype=float)
            if v.shape != (len(feats),):
                raise InvalidInputError(f"{where}: [classifier.muscles.{mus}] {k}: {v.size} "
                                        f"values for {len(feats)} features.")
            dest[mus] = v
    centre = pd.DataFrame(cen, index=feats).T
    scale = pd.DataFrame(sca, index=feats).T
    counts = {k: {str(a): int(b) for a, b in v.items()} for k, v in (c.get("counts") or {}).items()}
    transfer = _read_transfer(c.get("transfer"), where)
    return LabClassifier(feats, classes, centre, scale, coef, icpt, cval, counts, transfer), status


def _q(s: str) -> str:
    return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"') + '"'


def read_lab_reference(path: str | Path) -> LabReference:
    """Read a reference written by :meth:`LabReference.write`.

    Raises
    ------
    InvalidInputError
        The file is missing, not TOML, or not a lab reference (the message says which key).
    """
    p = Path(path)
    try:
        doc = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInputError(f"reference file {str(p)!r} not found.") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"reference file {str(p)!r} is not valid TOML: {exc}; a lab "
                                "reference is the .toml written by 'edxreview emg reference "
                                "build'.") from None
    if doc.get("format") != REFERENCE_FORMAT:
        raise InvalidInputError(
            f"reference file {str(p)!r}: format {doc.get('format')!r} is not "
            f"{REFERENCE_FORMAT!r}; build one with 'edxreview emg reference build'.")
    rows = []
    for mus, feats in (doc.get("muscles") or {}).items():
        for feat, st in feats.items():
            missing = [k for k in _STATS if k not in st]
            if missing:
                raise InvalidInputError(
                    f"reference file {str(p)!r}: [muscles.{mus}.{feat}] lacks {missing!r}.")
            rows.append({"muscle": mus, "feature": feat, **{k: st[k] for k in _STATS},
                         **{k: st[k] for k in _OUTLIER_COLS if k in st}})
    has_outliers = any("outlier_low" in r for r in rows)
    cols = ["muscle", "feature", *_STATS, *(_OUTLIER_COLS if has_outliers else [])]
    table = pd.DataFrame(rows, columns=cols).set_index(["muscle", "feature"])
    cent = [{"muscle": mus, "truth": cls, **vals}
            for mus, classes in (doc.get("centroids") or {}).items()
            for cls, vals in classes.items()]
    centroids = pd.DataFrame(cent).set_index(["muscle", "truth"]) if cent else None
    model, status = _read_classifier(doc, f"reference file {str(p)!r}")
    return LabReference(str(doc.get("lab", "")), str(doc.get("amplitude_unit", "uV")), table,
                        list(doc.get("notes", [])), centroids, model, status,
                        _read_recorded(doc.get("recorded"), f"reference file {str(p)!r}"))


def _read_recorded(r, where: str) -> dict:
    """The ``[recorded]`` table of a reference (empty when absent: an older reference)."""
    if r is None:
        return {}
    if not isinstance(r, dict):
        raise InvalidInputError(f"{where}: [recorded] is {r!r}, not a table; rebuild the "
                                "reference with 'edxreview emg reference build'.")
    try:
        rates = [float(v) for v in r["fs_hz"]]
        out = {"fs_hz": rates, "sorting": str(r["sorting"]), "edxreview": str(r["edxreview"])}
        for k in ("parameters", "trained_per", "training_unit"):   # later versions only
            if k in r:
                out[k] = str(r[k])
        return out
    except KeyError as exc:
        raise InvalidInputError(f"{where}: [recorded] lacks {exc.args[0]!r}.") from None
    except (TypeError, ValueError):
        raise InvalidInputError(f"{where}: [recorded] fs_hz is not a list of numbers: "
                                f"{r.get('fs_hz')!r}.") from None


def reference_mismatches(reference: LabReference, fs_hz: float, sorting: str) -> list[str]:
    """How a recording differs from the way the reference's controls were recorded and
    measured: another sampling rate (it changes what the filters and the duration markers
    see), another decomposition (pursuit and peel-off find different MUAPs) or other
    measurement settings (``emg_signal_parameters`` version; a reference that does not record
    them is noted too). Empty when it does not differ, or when the reference records nothing
    of how its controls were recorded (written before that was stored)."""
    r = reference.recorded
    if not r:
        return []
    out = []
    tol = load_signal_parameters()["lab_reference"]["fs_tolerance"]
    if not any(abs(fs_hz - f) <= tol * f for f in r["fs_hz"]):
        rates = ", ".join(f"{f:g}" for f in r["fs_hz"])
        out.append(f"recorded at {fs_hz:g} Hz; the reference's controls at {rates} Hz")
    if sorting != r["sorting"]:
        out.append(f"decomposed by {sorting}; the reference's controls by {r['sorting']}")
    now = signal_parameters_version()
    if not r.get("parameters"):
        out.append(f"the reference does not say which measurement settings measured its controls "
                   f"(built by edxreview {r['edxreview']}); this analysis uses "
                   f"emg_signal_parameters {now}: rebuild the reference from the controls")
    elif r["parameters"] != now:
        out.append(f"measured with emg_signal_parameters {now}; the reference's controls with "
                   f"{r['parameters']} (rebuild the reference from the controls)")
    return out


def muap_long(muaps: pd.DataFrame) -> pd.DataFrame:
    """The reference features of every single MUAP in long form: ``recording``, ``feature``,
    ``value`` (missing values dropped). What the outlier limits and counts are computed from.
    Accepted MUAPs only (:func:`~edxreview.signal._acceptance.accepted_muaps`)."""
    muaps = accepted_muaps(muaps)
    f = muap_features(muaps)
    return (f.assign(recording=muaps["recording"].to_numpy())
            .melt(id_vars=["recording"], var_name="feature").dropna(subset=["value"]))


def recording_stats(muaps: pd.DataFrame) -> pd.DataFrame:
    """Per recording and reference feature: number of MUAPs ``n``, mean ``m``, variance ``v``
    (long table). Computed once, it serves every reference and z-score of an evaluation.
    Accepted MUAPs only (:func:`~edxreview.signal._acceptance.accepted_muaps`)."""
    return _long_stats(muap_long(muaps))


def _long_stats(long: pd.DataFrame) -> pd.DataFrame:
    """:func:`recording_stats` of a long table of single values (:func:`muap_long`)."""
    return (long.groupby(["recording", "feature"])["value"].agg(n="size", m="mean", v="var")
            .reset_index())


def build_lab_reference(
    muaps: pd.DataFrame | None, recordings: pd.DataFrame, lab: str = "",
    stats: pd.DataFrame | None = None, features: list[str] | None = None,
    per_muap: pd.DataFrame | None = None,
) -> LabReference:
    """Build a laboratory's MUAP reference from its control recordings.

    Parameters
    ----------
    muaps : pandas.DataFrame
        MUAPs of the control recordings (``recording`` and the columns of
        :func:`~edxreview.signal.measure_muaps`).
    recordings : pandas.DataFrame
        ``recording``, ``subject``, ``muscle`` of each control recording.
    lab : str
        Name written in the reference.
    stats : pandas.DataFrame, optional
        :func:`recording_stats` of the MUAPs, used instead of ``muaps`` when given (it may
        also hold other per-recording features in the same long form, such as
        :func:`~edxreview.signal._interference.interference_stats`).
    features : list of str, optional
        Features to keep (default: ``lab_reference.features`` of the parameter file).
    per_muap : pandas.DataFrame, optional
        :func:`muap_long` of the MUAPs (taken from ``muaps`` when those are given): the
        outlier limits of each muscle and feature (:func:`outlier_limits`) are added to the
        table as ``outlier_low``, ``outlier_high`` and ``n_outlier_muaps``.

    Returns
    -------
    LabReference
        Muscles with fewer than ``min_control_recordings`` recordings (each with at least two
        MUAPs) or ``min_control_subjects`` subjects are left out (a reading against them says
        there is no reference).

    Notes
    -----
    Per feature: ``mean`` = mean of the recording means; ``sd_within`` = pooled SD of single
    MUAPs about their recording's mean; ``sd_between`` = SD of the recording means with the
    sampling error of each mean removed (one-way random-effects estimate, floored at 0).
    """
    p = load_signal_parameters()["lab_reference"]
    feats = list(p["features"]) if features is None else list(features)
    rec = recordings[["recording", "subject", "muscle"]].assign(
        muscle=recordings["muscle"].map(normalize_muscle))
    if stats is None:
        stats = recording_stats(muaps[muaps["recording"].isin(rec["recording"])])
    per_rec = stats[stats["feature"].isin(feats)].merge(rec, on="recording", how="inner")
    calibrated = bool((per_rec["feature"] == "size_index").any())
    per_rec = per_rec[per_rec["n"] >= 2]
    g = per_rec.groupby(["muscle", "feature"])
    ss_within = (per_rec["v"] * (per_rec["n"] - 1)).groupby([per_rec["muscle"], per_rec["feature"]]).sum()
    df_within = (per_rec["n"] - 1).groupby([per_rec["muscle"], per_rec["feature"]]).sum()
    var_within = ss_within / df_within
    se2 = (per_rec.assign(inv_n=1 / per_rec["n"]).groupby(["muscle", "feature"])["inv_n"].mean()
           * var_within)
    var_between = (g["m"].var() - se2).clip(lower=0)
    table = pd.DataFrame({
        "mean": g["m"].mean(),
        "sd_between": np.sqrt(var_between),
        "sd_within": np.sqrt(var_within),
        "n_recordings": g.size(),
        "n_subjects": g["subject"].nunique(),
        "n_muaps": g["n"].sum(),
    })
    ok = ((table["n_recordings"] >= p["min_control_recordings"])
          & (table["n_subjects"] >= p["min_control_subjects"]))
    table = table[ok].sort_index()
    if per_muap is None and muaps is not None:
        per_muap = muap_long(muaps[muaps["recording"].isin(rec["recording"])])
    if per_muap is not None:
        lim = outlier_limits(per_muap[per_muap["recording"].isin(rec["recording"])], rec)
        table = table.join(lim, how="left")
    return LabReference(lab, "uV" if calibrated else "adu", table)


_OUTLIER_COLS = ["outlier_low", "outlier_high", "n_outlier_muaps"]


def outlier_limits(per_muap: pd.DataFrame, recordings: pd.DataFrame) -> pd.DataFrame:
    """Outlier limits of single MUAPs from control recordings: per muscle and feature the
    percentiles ``outlier_percentiles`` of the pooled control MUAPs (section
    ``outlier_reference`` of the parameter file); left out where fewer than
    ``min_control_muaps`` MUAPs.

    Returns
    -------
    pandas.DataFrame
        Index (muscle, feature); columns ``outlier_low``, ``outlier_high``,
        ``n_outlier_muaps``.
    """
    p = load_signal_parameters()["outlier_reference"]
    lo_q, hi_q = (float(q) / 100 for q in p["outlier_percentiles"])
    rec = recordings[["recording", "muscle"]].assign(
        muscle=recordings["muscle"].map(normalize_muscle))
    j = per_muap.merge(rec, on="recording", how="inner")
    g = j.groupby(["muscle", "feature"])["value"]
    out = pd.DataFrame({"outlier_low": g.quantile(lo_q), "outlier_high": g.quantile(hi_q),
                        "n_outlier_muaps": g.size()})
    return out[out["n_outlier_muaps"] >= p["min_control_muaps"]]


def prediction_limit(k: pd.Series | np.ndarray) -> np.ndarray:
    """|z| beyond which a muscle's mean is a sign, for a reference of ``k`` control recordings:
    the Student t quantile with k - 1 degrees of freedom at the two-sided level of
    ``z_limit`` (section ``lab_reference``)."""
    return stats.t.isf(_two_sided_level() / 2, np.clip(np.asarray(k, dtype=float) - 1, 1, None))


def _two_sided_level() -> float:
    """The two-sided level of ``z_limit`` (section ``lab_reference``): 2.0 -> 4.55 %."""
    return float(2 * stats.norm.sf(load_signal_parameters()["lab_reference"]["z_limit"]))


def _mean_sd(r: pd.DataFrame, n) -> pd.Series:
    """SD of a new muscle's mean of ``n`` MUAPs predicted from the reference rows ``r`` (see
    :func:`zscore_muscle`)."""
    k = r["n_recordings"].astype(float)
    n_c = r["n_muaps"] / k
    se_mu2 = (r["sd_between"] ** 2 + r["sd_within"] ** 2 / n_c) / k
    return np.sqrt(r["sd_between"] ** 2 + r["sd_within"] ** 2 / n + se_mu2)


def limits_for_mean(reference: LabReference, muscle: str, n_muaps: int) -> pd.DataFrame:
    """The reference's limits for a muscle's mean of ``n_muaps`` MUAPs, in native units (what
    :func:`zscore_muscle` would judge such a mean against).

    Returns
    -------
    pandas.DataFrame
        :func:`native_zscores` of the control mean itself (index feature; ``value`` the control
        mean, geometric for the amplitude; ``lower``, ``upper``; ``limit`` the |z| limit).
        Empty when the reference lacks the muscle.
    """
    mus = normalize_muscle(muscle)
    if mus not in reference.muscles():
        return native_zscores(pd.DataFrame(columns=["value", "lower", "upper", "z", "limit"]))
    r = reference.table.loc[mus]
    sd = _mean_sd(r, float(n_muaps))
    lim = prediction_limit(r["n_recordings"])
    z = pd.DataFrame({"value": r["mean"], "lower": r["mean"] - lim * sd,
                      "upper": r["mean"] + lim * sd, "z": 0.0, "limit": lim}, index=r.index)
    return native_zscores(z)


def zscore_muscle(features: pd.DataFrame, reference: LabReference, muscle: str) -> pd.DataFrame:
    """z-score of the mean of each feature of one muscle's pooled MUAPs, with its limit.

    The SD is that of a new muscle's mean of ``n`` MUAPs predicted from the controls:
    sqrt(sd_between² + sd_within² / n + (sd_between² + sd_within² / n_c) / k), the last term the
    uncertainty of the control mean (k control recordings of about n_c MUAPs each). The limit is
    the Student t quantile with k - 1 degrees of freedom at the two-sided level of
    ``z_limit`` (2.0 -> 4.55 %), a prediction interval: a reference from few control
    recordings has wider limits.

    Returns
    -------
    pandas.DataFrame
        Index feature; columns ``value`` (mean), ``n``, ``z``, ``limit`` (|z| beyond it is a
        sign), ``lower``, ``upper`` (the limits in the feature's units). Empty when the
        reference lacks the muscle.
    """
    mus = normalize_muscle(muscle)
    cols_out = ["value", "n", "z", "limit", "lower", "upper"]
    if mus not in reference.muscles():
        return pd.DataFrame(columns=cols_out)
    ref = reference.table.loc[mus]
    cols = [c for c in ref.index if c in features.columns]
    x = features[cols]
    out = pd.DataFrame({"value": x.mean(), "n": x.notna().sum()})
    r = ref.loc[cols]
    k = r["n_recordings"].astype(float)
    sd = _mean_sd(r, out["n"].clip(lower=1))
    out["z"] = (out["value"] - r["mean"]) / sd
    out["limit"] = prediction_limit(k)
    out["lower"] = r["mean"] - out["limit"] * sd
    out["upper"] = r["mean"] + out["limit"] * sd
    return out[cols_out]


def count_control_subjects(reference: LabReference, muscles,
                           feature: str | None = None) -> pd.DataFrame:
    """How many control subjects the reference of each muscle rests on, and whether they are
    too few to judge against (whole-table): the one decision of rule
    ``too_few_control_subjects``, read by the product and the evaluation alike.

    A muscle's controls are those of ``feature``, or (default, or a feature the muscle lacks)
    the most of any feature of the muscle; a muscle the reference lacks has 0. Too few: fewer
    than ``min_judging_control_subjects`` of section ``lab_reference``.

    Parameters
    ----------
    reference : LabReference
    muscles : str or array-like of str
        Canonical muscle ids (a Series keeps its index).
    feature : str, optional
        The feature whose controls count.

    Returns
    -------
    pandas.DataFrame
        One row per muscle given: ``muscle``, ``n_control_subjects`` (int), ``need`` (int) and
        ``too_few`` (bool). :func:`control_subjects_short` writes a row in words.
    """
    need = int(load_signal_parameters()["lab_reference"]["min_judging_control_subjects"])
    m = (muscles if isinstance(muscles, pd.Series)
         else pd.Series([muscles] if isinstance(muscles, str) else list(muscles), dtype=object))
    people = reference.table["n_subjects"]
    n = m.map(people.groupby(level="muscle").max())
    if feature is not None and feature in people.index.get_level_values("feature"):
        n = m.map(people.xs(feature, level="feature")).fillna(n)
    n = n.fillna(0).astype(int)
    return pd.DataFrame({"muscle": m, "n_control_subjects": n, "need": need,
                         "too_few": n < need})


def control_subjects_short(counts: pd.Series, reference: LabReference) -> str:
    """Why a muscle cannot be judged against ``reference`` for want of control subjects, in
    words, or ``""`` when it can: written from one row of :func:`count_control_subjects`."""
    if not counts["too_few"]:
        return ""
    lab = f" {reference.lab!r}" if reference.lab else ""
    return (f"not judged: the lab reference{lab} for {counts['muscle']} rests on "
            f"{int(counts['n_control_subjects'])} control subject(s), fewer than "
            f"{int(counts['need'])} ([lab_reference] min_judging_control_subjects): the spread "
            "between people is not in it (recordings of one person are not several controls; "
            "build it with --subjects naming each file's subject)")


_LABEL = {"duration_ms": "mean duration", "log_amplitude": "geometric mean amplitude",
          "phases": "mean phases", "turns": "mean turns", "thickness_ms": "mean thickness",
          "size_index": "mean size index"}

#: each reference feature in its own units: (column stem, unit suffix of the column names,
#: unit as written in a sentence); the amplitude's unit is that of the reference
NATIVE_FEATURES = {
    "duration_ms": ("duration", "_ms", "ms"),
    "log_amplitude": ("amplitude", None, None),
    "phases": ("phases", "", ""),
    "turns": ("turns", "", ""),
    "thickness_ms": ("thickness", "_ms", "ms"),
    "size_index": ("size_index", "", ""),
}


def native_zscores(z: pd.DataFrame) -> pd.DataFrame:
    """The z-score table of :func:`zscore_muscle` in the features' own units.

    ``log_amplitude`` (log10 of the amplitude) becomes the amplitude, the mean of log10
    amplitudes the geometric mean amplitude, in the reference's unit (µV, or ADC units
    when uncalibrated); the limits of a monotone transform stay the limits. Other features
    are already in their units (ms, phases, turns, index).

    Returns
    -------
    pandas.DataFrame
        Index feature; columns ``value``, ``lower``, ``upper`` (native units), ``z``,
        ``limit`` (the |z| limit) and ``beyond`` (``"above"``, ``"below"`` or ``""``, from the
        z-score and its limit, as the reading's rule judges it).
    """
    out = z[["value", "lower", "upper", "z", "limit"]].astype(float).copy()
    if "log_amplitude" in out.index:
        out.loc["log_amplitude", ["value", "lower", "upper"]] = 10.0 ** out.loc[
            "log_amplitude", ["value", "lower", "upper"]]
    out["beyond"] = beyond_limits(out["z"], out["limit"])
    return out


def beyond_limits(z, limit) -> np.ndarray:
    """Where each mean lies against its limit (elementwise): ``"above"`` where ``z > limit``,
    ``"below"`` where ``z < -limit``, else ``""`` (within, on the limit itself, or not judged:
    a NaN z-score or limit)."""
    z, limit = np.asarray(z, dtype=float), np.asarray(limit, dtype=float)
    return np.select([z > limit, z < -limit], ["above", "below"], "").astype(object)


#: the reading of each rule of :func:`read_size_signs` (``lab_centroid`` reads the nearest class)
SIZE_SIGN_PATTERNS = {
    "lab_mixed": "indeterminate", "lab_large": "neurogenic", "lab_small": "myopathic",
    "lab_complex_only": "indeterminate", "lab_normal": "normal",
    "lab_centroid_tie": "indeterminate", "lab_centroid_against_sign": "indeterminate",
    "lab_centroid_within_limits": "normal",
}


def read_size_signs(z: pd.DataFrame, limit: pd.DataFrame | pd.Series, nearest=None,
                    tie=None) -> pd.DataFrame:
    """The signs of units' MUAP means against a lab reference, and the reading they give
    (whole-table): the one rule of :func:`read_muscle_against_reference` and
    :func:`classify_by_centroids`.

    A mean is beyond its limit when its z-score lies beyond the |z| limit
    (:func:`beyond_limits`). MUAPs are *large* when a size feature (``size_features`` of
    section ``lab_reference``) is above, *small* when one is below, *complex* when a complexity
    feature (``complexity_features``) is above. Without centroids (``nearest`` not given):
    large and small together: indeterminate (``lab_mixed``); large: neurogenic
    (``lab_large``); small: myopathic (``lab_small``); complex alone: indeterminate
    (``lab_complex_only``); no sign: normal (``lab_normal``). With the nearest class centroid
    of each unit: that class (``lab_centroid``), unless its MUAPs are large and small
    (``lab_mixed``), it is a near tie (``tie``: ``lab_centroid_tie``) or the class points
    against the one size sign (myopathic with large MUAPs, neurogenic with small ones:
    ``lab_centroid_against_sign``), all indeterminate; a unit with no mean beyond its limit
    (any feature) reads normal whatever the nearest class (``lab_centroid_within_limits``).

    Parameters
    ----------
    z : pandas.DataFrame
        One row per unit, one column per reference feature (``duration_ms``, ...): the
        z-score of the unit's mean; NaN where not judged.
    limit : pandas.DataFrame or pandas.Series
        The |z| limit of each z-score: a frame like ``z``, or one limit per feature (a Series
        indexed by feature) for every unit; NaN: not judged.
    nearest : array-like of str, optional
        Each unit's nearest class centroid (:func:`nearest_centroids`).
    tie : array-like of bool, optional
        Whether that nearest class is a near tie (required with ``nearest``).

    Returns
    -------
    pandas.DataFrame
        Index of ``z``: ``beyond_<feature>`` (``"above"``, ``"below"`` or ``""``) per column
        of ``z``; the booleans ``large``, ``small``, ``mixed`` (large and small), ``complex``,
        ``within`` (no mean beyond its limit) and ``amplitude_alone`` (large by the amplitude
        only, the duration judged and not above its limit: the weaker sign of reinnervation);
        ``sign`` (``"large"``, ``"small"``, or ``""`` when neither or both); ``pattern`` and
        ``rule``.
    """
    p = load_signal_parameters()["lab_reference"]
    z = z.astype(float)
    if isinstance(limit, pd.Series):
        limit = pd.DataFrame(np.broadcast_to(limit.reindex(z.columns).to_numpy(float),
                                             z.shape), index=z.index, columns=z.columns)
    limit = limit.reindex(index=z.index, columns=z.columns).astype(float)
    beyond = pd.DataFrame(beyond_limits(z, limit), index=z.index, columns=z.columns)

    def any_(features, side: str) -> np.ndarray:
        cols = [f for f in features if f in beyond.columns]
        return (beyond[cols] == side).any(axis=1).to_numpy(bool)

    size = list(p["size_features"])
    large, small = any_(size, "above"), any_(size, "below")
    complex_ = any_(p["complexity_features"], "above")
    mixed = large & small
    within = (beyond == "").all(axis=1).to_numpy(bool)
    # amplitude depends on how near the needle lies to the unit's fibres; duration, from the
    # whole unit, is the firmer sign of reinnervation
    amplitude_alone = np.zeros(len(z), bool)
    if {"log_amplitude", "duration_ms"} <= set(size) & set(z.columns):
        amplitude_alone = ((beyond["log_amplitude"] == "above").to_numpy(bool)
                           & ~any_([f for f in size if f != "log_amplitude"], "above")
                           & np.isfinite(z["duration_ms"].to_numpy(float)))
    sign = np.select([large & ~small, small & ~large], ["large", "small"], "").astype(object)
    if nearest is None:
        rule = np.select([mixed, large, small, complex_],
                         ["lab_mixed", "lab_large", "lab_small", "lab_complex_only"], "lab_normal")
        pattern = pd.Series(rule).map(SIZE_SIGN_PATTERNS).to_numpy(object)
    else:
        nearest = np.asarray(nearest, dtype=object)
        against = (((nearest == "myopathic") & (sign == "large"))
                   | ((nearest == "neurogenic") & (sign == "small")))
        rule = np.select([within, mixed, np.asarray(tie, bool), against],
                         ["lab_centroid_within_limits", "lab_mixed", "lab_centroid_tie",
                          "lab_centroid_against_sign"], "lab_centroid")
        pattern = np.where(rule == "lab_centroid", nearest,
                           pd.Series(rule).map(SIZE_SIGN_PATTERNS).to_numpy(object))
    out = beyond.add_prefix("beyond_")
    for name, v in (("large", large), ("small", small), ("mixed", mixed),
                    ("complex", complex_), ("within", within),
                    ("amplitude_alone", amplitude_alone), ("sign", sign),
                    ("pattern", pattern), ("rule", rule.astype(object))):
        out[name] = v
    return out


def _fmt_pair(v: float, lim: float, decimals: int) -> tuple[str, str]:
    """``v`` and ``lim`` written with ``decimals`` decimals, more when they would read equal."""
    for d in range(decimals, decimals + 4):
        a, b = f"{v:.{d}f}", f"{lim:.{d}f}"
        if a != b:
            return a, b
    return a, b


_DECIMALS = {"duration_ms": 1, "log_amplitude": 0, "phases": 2, "turns": 2, "thickness_ms": 2,
             "size_index": 2}


def describe_native(feature: str, row, amplitude_unit: str = "uV") -> str:
    """One feature's mean against its limits, in words and native units, e.g. "mean duration
    12.4 ms, above the upper limit 11.0 ms (z +2.31 > 2.05)" or "mean phases 2.10, within
    1.52 to 2.61 (z +1.2)"; ``row`` is a row of :func:`native_zscores`."""
    unit = (("µV" if amplitude_unit == "uV" else "ADC units") if feature == "log_amplitude"
            else NATIVE_FEATURES.get(feature, ("", "", ""))[2])
    u = f" {unit}" if unit else ""
    d = _DECIMALS.get(feature, 2)
    label = _LABEL.get(feature, feature)
    if row["beyond"] == "above":
        v, lim = _fmt_pair(row["value"], row["upper"], d)
        return (f"{label} {v}{u}, above the upper limit {lim}{u} "
                f"(z {row['z']:+.2f} > {row['limit']:.2f})")
    if row["beyond"] == "below":
        v, lim = _fmt_pair(row["value"], row["lower"], d)
        return (f"{label} {v}{u}, below the lower limit {lim}{u} "
                f"(z {row['z']:+.2f} < -{row['limit']:.2f})")
    return (f"{label} {row['value']:.{d}f}{u}, within {row['lower']:.{d}f} to "
            f"{row['upper']:.{d}f}{u} (z {row['z']:+.1f})")


def read_muscle_against_reference(
    muaps: pd.DataFrame, reference: LabReference | None, muscle: str | None,
) -> tuple[Reading, pd.DataFrame]:
    """Read one muscle (its MUAPs pooled over recordings) against a lab reference.

    When the reference holds class centroids for the muscle (built with labelled patients of
    the laboratory), the reading is the nearest centroid over the z-scores (rule
    ``lab_centroid``). Otherwise the rule (constants in ``emg_signal_parameters.toml``, section
    ``lab_reference``): a feature is
    a sign when its z-score lies beyond the prediction limit of :func:`zscore_muscle` (the t
    quantile at the level of ``z_limit``). MUAPs *large* (duration or amplitude
    above): neurogenic; *small* (below): myopathic; phases or turns above support the side of
    a size sign and alone are non-specific (indeterminate); large and small together:
    indeterminate; no sign: normal (both readings decided by :func:`read_size_signs`, the
    rule the evaluation's :func:`classify_by_centroids` applies too, and the reasons written
    from its result). Fewer than ``min_muaps`` MUAPs, no muscle, no reference
    for the muscle, or one resting on fewer than ``min_judging_control_subjects`` control
    subjects (rule ``too_few_control_subjects``): indeterminate, and the reasons say which.

    Returns
    -------
    (Reading, pandas.DataFrame)
        The reading (with ``rule`` ids in the reasons) and the z-score table of
        :func:`zscore_muscle`.
    """
    p = load_signal_parameters()["lab_reference"]
    empty = pd.DataFrame(columns=["value", "n", "z", "limit", "lower", "upper"])
    rejected = describe_rejections(muaps)
    muaps = accepted_muaps(muaps)
    n = len(muaps)
    if reference is None:
        return Reading("indeterminate", ["no verified reference: quantitative MUAP means not "
                                         "judged (give a lab reference built from the "
                                         "laboratory's own controls)"], rule="no_reference"), empty
    if not muscle:
        return Reading("indeterminate", ["no muscle given: no reference to compare with"],
                       rule="no_muscle"), empty
    mus = normalize_muscle(muscle)
    if mus not in reference.muscles():
        lab = f" {reference.lab!r}" if reference.lab else ""
        return Reading("indeterminate", [f"indeterminate: no reference for this lab{lab} and "
                                         f"muscle {mus!r} (reference muscles: "
                                         f"{', '.join(reference.muscles()) or 'none'})"],
                       rule="no_reference_for_muscle"), empty
    people = count_control_subjects(reference, mus).iloc[0]
    if people["too_few"]:
        return Reading("indeterminate", [control_subjects_short(people, reference)],
                       rule="too_few_control_subjects"), empty
    if n < p["min_muaps"]:
        return Reading("indeterminate", [f"only {n} accepted MUAP(s) for {mus} (need "
                                         f"{p['min_muaps']})" + (f"; {rejected}" if rejected
                                                                 else "")],
                       rule="too_few_muaps"), empty
    f = muap_features(muaps)
    if reference.amplitude_unit == "uV" and f["size_index"].isna().all():
        f = f.drop(columns=["log_amplitude", "size_index"])  # ADC units against a µV reference
    if reference.amplitude_unit == "adu":
        f = f.drop(columns=["size_index"])
    z = zscore_muscle(f, reference, mus)
    if z.empty:   # the reference holds the muscle's interference features only
        return Reading("indeterminate", [f"indeterminate: the lab reference holds no MUAP "
                                         f"means for {mus} (too few accepted control MUAPs; "
                                         "interference-pattern features only)"],
                       rule="no_reference_for_muscle"), empty
    zl = p["z_limit"]
    r0 = reference.table.loc[mus].iloc[0]
    reasons = [f"lab reference {reference.lab or '(unnamed)'} for {mus}: "
               f"{int(r0['n_subjects'])} control subject(s), {int(r0['n_recordings'])} "
               f"recordings; {n} MUAPs; a mean is abnormal when beyond the controls' limits "
               f"for a mean of {n} MUAPs, |z| > {float(z['limit'].iloc[0]):.2f} (prediction "
               f"limit at the level of z = {zl:g})"]
    if "log_amplitude" not in z.index:
        reasons.append("amplitude not judged: ADC units against a µV reference")
    zs = z["z"]
    cent = reference.centroids
    if cent is not None and mus not in cent.index.get_level_values("muscle"):
        cent = None
    if cent is not None:
        classes = cent.loc[mus]
        d, nearest, tie = nearest_centroids(zs.add_prefix("z_").to_frame().T.reindex(
            columns=[k for k in classes.columns if k.startswith("z_")]), classes)
        d, nearest = d[0], nearest[0]
        s = read_size_signs(zs.to_frame().T, z["limit"], [nearest], tie).iloc[0]
    else:
        s = read_size_signs(zs.to_frame().T, z["limit"]).iloc[0]
    pattern, rule = str(s["pattern"]), str(s["rule"])
    side = lambda feats, w: [c for c in feats if s.get(f"beyond_{c}") == w]  # noqa: E731
    large, small = side(p["size_features"], "above"), side(p["size_features"], "below")
    complex_ = side(p["complexity_features"], "above")
    nat = native_zscores(z)
    for c in nat.index:
        if np.isfinite(nat.at[c, "z"]):
            reasons.append(describe_native(c, nat.loc[c], reference.amplitude_unit))
    desc = lambda cs, w: ", ".join(f"{_LABEL[c]} {w}" for c in cs)  # noqa: E731
    hi, lo = "above its upper limit", "below its lower limit"
    if rule == "lab_mixed":
        reasons.append(f"large ({desc(large, hi)}) and small ({desc(small, lo)}) together")
    elif cent is not None:
        order = np.argsort(d)
        reasons.append("nearest class centroid of the lab's labelled subjects (distance in z "
                       "units): " + ", ".join(f"{classes.index[i]} {d[i]:.1f}" for i in order))
        if rule == "lab_centroid_tie":
            reasons.append(f"near tie: the second nearest class is less than "
                           f"{p['centroid_margin']:.0%} farther than the nearest")
        elif rule == "lab_centroid_against_sign":
            reasons.append(f"the nearest labelled pattern, {nearest}, points against the size "
                           f"sign ({s['sign']} MUAPs): not read")
        elif rule == "lab_centroid_within_limits":
            reasons.append("no MUAP mean beyond its limit ("
                           + ", ".join(_LABEL.get(k, k) for k in zs.index if np.isfinite(zs[k]))
                           + "): normal"
                           + (f"; the nearest labelled pattern, {nearest}, is not read without "
                              "a mean beyond its limit" if nearest != "normal" else ""))
    elif rule == "lab_large":
        reasons.append(f"large MUAPs: {desc(large, hi)}"
                       + (f", with {desc(complex_, hi)}" if complex_ else ""))
        if s["amplitude_alone"]:
            reasons.append("amplitude alone, the duration within its limits: the weaker sign of "
                           "reinnervation (amplitude rises as the needle nears the fibres)")
    elif rule == "lab_small":
        reasons.append(f"small MUAPs: {desc(small, lo)}"
                       + (f", with {desc(complex_, hi)}" if complex_ else ""))
    elif rule == "lab_complex_only":
        reasons.append(f"{desc(complex_, hi)} without a size change: non-specific")
    else:
        reasons.append("all MUAP means within the limits of the lab's controls")
    return Reading(pattern, reasons, rule=rule), z


#: decimals of a mean of each reference feature as the outputs write it (recordings.csv's
#: recording means, subjects.csv's means and limits; the amplitude's in its own unit)
MEAN_DECIMALS = {"duration_ms": 2, "log_amplitude": 1, "phases": 2, "turns": 2,
                 "thickness_ms": 3, "size_index": 3}


def limit_columns(muaps: pd.DataFrame, z: pd.DataFrame, amplitude_unit: str = "uV") -> dict:
    """A muscle's measured means and the lab reference's limits for a mean of that many MUAPs,
    in native units (the columns of ``subjects.csv`` beside the z-scores).

    Parameters
    ----------
    muaps : pandas.DataFrame
        The muscle's MUAPs pooled over its recordings (:func:`~edxreview.signal.measure_muaps`
        columns); the means are of the accepted ones.
    z : pandas.DataFrame
        :func:`zscore_muscle` of them (empty when not judged: the limits are then NaN, the
        means still measured).
    amplitude_unit : {"uV", "adu"}
        The reference's amplitude unit: which amplitude columns hold the limits.

    Returns
    -------
    dict
        Per parameter the mean and its ``_lower`` / ``_upper`` limits: ``mean_duration_ms``,
        ``geo_mean_amplitude_uv`` (10 to the mean log10 amplitude: what is judged; ``_adu``
        uncalibrated), ``mean_phases``, ``mean_turns``, ``mean_thickness_ms``,
        ``mean_size_index``; also ``mean_amplitude_uv`` (arithmetic, as ``recordings.csv``),
        ``polyphasic_pct`` (no limit), ``z_limit`` (the |z| beyond which a mean is abnormal)
        and ``beyond_limits`` (the parameters beyond their limits, e.g. "amplitude above;
        duration below"; empty when none).
    """
    muaps = accepted_muaps(muaps)
    nat = native_zscores(z) if len(z) else pd.DataFrame(
        columns=["value", "lower", "upper", "z", "limit", "beyond"])
    f = muap_features(muaps) if len(muaps) else pd.DataFrame(
        columns=["duration_ms", "log_amplitude", "phases", "turns", "thickness_ms", "size_index"])
    amp_uv = pd.to_numeric(muaps.get("amplitude_uv", pd.Series(dtype=float)), errors="coerce")
    calibrated = bool(amp_uv.notna().any())
    out: dict = {}

    def add(feature: str, mean_col: str, lo_col: str, hi_col: str, mean: float,
            own_limits: bool = True) -> None:
        # rounded as recordings.csv rounds the recording means (summarize_muaps)
        d = MEAN_DECIMALS[feature]
        have = own_limits and feature in nat.index
        out[mean_col] = round(float(mean), d) if np.isfinite(mean) else np.nan
        out[lo_col] = round(float(nat.at[feature, "lower"]), d) if have else np.nan
        out[hi_col] = round(float(nat.at[feature, "upper"]), d) if have else np.nan

    def mean_of(col: str) -> float:
        v = pd.to_numeric(f[col], errors="coerce") if col in f else pd.Series(dtype=float)
        return float(v.mean()) if v.notna().any() else np.nan

    add("duration_ms", "mean_duration_ms", "duration_lower_ms", "duration_upper_ms",
        mean_of("duration_ms"))
    geo = 10.0 ** mean_of("log_amplitude")
    add("log_amplitude", "geo_mean_amplitude_uv", "amplitude_lower_uv", "amplitude_upper_uv",
        geo if calibrated else np.nan, own_limits=amplitude_unit == "uV")
    add("log_amplitude", "geo_mean_amplitude_adu", "amplitude_lower_adu", "amplitude_upper_adu",
        np.nan if calibrated else geo, own_limits=amplitude_unit == "adu")
    out["mean_amplitude_uv"] = round(float(amp_uv.mean()), 1) if calibrated else np.nan
    add("phases", "mean_phases", "phases_lower", "phases_upper", mean_of("phases"))
    add("turns", "mean_turns", "turns_lower", "turns_upper", mean_of("turns"))
    add("thickness_ms", "mean_thickness_ms", "thickness_lower_ms", "thickness_upper_ms",
        mean_of("thickness_ms"))
    add("size_index", "mean_size_index", "size_index_lower", "size_index_upper",
        mean_of("size_index"))
    poly = muaps["polyphasic"].astype(float) if "polyphasic" in muaps and len(muaps) else None
    out["polyphasic_pct"] = round(100.0 * float(poly.mean()), 1) if poly is not None else np.nan
    out["z_limit"] = round(float(nat["limit"].iloc[0]), 3) if len(nat) else np.nan
    names = {f: stem.replace("_", " ") for f, (stem, _, _) in NATIVE_FEATURES.items()}
    out["beyond_limits"] = "; ".join(f"{names.get(c, c)} {nat.at[c, 'beyond']}"
                                     for c in nat.index if nat.at[c, "beyond"])
    return out


def pool_readings(patterns: pd.Series) -> str:
    """One subject's reading from its muscles' readings: the abnormal side when only one side
    is present, normal when every muscle is normal, otherwise indeterminate."""
    s = set(patterns)
    abn = s & {"neurogenic", "myopathic"}
    if len(abn) == 1:
        return abn.pop()
    if s == {"normal"}:
        return "normal"
    return "indeterminate"


def zscore_units(
    muaps: pd.DataFrame | None, units: pd.DataFrame, reference: LabReference,
    key: tuple[str, ...] = ("subject", "muscle"), stats: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """:func:`zscore_muscle` for many units at once (whole-table).

    Parameters
    ----------
    muaps : pandas.DataFrame
        MUAPs with column ``recording`` (or ``None`` with ``stats``).
    units : pandas.DataFrame
        ``recording``, ``muscle`` and the ``key`` columns: the MUAPs of the recordings sharing
        a key are pooled.
    reference : LabReference
    stats : pandas.DataFrame, optional
        :func:`recording_stats` of the MUAPs, used instead of ``muaps`` when given.

    Returns
    -------
    pandas.DataFrame
        One row per key with MUAPs: ``n_muaps`` and ``z_<feature>`` for each reference
        feature (NaN where the reference lacks the muscle or the feature, e.g. amplitude in
        ADC units against a µV reference).
    """
    key = list(key)
    u = _unit_recordings(units, key)
    if stats is None:
        stats = recording_stats(muaps[muaps["recording"].isin(u["recording"])])
    agg = _pooled_means(u, stats, key).reset_index()
    n_muaps = agg[agg["feature"] == "duration_ms"].groupby(key)["n"].sum().rename("n_muaps")
    if reference.amplitude_unit == "uV":
        # amplitude in ADC units (no size index for the unit) is not comparable with µV
        cal = agg[agg["feature"] == "size_index"].set_index(key).index
        amp = agg["feature"] == "log_amplitude"
        agg = agg[~amp | agg.set_index(key).index.isin(cal)]
    t = agg.merge(reference.table.reset_index(), on=["muscle", "feature"], how="inner",
                  suffixes=("", "_ref"))
    t["z"] = (t["value"] - t["mean"]) / _mean_sd(t, t["n"])
    wide = t.pivot(index=key, columns="feature", values="z") if len(t) else pd.DataFrame(
        index=pd.MultiIndex.from_tuples([], names=key) if len(key) > 1 else pd.Index([], name=key[0]))
    wide.columns = [f"z_{c}" for c in wide.columns]
    out = n_muaps.to_frame().join(wide, how="left").reset_index()
    for f in reference.table.index.get_level_values("feature").unique():
        if f"z_{f}" not in out:
            out[f"z_{f}"] = np.nan
    return out


def fit_centroids(z: pd.DataFrame) -> pd.DataFrame:
    """Mean z-vector of each (muscle, class) of labelled training units (column ``truth``);
    missing z-scores count as 0 (the control mean). Classes with fewer than
    ``min_class_units`` units, and muscles without a normal class, are left out."""
    need = load_signal_parameters()["lab_reference"]["min_class_units"]
    cols = [c for c in z.columns if c.startswith("z_")]
    g = z.assign(**{c: z[c].fillna(0.0) for c in cols}).groupby(["muscle", "truth"])
    cent = g[cols].mean().assign(n_units=g.size())
    cent = cent[cent["n_units"] >= need]
    has_normal = cent.index.get_level_values("truth") == "normal"
    keep = set(cent.index.get_level_values("muscle")[has_normal])
    return cent[cent.index.get_level_values("muscle").isin(keep)]


def nearest_centroids(z: pd.DataFrame,
                      centroids: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distances of units to the class centroids of their muscle, the nearest class and
    whether it is a near tie.

    Parameters
    ----------
    z : pandas.DataFrame
        One row per unit with the ``z_<feature>`` columns of :func:`zscore_units`; a missing
        z-score counts as 0 (the control mean). A centroid column that ``z`` lacks is left out.
    centroids : pandas.DataFrame
        The centroids of one muscle (:func:`fit_centroids` ``.loc[muscle]``): index class.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray, numpy.ndarray)
        The distances (units x classes, in z units), the nearest class of each unit, and
        whether the second nearest is less than ``centroid_margin`` (section ``lab_reference``)
        farther: a near tie, no evidence for either class (:func:`read_size_signs`).
    """
    cols = [c for c in centroids.columns if c in z.columns and c.startswith("z_")]
    x = z[cols].fillna(0.0).to_numpy(float)
    dist = np.sqrt(((x[:, None, :] - centroids[cols].to_numpy(float)[None]) ** 2).sum(-1))
    return (dist, *nearest_class(dist, centroids.index))


def nearest_class(dist: np.ndarray, classes) -> tuple[np.ndarray, np.ndarray]:
    """The nearest class of each unit from its distances (units x classes) and whether the
    second nearest is less than ``centroid_margin`` (section ``lab_reference``) farther."""
    margin = load_signal_parameters()["lab_reference"]["centroid_margin"]
    dist = np.asarray(dist, dtype=float)
    srt = np.sort(dist, axis=1)
    second = srt[:, 1] if dist.shape[1] > 1 else np.full(len(dist), np.inf)
    nearest = np.asarray(classes, dtype=object)[dist.argmin(1)]
    return nearest, second < srt[:, 0] * (1 + margin)


def classify_by_centroids(z: pd.DataFrame, centroids: pd.DataFrame,
                          reference: LabReference) -> pd.Series:
    """The reading of :func:`read_size_signs` with the nearest centroid for each unit of ``z``
    (columns ``muscle``, ``n_muaps`` and ``z_<feature>`` of :func:`zscore_units` against
    ``reference``), as :func:`read_muscle_against_reference` reads one muscle;
    ``indeterminate`` where the muscle has no centroids, fewer than ``min_muaps`` MUAPs, or a
    reference of too few control subjects (:func:`count_control_subjects`, rule
    ``too_few_control_subjects``)."""
    p = load_signal_parameters()["lab_reference"]
    out = pd.Series("indeterminate", index=z.index, dtype=object)
    tab = reference.table
    lim = pd.Series(prediction_limit(tab["n_recordings"]), index=tab.index).unstack("feature")
    feats = [c[2:] for c in z.columns if c.startswith("z_") and c[2:] in lim.columns]
    has = z["muscle"].isin(centroids.index.get_level_values("muscle"))
    nearest = pd.Series("", index=z.index, dtype=object)
    tie = pd.Series(False, index=z.index)
    for mus, g in z[has].groupby("muscle"):
        _, nearest.loc[g.index], tie.loc[g.index] = nearest_centroids(g, centroids.loc[mus])
    signs = read_size_signs(z[[f"z_{f}" for f in feats]].set_axis(feats, axis=1),
                            lim.reindex(z["muscle"])[feats].set_axis(z.index), nearest, tie)
    few = count_control_subjects(reference, z["muscle"])["too_few"].to_numpy(bool)
    ok = has & ~few & (z["n_muaps"].fillna(0) >= p["min_muaps"])
    out.loc[ok] = signs.loc[ok, "pattern"]
    return out


def allowed_outliers(n: pd.Series | np.ndarray | int) -> np.ndarray:
    """How many of ``n`` MUAPs may lie beyond one outlier limit before it is a sign: the
    convention ``allowed_outliers`` of ``allowed_of_n`` scaled by the binomial law (section
    ``outlier_reference``; 2 of 20 at the 2.5 / 97.5 percentiles)."""
    p = load_signal_parameters()["outlier_reference"]
    tail = 1 - float(p["outlier_percentiles"][1]) / 100
    alpha = stats.binom.sf(p["allowed_outliers"], p["allowed_of_n"], tail)
    n = np.asarray(n, dtype=float)
    return stats.binom.ppf(1 - alpha, np.maximum(n, 1), tail)


OUTLIER_SIGNS = ["large", "small", "complex"]


def outlier_readings(
    units: pd.DataFrame, per_muap: pd.DataFrame, reference: LabReference,
    key: tuple[str, ...] = ("subject", "muscle"), stats_: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Read many units (the MUAPs of the recordings sharing a key pooled) by the mean limits
    and the outlier limits of a lab reference (whole-table; section ``outlier_reference``).

    Per feature and side a unit has a sign when its mean lies beyond the prediction limit of
    :func:`zscore_muscle` or when more of its MUAPs than :func:`allowed_outliers` lie beyond
    the outlier limit. Size features above: *large*; below: *small*; complexity features
    above: *complex*. Reading: large and small: indeterminate (rule ``outlier_mixed``); large:
    neurogenic (``outlier_large``); small, or complex alone: myopathic (``outlier_small``,
    ``outlier_complex``); none: normal (``outlier_normal``). Fewer than ``min_muaps`` MUAPs:
    indeterminate (``too_few_muaps``); no reference for the muscle: indeterminate
    (``no_reference_for_muscle``); one from fewer than ``min_judging_control_subjects``
    control subjects: indeterminate (``too_few_control_subjects``).

    Parameters
    ----------
    units : pandas.DataFrame
        ``recording``, ``muscle`` and the ``key`` columns.
    per_muap : pandas.DataFrame
        :func:`muap_long` of (at least) the units' MUAPs.
    reference : LabReference
        With outlier limits (:func:`build_lab_reference` given the MUAPs); without them only
        the mean limits are judged.
    stats_ : pandas.DataFrame, optional
        :func:`recording_stats` of the MUAPs (computed from ``per_muap`` when not given).

    Returns
    -------
    pandas.DataFrame
        One row per key: ``n_muaps``, ``pred``, ``rule``, the booleans ``large``, ``small``,
        ``complex`` and, per feature, ``z_<feature>``, ``hi_<feature>`` and ``lo_<feature>``
        (MUAPs beyond the upper / lower outlier limit) and ``allowed_<feature>``.
    """
    pl = load_signal_parameters()["lab_reference"]
    po = load_signal_parameters()["outlier_reference"]
    key = list(key)
    u = _unit_recordings(units, key)
    pm = per_muap[per_muap["recording"].isin(u["recording"])]
    if stats_ is None:
        stats_ = _long_stats(pm)
    z = zscore_units(None, u, reference, tuple(key), stats=stats_)
    feats = [*po["size_features"], *po["complexity_features"]]
    # mean signs: beyond the t prediction limit of the reference (as zscore_muscle)
    tab = reference.table
    mus_of = u.drop_duplicates(key)[[*dict.fromkeys([*key, "muscle"])]]
    z = z.merge(mus_of, on=key, how="left") if "muscle" not in z else z
    # outlier counts per unit and feature
    j = pm.merge(u[[*dict.fromkeys([*key, "recording", "muscle"])]], on="recording")
    if "outlier_low" in tab.columns:
        lim = tab[["outlier_low", "outlier_high"]].dropna().reset_index()
        j = j.merge(lim, on=["muscle", "feature"], how="inner")
        j = j.assign(hi=j["value"] > j["outlier_high"], lo=j["value"] < j["outlier_low"])
        cnt = j.groupby([*dict.fromkeys([*key, "muscle"]), "feature"])[["hi", "lo"]].agg(
            ["sum", "size"])
        cnt.columns = ["hi", "n", "lo", "n2"]
        cnt = cnt.drop(columns="n2").reset_index()
        cnt["allowed"] = allowed_outliers(cnt["n"])
        wide = cnt.pivot_table(index=key, columns="feature", values=["hi", "lo", "allowed"])
        wide.columns = [f"{a}_{b}" for a, b in wide.columns]
        z = z.merge(wide.reset_index(), on=key, how="left")
    ref_k = tab["n_recordings"].groupby(level="muscle").first()
    limit = prediction_limit(z["muscle"].map(ref_k).astype(float))
    sign = {s: np.zeros(len(z), bool) for s in OUTLIER_SIGNS}
    for f in feats:
        zc = z.get(f"z_{f}", pd.Series(np.nan, index=z.index)).to_numpy(float)
        hi = z.get(f"hi_{f}", pd.Series(np.nan, index=z.index)).to_numpy(float)
        lo = z.get(f"lo_{f}", pd.Series(np.nan, index=z.index)).to_numpy(float)
        al = z.get(f"allowed_{f}", pd.Series(np.nan, index=z.index)).to_numpy(float)
        mean = beyond_limits(zc, limit)
        up = (mean == "above") | (hi > al)
        down = (mean == "below") | (lo > al)
        if f in po["size_features"]:
            sign["large"] |= up
            sign["small"] |= down
        else:
            sign["complex"] |= up
    for s_ in OUTLIER_SIGNS:
        z[s_] = sign[s_]
    has_ref = z["muscle"].isin(reference.muscles()).to_numpy()
    enough = (z["n_muaps"].fillna(0) >= pl["min_muaps"]).to_numpy()
    few = count_control_subjects(reference, z["muscle"])["too_few"].to_numpy(bool)
    rule = np.select(
        [~has_ref, few, ~enough, sign["large"] & sign["small"], sign["large"], sign["small"],
         sign["complex"]],
        ["no_reference_for_muscle", "too_few_control_subjects", "too_few_muaps",
         "outlier_mixed", "outlier_large", "outlier_small", "outlier_complex"], "outlier_normal")
    z["rule"] = rule
    z["pred"] = pd.Series(rule).map({
        "no_reference_for_muscle": "indeterminate", "too_few_muaps": "indeterminate",
        "too_few_control_subjects": "indeterminate",
        "outlier_mixed": "indeterminate", "outlier_large": "neurogenic",
        "outlier_small": "myopathic", "outlier_complex": "myopathic",
        "outlier_normal": "normal"}).to_numpy()
    return z


def unit_means(units: pd.DataFrame, stats_: pd.DataFrame,
               key: tuple[str, ...] = ("subject", "muscle")) -> pd.DataFrame:
    """Mean of each reference feature over the MUAPs pooled per key (whole-table): one row per
    key with ``muscle``, ``n_muaps`` and one column per feature."""
    key = list(key)
    agg = _pooled_means(_unit_recordings(units, key), stats_, key)
    wide = agg["value"].unstack("feature")
    n = agg["n"].xs("duration_ms", level="feature") if len(agg) else agg["n"]
    return wide.assign(n_muaps=n).reset_index()


def _unit_recordings(units: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """The ``key`` columns, ``recording`` and the canonical ``muscle`` of each unit's
    recordings."""
    u = units[[*dict.fromkeys([*key, "recording", "muscle"])]].copy()
    u["muscle"] = u["muscle"].map(normalize_muscle)
    return u


def _pooled_means(u: pd.DataFrame, stats: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """The mean of each feature over the MUAPs of a unit's recordings pooled (whole-table),
    from :func:`recording_stats`: index (key, muscle, feature); columns ``n`` (MUAPs), ``s``
    (their sum) and ``value`` (their mean)."""
    j = stats.merge(u, on="recording")
    grp = [*dict.fromkeys([*key, "muscle"]), "feature"]
    agg = j.assign(s=j["n"] * j["m"]).groupby(grp)[["n", "s"]].sum()
    return agg.assign(value=agg["s"] / agg["n"])


def _ledoit_wolf(x: np.ndarray) -> np.ndarray:
    """Ledoit-Wolf shrinkage covariance of standardised rows ``x`` (k x p) towards mu * I."""
    k, p = x.shape
    s = x.T @ x / k
    mu = np.trace(s) / p
    d2 = ((s - mu * np.eye(p)) ** 2).sum()
    b2 = min(sum(((np.outer(r, r) - s) ** 2).sum() for r in x) / k ** 2, d2)
    shrink = b2 / d2 if d2 > 0 else 1.0
    return shrink * mu * np.eye(p) + (1 - shrink) * s


def mahalanobis_readings(controls: pd.DataFrame, tests: pd.DataFrame) -> pd.DataFrame:
    """Read test units by their Mahalanobis distance from the control units of the same muscle
    (section ``mahalanobis_reference``).

    Parameters
    ----------
    controls, tests : pandas.DataFrame
        :func:`unit_means` of the control subject-muscles and of the units to read.

    Returns
    -------
    pandas.DataFrame
        ``tests`` with ``d2`` (squared distance), ``limit`` (in the same units), ``side``
        (mean standardised size difference), ``pred`` and ``rule`` (``mahalanobis_normal``,
        ``mahalanobis_large``, ``mahalanobis_small``, ``too_few_muaps``,
        ``no_reference_for_muscle``).
    """
    pl = load_signal_parameters()["lab_reference"]
    pm = load_signal_parameters()["mahalanobis_reference"]
    alpha = _two_sided_level()
    out = tests.copy()
    out["d2"] = np.nan
    out["limit"] = np.nan
    out["side"] = np.nan
    ctrl = controls[controls["n_muaps"] >= pl["min_muaps"]]
    for mus, g in out.groupby("muscle"):
        c = ctrl[ctrl["muscle"] == mus]
        feats = [f for f in pm["features"] if f in c.columns and f in g.columns
                 and c[f].notna().all() and len(c)]
        k, p = len(c), len(feats)
        if k < max(pm["min_control_units"], p + 2) or p == 0:
            continue
        x = c[feats].to_numpy(float)
        mu, sd = x.mean(0), x.std(0, ddof=1)
        sd = np.where(sd > 0, sd, 1.0)
        cov = _ledoit_wolf((x - mu) / sd)
        inv = np.linalg.pinv(cov)
        y = (g[feats].to_numpy(float) - mu) / sd
        d2 = np.einsum("ij,jk,ik->i", y, inv, y)
        size = [i for i, f in enumerate(feats) if f in pm["size_features"]]
        out.loc[g.index, "d2"] = d2 * k / (k + 1)
        out.loc[g.index, "limit"] = p * (k - 1) / (k - p) * stats.f.isf(alpha, p, k - p)
        out.loc[g.index, "side"] = y[:, size].mean(1) if size else 0.0
    has = out["d2"].notna()
    enough = out["n_muaps"].fillna(0) >= pl["min_muaps"]
    abn = out["d2"] > out["limit"]
    rule = np.select([~has, ~enough, abn & (out["side"] > 0), abn],
                     ["no_reference_for_muscle", "too_few_muaps", "mahalanobis_large",
                      "mahalanobis_small"], "mahalanobis_normal")
    out["rule"] = rule
    out["pred"] = pd.Series(rule, index=out.index).map({
        "no_reference_for_muscle": "indeterminate", "too_few_muaps": "indeterminate",
        "mahalanobis_large": "neurogenic", "mahalanobis_small": "myopathic",
        "mahalanobis_normal": "normal"})
    return out
