"""Rulesets as data: the packaged files validate, a broken file is rejected by name, docs/rules.md is
generated from them, and a new label version is a new file."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from label_requests import ISSUE_EXAMPLE

from repigment.label import RULESETS, RulesetError, evaluate, load_ruleset, parse_ruleset
from repigment.label.docs import render_markdown

ROOT = Path(__file__).resolve().parents[2]
EU_FILE = ROOT / "src/repigment/label/rulesets/opzelura-eu-2023.toml"

ISSUE_EU_IDS = {
    "EU-4.1-indication", "EU-4.1-age", "EU-4.2-interval", "EU-4.2-frequency", "EU-4.2-max-bsa",
    "EU-4.2-quantity", "EU-4.2-week52", "EU-4.2-esrd", "EU-4.2-elderly", "EU-4.4-sites",
    "EU-4.3-hypersensitivity", "EU-4.3-pregnancy", "EU-4.3-breastfeeding", "EU-4.6-contraception",
    "EU-PIL-missed-dose", "EU-PIL-concomitant", "EU-6.4-storage",
}  # fmt: skip


def test_issue_rule_ids_present_and_prefixed() -> None:
    eu = {r.id for r in RULESETS["opzelura-eu-2023"].rules}
    assert eu >= ISSUE_EU_IDS
    assert all(r.id.startswith("EU-") for r in RULESETS["opzelura-eu-2023"].rules)
    assert all(r.id.startswith("US-") for r in RULESETS["opzelura-us"].rules)
    assert all(r.id.startswith("TRUEV-") for r in RULESETS["true-v-entry"].rules)


def test_unconfirmed_values_are_flagged_in_the_files() -> None:
    us_quantity = RULESETS["opzelura-us"].rule("US-2-quantity")
    assert set(us_quantity.unconfirmed) == {"limits", "combine"}
    assert "late_after_hours" in RULESETS["opzelura-eu-2023"].rule("EU-PIL-missed-dose").unconfirmed


def test_docs_rules_md_is_generated_from_the_rulesets() -> None:
    doc = (ROOT / "docs/rules.md").read_text(encoding="utf-8")
    assert doc == render_markdown(), "regenerate: python -m repigment.label.docs > docs/rules.md"
    for rs in RULESETS.values():
        for r in rs.rules:
            assert f"`{r.id}` | {r.severity} | {r.source} |" in doc


@pytest.mark.parametrize(
    ("old", "new", "needle"),
    [
        ('severity = "block"', 'severity = "fatal"', "severity"),
        ('check = "interval"', 'check = "intervall"', "unknown check"),
        ("params = { min_hours = 8 }", "params = { min_hours = 8, max_hours = 9 }", "unknown parameter"),
        ("params = { min_hours = 8 }", "params = {}", "min_hours"),
        ("params = { min_hours = 8 }", 'params = { min_hours = "8" }', "must be a number"),
        ('sv = "Graviditet: kontraindicerat."\n', "", "languages"),
        ('id = "EU-4.2-esrd"', 'id = "EU-4.2-elderly"', "duplicate rule id"),
        ('[rules.unconfirmed]\nlimits = "', '[rules.unconfirmed]\nlimitz = "', "names no parameter"),
        ('title = "Opzelura', "title = Opzelura", "not valid TOML"),
    ],
)
def test_broken_ruleset_is_rejected(old: str, new: str, needle: str) -> None:
    text = EU_FILE.read_text(encoding="utf-8")
    assert old in text
    with pytest.raises(RulesetError) as e:
        parse_ruleset(text.replace(old, new, 1), "broken.toml")
    assert needle in str(e.value)


def test_a_new_label_version_is_a_new_file(tmp_path: Path) -> None:
    text = EU_FILE.read_text(encoding="utf-8")
    text = text.replace('id = "opzelura-eu-2023"', 'id = "opzelura-eu-draft"').replace(
        "params = { min_hours = 8 }", "params = { min_hours = 10 }"
    )
    path = tmp_path / "opzelura-eu-draft.toml"
    path.write_text(text, encoding="utf-8")
    draft = load_ruleset(path)
    r = copy.deepcopy(ISSUE_EXAMPLE)
    r["ruleset"] = "opzelura-eu-draft"
    r["applications"] = [{"at": "2026-11-25T08:00:00+01:00"}, {"at": "2026-11-25T17:00:00+01:00"}]
    assert "EU-4.2-interval" in [f.rule for f in evaluate(r, ruleset=draft).findings]
    r["ruleset"] = "opzelura-eu-2023"
    assert "EU-4.2-interval" not in [f.rule for f in evaluate(r).findings]


def test_unknown_ruleset_name() -> None:
    with pytest.raises(RulesetError):
        load_ruleset("opzelura-jp")
