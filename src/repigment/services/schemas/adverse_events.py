"""Request and response bodies: Adverse events."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Annotated, Literal

from pydantic import Field, model_validator

from repigment.services.schemas.common import Id, In, LongText, Name, Out, PastDay, _day0
from repigment.store import AE_CAUSALITIES, AE_OUTCOMES, SERIOUSNESS_CRITERIA

Seriousness = Literal[
    "death",
    "life_threatening",
    "hospitalisation",
    "disability",
    "congenital_anomaly",
    "other_medically_important",
]
Outcome = Literal["recovered", "recovering", "not_recovered", "recovered_with_sequelae", "fatal", "unknown"]
Causality = Literal["related", "possibly_related", "unlikely_related", "not_related", "not_assessed"]
assert set(SERIOUSNESS_CRITERIA) == set(Seriousness.__args__)  # type: ignore[attr-defined]
assert set(AE_OUTCOMES) == set(Outcome.__args__)  # type: ignore[attr-defined]
assert set(AE_CAUSALITIES) == set(Causality.__args__)  # type: ignore[attr-defined]


class AdverseEventIn(In):
    course_id: Id | None = None
    term: Name
    onset_on: PastDay
    serious: bool = False
    seriousness_criteria: Annotated[list[Seriousness], Field(max_length=6)] = []
    outcome: Outcome = "unknown"
    causality: Causality = "not_assessed"
    description: LongText | None = None

    @model_validator(mode="after")
    def _seriousness(self) -> AdverseEventIn:
        check_seriousness(self.serious, self.seriousness_criteria)
        return self


def check_seriousness(serious: bool | None, criteria: Sequence[str] | None) -> None:
    if criteria is not None and len(set(criteria)) != len(criteria):
        raise ValueError("seriousness_criteria lists a criterion twice")
    if serious is True and criteria is not None and not criteria:
        raise ValueError("a serious event needs at least one seriousness criterion (ICH E2A)")
    if serious is False and criteria:
        raise ValueError("seriousness_criteria given for an event marked not serious")


class AdverseEventPatch(In):
    serious: bool | None = None
    seriousness_criteria: Annotated[list[Seriousness], Field(max_length=6)] | None = None
    outcome: Outcome | None = None
    causality: Causality | None = None
    description: LongText | None = None


class AdverseEventOut(Out):
    id: int
    patient_id: int
    course_id: int | None
    term: str
    onset_on: dt.date
    serious: bool
    seriousness_criteria: list[str]
    outcome: str
    causality: str
    description: str | None
    reporter_role: str
    created_at: dt.datetime
    updated_at: dt.datetime


class AdverseEventDeidentifiedOut(Out):
    """An adverse event as analysts see it: no verbatim term or description (free text), the onset as
    days since day zero."""

    id: int
    patient_id: int
    course_id: int | None
    deidentified: Literal[True] = True
    onset_day: int | None = _day0()
    serious: bool
    seriousness_criteria: list[str]
    outcome: str
    causality: str
    reporter_role: str
