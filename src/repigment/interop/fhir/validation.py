"""FHIR errors and the R4B validation of a Bundle, which the export and the import both apply.

Every resource is validated with the ``fhir.resources`` R4B models (R4B is R4 plus technical corrections).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError


class FhirError(ValueError):
    """A Bundle that cannot be exported or imported; ``where`` names the entry and field."""

    def __init__(self, where: str, reason: str) -> None:
        self.where = where
        self.reason = reason
        super().__init__(f"{where}: {reason}")


def validate_bundle(bundle: Mapping[str, Any]) -> Bundle:
    """Validate a Bundle and each of its resources with the R4B models; errors name the entry."""
    if bundle.get("resourceType") != "Bundle":
        raise FhirError("resourceType", f"expected 'Bundle', got {bundle.get('resourceType')!r}")
    entries = bundle.get("entry") or []
    if not isinstance(entries, list):
        raise FhirError("entry", "must be a list")
    for i, entry in enumerate(entries):
        resource = entry.get("resource") if isinstance(entry, Mapping) else None
        if not isinstance(resource, Mapping) or not isinstance(resource.get("resourceType"), str):
            raise FhirError(f"entry[{i}].resource", "missing or without resourceType")
        try:
            model = get_fhir_model_class(resource["resourceType"])
        except (KeyError, AttributeError, ValueError) as e:
            raise FhirError(
                f"entry[{i}].resource", f"unknown resourceType {resource['resourceType']!r}"
            ) from e
        try:
            model.model_validate(resource)
        except ValidationError as e:
            first = e.errors()[0]
            loc = ".".join(str(x) for x in first["loc"])
            raise FhirError(f"entry[{i}] ({resource['resourceType']}).{loc}", first["msg"]) from e
    try:
        return Bundle.model_validate(bundle)
    except ValidationError as e:
        first = e.errors()[0]
        raise FhirError(".".join(str(x) for x in first["loc"]) or "Bundle", first["msg"]) from e
