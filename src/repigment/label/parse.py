"""Parsing of the JSON label request (the CLI's input, the API's body) into the typed request.

Every error names the field (``applications[3].at``) and the reason; nothing is silently repaired.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any, Final
from zoneinfo import ZoneInfo

from repigment.body import (
    CHART_AREAS_BY_NAME,
    VASI_REGIONS,
    BodyModelError,
    drawn_hand_units,
    region_capacities,
)
from repigment.body.age import age_on
from repigment.course import WEEK_TOLERANCE, week_of
from repigment.dosing import SEXES
from repigment.label.errors import LabelInputError
from repigment.label.request import (
    DIAGNOSES,
    EXCIPIENTS,
    OTHER_SITES,
    PATIENT_FLAGS,
    SITES,
    SYSTEMIC_CATEGORIES,
    AppliedDose,
    CourseAssessment,
    CourseInput,
    Dispensed,
    PatientFacts,
    PlannedUse,
    Request,
    check_patient_facts,
)
from repigment.label.validation import boolean, date, instant, local_time, number, obj, strings, time_zone
from repigment.scoring import (
    CAPACITY_TOLERANCE,
    ScoringError,
    Variant,
    VasiResult,
    parse_patch,
    score_patches,
)
from repigment.scoring.vasi import parse_variant

# What an unknown site is told it should have been (the sites are too many to list).
SITES_EXPECTED: Final = "a VASI region, a chart area or one of " + str(list(OTHER_SITES))


def parse_patient(raw: Any, on: dt.date) -> tuple[PatientFacts, int, Fraction]:
    flags = PATIENT_FLAGS
    p = obj(
        raw,
        "patient",
        ("birth_date", "sex", "diagnosis", *flags),
        ("nmsc_risk_factors", "concomitant_systemic", "excipient_reactions"),
    )
    birth = date(p["birth_date"], "patient.birth_date")
    if birth > on:
        raise LabelInputError("patient.birth_date", f"{birth} is after the evaluation date {on}")
    years, exact = age_on(birth, on)
    if years > 130:
        raise LabelInputError("patient.birth_date", f"gives an age of {years} years on {on}")
    if p["sex"] not in SEXES:
        raise LabelInputError("patient.sex", f"must be one of {list(SEXES)}, got {p['sex']!r}")
    if p["diagnosis"] not in DIAGNOSES:
        raise LabelInputError(
            "patient.diagnosis", f"must be one of {list(DIAGNOSES)}, got {p['diagnosis']!r}"
        )
    values = {f: boolean(p[f], f"patient.{f}") for f in flags}
    try:
        check_patient_facts(p["sex"], values)
    except LabelInputError as e:
        raise LabelInputError(f"patient.{e.field}", e.reason) from e
    nmsc = boolean(p["nmsc_risk_factors"], "patient.nmsc_risk_factors") if "nmsc_risk_factors" in p else False
    systemic = (
        strings(p["concomitant_systemic"], "patient.concomitant_systemic", SYSTEMIC_CATEGORIES)
        if "concomitant_systemic" in p
        else ()
    )
    reactions = (
        strings(p["excipient_reactions"], "patient.excipient_reactions", EXCIPIENTS)
        if "excipient_reactions" in p
        else ()
    )
    patient = PatientFacts(
        birth_date=birth,
        sex=p["sex"],
        diagnosis=p["diagnosis"],
        nmsc_risk_factors=nmsc,
        concomitant_systemic=systemic,
        excipient_reactions=reactions,
        **values,
    )
    return patient, years, exact


def parse_areas(raw: Any, field: str, age: Fraction) -> Fraction:
    """Total hand units (= % BSA) of a list of areas, each a VASI region with hand units or a chart area
    with the painted fraction; each region's total is held to its body-model capacity at this age."""
    if not isinstance(raw, list):
        raise LabelInputError(field, "must be a list of areas")
    caps = region_capacities(age)
    per_region: dict[str, Fraction] = {}
    first: dict[str, int] = {}
    for i, item in enumerate(raw):
        where = f"{field}[{i}]"
        if isinstance(item, Mapping) and "area" in item:
            a = obj(item, where, ("area", "fraction"), ())
            if a["area"] not in CHART_AREAS_BY_NAME:
                raise LabelInputError(f"{where}.area", f"unknown chart area {a['area']!r}")
            frac = number(a["fraction"], f"{where}.fraction", Decimal(0), Decimal(1))
            try:
                hu = drawn_hand_units(a["area"], Fraction(frac), age)  # type: ignore[arg-type]
            except BodyModelError as e:  # pragma: no cover - inputs validated above
                raise LabelInputError(f"{where}.{e.field}", e.reason) from e
            region: str = CHART_AREAS_BY_NAME[a["area"]].region
        else:
            a = obj(item, where, ("region", "hand_units"), ())
            if a["region"] not in VASI_REGIONS:
                raise LabelInputError(
                    f"{where}.region", f"unknown region {a['region']!r}; expected one of {list(VASI_REGIONS)}"
                )
            region = a["region"]
            hu = Fraction(number(a["hand_units"], f"{where}.hand_units", Decimal(0)))
        per_region[region] = per_region.get(region, Fraction(0)) + hu
        first.setdefault(region, i)
    for region, total in per_region.items():
        cap = caps[region]  # type: ignore[index]
        if total > cap * (1 + CAPACITY_TOLERANCE):
            raise LabelInputError(
                f"{field}[{first[region]}].hand_units",
                f"region {region!r} totals {float(total):g} hand units, more than its capacity of "
                f"{float(cap):.3g} at age {float(age):.3g} (tolerance {float(CAPACITY_TOLERANCE):.0%})",
            )
    total = sum(per_region.values(), Fraction(0))
    if total > 100:
        raise LabelInputError(
            field, f"areas total {float(total):g} hand units, more than the whole body (100)"
        )
    return total


def parse_plan(raw: Any, age: Fraction) -> PlannedUse:
    p = obj(
        raw,
        "plan",
        (),
        (
            "areas",
            "sites",
            "applications_per_day",
            "schedule",
            "grams_per_application",
            "concomitant_topicals",
            "prescriber_experienced",
        ),
    )
    bsa = parse_areas(p["areas"], "plan.areas", age) if "areas" in p else Fraction(0)
    per_day = p.get("applications_per_day", 2)
    if isinstance(per_day, bool) or not isinstance(per_day, int) or per_day < 1:
        raise LabelInputError("plan.applications_per_day", f"must be a whole number ≥ 1, got {per_day!r}")
    schedule: list[dt.time] = []
    if "schedule" in p:
        if not isinstance(p["schedule"], list) or not p["schedule"]:
            raise LabelInputError("plan.schedule", "must be a non-empty list of local times HH:MM")
        for i, t in enumerate(p["schedule"]):
            schedule.append(local_time(t, f"plan.schedule[{i}]"))
        if len(set(schedule)) != len(schedule):
            raise LabelInputError("plan.schedule", "lists a time twice")
    gpa = (
        number(p["grams_per_application"], "plan.grams_per_application", Decimal(0))
        if "grams_per_application" in p
        else None
    )
    return PlannedUse(
        bsa_percent=bsa,
        areas_given="areas" in p,
        sites=strings(p["sites"], "plan.sites", SITES, expected=SITES_EXPECTED) if "sites" in p else (),
        applications_per_day=per_day,
        schedule=tuple(sorted(schedule)),
        grams_per_application=gpa,
        concomitant_topicals=(
            strings(p["concomitant_topicals"], "plan.concomitant_topicals")
            if "concomitant_topicals" in p
            else ()
        ),
        prescriber_experienced=(
            boolean(p["prescriber_experienced"], "plan.prescriber_experienced")
            if "prescriber_experienced" in p
            else None
        ),
    )


def parse_applications(
    raw: Any, zone: ZoneInfo | None, on: dt.date, age: Fraction
) -> tuple[AppliedDose, ...]:
    if not isinstance(raw, list):
        raise LabelInputError("applications", "must be a list")
    if raw and zone is None:
        raise LabelInputError(
            "timezone", "is required when applications are given (IANA name, e.g. Europe/Stockholm)"
        )
    out = []
    make = AppliedDose._make
    for i, item in enumerate(raw):
        key = _entry_key(item, zone)
        if key is not None:
            hit = _PARSED.get(key)
            if hit is not None:
                if hit[-1] > on:
                    where = f"applications[{i}].at"
                    raise LabelInputError(where, f"{key[1]} is after the evaluation date {on} (local time)")
                out.append(make((i, *hit)))
                continue
        where = f"applications[{i}]"
        a = obj(item, where, ("at",), ("hand_units", "areas", "grams", "sites"))
        assert zone is not None
        at = instant(a["at"], f"{where}.at").astimezone(zone)
        if at.date() > on:
            raise LabelInputError(f"{where}.at", f"{a['at']} is after the evaluation date {on} (local time)")
        if "hand_units" in a and "areas" in a:
            raise LabelInputError(where, "give either hand_units or areas, not both")
        bsa: Fraction | None = None
        if "hand_units" in a:
            bsa = Fraction(number(a["hand_units"], f"{where}.hand_units", Decimal(0), Decimal(100)))
        elif "areas" in a:
            bsa = parse_areas(a["areas"], f"{where}.areas", age)
        grams = number(a["grams"], f"{where}.grams", Decimal(0)) if "grams" in a else None
        sites = strings(a["sites"], f"{where}.sites", SITES, expected=SITES_EXPECTED) if "sites" in a else ()
        app = AppliedDose(i, at, at.astimezone(dt.UTC), bsa, grams, sites, at.date())
        if key is not None:
            if len(_PARSED) >= _PARSED_MAX:
                _PARSED.clear()
            _PARSED[key] = app[1:]
        out.append(app)
    return tuple(sorted(out, key=lambda x: (x.utc, x.index)))


# Parsed diary entries, keyed by their exact input (value *and* type of every field) and zone: a diary
# entry is checked again with every later entry of the same patient, and parsing dominates that check.
# Only entries that parsed without error are kept, and the evaluation-date check is redone on every use,
# so a hit gives exactly what parsing would. Entries with ``areas`` (age-dependent) are not kept.
_PARSED: Final[dict[tuple[Any, ...], tuple[Any, ...]]] = {}
_PARSED_MAX: Final = 1 << 15
_ABSENT: Final = object()
_KEYED: Final = frozenset({int, float, str, type(None), object})  # object: the field is absent


def _entry_key(item: Any, zone: ZoneInfo | None) -> tuple[Any, ...] | None:
    """Equal keys parse alike: each value with its type, and the repr where equal values parse
    differently (0.0 and -0.0); None for entries not worth keeping (unknown fields, ``areas``)."""
    if type(item) is not dict or zone is None or zone.key is None:
        return None
    get = item.get
    at, hu, grams, sites = get("at"), get("hand_units", _ABSENT), get("grams", _ABSENT), get("sites", _ABSENT)
    if type(at) is not str or len(item) != 1 + (hu is not _ABSENT) + (grams is not _ABSENT) + (
        sites is not _ABSENT
    ):
        return None  # unknown fields, or areas (age-dependent): parse them the ordinary way
    thu, tg = type(hu), type(grams)
    if (thu not in _KEYED) or (tg not in _KEYED):
        return None
    if sites is _ABSENT:
        site_key: tuple[str, ...] | None = None
    elif type(sites) is list and all(type(x) is str for x in sites):
        site_key = tuple(sites)
    else:
        return None
    return (
        zone.key,
        at,
        thu,
        repr(hu) if hu == 0 else hu,
        tg,
        repr(grams) if grams == 0 else grams,
        site_key,
    )


def parse_dispensed(raw: Any, on: dt.date) -> tuple[Dispensed, ...]:
    if not isinstance(raw, list):
        raise LabelInputError("dispensed", "must be a list")
    out = []
    for i, item in enumerate(raw):
        where = f"dispensed[{i}]"
        d = obj(item, where, ("on", "grams"), ("opened_on", "discarded_on"))
        day = date(d["on"], f"{where}.on")
        if day > on:
            raise LabelInputError(f"{where}.on", f"{day} is after the evaluation date {on}")
        grams = number(d["grams"], f"{where}.grams", Decimal(0))
        opened = date(d["opened_on"], f"{where}.opened_on") if "opened_on" in d else None
        if opened is not None and not (day <= opened <= on):
            raise LabelInputError(
                f"{where}.opened_on", f"{opened} must be between the dispensing date and {on}"
            )
        discarded = date(d["discarded_on"], f"{where}.discarded_on") if "discarded_on" in d else None
        if discarded is not None and discarded < (opened or day):
            raise LabelInputError(
                f"{where}.discarded_on", f"{discarded} is before the tube was dispensed or opened"
            )
        out.append(Dispensed(i, day, grams, opened, discarded))
    return tuple(sorted(out, key=lambda x: (x.on, x.index)))


def parse_course(raw: Any, on: dt.date) -> CourseInput:
    c = obj(raw, "course", ("started_on",), ("stopped_on", "assessments"))
    started = date(c["started_on"], "course.started_on")
    if started > on:
        raise LabelInputError("course.started_on", f"{started} is after the evaluation date {on}")
    stopped = date(c["stopped_on"], "course.stopped_on") if "stopped_on" in c else None
    if stopped is not None and not (started <= stopped <= on):
        raise LabelInputError("course.stopped_on", f"{stopped} must be between started_on and {on}")
    raw_a = c.get("assessments", [])
    if not isinstance(raw_a, list):
        raise LabelInputError("course.assessments", "must be a list")
    assessments = []
    for i, item in enumerate(raw_a):
        where = f"course.assessments[{i}]"
        a = obj(item, where, ("on", "repigmentation_percent"), ("week",))
        day = date(a["on"], f"{where}.on")
        if not (started <= day <= on):
            raise LabelInputError(f"{where}.on", f"{day} must be between started_on ({started}) and {on}")
        week_from_date = week_of(started, day)
        week = week_from_date
        if "week" in a:
            w = a["week"]
            if isinstance(w, bool) or not isinstance(w, int) or w < 0:
                raise LabelInputError(f"{where}.week", f"must be a whole number ≥ 0, got {w!r}")
            if abs(w - week_from_date) > WEEK_TOLERANCE:
                raise LabelInputError(
                    f"{where}.week",
                    f"{w} does not match its date ({day} is week {week_from_date} of the course)",
                )
            # a stated week is only checked (older clients send one): the week used is the date's
        pct = number(a["repigmentation_percent"], f"{where}.repigmentation_percent", Decimal(0), Decimal(100))
        assessments.append(CourseAssessment(i, day, week, pct))
    return CourseInput(started, stopped, tuple(sorted(assessments, key=lambda x: (x.on, x.index))))


def parse_assessment(raw: Any, age: Fraction) -> VasiResult:
    a = obj(raw, "assessment", ("patches",), ("variant",))
    try:
        variant = parse_variant(a.get("variant")) if "variant" in a else Variant()
        if not isinstance(a["patches"], list):
            raise ScoringError("patches", "must be a list")
        patches = [parse_patch(p, i) for i, p in enumerate(a["patches"])]
        return score_patches(patches, age, variant)
    except ScoringError as e:
        raise LabelInputError(f"assessment.{e.field}", e.reason) from e


def parse_request(raw: Any, known_rulesets: Sequence[str]) -> Request:
    r = obj(
        raw,
        "request",
        ("ruleset", "on", "patient"),
        ("timezone", "plan", "applications", "dispensed", "course", "assessment"),
    )
    if r["ruleset"] not in known_rulesets:
        raise LabelInputError(
            "ruleset", f"unknown ruleset {r['ruleset']!r}; expected one of {list(known_rulesets)}"
        )
    on = date(r["on"], "on")
    zone = time_zone(r["timezone"], "timezone") if "timezone" in r else None
    patient, years, exact = parse_patient(r["patient"], on)
    return Request(
        ruleset=r["ruleset"],
        on=on,
        zone=zone,
        patient=patient,
        age_years=years,
        age_exact=exact,
        plan=parse_plan(r["plan"], exact) if "plan" in r else None,
        applications=parse_applications(r.get("applications", []), zone, on, exact),
        dispensed=parse_dispensed(r.get("dispensed", []), on),
        course=parse_course(r["course"], on) if "course" in r else None,
        assessment=parse_assessment(r["assessment"], exact) if "assessment" in r else None,
    )
