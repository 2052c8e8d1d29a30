"""Adding a quarter to a saved history equals a full recount; a planted signal starts when planted."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from repigment.signals import SignalsError
from repigment.signals import synthetic as syn
from repigment.signals.history import onsets
from repigment.signals.history_run import (
    HistorySettings,
    LocalRunner,
    ThreadRunner,
    build_history,
    default_runner,
    load_state,
    open_history,
    update_history,
)

THETA = "0.2,0.1,2.0,4.0,0.3333333333333333"
LATE = syn.Planted("DRUG000004", "EVENT 00040", 0.4, 4, start="2014Q3")


@pytest.fixture(scope="module")
def zips(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("faers-zips")
    syn.generate(root, 10_000, seed=5, zipped=True, planted=(*syn.PLANTED, LATE))
    return sorted(root.glob("*.zip"))


def assert_same_history(a: Path, b: Path) -> None:
    ta = open_history(a).to_table().to_pandas()
    tb = open_history(b).to_table().to_pandas()
    assert list(ta.columns) == list(tb.columns) and len(ta) == len(tb) > 0
    for col in ta.columns:
        x, y = ta[col].to_numpy(), tb[col].to_numpy()
        if x.dtype.kind == "f":
            assert np.array_equal(x.view(np.int64), y.view(np.int64)), col
        else:
            assert np.array_equal(x, y), col


@pytest.mark.parametrize(
    "settings",
    [
        HistorySettings(strata=()),  # the prior refitted every quarter
        HistorySettings(policy="fixed", theta=THETA),  # strata sex, age group, year
        HistorySettings(strata=("sex",), policy="yearly", since="2013Q1"),
    ],
    ids=["quarterly", "fixed-stratified", "yearly-since"],
)
def test_adding_a_quarter_equals_a_full_recount(
    zips: list[Path], tmp_path: Path, settings: HistorySettings
) -> None:
    full = build_history(zips, tmp_path / "full.parquet", settings)
    part = build_history(zips[:-1], tmp_path / "inc.parquet", settings)
    # Only the new quarter's zip: the earlier quarters' counts come from the saved state. The new quarter
    # carries second versions of cases first published in the quarter before, and the Deleted list.
    upd = update_history(tmp_path / "inc.parquet", [zips[-1]])
    assert upd.quarters == upd.scored == ["2016Q4"]
    assert upd.summaries[0].new_versions > 0 and upd.summaries[0].deleted > 0
    assert part.scored + upd.scored == full.scored
    assert [p.as_dict() for p in part.priors + upd.priors] == [p.as_dict() for p in full.priors]
    assert_same_history(tmp_path / "full.parquet", tmp_path / "inc.parquet")
    sa, _, pa_ = load_state(tmp_path / "full.parquet")
    sb, _, pb = load_state(tmp_path / "inc.parquet")
    assert sa.labels == sb.labels and sa.nt == sb.nt and pa_ == pb
    for x, y in ((sa.cells, sb.cells), (sa.st_drug, sb.st_drug), (sa.st_event, sb.st_event)):
        kx, nx = x.positive()
        ky, ny = y.positive()
        assert np.array_equal(kx, ky) and np.array_equal(nx, ny)
    assert np.array_equal(sa.case_ids, sb.case_ids) and np.array_equal(sa.deleted_ids, sb.deleted_ids)


def test_an_old_quarter_is_refused(zips: list[Path], tmp_path: Path) -> None:
    build_history(zips[:3], tmp_path / "h.parquet", HistorySettings(strata=(), policy="fixed", theta=THETA))
    with pytest.raises(SignalsError, match="already runs to 2013Q1; these quarters are not new: 2012Q3"):
        update_history(tmp_path / "h.parquet", [zips[1]])


def test_a_planted_signal_appears_at_its_quarter_and_not_before(zips: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "h.parquet"
    build_history(zips, out, HistorySettings(strata=(), policy="fixed", theta=THETA))
    rows = open_history(out).to_table().to_pandas()
    pair = rows[(rows["drug"] == LATE.drug) & (rows["event"] == LATE.event)]
    flags = ["signal_eb05", "signal_evans", "signal_who_umc", "signal_ema", "signal_mhra"]
    assert not pair.loc[pair["quarter"] < "2014Q3", flags].to_numpy().any()  # (here: not even reported)
    assert pair.set_index("quarter").loc["2014Q3", "signal_eb05"]
    on = onsets(open_history(out)).set_index(["drug", "event"]).loc[(LATE.drug, LATE.event)]
    for preset in ("eb05", "evans", "who_umc", "ema"):
        assert on[f"onset_{preset}"] == "2014Q3", preset
    # A pair planted in every quarter is reported from the first and signals early.
    always = syn.PLANTED[3]
    first = onsets(open_history(out)).set_index(["drug", "event"]).loc[(always.drug, always.event)]
    assert first["first_quarter"] == "2012Q2" and first["onset_eb05"] < "2014Q3"


@pytest.mark.parametrize("policy", ["quarterly", "yearly"])
def test_threads_give_the_history_of_one_task_at_a_time(
    zips: list[Path], tmp_path: Path, policy: str
) -> None:
    """The default runner reads and scores quarters on threads; the parts equal those made in order."""
    settings = HistorySettings(policy=policy)
    threads = ThreadRunner(threads=2, ahead=1)
    try:
        a = build_history(zips, tmp_path / "threads.parquet", settings, runner=threads)
    finally:
        threads.close()
    b = build_history(zips, tmp_path / "in-order.parquet", settings, runner=LocalRunner())
    assert [p.as_dict() for p in a.priors] == [p.as_dict() for p in b.priors] and a.rows == b.rows
    assert_same_history(tmp_path / "threads.parquet", tmp_path / "in-order.parquet")
    runner = default_runner()
    runner.close()
    assert isinstance(runner, ThreadRunner)
