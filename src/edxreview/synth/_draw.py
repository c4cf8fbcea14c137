"""Vectorised random draws shared by the scenario builders."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from scipy.special import ndtr, ndtri


def draw_truncated_normal(rng: np.random.Generator, mean, sd, low, high, size=None) -> np.ndarray:
    """Draw from normal distributions truncated to ``[low, high]`` by inverse CDF.

    Every argument broadcasts, so one call serves a whole table of rows with row-wise
    parameters. One uniform number is consumed per value, which keeps streams reproducible.

    Parameters
    ----------
    rng : numpy.random.Generator
    mean, sd, low, high : float or array_like
        Parameters of each value; ``sd > 0`` and ``low <= high``.
    size : int or tuple, optional
        Output shape; defaults to the broadcast shape of the parameters.

    Returns
    -------
    numpy.ndarray
    """
    mean, sd, low, high = (np.asarray(a, dtype=float) for a in (mean, sd, low, high))
    shape = np.broadcast_shapes(mean.shape, sd.shape, low.shape, high.shape) if size is None else size
    mean, sd, low, high = (np.broadcast_to(a, shape) for a in (mean, sd, low, high))
    u = rng.random(shape)
    a = ndtr((low - mean) / sd)
    b = ndtr((high - mean) / sd)
    with np.errstate(invalid="ignore", divide="ignore"):
        x = mean + sd * ndtri(a + u * (b - a))
    # where the interval lies far in a tail, the inverse CDF loses precision: draw uniformly
    degenerate = ~np.isfinite(x) | (b - a < 1e-9)
    x = np.where(degenerate, low + u * (high - low), x)
    return np.clip(x, low, high)


def draw_uniform(rng: np.random.Generator, bounds: Mapping[str, float], size) -> np.ndarray:
    """Uniform draws between ``bounds["min"]`` and ``bounds["max"]``."""
    return rng.uniform(bounds["min"], bounds["max"], size)


def round_within(x, decimals: int, low=-np.inf, high=np.inf) -> np.ndarray:
    """Round to ``decimals`` places without leaving ``[low, high]``.

    A value that rounding would push below ``low`` (or above ``high``) is set to the nearest
    representable value inside the interval, so margins survive the written precision.
    """
    scale = 10.0 ** decimals
    x = np.round(np.asarray(x, dtype=float), decimals)
    low_r = np.ceil(np.asarray(low, dtype=float) * scale - 1e-9) / scale
    high_r = np.floor(np.asarray(high, dtype=float) * scale + 1e-9) / scale
    x = np.where(x < low_r, low_r, x)
    return np.where(x > high_r, high_r, x)


def allocate_counts(n: int, proportions: Mapping[str, float]) -> dict[str, int]:
    """Split ``n`` items into categories by largest remainder (exact, deterministic)."""
    names = list(proportions)
    p = np.array([proportions[k] for k in names], dtype=float)
    p = p / p.sum()
    raw = p * n
    counts = np.floor(raw).astype(int)
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[: n - counts.sum()]] += 1
    return dict(zip(names, counts.tolist()))


def draw_exact_categories(rng: np.random.Generator, n: int, proportions: Mapping[str, float]) -> np.ndarray:
    """Labels in exact proportions (largest remainder), randomly permuted."""
    counts = allocate_counts(n, proportions)
    labels = np.repeat(np.array(list(counts), dtype=object), list(counts.values()))
    return rng.permutation(labels)


def draw_categories(rng: np.random.Generator, proportions: Mapping[str, float], size) -> np.ndarray:
    """Independent categorical draws (labels as an object array)."""
    names = np.array(list(proportions), dtype=object)
    p = np.array(list(proportions.values()), dtype=float)
    return names[rng.choice(len(names), size=size, p=p / p.sum())]


def sample_rows_without_replacement(rng: np.random.Generator, weights: Sequence[float],
                                    n_rows: int) -> np.ndarray:
    """For each of ``n_rows`` rows, a weighted random ordering of the items.

    Returns an ``(n_rows, n_items)`` array of item indices; the first ``k`` columns of a row are
    a weighted sample of ``k`` items without replacement (Efraimidis–Spirakis keys).
    """
    w = np.asarray(weights, dtype=float)
    keys = np.log(rng.random((n_rows, w.size))) / w
    return np.argsort(-keys, axis=1, kind="stable")
