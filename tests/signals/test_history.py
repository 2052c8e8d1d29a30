"""Quarterly history: every quarter's scores equal a one-shot run on the quarters published up to it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from repigment.signals import SignalsError, Theta, score
from repigment.signals import faers as fa
from repigment.signals import synthetic as syn
from repigment.signals.history import (
    HISTORY_COLUMNS,
    HistoryState,
    fit_quarter,
    onsets,
    parse_quarter,
    plan_quarters,
    quarter_name,
    read_quarter,
    score_snapshot,
    whats_new,
)
from repigment.signals.history_run import HistorySettings, build_history, open_history

THETA = Theta(0.2, 0.1, 2.0, 4.0, 1 / 3)


@pytest.fixture(scope="module")
def extract(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("faers-history")
    syn.generate(root, 12_000, seed=3)
    return root


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    if a.dtype.kind == "f":
        return a.shape == b.shape and np.array_equal(a.view(np.int64), b.view(np.int64))
    return np.array_equal(a, b)


def one_shot(folders: list[Path], strata: tuple[str, ...], theta: Theta | None) -> tuple[pd.DataFrame, Theta]:
    counts, _ = fa.ingest(folders, strata=strata)
    th = theta or fit_quarter(counts).theta
    assert th is not None
    t = score(counts, th)
    t = t.assign(drug=t["drug"].astype(str), event=t["event"].astype(str))
    return t.sort_values(["drug", "event"]).reset_index(drop=True), th


@pytest.mark.parametrize("strata", [("sex", "age_group", "year"), ()])
def test_every_quarter_equals_a_one_shot_run_on_the_quarters_up_to_it(
    extract: Path, strata: tuple[str, ...]
) -> None:
    folders = sorted(extract.iterdir())
    state = HistoryState(strata=strata)
    with fa._materialise([extract]) as files:
        plan = plan_quarters(files)
        assert [qf.name for qf in plan] == [
            "2012Q2",
            "2012Q3",
            "2013Q1",
            "2014Q2",
            "2014Q3",
            "2015Q1",
            "2016Q4",
        ]
        assert [len(qf.deleted) for qf in plan] == [
            0,
            0,
            0,
            0,
            0,
            0,
            1,
        ]  # the list comes with the last quarter
        for i, qf in enumerate(plan):
            state.add_quarter(read_quarter(qf, ["PS", "SS"], strata))
            snap = state.snapshot()
            expected, theta = one_shot(folders[: i + 1], strata, THETA)
            if (
                not strata and i == len(plan) - 1
            ):  # the prior fitted on the cumulative counts: the one-shot fit
                fitted = fit_quarter(snap.counts())
                assert fitted.theta is not None
                assert fitted == fit_quarter(fa.ingest(folders, strata=strata)[0])
            got = score_snapshot(snap, theta).to_pandas()
            assert len(got) == len(expected) > 0
            assert (got["quarter"] == qf.name).all()
            for col in [*HISTORY_COLUMNS[1:], "signal_eb05", "signal_evans", "signal_who_umc", "signal_ema"]:
                assert same_bits(got[col].to_numpy(), expected[col].to_numpy()), (qf.name, col)


def test_quarter_names() -> None:
    assert quarter_name("14Q3") == "2014Q3"
    assert quarter_name("99Q1") == "1999Q1"
    assert parse_quarter("2012q4") == parse_quarter("12Q4") == "2012Q4"
    with pytest.raises(SignalsError, match="since: '2012-4' is not a quarter"):
        parse_quarter("2012-4", "since")


def test_history_on_disk_and_whats_new(extract: Path, tmp_path: Path) -> None:
    out = tmp_path / "history.parquet"
    seen: list[str] = []
    r = build_history([extract], out, HistorySettings(strata=()), progress=lambda i, n, q, s: seen.append(q))
    assert seen == r.quarters == r.scored and len(seen) == 7
    assert [p.source for p in r.priors] == ["fitted"] * 7
    table = open_history(out).to_table().to_pandas()
    assert len(table) == r.rows
    assert list(table.columns[: len(HISTORY_COLUMNS)]) == HISTORY_COLUMNS
    assert table.groupby("quarter").size().is_monotonic_increasing  # cumulative: pairs only accumulate here
    meta = pq.read_schema(out / "part-2016Q4.parquet").metadata
    assert b'"source": "fitted"' in meta[b"repigment.prior"]
    # Onsets: the first quarter each preset was met, with N then, read back from the rows.
    on = onsets(open_history(out))
    hit = table[table["signal_eb05"]].sort_values("quarter").drop_duplicates(["drug", "event"])
    merged = on.dropna(subset=["onset_eb05"]).merge(hit, on=["drug", "event"])
    assert len(merged) == len(hit) > 0
    assert (merged["onset_eb05"] == merged["quarter"]).all()
    assert (merged["N_onset_eb05"] == merged["N"]).all()
    # What is new at 2016Q4 against 2015Q1.
    w = whats_new(open_history(out))
    assert (w.latest, w.previous) == ("2016Q4", "2015Q1")
    assert set(w.first_crossed["eb05"]["drug"] + "|" + w.first_crossed["eb05"]["event"]) == set(
        merged.loc[merged["onset_eb05"] == "2016Q4", "drug"]
        + "|"
        + merged.loc[merged["onset_eb05"] == "2016Q4", "event"]
    )
    last = table[table["quarter"] == "2016Q4"].set_index(["drug", "event"])
    before = table[table["quarter"] == "2015Q1"].set_index(["drug", "event"])
    stopped = before.index[before["signal_who_umc"]].difference(last.index[last["signal_who_umc"]])
    assert len(w.stopped["who_umc"]) == len(stopped)
    rise = (last["QUANT_05"] - before["QUANT_05"]).dropna().sort_values(ascending=False)
    assert w.eb05_rises["rise"].iloc[0] == rise.iloc[0]
    assert "# What is new in 2016Q4 (against 2015Q1)" in w.markdown()


def test_the_fit_on_one_blas_thread_is_the_fit_on_several(extract: Path) -> None:
    """fit_quarter limits BLAS to one thread (speed); the estimate is the same bit for bit."""
    from threadpoolctl import threadpool_limits

    from repigment.signals.mgps import SQUASH_ABOVE_POINTS, fit_theta

    counts, _ = fa.ingest([extract], strata=())
    with threadpool_limits(limits=2, user_api="blas"):
        several = fit_theta(counts.n, counts.e, max_points=SQUASH_ABOVE_POINTS)
    one = fit_quarter(counts)
    assert one.theta is not None and one == several
