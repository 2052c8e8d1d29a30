"""Posterior quantiles: exact (safeguarded Newton) and openEBGM's ``quantBisect`` (rounded bisection)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import special

from repigment.signals.errors import SignalsError
from repigment.signals.mgps.model import FloatArray, Theta
from repigment.signals.mgps.posterior import posterior_cdf
from repigment.signals.rounding import r_round


def quantile_exact(
    theta: Theta,
    n: npt.ArrayLike,
    e: npt.ArrayLike,
    qn: FloatArray,
    prob: float,
    max_iter: int = 200,
    step_tol: float = 1e-9,
) -> FloatArray:
    """True posterior quantile: safeguarded Newton iteration on u = ln(lambda), to full precision."""
    if not 0 < prob < 1:
        raise SignalsError("quantile", f"probability must lie in (0, 1), got {prob}")
    a1, b1, a2, b2, _ = theta
    nn = np.asarray(n, dtype=np.float64).ravel()
    ee = np.asarray(e, dtype=np.float64).ravel()
    qq = np.asarray(qn, dtype=np.float64).ravel()
    s1, r1, s2, r2 = a1 + nn, b1 + ee, a2 + nn, b2 + ee
    g1, g2 = special.gammaln(s1), special.gammaln(s2)
    # Start: Wilson-Hilferty quantiles of the two components, mixed on the log scale.
    z = float(special.ndtri(prob))

    def wh(s: FloatArray, r: FloatArray) -> FloatArray:
        c = 1.0 / (9.0 * s)
        base = np.maximum(1.0 - c + z * np.sqrt(c), 1e-3)
        return np.asarray(np.log(s * base**3 / r), dtype=np.float64)

    u = qq * wh(s1, r1) + (1 - qq) * wh(s2, r2)
    out = np.full(u.size, np.nan)
    # Unfinished cells are kept packed (idx, then one column per quantity) so that each step works on
    # contiguous arrays and only finished cells cost a gather.
    idx = np.arange(u.size)
    lo = np.full(u.size, -np.inf)
    hi = np.full(u.size, np.inf)
    cols = [s1, r1, np.log(r1), s2, r2, np.log(r2), g1, g2, qq, 1 - qq]
    for _ in range(max_iter):
        if idx.size == 0:
            break
        c_s1, c_r1, c_lr1, c_s2, c_r2, c_lr2, c_g1, c_g2, c_q, c_q2 = cols
        u, lo, hi, done, value = _newton_step(
            u, lo, hi, c_s1, c_r1, c_lr1, c_s2, c_r2, c_lr2, c_g1, c_g2, c_q, c_q2, prob, step_tol
        )
        fin = np.flatnonzero(done)
        out[idx[fin]] = value
        keep = ~done
        nan = np.isnan(value)
        if nan.any():
            keep[fin[nan]] = True
        if fin.size and not keep.all():
            idx, u, lo, hi = idx[keep], u[keep], lo[keep], hi[keep]
            cols = [c[keep] for c in cols]
    if idx.size:
        out[idx] = np.exp(u)
    return out.reshape(np.shape(n))


def _newton_step(
    u: FloatArray,
    lo: FloatArray,
    hi: FloatArray,
    s1: FloatArray,
    r1: FloatArray,
    lr1: FloatArray,
    s2: FloatArray,
    r2: FloatArray,
    lr2: FloatArray,
    g1: FloatArray,
    g2: FloatArray,
    q: FloatArray,
    q2: FloatArray,
    prob: float,
    step_tol: float,
) -> tuple[FloatArray, FloatArray, FloatArray, npt.NDArray[np.bool_], FloatArray]:
    """One safeguarded Newton step: new (u, lo, hi), the finished cells and their values.

    ``q2`` is 1 - q. The time goes into the two incomplete gamma functions; everything else is
    computed once per step, and the bisection fallback and the final exp only where needed.
    """
    with np.errstate(all="ignore"):
        x = np.exp(u)
        xr1 = x * r1
        xr2 = x * r2
        g = q * special.gammainc(s1, xr1) + q2 * special.gammainc(s2, xr2) - prob
        lx1 = s1 * (u + lr1) - xr1 - g1
        lx2 = s2 * (u + lr2) - xr2 - g2
        dg = q * np.exp(lx1) + q2 * np.exp(lx2)
        lo_i = np.where(g < 0, u, lo)
        hi_i = np.where(g > 0, u, hi)
        step = g / dg
        un = u - step
        scale = np.maximum(1.0, np.abs(u))
        # A Newton step below 1e-9 leaves an error of order step^2 (quadratic convergence): accept
        # it. Without this, a last step below one ulp lands on the bracket end and is mistaken for a
        # failed step, sending the cell into ~50 needless bisections.
        tiny = np.isfinite(step) & (np.abs(step) <= step_tol * scale)
        bad = ~np.isfinite(un) | (un <= lo_i) | (un >= hi_i)
        bad &= ~tiny
        if bad.any():  # bisect, or walk out of a half-open bracket
            k = np.flatnonzero(bad)
            lk, hk = lo_i[k], hi_i[k]
            un[k] = np.where(
                np.isfinite(lk) & np.isfinite(hk),
                0.5 * (lk + hk),
                np.where(np.isfinite(lk), lk + 1.0, hk - 1.0),
            )
        done = (g == 0) | tiny | (np.abs(un - u) <= 4e-16 * scale) | (hi_i - lo_i <= 1e-15)
        fin = np.flatnonzero(done)
        value = np.where(g[fin] == 0, x[fin], np.exp(un[fin]))
    return un, lo_i, hi_i, done, value


COMPAT_LIMITS = (-100000.0, 100000.0)


def _bisect_openebgm(
    theta: Theta,
    n: FloatArray,
    e: FloatArray,
    qn: FloatArray,
    prob: float,
    digits: int,
    limits: tuple[float, float],
    max_iter: int,
) -> FloatArray:
    """openEBGM's vectorised bisection evaluated literally (posterior CDF at every midpoint)."""
    tol = 0.5 * 10.0**-digits
    one = np.ones(n.size)
    err1 = posterior_cdf(theta, n, e, qn, one) - prob
    left = np.where(err1 > 0, limits[0], 1.0)
    right = np.where(err1 > 0, 1.0, limits[1])
    err_left = posterior_cdf(theta, n, e, qn, left) - prob
    mid = (left + right) / 2
    for _ in range(max_iter):
        mid = (left + right) / 2
        if np.all((right - left) / 2 < tol):
            break
        err_mid = posterior_cdf(theta, n, e, qn, mid) - prob
        same = np.sign(err_mid) == np.sign(err_left)
        left = np.where(same, mid, left)
        err_left = np.where(same, err_mid, err_left)
        right = np.where(same, right, mid)
    return mid


def quantile_openebgm(
    theta: Theta,
    n: npt.ArrayLike,
    e: npt.ArrayLike,
    qn: FloatArray,
    prob: float,
    *,
    digits: int = 2,
    limits: tuple[float, float] = COMPAT_LIMITS,
    max_iter: int = 2000,
    exact: FloatArray | None = None,
    literal: bool = False,
) -> FloatArray:
    """openEBGM's quantile: the rounded midpoint of its bisection, stopped for all cells at once.

    The bisection's path depends only on whether each midpoint lies below the true quantile, so it is
    replayed with comparisons against the exact quantile; cells where a midpoint comes within 1e-9 of
    the quantile (where floating-point CDF evaluation could decide otherwise) are redone literally.
    ``literal=True`` evaluates the CDF at every step for all cells (the slow reference).
    """
    nn = np.asarray(n, dtype=np.float64).ravel()
    ee = np.asarray(e, dtype=np.float64).ravel()
    qq = np.asarray(qn, dtype=np.float64).ravel()
    if literal:
        return r_round(_bisect_openebgm(theta, nn, ee, qq, prob, digits, limits, max_iter), digits)
    qs = quantile_exact(theta, nn, ee, qq, prob) if exact is None else np.asarray(exact).ravel()
    tol = 0.5 * 10.0**-digits
    window = 1e-9 * np.maximum(1.0, qs)
    near = np.abs(1.0 - qs) <= window
    above = qs < 1.0
    left = np.where(above, limits[0], 1.0)
    right = np.where(above, 1.0, limits[1])
    mid = (left + right) / 2
    gap = np.empty(qs.size)
    for _ in range(max_iter):
        mid = (left + right) / 2
        # openEBGM stops when every half-width is below tol; halving is exact, so the largest
        # width decides (one pass instead of three).
        if qs.size == 0 or (right - left).max() / 2 < tol:
            break
        np.subtract(mid, qs, out=gap)
        np.abs(gap, out=gap)
        near |= gap <= window
        below = mid < qs
        left = np.where(below, mid, left)
        right = np.where(below, right, mid)
    if np.any(near):
        k = np.flatnonzero(near)
        mid[k] = _bisect_openebgm(theta, nn[k], ee[k], qq[k], prob, digits, limits, max_iter)
    return r_round(mid, digits).reshape(np.shape(n))
