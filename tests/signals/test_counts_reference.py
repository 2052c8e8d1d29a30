"""Every field of :class:`Counts` against a plain pandas computation, on random long tables.

The fast paths (packed keys, halves counted in two threads, report ids as offsets or codes, rows in
report order or shuffled) must agree exactly with drop_duplicates / groupby, including every bit of E.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from repigment.signals import count_long
from repigment.signals import counts as counts_mod


def _table(seed: int, *, rows: int, grouped: bool, text_ids: bool, strata: bool) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n_reports = rows // 5
    rep = np.sort(rng.integers(0, n_reports, rows)) * 3 + 11  # gaps between ids
    drug = rng.zipf(1.6, rows) % 300
    event = rng.zipf(1.4, rows) % 120
    df = pd.DataFrame(
        {
            "id": rep,
            "drug": [f"D{d:03d}" for d in drug],
            "event": [f"E {e:03d}" for e in event],
        }
    )
    dup = rng.random(rows) < 0.05  # repeated (report, drug, event) rows
    df = pd.concat([df, df[dup]], ignore_index=True)
    if strata:
        # a stratum is a property of the report
        sex = np.array(["F", "M", "UNK"])[df["id"].to_numpy() % 3]
        age = np.array(["0-17", "18-64", "65+"])[(df["id"].to_numpy() // 7) % 3]
        df = df.assign(sex=sex, age=age)
    if not grouped:
        df = df.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    else:
        df = df.sort_values("id", kind="stable").reset_index(drop=True)
    if text_ids:
        df["id"] = "R" + df["id"].astype(str)
    return df


def _reference(df: pd.DataFrame, semantics: str, strata: list[str]) -> dict[str, object]:
    drugs = np.array(sorted(df["drug"].unique()), dtype=object)
    events = np.array(sorted(df["event"].unique()), dtype=object)
    dpos = {v: i for i, v in enumerate(drugs)}
    epos = {v: i for i, v in enumerate(events)}
    if semantics == "unique":
        base = df.drop_duplicates(["id", "drug", "event"])
        nd = df.drop_duplicates(["id", "drug"]).groupby("drug").size()
        ne = df.drop_duplicates(["id", "event"]).groupby("event").size()
        nt = df["id"].nunique()
    else:
        base = df
        nd = df.groupby("drug").size()
        ne = df.groupby("event").size()
        nt = len(df)
    cells = base.groupby(["drug", "event"]).size().sort_index()
    d = np.array([dpos[k] for k, _ in cells.index], dtype=np.int64)
    e = np.array([epos[k] for _, k in cells.index], dtype=np.int64)
    nd_a = nd.reindex(drugs).to_numpy(np.int64)
    ne_a = ne.reindex(events).to_numpy(np.int64)
    if strata:
        key = df[strata[0]].astype(str)
        for c in strata[1:]:
            key = key + "\x1f" + df[c].astype(str)
        df = df.assign(_s=key)
        expected = np.zeros(len(cells))
        for s in sorted(df["_s"].unique()):  # strata summed in sorted order, as documented
            part = df[df["_s"] == s]
            if semantics == "unique":
                t_s = part["id"].nunique()
                nd_s = part.drop_duplicates(["id", "drug"]).groupby("drug").size()
                ne_s = part.drop_duplicates(["id", "event"]).groupby("event").size()
            else:
                t_s = len(part)
                nd_s = part.groupby("drug").size()
                ne_s = part.groupby("event").size()
            a = nd_s.reindex(drugs, fill_value=0).to_numpy(np.float64)[d]
            b = ne_s.reindex(events, fill_value=0).to_numpy(np.float64)[e]
            expected += (a / float(t_s)) * b
        n_strata = int(df["_s"].nunique())
    else:
        expected = (nd_a[d] / float(nt)) * ne_a[e]
        n_strata = 1
    return {
        "drugs": drugs,
        "events": events,
        "drug_code": d,
        "event_code": e,
        "n": cells.to_numpy(np.int64),
        "e": expected,
        "n_drug": nd_a[d],
        "n_event": ne_a[e],
        "n_total": nt,
        "n_strata": n_strata,
    }


@pytest.mark.parametrize("semantics", ["unique", "pairs"])
@pytest.mark.parametrize(
    ("grouped", "text_ids", "strata"),
    [
        (True, False, False),
        (False, False, False),
        (True, True, False),
        (True, False, True),
        (False, True, True),
    ],
)
@pytest.mark.parametrize("split", [True, False])
def test_counts_equal_plain_pandas(
    monkeypatch: pytest.MonkeyPatch, semantics: str, grouped: bool, text_ids: bool, strata: bool, split: bool
) -> None:
    monkeypatch.setattr(counts_mod, "SPLIT_MIN_ROWS", 0 if split else 10**9)
    df = _table(
        7 + grouped + 2 * text_ids + 4 * strata, rows=6_000, grouped=grouped, text_ids=text_ids, strata=strata
    )
    cols = ["sex", "age"] if strata else []
    got = count_long(df, strata=cols, semantics=semantics)
    want = _reference(df, semantics, cols)
    for name, value in want.items():
        have = getattr(got, name)
        if isinstance(value, np.ndarray):
            assert have.dtype == value.dtype, name
            assert np.array_equal(have, value), name  # exact, E included (bit for bit)
        else:
            assert have == value, name
    assert got.strata == tuple(cols) and got.semantics == semantics


def test_reports_split_only_where_they_do_not_straddle(monkeypatch: pytest.MonkeyPatch) -> None:
    """Halves are cut at a report boundary; interleaved reports are counted in one piece."""
    monkeypatch.setattr(counts_mod, "SPLIT_MIN_ROWS", 0)
    ids = np.array([5, 5, 6, 6, 6, 7, 7, 8], dtype=np.int64)
    assert counts_mod._report_halves(ids, 9) == [slice(0, 5), slice(5, 8)]
    mixed = np.array([5, 6, 5, 6, 5, 6], dtype=np.int64)
    assert counts_mod._report_halves(mixed, 7) == [slice(0, 6)]
    same = np.full(6, 3, dtype=np.int64)
    assert counts_mod._report_halves(same, 4) == [slice(0, 6)]


def test_wide_code_spaces_count_like_plain_pandas() -> None:
    """Over 2^31 possible drug-event cells: the general packed-key path, checked like the others."""
    rng = np.random.default_rng(3)
    rows = 80_000
    df = pd.DataFrame(
        {
            "id": np.sort(rng.integers(0, rows // 4, rows)),
            "drug": [f"D{i:05d}" for i in rng.permutation(rows) % 70_000],  # > 2^16 drugs
            "event": [f"E{i:05d}" for i in rng.permutation(rows) % 40_000],  # > 2^15 events
        }
    )
    df = pd.concat([df, df.iloc[:500]], ignore_index=True)  # repeated rows
    got = count_long(df, strata=[])
    assert (got.drugs.size - 1).bit_length() + (got.events.size - 1).bit_length() > 31
    want = _reference(df, "unique", [])
    for name, value in want.items():
        have = getattr(got, name)
        if isinstance(value, np.ndarray):
            assert have.dtype == value.dtype and np.array_equal(have, value), name
        else:
            assert have == value, name
