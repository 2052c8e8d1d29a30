"""Multiple imputation of the continuous score at the target week (then responder status).

Model (documented in docs/outcomes.md), fitted separately in each arm on the evaluable patients with an
observed value: normal linear regression of the target-week score on an intercept, the baseline score and
the strata as categorical main effects (a level with no observed patient in the arm falls back to the
reference). Each imputation draws the parameters from their posterior under the standard
non-informative prior — σ*² = RSS / χ²(n − p), β* ~ N(β̂, σ*² (XᵀX)⁻¹) — then the missing values as
Xβ* + σ* ε (Rubin 1987, §5.3; the "norm" method). Draws are clipped below at 0, the smallest possible
score; that cannot change responder status. Missing at random given arm, baseline and strata.

Reproducible: one ``numpy.random.default_rng(seed)`` stream, consumed arm by arm (treatment first),
imputation by imputation.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from repigment.outcomes.endpoints import EndpointData
from repigment.outcomes.errors import OutcomesError

DEFAULT_IMPUTATIONS: Final = 20
DEFAULT_SEED: Final = 20220624


def _design(
    data: EndpointData, idx: npt.NDArray[np.int64], fit_rows: npt.NDArray[np.bool_]
) -> npt.NDArray[np.float64]:
    cols = [np.ones(idx.size), data.baseline[idx]]
    for values in data.strata.values():
        v = values[idx]
        levels = sorted(set(v[fit_rows].tolist()))
        cols.extend((v == lev).astype(np.float64) for lev in levels[1:])
    return np.column_stack(cols)


def impute(
    data: EndpointData, m: int = DEFAULT_IMPUTATIONS, seed: int = DEFAULT_SEED
) -> npt.NDArray[np.float64]:
    """``m`` completed copies of ``data.value`` (shape m × patients); observed values are kept."""
    if data.threshold is None:
        raise OutcomesError(
            "missing",
            "multiple imputation models continuous VASI scores; use observed or nri for VNS",
            kind="option",
        )
    if m < 2:
        raise OutcomesError("imputations", f"need at least 2 imputations, got {m}", kind="option")
    rng = np.random.default_rng(seed)
    out = np.repeat(data.value[None, :], m, axis=0)
    for arm in (True, False):
        idx = np.flatnonzero(data.evaluable & (data.treated == arm))
        obs = data.observed[idx]
        if obs.all():
            continue
        x = _design(data, idx, obs)
        xo, yo, xm = x[obs], data.value[idx][obs], x[~obs]
        p = x.shape[1]
        dof = int(obs.sum()) - p
        if dof < 1 or np.linalg.matrix_rank(xo) < p:
            label = "treatment" if arm else "control"
            raise OutcomesError(
                "missing",
                f"the imputation model cannot be fitted in the {label} arm: {int(obs.sum())} observed "
                f"patients for {p} parameters, or collinear baseline/strata",
                kind="input",
            )
        xtx_inv = np.linalg.inv(xo.T @ xo)
        beta = xtx_inv @ (xo.T @ yo)
        rss = float(((yo - xo @ beta) ** 2).sum())
        chol = np.linalg.cholesky(xtx_inv)
        target = idx[~obs]
        for j in range(m):
            sigma2 = rss / rng.chisquare(dof)
            b = beta + np.sqrt(sigma2) * (chol @ rng.standard_normal(p))
            draw = xm @ b + np.sqrt(sigma2) * rng.standard_normal(xm.shape[0])
            out[j, target] = np.maximum(draw, 0.0)
    return out
