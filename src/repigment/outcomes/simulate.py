"""Patient-level simulation of two TRuE-V-like trials, calibrated to the published week-24 rates.

Design (trials.md §2): 2:1 randomisation (permuted blocks of 3 within trial) to ruxolitinib cream or vehicle;
strata region and Fitzpatrick skin type; visits at weeks 0, 2, 4, 8, 12, 16, 20, 24 (± up to 3 days after
baseline); dropout and missed visits completely at random, so observed-case rates stay unbiased.

Calibration: each patient's week-24 remaining fraction R = score₂₄ / baseline is drawn by inverse CDF from a
piecewise-linear distribution whose CDF passes *exactly* through the published rates (F-VASI50/75/90 at
R = 0.5/0.25/0.1, T-VASI50 at R = 0.5; VNS 4–5 as a category probability), so the expected week-24 responder
rates equal the published ones. F, T and VNS are tied by a Gaussian copula. Unpublished points (F-VASI25,
T-VASI75, the share improving at all, the split of VNS categories) are named assumptions below.
Trajectories: R(t) = 1 − (1 − R) (t/24)^γ with multiplicative visit noise before week 24 (none at 24).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats as sps

from repigment.outcomes.published import published_rates, trial_sizes

SCHEDULE: Final = (0, 2, 4, 8, 12, 16, 20, 24)
TRIALS: Final = ("TRuE-V1", "TRuE-V2")


def _logit(p: float) -> float:
    return float(np.log(p / (1 - p)))


def _expit(x: float) -> float:
    return float(1 / (1 + np.exp(-x)))


@dataclass(frozen=True)
class SimulationParameters:
    """Knobs of the simulator; ``assumption_*`` ones are unpublished and shape only unpublished parts."""

    treatment: str = "ruxolitinib"
    control: str = "vehicle"
    schedule: tuple[float, ...] = SCHEDULE
    visit_jitter_days: int = 3
    dropout_by_week24: float = 0.08
    missed_visit: float = 0.03
    # UNCONFIRMED: region split of the randomised patients (not in trials.md); skin type III–VI 67.5% [C].
    region_shares: tuple[tuple[str, float], ...] = (("North America", 0.6), ("Europe", 0.4))
    skin_type_shares: tuple[tuple[str, float], ...] = (("I-II", 0.325), ("III-VI", 0.675))
    gamma: float = 1.3
    visit_noise_sd: float = 0.08
    copula_correlation: tuple[float, float, float] = (0.6, 0.6, 0.4)  # (F,T), (F,VNS), (T,VNS)
    # Assumption: F-VASI25 continues the logit step from F-VASI75 to F-VASI50.
    assumption_f25_logit_step: float = 1.0
    # Assumption: T-VASI75 / T-VASI50 equals F-VASI75 / F-VASI50 of the same arm.
    assumption_t75_like_face: bool = True
    # Assumption: share of the non-responders at the lowest threshold who improve at all.
    assumption_improve_share: float = 0.5
    # Assumption: share of VNS successes answering 5 (rest 4); split of failures over 3, 2, 1.
    assumption_vns5_share: float = 0.3
    assumption_vns_fail_split: tuple[float, float, float] = (0.4, 0.45, 0.15)
    rates: dict[tuple[str, str], tuple[float, float]] = field(default_factory=published_rates)


def _inverse_cdf(
    u: npt.NDArray[np.float64], knots_r: list[float], knots_p: list[float]
) -> npt.NDArray[np.float64]:
    return np.interp(u, knots_p, knots_r)


def arm_distributions(
    rates: dict[str, float], prm: SimulationParameters
) -> dict[str, tuple[list[float], list[float]]]:
    """Piecewise-linear CDF knots (R values, probabilities) for F and T of one arm."""
    f50, f75, f90 = rates["F-VASI50"], rates["F-VASI75"], rates["F-VASI90"]
    f25 = _expit(_logit(f50) + prm.assumption_f25_logit_step * (_logit(f50) - _logit(f75)))
    f_imp = f25 + prm.assumption_improve_share * (1 - f25)
    t50 = rates["T-VASI50"]
    t75 = t50 * f75 / f50 if prm.assumption_t75_like_face else t50 / 2
    t_imp = t50 + prm.assumption_improve_share * (1 - t50)
    return {
        "f": ([0.0, 0.1, 0.25, 0.5, 0.75, 1.0, 1.6], [0.0, f90, f75, f50, f25, f_imp, 1.0]),
        "t": ([0.0, 0.25, 0.5, 1.0, 1.6], [0.0, t75, t50, t_imp, 1.0]),
    }


def simulate(
    patients: int = 674, seed: int = 1, params: SimulationParameters | None = None, compact: bool = False
) -> pd.DataFrame:
    """Long data, one row a visit: trial, patient_id, arm, region, skin_type, week, f_vasi, t_vasi, vns.

    ``compact`` gives integer patient ids and categorical labels (registry-scale runs, benchmarks).
    """
    prm = params or SimulationParameters()
    rng = np.random.default_rng(seed)
    sizes = trial_sizes()
    weights = np.array(
        [sizes[t]["randomised_treatment"].value + sizes[t]["randomised_control"].value for t in TRIALS]
    )
    per_trial = np.floor(patients * weights / weights.sum()).astype(int)
    per_trial[0] += patients - per_trial.sum()
    frames = []
    first_id = 0
    for trial, n in zip(TRIALS, per_trial, strict=True):
        frames.append(_simulate_trial(trial, int(n), first_id, rng, prm, compact))
        first_id += int(n)
    return pd.concat(frames, ignore_index=True)


def _categorical(rng: np.random.Generator, shares: tuple[tuple[str, float], ...], n: int) -> pd.Categorical:
    labels = [s[0] for s in shares]
    p = np.array([s[1] for s in shares])
    return pd.Categorical.from_codes(rng.choice(len(labels), size=n, p=p / p.sum()), labels)


def _simulate_trial(
    trial: str, n: int, first_id: int, rng: np.random.Generator, prm: SimulationParameters, compact: bool
) -> pd.DataFrame:
    blocks = -(-n // 3)
    order = np.argsort(rng.random((blocks, 3)), axis=1)
    treated = (np.array([True, True, False])[order]).ravel()[:n]
    region = _categorical(rng, prm.region_shares, n)
    skin = _categorical(rng, prm.skin_type_shares, n)
    f0 = np.minimum(0.5 + rng.gamma(2.0, 0.25, n), 3.0)
    t0 = np.maximum(3.0 + 7.0 * rng.beta(2.0, 2.0, n), f0)

    rho_ft, rho_fv, rho_tv = prm.copula_correlation
    corr = np.array([[1, rho_ft, rho_fv], [rho_ft, 1, rho_tv], [rho_fv, rho_tv, 1]])
    u = sps.norm.cdf(rng.standard_normal((n, 3)) @ np.linalg.cholesky(corr).T)
    r_f = np.empty(n)
    r_t = np.empty(n)
    vns_u = u[:, 2]
    p_vns = np.empty(n)
    for arm, idx in ((0, treated), (1, ~treated)):
        arm_rates = {
            ep: prm.rates[(trial, ep)][arm]
            for ep in ("F-VASI50", "F-VASI75", "F-VASI90", "T-VASI50", "VNS4-5")
        }
        d = arm_distributions(arm_rates, prm)
        r_f[idx] = _inverse_cdf(u[idx, 0], *d["f"])
        r_t[idx] = _inverse_cdf(u[idx, 1], *d["t"])
        p_vns[idx] = arm_rates["VNS4-5"]

    sched = np.asarray(prm.schedule, dtype=np.float64)
    k = sched.size
    nominal = np.tile(sched, n)
    pid = np.repeat(np.arange(n), k)
    jitter = rng.integers(-prm.visit_jitter_days, prm.visit_jitter_days + 1, n * k) / 7.0
    week = np.where(nominal > 0, nominal + jitter, 0.0)
    frac = np.power(nominal / 24.0, prm.gamma)
    noise = np.where((nominal > 0) & (nominal != 24), np.exp(rng.normal(0, prm.visit_noise_sd, n * k)), 1.0)
    rf_t = np.clip(1 - (1 - r_f[pid]) * frac, 0, 1.6) * noise
    rt_t = np.clip(1 - (1 - r_t[pid]) * frac, 0, 1.6) * noise
    f = np.minimum(np.round(f0[pid] * rf_t, 4), 100.0)
    t = np.minimum(np.round(t0[pid] * rt_t, 4), 100.0)
    f[nominal == 0] = np.round(f0, 4)
    t[nominal == 0] = np.round(t0, 4)
    # VNS: success iff the copula uniform is below the arm's rate at week 24; earlier visits are worse.
    u_t = vns_u[pid] / np.maximum(frac, 1e-9)
    ps = p_vns[pid]
    s5 = prm.assumption_vns5_share
    f3, f2, _ = prm.assumption_vns_fail_split
    cuts = np.column_stack([ps * s5, ps, ps + (1 - ps) * f3, ps + (1 - ps) * (f3 + f2)])
    vns = (5 - (u_t[:, None] >= cuts).sum(axis=1)).astype(np.float64)
    vns[nominal == 0] = np.nan

    keep = np.ones(n * k, dtype=bool)
    post = nominal > 0
    # dropout: a patient who drops out misses every visit from a uniformly chosen visit in weeks (0, 24] on
    drops = rng.random(n) < prm.dropout_by_week24
    first_post = int((sched <= 0).sum())
    n_post24 = int(((sched > 0) & (sched <= 24)).sum())
    drop_from = np.where(drops, rng.integers(first_post, first_post + n_post24, n), k + 1)
    visit_index = np.tile(np.arange(k), n)
    keep &= ~(post & (visit_index >= drop_from[pid]))
    keep &= ~(post & (rng.random(n * k) < prm.missed_visit))
    rows = pid[keep]
    if compact:
        ids: Any = (np.arange(n, dtype=np.int64) + first_id + 1)[rows]
    else:
        ids = np.char.add(f"{trial[-2:]}-", np.char.zfill((np.arange(n) + first_id + 1).astype(str), 6))[rows]
    out = pd.DataFrame(
        {
            "trial": pd.Categorical.from_codes(np.full(rows.size, TRIALS.index(trial)), list(TRIALS)),
            "patient_id": ids,
            "arm": pd.Categorical.from_codes((~treated).astype(np.int8)[rows], [prm.treatment, prm.control]),
            "region": region[rows],
            "skin_type": skin[rows],
            "week": np.round(week[keep], 4),
            "f_vasi": f[keep],
            "t_vasi": t[keep],
            "vns": vns[keep],
        }
    )
    if compact:
        return out
    return out.astype({c: str for c in ("trial", "arm", "region", "skin_type")})
