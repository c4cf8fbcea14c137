"""A reading trained on a laboratory's own labelled subjects: features of each subject-muscle
(its MUAPs pooled over recordings, its interference pattern and spectrum), standardised against
the laboratory's controls, read by a class-balanced, L2-regularised multinomial logistic
regression (section ``lab_classifier`` of the parameter file).

The model is plain data (feature list, standardisation, coefficients, training counts) so
that a lab reference TOML can hold it: :class:`LabClassifier`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from edxreview.signal._acceptance import accepted_muaps
from edxreview.signal._classify import normalize_muscle
from edxreview.signal._params import load_signal_parameters
from edxreview.signal._reference import muap_features, pool_readings


def classifier_parameters() -> dict:
    """Section ``lab_classifier`` of the parameter file."""
    return load_signal_parameters()["lab_classifier"]


def _split(name: str) -> tuple[str, str]:
    col, _, stat = name.partition(":")
    return col, stat


def unit_features(
    muaps: pd.DataFrame, epochs: pd.DataFrame | None, units: pd.DataFrame,
    key: tuple[str, ...] = ("subject", "muscle"), features: list[str] | None = None,
) -> pd.DataFrame:
    """The classifier's features of each unit (the recordings sharing a key pooled).

    Parameters
    ----------
    muaps : pandas.DataFrame
        MUAPs with column ``recording`` (columns of :func:`~edxreview.signal.measure_muaps`);
        the accepted ones only enter the features (``n_muaps`` and ``muaps_per_s`` count
        them).
    epochs : pandas.DataFrame or None
        Interference epochs with column ``recording``
        (:func:`~edxreview.signal._interference.interference_epochs`).
    units : pandas.DataFrame
        ``recording``, ``muscle``, ``record_s`` (seconds of signal analysed) and the ``key``
        columns.
    features : list of str, optional
        ``column:statistic`` names (default: ``lab_classifier.features``); a name ending in
        ``@max`` or ``@min`` is the feature computed per recording (its own MUAPs and epochs,
        with the same minimum numbers), then the largest or smallest over the unit's
        recordings.

    Returns
    -------
    pandas.DataFrame
        One row per key: the key columns, ``muscle``, ``n_muaps``, ``n_epochs`` and one column
        per feature (NaN where it cannot be computed: fewer than ``min_muaps`` MUAPs, fewer
        than ``[interference] min_epochs`` epochs, uncalibrated amplitudes).
    """
    p = classifier_parameters()
    feats = list(p["features"]) if features is None else list(features)
    key = list(key)
    sites = [f for f in feats if "@" in f]
    if sites:   # "feature@max|min": the feature of each recording, then its extreme
        out = unit_features(muaps, epochs, units, key, [f for f in feats if "@" not in f])
        per = dict.fromkeys(f.partition("@")[0] for f in sites)
        rec_key = [*dict.fromkeys([*key, "recording"])]
        r = unit_features(muaps, epochs, units, rec_key, list(per))
        g = r.groupby(key, sort=True)
        for f in sites:
            name, _, agg = f.partition("@")
            if agg not in ("max", "min"):
                raise ValueError(f"unknown feature extreme {f!r} (max or min)")
            out[f] = g[name].agg(agg).reindex(pd.MultiIndex.from_frame(out[key])
                                              if len(key) > 1 else out[key[0]]).to_numpy()
        return out[[c for c in out.columns if c not in feats] + feats]
    poly_min = load_signal_parameters()["measurement"]["polyphasic_min_phases"]
    min_ep = load_signal_parameters()["interference"]["min_epochs"]
    if "record_s" not in units:   # seconds unknown: no MUAPs-per-second feature
        units = units.assign(record_s=np.nan)
    u = units[[*dict.fromkeys([*key, "recording", "muscle", "record_s"])]].copy()
    u["muscle"] = u["muscle"].map(normalize_muscle)
    g0 = u.groupby(key, sort=True)
    base = g0.agg(record_s=("record_s", "sum"))
    if "muscle" not in key:
        base["muscle"] = g0["muscle"].first()
    m = accepted_muaps(muaps[muaps["recording"].isin(u["recording"])])
    rate = (pd.to_numeric(m["firing_rate_hz"], errors="coerce") if "firing_rate_hz" in m
            else pd.Series(np.nan, index=m.index))
    f = muap_features(m).assign(polyphasic=(m["phases"].astype(float) >= poly_min).astype(float),
                                firing_rate_hz=rate, recording=m["recording"].to_numpy())
    f = f.merge(u[[*dict.fromkeys([*key, "recording"])]], on="recording")
    gm = f.groupby(key)
    base["n_muaps"] = gm.size().reindex(base.index).fillna(0).astype(int)
    if epochs is not None and len(epochs):
        e = epochs[epochs["recording"].isin(u["recording"])].merge(
            u[[*dict.fromkeys([*key, "recording"])]], on="recording")
    else:
        e = pd.DataFrame(columns=[*dict.fromkeys([*key, "recording"])])
    ge = e.groupby(key)
    base["n_epochs"] = ge.size().reindex(base.index).fillna(0).astype(int)
    enough_m = base["n_muaps"] >= p["min_muaps"]
    enough_e = base["n_epochs"] >= min_ep
    for name in feats:
        col, stat = _split(name)
        if name == "muaps_per_s":
            v = base["n_muaps"] / base["record_s"].where(base["record_s"] > 0)
            base[name] = v
            continue
        src, ok = (ge, enough_e) if col.startswith("ip_") else (gm, enough_m)
        frame = e if col.startswith("ip_") else f
        if col not in frame.columns or len(frame) == 0:
            base[name] = np.nan
            continue
        s = src[col]
        if stat == "median":
            v = s.median()
        elif stat == "mean":
            v = s.mean()
        elif stat.startswith("q") and stat[1:].isdigit():
            v = s.quantile(int(stat[1:]) / 100)
        elif stat == "sd":
            v = s.std()
        else:
            raise ValueError(f"unknown feature statistic {name!r}")
        base[name] = pd.to_numeric(v.reindex(base.index), errors="coerce").where(ok)
    return base.drop(columns="record_s").reset_index()


@dataclass
class LabClassifier:
    """A trained lab classifier, as plain data.

    Attributes
    ----------
    features : list of str
        ``column:statistic`` names, in coefficient order.
    classes : list of str
    centre, scale : pandas.DataFrame
        Index muscle, one column per feature: the control mean and SD of each muscle (of the
        control recordings, weighted, when trained on recordings: ``training_unit``).
    coef : numpy.ndarray
        (classes x features) coefficients on the standardised features.
    intercept : numpy.ndarray
        (classes,)
    c : float
        The penalty chosen.
    counts : dict
        Training subject-muscles and subjects per class, control subjects per muscle.
    transfer : dict
        Empty for a model trained where it is used; for a model re-centred on another
        laboratory's controls (:func:`transfer_classifier`): ``from_lab``,
        ``from_reference``, ``min_control_subjects``, ``local_control_subjects`` (muscle ->
        number of local control subjects behind its centre), ``borrowed_scale`` (muscles whose
        scale is the mean of the source model's muscles' SDs) and ``short_control_subjects``
        (muscle -> local control subjects, fewer than the minimum: no valid reference).
    """

    features: list[str]
    classes: list[str]
    centre: pd.DataFrame
    scale: pd.DataFrame
    coef: np.ndarray
    intercept: np.ndarray
    c: float
    counts: dict = field(default_factory=dict)
    transfer: dict = field(default_factory=dict)

    def muscles(self) -> list[str]:
        return sorted(self.centre.index)

    def standardise(self, x: pd.DataFrame, centre: pd.DataFrame | None = None) -> pd.DataFrame:
        """z-scores of ``x`` (columns ``muscle`` and the features) against the controls of its
        muscle (``centre`` overrides the model's control means, e.g. another laboratory's
        own controls); NaN where the muscle has no standardisation."""
        cen = self.centre if centre is None else centre
        mus = x["muscle"].map(normalize_muscle)
        c = cen.reindex(mus)[self.features].to_numpy(float)
        s = self.scale.reindex(mus)[self.features].to_numpy(float)
        return pd.DataFrame((x[self.features].to_numpy(float) - c) / s, index=x.index,
                            columns=self.features)

    def predict_proba(self, x: pd.DataFrame, centre: pd.DataFrame | None = None) -> pd.DataFrame:
        """Class probabilities of each row of ``x`` (missing features at the control mean);
        all NaN for a muscle without standardisation. Column ``n_missing`` counts the
        features set to the control mean."""
        z = self.standardise(x, centre)
        mus = x["muscle"].map(normalize_muscle)
        known = (mus.isin((self.centre if centre is None else centre).index)
                 & mus.isin(self.scale.index)).to_numpy()
        n_missing = z.isna().sum(axis=1)
        p = np.full((len(x), len(self.classes)), np.nan)
        if known.any():
            p[known] = softmax(z[known].fillna(0.0).to_numpy(float) @ self.coef.T + self.intercept)
        out = pd.DataFrame(p, index=x.index, columns=self.classes)
        out["n_missing"] = n_missing.where(known)
        return out


def softmax(a: np.ndarray) -> np.ndarray:
    a = a - a.max(1, keepdims=True)
    e = np.exp(a)
    return e / e.sum(1, keepdims=True)


def fit_logistic(x: np.ndarray, y: np.ndarray, k: int, c: float,
                 sample_weight: np.ndarray | None = None,
                 signs: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression, class-balanced, penalty 0.5 |W|^2 + C * sum of the
    weighted cross-entropies (intercepts not penalised). ``y`` holds class indices 0..k-1;
    ``sample_weight`` (default 1 each) weighs the rows, and the class balance is taken over
    the weights (each class's weights sum to the same total, n / k).

    ``signs`` (k - 1 rows, one per class 1..k-1, a column per feature: +1, -1 or 0) fits
    class 0 as the reference (its coefficients and intercept 0): each other class's
    coefficients are its log-odds against class 0, held at or above 0 where the sign is +1,
    at or below 0 where it is -1, free where it is 0.

    Newton's method with the exact Hessian and step halving (the objective is convex; a few
    dozen parameters), to a relative change of the objective below 1e-10; with ``signs``,
    projected Newton (Bertsekas DP, SIAM J Control Optim 1982;20:221-246): the step on the
    coefficients not held at their bound, each new point projected onto the bounds."""
    n, p = x.shape
    sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
    cnt = np.bincount(y, weights=sw, minlength=k)
    w = sw * n / (k * np.where(cnt > 0, cnt, 1.0))[y]
    onehot = np.eye(k)[y]
    xt = np.hstack([x, np.ones((n, 1))])          # last column: the intercept
    pen = np.ones(p + 1)
    pen[-1] = 1e-9                                 # intercepts: (almost) not penalised
    # bounds of every parameter (k, p + 1); the reference class's row is held at 0
    lo = np.full((k, p + 1), -np.inf)
    hi = np.full((k, p + 1), np.inf)
    if signs is not None:
        sg = np.asarray(signs, float).reshape(k - 1, p)
        lo[0], hi[0] = 0.0, 0.0
        lo[1:, :p] = np.where(sg > 0, 0.0, -np.inf)
        hi[1:, :p] = np.where(sg < 0, 0.0, np.inf)
    fixed = (lo == 0) & (hi == 0)

    def obj(theta: np.ndarray) -> float:
        a = xt @ theta.T
        a = a - a.max(1, keepdims=True)
        lse = np.log(np.exp(a).sum(1))
        return float(0.5 * (pen * theta ** 2).sum() + c * (w * (lse - (a * onehot).sum(1))).sum())

    def halve(theta: np.ndarray, f: float, direction: np.ndarray, t: float,
              t_min: float) -> tuple[np.ndarray, float]:
        """A step along -direction from theta, projected onto the bounds and halved until the
        objective is no higher than f (or the step is below t_min): the new point and value."""
        while True:
            new = np.clip(theta - t * direction, lo, hi)
            fn = obj(new)
            if fn <= f or t < t_min:
                return new, fn
            t /= 2

    theta = np.zeros((k, p + 1))
    f = obj(theta)
    held_before = None
    bounded = signs is not None
    converged = done_change = False
    for _ in range(200):
        a = xt @ theta.T
        pr = softmax(a)
        g = c * ((pr - onehot) * w[:, None]).T @ xt + pen * theta            # (k, p+1)
        # with bounds, optimal where the projected gradient vanishes (first-order conditions)
        if bounded and held_before is not None and done_change and (
                np.abs(theta - np.clip(theta - g, lo, hi)).max() <= 1e-6 * max(1.0, abs(f))):
            converged = True
            break
        # Hessian: sum_i w_i (diag(p_i) - p_i p_i') kron x_i x_i'
        s_ = np.einsum("ia,ab->iab", pr, np.eye(k)) - np.einsum("ia,ib->iab", pr, pr)
        h = c * np.einsum("i,iab,ic,id->acbd", w, s_, xt, xt).reshape(k * (p + 1), k * (p + 1))
        h += np.diag(np.tile(pen, k))
        # held: fixed, or at a bound with the gradient pushing outwards
        held = (fixed | ((theta <= lo) & (g > 0)) | ((theta >= hi) & (g < 0))).ravel()
        step = np.zeros(k * (p + 1))
        free = ~held
        if free.any():
            step[free] = np.linalg.solve(h[np.ix_(free, free)], g.ravel()[free])
        step = step.reshape(k, p + 1)
        new, fn = halve(theta, f, step, 1.0, 1e-8)
        if bounded and fn > f:
            # the projected Newton step does not descend (a free coefficient's step crossed
            # its bound): a projected gradient step, from 1 / the Hessian's largest eigenvalue
            new, fn = halve(theta, f, g, 1.0 / np.linalg.eigvalsh(h).max(), 1e-12)
            if fn > f:                     # no descent at all: optimal to the precision
                new, fn = theta, f
        done_change = abs(f - fn) <= 1e-10 * max(1.0, abs(f)) and (
            held_before is None or np.array_equal(held, held_before))
        theta, f, held_before = new, fn, held
        if done_change and not bounded:
            converged = True
            break
    if not converged:
        warnings.warn(f"the lab classifier's fit (C = {c:g}) stopped after 200 iterations "
                      "without converging", RuntimeWarning, stacklevel=2)
    return theta[:, :p], theta[:, p]


def sign_matrix(features: list[str], classes: list[str]) -> np.ndarray | None:
    """The signs :func:`fit_logistic` holds the coefficients to (``[lab_classifier]
    sign_constraints``), one row per class after the first (the reference, normal), one
    column per feature: +1 ("up"), -1 ("down") or 0 (free: a feature
    ``[lab_classifier.signs]`` does not name); None when the constraints are off.

    Raises
    ------
    InvalidParameterError
        The parameter file's signs cannot be read as declared: the first class is not
        ``normal`` (the reference the directions are stated against), ``[lab_classifier.signs]
        classes`` is not the other classes, or a direction is not "up", "down" or "free"."""
    from edxreview._errors import InvalidParameterError

    p = classifier_parameters()
    if not p["sign_constraints"]:
        return None
    table = p["signs"]
    order = list(table["classes"])
    where = "emg_signal_parameters.toml [lab_classifier.signs]"
    if classes[0] != "normal" or sorted(order) != sorted(classes[1:]):
        raise InvalidParameterError(
            f"{where}: the directions are stated against 'normal' for {order!r}, but the "
            f"classes are {list(classes)!r} (normal first, then those).")
    code = {"up": 1.0, "down": -1.0, "free": 0.0}
    bad = {f: v for f, v in table.items() if f != "classes"
           and (not isinstance(v, list) or len(v) != len(order)
                or any(d not in code for d in v))}
    if bad:
        raise InvalidParameterError(
            f"{where}: each feature takes one of 'up', 'down' or 'free' per class "
            f"{order!r}; not {bad!r}.")
    out = np.zeros((len(classes) - 1, len(features)))
    for j, f in enumerate(features):
        for i, cls in enumerate(classes[1:]):
            if f in table:
                out[i, j] = code[table[f][order.index(cls)]]
    return out


def _weights(x: pd.DataFrame) -> pd.Series:
    """The training rows' weights: column ``weight`` (:func:`training_units`), 1 without it."""
    return x["weight"].astype(float) if "weight" in x else pd.Series(1.0, index=x.index)


def _weighted_mean_sd(x: pd.DataFrame, features: list[str],
                      w: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Mean and SD of each feature over the rows where it is known, rows weighted by ``w``
    (reliability weights: with equal weights the ordinary mean and n - 1 SD)."""
    v = x[features].to_numpy(float)
    known = ~np.isnan(v)
    ww = np.where(known, w.to_numpy(float)[:, None], 0.0)
    s1 = ww.sum(0)
    mean = np.where(s1 > 0, np.nansum(ww * np.nan_to_num(v), 0) / np.where(s1 > 0, s1, 1), np.nan)
    s2 = (ww ** 2).sum(0)
    denom = s1 - np.where(s1 > 0, s2 / np.where(s1 > 0, s1, 1), 0)
    dev = np.where(known, (np.nan_to_num(v) - mean) ** 2, 0.0)
    var = np.where(denom > 0, (ww * dev).sum(0) / np.where(denom > 0, denom, 1), np.nan)
    # a feature constant over its known rows has SD 0 exactly (not a rounding residue of the
    # weighted mean, which would divide z-scores by ~1e-16)
    lo = np.where(known, v, np.inf).min(0)
    hi = np.where(known, v, -np.inf).max(0)
    var = np.where(known.any(0) & (lo == hi), 0.0, var)
    return pd.Series(mean, index=features), pd.Series(np.sqrt(var), index=features)


def _standardisation(x: pd.DataFrame, features: list[str],
                     need: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """Control mean and SD per muscle (muscles with at least ``need`` control subjects),
    the rows weighted by :func:`_weights`."""
    ctrl = x[x["truth"] == "normal"]
    g = ctrl.groupby("muscle")
    n = g["subject"].nunique()
    keep = n[n >= need].index
    w = _weights(ctrl)
    stats = {m: _weighted_mean_sd(ctrl.iloc[pos], features, w.iloc[pos])
             for m, pos in g.indices.items() if m in keep}
    centre, scale = (pd.DataFrame([stats[m][i] for m in keep], index=keep, columns=features)
                     for i in (0, 1))
    scale = scale.where(scale > 0).fillna(1.0)   # a feature constant in the controls: unscaled
    return centre, scale, n.loc[keep]


def _fit_fixed(x: pd.DataFrame, features: list[str], classes: list[str], c: float,
               need_ctrl: int) -> LabClassifier | None:
    centre, scale, n_ctrl = _standardisation(x, features, need_ctrl)
    if centre.empty:
        return None
    tmp = LabClassifier(features, classes, centre, scale, np.zeros((len(classes), len(features))),
                        np.zeros(len(classes)), c)
    t = x[x["muscle"].isin(centre.index) & x["truth"].isin(classes)]
    z = tmp.standardise(t).fillna(0.0).to_numpy(float)
    y = t["truth"].map({k: i for i, k in enumerate(classes)}).to_numpy(int)
    coef, icpt = fit_logistic(z, y, len(classes), c, _weights(t).to_numpy(float),
                              sign_matrix(features, classes))
    units = t.drop_duplicates([k for k in ("subject", "muscle", "side") if k in t])
    counts = {"units": units["truth"].value_counts().reindex(classes, fill_value=0).astype(int)
              .to_dict(),
              "subjects": t.groupby("truth")["subject"].nunique().reindex(classes, fill_value=0)
              .astype(int).to_dict(),
              "control_subjects": {str(k): int(v) for k, v in n_ctrl.items()}}
    return LabClassifier(features, classes, centre, scale, coef, icpt, c, counts)


def inner_folds(x: pd.DataFrame, k: int) -> pd.Series:
    """Subject-grouped folds: subjects sorted by id and dealt to the folds in turn within each
    class (no random numbers)."""
    s = x.drop_duplicates("subject").sort_values("subject")[["subject", "truth"]]
    s["fold"] = s.groupby("truth").cumcount() % k
    return x["subject"].map(s.set_index("subject")["fold"])


def validity(x: pd.DataFrame) -> str | None:
    """Why training units ``x`` (``subject``, ``muscle``, ``truth``) cannot give a model, or
    None when they can."""
    p = classifier_parameters()
    n = x.groupby("truth")["subject"].nunique()
    short = [c for c in p["classes"] if n.get(c, 0) < p["min_class_subjects"]]
    if short:
        return ("no valid reference: the labelled subjects lack "
                + ", ".join(f"{c} ({int(n.get(c, 0))} subject(s))" for c in short)
                + f"; each class needs {p['min_class_subjects']}")
    nc = x[x["truth"] == "normal"].groupby("muscle")["subject"].nunique()
    if not (nc >= p["min_control_subjects"]).any():
        return (f"no valid reference: no muscle has {p['min_control_subjects']} control "
                f"subjects")
    return None


TRAINING_UNITS = ("subject_muscle", "recording")


def balanced_loss(d: pd.DataFrame) -> float:
    """The inner folds' criterion: per class (column ``t``) the mean of the held-out rows'
    cross-entropies ``l`` weighted by their weights ``w``, then the mean over the classes.

    Examples
    --------
    >>> balanced_loss(pd.DataFrame({"t": ["a", "a", "b"], "w": [0.5, 1.5, 1.0],
    ...                             "l": [1.0, 3.0, 2.0]}))
    2.25
    """
    d = d.assign(wl=d["w"] * d["l"])
    g = d.groupby("t")
    return float((g["wl"].sum() / g["w"].sum()).mean())


def training_unit() -> str:
    """``[lab_classifier] training_unit``: what one training row is (checked)."""
    from edxreview._errors import InvalidParameterError

    v = classifier_parameters().get("training_unit")
    if v not in TRAINING_UNITS:
        raise InvalidParameterError(
            f"emg_signal_parameters.toml [lab_classifier] training_unit must be one of "
            f"{list(TRAINING_UNITS)}, not {v!r}.")
    return v


def training_rows(muaps: pd.DataFrame, epochs: pd.DataFrame | None, units: pd.DataFrame,
                  key: tuple[str, ...] = ("subject", "muscle"),
                  features: list[str] | None = None) -> pd.DataFrame:
    """The lab classifier's training rows (:func:`unit_features`, ``features`` as there): one
    per ``key`` unit, or, with ``training_unit = "recording"``, one per recording weighted by
    :func:`training_units`."""
    if training_unit() == "recording":
        rk = tuple(dict.fromkeys([*key, "recording"]))
        return readable_training_units(unit_features(muaps, epochs, units, rk, features), key)
    return unit_features(muaps, epochs, units, key, features)


def readable_training_units(recordings: pd.DataFrame,
                            key: tuple[str, ...] = ("subject", "muscle")) -> pd.DataFrame:
    """:func:`training_units` of the recordings the reading would read: one it would refuse
    (too few MUAPs and epochs: :func:`read_units`' ``too_few_units``) does not train either,
    since its features would all sit at the control mean under its label."""
    return training_units(recordings[readable(recordings)], key)


def training_units(units: pd.DataFrame, key: tuple[str, ...] = ("subject", "muscle")) -> pd.DataFrame:
    """The training rows of the lab classifier from :func:`unit_features` rows computed per
    recording (key plus ``recording``), with ``weight``: one row per recording weighted
    1 / the recordings of its ``key`` unit (``[lab_classifier] training_unit = "recording"``),
    so that every unit weighs as one.

    Examples
    --------
    >>> r = pd.DataFrame({"subject": ["a", "a", "b"], "muscle": ["deltoid"] * 3,
    ...                   "recording": ["a1", "a2", "b1"]})
    >>> training_units(r)["weight"].tolist()
    [0.5, 0.5, 1.0]
    """
    n = units.groupby(list(key))["recording"].transform("size")
    return units.assign(weight=1.0 / n.to_numpy(float))


def fit_classifier(x: pd.DataFrame, features: list[str] | None = None) -> LabClassifier | None:
    """Train the lab classifier on labelled subject-muscles (or recordings).

    Parameters
    ----------
    x : pandas.DataFrame
        :func:`unit_features` of the training subject-muscles with ``truth`` (normal /
        neurogenic / myopathic) and ``subject``; or of the training recordings with their
        ``weight`` (:func:`training_units`), which then weighs every row in the fit, the
        class balance, the control centre and SD and the inner folds' loss.

    Returns
    -------
    LabClassifier or None
        None when :func:`validity` says there is no valid reference. The penalty is chosen
        from ``c_grid`` by subject-grouped cross-validation on ``x`` only.
    """
    p = classifier_parameters()
    feats = list(p["features"]) if features is None else list(features)
    classes = list(p["classes"])
    x = x.assign(muscle=x["muscle"].map(normalize_muscle))
    if validity(x) is not None:
        return None
    grid = [float(c) for c in p["c_grid"]]
    if len(grid) > 1:
        fold = inner_folds(x, int(p["inner_folds"]))
        loss = np.zeros(len(grid))
        for i, c in enumerate(grid):
            ce = []
            for f in sorted(fold.unique()):
                tr, te = x[fold != f], x[fold == f]
                m = _fit_fixed(tr, feats, classes, c, p["min_control_subjects"])
                if m is None:
                    continue
                pr = m.predict_proba(te).dropna(subset=classes)
                t = te.loc[pr.index, "truth"]
                ok = t.isin(classes)
                pr, t = pr[ok], t[ok]
                pt = pr[classes].to_numpy(float)[np.arange(len(t)), t.map(classes.index).to_numpy(int)]
                ce.append(pd.DataFrame({"t": t.to_numpy(), "w": _weights(te.loc[t.index]).to_numpy(),
                                        "l": -np.log(np.clip(pt, 1e-12, 1))}))
            if ce:
                loss[i] = balanced_loss(pd.concat(ce))
            else:
                loss[i] = np.inf
        c = grid[int(np.argmin(loss))]   # argmin takes the first (smallest C) of ties
    else:
        c = grid[0]
    return _fit_fixed(x, feats, classes, c, p["min_control_subjects"])


def pool_probabilities(proba: pd.DataFrame, by: pd.Series, classes: list[str]) -> pd.DataFrame:
    """Subject probabilities from its muscles': the normalised geometric mean (mean of the
    log-probabilities), over the muscles that were read. Columns: the classes, ``pred``
    (``indeterminate`` where no muscle was read) and ``probability``."""
    lp = np.log(np.clip(proba[classes].astype(float), 1e-300, None))
    m = lp.groupby(by.to_numpy()).mean()
    read = m.notna().all(axis=1)
    out = pd.DataFrame(np.nan, index=m.index, columns=classes)
    if read.any():
        out.loc[read, classes] = softmax(m[read].to_numpy(float))
    best = np.nan_to_num(out[classes].to_numpy(float), nan=-1).argmax(1)
    out["pred"] = np.where(read, np.asarray(classes)[best], "indeterminate")
    out["probability"] = out[classes].max(axis=1)
    return out


def pool_muscle_readings(readings: pd.DataFrame, by: pd.Series, classes: list[str]) -> pd.DataFrame:
    """A subject's reading from its muscles' classifier readings, by the rule every other
    reading pools muscles with (:func:`~edxreview.signal._reference.pool_readings`): the
    abnormal class when the muscles read show only one (a focal abnormality is the finding,
    whatever the other muscles read), normal when every muscle read is normal, otherwise
    (both abnormal classes) indeterminate; muscles not read are left out, and a subject with
    none read is indeterminate. The class probabilities are not averaged: ``probability`` is,
    for an abnormal class, the highest of the muscles reading it and, for normal, the lowest
    of the muscles' (the least certain). Columns: ``pred``, ``probability``, ``n_read`` (muscles
    read) and ``n_class`` (muscles reading ``pred``), indexed by subject."""
    read = readings["pred"].isin(classes).to_numpy()
    r = pd.DataFrame({"subject": by.to_numpy()[read], "pred": readings["pred"].to_numpy()[read],
                      "p": readings["probability"].to_numpy(float)[read]})
    subjects = pd.Index(pd.unique(by.to_numpy()))
    pred = r.groupby("subject")["pred"].agg(pool_readings).reindex(subjects)
    r["subject_pred"] = r["subject"].map(pred)
    deciding = r[r["pred"] == r["subject_pred"]]
    p_abn = deciding.groupby("subject")["p"].max()
    p_norm = deciding.groupby("subject")["p"].min()
    out = pd.DataFrame(index=subjects)
    out["pred"] = pred.fillna("indeterminate")
    out["probability"] = np.where(out["pred"] == "normal", p_norm.reindex(subjects),
                                  p_abn.reindex(subjects))
    out.loc[out["pred"] == "indeterminate", "probability"] = np.nan
    out["n_read"] = r.groupby("subject").size().reindex(subjects).fillna(0).astype(int)
    out["n_class"] = deciding.groupby("subject").size().reindex(subjects).fillna(0).astype(int)
    return out


FEATURE_GROUPS = ("muap", "interference")


def feature_group(name: str) -> str:
    """The group of a classifier feature: ``interference`` for the interference pattern's
    (column ``ip_*``), ``muap`` for the others (the decomposition's MUAPs and units per s).

    Examples
    --------
    >>> feature_group("ip_log_ratio:mean@max"), feature_group("duration_ms:median")
    ('interference', 'muap')
    """
    return "interference" if name.startswith("ip_") else "muap"


def _enough(x: pd.DataFrame) -> dict[str, pd.Series]:
    """Per feature group, the units that meet its own minimum: ``min_muaps`` MUAPs, or
    ``[interference] min_epochs`` epochs."""
    min_ep = load_signal_parameters()["interference"]["min_epochs"]
    return {"muap": x["n_muaps"] >= classifier_parameters()["min_muaps"],
            "interference": x["n_epochs"] >= min_ep}


def groups_read(x: pd.DataFrame, z: pd.DataFrame) -> pd.DataFrame:
    """Which feature groups of each unit are complete enough to be read on their own.

    A group (:func:`feature_group`) is read when the unit meets the group's own minimum
    (``min_muaps`` MUAPs; ``[interference] min_epochs`` epochs) and at most
    ``max_missing_fraction_of_group`` of the group's features are missing.

    Parameters
    ----------
    x : pandas.DataFrame
        Units with ``n_muaps`` and ``n_epochs``.
    z : pandas.DataFrame
        Their standardised features (:meth:`LabClassifier.standardise`; NaN = missing).

    Returns
    -------
    pandas.DataFrame
        One boolean column per group the features hold, index of ``x``.
    """
    frac = classifier_parameters()["max_missing_fraction_of_group"]
    enough = _enough(x)
    out = {}
    for g in FEATURE_GROUPS:
        cols = [f for f in z.columns if feature_group(f) == g]
        if cols:
            miss = z[cols].isna().sum(axis=1)
            out[g] = (enough[g] & (miss <= frac * len(cols))).to_numpy()
    return pd.DataFrame(out, index=x.index, dtype=bool)


def read_units(model: LabClassifier | None, x: pd.DataFrame,
               centre: pd.DataFrame | None = None) -> pd.DataFrame:
    """Readings of units ``x`` (:func:`unit_features`): the class probabilities, ``pred``,
    ``probability``, ``n_missing``, ``missing_groups`` (the feature groups not read, ``"; "``
    -separated: their missing features are at the control mean) and ``rule``:
    ``lab_classifier`` when read, otherwise why ``pred`` is ``indeterminate``: ``no_model``,
    ``no_standardisation`` (the muscle has none), ``too_few_units`` (neither MUAPs enough nor
    epochs) or ``too_many_missing`` (no feature group complete enough on its own:
    :func:`groups_read`)."""
    p = classifier_parameters()
    classes = list(p["classes"])
    out = x.copy()
    if model is None:
        for c in classes:
            out[c] = np.nan
        out["pred"], out["probability"], out["n_missing"] = "indeterminate", np.nan, np.nan
        out["missing_groups"] = ""
        out["rule"] = "no_model"
        return out
    pr = model.predict_proba(x, centre)
    groups = groups_read(x, model.standardise(x, centre))
    rule = np.select(
        [pr["n_missing"].isna().to_numpy(), ~readable(x).to_numpy(),
         ~groups.any(axis=1).to_numpy()],
        ["no_standardisation", "too_few_units", "too_many_missing"], "lab_classifier")
    pr.loc[rule != "lab_classifier", classes] = np.nan
    out[classes] = pr[classes].to_numpy()
    out["n_missing"] = pr["n_missing"].to_numpy()
    names = pd.Series("", index=x.index)
    for g in groups.columns:
        names = names.where(groups[g], names + np.where(names == "", "", "; ") + g)
    out["missing_groups"] = np.where(rule == "no_standardisation", "", names.to_numpy())
    arr = out[classes].fillna(-1).to_numpy(float)
    out["pred"] = np.where(rule == "lab_classifier", np.asarray(classes)[arr.argmax(1)],
                           "indeterminate")
    out["probability"] = out[classes].max(axis=1)
    out["rule"] = rule
    return out


def readable(x: pd.DataFrame) -> pd.Series:
    """Units with MUAPs enough (``min_muaps``) or epochs enough (``[interference]
    min_epochs``) to be read: the others are neither read (:func:`read_units`) nor count as
    controls (:func:`transfer_classifier`)."""
    e = _enough(x)
    return e["muap"] | e["interference"]


def transfer_classifier(model: LabClassifier, controls: pd.DataFrame, from_lab: str = "",
                        from_reference: str = "") -> LabClassifier | str:
    """A trained model re-centred on another laboratory's own control subjects.

    What transfers is the decision on features expressed against one's own controls: each
    muscle's centre becomes the mean of the local control subjects' features (the lab
    reference idea), while the scale stays the model's control SD of that muscle, or, for a
    muscle the model was not trained on, the mean of its muscles' SDs (feature by feature).
    The coefficients, intercepts and penalty are the model's. A muscle with fewer local control
    subjects than ``[lab_classifier.transfer] min_control_subjects`` gets no centre ("no valid
    reference"). Control subject-muscles with neither ``min_muaps`` MUAPs nor
    ``[interference] min_epochs`` epochs (not read by :func:`read_units`) do not count.

    Parameters
    ----------
    model : LabClassifier
        A model trained on a laboratory's labelled subjects (:func:`fit_classifier`), not
        itself transferred.
    controls : pandas.DataFrame
        :func:`unit_features` of the local control subject-muscles (columns ``subject``,
        ``muscle``, ``n_muaps``, ``n_epochs`` and the model's features).
    from_lab, from_reference : str
        The laboratory that trained the model and the reference file it came from, recorded in
        :attr:`LabClassifier.transfer`.

    Returns
    -------
    LabClassifier or str
        The re-centred model (its muscles: those with enough local controls; the provenance in
        ``transfer``), or the reason there is none (a string starting "no valid reference").

    Raises
    ------
    InvalidParameterError
        ``model`` is itself transferred, or ``controls`` lacks one of the model's features.
    """
    from edxreview._errors import InvalidParameterError

    if model.transfer:
        raise InvalidParameterError(
            f"the classifier is already transferred (from {model.transfer.get('from_lab')!r}); "
            "borrow the model from the reference of the laboratory that trained it.")
    missing = [f for f in ("subject", "muscle", *model.features) if f not in controls.columns]
    if missing:
        raise InvalidParameterError(f"the control features lack column(s) {missing!r}.")
    need = int(classifier_parameters()["transfer"]["min_control_subjects"])
    c = controls.assign(muscle=controls["muscle"].map(normalize_muscle))
    if "n_muaps" in c and "n_epochs" in c:
        c = c[readable(c)]
    n = c.groupby("muscle")["subject"].nunique()
    keep = sorted(n[n >= need].index)
    short = {str(m): int(k) for m, k in n[n < need].items()}
    if not keep:
        return (f"no valid reference: no muscle has {need} local control subject(s) to centre "
                f"the transferred classifier on ([lab_classifier.transfer] "
                f"min_control_subjects)")
    centre = c[c["muscle"].isin(keep)].groupby("muscle")[model.features].mean()
    scale = model.scale.reindex(keep).fillna(model.scale.mean())
    transfer = {"from_lab": str(from_lab), "from_reference": str(from_reference),
                "min_control_subjects": need,
                "local_control_subjects": {str(m): int(n[m]) for m in keep},
                "borrowed_scale": [str(m) for m in keep if m not in model.scale.index],
                "short_control_subjects": short}
    return LabClassifier(model.features, model.classes, centre, scale, model.coef,
                         model.intercept, model.c, model.counts, transfer)
