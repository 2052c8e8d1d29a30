"""Findings' values as JSON details and as message text in English or Swedish.

Swedish: decimal comma, the minus sign U+2212 and a non-breaking space before %, ISO dates (as written
in Swedish healthcare), and the request's coded values (diagnosis, site, drug category) in Swedish words.

A stored finding (its JSON) can be worded again in any language: its rule id, ``message_key`` and
``details`` hold everything the message needs; ``message_types`` names the details whose JSON form is
not the value itself (elapsed hours, date-times, quantity limits).
"""

from __future__ import annotations

import datetime as dt
import re
import string
from collections.abc import Mapping
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_UP, Decimal
from fractions import Fraction
from typing import Any, Final

from repigment.label.checks import Hours, LimitPhrase, Over, Under
from repigment.label.ruleset import Limit, Rule

TERMS: Final[Mapping[str, Mapping[str, str]]] = {
    "en": {
        "non-segmental": "non-segmental",
        "jak_inhibitor": "JAK inhibitor",
        "potent_immunosuppressant": "potent immunosuppressant",
        "biologic": "therapeutic biologic",
        "cyp3a4_inhibitor": "CYP3A4 inhibitor",
        "propylene_glycol": "propylene glycol (may cause skin irritation)",
        "cetyl_alcohol": "cetyl alcohol (may cause local skin reactions, e.g. contact dermatitis)",
        "stearyl_alcohol": "stearyl alcohol (may cause local skin reactions, e.g. contact dermatitis)",
        "parahydroxybenzoates": "methyl and propyl parahydroxybenzoate (may cause allergic reactions, "
        "possibly delayed)",
        "butylhydroxytoluene": "butylhydroxytoluene (may cause local skin reactions or irritation of the "
        "eyes and mucous membranes)",
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
        "cyp3a4_inhibitor": "CYP3A4-hämmare",
        "propylene_glycol": "propylenglykol (kan orsaka hudirritation)",
        "cetyl_alcohol": "cetylalkohol (kan orsaka lokala hudreaktioner, t.ex. kontakteksem)",
        "stearyl_alcohol": "stearylalkohol (kan orsaka lokala hudreaktioner, t.ex. kontakteksem)",
        "parahydroxybenzoates": "metyl- och propylparahydroxibensoat (kan orsaka allergiska reaktioner, "
        "eventuellt fördröjda)",
        "butylhydroxytoluene": "butylhydroxitoluen (kan orsaka lokala hudreaktioner eller irritation av ögon "
        "och slemhinnor)",
    },
}
_WORDS: Final = {"en": (" or ", " and ", "days"), "sv": (" eller ", " och ", "dagar")}
_HOUR: Final = {"en": "h", "sv": "tim"}
_MINUS: Final = {"en": "-", "sv": "\u2212"}
_SPACE_PERCENT: Final = re.compile(r"(?<=\S) %")


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
    if isinstance(value, Hours):
        return to_json(value.hours)
    if isinstance(value, Over | Under):
        return to_json(value.value)
    if isinstance(value, LimitPhrase):
        return [{"grams": to_json(x.grams), "days": x.days} for x in value.limits]
    if isinstance(value, Limit):
        return {"grams": to_json(value.grams), "days": value.days}
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    raise TypeError(f"no JSON form for {value!r}")  # pragma: no cover - checks produce only the above


def _number(value: Decimal | Fraction | int | float, lang: str, rounding: str = ROUND_HALF_EVEN) -> str:
    """Exact up to 4 decimals (so 200.0001 g never reads as the 200 g limit), else 2 decimals rounded
    with ``rounding`` (up for a value over a maximum, down for one under a minimum: a rounded value never
    crosses the limit it is shown beside)."""
    d = _decimal(value)
    if d != d.to_integral_value():
        exact = d.normalize()
        exponent = exact.as_tuple().exponent
        d = exact if isinstance(exponent, int) and exponent >= -4 else d.quantize(Decimal("0.01"), rounding)
    text = f"{d:f}"
    return text.replace(".", ",").replace("-", _MINUS[lang]) if lang == "sv" else text


def render(value: Any, lang: str) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, Decimal | Fraction | int | float):
        return _number(value, lang)
    if isinstance(value, Over):
        return _number(value.value, lang, ROUND_UP)
    if isinstance(value, Under):
        return _number(value.value, lang, ROUND_DOWN)
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M") + value.strftime("%z")[:3] + ":" + value.strftime("%z")[3:]
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, Hours):
        # to the microsecond (so hours read back from JSON give the same text), then truncated:
        # 7 h 59 min 59.9 s reads as 7 h 59 min 59 s
        micro = int((value.hours * 3_600_000_000).to_integral_value(ROUND_HALF_EVEN))
        seconds = abs(micro) // 1_000_000
        h, rest = divmod(seconds, 3600)
        m, sec = divmod(rest, 60)
        parts = [f"{h} {_HOUR[lang]}"] + ([f"{m} min"] if m or sec else []) + ([f"{sec} s"] if sec else [])
        return (_MINUS[lang] if micro < 0 and seconds else "") + " ".join(parts)
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
    text = template.format(**{k: render(v, lang) for k, v in values.items()})
    # Swedish typography: a non-breaking space before % (whatever space the template has)
    return _SPACE_PERCENT.sub("\u00a0%", text) if lang == "sv" else text


def value_types(values: Mapping[str, Any]) -> dict[str, str]:
    """The values whose JSON detail is not the value itself, named by type (see ``from_json``)."""
    types: dict[str, str] = {}
    for name, v in values.items():
        if isinstance(v, Hours):
            types[name] = "hours"
        elif isinstance(v, Over):
            types[name] = "over"
        elif isinstance(v, Under):
            types[name] = "under"
        elif isinstance(v, dt.datetime):
            types[name] = "datetime"
        elif isinstance(v, LimitPhrase):
            types[name] = "limits:" + v.combine
    return types


def from_json(value: Any, kind: str | None) -> Any:
    """A JSON detail back as the value its message shows (the inverse of ``to_json`` for messages)."""
    if kind == "hours":
        return Hours(_decimal(value))
    if kind == "over":  # rounded up again when worded, as the engine did
        return Over(_decimal(value))
    if kind == "under":
        return Under(_decimal(value))
    if kind == "datetime":
        return dt.datetime.fromisoformat(value)
    if kind is not None and kind.startswith("limits:"):
        limits = tuple(Limit(_decimal(x["grams"]), int(x["days"])) for x in value)
        return LimitPhrase(limits, kind.removeprefix("limits:"))
    return value


def legacy_types(rule: Rule) -> dict[str, str]:
    """The types of the values that the packaged checks named so before findings stored their types."""
    types = {name: "hours" for name in ("hours", "late_hours", "hours_to_next")}
    types |= {name: "datetime" for name in ("at", "previous", "next_dose")}
    if "combine" in rule.params:
        types["limit"] = "limits:" + str(rule.params["combine"])
    return types


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def message_key(rule: Rule, details: Mapping[str, Any]) -> str | None:
    """The message of a finding stored without its key: the one whose placeholders are all in the
    details and strictly include those of every other such message; None when that is ambiguous."""
    names = {k: placeholders(texts["en"]) for k, texts in rule.messages.items()}
    fits = [k for k in names if names[k] <= details.keys()]
    for k in fits:
        if all(names[o] < names[k] for o in fits if o != k):
            return k
    return None


def reword(rule: Rule, key: str, details: Mapping[str, Any], types: Mapping[str, str], lang: str) -> str:
    """A stored finding's message in ``lang``, from its rule, message key and details.

    Raises KeyError when the details lack a value the message needs."""
    template = rule.messages[key][lang]
    values = {name: from_json(details[name], types.get(name)) for name in placeholders(template)}
    return message(template, values, lang)
