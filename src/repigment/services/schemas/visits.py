"""Request and response bodies: Visits and their assessments (VASI patches, VNS, VitiQoL)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from repigment.scoring import ScoringError, vitiqol, vns_success
from repigment.services.schemas.common import (
    MAX_LIST,
    Day,
    HandUnits,
    Id,
    In,
    LongText,
    Out,
    Percent,
    Region,
    Text60,
    _day0,
)


class PatchIn(In):
    region: Region
    hand_units: HandUnits
    depigmentation_percent: Literal[0, 10, 25, 50, 75, 90, 100]
    area: Text60 | None = None


class VariantIn(In):
    face_includes_eyelids: bool = False
    t_vasi_includes_head_neck: bool = True


def _scored(fn: Any, *args: Any) -> Any:
    """Validate with the core's instrument scoring (one rule, one place); its reason becomes the message."""
    try:
        return fn(*args)
    except ScoringError as e:
        raise ValueError(e.reason) from e


def _not_whole(v: Any) -> bool:
    """NaN and infinities (JSON allows ``Infinity``) are not answers; the core would not expect them."""
    return isinstance(v, float) and not math.isfinite(v)


class VitiQoLIn(In):
    """VitiQoL answers: items 1–15 (0–6 each) scored by ``repigment.scoring.vitiqol``; item 16 apart."""

    items: list[Any] = Field(description="Answers to items 1–15, each a whole number 0–6")
    item16: Any = Field(None, description="Self-rated severity, 0–6 (not part of the total)")

    @model_validator(mode="after")
    def _score(self) -> VitiQoLIn:
        if isinstance(self.items, list) and any(_not_whole(v) for v in self.items) or _not_whole(self.item16):
            raise PydanticCustomError("vitiqol", "answers must be whole numbers from 0 to 6")
        try:
            vitiqol(self.items, self.item16)
        except ScoringError as e:
            field = e.field.removeprefix("vitiqol.")
            raise PydanticCustomError(
                "vitiqol", "{field}: {reason}", {"field": field, "reason": e.reason}
            ) from e
        return self


class VitiQoLOut(Out):
    items: list[int]
    item16: int | None
    total: int
    participation_limitation: int
    stigma: int
    behaviour: int


class VisitIn(In):
    course_id: Id | None = None
    visited_on: Day
    week: Annotated[int, Field(ge=0, le=520)] | None = Field(
        None,
        description="Deprecated: the week is computed from visited_on and the course start; a week sent "
        "must agree with it (within 2 weeks)",
    )
    patches: Annotated[list[PatchIn], Field(max_length=MAX_LIST)]
    no_depigmentation: bool = Field(
        False,
        description="The assessment found no depigmentation: required (true) for an empty list of patches",
    )
    variant: VariantIn = VariantIn()
    repigmentation_percent: Percent | None = Field(
        None, description="Repigmentation of the treated areas since baseline, for the week-52 decision"
    )
    notes: LongText | None = None
    vns: int | None = Field(
        None,
        description="Vitiligo Noticeability Scale, 1 (more noticeable) to 5 (no longer noticeable); "
        "4–5 is success",
    )
    vitiqol: VitiQoLIn | None = None

    @field_validator("vns", mode="before")
    @classmethod
    def _vns(cls, v: Any) -> Any:
        if _not_whole(v):
            raise ValueError(f"must be a whole number from 1 to 5, got {v!r}")
        if v is not None:
            _scored(vns_success, v)
        return v


class VisitOut(Out):
    id: int
    patient_id: int
    course_id: int | None
    visited_on: dt.date
    week: int | None
    patches: list[dict[str, Any]]
    variant: dict[str, Any]
    age_years: float
    f_vasi: float
    t_vasi: float
    f_bsa_percent: float
    t_bsa_percent: float
    scores: dict[str, Any]
    repigmentation_percent: float | None
    vns: int | None
    vns_success: bool | None = Field(None, description="VNS 4–5 (Batchelor et al. 2016); null without a VNS")
    vitiqol: VitiQoLOut | None = None
    ruleset: str | None
    body_model: str
    notes: str | None
    created_at: dt.datetime
    no_depigmentation: bool = Field(False, description="The assessment found no depigmentation")
    flags: list[dict[str, Any]] = Field(
        default_factory=list,
        description="On a new visit: another visit of the course in the same week (flag same_week)",
    )

    @model_validator(mode="before")
    @classmethod
    def _patient_reported(cls, v: Any) -> Any:
        """Derive VNS success and the VitiQoL scores from the stored answers (never stored twice)."""
        if isinstance(v, dict | BaseModel):  # already an output (the de-identified one, in a union)
            return v
        derived = ("vns_success", "vitiqol", "no_depigmentation", "flags")
        data = {k: getattr(v, k) for k in cls.model_fields if k not in derived}
        data["flags"] = list(getattr(v, "flags", []))
        data["no_depigmentation"] = not any(
            p.get("hand_units") and p.get("depigmentation_percent") for p in v.patches
        )
        if v.vns is not None:
            data["vns_success"] = vns_success(v.vns)
        if v.vitiqol_items is not None:
            q = vitiqol(v.vitiqol_items, v.vitiqol_item16)
            data["vitiqol"] = {
                "items": list(v.vitiqol_items),
                "item16": q.severity_item16,
                "total": q.total,
                "participation_limitation": q.participation_limitation,
                "stigma": q.stigma,
                "behaviour": q.behaviour,
            }
        return data


class VisitDeidentifiedOut(Out):
    """A visit as analysts see it: its day since day zero, the age in completed years, no notes or
    free-text patch labels."""

    id: int
    patient_id: int
    course_id: int | None
    deidentified: Literal[True] = True
    day: int | None = _day0()
    week: int | None
    patches: list[dict[str, Any]]
    variant: dict[str, Any]
    age_years: int = Field(description="Completed years on the visit's day")
    f_vasi: float
    t_vasi: float
    f_bsa_percent: float
    t_bsa_percent: float
    scores: dict[str, Any]
    repigmentation_percent: float | None
    vns: int | None
    vns_success: bool | None = None
    vitiqol: VitiQoLOut | None = None
    ruleset: str | None
    body_model: str
