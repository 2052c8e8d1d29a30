"""Geometry of the inline SVG progress charts (drawn by templates/_chart.html)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Final

# Improvement from baseline marked on the charts: the VASI50/75/90 responder levels (TRuE-V endpoints).
THRESHOLDS: Final = (50, 75, 90)

W: Final = 440
H: Final = 240
LEFT: Final = 48
RIGHT: Final = 16
TOP: Final = 16
BOTTOM: Final = 40


def _nice_max(v: float) -> float:
    if v <= 0:
        return 1.0
    exp = 10 ** math.floor(math.log10(v))
    for m in (1, 2, 4, 6, 8, 10):  # quarter steps stay short decimals
        if m * exp >= v:
            return float(m * exp)
    return float(10 * exp)  # pragma: no cover


def series_chart(
    points: Sequence[tuple[int, float]], baseline: float | None, min_weeks: int = 52
) -> dict[str, Any]:
    """Coordinates for one score over weeks: the line, dots, baseline and threshold lines, axis ticks."""
    max_week = max([min_weeks, *(w for w, _ in points)])
    top = _nice_max(max([baseline or 0, *(v for _, v in points)]) * 1.05)
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM

    def x(week: float) -> float:
        return round(LEFT + pw * week / max_week, 1)

    def y(value: float) -> float:
        return round(TOP + ph * (1 - value / top), 1)

    dots = [{"x": x(w), "y": y(v), "week": w, "value": v} for w, v in points]
    lines = []
    if baseline:
        lines.append({"kind": "baseline", "y": y(baseline), "value": baseline, "percent": 0})
        for t in THRESHOLDS:
            value = baseline * (100 - t) / 100
            lines.append({"kind": "threshold", "y": y(value), "value": value, "percent": t})
    step = 4 if max_week <= 56 else 8 if max_week <= 112 else 26
    xticks = [{"x": x(w), "week": w} for w in range(0, max_week + 1, step)]
    yticks = [{"y": y(top * i / 4), "value": top * i / 4} for i in range(5)]
    digits = 0 if top >= 4 and top % 4 == 0 else 1 if top >= 2 else 2
    return {
        "w": W,
        "h": H,
        "left": LEFT,
        "right": W - RIGHT,
        "top": TOP,
        "bottom": H - BOTTOM,
        "path": " ".join(("M" if i == 0 else "L") + f"{d['x']},{d['y']}" for i, d in enumerate(dots)),
        "dots": dots,
        "lines": lines,
        "xticks": xticks,
        "yticks": yticks,
        "digits": digits,
    }


def rate_chart(
    points: Sequence[tuple[float, float, float, float]], published: Sequence[tuple[float, float]] = ()
) -> dict[str, Any]:
    """Responder rate over weeks: ``points`` are (week, rate, CI low, CI high) as fractions, drawn as a
    line with whiskers; ``published`` (week, rate) as open diamonds. The y axis is 0–100 %."""
    max_week = max([52.0, *(p[0] for p in points)])
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM

    def x(week: float) -> float:
        return round(LEFT + pw * week / max_week, 1)

    def y(rate: float) -> float:
        return round(TOP + ph * (1 - rate), 1)

    dots = [
        {"x": x(w), "y": y(r), "lo": y(lo), "hi": y(hi), "week": w, "rate": r, "low": lo, "high": hi}
        for w, r, lo, hi in points
    ]
    return {
        "w": W,
        "h": H,
        "left": LEFT,
        "right": W - RIGHT,
        "top": TOP,
        "bottom": H - BOTTOM,
        "path": " ".join(("M" if i == 0 else "L") + f"{d['x']},{d['y']}" for i, d in enumerate(dots)),
        "dots": dots,
        "published": [{"x": x(w), "y": y(r), "week": w, "rate": r} for w, r in published],
        "xticks": [{"x": x(w), "week": w} for w in range(0, int(max_week) + 1, 4 if max_week <= 56 else 8)],
        "yticks": [{"y": y(i / 4), "value": 25 * i} for i in range(5)],
    }
