"""What a page needs to show the body map, and the scoring of a submitted drawing by the core."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from repigment.scoring import ScoringError, VasiResult, score_assessment
from repigment.web import bodymap as bm
from repigment.web.labels import VIEWS as VIEW_LABELS
from repigment.web.labels import all_area_labels


def context(
    age_years: float,
    variant: Mapping[str, bool],
    drawing: Mapping[str, Sequence[int]] | None,
    gettext: Callable[[str], str],
    lang: str,
    readonly: bool = False,
) -> dict[str, Any]:
    labels = all_area_labels(lang)
    config = bm.page_config(age_years, variant)
    config["locale"] = lang
    config["readonly"] = readonly
    config["labels"] = labels
    config["messages"] = {"painted": gettext("%(percent)s%% painted") % {"percent": "%(percent)s"}}
    config["drawing"] = {k: bm.rle(v) for k, v in drawing.items()} if drawing else None
    views = [
        {
            "name": v.name,
            "width": v.width,
            "height": v.height,
            "cols": v.cols,
            "rows": v.rows,
            "paths": bm.view_paths(v),
        }
        for v in bm.VIEWS
    ]
    return {"config": config, "views": views, "labels": labels, "view_labels": VIEW_LABELS}


def assessment(
    drawing: Mapping[str, Sequence[int]], age_years: float, variant: Mapping[str, bool]
) -> dict[str, Any]:
    """The ``score_assessment`` input for a drawing; hand units exact (fractions)."""
    return {
        "age_years": age_years,
        "variant": dict(variant),
        "patches": bm.drawing_patches(drawing, age_years),
    }


def assessment_json(data: Mapping[str, Any]) -> dict[str, Any]:
    """The same assessment with plain numbers, for JSON transport and storage."""
    return {
        "age_years": data["age_years"],
        "variant": dict(data["variant"]),
        "patches": [{**p, "hand_units": float(p["hand_units"])} for p in data["patches"]],
    }


def score(drawing: Mapping[str, Sequence[int]], age_years: float, variant: Mapping[str, bool]) -> VasiResult:
    """Scores of a drawing, by the core; raises ``ScoringError`` for bad input."""
    result = score_assessment(assessment(drawing, age_years, variant))
    if not isinstance(result, VasiResult):  # pragma: no cover - core contract
        raise ScoringError("assessment", "unexpected result")
    return result
