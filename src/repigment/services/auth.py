"""Authentication, the one implementation behind the API and the pages: who a token or session belongs
to (valid, unexpired, unrevoked, active account), what a temporary password allows, when a request must
carry the CSRF token and whether it matches, the session's cookies, and the use cases log in, log out
and change one's own password (throttled, audited).

Reading the token from a request (``Authorization: Bearer``, the session cookie, the CSRF header or form
field) is HTTP and stays in the adapters; what they read is judged here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Literal, TypeVar

import anyio
from sqlalchemy import Connection, bindparam, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from repigment.services import accounts, security
from repigment.services.access_log import Channel, event, record_in
from repigment.services.acting import Principal
from repigment.services.errors import Forbidden, Throttled, Unauthenticated
from repigment.store import Actor, ApiToken, LoginThrottle, Patient, Store, User, record_access_event
from repigment.store.prepared import Prepared
from repigment.store.writer_lock import WriteGate

T = TypeVar("T")

# -- the session's cookies (the same for the API's browser sessions and the pages) -------------------
SESSION_COOKIE: Final = "repigment_session"
CSRF_COOKIE: Final = "repigment_csrf"
# Over HTTPS the cookies are named with this prefix: browsers then accept them only with Secure, Path=/
# and no Domain, so neither a plain-HTTP page nor a sibling subdomain can plant or overwrite them.
HOST_PREFIX: Final = "__Host-"
CSRF_HEADER: Final = "X-CSRF-Token"
CSRF_FIELD: Final = "csrf_token"
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})


def cookie_name(base: str, https: bool) -> str:
    """``base``, or ``__Host-`` + ``base`` over HTTPS."""
    return HOST_PREFIX + base if https else base


@dataclass(frozen=True, slots=True)
class Cookie:
    """A cookie to set: ``max_age`` None deletes it."""

    name: str
    value: str
    max_age: int | None
    httponly: bool
    samesite: Literal["lax", "strict"]
    secure: bool


def session_cookies(token: str, expires_at: dt.datetime, https: bool) -> tuple[Cookie, Cookie]:
    """The HttpOnly session cookie and the readable CSRF cookie (its value is the CSRF token)."""
    max_age = int((expires_at - dt.datetime.now(dt.UTC)).total_seconds())
    return (
        Cookie(cookie_name(SESSION_COOKIE, https), token, max_age, True, "lax", https),
        Cookie(cookie_name(CSRF_COOKIE, https), security.csrf_for(token), max_age, False, "strict", https),
    )


def session_cookie_names(https: bool) -> tuple[str, str]:
    """The names of the cookies a log-out clears."""
    return cookie_name(SESSION_COOKIE, https), cookie_name(CSRF_COOKIE, https)


# -- who is asking ----------------------------------------------------------------------------------
NOT_AUTHENTICATED: Final = "not authenticated: log in at POST /api/v1/auth/token"
BAD_TOKEN: Final = "token is invalid, expired or revoked: log in again"
PASSWORD_CHANGE_REQUIRED: Final = (
    "password change required: this account has a temporary password; POST /api/v1/auth/password"
)


class PasswordChangeRequired(Forbidden):
    """A temporary password: changing it, seeing who one is and logging out is all the account may do."""


_TOKEN_LOOKUP: Final = Prepared(
    select(
        ApiToken.id,
        ApiToken.expires_at,
        ApiToken.revoked_at,
        User.id,
        User.username,
        User.role,
        User.clinic_id,
        User.active,
        User.must_change_password,
        Patient.id,
    )
    .join(User, User.id == ApiToken.user_id)
    .outerjoin(Patient, Patient.user_id == User.id)
    .where(ApiToken.token_hash == bindparam("digest"))
)


def lookup(conn: Connection, token: str, now: dt.datetime, via_cookie: bool) -> Principal | None:
    """The caller a token belongs to, if it is valid: known, unrevoked, unexpired, its account active
    (one indexed read)."""
    row = _TOKEN_LOOKUP.first(conn, {"digest": security.token_digest(token)})
    if row is None:
        return None
    token_id, expires_at, revoked_at, user_id, username, role, clinic_id, active, must_change, patient_id = (
        row
    )
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
        must_change_password=must_change,
    )


def authenticate(
    conn: Connection, token: str | None, *, via_cookie: bool, temporary_allowed: bool
) -> Principal:
    """The caller of a token or session (Unauthenticated when there is none or it is not valid);
    PasswordChangeRequired for an account with a temporary password unless ``temporary_allowed`` (the
    request changes the password, asks who it is, or logs out)."""
    if not token:
        raise Unauthenticated(NOT_AUTHENTICATED)
    principal = lookup(conn, token, dt.datetime.now(dt.UTC), via_cookie)
    if principal is None:
        raise Unauthenticated(BAD_TOKEN)
    if principal.must_change_password and not temporary_allowed:
        raise PasswordChangeRequired(PASSWORD_CHANGE_REQUIRED)
    return principal


def authenticate_in(
    store: Store, token: str | None, *, via_cookie: bool, temporary_allowed: bool
) -> Principal:
    """``authenticate`` on a read connection of its own (a read: never waits for a writer)."""
    if not token:
        raise Unauthenticated(NOT_AUTHENTICATED)
    with store.engine.connect() as conn:
        return authenticate(conn, token, via_cookie=via_cookie, temporary_allowed=temporary_allowed)


def csrf_required(method: str, bearer: bool, session_token: str | None) -> bool:
    """Cookie-authenticated unsafe requests must prove they come from our own pages (CSRF token)."""
    return method not in SAFE_METHODS and not bearer and bool(session_token)


def check_csrf(session_token: str, presented: str | None) -> None:
    """Forbidden unless ``presented`` is the session's CSRF token."""
    if not security.csrf_matches(session_token, presented):
        raise Forbidden(f"missing or wrong CSRF token: send the {CSRF_HEADER} header or {CSRF_FIELD} field")


# -- log-in, log-out, password change ----------------------------------------------------------------
def _insert(store: Store) -> Any:
    return sqlite_insert if store.is_sqlite else pg_insert


def _reserve_sync(store: Store, keys: tuple[str, ...], now: dt.datetime) -> float:
    """Count this attempt as a failure under every key before the password is checked, unless a key is
    locked (then the seconds it stays locked). One transaction with the keys' rows locked (PostgreSQL:
    ``FOR UPDATE``; SQLite: ``BEGIN IMMEDIATE`` behind the write gate), so that parallel attempts are
    counted one after another and none gets past a lock an earlier one set."""
    ordered = sorted(keys)
    with store.write(actor=None) as s:
        s.execute(
            _insert(store)(LoginThrottle)
            .values([{"key": k, "failures": 0} for k in ordered])
            .on_conflict_do_nothing(index_elements=["key"])
        )
        rows = s.scalars(
            select(LoginThrottle)
            .where(LoginThrottle.key.in_(ordered))
            .order_by(LoginThrottle.key)
            .with_for_update()
        ).all()
        locked = max((security.locked_for(r, now) for r in rows), default=0.0)
        if locked:
            s.rollback()
            return locked
        for r in rows:
            security.record_failure(r, now, security.rule_for(r.key))
        s.commit()
        return 0.0


def _authenticate_sync(store: Store, username: str, password: str) -> User | None:
    """The active account these credentials open, or None. The slow password check holds no lock."""
    with store.read() as s:
        user = s.scalars(select(User).where(func.lower(User.username) == username.lower())).first()
    ok = security.verify_password(user.password_hash if user else None, password)
    return user if ok and user is not None and user.active else None


def _forgive(s: Session, keys: tuple[str, ...]) -> None:
    """The password was right: the account's count starts again, the client's loses this attempt."""
    for r in s.scalars(select(LoginThrottle).where(LoginThrottle.key.in_(sorted(keys)))).all():
        rule = security.rule_for(r.key)
        if rule is security.ACCOUNT_RULE:
            s.delete(r)
        else:
            security.forgive(r, rule)


def _record_sync(
    store: Store, keys: tuple[str, ...], user: User, kind: str, now: dt.datetime, detail: dict[str, Any]
) -> str:
    """A successful log-in: take back the failure counted in advance, create the token (an audited row)
    and record the ``login`` event."""
    actor = Actor(user.username, user.id)
    with store.write(actor) as s:
        _forgive(s, keys)
        token = security.new_token()
        row = ApiToken(
            user_id=user.id,
            token_hash=security.token_digest(token),
            kind=kind,
            created_at=now,
            expires_at=now + security.token_ttl(),
        )
        s.add(row)
        s.flush()
        record_access_event(
            s,
            actor,
            "login",
            table_name="app_user",
            row_id=user.id,
            detail={**detail, "kind": kind, "token_id": row.id},
        )
        s.commit()
        return token


def _failed_sync(store: Store, username: str, detail: dict[str, Any]) -> None:
    """A failed log-in (wrong password, unknown or inactive account, or throttled): a ``login_failed``
    event, kept whatever happens to the throttle's counters."""
    with store.write(None) as s:
        known = s.scalars(select(User.id).where(func.lower(User.username) == username.lower())).first()
        record_access_event(
            s,
            Actor("anonymous"),
            "login_failed",
            table_name="app_user",
            row_id=known if known is not None else "",
            detail={**detail, "username": username},
        )
        s.commit()


async def _gated(gate: WriteGate | None, fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` in a worker thread behind this process's write gate (SQLite)."""
    if gate is not None:
        await gate.acquire()
    try:
        return await anyio.to_thread.run_sync(fn, *args)
    finally:
        if gate is not None:
            gate.release()


def _throttled(seconds: float) -> Throttled:
    wait = max(1, int(seconds + 0.999))
    return Throttled(f"too many failed log-ins from this address: try again in {wait} s", wait)


@dataclass(frozen=True, slots=True)
class LoggedIn:
    token: str
    expires_at: dt.datetime
    must_change_password: bool


async def log_in(
    store: Store, gate: WriteGate | None, username: str, password: str, *, kind: str, channel: Channel
) -> LoggedIn:
    """Check a username and password: a new random token (stored hashed), or Unauthenticated, or
    Throttled (``security``'s rules, counted per account and client address, ``channel.client``)."""
    now = dt.datetime.now(dt.UTC)
    keys = security.throttle_keys(username, channel.client or "unknown")
    detail = channel.details({"kind": kind})
    locked = await _gated(gate, _reserve_sync, store, keys, now)
    if locked:
        await _gated(gate, _failed_sync, store, username, {**detail, "reason": "throttled"})
        raise _throttled(locked)
    user = await anyio.to_thread.run_sync(_authenticate_sync, store, username, password)
    if user is None:
        await _gated(gate, _failed_sync, store, username, {**detail, "reason": "credentials"})
        raise Unauthenticated("wrong username or password")
    token = await _gated(gate, _record_sync, store, keys, user, kind, now, channel.details())
    return LoggedIn(token, now + security.token_ttl(), user.must_change_password)


def log_out(db: Session, actor: Principal, channel: Channel) -> None:
    """Revoke the caller's token (an audited change of its row) and record the ``logout`` event, in one
    transaction (``db``: a write session)."""
    tok = db.get(ApiToken, actor.token_id)
    if tok is not None and tok.revoked_at is None:
        tok.revoked_at = dt.datetime.now(dt.UTC)
    db.flush()
    record_in(
        db,
        event(
            actor,
            channel,
            "logout",
            table_name="app_user",
            row_id=actor.user_id,
            patient_id=None,
            extra={"token_id": actor.token_id},
        ),
    )
    db.commit()


def new_password_problem(user: Principal, current: str, new: str) -> str | None:
    """Why ``new`` may not replace ``current`` (the policy, or no change at all); None when it may."""
    problem = security.password_problem(new, user.username)
    if problem is None and new == current:
        problem = "must differ from the current password"
    return problem


async def change_own_password(
    store: Store, gate: WriteGate | None, user: Principal, current: str, new: str, *, channel: Channel
) -> int:
    """Check ``current`` (throttled as a log-in: Throttled, or Forbidden when wrong), then set ``new``
    (already checked with ``new_password_problem``); the number of other sessions revoked."""
    now = dt.datetime.now(dt.UTC)
    keys = security.throttle_keys(user.username, channel.client or "unknown")
    locked = await _gated(gate, _reserve_sync, store, keys, now)
    if locked:
        raise _throttled(locked)
    found = await anyio.to_thread.run_sync(_authenticate_sync, store, user.username, current)
    if found is None or found.id != user.user_id:
        raise WrongPassword("body.current_password: is wrong")
    digest = await anyio.to_thread.run_sync(security.hash_password, new)
    revoked: int = await _gated(gate, _change_sync, store, keys, user, digest, now)
    return revoked


class WrongPassword(Forbidden):
    """The current password given to change it is wrong."""


def _change_sync(store: Store, keys: tuple[str, ...], user: Principal, digest: str, now: dt.datetime) -> int:
    with store.write(user.actor) as s:
        _forgive(s, keys)
        u = s.get(User, user.user_id)
        assert u is not None  # the request's token was just looked up with it
        revoked = accounts.set_password(s, u, digest, now, temporary=False, keep_token_id=user.token_id)
        s.commit()
        return revoked


def revoke_others(db: Session, user: Principal) -> int:
    """Revoke every other session and token of the caller's account (a lost phone, a shared computer)."""
    u = db.get(User, user.user_id)
    assert u is not None
    revoked = accounts.revoke_tokens(db, u, dt.datetime.now(dt.UTC), keep_token_id=user.token_id)
    db.commit()
    return revoked
