"""An account's life cycle, the one implementation behind the API's routes and ``repigment users``:
deactivate and reactivate, set a password (a temporary one that must be changed at the next log-in, or
the owner's own), and revoke sessions and tokens.

Every step changes the account's row, so the audit trail records who did it and when: ``active``,
``must_change_password``, ``password_changed_at`` and ``sessions_revoked_at`` (the hash itself only as
a digest there), each revoked token's ``revoked_at``, and a ``password_change`` or ``password_reset``
access event. Revoked tokens stop working at once: each request looks its token up (with the
account's ``active`` flag) in the database.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from repigment.store import ApiToken, User, record_access_event


def revoke_tokens(s: Session, user: User, now: dt.datetime, keep_token_id: int | None = None) -> int:
    """Revoke every live token and session of ``user`` except ``keep_token_id``; how many were live."""
    live = s.scalars(
        select(ApiToken).where(
            ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None), ApiToken.expires_at > now
        )
    ).all()
    n = 0
    for tok in live:
        if tok.id != keep_token_id:
            tok.revoked_at = now
            n += 1
    user.sessions_revoked_at = now
    return n


def deactivate(s: Session, user: User, now: dt.datetime) -> int:
    """The account can no longer log in and its tokens stop working; the number of tokens revoked."""
    revoked = revoke_tokens(s, user, now)  # first: its query would flush a change made before it
    user.active = False
    return revoked


def reactivate(user: User) -> None:
    user.active = True


def set_password(
    s: Session,
    user: User,
    password_hash: str,
    now: dt.datetime,
    *,
    temporary: bool,
    keep_token_id: int | None = None,
) -> int:
    """A new password: ``temporary`` (set by an administrator) must be changed at the next log-in. Every
    other session of the account is revoked (an attacker's too); the number revoked."""
    revoked = revoke_tokens(s, user, now, keep_token_id)  # first: one audit entry for the whole step
    user.password_hash = password_hash
    user.must_change_password = temporary
    user.password_changed_at = now
    actor = s.info.get("actor")
    if actor is not None:  # without one the flush refuses the change anyway
        record_access_event(
            s,
            actor,
            "password_reset" if temporary else "password_change",
            table_name="app_user",
            row_id=user.id,
            detail={"revoked_sessions": revoked},
        )
    return revoked
