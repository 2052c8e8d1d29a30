"""Treatment course: week-24 review, week-52 decision, contraception after the last application (pure)."""

from repigment.course.milestones import (
    AGREEMENT_TOLERANCE_POINTS,
    CONTRACEPTION_WEEKS_AFTER_LAST,
    DECISION_WEEK,
    DISCONTINUE_BELOW_PERCENT,
    REVIEW_WEEK,
    Assessment,
    CourseError,
    CourseState,
    Milestone,
    RepigmentationCheck,
    check_repigmentation,
    contraception_until,
    milestones,
    week_of,
)
from repigment.course.visits import WEEK_TOLERANCE, VisitPlacement, check_assessed, place_visit

__all__ = [
    "AGREEMENT_TOLERANCE_POINTS",
    "RepigmentationCheck",
    "check_repigmentation",
    "CONTRACEPTION_WEEKS_AFTER_LAST",
    "DECISION_WEEK",
    "DISCONTINUE_BELOW_PERCENT",
    "REVIEW_WEEK",
    "WEEK_TOLERANCE",
    "Assessment",
    "CourseState",
    "CourseError",
    "Milestone",
    "VisitPlacement",
    "check_assessed",
    "contraception_until",
    "milestones",
    "place_visit",
    "week_of",
]
