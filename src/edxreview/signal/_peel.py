"""Peel-off decomposition: at every remaining peak subtract the template and shift that explain
it best (step 4 of :mod:`edxreview.signal._muap`)."""

from __future__ import annotations

import logging

import numpy as np
from scipy import ndimage

from edxreview.signal._detect import _find_candidates
from edxreview.signal._templates import _support

logger = logging.getLogger(__name__)


def _peel(
    detect: np.ndarray, temps: np.ndarray, fs_hz: float, threshold: float, shift: int,
    noise_var: float, p: dict, min_sep_ms: float,
) -> tuple[list[int], list[int], np.ndarray]:
    """Template subtraction over the whole record; returns samples, units and the residual.

    ``temps`` are centred: sample ``half`` of each template is its discharge time.

    Each pass first fits every remaining peak at once (one gathered snippet array and one
    contraction per chunk of peaks) and subtracts, in decreasing peak order, the good fits whose
    windows do not overlap; this is repeated while it explains peaks. What is left (mostly
    superimposed discharges) is then resolved one peak at a time, trying pairs of templates.
    """
    resid = detect.copy()
    samples: list[int] = []
    units: list[int] = []
    K, L = temps.shape
    if K == 0:
        return samples, units, resid
    half = L // 2
    pk = np.argmax(np.abs(temps), axis=1) - half  # template main peak relative to its centre
    W = _support(temps, p["support_fraction"], max(1, shift))
    tnorm_s = np.einsum("ij,ij->i", W * temps, temps)
    shifts = np.arange(-shift, shift + 1)
    # candidate (template, shift) table
    kk = np.repeat(np.arange(K), shifts.size)
    ss = np.tile(shifts, K)
    off = -pk[kk] + ss - half  # window start relative to the peak being explained
    Wk = W[kk]
    TWk = temps[kk] * Wk
    base = np.arange(L)
    n = resid.size
    lo_margin, hi_margin = -off.min(), off.max() + L
    frac = p["residual_fraction"]
    nvar = p["noise_energy_factor"] * noise_var
    ns_k = W.sum(axis=1)
    limit_k = np.maximum(frac * tnorm_s, nvar * ns_k)  # energy allowed to be left, per template
    span = half + shift

    # a peak is worth fitting only when some template's main peak has its sign and a size
    # within [peak_ratio_min, peak_ratio_max] of it
    tpk = temps[np.arange(K), half + pk]
    rmin, rmax = p["peak_ratio_min"], p["peak_ratio_max"]

    S = shifts.size

    # every (template, shift) as one row over the union of their windows, so that fitting
    # all of them to a peak is one matrix product on one gathered stretch of the residual
    span_lo = int(off.min())
    span_w = int(off.max()) - span_lo + L
    TWs = np.zeros((kk.size, span_w))
    Ws = np.zeros((kk.size, span_w))
    cols = (off - span_lo)[:, None] + base[None, :]
    np.put_along_axis(TWs, cols, TWk, axis=1)
    np.put_along_axis(Ws, cols, Wk, axis=1)
    span_idx = span_lo + np.arange(span_w)
    tn_kk = tnorm_s[kk]
    TWs2T = np.ascontiguousarray(2 * TWs.T)
    WsT = np.ascontiguousarray(Ws.T)
    tpk_kk = tpk[kk]

    def fit_many(c: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Fit every (template, shift) to the peaks ``c`` at once; pairs whose template is not
        compatible with the peak (sign, size) get gain -inf."""
        w = resid[c[:, None] + span_idx]  # (P, span)
        gain = w @ TWs2T
        gain -= tn_kk
        left = np.square(w, out=w) @ WsT
        left -= gain
        ratio = resid[c][:, None] / tpk[None, :]
        bad = np.repeat((ratio < rmin) | (ratio > rmax), S, axis=1)
        gain[bad] = -np.inf
        left[bad] = np.inf
        return c[:, None] + off[None, :], gain, left

    def fit(c: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One peak (the one-at-a-time superposition search calls this thousands of times)."""
        w = resid[c + span_idx]
        g = 2 * (TWs @ w) - tn_kk
        lf = Ws @ (w * w) - g
        ratio = resid[c] / tpk_kk
        bad = (ratio < rmin) | (ratio > rmax)
        g[bad] = -np.inf
        lf[bad] = np.inf
        return c + off, g, lf

    def peaks_now() -> np.ndarray:
        pks = _find_candidates(resid, fs_hz, threshold, min_sep_ms)
        pks = pks[(pks >= lo_margin + span) & (pks + hi_margin + span < n)]
        a = resid[pks][:, None]
        ratio = a / tpk[None, :]
        pks = pks[((ratio >= rmin) & (ratio <= rmax)).any(axis=1)]
        return pks[np.argsort(-np.abs(resid[pks]), kind="stable")]

    # a peak that failed is retried only after a subtraction near it changed the residual
    stamp = np.zeros(n, dtype=np.int64)
    failed_at = np.full(n, -1, dtype=np.int64)  # clock when a peak failed one by one
    clock = 0
    reach = span + L  # a subtraction this close to a peak changes its fits

    def changed_near(c: np.ndarray, since: int) -> np.ndarray:
        """Whether the residual around each peak ``c`` changed after clock ``since``."""
        cs = np.concatenate([[0], np.cumsum(stamp > since)])
        return cs[np.minimum(n, c + reach)] - cs[np.maximum(0, c - reach)] > 0

    n_tries = p["overlap_tries"]
    region_w = 2 * span + span_w
    seg_cols = -span_lo + np.arange(2 * span)  # c - span .. c + span - 1, in stretch coordinates
    win_cols = np.arange(span_w)
    region_cols = np.arange(region_w)

    def pair_tries(cs: np.ndarray, gain: np.ndarray, starts: np.ndarray) -> tuple:
        """Superposition tries of the peaks ``cs`` (their fits ``gain``, ``starts``: (P, K*S)):
        the best ``overlap_tries`` first placements, each subtracted from a copy of the
        residual, then the best single fit at the largest peak left within ``span`` of the
        peak. Returns, each (P, tries), the first and second placements (start, template) and
        whether the second fits well (the first is checked again when the pair is taken)."""
        P = cs.size
        tries = np.argsort(-gain, axis=1)[:, :n_tries]
        T = tries.shape[1]
        pr = np.arange(P)[:, None]
        g1, st1, k1 = gain[pr, tries].ravel(), starts[pr, tries].ravel(), kk[tries].ravel()
        r0 = np.repeat(cs - span + span_lo, T)
        rr = resid[r0[:, None] + region_cols]  # (P * T, stretch): a copy
        rows = np.arange(P * T)
        rr[rows[:, None], (st1 - r0)[:, None] + base] -= temps[k1]
        c2 = np.repeat(cs, T) - span + np.argmax(np.abs(rr[:, seg_cols]), axis=1)
        a2 = rr[rows, c2 - r0]
        ok = (g1 > 0) & (np.abs(a2) >= threshold) & (c2 >= lo_margin) & (c2 < n - hi_margin)
        wv = rr[rows[:, None], (c2 - r0 + span_lo)[:, None] + win_cols]
        gain2 = wv @ TWs2T
        gain2 -= tn_kk
        left2 = np.square(wv, out=wv) @ WsT
        left2 -= gain2
        ratio = a2[:, None] / tpk[None, :]
        bad = np.repeat((ratio < rmin) | (ratio > rmax), S, axis=1)
        gain2[bad] = -np.inf
        left2[bad] = np.inf
        j2 = np.argmax(gain2, axis=1)
        ok &= (gain2[rows, j2] > 0) & (left2[rows, j2] <= limit_k[kk[j2]])
        st2 = c2 + off[j2]
        return (st1.reshape(P, T), k1.reshape(P, T), st2.reshape(P, T),
                kk[j2].reshape(P, T), ok.reshape(P, T))

    fitted_at = -1  # clock of the last batch fit: unchanged peaks would fit the same again
    for _ in range(p["peel_passes"]):
        accepted = 0
        # batch rounds: isolated, well-fitting discharges
        for _round in range(p.get("batch_rounds", 4)):
            peaks = peaks_now()
            if fitted_at >= 0:
                peaks = peaks[changed_near(peaks, fitted_at)]
            fitted_at = clock
            if peaks.size == 0:
                break
            starts, gain, left = fit_many(peaks)
            j = np.argmax(gain, axis=1)
            r = np.arange(peaks.size)
            g, lf, st = gain[r, j], left[r, j], starts[r, j]
            good = np.flatnonzero((g > 0) & (lf <= limit_k[kk[j]]))
            if good.size == 0:
                break
            taken = np.zeros(n, dtype=bool)
            chosen = []
            for i in good:  # decreasing peak order; no two subtractions may overlap
                s0 = int(st[i])
                if not taken[s0 : s0 + L].any():
                    taken[s0 : s0 + L] = True
                    chosen.append(i)
            chosen = np.array(chosen, dtype=int)
            cs, ck = st[chosen], kk[j[chosen]]
            resid[cs[:, None] + base] -= temps[ck]
            clock += 1
            stamp[cs[:, None] + base] = clock
            samples += (cs + half).tolist()
            units += ck.tolist()
            accepted += chosen.size
        # superpositions, one peak at a time: fitted all at once first, and refitted only when
        # a subtraction nearby has changed the residual since
        rest = peaks_now()
        fa = failed_at[rest]
        if (fa >= 0).any():
            latest = ndimage.maximum_filter1d(stamp, size=2 * reach + 1, mode="nearest")
            rest = rest[(fa < 0) | (latest[rest] > fa)]
        if rest.size == 0:
            if accepted == 0:
                break
            continue
        b_starts, b_gain, b_left = fit_many(rest)
        b_clock = clock
        # worth trying only where one template alone explains much of the peak's window
        jb = np.argmax(b_gain, axis=1)
        worth = b_gain[np.arange(rest.size), jb] >= p["overlap_min_gain"] * tnorm_s[kk[jb]]
        logger.debug("peel: %d peaks left after the batch rounds, %d tried one by one",
                     rest.size, int(worth.sum()))
        w_idx = np.flatnonzero(worth)
        # every peak's superposition tries at once, on the residual of this moment; a peak
        # whose stretch changes before its turn is scored again on its own
        b_pairs = pair_tries(rest[w_idx], b_gain[w_idx], b_starts[w_idx])
        for row, i in enumerate(w_idx.tolist()):
            c = int(rest[i])
            if abs(resid[c]) < threshold:
                continue
            fresh = stamp[max(0, c - span - L) : c + span + L].max() > b_clock
            if fresh:
                starts, gain, left = fit(c)
            else:
                starts, gain, left = b_starts[i], b_gain[i], b_left[i]
            j = int(np.argmax(gain))
            if gain[j] > 0 and left[j] <= limit_k[kk[j]]:
                resid[starts[j] : starts[j] + L] -= temps[kk[j]]
                clock += 1
                stamp[starts[j] : starts[j] + L] = clock
                samples.append(int(starts[j] + half))
                units.append(int(kk[j]))
                accepted += 1
                continue
            r0 = c - span + span_lo  # the stretch holding every first and second placement
            if fresh or stamp[r0 : r0 + region_w].max() > b_clock:
                st1s, k1s, st2s, k2s, oks = (a[0] for a in pair_tries(
                    np.array([c]), gain[None, :], starts[None, :]))
            else:
                st1s, k1s, st2s, k2s, oks = (a[row] for a in b_pairs)
            resolved = False
            ok_t = np.flatnonzero(oks)
            saved = resid[r0 : r0 + region_w].copy() if ok_t.size else None
            for t in ok_t.tolist():
                st1, k1, st2, k2 = int(st1s[t]), int(k1s[t]), int(st2s[t]), int(k2s[t])
                # the first template must now fit well too
                resid[st1 : st1 + L] -= temps[k1]
                resid[st2 : st2 + L] -= temps[k2]
                w1 = resid[st1 : st1 + L]
                if float(np.sum(W[k1] * w1 * w1)) <= limit_k[k1]:
                    clock += 1
                    stamp[min(st1, st2) : max(st1, st2) + L] = clock
                    samples += [st1 + half, st2 + half]
                    units += [k1, k2]
                    accepted += 2
                    resolved = True
                    break
                resid[r0 : r0 + region_w] = saved
            if not resolved:
                failed_at[c] = clock
        if accepted == 0:
            break
    return samples, units, resid
