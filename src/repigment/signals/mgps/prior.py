"""The prior fit: the (truncated) marginal likelihood and its maximisation from several starts.

openEBGM's ``negLLsquash`` / ``negLLzeroSquash`` and ``autoHyper`` (with ``exploreHypers``' acceptance rule:
the best estimate counts when another start lands within tolerance of it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import optimize, special

from repigment.signals.errors import SignalsError
from repigment.signals.mgps.model import FloatArray, Theta, log_nb
from repigment.signals.mgps.squash import auto_squash, squash_coarse

# --- marginal likelihood -------------------------------------------------------------------------------


def _wsum(w: FloatArray, x: FloatArray) -> float:
    """Weighted sum in NumPy's pairwise order: np.dot would hand it to BLAS, whose threads split the
    sum differently with the number of cores, so the fitted prior moved in its last digits between
    machines (and between a process and a Dask worker, which runs BLAS on one thread)."""
    return float(np.add.reduce(w * x))


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
    l1 = log_nb(nn, ee, a1, b1)
    l2 = log_nb(nn, ee, a2, b2)
    if truncated:
        l1 = l1 - _log_tail(ee, a1, b1, n_star)
        l2 = l2 - _log_tail(ee, a2, b2, n_star)
    ll = np.logaddexp(math.log(p) + l1, math.log1p(-p) + l2)
    if weights is None:
        return -float(np.sum(ll))
    return -_wsum(np.asarray(weights, dtype=np.float64), ll)


# --- fitting -------------------------------------------------------------------------------------------

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
