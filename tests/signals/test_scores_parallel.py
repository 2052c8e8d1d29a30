"""Scoring in a thread pool: the table does not depend on how the cells are cut into tasks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from repigment.signals import Counts, Theta, count_long, ebgm_scores, quantile_openebgm, score
from repigment.signals import scores as scores_mod


@pytest.fixture(scope="module")
def cells(caers: Path) -> Counts:
    return count_long(caers, strata=[])


def _bits_equal(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert list(a.columns) == list(b.columns)
    for col in a.columns:
        x, y = a[col].to_numpy(), b[col].to_numpy()
        if x.dtype == np.float64:
            assert np.array_equal(x.view(np.int64), y.view(np.int64)), col  # every bit, NaN included
        else:
            assert np.array_equal(x, y), col


@pytest.mark.parametrize("mode", ["openebgm", "exact"])
def test_chunked_quantiles_equal_one_piece(
    cells: Counts, test_theta: Theta, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scores_mod, "QUANTILE_CHUNK", 10**9)
    whole = score(cells, test_theta, mode=mode)
    monkeypatch.setattr(scores_mod, "QUANTILE_CHUNK", 997)  # many uneven tasks
    cut = score(cells, test_theta, mode=mode)
    _bits_equal(whole, cut)
    monkeypatch.setattr(scores_mod, "SCORE_THREADS", 1)  # one worker: tasks run in queue order
    _bits_equal(whole, score(cells, test_theta, mode=mode))


def test_compat_quantiles_in_the_table_equal_the_literal_bisection(cells: Counts, test_theta: Theta) -> None:
    t = score(cells, test_theta, mode="openebgm")
    n, e = cells.n.astype(float), cells.e
    post = ebgm_scores(test_theta, n, e, mode="openebgm")
    for p, col in ((0.05, "QUANT_05"), (0.95, "QUANT_95")):
        literal = quantile_openebgm(test_theta, n, e, post["Qn"], p, literal=True)
        assert np.array_equal(t[col].to_numpy(), literal), col
        assert np.array_equal(post[col], literal), col


@pytest.mark.parametrize("mode", ["openebgm", "exact"])
def test_no_cells_score_to_an_empty_table(cells: Counts, test_theta: Theta, mode: str) -> None:
    t = score(cells, test_theta, mode=mode, cells=np.zeros(len(cells), dtype=bool))
    assert len(t) == 0 and "QUANT_05" in t.columns and "QUANT_95" in t.columns
