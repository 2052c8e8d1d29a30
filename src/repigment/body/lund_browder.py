"""Lund–Browder body-surface weights by age, and the fine chart areas a body map is drawn on.

Source: Lund & Browder, Surg Gynecol Obstet 1944;79:352-8, values as tabulated in
docs/reference/instruments.md §4 (B at 10 years corrected to 4.25 so every column sums to 100).

Age handling (a design choice, recorded with every score as ``body_model``): the chart's columns are
anchored at ages 0, 1, 5, 10, 15 and adult; adult is taken to start at ``ADULT_AGE_YEARS`` (18).
Between anchors the age-dependent weights (A, B, C) are interpolated linearly, so weights change
smoothly with age instead of jumping at band edges. A linear blend of columns that each sum to 100
sums to 100 again, which the tests check at every age. Arithmetic is exact (``Fraction``).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Final, Literal

from repigment.body.errors import BodyModelError

BODY_MODEL_VERSION: Final = "lund-browder-1944/linear-interpolation/adult-18/v1"
ADULT_AGE_YEARS: Final = 18
MAX_AGE_YEARS: Final = 130

# Anchor ages and the age-dependent Lund–Browder weights (% BSA):
# A = half of the head (front or back), B = half of one thigh, C = half of one lower leg.
_ANCHOR_AGES: Final = (0, 1, 5, 10, 15, ADULT_AGE_YEARS)
_A: Final = tuple(Fraction(x) for x in ("9.5", "8.5", "6.5", "5.5", "4.5", "3.5"))
_B: Final = tuple(Fraction(x) for x in ("2.75", "3.25", "4.0", "4.25", "4.5", "4.75"))
_C: Final = tuple(Fraction(x) for x in ("2.5", "2.5", "2.75", "3.0", "3.25", "3.5"))

# The F-VASI face is a sub-area of the front of the head: about 3 HU of the adult's 3.5
# (instruments.md §4), eyelids a small part of that. Held as fixed fractions of the head front
# at every age [D]: face without eyelids 2.9/3.5, eyelids 0.1/3.5, rest (front scalp, ears, lips) 0.5/3.5.
FACE_SHARE_OF_HEAD_FRONT: Final = Fraction(29, 35)
EYELIDS_SHARE_OF_HEAD_FRONT: Final = Fraction(1, 35)

VasiRegion = Literal[
    "face", "eyelids", "head_neck", "hands", "upper_extremities", "trunk", "lower_extremities", "feet"
]
VASI_REGIONS: Final[tuple[VasiRegion, ...]] = (
    "face",
    "eyelids",
    "head_neck",
    "hands",
    "upper_extremities",
    "trunk",
    "lower_extremities",
    "feet",
)

View = Literal["front", "back"]
_Weight = Literal["A", "B", "C"] | Fraction


@dataclass(frozen=True, slots=True)
class ChartArea:
    """One drawable area of the body chart: its view, the VASI region it counts toward, and its weight.

    ``weight`` is either a fixed % BSA or the name of an age-dependent Lund–Browder weight (A/B/C),
    optionally scaled by ``share`` (the face and eyelids are shares of the head front).
    """

    name: str
    view: View
    region: VasiRegion
    weight: _Weight
    share: Fraction = Fraction(1)


def _f(x: str) -> Fraction:
    return Fraction(x)


_HEAD_FRONT_REST_SHARE: Final = 1 - FACE_SHARE_OF_HEAD_FRONT - EYELIDS_SHARE_OF_HEAD_FRONT


def _limbs(view: View) -> list[ChartArea]:
    areas: list[ChartArea] = []
    for side in ("left", "right"):
        areas += [
            ChartArea(f"upper_arm_{side}_{view}", view, "upper_extremities", _f("2")),
            ChartArea(f"forearm_{side}_{view}", view, "upper_extremities", _f("1.5")),
            ChartArea(f"hand_{side}_{view}", view, "hands", _f("1.25")),
            ChartArea(f"thigh_{side}_{view}", view, "lower_extremities", "B"),
            ChartArea(f"lower_leg_{side}_{view}", view, "lower_extremities", "C"),
            ChartArea(f"foot_{side}_{view}", view, "feet", _f("1.75")),
        ]
    return areas


CHART_AREAS: Final[tuple[ChartArea, ...]] = (
    ChartArea("face", "front", "face", "A", FACE_SHARE_OF_HEAD_FRONT),
    ChartArea("eyelids", "front", "eyelids", "A", EYELIDS_SHARE_OF_HEAD_FRONT),
    ChartArea("head_front_other", "front", "head_neck", "A", _HEAD_FRONT_REST_SHARE),
    ChartArea("neck_front", "front", "head_neck", _f("1")),
    ChartArea("trunk_front", "front", "trunk", _f("13")),
    ChartArea("genitalia", "front", "lower_extremities", _f("1")),
    *_limbs("front"),
    ChartArea("head_back", "back", "head_neck", "A"),
    ChartArea("neck_back", "back", "head_neck", _f("1")),
    ChartArea("trunk_back", "back", "trunk", _f("13")),
    ChartArea("buttock_left", "back", "lower_extremities", _f("2.5")),
    ChartArea("buttock_right", "back", "lower_extremities", _f("2.5")),
    *_limbs("back"),
)
CHART_AREAS_BY_NAME: Final = {a.name: a for a in CHART_AREAS}


def check_age(age_years: float | Fraction) -> None:
    if isinstance(age_years, bool) or not isinstance(age_years, int | float | Fraction):
        raise BodyModelError("age_years", f"must be a number, got {age_years!r}")
    if not (0 <= age_years <= MAX_AGE_YEARS):
        raise BodyModelError("age_years", f"must be between 0 and {MAX_AGE_YEARS}, got {age_years}")


def age_weights(age_years: float | Fraction) -> dict[str, Fraction]:
    """The age-dependent weights A, B, C (% BSA) at ``age_years``, linearly interpolated between anchors."""
    check_age(age_years)
    age = Fraction(age_years)
    if age >= ADULT_AGE_YEARS:
        return {"A": _A[-1], "B": _B[-1], "C": _C[-1]}
    for i in range(len(_ANCHOR_AGES) - 1):
        lo, hi = _ANCHOR_AGES[i], _ANCHOR_AGES[i + 1]
        if lo <= age <= hi:
            t = (age - lo) / (hi - lo)
            return {k: col[i] + (col[i + 1] - col[i]) * t for k, col in (("A", _A), ("B", _B), ("C", _C))}
    raise AssertionError("unreachable: age checked above")


def area_weight(area: ChartArea | str, age_years: float | Fraction) -> Fraction:
    """% BSA (= hand units, by the 1 HU = 1% convention) of one chart area at this age."""
    a = CHART_AREAS_BY_NAME[area] if isinstance(area, str) else area
    base = age_weights(age_years)[a.weight] if isinstance(a.weight, str) else a.weight
    return base * a.share


def chart_weights(age_years: float | Fraction) -> dict[str, Fraction]:
    """Every chart area's weight at this age (sums to exactly 100)."""
    return {a.name: area_weight(a, age_years) for a in CHART_AREAS}


def region_capacities(age_years: float | Fraction) -> dict[VasiRegion, Fraction]:
    """Hand units each VASI region holds at this age: the sum of its chart areas (sums to exactly 100)."""
    caps: dict[VasiRegion, Fraction] = {r: Fraction(0) for r in VASI_REGIONS}
    for a in CHART_AREAS:
        caps[a.region] += area_weight(a, age_years)
    return caps


def drawn_hand_units(area: str, fraction_painted: float, age_years: float | Fraction) -> Fraction:
    """Hand units of a drawn patch: fraction of the chart area painted × the area's weight at this age.

    Pixels of a flat silhouette do not preserve surface area, so a drawing is converted per area.
    """
    if area not in CHART_AREAS_BY_NAME:
        raise BodyModelError("area", f"unknown chart area {area!r}")
    if isinstance(fraction_painted, bool) or not isinstance(fraction_painted, int | float | Fraction):
        raise BodyModelError("fraction_painted", f"must be a number, got {fraction_painted!r}")
    if not (0 <= fraction_painted <= 1):
        raise BodyModelError("fraction_painted", f"must be between 0 and 1, got {fraction_painted}")
    return Fraction(fraction_painted) * area_weight(area, age_years)
