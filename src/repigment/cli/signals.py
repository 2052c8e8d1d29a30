"""``repigment signals``: disproportionality screening of spontaneous reports (long tables or FAERS)."""

from __future__ import annotations

import difflib
import os
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import typer

from repigment.cli._io import fail
from repigment.signals import (
    EMA_MIN_COUNT,
    Counts,
    Mode,
    Semantics,
    SignalsError,
    Theta,
    count_long,
    fit_theta,
    presets,
    score,
)
from repigment.signals import faers as faers_mod
from repigment.signals.mgps import SQUASH_ABOVE_POINTS
from repigment.signals.threads import one_blas_thread

# --squash auto squashes above mgps.SQUASH_ABOVE_POINTS distinct points; --squash yes: openEBGM's autoSquash.
FIRST_COLUMNS = ["drug", "event", "N", "E", "RR", "PRR", "EBGM", "QUANT_05", "QUANT_95"]


def _split(text: str | None) -> list[str] | None:
    if text is None:
        return None
    if text.strip().lower() in ("", "none"):
        return []
    return [s.strip() for s in text.split(",") if s.strip()]


def _looks_faers(paths: list[Path]) -> bool:
    return any(p.is_dir() or p.suffix.lower() == ".zip" or p.name.upper().startswith("DEMO") for p in paths)


def _write_atomic(table: pd.DataFrame, out: Path, metadata: dict[str, str], first: list[str]) -> None:
    """Write CSV or Parquet to a temporary file beside ``out`` and rename it: never a half-written file."""
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq"):
        fail(f"--out {out}: use a .csv or .parquet file name")
    if not out.parent.exists():
        fail(f"--out {out}: folder {out.parent} does not exist")
    arrow = pa.Table.from_pandas(table, preserve_index=False)
    arrow = arrow.select(first + [c for c in arrow.column_names if c not in first])  # no copy
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    try:
        if suffix == ".csv":
            arrow = arrow.cast(
                pa.schema(
                    [
                        pa.field(f.name, pa.string()) if pa.types.is_dictionary(f.type) else f
                        for f in arrow.schema
                    ]
                )
            )
            pacsv.write_csv(arrow, tmp)
        else:
            meta = {
                **(arrow.schema.metadata or {}),
                **{f"repigment.{k}".encode(): v.encode() for k, v in metadata.items()},
            }
            # Dictionary pages for the names only: scores rarely repeat, and trying a dictionary on
            # every float column costs more than the rest of the write.
            text = [f.name for f in arrow.schema if not pa.types.is_floating(f.type)]
            pq.write_table(arrow.replace_schema_metadata(meta), tmp, use_dictionary=text)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _print_table(t: pd.DataFrame, cols: list[str]) -> None:
    rows = [[_fmt(v) for v in r] for r in t[cols].itertuples(index=False)]
    widths = [max([len(c)] + [len(r[i]) for r in rows]) for i, c in enumerate(cols)]
    typer.echo("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)))
    for r in rows:
        typer.echo("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)))


def register(app: typer.Typer) -> None:
    @app.command()
    def signals(
        inputs: Annotated[
            list[Path],
            typer.Argument(help="Long table (CSV/Parquet), or FAERS folders/zips", metavar="INPUT"),
        ],
        format: Annotated[
            str | None, typer.Option("--format", help="long or faers (default: guessed)")
        ] = None,
        strata: Annotated[
            str | None,
            typer.Option(
                help="Stratification columns, comma-separated, or 'none' "
                "(long: default the strat* columns; FAERS: "
                "sex,age_group,year)"
            ),
        ] = None,
        theta: Annotated[str | None, typer.Option(help="Prior a1,b1,a2,b2,p (default: fitted)")] = None,
        compat: Annotated[
            str | None, typer.Option(help="'openebgm': R's rounding and openEBGM's quantile bisection")
        ] = None,
        out: Annotated[Path | None, typer.Option(help="Write the table to FILE.csv or FILE.parquet")] = None,
        drug: Annotated[
            str | None, typer.Option(help="Report only this drug's cells (e.g. RUXOLITINIB)")
        ] = None,
        counting: Annotated[
            str, typer.Option(help="unique (report ids, openEBGM) or pairs (PhViD/vigipy)")
        ] = "unique",
        roles: Annotated[str, typer.Option(help="FAERS drug roles kept (PS,SS,C,I)")] = "PS,SS",
        squash: Annotated[
            str,
            typer.Option(
                help="Squash before fitting: auto (large data only), yes (openEBGM autoSquash) or no"
            ),
        ] = "auto",
        ema_min_count: Annotated[
            int, typer.Option(help="EMA preset's minimum N (UNCONFIRMED default)")
        ] = EMA_MIN_COUNT,
        top: Annotated[int, typer.Option(help="Rows shown on screen")] = 20,
        memory_limit: Annotated[
            str, typer.Option(help="DuckDB memory limit for FAERS ingestion (spills to disk beyond it)")
        ] = "6GB",
    ) -> None:
        """Disproportionality screening: N, E, RR, PRR, ROR, IC and EBGM (MGPS) with signal presets."""
        clock = {"start": time.perf_counter()}
        try:
            fmt = format or ("faers" if _looks_faers(inputs) else "long")
            if fmt not in ("long", "faers"):
                fail(f"--format must be long or faers, got {fmt!r}")
            mode = Mode.EXACT
            if compat is not None:
                if compat.lower() != "openebgm":
                    fail(f"--compat: only 'openebgm' is known, got {compat!r}")
                mode = Mode.OPENEBGM
            if squash not in ("auto", "yes", "no"):
                fail(f"--squash must be auto, yes or no, got {squash!r}")
            try:
                sem = Semantics(counting)
            except ValueError:
                fail(f"--counting must be unique or pairs, got {counting!r}")
            prior = Theta.parse(theta) if theta is not None else None
            counts: Counts
            if fmt == "long":
                if len(inputs) != 1:
                    fail("long format takes exactly one INPUT file")
                counts = count_long(inputs[0], strata=_split(strata), semantics=sem)
            else:
                chosen = _split(strata)
                counts, summary = faers_mod.ingest(
                    inputs,
                    roles=_split(roles) or [],
                    semantics=sem,
                    strata=list(faers_mod.STRATA_COLUMNS) if chosen is None else chosen,
                    memory_limit=memory_limit,
                )
                layouts = ", ".join(f"{k} {v}" for k, v in summary.layouts.items())
                typer.echo(
                    f"FAERS: {len(summary.quarters)} quarters ({layouts}), "
                    f"{summary.demo_rows} DEMO rows, {summary.cases} cases, "
                    f"{summary.deleted_cases} deleted, {summary.reports} reports with a kept drug and "
                    "a reaction"
                )
        except SignalsError as ex:
            fail(str(ex))
        typer.echo(
            f"counted {len(counts)} drug-event cells over {counts.n_total} "
            f"{'reports' if sem is Semantics.UNIQUE else 'pairs'}; strata: "
            f"{', '.join(counts.strata) or 'none'} ({counts.n_strata})"
        )
        clock["counted"] = time.perf_counter()
        meta = {
            "mode": mode.value,
            "counting": sem.value,
            "strata": ",".join(counts.strata),
            "ema_min_count": str(ema_min_count),
        }
        cells = None
        if drug is not None:
            name = drug.strip().upper()
            hit = [i for i, d in enumerate(counts.drugs) if d == name]
            if not hit:
                close = difflib.get_close_matches(name, [str(d) for d in counts.drugs], n=3)
                fail(
                    f"--drug {drug!r} does not occur in the input"
                    + (f" (closest: {', '.join(close)})" if close else "")
                )
            cells = counts.drug_code == hit[0]
        if prior is None:
            with one_blas_thread():
                fit = fit_theta(
                    counts.n,
                    counts.e,
                    squash=squash == "yes",
                    max_points=SQUASH_ABOVE_POINTS if squash == "auto" else None,
                )
            how = "squashed points" if fit.squashed else "distinct (N, E) points"
            typer.echo(f"{fit.summary()} [fitted on {fit.n_points} {how}]")
            if fit.theta is None:
                fail(f"cannot score without a prior: {fit.reason}", code=1)
            if not fit.converged:
                typer.echo(
                    "warning: scoring with the best estimate found, which is not a trusted fit", err=True
                )
            prior = fit.theta
            meta.update(
                theta=prior.as_text(),
                neg_log_lik=repr(fit.nll),
                converged=str(fit.converged),
                fit_reason=fit.reason,
            )
        else:
            meta.update(theta=prior.as_text())
        clock["fitted"] = time.perf_counter()
        table = score(counts, prior, mode=mode, ema_min_count=ema_min_count, cells=cells)
        for name, p in presets(ema_min_count).items():
            typer.echo(f"  {name:8s} {int(table[f'signal_{name}'].sum()):>8d} signals  ({p.rule})")
        if out is not None:
            _write_atomic(table, out, meta, FIRST_COLUMNS)
            typer.echo(f"wrote {len(table)} rows to {out}")
        done = time.perf_counter()
        counted = clock.get("counted", clock["start"])
        fitted = clock.get("fitted", counted)
        typer.echo(
            f"time: counting {counted - clock['start']:.1f} s, fit {fitted - counted:.1f} s, "
            f"scoring and output {done - fitted:.1f} s"
        )
        shown = table.sort_values(["QUANT_05", "N"], ascending=False).head(top)
        if drug is not None or out is None:
            _print_table(
                shown, ["drug", "event", "N", "E", "PRR", "ROR025", "IC025", "EBGM", "QUANT_05", "QUANT_95"]
            )

    @app.command("signals-synth")
    def signals_synth(
        outdir: Annotated[Path, typer.Argument(help="Folder to write the quarterly extracts to")],
        reports: Annotated[int, typer.Option(help="Number of cases")] = 100_000,
        seed: Annotated[int, typer.Option()] = 7,
        zipped: Annotated[bool, typer.Option("--zip", help="One zip per quarter")] = False,
    ) -> None:
        """Write a synthetic FAERS extract (three layouts, planted signals, superseded and deleted cases)."""
        from repigment.signals.synthetic import generate

        if reports < 1:
            fail("--reports must be at least 1")
        t = generate(outdir, reports, seed=seed, zipped=zipped)
        typer.echo(
            f"wrote {len(t.quarters)} quarters to {outdir}: {t.reports} final cases, "
            f"{t.superseded_cases} with a superseded version, {t.deleted_cases} deleted"
        )
