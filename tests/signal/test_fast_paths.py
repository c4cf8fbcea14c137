"""The vectorised measuring helpers give exactly what the plain definitions give."""

import numpy as np
import pytest

from edxreview.signal._interference import turning_points
from edxreview.signal._measure import _count_turns, _runs_below
from edxreview.signal._templates import median_rows, median_snippet


def _turns_walk(x, thr):
    """The turn count walked over every sample (the definition, one sample at a time)."""
    turns, direction, ext = 0, 0, x[0]
    for v in x[1:]:
        if direction >= 0:
            if v > ext:
                ext = v
                if direction == 0 and v - x[0] >= thr:
                    direction = 1
            elif ext - v >= thr:
                if direction == 1:
                    turns += 1
                direction, ext = -1, v
        if direction < 0:
            if v < ext:
                ext = v
            elif v - ext >= thr:
                turns += 1
                direction, ext = 1, v
    return turns


@pytest.mark.parametrize("seed", range(5))
def test_turns_and_quiet_runs_match_the_sample_by_sample_walk(seed):
    rng = np.random.default_rng(seed)
    for _ in range(400):
        n = int(rng.integers(3, 80))
        x = np.round(rng.normal(size=n).cumsum(), int(rng.integers(0, 3)))  # plateaus too
        thr = float(rng.uniform(0.05, 3))
        assert _count_turns(x, thr) == _turns_walk(x, thr)
        mask = rng.random(n) < rng.uniform(0.1, 0.9)
        q, st, step = int(rng.integers(1, 6)), int(rng.integers(0, n)), int(rng.choice([-1, 1]))
        # without values every sample below the band counts at once (a flat signal is always
        # at its baseline)
        assert _runs_below(mask, q, st, step) == _runs_walk_from_baseline(
            mask, np.zeros(n), q, st, step)


def _runs_walk_from_baseline(mask, values, quiet, start, step, tol=0.0):
    """The walk with ``isoelectric_from_baseline``: the quiet count starts only once the signal
    has reached the baseline (zero, or the opposite sign to the last excursion, or within
    ``tol`` of zero)."""
    last, sign, count, i = start, 0.0, 0, start
    while 0 <= i < mask.size:
        if mask[i]:
            last, sign, count = i, np.sign(values[i]), None
        else:
            if count is None and (values[i] * sign <= 0 or abs(values[i]) <= tol):
                count = 0
            if count is not None:
                count += 1
                if count >= quiet:
                    break
        i += step
    return last


@pytest.mark.parametrize("seed", range(5))
def test_isoelectric_walk_matches_the_sample_by_sample_walk(seed):
    rng = np.random.default_rng(100 + seed)
    for _ in range(400):
        n = int(rng.integers(1, 80))
        v = np.round(rng.normal(size=n) + rng.normal(), int(rng.integers(0, 2)))  # zeros too
        mask = np.abs(v) > rng.uniform(0.2, 1.5)
        q, st, step = int(rng.integers(1, 6)), int(rng.integers(0, n)), int(rng.choice([-1, 1]))
        tol = float(rng.choice([0.0, rng.uniform(0, 1)]))
        assert (_runs_below(mask, q, st, step, v, tol)
                == _runs_walk_from_baseline(mask, v, q, st, step, tol))


@pytest.mark.parametrize("n", [1, 2, 7, 30, 101])
def test_median_snippet_equals_numpy_median(n):
    rng = np.random.default_rng(n)
    x = rng.normal(size=5000)
    c = rng.integers(0, 5000, n)  # near the ends too: indices clipped as _snippets does
    idx = np.clip(c[:, None] + np.arange(-40, 61)[None, :], 0, x.size - 1)
    np.testing.assert_array_equal(median_snippet(x, c, 40, 60), np.median(x[idx], axis=0))
    a = rng.normal(size=(3, n))
    np.testing.assert_array_equal(median_rows(a.copy()), np.median(a, axis=1))


def _turning_points_walk(x, thr):
    """The turns of the interference pattern walked over every sample (the zigzag with
    hysteresis ``thr``, one sample at a time)."""
    pts, hi, lo, hi_i, lo_i, direction = [], x[0], x[0], 0, 0, 0
    ext_v, ext_i = x[0], 0
    for i, v in enumerate(x):
        if direction == 0:
            if v > hi:
                hi, hi_i = v, i
            if v < lo:
                lo, lo_i = v, i
            if hi - lo >= thr:
                pts.append(hi_i if hi_i < lo_i else lo_i)
                direction, ext_v, ext_i = (-1, lo, lo_i) if hi_i < lo_i else (1, hi, hi_i)
        elif direction > 0:
            if v > ext_v:
                ext_v, ext_i = v, i
            elif ext_v - v >= thr:
                pts.append(ext_i)
                direction, ext_v, ext_i = -1, v, i
        else:
            if v < ext_v:
                ext_v, ext_i = v, i
            elif v - ext_v >= thr:
                pts.append(ext_i)
                direction, ext_v, ext_i = 1, v, i
    return pts


@pytest.mark.parametrize("seed", range(4))
def test_turning_points_match_the_sample_by_sample_walk(seed):
    # small wiggles dropped before the walk (_drop_wiggles) never change a turn
    rng = np.random.default_rng(seed)
    for _ in range(300):
        n = int(rng.integers(3, 400))
        x = np.round(rng.normal(size=n).cumsum() * rng.uniform(0.1, 3), int(rng.integers(0, 3)))
        x = x + rng.normal(size=n) * rng.choice([0.0, 0.3])  # plateaus, or small wiggles
        thr = float(rng.uniform(0.05, 4))
        assert turning_points(x, thr).tolist() == _turning_points_walk(x, thr)
