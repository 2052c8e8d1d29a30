"""The application's own errors, raised by use cases; adapters translate them (the API: 422, 404, 409)."""

from __future__ import annotations


class ServiceError(Exception):
    """A use case refused; nothing it would have written is stored."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InputError(ServiceError):
    """A value given by the caller cannot be used; ``field`` names it (as the caller sent it).

    ``where`` is the part of the request the field is in (``body``, ``query``), or None for a field named
    by the core in its own terms (``patient.birth_date``: a fact the record gave the label engine)."""

    def __init__(self, field: str, reason: str, where: str | None = "body") -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
        self.where = where

    @property
    def path(self) -> str:
        """The field with its part of the request: ``body.visited_on``."""
        return f"{self.where}.{self.field}" if self.where else self.field


class NotFound(ServiceError):
    """The item does not exist, or is not visible to the acting user; ``what`` names it."""

    def __init__(self, what: str) -> None:
        super().__init__(f"{what} not found")
        self.what = what


class Conflict(ServiceError):
    """The write conflicts with the stored record (a referenced item changed or is gone)."""


class Forbidden(ServiceError):
    """The acting user's role may not do this (whatever the target)."""


class Unauthenticated(ServiceError):
    """No valid log-in: no token, or one that is unknown, expired or revoked, or wrong credentials."""


class Throttled(ServiceError):
    """Too many failed log-ins: try again after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
