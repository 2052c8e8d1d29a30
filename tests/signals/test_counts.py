"""Counting: openEBGM's 10-report vectors, the caers totals, pair semantics, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from repigment.signals import SignalsError, count_long, prr, r_round, relative_reporting_ratio

TEN = pd.DataFrame(
    {
        "id": range(1, 11),
        "var1": list("ABBBCAABBC"),
        "var2": ["e1", "e2", "e2", "e3", "e3", "e2", "e3", "e3", "e3", "e1"],
        "strat1": list("MMMMMFFFMM"),
        "strat2": ["a1", "a1", "a1", "a1", "a1", "a1", "a1", "a1", "a2", "a2"],
    }
)


def _rr_prr(c):  # type: ignore[no-untyped-def]
    n = c.n.astype(float)
    return (
        relative_reporting_ratio(n, c.e),
        prr(n, c.n_drug.astype(float), c.n_event.astype(float), float(c.n_total)),
    )


def test_openebgm_counts_unstratified() -> None:
    c = count_long(TEN, strata=[], zeroes=True)
    assert [(c.drugs[d], c.events[e]) for d, e in zip(c.drug_code, c.event_code, strict=True)] == [
        (d, e) for d in "ABC" for e in ("e1", "e2", "e3")
    ]
    assert c.n.tolist() == [1, 1, 1, 0, 2, 3, 1, 0, 1]
    assert np.allclose(c.e, [0.6, 0.9, 1.5, 1, 1.5, 2.5, 0.4, 0.6, 1], rtol=0, atol=1e-12)
    rr, p = _rr_prr(c)
    assert r_round(rr, 4).tolist() == [1.6667, 1.1111, 0.6667, 0, 1.3333, 1.2, 2.5, 0, 1]
    assert r_round(p, 4).tolist() == [2.3333, 1.1667, 0.5833, 0, 2, 1.5, 4, 0, 1]


def test_openebgm_counts_stratified() -> None:
    c = count_long(TEN, zeroes=True)  # strat1 and strat2 picked up by name
    assert c.strata == ("strat1", "strat2") and c.n_strata == 3
    want = [0.2, 0.4 + 2 / 3, 0.4 + 4 / 3, 1.1, 1.2 + 1 / 3, 1.7 + 2 / 3, 0.7, 0.4, 0.9]
    assert np.allclose(c.e, want, rtol=0, atol=1e-12)
    rr, p = _rr_prr(c)
    assert r_round(rr, 4).tolist() == [5, 0.9375, 0.5769, 0, 1.3043, 1.2676, 1.4286, 0, 1.1111]
    assert r_round(p, 4).tolist() == [2.3333, 1.1667, 0.5833, 0, 2, 1.5, 4, 0, 1]  # PRR ignores strata


def test_plain_names_need_strata_option() -> None:
    plain = TEN.rename(columns={"var1": "drug", "var2": "event"})
    assert count_long(plain).strata == ()
    c = count_long(plain, strata=["strat1", "strat2"], zeroes=True)
    assert np.allclose(c.e[:3], [0.2, 0.4 + 2 / 3, 0.4 + 4 / 3])


def test_caers_totals_to_the_last_bit(caers: Path) -> None:
    c = count_long(caers, strata=[])
    assert len(c) == 17_189
    assert int(c.n.sum()) == 19_917
    assert c.sum_e() == 2086.5044696066748
    assert c.n_total == 3356  # unique report ids


def test_caers_expected_counts_match_base_r(caers: Path, run_r) -> None:  # type: ignore[no-untyped-def]
    # Independent computation in R: unique ids per drug, event and overall, E = (nd / nt) * ne, sum().
    script = f"""
    d <- read.csv('{caers}', stringsAsFactors = FALSE)
    u <- unique(d[, c('id', 'var1', 'var2')])
    nd <- tapply(d$id, d$var1, function(x) length(unique(x)))
    ne <- tapply(d$id, d$var2, function(x) length(unique(x)))
    nt <- length(unique(d$id))
    cells <- unique(u[, c('var1', 'var2')])
    E <- (nd[cells$var1] / nt) * ne[cells$var2]
    cat(sprintf('%a', sum(E)), nrow(cells), '\\n')
    """
    out = run_r(script).split()
    c = count_long(caers, strata=[])
    assert float.fromhex(out[0]) == c.sum_e() == 2086.5044696066748
    assert int(out[1]) == len(c)


def test_unique_reports_versus_pairs() -> None:
    # Report 1 lists drug A with e1 twice (e.g. two dosage lines): unique counting counts it once.
    df = pd.DataFrame(
        {"id": [1, 1, 1, 2, 3], "drug": ["A", "A", "B", "A", "B"], "event": ["e1", "e1", "e1", "e2", "e2"]}
    )
    u = count_long(df)
    p = count_long(df, semantics="pairs")
    cell = {
        (u.drugs[d], u.events[e]): k for k, (d, e) in enumerate(zip(u.drug_code, u.event_code, strict=True))
    }
    k = cell[("A", "e1")]
    assert u.n[k] == 1 and p.n[k] == 2
    assert u.n_total == 3 and p.n_total == 5
    assert u.n_drug[k] == 2 and p.n_drug[k] == 3  # A: reports {1, 2}; pairs (A,e1) x2 + (A,e2)
    assert u.n_event[k] == 1 and p.n_event[k] == 3  # e1: report {1}; pairs (A,e1) x2 + (B,e1)
    assert u.e[k] == (2 / 3) * 1 and p.e[k] == (3 / 5) * 3


def test_bad_input_is_named(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(SignalsError, match="empty"):
        count_long(empty)
    header_only = tmp_path / "h.csv"
    header_only.write_text("id,drug,event\n")
    with pytest.raises(SignalsError, match="no data rows"):
        count_long(header_only)
    wrong = tmp_path / "w.csv"
    wrong.write_text("id,product,reaction\n1,A,e1\n")
    with pytest.raises(SignalsError, match="var1 and var2"):
        count_long(wrong)
    with pytest.raises(SignalsError, match="'sex'"):
        count_long(TEN, strata=["sex"])
    missing = TEN.copy()
    missing.loc[3, "var2"] = None
    with pytest.raises(SignalsError, match="'var2' is empty in 1 of 10 rows"):
        count_long(missing)


def test_parquet_input_counts_like_csv(caers: Path, tmp_path: Path) -> None:
    pq_path = tmp_path / "caers.parquet"
    pd.read_csv(caers).to_parquet(pq_path)
    a = count_long(caers)
    b = count_long(pq_path)
    assert a.strata == b.strata == ("strat1",)
    assert np.array_equal(a.n, b.n) and np.array_equal(a.e, b.e)
    assert np.array_equal(a.drugs, b.drugs) and np.array_equal(a.events, b.events)


def test_report_id_coding_does_not_change_counts(caers: Path) -> None:
    """Dense integer ids (offsets), sparse integer ids and text ids (dictionary codes) count alike."""
    df = pd.read_csv(caers)
    base = count_long(df)
    dense = df.assign(id=df["id"] + 7)
    sparse = df.assign(id=df["id"].astype(np.int64) * 1_000_003 + 2**40)
    text = df.assign(id="r" + df["id"].astype(str))
    for other in (dense, sparse, text):
        c = count_long(other)
        assert c.n_total == base.n_total == 3356
        assert np.array_equal(c.n, base.n) and np.array_equal(c.e, base.e)
        assert np.array_equal(c.n_drug, base.n_drug) and np.array_equal(c.n_event, base.n_event)
    for sem in ("unique", "pairs"):
        a, b = count_long(df, semantics=sem), count_long(sparse, semantics=sem)
        assert np.array_equal(a.n, b.n) and np.array_equal(a.e, b.e)


def test_blank_names_are_counted_per_row() -> None:
    bad = TEN.copy()
    bad.loc[[2, 5], "var1"] = "  "
    bad.loc[7, "var1"] = None
    with pytest.raises(SignalsError, match="'var1' is empty in 3 of 10 rows"):
        count_long(bad)


def test_blocked_expected_counts_equal_the_plain_loop_bit_for_bit(monkeypatch: pytest.MonkeyPatch) -> None:
    """E over 150 strata: cache-sized blocks and dense factor matrices add the terms in the same order."""
    from repigment.signals import counts as counts_mod

    rng = np.random.default_rng(5)
    n_strata, n_drugs, n_events, n_cells = 150, 40, 30, 70_000
    totals = rng.integers(50, 5_000, n_strata).astype(np.float64)

    def part(n_codes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        keys = np.unique(rng.integers(0, n_strata * n_codes, n_strata * n_codes // 2))
        return keys // n_codes, keys % n_codes, rng.integers(1, 400, keys.size).astype(np.float64)

    drug_part, event_part = part(n_drugs), part(n_events)
    di = rng.integers(0, n_drugs, n_cells)
    ei = rng.integers(0, n_events, n_cells)
    args = (totals, drug_part, event_part, di, ei, n_drugs, n_events)
    blocked = counts_mod._stratified_expected(*args)
    monkeypatch.setattr(counts_mod, "DENSE_FACTORS_MAX", 0)
    plain = counts_mod._stratified_expected(*args)
    assert np.array_equal(blocked.view(np.int64), plain.view(np.int64))
    # and both equal the sum written out for a few cells, term by term in stratum order
    for k in range(0, n_cells, 7_001):
        e = 0.0
        for s in range(n_strata):
            d = drug_part[2][(drug_part[0] == s) & (drug_part[1] == di[k])]
            v = event_part[2][(event_part[0] == s) & (event_part[1] == ei[k])]
            if d.size and v.size:
                e += (d[0] / totals[s]) * v[0]
        assert blocked[k] == e
