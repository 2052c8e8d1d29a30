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
