"""Interoperability: FHIR R4 export/import (adapter)."""
