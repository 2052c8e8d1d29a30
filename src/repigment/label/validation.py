"""Validation of JSON values into typed values: the primitives the label request's parsers are built from.

Every error names the field (``applications[3].at``) and the reason; nothing is silently repaired.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from repigment.dosing import DosingError
from repigment.dosing.ftu import to_decimal
from repigment.label.errors import LabelInputError

# Dates outside this range are typing errors, and keep date arithmetic (+ weeks, + months) in range.
MIN_YEAR: Final = 1900
MAX_YEAR: Final = 2200
_DATE_RE: Final = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME_RE: Final = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def obj(raw: Any, field: str, required: Sequence[str], optional: Sequence[str]) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise LabelInputError(field, "must be a JSON object")
    unknown = set(raw) - set(required) - set(optional)
    if unknown:
        raise LabelInputError(field, f"unknown field(s) {sorted(unknown)}")
    for key in required:
        if key not in raw:
            raise LabelInputError(key if field == "request" else f"{field}.{key}", "is required")
    return raw


def date(raw: Any, field: str) -> dt.date:
    if not isinstance(raw, str) or not _DATE_RE.match(raw):
        raise LabelInputError(field, f"must be a date YYYY-MM-DD, got {raw!r}")
    try:
        value = dt.date.fromisoformat(raw)
    except ValueError as e:
        raise LabelInputError(field, f"is not a valid date: {raw!r}") from e
    _check_year(value.year, field)
    return value


def _check_year(year: int, field: str) -> None:
    if not (MIN_YEAR <= year <= MAX_YEAR):
        raise LabelInputError(field, f"year {year} is outside {MIN_YEAR}–{MAX_YEAR}")


def instant(raw: Any, field: str) -> dt.datetime:
    if not isinstance(raw, str) or len(raw) < 16 or raw[10] not in "Tt ":
        raise LabelInputError(field, f"must be a date-time like 2026-11-25T07:30:00+01:00, got {raw!r}")
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError as e:
        raise LabelInputError(field, f"is not a valid date-time: {raw!r}") from e
    if value.tzinfo is None or value.utcoffset() is None:
        raise LabelInputError(field, f"must include a UTC offset (e.g. +01:00 or Z), got {raw!r}")
    _check_year(value.year, field)
    return value


@functools.cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def time_zone(raw: Any, field: str) -> ZoneInfo:
    """An IANA time zone by name; only names in the installed database (no paths, no odd files)."""
    if not isinstance(raw, str) or raw not in _zone_names():
        raise LabelInputError(field, f"must be an IANA time zone name such as Europe/Stockholm, got {raw!r}")
    try:
        return ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError, OSError) as e:  # pragma: no cover - listed names load
        raise LabelInputError(field, f"cannot load time zone {raw!r}") from e


def boolean(raw: Any, field: str) -> bool:
    if not isinstance(raw, bool):
        raise LabelInputError(field, f"must be true or false, got {raw!r}")
    return raw


def number(raw: Any, field: str, lo: Decimal | None = None, hi: Decimal | None = None) -> Decimal:
    try:
        value = to_decimal(raw, field)
    except DosingError as e:
        raise LabelInputError(field, e.reason) from e
    if lo is not None and value < lo:
        raise LabelInputError(field, f"must be at least {lo}, got {raw}")
    if hi is not None and value > hi:
        raise LabelInputError(field, f"must be at most {hi}, got {raw}")
    return value


def strings(
    raw: Any,
    field: str,
    allowed: frozenset[str] | Sequence[str] | None = None,
    *,
    expected: str | None = None,
) -> tuple[str, ...]:
    """A list of non-empty strings, each in ``allowed`` when given; ``expected`` describes a long
    ``allowed`` in the error (else the sorted values are listed)."""
    if not isinstance(raw, list):
        raise LabelInputError(field, "must be a list of strings")
    out = []
    for i, item in enumerate(raw):
        if not isinstance(item, str) or not item.strip():
            raise LabelInputError(f"{field}[{i}]", f"must be a non-empty string, got {item!r}")
        if allowed is not None and item not in allowed:
            hint = sorted(allowed) if expected is None else expected
            raise LabelInputError(f"{field}[{i}]", f"unknown value {item!r}; expected {hint}")
        out.append(item)
    return tuple(out)


def local_time(raw: Any, field: str) -> dt.time:
    """A local wall-clock time HH:MM (24-hour)."""
    if not isinstance(raw, str) or not _TIME_RE.match(raw):
        raise LabelInputError(field, f"must be a local time HH:MM, got {raw!r}")
    return dt.time.fromisoformat(raw)
