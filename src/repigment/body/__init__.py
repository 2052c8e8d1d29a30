"""Body model: VASI regions, age-adjusted Lund–Browder weights, face sub-area, hand units (pure)."""

from repigment.body.age import age_on
from repigment.body.errors import BodyModelError
from repigment.body.lund_browder import (
    ADULT_AGE_YEARS,
    BODY_MODEL_VERSION,
    CHART_AREAS,
    CHART_AREAS_BY_NAME,
    VASI_REGIONS,
    ChartArea,
    VasiRegion,
    age_weights,
    area_weight,
    chart_weights,
    check_age,
    drawn_hand_units,
    region_capacities,
)

__all__ = [
    "ADULT_AGE_YEARS",
    "BODY_MODEL_VERSION",
    "CHART_AREAS",
    "CHART_AREAS_BY_NAME",
    "VASI_REGIONS",
    "BodyModelError",
    "ChartArea",
    "VasiRegion",
    "age_on",
    "age_weights",
    "area_weight",
    "chart_weights",
    "check_age",
    "drawn_hand_units",
    "region_capacities",
]
