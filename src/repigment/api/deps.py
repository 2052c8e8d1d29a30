"""Dependencies for routes, shared with the web pages and the interop routes.

- ``get_db``: one session per request; safe methods read, unsafe methods write (on SQLite the writes
  of one process queue on an asyncio lock, so waiting writers hold no worker thread). Writers commit
  explicitly before returning, so nothing is acknowledged before it is durable.
- Group commit (SQLite, routes marked with ``group_commit``: the diary write): such writers each work in
  a savepoint of one shared transaction, one after the other under the same lock, and wait; a committer
  task then commits the transaction once (one fsync) for all of them and only then are they answered.
  Writers that arrive during that commit form the next group. Any other writer first commits a pending
  group. The audit chain stays in commit order (each writer appends after the previous one's entries).
  With ``synchronous=FULL`` the group transaction commits without its own fsync and the WAL file is then
  fsynced outside the lock (``Store.sync_wal``) while the next group is built; its writers are answered
  only after that fsync, so an answered write is exactly as durable as a FULL commit.
- ``current_user`` (``Principal``): from ``Authorization: Bearer`` or the session cookie; cookie
  requests with unsafe methods must carry the CSRF token (header ``X-CSRF-Token`` or form field
  ``csrf_token``). 401 when absent, expired or revoked.
- ``require_role(*roles)``: 403 for any other role.
- ``patient_access(*roles)``: the patient named by ``{patient_id}`` in the path, checked for tenancy
  (other clinic: 404) and, for the patient role, ownership (another patient: 404).
"""

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Final, TypeVar

import anyio
from fastapi import Depends, HTTPException, Path, Request
from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session

from repigment.api import security
from repigment.store import Actor, ApiToken, Patient, Store, User

SESSION_COOKIE: Final = "repigment_session"
CSRF_COOKIE: Final = "repigment_csrf"
CSRF_HEADER: Final = "X-CSRF-Token"
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_ID: Final = 2**31 - 1

F = TypeVar("F", bound=Callable[..., Any])

PatientId = Annotated[int, Path(ge=1, le=MAX_ID, description="Patient id")]


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


class WriteGate:
    """The SQLite writers' lock of one process, and the group transaction being built under it."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.lock = anyio.Lock()
        self.conn: Connection | None = None  # the open group transaction, if any
        self.waiting: list[asyncio.Future[None]] = []  # writers whose savepoints it holds
        self.committer: asyncio.Task[None] | None = None

    async def acquire(self) -> None:
        """The lock, with no group transaction pending (committed first): for ordinary writers."""
        await self.lock.acquire()
        try:
            await self._make_durable(await self._commit_group())
        except BaseException:
            self.lock.release()
            raise

    def release(self) -> None:
        self.lock.release()

    async def join(self) -> Session:
        """The lock and a session in a savepoint of the group transaction (opened if needed)."""
        await self.lock.acquire()
        try:
            if self.conn is None:
                self.conn = self.store.write_engine.connect()
                if self.store.deferred_sync:
                    self.store.set_synchronous(self.conn, "NORMAL")
                self.conn.begin()
            return self.store.new_session(write=True, bind=self.conn)
        except BaseException:
            self._discard_connection()
            self.lock.release()
            raise

    def leave(self, session: Session, *, committed: bool) -> asyncio.Future[None] | None:
        """Give up the lock; a committed writer's future resolves once its group is durable."""
        fut: asyncio.Future[None] | None = None
        if committed:
            fut = asyncio.get_running_loop().create_future()
            self.waiting.append(fut)
            if self.committer is None or self.committer.done():
                self.committer = asyncio.ensure_future(self._committer())
        session.close()  # an uncommitted savepoint is rolled back here
        if not self.waiting:
            self._discard_connection()  # an empty transaction must not keep SQLite's write lock
        self.lock.release()
        return fut

    async def _committer(self) -> None:
        while self.waiting:
            async with self.lock:  # after the writers queued ahead of it: they join this group
                committed = await self._commit_group()
            # the next group is built while this one's WAL is synced (FULL: one fsync per group)
            await self._make_durable(committed)

    async def _commit_group(self) -> list[asyncio.Future[None]]:
        """Commit the group transaction; the writers in it, to be answered once it is durable."""
        conn, waiting = self.conn, self.waiting
        self.conn, self.waiting = None, []
        if conn is None:
            return []
        try:
            await anyio.to_thread.run_sync(conn.commit)
        except BaseException as e:
            _fail(waiting, e)
            with contextlib.suppress(Exception):
                conn.rollback()
            if not isinstance(e, Exception):
                raise
            return []
        finally:
            self._return(conn)
        return waiting

    async def _make_durable(self, waiting: list[asyncio.Future[None]]) -> None:
        if not waiting:
            return
        if self.store.deferred_sync:
            try:
                await anyio.to_thread.run_sync(self.store.sync_wal)
            except BaseException as e:
                _fail(waiting, e)
                if not isinstance(e, Exception):
                    raise
                return
        for f in waiting:
            if not f.done():
                f.set_result(None)

    def _return(self, conn: Connection) -> None:
        """Back to the pool with the store's own ``synchronous`` (or never reused)."""
        try:
            if self.store.deferred_sync:
                self.store.set_synchronous(conn, self.store.synchronous)
        except Exception:
            conn.invalidate()
        finally:
            conn.close()

    def _discard_connection(self) -> None:
        if self.conn is not None and not self.waiting:
            try:
                self.conn.rollback()
            except Exception:
                self.conn.invalidate()
            self._return(self.conn)
            self.conn = None


def _fail(waiting: list[asyncio.Future[None]], e: BaseException) -> None:
    for f in waiting:
        if not f.done():
            f.set_exception(e if isinstance(e, Exception) else RuntimeError("commit interrupted"))


def _write_lock(request: Request) -> WriteGate | None:
    state = request.app.state
    if not state.store.is_sqlite:
        return None
    gate: WriteGate | None = getattr(state, "sqlite_write_lock", None)
    if gate is None:
        gate = state.sqlite_write_lock = WriteGate(state.store)
    return gate


def group_commit(endpoint: F) -> F:
    """Mark a route whose writer commits with ``commit_durably`` (it may join a group commit)."""
    setattr(endpoint, "group_commit", True)  # noqa: B010
    return endpoint


async def commit_durably(db: Session) -> None:
    """Commit and return once it is durable: alone, or (group commit) with the writers around it."""
    gate: WriteGate | None = db.info.get("gate")
    if gate is None:
        await anyio.to_thread.run_sync(db.commit)
        return
    db.commit()  # releases this writer's savepoint: its rows and audit entries join the group
    db.info["gate"] = None
    fut = gate.leave(db, committed=True)
    assert fut is not None
    await fut


async def get_db(request: Request) -> AsyncIterator[Session]:
    store = get_store(request)
    if request.method in SAFE_METHODS:
        session = store.new_session(write=False)
        try:
            yield session
        finally:
            session.close()
        return
    gate = _write_lock(request)
    endpoint = request.scope.get("endpoint")
    if gate is not None and getattr(endpoint, "group_commit", False):
        session = await gate.join()
        session.info["gate"] = gate
        try:
            yield session
        finally:
            if session.info.get("gate") is not None:  # never committed: rolled back, lock given up
                gate.leave(session, committed=False)
        return
    if gate is not None:
        await gate.acquire()
    try:
        session = store.new_session(write=True)
        try:
            yield session
        finally:
            session.close()  # committed by the route, or rolled back here
    finally:
        if gate is not None:
            gate.release()


Db = Annotated[Session, Depends(get_db, scope="function")]


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller: user, role, clinic, and how they authenticated."""

    user_id: int
    username: str
    role: str
    clinic_id: int
    token_id: int
    via_cookie: bool
    patient_id: int | None = None

    @property
    def actor(self) -> Actor:
        return Actor(name=self.username, user_id=self.user_id)


def _unauthorised(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


async def csrf_guard(request: Request) -> None:
    """Cookie-authenticated unsafe requests must prove they come from our own pages."""
    if request.method in SAFE_METHODS or _bearer(request) is not None:
        return
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return
    presented = request.headers.get(CSRF_HEADER)
    if presented is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get("csrf_token")
        presented = value if isinstance(value, str) else None
    if not security.csrf_matches(token, presented):
        raise HTTPException(
            403, f"missing or wrong CSRF token: send the {CSRF_HEADER} header or csrf_token field"
        )


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise _unauthorised("Authorization header must be 'Bearer <token>'")
    return value.strip()


_TOKEN_LOOKUP: Final = (
    select(
        ApiToken.id,
        ApiToken.expires_at,
        ApiToken.revoked_at,
        User.id,
        User.username,
        User.role,
        User.clinic_id,
        User.active,
        Patient.id,
    )
    .join(User, User.id == ApiToken.user_id)
    .outerjoin(Patient, Patient.user_id == User.id)
    .where(ApiToken.token_hash == bindparam("digest"))
)


def _lookup(store: Store, token: str, now: dt.datetime, via_cookie: bool) -> Principal | None:
    with store.engine.connect() as conn:  # a read: never waits for a writer
        row = conn.execute(_TOKEN_LOOKUP, {"digest": security.token_digest(token)}).first()
    if row is None:
        return None
    token_id, expires_at, revoked_at, user_id, username, role, clinic_id, active, patient_id = row
    if revoked_at is not None or expires_at <= now or not active:
        return None
    return Principal(
        user_id=user_id,
        username=username,
        role=role,
        clinic_id=clinic_id,
        token_id=token_id,
        via_cookie=via_cookie,
        patient_id=patient_id if role == "patient" else None,
    )


async def current_user(request: Request, db: Db, _csrf: Annotated[None, Depends(csrf_guard)]) -> Principal:
    """Runs on the event loop: one indexed read, cheaper than a hop to a worker thread."""
    bearer = _bearer(request)
    token = bearer or request.cookies.get(SESSION_COOKIE)
    if not token:
        raise _unauthorised("not authenticated: log in at POST /api/v1/auth/token")
    principal = _lookup(get_store(request), token, dt.datetime.now(dt.UTC), via_cookie=bearer is None)
    if principal is None:
        raise _unauthorised("token is invalid, expired or revoked: log in again")
    db.info["actor"] = principal.actor
    request.state.principal = principal
    return principal


CurrentUser = Annotated[Principal, Depends(current_user)]


def require_role(*roles: str) -> Callable[..., Awaitable[Principal]]:
    """Dependency: the caller, if their role is one of ``roles``; 403 otherwise."""
    allowed = frozenset(roles)

    async def dep(user: CurrentUser) -> Principal:
        if user.role not in allowed:
            raise HTTPException(403, f"the {user.role} role may not do this")
        return user

    dep.__name__ = f"require_{'_'.join(sorted(allowed))}"
    return dep


def not_found(what: str = "patient") -> HTTPException:
    return HTTPException(404, f"{what} not found")


def visible_patient(db: Session, user: Principal, patient_id: int) -> Patient:
    """The patient if this caller may see them; 404 for other clinics and, for patients, other patients."""
    patient = db.get(Patient, patient_id)
    if patient is None or patient.clinic_id != user.clinic_id:
        raise not_found()
    if user.role == "patient" and patient.user_id != user.user_id:
        raise not_found()
    return patient


@dataclass(frozen=True, slots=True)
class PatientContext:
    user: Principal
    patient: Patient
    db: Session


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
    return user.role == "analyst"


__all__ = [
    "CSRF_COOKIE",
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "CurrentUser",
    "Db",
    "PatientContext",
    "PatientId",
    "Principal",
    "commit_durably",
    "current_user",
    "deidentify",
    "get_db",
    "get_store",
    "group_commit",
    "not_found",
    "patient_access",
    "require_role",
    "visible_patient",
]
