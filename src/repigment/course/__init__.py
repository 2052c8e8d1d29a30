"""Treatment course: week-24 review, week-52 decision, contraception after the last application (pure)."""

from repigment.course.milestones import (
    CONTRACEPTION_WEEKS_AFTER_LAST,
    DECISION_WEEK,
    DISCONTINUE_BELOW_PERCENT,
    REVIEW_WEEK,
    Assessment,
    Course,
    CourseError,
    Milestone,
    contraception_until,
    milestones,
    week_of,
)

__all__ = [
    "CONTRACEPTION_WEEKS_AFTER_LAST",
    "DECISION_WEEK",
    "DISCONTINUE_BELOW_PERCENT",
    "REVIEW_WEEK",
    "Assessment",
    "Course",
    "CourseError",
    "Milestone",
    "contraception_until",
    "milestones",
    "week_of",
]
