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


def test_entry_in_a_second_over_limit_window_is_flagged() -> None:
    # 150 g on 20 Oct and 60 g on 24 Oct: 210 g, the worst window; the new 51 g on 25 Nov is not in it but
    # makes 150 g (20 Nov) + 51 g = 201 g in a later window, so it breaks the limit too
    history = [
        {"at": "2026-10-20T08:00:00+02:00", "grams": 150},
        {"at": "2026-10-24T08:00:00+02:00", "grams": 60},
        {"at": "2026-11-20T08:00:00+01:00", "grams": 150},
    ]
    new = {"at": "2026-11-25T08:00:00+01:00", "grams": 51}
    result = evaluate_application(history, new, CLEAN["patient"], **KW)
    # 150 g + 51 g in November is also over the calendar month's 200 g
    assert [f.rule for f in result.findings] == ["EU-4.2-quantity", "EU-4.2-quantity-month"]
    assert result.findings[1].details["grams"] == 201 and result.findings[1].details["month"] == "2026-11"
    assert result.findings[0].details["grams"] == 210
    assert result.findings[0].details["applications"] == [0, 1, 2, 3]
    new["grams"] = 50  # 200 g: the limit itself
    assert evaluate_application(history, new, CLEAN["patient"], **KW).findings == []
