"""The history on a local 2-worker Dask cluster equals the single-machine history, bit for bit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from repigment.signals import synthetic as syn
from repigment.signals.cluster import DaskRunner
from repigment.signals.history_run import HistorySettings, build_history, open_history, update_history

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0", silence_logs=40
    ) as c:
        yield str(c.scheduler_address)


def rows(path: Path) -> dict[str, np.ndarray]:
    t = open_history(path).to_table()
    return {c: t[c].to_numpy(zero_copy_only=False) for c in t.column_names}


def test_cluster_history_equals_single_machine(cluster: str, tmp_path: Path) -> None:
    root = tmp_path / "faers"
    syn.generate(root, 8_000, seed=11, zipped=True)
    zips = sorted(root.glob("*.zip"))
    settings = HistorySettings(strata=("sex", "age_group"), policy="yearly")
    local = build_history(zips, tmp_path / "local.parquet", settings)
    runner = DaskRunner(cluster)
    try:
        assert runner.workers == 2
        remote = build_history(zips[:-1], tmp_path / "remote.parquet", settings, runner=runner)
        remote_upd = update_history(tmp_path / "remote.parquet", zips[-1:], runner=runner)
    finally:
        runner.close()
    assert remote.scored + remote_upd.scored == local.scored
    assert [p.as_dict() for p in remote.priors + remote_upd.priors] == [p.as_dict() for p in local.priors]
    a, b = rows(tmp_path / "local.parquet"), rows(tmp_path / "remote.parquet")
    assert a.keys() == b.keys() and len(a["N"]) > 0
    for col in a:
        if a[col].dtype.kind == "f":
            assert np.array_equal(a[col].view(np.int64), b[col].view(np.int64)), col
        else:
            assert np.array_equal(a[col], b[col]), col
