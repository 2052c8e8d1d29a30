"""Data squashing (DuMouchel & Pregibon 2001; openEBGM's ``squashData`` and ``autoSquash``).

Points of one count level with similar expected counts are averaged into one weighted point, so the
prior fit on millions of cells costs what a fit on thousands does.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from repigment.signals.errors import SignalsError
from repigment.signals.mgps.model import FloatArray

SQUASH_CUT_OFFS = (500, 1_000, 10_000, 100_000, 500_000, 1_000_000, 5_000_000)
SQUASH_SUPER_POINTS = (50, 75, 150, 500, 750, 1_000, 2_000, 5_000)
SQUASH_KEEP_POINTS = (100, 75, 50, 25)


def squash_level(e: FloatArray, keep: int, bin_size: int) -> tuple[FloatArray, FloatArray]:
    """Squash the expected counts of one count level (DuMouchel & Pregibon 2001).

    Sorted by E, the ``keep`` largest stay as they are; the rest are averaged in consecutive bins of
    ``bin_size`` (a last partial bin weighs its size). Returns (E, weight).
    """
    s = np.sort(np.asarray(e, dtype=np.float64))
    m = max(s.size - keep, 0)
    low, high = s[:m], s[m:]
    if m == 0 or bin_size <= 1:
        return s, np.ones(s.size)
    starts = np.arange(0, m, bin_size)
    sums = np.add.reduceat(low, starts)
    sizes = np.diff(np.append(starts, m)).astype(np.float64)
    return np.concatenate([sums / sizes, high]), np.concatenate([sizes, np.ones(high.size)])


def auto_squash(
    n: npt.ArrayLike,
    e: npt.ArrayLike,
    *,
    keep_points: tuple[int, ...] = SQUASH_KEEP_POINTS,
    cut_offs: tuple[int, ...] = SQUASH_CUT_OFFS,
    super_points: tuple[int, ...] = SQUASH_SUPER_POINTS,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """openEBGM-style automatic squashing of the lowest count levels; returns (N, E, weight).

    The k-th lowest count level keeps ``keep_points[k]`` points; the bin size follows the level's size:
    ``max(floor((n - keep) / super_points[interval]), 2)`` with the interval found among ``cut_offs``.
    """
    if len(super_points) != len(cut_offs) + 1:
        raise SignalsError("squash", "super_points must have one more entry than cut_offs")
    nn = np.asarray(n, dtype=np.float64)
    ee = np.asarray(e, dtype=np.float64)
    levels = np.unique(nn)
    out_n, out_e, out_w = [], [], []
    for k, level in enumerate(levels):  # loop over count levels, not cells
        sel = ee[nn == level]
        if k < len(keep_points) and sel.size > keep_points[k]:
            supers = super_points[int(np.searchsorted(np.asarray(cut_offs), sel.size, side="right"))]
            bin_size = max((sel.size - keep_points[k]) // supers, 2)
            se, sw = squash_level(sel, keep_points[k], bin_size)
        else:
            se, sw = sel, np.ones(sel.size)
        out_n.append(np.full(se.size, level))
        out_e.append(se)
        out_w.append(sw)
    return np.concatenate(out_n), np.concatenate(out_e), np.concatenate(out_w)


def squash_coarse(
    n: npt.ArrayLike, e: npt.ArrayLike, *, per_level: int = 500, keep: int = 100
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Squash every count level to at most ``keep + per_level`` points (for databases with millions of cells).

    Same binning as :func:`squash_level` (the ``keep`` largest E exact, the rest averaged in consecutive
    bins), with the bin size chosen per level; returns (N, E, weight).
    """
    nn = np.asarray(n, dtype=np.float64)
    ee = np.asarray(e, dtype=np.float64)
    order = np.lexsort((ee, nn))
    nn, ee = nn[order], ee[order]
    levels, starts = np.unique(nn, return_index=True)
    ends = np.r_[starts[1:], nn.size]
    out_n, out_e, out_w = [], [], []
    for level, a, b in zip(levels, starts, ends, strict=True):  # a loop over count levels
        m = int(b - a)
        bin_size = max(1, -(-(m - keep) // per_level)) if m > keep + per_level else 1
        se, sw = squash_level(ee[a:b], keep, bin_size) if bin_size > 1 else (ee[a:b], np.ones(m))
        out_n.append(np.full(se.size, level))
        out_e.append(se)
        out_w.append(sw)
    return np.concatenate(out_n), np.concatenate(out_e), np.concatenate(out_w)


# Above this many distinct (N, E) points every count level is squashed before fitting (a named
# parameter; below it the exact likelihood of every point is used).
SQUASH_ABOVE_POINTS = 50_000
