"""Frequentist disproportionality measures on each drug-event 2x2 table.

a = N, b = N_drug - a, c = N_event - a, d = N_total - a - b - c (unstratified margins).
PRR and its CI, Yates chi-square: Evans, Waller & Davis 2001 (Pharmacoepidemiol Drug Saf 10:483).
ROR and its CI: van Puijenbroek et al. 2002 (Pharmacoepidemiol Drug Saf 11:3).
IC with exact gamma credibility limits: Noren, Hopstadius & Bate 2013 (Stat Methods Med Res 22:57).
"""

from __future__ import annotations

import math
from collections.abc import Collection

import numpy as np
import numpy.typing as npt
from scipy import special

FloatArray = npt.NDArray[np.float64]
Z975 = 1.959963984540054  # qnorm(0.975); the usual "1.96"


def _div(x: FloatArray, y: FloatArray, zero_over_zero: float) -> FloatArray:
    """x / y with x/0 -> Inf and 0/0 -> ``zero_over_zero`` (openEBGM's conventions)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        q = x / y
    return np.asarray(np.where((x == 0) & (y == 0), zero_over_zero, q), dtype=np.float64)


def relative_reporting_ratio(n: FloatArray, e: FloatArray) -> FloatArray:
    """RR = N / E; 0/0 gives 0 as in openEBGM."""
    return _div(n, e, 0.0)


def prr(n: FloatArray, n_drug: FloatArray, n_event: FloatArray, n_total: float) -> FloatArray:
    """PRR = (N / N_drug) / ((N_event - N) / (N_total - N_drug)); 0/0 gives Inf as in openEBGM."""
    num = _div(n, n_drug, math.nan)
    den = _div(n_event - n, n_total - n_drug, math.nan)
    return _div(num, den, math.inf)


def disproportionality(
    n: npt.ArrayLike,
    n_drug: npt.ArrayLike,
    n_event: npt.ArrayLike,
    n_total: float,
    e: npt.ArrayLike,
    *,
    z: float = Z975,
    ic: bool = True,
    columns: Collection[str] | None = None,
) -> dict[str, FloatArray]:
    """PRR (CI, Yates chi2), ROR (CI) and IC (IC025/IC975); undefined values are NaN or Inf.

    ``columns`` computes only the measures named (a history keeps no upper limits).
    """

    def want(*names: str) -> bool:
        return columns is None or any(k in columns for k in names)

    a = np.asarray(n, dtype=np.float64)
    nd = np.asarray(n_drug, dtype=np.float64)
    ne = np.asarray(n_event, dtype=np.float64)
    ee = np.asarray(e, dtype=np.float64)
    nt = float(n_total)
    b = nd - a
    c = ne - a
    d = nt - a - b - c
    out: dict[str, FloatArray] = {}
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if want("PRR", "PRR_lower", "PRR_upper"):
            p = prr(a, nd, ne, nt)
            if want("PRR"):
                out["PRR"] = p
            if want("PRR_lower", "PRR_upper"):
                se = np.sqrt(1 / a - 1 / (a + b) + 1 / c - 1 / (c + d))
                out["PRR_lower"] = np.exp(np.log(p) - z * se)
                out["PRR_upper"] = np.exp(np.log(p) + z * se)
        if want("chi2_yates"):
            # Pearson chi-square with Yates' correction, as R's chisq.test(correct = TRUE) computes it.
            diff = np.abs(a * d - b * c) / nt
            yates = np.minimum(0.5, diff)
            out["chi2_yates"] = nt * (nt * (diff - yates)) ** 2 / ((a + b) * (c + d) * (a + c) * (b + d))
        if want("ROR", "ROR025", "ROR975"):
            ror = (a * d) / (b * c)
            if want("ROR"):
                out["ROR"] = ror
            if want("ROR025", "ROR975"):
                se_r = np.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
                lr = np.log(ror)
                if want("ROR025"):
                    out["ROR025"] = np.exp(lr - z * se_r)
                if want("ROR975"):
                    out["ROR975"] = np.exp(lr + z * se_r)
    if ic:
        out.update(information_component(a, ee, upper=want("IC975")))
    return out


def information_component(n: npt.ArrayLike, e: npt.ArrayLike, *, upper: bool = True) -> dict[str, FloatArray]:
    """IC = log2((N + 0.5) / (E + 0.5)) with exact gamma limits IC025/IC975; a function of (N, E) only."""
    a = np.asarray(n, dtype=np.float64)
    ee = np.asarray(e, dtype=np.float64)
    out: dict[str, FloatArray] = {}
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out["IC"] = np.log2((a + 0.5) / (ee + 0.5))
        # Gamma quantiles depend on N alone: compute them once per distinct count.
        ua, inv = np.unique(a, return_inverse=True)
        out["IC025"] = np.log2(special.gammaincinv(ua + 0.5, 0.025)[inv] / (ee + 0.5))
        if upper:
            out["IC975"] = np.log2(special.gammaincinv(ua + 0.5, 0.975)[inv] / (ee + 0.5))
    return out
