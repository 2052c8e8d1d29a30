"""Age on a date: completed years for age limits, exact years for the body model."""

import datetime as dt
from fractions import Fraction

from repigment.body import age_on


def test_completed_and_exact_years() -> None:
    # Born 2010-05-01: on 2026-11-26 16 completed years, plus 209 of the 365 days to the next birthday.
    assert age_on(dt.date(2010, 5, 1), dt.date(2026, 11, 26)) == (16, 16 + Fraction(209, 365))
    assert age_on(dt.date(2014, 11, 26), dt.date(2026, 11, 26)) == (12, Fraction(12))
    assert age_on(dt.date(2014, 11, 27), dt.date(2026, 11, 26))[0] == 11


def test_leap_day_birthday_is_reached_on_1_march_in_common_years() -> None:
    assert age_on(dt.date(2008, 2, 29), dt.date(2020, 2, 28))[0] == 11
    assert age_on(dt.date(2008, 2, 29), dt.date(2020, 2, 29)) == (12, Fraction(12))
    assert age_on(dt.date(2008, 2, 29), dt.date(2021, 2, 28))[0] == 12
    assert age_on(dt.date(2008, 2, 29), dt.date(2021, 3, 1)) == (13, Fraction(13))
