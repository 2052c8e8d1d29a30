"""docs/rules.md, generated from the ruleset files so the table cannot drift from the rules.

Regenerate with ``python -m repigment.label.docs > docs/rules.md``; a test fails when they differ.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from repigment.label.ruleset import CHECKS, RULESETS, Limit, Rule, Ruleset


def _param_text(value: Any) -> str:
    if isinstance(value, tuple) and value and isinstance(value[0], Limit):
        return " / ".join(f"{x.grams} g per {x.days} days" for x in value)
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def how(rule: Rule) -> str:
    """The check kind's description with the rule's parameters filled in."""
    values = {
        name: _param_text(rule.params[name]) if name in rule.params else "—"
        for name in CHECKS[rule.check].params
    }
    if rule.check == "assessment_threshold":
        values["bound"] = f"at least {values['min']}" if "min" in rule.params else f"at most {values['max']}"
    text = CHECKS[rule.check].how.format(**values)
    if rule.unconfirmed:
        flagged = "; ".join(
            f"`{k}` = {_param_text(rule.params[k])} ({v})" for k, v in rule.unconfirmed.items()
        )
        text += f" **UNCONFIRMED:** {flagged}."
    return text


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(ruleset: Ruleset) -> Iterable[str]:
    yield f"## {ruleset.id}"
    yield ""
    yield f"{ruleset.title}. Jurisdiction: {ruleset.jurisdiction}."
    if ruleset.sources:
        yield "Sources: " + ", ".join(f"<{s}>" for s in ruleset.sources) + "."
    yield ""
    yield "| rule | severity | source | label | check | how it is checked |"
    yield "|---|---|---|---|---|---|"
    for r in ruleset.rules:
        cells = (f"`{r.id}`", r.severity, r.source, r.label, f"`{r.check}`", how(r))
        yield "| " + " | ".join(_cell(c) for c in cells) + " |"
    yield ""


_INTRO = """\
# Label rules

<!-- Generated from src/repigment/label/rulesets/*.toml by `python -m repigment.label.docs`;
do not edit by hand (a test fails when this file differs from the generated text). -->

Every finding of `repigment check` (and of `repigment.label.evaluate`) names one of these rules, its
severity and the label section it comes from. Severities: `block` (contraindicated or over a hard
limit: a clinician must record an override with a reason; the exit code is 1), `warn` (needs
clinician attention), `info`. Applications are facts: they are flagged, never refused. Elapsed times
are real time (UTC instants, so daylight-saving changes count correctly); days are local calendar
days in the patient's IANA time zone. Quantities use exact decimal arithmetic, and a limit itself is
always allowed (8 h, 10.0% BSA, 200 g in 30 days). Parameters marked **UNCONFIRMED** are not stated
verbatim by the source; each finding of such a rule reports them in `details.unconfirmed`.
"""

_USAGE = """\
## Checking one new diary entry

`repigment.label.evaluate_application(history, new_application, patient, ruleset=..., timezone=...,
plan=None, dispensed=(), lang="en")` builds the ordinary request (the history followed by the new entry,
evaluated on the new entry's local date), calls `evaluate`, and keeps only the findings whose
`details.applications` include the new entry (its position is `len(history)`). Eligibility findings
are left out there: they belong to the plan, which is checked with `evaluate`.
"""


def render_markdown() -> str:
    lines = [_INTRO]
    for ruleset in RULESETS.values():
        lines.extend(_table(ruleset))
    lines.append(_USAGE)
    return "\n".join(lines)


if __name__ == "__main__":
    print(render_markdown(), end="")
