"""``repigment demo``: what ``make run`` starts."""

from __future__ import annotations

import typer

from repigment.cli._io import print_json
from repigment.scoring import compare_scores, score_assessment

_BASELINE = {
    "age_years": 34,
    "patches": [
        {"region": "face", "hand_units": 1.2, "depigmentation_percent": 100},
        {"region": "hands", "hand_units": 3, "depigmentation_percent": 50},
        {"region": "trunk", "hand_units": 4, "depigmentation_percent": 75},
    ],
}
_WEEK24 = {
    "age_years": 34,
    "patches": [
        {"region": "face", "hand_units": 1.2, "depigmentation_percent": 25},
        {"region": "hands", "hand_units": 3, "depigmentation_percent": 50},
        {"region": "trunk", "hand_units": 4, "depigmentation_percent": 50},
    ],
}


def register(app: typer.Typer) -> None:
    @app.command()
    def demo() -> None:
        """Score a demo patient at baseline and week 24 and show the responder endpoints."""
        base, week24 = score_assessment(_BASELINE), score_assessment(_WEEK24)
        print_json(
            {"baseline": base.as_json(), "week24": week24.as_json(), "compare": compare_scores(base, week24)}
        )
