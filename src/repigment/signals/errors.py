"""Typed errors for the signal-detection core; each names the file, column or parameter at fault."""

from __future__ import annotations


class SignalsError(ValueError):
    """Bad input to signal detection (the CLI turns it into exit code 2)."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}")
        self.where = where
        self.reason = reason
