"""``repigment fhir export PATIENT_ID`` and ``repigment fhir import FILE``: FHIR R4 Bundles of a record."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import select

from repigment.cli._io import fail, print_json, read_json
from repigment.interop.fhir import FhirError, export_bundle, import_bundle
from repigment.services.interchange import InteropError, import_record, record_of
from repigment.store import Actor, Clinic, Patient, Store, StoreError

fhir_app = typer.Typer(help="FHIR R4 export and import of patient records.", no_args_is_help=True)


def _store() -> Store:
    try:
        store = Store(migrate=False)
        store.check_ready()
    except StoreError as e:
        fail(str(e))
    return store


@fhir_app.command("export")
def export_cmd(
    patient_id: Annotated[int, typer.Argument(help="Patient id")],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the Bundle here (default: stdout)")
    ] = None,
) -> None:
    """Print a patient's record as a FHIR R4 Bundle (JSON)."""
    store = _store()
    try:
        with store.read() as s:
            patient = s.get(Patient, patient_id)
            if patient is None:
                fail(f"no patient {patient_id}")
            bundle = export_bundle(
                record_of(s, patient), timestamp=dt.datetime.now(dt.UTC).replace(microsecond=0)
            )
    except FhirError as e:
        fail(f"patient {patient_id}: {e}")
    finally:
        store.dispose()
    if out is None:
        print_json(bundle)
    else:
        out.write_text(json.dumps(bundle, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


@fhir_app.command("import")
def import_cmd(
    file: Annotated[str, typer.Argument(help="FHIR R4 Bundle (JSON) file, or - for standard input")],
    clinic: Annotated[str, typer.Option("--clinic", help="Name of the clinic that receives the record")],
) -> None:
    """Import a Bundle as a new patient of a clinic; prints the new patient id and what was not kept."""
    data = read_json(file)
    if not isinstance(data, dict):
        fail(f"{file}: a FHIR Bundle is a JSON object")
    try:
        imported = import_bundle(data)
    except FhirError as e:
        fail(f"{file}: {e}")
    store = _store()
    try:
        with store.write(Actor("cli:fhir-import")) as s:
            clinic_id = s.scalars(select(Clinic.id).where(Clinic.name == clinic)).first()
            if clinic_id is None:
                fail(f"--clinic: no clinic named {clinic!r}")
            result = import_record(s, clinic_id, imported.record, None)
            s.commit()
    except InteropError as e:
        fail(f"{file}: {e}")
    finally:
        store.dispose()
    print_json(
        {
            "patient_id": result.patient_id,
            "imported": result.counts,
            "not_stored": list(result.not_stored),
            "skipped_resources": list(imported.skipped),
        }
    )


def register(app: typer.Typer) -> None:
    app.add_typer(fhir_app, name="fhir")
