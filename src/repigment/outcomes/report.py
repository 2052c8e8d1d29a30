"""Self-contained HTML report (inline CSS and SVG figures, no external assets) of a responder analysis."""

from __future__ import annotations

import html
import io
import math
from datetime import UTC, datetime
from typing import Any, Final

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from repigment.outcomes import stats
from repigment.outcomes.analysis import analyse
from repigment.outcomes.endpoints import ENDPOINT_NAMES, VNS_ENDPOINT, derive

CHART_ENDPOINTS: Final = ("F-VASI50", "F-VASI75", "F-VASI90", "T-VASI50", VNS_ENDPOINT)
ARM_COLOURS: Final = ("#1b6ca8", "#b0b7bf")
CSS: Final = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;max-width:1100px;color:#1d2327}
h1{font-size:1.5em} h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccd}
table{border-collapse:collapse;font-size:.85em;width:100%}
th,td{padding:.25em .5em;border-bottom:1px solid #e3e6ea;
text-align:right}
th:first-child,td:first-child,th:nth-child(2),td:nth-child(2){text-align:left;white-space:nowrap}
.note{color:#555;font-size:.85em} figure{margin:1em 0} svg{max-width:100%;height:auto}
@media print{body{margin:0}h2{break-before:auto}figure{break-inside:avoid}}
"""


def _svg(fig: Figure) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buf.getvalue()
    return text[text.index("<svg") :]


def _groups(df: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    if "trial" in df.columns:
        return [(str(k), g) for k, g in df.groupby("trial", observed=True, sort=True)]
    return [("all", df)]


def _ci(ci: list[Any], pct: bool = False) -> str:
    if ci[0] is None or ci[1] is None:
        return "–"
    f = 100.0 if pct else 1.0
    return f"{ci[0] * f:.1f}–{ci[1] * f:.1f}" if pct else f"{ci[0]:.2f}–{ci[1]:.2f}"


def _missing_read(df: pd.DataFrame) -> str:
    """Per column, how many values were read as missing (``read_long``)."""
    counts = df.attrs.get("missing_read")
    if not counts:
        return ""
    text = ", ".join(f"{html.escape(str(c))} {n}" for c, n in counts.items())
    return (
        f"<p class='note' id='missing-read'>Values read as missing, per column: {text} (number columns: "
        "empty or &quot;NA&quot;; other columns: empty only).</p>"
    )


def build_report(
    df: pd.DataFrame,
    endpoint: str = "F-VASI75",
    week: float = 24.0,
    window: float = 2.0,
    treatment: str = "ruxolitinib",
    control: str = "vehicle",
    strata: tuple[str, ...] | None = None,
    missing: str = "observed",
    title: str = "Responder report",
) -> str:
    """The report as one HTML string; analyses per trial (``trial`` column) or for the whole file."""
    if strata is None:
        strata = tuple(c for c in ("region", "skin_type") if c in df.columns)
    groups = _groups(df)
    endpoints = [e for e in ENDPOINT_NAMES if e != VNS_ENDPOINT or "vns" in df.columns]
    results: dict[tuple[str, str], dict[str, Any]] = {}
    for name, g in groups:
        for ep in endpoints:
            data = derive(g, ep, week, window, treatment, control, strata if ep == endpoint else ())
            results[(name, ep)] = analyse(data, treatment, control, missing)  # type: ignore[arg-type]

    rows = []
    for (name, ep), r in results.items():
        a1, a0 = r["arms"][treatment], r["arms"][control]
        rd, or_ = r["risk_difference"], r["odds_ratio"]
        flag = " †" if or_.get("note") else ""
        rows.append(
            f"<tr><td>{html.escape(name)}</td><td>{ep}</td>"
            f"<td>{a1['responders']}/{a1['n']} ({100 * a1['rate']:.1f}%; {_ci(a1['wilson_ci'], True)})</td>"
            f"<td>{a0['responders']}/{a0['n']} ({100 * a0['rate']:.1f}%; {_ci(a0['wilson_ci'], True)})</td>"
            f"<td>{100 * rd['estimate']:.1f} ({_ci(rd['ci'], True)})</td>"
            f"<td>{or_['estimate']:.2f} ({_ci(or_['ci'])}){flag}</td>"
            f"<td>{html.escape(r['nnt'].get('text', r['nnt']['ci_text']))}</td></tr>"
        )
    table = (
        "<table><thead><tr><th>trial</th><th>endpoint</th>"
        f"<th>{html.escape(treatment)}: x/n (%; Wilson 95% CI)</th>"
        f"<th>{html.escape(control)}: x/n (%; Wilson 95% CI)</th>"
        "<th>RD, points (Newcombe 95% CI)</th><th>OR (Woolf 95% CI)</th><th>NNT (95% CI)</th>"
        "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p class='note'>Week {week:g} ± {window:g}; missing data: {missing}; {len(df)} visit rows. "
        f"Generated {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} by repigment.</p>",
        _missing_read(df),
        "<h2>Endpoints</h2>",
        table,
        "<p class='note'>† zero cell: 0.5 added to every cell (Haldane–Anscombe) for the odds ratio.</p>",
        "<h2>Responder rates</h2><figure>",
        _bar_chart(results, groups, treatment, control, endpoints),
        "<figcaption class='note'>Bars: responder rate; whiskers: Wilson 95% CI.</figcaption></figure>",
        "<h2>Mean scores over time</h2><figure>",
        _trajectories(groups, treatment, control),
        "<figcaption class='note'>Mean ± standard error by scheduled week "
        "(visits rounded to the nearest week), "
        "observed data.</figcaption></figure>",
    ]
    if strata:
        parts += [
            f"<h2>Odds ratios by stratum: {endpoint}</h2><figure>",
            _forest(groups, endpoint, week, window, treatment, control, strata, missing),
            "<figcaption class='note'>Woolf 95% CI per stratum level († zero cell: Haldane 0.5 added); "
            "diamond: Mantel–Haenszel common OR over the cross-classified strata with the "
            "Robins–Breslow–Greenland CI.</figcaption></figure>",
        ]
    parts.append("</body></html>")
    return "\n".join(parts)


def _bar_chart(
    results: dict[tuple[str, str], dict[str, Any]],
    groups: list[tuple[str, pd.DataFrame]],
    treatment: str,
    control: str,
    endpoints: list[str],
) -> str:
    eps = [e for e in CHART_ENDPOINTS if e in endpoints]
    fig = Figure(figsize=(10, 3.2 * len(groups)))
    axes = fig.subplots(len(groups), 1, squeeze=False)[:, 0]
    width = 0.38
    for ax, (name, _) in zip(axes, groups, strict=True):
        x = np.arange(len(eps))
        for k, (label, colour) in enumerate(((treatment, ARM_COLOURS[0]), (control, ARM_COLOURS[1]))):
            arms = [results[(name, e)]["arms"][label] for e in eps]
            rate = np.array([a["rate"] for a in arms]) * 100
            lo = rate - np.array([a["wilson_ci"][0] for a in arms]) * 100
            hi = np.array([a["wilson_ci"][1] for a in arms]) * 100 - rate
            ax.bar(x + (k - 0.5) * width, rate, width, yerr=[lo, hi], capsize=3, color=colour, label=label)
        ax.set_xticks(x, eps)
        ax.set_ylabel("responders (%)")
        ax.set_title(name, loc="left")
        ax.legend(frameon=False)
        ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return _svg(fig)


def _trajectories(groups: list[tuple[str, pd.DataFrame]], treatment: str, control: str) -> str:
    fig = Figure(figsize=(10, 3.2 * len(groups)))
    axes = fig.subplots(len(groups), 2, squeeze=False)
    for row, (name, g) in enumerate(groups):
        wk = pd.to_numeric(g["week"], errors="coerce").round()
        for col, score in enumerate(("f_vasi", "t_vasi")):
            ax = axes[row, col]
            for label, colour in ((treatment, ARM_COLOURS[0]), (control, "#6c757d")):
                mask = (g["arm"].astype(str) == label).to_numpy()
                vals = pd.to_numeric(g[score], errors="coerce")[mask]
                s = vals.groupby(wk[mask]).agg(["mean", "std", "count"])
                se = s["std"] / np.sqrt(s["count"])
                ax.errorbar(
                    s.index, s["mean"], yerr=se, color=colour, marker="o", ms=3, capsize=2, label=label
                )
            ax.set_xlabel("week")
            ax.set_ylabel(f"mean {score.replace('_', '-').upper()}")
            ax.set_title(name, loc="left")
            ax.legend(frameon=False)
            ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return _svg(fig)


def _forest(
    groups: list[tuple[str, pd.DataFrame]],
    endpoint: str,
    week: float,
    window: float,
    treatment: str,
    control: str,
    strata: tuple[str, ...],
    missing: str,
) -> str:
    labels: list[str] = []
    est: list[float] = []
    lo: list[float] = []
    hi: list[float] = []
    pooled_rows: list[int] = []
    for name, g in groups:
        data = derive(g, endpoint, week, window, treatment, control, strata)
        pop = data.observed if missing == "observed" else data.evaluable
        resp = data.responder & data.observed
        for s in strata:
            levels = data.strata_levels[s]
            for code in sorted(set(data.strata[s][pop].tolist()), key=lambda c: levels[c]):
                level = levels[code]
                m = pop & (data.strata[s] == code)
                x1, n1 = int((resp & m & data.treated).sum()), int((m & data.treated).sum())
                x0, n0 = int((resp & m & ~data.treated).sum()), int((m & ~data.treated).sum())
                if n1 == 0 or n0 == 0:
                    continue
                e = stats.odds_ratio(x1, n1, x0, n0)
                flag = " †" if e.note else ""
                labels.append(f"{name}: {s} = {level} ({x1}/{n1} v {x0}/{n0}){flag}")
                est.append(float(e.estimate or math.nan))
                lo.append(float(e.ci[0] or math.nan))
                hi.append(float(e.ci[1] or math.nan))
        res = analyse(data, treatment, control, missing)  # type: ignore[arg-type]
        c = res.get("cmh", {})
        if c.get("odds_ratio") and c["ci"][0] is not None:
            pooled_rows.append(len(labels))
            labels.append(f"{name}: Mantel–Haenszel ({len(c['strata'])} strata)")
            est.append(c["odds_ratio"])
            lo.append(c["ci"][0])
            hi.append(c["ci"][1])
    fig = Figure(figsize=(10, 0.38 * len(labels) + 1.2))
    ax = fig.subplots()
    y = np.arange(len(labels))[::-1]
    for i, yy in enumerate(y):
        marker = "D" if i in pooled_rows else "s"
        ax.plot([lo[i], hi[i]], [yy, yy], color="#333", lw=1)
        ax.plot(est[i], yy, marker=marker, color=ARM_COLOURS[0] if i in pooled_rows else "#333", ms=6)
    ax.axvline(1.0, color="#999", ls="--", lw=1)
    ax.set_xscale("log")
    ax.set_yticks(y, labels)
    ax.set_xlabel(f"odds ratio, {treatment} v {control} (log scale)")
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return _svg(fig)
