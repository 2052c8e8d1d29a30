"""Cream quantity: fingertip-unit grams per application, per day and month, tubes, run-out date (pure)."""

from repigment.dosing.ftu import (
    FTU_GRAMS,
    HAND_AREAS_PER_FTU,
    SEXES,
    DosePlan,
    DosingError,
    dose_plan,
    grams_per_application,
    run_out_date,
)

__all__ = [
    "FTU_GRAMS",
    "HAND_AREAS_PER_FTU",
    "SEXES",
    "DosePlan",
    "DosingError",
    "dose_plan",
    "grams_per_application",
    "run_out_date",
]
