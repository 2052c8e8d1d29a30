"""``repigment trial`` / ``trial-simulate`` / ``report`` (Typer runner, real chromium for the PDF)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from repigment.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim") / "sim.csv"
    res = runner.invoke(app, ["trial-simulate", str(out), "--patients", "674", "--seed", "3"])
    assert res.exit_code == 0, res.output
    return out


def test_trial_json_contract(sim: Path) -> None:
    res = runner.invoke(
        app,
        [
            "trial",
            str(sim),
            "--endpoint",
            "F-VASI75",
            "--week",
            "24",
            "--window",
            "2",
            "--treatment",
            "ruxolitinib",
            "--control",
            "vehicle",
            "--strata",
            "region,skin_type",
            "--missing",
            "nri",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    for arm in ("ruxolitinib", "vehicle"):
        assert {"n", "responders", "rate", "wilson_ci", "exact_ci"} <= set(out["arms"][arm])
    assert {"estimate", "ci"} <= set(out["risk_difference"]) and {"estimate", "ci"} <= set(
        out["relative_risk"]
    )
    assert {"estimate", "ci"} <= set(out["odds_ratio"]) and {"estimate", "ci"} <= set(out["nnt"])
    assert {"odds_ratio", "ci", "statistic", "p_value"} <= set(out["cmh"])
    assert {"odds_ratio", "ci", "p_value"} <= set(out["logistic"])
    assert out["missing"] == "nri" and out["strata_columns"] == ["region", "skin_type"]
    assert out["arms"]["ruxolitinib"]["n"] == out["patients"]["ruxolitinib"]["randomised"]


def test_trial_text_and_mi(sim: Path) -> None:
    res = runner.invoke(
        app, ["trial", str(sim), "--endpoint", "T-VASI50", "--missing", "mi", "--imputations", "5"]
    )
    assert res.exit_code == 0, res.output
    assert "T-VASI50 at week 24" in res.stdout and "risk difference" in res.stdout
    res = runner.invoke(app, ["trial", str(sim), "--endpoint", "VNS4-5", "--json"])
    assert res.exit_code == 0 and "cmh" not in json.loads(res.stdout)


def test_published_true_v() -> None:
    res = runner.invoke(app, ["trial", "--published", "true-v"])
    assert res.exit_code == 0, res.output
    assert "RECONSTRUCTED" in res.stdout and "* = input not confirmed" in res.stdout
    res = runner.invoke(app, ["trial", "--published", "true-v", "--json"])
    assert json.loads(res.stdout)["trials"][0]["unconfirmed_inputs"]
    res = runner.invoke(app, ["trial", "--published", "nope"])
    assert res.exit_code == 2 and "unknown data set" in res.output


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace(",t_vasi,", ",tv,", 1), r"column t_vasi: required column missing"),
        (lambda t: t.replace("vehicle", "placebo", 1), r"row \d+, column arm: unknown arm label 'placebo'"),
        (
            lambda t: re.sub(r"(\n[^\n]*?,24\.\d*,)[0-9.]+,", r"\1abc,", t, count=1),
            r"row \d+, column f_vasi: 'abc' is not a number",
        ),
        (
            lambda t: re.sub(r"\n(TRuE-V1,V1-000001,[^,]*,[^,]*,[^,]*),0\.0,", r"\n\1,7.0,", t, count=1),
            r"row 1, column week: patient V1-000001 has no baseline",
        ),
    ],
)
def test_bad_files_exit_2(sim: Path, tmp_path: Path, edit, message: str) -> None:  # type: ignore[no-untyped-def]
    text = sim.read_text()
    bad = tmp_path / "bad.csv"
    bad.write_text(edit(text))
    res = runner.invoke(app, ["trial", str(bad), "--endpoint", "F-VASI75", "--json"])
    assert res.exit_code == 2, res.output
    assert re.search(message, res.output), res.output
    assert "Traceback" not in res.output


def test_usage_errors_exit_2(sim: Path) -> None:
    assert runner.invoke(app, ["trial", str(sim), "--missing", "lvcf"]).exit_code == 2
    assert runner.invoke(app, ["trial", str(sim), "--endpoint", "F-VASI60"]).exit_code == 2
    assert runner.invoke(app, ["trial"]).exit_code == 2
    assert runner.invoke(app, ["trial", "/nonexistent.csv"]).exit_code == 2


@pytest.mark.browser
def test_report_html_and_pdf(sim: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    args = ["report", str(sim), "--out", str(out)]
    if shutil.which("chromium") or Path("/usr/bin/chromium").exists():
        args.append("--pdf")
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    html = out.read_text()
    assert html.count("<svg") == 3  # responder bars, F-/T-VASI trajectories, forest plot
    assert "F-VASI75" in html and "Mantel–Haenszel" in html and "TRuE-V2" in html
    # self-contained: no external scripts, stylesheets, images or fonts
    assert not re.search(r"<(script|link|img)\b[^>]*(src|href)=", html)
    assert "url(http" not in html and "@import" not in html
    if "--pdf" in args:
        pdf = out.with_suffix(".pdf").read_bytes()
        assert pdf.startswith(b"%PDF") and len(pdf) > 10_000


def test_na_is_a_category_but_missing_in_number_columns(tmp_path: Path) -> None:
    """Issue 14: "NA" in a category column (North America) was read as missing and the file refused; in
    number columns "NA" and empty are missing; the report states per column what was read as missing."""
    rows = [
        "patient_id,arm,week,f_vasi,t_vasi,region",
        "1,ruxolitinib,0,1.0,2.0,NA",
        "1,ruxolitinib,24,0.2,NA,NA",  # t_vasi NA: missing
        "2,vehicle,0,1.0,2.0,Europe",
        "2,vehicle,24,,1.0,Europe",  # f_vasi empty: missing
        "4,vehicle,0,1.0,2.0,NA",
        "4,vehicle,24,0.9,1.9,NA",
        "3,ruxolitinib,0,1.0,2.0,NA",
        "3,ruxolitinib,24,0.1,0.5,NA",
    ]
    f = tmp_path / "na.csv"
    f.write_text("\n".join(rows) + "\n")
    res = runner.invoke(app, ["trial", str(f), "--strata", "region", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["missing_read"] == {
        "patient_id": 0, "arm": 0, "week": 0, "f_vasi": 1, "t_vasi": 1, "region": 0,
    }  # fmt: skip
    assert out["arms"]["ruxolitinib"]["n"] == 2 and out["arms"]["ruxolitinib"]["responders"] == 2
    text = runner.invoke(app, ["trial", str(f), "--strata", "region"]).stdout
    assert (
        "values read as missing, per column: patient_id 0, arm 0, week 0, f_vasi 1, t_vasi 1, region 0"
        in text
    )
    # in a category column only an empty cell is missing
    f.write_text("\n".join([*rows[:-1], "3,ruxolitinib,24,0.1,0.5,"]) + "\n")
    res = runner.invoke(app, ["trial", str(f), "--strata", "region"])
    assert res.exit_code == 2 and "row 8, column region: missing value" in res.output


def test_report_states_the_values_read_as_missing(sim: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    res = runner.invoke(app, ["report", str(sim), "--out", str(out)])
    assert res.exit_code == 0, res.output
    html = out.read_text()
    assert "Values read as missing, per column: trial 0, patient_id 0, arm 0, region 0" in html
