"""Body-map geometry and the conversion of a drawing into scored patches.

The chart is drawn on three views (front, back, and a zoomed face). Each chart area of
``repigment.body.CHART_AREAS`` is one or more polygons; the views are rasterised once into a grid
of cells, each cell belonging to at most one area. A drawing is the depigmentation level of every
cell. A painted area becomes hand units as (cells painted / cells of that area) × the area's
Lund–Browder weight at the patient's age (instruments.md §4) — never pixels of the silhouette,
which do not preserve surface area. The page's JavaScript uses the same grid and the same formula
for its live preview; the saved numbers come from ``repigment.scoring.score_assessment``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from typing import Any, Final, cast

from repigment.body import CHART_AREAS, CHART_AREAS_BY_NAME, drawn_hand_units
from repigment.scoring import DEPIGMENTATION_LADDER

# Brush levels offered on the map: the VASI ladder without 0 (0 is "unpainted").
BRUSH_LEVELS: Final = tuple(x for x in DEPIGMENTATION_LADDER if x > 0)[::-1]  # 100, 90, 75, 50, 25, 10
CELL_UNITS: Final = 2  # one grid cell is 2×2 drawing units

Point = tuple[float, float]


class DrawingError(ValueError):
    """A submitted drawing that cannot be read; ``field`` names the part at fault."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Shape:
    area: str  # a chart-area name, or "" for a shape that is drawn but not paintable
    points: tuple[Point, ...]


@dataclass(frozen=True, slots=True)
class ChartView:
    """One view of the body chart (front, back, face): its size in drawing units and its shapes."""

    name: str
    width: int
    height: int
    shapes: tuple[Shape, ...]  # in priority order: a cell belongs to the first shape containing its centre

    @property
    def cols(self) -> int:
        return self.width // CELL_UNITS

    @property
    def rows(self) -> int:
        return self.height // CELL_UNITS


def _ellipse(cx: float, cy: float, rx: float, ry: float, n: int = 36) -> tuple[Point, ...]:
    return tuple(
        (round(cx + rx * math.cos(2 * math.pi * i / n), 2), round(cy + ry * math.sin(2 * math.pi * i / n), 2))
        for i in range(n)
    )


def _mirror(points: Sequence[Point], width: int = 200) -> tuple[Point, ...]:
    return tuple((width - x, y) for x, y in points)


# Outline of one half of the body (the viewer's left), in a 200 × 440 drawing space.
_UPPER_ARM = ((62, 82), (50, 84), (43, 100), (38, 150), (54, 152), (58, 114), (63, 100))
_FOREARM = ((38, 152), (54, 154), (50, 214), (33, 212))
_HAND = ((33, 214), (50, 216), (53, 236), (47, 258), (36, 258), (29, 236))
_THIGH = ((62, 238), (90, 248), (98, 254), (97, 340), (68, 340), (62, 290))
_LOWER_LEG = ((68, 342), (97, 342), (93, 408), (74, 408))
_FOOT = ((74, 410), (93, 410), (97, 432), (64, 432), (69, 420))
_LIMB_PARTS = (
    ("upper_arm", _UPPER_ARM),
    ("forearm", _FOREARM),
    ("hand", _HAND),
    ("thigh", _THIGH),
    ("lower_leg", _LOWER_LEG),
    ("foot", _FOOT),
)
_NECK = ((90, 54), (110, 54), (112, 78), (88, 78))
_HEAD = _ellipse(100, 31, 21, 26)


def _limbs(view: str) -> list[Shape]:
    # Front view: the patient's right is on the viewer's left; back view: the patient's left is.
    near, far = ("right", "left") if view == "front" else ("left", "right")
    shapes: list[Shape] = []
    for part, pts in _LIMB_PARTS:
        shapes.append(Shape(f"{part}_{near}_{view}", tuple((float(x), float(y)) for x, y in pts)))
        shapes.append(Shape(f"{part}_{far}_{view}", _mirror(pts)))
    return shapes


def _f(pts: Sequence[tuple[int, int]]) -> tuple[Point, ...]:
    return tuple((float(x), float(y)) for x, y in pts)


_FRONT = ChartView(
    "front",
    200,
    440,
    (
        Shape("", _HEAD),  # the head front is painted on the zoomed face view
        Shape("neck_front", _f(_NECK)),
        Shape(
            "genitalia",
            _f(((90, 245), (110, 245), (105, 266), (95, 266))),
        ),
        Shape(
            "trunk_front",
            _f(
                (
                    (64, 80),
                    (88, 76),
                    (112, 76),
                    (136, 80),
                    (138, 140),
                    (132, 196),
                    (138, 236),
                    (110, 246),
                    (90, 246),
                    (62, 236),
                    (68, 196),
                    (62, 140),
                )
            ),
        ),
        *_limbs("front"),
    ),
)

_BACK = ChartView(
    "back",
    200,
    440,
    (
        Shape("head_back", _HEAD),
        Shape("neck_back", _f(_NECK)),
        Shape(
            "trunk_back",
            _f(
                (
                    (64, 80),
                    (88, 76),
                    (112, 76),
                    (136, 80),
                    (138, 140),
                    (132, 196),
                    (136, 222),
                    (64, 222),
                    (68, 196),
                    (62, 140),
                )
            ),
        ),
        Shape("buttock_left", _f(((64, 223), (99, 223), (99, 262), (82, 266), (62, 252)))),
        Shape("buttock_right", _mirror(_f(((64, 223), (99, 223), (99, 262), (82, 266), (62, 252))))),
        *_limbs("back"),
    ),
)

_FACE = ChartView(
    "face",
    200,
    240,
    (
        Shape("eyelids", _ellipse(72, 104, 17, 7, 24)),
        Shape("eyelids", _ellipse(128, 104, 17, 7, 24)),
        Shape("head_front_other", _ellipse(100, 172, 20, 8, 24)),  # lips
        Shape("face", _ellipse(100, 130, 58, 86)),
        Shape("head_front_other", _ellipse(100, 118, 70, 104)),  # front scalp
        Shape("head_front_other", _ellipse(26, 120, 9, 20, 24)),  # ears
        Shape("head_front_other", _ellipse(174, 120, 9, 20, 24)),
    ),
)

VIEWS: Final[tuple[ChartView, ...]] = (_FRONT, _BACK, _FACE)
VIEWS_BY_NAME: Final = {v.name: v for v in VIEWS}
AREA_NAMES: Final[tuple[str, ...]] = tuple(a.name for a in CHART_AREAS)
AREA_INDEX: Final = {name: i for i, name in enumerate(AREA_NAMES)}


def _inside(x: float, y: float, pts: Sequence[Point]) -> bool:
    """Even–odd ray casting."""
    inside = False
    n = len(pts)
    j = n - 1
    for i in range(n):
        xi, yi = pts[i]
        xj, yj = pts[j]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


@cache
def raster(view_name: str) -> tuple[int, ...]:
    """Area index (into ``AREA_NAMES``) of every cell of a view, row by row; -1 outside any area."""
    view = VIEWS_BY_NAME[view_name]
    cells = [-2] * (view.cols * view.rows)  # -2: not yet claimed
    for shape in view.shapes:
        xs = [p[0] for p in shape.points]
        ys = [p[1] for p in shape.points]
        c0, c1 = max(0, int(min(xs) // CELL_UNITS)), min(view.cols - 1, int(max(xs) // CELL_UNITS))
        r0, r1 = max(0, int(min(ys) // CELL_UNITS)), min(view.rows - 1, int(max(ys) // CELL_UNITS))
        idx = AREA_INDEX[shape.area] if shape.area else -1
        for r in range(r0, r1 + 1):
            cy = (r + 0.5) * CELL_UNITS
            for c in range(c0, c1 + 1):
                k = r * view.cols + c
                if cells[k] == -2 and _inside((c + 0.5) * CELL_UNITS, cy, shape.points):
                    cells[k] = idx
    return tuple(-1 if v == -2 else v for v in cells)


@cache
def area_cell_counts() -> dict[str, int]:
    """How many cells each chart area has, over all views."""
    counts = dict.fromkeys(AREA_NAMES, 0)
    for view in VIEWS:
        for v in raster(view.name):
            if v >= 0:
                counts[AREA_NAMES[v]] += 1
    return counts


def rle(values: Sequence[int]) -> list[int]:
    """Run-length code as a flat list ``[value, run, value, run, ...]``."""
    out: list[int] = []
    for v in values:
        if out and out[-2] == v:
            out[-1] += 1
        else:
            out += [v, 1]
    return out


def unrle(data: Any, length: int, field: str, allowed: frozenset[int]) -> list[int]:
    """Decode ``rle``'s output into exactly ``length`` cells. A run longer than the cells left is refused
    before anything is allocated for it: a 100-byte drawing must not claim gigabytes."""
    if not isinstance(data, list) or len(data) % 2:
        raise DrawingError(field, "must be a list of [level, run] pairs")
    out: list[int] = []
    for i in range(0, len(data), 2):
        v, n = data[i], data[i + 1]
        if isinstance(v, bool) or not isinstance(v, int) or v not in allowed:
            raise DrawingError(field, f"level {v!r} at position {i} is not one of {sorted(allowed)}")
        if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
            raise DrawingError(field, f"run length {n!r} at position {i + 1} must be a positive integer")
        if n > length - len(out):
            raise DrawingError(
                field, f"run length {n} at position {i + 1} is longer than the {length - len(out)} cells left"
            )
        out += [v] * n
    if len(out) != length:
        raise DrawingError(field, f"covers {len(out)} cells, expected {length}")
    return out


def parse_drawing(raw: Any) -> dict[str, list[int]]:
    """Decode a submitted drawing (JSON text or object) into a level per cell for each view."""
    if isinstance(raw, str):
        if not raw.strip():
            raw = {}
        else:
            try:
                raw = json.loads(raw)
            except json.JSONDecodeError as e:
                raise DrawingError("drawing", f"is not valid JSON ({e.msg})") from e
            except (ValueError, RecursionError) as e:  # a number of over 4300 digits; deep nesting
                reason = "is not a drawing (numbers too long or nesting too deep)"
                raise DrawingError("drawing", reason) from e
    if not isinstance(raw, Mapping):
        raise DrawingError("drawing", "must be an object with one entry per view")
    unknown = set(raw) - set(VIEWS_BY_NAME)
    if unknown:
        raise DrawingError("drawing", f"unknown view(s) {sorted(unknown)}; expected {sorted(VIEWS_BY_NAME)}")
    allowed = frozenset(DEPIGMENTATION_LADDER)
    out: dict[str, list[int]] = {}
    for view in VIEWS:
        n = view.cols * view.rows
        out[view.name] = (
            unrle(raw[view.name], n, f"drawing.{view.name}", allowed) if view.name in raw else [0] * n
        )
    return out


def painted_counts(drawing: Mapping[str, Sequence[int]]) -> dict[str, dict[int, int]]:
    """Cells painted per chart area and depigmentation level (cells outside any area are ignored)."""
    counts: dict[str, dict[int, int]] = {}
    for view in VIEWS:
        cells = raster(view.name)
        for a, level in zip(cells, drawing[view.name], strict=True):
            if a >= 0 and level > 0:
                per = counts.setdefault(AREA_NAMES[a], {})
                per[level] = per.get(level, 0) + 1
    return counts


def drawing_patches(drawing: Mapping[str, Sequence[int]], age_years: float) -> list[dict[str, Any]]:
    """One patch per (area, level) painted, hand units exact: cells/area cells × Lund–Browder weight."""
    totals = area_cell_counts()
    patches: list[dict[str, Any]] = []
    counts = painted_counts(drawing)
    for name in AREA_NAMES:
        for level in sorted(counts.get(name, {}), reverse=True):
            # the core takes the painted share exactly, as a Fraction (annotated float)
            share = cast(float, Fraction(counts[name][level], totals[name]))
            hu = drawn_hand_units(name, share, age_years)
            patches.append(
                {
                    "area": name,
                    "region": CHART_AREAS_BY_NAME[name].region,
                    "hand_units": hu,
                    "depigmentation_percent": level,
                }
            )
    return patches


def drawing_from_patches(patches: Sequence[Mapping[str, Any]], age_years: float) -> dict[str, list[int]]:
    """Rebuild a drawing from saved patches: each area filled in scan order to its saved share.

    The shape drawn is not kept, only how much of each area was painted at which level, which is what
    the scores depend on; reloading and saving again gives the same scores. A patch entered by region
    only (no ``area``, as the API allows) is spread over that region's areas in proportion to their
    weights, so its hand units are shown too.
    """
    from repigment.body import area_weight, region_capacities

    totals = area_cell_counts()
    caps = region_capacities(age_years)
    todo: dict[str, list[tuple[int, Fraction]]] = {}
    for p in patches:
        try:
            hu = Fraction(str(p["hand_units"]))
            level = int(p["depigmentation_percent"])
        except (KeyError, TypeError, ValueError):
            continue
        name = p.get("area")
        if name in AREA_INDEX:
            todo.setdefault(str(name), []).append((level, hu / area_weight(str(name), age_years)))
        elif p.get("region") in caps and caps[p["region"]] > 0:
            share = hu / caps[p["region"]]
            for a in CHART_AREAS:
                if a.region == p["region"]:
                    todo.setdefault(a.name, []).append((level, share))
    drawing = {v.name: [0] * (v.cols * v.rows) for v in VIEWS}
    for view in VIEWS:
        cells = raster(view.name)
        queues: dict[int, list[int]] = {}
        for name, items in todo.items():
            q: list[int] = []
            for level, share in sorted(items, reverse=True):
                q += [level] * min(totals[name] - len(q), round(share * totals[name]))
            queues[AREA_INDEX[name]] = q[::-1]
        for k, area_index in enumerate(cells):
            queue = queues.get(area_index)
            if queue:
                drawing[view.name][k] = queue.pop()
    return drawing


@cache
def map_view(area: str) -> str:
    """The view an area is painted on (the head front is painted on the zoomed face view)."""
    i = AREA_INDEX[area]
    return next(v.name for v in VIEWS if i in raster(v.name))


def svg_path(points: Sequence[Point]) -> str:
    return "M" + " L".join(f"{x:g},{y:g}" for x, y in points) + " Z"


def view_paths(view: ChartView) -> list[tuple[str, str]]:
    """(area, SVG path data) per area of a view, the polygons of one area joined into one path."""
    paths: dict[str, list[str]] = {}
    for s in view.shapes:
        paths.setdefault(s.area, []).append(svg_path(s.points))
    return [(a, " ".join(d)) for a, d in paths.items()]


def page_config(age_years: float, variant: Mapping[str, bool]) -> dict[str, Any]:
    """Everything the page's script needs: grids, areas with their weights at this age, the variant."""
    from repigment.body import chart_weights

    weights = chart_weights(age_years)
    totals = area_cell_counts()
    return {
        "levels": list(BRUSH_LEVELS),
        "variant": dict(variant),
        "age_years": age_years,
        "areas": [
            {
                "name": a.name,
                "region": a.region,
                "view": map_view(a.name),
                "weight": float(weights[a.name]),
                "weight_exact": str(weights[a.name]),
                "cells": totals[a.name],
            }
            for a in CHART_AREAS
        ],
        "views": {
            v.name: {"cols": v.cols, "rows": v.rows, "cell": CELL_UNITS, "grid": rle(raster(v.name))}
            for v in VIEWS
        },
    }
