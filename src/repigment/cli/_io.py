"""Shared CLI plumbing: reading JSON input and failing with exit code 2 on bad input."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NoReturn

import typer

EXIT_BAD_INPUT = 2


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def read_json(source: str) -> Any:
    """Parse JSON from a file path or ``-`` (standard input); malformed input exits 2 naming the place."""
    name = "standard input" if source == "-" else source
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as e:
        fail(f"cannot read {name}: {e.strerror or e}")
    except UnicodeDecodeError:
        fail(f"{name} is not UTF-8 text")
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        fail(f"{name} is not valid JSON: {e.msg} at line {e.lineno} column {e.colno}")
    except RecursionError:  # as the API refuses such a body (422), not a crash
        fail(f"{name} could not be read: JSON nested too deeply")


def print_json(obj: Any) -> None:
    typer.echo(json.dumps(obj, indent=2, ensure_ascii=False))
