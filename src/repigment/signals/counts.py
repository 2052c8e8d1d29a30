"""Drug-event counting at database scale (DuckDB), with unique-report or pair semantics.

Unique reports (openEBGM, Canida & Ihrie 2017): N, N_drug, N_event and N_total count distinct report
ids. Pairs (PhViD, vigipy): each (report, drug, event) row counts once and the margins are table sums.
Expected count E = (N_drug / N_total) * N_event, in that evaluation order (bit-for-bit with openEBGM);
stratified E sums that product over the strata in which both the drug and the event occur.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from repigment.signals.errors import SignalsError

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

MAX_ZERO_CELLS = 20_000_000
STRATUM_SEPARATOR = "\x1f"
COUNT_THREADS = max(1, min(2, os.cpu_count() or 1))  # two independent halves of the work
SPLIT_MIN_ROWS = 200_000  # below this, one thread counts all reports (thread start-up would dominate)


class Semantics(StrEnum):
    UNIQUE = "unique"  # distinct report ids (openEBGM)
    PAIRS = "pairs"  # drug-event rows (PhViD, vigipy)


@dataclass(frozen=True)
class Counts:
    """One entry per (drug, event) cell; margins are unstratified (PRR and ROR ignore strata)."""

    drugs: npt.NDArray[np.object_]  # names, indexed by drug code
    events: npt.NDArray[np.object_]
    drug_code: IntArray
    event_code: IntArray
    n: IntArray
    e: FloatArray
    n_drug: IntArray
    n_event: IntArray
    n_total: int
    strata: tuple[str, ...]
    n_strata: int
    semantics: Semantics

    def __len__(self) -> int:
        return int(self.n.size)

    @property
    def drug(self) -> npt.NDArray[np.object_]:
        return np.asarray(self.drugs[self.drug_code], dtype=object)

    @property
    def event(self) -> npt.NDArray[np.object_]:
        return np.asarray(self.events[self.event_code], dtype=object)

    def sum_e(self) -> float:
        """Correctly rounded sum of E (R's long-double sum agrees with it)."""
        return math.fsum(self.e.tolist())


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def resolve_columns(columns: list[str], strata: list[str] | None) -> tuple[str, str, str, list[str]]:
    """Pick id/drug/event/strata columns: openEBGM's id, var1, var2, strat* or id, drug, event."""
    lower = {c.lower(): c for c in columns}
    if "id" not in lower:
        raise SignalsError("columns", f"no 'id' column (found: {', '.join(columns) or 'none'})")
    if "var1" in lower and "var2" in lower:
        drug, event = lower["var1"], lower["var2"]
        default_strata = [c for c in columns if "strat" in c.lower()]
    elif "drug" in lower and "event" in lower:
        drug, event = lower["drug"], lower["event"]
        default_strata = []
    else:
        raise SignalsError(
            "columns", "need columns var1 and var2 (openEBGM) or drug and event; found: " + ", ".join(columns)
        )
    if strata is None:
        chosen = default_strata
    else:
        chosen = []
        for s in strata:
            if s not in columns and s.lower() not in lower:
                raise SignalsError(
                    "strata", f"stratification column {s!r} not in the input (found: {', '.join(columns)})"
                )
            chosen.append(s if s in columns else lower[s.lower()])
    return lower["id"], drug, event, chosen


def open_long(con: duckdb.DuckDBPyConnection, source: str | Path) -> duckdb.DuckDBPyRelation:
    """Open a long-format CSV or Parquet file as a relation, failing clearly on empty or unreadable files."""
    path = Path(source)
    if not path.is_file():
        raise SignalsError(str(path), "no such file")
    if path.stat().st_size == 0:
        raise SignalsError(str(path), "the file is empty")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            return con.read_parquet(str(path))
        return con.read_csv(str(path), header=True)
    except duckdb.Error as ex:
        kind = "Parquet" if path.suffix.lower() in (".parquet", ".pq") else "CSV"
        raise SignalsError(str(path), f"cannot be read as {kind}: {str(ex).splitlines()[0]}") from None


def count_long(
    source: str | Path | Any,
    *,
    strata: list[str] | None = None,
    semantics: Semantics | str = Semantics.UNIQUE,
    zeroes: bool = False,
) -> Counts:
    """Count a long table (CSV/Parquet path, pandas DataFrame or Arrow table) of (id, drug, event[, strata]).

    Names become integer codes through Arrow dictionary encoding (codes follow sorted names); the
    distinct-report counting then runs in DuckDB on integers.
    """
    sem = Semantics(semantics)
    if not isinstance(source, str | Path):
        table = source if isinstance(source, pa.Table) else pa.Table.from_pandas(source, preserve_index=False)
        idc, drugc, eventc, strat = resolve_columns(list(table.column_names), strata)
        return _count_arrow(
            None,
            table,
            where="input",
            cols=(idc, drugc, eventc),
            strata=tuple(strat),
            semantics=sem,
            zeroes=zeroes,
        )
    db = duckdb.connect()
    try:
        rel = open_long(db, source)
        where = str(source)
        idc, drugc, eventc, strat = resolve_columns(list(rel.columns), strata)
        try:
            sel = rel.select(*[_quote(c) for c in (idc, drugc, eventc, *strat)])
            fetch = getattr(sel, "to_arrow_table", None) or sel.fetch_arrow_table
            table = fetch()
        except duckdb.Error as ex:
            raise SignalsError(where, f"cannot be read: {str(ex).splitlines()[0]}") from None
        return _count_arrow(
            db,
            table,
            where=where,
            cols=(idc, drugc, eventc),
            strata=tuple(strat),
            semantics=sem,
            zeroes=zeroes,
        )
    finally:
        db.close()


def _as_text(col: pa.ChunkedArray, *, large: bool = True) -> pa.ChunkedArray:
    """Names as Arrow text; ``large=False`` keeps 32-bit-offset strings as they are (no copy)."""
    if pa.types.is_dictionary(col.type):
        col = col.cast(col.type.value_type)
    if pa.types.is_large_string(col.type) or (not large and pa.types.is_string(col.type)):
        return col
    return pc.cast(col, pa.large_string())


def _bits(n: int) -> int:
    """Bits that hold the codes 0..n-1."""
    return max(int(n - 1).bit_length(), 1)


def _id_codes(col: pa.ChunkedArray) -> tuple[npt.NDArray[np.int64], int, int]:
    """Report-id codes, the number of distinct ids and the code span (codes lie in 0..span-1).

    Integer ids whose range is at most a few times the row count are used as offsets from the
    smallest id (no hashing); other ids are dictionary-encoded.
    """
    if pa.types.is_integer(col.type) and len(col) > 0:
        arr = np.asarray(col.combine_chunks() if col.num_chunks != 1 else col.chunk(0))
        lo, hi = int(arr.min()), int(arr.max())
        span = hi - lo + 1
        if span <= 4 * arr.size + 1024:
            codes = arr.astype(np.int64) - lo
            seen = np.zeros(span, dtype=np.bool_)
            seen[codes] = True
            return codes, int(np.count_nonzero(seen)), span
    enc = pc.dictionary_encode(col).combine_chunks()
    n = len(enc.dictionary)
    return np.asarray(enc.indices).astype(np.int64), n, n


def _sorted_codes_checked(
    col: pa.ChunkedArray,
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.object_], int]:
    """:func:`_sorted_codes` plus the number of null or blank rows (checked once per distinct name)."""
    enc = pc.dictionary_encode(col).combine_chunks()
    dic = enc.dictionary
    idx = np.asarray(enc.indices.fill_null(-1))
    blank = np.asarray(pc.equal(pc.utf8_trim_whitespace(dic), ""))
    nbad = int(np.count_nonzero(idx < 0))
    if blank.any():
        nbad += int(np.isin(idx, np.flatnonzero(blank)).sum())
    if nbad:
        return idx.astype(np.int32), np.empty(0, dtype=object), nbad
    order = pc.array_sort_indices(dic)
    rank = np.empty(len(dic), dtype=np.int32)
    rank[np.asarray(order)] = np.arange(len(dic), dtype=np.int32)
    return rank[idx], np.asarray(dic.take(order).to_pylist(), dtype=object), 0


def _sorted_codes(col: pa.ChunkedArray) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.object_]]:
    """Integer codes whose order follows the sorted distinct values."""
    enc = pc.dictionary_encode(col).combine_chunks()
    dic = enc.dictionary
    order = pc.array_sort_indices(dic)
    rank = np.empty(len(dic), dtype=np.int32)
    rank[np.asarray(order)] = np.arange(len(dic), dtype=np.int32)
    return rank[np.asarray(enc.indices)], np.asarray(dic.take(order).to_pylist(), dtype=object)


def _count_arrow(
    db: duckdb.DuckDBPyConnection | None,
    table: pa.Table,
    *,
    where: str,
    cols: tuple[str, str, str],
    strata: tuple[str, ...],
    semantics: Semantics,
    zeroes: bool,
) -> Counts:
    total = table.num_rows
    if total == 0:
        raise SignalsError(where, "no data rows")
    idcol = table[cols[0]]
    if idcol.null_count:
        raise SignalsError(where, f"column {cols[0]!r} is empty in {idcol.null_count} of {total} rows")
    text = {c: _as_text(table[c], large=False) for c in (cols[1], cols[2])}
    text.update({c: _as_text(table[c]) for c in strata})
    coded: dict[str, tuple[npt.NDArray[np.int32], npt.NDArray[np.object_]]] = {}
    # Arrow kernels release the GIL: the drug and the event column are encoded side by side while
    # this thread codes the report ids.
    with ThreadPoolExecutor(max_workers=COUNT_THREADS) as pool:
        pending = [pool.submit(_sorted_codes_checked, text[c]) for c in cols[1:]]
        ids, n_ids, id_span = _id_codes(idcol)
        encoded = [f.result() for f in pending]
    for c, (codes, names, nbad) in zip((cols[1], cols[2]), encoded, strict=True):
        if nbad:
            raise SignalsError(where, f"column {c!r} is empty in {nbad} of {total} rows")
        coded[c] = (codes, names)
    for c in strata:
        t = text[c]
        nbad = t.null_count + int(pc.sum(pc.equal(pc.utf8_trim_whitespace(t), "")).as_py() or 0)
        if nbad:
            raise SignalsError(where, f"a stratification column {c!r} is empty in {nbad} of {total} rows")
    di, drugs = coded[cols[1]]
    ei, events = coded[cols[2]]
    data: dict[str, npt.NDArray[Any]] = {"id": ids, "di": di, "ei": ei}
    n_strata = 1
    if strata:
        sep = pa.scalar(STRATUM_SEPARATOR, pa.large_string())
        scode, snames = _sorted_codes(pc.binary_join_element_wise(*[text[c] for c in strata], sep))
        data["stratum"] = scode
        n_strata = int(snames.size)
    bits = sum(_bits(k) for k in (id_span, n_strata, drugs.size, events.size))
    if bits <= 63:
        raw = _count_sorted(
            ids, di, ei, data.get("stratum"), id_span, n_ids, drugs.size, events.size, n_strata, semantics
        )
        return _assemble(drugs, events, raw, strata=strata, semantics=semantics, zeroes=zeroes)
    own = db is None
    con = duckdb.connect() if db is None else db
    try:
        con.register("sig_in", pa.table(data))  # keys too wide to pack into 64 bits: count in DuckDB
        q = _long_queries(con, semantics, bool(strata))
        return counts_from_queries(con, drugs, events, q, strata=strata, semantics=semantics, zeroes=zeroes)
    finally:
        if own:
            con.close()


def _long_queries(db: duckdb.DuckDBPyConnection, semantics: Semantics, stratified: bool) -> CountQueries:
    if semantics is Semantics.PAIRS:
        db.execute("CREATE OR REPLACE TEMP TABLE sig_t AS SELECT * FROM sig_in")
        return CountQueries(
            cells="SELECT di, ei, count(*) AS n FROM sig_t GROUP BY di, ei",
            drug_margin="SELECT di, count(*) AS k FROM sig_t GROUP BY di",
            event_margin="SELECT ei, count(*) AS k FROM sig_t GROUP BY ei",
            total="SELECT count(*) AS k FROM sig_t",
            stratum_total="SELECT stratum, count(*) AS k FROM sig_t GROUP BY stratum",
            stratum_drug="SELECT stratum, di, count(*) AS k FROM sig_t GROUP BY stratum, di",
            stratum_event="SELECT stratum, ei, count(*) AS k FROM sig_t GROUP BY stratum, ei",
        )
    cols = "id, di, ei, stratum" if stratified else "id, di, ei"
    db.execute(f"CREATE OR REPLACE TEMP TABLE sig_t AS SELECT DISTINCT {cols} FROM sig_in")
    per_id = "count(DISTINCT id)" if stratified else "count(*)"  # one row per (id, di, ei) unless strata
    return CountQueries(
        cells=f"SELECT di, ei, {per_id} AS n FROM sig_t GROUP BY di, ei",
        drug_margin="SELECT di, count(*) AS k FROM (SELECT DISTINCT id, di FROM sig_t) GROUP BY di",
        event_margin="SELECT ei, count(*) AS k FROM (SELECT DISTINCT id, ei FROM sig_t) GROUP BY ei",
        total="SELECT count(DISTINCT id) AS k FROM sig_t",
        stratum_total="SELECT stratum, count(*) AS k FROM (SELECT DISTINCT id, stratum FROM sig_t) "
        "GROUP BY stratum",
        stratum_drug="SELECT stratum, di, count(*) AS k FROM (SELECT DISTINCT id, di, stratum FROM sig_t) "
        "GROUP BY stratum, di",
        stratum_event="SELECT stratum, ei, count(*) AS k FROM (SELECT DISTINCT id, ei, stratum FROM sig_t) "
        "GROUP BY stratum, ei",
    )


@dataclass(frozen=True)
class CountQueries:
    """SQL giving cell counts (di, ei, n), margins (code, k), the total (k) and per-stratum margins."""

    cells: str
    drug_margin: str
    event_margin: str
    total: str
    stratum_total: str = ""
    stratum_drug: str = ""
    stratum_event: str = ""


@dataclass(frozen=True)
class _Raw:
    """Integer-coded counts before expected counts are formed."""

    di: IntArray
    ei: IntArray
    n: IntArray
    nd: IntArray  # per drug code
    ne: IntArray  # per event code
    nt: int
    # Stratified margins, strata coded 0..S-1 in sorted order: totals[S], (stratum, code, count) triples.
    st_total: FloatArray | None = None
    st_drug: tuple[IntArray, IntArray, FloatArray] | None = None
    st_event: tuple[IntArray, IntArray, FloatArray] | None = None


def counts_from_queries(
    db: duckdb.DuckDBPyConnection,
    drugs: npt.NDArray[np.object_],
    events: npt.NDArray[np.object_],
    q: CountQueries,
    *,
    strata: tuple[str, ...],
    semantics: Semantics,
    zeroes: bool = False,
) -> Counts:
    """Assemble :class:`Counts` from integer-coded count queries (shared by long and FAERS input)."""
    cells = db.execute(q.cells + " ORDER BY di, ei").fetchnumpy()
    total = db.execute(q.total).fetchone()
    assert total is not None
    st_total = st_drug = st_event = None
    if strata:
        st = db.execute(q.stratum_total + " ORDER BY stratum").fetchnumpy()
        names = np.asarray(st["stratum"])  # sorted and distinct: codes by binary search
        st_total = np.asarray(st["k"], dtype=np.float64)
        d = db.execute(q.stratum_drug).fetchnumpy()
        v = db.execute(q.stratum_event).fetchnumpy()
        st_drug = (
            np.searchsorted(names, np.asarray(d["stratum"])).astype(np.int64),
            np.asarray(d["di"], dtype=np.int64),
            np.asarray(d["k"], dtype=np.float64),
        )
        st_event = (
            np.searchsorted(names, np.asarray(v["stratum"])).astype(np.int64),
            np.asarray(v["ei"], dtype=np.int64),
            np.asarray(v["k"], dtype=np.float64),
        )
    raw = _Raw(
        np.asarray(cells["di"], dtype=np.int64),
        np.asarray(cells["ei"], dtype=np.int64),
        np.asarray(cells["n"], dtype=np.int64),
        _margin(db, q.drug_margin, "di", drugs.size),
        _margin(db, q.event_margin, "ei", events.size),
        int(total[0]),
        st_total,
        st_drug,
        st_event,
    )
    return _assemble(drugs, events, raw, strata=strata, semantics=semantics, zeroes=zeroes)


def _assemble(
    drugs: npt.NDArray[np.object_],
    events: npt.NDArray[np.object_],
    raw: _Raw,
    *,
    strata: tuple[str, ...],
    semantics: Semantics,
    zeroes: bool,
) -> Counts:
    di, ei, n, nd, ne, nt = raw.di, raw.ei, raw.n, raw.nd, raw.ne, raw.nt
    if zeroes:
        size = drugs.size * events.size
        if size > MAX_ZERO_CELLS:
            raise SignalsError(
                "zeroes",
                f"{drugs.size} drugs x {events.size} events = {size} cells "
                "is too many to list with zero counts",
            )
        full = np.zeros(size, dtype=np.int64)
        full[di * events.size + ei] = n
        di, ei = np.divmod(np.arange(size, dtype=np.int64), events.size)
        n = full
    if strata:
        assert raw.st_total is not None and raw.st_drug is not None and raw.st_event is not None
        e = _stratified_expected(raw.st_total, raw.st_drug, raw.st_event, di, ei, drugs.size, events.size)
        n_strata = int(raw.st_total.size)
    else:
        e = (nd[di] / float(nt)) * ne[ei]
        n_strata = 1
    return Counts(
        drugs,
        events,
        di,
        ei,
        n,
        np.asarray(e, dtype=np.float64),
        nd[di],
        ne[ei],
        nt,
        strata,
        n_strata,
        semantics,
    )


def _margin(db: duckdb.DuckDBPyConnection, sql: str, code: str, size: int) -> IntArray:
    got = db.execute(sql).fetchnumpy()
    out = np.zeros(size, dtype=np.int64)
    out[np.asarray(got[code], dtype=np.int64)] = got["k"]
    return out


DENSE_FACTORS_MAX = 1 << 24  # strata x (drugs + events) factors held as two dense matrices (128 MB)
E_CHUNK = 1 << 15  # cells per block: a block's buffers stay in the CPU cache across all strata


def _stratified_expected(
    totals: FloatArray,
    drug_part: tuple[IntArray, IntArray, FloatArray],
    event_part: tuple[IntArray, IntArray, FloatArray],
    di: IntArray,
    ei: IntArray,
    n_drugs: int,
    n_events: int,
) -> FloatArray:
    """E = sum over strata of (N_drug,s / N_total,s) * N_event,s, strata in sorted order.

    Every cell adds its terms in stratum order, one at a time, whichever way the loops run, so the
    blocked and the plain loop give the same bits.
    """
    n_strata = totals.size
    if n_strata * (n_drugs + n_events) <= DENSE_FACTORS_MAX:
        return _stratified_expected_blocked(totals, drug_part, event_part, di, ei, n_drugs, n_events)
    ds, dd, dk = drug_part
    vs, vv, vk = event_part
    d_order, v_order = np.argsort(ds, kind="stable"), np.argsort(vs, kind="stable")
    d_bounds = np.searchsorted(ds[d_order], np.arange(n_strata + 1))
    v_bounds = np.searchsorted(vs[v_order], np.arange(n_strata + 1))
    e = np.zeros(di.size)
    dbuf = np.zeros(n_drugs)
    vbuf = np.zeros(n_events)
    term = np.empty(di.size)
    other = np.empty(di.size)
    for s in range(n_strata):  # a loop over strata; every step is vectorised over cells
        dsel = d_order[d_bounds[s] : d_bounds[s + 1]]
        vsel = v_order[v_bounds[s] : v_bounds[s + 1]]
        # N_drug,s / N_total,s is divided once per drug rather than once per cell (the same
        # division, so the same bits; absent drugs give 0 either way), and the buffers are reused.
        dbuf[dd[dsel]] = dk[dsel] / totals[s]
        vbuf[vv[vsel]] = vk[vsel]
        np.take(dbuf, di, out=term, mode="clip")  # codes are in range: no bounds check, no copy
        np.take(vbuf, ei, out=other, mode="clip")
        term *= other
        e += term
        dbuf[dd[dsel]] = 0.0
        vbuf[vv[vsel]] = 0.0
    return e


def _stratified_expected_blocked(
    totals: FloatArray,
    drug_part: tuple[IntArray, IntArray, FloatArray],
    event_part: tuple[IntArray, IntArray, FloatArray],
    di: IntArray,
    ei: IntArray,
    n_drugs: int,
    n_events: int,
) -> FloatArray:
    """The same sum with the factors as (stratum x code) matrices and the cells in cache-sized blocks.

    The plain loop streams all cells through memory once per stratum; here a block of cells stays in
    the cache while every stratum is added to it (about twice as fast on 200 strata).
    """
    ds, dd, dk = drug_part
    vs, vv, vk = event_part
    n_strata = totals.size
    a = np.zeros((n_strata, n_drugs))
    a[ds, dd] = dk / totals[ds]  # the same division per (stratum, drug) as the plain loop
    b = np.zeros((n_strata, n_events))
    b[vs, vv] = vk
    e = np.zeros(di.size)
    term = np.empty(min(E_CHUNK, di.size))
    other = np.empty(term.size)
    for lo in range(0, di.size, E_CHUNK):
        hi = min(lo + E_CHUNK, di.size)
        d, v, acc = di[lo:hi], ei[lo:hi], e[lo:hi]
        t, o = term[: hi - lo], other[: hi - lo]
        for s in range(n_strata):
            np.take(a[s], d, out=t, mode="clip")
            np.take(b[s], v, out=o, mode="clip")
            t *= o
            acc += t
    return e


def _runs(sorted_keys: npt.NDArray[Any]) -> tuple[npt.NDArray[Any], IntArray]:
    """Distinct values of a sorted array and how often each occurs."""
    if sorted_keys.size == 0:
        return sorted_keys, sorted_keys
    start = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    return sorted_keys[start], np.diff(np.r_[start, sorted_keys.size]).astype(np.int64)


def _distinct(keys: IntArray) -> IntArray:
    """Sorted distinct values; ``keys`` is a temporary and is sorted in place."""
    keys.sort()
    return keys[np.r_[True, keys[1:] != keys[:-1]]] if keys.size else keys


def _count_sorted(
    ids: npt.NDArray[Any],
    di: npt.NDArray[Any],
    ei: npt.NDArray[Any],
    st: npt.NDArray[Any] | None,
    id_span: int,
    n_ids: int,
    n_drugs: int,
    n_events: int,
    n_strata: int,
    semantics: Semantics,
) -> _Raw:
    """Counting by sorting 64-bit keys packed with shifts (drug | event | report bit fields).

    Sorting packed integers (SIMD sorts) is the fastest route in NumPy; bit fields keep the order of
    (drug, event, report) and unpack with shifts and masks instead of integer division.
    """
    i64 = np.int64
    bi, be, bd = _bits(id_span), _bits(n_events), _bits(n_drugs)
    mi, me = (1 << bi) - 1, (1 << be) - 1
    ids = ids.astype(i64, copy=False)
    if semantics is Semantics.UNIQUE and st is None and bd + be <= 31 and bi <= 31:
        return _count_unique(ids, di, ei, id_span, bd, be, n_drugs, n_events, n_ids)
    di = di.astype(i64)
    ei = ei.astype(i64)
    s64 = None if st is None else st.astype(i64)
    if semantics is Semantics.PAIRS:
        cell = (di << be) | ei
        cells, n = _runs(np.sort(cell))
        nd = np.bincount(di, minlength=n_drugs).astype(i64)
        ne = np.bincount(ei, minlength=n_events).astype(i64)
        raw = _Raw(cells >> be, cells & me, n, nd, ne, int(ids.size))
        if s64 is None:
            return raw
        return replace(
            raw,
            st_total=np.bincount(s64, minlength=n_strata).astype(np.float64),
            st_drug=_unpack(*_runs(np.sort((s64 << bd) | di)), bd),
            st_event=_unpack(*_runs(np.sort((s64 << be) | ei)), be),
        )
    nt = n_ids  # every report id occurs in some row
    u = _distinct((((di << be) | ei) << bi) | ids)  # distinct (cell, report), sorted by cell
    cells, n = _runs(u >> bi)
    uid = u & mi

    def margin(keys: IntArray, size: int) -> IntArray:
        return np.bincount(_distinct(keys) >> bi, minlength=size).astype(i64)

    with ThreadPoolExecutor(max_workers=COUNT_THREADS) as pool:  # NumPy sorts release the GIL
        f_d = pool.submit(margin, ((u >> (be + bi)) << bi) | uid, n_drugs)
        f_e = pool.submit(margin, (((u >> bi) & me) << bi) | uid, n_events)
        nd, ne = f_d.result(), f_e.result()
    raw = _Raw(cells >> be, cells & me, n, nd, ne, nt)
    if s64 is None:  # code spaces too wide for the 32-bit layout of _count_unique
        return raw
    s_tot, s_cnt = _runs(_distinct((s64 << bi) | ids) >> bi)
    totals = np.zeros(n_strata)
    totals[s_tot] = s_cnt
    return replace(
        raw,
        st_total=totals,
        st_drug=_unpack(*_runs(_distinct((((s64 << bd) | di) << bi) | ids) >> bi), bd),
        st_event=_unpack(*_runs(_distinct((((s64 << be) | ei) << bi) | ids) >> bi), be),
    )


def _unpack(keys: IntArray, counts: IntArray, bits: int) -> tuple[IntArray, IntArray, FloatArray]:
    """(stratum << bits | code) keys and their counts as (stratum, code, count) triples."""
    return keys >> bits, keys & ((1 << bits) - 1), counts.astype(np.float64)


def _first_of_runs(
    sorted_keys: npt.NDArray[Any], out: npt.NDArray[np.bool_] | None = None
) -> npt.NDArray[np.bool_]:
    """True where a sorted array takes a new value."""
    first = np.empty(sorted_keys.size, dtype=np.bool_) if out is None else out
    if sorted_keys.size:
        first[0] = True
        np.not_equal(sorted_keys[1:], sorted_keys[:-1], out=first[1:])
    return first


def _report_halves(ids: IntArray, span: int) -> list[slice]:
    """Two row ranges that share no report (so each can be counted alone), or the whole range.

    Rows grouped by report (the usual layout of a long file) split at the middle report boundary;
    otherwise, or for small inputs, there is one range.
    """
    n = ids.size
    m = n // 2
    if n < max(SPLIT_MIN_ROWS, 2):
        return [slice(0, n)]
    step = np.flatnonzero(ids[m:] != ids[m - 1])  # move the cut to the next change of report id
    if step.size == 0:
        return [slice(0, n)]
    m += int(step[0])
    seen = np.zeros(span, dtype=np.bool_)
    seen[ids[:m]] = True
    if seen[ids[m:]].any():
        return [slice(0, n)]
    return [slice(0, m), slice(m, n)]


def _unique_part(
    ids: IntArray, di: IntArray, ei: IntArray, be: int, n_drugs: int, n_events: int
) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """Drug margin, event margin and cell counts (sorted cell keys, counts) of some reports.

    One sort of 64-bit keys, report id in the high word and the (drug, event) cell in the low word,
    gives the distinct triples in report order; runs of (report, drug) give the drug margin, and the
    event margin sorts (report, event) keys in 32 bits, one block of report ids at a time. The two
    words are read as int32 views (no unpacking), and work arrays are few: a fresh 40 MB array costs
    about as much as the arithmetic done in it (the kernel zeroes its pages).
    """
    i64, i32 = np.int64, np.int32
    me = (1 << be) - 1
    k = np.left_shift(ids, 32, dtype=i64)
    cell = np.left_shift(di, be, dtype=i32)
    cell |= ei
    k |= cell
    del cell
    k.sort()
    words = k.view(i32)
    low, high = (words[0::2], words[1::2]) if np.little_endian else (words[1::2], words[0::2])
    first = _first_of_runs(k)  # distinct (report, drug, event)
    rd = np.right_shift(k, be)
    runs = _first_of_runs(rd)  # distinct (report, drug)
    del rd
    nd = np.bincount(low[runs] >> be, minlength=n_drugs).astype(i64)
    cw = 31 - be  # report-id bits per block, so that (report, event) fits an int32
    local = np.bitwise_and(high, (1 << cw) - 1)
    local <<= be
    tmp = np.bitwise_and(low, me)
    local |= tmp
    del tmp
    top = int(high[-1]) if k.size else 0
    bounds = np.searchsorted(k, np.arange(0, top + (1 << cw) + 1, 1 << cw, dtype=i64) << 32)
    for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        if b > a + 1:
            local[a:b].sort()
        if b > a:
            _first_of_runs(local[a:b], out=runs[a:b])
    local &= me
    ne = np.bincount(local[runs], minlength=n_events).astype(i64)
    del local, runs
    keys = low[first]
    del k, words, low, high, first
    keys.sort()
    cells, n = _runs(keys)
    return nd, ne, cells.astype(i64), n


def _count_unique(
    ids: IntArray,
    di: IntArray,
    ei: IntArray,
    id_span: int,
    bd: int,
    be: int,
    n_drugs: int,
    n_events: int,
    nt: int,
) -> _Raw:
    """Unique-report counts; two halves of the reports are counted side by side where rows allow.

    Reports in different halves share no (report, name) pair, so margins add up; the halves' sorted
    cell keys merge (a stable sort of two sorted runs is a merge) before the cells are counted.
    """
    parts = _report_halves(ids, id_span)
    with ThreadPoolExecutor(max_workers=COUNT_THREADS) as pool:  # NumPy sorts release the GIL
        got = list(pool.map(lambda sl: _unique_part(ids[sl], di[sl], ei[sl], be, n_drugs, n_events), parts))
    nd, ne, cells, n = got[0]
    if len(got) > 1:  # merge the halves' sorted cells (a stable sort of two sorted runs is a merge)
        nd = nd + got[1][0]
        ne = ne + got[1][1]
        both = np.concatenate([cells, got[1][2]])
        order = np.argsort(both, kind="stable")
        both = both[order]
        first = _first_of_runs(both)
        cells = both[first]
        n = np.add.reduceat(np.concatenate([n, got[1][3]])[order], np.flatnonzero(first))
    return _Raw(cells >> be, cells & ((1 << be) - 1), n, nd, ne, nt)
