"""Drug-event counting at database scale (DuckDB), with unique-report or pair semantics.

Unique reports (openEBGM, Canida & Ihrie 2017): N, N_drug, N_event and N_total count distinct report
ids. Pairs (PhViD, vigipy): each (report, drug, event) row counts once and the margins are table sums.
Expected count E = (N_drug / N_total) * N_event, in that evaluation order (bit-for-bit with openEBGM);
stratified E sums that product over the strata in which both the drug and the event occur.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import numpy.typing as npt

from repigment.signals.errors import SignalsError

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

MAX_ZERO_CELLS = 20_000_000
STRATUM_SEPARATOR = "\x1f"


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
    con: duckdb.DuckDBPyConnection | None = None,
) -> Counts:
    """Count a long table (path, pandas/Arrow table or DuckDB relation) of (id, drug, event[, strata])."""
    sem = Semantics(semantics)
    own = con is None
    db = duckdb.connect() if con is None else con
    try:
        if isinstance(source, str | Path):
            rel = open_long(db, source)
            where = str(source)
        elif isinstance(source, duckdb.DuckDBPyRelation):
            rel, where = source, "input"
        else:
            rel, where = db.from_arrow(source) if hasattr(source, "schema") else db.from_df(source), "input"
        idc, drugc, eventc, strat = resolve_columns(list(rel.columns), strata)
        db.register("src_rel", rel)
        strat_expr = (
            "''"
            if not strat
            else ("concat_ws(chr(31), " + ", ".join(f"CAST({_quote(s)} AS VARCHAR)" for s in strat) + ")")
        )
        db.execute(
            f"""CREATE OR REPLACE TEMP TABLE sig_raw AS SELECT {_quote(idc)} AS id,
                CAST({_quote(drugc)} AS VARCHAR) AS drug, CAST({_quote(eventc)} AS VARCHAR) AS event,
                {strat_expr} AS stratum, {" OR ".join([f"{_quote(s)} IS NULL" for s in strat]) or "false"}
                AS strat_null FROM src_rel"""
        )
        return _count_table(
            db,
            "sig_raw",
            where=where,
            cols=(idc, drugc, eventc),
            strata=tuple(strat),
            semantics=sem,
            zeroes=zeroes,
        )
    except duckdb.Error as ex:
        raise SignalsError("input", str(ex).splitlines()[0]) from None
    finally:
        if own:
            db.close()


def _count_table(
    db: duckdb.DuckDBPyConnection,
    table: str,
    *,
    where: str,
    cols: tuple[str, str, str],
    strata: tuple[str, ...],
    semantics: Semantics,
    zeroes: bool,
) -> Counts:
    """Count from a table with columns id, drug, event, stratum (VARCHAR) and strat_null (BOOLEAN)."""
    row = db.execute(
        f"""SELECT count(*), count(*) FILTER (id IS NULL), count(*) FILTER (drug IS NULL OR trim(drug) = ''),
               count(*) FILTER (event IS NULL OR trim(event) = ''), count(*) FILTER (strat_null)
            FROM {table}"""
    ).fetchone()
    assert row is not None
    total, bad_id, bad_drug, bad_event, bad_strat = (int(v) for v in row)
    if total == 0:
        raise SignalsError(where, "no data rows")
    for nbad, col in ((bad_id, cols[0]), (bad_drug, cols[1]), (bad_event, cols[2])):
        if nbad:
            raise SignalsError(where, f"column {col!r} is empty in {nbad} of {total} rows")
    if bad_strat:
        raise SignalsError(
            where, f"a stratification column ({', '.join(strata)}) is empty in {bad_strat} rows"
        )
    for col, code, tab in (("drug", "di", "sig_dr"), ("event", "ei", "sig_ev")):
        db.execute(f"""CREATE OR REPLACE TEMP TABLE {tab} AS SELECT {col},
                       (row_number() OVER (ORDER BY {col}) - 1)::INTEGER AS {code}
                       FROM (SELECT DISTINCT {col} FROM {table})""")
    drugs = np.asarray(db.execute("SELECT drug FROM sig_dr ORDER BY di").fetchnumpy()["drug"], dtype=object)
    events = np.asarray(
        db.execute("SELECT event FROM sig_ev ORDER BY ei").fetchnumpy()["event"], dtype=object
    )
    stratified = bool(strata)
    distinct = "DISTINCT" if semantics is Semantics.UNIQUE else ""
    db.execute(f"""CREATE OR REPLACE TEMP TABLE sig_t AS SELECT {distinct} id, di, ei
                   {", stratum" if stratified else ""}
                   FROM {table} JOIN sig_dr USING (drug) JOIN sig_ev USING (event)""")
    cnt = "count(DISTINCT id)" if semantics is Semantics.UNIQUE else "count(*)"
    q = CountQueries(
        cells=f"SELECT di, ei, {cnt} AS n FROM sig_t GROUP BY di, ei",
        drug_margin=f"SELECT di, {cnt} AS k FROM sig_t GROUP BY di",
        event_margin=f"SELECT ei, {cnt} AS k FROM sig_t GROUP BY ei",
        total=f"SELECT {cnt} AS k FROM sig_t",
        stratum_total=f"SELECT stratum, {cnt} AS k FROM sig_t GROUP BY stratum",
        stratum_drug=f"SELECT stratum, di, {cnt} AS k FROM sig_t GROUP BY stratum, di",
        stratum_event=f"SELECT stratum, ei, {cnt} AS k FROM sig_t GROUP BY stratum, ei",
    )
    return counts_from_queries(db, drugs, events, q, strata=strata, semantics=semantics, zeroes=zeroes)


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
    di = np.asarray(cells["di"], dtype=np.int64)
    ei = np.asarray(cells["ei"], dtype=np.int64)
    n = np.asarray(cells["n"], dtype=np.int64)
    nd = _margin(db, q.drug_margin, "di", drugs.size)
    ne = _margin(db, q.event_margin, "ei", events.size)
    total = db.execute(q.total).fetchone()
    assert total is not None
    nt = int(total[0])
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
        e, n_strata = _stratified_expected(db, q, di, ei, drugs.size, events.size)
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


def _stratified_expected(
    db: duckdb.DuckDBPyConnection, q: CountQueries, di: IntArray, ei: IntArray, n_drugs: int, n_events: int
) -> tuple[FloatArray, int]:
    """E = sum over strata of (N_drug,s / N_total,s) * N_event,s, strata in sorted order."""
    st = db.execute(q.stratum_total + " ORDER BY stratum").fetchnumpy()
    names = list(st["stratum"])
    totals = np.asarray(st["k"], dtype=np.float64)
    code = {s: i for i, s in enumerate(names)}
    d = db.execute(q.stratum_drug).fetchnumpy()
    v = db.execute(q.stratum_event).fetchnumpy()
    ds = np.fromiter((code[s] for s in d["stratum"]), dtype=np.int64, count=len(d["stratum"]))
    vs = np.fromiter((code[s] for s in v["stratum"]), dtype=np.int64, count=len(v["stratum"]))
    dk, dd = np.asarray(d["k"], dtype=np.float64), np.asarray(d["di"], dtype=np.int64)
    vk, vv = np.asarray(v["k"], dtype=np.float64), np.asarray(v["ei"], dtype=np.int64)
    d_order, v_order = np.argsort(ds, kind="stable"), np.argsort(vs, kind="stable")
    d_bounds = np.searchsorted(ds[d_order], np.arange(len(names) + 1))
    v_bounds = np.searchsorted(vs[v_order], np.arange(len(names) + 1))
    e = np.zeros(di.size)
    dbuf = np.zeros(n_drugs)
    vbuf = np.zeros(n_events)
    for s in range(len(names)):  # a loop over strata; every step is vectorised over cells
        dsel = d_order[d_bounds[s] : d_bounds[s + 1]]
        vsel = v_order[v_bounds[s] : v_bounds[s + 1]]
        dbuf[dd[dsel]] = dk[dsel]
        vbuf[vv[vsel]] = vk[vsel]
        e += (dbuf[di] / totals[s]) * vbuf[ei]
        dbuf[dd[dsel]] = 0.0
        vbuf[vv[vsel]] = 0.0
    return e, len(names)
