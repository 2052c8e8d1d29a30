"""A stored finding is worded again in any language from its rule id, message key and values.

The pages show a diary entry's stored findings in the reader's language this way; the text must be
exactly what the engine says in that language when it checks the same request.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from label_requests import ISSUE_EXAMPLE

from repigment.label import RULESETS, evaluate, message_in

# Most of the EU rules at once: plan, log (interval, frequency, missed dose, sites, area), quantity
# used and dispensed, storage, the week-52 rule, patient flags.
BUSY: dict[str, Any] = copy.deepcopy(ISSUE_EXAMPLE)
BUSY["plan"].update(
    schedule=["08:00", "20:00"],
    applications_per_day=3,
    concomitant_topicals=["tacrolimus"],
    prescriber_experienced=False,
    sites=["face", "lips"],
)
BUSY["patient"]["end_stage_renal_disease"] = True
BUSY["applications"] = [
    {"at": "2026-11-24T07:30:00+01:00", "hand_units": 11, "grams": 150, "sites": ["lips"]},
    {"at": "2026-11-24T12:29:59.5+01:00", "hand_units": 2, "grams": 60},
    {"at": "2026-11-24T19:45:00+01:00", "hand_units": 2},
    {"at": "2026-11-25T16:10:00+01:00", "hand_units": 5.0, "grams": 1.3},
]
BUSY["dispensed"] = [
    {"on": "2026-04-01", "grams": 100, "opened_on": "2026-04-01"},
    {"on": "2026-11-01", "grams": 100, "opened_on": "2026-11-01"},
    {"on": "2026-11-02", "grams": 100},
    {"on": "2026-11-03", "grams": 100},
]
US = copy.deepcopy(BUSY) | {"ruleset": "opzelura-us"}
US["patient"]["concomitant_systemic"] = ["jak_inhibitor"]


def _findings(request: dict[str, Any], lang: str) -> list[Any]:
    return evaluate(request, lang).findings


@pytest.mark.parametrize("request_", [BUSY, US], ids=["eu", "us"])
def test_stored_english_findings_are_worded_in_swedish_exactly_as_the_engine_would(
    request_: dict[str, Any],
) -> None:
    english, swedish = _findings(request_, "en"), _findings(request_, "sv")
    assert [f.rule for f in english] == [f.rule for f in swedish]
    assert len({f.rule for f in english}) >= (12 if request_ is BUSY else 5)
    for en, sv in zip(english, swedish, strict=True):
        stored = en.as_json()
        assert stored["message_key"] == en.key
        assert message_in(stored, "sv") == sv.message != en.message
        assert message_in(stored, "en") == en.message
        assert message_in(sv.as_json(), "en") == en.message


@pytest.mark.parametrize("hand_units", [10.0000123, 10.0049999])
def test_a_stored_value_over_a_limit_is_worded_again_rounded_up(hand_units: float) -> None:
    """Worded from its JSON, 10.0000123 % must read 10.01 % as the engine said, never "10.00 %" beside
    "at most 10 %" (the rounding direction is stored with the value)."""
    request = copy.deepcopy(ISSUE_EXAMPLE)
    request["plan"]["areas"] = [{"region": "trunk", "hand_units": hand_units}]
    for lang in ("en", "sv"):
        (finding,) = [f for f in evaluate(request, lang).findings if f.rule == "EU-4.2-max-bsa"]
        assert ("10.01%" if lang == "en" else "10,01\u00a0%") in finding.message
        assert message_in(finding.as_json(), lang) == finding.message


def test_swedish_messages_use_the_swedish_minus_sign_and_a_non_breaking_space_before_percent() -> None:
    texts = [f.message for f in _findings(BUSY, "sv")]
    assert "Repigmenteringen av de behandlade områdena var 20\xa0% vecka 52" in " ".join(texts)
    assert not [t for t in texts if " %" in t]
    from decimal import Decimal

    from repigment.label.text import render

    assert render(Decimal("-2.5"), "sv") == "\u22122,5" and render(Decimal("-2.5"), "en") == "-2.5"


def test_findings_stored_before_message_keys_are_worded_when_the_message_is_clear() -> None:
    english, swedish = _findings(BUSY, "en"), _findings(BUSY, "sv")
    for en, sv in zip(english, swedish, strict=True):
        legacy = {k: v for k, v in en.as_json().items() if k not in ("message_key", "message_types")}
        # two messages with the same values (grams used, grams dispensed): the stored text stays
        ambiguous = en.key in ("used", "dispensed")
        assert message_in(legacy, "sv") == (en.message if ambiguous else sv.message), en.rule
    # an unknown rule, or details missing a value, leave the stored text
    assert message_in({"rule": "XX-1", "message": "kept", "details": {}}, "sv") == "kept"
    week52 = next(f for f in english if f.rule == "EU-4.2-week52").as_json()
    del week52["details"]["repigmentation_percent"]
    assert message_in(week52, "sv") == week52["message"]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 20 * 24 * 3600 * 1000),  # milliseconds into the 20 days
            st.decimals("0.1", "30", places=3),
            st.decimals("0.1", "12", places=2),
        ),
        min_size=2,
        max_size=12,
    ),
    st.sampled_from(["opzelura-eu-2023", "opzelura-us"]),
)
def test_any_diary_is_worded_again_exactly(entries: list[tuple[int, Any, Any]], ruleset: str) -> None:
    start = dt.datetime(2026, 11, 5, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    request = copy.deepcopy(BUSY) | {"ruleset": ruleset}
    request["applications"] = [
        {
            "at": (start + dt.timedelta(milliseconds=ms)).isoformat(),
            "grams": float(grams),
            "hand_units": float(hu),
        }
        for ms, grams, hu in sorted(entries)
    ]
    english, swedish = _findings(request, "en"), _findings(request, "sv")
    for en, sv in zip(english, swedish, strict=True):
        assert message_in(en.as_json(), "sv") == sv.message
        assert message_in(sv.as_json(), "en") == en.message


def test_every_packaged_message_names_only_values_its_check_gives() -> None:
    """Guards the re-wording: every rule has its messages in every language with the same placeholders."""
    from repigment.label.text import placeholders

    for rs in RULESETS.values():
        for rule in rs.rules:
            for texts in rule.messages.values():
                assert placeholders(texts["en"]) == placeholders(texts["sv"]), rule.id
