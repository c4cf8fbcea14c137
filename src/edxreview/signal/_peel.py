"""Peel-off decomposition: at every remaining peak subtract the template and shift that explain
it best (step 4 of :mod:`edxreview.signal._muap`)."""

from __future__ import annotations

import logging

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
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
    if temps.shape[0] == 0:
        return [], [], detect.copy()
    pe = _Peeler(detect, temps, fs_hz, threshold, shift, noise_var, p, min_sep_ms)
    for _ in range(p["peel_passes"]):
        accepted = pe.batch_rounds(p["batch_rounds"])
        rest = pe.peaks_to_retry()
        if rest.size == 0:
            if accepted == 0:
                break
            continue
        accepted += pe.one_by_one(rest)
        if accepted == 0:
            break
    return pe.samples, pe.units, pe.resid


class _Peeler:
    """One peel-off: every (template, shift) laid out as one row over the union of their
    windows (so that fitting all of them to a peak is one matrix product on one gathered
    stretch of the residual), and the state of the subtraction: the residual, the discharges
    found, and a clock stamped on every sample a subtraction changes (a peak that failed is
    retried only after a subtraction near it changed the residual)."""

    def __init__(
        self, detect: np.ndarray, temps: np.ndarray, fs_hz: float, threshold: float, shift: int,
        noise_var: float, p: dict, min_sep_ms: float,
    ) -> None:
        self.resid = detect.copy()
        self.samples: list[int] = []
        self.units: list[int] = []
        self.temps, self.fs_hz, self.threshold, self.min_sep_ms = temps, fs_hz, threshold, min_sep_ms
        K, L = temps.shape
        self.L = L
        half = self.half = L // 2
        pk = np.argmax(np.abs(temps), axis=1) - half  # template main peak relative to its centre
        W = self.W = _support(temps, p["support_fraction"], max(1, shift))
        tnorm_s = self.tnorm_s = np.einsum("ij,ij->i", W * temps, temps)
        shifts = np.arange(-shift, shift + 1)
        # candidate (template, shift) table
        kk = self.kk = np.repeat(np.arange(K), shifts.size)
        ss = np.tile(shifts, K)
        off = self.off = -pk[kk] + ss - half  # window start relative to the peak being explained
        Wk = W[kk]
        TWk = temps[kk] * Wk
        base = self.base = np.arange(L)
        n = self.n = self.resid.size
        self.lo_margin, self.hi_margin = -off.min(), off.max() + L
        frac = p["residual_fraction"]
        nvar = p["noise_energy_factor"] * noise_var
        ns_k = W.sum(axis=1)
        self.limit_k = np.maximum(frac * tnorm_s, nvar * ns_k)  # energy allowed left, per template
        span = self.span = half + shift
        # a peak is worth fitting only when some template's main peak has its sign and a size
        # within [peak_ratio_min, peak_ratio_max] of it
        tpk = self.tpk = temps[np.arange(K), half + pk]
        self.rmin, self.rmax = p["peak_ratio_min"], p["peak_ratio_max"]
        self.S = shifts.size
        span_lo = self.span_lo = int(off.min())
        span_w = int(off.max()) - span_lo + L
        TWs = self.TWs = np.zeros((kk.size, span_w))
        Ws = np.zeros((kk.size, span_w))
        cols = (off - span_lo)[:, None] + base[None, :]
        np.put_along_axis(TWs, cols, TWk, axis=1)
        np.put_along_axis(Ws, cols, Wk, axis=1)
        self.Ws = Ws
        self.tn_kk = tnorm_s[kk]
        self.TWs2T = np.ascontiguousarray(2 * TWs.T)
        self.WsT = np.ascontiguousarray(Ws.T)
        self.tpk_kk = tpk[kk]
        self.stamp = np.zeros(n, dtype=np.int64)
        self.failed_at = np.full(n, -1, dtype=np.int64)  # clock when a peak failed one by one
        self.clock = 0
        self.reach = span + L  # a subtraction this close to a peak changes its fits
        self.fitted_at = -1  # clock of the last batch fit: unchanged peaks would fit the same
        self.n_tries = p["overlap_tries"]
        self.overlap_min_gain = p["overlap_min_gain"]
        self.region_w = 2 * span + span_w
        self.seg_cols = -span_lo + np.arange(2 * span)  # c - span .. c + span - 1, stretch coords
        self.span_w = span_w
        # every stretch of the residual the superposition tries look at (a view), and every
        # template placed in such a stretch: placed[k, region_w - d] is template k starting at
        # d in a stretch of zeros (a view of the template bank padded with zeros)
        self.stretches = sliding_window_view(self.resid, self.region_w)
        self.windows = sliding_window_view(self.resid, span_w)  # the window of each fit
        bank = np.zeros((K, 2 * self.region_w))
        bank[:, self.region_w : self.region_w + L] = temps
        self.placed = sliding_window_view(bank, self.region_w, axis=1)

    def fit_many(self, c: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Fit every (template, shift) to the peaks ``c`` at once; pairs whose template is not
        compatible with the peak (sign, size) get gain -inf. Returns the gains of every pair,
        (P, K*S), the best pair of each peak and the energy it leaves on its template's support
        (only the best pair's is ever asked for). Pair ``j`` placed at peak ``c`` starts at
        ``c + off[j]``."""
        resid, tpk, rmin, rmax = self.resid, self.tpk, self.rmin, self.rmax
        w = self.windows[c + self.span_lo]  # (P, span_w): a copy
        gain = w @ self.TWs2T
        gain -= self.tn_kk
        ratio = resid[c][:, None] / tpk[None, :]
        bad = np.repeat((ratio < rmin) | (ratio > rmax), self.S, axis=1)
        gain[bad] = -np.inf
        j = np.argmax(gain, axis=1)
        left = np.einsum("ij,ij->i", np.square(w, out=w), self.Ws[j])
        left -= gain[np.arange(c.size), j]
        return gain, j, left

    def fit(self, c: int) -> tuple[np.ndarray, int, float]:
        """One peak (the one-at-a-time superposition search calls this thousands of times):
        :meth:`fit_many` for one peak."""
        resid = self.resid
        w = resid[c + self.span_lo : c + self.span_lo + self.span_w]
        g = 2 * (self.TWs @ w) - self.tn_kk
        ratio = resid[c] / self.tpk_kk
        g[(ratio < self.rmin) | (ratio > self.rmax)] = -np.inf
        j = int(np.argmax(g))
        return g, j, float(self.Ws[j] @ (w * w)) - g[j]

    def peaks_now(self) -> np.ndarray:
        """The residual's candidate peaks that some template could explain, largest first."""
        resid, span = self.resid, self.span
        pks = _find_candidates(resid, self.fs_hz, self.threshold, self.min_sep_ms)
        pks = pks[(pks >= self.lo_margin + span) & (pks + self.hi_margin + span < self.n)]
        a = resid[pks][:, None]
        ratio = a / self.tpk[None, :]
        pks = pks[((ratio >= self.rmin) & (ratio <= self.rmax)).any(axis=1)]
        return pks[np.argsort(-np.abs(resid[pks]), kind="stable")]

    def changed_near(self, c: np.ndarray, since: int) -> np.ndarray:
        """Whether the residual around each peak ``c`` changed after clock ``since``."""
        n, reach = self.n, self.reach
        cs = np.concatenate([[0], np.cumsum(self.stamp > since)])
        return cs[np.minimum(n, c + reach)] - cs[np.maximum(0, c - reach)] > 0

    def pair_tries(self, cs: np.ndarray, gain: np.ndarray) -> tuple:
        """Superposition tries of the peaks ``cs`` (their fits ``gain``: (P, K*S)):
        the best ``overlap_tries`` first placements, each subtracted from a copy of the
        residual, then the best single fit at the largest peak left within ``span`` of the
        peak. Returns, each (P, tries), the first and second placements (start, template) and
        whether the second fits well (the first is checked again when the pair is taken)."""
        kk, span, span_lo, off = self.kk, self.span, self.span_lo, self.off
        tpk, rmin, rmax, n = self.tpk, self.rmin, self.rmax, self.n
        P = cs.size
        T = min(self.n_tries, gain.shape[1])
        # the best T pairs of each peak, best first
        tries = np.argpartition(-gain, T - 1, axis=1)[:, :T]
        pr = np.arange(P)[:, None]
        tries = tries[pr, np.argsort(-gain[pr, tries], axis=1)]
        g1, k1 = gain[pr, tries].ravel(), kk[tries].ravel()
        st1 = (cs[:, None] + off[tries]).ravel()
        r0 = np.repeat(cs - span + span_lo, T)
        # the stretch of each try (a copy) less its first template: the template bank padded
        # with zeros, sliced at the template's place in the stretch
        rr = self.stretches[r0]
        rr -= self.placed[k1, self.region_w - (st1 - r0)]
        rows = np.arange(P * T)
        c2 = np.repeat(cs, T) - span + np.argmax(np.abs(rr[:, self.seg_cols]), axis=1)
        a2 = rr[rows, c2 - r0]
        ok = ((g1 > 0) & (np.abs(a2) >= self.threshold) & (c2 >= self.lo_margin)
              & (c2 < n - self.hi_margin))
        wv = sliding_window_view(rr, self.span_w, axis=1)[rows, c2 - r0 + span_lo]
        gain2 = wv @ self.TWs2T
        gain2 -= self.tn_kk
        ratio = a2[:, None] / tpk[None, :]
        gain2.reshape(P * T, tpk.size, self.S)[(ratio < rmin) | (ratio > rmax)] = -np.inf
        j2 = np.argmax(gain2, axis=1)
        g2 = gain2[rows, j2]
        left2 = np.einsum("ij,ij->i", np.square(wv, out=wv), self.Ws[j2]) - g2
        ok &= (g2 > 0) & (left2 <= self.limit_k[kk[j2]])
        st2 = c2 + off[j2]
        return (st1.reshape(P, T), k1.reshape(P, T), st2.reshape(P, T),
                kk[j2].reshape(P, T), ok.reshape(P, T))

    def batch_rounds(self, n_rounds: int) -> int:
        """Isolated, well-fitting discharges, every peak fitted at once and the good fits
        subtracted in decreasing peak order where no two overlap; returns how many."""
        resid, kk, L, base, temps = self.resid, self.kk, self.L, self.base, self.temps
        accepted = 0
        for _round in range(n_rounds):
            peaks = self.peaks_now()
            if self.fitted_at >= 0:
                peaks = peaks[self.changed_near(peaks, self.fitted_at)]
            self.fitted_at = self.clock
            if peaks.size == 0:
                break
            gain, j, lf = self.fit_many(peaks)
            r = np.arange(peaks.size)
            g, st = gain[r, j], peaks + self.off[j]
            good = np.flatnonzero((g > 0) & (lf <= self.limit_k[kk[j]]))
            if good.size == 0:
                break
            taken = np.zeros(self.n, dtype=bool)
            chosen = []
            for i in good:  # decreasing peak order; no two subtractions may overlap
                s0 = int(st[i])
                if not taken[s0 : s0 + L].any():
                    taken[s0 : s0 + L] = True
                    chosen.append(i)
            chosen = np.array(chosen, dtype=int)
            cs, ck = st[chosen], kk[j[chosen]]
            resid[cs[:, None] + base] -= temps[ck]
            self.clock += 1
            self.stamp[cs[:, None] + base] = self.clock
            self.samples += (cs + self.half).tolist()
            self.units += ck.tolist()
            accepted += chosen.size
        return accepted

    def peaks_to_retry(self) -> np.ndarray:
        """The peaks left, less those that failed one by one and whose residual has not
        changed nearby since."""
        rest = self.peaks_now()
        fa = self.failed_at[rest]
        if (fa >= 0).any():
            latest = ndimage.maximum_filter1d(self.stamp, size=2 * self.reach + 1, mode="nearest")
            rest = rest[(fa < 0) | (latest[rest] > fa)]
        return rest

    def one_by_one(self, rest: np.ndarray) -> int:
        """Superpositions, one peak at a time: fitted all at once first, and refitted only when
        a subtraction nearby has changed the residual since; returns the discharges found.

        Most peaks fail, and a peak whose stretch of the residual no subtraction touches before
        its turn fails as the batch fit says: only the peaks the batch fit gives a chance (a
        single fit or a superposition try that fits), and those woken by a subtraction nearby,
        are taken one at a time."""
        resid, kk, span = self.resid, self.kk, self.span
        b_gain, b_j, b_left = self.fit_many(rest)
        b_clock = self.clock
        # worth trying only where one template alone explains much of the peak's window
        r = np.arange(rest.size)
        b_g = b_gain[r, b_j]
        worth = b_g >= self.overlap_min_gain * self.tnorm_s[kk[b_j]]
        logger.debug("peel: %d peaks left after the batch rounds, %d tried one by one",
                     rest.size, int(worth.sum()))
        w_idx = np.flatnonzero(worth)
        # every peak's superposition tries at once, on the residual of this moment; a peak
        # whose stretch changes before its turn is scored again on its own
        b_pairs = self.pair_tries(rest[w_idx], b_gain[w_idx])
        cw = rest[w_idx]
        single = (b_g[w_idx] > 0) & (b_left[w_idx] <= self.limit_k[kk[b_j[w_idx]]])
        live = (single | b_pairs[4].any(axis=1)).tolist()
        big = (np.abs(resid[cw]) >= self.threshold).tolist()
        # the stretch around a peak that decides its fits and superposition tries:
        # [c + r_lo, c + r_lo + region_w)
        r_lo = -span + self.span_lo
        before, after = -r_lo, r_lo + self.region_w
        by_pos = np.argsort(cw, kind="stable")
        c_sorted = cw[by_pos]

        def wake(a: int, b: int) -> None:
            """Peaks whose stretch a subtraction over [a, b) changed."""
            lo, hi = np.searchsorted(c_sorted, [a - after + 1, b + before])
            for k in by_pos[lo:hi].tolist():
                live[k] = True

        accepted = 0
        for row, c in enumerate(cw.tolist()):
            if not live[row]:  # unchanged since the batch fit, which found nothing
                if big[row]:
                    self.failed_at[c] = self.clock
                continue
            i = int(w_idx[row])
            if abs(resid[c]) < self.threshold:
                continue
            r0 = c + r_lo  # the stretch holding every first and second placement
            # the fit reads the residual in its window, the superposition tries in the stretch
            # (which holds the window): what a subtraction since the batch did not touch there
            # is as the batch found it
            w0 = c + self.span_lo
            fresh = self.stamp[w0 : w0 + self.span_w].max() > b_clock
            if fresh:
                gain, j, left = self.fit(c)
            else:
                gain, j, left = b_gain[i], int(b_j[i]), b_left[i]
            if gain[j] > 0 and left <= self.limit_k[kk[j]]:
                st = c + int(self.off[j])
                self.subtract(st, int(kk[j]))
                wake(st, st + self.L)
                accepted += 1
                continue
            if gain[j] <= 0:  # no first placement gains: no superposition try can
                taken = None
            elif self.stamp[r0 : r0 + self.region_w].max() > b_clock:
                taken = self.take_pair(r0, *(a[0] for a in self.pair_tries(
                    np.array([c]), gain[None, :])))
            else:
                taken = self.take_pair(r0, *(a[row] for a in b_pairs))
            if taken:
                wake(*taken)
                accepted += 2
            else:
                self.failed_at[c] = self.clock
        return accepted

    def subtract(self, start: int, k: int) -> None:
        """Subtract template ``k`` placed at ``start`` and record its discharge."""
        L = self.L
        self.resid[start : start + L] -= self.temps[k]
        self.clock += 1
        self.stamp[start : start + L] = self.clock
        self.samples.append(int(start + self.half))
        self.units.append(int(k))

    def take_pair(
        self, r0: int, st1s: np.ndarray, k1s: np.ndarray, st2s: np.ndarray, k2s: np.ndarray,
        oks: np.ndarray,
    ) -> tuple[int, int] | None:
        """Subtract the first superposition try whose first template, once both are
        subtracted, fits well too; the residual from ``r0`` is restored after each that does
        not. Returns the stretch of the residual changed when one was taken, else None."""
        resid, L, temps, half = self.resid, self.L, self.temps, self.half
        region_w = self.region_w
        ok_t = np.flatnonzero(oks)
        saved = resid[r0 : r0 + region_w].copy() if ok_t.size else None
        for t in ok_t.tolist():
            st1, k1, st2, k2 = int(st1s[t]), int(k1s[t]), int(st2s[t]), int(k2s[t])
            # the first template must now fit well too
            resid[st1 : st1 + L] -= temps[k1]
            resid[st2 : st2 + L] -= temps[k2]
            w1 = resid[st1 : st1 + L]
            if float(np.sum(self.W[k1] * w1 * w1)) <= self.limit_k[k1]:
                a, b = min(st1, st2), max(st1, st2) + L
                self.clock += 1
                self.stamp[a:b] = self.clock
                self.samples += [st1 + half, st2 + half]
                self.units += [k1, k2]
                return a, b
            resid[r0 : r0 + region_w] = saved
        return None
