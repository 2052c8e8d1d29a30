"""Request and response bodies: Prescriptions of the cream."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import model_validator

from repigment.services.schemas.common import Day, Grams, Id, In, LongText, Out, _day0


class PrescriptionIn(In):
    course_id: Id | None = None
    prescribed_on: Day
    grams: Grams
    dispensed_on: Day | None = None
    opened_on: Day | None = None
    instructions: LongText | None = None

    @model_validator(mode="after")
    def _order(self) -> PrescriptionIn:
        check_order(self.prescribed_on, self.dispensed_on, self.opened_on)
        return self


def check_order(prescribed: dt.date | None, dispensed: dt.date | None, opened: dt.date | None) -> None:
    if prescribed and dispensed and dispensed < prescribed:
        raise ValueError("dispensed_on must not be before prescribed_on")
    if dispensed and opened and opened < dispensed:
        raise ValueError("opened_on must not be before dispensed_on")


class PrescriptionPatch(In):
    dispensed_on: Day | None = None
    opened_on: Day | None = None
    instructions: LongText | None = None


class PrescriptionOut(Out):
    id: int
    patient_id: int
    course_id: int | None
    prescribed_on: dt.date
    grams: float
    dispensed_on: dt.date | None
    opened_on: dt.date | None
    instructions: str | None
    created_at: dt.datetime


class PrescriptionDeidentifiedOut(Out):
    """A prescription as analysts see it: days since day zero, no instructions."""

    id: int
    patient_id: int
    course_id: int | None
    deidentified: Literal[True] = True
    prescribed_day: int | None = _day0()
    grams: float
    dispensed_day: int | None
    opened_day: int | None
