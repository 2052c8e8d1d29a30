"""Fingertip-unit dosing against hand calculations and an independent R implementation."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from decimal import Decimal

import pytest

from repigment.dosing import DosingError, dose_plan, grams_per_application

START = dt.date(2026, 11, 26)


@pytest.mark.parametrize(
    ("bsa", "sex", "grams"),
    [
        (10, "male", "2.5"),  # 10 hand areas = 5 FTU × 0.5 g
        (10, "female", "2.0"),  # 5 FTU × 0.4 g
        (2, "male", "0.5"),  # one FTU covers two hand areas
        (2, "female", "0.4"),
        (7.3, "female", "1.46"),
        (0.5, "male", "0.125"),
        (0, "female", "0"),
    ],
)
def test_grams_per_application_by_hand(bsa: float, sex: str, grams: str) -> None:
    assert grams_per_application(bsa, sex) == Decimal(grams)


def test_reference_rule_of_thumb_at_the_bsa_limit() -> None:
    # label-rules.md §4: ≈ 2.5 g an application, ≈ 5 g a day at 10 % BSA (man); 150 g per 30 days
    plan = dose_plan(10, "male")
    assert (plan.grams_per_application, plan.grams_per_day, plan.grams_per_month) == (
        Decimal("2.5"),
        Decimal("5.0"),
        Decimal("150.0"),
    )
    assert plan.tubes_per_month == 2  # 150 g needs two 100 g tubes


def test_run_out_date_hand_calculation() -> None:
    # 100 g at 2.5 g an application covers 40 applications = 20 days: the 21st day (start + 20) runs out
    plan = dose_plan(10, "male", dispensed_grams=100, start=START)
    assert plan.applications_covered == 40
    assert plan.run_out == START + dt.timedelta(days=20)
    # 100 g at 1.46 g covers 68 applications (99.28 g) = 34 days
    plan = dose_plan(7.3, "female", dispensed_grams=100, start=START)
    assert plan.applications_covered == 68 and plan.run_out == dt.date(2026, 12, 30)
    # once a day: 68 applications last 68 days
    assert dose_plan(7.3, "female", 1, 100, START).run_out == START + dt.timedelta(days=68)


def test_tubes_and_json() -> None:
    plan = dose_plan(3, "female", dispensed_grams=60, start=START, tube_grams=60)
    assert plan.grams_per_month == Decimal("36.0") and plan.tubes_per_month == 1
    j = plan.as_json()
    assert j["grams_per_application"] == 0.6 and j["run_out"] == "2027-01-15" and j["tube_grams"] == 60


def test_nothing_used_never_runs_out() -> None:
    assert dose_plan(0, "male", dispensed_grams=100, start=START).run_out is None


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"bsa_percent": 101, "sex": "male"}, "bsa_percent"),
        ({"bsa_percent": -1, "sex": "male"}, "bsa_percent"),
        ({"bsa_percent": "5", "sex": "male"}, "bsa_percent"),
        ({"bsa_percent": 5, "sex": "m"}, "sex"),
        ({"bsa_percent": 5, "sex": "male", "applications_per_day": 0}, "applications_per_day"),
        ({"bsa_percent": 5, "sex": "male", "dispensed_grams": 100}, "start"),
        ({"bsa_percent": 5, "sex": "male", "dispensed_grams": -5, "start": START}, "dispensed_grams"),
        ({"bsa_percent": 5, "sex": "male", "tube_grams": 0}, "tube_grams"),
        ({"bsa_percent": 0.001, "sex": "male", "dispensed_grams": 10**9, "start": START}, "dispensed_grams"),
    ],
)
def test_bad_input(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(DosingError) as e:
        dose_plan(**kwargs)  # type: ignore[arg-type]
    assert e.value.field == field


R_SCRIPT = r"""
classes <- c("character", "character", "integer", "integer", "character")
args <- read.csv(file("stdin"), header = TRUE, colClasses = classes)
for (i in seq_len(nrow(args))) {
  # whole micrograms: 250 mg (man) or 200 mg (woman) per % BSA, % BSA given in thousandths
  bsa_milli <- as.numeric(args$bsa_milli[i])           # % BSA × 1000
  mg_per_pct <- if (args$sex[i] == "male") 250 else 200
  ug_per_app <- bsa_milli * mg_per_pct                 # micrograms per application
  covered <- (as.numeric(args$dispensed_g[i]) * 1e6) %/% ug_per_app
  run_out <- as.Date(args$start[i]) + covered %/% args$per_day[i]
  cat(sprintf("%.0f,%.0f,%s\n", ug_per_app, covered, format(run_out)))
}
"""


@pytest.mark.r_oracle
@pytest.mark.skipif(shutil.which("Rscript") is None, reason="Rscript not installed")
def test_against_r() -> None:
    cases = [
        (bsa, sex, per_day, dispensed, start)
        for bsa in ("0.5", "1", "2.2", "3.75", "7.3", "9.9", "10")
        for sex in ("male", "female")
        for per_day in (1, 2)
        for dispensed in (60, 100, 200)
        for start in ("2026-03-28", "2026-11-26", "2028-02-27")
    ]
    lines = ["bsa_milli,sex,per_day,dispensed_g,start"]
    for bsa, sex, per_day, dispensed, start in cases:
        lines.append(f"{int(Decimal(bsa) * 1000)},{sex},{per_day},{dispensed},{start}")
    out = subprocess.run(
        ["Rscript", "-e", R_SCRIPT], input="\n".join(lines) + "\n", capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    rows = out.stdout.strip().splitlines()
    assert len(rows) == len(cases)
    for (bsa, sex, per_day, dispensed, start), row in zip(cases, rows, strict=True):
        ug, covered, run_out = row.split(",")
        plan = dose_plan(Decimal(bsa), sex, per_day, dispensed, dt.date.fromisoformat(start))
        assert plan.grams_per_application * 1_000_000 == Decimal(ug)
        assert plan.applications_covered == int(covered)
        assert plan.run_out == dt.date.fromisoformat(run_out)


def test_dose_cli() -> None:
    import json
    import sys
    from pathlib import Path

    exe = Path(sys.executable).parent / "repigment"
    ok = subprocess.run(
        [str(exe), "dose", "--bsa", "7.3", "--sex", "female", "--dispensed", "100", "--start", "2026-11-26"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ok.returncode == 0, ok.stderr
    out = json.loads(ok.stdout)
    assert (
        out.pop("findings") == [] and out.pop("verdict") == "ok" and out.pop("ruleset") == "opzelura-eu-2023"
    )
    assert out == dose_plan(Decimal("7.3"), "female", 2, Decimal(100), START).as_json()
    # off-label quantities are flagged with their rule (issue 14): 25 % BSA is 300 g and 3 tubes a month
    over = subprocess.run(
        [str(exe), "dose", "--bsa", "25", "--sex", "female", "--lang", "sv"], capture_output=True, text=True
    )
    flagged = json.loads(over.stdout)
    assert over.returncode == 0 and flagged["grams_per_month"] == 300 and flagged["tubes_per_month"] == 3
    assert [f["rule"] for f in flagged["findings"]] == [
        "EU-4.2-max-bsa",
        "EU-4.2-quantity",
        "EU-4.2-quantity-month",
    ]
    assert flagged["verdict"] == "block" and "högst 10\u00a0%" in flagged["findings"][0]["message"]
    bad = subprocess.run(
        [str(exe), "dose", "--bsa", "12x", "--sex", "female"], capture_output=True, text=True
    )
    assert bad.returncode == 2 and "--bsa" in bad.stderr and "Traceback" not in bad.stderr
