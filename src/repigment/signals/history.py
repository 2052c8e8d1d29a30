"""The quarterly history of every drug-event pair: cumulative counts quarter by quarter, and their scores.

For every quarter q the database is what FAERS has published up to q: per case id the latest version
among the DEMO rows of quarters <= q (latest fda_dt, then highest primaryid, as in the one-shot
reading), without the cases on the Deleted lists of quarters <= q (a deletion is permanent). A version's
drugs and reactions are the DRUG and REAC rows of its primaryid in the same quarter's files (FAERS
publishes each quarter's report complete).

The counts are kept as integers and updated quarter by quarter: a case's new version adds its drug x
reaction cells and margins and subtracts those of the version it supersedes; a deletion subtracts. So
the counts at q equal a recount of everything published up to q, bit for bit, and so do E and every
score computed from them (the same :func:`~repigment.signals.counts._assemble` and
:func:`~repigment.signals.scores.score` as the one-shot path).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from repigment.signals import faers as fa
from repigment.signals.counts import Counts, Semantics, _assemble, _Raw
from repigment.signals.errors import SignalsError
from repigment.signals.mgps import SQUASH_ABOVE_POINTS, FitResult, Theta, fit_theta
from repigment.signals.scores import Mode, measure_arrays
from repigment.signals.screening import EMA_MIN_COUNT, presets
from repigment.signals.threads import one_blas_thread

IntArray = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]

CODE_BITS = 32  # cell and stratum-margin keys: (first code << 32) | second code
LOW = (1 << CODE_BITS) - 1
HISTORY_COLUMNS = [
    "quarter",
    "drug",
    "event",
    "N",
    "E",
    "n_drug",
    "n_event",
    "PRR",
    "chi2_yates",
    "ROR",
    "ROR025",
    "IC",
    "IC025",
    "EBGM",
    "QUANT_05",
    "QUANT_95",
]
HISTORY_MEASURES = tuple(HISTORY_COLUMNS[7:])
TEXT_COLUMNS = ("quarter", "drug", "event")
ONSET_PRESETS = ("eb05", "evans", "who_umc", "ema", "mhra")

_QUARTER_RE = re.compile(r"^\s*(\d{2}|\d{4})\s*Q([1-4])\s*$", re.IGNORECASE)
_LABEL_IN_NAME = re.compile(r"(?<!\d)(?:19|20)?(\d\d)\s*Q([1-4])(?!\d)", re.IGNORECASE)


def quarter_name(label: str) -> str:
    """A FAERS file label (14Q3) as a quarter name (2014Q3); two-digit years from 60 on are 19xx."""
    yy, q = int(label[:2]), label[-1]
    return f"{1900 + yy if yy >= 60 else 2000 + yy}Q{q}"


def parse_quarter(text: str, where: str = "quarter") -> str:
    """2012Q4, 2012q4 or 12Q4 as the quarter name 2012Q4."""
    m = _QUARTER_RE.match(text)
    if not m:
        raise SignalsError(where, f"{text!r} is not a quarter (write it as 2012Q4)")
    y = m.group(1)
    return quarter_name(f"{y[-2:]}Q{m.group(2)}") if len(y) == 2 else f"{y}Q{m.group(2)}"


def deleted_quarter(path: Path, labels: Sequence[str]) -> str:
    """The quarter whose Deleted list a file is: a quarter in its name, else in its folders' names."""
    for part in (path.name, *reversed(path.parent.parts)):
        m = _LABEL_IN_NAME.search(part)
        if m and f"{m.group(1)}Q{m.group(2)}" in labels:
            return f"{m.group(1)}Q{m.group(2)}"
    raise SignalsError(
        str(path),
        "cannot tell which quarter this Deleted list belongs to (no quarter such as 14Q3 in its path)",
    )


# --- one quarter's files --------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuarterFiles:
    """One quarter's DEMO/DRUG/REAC files (layout checked) and the Deleted lists published with it."""

    label: str
    quarter: fa.Quarter
    deleted: tuple[Path, ...] = ()

    @property
    def name(self) -> str:
        return quarter_name(self.label)


def plan_quarters(files: Sequence[Path]) -> list[QuarterFiles]:
    """Quarters in time order, each with its Deleted lists (the one-shot reader's layout checks)."""
    quarters, deleted = fa.discover(files)
    labels = [q.label for q in quarters]
    by_label: dict[str, list[Path]] = {label: [] for label in labels}
    for f in deleted:
        by_label[deleted_quarter(f, labels)].append(f)
    return [QuarterFiles(q.label, q, tuple(by_label[q.label])) for q in quarters]


@dataclass(frozen=True)
class QuarterRows:
    """What one quarter adds: per case its latest version there, that version's drugs and reactions.

    Names and strata are sorted text with integer codes; ``drug_ix``/``event_ix`` index the cases.
    Built where the files are read (a worker on a cluster); plain arrays, so it travels by pickle.
    """

    label: str
    caseid: IntArray  # sorted, distinct
    k: IntArray  # version key (fda_dt * 1e11 + primaryid)
    stratum: I32
    stratum_names: tuple[str, ...]
    drug_ix: I32
    drug_code: I32
    drug_names: tuple[str, ...]
    event_ix: I32
    event_code: I32
    event_names: tuple[str, ...]
    deleted: IntArray  # case ids on this quarter's Deleted lists
    demo_rows: int


def read_quarter(
    qf: QuarterFiles,
    roles: Sequence[str],
    strata: Sequence[str],
    edges: tuple[float, ...] = fa.AGE_GROUP_EDGES,
    memory_limit: str | None = None,
    threads: int | None = None,
) -> QuarterRows:
    """Parse one quarter (DuckDB): the latest version of each case in it, and its distinct names."""
    config: dict[str, Any] = {"preserve_insertion_order": False}
    if memory_limit is not None:
        config["memory_limit"] = memory_limit
    if threads is not None:
        config["threads"] = threads
    db = duckdb.connect(config=config)
    try:
        return _read_quarter(db, qf, list(roles), tuple(strata), edges)
    except duckdb.Error as ex:
        raise (
            fa._id_error(ex, [qf.quarter]) or SignalsError("FAERS input", str(ex).splitlines()[0])
        ) from None
    finally:
        db.close()


def _sorted_pairs(got: pa.Table) -> tuple[I32, I32, tuple[str, ...]]:
    """Distinct (case index, name) pairs with names coded in sorted order."""
    if got.num_rows == 0:
        return np.empty(0, np.int32), np.empty(0, np.int32), ()
    ix, code, names = fa._distinct_pairs(got)
    rank, sorted_names = fa._sorted_names(code, names)
    return ix, rank.astype(np.int32), tuple(str(s) for s in sorted_names)


def _read_quarter(
    db: duckdb.DuckDBPyConnection,
    qf: QuarterFiles,
    roles: list[str],
    strata: tuple[str, ...],
    edges: tuple[float, ...],
) -> QuarterRows:
    q = [qf.quarter]
    demo = fa._union(q, "DEMO", fa.DEMO_SELECT)
    db.execute(f"""CREATE TEMP TABLE latest AS SELECT caseid, max(k) AS k,
                    arg_max({{'sex': sex, 'age': age, 'age_cod': age_cod,
                             'rdate': COALESCE(NULLIF(trim(init_dt), ''), fda_dt)}}, k) AS f,
                    count(*) AS n_rows, count_if(primaryid IS NULL OR caseid IS NULL) AS n_bad
                  FROM (SELECT *, {fa.VERSION_KEY} AS k FROM ({demo})) GROUP BY caseid""")
    if fa._scalar(db, "SELECT COALESCE(sum(n_bad), 0) FROM latest"):
        bad = db.execute(
            f"SELECT filename, count(*) FROM ({demo}) WHERE primaryid IS NULL OR caseid IS NULL "
            "GROUP BY filename LIMIT 1"
        ).fetchone()
        assert bad is not None
        raise SignalsError(str(bad[0]), f"{bad[1]} rows have a missing or non-numeric report/case id")
    demo_rows = fa._scalar(db, "SELECT COALESCE(sum(n_rows), 0) FROM latest")
    age_group = fa._age_group_sql(edges)
    strat_expr = "concat_ws('|', " + ", ".join(strata) + ")" if strata else "''"
    # Cases in id order, so that everything downstream is deterministic (DuckDB works in parallel).
    db.execute(f"""CREATE TEMP TABLE rep AS
        SELECT caseid, k, k % {fa.VERSION_ID_MOD} AS id,
               (row_number() OVER (ORDER BY caseid) - 1)::INTEGER AS ix, {strat_expr} AS stratum FROM (
        SELECT caseid, k,
               CASE upper(trim(sex)) WHEN 'M' THEN 'M' WHEN 'F' THEN 'F' ELSE 'UNK' END AS sex,
               {age_group} AS age_group,
               COALESCE(substr(rdate, 1, 4), 'UNK') AS year
        FROM (SELECT caseid, k, f.sex AS sex, f.age AS age, f.age_cod AS age_cod, f.rdate AS rdate
              FROM latest))""")
    reps = db.sql("SELECT caseid, k, stratum FROM rep ORDER BY ix").to_arrow_table()
    caseid = (
        np.asarray(reps["caseid"].combine_chunks(), dtype=np.int64)
        if reps.num_rows
        else np.empty(0, np.int64)
    )
    k = np.asarray(reps["k"].combine_chunks(), dtype=np.int64) if reps.num_rows else np.empty(0, np.int64)
    if reps.num_rows:
        s_enc = pc.dictionary_encode(reps["stratum"].combine_chunks())
        s_rank, s_names = fa._sorted_names(np.asarray(s_enc.indices, dtype=np.int64), s_enc.dictionary)
        stratum = s_rank.astype(np.int32)
        stratum_names = tuple(str(s) for s in s_names)
    else:
        stratum, stratum_names = np.empty(0, np.int32), ()
    role_in = ", ".join(f"'{r}'" for r in roles)
    out: dict[str, tuple[I32, I32, tuple[str, ...]]] = {}
    for kind, sel, cond in (
        ("DRUG", fa.DRUG_SELECT, f"u.role_cod IN ({role_in})"),
        ("REAC", fa.REAC_SELECT, "true"),
    ):
        col = "name" if kind == "DRUG" else "pt"
        got = db.sql(f"""SELECT r.ix, upper(trim(u.{col})) AS name
            FROM ({fa._union(q, kind, sel)}) u JOIN rep r ON u.id = r.id
            WHERE {cond} AND trim(u.{col}) <> ''""").to_arrow_table()
        out[kind] = _sorted_pairs(got)
    dels = [fa._read_deleted(f) for f in qf.deleted]
    deleted = np.unique(np.concatenate(dels)) if dels else np.empty(0, np.int64)
    return QuarterRows(
        qf.label,
        caseid,
        k,
        stratum,
        stratum_names,
        *out["DRUG"],
        *out["REAC"],
        deleted.astype(np.int64),
        int(demo_rows),
    )


# --- integer counts kept up to date -------------------------------------------------------------------


class SparseCounts:
    """Counts under sorted int64 keys; adding inserts new keys in place (one copy, no re-sort)."""

    def __init__(self, keys: IntArray | None = None, counts: IntArray | None = None) -> None:
        self.keys = np.empty(0, np.int64) if keys is None else np.asarray(keys, np.int64)
        self.counts = np.empty(0, np.int64) if counts is None else np.asarray(counts, np.int64)

    def add(self, keys: IntArray, counts: IntArray) -> None:
        """Add counts under sorted distinct keys (negative counts subtract)."""
        if keys.size == 0:
            return
        pos = np.searchsorted(self.keys, keys)
        hit = pos < self.keys.size
        hit[hit] = self.keys[pos[hit]] == keys[hit]
        self.counts[pos[hit]] += counts[hit]
        new = ~hit
        if new.any():
            self.keys = np.insert(self.keys, pos[new], keys[new])
            self.counts = np.insert(self.counts, pos[new], counts[new])

    def positive(self) -> tuple[IntArray, IntArray]:
        keep = self.counts > 0
        return self.keys[keep], self.counts[keep]


def _key_counts(keys: IntArray) -> tuple[IntArray, IntArray]:
    k, n = np.unique(keys, return_counts=True)
    return k.astype(np.int64), n.astype(np.int64)


def _ranges(off: IntArray, rows: IntArray) -> tuple[IntArray, IntArray]:
    """Positions of the CSR rows ``rows`` (concatenated) and the length of each."""
    lens = off[rows + 1] - off[rows]
    total = int(lens.sum())
    start = np.repeat(off[rows] - (np.cumsum(lens) - lens), lens)
    return start + np.arange(total, dtype=np.int64), lens


@dataclass
class _Block:
    """The versions that became current in one quarter: CSR drug and reaction codes, strata."""

    d_off: IntArray
    d_code: I32
    e_off: IntArray
    e_code: I32
    stratum: I32


CROSS_CHUNK = 1 << 22  # drug x reaction rows expanded at a time


@dataclass
class _Delta:
    cells: tuple[IntArray, IntArray]
    nd: IntArray
    ne: IntArray
    nt: int
    st_total: IntArray
    st_drug: tuple[IntArray, IntArray]
    st_event: tuple[IntArray, IntArray]


def _contribution(
    d_len: IntArray, d_code: IntArray, e_len: IntArray, e_code: IntArray, stratum: IntArray
) -> _Delta:
    """Cells, margins and stratum margins of a set of versions (each with drugs and reactions)."""
    i64 = np.int64
    e_start = np.cumsum(e_len) - e_len
    d_rep = np.repeat(np.arange(d_len.size, dtype=i64), d_len)
    reps = e_len[d_rep]
    found: list[IntArray] = []
    ends = np.cumsum(reps)
    a = 0
    while a < d_rep.size:
        b = max(int(np.searchsorted(ends, (ends[a - 1] if a else 0) + CROSS_CHUNK, side="right")), a + 1)
        m = reps[a:b]
        first = np.cumsum(m) - m
        pos = np.arange(int(m.sum()), dtype=i64) - np.repeat(first - e_start[d_rep[a:b]], m)
        key = np.repeat(d_code[a:b].astype(i64) << CODE_BITS, m)
        key |= e_code[pos]
        found.append(key)
        a = b
    cells = _key_counts(np.concatenate(found)) if found else (np.empty(0, i64), np.empty(0, i64))
    e_rep = np.repeat(np.arange(e_len.size, dtype=i64), e_len)
    st = stratum.astype(i64)
    return _Delta(
        cells,
        np.bincount(d_code, minlength=0).astype(i64),
        np.bincount(e_code, minlength=0).astype(i64),
        int(np.count_nonzero(d_len)),
        np.bincount(st[d_len > 0], minlength=0).astype(i64),
        _key_counts((st[d_rep] << CODE_BITS) | d_code),
        _key_counts((st[e_rep] << CODE_BITS) | e_code),
    )


def _add_dense(arr: IntArray, delta: IntArray, sign: int) -> IntArray:
    if delta.size > arr.size:
        arr = np.concatenate([arr, np.zeros(delta.size - arr.size, np.int64)])
    arr[: delta.size] += sign * delta
    return arr


def _grow(arr: npt.NDArray[Any], n: int, fill: Any) -> npt.NDArray[Any]:
    if n <= arr.size:
        return arr
    more = np.full(max(n, 2 * arr.size) - arr.size, fill, dtype=arr.dtype)
    return np.concatenate([arr, more])


class Names:
    """Names coded in the order they first occur (codes never change as quarters are added)."""

    def __init__(self, names: Sequence[str] = ()) -> None:
        self.names: list[str] = list(names)
        self.index: dict[str, int] = {n: i for i, n in enumerate(self.names)}

    def codes(self, names: Sequence[str]) -> I32:
        out = np.empty(len(names), np.int32)
        for i, n in enumerate(names):
            c = self.index.get(n)
            if c is None:
                c = self.index[n] = len(self.names)
                self.names.append(n)
            out[i] = c
        return out

    def array(self) -> npt.NDArray[np.object_]:
        return np.asarray(self.names, dtype=object)

    def sorted_rank(self) -> IntArray:
        """Each code's position among the names sorted (the one-shot reader's code order)."""
        return _name_rank(self.names)


@dataclass(frozen=True)
class Snapshot:
    """The cumulative counts at one quarter, ready to score (codes in first-occurrence order)."""

    label: str
    raw: _Raw
    drugs: npt.NDArray[np.object_]
    events: npt.NDArray[np.object_]
    strata: tuple[str, ...]

    @property
    def name(self) -> str:
        return quarter_name(self.label)

    def counts(self) -> Counts:
        return _assemble(
            self.drugs, self.events, self.raw, strata=self.strata, semantics=Semantics.UNIQUE, zeroes=False
        )


@dataclass
class QuarterSummary:
    label: str
    demo_rows: int
    new_cases: int
    new_versions: int
    deleted: int
    reports: int  # current reports with a kept drug and a reaction


@dataclass
class HistoryState:
    """Everything needed to add the next quarter: current version of every case, integer counts."""

    strata: tuple[str, ...]
    labels: list[str] = field(default_factory=list)
    drugs: Names = field(default_factory=Names)
    events: Names = field(default_factory=Names)
    strata_names: Names = field(default_factory=Names)
    case_ids: IntArray = field(default_factory=lambda: np.empty(0, np.int64))  # sorted
    case_slot: IntArray = field(default_factory=lambda: np.empty(0, np.int64))
    n_slots: int = 0
    slot_k: IntArray = field(default_factory=lambda: np.empty(0, np.int64))
    slot_block: I32 = field(default_factory=lambda: np.empty(0, np.int32))  # -1: no current content
    slot_local: IntArray = field(default_factory=lambda: np.empty(0, np.int64))
    deleted_ids: IntArray = field(default_factory=lambda: np.empty(0, np.int64))  # sorted
    blocks: list[_Block | None] = field(default_factory=list)
    cells: SparseCounts = field(default_factory=SparseCounts)
    nd: IntArray = field(default_factory=lambda: np.empty(0, np.int64))
    ne: IntArray = field(default_factory=lambda: np.empty(0, np.int64))
    nt: int = 0
    st_total: IntArray = field(default_factory=lambda: np.empty(0, np.int64))
    st_drug: SparseCounts = field(default_factory=SparseCounts)
    st_event: SparseCounts = field(default_factory=SparseCounts)

    # -- versions ------------------------------------------------------------------------------------

    def _gather(self, slots: IntArray) -> tuple[IntArray, IntArray, IntArray, IntArray, IntArray]:
        """The current content of ``slots``: per slot drug and reaction counts, codes, strata."""
        blk = self.slot_block[slots]
        slots = slots[blk >= 0]
        blk = blk[blk >= 0]
        parts: list[tuple[IntArray, IntArray, IntArray, IntArray, IntArray]] = []
        for b in np.unique(blk).tolist():
            block = self.blocks[b]
            assert block is not None
            local = self.slot_local[slots[blk == b]]
            dpos, dl = _ranges(block.d_off, local)
            epos, el = _ranges(block.e_off, local)
            parts.append(
                (
                    dl,
                    block.d_code[dpos].astype(np.int64),
                    el,
                    block.e_code[epos].astype(np.int64),
                    block.stratum[local].astype(np.int64),
                )
            )
        if not parts:
            z = np.empty(0, np.int64)
            return z, z, z, z, z
        return tuple(np.concatenate([p[i] for p in parts]) for i in range(5))  # type: ignore[return-value]

    def _apply(self, content: tuple[IntArray, IntArray, IntArray, IntArray, IntArray], sign: int) -> None:
        if content[0].size == 0:
            return
        d = _contribution(*content)
        self.cells.add(d.cells[0], sign * d.cells[1])
        self.nd = _add_dense(self.nd, d.nd, sign)
        self.ne = _add_dense(self.ne, d.ne, sign)
        self.nt += sign * d.nt
        self.st_total = _add_dense(self.st_total, d.st_total, sign)
        self.st_drug.add(d.st_drug[0], sign * d.st_drug[1])
        self.st_event.add(d.st_event[0], sign * d.st_event[1])

    def add_quarter(self, rows: QuarterRows) -> QuarterSummary:
        """Bring the counts to the end of ``rows``' quarter: new versions replace old ones, deletions go."""
        if self.labels and quarter_name(rows.label) <= quarter_name(self.labels[-1]):
            raise SignalsError(
                f"quarter {quarter_name(rows.label)}",
                f"the history already runs to {quarter_name(self.labels[-1])}; "
                "quarters are added in time order",
            )
        ids, k = rows.caseid, rows.k
        del_now = rows.deleted
        gone = _isin_sorted(self.deleted_ids, ids) | _isin_sorted(del_now, ids)
        pos = np.searchsorted(self.case_ids, ids)
        exists = pos < self.case_ids.size
        exists[exists] = self.case_ids[pos[exists]] == ids[exists]
        slot = np.full(ids.size, -1, np.int64)
        slot[exists] = self.case_slot[pos[exists]]
        newer = exists & ~gone
        newer[newer] = k[newer] > self.slot_k[slot[newer]]
        fresh = ~exists & ~gone
        # Deleted now: cases already current lose their content.
        dpos = np.searchsorted(self.case_ids, del_now)
        dhit = dpos < self.case_ids.size
        dhit[dhit] = self.case_ids[dpos[dhit]] == del_now[dhit]
        del_slots = self.case_slot[dpos[dhit]]
        del_slots = del_slots[self.slot_k[del_slots] >= 0]
        old_slots = np.concatenate([slot[newer], del_slots])
        removed = self._gather(old_slots)
        # The quarter's versions that become current, as a block of content.
        take = newer | fresh
        block = self._block(rows, take)
        b = len(self.blocks)
        self.blocks.append(block)
        local = np.flatnonzero(take)  # block rows are the quarter's cases; only taken ones are used
        n_new = int(np.count_nonzero(fresh))
        new_slots = np.arange(self.n_slots, self.n_slots + n_new, dtype=np.int64)
        self.n_slots += n_new
        self.slot_k = _grow(self.slot_k, self.n_slots, -1)
        self.slot_block = _grow(self.slot_block, self.n_slots, -1)
        self.slot_local = _grow(self.slot_local, self.n_slots, -1)
        if n_new:
            ins = pos[fresh]
            self.case_ids = np.insert(self.case_ids, ins, ids[fresh])
            self.case_slot = np.insert(self.case_slot, ins, new_slots)
        cur = np.empty(ids.size, np.int64)
        cur[newer] = slot[newer]
        cur[fresh] = new_slots
        cur_slots = cur[take]
        self.slot_k[cur_slots] = k[take]
        self.slot_block[cur_slots] = b
        self.slot_local[cur_slots] = local
        self.slot_block[del_slots] = -1
        self.slot_k[del_slots] = -1  # deleted: no later version is taken (the id stays on the list)
        self.deleted_ids = np.union1d(self.deleted_ids, del_now).astype(np.int64)
        self._apply(removed, -1)
        self._apply(self._gather(cur_slots), +1)
        self.labels.append(rows.label)
        return QuarterSummary(
            rows.label, rows.demo_rows, n_new, int(np.count_nonzero(newer)), int(del_slots.size), self.nt
        )

    def _block(self, rows: QuarterRows, take: npt.NDArray[np.bool_]) -> _Block:
        n = rows.caseid.size
        dmap = self.drugs.codes(rows.drug_names)
        emap = self.events.codes(rows.event_names)
        smap = self.strata_names.codes(rows.stratum_names)
        has_d = np.bincount(rows.drug_ix, minlength=n) > 0
        has_e = np.bincount(rows.event_ix, minlength=n) > 0
        ok = take & has_d & has_e  # a version without a kept drug or a reaction counts nowhere
        dk = ok[rows.drug_ix]
        ek = ok[rows.event_ix]
        d_ix, e_ix = rows.drug_ix[dk], rows.event_ix[ek]
        return _Block(
            np.r_[0, np.cumsum(np.bincount(d_ix, minlength=n))].astype(np.int64),
            dmap[rows.drug_code[dk]] if d_ix.size else np.empty(0, np.int32),
            np.r_[0, np.cumsum(np.bincount(e_ix, minlength=n))].astype(np.int64),
            emap[rows.event_code[ek]] if e_ix.size else np.empty(0, np.int32),
            smap[rows.stratum] if n else np.empty(0, np.int32),
        )

    # -- counts at the current quarter ------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        """The counts now, as the one-shot reader would give them (strata in sorted order for E)."""
        keys, n = self.cells.positive()
        n_d, n_e = len(self.drugs.names), len(self.events.names)
        nd = _grow(self.nd, n_d, 0)[:n_d].copy()
        ne = _grow(self.ne, n_e, 0)[:n_e].copy()
        raw = _Raw(keys >> CODE_BITS, keys & LOW, n, nd, ne, int(self.nt))
        if self.strata:
            rank = self.strata_names.sorted_rank()
            tot = _grow(self.st_total, rank.size, 0)[: rank.size]
            totals = np.zeros(rank.size)
            totals[rank] = tot
            parts = []
            for sc in (self.st_drug, self.st_event):
                sk, sn = sc.positive()
                parts.append((rank[sk >> CODE_BITS], sk & LOW, sn.astype(np.float64)))
            raw = _Raw(raw.di, raw.ei, raw.n, nd, ne, raw.nt, totals, parts[0], parts[1])
        label = self.labels[-1]
        return Snapshot(label, raw, self.drugs.array(), self.events.array(), self.strata)

    def compact(self) -> None:
        """Keep only the current versions' content, as one block (what a saved state holds)."""
        slots = np.flatnonzero(self.slot_block[: self.n_slots] >= 0).astype(np.int64)
        dl, dc, el, ec, st = self._gather(slots)
        # _gather returns slots grouped by block; recover that order to place rows.
        order = (
            np.concatenate(
                [slots[self.slot_block[slots] == b] for b in np.unique(self.slot_block[slots]).tolist()]
            )
            if slots.size
            else slots
        )
        block = _Block(
            np.r_[0, np.cumsum(dl)].astype(np.int64),
            dc.astype(np.int32),
            np.r_[0, np.cumsum(el)].astype(np.int64),
            ec.astype(np.int32),
            st.astype(np.int32),
        )
        self.blocks = [block]
        self.slot_block[:] = -1
        self.slot_block[order] = 0
        self.slot_local[order] = np.arange(order.size, dtype=np.int64)


def _isin_sorted(sorted_ids: IntArray, ids: IntArray) -> npt.NDArray[np.bool_]:
    if sorted_ids.size == 0:
        return np.zeros(ids.size, np.bool_)
    pos = np.minimum(np.searchsorted(sorted_ids, ids), sorted_ids.size - 1)
    return np.asarray(sorted_ids[pos] == ids)


# --- scoring one quarter ----------------------------------------------------------------------------------


class PriorPolicy(StrEnum):
    QUARTERLY = "quarterly"  # the MGPS prior refitted on every quarter's cumulative counts
    YEARLY = "yearly"  # refitted at the first scored quarter and at every Q1; the year's quarters reuse it
    FIXED = "fixed"  # one prior (--theta) for every quarter


def refits(policy: PriorPolicy, label: str, first: bool) -> bool:
    """Whether ``policy`` fits a new prior at this quarter."""
    if policy is PriorPolicy.FIXED:
        return False
    return policy is PriorPolicy.QUARTERLY or first or label.endswith("Q1")


@dataclass(frozen=True)
class PriorRecord:
    """The prior a quarter was scored with and where it came from."""

    quarter: str
    theta: Theta
    source: str  # fitted, carried (from an earlier quarter) or given
    neg_log_lik: float | None = None
    converged: bool | None = None
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "quarter": self.quarter,
            "theta": self.theta.as_text(),
            "source": self.source,
            "neg_log_lik": self.neg_log_lik,
            "converged": self.converged,
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PriorRecord:
        return cls(
            d["quarter"],
            Theta.parse(d["theta"]),
            d["source"],
            d.get("neg_log_lik"),
            d.get("converged"),
            d.get("reason", ""),
        )


def fit_quarter(counts: Counts) -> FitResult:
    """The one-shot command's default fit (auto squash above SQUASH_ABOVE_POINTS distinct points)."""
    with one_blas_thread():
        return fit_theta(counts.n, counts.e, max_points=SQUASH_ABOVE_POINTS)


def _name_rank(names: Sequence[str] | npt.NDArray[np.object_]) -> IntArray:
    order = np.asarray(pc.array_sort_indices(pa.array(names, pa.string())), dtype=np.int64)
    rank = np.empty(order.size, np.int64)
    rank[order] = np.arange(order.size, dtype=np.int64)
    return rank


def _take_names(names: npt.NDArray[np.object_], codes: IntArray) -> pa.Array:
    """Names by code as an Arrow string array (one take in Arrow, no Python string per row)."""
    return pa.array(names, pa.string()).take(pa.array(codes, pa.int64()))


def score_snapshot(
    snap: Snapshot,
    theta: Theta,
    *,
    mode: Mode | str = Mode.EXACT,
    ema_min_count: int = EMA_MIN_COUNT,
    counts: Counts | None = None,
) -> pa.Table:
    """The history rows of one quarter, sorted by drug and event name.

    The cells are put in name order first and only the history's columns are computed
    (:func:`~repigment.signals.scores.measure_arrays`, the one-shot scorer's arithmetic, cell by cell;
    each quarter's N_total moves E, so nearly every (N, E) is distinct and is scored as it is).
    """
    c = snap.counts() if counts is None else counts
    key = (_name_rank(snap.drugs)[c.drug_code] << CODE_BITS) | _name_rank(snap.events)[c.event_code]
    order = np.argsort(key, kind="stable")
    got = measure_arrays(c, theta, mode=mode, cells=order, columns=HISTORY_MEASURES, distinct=False)
    cols: dict[str, Any] = {
        "quarter": pa.array([snap.name], pa.string()).take(pa.array(np.zeros(order.size, np.int8))),
        "drug": _take_names(snap.drugs, c.drug_code[order]),
        "event": _take_names(snap.events, c.event_code[order]),
        "N": c.n[order],
        "E": c.e[order],
        "n_drug": c.n_drug[order],
        "n_event": c.n_event[order],
    }
    cols.update((k, got[k]) for k in HISTORY_MEASURES)
    # The presets' tests read columns by name; the arrays serve as well as a table.
    for name, p in presets(ema_min_count).items():
        cols[f"signal_{name}"] = np.asarray(p.test(cols), dtype=np.bool_)
    return pa.table(cols)


@dataclass(frozen=True)
class ScoreJob:
    """Quarters scored together: the first fits the prior when ``theta`` is None, the rest reuse it.

    Each quarter's rows are written where the job runs (on a cluster: a worker, to the shared file
    system), so that only the prior and a row count come back.
    """

    snapshots: tuple[Snapshot, ...]
    theta: Theta | None
    mode: str
    ema_min_count: int
    source: str = "given"  # where a given theta came from: given, reused or carried
    folder: str = ""  # where the part files go
    settings: str = ""  # the run's settings (JSON), recorded in every part file


@dataclass(frozen=True)
class ScoredQuarter:
    quarter: str
    prior: PriorRecord | None  # None: the fit failed (``reason``), nothing written
    rows: int
    reason: str = ""


def write_part(table: pa.Table, folder: Path, quarter: str, prior: PriorRecord, settings: str) -> None:
    """``part-<quarter>.parquet`` written beside and renamed (never half a file), with prior and settings."""
    meta = {
        **(table.schema.metadata or {}),
        b"repigment.prior": json.dumps(prior.as_dict()).encode(),
        b"repigment.settings": settings.encode(),
    }
    path = folder / f"part-{quarter}.parquet"
    tmp = folder / f".part-{quarter}.parquet.tmp"
    # Dictionary pages for the text columns only: numbers rarely repeat, and trying a dictionary on
    # every float column costs more than the rest of the write (same values, a slightly smaller file).
    pq.write_table(table.replace_schema_metadata(meta), tmp, use_dictionary=list(TEXT_COLUMNS))
    os.replace(tmp, path)


def run_score_job(job: ScoreJob) -> list[ScoredQuarter]:
    """Fit where needed, score and write a job's quarters; a failed fit is left to the caller."""
    out: list[ScoredQuarter] = []
    theta = job.theta
    for i, snap in enumerate(job.snapshots):
        counts = snap.counts()
        if theta is None:
            fit = fit_quarter(counts)
            if fit.theta is None:
                out += [ScoredQuarter(s.name, None, 0, fit.reason) for s in job.snapshots[i:]]
                return out
            theta = fit.theta
            rec = PriorRecord(snap.name, theta, "fitted", fit.nll, fit.converged, fit.reason)
        else:
            rec = PriorRecord(snap.name, theta, job.source if job.theta is not None else "reused")
        table = score_snapshot(snap, theta, mode=job.mode, ema_min_count=job.ema_min_count, counts=counts)
        write_part(table, Path(job.folder), snap.name, rec, job.settings)
        out.append(ScoredQuarter(snap.name, rec, table.num_rows))
    return out


# --- reading a history: onsets and what is new ------------------------------------------------------------


def onsets(history: Any, presets_: Sequence[str] = ONSET_PRESETS) -> pd.DataFrame:
    """Per pair: first quarter reported, and per preset the first quarter it was met with N then.

    ``history`` is anything DuckDB scans (an Arrow table or dataset, a pandas frame).
    """
    parts = ["drug", "event", "min(quarter) AS first_quarter", "arg_min(N, quarter) AS first_N"]
    for p in presets_:
        parts.append(f"min(quarter) FILTER (WHERE signal_{p}) AS onset_{p}")
        parts.append(f"arg_min(N, quarter) FILTER (WHERE signal_{p}) AS N_onset_{p}")
    with duckdb.connect() as con:
        con.register("h", history)
        return con.execute(f"SELECT {', '.join(parts)} FROM h GROUP BY drug, event ORDER BY drug, event").df()


@dataclass(frozen=True)
class WhatsNew:
    """The latest quarter against the one before it."""

    latest: str
    previous: str | None
    first_crossed: dict[str, pd.DataFrame]
    stopped: dict[str, pd.DataFrame]
    eb05_rises: pd.DataFrame

    def markdown(self, top: int = 20) -> str:
        lines = [
            f"# What is new in {self.latest}" + (f" (against {self.previous})" if self.previous else ""),
            "",
        ]
        for p, t in self.first_crossed.items():
            lines.append(f"## First met `{p}` ({len(t)} pairs)")
            lines += _md(
                t.head(top), ["drug", "event", "N", "E", "PRR", "ROR025", "IC025", "EBGM", "QUANT_05"]
            )
        lines.append(f"## Largest EB05 rises (top {top})")
        lines += _md(self.eb05_rises.head(top), ["drug", "event", "N", "QUANT_05_before", "QUANT_05", "rise"])
        for p, t in self.stopped.items():
            lines.append(f"## Stopped meeting `{p}` ({len(t)} pairs)")
            lines += _md(t.head(top), ["drug", "event", "N_before", "N"])
        return "\n".join(lines) + "\n"


def _md(t: pd.DataFrame, cols: list[str]) -> list[str]:
    if t.empty:
        return ["(none)", ""]
    cols = [c for c in cols if c in t.columns]
    rows = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in t[cols].itertuples(index=False):
        rows.append("| " + " | ".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in r) + " |")
    return [*rows, ""]


def whats_new(history: Any, presets_: Sequence[str] = ONSET_PRESETS, top: int = 50) -> WhatsNew:
    """First crossings per preset at the latest quarter, the largest EB05 rises, pairs that stopped."""
    with duckdb.connect() as con:
        con.register("h", history)
        qs = [
            r[0]
            for r in con.execute("SELECT DISTINCT quarter FROM h ORDER BY quarter DESC LIMIT 2").fetchall()
        ]
        if not qs:
            raise SignalsError("history", "the history has no rows")
        latest = qs[0]
        prev = qs[1] if len(qs) > 1 else None
        first: dict[str, pd.DataFrame] = {}
        stopped: dict[str, pd.DataFrame] = {}
        for p in presets_:
            first[p] = con.execute(
                f"""SELECT l.* FROM h l WHERE l.quarter = ? AND l.signal_{p} AND NOT EXISTS
                    (SELECT 1 FROM h e WHERE e.drug = l.drug AND e.event = l.event AND e.quarter < ?
                     AND e.signal_{p}) ORDER BY l.QUANT_05 DESC, l.N DESC, l.drug, l.event""",
                [latest, latest],
            ).df()
            stopped[p] = (
                con.execute(
                    f"""SELECT b.drug, b.event, b.N AS N_before, COALESCE(l.N, 0) AS N FROM h b
                        LEFT JOIN (SELECT * FROM h WHERE quarter = ?) l USING (drug, event)
                        WHERE b.quarter = ? AND b.signal_{p} AND NOT COALESCE(l.signal_{p}, false)
                        ORDER BY b.drug, b.event""",
                    [latest, prev],
                ).df()
                if prev
                else pd.DataFrame(columns=["drug", "event", "N_before", "N"])
            )
        rises = (
            con.execute(
                f"""SELECT l.drug, l.event, l.N, b.QUANT_05 AS QUANT_05_before, l.QUANT_05,
                       l.QUANT_05 - b.QUANT_05 AS rise
                    FROM (SELECT * FROM h WHERE quarter = ?) l JOIN (SELECT * FROM h WHERE quarter = ?) b
                    USING (drug, event) ORDER BY rise DESC, l.drug, l.event LIMIT {int(top)}""",
                [latest, prev],
            ).df()
            if prev
            else pd.DataFrame(columns=["drug", "event", "N", "QUANT_05_before", "QUANT_05", "rise"])
        )
    return WhatsNew(latest, prev, first, stopped, rises)
