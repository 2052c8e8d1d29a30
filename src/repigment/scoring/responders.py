"""Percent change from baseline and responder status (TRuE-V endpoints), exact at the thresholds.

F-VASIxx / T-VASIxx responder ⇔ (baseline − current) / baseline ≥ xx/100 ("at least", FDA approval
summary for F-VASI75); undefined — ``None``, not ``False`` — when the baseline is 0.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Final

import numpy as np
import numpy.typing as npt

F_VASI_THRESHOLDS: Final = (25, 50, 75, 90)
T_VASI_THRESHOLDS: Final = (50, 75)
ENDPOINTS: Final = {
    **{f"F-VASI{t}": ("f_vasi", t) for t in F_VASI_THRESHOLDS},
    **{f"T-VASI{t}": ("t_vasi", t) for t in T_VASI_THRESHOLDS},
}

# Relative slack for the float (vectorised) path only: absorbs binary rounding of decimal scores
# (≈1e-16 relative) without ever flipping a real difference at VASI's 0.01-HU granularity.
FLOAT_THRESHOLD_SLACK: Final = 1e-9


def percent_change(baseline: Fraction, current: Fraction) -> Fraction | None:
    """(current − baseline) / baseline × 100; negative is improvement; None when baseline is 0."""
    if baseline == 0:
        return None
    return (current - baseline) / baseline * 100


def is_responder(baseline: Fraction, current: Fraction, threshold_percent: int) -> bool | None:
    """Improvement of at least ``threshold_percent``; None (undefined) when the baseline is 0."""
    if baseline == 0:
        return None
    return (baseline - current) * 100 >= baseline * threshold_percent


def responders(
    baseline: Fraction, current: Fraction, thresholds: tuple[int, ...], prefix: str
) -> dict[str, bool | None]:
    return {f"{prefix}{t}": is_responder(baseline, current, t) for t in thresholds}


def comparable(baseline: Any, current: Any, *, rescore: bool = False) -> tuple[Any, Any]:
    """The two scoring results to compare, under one instrument definition.

    A score under another variant (eyelids in the face or not, head and neck in T-VASI or not) or another
    body model measures something else: comparing them reports a change that is only the definition's
    (face 1.0 vs face 1.0 + eyelids 0.1 reads as +10%). Refused, naming the field, unless ``rescore``:
    then the current visit's patches are scored again under the baseline's variant (possible whenever
    the result carries its patches; the body model cannot be changed after the fact).
    """
    from repigment.scoring.errors import ScoringError
    from repigment.scoring.vasi import score_patches

    if baseline.body_model != current.body_model:
        raise ScoringError(
            "body_model",
            f"the baseline was scored with {baseline.body_model} and the current visit with "
            f"{current.body_model}; scores from different body models cannot be compared",
        )
    if baseline.variant != current.variant:
        patched = sum((p.hand_units for p in current.patches), Fraction(0))
        if rescore and patched == sum((r.hand_units for r in current.regions.values()), Fraction(0)):
            current = score_patches(list(current.patches), current.age_years, baseline.variant)
        else:
            raise ScoringError(
                "variant",
                f"the baseline was scored with variant {baseline.variant.as_dict()} and the current visit "
                f"with {current.variant.as_dict()}; score both under one variant (or rescore the current "
                "visit's patches under the baseline's variant)",
            )
    return baseline, current


def compare_scores(baseline: Any, current: Any, *, rescore: bool = False) -> dict[str, Any]:
    """Baseline vs current for F-VASI and T-VASI, as the ``repigment compare`` JSON.

    ``baseline``/``current`` are scoring results (``VasiResult``); both must use one variant and body
    model (see ``comparable``), which the output states.
    """
    baseline, current = comparable(baseline, current, rescore=rescore)
    out: dict[str, Any] = {}
    for key, thresholds, prefix in (
        ("f_vasi", F_VASI_THRESHOLDS, "F-VASI"),
        ("t_vasi", T_VASI_THRESHOLDS, "T-VASI"),
    ):
        b: Fraction = getattr(baseline, key)
        c: Fraction = getattr(current, key)
        pc = percent_change(b, c)
        out[key] = {
            "baseline": float(b),
            "current": float(c),
            "percent_change": None if pc is None else float(pc),
            "responders": responders(b, c, thresholds, prefix),
        }
    out["variant"] = baseline.variant.as_dict()
    out["body_model"] = baseline.body_model
    return out


def responder_mask(
    baseline: npt.ArrayLike, current: npt.ArrayLike, threshold_percent: float
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Vectorised responder status for float scores: (responder, defined).

    ``defined`` is False where the baseline is 0 or either score is missing (NaN); ``responder`` is
    False there. The comparison allows ``FLOAT_THRESHOLD_SLACK`` relative to the baseline so that
    decimal boundary cases (1.2 → 0.3) count as in the exact path.
    """
    b = np.asarray(baseline, dtype=np.float64)
    c = np.asarray(current, dtype=np.float64)
    defined = (b > 0) & np.isfinite(b) & np.isfinite(c)
    with np.errstate(invalid="ignore"):
        lhs = (b - c) * 100.0
        rhs = b * float(threshold_percent) - FLOAT_THRESHOLD_SLACK * b * 100.0
        resp = defined & (lhs >= rhs)
    return resp, defined
