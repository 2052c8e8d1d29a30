"""``repigment icsr export AE_ID`` and ``repigment icsr parse FILE``: ICH E2B(R3) safety reports."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from repigment.cli._io import fail
from repigment.safety import IcsrIncomplete, IcsrParseError, parse_icsr, write_case
from repigment.services.interchange import DEFAULT_RECEIVER, IcsrOptions, InteropError, case_of, sender_id
from repigment.store import AdverseEvent, Patient, Store, StoreError

icsr_app = typer.Typer(help="ICH E2B(R3) individual case safety reports.", no_args_is_help=True)


@icsr_app.command("export")
def export_cmd(
    ae_id: Annotated[int, typer.Argument(help="Adverse event id")],
    country: Annotated[
        str | None,
        typer.Option(help="Reporter and sender country, ISO 3166-1 alpha-2 (or $REPIGMENT_ICSR_COUNTRY)"),
    ] = None,
    meddra_code: Annotated[str | None, typer.Option(help="MedDRA LLT code of the reaction")] = None,
    meddra_version: Annotated[str | None, typer.Option(help="MedDRA version, e.g. 27.0")] = None,
    receiver: Annotated[str, typer.Option(help="Receiver identifier (N.1.4)")] = DEFAULT_RECEIVER,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the XML here (default: stdout)")
    ] = None,
) -> None:
    """Write the E2B(R3) message of one adverse event; an incomplete case lists what is missing (exit 2)."""
    try:
        store = Store(migrate=False)
        store.check_ready()
    except StoreError as e:
        fail(str(e))
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    options = IcsrOptions(
        country=country, meddra_code=meddra_code, meddra_version=meddra_version, receiver=receiver
    )
    try:
        with store.read() as s:
            ae = s.get(AdverseEvent, ae_id)
            patient = s.get(Patient, ae.patient_id) if ae is not None else None
            if ae is None or patient is None:
                fail(f"no adverse event {ae_id}")
            xml = write_case(
                case_of(s, ae, options, now), sender=sender_id(patient.clinic_id), receiver=receiver, now=now
            )
    except IcsrIncomplete as e:
        fail(f"adverse event {ae_id}: no ICSR written, missing or invalid:\n  " + "\n  ".join(e.problems))
    except InteropError as e:
        fail(f"adverse event {ae_id}: {e}")
    finally:
        store.dispose()
    if out is None:
        sys.stdout.buffer.write(xml)
    else:
        out.write_bytes(xml)


def _jsonable(value: Any) -> Any:
    if isinstance(value, frozenset):
        return sorted(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


@icsr_app.command("parse")
def parse_cmd(
    file: Annotated[Path, typer.Argument(help="E2B(R3) XML file (MCCI_IN200100UV01 batch)")],
) -> None:
    """Read an E2B(R3) message and print its cases as JSON (for import into another system)."""
    try:
        batch = parse_icsr(file)
    except IcsrParseError as e:
        fail(f"{file}: {e}")
    typer.echo(json.dumps(_jsonable(dataclasses.asdict(batch)), indent=2, ensure_ascii=False))


def register(app: typer.Typer) -> None:
    app.add_typer(icsr_app, name="icsr")
