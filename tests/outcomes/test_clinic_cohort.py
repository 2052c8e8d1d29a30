"""Outcomes from the store: a clinic's visits as de-identified long data, single-arm analysis, and
``repigment trial --clinic`` giving the same JSON as the function (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from typer.testing import CliRunner

from repigment.cli import build_app
from repigment.outcomes import OutcomesError
from repigment.scoring import is_responder
from repigment.services.cohort import (
    COLUMNS,
    analyse_clinic,
    clinic_by_name,
    clinic_long_data,
    pseudonym,
    pseudonym_key,
)
from repigment.services.schemas import VisitIn
from repigment.services.visits import build_visit
from repigment.store import Actor, Clinic, Course, Patient, Visit

runner = CliRunner()
CLINIC = "Cohort test clinic"
START = dt.date(2026, 1, 5)
# (name, birth date, [(week, face % depigmented, VNS)]); "Nobase" has no week-0 visit.
PEOPLE = (
    ("Anna", dt.date(1991, 4, 12), [(0, 100, None), (12, 50, 3), (24, 10, 4)]),
    ("Erik", dt.date(1977, 9, 30), [(0, 100, None), (12, 90, 2), (24, 75, 3)]),
    ("Nobase", dt.date(1960, 1, 1), [(12, 50, 4)]),
)


@pytest.fixture
def demo(store: Any) -> Any:
    """A small clinic written through the API's own visit builder (scores from the core)."""
    with store.write(Actor("test")) as db:
        clinic = Clinic(name=CLINIC)
        db.add(clinic)
        db.flush()
        for name, born, visits in PEOPLE:
            p = Patient(
                clinic_id=clinic.id, given_name=name, family_name="Cohort", birth_date=born, sex="female"
            )
            db.add(p)
            db.flush()
            course = Course(
                patient_id=p.id,
                ruleset="opzelura-eu-2023",
                started_on=START,
                plan={},
                verdict="ok",
                findings=[],
            )
            db.add(course)
            db.flush()
            for week, depig, vns in visits:
                body = VisitIn.model_validate(
                    {
                        "course_id": course.id,
                        "visited_on": START + dt.timedelta(weeks=week),
                        "patches": [{"region": "face", "hand_units": 1.0, "depigmentation_percent": depig}],
                        "vns": vns,
                    }
                )
                db.add(build_visit(db, p, body, None))  # no recorded week: derived from the course start
                db.flush()
        db.commit()
    return store


def _cohort(store: Any) -> Any:
    with store.read() as db:
        clinic = clinic_by_name(db, CLINIC)
        assert clinic is not None
        return clinic_long_data(db, clinic, pseudonym_key())


def test_long_data_is_deidentified_and_complete(demo: Any) -> None:
    cohort = _cohort(demo)
    df = cohort.data
    assert tuple(df.columns) == COLUMNS and len(df) == 6
    with demo.read() as db:
        patients = db.query(Patient).all()
        names = {p.given_name for p in patients} | {p.family_name for p in patients}
        clinic_id = patients[0].clinic_id
        ids = {pseudonym(clinic_id, p.id, pseudonym_key()) for p in patients}
        n_vns = db.query(Visit).filter(Visit.vns.is_not(None)).count()
    text = df.to_csv()
    assert not any(n in text for n in names)
    assert set(df["patient_id"]) < ids and all(len(i) == 16 for i in ids)
    assert set(df["arm"]) == {"ruxolitinib"} and sorted(set(df["week"])) == [0, 12, 24]
    assert int(df["vns"].notna().sum()) == n_vns - 1 == 4
    summary = cohort.summary()
    assert (summary["patients"], summary["patients_analysed"], summary["excluded_no_baseline"]) == (3, 2, 1)
    assert _cohort(demo).data["patient_id"].tolist() == df["patient_id"].tolist()  # stable


def test_single_arm_rates_by_hand(demo: Any) -> None:
    cohort = _cohort(demo)
    # VNS at week 24: Anna 4 (success), Erik 3 → 1/2 (Nobase has no baseline: not analysed).
    # Wilson 95%: 0.5 ± 0.40546; Clopper–Pearson (R binom.test(1, 2)): 0.01257912 to 0.98742088.
    res = analyse_clinic(cohort, "VNS4-5", 24)
    arm = res["arms"]["ruxolitinib"]
    assert (arm["responders"], arm["n"], arm["rate"]) == (1, 2, 0.5)
    assert arm["wilson_ci"] == pytest.approx([0.094531, 0.905469], abs=1e-6)
    assert arm["exact_ci"] == pytest.approx([0.01257912, 0.98742088], abs=1e-8)
    assert res["single_arm"] is True and res["control"] is None and list(res["arms"]) == ["ruxolitinib"]
    assert res["risk_difference"]["estimate"] is None and res["odds_ratio"]["estimate"] is None
    assert "no comparator" in res["risk_difference"]["note"]
    # F-VASI75 at week 24 from the stored scores themselves.
    df = cohort.data
    expected = 0
    for _, g in df.groupby("patient_id", observed=True):
        base = float(g.loc[g.week == 0, "f_vasi"].iloc[0])
        wk24 = float(g.loc[g.week == 24, "f_vasi"].iloc[0])
        expected += bool(is_responder(base, wk24, 75))
    assert expected == 1  # Anna: 1.0 → 0.1 (−90%); Erik: 1.0 → 0.75 (−25%)
    f75 = analyse_clinic(cohort, "F-VASI75", 24)["arms"]["ruxolitinib"]
    assert (f75["responders"], f75["n"]) == (expected, 2)
    nri = analyse_clinic(cohort, "F-VASI50", 30, window=0, missing="nri")["arms"]["ruxolitinib"]
    assert (nri["responders"], nri["n"]) == (0, 2)  # nobody seen at week 30: non-responders
    with pytest.raises(OutcomesError, match="no analysable patients"):
        analyse_clinic(cohort, "F-VASI50", 30, window=0)


def test_cli_clinic_matches_the_function(demo: Any, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPIGMENT_DATABASE_URL", db_url)
    app = build_app(["trial"])
    res = runner.invoke(app, ["trial", "--clinic", CLINIC, "--endpoint", "VNS4-5", "--week", "24", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout) == json.loads(json.dumps(analyse_clinic(_cohort(demo), "VNS4-5", 24)))
    text = runner.invoke(app, ["trial", "--clinic", CLINIC, "--strata", "sex"])
    assert text.exit_code == 0 and "single-arm" in text.stdout and "2 of 3 patients" in text.stdout
    bad = runner.invoke(app, ["trial", "--clinic", "No such clinic"])
    assert bad.exit_code == 2 and "no clinic named 'No such clinic'" in bad.stderr
    both = runner.invoke(app, ["trial", "x.csv", "--clinic", CLINIC])
    assert both.exit_code == 2 and "one of FILE, --clinic or --published" in both.stderr
    strat = runner.invoke(app, ["trial", "--clinic", CLINIC, "--strata", "region"])
    assert strat.exit_code == 2 and "region" in strat.stderr


def test_a_visit_before_the_course_cannot_change_the_week_52_result(demo: Any) -> None:
    """Issue 14: a visit 11 months before the course, typed as week 52, with an empty map, was saved and
    made a responder at week 52. Every form of it is refused by the one visit builder."""
    from repigment.services.errors import InputError

    with demo.write(Actor("test")) as db:
        anna = db.query(Patient).filter(Patient.given_name == "Anna").one()
        course = db.query(Course).filter(Course.patient_id == anna.id).one()
        before = START - dt.timedelta(days=335)
        attempts = [
            (
                {"course_id": course.id, "week": 52, "patches": [], "no_depigmentation": True},
                "body.visited_on",
            ),
            ({"week": 52, "patches": [], "no_depigmentation": True}, "body.week"),
            ({"repigmentation_percent": 100, "patches": [], "no_depigmentation": True}, "body.visited_on"),
            ({"patches": []}, "body.patches"),
        ]
        for extra, field in attempts:
            body = VisitIn.model_validate({"visited_on": before, **extra})
            with pytest.raises(InputError) as e:
                build_visit(db, anna, body, None)
            assert e.value.path == field, extra
        # the week is computed, whatever is typed (within the 2-week tolerance)
        later = VisitIn.model_validate(
            {
                "visited_on": START + dt.timedelta(weeks=52),
                "week": 51,
                "patches": [],
                "no_depigmentation": True,
            }
        )
        v = build_visit(db, anna, later, None)
        assert v.week == 52 and v.course_id == course.id and v.flags == []
        # a second visit in week 12 is saved and flagged
        again = VisitIn.model_validate(
            {
                "visited_on": START + dt.timedelta(weeks=12, days=2),
                "patches": [{"region": "face", "hand_units": 1.0, "depigmentation_percent": 50}],
            }
        )
        v2 = build_visit(db, anna, again, None)
        assert v2.week == 12 and v2.flags[0]["flag"] == "same_week"
        assert v2.flags[0]["other_visits_on"] == [(START + dt.timedelta(weeks=12)).isoformat()]
