"""DuMouchel's Multi-item Gamma Poisson Shrinker (MGPS): prior fit, posterior, EBGM and its quantiles.

Model (DuMouchel 1999, Am Stat 53:177; as computed by openEBGM 0.9.1, Canida & Ihrie 2017, R Journal 9/2):
lambda ~ P Gamma(a1, b1) + (1-P) Gamma(a2, b2); N | E is then a mixture of negative binomials
NB(size a_i, prob b_i/(b_i+E)); the posterior of lambda is a mixture of Gamma(a_i+N, b_i+E) with weight Qn.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import optimize, special

from repigment.signals.errors import SignalsError
from repigment.signals.rounding import r_round

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class Theta(NamedTuple):
    """Prior hyperparameters (alpha1, beta1, alpha2, beta2, P)."""

    alpha1: float
    beta1: float
    alpha2: float
    beta2: float
    p: float

    @classmethod
    def parse(cls, text: str) -> Theta:
        parts = [s.strip() for s in text.split(",")]
        if len(parts) != 5:
            raise SignalsError("theta", f"expected 5 comma-separated numbers a1,b1,a2,b2,p, got {len(parts)}")
        try:
            vals = [float(s) for s in parts]
        except ValueError:
            raise SignalsError("theta", f"not a list of numbers: {text!r}") from None
        return cls(*vals).validated()

    def validated(self) -> Theta:
        for name in ("alpha1", "beta1", "alpha2", "beta2"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v > 0):
                raise SignalsError("theta", f"{name} must be a positive number, got {v}")
        if not (0 < self.p < 1):
            raise SignalsError("theta", f"p must lie strictly between 0 and 1, got {self.p}")
        return self

    def as_text(self) -> str:
        return ",".join(repr(float(v)) for v in self)


# --- marginal likelihood -------------------------------------------------------------------------------


def _wsum(w: FloatArray, x: FloatArray) -> float:
    """Weighted sum in NumPy's pairwise order: np.dot would hand it to BLAS, whose threads split the
    sum differently with the number of cores, so the fitted prior moved in its last digits between
    machines (and between a process and a Dask worker, which runs BLAS on one thread)."""
    return float(np.add.reduce(w * x))


def _log_nb(n: FloatArray, e: FloatArray, alpha: float, beta: float) -> FloatArray:
    """log NB(n; size alpha, prob beta/(beta+E)), the marginal of one prior component."""
    lbe = np.log(beta + e)
    out: FloatArray = (
        special.gammaln(n + alpha)
        - special.gammaln(alpha)
        - special.gammaln(n + 1.0)
        + alpha * (math.log(beta) - lbe)
        + n * (np.log(e) - lbe)
    )
    return out


def _log_tail(e: FloatArray, alpha: float, beta: float, n_star: int) -> FloatArray:
    """log P(N >= n_star) under one component, for the truncated likelihood."""
    if n_star == 1:
        return np.asarray(np.log(-np.expm1(alpha * (math.log(beta) - np.log(beta + e)))), dtype=np.float64)
    # P(N >= k) for NB(size a, prob q) is the regularised incomplete beta I_{1-q}(k, a).
    return np.asarray(np.log(special.betainc(float(n_star), alpha, e / (beta + e))), dtype=np.float64)


def neg_log_lik(
    theta: Theta | npt.ArrayLike,
    n: npt.ArrayLike,
    e: npt.ArrayLike,
    weights: npt.ArrayLike | None = None,
    *,
    n_star: int = 1,
    truncated: bool = True,
) -> float:
    """Negative log-likelihood of theta; truncated: each component conditioned on N >= n_star separately."""
    a1, b1, a2, b2, p = (float(v) for v in np.asarray(theta, dtype=np.float64))
    nn = np.asarray(n, dtype=np.float64)
    ee = np.asarray(e, dtype=np.float64)
    l1 = _log_nb(nn, ee, a1, b1)
    l2 = _log_nb(nn, ee, a2, b2)
    if truncated:
        l1 = l1 - _log_tail(ee, a1, b1, n_star)
        l2 = l2 - _log_tail(ee, a2, b2, n_star)
    ll = np.logaddexp(math.log(p) + l1, math.log1p(-p) + l2)
    if weights is None:
        return -float(np.sum(ll))
    return -_wsum(np.asarray(weights, dtype=np.float64), ll)


# --- data squashing ------------------------------------------------------------------------------------

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


# --- fitting -------------------------------------------------------------------------------------------

# Above this many distinct (N, E) points every count level is squashed before fitting (a named
# parameter; below it the exact likelihood of every point is used).
SQUASH_ABOVE_POINTS = 50_000
THETA_UPPER = 100.0  # openEBGM's bounds: 0 < alpha, beta < 100, 0 < P < 1
CONSISTENCY_TOLERANCE = (0.05, 0.05, 0.2, 0.2, 0.025)
DEFAULT_STARTS: tuple[Theta, ...] = (
    Theta(0.2, 0.1, 2.0, 4.0, 1 / 3),
    Theta(0.1, 0.1, 10.0, 10.0, 0.2),
    Theta(0.3, 0.5, 6.0, 6.0, 0.5),
    Theta(0.5, 0.3, 12.0, 12.0, 0.8),
    Theta(0.2, 0.2, 5.0, 5.0, 0.4),
    Theta(3.0, 0.5, 2.0, 2.0, 0.1),
)


@dataclass(frozen=True)
class StartResult:
    start: Theta
    theta: Theta | None
    nll: float
    converged: bool
    message: str


@dataclass(frozen=True)
class FitResult:
    """Outcome of the hyperparameter fit; ``reason`` says in plain words why it is not trusted."""

    theta: Theta | None
    nll: float
    converged: bool
    reason: str
    n_points: int
    squashed: bool
    starts: tuple[StartResult, ...] = field(default=())

    def summary(self) -> str:
        if self.theta is None:
            return f"MGPS fit failed: {self.reason}"
        status = "converged" if self.converged else f"NOT converged: {self.reason}"
        return f"theta={self.theta.as_text()} negative log-likelihood={self.nll:.7f} ({status})"


def _to_u(t: Theta) -> FloatArray:
    a1, b1, a2, b2, p = t
    return np.array([math.log(a1), math.log(b1), math.log(a2), math.log(b2), math.log(p / (1 - p))])


def _from_u(u: FloatArray) -> Theta:
    a1, b1, a2, b2 = (float(min(math.exp(min(x, 50.0)), 1e300)) for x in u[:4])
    p = float(special.expit(u[4]))
    return Theta(a1, b1, a2, b2, p)


def _in_bounds(t: Theta) -> bool:
    return all(0 < v < THETA_UPPER for v in t[:4]) and 0 < t.p < 1


def _at_bound(t: Theta) -> list[str]:
    names = ("alpha1", "beta1", "alpha2", "beta2")
    out = [
        f"{nm} ran to the upper bound {THETA_UPPER:g}"
        for nm, v in zip(names, t[:4], strict=True)
        if v >= THETA_UPPER * 0.999
    ]
    out += [f"{nm} ran to zero" for nm, v in zip(names, t[:4], strict=True) if v < 1e-6]
    if t.p < 1e-6 or t.p > 1 - 1e-6:
        out.append("P ran to 0 or 1 (a single gamma component describes the data)")
    return out


def _nll_grad(
    t: Theta,
    levels: FloatArray,
    level_of: npt.NDArray[np.intp],
    lgn1: FloatArray,
    n: FloatArray,
    e: FloatArray,
    log_e: FloatArray,
    w: FloatArray,
    n_star: int,
) -> tuple[float, FloatArray]:
    """Truncated negative log-likelihood and its gradient in (ln a1, ln b1, ln a2, ln b2, logit P)."""
    a1, b1, a2, b2, p = t
    parts = []
    for a, b in ((a1, b1), (a2, b2)):
        be = b + e  # each subexpression is evaluated once (same operations, same bits)
        lbe = np.log(be)
        big_l = math.log(b) - lbe
        abl = a * big_l
        lf = (
            special.gammaln(levels + a)[level_of]
            - special.gammaln(a)
            - lgn1[level_of]
            + abl
            + n * (log_e - lbe)
        )
        d_a = special.digamma(levels + a)[level_of] - special.digamma(a) + big_l
        d_b = a / b - (a + n) / be
        if n_star == 1:
            p0 = np.exp(abl)
            neg = -np.expm1(abl)
            tail = np.log(neg)
            k = p0 / neg
            d_a = d_a + k * big_l
            d_b = d_b + k * a * e / (b * be)
        else:
            tail = _log_tail(e, a, b, n_star)
        parts.append((lf - tail, d_a * a, d_b * b))
    (l1, da1, db1), (l2, da2, db2) = parts
    ll = np.logaddexp(math.log(p) + l1, math.log1p(-p) + l2)
    r1 = np.exp(math.log(p) + l1 - ll)
    r2 = 1.0 - r1
    value = -_wsum(w, ll)
    if n_star != 1:
        return value, np.full(5, math.nan)
    grad = -np.array(
        [
            _wsum(w, r1 * da1),
            _wsum(w, r1 * db1),
            _wsum(w, r2 * da2),
            _wsum(w, r2 * db2),
            _wsum(w, r1 * (1 - p) - r2 * p),
        ]
    )
    return value, grad


def fit_theta(
    n: npt.ArrayLike,
    e: npt.ArrayLike,
    weights: npt.ArrayLike | None = None,
    *,
    n_star: int = 1,
    squash: bool = False,
    starts: tuple[Theta, ...] = DEFAULT_STARTS,
    tolerance: tuple[float, ...] = CONSISTENCY_TOLERANCE,
    min_agreeing: int = 2,
    max_points: int | None = None,
) -> FitResult:
    """Maximise the truncated likelihood from several starts (openEBGM's acceptance rule).

    The best in-bounds estimate is accepted when at least one other start lands within ``tolerance``
    of it. Cells with N < n_star are left out. Identical (N, E) points are merged with a weight, which
    changes nothing but speed.
    """
    nn = np.asarray(n, dtype=np.float64)
    ee = np.asarray(e, dtype=np.float64)
    if nn.shape != ee.shape:
        raise SignalsError("fit", "N and E differ in length")
    w0 = np.ones(nn.size) if weights is None else np.asarray(weights, dtype=np.float64)
    keep = nn >= n_star
    nn, ee, w0 = nn[keep], ee[keep], w0[keep]
    if nn.size == 0:
        return FitResult(None, math.nan, False, f"no drug-event cells with N >= {n_star} to fit", 0, squash)
    if np.any(~np.isfinite(ee) | (ee <= 0)):
        return FitResult(None, math.nan, False, "some expected counts E are zero or not finite", 0, squash)
    if squash:
        if weights is not None:
            raise SignalsError("fit", "data that already carry weights cannot be squashed again")
        nn, ee, w0 = auto_squash(nn, ee)
    else:
        if max_points is not None and weights is None:
            distinct = int(pd.unique(nn + 1j * ee).size)  # a hash pass; np.unique sorts complex numbers
            if distinct > max_points:
                nn, ee, w0 = squash_coarse(
                    nn, ee, per_level=max(50, max_points // max(1, np.unique(nn).size))
                )
                squash = True
        pts, inv = np.unique(np.stack([nn, ee]), axis=1, return_inverse=True)
        w0 = np.asarray(np.bincount(inv.ravel(), weights=w0, minlength=pts.shape[1]), dtype=np.float64)
        nn, ee = pts[0], pts[1]
    if np.unique(nn).size < 2:
        return FitResult(
            None,
            math.nan,
            False,
            "all cells have the same count N; two gamma components cannot be told apart "
            "(supply --theta or add data)",
            int(nn.size),
            squash,
        )

    levels, level_of = np.unique(nn, return_inverse=True)
    level_of = level_of.ravel()
    log_e = np.log(ee)
    lgn1 = special.gammaln(levels + 1.0)

    def objective(u: FloatArray) -> tuple[float, FloatArray]:
        t = _from_u(u)
        with np.errstate(all="ignore"):
            v, g = _nll_grad(t, levels, level_of, lgn1, nn, ee, log_e, w0, n_star)
        if not math.isfinite(v) or not np.all(np.isfinite(g)):
            return 1e300, np.zeros(5)
        return v, g

    def value_only(u: FloatArray) -> float:
        with np.errstate(all="ignore"):
            v = neg_log_lik(_from_u(u), nn, ee, w0, n_star=n_star)
        return v if math.isfinite(v) else 1e300

    analytic = n_star == 1  # closed-form gradient; other truncation points use finite differences

    lo, hi = math.log(1e-8), math.log(THETA_UPPER)
    bounds = [(lo, hi)] * 4 + [(-25.0, 25.0)]
    results: list[StartResult] = []
    for st in starts:
        try:
            r = optimize.minimize(
                objective if analytic else value_only,
                _to_u(st),
                jac=analytic,
                method="L-BFGS-B",
                bounds=bounds,
                options={"maxiter": 600, "ftol": 1e-16, "gtol": 1e-10, "maxcor": 20},
            )
            t = _from_u(r.x)
            fun = float(r.fun)
            ok = math.isfinite(fun) and fun < 1e299 and (bool(r.success) or "ABNORMAL" in str(r.message))
            results.append(StartResult(st, t, fun, ok, str(r.message)))
        except (ValueError, FloatingPointError) as ex:  # pragma: no cover - optimiser breakdowns
            results.append(StartResult(st, None, math.nan, False, str(ex)))
        good = [s for s in results if s.converged and s.theta is not None and not _at_bound(s.theta)]
        if len(good) >= min_agreeing:
            best = min(good, key=lambda s: s.nll)
            assert best.theta is not None
            agree = [
                s
                for s in good
                if s.theta is not None
                and all(abs(x - y) <= tol for x, y, tol in zip(s.theta, best.theta, tolerance, strict=True))
            ]
            if len(agree) >= min_agreeing:
                return FitResult(best.theta, best.nll, True, "", int(nn.size), squash, tuple(results))
        # Starts that agree on a boundary point: more starts will not change the verdict.
        edge = [s for s in results if s.converged and s.theta is not None and _at_bound(s.theta)]
        if len(edge) >= min_agreeing:
            e0 = min(edge, key=lambda s: s.nll)
            assert e0.theta is not None
            same = [s for s in edge if s.theta is not None and _at_bound(s.theta) == _at_bound(e0.theta)]
            if len(same) >= min_agreeing and all(e0.nll <= s.nll for s in results if math.isfinite(s.nll)):
                break
    ran = [s for s in results if s.theta is not None and math.isfinite(s.nll)]
    if not ran:
        return FitResult(
            None,
            math.nan,
            False,
            "the optimiser failed from every starting point "
            "(check that E is positive and counts are plausible)",
            int(nn.size),
            squash,
            tuple(results),
        )
    best = min(ran, key=lambda s: s.nll)
    assert best.theta is not None
    bound = _at_bound(best.theta)
    if bound:
        reason = (
            "the best estimate lies on the boundary of the parameter space: "
            + "; ".join(bound)
            + ". The two-component prior is not identifiable from these data; supply --theta "
            "from a larger database or use fewer strata"
        )
    else:
        reason = (
            f"consistent convergence failed: no two of {len(results)} starting points agree within "
            "tolerance, so the likelihood is flat or has several optima; supply --theta, or fit "
            "on a larger database"
        )
    return FitResult(best.theta, best.nll, False, reason, int(nn.size), squash, tuple(results))


# --- posterior -----------------------------------------------------------------------------------------


def posterior_qn(theta: Theta, n: npt.ArrayLike, e: npt.ArrayLike) -> FloatArray:
    """Qn = P f1(N) / (P f1(N) + (1-P) f2(N)), untruncated marginals, computed in log space."""
    a1, b1, a2, b2, p = theta
    nn = np.asarray(n, dtype=np.float64)
    ee = np.asarray(e, dtype=np.float64)
    d = (math.log1p(-p) + _log_nb(nn, ee, a2, b2)) - (math.log(p) + _log_nb(nn, ee, a1, b1))
    return np.asarray(special.expit(-d), dtype=np.float64)


def eb_log2(theta: Theta, n: npt.ArrayLike, e: npt.ArrayLike, qn: FloatArray) -> FloatArray:
    """E[log2 lambda | N]: Qn(psi(a1+N) - ln(b1+E)) + (1-Qn)(psi(a2+N) - ln(b2+E)), over ln 2."""
    a1, b1, a2, b2, _ = theta
    nn = np.asarray(n, dtype=np.float64)
    ee = np.asarray(e, dtype=np.float64)
    t1 = qn * (special.digamma(a1 + nn) - np.log(b1 + ee))
    t2 = (1 - qn) * (special.digamma(a2 + nn) - np.log(b2 + ee))
    return np.asarray((t1 + t2) / math.log(2), dtype=np.float64)


def ebgm(theta: Theta, n: npt.ArrayLike, e: npt.ArrayLike, qn: FloatArray) -> FloatArray:
    """Empirical Bayes geometric mean 2^E[log2 lambda] (unrounded)."""
    return np.asarray(np.power(2.0, eb_log2(theta, n, e, qn)), dtype=np.float64)


def posterior_cdf(theta: Theta, n: FloatArray, e: FloatArray, qn: FloatArray, x: FloatArray) -> FloatArray:
    """Posterior CDF of lambda; 0 for x < 0. Rates enter as x / (1/rate), as R's pgamma(scale=) does."""
    a1, b1, a2, b2, _ = theta
    xx = np.maximum(x, 0.0)
    c1 = special.gammainc(a1 + n, xx / (1.0 / (b1 + e)))
    c2 = special.gammainc(a2 + n, xx / (1.0 / (b2 + e)))
    return np.asarray(np.where(x < 0, 0.0, qn * c1 + (1 - qn) * c2), dtype=np.float64)


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
