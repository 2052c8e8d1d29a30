"""Catalogs: complete, compiled, and locale-formatted numbers and dates."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from repigment.web import i18n

WEB = Path(i18n.__file__).resolve().parent
PLACEHOLDER = re.compile(r"%\([a-z_]+\)s|%%")


def _extracted(tmp_path: Path) -> set[str]:
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            str(Path(sys.executable).with_name("pybabel")),
            "extract",
            "-F",
            str(WEB / "babel.cfg"),
            "-k",
            "N_",
            "-k",
            "NC_:1c,2",
            "--no-location",
            "-o",
            str(pot),
            str(WEB),
        ],
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as f:
        return {i18n.message_key(str(m.id), m.context) for m in read_po(f) if m.id}


def test_every_message_in_the_code_has_a_swedish_translation(tmp_path: Path) -> None:
    wanted = _extracted(tmp_path)
    assert len(wanted) > 200
    sv = i18n.catalog_messages("sv")
    missing = sorted(m for m in wanted if not sv.get(m))
    assert not missing, f"untranslated (run the catalog update in docs/web.md): {missing[:10]}"
    for msgid in wanted:  # the same placeholders on both sides, so formatting never fails
        assert sorted(PLACEHOLDER.findall(msgid)) == sorted(PLACEHOLDER.findall(sv[msgid])), msgid


def test_catalogs_are_compiled_from_their_po_files() -> None:
    """No generated ``.mo`` is kept: a page reads exactly what the ``.po`` says, message for message."""
    assert not list((WEB / "locale").rglob("*.mo"))
    sv = i18n.translations("sv")
    messages = i18n.catalog_messages("sv")
    assert len(messages) > 200
    for msgid, text in messages.items():
        if text:
            assert sv.gettext(msgid) == text, msgid
    assert sv.gettext("My diary") == "Min dagbok"
    assert i18n.translations("en").gettext("My diary") == "My diary"


@pytest.mark.parametrize(
    ("query", "cookie", "accept", "expected"),
    [
        ("sv", "en", "en", "sv"),
        (None, "sv", "en-GB", "sv"),
        (None, None, "sv-SE,sv;q=0.9,en;q=0.8", "sv"),
        (None, None, "de-DE,en;q=0.5", "en"),
        ("xx", "yy", "fr", "en"),
        (None, None, None, "en"),
        (None, None, "en;q=0.1, sv;q=0.9", "sv"),
    ],
)
def test_locale_choice(query: str | None, cookie: str | None, accept: str | None, expected: str) -> None:
    assert i18n.choose_locale(query, cookie, accept) == expected


def test_numbers_round_half_up_from_the_exact_value_and_use_the_locale() -> None:
    assert i18n.number(Fraction(1, 8), "en") == "0.13"  # exact tie: away from zero (the page does the same)
    assert i18n.number(0.125, "sv") == "0,13"
    assert i18n.number(Fraction(29, 200), "en") == "0.15"  # 0.145 exactly; a float would round down
    assert i18n.number(0.14499, "en") == "0.14"
    assert i18n.number(Decimal("1234.5"), "sv", 1) == "1\xa0234,5"
    assert i18n.number(Decimal("1234.5"), "en", 1) == "1,234.5"
    assert i18n.number(-0.005, "en") == "-0.01"
    assert i18n.number(None, "en") == "–"


def test_dates_follow_the_locale() -> None:
    d = dt.date(2026, 3, 1)
    assert i18n.date(d, "sv") == "1 mars 2026"
    assert i18n.date(d, "en") == "Mar 1, 2026"
    assert i18n.date("2026-03-01", "sv") == "1 mars 2026"
    t = dt.datetime(2026, 3, 1, 14, 5, tzinfo=dt.UTC)
    assert i18n.datetime(t, "sv", tz="Europe/Stockholm") == "2026-03-01 15:05"
