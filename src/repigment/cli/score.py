"""``repigment score`` and ``repigment compare``: VASI scoring from JSON."""

from __future__ import annotations

from typing import Annotated

import typer

from repigment.cli._io import fail, print_json, read_json
from repigment.scoring import ScoringError, VasiResult, compare_scores, score_assessment


def _score_file(source: str) -> VasiResult:
    data = read_json(source)
    try:
        return score_assessment(data)
    except ScoringError as e:
        fail(f"{source}: {e}")


def register(app: typer.Typer) -> None:
    @app.command()
    def score(
        file: Annotated[str, typer.Argument(help="Assessment JSON file, or - for standard input")] = "-",
    ) -> None:
        """Score an assessment: F-VASI, T-VASI, F-BSA, T-BSA and the per-region breakdown."""
        print_json(_score_file(file).as_json())

    @app.command()
    def compare(
        baseline: Annotated[str, typer.Argument(help="Baseline assessment JSON")],
        current: Annotated[str, typer.Argument(help="Current assessment JSON")],
        rescore: Annotated[
            bool,
            typer.Option(
                "--rescore",
                help="Score the current assessment's patches under the baseline's variant when they differ",
            ),
        ] = False,
    ) -> None:
        """Percent change and responder status (F-VASI25/50/75/90, T-VASI50/75) between two assessments.

        Both must be scored under one variant and body model (reported in the output); a mismatch is
        refused unless --rescore."""
        if baseline == "-" and current == "-":
            fail("only one of BASELINE and CURRENT can be read from standard input")
        try:
            result = compare_scores(_score_file(baseline), _score_file(current), rescore=rescore)
        except ScoringError as e:
            fail(f"{baseline} vs {current}: {e}")
        print_json(result)
