"""Typed errors for outcomes analytics that name the offending row and column (or option)."""

from __future__ import annotations

from typing import Literal

Kind = Literal["column", "option", "input"]


class OutcomesError(ValueError):
    """Bad analysis input.

    ``kind`` says what ``field`` names: a data ``column`` (with ``row``, the 1-based data row, header
    excluded, when one row is at fault), an analysis ``option`` (shown as ``--field``), or another ``input``.
    """

    def __init__(self, field: str, reason: str, row: int | None = None, kind: Kind = "column") -> None:
        if kind == "option":
            where = f"--{field}"
        elif kind == "input":
            where = field
        else:
            where = f"row {row}, column {field}" if row is not None else f"column {field}"
        super().__init__(f"{where}: {reason}")
        self.field = field
        self.column = field if kind == "column" else None
        self.reason = reason
        self.row = row
        self.kind = kind
