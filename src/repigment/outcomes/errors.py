"""Typed errors for outcomes analytics that name the offending row and column."""

from __future__ import annotations


class OutcomesError(ValueError):
    """Bad analysis input. ``row`` is the 1-based data row (header excluded), when one row is at fault."""

    def __init__(self, column: str, reason: str, row: int | None = None) -> None:
        where = f"row {row}, column {column}" if row is not None else f"column {column}"
        super().__init__(f"{where}: {reason}")
        self.column = column
        self.reason = reason
        self.row = row
