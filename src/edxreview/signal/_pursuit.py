"""Template pursuit: greedy placement with a search for superimposed pairs, unit re-estimation,
merging of units found twice and the filling of a steady unit's missed discharges (step 4,
``sorting.method = "pursuit"``, of :mod:`edxreview.signal._muap`)."""

from __future__ import annotations

import bisect
import logging

import numpy as np
from scipy import ndimage

from edxreview.signal._templates import _snippets

logger = logging.getLogger(__name__)


# ------------------------------------------------------------------------------ pursuit
def _template_xcorr(temps: np.ndarray) -> np.ndarray:
    """``X[a, b, d + L - 1]`` = sum_j temps[a, j] temps[b, j - d]: the inner product of template
    ``a`` placed at t and template ``b`` placed at t + d, for |d| < L."""
    K, L = temps.shape
    X = np.zeros((K, K, 2 * L - 1))
    for d in range(L):
        X[:, :, L - 1 + d] = temps[:, d:] @ temps[:, : L - d].T
        X[:, :, L - 1 - d] = temps[:, : L - d] @ temps[:, d:].T
    return X


def _pursuit(
    detect: np.ndarray, temps: np.ndarray, noise_var: float, p: dict,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Greedy template pursuit with a search for superimposed pairs.

    ``temps`` are centred (sample L // 2 is the discharge time). The gain of placing template k
    at t is the drop in residual energy, g = 2 <residual window, template> - |template|^2; it is
    kept for every (k, t) and updated exactly after each subtraction through the templates'
    cross-correlations. Each round takes every position whose best gain is the largest within
    one template length and at least ``pursuit_min_gain`` x that template's energy. Where the
    best single template leaves more than ``pursuit_fit_fraction`` of its energy (plus the noise)
    unexplained, every pair of templates at every relative shift within a template length is
    scored from the same gains (gain(a) + gain(b) - 2 <a, b>; the shifted-template pair search
    of peel-off decomposition, McGill et al. 2005) and the best pair is taken when both its
    members are worth keeping given the other. Rounds repeat until no acceptable fit is left.
    """
    resid = np.array(detect, dtype=float)
    L = temps.shape[1]
    if temps.shape[0] == 0 or resid.size < 4 * L:
        return np.array([], dtype=int), np.array([], dtype=int), np.empty(0), resid
    pu = _Pursuer(resid, temps, noise_var, p)
    region = pu.act
    for _ in range(p["pursuit_max_rounds"]):
        if region.size == 0:
            break
        cand = pu.round_candidates(region)
        if cand.size == 0:
            break
        placed = len(pu.samples)
        cand = pu.take_well_fitting(cand)
        for c in cand:
            pu.place(int(c))
        new = np.array(pu.samples[placed:], dtype=int)
        if new.size == 0:
            break
        region = pu.region_after(new)
    return (np.array(pu.samples, dtype=int), np.array(pu.units, dtype=int),
            np.array(pu.quality), pu.resid)


class _Pursuer:
    """The state of one template pursuit: the residual, the gain of every template at every
    position (``-inf`` where it cannot be acceptable), the templates' cross-correlations, and
    the discharges placed with their quality (gain / template energy when placed, given a
    pair's partner)."""

    def __init__(self, resid: np.ndarray, temps: np.ndarray, noise_var: float, p: dict) -> None:
        K, L = temps.shape
        half = L // 2
        n = resid.size
        self.resid, self.temps, self.L, self.half, self.n = resid, temps, L, half, n
        self.samples: list[int] = []
        self.units: list[int] = []
        self.quality: list[float] = []
        theta = p["pursuit_min_gain"]
        e = self.e = np.einsum("ij,ij->i", temps, temps)
        self.need = theta * e
        lo, hi = self.lo, self.hi = L, n - L  # placements kept clear of the ends
        # a window can give a template an acceptable gain only when its energy is at least
        # ((1 + theta) / 2)^2 of that template's (Cauchy-Schwarz): the rest stays -inf
        csum = np.concatenate([[0.0], np.cumsum(resid * resid)])
        wen = np.full(n, 0.0)
        wen[lo:hi] = csum[lo + half + 1 : hi + half + 1] - csum[lo - half : hi - half]
        act = self.act = np.flatnonzero(wen >= ((1 + theta) / 2) ** 2 * e.min())
        g = self.g = np.full((K, n), -np.inf)
        tw2 = 2 * temps.T
        for a in range(0, act.size, 4096):
            c = act[a : a + 4096]
            g[:, c] = (resid[c[:, None] + np.arange(-half, half + 1)] @ tw2).T - e[:, None]
        X = _template_xcorr(temps)
        self.Xr = 2 * X[:, :, ::-1]  # g[:, t - L + 1 : t + L] -= Xr[:, k] after subtracting (k, t)
        self.X2 = 2 * X
        self.nfloor = p["noise_energy_factor"] * L * noise_var
        self.fit_frac = p["pursuit_fit_fraction"]
        self.n_first = p["pursuit_pair_first"]
        self.D = np.arange(-(L - 1), L)
        self.base = np.arange(-half, half + 1)

    def sub(self, k: int, t: int, q: float) -> None:
        """Subtract template ``k`` placed at ``t`` and update the gains."""
        L, half = self.L, self.half
        self.resid[t - half : t + half + 1] -= self.temps[k]
        self.g[:, t - L + 1 : t + L] -= self.Xr[:, k]
        self.samples.append(t)
        self.units.append(k)
        self.quality.append(q)

    def round_candidates(self, region: np.ndarray) -> np.ndarray:
        """The positions of ``region`` whose best gain is acceptable and the largest within one
        template length, largest first."""
        g, n, L = self.g, self.n, self.L
        gr = g[:, region]
        gk = np.argmax(gr, axis=0)
        gm = gr[gk, np.arange(region.size)]
        okm = gm >= self.need[gk]
        full = np.full(n, -np.inf)
        full[region[okm]] = gm[okm]
        mx = ndimage.maximum_filter1d(full, size=2 * L - 1, mode="constant", cval=-np.inf)
        cand = region[okm][full[region[okm]] == mx[region[okm]]]
        if cand.size == 0:
            return cand
        return cand[np.argsort(-full[cand], kind="stable")]

    def take_well_fitting(self, cand: np.ndarray) -> np.ndarray:
        """Candidates are at least a template length apart, so the ones that one template fits
        well are taken at once (their windows do not overlap; gain updates are added up);
        returns the others."""
        g, e, resid = self.g, self.e, self.resid
        kc = np.argmax(g[:, cand], axis=0)
        gc = g[kc, cand]
        wc = resid[cand[:, None] + self.base]
        well = np.einsum("ij,ij->i", wc, wc) - gc <= self.fit_frac * e[kc] + self.nfloor
        if well.any():
            cw, kw = cand[well], kc[well]
            resid[cw[:, None] + self.base] -= self.temps[kw]
            # gain updates reach a template length either side: every other one in time order
            # never overlap
            o = np.argsort(cw)
            for h in (o[0::2], o[1::2]):
                g[:, cw[h][:, None] + self.D] -= self.Xr[:, kw[h]]
            self.samples.extend(cw.tolist())
            self.units.extend(kw.tolist())
            self.quality.extend((gc[well] / e[kw]).tolist())
            cand = cand[~well]
        return cand

    def place(self, c: int) -> None:
        """Explain the candidate ``c``: by its best template when that fits well, else by the
        best pair when both members are worth keeping given the other, else by its best
        template."""
        g, e, need, half = self.g, self.e, self.need, self.half
        col = g[:, c]
        k = int(np.argmax(col))
        gs = col[k]
        if gs < need[k]:
            return
        w = self.resid[c - half : c + half + 1]
        if w @ w - gs <= self.fit_frac * e[k] + self.nfloor:
            self.sub(k, c, gs / e[k])
            return
        if not self.place_pair(c, gs):
            self.sub(k, c, gs / e[k])

    def place_pair(self, c: int, gs: float) -> bool:
        """Pair search: the best few first placements near ``c``, every second one within a
        template length of each; takes the best pair when it gains more than the single
        template (gain ``gs``) and both members are worth keeping. Returns whether it did."""
        g, e, need, L, half, D, X2 = self.g, self.e, self.need, self.L, self.half, self.D, self.X2
        lo, hi = self.lo, self.hi
        a0, a1 = max(lo, c - half), min(hi, c + half + 1)
        blk = g[:, a0:a1]
        top = np.argpartition(-blk, min(self.n_first, blk.size - 1), axis=None)[:self.n_first]
        k1, i1 = np.unravel_index(top, blk.shape)
        g1 = blk[k1, i1]
        keep = g1 > 0
        k1, t1, g1 = k1[keep], i1[keep] + a0, g1[keep]
        if not k1.size:
            return False
        t2 = np.clip(t1[:, None] + D[None, :], lo, hi - 1)  # (F, 2L-1)
        G = g1[:, None, None] + g[:, t2].transpose(1, 0, 2) - X2[k1]  # (F, K, 2L-1)
        f, k2, j = np.unravel_index(int(np.argmax(G)), G.shape)
        gp = G[f, k2, j]
        ka, ta, tb = int(k1[f]), int(t1[f]), int(t2[f, j])
        x12 = X2[ka, k2, j]
        if (gp - gs >= need[k2] and g[ka, ta] - x12 >= need[ka]
                and g[k2, tb] - x12 >= need[k2] and abs(tb - ta) <= L - 1
                and t1[f] + D[j] == tb):
            qa, qb = (g[ka, ta] - x12) / e[ka], (g[k2, tb] - x12) / e[k2]
            self.sub(ka, ta, qa)
            self.sub(int(k2), tb, qb)
            return True
        return False

    def region_after(self, new: np.ndarray) -> np.ndarray:
        """Only gains within a template length of a subtraction changed, and only positions
        within two template lengths of the ``new`` placements can have become local maxima."""
        n, L = self.n, self.L
        touched = np.zeros(n + 1, dtype=int)
        np.add.at(touched, np.clip(new - 2 * L, 0, n), 1)
        np.add.at(touched, np.clip(new + 2 * L + 1, 0, n), -1)
        mask = np.cumsum(touched[:n]) > 0
        mask[:self.lo] = False
        mask[self.hi:] = False
        return np.flatnonzero(mask)


def _train_conflicts(a: np.ndarray, b: np.ndarray, dup: int, refractory: int) -> int:
    """Intervals between a discharge of train ``a`` and the next one of train ``b`` (or the
    reverse) longer than ``dup`` and shorter than ``refractory`` samples: two trains of one
    motor unit have none, since a unit does not fire twice within its refractory interval."""
    x = np.concatenate([a, b])
    lab = np.concatenate([np.zeros(a.size, bool), np.ones(b.size, bool)])
    o = np.argsort(x, kind="stable")
    d = np.diff(x[o])
    cross = lab[o][1:] != lab[o][:-1]
    return int(np.sum(cross & (d > dup) & (d < refractory)))


def _unit_templates(
    resid: np.ndarray, temps: np.ndarray, samples: np.ndarray, units: np.ndarray, min_n: int,
    per: int,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Each unit's template re-estimated from its own discharges with every other unit's
    subtracted (residual + own template), re-centred on its main peak; units with fewer than
    ``min_n`` discharges are dropped. The median is taken over every (n // ``per``)-th of a
    unit's n discharges (all of them when n < 2 ``per``; ``[sorting]
    refine_sample_discharges``). Returns templates and discharge trains."""
    K, L = temps.shape
    half = L // 2
    out_t, out_s = [], []
    for k in range(K):
        sk = np.sort(samples[units == k])
        if sk.size < min_n:
            continue
        sel = sk[:: max(1, sk.size // per)]
        t = np.median(_snippets(resid, sel, half, half) + temps[k], axis=0)
        off = int(np.argmax(np.abs(t))) - half
        if off:
            # the same discharges seen one offset later: the own template moves with them
            sn = _snippets(resid, sel + off, half, half)
            own = np.zeros(L)
            if off > 0:
                own[: L - off] = temps[k][off:]
            else:
                own[-off:] = temps[k][: L + off]
            t = np.median(sn + own, axis=0)
            sk = sk + off
        out_t.append(t)
        out_s.append(sk)
    return out_t, out_s


def _merge_units(
    temps: list[np.ndarray], trains: list[np.ndarray], frac: float, refractory: int,
    conflict_fraction: float, min_expected: float, identical: float = 0.0,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Merge units whose templates are one waveform at some relative shift (whole-template
    cross-correlation over the full template length) and whose trains, put together, break the
    refractory interval far less often than two independent trains would (at most
    ``conflict_fraction`` of the expected count, which must be at least ``min_expected`` for the
    test to say anything): one unit found twice, aligned on different peaks. Templates that
    differ by less than ``identical`` are merged whatever their trains (trains gathered from
    residual peaks may hold some of another unit's)."""
    if not temps:
        return temps, trains
    L = temps[0].size
    order = np.argsort([-(t @ t) for t in temps])
    out_t: list[np.ndarray] = []
    out_s: list[np.ndarray] = []
    for i in order:
        t, s = temps[i], trains[i]
        tn = t @ t
        for j, u in enumerate(out_t):
            c = np.correlate(np.pad(u, L - 1), t, mode="valid")  # lags -(L-1)..L-1
            m = int(np.argmax(c))
            if tn + u @ u - 2 * c[m] >= frac * max(tn, u @ u):
                continue
            sh = m - (L - 1)
            n_conf = _train_conflicts(out_s[j], s + sh, L, refractory)
            # conflicts two independent trains would have: each discharge of the smaller train
            # falls within the refractory interval either side of the larger train's discharges
            a, b = sorted((s, out_s[j]), key=len)
            span = max(1, int(np.ptp(np.concatenate([a, b]))))
            expected = a.size * min(1.0, 2 * refractory * b.size / span)
            logger.debug("merge? sizes %d, %d, shape %.3f, shift %d, conflicts %d of %.1f expected",
                         s.size, out_s[j].size, (tn + u @ u - 2 * c[m]) / max(tn, u @ u), sh,
                         n_conf, expected)
            if (tn + u @ u - 2 * c[m] < identical * max(tn, u @ u)
                    or (expected >= min_expected and n_conf <= conflict_fraction * expected)):
                out_s[j] = np.sort(np.concatenate([out_s[j], s + sh]))
                break
        else:
            out_t.append(t)
            out_s.append(s)
    return out_t, out_s


def _refractory_keep(
    samples: np.ndarray, units: np.ndarray, quality: np.ndarray, refractory: int,
) -> np.ndarray:
    """Mask of the discharges kept when, of two discharges of one unit closer than the
    refractory interval, the one that fitted worse is dropped (best fits first)."""
    keep = np.zeros(samples.size, dtype=bool)
    for k in np.unique(units):
        idx = np.flatnonzero(units == k)
        idx = idx[np.argsort(-quality[idx], kind="stable")]
        taken: list[int] = []  # sorted
        for i in idx:
            t = int(samples[i])
            j = bisect.bisect_left(taken, t)
            if (j == 0 or t - taken[j - 1] >= refractory) and (
                j == len(taken) or taken[j] - t >= refractory
            ):
                taken.insert(j, t)
                keep[i] = True
    return keep


def _locked_fraction(a: np.ndarray, b: np.ndarray, reach: int, tol: int) -> float:
    """Fraction of the discharges of train ``a`` that have a discharge of train ``b`` at one
    constant lag (the commonest lag within ``reach`` samples, +-``tol``)."""
    if a.size == 0 or b.size == 0:
        return 0.0
    b = np.sort(b)
    i = np.searchsorted(b, a)
    lags = [a - b[np.clip(i + j, 0, b.size - 1)] for j in (-2, -1, 0, 1)]
    d = np.concatenate(lags)
    d = d[np.abs(d) <= reach]
    if d.size == 0:
        return 0.0
    h = np.convolve(np.bincount(d + reach, minlength=2 * reach + 1), np.ones(2 * tol + 1), "same")
    lag = int(np.argmax(h)) - reach
    near = np.min(np.abs(np.stack(lags) - lag), axis=0) <= tol
    return float(np.mean(near))


def _drop_locked(
    temps: list, trains: list[np.ndarray], reach: int, tol: int, fraction: float,
    energy: np.ndarray | None = None,
) -> tuple[list, list[np.ndarray]]:
    """Drop a unit whose discharges mostly come at one constant lag after or before those of a
    larger unit: a late or early part of that unit's potential beyond its template window
    (a satellite, or a slow phase), not a motor unit of its own."""
    if energy is None:
        energy = np.array([t @ t for t in temps])
    order = np.argsort(-np.asarray(energy), kind="stable")
    kept: list[int] = []
    for i in order:
        if not any(_locked_fraction(trains[i], trains[j], reach, tol) >= fraction for j in kept):
            kept.append(int(i))
    kept.sort()
    return [temps[i] for i in kept], [trains[i] for i in kept]


def _fill_gaps(
    resid: np.ndarray, temps: np.ndarray, samples: np.ndarray, units: np.ndarray,
    fs_hz: float, p: dict,
) -> tuple[np.ndarray, np.ndarray]:
    """Look for the discharges a steadily firing unit is missing (an interval about twice its
    usual one) where the firing pattern expects them: take the unit's template where it still
    reduces the residual energy, or, where another unit's template took the place of a
    superimposition, replace that template by this unit's plus the best second template when
    that explains the window nearly as well (within ``gap_slack`` of this unit's energy).
    ``resid`` is updated in place."""
    if temps.shape[0] == 0 or samples.size == 0:
        return samples, units
    f = _GapFiller(resid, temps, list(samples), list(units), p)
    for k in range(temps.shape[0]):
        f.fill_unit(k, p)
    return np.array(f.samples, dtype=int), np.array(f.units, dtype=int)


class _GapFiller:
    """The state of :func:`_fill_gaps`: the residual (updated in place), the templates, their
    energies and cross-correlations, and the discharges (lists, extended and rewritten)."""

    def __init__(self, resid: np.ndarray, temps: np.ndarray, samples: list, units: list,
                 p: dict) -> None:
        L = temps.shape[1]
        self.resid, self.temps, self.samples, self.units = resid, temps, samples, units
        self.L, self.half, self.n = L, L // 2, resid.size
        self.e = np.einsum("ij,ij->i", temps, temps)
        self.X2 = 2 * _template_xcorr(temps)
        self.need = p["pursuit_min_gain"] * self.e
        self.slack = p["gap_slack"]
        self.base = np.arange(-self.half, self.half + 1)
        self.D = np.arange(-(L - 1), L)

    def gains(self, r: np.ndarray, pos: np.ndarray) -> np.ndarray:
        return 2 * (r[pos[:, None] + self.base] @ self.temps.T).T - self.e[:, None]  # (K, P)

    def fill_unit(self, k: int, p: dict) -> None:
        """Seek unit ``k``'s missed discharges (one to ``gap_max_missed``, two) in its intervals
        about twice its median interval, near where the firing pattern expects them, when it
        has at least ``gap_min_discharges`` discharges."""
        L, n = self.L, self.n
        tk = np.sort([s for s, u in zip(self.samples, self.units) if u == k])
        if tk.size < p["gap_min_discharges"]:
            return
        isi = np.diff(tk)
        m = float(np.median(isi))
        w = int(p["gap_window_fraction"] * m)
        for a, gap in zip(tk[:-1], isi):
            n_miss = round(gap / m) - 1
            if gap < p["gap_interval_factor"] * m or n_miss < 1 or n_miss > p["gap_max_missed"]:
                continue
            for jm in range(1, n_miss + 1):
                tau = int(a + jm * gap / (n_miss + 1))
                lo_, hi_ = max(2 * L, tau - w), min(n - 2 * L, tau + w + 1)
                if hi_ <= lo_:
                    continue
                self.fill_at(k, lo_, hi_)

    def fill_at(self, k: int, lo_: int, hi_: int) -> None:
        """Place unit ``k`` in ``[lo_, hi_)`` where its template still reduces the residual
        energy, or else in place of the other unit's discharge there whose replacement
        (with a second template) explains the window best."""
        resid, half, L, n = self.resid, self.half, self.L, self.n
        samples, units = self.samples, self.units
        pos = np.arange(lo_, hi_)
        gk = self.gains(resid, pos)[k]
        i = int(np.argmax(gk))
        if gk[i] >= self.need[k]:
            t = int(pos[i])
            resid[t - half : t + half + 1] -= self.temps[k]
            samples.append(t)
            units.append(k)
            return
        # a superimposition taken by another unit's template
        best = None
        sa, ua = np.asarray(samples), np.asarray(units)
        near = np.flatnonzero((sa >= max(lo_, 2 * L)) & (sa < min(hi_, n - 2 * L)) & (ua != k))
        for j in near.tolist():
            cand = self.replacement(k, j)
            if cand is not None and (best is None or cand[0] > best[0]):
                best = cand
        if best is not None:
            self.replace(k, *best[1:])

    def replacement(self, k: int, j: int) -> tuple | None:
        """Unit ``k`` (plus the best second template) in place of discharge ``j``: ``(gain over
        the discharge it replaces, j, its sample, k's placement, second or None)``, or None
        when that explains the window less well than ``gap_slack`` of ``k``'s energy allows."""
        temps, e, L, half, D = self.temps, self.e, self.L, self.half, self.D
        tj, kj = self.samples[j], self.units[j]
        seg = slice(tj - 2 * L, tj + 2 * L + 1)
        r2 = self.resid[seg].copy()
        c0 = 2 * L
        r2[c0 - half : c0 + half + 1] += temps[kj]
        g_orig = 2 * r2[c0 - half : c0 + half + 1] @ temps[kj] - e[kj]
        q = np.arange(L, 3 * L + 1)  # first placement within a template length
        gq = self.gains(np.pad(r2, L), q + L)  # (K, len(q)), positions in r2 coordinates
        g1 = gq[k]
        i1 = int(np.argmax(g1))
        t1 = int(q[i1])
        # second template anywhere within a template length of the first
        t2 = t1 + D
        ok = (t2 >= L) & (t2 <= 3 * L)
        g2 = gq[:, np.clip(t2 - L, 0, len(q) - 1)] - self.X2[k]
        g2[:, ~ok] = -np.inf
        k2, i2 = np.unravel_index(int(np.argmax(g2)), g2.shape)
        G, second = g1[i1], None
        if g2[k2, i2] >= self.need[k2]:
            G, second = g1[i1] + g2[k2, i2], (int(k2), int(t2[i2]))
        if G >= g_orig - self.slack * e[k]:
            return (G - g_orig, j, tj, t1, second)
        return None

    def replace(self, k: int, j: int, tj: int, t1: int, second: tuple | None) -> None:
        """Put back discharge ``j`` (at ``tj``) and subtract unit ``k`` (and the second
        template) in its place."""
        resid, temps, half, L = self.resid, self.temps, self.half, self.L
        resid[tj - half : tj + half + 1] += temps[self.units[j]]
        t = tj - 2 * L + t1
        resid[t - half : t + half + 1] -= temps[k]
        self.samples[j], self.units[j] = t, k
        if second is not None:
            t = tj - 2 * L + second[1]
            resid[t - half : t + half + 1] -= temps[second[0]]
            self.samples.append(t)
            self.units.append(second[0])
