"""Course milestones: week-24 review, week-52 decision (< 25 % → consider discontinuation), contraception."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from repigment.course import Assessment, CourseError, contraception_until, milestones, week_of

STARTED = dt.date(2025, 11, 20)  # the issue's example


def test_dates_of_the_issue_example() -> None:
    course = milestones(STARTED, dt.date(2026, 11, 26))
    assert course.review.on == dt.date(2026, 5, 7)  # 24 × 7 = 168 days
    assert course.decision.on == dt.date(2026, 11, 19)  # 52 × 7 = 364 days
    assert course.week == 53
    assert [m.status for m in course.schedule] == ["due", "due"]


@pytest.mark.parametrize(
    ("on", "review", "decision"),
    [
        (dt.date(2026, 5, 6), "upcoming", "upcoming"),
        (dt.date(2026, 5, 7), "due", "upcoming"),
        (dt.date(2026, 11, 18), "due", "upcoming"),
        (dt.date(2026, 11, 19), "due", "due"),
    ],
)
def test_status_changes_on_the_day(on: dt.date, review: str, decision: str) -> None:
    course = milestones(STARTED, on)
    assert (course.review.status, course.decision.status) == (review, decision)


@pytest.mark.parametrize(
    ("percent", "decision"),
    [
        ("20", "consider_discontinuation"),
        ("24.9", "consider_discontinuation"),
        ("25", "continue"),
        ("60", "continue"),
    ],
)
def test_week52_decision_threshold(percent: str, decision: str) -> None:
    a = Assessment(dt.date(2026, 11, 19), 52, Decimal(percent))
    course = milestones(STARTED, dt.date(2026, 11, 26), [a])
    assert course.decision.status == "done" and course.review.status == "done"
    assert course.week52_decision == decision


def test_week24_assessment_does_not_settle_week52() -> None:
    a = Assessment(dt.date(2026, 5, 7), 24, Decimal(5))
    course = milestones(STARTED, dt.date(2026, 11, 26), [a])
    assert course.review.status == "done" and course.decision.status == "due"
    assert course.week52_decision is None


def test_contraception_until_last_application_plus_four_weeks() -> None:
    assert contraception_until(dt.date(2026, 11, 25)) == dt.date(2026, 12, 23)
    assert contraception_until(dt.date(2026, 12, 10)) == dt.date(2027, 1, 7)
    course = milestones(STARTED, dt.date(2026, 11, 26), last_application_on=dt.date(2026, 11, 25))
    assert course.contraception_until == dt.date(2026, 12, 23)
    j = course.as_json()
    assert j["contraception_until"] == "2026-12-23" and j["milestones"][0]["on"] == "2026-05-07"


def test_week_of() -> None:
    assert week_of(STARTED, STARTED) == 0
    assert week_of(STARTED, STARTED + dt.timedelta(days=6)) == 0
    assert week_of(STARTED, STARTED + dt.timedelta(days=7)) == 1


def test_ruleset_parameters_pass_through() -> None:
    a = Assessment(dt.date(2026, 11, 19), 52, Decimal(30))
    course = milestones(STARTED, dt.date(2026, 11, 26), [a], discontinue_below_percent=Decimal(50))
    assert course.week52_decision == "consider_discontinuation"


def test_bad_input() -> None:
    with pytest.raises(CourseError) as e:
        milestones(STARTED, dt.date(2025, 1, 1))
    assert e.value.field == "on"
    with pytest.raises(CourseError) as e:
        milestones(STARTED, dt.date(2026, 1, 1), [Assessment(dt.date(2025, 12, 1), 1, Decimal(101))])
    assert e.value.field == "assessments[0].repigmentation_percent"


def test_week52_decision_reads_the_latest_assessment_at_or_after_week_52() -> None:
    """Issue 14: 20 % at week 52 and 80 % at week 60 warned at week 60 (the first assessment was kept)."""
    at52 = Assessment(STARTED + dt.timedelta(weeks=52), 52, Decimal(20))
    at60 = Assessment(STARTED + dt.timedelta(weeks=60), 60, Decimal(80))
    on60 = STARTED + dt.timedelta(weeks=60)
    course = milestones(STARTED, on60, [at60, at52])
    assert course.decision.assessment == at60 and course.week52_decision == "continue"
    # on a day between the two, only the week-52 assessment exists: consider discontinuation
    course = milestones(STARTED, on60 - dt.timedelta(days=1), [at52, at60])
    assert course.decision.assessment == at52 and course.week52_decision == "consider_discontinuation"
    # the week-24 review stays the first assessment at or after week 24
    assert milestones(STARTED, on60, [at52, at60]).review.assessment == at52


def test_typed_repigmentation_is_compared_with_the_scores() -> None:
    from fractions import Fraction

    from repigment.course import check_repigmentation

    # the issue's visit: 60 % typed, F-VASI 0.60 → 2.90 (more depigmentation: −383.3 %)
    c = check_repigmentation(60.0, {"F-VASI": 0.60, "T-VASI": 0.60}, {"F-VASI": 2.90, "T-VASI": 2.90})
    assert c.by_scores["F-VASI"] == Fraction(-1150, 3)  # (0.6 − 2.9) / 0.6 × 100 = −383.33…
    assert c.disagrees
    # within 25 points of one score: they agree (T-VASI 2 → 0.9 is +55 %)
    ok = check_repigmentation(Decimal(60), {"F-VASI": 1, "T-VASI": 2}, {"F-VASI": 1, "T-VASI": 0.9})
    assert ok.by_scores == {"F-VASI": 0, "T-VASI": 55} and not ok.disagrees
    edge = check_repigmentation(
        Decimal(80), {"F-VASI": 1, "T-VASI": 0}, {"F-VASI": Fraction(45, 100), "T-VASI": 0}
    )
    assert (
        edge.by_scores["T-VASI"] is None and edge.by_scores["F-VASI"] == 55 and not edge.disagrees
    )  # 25 exactly
    assert check_repigmentation(
        Decimal("80.01"), {"F-VASI": 1, "T-VASI": 0}, {"F-VASI": 0.45, "T-VASI": 0}
    ).disagrees
