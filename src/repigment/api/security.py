"""Passwords (argon2id), random tokens stored as SHA-256 digests, CSRF tokens, log-in throttling.

Tokens carry 256 bits from ``secrets``; a digest of such a token cannot be reversed or guessed, so a
fast hash is enough for them (argon2 is for low-entropy passwords). CSRF tokens are bound to the
session token (HMAC), so they need no storage and cannot be forged without the HttpOnly cookie.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import secrets
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from repigment.store import LoginThrottle

TOKEN_TTL: Final = dt.timedelta(minutes=int(os.environ.get("REPIGMENT_TOKEN_TTL_MINUTES", "480")))
# Throttling: after FREE_FAILURES consecutive failures a username is locked for 2^(n-FREE_FAILURES) s,
# at most MAX_LOCK; the lock applies whatever password is tried, so guessing cannot go faster.
FREE_FAILURES: Final = 5
MAX_LOCK: Final = dt.timedelta(minutes=15)
MIN_PASSWORD_LENGTH: Final = 8

_hasher = PasswordHasher()
_DUMMY_HASH: Final = _hasher.hash("not a password: keeps unknown usernames as slow as known ones")


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Constant work whether or not the user exists."""
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def csrf_for(session_token: str) -> str:
    return hmac.new(
        session_token.encode("utf-8", "surrogatepass"), b"repigment-csrf", hashlib.sha256
    ).hexdigest()


def csrf_matches(session_token: str, presented: str | None) -> bool:
    return presented is not None and hmac.compare_digest(csrf_for(session_token), presented)


def locked_for(row: LoginThrottle | None, now: dt.datetime) -> float:
    """Seconds the username stays locked (0 when a log-in may be tried)."""
    if row is None or row.locked_until is None or row.locked_until <= now:
        return 0.0
    return (row.locked_until - now).total_seconds()


def record_failure(row: LoginThrottle, now: dt.datetime) -> None:
    row.failures = (row.failures or 0) + 1
    row.last_failure_at = now
    if row.failures >= FREE_FAILURES:
        lock = min(dt.timedelta(seconds=2 ** (row.failures - FREE_FAILURES)), MAX_LOCK)
        row.locked_until = now + lock
