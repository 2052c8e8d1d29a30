"""Pharmacovigilance signal detection: counting, PRR/ROR/IC/EBGM, MGPS fit, FAERS ingestion.

Numbers agree with openEBGM 0.9.1 in its compatibility mode (R's rounding, its quantile bisection);
the default mode reports unrounded values and true posterior quantiles.
"""

from repigment.signals.counts import Counts, Semantics, count_long
from repigment.signals.errors import SignalsError
from repigment.signals.measures import disproportionality, prr, relative_reporting_ratio
from repigment.signals.mgps import (
    FitResult,
    Theta,
    auto_squash,
    eb_log2,
    ebgm,
    fit_theta,
    neg_log_lik,
    posterior_cdf,
    posterior_qn,
    quantile_exact,
    quantile_openebgm,
    squash_level,
)
from repigment.signals.rounding import r_round
from repigment.signals.scores import Mode, ebgm_scores, score
from repigment.signals.screening import EMA_MIN_COUNT, Preset, flag, presets

__all__ = [
    "EMA_MIN_COUNT",
    "Counts",
    "FitResult",
    "Mode",
    "Preset",
    "Semantics",
    "SignalsError",
    "Theta",
    "auto_squash",
    "count_long",
    "disproportionality",
    "eb_log2",
    "ebgm",
    "ebgm_scores",
    "fit_theta",
    "flag",
    "neg_log_lik",
    "posterior_cdf",
    "posterior_qn",
    "presets",
    "prr",
    "quantile_exact",
    "quantile_openebgm",
    "r_round",
    "relative_reporting_ratio",
    "score",
    "squash_level",
]
