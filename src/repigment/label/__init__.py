"""Label rules engine: eligibility, plan and application checks, the course, against rulesets kept as data.

``evaluate(request, lang)`` is the one entry point the API, the web pages and the CLI call.
"""

from repigment.label.engine import (
    CheckResult,
    Finding,
    Verdict,
    evaluate,
    evaluate_application,
    evaluate_dose,
    message_in,
    verdict_of,
)
from repigment.label.errors import LabelInputError, RulesetError
from repigment.label.ruleset import (
    CHECKS,
    LANGUAGES,
    RULESETS,
    SEVERITIES,
    Rule,
    Ruleset,
    load_ruleset,
    parse_ruleset,
)

__all__ = [
    "CHECKS",
    "LANGUAGES",
    "RULESETS",
    "SEVERITIES",
    "CheckResult",
    "Finding",
    "LabelInputError",
    "Rule",
    "Ruleset",
    "RulesetError",
    "Verdict",
    "evaluate",
    "evaluate_application",
    "evaluate_dose",
    "load_ruleset",
    "message_in",
    "parse_ruleset",
    "verdict_of",
]
