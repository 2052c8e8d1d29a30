"""Shared by the page modules: the page frame (user, menu, CSRF), form errors, ids from the path."""

from __future__ import annotations

import functools
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Final, ParamSpec, TypeVar

import anyio
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session

from repigment.services.acting import PatientContext, Principal
from repigment.services.errors import InputError, ServiceError
from repigment.web import access, i18n
from repigment.web.i18n import N_
from repigment.web.render import render, request_locale, secure, translator

P = ParamSpec("P")
R = TypeVar("R")
CLINIC_ROLES = ("clinician",)
API_DOCS: Final = "/api/docs"  # the API explorer, served from this server's own assets
PATIENT_ROLES = ("patient",)


def parse_id(raw: str, what: str = "patient") -> int:
    try:
        value = int(raw)
    except ValueError:
        raise access.PageError(404, what) from None
    if not 1 <= value <= 2**31 - 1:
        raise access.PageError(404, what)
    return value


def nav(request: Request, user: Principal | None) -> list[dict[str, Any]]:
    _ = translator(request)
    path = request.url.path
    if user is None:
        return []
    if user.role == "clinician":
        items = [("/clinic", _("Patients")), ("/clinic/tools/bodymap", _("Body map scoring"))]
    elif user.role == "patient" and user.patient_id is not None:
        base = f"/patients/{user.patient_id}"
        items = [
            (base, _("My diary")),
            (base + "/progress", _("My progress")),
            (base + "/side-effect", _("Report a side effect")),
        ]
    elif user.role == "admin":
        items = [
            ("/admin", _("Start")),
            ("/admin/users", _("Users")),
            ("/admin/clinic", _("Clinic settings")),
            (API_DOCS, _("API explorer")),
        ]
    elif user.role == "analyst":
        items = [("/analyst", _("Start")), (API_DOCS, _("API explorer"))]
    elif user.role == "safety_officer":
        items = [("/safety", _("Start")), (API_DOCS, _("API explorer"))]
    else:
        items = []
    return [{"href": h, "label": label, "current": path == h} for h, label in items]


def page(
    request: Request,
    db: Session | None,
    user: Principal | None,
    template: str,
    status_code: int = 200,
    **ctx: Any,
) -> HTMLResponse:
    frame: dict[str, Any] = (
        access.base_context(request, db, user) if db is not None else {"user": None, "csrf_token": ""}
    )
    frame["nav"] = nav(request, user)
    frame.update(ctx)
    return render(request, template, status_code=status_code, **frame)


def see_other(location: str) -> RedirectResponse:
    return secure(RedirectResponse(location, status_code=303))


def context(db: Session, user: Principal, patient_id: int) -> PatientContext:
    return PatientContext(user=user, patient=access.page_patient(db, user, patient_id), db=db)


def _field_name(loc: Any) -> str:
    parts = [str(p) for p in loc if not isinstance(p, int)]
    if parts and parts[0] == "body":
        parts = parts[1:]
    return parts[0] if parts else "form"


# A range error in the page's language, with the limit as a number of that language.
_RANGE: Final = {
    "greater_than": ("gt", N_("The value must be greater than %(limit)s.")),
    "greater_than_equal": ("ge", N_("The value must be at least %(limit)s.")),
    "less_than": ("lt", N_("The value must be less than %(limit)s.")),
    "less_than_equal": ("le", N_("The value must be at most %(limit)s.")),
}


def validation_errors(
    e: ValidationError, request: Request, rename: dict[str, str] | None = None
) -> dict[str, str]:
    """Pydantic errors as {form field: message in the page's language}, first error per field."""
    gettext = translator(request)
    out: dict[str, str] = {}
    for err in e.errors():
        name = _field_name(err.get("loc", ()))
        name = (rename or {}).get(name, name)
        kind = str(err.get("type", ""))
        ctx = err.get("ctx") or {}
        if kind == "missing" or kind in ("string_too_short",) and ctx.get("min_length") == 1:
            msg = gettext("This field is required.")
        elif kind in _RANGE and isinstance(ctx.get(_RANGE[kind][0]), int | float | Decimal):
            limit = i18n.input_number(ctx[_RANGE[kind][0]], lang(request))
            msg = gettext(_RANGE[kind][1]) % {"limit": limit}
        elif kind in _RANGE:
            msg = gettext("The value is out of range (%(reason)s).") % {"reason": err.get("msg", "")}
        elif kind == "future":
            msg = gettext("The time is in the future.")
        elif kind == "future_date":
            msg = gettext("The date is in the future.")
        elif kind == "date_range":
            msg = gettext("Enter a date between %(min)s and %(max)s.") % {
                "min": ctx.get("min", ""),
                "max": ctx.get("max", ""),
            }
        elif kind.startswith(("float", "int", "decimal")):
            msg = gettext("Enter a number.")
        elif kind.startswith(("date", "datetime", "timezone")):
            msg = gettext("Enter a valid date and time.")
        else:
            msg = str(err.get("msg", "")).removeprefix("Value error, ")
        out.setdefault(name, msg)
    return out


def service_errors(e: ServiceError, rename: dict[str, str] | None = None) -> dict[str, str]:
    """A use case's refusal as {form field: message}: an ``InputError`` under the field it names (its
    first part: ``patches[0].hand_units`` is the form's ``patches``), any other on the whole form."""
    if isinstance(e, InputError) and e.where == "body":
        name = e.field.split(".")[0].split("[")[0] or "form"
        return {(rename or {}).get(name, name): e.reason}
    return {"form": e.message}


async def run(fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """A use case on a worker thread (its commit's fsync must not stall the event loop)."""
    return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs))


def lang(request: Request) -> str:
    return request_locale(request)
