"""The issue's example request through the public API."""

from __future__ import annotations

import copy

import pytest
from label_requests import CLEAN, ISSUE_EXAMPLE

from repigment.label import RULESETS, CheckResult, LabelInputError, evaluate, load_ruleset


def test_issue_example_findings() -> None:
    example = copy.deepcopy(ISSUE_EXAMPLE)
    result = evaluate(example)
    assert isinstance(result, CheckResult)
    assert result.verdict == "warn"
    assert [f.rule for f in result.findings] == ["EU-4.2-week52", "EU-4.6-contraception"]
    week52 = result.findings[0]
    assert week52.severity == "warn" and week52.source == "SmPC 4.2"
    assert "consider discontinuation" in week52.message
    assert result.as_json()["ruleset"] == "opzelura-eu-2023"


def test_clean_patient_is_ok() -> None:
    clean = copy.deepcopy(CLEAN)
    result = evaluate(clean)
    assert result.verdict == "ok"
    assert result.findings == []


def test_bad_input_names_field() -> None:
    example = copy.deepcopy(ISSUE_EXAMPLE)
    example["applications"][0]["at"] = "2026-11-25T07:30:00"
    with pytest.raises(LabelInputError) as e:
        evaluate(example)
    assert e.value.field == "applications[0].at"
    assert isinstance(e.value, ValueError)


def test_packaged_rulesets_load() -> None:
    assert set(RULESETS) == {"opzelura-eu-2023", "opzelura-us", "true-v-entry"}
    assert load_ruleset("opzelura-eu-2023") == RULESETS["opzelura-eu-2023"]
