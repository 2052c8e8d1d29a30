"""The Swedish words: each correction of the catalog and the label messages, and one number style.

Swedish conventions kept here: decimal comma, the minus sign U+2212, a non-breaking space before %,
"applicering" (never "insmörjning") for one application of the cream, "handflator med fingrar" for the
SmPC's unit of area (a palm with its five fingers, SmPC 4.2).
"""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction

import pytest

from repigment.label import RULESETS
from repigment.web import i18n
from repigment.web.labels import area_label

SV = i18n.catalog_messages("sv")


def _swedish_texts() -> list[str]:
    """Every Swedish text a person can read: the catalog and the label rules' Swedish messages."""
    texts = [t for t in SV.values() if t]
    for rs in RULESETS.values():
        texts += [m["sv"] for r in rs.rules for m in r.messages.values()]
    return texts


@pytest.mark.parametrize(
    ("msgid", "swedish"),
    [
        ("Table of prescriptions", "Tabell över recept"),
        ("No flagged entries.", "Inga flaggade registreringar."),
        ("Seriousness", "Allvarlighet"),
        ("Serious", "Allvarlig"),
        ("Eligibility and contraindications", "Lämplighet och kontraindikationer"),
        ("Back", "Baksida"),  # the view of the body map
        (i18n.message_key("Back", "body area"), "Rygg"),  # the chart area trunk_back
        ("Too soon after your last application", "För tidigt efter din förra applicering"),
    ],
)
def test_catalog_corrections(msgid: str, swedish: str) -> None:
    assert SV[msgid] == swedish


def test_the_view_back_and_the_area_back_have_separate_words() -> None:
    t = i18n.translations("sv")
    assert t.gettext("Back") == "Baksida" and t.pgettext("body area", "Back") == "Rygg"
    assert area_label("trunk_back", "sv") == "Rygg" and area_label("trunk_back", "en") == "Back"
    assert area_label("hand_left_back", "sv") == "Hand, vänster, baksida"


def test_hand_sizes_say_the_fingers_are_included() -> None:
    hand_messages = [m for m in SV if "hand size" in m or "hand area" in m]
    assert len(hand_messages) >= 4
    for msgid in hand_messages:
        assert "handflator med fingrar" in SV[msgid], msgid


def test_end_stage_renal_disease_is_terminal_njursvikt() -> None:
    rule = RULESETS["opzelura-eu-2023"].rule("EU-4.2-esrd")
    assert rule.messages["default"]["sv"].startswith("Terminal njursvikt:")
    assert not [t for t in _swedish_texts() if "slutstadi" in t]


def test_one_word_for_an_application() -> None:
    texts = _swedish_texts()
    assert not [t for t in texts if "insmörj" in t.lower()]
    assert len([t for t in texts if "applicering" in t.lower()]) >= 10


def test_a_non_breaking_space_before_percent_in_every_swedish_message() -> None:
    texts = [t.replace("%%", "%") for t in SV.values() if t]
    assert not [t for t in texts if re.search(r"\S %(?!\()", t)]
    assert len([t for t in texts if "\xa0%" in t]) >= 8


def test_numbers_minus_sign_and_percent_follow_the_locale() -> None:
    assert i18n.number(Decimal("4.9"), "sv", 1) == "4,9" and i18n.number(Decimal("4.9"), "en", 1) == "4.9"
    assert i18n.number(Fraction(-3, 2), "sv", 1) == "\u22121,5"
    assert i18n.number(Fraction(-3, 2), "en", 1) == "-1.5"
    assert i18n.percent(Decimal("24.6"), "sv", 1) == "24,6\xa0%"
    assert i18n.percent(-50, "sv") == "\u221250\xa0%"
    assert i18n.percent(25, "en") == "25 %"
    assert i18n.input_number(2.5, "sv") == "2,5" and i18n.input_number(2.5, "en") == "2.5"
    assert i18n.input_number(1234.5, "sv") == "1234,5"  # no grouping in a form field
