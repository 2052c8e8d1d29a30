"""Passwords (argon2id, a length and common-password policy), random tokens stored as SHA-256 digests,
CSRF tokens, log-in throttling.

Tokens carry 256 bits from ``secrets``; a digest of such a token cannot be reversed or guessed, so a
fast hash is enough for them (argon2 is for low-entropy passwords). CSRF tokens are bound to the
session token (HMAC), so they need no storage and cannot be forged without the HttpOnly cookie.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from importlib import resources
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from repigment.config import get_settings
from repigment.store import LoginThrottle


def token_ttl() -> dt.timedelta:
    """How long a log-in session lasts (``REPIGMENT_TOKEN_TTL_MINUTES``)."""
    return dt.timedelta(minutes=get_settings().token_ttl_minutes)


# Passwords (NIST SP 800-63B 5.1.1.2: a minimum length and a list of known-common passwords, no
# composition rules). The list: data/common-passwords.txt (provenance in data/PROVENANCE.md).
MIN_PASSWORD_LENGTH: Final = 12
MAX_PASSWORD_LENGTH: Final = 1000
_TRAILING: Final = re.compile(r"[\d\W_]+$")

_hasher = PasswordHasher()
_DUMMY_HASH: Final = _hasher.hash("not a password: keeps unknown usernames as slow as known ones")


@functools.cache
def common_passwords() -> frozenset[str]:
    text = resources.files("repigment.services").joinpath("data/common-passwords.txt").read_text("utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


def password_problem(password: str, username: str | None = None) -> str | None:
    """Why ``password`` may not be chosen (None when it may): too short or long, one character repeated,
    the username itself, or a common password (also with trailing digits and punctuation removed)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"must be at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"must be at most {MAX_PASSWORD_LENGTH} characters"
    folded = password.strip().lower()
    if len(set(folded)) <= 1:
        return "must not be one character repeated"
    if username is not None and folded == username.strip().lower():
        return "must not be the username"
    common = common_passwords()
    if folded in common or _TRAILING.sub("", folded) in common:
        return "is too common: it is on a list of passwords that attackers try first"
    return None


def check_new_password(password: str, username: str | None = None) -> str:
    """``password`` if it may be chosen; ValueError naming the problem otherwise."""
    problem = password_problem(password, username)
    if problem is not None:
        raise ValueError(f"password {problem}")
    return password


def hash_password(password: str) -> str:
    """argon2id of a password (the policy is ``check_new_password``, applied where one is chosen)."""
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Constant work whether or not the user exists."""
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    return secrets.token_urlsafe(32)


def temporary_password() -> str:
    """A password for an administrator to hand over: 20 characters from ``secrets`` (about 119 bits)."""
    return secrets.token_urlsafe(15)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def csrf_for(session_token: str) -> str:
    return hmac.new(
        session_token.encode("utf-8", "surrogatepass"), b"repigment-csrf", hashlib.sha256
    ).hexdigest()


def csrf_matches(session_token: str, presented: str | None) -> bool:
    return presented is not None and hmac.compare_digest(csrf_for(session_token), presented)


# -- log-in throttling -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ThrottleRule:
    """After ``free`` counted failures a key is locked for 2^(n - free) s, at most ``MAX_LOCK``; the count
    starts again after ``forget_after`` without a failure (never, when None)."""

    free: int
    forget_after: dt.timedelta | None


MAX_LOCK: Final = dt.timedelta(minutes=15)
# One username tried from one client address: the lock applies whatever password is tried, so guessing
# cannot go faster; the owner, from another address, is not locked out by it.
ACCOUNT_RULE: Final = ThrottleRule(free=5, forget_after=None)


# One client address, whatever the usernames: bounds guessing across many accounts from one place.
# Its number of free failures is REPIGMENT_LOGIN_CLIENT_FAILURES.
def client_rule() -> ThrottleRule:
    return ThrottleRule(free=get_settings().login_client_failures, forget_after=dt.timedelta(hours=1))


FREE_FAILURES: Final = ACCOUNT_RULE.free


def throttle_keys(username: str, client: str) -> tuple[str, str]:
    """The keys a log-in attempt is counted under, in the order their rows are locked: the username (case
    folded) from this client address, and the client address alone."""
    return f"account:{client}:{username.lower()}"[:200], f"client:{client}"[:200]


def rule_for(key: str) -> ThrottleRule:
    return client_rule() if key.startswith("client:") else ACCOUNT_RULE


def locked_for(row: LoginThrottle | None, now: dt.datetime) -> float:
    """Seconds the key stays locked (0 when a log-in may be tried)."""
    if row is None or row.locked_until is None or row.locked_until <= now:
        return 0.0
    return (row.locked_until - now).total_seconds()


def record_failure(row: LoginThrottle, now: dt.datetime, rule: ThrottleRule = ACCOUNT_RULE) -> None:
    """Count one failure (counted before the password is checked, so that parallel guesses see it)."""
    last = row.last_failure_at
    if rule.forget_after is not None and last is not None and now - last > rule.forget_after:
        row.failures, row.locked_until = 0, None
    row.failures = (row.failures or 0) + 1
    row.last_failure_at = now
    if row.failures >= rule.free:
        lock = min(dt.timedelta(seconds=2 ** min(row.failures - rule.free, 20)), MAX_LOCK)
        row.locked_until = now + lock


def forgive(row: LoginThrottle, rule: ThrottleRule) -> None:
    """Take back the failure counted in advance for an attempt that succeeded."""
    row.failures = max(0, (row.failures or 0) - 1)
    if row.failures < rule.free:
        row.locked_until = None
