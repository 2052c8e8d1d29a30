"""Languages of the pages: gettext catalogs (Babel), locale choice, locale-formatted dates and numbers.

Catalogs live in ``locale/<lang>/LC_MESSAGES/messages.po`` and are the only form kept: each process compiles
them in memory the first time a language is used, so there is no generated ``.mo`` file to fall out of date
with its ``.po`` (or to differ only in the Babel version written into its header).
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

LOCALES: Final = ("en", "sv")
DEFAULT_LOCALE: Final = "en"
LOCALE_COOKIE: Final = "repigment_lang"
LOCALE_DIR: Final = Path(__file__).resolve().parent / "locale"
DOMAIN: Final = "messages"


def N_(message: str) -> str:
    """Mark a string for extraction; translated later, where the locale is known."""
    return message


def _catalog_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def NC_(context: str, message: str) -> tuple[str, str]:
    """Mark a message with a context (``msgctxt``) for extraction; translated later with ``pgettext``.

    For one English word with two meanings (the view "Back" and the body area "Back")."""
    return context, message


# One minus sign and one percent spacing per language (Swedish: U+2212, a non-breaking space before %).
MINUS: Final = {"en": "-", "sv": "\u2212"}
PERCENT: Final = {"en": " %", "sv": "\u00a0%"}


@cache
def translations(lang: str) -> NullTranslations:
    """The language's catalog, compiled from its ``.po`` once per process (fuzzy entries left out)."""
    if lang not in LOCALES:
        raise ValueError(f"unsupported locale {lang!r}")
    po = _catalog_path(lang)
    if not po.exists():
        return NullTranslations()
    with po.open("rb") as f:
        catalog = read_po(f, locale=lang, domain=DOMAIN)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return Translations(buf, domain=DOMAIN)


def choose_locale(
    query_lang: str | None,
    cookie_lang: str | None,
    accept_language: str | None,
    fallback: str = DEFAULT_LOCALE,
) -> str:
    """The page language: an explicit choice, then the remembered one, then the browser's preference, then
    ``fallback`` (the clinic's default language for its logged-in users)."""
    for lang in (query_lang, cookie_lang):
        if lang in LOCALES:
            return lang
    if accept_language:
        prefs = []
        for part in accept_language.split(","):
            tag, _, q = part.strip().partition(";q=")
            try:
                weight = float(q) if q else 1.0
            except ValueError:
                weight = 0.0
            prefs.append((weight, tag.strip().replace("-", "_")))
        prefs.sort(key=lambda p: -p[0])
        found = Locale.negotiate([t for _, t in prefs if t], list(LOCALES), sep="_")
        if found is not None and found.language in LOCALES:
            return found.language
    return fallback if fallback in LOCALES else DEFAULT_LOCALE


def round_half_up(value: float | Fraction | Decimal | int, digits: int) -> Decimal:
    """Round for display, ties away from zero, from the exact value (the page's script does the same)."""
    f = (
        value
        if isinstance(value, Fraction)
        else Fraction(Decimal(str(value)) if isinstance(value, float) else value)
    )
    scaled = abs(f) * 10**digits
    n = math.floor(scaled + Fraction(1, 2)) * (-1 if f < 0 else 1)
    return Decimal(n).scaleb(-digits)


def number(value: float | Fraction | Decimal | int | None, lang: str, digits: int = 2) -> str:
    if value is None:
        return "–"
    q = round_half_up(value, digits)
    fmt = "#,##0" + ("." + "0" * digits if digits else "")
    return str(format_decimal(q, format=fmt, locale=lang, decimal_quantization=False)).replace(
        "-", MINUS[lang]
    )


def percent(value: float | Fraction | Decimal | int | None, lang: str, digits: int = 0) -> str:
    """A percentage with the language's sign spacing (``value`` is already in percent)."""
    return "–" if value is None else number(value, lang, digits) + PERCENT[lang]


def input_number(value: float | Decimal | int, lang: str) -> str:
    """A number as typed into a form field: the locale's decimal sign, no grouping, up to 6 decimals
    (the pages read both decimal signs back)."""
    return str(
        format_decimal(
            Decimal(repr(value)) if isinstance(value, float) else value, format="0.######", locale=lang
        )
    )


def as_entered(value: float | Decimal | int | None, lang: str) -> str:
    """A typed value with every decimal it was entered with, never rounded: a rule compares the entered
    value (24.6 % is below 25 %), so the page must not show it as 25 %."""
    if value is None:
        return "–"
    d = (Decimal(repr(value)) if isinstance(value, float) else Decimal(value)).normalize()
    exponent = d.as_tuple().exponent
    digits = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return number(d, lang, digits)


def signed(value: float | Fraction | Decimal | int | None, lang: str, digits: int = 1) -> str:
    """A change with its sign always shown (+383.3, −12.5, 0): an unsigned change reads as improvement."""
    text = number(value, lang, digits)
    if value is None or text.lstrip("0., ") == "" or text[0] in "-−":
        return text
    return "+" + text


def _parse_day(text: str) -> dt.date | None:
    try:
        return dt.datetime.fromisoformat(text).date()
    except ValueError:
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            return None


def date(value: dt.date | str | None, lang: str, fmt: str = "medium") -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, str):
        day = _parse_day(value)
        if day is None:
            return value
    else:
        day = value.date() if isinstance(value, dt.datetime) else value
    return str(format_date(day, format=fmt, locale=lang))


def datetime(value: dt.datetime | str | None, lang: str, fmt: str = "short", tz: str | None = None) -> str:
    """A date and time in the locale's format, in the time zone ``tz`` (IANA name) or its own."""
    if value is None or value == "":
        return "–"
    if isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    else:
        moment = value
    zone = ZoneInfo(tz) if tz else None
    return str(format_datetime(moment, format=fmt, tzinfo=zone, locale=lang))


def message_key(msgid: str, context: str | None) -> str:
    """A catalog entry's key: the msgid, prefixed by its context and EOT as in a compiled catalog."""
    return f"{context}\x04{msgid}" if context else msgid


def catalog_messages(lang: str) -> Mapping[str, str]:
    """Every entry of a language's catalog, keyed by ``message_key``."""
    with _catalog_path(lang).open("rb") as f:
        catalog = read_po(f, locale=lang, domain=DOMAIN)
    return {
        message_key(str(m.id), m.context): str(m.string) for m in catalog if m.id and isinstance(m.id, str)
    }


def locale_name(lang: str) -> str:
    try:
        return str(Locale.parse(lang).get_display_name(lang)).capitalize()
    except UnknownLocaleError:  # pragma: no cover - LOCALES are known
        return lang
