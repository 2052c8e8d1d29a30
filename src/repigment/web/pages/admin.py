"""The administrator's pages: the accounts of their own clinic, on the use cases of
``repigment.services.accounts`` (the same as ``/api/v1/users`` and ``repigment users``): list, create,
change the role, deactivate and reactivate, reset the password, revoke the sessions. Another clinic's
account is a 404, as in the API."""

from __future__ import annotations

from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from repigment.services import accounts, security
from repigment.services.acting import Principal
from repigment.services.errors import Conflict, Forbidden, NotFound, ServiceError
from repigment.services.schemas import ClinicSettingsIn, RoleIn, UserIn
from repigment.store import User
from repigment.web import access
from repigment.web.access import Db, ReadDb
from repigment.web.i18n import N_
from repigment.web.pages.common import (
    API_DOCS,
    page,
    parse_id,
    run,
    see_other,
    service_errors,
    validation_errors,
)
from repigment.web.render import translator

router = APIRouter(include_in_schema=False)
ADMIN_ROLES: Final = ("admin",)
ROLE_LABELS: Final = {
    "admin": N_("Administrator"),
    "clinician": N_("Clinician"),
    "patient": N_("Patient"),
    "analyst": N_("Analyst"),
    "safety_officer": N_("Safety officer"),
}
# The confirmation shown after each action (``?done=``: the action's own redirect).
DONE: Final = {
    "created": N_("The account has been created."),
    "role": N_("The role has been changed."),
    "deactivated": N_(
        "The account has been deactivated: it can no longer log in, and its sessions have ended."
    ),
    "reactivated": N_("The account has been reactivated: it can log in again with its password."),
    "revoked": N_("Every session of the account has ended."),
}


async def admin(request: Request, db: Session) -> Principal:
    return await access.page_user(request, db, ADMIN_ROLES)


def _account(db: Session, user: Principal, raw_id: str) -> User:
    """An account of the admin's own clinic, through the use case's list (tenancy is its rule)."""
    user_id = parse_id(raw_id, "account")
    for u in accounts.list_users(db, user):
        if u.id == user_id:
            return u
    raise access.PageError(404, "account")


def _refusal(request: Request, e: ServiceError) -> str:
    """A use case's refusal of an action, in the page's language."""
    _ = translator(request)
    if isinstance(e, Conflict) and "your own account" in e.message:
        return str(_("You cannot do this to your own account: another administrator must."))
    if isinstance(e, Conflict):
        return str(
            _("This username is not available (usernames are compared ignoring case): choose another.")
        )
    return e.message


@router.get("/admin")
async def start(request: Request, db: ReadDb) -> Response:
    user = await admin(request, db)
    return page(request, db, user, "admin/start.html", api_docs=API_DOCS)


@router.get("/admin/users")
async def user_list(request: Request, db: ReadDb) -> Response:
    user = await admin(request, db)
    users = accounts.list_users(db, user)
    return page(request, db, user, "admin/users.html", users=users, roles=ROLE_LABELS)


def _new_form(
    request: Request, db: Session, user: Principal, form: dict[str, str], errors: dict[str, str], status: int
) -> Response:
    return page(
        request,
        db,
        user,
        "admin/user_new.html",
        status_code=status,
        form=form,
        errors=errors,
        roles=ROLE_LABELS,
    )


@router.get("/admin/users/new")
async def user_new(request: Request, db: ReadDb) -> Response:
    user = await admin(request, db)
    return _new_form(request, db, user, {"role": "clinician"}, {}, 200)


@router.post("/admin/users/new")
async def user_create(request: Request, db: Db) -> Response:
    user = await admin(request, db)
    _ = translator(request)
    raw = await request.form()
    form = {k: str(raw.get(k, "")).strip() for k in ("username", "display_name", "role", "patient_id")}
    password = str(raw.get("password", ""))
    errors: dict[str, str] = {}
    if password != str(raw.get("password_again", "")):
        errors["password_again"] = _("The two passwords differ.")
    body: dict[str, Any] = {
        "username": form["username"],
        "password": password,
        "role": form["role"],
        "display_name": form["display_name"] or None,
        "patient_id": form["patient_id"] or None,
    }
    try:
        checked = UserIn.model_validate(body)
    except ValidationError as e:
        errors.update(validation_errors(e, request))
        if "password" in errors and password:
            errors["password"] = _(
                "Choose a password of at least %(n)s characters that is not a common password, nor the "
                "username."
            ) % {"n": security.MIN_PASSWORD_LENGTH}
        if "username" in errors and form["username"]:
            errors["username"] = _("Use at most 100 letters, digits and the signs . _ @ - only.")
        return _new_form(request, db, user, form, errors, 422)
    if errors:
        return _new_form(request, db, user, form, errors, 422)
    try:
        created = await run(accounts.create_user, db, user, checked)
    except Conflict as e:
        key = "username" if e.message == accounts.USERNAME_TAKEN else "patient_id"
        msg = _refusal(request, e) if key == "username" else _("This patient already has an account.")
        return _new_form(request, db, user, form, {key: msg}, 409)
    except ServiceError as e:
        return _new_form(request, db, user, form, service_errors(e), 422)
    return see_other(f"/admin/users/{created.id}?done=created")


def _user_page(
    request: Request,
    db: Session,
    user: Principal,
    account: User,
    *,
    status: int = 200,
    done: str | None = None,
    error: str | None = None,
    errors: dict[str, str] | None = None,
    temporary_password: str | None = None,
) -> Response:
    return page(
        request,
        db,
        user,
        "admin/user.html",
        status_code=status,
        account=account,
        own=account.id == user.user_id,
        roles=ROLE_LABELS,
        done=DONE.get(done or ""),
        error=error,
        errors=errors or {},
        temporary_password=temporary_password,
    )


@router.get("/admin/users/{user_id}")
async def user_page(request: Request, db: ReadDb, user_id: str, done: str | None = None) -> Response:
    user = await admin(request, db)
    return _user_page(request, db, user, _account(db, user, user_id), done=done)


async def _act(request: Request, db: Session, user_id: str, action: str) -> Response:
    """One action of the user page: the use case, then back to the page with its confirmation (or the
    page again with the refusal)."""
    user = await admin(request, db)
    account = _account(db, user, user_id)
    form = await request.form()
    try:
        if action == "role":
            try:
                role = RoleIn.model_validate({"role": str(form.get("role", ""))}).role
            except ValidationError:
                _ = translator(request)
                return _user_page(
                    request, db, user, account, status=422, errors={"role": _("Choose one of the roles.")}
                )
            await run(accounts.change_role, db, user, account.id, role)
        elif action == "deactivated":
            await run(accounts.deactivate_user, db, user, account.id)
        elif action == "reactivated":
            await run(accounts.reactivate_user, db, user, account.id)
        elif action == "revoked":
            await run(accounts.revoke_sessions, db, user, account.id)
        else:  # the temporary password is shown once, on this answer: never in a URL
            reset = await run(accounts.reset_password, db, user, account.id)
            return _user_page(request, db, user, reset.user, temporary_password=reset.temporary_password)
    except NotFound as e:
        raise access.PageError(404, "account") from e
    except Forbidden as e:
        raise access.PageError(403, "role") from e
    except ServiceError as e:
        db.refresh(account)
        if action == "role" and not isinstance(e, Conflict):
            _ = translator(request)
            msg = _("A patient account keeps its role, and no other account becomes one.")
            return _user_page(request, db, user, account, status=422, errors={"role": msg})
        return _user_page(request, db, user, account, status=409, error=_refusal(request, e))
    return see_other(f"/admin/users/{account.id}?done={action}")


@router.post("/admin/users/{user_id}/role")
async def change_role(request: Request, db: Db, user_id: str) -> Response:
    return await _act(request, db, user_id, "role")


@router.post("/admin/users/{user_id}/deactivate")
async def deactivate(request: Request, db: Db, user_id: str) -> Response:
    return await _act(request, db, user_id, "deactivated")


@router.post("/admin/users/{user_id}/reactivate")
async def reactivate(request: Request, db: Db, user_id: str) -> Response:
    return await _act(request, db, user_id, "reactivated")


@router.post("/admin/users/{user_id}/revoke-sessions")
async def revoke_sessions(request: Request, db: Db, user_id: str) -> Response:
    return await _act(request, db, user_id, "revoked")


LANGUAGE_NAMES: Final = {"en": "English", "sv": "Svenska"}  # each in its own language, as the switch


def _clinic_form(
    request: Request,
    db: Session,
    user: Principal,
    form: dict[str, str],
    *,
    errors: dict[str, str] | None = None,
    done: bool = False,
    status: int = 200,
) -> Response:
    return page(
        request,
        db,
        user,
        "admin/clinic.html",
        status_code=status,
        clinic=accounts.clinic_settings(db, user),
        form=form,
        errors=errors or {},
        done=done,
        languages=LANGUAGE_NAMES,
    )


@router.get("/admin/clinic")
async def clinic_page(request: Request, db: ReadDb, done: str | None = None) -> Response:
    """The clinic's settings: time zone and default language (``PUT /api/v1/clinic/settings``)."""
    user = await admin(request, db)
    clinic = accounts.clinic_settings(db, user)
    form = {"timezone": clinic.timezone, "default_language": clinic.default_language}
    return _clinic_form(request, db, user, form, done=done == "1")


@router.post("/admin/clinic")
async def clinic_save(request: Request, db: Db) -> Response:
    user = await admin(request, db)
    _ = translator(request)
    raw = await request.form()
    form = {k: str(raw.get(k, "")).strip() for k in ("timezone", "default_language")}
    try:
        checked = ClinicSettingsIn.model_validate(form)
    except ValidationError as e:
        errors = validation_errors(e, request)
        if "timezone" in errors and form["timezone"]:
            errors["timezone"] = _("Unknown time zone: use an IANA name such as Europe/Stockholm.")
        if "default_language" in errors:
            errors["default_language"] = _("Choose one of the languages.")
        return _clinic_form(request, db, user, form, errors=errors, status=422)
    await run(accounts.update_clinic_settings, db, user, checked)
    return see_other("/admin/clinic?done=1")


@router.post("/admin/users/{user_id}/password-reset")
async def password_reset(request: Request, db: Db, user_id: str) -> Response:
    return await _act(request, db, user_id, "password")
