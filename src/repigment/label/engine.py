"""The label rules engine: one request in, a verdict and explained findings out.

Every finding names the rule id, its severity and the label section, so a clinician can check it.
Applications are facts: the engine never refuses one, it flags it. A ``block`` on a plan means a
clinician must record an explicit override with a reason (stored by the caller, not here).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from fractions import Fraction
from typing import Any, Final, Literal

from repigment.label.checks import CHECK_FUNCTIONS, Hit
from repigment.label.errors import LabelInputError
from repigment.label.parse import parse_request
from repigment.label.request import PatientFacts, PlannedUse, Request
from repigment.label.ruleset import LANGUAGES, RULESETS, Rule, Ruleset, Severity
from repigment.label.text import legacy_types, message, message_key, reword, to_json, value_types
from repigment.label.validation import time_zone

Verdict = Literal["ok", "warn", "block"]
_RANK: Final[Mapping[str, int]] = {"info": 0, "warn": 1, "block": 2}


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    severity: Severity
    message: str
    source: str
    details: dict[str, Any] = field(default_factory=dict)
    key: str = "default"  # which of the rule's messages (``Rule.messages``)
    types: dict[str, str] = field(default_factory=dict)  # details that are not plain JSON values

    @property
    def applications(self) -> tuple[int, ...]:
        """Input positions of the applications this finding concerns (empty for plan and patient findings)."""
        return tuple(self.details.get("applications", ()))

    def as_json(self) -> dict[str, Any]:
        out = {
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
            "source": self.source,
            "details": dict(self.details),
            "message_key": self.key,
        }
        if self.types:
            out["message_types"] = dict(self.types)
        return out


@dataclass(frozen=True, slots=True)
class CheckResult:
    ruleset: str
    findings: list[Finding]

    @property
    def verdict(self) -> Verdict:
        return verdict_of(self.findings)

    def as_json(self) -> dict[str, Any]:
        """Exactly what ``repigment check`` prints."""
        return {
            "ruleset": self.ruleset,
            "verdict": self.verdict,
            "findings": [f.as_json() for f in self.findings],
        }


def verdict_of(findings: Sequence[Finding]) -> Verdict:
    worst = max((_RANK[f.severity] for f in findings), default=0)
    return "block" if worst == 2 else "warn" if worst == 1 else "ok"


def evaluate(request: Mapping[str, Any], lang: str = "en", *, ruleset: Ruleset | None = None) -> CheckResult:
    """Check a request (the ``repigment check`` JSON, parsed) against its ruleset.

    ``ruleset`` replaces the packaged one named in the request (a label version under review).
    Raises ``LabelInputError`` naming the field for bad input.
    """
    return _evaluate(request, lang, ruleset, None)


def _evaluate(
    request: Mapping[str, Any], lang: str, ruleset: Ruleset | None, only_application: int | None
) -> CheckResult:
    """``only_application``: keep only the findings that concern the application at that input
    position (the others are not worded, which is most of the cost of a long diary)."""
    if lang not in LANGUAGES:
        raise LabelInputError("lang", f"must be one of {list(LANGUAGES)}, got {lang!r}")
    known = [ruleset.id] if ruleset is not None else list(RULESETS)
    req = parse_request(request, known)
    if only_application is not None:
        req = replace(req, focus=only_application)
    rs = ruleset if ruleset is not None else RULESETS[req.ruleset]
    findings: list[Finding] = []
    for rule in rs.rules:
        for hit in CHECK_FUNCTIONS[rule.check](req, rule):
            if only_application is not None and only_application not in hit.applications:
                continue
            findings.append(_finding(rule, hit, lang))
    return CheckResult(rs.id, findings)


def _finding(rule: Rule, hit: Hit, lang: str) -> Finding:
    details: dict[str, Any] = to_json(dict(hit.values))
    if hit.applications:
        details["applications"] = sorted(hit.applications)
    if rule.unconfirmed:
        details["unconfirmed"] = {
            name: {"value": to_json(rule.params[name]), "reason": reason}
            for name, reason in rule.unconfirmed.items()
        }
    text = message(rule.messages[hit.key][lang], hit.values, lang)
    return Finding(rule.id, rule.severity, text, rule.source, details, hit.key, value_types(hit.values))


# The checks that concern a regimen's quantities alone (area, frequency, cream), for the dose calculators.
DOSE_CHECKS: Final = frozenset({"max_bsa", "frequency", "regimen", "quantity", "month_quantity"})


def evaluate_dose(
    bsa_percent: Decimal,
    sex: str,
    applications_per_day: int,
    grams_per_application: Decimal,
    on: dt.date,
    *,
    ruleset: str = "opzelura-eu-2023",
    lang: str = "en",
) -> CheckResult:
    """The label findings on a dose plan (``repigment dose``, the clinic's dose calculator): the ruleset's
    area, frequency, regimen and quantity rules, run by the same checks as ``evaluate`` on a plan of
    this area, frequency and grams per application. Other rules need a patient and are not run."""
    if lang not in LANGUAGES:
        raise LabelInputError("lang", f"must be one of {list(LANGUAGES)}, got {lang!r}")
    if ruleset not in RULESETS:
        raise LabelInputError("ruleset", f"unknown ruleset {ruleset!r}; expected one of {list(RULESETS)}")
    rs = RULESETS[ruleset]
    patient = PatientFacts(
        birth_date=on,
        sex=sex,
        diagnosis="non-segmental",
        facial_involvement=True,
        pregnant=False,
        breastfeeding=False,
        childbearing_potential=False,
        hypersensitivity=False,
        end_stage_renal_disease=False,
        nmsc_risk_factors=False,
        concomitant_systemic=(),
    )
    plan = PlannedUse(
        bsa_percent=Fraction(bsa_percent),
        areas_given=True,
        sites=(),
        applications_per_day=applications_per_day,
        schedule=(),
        grams_per_application=grams_per_application,
        concomitant_topicals=(),
        prescriber_experienced=None,
    )
    req = Request(rs.id, on, None, patient, 0, Fraction(0), plan, (), (), None, None)
    findings = [
        _finding(rule, hit, lang)
        for rule in rs.rules
        if rule.check in DOSE_CHECKS
        for hit in CHECK_FUNCTIONS[rule.check](req, rule)
    ]
    return CheckResult(rs.id, findings)


_PACKAGED_RULES: Final[Mapping[str, Rule]] = {r.id: r for rs in RULESETS.values() for r in rs.rules}


def message_in(finding: Mapping[str, Any], lang: str, *, ruleset: Ruleset | None = None) -> str:
    """A finding's message in ``lang``, from what is stored with it (``Finding.as_json``): the rule id,
    ``message_key``, ``details`` and ``message_types``; the rule is looked up in ``ruleset`` or the
    packaged rulesets. The stored text when it cannot be worded again (an unknown rule, a finding
    stored before message keys whose message cannot be told from its details).
    """
    stored = str(finding.get("message", ""))
    rule_id = finding.get("rule")
    rules = {r.id: r for r in ruleset.rules} if ruleset is not None else _PACKAGED_RULES
    rule = rules.get(rule_id) if isinstance(rule_id, str) else None
    details = finding.get("details")
    if rule is None or lang not in LANGUAGES or not isinstance(details, Mapping):
        return stored
    key = finding.get("message_key")
    types = finding.get("message_types")
    if key not in rule.messages:  # stored before message keys: told from the details
        key = message_key(rule, details)
        if key is None:
            return stored
        types = legacy_types(rule)
    try:
        return reword(rule, str(key), details, types if isinstance(types, Mapping) else {}, lang)
    except (KeyError, TypeError, ValueError, ArithmeticError):
        return stored


def evaluate_application(
    history: Sequence[Mapping[str, Any]],
    new_application: Mapping[str, Any],
    patient: Mapping[str, Any],
    *,
    ruleset: str,
    timezone: str,
    plan: Mapping[str, Any] | None = None,
    dispensed: Sequence[Mapping[str, Any]] = (),
    lang: str = "en",
) -> CheckResult:
    """Check one new diary entry against the history: the findings that concern the new entry.

    Builds the ordinary request (history + the new entry last, evaluated on the new entry's local date)
    and keeps the findings whose ``details.applications`` include the new entry; its input position is
    ``len(history)``, and field names in errors use that position (``applications[<n>].at``). The history
    should cover the longest quantity window (30 days) and must not go past the new entry's local day.
    """
    zone = time_zone(timezone, "timezone")
    at = new_application.get("at") if isinstance(new_application, Mapping) else None
    index = len(history)
    try:
        local_day = dt.datetime.fromisoformat(at).astimezone(zone).date() if isinstance(at, str) else None
    except ValueError:
        local_day = None
    if local_day is None:
        raise LabelInputError(
            f"applications[{index}].at", f"must be a date-time with a UTC offset, got {at!r}"
        )
    request: dict[str, Any] = {
        "ruleset": ruleset,
        "on": local_day.isoformat(),
        "timezone": timezone,
        "patient": dict(patient),
        "applications": [*history, new_application],
    }
    if plan is not None:
        request["plan"] = dict(plan)
    if dispensed:
        request["dispensed"] = list(dispensed)
    return _evaluate(request, lang, None, index)
