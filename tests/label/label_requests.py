"""Shared requests for the label tests (plain module: imported by the test files)."""

from __future__ import annotations

from typing import Any

ISSUE_EXAMPLE: dict[str, Any] = {
    "ruleset": "opzelura-eu-2023",
    "on": "2026-11-26",
    "timezone": "Europe/Stockholm",
    "patient": {
        "birth_date": "2010-05-01",
        "sex": "female",
        "diagnosis": "non-segmental",
        "facial_involvement": True,
        "pregnant": False,
        "breastfeeding": False,
        "childbearing_potential": True,
        "hypersensitivity": False,
        "end_stage_renal_disease": False,
    },
    "plan": {
        "areas": [{"region": "face", "hand_units": 2.0}, {"region": "hands", "hand_units": 3.0}],
        "sites": ["face"],
    },
    "applications": [{"at": "2026-11-25T07:30:00+01:00", "hand_units": 5.0, "grams": 1.3}],
    "dispensed": [{"on": "2026-11-01", "grams": 100, "opened_on": "2026-11-01"}],
    "course": {
        "started_on": "2025-11-20",
        "assessments": [{"on": "2026-11-19", "week": 52, "repigmentation_percent": 20}],
    },
}

# A patient with no finding of her own: adult man, eligible, no flags.
CLEAN: dict[str, Any] = {
    "ruleset": "opzelura-eu-2023",
    "on": "2026-11-26",
    "timezone": "Europe/Stockholm",
    "patient": {
        "birth_date": "1980-03-15",
        "sex": "male",
        "diagnosis": "non-segmental",
        "facial_involvement": True,
        "pregnant": False,
        "breastfeeding": False,
        "childbearing_potential": False,
        "hypersensitivity": False,
        "end_stage_renal_disease": False,
    },
}
