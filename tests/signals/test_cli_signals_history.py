"""The ``repigment signals-history`` contract, through the installed executable."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
from test_history_onset import THETA, write_extract

from repigment.signals.history_run import open_history

EXE = shutil.which("repigment", path=str(Path(sys.executable).parent))
THETA_TEXT = ",".join(repr(v) for v in THETA)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    assert EXE, "the repigment console script is not installed in this environment"
    return subprocess.run([EXE, "signals-history", *args], capture_output=True, text=True, timeout=120)


def zip_quarter(folder: Path) -> Path:
    z = folder.parent.parent / f"{folder.name}.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for f in sorted(folder.rglob("*")):
            if f.is_file():
                zf.write(f, f.relative_to(folder))
    shutil.rmtree(folder)
    return z


def test_build_then_update_with_a_new_quarter_zip(tmp_path: Path) -> None:
    write_extract(tmp_path / "faers")
    new = zip_quarter(tmp_path / "faers" / "faers_ascii_2015Q4")  # arrives later, as FDA publishes it
    out = tmp_path / "history.parquet"
    r = run(str(tmp_path / "faers"), "--out", str(out), "--strata", "none", "--theta", THETA_TEXT)
    assert r.returncode == 0, r.stderr
    assert "3 quarters counted (2015Q1-2015Q3), 3 scored" in r.stdout
    assert "prior policy fixed: 3 given" in r.stdout
    assert "3/3 quarters  2015Q3" in r.stderr  # the progress bar, one step per quarter
    assert "# What is new in 2015Q3 (against 2015Q2)" in r.stdout
    onsets = tmp_path / "onsets.csv"
    report = tmp_path / "new.md"
    r = run("--update", str(out), str(new), "--onsets", str(onsets), "--report", str(report))
    assert r.returncode == 0, r.stderr
    assert "1 quarters counted (2015Q4-2015Q4), 1 scored" in r.stdout
    assert "at 2015Q4: 122 reports" in r.stdout  # the four cells of the 2x2 table: 8 + 12 + 2 + 100
    text = report.read_text()
    assert text.startswith("# What is new in 2015Q4 (against 2015Q3)")
    assert "## First met `who_umc` (" in text and "| A | X | 8 |" in text
    on = pd.read_csv(onsets).set_index(["drug", "event"]).loc[("A", "X")]
    assert (on["onset_evans"], on["onset_ema"], on["onset_who_umc"], on["onset_eb05"]) == (
        "2015Q2",
        "2015Q3",
        "2015Q4",
        "2015Q4",
    )
    assert sorted(set(open_history(out).to_table()["quarter"].to_pylist())) == [
        "2015Q1",
        "2015Q2",
        "2015Q3",
        "2015Q4",
    ]
    # The same quarter again is refused, and the history is left as it was.
    r = run("--update", str(out), str(new))
    assert r.returncode == 2
    assert "already runs to 2015Q4; these quarters are not new: 2015Q4" in r.stderr
    assert open_history(out).count_rows() > 0


def test_bad_input_exits_2_with_a_clear_message(tmp_path: Path) -> None:
    write_extract(tmp_path / "faers")
    faers = str(tmp_path / "faers")
    cases = [
        ((faers,), "give either --out HISTORY (a new history) or --update HISTORY"),
        (
            (faers, "--out", str(tmp_path / "h.parquet"), "--since", "2015-2"),
            "since: '2015-2' is not a quarter",
        ),
        (
            (faers, "--out", str(tmp_path / "h.parquet"), "--prior", "monthly"),
            "prior: must be quarterly, yearly",
        ),
        ((faers, "--out", str(tmp_path / "h.parquet"), "--strata", "region"), "FAERS strata must be among"),
        ((faers, "--out", str(tmp_path / "no" / "h.parquet")), "does not exist"),
        ((str(tmp_path / "missing"), "--out", str(tmp_path / "h.parquet")), "no such file or folder"),
        ((faers, "--update", str(tmp_path / "faers")), "not a history made by signals-history"),
        (
            (faers, "--update", str(tmp_path / "x"), "--since", "2015Q1"),
            "--since cannot change an existing history",
        ),
    ]
    for args, message in cases:
        r = run(*args)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert message in r.stderr, (args, r.stderr)
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine")
    r = run(faers, "--out", str(tmp_path / "taken"), "--theta", THETA_TEXT)
    assert r.returncode == 2 and "exists and is not a history" in r.stderr
    assert (tmp_path / "taken" / "notes.txt").read_text() == "mine"
