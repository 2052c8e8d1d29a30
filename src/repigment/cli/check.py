"""``repigment check``: the label rules engine on a JSON request."""

from __future__ import annotations

from typing import Annotated

import typer

from repigment.cli._io import fail, print_json, read_json
from repigment.label import LANGUAGES, LabelInputError, evaluate

EXIT_BLOCK = 1


def register(app: typer.Typer) -> None:
    @app.command()
    def check(
        file: Annotated[str, typer.Argument(help="Request JSON file, or - for standard input")] = "-",
        lang: Annotated[str, typer.Option("--lang", help="Language of the messages: en or sv")] = "en",
    ) -> None:
        """Check eligibility, a plan, an application log and the course against a label ruleset.

        Exits 0 (ok or warn), 1 (block: a clinician must record an override) or 2 (bad input).
        """
        if lang not in LANGUAGES:
            fail(f"--lang: must be one of {list(LANGUAGES)}, got {lang!r}")
        data = read_json(file)
        try:
            result = evaluate(data, lang)
        except LabelInputError as e:
            fail(f"{file}: {e}")
        print_json(result.as_json())
        if result.verdict == "block":
            raise typer.Exit(EXIT_BLOCK)
