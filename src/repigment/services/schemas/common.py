"""What every domain's bodies share: the base models, the value types and their checks.

Unknown fields are refused (422 naming them); every door validates through these models.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
import uuid
import zoneinfo
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

from repigment.dosing import SEXES
from repigment.label.request import DIAGNOSES, SITES

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
    """A day that has come (error type ``future_date``)."""
    if v > dt.date.today():
        raise PydanticCustomError("future_date", "must not be in the future")
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
PastDay = Annotated[Day, AfterValidator(_not_future)]
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


class FindingOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    rule: str
    severity: str
    message: str
    source: str | None = None


class DeidFindingOut(BaseModel):
    """A label finding as analysts see it: which rule, how severe (the message quotes dates and times)."""

    rule: str
    severity: str
    source: str | None = None


def _day0() -> Any:
    return Field(description="Days since the patient's day zero (the first course's start)")


class HealthOut(Out):
    status: Literal["ok"]
