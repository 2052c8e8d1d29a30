"""The minimum valid case and the value checks a case must pass before it can be sent.

Minimum valid case (GVP Module VI.B.2; ICH E2D; docs/reference/pharmacovigilance.md §5): an identifiable
reporter (qualification and country), an identifiable patient, at least one suspect product and at least
one suspected reaction. The element-level ICH conformance is checked on the message itself
(:mod:`repigment.safety.elements`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping
from typing import Any, Final

from repigment.safety.codes import (
    ACTIONS_TAKEN,
    DRUG_ROLES,
    OUTCOMES,
    QUALIFICATIONS,
    REPORT_TYPES,
    SENDER_TYPES,
    SEXES,
    SUSPECT_ROLES,
)
from repigment.safety.model import IcsrCase, Null, is_hl7_ts

# Characters XML 1.0 cannot carry (XML 1.0 §2.2 Char production).
_NOT_XML: Final = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _texts(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from _texts(getattr(value, f.name), f"{path}.{f.name}" if path else f.name)
    elif isinstance(value, tuple):
        for i, item in enumerate(value):
            yield from _texts(item, f"{path}[{i}]")


def xml_text_problems(value: Any, path: str = "") -> list[str]:
    """Every text in ``value`` (a case, a batch) holding a character XML cannot carry, by field path."""
    return [
        f"{where}: character U+{ord(m.group()):04X} cannot be sent in XML"
        for where, text in _texts(value, path)
        if (m := _NOT_XML.search(text))
    ]


class IcsrIncomplete(ValueError):
    """A case cannot be sent: ``problems`` lists every missing or invalid element, by E2B element id."""

    def __init__(self, problems: tuple[str, ...]) -> None:
        self.problems = problems
        super().__init__("ICSR not generated; " + "; ".join(problems))


def _code_problem(element: str, where: str, value: object, allowed: Mapping[str, str]) -> list[str]:
    if value is None or isinstance(value, Null) or value in allowed:
        return []
    return [f"{element} ({where}): code {value!r} is not one of {sorted(allowed)}"]


def _ts_problem(element: str, where: str, value: str | None) -> list[str]:
    if value is None or is_hl7_ts(value):
        return []
    return [f"{element} ({where}): {value!r} is not an HL7 date/time (CCYY[MM[DD[hhmmss]]][+ZZzz])"]


def minimum_case_problems(case: IcsrCase) -> list[str]:
    """Everything that stops ``case`` from being a minimum valid, well-formed case (empty when none)."""
    problems = xml_text_problems(case)
    # Identifiable reporter.
    if not case.primary_sources:
        problems.append(
            "C.2.r primary source: none given; an identifiable reporter (qualification, country) is needed"
        )
    elif not any(
        isinstance(ps.qualification, str) and isinstance(ps.country, str) for ps in case.primary_sources
    ):
        for i, ps in enumerate(case.primary_sources, start=1):
            if not isinstance(ps.qualification, str):
                problems.append(f"C.2.r.4 Qualification (primary source {i}): missing")
            if not isinstance(ps.country, str):
                problems.append(f"C.2.r.3 Reporter's Country Code (primary source {i}): missing")
    # Identifiable patient.
    p = case.patient
    if not (
        isinstance(p.initials, str)
        or isinstance(p.sex, str)
        or p.birth_date is not None
        or p.age_value is not None
        or p.age_group is not None
    ):
        problems.append(
            "D patient: not identifiable; give initials (D.1), sex (D.5), date of birth (D.2.1), "
            "age at onset (D.2.2) or age group (D.2.3)"
        )
    # Suspect product and reaction.
    if not any(d.role in SUSPECT_ROLES for d in case.drugs):
        problems.append("G.k.1 Characterisation of Drug Role: no suspect or interacting drug")
    if not case.reactions:
        problems.append("E.i reaction/event: none given")

    # Values.
    problems += _code_problem("C.1.3", "type of report", case.report_type, REPORT_TYPES)
    problems += _code_problem("C.3.1", "sender type", case.sender.sender_type, SENDER_TYPES)
    problems += _code_problem("D.5", "patient sex", p.sex, SEXES)
    for element, label, ts in (
        ("C.1.2", "date of creation", case.created),
        ("C.1.4", "first received", case.first_received),
        ("C.1.5", "most recent information", case.most_recent),
        ("D.2.1", "date of birth", p.birth_date),
    ):
        problems += _ts_problem(element, label, ts)
    for i, ps in enumerate(case.primary_sources, start=1):
        problems += _code_problem("C.2.r.4", f"primary source {i}", ps.qualification, QUALIFICATIONS)
    reaction_ids = [r.id for r in case.reactions]
    drug_ids = [d.id for d in case.drugs]
    for i, r in enumerate(case.reactions, start=1):
        problems += _code_problem("E.i.7", f"reaction {i}", r.outcome, OUTCOMES)
        problems += _ts_problem("E.i.4", f"reaction {i}", r.start)
        problems += _ts_problem("E.i.5", f"reaction {i}", r.end)
    for k, d in enumerate(case.drugs, start=1):
        problems += _code_problem("G.k.1", f"drug {k}", d.role, DRUG_ROLES)
        problems += _code_problem("G.k.8", f"drug {k}", d.action_taken, ACTIONS_TAKEN)
        for j, dose in enumerate(d.dosages, start=1):
            problems += _ts_problem("G.k.4.r.4", f"drug {k}, dosage {j}", dose.start)
            problems += _ts_problem("G.k.4.r.5", f"drug {k}, dosage {j}", dose.end)
    for ids, what in ((reaction_ids, "reaction"), (drug_ids, "drug")):
        if len(set(ids)) != len(ids):
            problems.append(f"{what} ids must be unique, got {ids}")
    for n, c in enumerate(case.causality, start=1):
        if c.reaction_id not in reaction_ids:
            problems.append(f"G.k.9.i.1 (causality {n}): reaction {c.reaction_id!r} is not in the case")
        if c.drug_id not in drug_ids:
            problems.append(f"G.k.9.i (causality {n}): drug {c.drug_id!r} is not in the case")
    return problems
