"""A patient's age on a date: completed years for age limits, exact years for the body model."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction


def age_on(birth_date: dt.date, on: dt.date) -> tuple[int, Fraction]:
    """Completed years, and exact age in years (completed years + the elapsed share of the current year).

    A 29 February birthday falls on 1 March in common years (the later reading, so an age limit is never
    reached early).
    """

    def birthday(year: int) -> dt.date:
        try:
            return birth_date.replace(year=year)
        except ValueError:
            return dt.date(year, 3, 1)

    years = on.year - birth_date.year - (1 if on < birthday(on.year) else 0)
    last, nxt = birthday(birth_date.year + years), birthday(birth_date.year + years + 1)
    return years, years + Fraction((on - last).days, (nxt - last).days)
