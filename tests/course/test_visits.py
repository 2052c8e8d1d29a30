"""A visit checked against its course (issue 14): the week from the date, follow-ups not before the
start, a second visit in one week flagged, an empty map only as an explicit "no depigmentation"."""

from __future__ import annotations

import datetime as dt

import pytest

from repigment.course import CourseError, check_assessed, place_visit

START = dt.date(2026, 1, 5)


def test_week_is_computed_from_the_date() -> None:
    assert place_visit(START, START, follow_up=True).week == 0
    assert place_visit(START + dt.timedelta(days=52 * 7 + 6), START, follow_up=True).week == 52
    # a typed week is only a check: within 2 weeks of the date's week it is accepted, the date's is kept
    assert place_visit(START + dt.timedelta(weeks=24), START, follow_up=True, typed_week=26).week == 24
    with pytest.raises(CourseError) as e:
        place_visit(START + dt.timedelta(weeks=24), START, follow_up=True, typed_week=27)
    assert e.value.field == "week" and "week 24 of the course" in e.value.reason


def test_follow_up_before_the_course_start_is_refused() -> None:
    eleven_months_before = START - dt.timedelta(days=335)
    with pytest.raises(CourseError) as e:
        place_visit(eleven_months_before, START, follow_up=True, typed_week=52)
    assert e.value.field == "visited_on" and "before the course started (2026-01-05)" in e.value.reason
    with pytest.raises(CourseError) as e:  # not a follow-up, but a typed week it cannot have
        place_visit(eleven_months_before, START, follow_up=False, typed_week=52)
    assert e.value.field == "week"
    with pytest.raises(CourseError) as e:  # no course at all
        place_visit(eleven_months_before, None, follow_up=False, typed_week=52)
    assert e.value.field == "week"
    # a baseline ahead of the course is a visit, outside the course
    assert place_visit(START - dt.timedelta(days=3), START, follow_up=False).week is None


def test_second_visit_in_the_same_week_is_flagged() -> None:
    placed = place_visit(
        START + dt.timedelta(days=12 * 7 + 3),
        START,
        follow_up=True,
        other_visits_on=[START, START + dt.timedelta(weeks=12), START + dt.timedelta(weeks=13)],
    )
    assert placed.week == 12 and placed.same_week == (START + dt.timedelta(weeks=12),)
    assert placed.flags[0]["flag"] == "same_week" and placed.flags[0]["week"] == 12
    assert (
        place_visit(START + dt.timedelta(weeks=14), START, follow_up=True, other_visits_on=[START]).flags
        == []
    )


def test_an_empty_map_must_say_no_depigmentation() -> None:
    with pytest.raises(CourseError) as e:
        check_assessed([], no_depigmentation=False)
    assert e.value.field == "patches" and "no_depigmentation" in e.value.reason
    check_assessed([], no_depigmentation=True)
    check_assessed([{"region": "face", "hand_units": 1, "depigmentation_percent": 0}], no_depigmentation=True)
    with pytest.raises(CourseError) as e:
        check_assessed(
            [{"region": "face", "hand_units": 1, "depigmentation_percent": 50}], no_depigmentation=True
        )
    assert e.value.field == "no_depigmentation"
