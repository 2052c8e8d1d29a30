"""F-VASI, T-VASI, F-BSA and T-BSA from a list of patches, in exact arithmetic.

VASI (Hamzavi et al., Arch Dermatol 2004;140:677-683): Σ over patches of hand units × residual
depigmentation fraction, the depigmentation read off a fixed ordinal ladder. 1 hand unit = 1% BSA by
convention (EU SmPC 4.2: "10% BSA = 10 palms with the 5 fingers"). Values are carried as ``Fraction``
built from the decimal text of each input number, so thresholds compare exactly (1.2 → 0.30 is 75%).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any, Final

from repigment.body import BODY_MODEL_VERSION, VASI_REGIONS, VasiRegion, check_age, region_capacities
from repigment.body.errors import BodyModelError
from repigment.scoring.errors import ScoringError

# The only valid residual-depigmentation levels (instruments.md §1): anything else is invalid input.
DEPIGMENTATION_LADDER: Final = (0, 10, 25, 50, 75, 90, 100)

# A region's entered hand units may exceed its age-adjusted capacity by this relative margin before the
# input is rejected: hand-unit estimates are made by eye, the capacities are a chart's averages [D].
CAPACITY_TOLERANCE: Final = Fraction(5, 100)

HAND_UNIT_CONVENTION: Final = "1 HU = palm + 5 digits = 1% BSA"

# The whole body is 100 hand units: T-BSA and T-VASI can never exceed it, whatever each region's margin.
WHOLE_BODY_HAND_UNITS: Final = Fraction(100)

_HEAD_REGIONS: Final = frozenset({"face", "eyelids", "head_neck"})


@dataclass(frozen=True, slots=True)
class Variant:
    """Which definition of the instrument a score uses; recorded with every result.

    ``face_includes_eyelids``: TRuE-V's face excludes eyelids (instruments.md §1); when excluded they
    count toward head/neck. ``t_vasi_includes_head_neck``: whether T-VASI covers the head and neck
    (and so the face); UNCONFIRMED for TRuE-V, default total body.
    """

    face_includes_eyelids: bool = False
    t_vasi_includes_head_neck: bool = True

    def as_dict(self) -> dict[str, bool]:
        return {
            "face_includes_eyelids": self.face_includes_eyelids,
            "t_vasi_includes_head_neck": self.t_vasi_includes_head_neck,
        }


@dataclass(frozen=True, slots=True)
class Patch:
    region: VasiRegion
    hand_units: Fraction
    depigmentation_percent: int


@dataclass(frozen=True, slots=True)
class RegionScore:
    region: VasiRegion
    hand_units: Fraction
    vasi: Fraction
    capacity_hand_units: Fraction
    counts_toward: str


@dataclass(frozen=True, slots=True)
class VasiResult:
    f_vasi: Fraction
    t_vasi: Fraction
    f_bsa_percent: Fraction
    t_bsa_percent: Fraction
    regions: dict[VasiRegion, RegionScore]
    variant: Variant
    age_years: Fraction
    body_model: str = BODY_MODEL_VERSION
    hand_unit_convention: str = HAND_UNIT_CONVENTION
    patches: tuple[Patch, ...] = field(default=())

    def as_json(self) -> dict[str, Any]:
        """Full-precision JSON (floats), the shape the CLI and API print."""
        return {
            "f_vasi": float(self.f_vasi),
            "t_vasi": float(self.t_vasi),
            "f_bsa_percent": float(self.f_bsa_percent),
            "t_bsa_percent": float(self.t_bsa_percent),
            "regions": {
                r: {
                    "hand_units": float(s.hand_units),
                    "vasi": float(s.vasi),
                    "capacity_hand_units": float(s.capacity_hand_units),
                    "counts_toward": s.counts_toward,
                }
                for r, s in self.regions.items()
            },
            "variant": self.variant.as_dict(),
            "age_years": float(self.age_years),
            "body_model": self.body_model,
            "hand_unit_convention": self.hand_unit_convention,
        }


def exact(value: Any, field_name: str) -> Fraction:
    """An input number as the exact Fraction of its decimal text; rejects bools, strings, NaN, infinities."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | Fraction):
        raise ScoringError(field_name, f"must be a number, got {value!r}")
    if isinstance(value, Fraction):
        return value
    try:
        d = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation as e:  # pragma: no cover - Decimal(int) cannot fail
        raise ScoringError(field_name, f"must be a number, got {value!r}") from e
    if not d.is_finite():
        raise ScoringError(field_name, f"must be a finite number, got {value!r}")
    return Fraction(d)


def parse_variant(raw: Any) -> Variant:
    if raw is None:
        return Variant()
    if not isinstance(raw, Mapping):
        raise ScoringError("variant", "must be an object")
    unknown = set(raw) - {"face_includes_eyelids", "t_vasi_includes_head_neck"}
    if unknown:
        raise ScoringError("variant", f"unknown field(s) {sorted(unknown)}")
    values: dict[str, bool] = {}
    for k, v in raw.items():
        if not isinstance(v, bool):
            raise ScoringError(f"variant.{k}", f"must be true or false, got {v!r}")
        values[k] = v
    return Variant(**values)


def parse_patch(raw: Any, index: int) -> Patch:
    where = f"patches[{index}]"
    if not isinstance(raw, Mapping):
        raise ScoringError(where, "must be an object with region, hand_units and depigmentation_percent")
    unknown = set(raw) - {"region", "hand_units", "depigmentation_percent", "area"}
    if unknown:
        raise ScoringError(where, f"unknown field(s) {sorted(unknown)}")
    for key in ("region", "hand_units", "depigmentation_percent"):
        if key not in raw:
            raise ScoringError(f"{where}.{key}", "is required")
    region = raw["region"]
    if region not in VASI_REGIONS:
        raise ScoringError(
            f"{where}.region", f"unknown region {region!r}; expected one of {list(VASI_REGIONS)}"
        )
    hu = exact(raw["hand_units"], f"{where}.hand_units")
    if hu < 0:
        raise ScoringError(f"{where}.hand_units", f"must not be negative, got {raw['hand_units']}")
    depig = raw["depigmentation_percent"]
    depig_exact = exact(depig, f"{where}.depigmentation_percent")
    if depig_exact not in DEPIGMENTATION_LADDER:
        raise ScoringError(
            f"{where}.depigmentation_percent",
            f"{depig} is not on the VASI ladder {list(DEPIGMENTATION_LADDER)}",
        )
    return Patch(region=region, hand_units=hu, depigmentation_percent=int(depig_exact))


def score_patches(
    patches: Sequence[Patch], age_years: float | Fraction, variant: Variant | None = None
) -> VasiResult:
    """Score validated patches for a patient of this age; rejects a region over its capacity."""
    variant = variant or Variant()
    try:
        check_age(age_years)
        caps = region_capacities(age_years)
    except BodyModelError as e:
        raise ScoringError(e.field, e.reason) from e
    hu: dict[VasiRegion, Fraction] = {r: Fraction(0) for r in VASI_REGIONS}
    vasi: dict[VasiRegion, Fraction] = {r: Fraction(0) for r in VASI_REGIONS}
    for p in patches:
        hu[p.region] += p.hand_units
        vasi[p.region] += p.hand_units * Fraction(p.depigmentation_percent, 100)
    for r in VASI_REGIONS:
        limit = caps[r] * (1 + CAPACITY_TOLERANCE)
        if hu[r] > limit:
            first = next(i for i, p in enumerate(patches) if p.region == r)
            raise ScoringError(
                f"patches[{first}].hand_units",
                f"region {r!r} totals {float(hu[r]):g} hand units, more than its capacity of "
                f"{float(caps[r]):.3g} for age {float(age_years):g} "
                f"(tolerance {float(CAPACITY_TOLERANCE):.0%})",
            )
    _check_whole_body(patches)
    face_regions: set[VasiRegion] = {"face", "eyelids"} if variant.face_includes_eyelids else {"face"}
    total_regions = (
        set(VASI_REGIONS) if variant.t_vasi_includes_head_neck else set(VASI_REGIONS) - _HEAD_REGIONS
    )
    regions = {
        r: RegionScore(
            region=r,
            hand_units=hu[r],
            vasi=vasi[r],
            capacity_hand_units=caps[r],
            counts_toward=_counts_toward(r, variant),
        )
        for r in VASI_REGIONS
    }
    return VasiResult(
        f_vasi=sum((vasi[r] for r in face_regions), Fraction(0)),
        t_vasi=sum((vasi[r] for r in total_regions), Fraction(0)),
        f_bsa_percent=sum((hu[r] for r in face_regions), Fraction(0)),
        t_bsa_percent=sum((hu[r] for r in total_regions), Fraction(0)),
        regions=regions,
        variant=variant,
        age_years=Fraction(age_years),
        patches=tuple(patches),
    )


def _check_whole_body(patches: Sequence[Patch]) -> None:
    """Refuse patches totalling more than the whole body (each region may be within its margin while the
    sum is not); the field at fault is the patch that takes the running total past 100."""
    running = Fraction(0)
    for i, p in enumerate(patches):
        running += p.hand_units
        if running > WHOLE_BODY_HAND_UNITS:
            total = sum((q.hand_units for q in patches), Fraction(0))
            raise ScoringError(
                f"patches[{i}].hand_units",
                f"the patches total {float(total):g} hand units, more than the whole body "
                f"({WHOLE_BODY_HAND_UNITS} hand units = 100% BSA): T-BSA and T-VASI cannot exceed 100",
            )


def _counts_toward(region: VasiRegion, variant: Variant) -> str:
    if region == "eyelids":
        return "face" if variant.face_includes_eyelids else "head_neck"
    return region


def score_assessment(data: Any) -> VasiResult:
    """Score the JSON-shaped assessment the CLI and API accept: ``{age_years, variant?, patches}``."""
    if not isinstance(data, Mapping):
        raise ScoringError("assessment", "must be a JSON object with age_years and patches")
    unknown = set(data) - {"age_years", "variant", "patches"}
    if unknown:
        raise ScoringError("assessment", f"unknown field(s) {sorted(unknown)}")
    if "age_years" not in data:
        raise ScoringError("age_years", "is required")
    age = data["age_years"]
    if isinstance(age, bool) or not isinstance(age, int | float):
        raise ScoringError("age_years", f"must be a number, got {age!r}")
    age_exact = exact(age, "age_years")
    variant = parse_variant(data.get("variant"))
    raw_patches = data.get("patches")
    if not isinstance(raw_patches, list):
        raise ScoringError("patches", "must be a list")
    patches = [parse_patch(p, i) for i, p in enumerate(raw_patches)]
    return score_patches(patches, age_exact, variant)


def total_vasi(patches: Iterable[Patch]) -> Fraction:
    """Σ hand units × depigmentation fraction over any patches (the bare VASI formula)."""
    return sum((p.hand_units * Fraction(p.depigmentation_percent, 100) for p in patches), Fraction(0))
