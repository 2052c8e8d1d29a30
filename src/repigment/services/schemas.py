"""Request and response bodies (pydantic v2). Unknown fields are refused (422 naming them)."""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
import uuid
import zoneinfo
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from repigment.deid import AgeGroup
from repigment.dosing import SEXES
from repigment.label.request import DIAGNOSES, SITES
from repigment.scoring import ScoringError, vitiqol, vns_success
from repigment.services import security
from repigment.store import AE_CAUSALITIES, AE_OUTCOMES, COURSE_STATUSES, SERIOUSNESS_CRITERIA

MIN_DATE = dt.date(1900, 1, 1)
MAX_DATE = dt.date(2100, 12, 31)
# How far ahead of the server's clock a time "now" may be (a phone's clock running fast); later is the future.
CLOCK_SKEW = dt.timedelta(minutes=5)
MAX_LIST = 500


def _clean_text(v: str) -> str:
    if "\x00" in v:
        raise ValueError("must not contain NUL characters")
    try:
        v.encode("utf-8")
    except UnicodeEncodeError as e:
        raise ValueError("must be valid Unicode text (it contains a lone surrogate)") from e
    return v


def has_visible(v: str) -> bool:
    """Whether ``v`` has a character that shows: not only spaces, control characters, zero-width
    characters and bidirectional controls (Unicode categories Z*, Cc and Cf)."""
    return any(unicodedata.category(ch)[0] not in "ZC" for ch in v)


def _visible(v: str) -> str:
    if not has_visible(v):
        raise ValueError("must contain a visible character (not only spaces, zero-width or direction marks)")
    return v


def _out_of_range() -> PydanticCustomError:
    """Error type ``date_range`` (the pages word it in their language)."""
    return PydanticCustomError(
        "date_range", "must be between {min} and {max}", {"min": str(MIN_DATE), "max": str(MAX_DATE)}
    )


def _date_range(v: dt.date) -> dt.date:
    if not MIN_DATE <= v <= MAX_DATE:
        raise _out_of_range()
    return v


def _time_range(v: dt.datetime) -> dt.datetime:
    try:
        day = v.astimezone(dt.UTC).date()
    except OverflowError:  # year 1 east of UTC, year 9999 west of it: outside datetime's own range
        day = v.date()
    if not MIN_DATE <= day <= MAX_DATE:
        raise _out_of_range()
    return v


def _not_future_time(v: dt.datetime) -> dt.datetime:
    """A time that has happened (``CLOCK_SKEW`` allowed): error type ``future``."""
    if v > dt.datetime.now(dt.UTC) + CLOCK_SKEW:
        raise PydanticCustomError("future", "must not be in the future")
    return v


def _not_future(v: dt.date) -> dt.date:
    """A day that has come (error type ``future``)."""
    if v > dt.date.today():
        raise PydanticCustomError("future", "must not be in the future")
    return v


def _timezone(v: str) -> str:
    try:
        zoneinfo.ZoneInfo(v)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError) as e:
        raise ValueError(f"unknown time zone {v!r}: use an IANA name such as Europe/Stockholm") from e
    return v


def _uuid(v: str) -> str:
    try:
        return str(uuid.UUID(v))
    except ValueError as e:
        raise ValueError("must be a UUID such as 0b5a3c1e-8f6d-4a71-9a52-4c1d2e3f4a5b") from e


Name = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200),
    AfterValidator(_clean_text),
    AfterValidator(_visible),
]
Short = Annotated[str, StringConstraints(min_length=1, max_length=100), AfterValidator(_clean_text)]
Text40 = Annotated[str, StringConstraints(min_length=1, max_length=40), AfterValidator(_clean_text)]
Text60 = Annotated[str, StringConstraints(min_length=1, max_length=60), AfterValidator(_clean_text)]
Text100 = Short
Text1000 = Annotated[str, StringConstraints(min_length=1, max_length=1000), AfterValidator(_clean_text)]
LongText = Annotated[str, StringConstraints(min_length=1, max_length=5000), AfterValidator(_clean_text)]
Day = Annotated[dt.date, AfterValidator(_date_range)]
BirthDate = Annotated[Day, AfterValidator(_not_future)]
Time = Annotated[AwareDatetime, AfterValidator(_time_range)]
PastTime = Annotated[Time, AfterValidator(_not_future_time)]
Timezone = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64),
    AfterValidator(_clean_text),
    AfterValidator(_timezone),
]
Uuid = Annotated[str, StringConstraints(max_length=36), AfterValidator(_uuid)]
Id = Annotated[int, Field(ge=1, le=2**31 - 1)]
HandUnits = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]
Percent = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]
Grams = Annotated[float, Field(gt=0, le=1000, allow_inf_nan=False)]
Region = Literal[
    "face", "eyelids", "head_neck", "hands", "upper_extremities", "trunk", "lower_extremities", "feet"
]
if TYPE_CHECKING:
    Sex = str
    Diagnosis = str
    Site = str
else:  # the core's own value sets, so the schema (and OpenAPI) can never drift from the label engine
    Sex = Literal[SEXES]
    Diagnosis = Literal[DIAGNOSES]
    Site = Literal[tuple(sorted(SITES))]
Role = Literal["admin", "clinician", "patient", "analyst", "safety_officer"]
Verdict = Literal["ok", "info", "warn", "block"]


class In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# -- authentication ------------------------------------------------------------------------------
class LoginIn(In):
    username: Short
    password: Annotated[str, StringConstraints(min_length=1, max_length=1000), AfterValidator(_clean_text)]


class TokenOut(Out):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: dt.datetime
    password_change_required: bool = Field(
        False, description="A temporary password: only POST /auth/password is allowed until it is changed"
    )


class SessionOut(Out):
    csrf_token: str
    expires_at: dt.datetime
    password_change_required: bool = False


class MeOut(Out):
    id: int
    username: str
    role: Role
    clinic_id: int
    clinic: str
    display_name: str | None
    patient_id: int | None


Username = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.@-]+$")]
NewPassword = Annotated[
    str,
    StringConstraints(min_length=1, max_length=1000),
    AfterValidator(_clean_text),
    Field(description="At least 12 characters, not a common password and not the username"),
]


def _new_password(v: str, username: str | None) -> str:
    problem = security.password_problem(v, username)
    if problem is not None:
        raise ValueError(problem)
    return v


class UserIn(In):
    username: Username
    password: NewPassword
    role: Role
    display_name: Name | None = None
    patient_id: Id | None = Field(
        None, description="For the patient role: the patient record this account reads"
    )

    @field_validator("password")
    @classmethod
    def _policy(cls, v: str, info: ValidationInfo) -> str:
        return _new_password(v, info.data.get("username"))


class UserOut(Out):
    id: int
    username: str
    role: Role
    clinic_id: int
    display_name: str | None
    active: bool
    must_change_password: bool


class PasswordResetOut(Out):
    user: UserOut
    temporary_password: str = Field(
        description="Hand it to the account's owner; it must be changed at the first log-in"
    )
    revoked_sessions: int


class RevokedOut(Out):
    revoked_sessions: int


class PasswordChangeIn(In):
    current_password: Annotated[str, StringConstraints(min_length=1, max_length=1000)]
    new_password: NewPassword


# -- patients ------------------------------------------------------------------------------------
class _PatientFields(In):
    external_ref: Short | None = None
    timezone: Timezone = "UTC"
    diagnosis: Diagnosis = "non-segmental"
    facial_involvement: bool = True
    pregnant: bool = False
    breastfeeding: bool = False
    childbearing_potential: bool = False
    hypersensitivity: bool = False
    end_stage_renal_disease: bool = False


class PatientIn(_PatientFields):
    given_name: Name
    family_name: Name
    birth_date: BirthDate
    sex: Sex


class PatientPatch(In):
    external_ref: Short | None = None
    given_name: Name | None = None
    family_name: Name | None = None
    birth_date: BirthDate | None = None
    sex: Sex | None = None
    timezone: Timezone | None = None
    diagnosis: Diagnosis | None = None
    facial_involvement: bool | None = None
    pregnant: bool | None = None
    breastfeeding: bool | None = None
    childbearing_potential: bool | None = None
    hypersensitivity: bool | None = None
    end_stage_renal_disease: bool | None = None


class PatientOut(Out):
    id: int
    clinic_id: int
    deidentified: Literal[False] = False
    external_ref: str | None
    given_name: str
    family_name: str
    birth_date: dt.date
    sex: Sex
    timezone: str
    diagnosis: str
    facial_involvement: bool
    pregnant: bool
    breastfeeding: bool
    childbearing_potential: bool
    hypersensitivity: bool
    end_stage_renal_disease: bool
    user_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime


class PatientDeidentifiedOut(Out):
    """What analysts see (``repigment.deid``): no names, reference, birth date or time zone; the age in
    completed years on the patient's day zero (their first course's start) and its band."""

    id: int
    clinic_id: int
    deidentified: Literal[True] = True
    age_years: int = Field(description="Completed years on day zero (the first course's start)")
    age_group: AgeGroup
    sex: Sex
    diagnosis: str
    facial_involvement: bool
    pregnant: bool
    breastfeeding: bool
    childbearing_potential: bool
    hypersensitivity: bool
    end_stage_renal_disease: bool


# -- findings ------------------------------------------------------------------------------------
class FindingOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    rule: str
    severity: str
    message: str
    source: str | None = None


# -- courses -------------------------------------------------------------------------------------
class PlanArea(In):
    region: Region
    hand_units: HandUnits


class Plan(In):
    areas: Annotated[list[PlanArea], Field(max_length=50)] = []
    sites: Annotated[list[Site], Field(max_length=20)] = []
    applications_per_day: Annotated[int, Field(ge=1, le=6)] | None = None
    schedule: (
        Annotated[
            list[Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]],
            Field(max_length=6),
        ]
        | None
    ) = Field(None, description="Local times of the applications, HH:MM")
    grams_per_application: Grams | None = None
    concomitant_topicals: Annotated[list[Text100], Field(max_length=20)] | None = None
    prescriber_experienced: bool | None = None


class CourseIn(In):
    ruleset: Annotated[str, StringConstraints(min_length=1, max_length=60, pattern=r"^[a-z0-9.-]+$")] = (
        "opzelura-eu-2023"
    )
    started_on: Day
    plan: Plan = Plan()  # type: ignore[call-arg]


class CoursePatch(In):
    status: Literal["active", "paused", "stopped", "completed"] | None = None
    stopped_on: Day | None = None
    stop_reason: LongText | None = None
    plan: Plan | None = None


RuleId = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")]


class DecisionIn(In):
    """The week-24 or week-52 decision on a course (``repigment.services.course.record_decision``)."""

    milestone: Literal["week-24", "week-52"]
    choice: Literal["continue", "stop"]
    reason: Annotated[str, StringConstraints(max_length=5000), AfterValidator(_clean_text)] = ""
    against: Annotated[list[RuleId], Field(max_length=50)] = []  # label findings continued against


class CourseOut(Out):
    id: int
    patient_id: int
    ruleset: str
    started_on: dt.date
    status: str
    stopped_on: dt.date | None
    stop_reason: str | None
    plan: dict[str, Any]
    verdict: Verdict
    findings: list[FindingOut]
    created_at: dt.datetime
    updated_at: dt.datetime


class DeidFindingOut(BaseModel):
    """A label finding as analysts see it: which rule, how severe (the message quotes dates and times)."""

    rule: str
    severity: str
    source: str | None = None


def _day0() -> Any:
    return Field(description="Days since the patient's day zero (the first course's start)")


class CourseDeidentifiedOut(Out):
    """A course as analysts see it: days since day zero instead of dates, no stop reason."""

    id: int
    patient_id: int
    deidentified: Literal[True] = True
    ruleset: str
    start_day: int | None = _day0()
    status: str
    stopped_day: int | None
    plan: dict[str, Any]
    verdict: Verdict
    findings: list[DeidFindingOut]


assert set(COURSE_STATUSES) == {"active", "paused", "stopped", "completed"}


# -- prescriptions -------------------------------------------------------------------------------
class PrescriptionIn(In):
    course_id: Id | None = None
    prescribed_on: Day
    grams: Grams
    dispensed_on: Day | None = None
    opened_on: Day | None = None
    instructions: LongText | None = None

    @model_validator(mode="after")
    def _order(self) -> PrescriptionIn:
        _check_order(self.prescribed_on, self.dispensed_on, self.opened_on)
        return self


def _check_order(prescribed: dt.date | None, dispensed: dt.date | None, opened: dt.date | None) -> None:
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


# -- visits and assessments ----------------------------------------------------------------------
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


# -- applications (diary) ------------------------------------------------------------------------
class ApplicationIn(In):
    id: Uuid = Field(description="Generated by the client; sending the same entry again never duplicates it")
    at: PastTime = Field(
        description="When the cream was applied, with its UTC offset; not in the future (5 minutes allowed)"
    )
    hand_units: Annotated[float, Field(gt=0, le=100, allow_inf_nan=False)]
    grams: Grams | None = None
    sites: Annotated[list[Site], Field(max_length=20)] = Field(
        [], description="Where it was applied: VASI regions, body-chart areas or other named sites"
    )
    course_id: Id | None = None
    note: Text1000 | None = None


class ApplicationOut(Out):
    id: str
    patient_id: int
    course_id: int | None
    at: dt.datetime
    hand_units: float
    grams: float | None
    sites: list[str]
    note: str | None
    verdict: Verdict
    flagged: bool
    findings: list[FindingOut]
    created_at: dt.datetime


class ApplicationDeidentifiedOut(Out):
    """A diary entry as analysts see it: the patient's local day since day zero, no time, no note."""

    id: str
    patient_id: int
    course_id: int | None
    deidentified: Literal[True] = True
    day: int | None = _day0()
    hand_units: float
    grams: float | None
    sites: list[str]
    verdict: Verdict
    flagged: bool
    findings: list[DeidFindingOut]


# -- adverse events ------------------------------------------------------------------------------
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
    onset_on: Day
    serious: bool = False
    seriousness_criteria: Annotated[list[Seriousness], Field(max_length=6)] = []
    outcome: Outcome = "unknown"
    causality: Causality = "not_assessed"
    description: LongText | None = None

    @model_validator(mode="after")
    def _seriousness(self) -> AdverseEventIn:
        _check_seriousness(self.serious, self.seriousness_criteria)
        return self


def _check_seriousness(serious: bool | None, criteria: Sequence[str] | None) -> None:
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


# -- overrides -----------------------------------------------------------------------------------
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


class DecisionOut(Out):
    course: CourseOut
    overrides: list[OverrideOut]


class HealthOut(Out):
    status: Literal["ok"]
