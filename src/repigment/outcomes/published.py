"""Published TRuE-V aggregates (``data/true_v.toml``) and their reconstruction into 2×2 tables.

The trials' rates come from multiple imputation, so ``round(rate × N)`` is a *reconstructed* count, never a
published one; every output says so and marks inputs that are not confirmed (status other than C).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Final

import numpy as np

from repigment.outcomes import stats
from repigment.outcomes.errors import OutcomesError

DATASETS: Final = {"true-v": "true_v.toml"}
RECONSTRUCTION_NOTE: Final = (
    "counts are RECONSTRUCTED as round(published % × efficacy-population N); the trials imputed "
    "missing data, "
    "so the published percentages are not whole-number fractions of N and these are not published counts"
)


@dataclass(frozen=True)
class Number:
    value: Any
    status: str
    source: str
    low: float | None = None
    high: float | None = None

    @property
    def confirmed(self) -> bool:
        return self.status == "C"

    def as_json(self) -> dict[str, Any]:
        out = {"value": self.value, "status": self.status, "confirmed": self.confirmed, "source": self.source}
        if self.low is not None:
            out |= {"low": self.low, "high": self.high}
        return out


def _num(d: dict[str, Any]) -> Number:
    return Number(d["value"], d["status"], d["source"], d.get("low"), d.get("high"))


@cache
def load(name: str = "true-v") -> dict[str, Any]:
    """The raw data file as a dict (cached)."""
    if name not in DATASETS:
        raise OutcomesError(
            "published", f"unknown data set {name!r}; available: {', '.join(DATASETS)}", kind="option"
        )
    text = resources.files("repigment.outcomes").joinpath("data", DATASETS[name]).read_text(encoding="utf-8")
    return tomllib.loads(text)


def trial_sizes(name: str = "true-v") -> dict[str, dict[str, Number]]:
    return {t["id"]: {k: _num(v) for k, v in t.items() if isinstance(v, dict)} for t in load(name)["trial"]}


def published_rates(name: str = "true-v") -> dict[tuple[str, str], tuple[float, float]]:
    """(trial, endpoint) → (treatment, control) week-24 proportions."""
    return {
        (r["trial"], r["endpoint"]): (
            r["treatment_percent"]["value"] / 100.0,
            r["control_percent"]["value"] / 100.0,
        )
        for r in load(name)["result"]
    }


def _effects(x1: int, n1: int, x0: int, n0: int) -> dict[str, Any]:
    rd = stats.risk_difference(x1, n1, x0, n0)
    return {
        "risk_difference": rd.as_json(),
        "relative_risk": stats.relative_risk(x1, n1, x0, n0).as_json(),
        "odds_ratio": stats.odds_ratio(x1, n1, x0, n0).as_json(),
        "nnt": stats.number_needed_to_treat(rd.estimate, rd.ci),
    }


def reconstruct(name: str = "true-v") -> dict[str, Any]:
    """Per trial and endpoint: reconstructed counts and effects; pooled over trials (sum and CMH by trial)."""
    data = load(name)
    sizes = trial_sizes(name)
    rows: list[dict[str, Any]] = []
    by_endpoint: dict[str, list[tuple[int, int, int, int]]] = {}
    for r in data["result"]:
        sz = sizes[r["trial"]]
        n1n, n0n = sz["efficacy_treatment"], sz["efficacy_control"]
        t_pct, c_pct = _num(r["treatment_percent"]), _num(r["control_percent"])
        n1, n0 = int(n1n.value), int(n0n.value)
        x1, x0 = round(t_pct.value * n1 / 100), round(c_pct.value * n0 / 100)
        inputs = {"treatment_percent": t_pct, "control_percent": c_pct, "n_treatment": n1n, "n_control": n0n}
        published = {k: _num(r[k]).as_json() for k in ("odds_ratio", "p_value", "relative_risk") if k in r}
        rows.append(
            {
                "trial": r["trial"],
                "endpoint": r["endpoint"],
                "inputs": {k: v.as_json() for k, v in inputs.items()},
                "unconfirmed_inputs": sorted(k for k, v in inputs.items() if not v.confirmed),
                "reconstructed_counts": {"treatment": [x1, n1], "control": [x0, n0]},
                "published": published,
                **_effects(x1, n1, x0, n0),
            }
        )
        by_endpoint.setdefault(r["endpoint"], []).append((x1, n1, x0, n0))
    pooled: list[dict[str, Any]] = []
    ema = {p["endpoint"]: p for p in data.get("pooled", [])}
    for endpoint, cells in by_endpoint.items():
        x1, n1, x0, n0 = (sum(c[i] for c in cells) for i in range(4))
        tabs = np.array([[[a, n - a], [b, m - b]] for a, n, b, m in cells], dtype=np.float64)
        entry: dict[str, Any] = {
            "endpoint": endpoint,
            "trials": len(cells),
            "reconstructed_counts": {"treatment": [x1, n1], "control": [x0, n0]},
            "rates": {"treatment": x1 / n1, "control": x0 / n0},
            **_effects(x1, n1, x0, n0),
            "cmh_by_trial": stats.cmh(tabs).as_json(),
        }
        if endpoint in ema:
            entry["published_pooled"] = {
                k: _num(v).as_json() for k, v in ema[endpoint].items() if isinstance(v, dict)
            }
        pooled.append(entry)
    return {
        "dataset": name,
        "note": RECONSTRUCTION_NOTE,
        "statuses": data["statuses"],
        "notes": data.get("notes", {}),
        "sources": data["sources"],
        "trials": rows,
        "pooled": pooled,
    }


def _fmt_ci(ci: list[Any], digits: int = 2) -> str:
    if ci[0] is None or ci[1] is None:
        return "–"
    return f"{ci[0]:.{digits}f}–{ci[1]:.{digits}f}"


def render_text(rec: dict[str, Any]) -> str:
    """A plain-text table of :func:`reconstruct`; ``*`` marks an unconfirmed input."""
    lines = [
        f"Published aggregates: {rec['dataset']} (week 24)",
        f"NOTE: {rec['note']}.",
        "* = input not confirmed (status CT: " + rec["statuses"]["CT"] + ")",
        "",
        f"{'trial':8} {'endpoint':9} {'cream % (N)':>14} {'vehicle % (N)':>14} {'recon. counts':>16} "
        f"{'RD (95% CI)':>22} {'RR (95% CI)':>19} {'OR recon.':>9} {'OR published (95% CI)':>24}"
        "  NNT (95% CI)",
    ]

    def val(inp: dict[str, Any]) -> str:
        return f"{inp['value']}{'' if inp['confirmed'] else '*'}"

    for r in rec["trials"]:
        i = r["inputs"]
        ct = f"{val(i['treatment_percent'])} ({val(i['n_treatment'])})"
        cc = f"{val(i['control_percent'])} ({val(i['n_control'])})"
        rc = r["reconstructed_counts"]
        counts = f"{rc['treatment'][0]}/{rc['treatment'][1]} v {rc['control'][0]}/{rc['control'][1]}"
        rd, rr, or_ = r["risk_difference"], r["relative_risk"], r["odds_ratio"]
        po = r["published"].get("odds_ratio")
        pub = f"{po['value']} ({po['low']}–{po['high']}){'' if po['confirmed'] else '*'}" if po else "–"
        lines.append(
            f"{r['trial']:8} {r['endpoint']:9} {ct:>14} {cc:>14} {counts:>16} "
            f"{rd['estimate']:+.3f} ({_fmt_ci(rd['ci'], 3)}) {rr['estimate']:6.2f} ({_fmt_ci(rr['ci'])}) "
            f"{or_['estimate']:9.2f} {pub:>24}  {r['nnt']['text']}"
        )
    if "odds_ratio" in rec.get("notes", {}):
        lines.append(
            f"Note: {rec['notes']['odds_ratio']}; 'OR recon.' is Woolf's OR of the reconstructed counts."
        )
    lines += ["", "Pooled over trials (reconstructed counts summed; CMH odds ratio stratified by trial):"]
    for p in rec["pooled"]:
        rc = p["reconstructed_counts"]
        c = p["cmh_by_trial"]
        line = (
            f"  {p['endpoint']:9} {rc['treatment'][0]}/{rc['treatment'][1]} "
            f"({100 * p['rates']['treatment']:.1f}%) v "
            f"{rc['control'][0]}/{rc['control'][1]} ({100 * p['rates']['control']:.1f}%); "
            f"RD {p['risk_difference']['estimate']:+.3f} ({_fmt_ci(p['risk_difference']['ci'], 3)}); "
            f"RR {p['relative_risk']['estimate']:.2f} ({_fmt_ci(p['relative_risk']['ci'])}); "
            f"MH OR {c['odds_ratio']:.2f} ({_fmt_ci(c['ci'])}); {p['nnt']['text']}"
        )
        if "published_pooled" in p:
            pp = p["published_pooled"]
            line += (
                f"; EMA: {pp['treatment_percent']['value']}% v {pp['control_percent']['value']}% "
                f"of {pp['patients']['value']} [C]"
            )
        lines.append(line)
    return "\n".join(lines)
