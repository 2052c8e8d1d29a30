"""Two-arm responder analysis of one endpoint: the ``repigment trial`` JSON.

Missing-data strategies:

- ``observed``: evaluable patients with a visit in the window (observed cases).
- ``nri``: every evaluable patient; no visit in the window counts as non-responder.
- ``mi``: every evaluable patient; missing scores multiply imputed (:mod:`.imputation`), responder
  status from each completed data set, estimates combined with Rubin's rules (details in :func:`_mi`).
"""

from __future__ import annotations

import math
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from repigment.outcomes import stats
from repigment.outcomes.endpoints import TIE_RESOLUTION_WEEKS, EndpointData
from repigment.outcomes.errors import OutcomesError
from repigment.outcomes.imputation import DEFAULT_IMPUTATIONS, DEFAULT_SEED, impute
from repigment.scoring import responder_mask

Missing = Literal["observed", "nri", "mi"]
MISSING_STRATEGIES: Final = ("observed", "nri", "mi")
VISIT_RULE: Final = (
    "per endpoint, the post-baseline visit with a recorded score nearest the target week within the window; "
    f"equal distance (to {TIE_RESOLUTION_WEEKS:g} week) goes to the later visit"
)
BASELINE_RULE: Final = "week 0 row (exactly one per patient); baseline 0 makes a VASI endpoint not evaluable"


def stratum_codes(
    strata: dict[str, npt.NDArray[Any]], levels: dict[str, list[str]] | None = None
) -> tuple[npt.NDArray[np.int64], list[str]]:
    """Cross-classified stratum per patient (only combinations present) and labels ("region=EU, skin=I").

    ``strata`` holds integer codes into ``levels``, or — without ``levels`` — the labels themselves.
    """
    names = list(strata)
    if not names:
        raise OutcomesError("strata", "no stratification columns", kind="option")
    combined = np.zeros(len(strata[names[0]]), dtype=np.int64)
    labs: list[list[str]] = []
    for k in names:
        if levels is not None:
            codes, lv = np.asarray(strata[k], dtype=np.int64), levels[k]
        else:
            c, u = pd.factorize(np.asarray(strata[k]), sort=True)
            codes, lv = c.astype(np.int64), [str(x) for x in u]
        combined = combined * max(len(lv), 1) + codes
        labs.append(lv)
    present, inverse = np.unique(combined, return_inverse=True)
    labels = []
    for value in present.tolist():
        parts = []
        for k, lv in zip(reversed(names), reversed(labs), strict=True):
            value, idx = divmod(value, max(len(lv), 1))
            parts.append(f"{k}={lv[idx]}")
        labels.append(", ".join(reversed(parts)))
    return inverse.astype(np.int64).ravel(), labels


def tables(
    treated: npt.NDArray[np.bool_], responder: npt.NDArray[np.bool_], stratum: npt.NDArray[np.int64], k: int
) -> npt.NDArray[np.float64]:
    """K×2×2 counts: [stratum, treatment/control, responder/non-responder]."""
    cell = stratum * 4 + (~treated).astype(np.int64) * 2 + (~responder).astype(np.int64)
    return np.bincount(cell, minlength=4 * k).reshape(k, 2, 2).astype(np.float64)


def _two_arm(x1: int, n1: int, x0: int, n0: int, treatment: str, control: str) -> dict[str, Any]:
    if n1 == 0 or n0 == 0:
        empty = treatment if n1 == 0 else control
        raise OutcomesError("arm", f"no analysable patients in the {empty!r} arm at this week")
    rd = stats.risk_difference(x1, n1, x0, n0)
    return {
        "arms": {treatment: stats.arm_result(x1, n1).as_json(), control: stats.arm_result(x0, n0).as_json()},
        "risk_difference": rd.as_json(),
        "relative_risk": stats.relative_risk(x1, n1, x0, n0).as_json(),
        "odds_ratio": stats.odds_ratio(x1, n1, x0, n0).as_json(),
        "nnt": stats.number_needed_to_treat(rd.estimate, rd.ci),
    }


def _stratified(
    treated: npt.NDArray[np.bool_],
    resp: npt.NDArray[np.bool_],
    strata: dict[str, npt.NDArray[Any]],
    levels: dict[str, list[str]],
    tarone: bool,
) -> dict[str, Any]:
    codes, labels = stratum_codes(strata, levels)
    t = tables(treated, resp, codes, len(labels))
    out = stats.cmh(t).as_json()
    out["breslow_day"] = stats.breslow_day(t, tarone=tarone).as_json()
    out["strata"] = labels
    return out


def analyse(
    data: EndpointData,
    treatment: str,
    control: str,
    missing: Missing = "observed",
    imputations: int = DEFAULT_IMPUTATIONS,
    seed: int = DEFAULT_SEED,
    tarone: bool = False,
) -> dict[str, Any]:
    """The full analysis as a JSON-ready dict (keys as in the ``repigment trial --json`` contract)."""
    if missing not in MISSING_STRATEGIES:
        raise OutcomesError(
            "missing",
            f"unknown strategy {missing!r}; choose one of {', '.join(MISSING_STRATEGIES)}",
            kind="option",
        )
    ev = data.evaluable
    head: dict[str, Any] = {
        "endpoint": data.endpoint,
        "week": data.week,
        "window": data.window,
        "missing": missing,
        "treatment": treatment,
        "control": control,
        "strata_columns": list(data.strata),
        "visit_rule": VISIT_RULE,
        "baseline_rule": BASELINE_RULE,
        "patients": {
            label: {
                "randomised": int((data.treated == arm).sum()),
                "not_evaluable_zero_baseline": int(((data.treated == arm) & ~ev).sum()),
                "missing_at_week": int(((data.treated == arm) & ev & ~data.observed).sum()),
            }
            for label, arm in ((treatment, True), (control, False))
        },
    }
    if missing == "mi":
        mi: dict[str, Any] = _json_safe(head | _mi(data, treatment, control, imputations, seed, tarone))
        return mi
    pop = data.observed if missing == "observed" else ev
    resp = data.responder & data.observed
    tr = data.treated[pop]
    r = resp[pop]
    x1, n1 = int((r & tr).sum()), int(tr.sum())
    x0, n0 = int((r & ~tr).sum()), int((~tr).sum())
    out = head | _two_arm(x1, n1, x0, n0, treatment, control)
    st = {k: v[pop] for k, v in data.strata.items()}
    if st:
        out["cmh"] = _stratified(tr, r, st, data.strata_levels, tarone)
    out["logistic"] = stats.logistic_treatment(tr, r, list(st.values()), list(st)).as_json()
    safe: dict[str, Any] = _json_safe(out)
    return safe


def _json_safe(obj: Any) -> Any:
    """NaN and infinities become None (undefined), so every result is valid JSON."""
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, float | np.floating):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def _pooled(p: stats.Pooled, log: bool = False) -> dict[str, Any]:
    f = math.exp if log else float
    return {
        "estimate": f(p.estimate),
        "ci": [f(p.ci[0]), f(p.ci[1])],
        "df": p.df,
        "fraction_between": (1 + 1 / p.m) * p.between / p.variance if p.variance > 0 else 0.0,
    }


def _mi_arm(rates: list[float], n: int) -> dict[str, Any]:
    """One arm's rate pooled over imputations (Rubin), with intervals at the effective sample size."""
    pooled = stats.rubin(rates, [p * (1 - p) / n for p in rates])
    pbar = pooled.estimate
    n_eff = pbar * (1 - pbar) / pooled.variance if pooled.variance > 0 else float(n)
    n_eff = min(n_eff, float(n))
    return {
        "n": n,
        "responders": pbar * n,
        "rate": pbar,
        "wilson_ci": list(stats.wilson_ci(pbar * n_eff, n_eff)),
        "exact_ci": list(stats.clopper_pearson_ci(pbar * n_eff, n_eff)),
        "rubin_ci": [max(pooled.ci[0], 0.0), min(pooled.ci[1], 1.0)],
        "effective_n": n_eff,
        "df": pooled.df,
    }


def analyse_single_arm(
    data: EndpointData,
    treatment: str,
    missing: Missing = "observed",
    imputations: int = DEFAULT_IMPUTATIONS,
    seed: int = DEFAULT_SEED,
) -> dict[str, Any]:
    """Responder rate of one arm (a clinic's cohort, everyone on the cream): per-arm rate and CIs only.

    Between-arm statistics (RD, RR, OR, NNT, CMH, logistic) need a comparator and are reported as null
    with a note rather than estimated against nothing. Same missing-data strategies as :func:`analyse`.
    """
    if missing not in MISSING_STRATEGIES:
        raise OutcomesError(
            "missing",
            f"unknown strategy {missing!r}; choose one of {', '.join(MISSING_STRATEGIES)}",
            kind="option",
        )
    if (~data.treated).any():
        raise OutcomesError("arm", "single-arm analysis of data that has a control arm", kind="input")
    ev = data.evaluable
    note = "single-arm analysis: no comparator, so no between-arm statistics"
    out: dict[str, Any] = {
        "endpoint": data.endpoint,
        "week": data.week,
        "window": data.window,
        "missing": missing,
        "treatment": treatment,
        "control": None,
        "single_arm": True,
        "strata_columns": list(data.strata),
        "visit_rule": VISIT_RULE,
        "baseline_rule": BASELINE_RULE,
        "patients": {
            treatment: {
                "randomised": int(data.treated.size),
                "not_evaluable_zero_baseline": int((~ev).sum()),
                "missing_at_week": int((ev & ~data.observed).sum()),
            }
        },
        "risk_difference": {"estimate": None, "ci": [None, None], "note": note},
        "relative_risk": {"estimate": None, "ci": [None, None], "note": note},
        "odds_ratio": {"estimate": None, "ci": [None, None], "note": note},
        "nnt": {"estimate": None, "ci": [None, None], "text": "–", "ci_text": "–", "note": note},
        "logistic": {"odds_ratio": None, "ci": [None, None], "p_value": None, "note": note},
    }
    if missing == "mi":
        n = int(ev.sum())
        if n == 0:
            raise OutcomesError("arm", f"no analysable patients in the {treatment!r} arm at this week")
        completed = impute(data, imputations, seed)  # refuses VNS (not a continuous score)
        assert data.threshold is not None
        rates = []
        for j in range(imputations):
            resp, _ = responder_mask(data.baseline[ev], completed[j, ev], data.threshold)
            rates.append(int(resp.sum()) / n)
        out["arms"] = {treatment: _mi_arm(rates, n)}
        out["imputation"] = {
            "imputations": imputations,
            "seed": seed,
            "imputed": {treatment: int((ev & ~data.observed).sum())},
        }
        safe_mi: dict[str, Any] = _json_safe(out)
        return safe_mi
    pop = data.observed if missing == "observed" else ev
    n = int(pop.sum())
    if n == 0:
        raise OutcomesError("arm", f"no analysable patients in the {treatment!r} arm at this week")
    x = int((data.responder & data.observed & pop).sum())
    out["arms"] = {treatment: stats.arm_result(x, n).as_json()}
    safe: dict[str, Any] = _json_safe(out)
    return safe


def _mi(data: EndpointData, treatment: str, control: str, m: int, seed: int, tarone: bool) -> dict[str, Any]:
    """Rubin's rules per estimand on its natural scale.

    Rates and RD: Wald variances p(1−p)/n per imputation, t interval with Rubin's df. RR and OR: log scale
    with the Katz / Woolf variances (Haldane 0.5 per imputation where a cell is zero). CMH OR: log scale with
    the RBG variance; the CMH and Breslow–Day chi-squares are combined with D2 (Li et al. 1991). Logistic:
    the treatment coefficient and its Wald variance. Per-arm Wilson and Clopper–Pearson intervals use the
    effective sample size p̄(1−p̄)/T (n shrunk by the missing information; after Lott & Reiter 2020).
    """
    completed = impute(data, m, seed)
    ev = data.evaluable
    tr = data.treated[ev]
    st = {k: v[ev] for k, v in data.strata.items()}
    if st:
        codes, labels = stratum_codes(st, data.strata_levels)
    n1, n0 = int(tr.sum()), int((~tr).sum())
    if n1 == 0 or n0 == 0:
        raise OutcomesError("arm", "no evaluable patients in one arm")
    assert data.threshold is not None
    rates: dict[bool, list[float]] = {True: [], False: []}
    rd_q: list[float] = []
    rd_u: list[float] = []
    rr_q: list[float] = []
    rr_u: list[float] = []
    or_q: list[float] = []
    or_u: list[float] = []
    cmh_q: list[float] = []
    cmh_u: list[float] = []
    cmh_chi: list[float] = []
    bd_chi: list[float] = []
    lg_q: list[float] = []
    lg_u: list[float] = []
    cmh_ok = lg_ok = True
    bd_df = None
    lg_note = None
    for j in range(m):
        resp, _ = responder_mask(data.baseline[ev], completed[j, ev], data.threshold)
        x1, x0 = int((resp & tr).sum()), int((resp & ~tr).sum())
        p1, p0 = x1 / n1, x0 / n0
        rates[True].append(p1)
        rates[False].append(p0)
        rd_q.append(p1 - p0)
        rd_u.append(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
        for eff, q, u in ((stats.relative_risk, rr_q, rr_u), (stats.odds_ratio, or_q, or_u)):
            e = eff(x1, n1, x0, n0)
            assert e.estimate is not None
            q.append(math.log(e.estimate))
            u.append(float(e.extra["se_log"]) ** 2)
        if st:
            t = tables(tr, resp, codes, len(labels))
            lv = stats.cmh_log_variance(t)
            c = stats.cmh(t)
            if lv is None or c.statistic is None:
                cmh_ok = False
            else:
                cmh_q.append(lv[0])
                cmh_u.append(lv[1])
                cmh_chi.append(c.statistic)
            bd = stats.breslow_day(t, tarone=tarone)
            if bd.statistic is not None and (bd_df is None or bd_df == bd.df):
                bd_chi.append(bd.statistic)
                bd_df = bd.df
        lg = stats.logistic_treatment(tr, resp, list(st.values()), list(st))
        if lg.coefficient is None or lg.se is None:
            lg_ok, lg_note = False, lg.note
        else:
            lg_q.append(lg.coefficient)
            lg_u.append(lg.se**2)

    arms = {label: _mi_arm(rates[arm], n) for label, arm, n in ((treatment, True, n1), (control, False, n0))}
    rd = stats.rubin(rd_q, rd_u)
    out: dict[str, Any] = {
        "arms": arms,
        "risk_difference": _pooled(rd) | {"method": "rubin (wald per imputation)"},
        "relative_risk": _pooled(stats.rubin(rr_q, rr_u), log=True) | {"method": "rubin on log RR (katz)"},
        "odds_ratio": _pooled(stats.rubin(or_q, or_u), log=True) | {"method": "rubin on log OR (woolf)"},
        "nnt": stats.number_needed_to_treat(rd.estimate, rd.ci),
        "imputation": {
            "method": "per-arm normal linear regression on baseline and strata, posterior draws (Rubin 1987)",
            "imputations": m,
            "seed": seed,
            "imputed": {
                treatment: int((data.treated & ev & ~data.observed).sum()),
                control: int((~data.treated & ev & ~data.observed).sum()),
            },
        },
    }
    if st:
        cmh_out: dict[str, Any] = {
            "strata": labels,
            "continuity_correction": "per imputation as mantelhaen.test",
        }
        if cmh_ok:
            pooled_cmh = stats.rubin(cmh_q, cmh_u)
            d2, df2, pv = stats.d2_chisq(cmh_chi, 1)
            cmh_out |= {
                "odds_ratio": math.exp(pooled_cmh.estimate),
                "ci": [math.exp(pooled_cmh.ci[0]), math.exp(pooled_cmh.ci[1])],
                "ci_method": "rubin on log MH OR (RBG variance)",
                "statistic": d2,
                "statistic_method": "D2 (Li, Meng, Raghunathan & Rubin 1991), F(1, df2)",
                "df2": df2,
                "p_value": pv,
            }
        else:
            cmh_out |= {
                "odds_ratio": None,
                "ci": [None, None],
                "statistic": None,
                "p_value": None,
                "note": "MH odds ratio undefined in at least one imputation",
            }
        if bd_df is not None and len(bd_chi) == m and bd_df > 0:
            d2, df2, pv = stats.d2_chisq(bd_chi, bd_df)
            cmh_out["breslow_day"] = {
                "statistic": d2,
                "df": bd_df,
                "df2": df2,
                "p_value": pv,
                "tarone_correction": tarone,
                "statistic_method": "D2",
            }
        else:
            cmh_out["breslow_day"] = {
                "statistic": None,
                "p_value": None,
                "note": "undefined in some imputation",
            }
        out["cmh"] = cmh_out
    if lg_ok:
        pl = stats.rubin(lg_q, lg_u)
        out["logistic"] = {
            "odds_ratio": math.exp(pl.estimate),
            "ci": [math.exp(pl.ci[0]), math.exp(pl.ci[1])],
            "p_value": stats.rubin_p_value(pl),
            "coefficient": pl.estimate,
            "se": math.sqrt(pl.variance),
            "covariates": list(st),
            "ci_method": "rubin (wald per imputation)",
        }
    else:
        out["logistic"] = {"odds_ratio": None, "ci": [None, None], "p_value": None, "note": lg_note}
    return out
