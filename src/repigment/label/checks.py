"""The check kinds a ruleset's rules name: each implemented once, parameterised by the rule's params.

A check returns hits: a message key and the values behind the finding (raw Python values; the engine
turns them into JSON details and into the message in the asked language).
"""

from __future__ import annotations

import bisect
import calendar
import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any, Final

from repigment.body import BODY_MODEL_VERSION
from repigment.course import Assessment, milestones
from repigment.dosing import grams_per_application
from repigment.label.errors import LabelInputError
from repigment.label.request import AppliedDose, Request
from repigment.label.ruleset import CHECKS, Limit, Rule


@dataclass(frozen=True, slots=True)
class LimitPhrase:
    """Quantity limits as shown in a message ("200 g per 30 days", joined by or/and)."""

    limits: tuple[Limit, ...]
    combine: str


@dataclass(frozen=True, slots=True)
class Hours:
    """An elapsed time, shown as hours, minutes and seconds (never rounded up to a limit)."""

    hours: Decimal


@dataclass(frozen=True, slots=True)
class Over:
    """A value found above a maximum: when its text must be rounded it is rounded up, so that it never
    reads as the limit it exceeds (10.0001 % is not shown as "10.00 %" beside "at most 10 %")."""

    value: Decimal | Fraction


@dataclass(frozen=True, slots=True)
class Under:
    """A value found below a minimum: rounded down when its text must be rounded (24.99999 % is not
    shown as 25 % beside "below 25 %")."""

    value: Decimal | Fraction


@dataclass(frozen=True, slots=True)
class Hit:
    key: str
    values: Mapping[str, Any]
    applications: tuple[int, ...] = field(default=())


Check = Callable[[Request, Rule], list[Hit]]


def hours_between(a: dt.datetime, b: dt.datetime) -> Decimal:
    """Real elapsed hours from a to b, exact to the microsecond (aware datetimes, compared in UTC)."""
    d = b.astimezone(dt.UTC) - a.astimezone(dt.UTC)
    micro = (d.days * 86400 + d.seconds) * 1_000_000 + d.microseconds
    return Decimal(micro) / Decimal(3_600_000_000)


def add_months(day: dt.date, months: int) -> dt.date:
    """Calendar months later; a day past the end of the target month is clamped to its last day."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


# --- patient ------------------------------------------------------------------------------------------


def _indication(req: Request, rule: Rule) -> list[Hit]:
    hits = []
    if req.patient.diagnosis not in rule.params["diagnoses"]:
        hits.append(Hit("diagnosis", {"diagnosis": req.patient.diagnosis}))
    if rule.params["require_facial_involvement"] and not req.patient.facial_involvement:
        hits.append(Hit("facial", {"facial_involvement": False}))
    return hits


def _min_age(req: Request, rule: Rule) -> list[Hit]:
    limit = rule.params["min_age_years"]
    if req.age_years < limit:
        return [Hit("default", {"age": req.age_years, "on": req.on, "min_age_years": limit})]
    return []


def _age_at_least(req: Request, rule: Rule) -> list[Hit]:
    limit = rule.params["age_years"]
    if req.age_years >= limit:
        return [Hit("default", {"age": req.age_years, "age_years": limit})]
    return []


def _patient_flag(req: Request, rule: Rule) -> list[Hit]:
    name = rule.params["flag"]
    if req.patient.flag(name):
        return [Hit("default", {name: True})]
    return []


def _concomitant_systemic(req: Request, rule: Rule) -> list[Hit]:
    return [
        Hit("default", {"category": c})
        for c in req.patient.concomitant_systemic
        if c in rule.params["categories"]
    ]


def _excipients(req: Request, rule: Rule) -> list[Hit]:
    return [
        Hit("default", {"excipient": e})
        for e in req.patient.excipient_reactions
        if e in rule.params["excipients"]
    ]


def _contraception(req: Request, rule: Rule) -> list[Hit]:
    if not req.patient.childbearing_potential:
        return []
    confirm: list[Hit] = []
    if req.age_years > rule.params["confirm_after_age"]:
        confirm = [
            Hit("confirm", {"age": req.age_years, "confirm_after_age": rule.params["confirm_after_age"]})
        ]
    return confirm + _contraception_dates(req, rule)


def _contraception_dates(req: Request, rule: Rule) -> list[Hit]:
    weeks = rule.params["weeks_after_last_application"]
    logged = req.applications[-1].local_day if req.applications else None
    stopped = req.course.stopped_on if req.course else None
    if stopped is not None:
        last = max(stopped, logged) if logged else stopped
        until = last + dt.timedelta(weeks=weeks)
        if req.on > until:
            return []
        return [Hit("stopped", {"weeks": weeks, "last_application_on": last, "contraception_until": until})]
    values: dict[str, Any] = {"weeks": weeks}
    if logged is not None:
        values["last_application_on"] = logged
        values["contraception_until_if_last"] = logged + dt.timedelta(weeks=weeks)
    return [Hit("ongoing", values)]


# --- plan ---------------------------------------------------------------------------------------------


def _prescriber(req: Request, rule: Rule) -> list[Hit]:
    if req.plan is not None and req.plan.prescriber_experienced is False:
        return [Hit("default", {"prescriber_experienced": False})]
    return []


def _plan_present(req: Request, rule: Rule) -> list[Hit]:
    return [Hit("default", {})] if req.plan is not None else []


def _concomitant_topical(req: Request, rule: Rule) -> list[Hit]:
    if req.plan is not None and req.plan.concomitant_topicals:
        return [Hit("default", {"products": req.plan.concomitant_topicals})]
    return []


def _focused(req: Request) -> Sequence[AppliedDose]:
    """The applications whose own findings are wanted: all, or only the focus (``Request.focus``)."""
    if req.focus is None:
        return req.applications
    return [a for a in req.applications if a.index == req.focus]


def _frequency(req: Request, rule: Rule) -> list[Hit]:
    limit = rule.params["max_per_day"]
    hits = []
    if req.plan is not None and req.plan.applications_per_day > limit:
        hits.append(
            Hit("plan", {"applications_per_day": req.plan.applications_per_day, "max_per_day": limit})
        )
    days = {a.local_day for a in _focused(req)}
    by_day: dict[dt.date, list[AppliedDose]] = defaultdict(list)
    for a in req.applications:
        if a.local_day in days:
            by_day[a.local_day].append(a)
    for day in sorted(by_day):
        apps = by_day[day]
        if len(apps) > limit:
            hits.append(
                Hit(
                    "log",
                    {"day": day, "count": len(apps), "max_per_day": limit},
                    tuple(a.index for a in apps),
                )
            )
    return hits


def _regimen(req: Request, rule: Rule) -> list[Hit]:
    per_day = rule.params["per_day"]
    if req.plan is not None and req.plan.applications_per_day < per_day:
        return [Hit("default", {"applications_per_day": req.plan.applications_per_day, "per_day": per_day})]
    return []


def _interval(req: Request, rule: Rule) -> list[Hit]:
    limit: Decimal = rule.params["min_hours"]
    hits = []
    for prev, cur in zip(req.applications, req.applications[1:], strict=False):
        if req.focus is not None and req.focus not in (prev.index, cur.index):
            continue
        hours = hours_between(prev.utc, cur.utc)
        if hours < limit:
            hits.append(
                Hit(
                    "default",
                    {"at": cur.at, "previous": prev.at, "hours": Hours(hours), "min_hours": limit},
                    (prev.index, cur.index),
                )
            )
    return hits


# An area computed from a painted fraction sent as binary floating point carries float noise: 10/13 of
# trunk_front (13 % BSA) arrives as 0.7692307692307693 and totals 10.000000000000002 %. Areas are
# compared with the BSA limit with this absolute tolerance (percentage points), ten million times
# smaller than the smallest area anyone paints (0.01 hand unit), so only float noise is absorbed.
BSA_TOLERANCE_PERCENT: Final = Fraction(1, 10**9)


def _over_bsa(value: Fraction, limit: Decimal) -> bool:
    return value > Fraction(limit) + BSA_TOLERANCE_PERCENT


def _max_bsa(req: Request, rule: Rule) -> list[Hit]:
    limit: Decimal = rule.params["max_percent"]
    hits = []
    if req.plan is not None and req.plan.areas_given and _over_bsa(req.plan.bsa_percent, limit):
        values = {
            "bsa_percent": Over(req.plan.bsa_percent),
            "max_percent": limit,
            "body_model": BODY_MODEL_VERSION,
        }
        hits.append(Hit("plan", values))
    for a in _focused(req):
        if a.bsa_percent is not None and _over_bsa(a.bsa_percent, limit):
            hits.append(
                Hit(
                    "application",
                    {"at": a.at, "bsa_percent": Over(a.bsa_percent), "max_percent": limit},
                    (a.index,),
                )
            )
    return hits


def _forbidden_sites(req: Request, rule: Rule) -> list[Hit]:
    forbidden = rule.params["sites"]
    hits = []
    if req.plan is not None:
        hits += [Hit("plan", {"site": s}) for s in req.plan.sites if s in forbidden]
    for a in _focused(req):
        hits += [Hit("application", {"at": a.at, "site": s}, (a.index,)) for s in a.sites if s in forbidden]
    return hits


# --- quantity -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Window:
    limit: Limit
    grams: Decimal
    start: dt.date
    end: dt.date  # the last event in the window
    members: tuple[int, ...]
    over_members: tuple[int, ...] = ()  # every event in any window of this length over the limit


def _worst_window(events: Sequence[tuple[dt.date, Decimal, int]], limit: Limit) -> _Window | None:
    """The window of ``limit.days`` consecutive days (starting on an event) holding the most grams, with
    every event that lies in some window over the limit (so each entry that breaks it can be flagged)."""
    best: _Window | None = None
    j, total = 0, Decimal(0)
    over: list[int] = []
    marked = 0  # events before this position are already in ``over``
    for i, (start, grams, _) in enumerate(events):
        while j < len(events) and (events[j][0] - start).days < limit.days:
            total += events[j][1]
            j += 1
        if best is None or total > best.grams:
            best = _Window(limit, total, start, events[j - 1][0], tuple(e[2] for e in events[i:j]))
        if total > limit.grams:
            over.extend(e[2] for e in events[max(i, marked) : j])
            marked = j
        total -= grams
    if best is not None:
        best = dataclasses.replace(best, over_members=tuple(sorted(over)))
    return best


def _judge(windows: list[_Window], combine: str) -> _Window | None:
    """The window to report when the limits are broken: 'any' (keeping within one limit suffices) flags
    only when every limit is exceeded; 'all' flags when one is."""
    over = [w for w in windows if w.grams > w.limit.grams]
    if not windows or not over:
        return None
    if combine == "any" and len(over) < len(windows):
        return None
    return over[0]


def _grams_used(req: Request, a: AppliedDose) -> Decimal | None:
    if a.grams is not None:
        return a.grams
    if req.plan is not None and req.plan.grams_per_application is not None:
        return req.plan.grams_per_application
    if a.bsa_percent is not None:
        return grams_per_application(a.bsa_percent, req.patient.sex)
    return None


def _window_hit(
    key: str, w: _Window, windows: list[_Window], phrase: LimitPhrase, extra: dict[str, Any]
) -> Hit:
    values: dict[str, Any] = {
        "grams": Over(w.grams),
        "days": w.limit.days,
        "from_date": w.start,
        "to_date": w.end,
        "limit": phrase,
        "windows": [{"grams": x.grams, "days": x.limit.days, "from_date": x.start} for x in windows],
        **extra,
    }
    return Hit(key, values, w.over_members if key == "used" else ())


def _quantity(req: Request, rule: Rule) -> list[Hit]:
    limits: tuple[Limit, ...] = rule.params["limits"]
    combine: str = rule.params["combine"]
    phrase = LimitPhrase(limits, combine)
    hits = []
    plan = req.plan
    if plan is not None and (plan.areas_given or plan.grams_per_application is not None):
        if plan.grams_per_application is not None:
            per_app, method = plan.grams_per_application, "plan.grams_per_application"
        else:
            per_app, method = grams_per_application(plan.bsa_percent, req.patient.sex), "fingertip units"
        per_day = per_app * plan.applications_per_day
        projected = [_Window(lim, per_day * lim.days, req.on, req.on, ()) for lim in limits]
        w = _judge(projected, combine)
        if w is not None:
            values = {
                "grams": Over(w.grams),
                "days": w.limit.days,
                "limit": phrase,
                "grams_per_application": per_app,
                "applications_per_day": plan.applications_per_day,
                "estimate": method,
            }
            hits.append(Hit("plan", values))
    if req.applications:
        events, unknown = [], []
        for a in req.applications:
            g = _grams_used(req, a)
            if g is None:
                unknown.append(a.index)
            else:
                events.append((a.local_day, g, a.index))
        windows = [w for w in (_worst_window(events, lim) for lim in limits) if w is not None]
        w = _judge(windows, combine)
        if w is not None:
            estimated = [a.index for a in req.applications if a.grams is None and a.index not in unknown]
            hits.append(
                _window_hit("used", w, windows, phrase, {"estimated": estimated, "without_quantity": unknown})
            )
    if req.dispensed:
        events = [(d.on, d.grams, d.index) for d in req.dispensed]
        windows = [w for w in (_worst_window(events, lim) for lim in limits) if w is not None]
        w = _judge(windows, combine)
        if w is not None:
            hit = _window_hit("dispensed", w, windows, phrase, {"dispensed": list(w.members)})
            hits.append(hit)
    return hits


def _month_quantity(req: Request, rule: Rule) -> list[Hit]:
    """Grams in one calendar month (local days): the label's "a month" read as the calendar month,
    checked besides the rolling window of ``_quantity``."""
    limit: Decimal = rule.params["grams"]
    hits = []
    plan = req.plan
    if plan is not None and (plan.areas_given or plan.grams_per_application is not None):
        per_app = (
            plan.grams_per_application
            if plan.grams_per_application is not None
            else grams_per_application(plan.bsa_percent, req.patient.sex)
        )
        month = per_app * plan.applications_per_day * _LONGEST_MONTH_DAYS
        if month > limit:
            hits.append(
                Hit("plan", {"grams": Over(month), "month_days": _LONGEST_MONTH_DAYS, "limit_grams": limit})
            )
    used: dict[tuple[int, int], list[tuple[Decimal, int]]] = defaultdict(list)
    for a in req.applications:
        g = _grams_used(req, a)
        if g is not None:
            used[(a.local_day.year, a.local_day.month)].append((g, a.index))
    focus_months = {(a.local_day.year, a.local_day.month) for a in _focused(req)}
    for ym in sorted(used):
        total = sum((g for g, _ in used[ym]), Decimal(0))
        if total > limit and ym in focus_months:
            values = {"grams": Over(total), "month": f"{ym[0]}-{ym[1]:02d}", "limit_grams": limit}
            hits.append(Hit("used", values, tuple(i for _, i in used[ym])))
    given: dict[tuple[int, int], list[tuple[Decimal, int]]] = defaultdict(list)
    for d in req.dispensed:
        given[(d.on.year, d.on.month)].append((d.grams, d.index))
    for ym in sorted(given):
        total = sum((g for g, _ in given[ym]), Decimal(0))
        if total > limit:
            values = {
                "grams": Over(total),
                "month": f"{ym[0]}-{ym[1]:02d}",
                "limit_grams": limit,
                "dispensed": [i for _, i in given[ym]],
            }
            hits.append(Hit("dispensed", values))
    return hits


_LONGEST_MONTH_DAYS: Final = 31


# --- log: missed dose, storage ------------------------------------------------------------------------


def _slots_around(t: dt.datetime, schedule: Sequence[dt.time]) -> list[dt.datetime]:
    zone = t.tzinfo
    days = [t.date() + dt.timedelta(days=k) for k in (-1, 0, 1)]
    return sorted(dt.datetime.combine(d, s, tzinfo=zone).astimezone(dt.UTC) for d in days for s in schedule)


def _missed_dose(req: Request, rule: Rule) -> list[Hit]:
    if req.plan is None or not req.plan.schedule or req.zone is None:
        return []
    skip: Decimal = rule.params["skip_within_hours"]
    late: Decimal = rule.params["late_after_hours"]
    hits = []
    instants = [a.utc for a in req.applications]  # sorted
    late_delta = dt.timedelta(microseconds=int(late * 3_600_000_000))
    for pos, a in enumerate(req.applications):
        slots = _slots_around(a.at, req.plan.schedule)
        prev = max(s for s in slots if s <= a.utc)
        nxt = min(s for s in slots if s > a.utc)
        late_by = hours_between(prev, a.utc)
        to_next = hours_between(a.utc, nxt)
        if late_by <= late or to_next >= skip:
            continue
        # an earlier application since the slot (or up to the lateness allowance before it) took that dose
        if bisect.bisect_left(instants, prev - late_delta, 0, pos) < pos:
            continue
        values = {
            "at": a.at,
            "slot": prev.astimezone(req.zone).time(),
            "late_hours": Hours(late_by),
            "next_dose": nxt.astimezone(req.zone),
            "hours_to_next": Hours(to_next),
            "skip_within_hours": skip,
        }
        hits.append(Hit("default", values, (a.index,)))
    return hits


def _storage(req: Request, rule: Rule) -> list[Hit]:
    months = rule.params["months_after_opening"]
    hits = []
    for d in req.dispensed:
        if d.opened_on is None:
            continue
        use_by = add_months(d.opened_on, months)
        if req.on > use_by and (d.discarded_on is None or d.discarded_on > use_by):
            values = {"dispensed_on": d.on, "opened_on": d.opened_on, "months": months, "use_by": use_by}
            hits.append(Hit("default", {**values, "dispensed": [d.index]}))
    return hits


# --- course -------------------------------------------------------------------------------------------


def _course_assessments(req: Request) -> list[Assessment]:
    assert req.course is not None
    return [Assessment(a.on, a.week, a.repigmentation_percent) for a in req.course.assessments]


def _review_due(req: Request, rule: Rule) -> list[Hit]:
    if req.course is None:
        return []
    week = rule.params["week"]
    course = milestones(req.course.started_on, req.on, _course_assessments(req), review_week=week)
    m = course.review
    stopped = req.course.stopped_on
    if m.status == "due" and (stopped is None or stopped >= m.on):
        return [Hit("default", {"week": week, "due_on": m.on})]
    return []


def _week52(req: Request, rule: Rule) -> list[Hit]:
    if req.course is None:
        return []
    week, threshold = rule.params["week"], rule.params["min_percent"]
    course = milestones(
        req.course.started_on,
        req.on,
        _course_assessments(req),
        decision_week=week,
        discontinue_below_percent=threshold,
    )
    a = course.decision.assessment
    if course.week52_decision == "consider_discontinuation" and a is not None:
        values = {
            "repigmentation_percent": Under(a.repigmentation_percent),
            "assessed_week": a.week,
            "assessed_on": a.on,
            "min_percent": threshold,
            "decision": "consider_discontinuation",
        }
        return [Hit("default", values)]
    return []


# --- trial entry --------------------------------------------------------------------------------------


def _assessment_threshold(req: Request, rule: Rule) -> list[Hit]:
    if req.assessment is None:
        raise LabelInputError("assessment", f"is required by ruleset {req.ruleset} (rule {rule.id})")
    s = req.assessment
    total = sum((r.hand_units for r in s.regions.values()), Fraction(0))
    measures: dict[str, Fraction] = {
        "f_bsa_percent": s.f_bsa_percent,
        "f_vasi": s.f_vasi,
        "t_vasi": s.t_vasi,
        "nonfacial_bsa_percent": total - s.f_bsa_percent,
        "total_bsa_percent": total,
    }
    value = measures[rule.params["measure"]]
    if "min" in rule.params and value < rule.params["min"]:
        return [
            Hit(
                "default",
                {"measure": rule.params["measure"], "value": Under(value), "threshold": rule.params["min"]},
            )
        ]
    if "max" in rule.params and value > rule.params["max"]:
        return [
            Hit(
                "default",
                {"measure": rule.params["measure"], "value": Over(value), "threshold": rule.params["max"]},
            )
        ]
    return []


CHECK_FUNCTIONS: Final[Mapping[str, Check]] = {
    "indication": _indication,
    "min_age": _min_age,
    "age_at_least": _age_at_least,
    "patient_flag": _patient_flag,
    "prescriber": _prescriber,
    "plan_present": _plan_present,
    "frequency": _frequency,
    "regimen": _regimen,
    "interval": _interval,
    "max_bsa": _max_bsa,
    "quantity": _quantity,
    "month_quantity": _month_quantity,
    "review_due": _review_due,
    "week52": _week52,
    "forbidden_sites": _forbidden_sites,
    "contraception": _contraception,
    "missed_dose": _missed_dose,
    "concomitant_topical": _concomitant_topical,
    "concomitant_systemic": _concomitant_systemic,
    "storage": _storage,
    "excipients": _excipients,
    "assessment_threshold": _assessment_threshold,
}
assert set(CHECK_FUNCTIONS) == set(CHECKS), "every check kind has exactly one implementation"
