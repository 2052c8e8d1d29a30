"""Trial statistics for a binary endpoint: binomial CIs, two-arm effects, stratified (CMH) analysis, logistic.

Tables are oriented as treatment row first, responder column first: ``a`` treatment responders,
``b`` treatment non-responders, ``c`` control responders, ``d`` control non-responders, so that
odds ratios above 1 and positive risk differences favour treatment. Undefined quantities are ``None``,
never NaN or infinity, so they survive JSON.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from scipy import optimize
from scipy import stats as sps

from repigment.outcomes.errors import OutcomesError

CONF_LEVEL: Final = 0.95
# Haldane–Anscombe correction added to every cell of a 2×2 table that has a zero cell (Woolf OR, log RR).
HALDANE: Final = 0.5

Interval = tuple[float | None, float | None]


def _z(conf: float) -> float:
    return float(sps.norm.ppf(0.5 + conf / 2.0))


def _finite(v: float) -> float | None:
    return float(v) if math.isfinite(v) else None


# --- one proportion ------------------------------------------------------------------------------------


def wilson_ci(x: float, n: float, conf: float = CONF_LEVEL) -> tuple[float, float]:
    """Wilson score interval (Wilson 1927), the interval of R's ``prop.test(x, n, correct = FALSE)``."""
    if n <= 0:
        raise OutcomesError("n", "a proportion needs at least one patient", kind="input")
    z = _z(conf)
    p = x / n
    centre = (x + z * z / 2.0) / (n + z * z)
    half = z / (n + z * z) * math.sqrt(max(n * p * (1.0 - p), 0.0) + z * z / 4.0)
    lo = 0.0 if x <= 0 else max(centre - half, 0.0)
    hi = 1.0 if x >= n else min(centre + half, 1.0)
    return lo, hi


def clopper_pearson_ci(x: float, n: float, conf: float = CONF_LEVEL) -> tuple[float, float]:
    """Exact (Clopper & Pearson 1934) interval from beta quantiles, as R's ``binom.test``."""
    if n <= 0:
        raise OutcomesError("n", "a proportion needs at least one patient", kind="input")
    alpha = 1.0 - conf
    lo = 0.0 if x <= 0 else float(sps.beta.ppf(alpha / 2.0, x, n - x + 1.0))
    hi = 1.0 if x >= n else float(sps.beta.ppf(1.0 - alpha / 2.0, x + 1.0, n - x))
    return lo, hi


@dataclass(frozen=True)
class ArmResult:
    n: float
    responders: float
    rate: float
    wilson_ci: tuple[float, float]
    exact_ci: tuple[float, float]
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        whole = float(self.n).is_integer() and float(self.responders).is_integer()
        return {
            "n": int(self.n) if whole else self.n,
            "responders": int(self.responders) if whole else self.responders,
            "rate": self.rate,
            "wilson_ci": list(self.wilson_ci),
            "exact_ci": list(self.exact_ci),
            **self.extra,
        }


def arm_result(x: int, n: int, conf: float = CONF_LEVEL) -> ArmResult:
    return ArmResult(n, x, x / n, wilson_ci(x, n, conf), clopper_pearson_ci(x, n, conf))


# --- two arms ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Effect:
    """A between-arm effect with its interval; ``note`` says how edge cases were handled."""

    estimate: float | None
    ci: Interval
    method: str
    note: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"estimate": self.estimate, "ci": list(self.ci), "method": self.method}
        if self.note:
            out["note"] = self.note
        out.update(self.extra)
        return out


def risk_difference(x1: int, n1: int, x0: int, n0: int, conf: float = CONF_LEVEL) -> Effect:
    """p1 − p0 with Newcombe's hybrid score interval (Newcombe 1998, Stat Med 17:873, method 10)."""
    p1, p0 = x1 / n1, x0 / n0
    l1, u1 = wilson_ci(x1, n1, conf)
    l0, u0 = wilson_ci(x0, n0, conf)
    rd = p1 - p0
    lo = rd - math.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2)
    hi = rd + math.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)
    return Effect(rd, (lo, hi), "newcombe-hybrid-score")


def relative_risk(x1: int, n1: int, x0: int, n0: int, conf: float = CONF_LEVEL) -> Effect:
    """p1 / p0 with the log (Katz 1978) interval; a zero responder count gets +0.5 per cell (flagged)."""
    note = None
    a, c, m1, m0 = float(x1), float(x0), float(n1), float(n0)
    if x1 == 0 or x0 == 0:
        a, c, m1, m0 = a + HALDANE, c + HALDANE, m1 + 2 * HALDANE, m0 + 2 * HALDANE
        note = "zero responders in an arm: 0.5 added to every cell (Haldane) for estimate and interval"
    rr = (a / m1) / (c / m0)
    se = math.sqrt(max(1 / a - 1 / m1 + 1 / c - 1 / m0, 0.0))
    z = _z(conf)
    return Effect(rr, (rr * math.exp(-z * se), rr * math.exp(z * se)), "log (Katz)", note, {"se_log": se})


def odds_ratio(x1: int, n1: int, x0: int, n0: int, conf: float = CONF_LEVEL) -> Effect:
    """Odds ratio, Woolf (1955) logit interval; a zero cell gets +0.5 per cell (Haldane 1956, flagged)."""
    cells = [float(x1), float(n1 - x1), float(x0), float(n0 - x0)]
    note = None
    if min(cells) == 0:
        cells = [v + HALDANE for v in cells]
        note = "zero cell: 0.5 added to every cell (Haldane–Anscombe) for estimate and interval"
    a, b, c, d = cells
    or_ = a * d / (b * c)
    se = math.sqrt(sum(1 / v for v in cells))
    z = _z(conf)
    return Effect(or_, (or_ * math.exp(-z * se), or_ * math.exp(z * se)), "woolf", note, {"se_log": se})


def _nn(v: float) -> float:
    return 1.0 / abs(v)


def number_needed_to_treat(rd: float | None, ci: Interval) -> dict[str, Any]:
    """NNT = 1/RD with the interval from inverting the RD interval (Altman 1998, BMJ 317:1309).

    RD > 0 is benefit (NNTB), RD < 0 harm (NNTH). When the RD interval includes 0 the NNT interval
    runs through infinity: "NNTB a to ∞ to NNTH b".
    """
    lo, hi = ci
    if rd is None:
        return {
            "estimate": None,
            "kind": None,
            "ci": [None, None],
            "ci_text": "undefined",
            "crosses_zero": None,
        }
    kind = "NNTB" if rd > 0 else "NNTH" if rd < 0 else None
    est = None if rd == 0 else _nn(rd)
    if lo is None or hi is None:
        return {
            "estimate": est,
            "kind": kind,
            "ci": [None, None],
            "ci_text": "undefined",
            "crosses_zero": None,
        }
    crosses = lo <= 0 <= hi
    if not crosses:
        a, b = sorted((_nn(lo), _nn(hi)))
        text = f"{kind} {a:.1f} to {b:.1f}"
        ci_out: list[Any] | None = [a, b]
    else:
        nntb = None if hi == 0 else _nn(hi)
        nnth = None if lo == 0 else _nn(lo)
        parts = []
        if nntb is not None:
            parts.append(f"NNTB {nntb:.1f}")
        parts.append("∞")
        if nnth is not None:
            parts.append(f"NNTH {nnth:.1f}")
        text = " to ".join(parts)
        ci_out = None  # no finite interval: it runs from NNTB through ∞ to NNTH
    est_text = "∞" if est is None else f"{kind} {est:.1f}"
    out: dict[str, Any] = {
        "estimate": est,
        "kind": kind,
        "ci": ci_out,
        "ci_text": text,
        "crosses_zero": crosses,
        "text": f"{est_text} (95% CI {text})",
    }
    if crosses:
        out["ci_through_infinity"] = {"NNTB": nntb, "NNTH": nnth}
    return out


# --- stratified ----------------------------------------------------------------------------------------


def as_tables(tables: npt.ArrayLike) -> npt.NDArray[np.float64]:
    t = np.asarray(tables, dtype=np.float64)
    if t.ndim != 3 or t.shape[1:] != (2, 2):
        raise OutcomesError("tables", "expected K×2×2 counts", kind="input")
    if (t < 0).any() or not np.isfinite(t).all():
        raise OutcomesError("tables", "counts must be finite and non-negative", kind="input")
    return t


@dataclass(frozen=True)
class CMHResult:
    odds_ratio: float | None
    ci: Interval
    statistic: float | None
    p_value: float | None
    continuity_correction: float
    strata_used: int
    strata_dropped: int
    note: str | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "odds_ratio": self.odds_ratio,
            "ci": list(self.ci),
            "ci_method": "robins-breslow-greenland",
            "statistic": self.statistic,
            "p_value": self.p_value,
            "continuity_correction": self.continuity_correction,
            "strata_used": self.strata_used,
            "strata_dropped": self.strata_dropped,
        }
        if self.note:
            out["note"] = self.note
        return out


def cmh(tables: npt.ArrayLike, correct: bool = True, conf: float = CONF_LEVEL) -> CMHResult:
    """Mantel–Haenszel common OR (1959) with the Robins–Breslow–Greenland (1986) variance, and the CMH test.

    Matches R's ``mantelhaen.test(x, correct = TRUE)`` (its default): the statistic is
    (|Σ(a − E a)| − 0.5)² / Σ Var a, the 0.5 applied only when |Σ(a − E a)| ≥ 0.5. Strata with fewer than
    two patients carry no information (R refuses them); they are dropped and counted.
    """
    t = as_tables(tables)
    n = t.sum(axis=(1, 2))
    keep = n >= 2
    t, n = t[keep], n[keep]
    dropped = int((~keep).sum())
    if t.shape[0] == 0:
        return CMHResult(
            None, (None, None), None, None, 0.0, 0, dropped, "no stratum with two or more patients"
        )
    a, b, c, d = t[:, 0, 0], t[:, 0, 1], t[:, 1, 0], t[:, 1, 1]
    row1, col1 = a + b, a + c
    delta = float((a - row1 * col1 / n).sum())
    var = float((row1 * (n - row1) * col1 * (n - col1) / (n * n * (n - 1))).sum())
    yates = 0.5 if correct and abs(delta) >= 0.5 else 0.0
    stat = p = None
    if var > 0:
        stat = (abs(delta) - yates) ** 2 / var
        p = float(sps.chi2.sf(stat, 1))
    r, s = a * d / n, b * c / n
    sr, ss = float(r.sum()), float(s.sum())
    note = None
    if sr > 0 and ss > 0:
        pp, qq = (a + d) / n, (b + c) / n
        v = (
            float((pp * r).sum()) / (2 * sr * sr)
            + float((pp * s + qq * r).sum()) / (2 * sr * ss)
            + float((qq * s).sum()) / (2 * ss * ss)
        )
        est: float | None = sr / ss
        z = _z(conf)
        ci: Interval = (sr / ss * math.exp(-z * math.sqrt(v)), sr / ss * math.exp(z * math.sqrt(v)))
    else:
        est, ci = (0.0 if sr == 0 and ss > 0 else None), (None, None)
        note = (
            "Σ bc/n = 0 or Σ ad/n = 0: the MH odds ratio is 0, infinite or undefined and has no RBG interval"
        )
    return CMHResult(est, ci, stat, p, yates, int(t.shape[0]), dropped, note)


def cmh_log_variance(tables: npt.ArrayLike) -> tuple[float, float] | None:
    """(log MH OR, RBG variance) for combining across imputations; None when not finite."""
    res = cmh(tables)
    if res.odds_ratio is None or res.odds_ratio == 0 or res.ci[0] is None or res.ci[1] is None:
        return None
    z = _z(CONF_LEVEL)
    se = (math.log(res.ci[1]) - math.log(res.ci[0])) / (2 * z)
    return math.log(res.odds_ratio), se * se


def _expected_a(n1: float, n0: float, m1: float, psi: float) -> float:
    """Expected treatment-responder count with the stratum's margins fixed and odds ratio ``psi``."""
    lo, hi = max(0.0, m1 - n0), min(n1, m1)
    if psi == 1.0:
        return n1 * m1 / (n1 + n0)
    qa = 1.0 - psi
    qb = n0 - m1 + psi * (n1 + m1)
    qc = -psi * n1 * m1
    disc = math.sqrt(max(qb * qb - 4 * qa * qc, 0.0))
    roots = ((-qb + disc) / (2 * qa), (-qb - disc) / (2 * qa))
    tol = 1e-9 * max(1.0, hi)
    for root in roots:
        if lo - tol <= root <= hi + tol:
            return min(max(root, lo), hi)
    raise OutcomesError(
        "tables", "no admissible expected count in a stratum", kind="input"
    )  # cannot happen for psi > 0


@dataclass(frozen=True)
class BreslowDayResult:
    statistic: float | None
    df: int
    p_value: float | None
    tarone: bool
    strata_used: int
    note: str | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "statistic": self.statistic,
            "df": self.df,
            "p_value": self.p_value,
            "tarone_correction": self.tarone,
            "strata_used": self.strata_used,
        }
        if self.note:
            out["note"] = self.note
        return out


def breslow_day(tables: npt.ArrayLike, tarone: bool = False) -> BreslowDayResult:
    """Breslow–Day (1980) test of a common OR at the MH estimate; optionally Tarone's (1985) correction.

    Strata with a zero margin (no treated, no control, no responder or no non-responder) are excluded:
    their expected count equals the observed one and their variance is 0. df = informative strata − 1.
    """
    t = as_tables(tables)
    psi = cmh(t).odds_ratio
    n1, n0 = t[:, 0].sum(axis=1), t[:, 1].sum(axis=1)
    m1, m0 = t[:, :, 0].sum(axis=1), t[:, :, 1].sum(axis=1)
    keep = (n1 > 0) & (n0 > 0) & (m1 > 0) & (m0 > 0)
    t, n1, n0, m1 = t[keep], n1[keep], n0[keep], m1[keep]
    k = int(t.shape[0])
    if psi is None or psi == 0 or k < 2:
        why = "fewer than two informative strata" if k < 2 else "the MH odds ratio is 0 or not finite"
        return BreslowDayResult(None, max(k - 1, 0), None, tarone, k, why)
    ea = np.array([_expected_a(float(n1[i]), float(n0[i]), float(m1[i]), psi) for i in range(k)])
    eb, ec = n1 - ea, m1 - ea
    ed = n0 - ec
    with np.errstate(divide="ignore"):
        v = 1.0 / (1.0 / ea + 1.0 / eb + 1.0 / ec + 1.0 / ed)
    a = t[:, 0, 0]
    stat = float(((a - ea) ** 2 / v).sum())
    if tarone:
        stat -= float((a - ea).sum()) ** 2 / float(v.sum())
    return BreslowDayResult(stat, k - 1, float(sps.chi2.sf(stat, k - 1)), tarone, k)


# --- logistic regression --------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogisticResult:
    odds_ratio: float | None
    ci: Interval
    p_value: float | None
    coefficient: float | None
    se: float | None
    covariates: list[str]
    note: str | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "odds_ratio": self.odds_ratio,
            "ci": list(self.ci),
            "p_value": self.p_value,
            "coefficient": self.coefficient,
            "se": self.se,
            "covariates": self.covariates,
            "ci_method": "wald (R confint.default)",
        }
        if self.note:
            out["note"] = self.note
        return out


def _separated(
    x: npt.NDArray[np.float64], succ: npt.NDArray[np.float64], fail: npt.NDArray[np.float64]
) -> bool:
    """Whether the ML estimate fails to exist (quasi-complete separation; Albert & Anderson 1984).

    Linear programme after Konis (2007): look for β ≠ 0 with x'β ≥ 0 on every covariate pattern that has a
    responder and x'β ≤ 0 on every one that has a non-responder, with some inequality strict.
    """
    rows = np.vstack([x[succ > 0], -x[fail > 0]])
    p = x.shape[1]
    res = optimize.linprog(
        c=-rows.sum(axis=0), A_ub=-rows, b_ub=np.zeros(rows.shape[0]), bounds=[(-1, 1)] * p, method="highs"
    )
    return bool(res.status == 0 and -res.fun > 1e-7)


def logistic_treatment(
    treated: npt.ArrayLike,
    responder: npt.ArrayLike,
    covariates: Sequence[npt.ArrayLike] = (),
    names: Sequence[str] = (),
    conf: float = CONF_LEVEL,
) -> LogisticResult:
    """Treatment odds ratio from ``glm(responder ~ treatment + strata…, family = binomial)`` (statsmodels).

    Covariates enter as categorical main effects (first level in sorted order as reference; the
    treatment coefficient does not depend on that choice). The model is fitted on covariate patterns
    with binomial counts, which gives the same estimates as the patient-level fit. Wald interval and
    p-value, as R's ``confint.default`` and ``summary.glm``.
    """
    import pandas as pd
    import statsmodels.api as sm

    trt = np.asarray(treated, dtype=np.float64)
    y = np.asarray(responder, dtype=np.float64)
    cov_names = list(names) if names else [f"x{i}" for i in range(len(covariates))]
    # covariate patterns: one integer key per (treatment, covariate levels), then binomial counts per key
    key = trt.astype(np.int64)
    codes: list[npt.NDArray[np.int64]] = []
    sizes: list[int] = []
    for col in covariates:
        c, u = pd.factorize(np.asarray(col), sort=True)
        codes.append(c.astype(np.int64))
        sizes.append(max(len(u), 1))
        key = key * sizes[-1] + codes[-1]
    uniq, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    count = np.bincount(inverse, minlength=uniq.size).astype(np.float64)
    succ = np.bincount(inverse, weights=y, minlength=uniq.size).astype(np.float64)
    fail = count - succ
    columns = [np.ones(uniq.size), trt[first]]
    for c, size in zip(codes, sizes, strict=True):
        columns.extend((c[first] == lev).astype(np.float64) for lev in range(1, size))
    x = np.column_stack(columns)
    if np.linalg.matrix_rank(x) < x.shape[1]:
        return LogisticResult(
            None,
            (None, None),
            None,
            None,
            None,
            cov_names,
            "design not of full rank (a stratum level coincides with an arm or another level)",
        )
    if _separated(x, succ, fail):
        return LogisticResult(
            None,
            (None, None),
            None,
            None,
            None,
            cov_names,
            "separation: the maximum-likelihood estimate does not exist (zero or all-responder cells)",
        )
    model = sm.GLM(np.column_stack([succ, fail]), x, family=sm.families.Binomial())
    with warnings.catch_warnings():
        # aggregated fits are often saturated: statsmodels then warns about "perfect prediction" and a zero
        # residual df, neither of which matters for the binomial (scale 1); separation is checked above.
        warnings.simplefilter("ignore")
        fit = model.fit(tol=1e-12, maxiter=100)
    beta, se = float(fit.params[1]), float(fit.bse[1])
    z = _z(conf)
    p = float(2 * sps.norm.sf(abs(beta / se)))
    return LogisticResult(
        math.exp(beta), (math.exp(beta - z * se), math.exp(beta + z * se)), p, beta, se, cov_names
    )


# --- multiple imputation --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pooled:
    """Rubin's (1987) rules: Q̄, T = Ū + (1 + 1/M) B, df (Rubin 1987), t interval."""

    estimate: float
    variance: float
    within: float
    between: float
    df: float | None
    ci: tuple[float, float]
    m: int


def rubin(estimates: Sequence[float], variances: Sequence[float], conf: float = CONF_LEVEL) -> Pooled:
    q = np.asarray(estimates, dtype=np.float64)
    u = np.asarray(variances, dtype=np.float64)
    m = int(q.size)
    qbar, ubar = float(q.mean()), float(u.mean())
    b = float(q.var(ddof=1)) if m > 1 else 0.0
    total = ubar + (1.0 + 1.0 / m) * b
    if b > 0:
        r = (1.0 + 1.0 / m) * b / ubar if ubar > 0 else math.inf
        df: float | None = (m - 1) * (1.0 + 1.0 / r) ** 2 if math.isfinite(r) else float(m - 1)
        crit = float(sps.t.ppf(0.5 + conf / 2.0, df))
    else:
        df, crit = None, _z(conf)
    half = crit * math.sqrt(total)
    return Pooled(qbar, total, ubar, b, df, (qbar - half, qbar + half), m)


def rubin_p_value(pooled: Pooled) -> float | None:
    if pooled.variance <= 0:
        return None
    t = pooled.estimate / math.sqrt(pooled.variance)
    return float(2 * (sps.t.sf(abs(t), pooled.df) if pooled.df is not None else sps.norm.sf(abs(t))))


def d2_chisq(statistics: Sequence[float], k: int) -> tuple[float, float | None, float]:
    """Combine chi-square statistics across imputations: D2 of Li, Meng, Raghunathan & Rubin (1991).

    Returns (D2, denominator df or None for infinite, p-value) for an F(k, df) reference.
    """
    d = np.asarray(statistics, dtype=np.float64)
    m = int(d.size)
    r = (1.0 + 1.0 / m) * float(np.sqrt(d).var(ddof=1)) if m > 1 else 0.0
    d2 = (float(d.mean()) / k - (m + 1.0) / (m - 1.0) * r) / (1.0 + r) if m > 1 else float(d.mean()) / k
    d2 = max(d2, 0.0)
    if r > 0:
        df2 = k ** (-3.0 / m) * (m - 1.0) * (1.0 + 1.0 / r) ** 2
        return d2, df2, float(sps.f.sf(d2, k, df2))
    return d2, None, float(sps.chi2.sf(d2 * k, k))
