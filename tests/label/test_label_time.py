"""Times in the patient's zone: real elapsed hours across daylight-saving changes, local calendar days.

Europe/Stockholm 2026: clocks go forward on 29 March (02:00 CET → 03:00 CEST) and back on 25 October
(03:00 CEST → 02:00 CET).
"""

from __future__ import annotations

from typing import Any

import pytest

from repigment.label import evaluate

PATIENT = {
    "birth_date": "1980-03-15",
    "sex": "female",
    "diagnosis": "non-segmental",
    "facial_involvement": True,
    "pregnant": False,
    "breastfeeding": False,
    "childbearing_potential": False,
    "hypersensitivity": False,
    "end_stage_renal_disease": False,
}


def req(*ats: str, on: str = "2026-11-26", tz: str = "Europe/Stockholm", **extra: Any) -> dict[str, Any]:
    return {
        "ruleset": "opzelura-eu-2023",
        "on": on,
        "timezone": tz,
        "patient": PATIENT,
        "applications": [{"at": a} for a in ats],
        **extra,
    }


def rules(r: dict[str, Any], rule: str) -> list[Any]:
    return [f for f in evaluate(r).findings if f.rule == rule]


@pytest.mark.parametrize(
    ("previous", "current", "flagged", "hours"),
    [
        # spring forward: 9 h on the wall clock but 8 h of real time → allowed
        ("2026-03-28T23:00:00+01:00", "2026-03-29T08:00:00+02:00", False, 8),
        # spring forward: 8 h 59 min on the wall clock, 7 h 59 min real → flagged
        ("2026-03-28T23:01:00+01:00", "2026-03-29T08:00:00+02:00", True, 7 + 59 / 60),
        # fall back: 7 h on the wall clock, 8 h real → allowed
        ("2026-10-24T23:00:00+02:00", "2026-10-25T06:00:00+01:00", False, 8),
        # fall back: 6 h 59 min on the wall clock, 7 h 59 min real → flagged
        ("2026-10-24T23:01:00+02:00", "2026-10-25T06:00:00+01:00", True, 7 + 59 / 60),
        # the repeated hour: 02:30 CEST and 02:30 CET are one real hour apart
        ("2026-10-25T02:30:00+02:00", "2026-10-25T02:30:00+01:00", True, 1),
        # the same instants written in UTC
        ("2026-03-28T22:00:00Z", "2026-03-29T06:00:00Z", False, 8),
    ],
)
def test_interval_uses_real_time_across_dst(previous: str, current: str, flagged: bool, hours: float) -> None:
    found = rules(req(previous, current), "EU-4.2-interval")
    assert bool(found) is flagged
    if flagged:
        assert found[0].details["hours"] == pytest.approx(hours)
        assert found[0].details["applications"] == [0, 1]


def test_interval_order_of_input_does_not_matter() -> None:
    found = rules(req("2026-11-25T15:00:00+01:00", "2026-11-25T08:00:00+01:00"), "EU-4.2-interval")
    assert len(found) == 1 and found[0].details["hours"] == 7


def test_days_are_local_not_utc() -> None:
    # 00:30 local on 10 June is 22:30 UTC on 9 June: three applications on one local day, two on one UTC day
    three_local = req("2026-06-10T00:30:00+02:00", "2026-06-10T08:30:00+02:00", "2026-06-10T16:30:00+02:00")
    found = rules(three_local, "EU-4.2-frequency")
    assert len(found) == 1
    assert found[0].details["day"] == "2026-06-10" and found[0].details["count"] == 3
    # the same instants for a patient in UTC fall on two days: no finding
    assert rules({**three_local, "timezone": "UTC"}, "EU-4.2-frequency") == []


def test_applications_given_in_another_offset_are_read_in_the_patients_zone() -> None:
    # 23:30 UTC on 25 Nov is 00:30 on 26 Nov in Stockholm
    r = req("2026-11-26T08:00:00+01:00", "2026-11-26T16:00:00+01:00", "2026-11-25T23:30:00Z")
    found = rules(r, "EU-4.2-frequency")
    assert [f.details["day"] for f in found] == ["2026-11-26"]
    assert found[0].details["applications"] == [0, 1, 2]


def test_fall_back_day_has_25_hours_but_still_two_applications() -> None:
    # 25 October has 25 hours: 00:00 CEST, 08:30 CET (9 h 30 min later) and 17:00 CET: three on one day
    r = req("2026-10-25T00:00:00+02:00", "2026-10-25T08:30:00+01:00", "2026-10-25T17:00:00+01:00")
    assert rules(r, "EU-4.2-interval") == []
    assert len(rules(r, "EU-4.2-frequency")) == 1


def test_missed_dose_across_spring_forward() -> None:
    # evening dose (20:00) taken late at 23:30 CET on 28 March: the 08:00 CEST dose is 7 h 30 min later in
    # real time although the wall clock shows 8 h 30 min → skip it
    plan = {"schedule": ["08:00", "20:00"]}
    found = rules(req("2026-03-28T23:30:00+01:00", plan=plan), "EU-PIL-missed-dose")
    assert len(found) == 1
    assert found[0].details["hours_to_next"] == pytest.approx(7.5)
    assert found[0].details["next_dose"] == "2026-03-29T08:00:00+02:00"
    # in November the same wall-clock time is 8 h 30 min before the next dose: not flagged
    assert rules(req("2026-11-24T23:30:00+01:00", plan=plan), "EU-PIL-missed-dose") == []


def test_missed_dose_not_flagged_when_the_slot_was_already_taken() -> None:
    # 08:00 taken on time, a second application at 13:00 is an extra dose (interval rule), not a late one
    plan = {"schedule": ["08:00", "20:00"]}
    r = req("2026-11-25T08:00:00+01:00", "2026-11-25T13:00:00+01:00", plan=plan)
    assert rules(r, "EU-PIL-missed-dose") == []
    assert len(rules(r, "EU-4.2-interval")) == 1


def test_messages_show_local_time_with_offset() -> None:
    found = rules(req("2026-03-28T23:01:00+01:00", "2026-03-29T08:00:00+02:00"), "EU-4.2-interval")
    assert "2026-03-29 08:00+02:00" in found[0].message
    assert "7 h 59 min" in found[0].message
    sv = [f for f in evaluate(req("2026-03-28T23:01:00+01:00", "2026-03-29T08:00:00+02:00"), "sv").findings]
    assert "7 tim 59 min" in sv[0].message
