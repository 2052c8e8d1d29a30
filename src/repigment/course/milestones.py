"""The course of treatment and its decision points.

Source: EU SmPC 4.2 (docs/reference/label-rules.md §1): satisfactory repigmentation may need more than
24 weeks (the review point); if less than 25 % repigmentation of the treated areas is reached at week 52,
discontinuation should be considered. SmPC 4.6: effective contraception during treatment and for 4 weeks
after the last application; breast-feeding may start about 4 weeks after it.

Weeks count whole 7-day periods from the first application date (``started_on`` is day 0 of week 0).
The defaults are the EU values; a ruleset passes its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final, Literal

REVIEW_WEEK: Final = 24
DECISION_WEEK: Final = 52
DISCONTINUE_BELOW_PERCENT: Final = Decimal(25)
CONTRACEPTION_WEEKS_AFTER_LAST: Final = 4

Status = Literal["upcoming", "due", "done"]
Decision = Literal["continue", "consider_discontinuation"]


class CourseError(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Assessment:
    """Repigmentation of the treated areas (% of depigmented skin regained) at a visit."""

    on: dt.date
    week: int
    repigmentation_percent: Decimal


@dataclass(frozen=True, slots=True)
class Milestone:
    name: str
    week: int
    on: dt.date
    status: Status
    assessment: Assessment | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "week": self.week,
            "on": self.on.isoformat(),
            "status": self.status,
        }
        if self.assessment is not None:
            out["assessment_on"] = self.assessment.on.isoformat()
            out["repigmentation_percent"] = float(self.assessment.repigmentation_percent)
        return out


@dataclass(frozen=True, slots=True)
class Course:
    started_on: dt.date
    on: dt.date
    week: int
    review: Milestone
    decision: Milestone
    week52_decision: Decision | None
    discontinue_below_percent: Decimal
    last_application_on: dt.date | None
    contraception_until: dt.date | None

    @property
    def schedule(self) -> tuple[Milestone, ...]:
        return (self.review, self.decision)

    def as_json(self) -> dict[str, Any]:
        return {
            "started_on": self.started_on.isoformat(),
            "on": self.on.isoformat(),
            "week": self.week,
            "milestones": [m.as_json() for m in self.schedule],
            "week52_decision": self.week52_decision,
            "discontinue_below_percent": float(self.discontinue_below_percent),
            "last_application_on": self.last_application_on.isoformat() if self.last_application_on else None,
            "contraception_until": self.contraception_until.isoformat() if self.contraception_until else None,
        }


def week_of(started_on: dt.date, on: dt.date) -> int:
    """Completed treatment weeks on ``on`` (negative before the start)."""
    return (on - started_on).days // 7


def contraception_until(
    last_application_on: dt.date, weeks_after: int = CONTRACEPTION_WEEKS_AFTER_LAST
) -> dt.date:
    """Last day on which contraception is still needed: the last application date + 4 weeks (SmPC 4.6)."""
    return last_application_on + dt.timedelta(weeks=weeks_after)


def _milestone(
    name: str, week: int, started_on: dt.date, on: dt.date, assessments: Sequence[Assessment]
) -> Milestone:
    due_on = started_on + dt.timedelta(weeks=week)
    done = next((a for a in sorted(assessments, key=lambda a: a.on) if a.week >= week), None)
    if done is not None:
        return Milestone(name, week, due_on, "done", done)
    return Milestone(name, week, due_on, "due" if on >= due_on else "upcoming")


def milestones(
    started_on: dt.date,
    on: dt.date | None = None,
    assessments: Sequence[Assessment] = (),
    last_application_on: dt.date | None = None,
    *,
    review_week: int = REVIEW_WEEK,
    decision_week: int = DECISION_WEEK,
    discontinue_below_percent: Decimal = DISCONTINUE_BELOW_PERCENT,
    contraception_weeks: int = CONTRACEPTION_WEEKS_AFTER_LAST,
) -> Course:
    """Week-24 review and week-52 decision dates with their status on ``on``, and the contraception date.

    A milestone is ``done`` once an assessment at or after its week exists, ``due`` from its date on, else
    ``upcoming``. At the decision, repigmentation below the threshold (strictly) means
    ``consider_discontinuation``; exactly 25 % continues.
    """
    if on is None:  # the only use of the clock: callers that know the date pass it
        on = dt.date.today()
    if on < started_on:
        raise CourseError("on", f"{on} is before the course started ({started_on})")
    for i, a in enumerate(assessments):
        if a.on < started_on:
            raise CourseError(f"assessments[{i}].on", f"{a.on} is before the course started ({started_on})")
        if not (0 <= a.repigmentation_percent <= 100):
            raise CourseError(
                f"assessments[{i}].repigmentation_percent",
                f"must be between 0 and 100, got {a.repigmentation_percent}",
            )
    review = _milestone(f"week-{review_week} review", review_week, started_on, on, assessments)
    decision = _milestone(f"week-{decision_week} decision", decision_week, started_on, on, assessments)
    verdict: Decision | None = None
    if decision.assessment is not None:
        below = decision.assessment.repigmentation_percent < discontinue_below_percent
        verdict = "consider_discontinuation" if below else "continue"
    return Course(
        started_on=started_on,
        on=on,
        week=week_of(started_on, on),
        review=review,
        decision=decision,
        week52_decision=verdict,
        discontinue_below_percent=discontinue_below_percent,
        last_application_on=last_application_on,
        contraception_until=(
            contraception_until(last_application_on, contraception_weeks) if last_application_on else None
        ),
    )
