"""The posterior of lambda given N and E: Qn, E[log2 lambda], EBGM and the CDF (openEBGM's ``Qn``, ``ebgm``).

The posterior is a mixture of Gamma(a_i+N, b_i+E) with weight Qn on the first component.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy import special

from repigment.signals.mgps.model import FloatArray, Theta, log_nb


def posterior_qn(theta: Theta, n: npt.ArrayLike, e: npt.ArrayLike) -> FloatArray:
    """Qn = P f1(N) / (P f1(N) + (1-P) f2(N)), untruncated marginals, computed in log space."""
    a1, b1, a2, b2, p = theta
    nn = np.asarray(n, dtype=np.float64)
    ee = np.asarray(e, dtype=np.float64)
    d = (math.log1p(-p) + log_nb(nn, ee, a2, b2)) - (math.log(p) + log_nb(nn, ee, a1, b1))
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
