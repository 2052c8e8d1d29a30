"""evaluate_application (parsed-entry cache, unconcerned findings never worded) gives exactly the findings
of the full path: the ordinary request evaluated by ``evaluate``, filtered to the new entry — on first
use and again from the cache, across DST changes, with bad entries refused the same way."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st
from label_requests import CLEAN

from repigment.label import LabelInputError, evaluate, evaluate_application
from repigment.label import parse as label_parse

ZONES = ("Europe/Stockholm", "America/New_York", "Australia/Lord_Howe", "UTC")
# Windows around DST changes (both directions) and an ordinary stretch.
STARTS = (
    dt.datetime(2026, 3, 27, 12, tzinfo=dt.UTC),
    dt.datetime(2026, 10, 23, 12, tzinfo=dt.UTC),
    dt.datetime(2026, 11, 1, 0, tzinfo=dt.UTC),
    dt.datetime(2026, 3, 6, 0, tzinfo=dt.UTC),
)
SITES = ("face", "hands", "lips", "eyes", "scalp")


@st.composite
def entries(draw: st.DrawFn, zone: str, start: dt.datetime) -> dict[str, Any]:
    at = start + dt.timedelta(minutes=draw(st.integers(0, 60 * 24 * 9)))
    e: dict[str, Any] = {"at": at.astimezone(ZoneInfo(zone)).isoformat()}
    if draw(st.booleans()):
        e["hand_units"] = draw(st.sampled_from([0, 1, 2.5, 3.5, 10.5, 20, -0.0]))
    if draw(st.booleans()):
        e["grams"] = draw(st.sampled_from([0.0, -0.0, 0.9, 1, 30, 60.5, 150]))
    if draw(st.booleans()):
        e["sites"] = draw(st.lists(st.sampled_from(SITES), max_size=2))
        if draw(st.integers(0, 19)) == 0:
            e["sites"].append("nose")  # not a site: refused, never cached
    return e


@st.composite
def cases(draw: st.DrawFn) -> tuple[str, list[dict[str, Any]], dict[str, Any], dict[str, Any] | None, str]:
    zone = draw(st.sampled_from(ZONES))
    start = draw(st.sampled_from(STARTS))
    history = draw(st.lists(entries(zone, start), max_size=25))
    new = draw(entries(zone, start))
    day = dt.datetime.fromisoformat(new["at"]).astimezone(ZoneInfo(zone)).date()
    # the API hands over history up to the new entry's local day; sometimes leave a later entry in
    if draw(st.integers(0, 9)) != 0:
        history = [
            h for h in history if dt.datetime.fromisoformat(h["at"]).astimezone(ZoneInfo(zone)).date() <= day
        ]
    plan = draw(st.sampled_from([None, {"schedule": ["08:00", "20:00"]}, {"grams_per_application": 1.5}]))
    ruleset = draw(st.sampled_from(["opzelura-eu-2023", "opzelura-us"]))
    return zone, history, new, plan, ruleset


def _full(
    history: list[dict[str, Any]], new: dict[str, Any], zone: str, plan: dict[str, Any] | None, ruleset: str
) -> Any:
    """The reference: the whole request through ``evaluate``, then the findings that name the new entry."""
    day = dt.datetime.fromisoformat(new["at"]).astimezone(ZoneInfo(zone)).date()
    req: dict[str, Any] = {
        "ruleset": ruleset,
        "on": day.isoformat(),
        "timezone": zone,
        "patient": CLEAN["patient"],
        "applications": [*history, new],
    }
    if plan is not None:
        req["plan"] = plan
    try:
        result = evaluate(req)
    except LabelInputError as e:
        return ("error", e.field, e.reason)
    return [f.as_json() for f in result.findings if len(history) in f.applications]


def _fast(
    history: list[dict[str, Any]], new: dict[str, Any], zone: str, plan: dict[str, Any] | None, ruleset: str
) -> Any:
    try:
        result = evaluate_application(
            history, new, CLEAN["patient"], ruleset=ruleset, timezone=zone, plan=plan
        )
    except LabelInputError as e:
        return ("error", e.field, e.reason)
    return [f.as_json() for f in result.findings]


@settings(max_examples=150, deadline=None)
@given(cases())
def test_same_findings_as_the_full_path_cold_and_cached(case: Any) -> None:
    zone, history, new, plan, ruleset = case
    label_parse._PARSED.clear()
    expected = _full(history, new, zone, plan, ruleset)
    label_parse._PARSED.clear()
    assert _fast(history, new, zone, plan, ruleset) == expected  # cold
    assert _fast(history, new, zone, plan, ruleset) == expected  # every entry from the cache
    assert _full(history, new, zone, plan, ruleset) == expected  # the full path from the cache too


EU = "opzelura-eu-2023"


def test_cache_keeps_types_apart() -> None:
    """1 and 1.0, 0.0 and -0.0, a list and a string of sites: distinct inputs are never confused."""
    label_parse._PARSED.clear()
    zone = "Europe/Stockholm"
    new = {"at": "2026-11-25T20:00:00+01:00"}
    ok = {"at": "2026-11-25T08:00:00+01:00", "hand_units": 1, "grams": 0.0}
    assert _fast([ok], new, zone, None, EU) == []
    bad = {"at": "2026-11-25T08:00:00+01:00", "hand_units": True, "grams": 0.0}
    assert _fast([bad], new, zone, None, EU)[0] == "error"
    neg = {"at": "2026-11-25T08:00:00+01:00", "hand_units": 1, "grams": -0.0}
    assert _fast([neg], new, zone, None, EU) == _full([neg], new, zone, None, EU)
    unknown = {**ok, "note": "x"}
    assert _fast([unknown], new, zone, None, EU) == (
        "error",
        "applications[0]",
        "unknown field(s) ['note']",
    )
    late = {**ok, "at": "2026-11-26T08:00:00+01:00"}
    _fast([], late, zone, None, EU)  # cached as a new entry on its own day
    assert _fast([late], new, zone, None, EU) == _full([late], new, zone, None, EU)
    assert _fast([late], new, zone, None, EU)[0] == "error"
