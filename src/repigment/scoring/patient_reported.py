"""Patient-reported instruments: VNS and VitiQoL.

VNS (Batchelor et al., BJD 2016): 1 more noticeable … 5 no longer noticeable; 4–5 is treatment success.
VitiQoL (usdermed.com/clinical-tools/vitiqol): items 1–15 scored 0–6, total 0–90 (higher is worse);
domains participation limitation (1–7), stigma (8–12), behaviour (13–15); item 16 (self-rated
severity, 0–6) is reported separately and is not part of the total.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from repigment.scoring.errors import ScoringError

VNS_LABELS: Final = {
    1: "more noticeable",
    2: "as noticeable",
    3: "slightly less noticeable",
    4: "a lot less noticeable",
    5: "no longer noticeable",
}
VITIQOL_DOMAINS: Final = {
    "participation_limitation": range(1, 8),
    "stigma": range(8, 13),
    "behaviour": range(13, 16),
}


def _integer(value: object, field: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise ScoringError(field, f"must be a whole number from {lo} to {hi}, got {value!r}")
    if not lo <= value <= hi:
        raise ScoringError(field, f"must be from {lo} to {hi}, got {value!r}")
    return int(value)


def vns_success(vns: object) -> bool:
    """VNS 4 or 5 counts as treatment success."""
    return _integer(vns, "vns", 1, 5) >= 4


@dataclass(frozen=True, slots=True)
class VitiQoL:
    total: int
    participation_limitation: int
    stigma: int
    behaviour: int
    severity_item16: int | None


def vitiqol(items: Sequence[object], item16: object | None = None) -> VitiQoL:
    """Score items 1–15 (a sequence of 15 answers, 0–6 each) and the separate severity item 16."""
    if isinstance(items, str | bytes) or len(items) != 15:
        raise ScoringError("vitiqol.items", f"needs exactly 15 answers (items 1–15), got {len(items)}")
    values = [_integer(v, f"vitiqol.items[{i + 1}]", 0, 6) for i, v in enumerate(items)]
    domains = {name: sum(values[i - 1] for i in rng) for name, rng in VITIQOL_DOMAINS.items()}
    return VitiQoL(
        total=sum(values),
        severity_item16=None if item16 is None else _integer(item16, "vitiqol.item16", 0, 6),
        **domains,
    )
