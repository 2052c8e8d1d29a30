"""Bad input: a LabelInputError naming the field, never a silent fix; plan areas through the body model."""

from __future__ import annotations

import copy
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import pytest
from label_requests import ISSUE_EXAMPLE

from repigment.body import area_weight, region_capacities
from repigment.label import LabelInputError, evaluate

Req = dict[str, Any]


def _set(path: str, value: Any) -> Callable[[Req], None]:
    def apply(r: Req) -> None:
        keys = path.split(".")
        target: Any = r
        for k in keys[:-1]:
            target = target[int(k)] if k.isdigit() else target[k]
        last = keys[-1]
        if value is _DELETE:
            del target[last]
        else:
            target[int(last) if last.isdigit() else last] = value

    return apply


_DELETE = object()

BAD = [
    ("ruleset", _set("ruleset", "opzelura-xx"), "ruleset"),
    ("no on", _set("on", _DELETE), "on"),
    ("on format", _set("on", "26/11/2026"), "on"),
    ("no patient", _set("patient", _DELETE), "patient"),
    ("unknown top field", _set("extra", 1), "request"),
    ("birth date missing", _set("patient.birth_date", _DELETE), "patient.birth_date"),
    ("birth date invalid", _set("patient.birth_date", "2010-02-30"), "patient.birth_date"),
    ("year 9999", _set("on", "9999-12-31"), "on"),
    ("year 1", _set("applications.0.at", "0001-01-01T00:00:00+00:00"), "applications[0].at"),
    ("born after on", _set("patient.birth_date", "2027-01-01"), "patient.birth_date"),
    ("sex", _set("patient.sex", "f"), "patient.sex"),
    ("diagnosis", _set("patient.diagnosis", "NSV"), "patient.diagnosis"),
    ("flag not bool", _set("patient.pregnant", "no"), "patient.pregnant"),
    ("flag missing", _set("patient.hypersensitivity", _DELETE), "patient.hypersensitivity"),
    ("timezone unknown", _set("timezone", "Europe/Stockholmm"), "timezone"),
    ("timezone path", _set("timezone", "../etc/passwd"), "timezone"),
    ("timezone missing with log", _set("timezone", _DELETE), "timezone"),
    ("naive time", _set("applications.0.at", "2026-11-25T07:30:00"), "applications[0].at"),
    ("date only", _set("applications.0.at", "2026-11-25"), "applications[0].at"),
    ("application after on", _set("applications.0.at", "2026-11-27T07:30:00+01:00"), "applications[0].at"),
    ("negative grams", _set("applications.0.grams", -1), "applications[0].grams"),
    ("grams as text", _set("applications.0.grams", "1.3"), "applications[0].grams"),
    ("NaN", _set("applications.0.grams", float("nan")), "applications[0].grams"),
    ("hand units over 100", _set("applications.0.hand_units", 101), "applications[0].hand_units"),
    ("unknown site", _set("plan.sites", ["face", "lip"]), "plan.sites[1]"),
    ("unknown region", _set("plan.areas.0.region", "nose"), "plan.areas[0].region"),
    ("over capacity", _set("plan.areas.0.hand_units", 5), "plan.areas[0].hand_units"),
    ("chart area unknown", _set("plan.areas.0", {"area": "ear", "fraction": 1}), "plan.areas[0].area"),
    ("chart fraction", _set("plan.areas.0", {"area": "face", "fraction": 1.5}), "plan.areas[0].fraction"),
    ("per day", _set("plan.applications_per_day", 0), "plan.applications_per_day"),
    ("schedule", _set("plan.schedule", ["8:00"]), "plan.schedule[0]"),
    ("dispensed date", _set("dispensed.0.on", "2026-13-01"), "dispensed[0].on"),
    ("opened before dispensed", _set("dispensed.0.opened_on", "2026-10-01"), "dispensed[0].opened_on"),
    ("course start after on", _set("course.started_on", "2026-12-01"), "course.started_on"),
    ("week mismatch", _set("course.assessments.0.week", 40), "course.assessments[0].week"),
    (
        "repigmentation > 100",
        _set("course.assessments.0.repigmentation_percent", 120),
        "course.assessments[0].repigmentation_percent",
    ),
    (
        "assessment patch",
        _set("assessment", {"patches": [{"region": "face"}]}),
        "assessment.patches[0].hand_units",
    ),
]


@pytest.mark.parametrize(("name", "mutate", "field"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_names_the_field(name: str, mutate: Callable[[Req], None], field: str) -> None:
    r = copy.deepcopy(ISSUE_EXAMPLE)
    mutate(r)
    with pytest.raises(LabelInputError) as e:
        evaluate(r)
    assert e.value.field == field
    assert e.value.reason


def test_request_must_be_an_object() -> None:
    with pytest.raises(LabelInputError) as e:
        evaluate([])  # type: ignore[arg-type]
    assert e.value.field == "request"


@pytest.mark.parametrize("name", ["Europe", "Europe/", "zone.tab", "a" * 300, "\x00", 1, "Stockholm"])
def test_odd_time_zone_names(name: object) -> None:
    r = copy.deepcopy(ISSUE_EXAMPLE)
    r["timezone"] = name
    with pytest.raises(LabelInputError) as e:
        evaluate(r)
    assert e.value.field == "timezone"


def test_unknown_language() -> None:
    with pytest.raises(LabelInputError) as e:
        evaluate(ISSUE_EXAMPLE, "de")
    assert e.value.field == "lang"


def test_trial_ruleset_needs_an_assessment() -> None:
    r = {k: v for k, v in ISSUE_EXAMPLE.items() if k != "assessment"}
    r["ruleset"] = "true-v-entry"
    with pytest.raises(LabelInputError) as e:
        evaluate(r)
    assert e.value.field == "assessment"


def test_chart_areas_convert_by_age() -> None:
    # the face chart area of a 12-year-old holds more % BSA than an adult's (Lund–Browder)
    child = area_weight("face", 12)
    adult = area_weight("face", 40)
    assert child > adult
    for birth, expected in (("2014-11-26", child), ("1980-01-01", adult)):
        r = copy.deepcopy(ISSUE_EXAMPLE)
        r["patient"]["birth_date"] = birth
        r["plan"] = {"areas": [{"area": "face", "fraction": 1}, {"region": "trunk", "hand_units": 7.5}]}
        found = [f for f in evaluate(r).findings if f.rule == "EU-4.2-max-bsa"]
        total = expected + Fraction(15, 2)
        assert bool(found) is (total > 10)
        if found:
            assert found[0].details["bsa_percent"] == pytest.approx(float(total))


def test_region_capacity_depends_on_age() -> None:
    # 3.3 HU of face fits a 12-year-old's face (capacity ≈ 4.0) but not an adult's (2.9, +5 % tolerance)
    r = copy.deepcopy(ISSUE_EXAMPLE)
    r["plan"] = {"areas": [{"region": "face", "hand_units": 3.3}]}
    r["patient"]["birth_date"] = "2014-11-26"
    evaluate(r)
    r["patient"]["birth_date"] = "1980-01-01"
    with pytest.raises(LabelInputError) as e:
        evaluate(r)
    assert e.value.field == "plan.areas[0].hand_units" and "capacity" in e.value.reason


def test_areas_cannot_exceed_the_whole_body() -> None:
    r = copy.deepcopy(ISSUE_EXAMPLE)
    r["patient"]["birth_date"] = "1980-01-01"
    caps = region_capacities(40)
    r["plan"] = {
        "areas": [{"region": k, "hand_units": float(v * Fraction(104, 100))} for k, v in caps.items()]
    }
    with pytest.raises(LabelInputError) as e:
        evaluate(r)
    assert e.value.field == "plan.areas" and "whole body" in e.value.reason


@pytest.mark.parametrize(
    ("born", "on", "years"),
    [
        ("2014-11-27", "2026-11-26", 11),  # the day before the 12th birthday
        ("2014-11-26", "2026-11-26", 12),
        ("2012-02-29", "2024-02-29", 12),  # leap-day birthday in a leap year
        ("2011-02-28", "2023-02-28", 12),
        ("2011-02-28", "2023-02-27", 11),
        ("2008-02-29", "2020-02-28", 11),  # leap year: the birthday is 29 Feb
        ("2009-02-28", "2021-02-28", 12),
        ("2004-02-29", "2017-02-28", 12),  # 29 Feb 2004: the 13th birthday is 1 Mar 2017
        ("2004-02-29", "2017-03-01", 13),
    ],
)
def test_age_in_completed_years(born: str, on: str, years: int) -> None:
    import datetime as dt

    from repigment.body.age import age_on

    got, exact = age_on(dt.date.fromisoformat(born), dt.date.fromisoformat(on))
    assert got == years and years <= exact < years + 1
