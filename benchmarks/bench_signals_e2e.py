"""One shot end to end as a user runs it: ``repigment signals FILE.csv`` against openEBGM in R.

Both sides read the same long CSV (one row per report, drug and event), count, score with the same
prior and both quantiles in openEBGM's arithmetic, and write the table, each in a fresh process:

* ours: ``repigment signals FILE.csv --format long --strata none --theta … --compat openebgm
  --out F.parquet``, with the package's bytecode compiled as an installed package has it (one untimed
  run first writes it to a cache folder; a run that compiles every module is reported beside it);
* R: ``fread`` + ``processRaw`` + ``ebScores(quantiles = c(5, 95))`` + ``fwrite`` (openEBGM, data.table).

Best of 2 each, alternating. The tables are compared cell by cell (N, E, EBGM, QUANT_05, QUANT_95).
Without R or openEBGM the R side is reported as not run; nothing stands in for it.
``REPIGMENT_BENCH_E2E_CSV`` reuses a CSV written before; ``REPIGMENT_BENCH_QUICK=1`` runs small.
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
import pyarrow.csv as pacsv

from benchmarks.bench_signals import THETA, long_data

QUICK = os.environ.get("REPIGMENT_BENCH_QUICK") == "1"
ROWS = 200_000 if QUICK else 5_000_000
EXE = shutil.which("repigment", path=str(Path(sys.executable).parent)) or "repigment"
R_SCRIPT = """
suppressPackageStartupMessages({library(data.table); library(openEBGM)})
args <- commandArgs(trailingOnly = TRUE)
raw <- fread(args[1])
proc <- processRaw(raw, stratify = FALSE, zeroes = FALSE)
theta <- as.numeric(strsplit(args[3], ",")[[1]])
scored <- ebScores(proc, hyper_estimate = list(estimates = theta), quantiles = c(5, 95))
fwrite(scored$data, args[2])
"""


def _load() -> float:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def _child(cmd: list[str], log: Path, env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall seconds and the child's CPU seconds (user + system); fails loudly on an error."""
    t0 = time.perf_counter()
    with log.open("w") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{log.read_text()[-3000:]}")
    return wall, usage.ru_utime + usage.ru_stime


def _r_ready() -> str | None:
    """None when Rscript with openEBGM and data.table runs, else why not."""
    if shutil.which("Rscript") is None:
        return "Rscript is not installed"
    got = subprocess.run(
        [
            "Rscript",
            "-e",
            'cat(as.character(packageVersion("openEBGM")), '
            'as.character(packageVersion("data.table")), R.version$major, R.version$minor)',
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    return None if got.returncode == 0 else "openEBGM or data.table is not installed in R"


def _versions() -> str:
    got = subprocess.run(
        [
            "Rscript",
            "-e",
            'cat(sprintf("R %s.%s, openEBGM %s, data.table %s", R.version$major, '
            'R.version$minor, packageVersion("openEBGM"), packageVersion("data.table")))',
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    return got.stdout.strip()


def _agreement(ours: Path, theirs: Path) -> list[str]:
    a = pd.read_parquet(ours, columns=["drug", "event", "N", "E", "EBGM", "QUANT_05", "QUANT_95"])
    b = pd.read_csv(theirs, usecols=["var1", "var2", "N", "E", "EBGM", "QUANT_05", "QUANT_95"])
    b = b.rename(columns={"var1": "drug", "var2": "event"})
    a = a.assign(drug=a["drug"].astype(str), event=a["event"].astype(str))
    m = a.merge(b, on=["drug", "event"], suffixes=("", "_r"), how="outer", indicator=True)
    both = m["_merge"] == "both"
    lines = [f"Cells: ours {len(a):,}, openEBGM {len(b):,}, in both {int(both.sum()):,}."]
    m = m[both]
    rel_e = np.abs(m["E"] - m["E_r"]) / np.maximum(np.abs(m["E_r"]), 1e-300)
    lines.append(
        f"Equal: N {int((m['N'] == m['N_r']).sum()):,}, EBGM {int((m['EBGM'] == m['EBGM_r']).sum()):,}, "
        f"QUANT_05 {int((m['QUANT_05'] == m['QUANT_05_r']).sum()):,}, "
        f"QUANT_95 {int((m['QUANT_95'] == m['QUANT_95_r']).sum()):,}; "
        f"E within 1e-12 relative (fwrite prints 15 digits) {int((rel_e <= 1e-12).sum()):,}."
    )
    return lines


def main() -> str:
    load0 = _load()
    tmp = Path(tempfile.mkdtemp(prefix="bench-e2e-"))
    try:
        given = os.environ.get("REPIGMENT_BENCH_E2E_CSV")
        csv = Path(given) if given else tmp / "long.csv"
        if not given:
            tab = long_data(ROWS, seed=1, n_drugs=20_000, n_events=6_000, a_drug=1.25, a_event=1.15)
            pacsv.write_csv(tab, csv)
        n_rows = sum(1 for _ in csv.open("rb")) - 1
        size = csv.stat().st_size
        theta = ",".join(repr(float(x)) for x in THETA)
        ours = [
            EXE,
            "signals",
            str(csv),
            "--format",
            "long",
            "--strata",
            "none",
            "--theta",
            theta,
            "--compat",
            "openebgm",
            "--out",
        ]
        # An installed package has its bytecode compiled; this environment may forbid writing it
        # (PYTHONDONTWRITEBYTECODE), so the compiled run keeps it in a cache folder of its own.
        env_pyc = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env_pyc["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
        env_src = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        env_src.pop("PYTHONPYCACHEPREFIX", None)
        _child([*ours, str(tmp / "warm.parquet")], tmp / "warm.log", env_pyc)  # writes the bytecode
        why_not = _r_ready()
        runs: dict[str, list[tuple[float, float]]] = {"ours": [], "ours_src": [], "r": []}
        for i in range(2):
            runs["ours"].append(_child([*ours, str(tmp / "ours.parquet")], tmp / f"ours{i}.log", env_pyc))
            if why_not is None:
                rs = tmp / "run.R"
                rs.write_text(R_SCRIPT)
                runs["r"].append(
                    _child(["Rscript", str(rs), str(csv), str(tmp / "r.csv"), theta], tmp / f"r{i}.log")
                )
            runs["ours_src"].append(
                _child([*ours, str(tmp / "ours_src.parquet")], tmp / f"src{i}.log", env_src)
            )
        our_log = (tmp / "ours1.log").read_text()
        agreement = _agreement(tmp / "ours.parquet", tmp / "r.csv") if why_not is None else []
    finally:
        load1 = _load()
    try:
        best = {k: min(v) if v else (float("nan"), float("nan")) for k, v in runs.items()}
        r_wall = best["r"][0]
        lines = [
            "## One shot end to end: `repigment signals FILE.csv` against openEBGM in R",
            "",
            f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
            f"load average (1 min) {load0:.1f} at the start and {load1:.1f} at the end. "
            + (_versions() + "." if why_not is None else f"R side not run: {why_not}."),
            "",
            f"Input: {n_rows:,} rows (report, drug, event), {size / 1e6:.0f} MB of CSV. Best of 2 each, "
            "alternating, each a fresh process; CPU is the child's user + system time.",
            "",
            "| run | wall (s) | CPU (s) | openEBGM wall / ours |",
            "|---|---:|---:|---:|",
            f"| R: `fread` + `processRaw` + `ebScores(quantiles = c(5, 95))` + `fwrite` | {r_wall:.1f} | "
            f"{best['r'][1]:.1f} | 1.0 |",
            f"| `repigment signals FILE.csv --format long --strata none --theta … --compat openebgm "
            f"--out F.parquet` | {best['ours'][0]:.2f} | {best['ours'][1]:.2f} | "
            f"{r_wall / best['ours'][0]:.1f}x |",
            f"| the same, every module compiled from source at start-up (no bytecode written) | "
            f"{best['ours_src'][0]:.2f} | {best['ours_src'][1]:.2f} | {r_wall / best['ours_src'][0]:.1f}x |",
            "",
            *agreement,
            "",
            "```",
            *[ln for ln in our_log.splitlines() if ln.startswith(("counted", "time:", "wrote"))],
            "```",
            "",
        ]
        return "\n".join(lines)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    print(main())
