"""``repigment dose``: fingertip-unit cream quantity, tubes a month and the run-out date."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Annotated

import typer

from repigment.cli._io import fail, print_json
from repigment.dosing import DosingError, dose_plan


def _decimal(text: str, option: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        fail(f"{option}: must be a number, got {text!r}")
    if not value.is_finite():
        fail(f"{option}: must be a finite number, got {text!r}")
    return value


def register(app: typer.Typer) -> None:
    @app.command()
    def dose(
        bsa: Annotated[str, typer.Option("--bsa", help="Treated area, % body surface area (hand units)")],
        sex: Annotated[str, typer.Option("--sex", help="female or male (fingertip unit 0.4 g / 0.5 g)")],
        per_day: Annotated[int, typer.Option("--per-day", help="Applications a day")] = 2,
        dispensed: Annotated[str | None, typer.Option("--dispensed", help="Grams dispensed")] = None,
        start: Annotated[
            str | None, typer.Option("--start", help="First application date YYYY-MM-DD")
        ] = None,
        tube: Annotated[str, typer.Option("--tube", help="Tube size in grams")] = "100",
    ) -> None:
        """Grams per application, day and month, tubes a month, and when dispensed cream runs out."""
        start_date = None
        if start is not None:
            try:
                start_date = dt.date.fromisoformat(start)
            except ValueError:
                fail(f"--start: must be a date YYYY-MM-DD, got {start!r}")
        try:
            plan = dose_plan(
                _decimal(bsa, "--bsa"),
                sex,
                per_day,
                _decimal(dispensed, "--dispensed") if dispensed is not None else None,
                start_date,
                tube_grams=_decimal(tube, "--tube"),
            )
        except DosingError as e:
            fail(f"--{e.field.replace('_', '-')}: {e.reason}")
        print_json(plan.as_json())
