"""evaluate_application: one new diary entry checked against the history, as the API does it."""

from __future__ import annotations

from label_requests import CLEAN

from repigment.label import evaluate_application

HISTORY = [
    {"at": "2026-11-24T08:00:00+01:00", "hand_units": 4, "grams": 1.0},
    {"at": "2026-11-24T20:00:00+01:00", "hand_units": 4, "grams": 1.0},
    {"at": "2026-11-25T08:00:00+01:00", "hand_units": 4, "grams": 1.0},
]
KW = {"ruleset": "opzelura-eu-2023", "timezone": "Europe/Stockholm"}


def test_on_time_entry_has_no_findings() -> None:
    new = {"at": "2026-11-25T20:00:00+01:00", "hand_units": 4, "grams": 1.0}
    result = evaluate_application(HISTORY, new, CLEAN["patient"], **KW)
    assert result.verdict == "ok" and result.findings == []


def test_early_entry_is_flagged_with_its_position() -> None:
    new = {"at": "2026-11-25T15:30:00+01:00", "hand_units": 10.5}
    result = evaluate_application(HISTORY, new, CLEAN["patient"], **KW, lang="sv")
    assert result.verdict == "block"
    assert {f.rule for f in result.findings} == {"EU-4.2-interval", "EU-4.2-max-bsa"}
    assert all(3 in f.applications for f in result.findings)
    assert "timmar" in next(f.message for f in result.findings if f.rule == "EU-4.2-interval")


def test_old_violations_in_the_history_are_not_repeated() -> None:
    history = [*HISTORY, {"at": "2026-11-24T09:00:00+01:00"}]  # already flagged when it was logged
    new = {"at": "2026-11-25T20:00:00+01:00"}
    result = evaluate_application(history, new, CLEAN["patient"], **KW)
    assert result.findings == []


def test_third_entry_of_a_local_day() -> None:
    new = {"at": "2026-11-25T23:59:00+01:00"}
    history = [*HISTORY[:2], {"at": "2026-11-25T00:30:00+01:00"}, {"at": "2026-11-25T12:00:00+01:00"}]
    result = evaluate_application(history, new, CLEAN["patient"], **KW)
    assert [f.rule for f in result.findings] == ["EU-4.2-frequency"]
    assert result.findings[0].details["applications"] == [2, 3, 4]


def test_late_dose_with_schedule_informs() -> None:
    new = {"at": "2026-11-25T13:00:00+01:00"}
    plan = {"schedule": ["08:00", "20:00"]}
    result = evaluate_application(HISTORY[:2], new, CLEAN["patient"], plan=plan, **KW)
    assert [f.rule for f in result.findings] == ["EU-PIL-missed-dose"]
    assert result.verdict == "ok"
