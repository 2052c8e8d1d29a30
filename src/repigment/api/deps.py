"""Dependencies for the API's routes, shared with the interop routes.

- ``get_db``: one session per request; safe methods read, unsafe methods write. On SQLite every writer
  first takes the ``WriteGate``: one writer at a time in this process (an asyncio lock, so waiting
  writers hold no worker thread) and across the processes serving the same file (a lock file). Writers
  commit explicitly before returning, so nothing is acknowledged before it is durable. Diary writes
  take their own path (``repigment.services.diary``): queued, checked and group-committed in batches.
- ``current_user`` (``Principal``): from ``Authorization: Bearer`` or the session cookie; cookie
  requests with unsafe methods must carry the CSRF token (header ``X-CSRF-Token`` or form field
  ``csrf_token``). 401 when absent, expired or revoked. The rules are ``repigment.services.auth``'s
  (the pages apply the same); reading them from the request is done here.
- ``require_role(*roles)``: 403 for any other role.
- ``patient_access(*roles)``: the patient named by ``{patient_id}`` in the path, checked for tenancy
  (other clinic: 404) and, for the patient role, ownership (another patient: 404).
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Final, TypeVar

from fastapi import Depends, HTTPException, Path, Request
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from repigment.api import API_PREFIX
from repigment.services import access, auth
from repigment.services.acting import PatientContext, Principal
from repigment.services.auth import CSRF_COOKIE, CSRF_HEADER, SAFE_METHODS, SESSION_COOKIE
from repigment.services.errors import Forbidden, NotFound, Unauthenticated
from repigment.services.sessions import request_session
from repigment.store import Patient, Store
from repigment.store.writer_lock import WriteGate

MAX_ID: Final = 2**31 - 1

# What an account with a temporary password may do through the API: change it, see who it is, log out.
TEMPORARY_PASSWORD_PATHS: Final = frozenset(
    {f"{API_PREFIX}/auth/password", f"{API_PREFIX}/me", f"{API_PREFIX}/auth/logout"}
)

PatientId = Annotated[int, Path(ge=1, le=MAX_ID, description="Patient id")]


def cookie_name(request: Request, base: str) -> str:
    """``base``, or ``__Host-`` + ``base`` when the request came over HTTPS."""
    return auth.cookie_name(base, request.url.scheme == "https")


def session_token(request: Request) -> str | None:
    """The session cookie's token (over HTTPS only the ``__Host-`` cookie counts)."""
    return request.cookies.get(cookie_name(request, SESSION_COOKIE))


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def write_gate(request: Request) -> WriteGate | None:
    """This process's gate for the database (None on PostgreSQL, which has row locks)."""
    gate: WriteGate | None = request.app.state.write_gate
    return gate


async def get_db(request: Request) -> AsyncIterator[Session]:
    async with request_session(
        get_store(request), write_gate(request), write=request.method not in SAFE_METHODS
    ) as session:
        yield session


async def get_read_db(request: Request) -> AsyncIterator[Session]:
    """A read session whatever the method: for writers that write elsewhere (the diary's batches)."""
    async with request_session(get_store(request), None, write=False) as session:
        yield session


Db = Annotated[Session, Depends(get_db, scope="function")]
ReadDb = Annotated[Session, Depends(get_read_db, scope="function")]


def _unauthorised(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


async def csrf_guard(request: Request) -> None:
    """Cookie-authenticated unsafe requests must prove they come from our own pages
    (``repigment.services.auth.csrf_required``, ``check_csrf``)."""
    token = session_token(request)
    if token is None or not auth.csrf_required(request.method, _bearer(request) is not None, token):
        return
    presented = request.headers.get(CSRF_HEADER)
    if presented is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(auth.CSRF_FIELD)
        presented = value if isinstance(value, str) else None
    try:
        auth.check_csrf(token, presented)
    except Forbidden as e:
        raise HTTPException(403, e.message) from e


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise _unauthorised("Authorization header must be 'Bearer <token>'")
    return value.strip()


def authenticate(request: Request, conn: Connection | None = None) -> Principal:
    """The caller from the bearer token or session cookie (``repigment.services.auth.authenticate``: one
    indexed read, on the event loop: cheaper than a hop to a worker thread; on ``conn`` if given, a read
    connection); 401 otherwise, 403 for a temporary password outside ``TEMPORARY_PASSWORD_PATHS``."""
    bearer = _bearer(request)
    token = bearer or session_token(request)
    via_cookie = bearer is None
    temporary_allowed = request.url.path in TEMPORARY_PASSWORD_PATHS
    try:
        if conn is not None:
            principal = auth.authenticate(
                conn, token, via_cookie=via_cookie, temporary_allowed=temporary_allowed
            )
        else:
            principal = auth.authenticate_in(
                get_store(request), token, via_cookie=via_cookie, temporary_allowed=temporary_allowed
            )
    except Unauthenticated as e:
        raise _unauthorised(e.message) from e
    except Forbidden as e:
        raise HTTPException(403, e.message) from e
    request.state.principal = principal
    return principal


async def current_user(request: Request, db: Db) -> Principal:
    """The caller (401), then the CSRF check (403): a form body is parsed only for a valid session."""
    principal = authenticate(request)
    await csrf_guard(request)
    db.info["actor"] = principal.actor
    return principal


CurrentUser = Annotated[Principal, Depends(current_user)]


def check_role(user: Principal, allowed: frozenset[str]) -> Principal:
    if user.role not in allowed:
        raise HTTPException(403, f"the {user.role} role may not do this")
    return user


def require_role(*roles: str) -> Callable[..., Awaitable[Principal]]:
    """Dependency: the caller, if their role is one of ``roles``; 403 otherwise."""
    allowed = frozenset(roles)

    async def dep(user: CurrentUser) -> Principal:
        return check_role(user, allowed)

    dep.__name__ = f"require_{'_'.join(sorted(allowed))}"
    return dep


def not_found(what: str = "patient") -> HTTPException:
    return HTTPException(404, f"{what} not found")


def visible_patient(db: Session, user: Principal, patient_id: int) -> Patient:
    """The patient if this caller may see them; 404 for other clinics and, for patients, other patients."""
    return check_visible(user, db.get(Patient, patient_id))


P = TypeVar("P")


def check_visible(user: Principal, patient: P | None) -> P:
    """``patient`` (a stored patient, object or row) if this caller may see it (the rule:
    ``repigment.services.access.check_visible``); 404 otherwise."""
    try:
        return access.check_visible(user, patient)
    except NotFound:
        raise not_found() from None


def patient_access(*roles: str) -> Callable[..., Awaitable[PatientContext]]:
    """Dependency: role check (403) then tenancy/ownership check (404) of ``{patient_id}``."""
    role_dep = require_role(*roles)

    async def dep(
        patient_id: PatientId, db: Db, user: Annotated[Principal, Depends(role_dep)]
    ) -> PatientContext:
        return PatientContext(user=user, patient=visible_patient(db, user, patient_id), db=db)

    return dep


def deidentify(user: Principal) -> bool:
    """Analysts see de-identified data only."""
    return access.deidentify(user)


__all__ = [
    "CSRF_COOKIE",
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "CurrentUser",
    "Db",
    "ReadDb",
    "PatientContext",
    "PatientId",
    "Principal",
    "authenticate",
    "check_role",
    "check_visible",
    "cookie_name",
    "session_token",
    "current_user",
    "deidentify",
    "get_db",
    "get_store",
    "not_found",
    "patient_access",
    "require_role",
    "visible_patient",
    "write_gate",
]
