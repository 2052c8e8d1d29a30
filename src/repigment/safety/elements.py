"""ICH E2B(R3) element conformance, checked at the XPaths of FDA's data-element sheet.

The sheet (package data ``data/ich_elements.csv``; source and selection in ``data/README.txt``) gives each
element's id, ICH conformance, the nullFlavors it may carry and its XPath. Its XPaths are written without
the HL7 namespace and with ``[r]``/``[i]``/``[k]`` where a group repeats; :func:`check_message` evaluates
them group by group, so an element missing from the second reaction is reported as such.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Final

from lxml import etree

from repigment.safety.codes import NS

_MARKER: Final = re.compile(r"\[([rik])\]")
_NAME: Final = re.compile(r"[A-Za-z_][\w.\-]*(?::[A-Za-z_][\w.\-]*)?")
_OPERATORS: Final = frozenset({"and", "or", "div", "mod"})
_DRUG_UUID: Final = "UUID of k-th drug"
_DRUG_UUID_PREDICATE: Final = "[@root='UUID of k-th drug']"
# Where the drugs' ids are, to expand the sheet's 'UUID of k-th drug' placeholder (G.k.1).
_DRUG_IDS: Final = (
    ".//h:organizer[h:code[@code='4'][@codeSystem='2.16.840.1.113883.3.989.2.1.1.20']]"
    "/h:component/h:substanceAdministration/h:id/@root"
)
_GROUP_NAMES: Final = {"i": "reaction", "k": "drug", "r": "repeat"}


@dataclass(frozen=True, slots=True)
class ElementSpec:
    element_id: str
    name: str
    conformance: str
    null_flavors: frozenset[str]
    xpath: str
    null_xpath: str

    @property
    def required(self) -> bool:
        return self.conformance == "Required"


@dataclass(frozen=True, slots=True)
class MissingElement:
    """An element absent where the ICH conformance requires it, or carrying a nullFlavor it may not have."""

    element_id: str
    name: str
    where: str
    reason: str

    def __str__(self) -> str:
        place = f" ({self.where})" if self.where else ""
        return f"{self.element_id} {self.name}{place}: {self.reason}"


@cache
def element_specs() -> dict[str, ElementSpec]:
    """The shipped rows of the data-element sheet, by element id."""
    text = resources.files("repigment.safety").joinpath("data/ich_elements.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(text.splitlines())
    return {
        r["element_id"]: ElementSpec(
            element_id=r["element_id"],
            name=r["name"],
            conformance=r["ich_conformance"],
            null_flavors=frozenset(r["null_flavors"].split()),
            xpath=r["xpath"],
            null_xpath=r["null_xpath"],
        )
        for r in rows
    }


def required_elements() -> list[ElementSpec]:
    return [s for s in element_specs().values() if s.required]


def namespaced(xpath: str) -> str:
    """Prefix every element name step of a sheet XPath with ``h:`` (the HL7 v3 namespace)."""
    out: list[str] = []
    i, n = 0, len(xpath)
    while i < n:
        c = xpath[i]
        if c in "'\"":
            j = xpath.index(c, i + 1)
            out.append(xpath[i : j + 1])
            i = j + 1
            continue
        m = _NAME.match(xpath, i)
        if m and (i == 0 or not (xpath[i - 1].isalnum() or xpath[i - 1] in "_-.")):
            name = m.group(0)
            j = m.end()
            rest = xpath[j:].lstrip()
            prev = "".join(out).rstrip()[-1:] if out else ""
            is_attr = prev == "@"
            is_func = rest.startswith("(")
            is_op = name in _OPERATORS and prev not in ("/", "[", "")
            out.append(name if is_attr or is_func or is_op or ":" in name else f"h:{name}")
            i = j
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _split_groups(xpath: str) -> list[tuple[str, str]]:
    """Split at each repeat marker: [(path up to the marker, marker letter) …, (final remainder, '')]."""
    parts: list[tuple[str, str]] = []
    pos = 0
    for m in _MARKER.finditer(xpath):
        parts.append((xpath[pos : m.start()], m.group(1)))
        pos = m.end()
    parts.append((xpath[pos:], ""))
    return parts


def _evaluate(node: Any, path: str, absolute: bool) -> list[Any]:
    expr = namespaced(path) if absolute else "." + namespaced(path)
    result = node.xpath(expr, namespaces=NS)
    return list(result) if isinstance(result, list) else [result]


def _has_value(found: Sequence[Any]) -> bool:
    return any(str(v).strip() for v in found)


def _group_name(marker: str, depth: int) -> str:
    return "message" if marker == "r" and depth == 0 else _GROUP_NAMES[marker]


def _check_spec(root: Any, spec: ElementSpec) -> list[MissingElement]:
    if _DRUG_UUID in spec.xpath:
        return _check_per_drug(root, spec)
    value_parts = _split_groups(spec.xpath)
    null_parts = _split_groups(spec.null_xpath) if spec.null_xpath else []
    problems: list[MissingElement] = []

    def walk(node: Any, depth: int, where: list[str]) -> None:
        path, marker = value_parts[depth]
        absolute = depth == 0
        if marker:
            instances = _evaluate(node, path, absolute)
            if not instances:
                problems.append(
                    MissingElement(
                        spec.element_id, spec.name, ", ".join(where), f"no {_group_name(marker, depth)}"
                    )
                )
            for idx, inst in enumerate(instances, start=1):
                walk(inst, depth + 1, [*where, f"{_group_name(marker, depth)} {idx}"])
            return
        found = _evaluate(node, path, absolute)
        if _has_value(found):
            return
        place = ", ".join(where)
        if len(null_parts) == len(value_parts):
            flavors = [str(f) for f in _evaluate(node, null_parts[depth][0], absolute) if str(f).strip()]
            if flavors:
                bad = [f for f in flavors if f not in spec.null_flavors]
                if bad:
                    allowed = " ".join(sorted(spec.null_flavors)) or "none"
                    problems.append(
                        MissingElement(
                            spec.element_id,
                            spec.name,
                            place,
                            f"nullFlavor {bad[0]} not allowed (allowed: {allowed})",
                        )
                    )
                return
        problems.append(MissingElement(spec.element_id, spec.name, place, "missing"))

    walk(root, 0, [])
    return problems


def _check_per_drug(root: Any, spec: ElementSpec) -> list[MissingElement]:
    """G.k.1: the role must be given for each drug, found through the drug's id."""
    problems: list[MissingElement] = []
    messages = _evaluate(root, _split_groups(spec.xpath)[0][0], True)
    for m_idx, message in enumerate(messages, start=1):
        drug_ids = [str(x) for x in message.xpath(_DRUG_IDS, namespaces=NS)]
        for d_idx, drug_id in enumerate(drug_ids, start=1):
            rest = _split_groups(spec.xpath)[1][0].replace(_DRUG_UUID, drug_id)
            if not _has_value(_evaluate(message, rest, False)):
                problems.append(
                    MissingElement(spec.element_id, spec.name, f"message {m_idx}, drug {d_idx}", "missing")
                )
    return problems


def check_message(document: Any, specs: Iterable[ElementSpec] | None = None) -> list[MissingElement]:
    """Every problem with the given elements (default: all ICH-required ones) in an E2B(R3) batch."""
    root = document.getroot() if isinstance(document, etree._ElementTree) else document
    tree = root.getroottree()
    problems: list[MissingElement] = []
    for spec in required_elements() if specs is None else specs:
        problems.extend(_check_spec(tree, spec))
    return problems


def values_at(document: Any, element_id: str) -> list[str]:
    """All values of one element at its sheet XPath, over every repeat (for reports and tests)."""
    spec = element_specs()[element_id]
    root = document.getroot() if isinstance(document, etree._ElementTree) else document
    parts = _split_groups(spec.xpath.replace(_DRUG_UUID_PREDICATE, ""))
    nodes: list[Any] = [root.getroottree()]
    for depth, (path, _marker) in enumerate(parts):
        nodes = [hit for n in nodes for hit in _evaluate(n, path, depth == 0)]
    return [str(v) for v in nodes]
