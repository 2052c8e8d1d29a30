"""``repigment audit``: check the trail (``verify``), list it and export it for an inspector.

``list`` prints one JSON object per entry; ``export`` writes CSV (one row per entry). Both take the same
filters: ``--user`` (username or id), ``--patient`` (id), ``--since`` and ``--until`` (UTC days,
inclusive), ``--action`` (repeatable).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from repigment.cli._io import fail, print_json

audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)

User = Annotated[str | None, typer.Option(help="Only this user's entries (username or id)")]
PatientOpt = Annotated[int | None, typer.Option(min=1, help="Only entries about this patient's record (id)")]
Since = Annotated[str | None, typer.Option(help="From this UTC day (YYYY-MM-DD), included")]
Until = Annotated[str | None, typer.Option(help="Up to this UTC day (YYYY-MM-DD), included")]
Action = Annotated[list[str] | None, typer.Option("--action", help="Only this action (repeatable)")]


@audit_app.command("verify")
def verify_cmd() -> None:
    """Exit 0 when the trail is intact and explains every row; 1 (with the problems listed) otherwise."""
    from repigment.store import Store, StoreError, verify

    try:
        store = Store(migrate=False)
        store.check_ready()
        with store.engine.connect() as conn:
            report = verify(conn)
    except StoreError as e:
        fail(str(e))
    print_json(report.as_json())
    if not report.ok:
        raise typer.Exit(1)


def _day(option: str, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        fail(f"{option} must be a date YYYY-MM-DD, got {value!r}")


def _entries(
    user: str | None, patient: int | None, since: str | None, until: str | None, action: list[str] | None
) -> Iterator[dict[str, Any]]:
    from repigment.store import Store, StoreError
    from repigment.store.audit import listing
    from repigment.store.models import AUDIT_ACTIONS

    first, last = _day("--since", since), _day("--until", until)
    if first is not None and last is not None and last < first:
        fail("--until must not be before --since")
    for a in action or ():
        if a not in AUDIT_ACTIONS:
            fail(f"--action must be one of {', '.join(AUDIT_ACTIONS)}, got {a!r}")
    try:
        store = Store(migrate=False)
        store.check_ready()
    except StoreError as e:
        fail(str(e))
    try:
        with store.engine.connect() as conn:
            yield from listing(
                conn, user=user, patient_id=patient, since=first, until=last, actions=action or ()
            )
    finally:
        store.dispose()


@audit_app.command("list")
def list_cmd(
    user: User = None,
    patient: PatientOpt = None,
    since: Since = None,
    until: Until = None,
    action: Action = None,
) -> None:
    """The entries, oldest first, one JSON object a line: who, when, what, whose record, details."""
    for e in _entries(user, patient, since, until, action):
        typer.echo(json.dumps(e, ensure_ascii=False, sort_keys=True))


@audit_app.command("export")
def export_cmd(
    output: Annotated[str, typer.Argument(help="CSV file to write (- for standard output)")] = "-",
    user: User = None,
    patient: PatientOpt = None,
    since: Since = None,
    until: Until = None,
    action: Action = None,
) -> None:
    """The entries as CSV for an inspector (UTF-8, a header row, details as JSON)."""
    from repigment.store.audit import LISTED

    rows = _entries(user, patient, since, until, action)
    with contextlib.ExitStack() as stack:
        target: TextIO = (
            sys.stdout
            if output == "-"
            else stack.enter_context(Path(output).open("w", encoding="utf-8", newline=""))
        )
        w = csv.writer(target)
        w.writerow(LISTED)
        n = 0
        for e in rows:
            w.writerow(["" if e[k] is None else _cell(e[k]) for k in LISTED])
            n += 1
    if output != "-":
        typer.echo(f"{n} entries written to {output}", err=True)


def _cell(v: Any) -> str:
    text = json.dumps(v, ensure_ascii=False, sort_keys=True) if isinstance(v, dict | list) else str(v)
    # a spreadsheet would run text starting like a formula (CSV injection)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
