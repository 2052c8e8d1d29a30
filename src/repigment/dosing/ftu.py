"""Fingertip-unit estimate of how much cream a treated area needs, and how long a supply lasts.

Source: DermNet NZ, "Fingertip unit" (https://dermnetnz.org/topics/fingertip-unit), as summarised in
docs/reference/label-rules.md §4: 1 FTU ≈ 0.5 g (adult man), ≈ 0.4 g (adult woman), and one FTU covers
about two hand areas (palm + fingers). With 1 hand area = 1 % BSA (EU SmPC 4.2) that gives
0.25 g per % BSA for a man and 0.20 g for a woman [D]. The adult figures are used at every age: for an
adolescent they overestimate slightly, which errs on the side of the quantity limit.

Arithmetic is ``Decimal`` built from the decimal text of each input, so limits compare exactly.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, InvalidOperation
from fractions import Fraction
from typing import Any, Final, Literal

Sex = Literal["female", "male"]
SEXES: Final[tuple[Sex, ...]] = ("female", "male")

# Grams in one fingertip unit, by sex (DermNet NZ; adult values).
FTU_GRAMS: Final[dict[Sex, Decimal]] = {"male": Decimal("0.5"), "female": Decimal("0.4")}
# Hand areas (palm + five fingers, = % BSA each) one fingertip unit covers.
HAND_AREAS_PER_FTU: Final = Decimal(2)
# Days in the "month" of a monthly quantity: the same 30 days as the label engine's rolling window.
DEFAULT_MONTH_DAYS: Final = 30
DEFAULT_TUBE_GRAMS: Final = Decimal(100)


class DosingError(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def to_decimal(value: Any, field: str) -> Decimal:
    """An input number as an exact Decimal of its decimal text; rejects bools, strings, NaN and infinities."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | Fraction):
        raise DosingError(field, f"must be a number, got {value!r}")
    if isinstance(value, Fraction):
        d = Decimal(value.numerator) / Decimal(value.denominator)
    else:
        try:
            d = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        except InvalidOperation as e:  # pragma: no cover - Decimal(int) cannot fail
            raise DosingError(field, f"must be a number, got {value!r}") from e
    if not d.is_finite():
        raise DosingError(field, f"must be a finite number, got {value!r}")
    return d


def _sex(sex: Any) -> Sex:
    if sex not in SEXES:
        raise DosingError("sex", f"must be one of {list(SEXES)}, got {sex!r}")
    s: Sex = sex
    return s


def grams_per_application(bsa_percent: Any, sex: Any) -> Decimal:
    """Grams of cream for one application to ``bsa_percent`` % BSA (hand areas), by fingertip units."""
    bsa = to_decimal(bsa_percent, "bsa_percent")
    if not (0 <= bsa <= 100):
        raise DosingError("bsa_percent", f"must be between 0 and 100, got {bsa_percent}")
    return bsa / HAND_AREAS_PER_FTU * FTU_GRAMS[_sex(sex)]


def run_out_date(
    dispensed_grams: Decimal, grams_per_app: Decimal, applications_per_day: int, start: dt.date
) -> tuple[dt.date | None, int]:
    """The date of the first application the supply cannot cover in full, and how many it covers.

    Applications are taken in whole amounts, so a supply covers ``floor(dispensed / per application)``
    of them; counted from the first application on ``start`` at ``applications_per_day`` a day. No date
    when nothing is used.
    """
    if grams_per_app == 0:
        return None, 0
    covered = int((dispensed_grams / grams_per_app).to_integral_value(rounding=ROUND_FLOOR))
    try:
        return start + dt.timedelta(days=covered // applications_per_day), covered
    except OverflowError as e:
        raise DosingError("dispensed_grams", "would last beyond the year 9999") from e


@dataclass(frozen=True, slots=True)
class DosePlan:
    """A planned regimen's cream use. Quantities are exact; ``tubes_per_month`` is the whole tubes needed."""

    bsa_percent: Decimal
    sex: Sex
    applications_per_day: int
    grams_per_application: Decimal
    grams_per_day: Decimal
    grams_per_month: Decimal
    month_days: int
    tube_grams: Decimal
    tubes_per_month: int
    dispensed_grams: Decimal | None
    start: dt.date | None
    applications_covered: int | None
    run_out: dt.date | None

    def as_json(self) -> dict[str, Any]:
        def num(d: Decimal | None) -> float | int | None:
            if d is None:
                return None
            return int(d) if d == d.to_integral_value() else float(d)

        return {
            "bsa_percent": num(self.bsa_percent),
            "sex": self.sex,
            "applications_per_day": self.applications_per_day,
            "grams_per_application": num(self.grams_per_application),
            "grams_per_day": num(self.grams_per_day),
            "grams_per_month": num(self.grams_per_month),
            "month_days": self.month_days,
            "tube_grams": num(self.tube_grams),
            "tubes_per_month": self.tubes_per_month,
            "dispensed_grams": num(self.dispensed_grams),
            "start": self.start.isoformat() if self.start else None,
            "applications_covered": self.applications_covered,
            "run_out": self.run_out.isoformat() if self.run_out else None,
            "method": "fingertip unit: 1 FTU = 0.5 g (man) / 0.4 g (woman) per 2 hand areas (DermNet NZ)",
        }


def dose_plan(
    bsa_percent: Any,
    sex: Any,
    applications_per_day: int = 2,
    dispensed_grams: Any = None,
    start: dt.date | None = None,
    *,
    month_days: int = DEFAULT_MONTH_DAYS,
    tube_grams: Any = DEFAULT_TUBE_GRAMS,
) -> DosePlan:
    """Cream use of a regimen and, given a dispensed amount and a start date, when it runs out."""
    if isinstance(applications_per_day, bool) or not isinstance(applications_per_day, int):
        raise DosingError("applications_per_day", f"must be a whole number, got {applications_per_day!r}")
    if applications_per_day < 1:
        raise DosingError("applications_per_day", f"must be at least 1, got {applications_per_day}")
    if isinstance(month_days, bool) or not isinstance(month_days, int) or month_days < 1:
        raise DosingError("month_days", f"must be a whole number of days ≥ 1, got {month_days!r}")
    tube = to_decimal(tube_grams, "tube_grams")
    if tube <= 0:
        raise DosingError("tube_grams", f"must be positive, got {tube_grams}")
    per_app = grams_per_application(bsa_percent, sex)
    per_day = per_app * applications_per_day
    per_month = per_day * month_days
    tubes = int((per_month / tube).to_integral_value(rounding=ROUND_CEILING))
    dispensed: Decimal | None = None
    run_out: dt.date | None = None
    covered: int | None = None
    if dispensed_grams is not None:
        dispensed = to_decimal(dispensed_grams, "dispensed_grams")
        if dispensed < 0:
            raise DosingError("dispensed_grams", f"must not be negative, got {dispensed_grams}")
        if start is None:
            raise DosingError("start", "is required to date the run-out of dispensed cream")
        if not isinstance(start, dt.date) or isinstance(start, dt.datetime):
            raise DosingError("start", f"must be a date, got {start!r}")
        run_out, covered = run_out_date(dispensed, per_app, applications_per_day, start)
    return DosePlan(
        bsa_percent=to_decimal(bsa_percent, "bsa_percent"),
        sex=_sex(sex),
        applications_per_day=applications_per_day,
        grams_per_application=per_app,
        grams_per_day=per_day,
        grams_per_month=per_month,
        month_days=month_days,
        tube_grams=tube,
        tubes_per_month=tubes,
        dispensed_grams=dispensed,
        start=start,
        applications_covered=covered,
        run_out=run_out,
    )
