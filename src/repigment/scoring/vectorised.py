"""Vectorised scoring of many assessments at once (NumPy), for analytics over cohorts.

Same formula as :mod:`repigment.scoring.vasi` in float64; the exact path stays the reference and
the tests hold the two to 1e-12 of each other.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from repigment.body import VASI_REGIONS
from repigment.scoring.errors import ScoringError
from repigment.scoring.vasi import DEPIGMENTATION_LADDER, Variant

REGION_CODES: Final = {r: i for i, r in enumerate(VASI_REGIONS)}
_LADDER: Final = np.array(DEPIGMENTATION_LADDER, dtype=np.float64)


def score_many(
    assessment: npt.ArrayLike,
    region_code: npt.ArrayLike,
    hand_units: npt.ArrayLike,
    depigmentation_percent: npt.ArrayLike,
    n_assessments: int | None = None,
    variant: Variant | None = None,
) -> dict[str, npt.NDArray[np.float64]]:
    """Per-assessment F-VASI, T-VASI, F-BSA, T-BSA from flat patch arrays.

    ``assessment`` holds each patch's assessment index (0..n−1), ``region_code`` its index in
    ``VASI_REGIONS``. Capacity checks are the exact path's job; this path validates the ladder, regions
    and signs, and raises naming the first offending patch.
    """
    variant = variant or Variant()
    a = np.asarray(assessment, dtype=np.int64)
    r = np.asarray(region_code, dtype=np.int64)
    hu = np.asarray(hand_units, dtype=np.float64)
    d = np.asarray(depigmentation_percent, dtype=np.float64)
    if not (a.shape == r.shape == hu.shape == d.shape and a.ndim == 1):
        raise ScoringError(
            "patches", "assessment, region_code, hand_units and depigmentation must be equal-length 1-D"
        )
    n = int(a.max()) + 1 if n_assessments is None and a.size else (n_assessments or 0)
    _first_bad(a < 0, "assessment", "negative assessment index")
    _first_bad((r < 0) | (r >= len(VASI_REGIONS)), "region_code", "unknown region code")
    _first_bad(~np.isfinite(hu) | (hu < 0), "hand_units", "must be a finite, non-negative number")
    _first_bad(
        ~np.isin(d, _LADDER),
        "depigmentation_percent",
        f"not on the VASI ladder {list(DEPIGMENTATION_LADDER)}",
    )

    face = {REGION_CODES["face"]} | ({REGION_CODES["eyelids"]} if variant.face_includes_eyelids else set())
    head = {REGION_CODES[x] for x in ("face", "eyelids", "head_neck")}
    in_face = np.isin(r, list(face))
    in_total = np.ones_like(in_face) if variant.t_vasi_includes_head_neck else ~np.isin(r, list(head))
    weighted = hu * (d / 100.0)
    return {
        "f_vasi": _sum_by(a, weights=np.where(in_face, weighted, 0.0), minlength=n),
        "t_vasi": _sum_by(a, weights=np.where(in_total, weighted, 0.0), minlength=n),
        "f_bsa_percent": _sum_by(a, weights=np.where(in_face, hu, 0.0), minlength=n),
        "t_bsa_percent": _sum_by(a, weights=np.where(in_total, hu, 0.0), minlength=n),
    }


def _first_bad(mask: npt.NDArray[np.bool_], field: str, reason: str) -> None:
    if mask.any():
        i = int(np.argmax(mask))
        raise ScoringError(f"patches[{i}].{field}", reason)


def _sum_by(
    index: npt.NDArray[np.int64], weights: npt.NDArray[np.float64], minlength: int
) -> npt.NDArray[np.float64]:
    return np.bincount(index, weights=weights, minlength=minlength).astype(np.float64, copy=False)
