"""Rulesets are data: one TOML file per jurisdiction and label version under ``rulesets/``.

Each rule names a check kind implemented once in ``checks.py``; the file supplies the rule id, severity,
label section, the label's words, the parameters (limits) and the messages in English and Swedish.
Parameters the label does not state verbatim are listed under ``unconfirmed`` with the reason and are
reported with every finding of the rule. Reading the packaged files is this module's one job.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, Literal

from repigment.label.errors import RulesetError

Severity = Literal["block", "warn", "info"]
SEVERITIES: Final[tuple[Severity, ...]] = ("block", "warn", "info")
LANGUAGES: Final = ("en", "sv")

ParamKind = Literal["int", "decimal", "bool", "str", "str_list", "limits"]


@dataclass(frozen=True, slots=True)
class Limit:
    """A quantity limit: at most ``grams`` in any ``days`` consecutive days."""

    grams: Decimal
    days: int


@dataclass(frozen=True, slots=True)
class CheckSpec:
    """What a check kind needs from a rule, and how it works (the docs table is built from ``how``)."""

    params: Mapping[str, tuple[ParamKind, bool]]  # name -> (kind, required)
    messages: tuple[str, ...]
    how: str


CHECKS: Final[Mapping[str, CheckSpec]] = MappingProxyType(
    {
        "indication": CheckSpec(
            {"diagnoses": ("str_list", True), "require_facial_involvement": ("bool", True)},
            ("diagnosis", "facial"),
            "`patient.diagnosis` is not one of {diagnoses}; or facial involvement is required "
            "({require_facial_involvement}) and `patient.facial_involvement` is false.",
        ),
        "min_age": CheckSpec(
            {"min_age_years": ("int", True)},
            ("default",),
            "Age in completed years on `on` (from `patient.birth_date`) is below {min_age_years}.",
        ),
        "age_at_least": CheckSpec(
            {"age_years": ("int", True)},
            ("default",),
            "Age in completed years on `on` is {age_years} or more.",
        ),
        "patient_flag": CheckSpec(
            {"flag": ("str", True)},
            ("default",),
            "`patient.{flag}` is true.",
        ),
        "prescriber": CheckSpec(
            {},
            ("default",),
            "`plan.prescriber_experienced` is false.",
        ),
        "plan_present": CheckSpec({}, ("default",), "A `plan` is given."),
        "frequency": CheckSpec(
            {"max_per_day": ("int", True)},
            ("plan", "log"),
            "Plan: `plan.applications_per_day` is above {max_per_day}. Log: more than {max_per_day} "
            "applications on one local calendar day in `timezone`.",
        ),
        "regimen": CheckSpec(
            {"per_day": ("int", True)},
            ("default",),
            "Plan: `plan.applications_per_day` is below {per_day} (the regimen is {per_day} a day; fewer "
            "applications are not forbidden, but are not the studied regimen).",
        ),
        "interval": CheckSpec(
            {"min_hours": ("decimal", True)},
            ("default",),
            "Log: the real time elapsed between consecutive applications (compared as UTC instants, "
            "so daylight-saving changes count correctly) is below {min_hours} h; exactly {min_hours} h "
            "is allowed.",
        ),
        "max_bsa": CheckSpec(
            {"max_percent": ("decimal", True)},
            ("plan", "application"),
            "Plan: the areas' hand units (1 HU = 1% BSA; each region within its body-model capacity at the "
            "patient's age) total more than {max_percent}%. Log: an application's hand units exceed "
            "{max_percent}%; exactly {max_percent}% is allowed, compared with a tolerance of 1e-9 "
            "percentage points for the float noise of a fraction sent in binary (10/13 of trunk_front "
            "is 10%).",
        ),
        "quantity": CheckSpec(
            {"limits": ("limits", True), "combine": ("str", True)},
            ("plan", "used", "dispensed"),
            "Plan: grams per application (fingertip units by sex, or `plan.grams_per_application`) × "
            "applications a day × window days. Log: grams used (recorded, else estimated from hand units) "
            "and grams dispensed in any window of consecutive local days. Limits {limits} "
            "(combine: {combine}; 'any' flags only when every limit is exceeded). Exact decimal "
            "arithmetic; the limit itself is allowed.",
        ),
        "month_quantity": CheckSpec(
            {"grams": ("decimal", True)},
            ("plan", "used", "dispensed"),
            "Calendar months (local): plan, grams a day × 31 (the longest month); log, grams used (recorded, "
            "else estimated from hand units) and grams dispensed in one calendar month, above {grams} g. "
            "Checked besides the rolling window, so 2 × 100 g on 1 January and 2 × 100 g on 31 January "
            "(400 g in January) is flagged.",
        ),
        "review_due": CheckSpec(
            {"week": ("int", True)},
            ("default",),
            "On or after `course.started_on` + {week} weeks with no assessment at week {week} or later.",
        ),
        "week52": CheckSpec(
            {"week": ("int", True), "min_percent": ("decimal", True)},
            ("default",),
            "The latest assessment at week {week} or later (by `on`) has `repigmentation_percent` below "
            "{min_percent} (exactly {min_percent} continues); the finding names that assessment's week and "
            "date.",
        ),
        "forbidden_sites": CheckSpec(
            {"sites": ("str_list", True)},
            ("plan", "application"),
            "`plan.sites` or an application's `sites` include one of {sites}.",
        ),
        "contraception": CheckSpec(
            {"weeks_after_last_application": ("int", True), "confirm_after_age": ("int", True)},
            ("ongoing", "stopped", "confirm"),
            "`patient.childbearing_potential` is true, unless treatment stopped (`course.stopped_on`) "
            "more than {weeks_after_last_application} weeks before `on`; reports the date until which "
            "contraception is needed (last application + {weeks_after_last_application} weeks). "
            "Childbearing potential past age {confirm_after_age} (completed years) asks for "
            "confirmation; with `sex` male it is refused as bad input.",
        ),
        "missed_dose": CheckSpec(
            {"skip_within_hours": ("decimal", True), "late_after_hours": ("decimal", True)},
            ("default",),
            "Log with `plan.schedule` (local times): an application more than {late_after_hours} h after a "
            "scheduled time with no application since, and less than {skip_within_hours} h before the next "
            "scheduled time.",
        ),
        "concomitant_topical": CheckSpec(
            {},
            ("default",),
            "`plan.concomitant_topicals` lists another topical medicine on the treated areas.",
        ),
        "concomitant_systemic": CheckSpec(
            {"categories": ("str_list", True)},
            ("default",),
            "`patient.concomitant_systemic` includes one of {categories}.",
        ),
        "excipients": CheckSpec(
            {"excipients": ("str_list", True)},
            ("default",),
            "`patient.excipient_reactions` names one of {excipients} (a past reaction to an excipient the "
            "label warns about).",
        ),
        "storage": CheckSpec(
            {"months_after_opening": ("int", True)},
            ("default",),
            "A dispensed tube's `opened_on` + {months_after_opening} calendar months is before `on` and the "
            "tube was not discarded (`discarded_on`) by then.",
        ),
        "assessment_threshold": CheckSpec(
            {"measure": ("str", True), "min": ("decimal", False), "max": ("decimal", False)},
            ("default",),
            "`assessment` (patches) scored with repigment.scoring at the patient's age (TRuE-V face "
            "without eyelids unless `assessment.variant` says otherwise): {measure} {bound}; the threshold "
            "itself is allowed.",
        ),
    }
)

ASSESSMENT_MEASURES: Final = (
    "f_bsa_percent",
    "f_vasi",
    "t_vasi",
    "nonfacial_bsa_percent",
    "total_bsa_percent",
)


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    check: str
    severity: Severity
    source: str
    label: str
    params: Mapping[str, Any]
    unconfirmed: Mapping[str, str]
    messages: Mapping[str, Mapping[str, str]]


@dataclass(frozen=True, slots=True)
class Ruleset:
    id: str
    title: str
    jurisdiction: str
    sources: tuple[str, ...]
    rules: tuple[Rule, ...]

    def rule(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)


def _param(value: Any, kind: ParamKind, where: str) -> Any:
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise RulesetError(where, f"must be an integer, got {value!r}")
        return value
    if kind == "decimal":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise RulesetError(where, f"must be a number, got {value!r}")
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if kind == "bool":
        if not isinstance(value, bool):
            raise RulesetError(where, f"must be true or false, got {value!r}")
        return value
    if kind == "str":
        if not isinstance(value, str) or not value:
            raise RulesetError(where, f"must be a non-empty string, got {value!r}")
        return value
    if kind == "str_list":
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
            raise RulesetError(where, f"must be a non-empty list of strings, got {value!r}")
        return tuple(value)
    # limits
    if not isinstance(value, list) or not value:
        raise RulesetError(where, "must be a non-empty list of {grams, days} tables")
    limits = []
    for i, item in enumerate(value):
        if not isinstance(item, dict) or set(item) != {"grams", "days"}:
            raise RulesetError(f"{where}[{i}]", "must be a table with exactly grams and days")
        grams = _param(item["grams"], "decimal", f"{where}[{i}].grams")
        days = _param(item["days"], "int", f"{where}[{i}].days")
        if grams <= 0 or days < 1:
            raise RulesetError(f"{where}[{i}]", "grams must be positive and days at least 1")
        limits.append(Limit(grams, days))
    return tuple(limits)


def _rule(raw: Any, where: str) -> Rule:
    if not isinstance(raw, dict):
        raise RulesetError(where, "must be a table")
    allowed = {"id", "check", "severity", "source", "label", "params", "unconfirmed", "messages"}
    unknown = set(raw) - allowed
    if unknown:
        raise RulesetError(where, f"unknown key(s) {sorted(unknown)}")
    for key in ("id", "check", "severity", "source", "label", "messages"):
        if key not in raw:
            raise RulesetError(where, f"{key} is required")
    rid = raw["id"]
    where = f"{where} ({rid})"
    if raw["check"] not in CHECKS:
        raise RulesetError(where, f"unknown check {raw['check']!r}; known: {sorted(CHECKS)}")
    spec = CHECKS[raw["check"]]
    if raw["severity"] not in SEVERITIES:
        raise RulesetError(where, f"severity must be one of {list(SEVERITIES)}, got {raw['severity']!r}")
    raw_params = raw.get("params", {})
    if not isinstance(raw_params, dict):
        raise RulesetError(f"{where}.params", "must be a table")
    unknown = set(raw_params) - set(spec.params)
    if unknown:
        raise RulesetError(
            f"{where}.params", f"unknown parameter(s) {sorted(unknown)} for check {raw['check']}"
        )
    params: dict[str, Any] = {}
    for name, (kind, required) in spec.params.items():
        if name in raw_params:
            params[name] = _param(raw_params[name], kind, f"{where}.params.{name}")
        elif required:
            raise RulesetError(f"{where}.params", f"parameter {name!r} is required by check {raw['check']}")
    if raw["check"] == "quantity" and params["combine"] not in ("any", "all"):
        raise RulesetError(f"{where}.params.combine", "must be 'any' or 'all'")
    if raw["check"] == "assessment_threshold":
        if params["measure"] not in ASSESSMENT_MEASURES:
            raise RulesetError(f"{where}.params.measure", f"must be one of {list(ASSESSMENT_MEASURES)}")
        if ("min" in params) == ("max" in params):
            raise RulesetError(f"{where}.params", "exactly one of min and max is required")
    unconfirmed = raw.get("unconfirmed", {})
    if not isinstance(unconfirmed, dict) or not all(isinstance(v, str) and v for v in unconfirmed.values()):
        raise RulesetError(f"{where}.unconfirmed", "must be a table of parameter = reason")
    stray = set(unconfirmed) - set(params)
    if stray:
        raise RulesetError(f"{where}.unconfirmed", f"names no parameter of the rule: {sorted(stray)}")
    messages = raw["messages"]
    if not isinstance(messages, dict) or set(messages) != set(spec.messages):
        raise RulesetError(f"{where}.messages", f"must have exactly the messages {list(spec.messages)}")
    for key, texts in messages.items():
        if not isinstance(texts, dict) or set(texts) != set(LANGUAGES):
            raise RulesetError(
                f"{where}.messages.{key}", f"must have exactly the languages {list(LANGUAGES)}"
            )
        for lang, text in texts.items():
            if not isinstance(text, str) or not text:
                raise RulesetError(f"{where}.messages.{key}.{lang}", "must be a non-empty string")
    for key in ("id", "source", "label"):
        if not isinstance(raw[key], str) or not raw[key]:
            raise RulesetError(where, f"{key} must be a non-empty string")
    return Rule(
        id=rid,
        check=raw["check"],
        severity=raw["severity"],
        source=raw["source"],
        label=raw["label"],
        params=MappingProxyType(params),
        unconfirmed=MappingProxyType(dict(unconfirmed)),
        messages=MappingProxyType({k: MappingProxyType(dict(v)) for k, v in messages.items()}),
    )


def parse_ruleset(text: str, name: str) -> Ruleset:
    """Build a validated ruleset from TOML text; ``name`` only labels errors."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise RulesetError(name, f"not valid TOML: {e}") from e
    head = data.get("ruleset")
    if not isinstance(head, dict):
        raise RulesetError(name, "a [ruleset] table is required")
    for key in ("id", "title", "jurisdiction"):
        if not isinstance(head.get(key), str) or not head[key]:
            raise RulesetError(f"{name} [ruleset]", f"{key} must be a non-empty string")
    sources = head.get("sources", [])
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        raise RulesetError(f"{name} [ruleset]", "sources must be a list of strings")
    raw_rules = data.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise RulesetError(name, "at least one [[rules]] table is required")
    rules = tuple(_rule(r, f"{name} rules[{i}]") for i, r in enumerate(raw_rules))
    seen: set[str] = set()
    for r in rules:
        if r.id in seen:
            raise RulesetError(name, f"duplicate rule id {r.id!r}")
        seen.add(r.id)
    return Ruleset(head["id"], head["title"], head["jurisdiction"], tuple(sources), rules)


_PACKAGED: Final = ("opzelura-eu-2023", "opzelura-us", "true-v-entry")


def load_ruleset(name_or_path: str | Path) -> Ruleset:
    """A packaged ruleset by id (``opzelura-eu-2023``), or a ruleset file by path (a new label version)."""
    if isinstance(name_or_path, str) and name_or_path in _PACKAGED:
        text = (
            resources.files("repigment.label").joinpath("rulesets", f"{name_or_path}.toml").read_text("utf-8")
        )
        ruleset = parse_ruleset(text, f"{name_or_path}.toml")
        if ruleset.id != name_or_path:
            raise RulesetError(f"{name_or_path}.toml", f"declares id {ruleset.id!r}")
        return ruleset
    path = Path(name_or_path)
    if not path.suffix == ".toml" or not path.is_file():
        raise RulesetError(
            str(name_or_path), f"not a known ruleset ({', '.join(_PACKAGED)}) nor a .toml file"
        )
    return parse_ruleset(path.read_text("utf-8"), path.name)


RULESETS: Final[Mapping[str, Ruleset]] = MappingProxyType({n: load_ruleset(n) for n in _PACKAGED})
