"""Any JSON in, either a result or a LabelInputError naming a field: never another exception."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from label_requests import ISSUE_EXAMPLE

from repigment.label import LabelInputError, evaluate

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(
        ["2026-11-25", "2026-11-25T07:30:00+01:00", "Europe/Stockholm", "face", "lips", "08:00"]
    ),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)


def leaf_paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    paths = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            paths += leaf_paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            paths += leaf_paths(v, (*prefix, i))
    return paths


PATHS = leaf_paths(ISSUE_EXAMPLE)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(PATHS), json_values), min_size=1, max_size=3),
    st.sampled_from(["en", "sv"]),
)
def test_mutated_requests_fail_cleanly(mutations: list[tuple[tuple[Any, ...], Any]], lang: str) -> None:
    r: Any = copy.deepcopy(ISSUE_EXAMPLE)
    for path, value in mutations:
        target = r
        try:
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue
    try:
        result = evaluate(r, lang)
    except LabelInputError as e:
        assert e.field and e.reason
    else:
        assert result.verdict in ("ok", "warn", "block")
        result.as_json()


@settings(max_examples=100, deadline=None)
@given(json_values)
def test_any_json_document(doc: Any) -> None:
    try:
        evaluate(doc)
    except LabelInputError as e:
        assert e.field
