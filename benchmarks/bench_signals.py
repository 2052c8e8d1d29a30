"""Signal detection at FAERS scale: counting, scoring, vigipy, FAERS ASCII to the scored table.

(a) 5 M report rows / ~1.2 M drug-event cells in memory: counting, then scoring with both quantiles in
    the exact and the openEBGM-compatible mode, against openEBGM's published 2-core figures (processRaw
    8.7 s, ebgm + QUANT_05/QUANT_95 30 s on 5 M rows / 1.24 M cells) and against vigipy (pair counting,
    MGPS with a fixed prior) in this run at a size vigipy's dense contingency table can hold.
(b) A synthetic FAERS extract (20 M cases, 88 quarters in the three ASCII layouts) from the files to the
    scored Parquet table through ``repigment signals`` in a child process: wall time and peak RSS,
    against reading the same bytes once (``cat``) in the same run.

``REPIGMENT_BENCH_QUICK=1`` runs small sizes (a smoke test). ``REPIGMENT_BENCH_FAERS_DIR`` reuses an
already generated extract for (b).
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from repigment.signals import Theta, count_long, fit_theta, score
from repigment.signals.synthetic import generate

QUICK = os.environ.get("REPIGMENT_BENCH_QUICK") == "1"
OPENEBGM_COUNT_S = 8.7
OPENEBGM_SCORE_S = 30.0
THETA = Theta(3.25280367, 0.39983376, 2.02490400, 1.90726819, 0.06536416)  # openEBGM's test prior


def long_data(
    n_rows: int, *, seed: int, n_drugs: int, n_events: int, a_drug: float, a_event: float
) -> pa.Table:
    """Reports with 1+Poisson(2.2) drugs x 1+Poisson(1.6) events, Zipf-like popularity; one row per pair."""
    rng = np.random.default_rng(seed)
    r = int(n_rows / 8.0 * 1.1)
    kd = 1 + rng.poisson(2.2, r)
    ke = 1 + rng.poisson(1.6, r)
    rows = kd * ke
    r = int(np.searchsorted(np.cumsum(rows), n_rows)) + 1
    kd, ke, rows = kd[:r], ke[:r], rows[:r]

    def zipf(n: int, size: int, a: float, off: float) -> np.ndarray:
        w = 1.0 / (np.arange(n) + off) ** a
        return np.minimum(np.searchsorted(np.cumsum(w / w.sum()), rng.random(size)), n - 1)

    dcode = zipf(n_drugs, int(kd.sum()), a_drug, 5.0)
    ecode = zipf(n_events, int(ke.sum()), a_event, 3.0)
    dstart = np.r_[0, np.cumsum(kd)[:-1]]
    estart = np.r_[0, np.cumsum(ke)[:-1]]
    rep = np.repeat(np.arange(r), rows)
    within = np.arange(int(rows.sum())) - np.repeat(np.r_[0, np.cumsum(rows)[:-1]], rows)
    d = dcode[dstart[rep] + within // ke[rep]]
    e = ecode[estart[rep] + within % ke[rep]]
    dn = np.array([f"DRUG{i:06d}" for i in range(n_drugs)])
    en = np.array([f"EVENT {i:05d}" for i in range(n_events)])
    return pa.table({"id": rep + 100_000, "var1": pa.array(dn[d]), "var2": pa.array(en[e])})


def _best(fn, repeat: int = 2) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def part_a() -> list[str]:
    n_rows = 200_000 if QUICK else 5_000_000
    tab = long_data(n_rows, seed=1, n_drugs=20_000, n_events=6_000, a_drug=1.25, a_event=1.15)
    t_count, counts = _best(lambda: count_long(tab, strata=[]))
    c = counts
    assert c is not None
    t_exact, _ = _best(lambda: score(c, THETA, mode="exact"))  # type: ignore[arg-type]
    t_compat, _ = _best(lambda: score(c, THETA, mode="openebgm"))  # type: ignore[arg-type]
    t0 = time.perf_counter()
    fit = fit_theta(c.n, c.e, max_points=50_000)  # type: ignore[union-attr]
    t_fit = time.perf_counter() - t0
    n_cells = len(c)  # type: ignore[arg-type]
    return [
        f"### (a) {tab.num_rows:,} report rows, {n_cells:,} cells (in memory, unique-report counting)",
        "",
        "| step | this run (s) | openEBGM 2 cores (s, published) | speed-up |",
        "|---|---:|---:|---:|",
        f"| counting (N, E, margins) | {t_count:.2f} | {OPENEBGM_COUNT_S} | "
        f"{OPENEBGM_COUNT_S / t_count:.1f}x |",
        f"| scoring, openEBGM-compatible (RR, PRR, ROR, IC, EBGM, QUANT_05, QUANT_95) | {t_compat:.2f} | "
        f"{OPENEBGM_SCORE_S} | {OPENEBGM_SCORE_S / t_compat:.1f}x |",
        f"| scoring, exact quantiles | {t_exact:.2f} | {OPENEBGM_SCORE_S} | "
        f"{OPENEBGM_SCORE_S / t_exact:.1f}x |",
        f"| MGPS fit (auto squash to {fit.n_points:,} points; not in openEBGM's figure) | {t_fit:.2f} | | |",
        "",
        f"Fit: {fit.summary()}",
    ]


def part_vigipy() -> list[str]:
    try:
        from vigipy import convert, gps
    except ImportError as ex:
        return ["### vigipy", "", f"vigipy is not importable here ({ex}); comparison skipped."]
    n_rows = 50_000 if QUICK else 300_000
    tab = long_data(n_rows, seed=2, n_drugs=2_000, n_events=1_000, a_drug=1.1, a_event=1.0)
    df = tab.to_pandas()

    def run_vigipy() -> pd.DataFrame:
        agg = df.groupby(["var1", "var2"]).size().reset_index(name="count")
        cont = convert(agg, product_label="var1", ae_label="var2", count_label="count")
        res = gps(cont, prior_param=list(THETA), min_events=1, decision_metric="rank", decision_thres=1.0)
        return res.all_signals

    def run_ours() -> pd.DataFrame:
        return score(count_long(tab, strata=[], semantics="pairs"), THETA, mode="exact")

    t_v, vres = _best(run_vigipy)
    t_o, ores = _best(run_ours)
    assert isinstance(vres, pd.DataFrame) and isinstance(ores, pd.DataFrame)
    m = ores.assign(drug=ores["drug"].astype(str), event=ores["event"].astype(str)).merge(
        vres, left_on=["drug", "event"], right_on=["Product", "Adverse Event"], suffixes=("_ours", "_vigipy")
    )
    ours_gm = m["EBGM_ours"].to_numpy(float)
    vig_gm = m["EBGM_vigipy"].to_numpy(float)
    diff = float(np.max(np.abs(ours_gm / vig_gm - 1))) if len(m) else float("nan")
    n_same = int(np.sum(m["N"].to_numpy() == m["Count"].to_numpy()))
    return [
        f"### vigipy {_vigipy_version()} on {tab.num_rows:,} rows / {len(ores):,} cells "
        "(pair counting, fixed prior)",
        "",
        "| pipeline | time (s) | speed-up |",
        "|---|---:|---:|",
        f"| vigipy: pandas group-by + `convert` + `gps` (EBGM, 5%/95% bounds) | {t_v:.2f} | 1.0x |",
        "| repigment: `count_long(semantics='pairs')` + `score` (all measures, exact quantiles) | "
        f"{t_o:.2f} | "
        f"{t_v / t_o:.1f}x |",
        "",
        f"Agreement on the {len(m):,} cells both report: N equal in {n_same:,}; largest relative EBGM "
        f"difference {diff:.2e}.",
    ]


def _vigipy_version() -> str:
    try:
        from importlib.metadata import version

        return version("vigipy")
    except Exception:  # pragma: no cover
        return "?"


def part_b() -> list[str]:
    reports = 100_000 if QUICK else 20_000_000
    reuse = os.environ.get("REPIGMENT_BENCH_FAERS_DIR")
    tmp = Path(tempfile.mkdtemp(prefix="bench-faers-"))
    try:
        root = Path(reuse) if reuse else tmp / "extract"
        t_gen = 0.0
        if not reuse:
            t0 = time.perf_counter()
            generate(root, reports, seed=20)
            t_gen = time.perf_counter() - t0
        files = [p for p in root.rglob("*") if p.is_file()]
        size = sum(p.stat().st_size for p in files)
        t0 = time.perf_counter()
        subprocess.run(["cat", *map(str, files)], stdout=subprocess.DEVNULL, check=True)
        t_cat = time.perf_counter() - t0
        exe = shutil.which("repigment", path=str(Path(sys.executable).parent)) or "repigment"
        out = tmp / "scores.parquet"
        t0 = time.perf_counter()
        log_path = tmp / "log.txt"
        with log_path.open("w") as log_file:
            proc = subprocess.Popen(
                [exe, "signals", str(root), "--out", str(out)], stdout=log_file, stderr=subprocess.STDOUT
            )
            _, status, usage = os.wait4(proc.pid, 0)  # this child's own peak RSS
        wall = time.perf_counter() - t0
        code = os.waitstatus_to_exitcode(status)
        rss_gb = usage.ru_maxrss / 1024**2
        log = log_path.read_text()
        rows = pd.read_parquet(out, columns=["N"]).shape[0] if out.exists() else 0
        lines = [
            line
            for line in log.splitlines()
            if line.startswith(("FAERS", "counted", "theta", "MGPS", "time:"))
        ]
        return [
            f"### (b) synthetic FAERS extract, {reports:,} cases, ASCII files to the scored table",
            "",
            f"{len(files)} files, {size / 1e9:.2f} GB "
            + (f"(generated in {t_gen:.0f} s, not counted). " if not reuse else f"(reused from {root}). ")
            + f"`repigment signals DIR --out scores.parquet` (exit {code}) in a child process:",
            "",
            "| measure | value | target |",
            "|---|---:|---:|",
            f"| wall time, files to Parquet | {wall:.1f} s | <= 120 s |",
            f"| baseline: reading the same bytes once (`cat`) | {t_cat:.1f} s "
            f"({wall / t_cat:.1f}x of it) | |",
            f"| peak resident memory of the child | {rss_gb:.2f} GB | <= 12 GB |",
            f"| scored drug-event cells written | {rows:,} | |",
            "",
            "```",
            *lines,
            "```",
        ]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    head = [
        "## Signal detection (`repigment.signals`)",
        "",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; load average at start {load:.1f} (the machine is shared: other work "
        "ran at the same time, so times are upper bounds). Each time is the best of two runs unless noted.",
        "",
    ]
    sections = [*part_a(), "", *part_vigipy(), "", *part_b()]
    load_end = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    sections += ["", f"Load average (1 min) at the end of the run: {load_end:.1f}."]
    text = "\n".join(head + sections) + "\n"
    out = Path(__file__).resolve().parent.parent / "docs" / "benchmarks" / "signals.md"
    if not QUICK:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    return text


if __name__ == "__main__":
    print(main())
