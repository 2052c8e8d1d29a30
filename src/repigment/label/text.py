"""Findings' values as JSON details and as message text in English or Swedish.

Swedish: decimal comma and a space before %, ISO dates (as written in Swedish healthcare), and the
request's coded values (diagnosis, site, drug category) in Swedish words.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from typing import Any, Final

from repigment.label.checks import LimitPhrase

TERMS: Final[Mapping[str, Mapping[str, str]]] = {
    "en": {
        "non-segmental": "non-segmental",
        "jak_inhibitor": "JAK inhibitor",
        "potent_immunosuppressant": "potent immunosuppressant",
        "biologic": "therapeutic biologic",
    },
    "sv": {
        "non-segmental": "icke-segmentell",
        "segmental": "segmentell",
        "mixed": "blandad",
        "unclassified": "oklassificerad",
        "lips": "läpparna",
        "eyes": "ögonen",
        "mouth": "munnen",
        "intravaginal": "intravaginalt",
        "jak_inhibitor": "JAK-hämmare",
        "potent_immunosuppressant": "potent immunsuppressivt medel",
        "biologic": "biologiskt läkemedel",
    },
}
_WORDS: Final = {"en": (" or ", " and ", "days"), "sv": (" eller ", " och ", "dagar")}


def _decimal(value: Decimal | Fraction | int | float) -> Decimal:
    if isinstance(value, Fraction):
        return Decimal(value.numerator) / Decimal(value.denominator)
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def to_json(value: Any) -> Any:
    """JSON-native form: exact integers stay integers, other numbers become floats, dates ISO text."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, Decimal | Fraction | int | float):
        d = _decimal(value)
        return int(d) if d == d.to_integral_value() else float(d)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, LimitPhrase):
        return [{"grams": to_json(x.grams), "days": x.days} for x in value.limits]
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    raise TypeError(f"no JSON form for {value!r}")  # pragma: no cover - checks produce only the above


def _number(value: Decimal | Fraction | int | float, lang: str) -> str:
    d = _decimal(value)
    if d != d.to_integral_value():
        d = d.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN).normalize()
    text = f"{d:f}"
    return text.replace(".", ",") if lang == "sv" else text


def render(value: Any, lang: str) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, Decimal | Fraction | int | float):
        return _number(value, lang)
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M") + value.strftime("%z")[:3] + ":" + value.strftime("%z")[3:]
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, LimitPhrase):
        sep_any, sep_all, days = _WORDS[lang]
        parts = [f"{_number(x.grams, lang)} g per {x.days} {days}" for x in value.limits]
        return (sep_any if value.combine == "any" else sep_all).join(parts)
    if isinstance(value, str):
        return TERMS[lang].get(value, value)
    if isinstance(value, list | tuple):
        return ", ".join(render(v, lang) for v in value)
    return str(value)


def message(template: str, values: Mapping[str, Any], lang: str) -> str:
    return template.format(**{k: render(v, lang) for k, v in values.items()})
