"""HTTP routes for record export (FHIR) and safety reports (ICSR), included by the API app."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
