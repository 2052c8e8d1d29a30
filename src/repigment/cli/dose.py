"""``repigment dose``: fingertip-unit cream quantity, tubes a month and the run-out date."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Annotated

import typer

from repigment.cli._io import fail, print_json
from repigment.dosing import DosingError, dose_plan
from repigment.label import LabelInputError, evaluate_dose


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
        ruleset: Annotated[
            str, typer.Option("--ruleset", help="Label the plan is checked against")
        ] = "opzelura-eu-2023",
        lang: Annotated[str, typer.Option("--lang", help="Language of the findings: en or sv")] = "en",
    ) -> None:
        """Grams per application, day and month, tubes a month, and when dispensed cream runs out.

        Quantities outside the label (area, applications a day, cream a month) are listed under
        ``findings``, each with its rule id, as ``repigment check`` reports them."""
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
        try:
            checked = evaluate_dose(
                plan.bsa_percent,
                plan.sex,
                plan.applications_per_day,
                plan.grams_per_application,
                start_date or dt.date.today(),
                ruleset=ruleset,
                lang=lang,
            )
        except LabelInputError as e:
            fail(f"--{e.field}: {e.reason}")
        out = plan.as_json()
        out.update(
            ruleset=checked.ruleset,
            verdict=checked.verdict,
            findings=[f.as_json() for f in checked.findings],
        )
        print_json(out)
