"""docs/rules.md, generated from the ruleset files so the table cannot drift from the rules.

Regenerate with ``python -m repigment.label.docs > docs/rules.md``; a test fails when they differ.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

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
verbatim by the source; each finding of such a rule reports them in `details.unconfirmed`. Numbers in
messages are exact up to 4 decimals; a value that needs rounding is rounded away from the limit it
breaks (up when over a maximum, down when under a minimum), so a message never shows a value equal to
its limit; `details` carry the exact values.
"""

_REQUEST_FIELDS = (
    ("ruleset", "`opzelura-eu-2023`, `opzelura-us` or `true-v-entry` (required)"),
    ("on", "evaluation date, YYYY-MM-DD: age, due milestones, tube age (required)"),
    ("timezone", "IANA name; required with `applications`"),
    (
        "patient",
        "`birth_date`, `sex` (female/male), `diagnosis` (non-segmental, segmental, mixed, unclassified) and "
        "true/false `facial_involvement`, `pregnant`, `breastfeeding`, `childbearing_potential`, "
        "`hypersensitivity`, `end_stage_renal_disease`; optional `nmsc_risk_factors`, `concomitant_systemic` "
        "(biologic, jak_inhibitor, potent_immunosuppressant, cyp3a4_inhibitor, other), "
        "`excipient_reactions` (propylene_glycol, cetyl_alcohol, stearyl_alcohol, parahydroxybenzoates, "
        "butylhydroxytoluene) (required); `sex` male with `pregnant` or `childbearing_potential` true is "
        "refused as bad input",
    ),
    (
        "plan",
        "`areas` (`{region, hand_units}` with a VASI region, or `{area, fraction}` with a body-chart area "
        "converted at the patient's age), `sites`, `applications_per_day` (default 2), `schedule` (local "
        "HH:MM), `grams_per_application` (else fingertip units by sex), `concomitant_topicals`, "
        "`prescriber_experienced`",
    ),
    ("applications", "`at` (date-time with UTC offset), `hand_units` or `areas`, `grams`, `sites`"),
    ("dispensed", "`on`, `grams`, `opened_on`, `discarded_on`"),
    (
        "course",
        "`started_on`, `stopped_on` (last application), `assessments`: `on`, `week` (optional, checked: "
        "within 2 of its date's week; the week used is always the date's), `repigmentation_percent` of the "
        "treated areas",
    ),
    (
        "assessment",
        "baseline for `true-v-entry`: `patches`, `variant` as for `repigment score` (age from `birth_date`)",
    ),
)

_USAGE = """\
## The request

`repigment check [FILE|-] [--lang sv]` and `repigment.label.evaluate(request, lang)` take the same JSON;
exit codes 0 (ok or warn), 1 (block), 2 (bad input, naming the field, e.g. `applications[3].at`).

{fields}
Output: `{"ruleset", "verdict", "findings": [{"rule", "severity", "message", "source", "details",
"message_key", "message_types"?}]}`;
`details.applications` lists the input positions of the applications a finding concerns.

A finding is stored with everything its message needs, so it can be worded again in any language:
`message_key` names which of the rule's messages it is, `details` holds the values, and
`message_types` names the details whose JSON form is not the value shown (`hours`: elapsed hours,
`datetime`, `limits:any|all`: the quantity limits, `over`/`under`: a value beyond a maximum or below a
minimum, rounded up or down when worded). `repigment.label.message_in(finding, lang)` gives
the message in `lang` exactly as `evaluate(request, lang)` words it (findings stored before message keys:
the key is told from the details when only one message fits, else the stored text is kept). Swedish
messages: decimal comma, the minus sign U+2212, a non-breaking space before %.

## Checking one new diary entry

`repigment.label.evaluate_application(history, new_application, patient, ruleset=..., timezone=...,
plan=None, dispensed=(), lang="en")` builds the ordinary request (the history followed by the new entry,
evaluated on the new entry's local date), calls `evaluate`, and keeps only the findings whose
`details.applications` include the new entry (its position is `len(history)`). Eligibility findings
are left out there: they belong to the plan, which is checked with `evaluate`.
"""


# Rules of the reference (docs/reference/label-rules.md §1) that no check implements, and why.
UNCHECKED: Final = (
    (
        "EU-4.2-stop-restart",
        "SmPC 4.2",
        "Once satisfactory repigmentation is reached, treatment of those areas can stop; it is re-initiated "
        "if depigmentation recurs; no tapering.",
        "It permits rather than limits: stopping needs no tapering and a restart has no condition to break. "
        "The clinic records a stop as the end of a course and a restart as a new course; the week-24/52 "
        "milestones then count from the new start.",
    ),
    (
        "EU-PIL-2h",
        "PIL 3",
        "Wait at least 2 hours before other medicines, sunscreen or creams on the same area; do not wash "
        "treated skin for 2 hours; wash hands after applying unless the hands are treated.",
        "No input records it: a diary entry holds the time, area, grams and sites of one application, "
        "not when other products were applied or the skin was washed. The diary shows the advice to the "
        "patient; `EU-PIL-concomitant` checks other topical medicines named in the plan.",
    ),
)


def _unchecked() -> list[str]:
    lines = [
        "## Rules without a check",
        "",
        "Rules of the reference that no check implements, and why (the other two rules once listed here, "
        "`EU-4.4-excipients` and `EU-4.5-interactions`, are checked above).",
        "",
        "| rule | source | label | why there is no check |",
        "|---|---|---|---|",
    ]
    lines += [f"| `{rid}` | {src} | {label} | {why} |" for rid, src, label, why in UNCHECKED]
    return [*lines, ""]


def render_markdown() -> str:
    lines = [_INTRO]
    for ruleset in RULESETS.values():
        lines.extend(_table(ruleset))
    lines.extend(_unchecked())
    fields = "\n".join(
        ["| field | meaning |", "|---|---|", *(f"| `{k}` | {v} |" for k, v in _REQUEST_FIELDS)]
    )
    lines.append(_USAGE.replace("{fields}", fields))
    return "\n".join(lines)


if __name__ == "__main__":
    print(render_markdown(), end="")
