"""Request and response bodies: Overrides of label findings."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import StringConstraints

from repigment.services.schemas.common import Id, In, LongText, Out, Uuid, _day0


class OverrideIn(In):
    rule: Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")]
    reason: LongText
    course_id: Id | None = None
    application_id: Uuid | None = None


class OverrideOut(Out):
    id: int
    patient_id: int
    course_id: int | None
    application_id: str | None
    rule: str
    reason: str
    user_id: int
    created_at: dt.datetime


class OverrideDeidentifiedOut(Out):
    """An override as analysts see it: which rule, on which day since day zero; no reason."""

    id: int
    patient_id: int
    course_id: int | None
    application_id: str | None
    deidentified: Literal[True] = True
    rule: str
    day: int | None = _day0()
