"""Outcomes analytics: responder endpoints from long visit data and trial-grade statistics.

Pure apart from reading CSV/Parquet (:func:`read_long`) and rendering reports; responder logic comes from
:mod:`repigment.scoring`. Methods and references: docs/outcomes.md.
"""

from repigment.outcomes.analysis import (
    BASELINE_RULE,
    MISSING_STRATEGIES,
    VISIT_RULE,
    analyse,
    analyse_single_arm,
    stratum_codes,
    tables,
)
from repigment.outcomes.endpoints import (
    DEFAULT_CONTROL,
    DEFAULT_TREATMENT,
    ENDPOINT_NAMES,
    REQUIRED_COLUMNS,
    VNS_ENDPOINT,
    EndpointData,
    derive,
    normalise_endpoint,
    read_long,
)
from repigment.outcomes.errors import OutcomesError
from repigment.outcomes.imputation import DEFAULT_IMPUTATIONS, DEFAULT_SEED, impute
from repigment.outcomes.published import published_rates, reconstruct
from repigment.outcomes.simulate import SimulationParameters, simulate

__all__ = [
    "BASELINE_RULE",
    "DEFAULT_CONTROL",
    "DEFAULT_IMPUTATIONS",
    "DEFAULT_SEED",
    "DEFAULT_TREATMENT",
    "ENDPOINT_NAMES",
    "MISSING_STRATEGIES",
    "REQUIRED_COLUMNS",
    "VISIT_RULE",
    "VNS_ENDPOINT",
    "EndpointData",
    "OutcomesError",
    "SimulationParameters",
    "analyse",
    "analyse_single_arm",
    "derive",
    "impute",
    "normalise_endpoint",
    "published_rates",
    "read_long",
    "reconstruct",
    "simulate",
    "stratum_codes",
    "tables",
]
