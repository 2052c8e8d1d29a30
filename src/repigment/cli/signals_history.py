"""``repigment signals-history``: the quarterly history of every drug-event pair in a FAERS extract."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from repigment.cli._io import fail
from repigment.signals import SignalsError
from repigment.signals.history import QuarterSummary, onsets, whats_new
from repigment.signals.history_run import (
    HistoryResult,
    HistorySettings,
    Runner,
    build_history,
    default_runner,
    open_history,
    update_history,
)
from repigment.signals.screening import EMA_MIN_COUNT

BAR_WIDTH = 30


class _Bar:
    """One line on standard error, redrawn after each quarter."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.shown = False

    def __call__(self, done: int, total: int, quarter: str, summary: QuarterSummary) -> None:
        filled = BAR_WIDTH * done // max(total, 1)
        line = (
            f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total} quarters  {quarter}  "
            f"{summary.reports:,} reports  {time.perf_counter() - self.start:.0f} s"
        )
        sys.stderr.write(line)
        sys.stderr.flush()
        self.shown = True

    def end(self) -> None:
        if self.shown:
            sys.stderr.write("\n")


def _runner(cluster: str | None) -> Runner:
    if cluster is None:
        return default_runner()
    from repigment.signals.cluster import DaskRunner

    return DaskRunner(cluster)


def _split(text: str | None) -> list[str] | None:
    if text is None:
        return None
    if text.strip().lower() in ("", "none"):
        return []
    return [s.strip() for s in text.split(",") if s.strip()]


def register(app: typer.Typer) -> None:
    @app.command("signals-history")
    def signals_history(
        inputs: Annotated[
            list[Path] | None,
            typer.Argument(
                help="FAERS quarterly folders or zips (with --update: the new quarters)", metavar="FAERS"
            ),
        ] = None,
        out: Annotated[
            Path | None, typer.Option(help="History to write: a Parquet folder such as history.parquet")
        ] = None,
        update: Annotated[
            Path | None, typer.Option(help="Add the new quarters to this history (its saved settings apply)")
        ] = None,
        since: Annotated[
            str | None,
            typer.Option(help="First quarter to score, e.g. 2012Q4 (earlier ones are counted only)"),
        ] = None,
        cluster: Annotated[
            str | None, typer.Option(help="Dask scheduler address (tcp://host:8786); default: this machine")
        ] = None,
        prior: Annotated[
            str, typer.Option(help="MGPS prior: quarterly (refit every quarter) or yearly (refit each Q1)")
        ] = "quarterly",
        theta: Annotated[
            str | None, typer.Option(help="One fixed prior a1,b1,a2,b2,p for every quarter")
        ] = None,
        compat: Annotated[
            str | None, typer.Option(help="'openebgm': R's rounding and openEBGM's quantile bisection")
        ] = None,
        strata: Annotated[
            str | None, typer.Option(help="Strata among sex,age_group,year (default all three), or 'none'")
        ] = None,
        roles: Annotated[str, typer.Option(help="FAERS drug roles kept (PS,SS,C,I)")] = "PS,SS",
        ema_min_count: Annotated[
            int, typer.Option(help="EMA preset's minimum N (UNCONFIRMED default)")
        ] = EMA_MIN_COUNT,
        report: Annotated[
            Path | None, typer.Option(help="Also write the what's-new report (Markdown) to this file")
        ] = None,
        onsets_out: Annotated[
            Path | None,
            typer.Option("--onsets", help="Write the onset table (per pair and preset) to FILE.csv/.parquet"),
        ] = None,
        top: Annotated[int, typer.Option(help="Rows per list in the what's-new report")] = 10,
        memory_limit: Annotated[str, typer.Option(help="DuckDB memory limit per quarter read")] = "6GB",
    ) -> None:
        """Quarterly history: scores at every quarter, signal onsets and what is new in the latest quarter."""
        files = list(inputs or [])
        if not files:
            fail("give the FAERS folders or zips to read")
        if (out is None) == (update is None):
            fail("give either --out HISTORY (a new history) or --update HISTORY (add quarters)")
        for f in (report, onsets_out):
            if f is not None and not f.parent.is_dir():
                fail(f"{f}: folder {f.parent} does not exist")
        if onsets_out is not None and onsets_out.suffix.lower() not in (".csv", ".parquet", ".pq"):
            fail(f"--onsets {onsets_out}: use a .csv or .parquet file name")
        bar = _Bar()
        runner: Runner | None = None
        try:
            if update is not None:
                for name, given in (
                    ("--since", since),
                    ("--theta", theta),
                    ("--compat", compat),
                    ("--strata", strata),
                ):
                    if given is not None:
                        fail(f"{name} cannot change an existing history (its saved settings apply)")
                runner = _runner(cluster)
                result = update_history(update, files, runner=runner, progress=bar)
                target = update
            else:
                assert out is not None
                if compat is not None and compat.lower() != "openebgm":
                    fail(f"--compat: only 'openebgm' is known, got {compat!r}")
                chosen = _split(strata)
                settings = HistorySettings(
                    roles=tuple(_split(roles) or ()),
                    strata=tuple(HistorySettings().strata if chosen is None else chosen),
                    mode="openebgm" if compat is not None else "exact",
                    policy="fixed" if theta is not None else prior,
                    theta=theta,
                    ema_min_count=ema_min_count,
                    since=since,
                    memory_limit=memory_limit,
                ).checked()
                runner = _runner(cluster)
                result = build_history(files, out, settings, runner=runner, progress=bar)
                target = out
        except SignalsError as ex:
            bar.end()
            fail(str(ex))
        finally:
            if runner is not None:
                runner.close()
        bar.end()
        _summary(result)
        history = open_history(target)
        if onsets_out is not None:
            table = onsets(history)
            if onsets_out.suffix.lower() == ".csv":
                table.to_csv(onsets_out, index=False)
            else:
                table.to_parquet(onsets_out, index=False)
            typer.echo(f"wrote onsets of {len(table)} pairs to {onsets_out}")
        if not result.scored:
            return
        text = whats_new(history, top=max(top, 1)).markdown(top)
        if report is not None:
            report.write_text(text, encoding="utf-8")
            typer.echo(f"wrote the what's-new report to {report}")
        typer.echo(text)

    def _summary(r: HistoryResult) -> None:
        s = r.settings
        typer.echo(
            f"{len(r.quarters)} quarters counted ({r.quarters[0]}-{r.quarters[-1]}), {len(r.scored)} scored, "
            f"{r.rows:,} pair-quarter rows written to {r.out}"
        )
        last = r.summaries[-1]
        typer.echo(f"at {r.quarters[-1]}: {last.reports:,} reports with a kept drug and a reaction")
        sources: dict[str, int] = {}
        for p in r.priors:
            sources[p.source] = sources.get(p.source, 0) + 1
        typer.echo(
            f"prior policy {s.policy}: "
            + ", ".join(f"{n} {k}" for k, n in sources.items())
            + (f"; last theta {r.priors[-1].theta.as_text()}" if r.priors else "")
        )
        t = r.timings
        typer.echo(
            f"time: reading quarters {t['read']:.1f} s, carrying counts {t['count']:.1f} s, "
            f"fit, scoring and writing {t['score']:.1f} s"
        )
        for p in r.priors:
            if p.reason:
                typer.echo(f"  {p.quarter}: {p.source} prior ({p.reason})", err=True)
