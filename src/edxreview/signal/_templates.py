"""Snippets, medians and templates: the greedy clustering of candidates into templates, their
merging and support (step 3 of :mod:`edxreview.signal._muap`)."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from edxreview.signal._params import load_signal_parameters


def _snippets(x: np.ndarray, centers: np.ndarray, before: int, after: int) -> np.ndarray:
    idx = centers[:, None] + np.arange(-before, after + 1)[None, :]
    np.clip(idx, 0, x.size - 1, out=idx)
    return x[idx]


def median_snippet(x: np.ndarray, centers: np.ndarray, before: int, after: int) -> np.ndarray:
    """Sample-wise median of the snippets of ``x`` around ``centers`` (``before`` samples
    before to ``after`` after each; indices clipped to the signal), the same numbers as
    ``np.median(snippets, axis=0)``: the snippets are gathered one row per time sample and
    each row sorted, which is several times faster than numpy's median across rows."""
    if centers.size and centers.min() >= before and centers.max() + after < x.size:
        # whole snippets: rows of a sliding view of x (row copies), transposed once
        rows = sliding_window_view(x, before + after + 1)[centers - before]
        return median_rows(np.ascontiguousarray(rows.T))
    idx = centers[None, :] + np.arange(-before, after + 1)[:, None]
    np.clip(idx, 0, x.size - 1, out=idx)
    return median_rows(x[idx])


def median_rows(a: np.ndarray) -> np.ndarray:
    """Median of each row of a 2-D array (as ``np.median(a, axis=1)``; ``a`` is sorted in
    place)."""
    a.sort(axis=1)
    m = a.shape[1]
    return (a[:, (m - 1) // 2] + a[:, m // 2]) / 2


def _build_templates(
    detect: np.ndarray, peaks: np.ndarray, before: int, after: int, shift: int,
    noise_energy: float, p: dict,
) -> list[np.ndarray]:
    """Greedy clustering in decreasing amplitude order (shift-invariant matching).

    Returns the aligned member samples of every cluster with enough members.
    """
    if peaks.size == 0:
        return []
    order = np.argsort(-np.abs(detect[peaks]))[: p["max_build_candidates"]]
    shifts = np.arange(-shift, shift + 1)
    cands = peaks[order]
    L = before + after + 1
    # every candidate's shifted snippets w, gathered once as rows [w, 1, |w|^2]; template t is
    # the column [-2 t, |t|^2, 1], so that one matrix product gives the residual energy
    # |w - t|^2 = |w|^2 + |t|^2 - 2 <w, t> of every (shift, template)
    rows = np.empty((cands.size, shifts.size, L + 2))
    rows[..., :L] = _snippets(detect, (cands[:, None] + shifts[None, :]).ravel(), before,
                              after).reshape(cands.size, shifts.size, L)
    rows[..., L] = 1.0
    energies = rows[..., L + 1]
    np.einsum("csl,csl->cs", rows[..., :L], rows[..., :L], out=energies)
    limits = np.maximum(p["build_residual_fraction"] * energies, noise_energy)
    max_k = p["max_templates"]
    # templates live in preallocated columns (the first K are in use); a template is the mean
    # of its first 50 members
    cols = np.empty((L + 2, max_k))
    cols[L + 1] = 1.0
    sums: list[np.ndarray] = []
    members: list[list[int]] = []
    K = 0
    for ci, c in enumerate(cands.tolist()):
        if K:
            resid = rows[ci] @ cols[:, :K]  # (n_shift, K)
            best = int(resid.argmin())
            i, k = divmod(best, K)
            if resid.item(best) < limits[ci, i]:
                mk = members[k]
                mk.append(c + int(shifts[i]))
                if len(mk) <= p["build_mean_max_members"]:
                    sums[k] += rows[ci, i, :L]
                    t = sums[k] / len(mk)
                    cols[:L, k] = -2 * t
                    cols[L, k] = t @ t
                continue
        if K < max_k:
            t = rows[ci, shift, :L]
            sums.append(t.copy())
            members.append([c])
            cols[:L, K] = -2 * t
            cols[L, K] = t @ t
            K += 1
    n_min = min_cluster_discharges(p)
    return [np.array(m) for m in members if len(m) >= n_min]


def min_cluster_discharges(p: dict) -> int:
    """The fewest discharges a cluster of candidates needs to become a template, from
    ``[sorting]`` ``p``: ``cluster_min_discharges_fraction`` of ``min_discharges``, at least
    ``cluster_min_discharges_floor``."""
    return max(int(p["cluster_min_discharges_floor"]),
               int(p["min_discharges"] * p["cluster_min_discharges_fraction"]))


def _long_templates(detect: np.ndarray, members: list[np.ndarray], before: int, after: int) -> np.ndarray:
    """Median template of each cluster, centred on its main peak.

    A cluster seeded by a side lobe (or by filter ringing beside the main spike) is aligned on
    that lobe; its members are moved so that the template's largest peak is the discharge time,
    which makes shifted copies of one unit identical and lets them merge. The template is the
    median of the cluster's first ``[sorting] template_max_discharges`` members.
    """
    if not members:
        return np.empty((0, before + after + 1))
    top = int(load_signal_parameters()["sorting"]["template_max_discharges"])
    temps = []
    for m in members:
        t = median_snippet(detect, m[:top], before, after)
        off = int(np.argmax(np.abs(t))) - before
        if off:
            t = median_snippet(detect, m[:top] + off, before, after)
        temps.append(t)
    return np.array(temps)


def _merge_templates(temps: np.ndarray, shift: int, frac: float) -> np.ndarray:
    """Merge templates that are the same waveform up to a shift (largest first)."""
    if temps.shape[0] == 0:
        return temps
    temps = temps[np.argsort(-np.einsum("ij,ij->i", temps, temps))]
    out: list[np.ndarray] = []
    kept: list[tuple[np.ndarray, float]] = []  # each kept template zero-padded, and its energy
    L = temps.shape[1]
    for t in temps:
        tn = t @ t
        merged = False
        for u_pad, un in kept:
            full = np.correlate(u_pad, t, mode="valid")  # lags -shift..shift
            r = tn + un - 2 * full.max()
            if r < frac * max(tn, un):
                merged = True
                break
        if not merged:
            out.append(t)
            kept.append((np.pad(t, shift), t @ t))
    return np.array(out).reshape(-1, L)


def _support(temps: np.ndarray, fraction: float, pad: int) -> np.ndarray:
    """Weights 1 where a template is above ``fraction`` of its peak (dilated by ``pad``)."""
    a = np.abs(temps) >= fraction * np.abs(temps).max(axis=1, keepdims=True)
    if pad:
        k = np.ones(2 * pad + 1)
        a = np.array([np.convolve(r, k, mode="same") > 0 for r in a.astype(float)])
    return a.astype(float)
