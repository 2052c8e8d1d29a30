"""The ``repigment signals`` contract, through the installed executable."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

EXE = shutil.which("repigment", path=str(Path(sys.executable).parent))
TEST_THETA = "3.25280367,0.39983376,2.02490400,1.90726819,0.06536416"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    assert EXE, "the repigment console script is not installed in this environment"
    return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=120)


def test_compat_scores_to_csv(caers: Path, tmp_path: Path) -> None:
    out = tmp_path / "scores.csv"
    r = run(
        "signals",
        str(caers),
        "--strata",
        "none",
        "--theta",
        TEST_THETA,
        "--compat",
        "openebgm",
        "--out",
        str(out),
    )
    assert r.returncode == 0, r.stderr
    t = pd.read_csv(out)
    assert list(t.columns[:9]) == ["drug", "event", "N", "E", "RR", "PRR", "EBGM", "QUANT_05", "QUANT_95"]
    assert len(t) == 17_189 and (t["N"] >= 1).all()
    top = t.loc[t["EBGM"].idxmax()]
    assert (top["drug"], top["event"], top["N"], top["EBGM"], top["QUANT_05"], top["QUANT_95"]) == (
        "REUMOFAN PLUS",
        "WEIGHT INCREASED",
        16,
        23.26,
        15.68,
        33.48,
    )
    assert int((t["QUANT_05"] >= 2).sum()) == 131
    assert t["E"].sum() == t["E"].sum()  # no NaN in E
    assert abs(t["E"].sum() - 2086.5044696066748) < 1e-9
    assert not list(tmp_path.glob(".*tmp"))  # the temporary file was renamed, not left behind


def test_fit_is_printed_and_drug_focus(caers: Path, tmp_path: Path) -> None:
    out = tmp_path / "reumofan.parquet"
    r = run("signals", str(caers), "--strata", "none", "--drug", "reumofan plus", "--out", str(out))
    assert r.returncode == 0, r.stderr
    m = re.search(r"theta=([\d.,e-]+) negative log-likelihood=([\d.]+) \(converged\)", r.stdout)
    assert m, r.stdout
    assert float(m.group(2)) <= 4162.456
    assert len(m.group(1).split(",")) == 5
    table = pq.read_table(out)
    meta = table.schema.metadata
    assert meta[b"repigment.ema_min_count"] == b"5" and meta[b"repigment.converged"] == b"True"
    t = table.to_pandas()
    assert set(t["drug"]) == {"REUMOFAN PLUS"} and len(t) == 97
    assert "WEIGHT INCREASED" in r.stdout


def test_malformed_input_exits_2_and_writes_nothing(tmp_path: Path, caers: Path) -> None:
    out = tmp_path / "out.csv"
    out.write_text("previous result\n")
    bad = tmp_path / "bad.csv"
    bad.write_text("id,product,reaction\n1,A,e1\n")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    faers = tmp_path / "faers" / "ASCII"
    faers.mkdir(parents=True)
    for kind in ("DEMO", "DRUG", "REAC"):
        (faers / f"{kind}21Q1.txt").write_text("key$value\n1$2\n")
    badid = tmp_path / "badid" / "ASCII"
    badid.mkdir(parents=True)
    (badid / "DEMO21Q1.txt").write_text(
        "primaryid$caseid$fda_dt$init_fda_dt$age$age_cod$sex\n11$1$20210105$20210105$40$YR$F\n1x2$2$20210105$$$$M\n"
    )
    (badid / "DRUG21Q1.txt").write_text("primaryid$role_cod$drugname$prod_ai\n11$PS$A$A\n")
    (badid / "REAC21Q1.txt").write_text("primaryid$pt\n11$NAUSEA\n")
    cases = [
        ((str(bad),), "var1 and var2"),
        ((str(empty),), "empty"),
        ((str(tmp_path / "faers"),), "unknown FAERS layout"),
        ((str(tmp_path / "badid"),), "DEMO21Q1.txt: line 3: column primaryid value '1x2' is not a number"),
        ((str(caers), "--theta", "1,2,3"), "5 comma-separated"),
        ((str(caers), "--compat", "vigibase"), "only 'openebgm'"),
        ((str(caers), "--drug", "REUMOFAN PLUSS"), "closest: REUMOFAN PLUS"),
    ]
    for args, message in cases:
        r = run("signals", *args, "--out", str(out))
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert message in r.stderr and "Traceback" not in r.stderr, r.stderr
        assert out.read_text() == "previous result\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv", "badid", "empty.csv", "faers", "out.csv"]


def test_synthetic_faers_end_to_end(tmp_path: Path) -> None:
    r = run("signals-synth", str(tmp_path / "x"), "--reports", "20000", "--zip")
    assert r.returncode == 0, r.stderr
    out = tmp_path / "s.csv"
    r = run("signals", str(tmp_path / "x"), "--theta", TEST_THETA, "--out", str(out), "--drug", "ruxolitinib")
    assert r.returncode == 0, r.stderr
    assert "FAERS: 7 quarters (aers 2, faers-2012q4 2, faers 3)" in r.stdout
    t = pd.read_csv(out)
    best = t.sort_values("QUANT_05", ascending=False).iloc[0]
    assert best["event"] == "APPLICATION SITE ACNE" and bool(best["signal_eb05"])
