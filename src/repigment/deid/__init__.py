"""De-identification rules for what analysts see: one implementation for the API, the FHIR export and
the cohort data (pure: values in, values out).

- **Dates become days since the patient's day zero**, the start of their first treatment course (the
  course the outcomes analysis follows), else their first visit. Relative days, rather than dates
  shifted per patient by a secret, because they carry exactly what analysis needs (time on treatment)
  and nothing else: there is no key that could leak, and no value that looks like a real date.
- **Times become days too**: a diary entry's day is the patient's local calendar day of the entry,
  counted the same way; no time of day, no UTC offset and no time zone.
- **Ages are completed years** (and the label's age bands), never fractions: a fractional age next to a
  day count gives the birth date back.
- **No free text**: names, references, notes, instructions, reasons, verbatim adverse-event terms and
  the label's finding messages and details (they quote dates and times) are left out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo

from repigment.body import age_on

AgeGroup = Literal["<18", "18-64", "65+"]

# The keys of a label finding an analyst sees: the message and details quote dates and times.
FINDING_KEYS: Final = ("rule", "severity", "source")
# Course plan keys an analyst sees (``concomitant_topicals`` is free text).
PLAN_KEYS: Final = ("areas", "sites", "applications_per_day", "schedule", "grams_per_application")
# Scores as stored (``VasiResult.as_json``) without the exact age.
SCORE_KEYS: Final = ("f_vasi", "t_vasi", "f_bsa_percent", "t_bsa_percent", "regions", "variant", "body_model")
PATCH_KEYS: Final = ("region", "hand_units", "depigmentation_percent")  # ``area`` is free text


def day_zero(course_starts: Iterable[dt.date], visit_dates: Iterable[dt.date] = ()) -> dt.date | None:
    """The patient's day zero: the earliest course start, else the earliest visit, else none."""
    starts = list(course_starts)
    if starts:
        return min(starts)
    visits = list(visit_dates)
    return min(visits) if visits else None


def study_day(zero: dt.date | None, day: dt.date | None) -> int | None:
    """Days from day zero (negative before it); None without a day zero or a date."""
    if zero is None or day is None:
        return None
    return (day - zero).days


def local_date(at: dt.datetime, timezone: str) -> dt.date:
    """The patient's local calendar day at ``at`` (timezone-aware)."""
    return at.astimezone(ZoneInfo(timezone)).date()


def local_study_day(zero: dt.date | None, at: dt.datetime, timezone: str) -> int | None:
    """The study day of the patient's local calendar day at ``at``."""
    return study_day(zero, local_date(at, timezone))


def completed_years(birth_date: dt.date, on: dt.date) -> int:
    """Age in completed years (``repigment.body.age_on``'s rule for 29 February)."""
    return age_on(birth_date, on)[0]


def age_group(years: float) -> AgeGroup:
    """The bands the label distinguishes: adolescents from 12, adults, older adults."""
    return "<18" if years < 18 else ("18-64" if years < 65 else "65+")


def findings(items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [{k: f.get(k) for k in FINDING_KEYS} for f in items]


def plan(p: Mapping[str, Any]) -> dict[str, Any]:
    return {k: p[k] for k in PLAN_KEYS if k in p}


def scores(s: Mapping[str, Any]) -> dict[str, Any]:
    return {k: s[k] for k in SCORE_KEYS if k in s}


def patches(items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [{k: p[k] for k in PATCH_KEYS if k in p} for p in items]


__all__ = [
    "AgeGroup",
    "FINDING_KEYS",
    "PATCH_KEYS",
    "PLAN_KEYS",
    "SCORE_KEYS",
    "age_group",
    "completed_years",
    "day_zero",
    "findings",
    "local_date",
    "local_study_day",
    "patches",
    "plan",
    "scores",
    "study_day",
]
