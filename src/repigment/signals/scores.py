"""Score counted cells: every measure in one table, in exact or openEBGM-compatible mode."""

from __future__ import annotations

import os
from collections.abc import Collection
from concurrent.futures import Future, ThreadPoolExecutor
from enum import StrEnum
from typing import Any

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


QUANTILE_CHUNK = 50_000  # distinct (N, E) points per quantile task: enough tasks to keep both cores busy
SCORE_THREADS = max(1, min(2, os.cpu_count() or 1))


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
    with ThreadPoolExecutor(max_workers=SCORE_THREADS) as pool:
        post = _Posterior(pool, theta, un, ue, Mode(mode), quantiles, digits)
        return {k: v[inv] for k, v in post.result().items()}


class _Posterior:
    """EBGM and posterior quantiles on distinct (N, E) points, computed by a thread pool.

    The exact quantiles are cut into chunks of cells (each cell's Newton iteration is independent of
    the others, so the values do not depend on the cut); the openEBGM replay runs once per quantile
    over all cells, because its bisection stops for all cells at once. The caller can do other work
    while the pool runs: NumPy and SciPy ufuncs release the GIL.
    """

    def __init__(
        self,
        pool: ThreadPoolExecutor,
        theta: Theta,
        un: FloatArray,
        ue: FloatArray,
        md: Mode,
        quantiles: tuple[float, ...],
        digits: int,
    ) -> None:
        self.pool, self.theta, self.un, self.ue, self.md = pool, theta, un, ue, md
        self.quantiles, self.digits = quantiles, digits
        self.qn = mgps.posterior_qn(theta, un, ue)
        bounds = [*range(0, un.size, QUANTILE_CHUNK), un.size]
        # Tasks run first in, first out: each quantile's chunks, the slower upper quantile first; in
        # compatible mode a quantile's replay is queued two chunks after its last chunk, so that it
        # finds its input ready (it never waits on a task still queued, so it cannot deadlock).
        order = sorted(set(quantiles), reverse=True)
        jobs: list[tuple[float, int, int]] = [
            (p, lo, hi) for p in order for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)
        ]
        if md is Mode.OPENEBGM:
            for p in order:
                last = max((i for i, job in enumerate(jobs) if job[0] == p and job[1] >= 0), default=-1)
                jobs.insert(last + 3 if last >= 0 else len(jobs), (p, -1, -1))
        self.parts: dict[float, list[Future[FloatArray]]] = {p: [] for p in order}
        self.replay: dict[float, Future[FloatArray]] = {}
        for p, lo, hi in jobs:
            if lo < 0:
                self.replay[p] = pool.submit(self._replay, p)
            else:
                self.parts[p].append(
                    pool.submit(mgps.quantile_exact, theta, un[lo:hi], ue[lo:hi], self.qn[lo:hi], p)
                )

    def _exact(self, p: float) -> FloatArray:
        got = [f.result() for f in self.parts[p]]
        return np.concatenate(got) if got else np.empty(0)

    def _replay(self, p: float) -> FloatArray:
        return mgps.quantile_openebgm(
            self.theta, self.un, self.ue, self.qn, p, digits=self.digits, exact=self._exact(p)
        )

    def result(self) -> dict[str, FloatArray]:
        un, ue, qn, theta, digits = self.un, self.ue, self.qn, self.theta, self.digits
        log2 = mgps.eb_log2(theta, un, ue, qn)
        gm = np.power(2.0, log2)
        out = {"Qn": qn, "EBlog2": log2, "EBGM": r_round(gm, digits) if self.md is Mode.OPENEBGM else gm}
        for p in self.quantiles:
            out[f"QUANT_{round(p * 100):02d}"] = (
                self.replay[p].result() if p in self.replay else self._exact(p)
            )
        return out


def _categorical(codes: npt.NDArray[np.int64], names: npt.NDArray[np.object_]) -> pd.Categorical:
    """Names as a categorical; the codes come from counting and are valid by construction."""
    return pd.Categorical.from_codes(codes, categories=pd.Index(names), validate=False)


def measure_arrays(
    counts: Counts,
    theta: Theta,
    *,
    mode: Mode | str = Mode.EXACT,
    quantiles: tuple[float, ...] = (0.05, 0.95),
    cells: npt.NDArray[np.bool_] | npt.NDArray[np.intp] | None = None,
    columns: Collection[str] | None = None,
    distinct: bool = True,
) -> dict[str, npt.NDArray[Any]]:
    """Every measure of :func:`score` per cell as arrays, in the table's column order.

    ``cells`` picks cells (a mask or positions, in the order wanted); ``columns`` leaves out measures
    not asked for. ``distinct=False`` scores every cell as it is instead of each distinct (N, E) once:
    where nearly every E differs (a history, whose N_total moves every quarter), finding the distinct
    pairs costs more than it saves. Each value is a function of its own cell's inputs, computed as
    :func:`score` computes it, so the bits are the same either way.
    """
    md = Mode(mode)

    def pick(x: npt.NDArray[Any]) -> npt.NDArray[Any]:
        return x if cells is None else x[cells]

    def want(name: str) -> bool:
        return columns is None or name in columns

    n = pick(counts.n).astype(np.float64)
    e = pick(counts.e)
    out: dict[str, npt.NDArray[Any]] = {}
    # RR, IC and the posterior are functions of (N, E) alone: computed once per distinct pair. The
    # posterior quantiles run in the pool while this thread computes the other measures.
    un, ue, inv = _unique_pairs(n, e) if distinct else (n, e, None)

    def back(v: FloatArray) -> FloatArray:
        return v if inv is None else v[inv]

    with ThreadPoolExecutor(max_workers=SCORE_THREADS) as pool:
        post = _Posterior(pool, theta, un, ue, md, quantiles, 2)
        nd = pick(counts.n_drug).astype(np.float64)
        ne = pick(counts.n_event).astype(np.float64)
        if want("RR"):
            rr = relative_reporting_ratio(un, ue)
            out["RR"] = back(r_round(rr, 2) if md is Mode.OPENEBGM else rr)
        d = disproportionality(n, nd, ne, counts.n_total, e, ic=False, columns=columns)
        if md is Mode.OPENEBGM and "PRR" in d:  # processRaw rounds RR and PRR with R's round(x, 2)
            d["PRR"] = r_round(d["PRR"], 2)
        out.update(d)
        if any(want(k) for k in IC_COLUMNS):
            ic = information_component(un, ue, upper=want("IC975"))
            out.update({k: back(v) for k, v in ic.items() if want(k)})
        out.update({k: back(v) for k, v in post.result().items() if want(k)})
    return out


IC_COLUMNS = ("IC", "IC025", "IC975")


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

    def pick(x: npt.NDArray[Any]) -> npt.NDArray[Any]:
        return x if cells is None else x[cells]

    table = pd.DataFrame(
        {
            "drug": _categorical(pick(counts.drug_code), counts.drugs),
            "event": _categorical(pick(counts.event_code), counts.events),
            "N": pick(counts.n),
            "E": pick(counts.e),
            "n_drug": pick(counts.n_drug),
            "n_event": pick(counts.n_event),
        }
    )
    for k, v in measure_arrays(counts, theta, mode=mode, quantiles=quantiles, cells=cells).items():
        table[k] = v
    return flag(table, ema_min_count=ema_min_count)
