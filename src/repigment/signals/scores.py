"""Score counted cells: every measure in one table, in exact or openEBGM-compatible mode."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from enum import StrEnum

import numpy as np
import numpy.typing as npt
import pandas as pd

from repigment.signals import mgps
from repigment.signals.counts import Counts
from repigment.signals.measures import (
    disproportionality,
    information_component,
    relative_reporting_ratio,
)
from repigment.signals.mgps import Theta
from repigment.signals.rounding import r_round
from repigment.signals.screening import EMA_MIN_COUNT, flag

FloatArray = npt.NDArray[np.float64]


class Mode(StrEnum):
    EXACT = "exact"  # true quantiles, nothing rounded
    OPENEBGM = "openebgm"  # R's round() to 2 digits and openEBGM's bisection quantiles


def _unique_pairs(n: FloatArray, e: FloatArray) -> tuple[FloatArray, FloatArray, npt.NDArray[np.intp]]:
    """Distinct (N, E) points and the map back to cells: the posterior depends on nothing else."""
    codes, uniq = pd.factorize(n + 1j * e)  # one hash pass over (N, E) packed as complex numbers
    un = np.ascontiguousarray(uniq.real, dtype=np.float64)
    ue = np.ascontiguousarray(uniq.imag, dtype=np.float64)
    return un, ue, np.asarray(codes, dtype=np.intp)


def ebgm_scores(
    theta: Theta,
    n: npt.ArrayLike,
    e: npt.ArrayLike,
    *,
    mode: Mode | str = Mode.EXACT,
    quantiles: tuple[float, ...] = (0.05, 0.95),
    digits: int = 2,
) -> dict[str, FloatArray]:
    """Qn, EBlog2, EBGM and posterior quantiles (QUANT_05 etc.) per cell."""
    un, ue, inv = _unique_pairs(np.asarray(n, dtype=np.float64), np.asarray(e, dtype=np.float64))
    return {k: v[inv] for k, v in _ebgm_distinct(theta, un, ue, Mode(mode), quantiles, digits).items()}


def _ebgm_distinct(
    theta: Theta, un: FloatArray, ue: FloatArray, md: Mode, quantiles: tuple[float, ...], digits: int
) -> dict[str, FloatArray]:
    """:func:`ebgm_scores` on distinct (N, E) points."""
    qn = mgps.posterior_qn(theta, un, ue)
    log2 = mgps.eb_log2(theta, un, ue, qn)
    gm = np.power(2.0, log2)
    shown = r_round(gm, digits) if md is Mode.OPENEBGM else gm
    out = {"Qn": qn, "EBlog2": log2, "EBGM": shown}

    def one(p: float) -> FloatArray:
        exact = mgps.quantile_exact(theta, un, ue, qn, p)
        if md is Mode.OPENEBGM:
            return mgps.quantile_openebgm(theta, un, ue, qn, p, digits=digits, exact=exact)
        return exact

    # NumPy/SciPy ufuncs release the GIL, so the quantiles run side by side on separate cores.
    workers = max(1, min(len(quantiles), os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for p, q in zip(quantiles, pool.map(one, quantiles), strict=True):
            out[f"QUANT_{round(p * 100):02d}"] = q
    return out


def score(
    counts: Counts,
    theta: Theta,
    *,
    mode: Mode | str = Mode.EXACT,
    quantiles: tuple[float, ...] = (0.05, 0.95),
    ema_min_count: int = EMA_MIN_COUNT,
    cells: npt.NDArray[np.bool_] | None = None,
) -> pd.DataFrame:
    """One row per cell: drug, event, N, E, RR, PRR (+CI, chi2), ROR (+CI), IC (+limits), EBGM, quantiles."""
    md = Mode(mode)
    sel = np.ones(len(counts), dtype=bool) if cells is None else cells
    n = counts.n[sel].astype(np.float64)
    e = counts.e[sel]
    nd = counts.n_drug[sel].astype(np.float64)
    ne = counts.n_event[sel].astype(np.float64)
    table = pd.DataFrame(
        {
            "drug": pd.Categorical.from_codes(counts.drug_code[sel], categories=pd.Index(counts.drugs)),
            "event": pd.Categorical.from_codes(counts.event_code[sel], categories=pd.Index(counts.events)),
            "N": counts.n[sel],
            "E": e,
            "n_drug": counts.n_drug[sel],
            "n_event": counts.n_event[sel],
        }
    )
    # RR, IC and the posterior are functions of (N, E) alone: computed once per distinct pair.
    un, ue, inv = _unique_pairs(n, e)
    rr = relative_reporting_ratio(un, ue)
    d = disproportionality(n, nd, ne, counts.n_total, e, ic=False)
    if md is Mode.OPENEBGM:  # processRaw rounds RR and PRR with R's round(x, 2)
        rr, d["PRR"] = r_round(rr, 2), r_round(d["PRR"], 2)
    table["RR"] = rr[inv]
    for k, v in d.items():
        table[k] = v
    for k, v in information_component(un, ue).items():
        table[k] = v[inv]
    for k, v in _ebgm_distinct(theta, un, ue, md, quantiles, 2).items():
        table[k] = v[inv]
    return flag(table, ema_min_count=ema_min_count)
