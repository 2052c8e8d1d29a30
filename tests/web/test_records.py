"""Reading a record for the pages (repigment.services.records), on objects in memory."""

from __future__ import annotations

import datetime as dt

import pytest


def test_typed_repigmentation_that_the_scores_contradict_is_flagged() -> None:
    """The issue's visit: 60 % typed, F-VASI 0.60 → 2.90: −383.3 % by the scores; flagged."""
    from repigment.services import records
    from repigment.store import Course, Patient, Visit

    course = Course(
        id=1, patient_id=1, ruleset="opzelura-eu-2023", started_on=dt.date(2026, 1, 5), status="active"
    )
    base = Visit(id=1, course_id=1, visited_on=dt.date(2026, 1, 5), f_vasi=0.6, t_vasi=0.6)
    later = Visit(
        id=2, course_id=1, visited_on=dt.date(2027, 1, 4), f_vasi=2.9, t_vasi=2.9, repigmentation_percent=60.0
    )
    rec = records.Record(Patient(id=1), dt.date(2027, 1, 4), [course], [base, later], [], [], [])
    pair = records.repigmentation_check(rec, later)
    assert pair is not None and pair[0] is base
    assert pair[1].disagrees and float(pair[1].by_scores["F-VASI"] or 0) == pytest.approx(-383.333, abs=1e-3)


def test_ages_are_shown_in_completed_years() -> None:
    """Issue 14: born 1991-04-12, on 2026-12-03 the exact age is 35.64: the label engine says 35, the
    page said 36 ("weights for age 36")."""
    from repigment.body import age_on
    from repigment.web.render import environment

    years, exact = age_on(dt.date(1991, 4, 12), dt.date(2026, 12, 3))
    assert years == 35 and float(exact) > 35.5
    for lang in ("en", "sv"):
        assert environment(lang).from_string("{{ a|years }}").render(a=float(exact)) == "35"
    assert environment("en").from_string("{{ a|years }}").render(a=36.0) == "36"
    from pathlib import Path

    from repigment.web import render

    for name in ("clinic/patient.html", "clinic/visit_new.html", "_bodymap.html"):  # every age a person reads
        text = (Path(render.TEMPLATES) / name).read_text()
        assert "|years" in text and "age|num" not in text and "age_years|num" not in text, name


def test_typed_percentages_are_shown_as_entered() -> None:
    """Issue 14: 24.6 % was shown as "25 %" beside "Less than 25 % … consider stopping"."""
    from decimal import Decimal

    from repigment.web.render import environment

    for lang, text in (("en", "24.6"), ("sv", "24,6")):
        assert environment(lang).from_string("{{ v|asentered }}").render(v=24.6) == text
    assert environment("en").from_string("{{ v|asentered }}").render(v=24.999) == "24.999"
    assert environment("en").from_string("{{ v|asentered }}").render(v=Decimal(25)) == "25"
    from pathlib import Path

    from repigment.web import render

    for name in ("clinic/patient.html", "clinic/visit.html"):
        text = (Path(render.TEMPLATES) / name).read_text()
        assert "repigmentation_percent|num" not in text and "repigmentation_percent|asentered" in text, name


def test_progress_computes_no_change_across_instrument_variants() -> None:
    """Issue 14: a baseline without eyelids and a visit with them (face 1.0 + eyelids 0.1) read as +10 %."""
    from repigment.services import records
    from repigment.store import Course, Patient, Visit

    course = Course(
        id=1, patient_id=1, ruleset="opzelura-eu-2023", started_on=dt.date(2026, 1, 5), status="active"
    )
    without = {"face_includes_eyelids": False, "t_vasi_includes_head_neck": True}
    model = "lund-browder-1944/linear-interpolation/adult-18/v1"
    base = Visit(
        id=1,
        course_id=1,
        visited_on=dt.date(2026, 1, 5),
        f_vasi=1.0,
        t_vasi=1.1,
        variant=without,
        body_model=model,
    )
    with_lids = dict(without, face_includes_eyelids=True)
    later = Visit(
        id=2,
        course_id=1,
        visited_on=dt.date(2026, 6, 22),
        f_vasi=1.1,
        t_vasi=1.1,
        variant=with_lids,
        body_model=model,
    )
    rec = records.Record(Patient(id=1), dt.date(2026, 6, 22), [course], [base, later], [], [], [])
    prog = records.progress(rec)
    assert prog["mixed_variants"] and prog["change"] == {}
    later.variant = without
    prog = records.progress(rec)
    assert not prog["mixed_variants"] and prog["change"]["f_vasi"] == pytest.approx(10.0)
