"""The course of treatment and its decision points.

Sources (docs/reference/label-rules.md §1–2): the week-24 re-evaluation is the US label's (section 2,
stated by secondary sources); the EU SmPC 4.2 says only that satisfactory repigmentation may need more
than 24 weeks. EU SmPC 4.2: if less than 25 % repigmentation of the treated areas is reached at week 52,
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
from fractions import Fraction
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
class CourseState:
    """A course as it stands on a date (what ``milestones`` returns): its week, the week-24 review and the
    week-52 decision with their status, the decision's verdict, the contraception date."""

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


# Typed repigmentation of the treated areas and the repigmentation the scores show are both estimates
# of one thing; further apart than this (percentage points) from every defined score, they disagree and
# the clinician is asked to check. A choice of this project, not from the label or the trials.
AGREEMENT_TOLERANCE_POINTS: Final = Decimal(25)


@dataclass(frozen=True, slots=True)
class RepigmentationCheck:
    """The typed repigmentation beside the repigmentation by the scores since baseline, both signed
    (positive: repigmentation, negative: more depigmentation than at baseline)."""

    typed_percent: Decimal
    by_scores: dict[str, Fraction | None]  # "F-VASI"/"T-VASI": (baseline − current) / baseline × 100
    disagrees: bool
    tolerance_points: Decimal = AGREEMENT_TOLERANCE_POINTS


def check_repigmentation(
    typed_percent: Decimal | float,
    baseline: dict[str, Fraction | float],
    current: dict[str, Fraction | float],
    tolerance_points: Decimal = AGREEMENT_TOLERANCE_POINTS,
) -> RepigmentationCheck:
    """Compare a typed "repigmentation since baseline" with the F-VASI and T-VASI change since baseline.

    ``baseline``/``current``: ``{"F-VASI": score, "T-VASI": score}``. A score with baseline 0 gives no
    repigmentation (None). They disagree when no defined score is within ``tolerance_points`` of the
    typed value (F-VASI 0.60 → 2.90 is −383.3 %, beside 60 % typed: they disagree).
    """
    typed = Decimal(str(typed_percent)) if isinstance(typed_percent, float) else typed_percent
    by: dict[str, Fraction | None] = {}
    for key in ("F-VASI", "T-VASI"):
        b = Fraction(str(baseline[key])) if isinstance(baseline[key], float) else Fraction(baseline[key])
        c = Fraction(str(current[key])) if isinstance(current[key], float) else Fraction(current[key])
        by[key] = None if b == 0 else (b - c) / b * 100
    defined = [v for v in by.values() if v is not None]
    tol = Fraction(tolerance_points)
    disagrees = bool(defined) and all(abs(v - Fraction(typed)) > tol for v in defined)
    return RepigmentationCheck(typed, by, disagrees, tolerance_points)


def week_of(started_on: dt.date, on: dt.date) -> int:
    """Completed treatment weeks on ``on`` (negative before the start)."""
    return (on - started_on).days // 7


def contraception_until(
    last_application_on: dt.date, weeks_after: int = CONTRACEPTION_WEEKS_AFTER_LAST
) -> dt.date:
    """Last day on which contraception is still needed: the last application date + 4 weeks (SmPC 4.6)."""
    return last_application_on + dt.timedelta(weeks=weeks_after)


def _milestone(
    name: str,
    week: int,
    started_on: dt.date,
    on: dt.date,
    assessments: Sequence[Assessment],
    *,
    latest: bool = False,
) -> Milestone:
    """``latest``: the milestone reports the latest assessment at or after its week (the decision is
    taken on the newest evidence: 20 % at week 52 and 80 % at week 60 no longer warns), else the first."""
    due_on = started_on + dt.timedelta(weeks=week)
    at_or_after = [a for a in sorted(assessments, key=lambda a: a.on) if a.week >= week and a.on <= on]
    if at_or_after:
        return Milestone(name, week, due_on, "done", at_or_after[-1] if latest else at_or_after[0])
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
) -> CourseState:
    """Week-24 review and week-52 decision dates with their status on ``on``, and the contraception date.

    A milestone is ``done`` once an assessment at or after its week exists (by ``on``), ``due`` from its
    date on, else ``upcoming``. The decision reads the latest assessment at or after its week:
    repigmentation below the threshold (strictly) means ``consider_discontinuation``; exactly 25 %
    continues.
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
    decision = _milestone(
        f"week-{decision_week} decision", decision_week, started_on, on, assessments, latest=True
    )
    verdict: Decision | None = None
    if decision.assessment is not None:
        below = decision.assessment.repigmentation_percent < discontinue_below_percent
        verdict = "consider_discontinuation" if below else "continue"
    return CourseState(
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
