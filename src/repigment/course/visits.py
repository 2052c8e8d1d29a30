"""A visit checked against its course: the one rule every door that records a visit uses.

The week of treatment is computed from the visit date and the course start (``week_of``), never typed:
a typed week is only accepted, for older clients and imported records, when it agrees with the date
(within ``WEEK_TOLERANCE``), and the computed week is what is kept. A follow-up visit (one recorded
against a course, or one that reports repigmentation since baseline) before its course started is
refused. A second visit in the same week of one course is flagged (the analyses keep the last one).
An empty body map is an assessment only when it says so (``no_depigmentation``): an empty map is
otherwise an unfinished form, and counting it as "no depigmentation" would make a responder of it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from repigment.course.milestones import CourseError, week_of

# A typed week may differ from its date's week by this much (visit windows of the trials, ±2 weeks);
# the same tolerance as the label engine's course assessments.
WEEK_TOLERANCE: Final = 2


@dataclass(frozen=True, slots=True)
class VisitPlacement:
    """Where a visit falls in its course: the computed week, and the course's other visits that fall in
    the same week (a second visit in one week is flagged, not refused)."""

    week: int | None
    same_week: tuple[dt.date, ...] = ()

    @property
    def flags(self) -> list[dict[str, Any]]:
        if not self.same_week:
            return []
        return [
            {
                "flag": "same_week",
                "week": self.week,
                "other_visits_on": [d.isoformat() for d in self.same_week],
                "message": (
                    f"Another visit of this course falls in week {self.week} "
                    f"({', '.join(d.isoformat() for d in self.same_week)}): the analyses keep the last one."
                ),
            }
        ]


def place_visit(
    visited_on: dt.date,
    course_started_on: dt.date | None,
    *,
    follow_up: bool,
    typed_week: int | None = None,
    other_visits_on: Sequence[dt.date] = (),
) -> VisitPlacement:
    """The computed week of a visit in its course, refusing what cannot be (``CourseError`` naming the
    field: ``visited_on`` or ``week``).

    ``course_started_on``: the start of the course the visit belongs to (None: no course has started by
    the visit date). ``follow_up``: the visit is recorded against a course or reports repigmentation
    since baseline. ``other_visits_on``: dates of the course's other visits.
    """
    if course_started_on is None:
        if follow_up:
            raise CourseError(
                "visited_on", f"{visited_on} is before any course of treatment started: not a follow-up visit"
            )
        if typed_week is not None:
            raise CourseError(
                "week",
                f"no course had started by {visited_on}, so the visit has no week of treatment "
                "(the week is computed from the visit date and the course start; leave it out)",
            )
        return VisitPlacement(None)
    if visited_on < course_started_on:
        if follow_up:
            raise CourseError(
                "visited_on", f"{visited_on} is before the course started ({course_started_on})"
            )
        if typed_week is not None:
            raise CourseError(
                "week",
                f"{visited_on} is before the course started ({course_started_on}): no week of treatment",
            )
        return VisitPlacement(None)
    week = week_of(course_started_on, visited_on)
    if typed_week is not None and abs(typed_week - week) > WEEK_TOLERANCE:
        raise CourseError(
            "week",
            f"{typed_week} does not match the visit date ({visited_on} is week {week} of the course "
            f"started {course_started_on}); the week is computed from the date, leave it out",
        )
    same = tuple(
        sorted(d for d in other_visits_on if d >= course_started_on and week_of(course_started_on, d) == week)
    )
    return VisitPlacement(week, same)


def check_assessed(patches: Sequence[Any], no_depigmentation: bool) -> None:
    """An empty map is an assessment only when ``no_depigmentation`` says so; the flag cannot contradict
    the patches (``CourseError`` naming ``patches`` or ``no_depigmentation``). ``patches``: mappings or
    objects with ``hand_units`` and ``depigmentation_percent``."""

    def depigmented(p: Any) -> bool:
        get = p.get if isinstance(p, dict) else lambda k: getattr(p, k)
        return bool(get("hand_units")) and bool(get("depigmentation_percent"))

    if no_depigmentation:
        if any(depigmented(p) for p in patches):
            raise CourseError(
                "no_depigmentation", "is true but the patches record depigmentation: leave one of them out"
            )
        return
    if not patches:
        raise CourseError(
            "patches",
            "is empty: an assessment that found no depigmentation must say so (no_depigmentation: true)",
        )
