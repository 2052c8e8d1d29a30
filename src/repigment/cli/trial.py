"""``repigment trial``, ``trial-simulate`` and ``report``: responder analyses of long data."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from repigment.cli._io import fail, print_json
from repigment.config import get_settings

# The core is imported inside the commands: scipy/pandas/statsmodels stay out of other commands' start-up.

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-pdf-header-footer",
)


def _strata(value: str | None) -> tuple[str, ...]:
    return tuple(s.strip() for s in value.split(",") if s.strip()) if value else ()


def _fmt(v: Any, digits: int = 3) -> str:
    return "–" if v is None else f"{v:.{digits}f}"


def _p(v: Any) -> str:
    return "–" if v is None else f"{v:.3g}"


def _ci(ci: list[Any], digits: int = 3) -> str:
    return f"({_fmt(ci[0], digits)} to {_fmt(ci[1], digits)})"


def _text(res: dict[str, Any]) -> str:
    lines = [
        f"{res['endpoint']} at week {res['week']:g} ± {res['window']:g}, missing data: {res['missing']}",
        f"visit rule: {res['visit_rule']}",
    ]
    if "missing_read" in res:
        counts = ", ".join(f"{c} {n}" for c, n in res["missing_read"].items())
        lines.append(
            f"values read as missing, per column: {counts} "
            '(number columns: empty or "NA"; other columns: empty only)'
        )
    for label, arm in res["arms"].items():
        lines.append(
            f"  {label:12} {arm['responders']:.6g}/{arm['n']}  rate {_fmt(arm['rate'])}  "
            f"Wilson {_ci(arm['wilson_ci'])}  exact {_ci(arm['exact_ci'])}"
        )
    if res.get("single_arm"):
        lines.append(f"  {res['risk_difference']['note']}")
        return "\n".join(lines)
    rd, rr, or_ = res["risk_difference"], res["relative_risk"], res["odds_ratio"]
    lines += [
        f"  risk difference {_fmt(rd['estimate'])} {_ci(rd['ci'])} [{rd['method']}]",
        f"  relative risk   {_fmt(rr['estimate'])} {_ci(rr['ci'])}"
        + (f"  NOTE: {rr['note']}" if rr.get("note") else ""),
        f"  odds ratio      {_fmt(or_['estimate'])} {_ci(or_['ci'])}"
        + (f"  NOTE: {or_['note']}" if or_.get("note") else ""),
        f"  NNT             {res['nnt'].get('text', res['nnt']['ci_text'])}",
    ]
    if "cmh" in res:
        c = res["cmh"]
        lines.append(
            f"  CMH odds ratio  {_fmt(c['odds_ratio'])} {_ci(c['ci'])}  chi-square {_fmt(c['statistic'])} "
            f"p {_p(c['p_value'])}  ({len(c['strata'])} strata)"
        )
        bd = c.get("breslow_day", {})
        lines.append(f"  Breslow–Day     {_fmt(bd.get('statistic'))}  p {_p(bd.get('p_value'))}")
    lg = res["logistic"]
    lines.append(
        f"  logistic OR     {_fmt(lg['odds_ratio'])} {_ci(lg['ci'])}  p {_p(lg['p_value'])}"
        + (f"  NOTE: {lg['note']}" if lg.get("note") else "")
    )
    return "\n".join(lines)


def print_pdf(html_path: Path, pdf_path: Path, timeout: float = 120.0) -> None:
    """Print an HTML file to PDF with headless chromium (throwaway profile directory)."""
    chromium = get_settings().chromium
    exe = str(chromium) if chromium.exists() else shutil.which("chromium")
    if not exe:
        fail("chromium not found (needed for --pdf)", code=1)
    with tempfile.TemporaryDirectory(prefix="repigment-chromium-") as profile:
        cmd = [
            exe,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--print-to-pdf={pdf_path.resolve()}",
            html_path.resolve().as_uri(),
        ]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            fail(f"chromium did not finish printing within {timeout:.0f} s", code=1)
    if proc.returncode != 0 or not pdf_path.exists():
        fail(
            f"chromium failed to print the PDF (exit {proc.returncode}): {proc.stderr.strip()[-500:]}", code=1
        )


def _trial_clinic(
    name: str,
    endpoint: str,
    week: float,
    window: float,
    strata: str | None,
    missing: str,
    imputations: int | None,
    seed: int | None,
    json_out: bool,
) -> None:
    """``repigment trial --clinic NAME``: the clinic's de-identified visits, single-arm analysis."""
    from repigment.outcomes import MISSING_STRATEGIES, OutcomesError
    from repigment.services.cohort import (
        PseudonymKeyError,
        analyse_clinic,
        clinic_by_name,
        clinic_long_data,
        pseudonym_key,
    )
    from repigment.store import Store, StoreError

    if missing not in MISSING_STRATEGIES:
        fail(f"--missing must be one of {', '.join(MISSING_STRATEGIES)}, got {missing!r}")
    try:
        key = pseudonym_key(demo=get_settings().demo)
    except PseudonymKeyError as e:
        fail(str(e))
    try:
        store = Store(migrate=False)
        store.check_ready()
    except StoreError as e:
        fail(str(e))
    try:
        with store.read() as db:
            found = clinic_by_name(db, name)
            if found is None:
                fail(f"--clinic: no clinic named {name!r}")
            cohort = clinic_long_data(db, found, key)
        res = analyse_clinic(cohort, endpoint, week, window, _strata(strata), missing, imputations, seed)
    except OutcomesError as e:
        fail(f"clinic {name!r}: {e}")
    finally:
        store.dispose()
    if json_out:
        print_json(res)
    else:
        typer.echo(_text(res))
        c = res["clinic"]
        typer.echo(
            f"  clinic {c['clinic']}: {c['patients_analysed']} of {c['patients']} patients analysed, "
            f"{c['excluded_no_baseline']} without a baseline visit; single arm ({c['arm_meaning']})"
        )


def register(app: typer.Typer) -> None:
    @app.command()
    def trial(
        file: Annotated[
            str | None, typer.Argument(help="Long data: CSV or Parquet, one row per patient and visit")
        ] = None,
        endpoint: Annotated[str, typer.Option(help="F-VASI25/50/75/90, T-VASI50/75 or VNS4-5")] = "F-VASI75",
        week: Annotated[float, typer.Option(help="Target week")] = 24.0,
        window: Annotated[float, typer.Option(help="Visit window in weeks either side of the target")] = 2.0,
        treatment: Annotated[str, typer.Option(help="Arm label of the treatment")] = "ruxolitinib",
        control: Annotated[str, typer.Option(help="Arm label of the control")] = "vehicle",
        strata: Annotated[str | None, typer.Option(help="Comma-separated stratification columns")] = None,
        missing: Annotated[str, typer.Option(help="observed | nri | mi")] = "observed",
        imputations: Annotated[
            int | None, typer.Option(help="Number of imputations (--missing mi; default 20)")
        ] = None,
        seed: Annotated[
            int | None, typer.Option(help="Imputation seed (--missing mi; default 20220624)")
        ] = None,
        tarone: Annotated[bool, typer.Option(help="Tarone's correction of the Breslow–Day test")] = False,
        published: Annotated[
            str | None, typer.Option(help="Reconstruct published aggregates instead (true-v)")
        ] = None,
        json_out: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
        clinic: Annotated[
            str | None,
            typer.Option(
                help="Analyse a clinic's visits from the database instead of a FILE (de-identified, "
                "single-arm: everyone is on the cream)"
            ),
        ] = None,
    ) -> None:
        """Responder analysis of one endpoint: rates with CIs, RD/RR/OR/NNT, CMH and logistic regression."""
        if clinic is not None:
            if file is not None or published is not None:
                fail("give one of FILE, --clinic or --published")
            _trial_clinic(clinic, endpoint, week, window, strata, missing, imputations, seed, json_out)
            return
        from repigment.outcomes import (
            DEFAULT_IMPUTATIONS,
            DEFAULT_SEED,
            MISSING_STRATEGIES,
            OutcomesError,
            analyse,
            derive,
            read_long,
        )
        from repigment.outcomes.published import reconstruct, render_text

        try:
            if published is not None:
                if file is not None:
                    fail("give either FILE or --published, not both")
                rec = reconstruct(published)
                if json_out:
                    print_json(rec)
                else:
                    typer.echo(render_text(rec))
                return
            if file is None:
                fail("FILE is required (or --published true-v)")
            if missing not in MISSING_STRATEGIES:
                fail(f"--missing must be one of {', '.join(MISSING_STRATEGIES)}, got {missing!r}")
            cols = _strata(strata)
            df = read_long(file, cols)
            data = derive(df, endpoint, week, window, treatment, control, cols)
            res = analyse(
                data,
                treatment,
                control,
                missing,  # type: ignore[arg-type]
                DEFAULT_IMPUTATIONS if imputations is None else imputations,
                DEFAULT_SEED if seed is None else seed,
                tarone,
            )
        except OutcomesError as e:
            fail(f"{file or published}: {e}")
        res["file"] = file
        res["missing_read"] = dict(df.attrs.get("missing_read", {}))
        if json_out:
            print_json(res)
        else:
            typer.echo(_text(res))

    @app.command("trial-simulate")
    def trial_simulate(
        out: Annotated[Path, typer.Argument(help="Output file (.csv or .parquet)")],
        patients: Annotated[int, typer.Option(help="Patients over both trials")] = 674,
        seed: Annotated[int, typer.Option(help="Random seed")] = 1,
    ) -> None:
        """Simulate two TRuE-V-like trials (long data), calibrated to the published week-24 rates."""
        from repigment.outcomes import SimulationParameters, simulate

        if patients < 6:
            fail(f"--patients must be at least 6, got {patients}")
        df = simulate(patients, seed)
        try:
            if out.suffix.lower() in {".parquet", ".pq"}:
                df.to_parquet(out, index=False)
            else:
                df.to_csv(out, index=False)
        except OSError as e:
            fail(f"cannot write {out}: {e.strerror or e}")
        typer.echo(f"wrote {len(df)} visits of {patients} patients to {out}")
        prm = SimulationParameters()
        unpublished = {k: getattr(prm, k) for k in prm.__dataclass_fields__ if k.startswith("assumption_")}
        typer.echo(f"unconfirmed region split {dict(prm.region_shares)}; unpublished shapes: {unpublished}")

    @app.command()
    def report(
        file: Annotated[str, typer.Argument(help="Long data: CSV or Parquet")],
        out: Annotated[Path, typer.Option(help="HTML output file")] = Path("report.html"),
        pdf: Annotated[bool, typer.Option(help="Also print a PDF next to --out (headless chromium)")] = False,
        endpoint: Annotated[str, typer.Option(help="Endpoint of the forest plot")] = "F-VASI75",
        week: Annotated[float, typer.Option(help="Target week")] = 24.0,
        window: Annotated[float, typer.Option(help="Visit window (weeks)")] = 2.0,
        treatment: Annotated[str, typer.Option()] = "ruxolitinib",
        control: Annotated[str, typer.Option()] = "vehicle",
        strata: Annotated[
            str | None, typer.Option(help="Stratification columns (default: region,skin_type if present)")
        ] = None,
        missing: Annotated[str, typer.Option(help="observed | nri")] = "observed",
    ) -> None:
        """Self-contained HTML report: endpoints, responder chart, trajectories, forest plot (inline SVG)."""
        from repigment.outcomes import OutcomesError, read_long
        from repigment.outcomes.report import build_report

        if missing not in ("observed", "nri"):
            fail("--missing for reports must be observed or nri")
        try:
            html = build_report(
                read_long(file, _strata(strata)),
                endpoint=endpoint,
                week=week,
                window=window,
                treatment=treatment,
                control=control,
                strata=_strata(strata) or None,
                missing=missing,
                title=f"Responder report: {Path(file).name}",
            )
        except OutcomesError as e:
            fail(f"{file}: {e}")
        try:
            out.write_text(html, encoding="utf-8")
        except OSError as e:
            fail(f"cannot write {out}: {e.strerror or e}")
        typer.echo(f"wrote {out}")
        if pdf:
            pdf_path = out.with_suffix(".pdf")
            print_pdf(out, pdf_path)
            typer.echo(f"wrote {pdf_path}")
