"""DuMouchel's Multi-item Gamma Poisson Shrinker (MGPS): prior fit, posterior, EBGM and its quantiles.

Model (DuMouchel 1999, Am Stat 53:177; as computed by openEBGM 0.9.1, Canida & Ihrie 2017, R Journal 9/2):
lambda ~ P Gamma(a1, b1) + (1-P) Gamma(a2, b2); N | E is then a mixture of negative binomials
NB(size a_i, prob b_i/(b_i+E)); the posterior of lambda is a mixture of Gamma(a_i+N, b_i+E) with weight Qn.

One module per openEBGM stage: :mod:`.model` (the prior's parameters, a component's marginal),
:mod:`.squash` (``squashData``/``autoSquash``), :mod:`.prior` (``negLLsquash``/``autoHyper``: the fit),
:mod:`.posterior` (``Qn``, ``ebgm``) and :mod:`.quantiles` (``quantBisect`` and the exact quantile).
"""

from repigment.signals.mgps.model import FloatArray, IntArray, Theta
from repigment.signals.mgps.posterior import eb_log2, ebgm, posterior_cdf, posterior_qn
from repigment.signals.mgps.prior import (
    CONSISTENCY_TOLERANCE,
    DEFAULT_STARTS,
    THETA_UPPER,
    FitResult,
    StartResult,
    fit_theta,
    neg_log_lik,
)
from repigment.signals.mgps.quantiles import COMPAT_LIMITS, quantile_exact, quantile_openebgm
from repigment.signals.mgps.squash import (
    SQUASH_ABOVE_POINTS,
    SQUASH_CUT_OFFS,
    SQUASH_KEEP_POINTS,
    SQUASH_SUPER_POINTS,
    auto_squash,
    squash_coarse,
    squash_level,
)

__all__ = [
    "COMPAT_LIMITS",
    "CONSISTENCY_TOLERANCE",
    "DEFAULT_STARTS",
    "SQUASH_ABOVE_POINTS",
    "SQUASH_CUT_OFFS",
    "SQUASH_KEEP_POINTS",
    "SQUASH_SUPER_POINTS",
    "THETA_UPPER",
    "FitResult",
    "FloatArray",
    "IntArray",
    "StartResult",
    "Theta",
    "auto_squash",
    "eb_log2",
    "ebgm",
    "fit_theta",
    "neg_log_lik",
    "posterior_cdf",
    "posterior_qn",
    "quantile_exact",
    "quantile_openebgm",
    "squash_coarse",
    "squash_level",
]
