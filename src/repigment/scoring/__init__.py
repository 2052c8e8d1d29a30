"""Scoring: VASI and BSA (exact and vectorised), responders, VNS and VitiQoL (pure)."""

from repigment.scoring.errors import ScoringError
from repigment.scoring.patient_reported import VNS_LABELS, VitiQoL, vitiqol, vns_success
from repigment.scoring.responders import (
    ENDPOINTS,
    F_VASI_THRESHOLDS,
    T_VASI_THRESHOLDS,
    compare_scores,
    is_responder,
    percent_change,
    responder_mask,
)
from repigment.scoring.vasi import (
    CAPACITY_TOLERANCE,
    DEPIGMENTATION_LADDER,
    Patch,
    RegionScore,
    Variant,
    VasiResult,
    exact,
    parse_patch,
    score_assessment,
    score_patches,
)
from repigment.scoring.vectorised import REGION_CODES, score_many

__all__ = [
    "CAPACITY_TOLERANCE",
    "DEPIGMENTATION_LADDER",
    "ENDPOINTS",
    "F_VASI_THRESHOLDS",
    "REGION_CODES",
    "T_VASI_THRESHOLDS",
    "VNS_LABELS",
    "Patch",
    "RegionScore",
    "ScoringError",
    "Variant",
    "VasiResult",
    "VitiQoL",
    "compare_scores",
    "exact",
    "is_responder",
    "parse_patch",
    "percent_change",
    "responder_mask",
    "score_assessment",
    "score_many",
    "score_patches",
    "vitiqol",
    "vns_success",
]
