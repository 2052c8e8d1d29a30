"""FAERS / legacy AERS quarterly ASCII extracts -> de-duplicated drug-event counts (DuckDB).

Files are '$'-delimited with a header line and no quoting (FDA, "FAERS Quarterly Data Extract Files",
ASC_NTS.pdf). Three historical layouts are recognised from the DEMO header: legacy AERS (to 2012Q3;
ISR/CASE keys, GNDR_COD), FAERS 2012Q4-2014Q2 (primaryid/caseid, gndr_cod, no prod_ai) and FAERS
2014Q3 on (sex, prod_ai). De-duplication keeps, per case id, the version with the latest fda_dt, then
the highest primaryid (ISR), and drops case ids listed in the Deleted files.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from repigment.signals.counts import Counts, Semantics, _assemble, _first_of_runs, _Raw
from repigment.signals.errors import SignalsError

DEFAULT_ROLES = ("PS", "SS")  # primary and secondary suspect
STRATA_COLUMNS = ("sex", "age_group", "year")
# Age groups in years, lower edges (a named parameter: FDA's own groupings vary by analysis).
AGE_GROUP_EDGES = (0.0, 18.0, 65.0)
AGE_UNIT_YEARS = {"DEC": 10.0, "YR": 1.0, "MON": 1 / 12, "WK": 7 / 365.25, "DY": 1 / 365.25, "HR": 1 / 8766.0}

_TABLE_RE = re.compile(r"^(DEMO|DRUG|REAC)(\d\d)Q([1-4])\.TXT$", re.IGNORECASE)
_DELETE_RE = re.compile(r"DELETE", re.IGNORECASE)


class Layout(StrEnum):
    AERS = "aers"  # legacy AERS, to 2012Q3
    FAERS_2012 = "faers-2012q4"  # 2012Q4 - 2014Q2
    FAERS = "faers"  # 2014Q3 on


REQUIRED = {
    Layout.AERS: {
        "DEMO": ("isr", "case", "fda_dt", "age", "age_cod", "gndr_cod"),
        "DRUG": ("isr", "role_cod", "drugname"),
        "REAC": ("isr", "pt"),
    },
    Layout.FAERS_2012: {
        "DEMO": ("primaryid", "caseid", "fda_dt", "init_fda_dt", "age", "age_cod", "gndr_cod"),
        "DRUG": ("primaryid", "role_cod", "drugname"),
        "REAC": ("primaryid", "pt"),
    },
    Layout.FAERS: {
        "DEMO": ("primaryid", "caseid", "fda_dt", "init_fda_dt", "age", "age_cod", "sex"),
        "DRUG": ("primaryid", "role_cod", "drugname", "prod_ai"),
        "REAC": ("primaryid", "pt"),
    },
}

# Each layout's columns under common names (one definition for one-shot and quarterly reading).
DEMO_SELECT = {
    Layout.AERS: 'isr AS primaryid, "case" AS caseid, fda_dt, '
    "fda_dt AS init_dt, gndr_cod AS sex, age, age_cod, filename",
    Layout.FAERS_2012: "primaryid, caseid, fda_dt, init_fda_dt AS init_dt, gndr_cod AS sex, age, "
    "age_cod, filename",
    Layout.FAERS: "primaryid, caseid, fda_dt, init_fda_dt AS init_dt, sex, age, age_cod, filename",
}
DRUG_SELECT = {
    Layout.AERS: "isr AS id, role_cod, drugname AS name",
    Layout.FAERS_2012: "primaryid AS id, role_cod, drugname AS name",
    Layout.FAERS: "primaryid AS id, role_cod, COALESCE(NULLIF(trim(prod_ai), ''), drugname) AS name",
}
REAC_SELECT = {
    Layout.AERS: "isr AS id, pt",
    Layout.FAERS_2012: "primaryid AS id, pt",
    Layout.FAERS: "primaryid AS id, pt",
}
# Latest version per case: latest fda_dt, then highest primaryid, packed into one sortable integer.
VERSION_KEY = "COALESCE(TRY_CAST(fda_dt AS BIGINT), 0) * 100000000000 + primaryid"
VERSION_ID_MOD = 100_000_000_000


@dataclass
class Quarter:
    label: str  # e.g. 14Q3
    files: dict[str, Path] = field(default_factory=dict)
    layout: Layout | None = None
    headers: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class FaersSummary:
    """What ingestion kept and dropped, for the report."""

    quarters: tuple[str, ...]
    layouts: dict[str, int]
    demo_rows: int
    cases: int
    deleted_cases: int
    reports: int  # de-duplicated reports with a kept drug and a reaction


def read_header(path: Path) -> list[str]:
    with path.open("rb") as fh:
        line = fh.readline()
    if not line.strip():
        raise SignalsError(str(path), "the file is empty (no header line)")
    text = line.decode("latin-1").rstrip("\r\n")
    names = [c.strip().lower() for c in text.split("$")]
    return names


def detect_layout(demo_header: list[str], where: str) -> Layout:
    h = set(demo_header)
    if "isr" in h:
        layout = Layout.AERS
    elif "primaryid" in h and "sex" in h:
        layout = Layout.FAERS
    elif "primaryid" in h and "gndr_cod" in h:
        layout = Layout.FAERS_2012
    else:
        raise SignalsError(
            where,
            "unknown FAERS layout: the DEMO header has neither ISR (legacy AERS) nor "
            "primaryid with sex/gndr_cod (FAERS); header: " + "$".join(demo_header),
        )
    return layout


@contextmanager
def _materialise(inputs: Sequence[str | Path]) -> Iterator[list[Path]]:
    """Yield the ASCII files of folders and zips; zip members are extracted to a temporary folder."""
    tmp: Path | None = None
    files: list[Path] = []
    try:
        for raw in inputs:
            p = Path(raw)
            if p.is_dir():
                files.extend(f for f in sorted(p.rglob("*")) if f.is_file() and f.suffix.lower() != ".zip")
                zips = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() == ".zip")
            elif p.is_file() and p.suffix.lower() == ".zip":
                zips = [p]
            elif p.is_file():
                files.append(p)
                zips = []
            else:
                raise SignalsError(str(p), "no such file or folder")
            for z in zips:
                if tmp is None:
                    tmp = Path(tempfile.mkdtemp(prefix="faers-"))
                try:
                    with zipfile.ZipFile(z) as zf:
                        for k, info in enumerate(zf.infolist()):
                            base = Path(info.filename).name
                            if info.is_dir() or not (_TABLE_RE.match(base) or _DELETE_RE.search(base)):
                                continue
                            dest = (
                                tmp
                                / f"{z.stem}-{k}"
                                / ("Deleted" if _DELETE_RE.search(info.filename) else "ASCII")
                                / base
                            )
                            dest.parent.mkdir(parents=True, exist_ok=True)
                            with zf.open(info) as src, dest.open("wb") as out:
                                shutil.copyfileobj(src, out, 1 << 20)
                            files.append(dest)
                except zipfile.BadZipFile:
                    raise SignalsError(str(z), "not a readable zip archive") from None
        yield files
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def discover(files: Sequence[Path]) -> tuple[list[Quarter], list[Path]]:
    """Group DEMO/DRUG/REAC files by quarter and collect the Deleted lists; check each quarter's layout."""
    quarters: dict[str, Quarter] = {}
    deleted: list[Path] = []
    for f in files:
        m = _TABLE_RE.match(f.name)
        if m:
            label = f"{m.group(2)}Q{m.group(3)}"
            q = quarters.setdefault(label, Quarter(label))
            kind = m.group(1).upper()
            if kind in q.files:
                raise SignalsError(str(f), f"quarter {label} has two {kind} files ({q.files[kind]} and {f})")
            q.files[kind] = f
        elif _DELETE_RE.search(f.name) and f.suffix.lower() == ".txt":
            deleted.append(f)
    if not quarters:
        raise SignalsError(
            "input", "no FAERS files found (expected DEMOyyQq.txt, DRUGyyQq.txt, REACyyQq.txt)"
        )
    out = []
    for label in sorted(quarters, key=lambda s: (int(s[:2]) < 60, s)):
        q = quarters[label]
        for kind in ("DEMO", "DRUG", "REAC"):
            if kind not in q.files:
                raise SignalsError(f"quarter {label}", f"the {kind} file is missing")
            q.headers[kind] = read_header(q.files[kind])
        q.layout = detect_layout(q.headers["DEMO"], str(q.files["DEMO"]))
        for kind, cols in REQUIRED[q.layout].items():
            missing = [c for c in cols if c not in q.headers[kind]]
            if missing:
                raise SignalsError(
                    str(q.files[kind]),
                    f"unknown FAERS layout: {q.layout.value} {kind} file lacks "
                    f"column(s) {', '.join(missing)}; header: " + "$".join(q.headers[kind]),
                )
        out.append(q)
    return out, deleted


# Report and case ids are parsed as integers by the CSV reader itself (no text column, no cast); a
# value that is not a number stops the read, and the error names the file and line (see _id_error).
ID_COLUMNS = {
    "DEMO": frozenset({"primaryid", "caseid", "isr", "case"}),
    "DRUG": frozenset({"primaryid", "isr"}),
    "REAC": frozenset({"primaryid", "isr"}),
}


def _is_ascii(path: Path) -> bool:
    """Whether a file is plain 7-bit ASCII, read in blocks (``bytes.isascii`` runs at memory speed). Not
    through a memory map: a view of the map that outlives the check (a sampling profiler's frame, as
    Dask's workers keep) makes closing the map fail with BufferError."""
    with path.open("rb") as fh:
        while block := fh.read(1 << 24):
            if not block.isascii():
                return False
    return True


def _scan(
    files: list[Path], header: list[str], ids: frozenset[str] = frozenset(), ascii: bool = False
) -> str:
    """A read_csv over files of one header; ASCII files skip the latin-1 transcoding (same text)."""
    names = [n if n else f"_empty{i}" for i, n in enumerate(header)]
    cols = ", ".join(f"'{n}': '{'BIGINT' if n in ids else 'VARCHAR'}'" for n in names)
    flist = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
    encoding = "" if ascii else "encoding='latin-1', "
    return (
        f"read_csv([{flist}], delim='$', header=true, quote='', escape='', auto_detect=false, "
        f"columns={{{cols}}}, {encoding}filename=true)"
    )


def _union(quarters: list[Quarter], kind: str, select: dict[Layout, str]) -> str:
    groups: dict[tuple[Layout, tuple[str, ...], bool], list[Path]] = {}
    for q in quarters:
        assert q.layout is not None
        f = q.files[kind]
        groups.setdefault((q.layout, tuple(q.headers[kind]), _is_ascii(f)), []).append(f)
    parts = [
        f"SELECT {select[layout]} FROM {_scan(fs, list(h), ID_COLUMNS[kind], ascii)}"
        for (layout, h, ascii), fs in groups.items()
    ]
    return " UNION ALL ".join(parts)


_CONVERSION = re.compile(r'converting column "(?P<col>[^"]+)"')
_CONVERSION_VALUE = re.compile(r'Could not convert string "(?P<value>[^"]*)"')
_CONVERSION_LINE = re.compile(r"CSV Error on Line: (?P<line>\d+)")
_CONVERSION_FILE = re.compile(r"^\s*file = (?P<file>.+?)\s*$", re.MULTILINE)


def _id_error(ex: duckdb.Error, quarters: list[Quarter]) -> SignalsError | None:
    """A clear error for an id column holding something other than a number, naming file and line."""
    text = str(ex)
    if not isinstance(ex, duckdb.ConversionException) and "Conversion Error" not in text:
        return None
    col = _CONVERSION.search(text)
    where = _CONVERSION_FILE.search(text)
    value = _CONVERSION_VALUE.search(text)
    line = _CONVERSION_LINE.search(text)
    what = f"column {col['col']}" if col else "a report/case id column"
    shown = f" value {value['value']!r}" if value else ""
    if where:
        at = f"line {line['line']}: " if line else ""
        return SignalsError(where["file"], f"{at}{what}{shown} is not a number (a report/case id)")
    # No file in the message: find the file by reading the id columns as text, one file at a time.
    for q in quarters:
        for kind, path in q.files.items():
            ids = [c for c in q.headers[kind] if c in ID_COLUMNS[kind]]
            test = " OR ".join(f"NOT regexp_full_match(trim(\"{c}\"), '[0-9]*')" for c in ids)
            if not test:
                continue
            with duckdb.connect() as con:
                bad = con.execute(
                    f"SELECT count(*) FROM {_scan([path], q.headers[kind])} WHERE {test}"
                ).fetchone()
            if bad and bad[0]:
                return SignalsError(str(path), f"{bad[0]} rows have a report/case id that is not a number")
    return SignalsError("FAERS input", f"{what}{shown} is not a number (a report/case id)")


def _age_group_sql(edges: tuple[float, ...]) -> str:
    unit = " ".join(f"WHEN '{k}' THEN {v!r}" for k, v in AGE_UNIT_YEARS.items())
    years = f"(TRY_CAST(age AS DOUBLE) * CASE upper(trim(age_cod)) {unit} ELSE NULL END)"
    labels = [f"{int(lo)}-{int(hi) - 1}" for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    labels.append(f"{int(edges[-1])}+")
    whens = " ".join(
        f"WHEN {years} >= {lo!r} THEN '{lab}'"
        for lo, lab in zip(reversed(edges), reversed(labels), strict=True)
    )
    return f"CASE WHEN {years} IS NULL OR {years} < 0 THEN 'UNK' {whens} ELSE 'UNK' END"


def ingest(
    inputs: Sequence[str | Path],
    *,
    roles: Sequence[str] = DEFAULT_ROLES,
    strata: Sequence[str] = (),
    semantics: Semantics | str = Semantics.UNIQUE,
    age_group_edges: tuple[float, ...] = AGE_GROUP_EDGES,
    memory_limit: str | None = None,
    threads: int | None = None,
) -> tuple[Counts, FaersSummary]:
    """Read FAERS folders/zips (any mix of quarters and layouts) and count drug-event pairs.

    Drugs are linked to every reaction of their report (FAERS does not link them); names are the active
    ingredient (prod_ai) when present, else the reported drug name, trimmed and upper-cased; reactions
    are MedDRA PT text, trimmed and upper-cased.
    """
    bad = [s for s in strata if s not in STRATA_COLUMNS]
    if bad:
        raise SignalsError(
            "strata", f"FAERS strata must be among {', '.join(STRATA_COLUMNS)}; got {', '.join(bad)}"
        )
    role_list = sorted({r.strip().upper() for r in roles})
    if not role_list or any(r not in ("PS", "SS", "C", "I") for r in role_list):
        raise SignalsError("roles", f"drug roles must be among PS, SS, C, I; got {', '.join(roles)}")
    sem = Semantics(semantics)
    if strata and sem is not Semantics.UNIQUE:
        raise SignalsError(
            "strata", "stratified FAERS counting is available with unique-report counting only"
        )
    with _materialise(inputs) as files:
        quarters, deleted = discover(files)
        try:
            db = duckdb.connect(
                config={
                    # Row order of the intermediate tables is never relied on (every result is ordered
                    # explicitly), so DuckDB may write them in parallel and with less memory.
                    "preserve_insertion_order": False,
                    **{
                        k: v
                        for k, v in (("memory_limit", memory_limit), ("threads", threads))
                        if v is not None
                    },
                }
            )
        except duckdb.Error as ex:
            raise SignalsError("memory_limit/threads", str(ex).splitlines()[0]) from None
        try:
            got = _read(db, quarters, deleted, role_list, tuple(strata), age_group_edges)
        except duckdb.Error as ex:
            raise (_id_error(ex, quarters) or SignalsError("FAERS input", str(ex).splitlines()[0])) from None
        finally:
            db.close()  # DuckDB's buffers are released before the pairs are counted
    raw, drugs, events, n_both = _count_pairs(
        got.pairs["DRUG"], got.pairs["REAC"], got.n_rep, got.stratum, bool(strata), sem
    )
    got.pairs, got.stratum = {}, None  # freed before E is formed
    counts = _assemble(drugs, events, raw, strata=tuple(strata), semantics=sem, zeroes=False)
    layouts: dict[str, int] = {}
    for q in quarters:
        assert q.layout is not None
        layouts[q.layout.value] = layouts.get(q.layout.value, 0) + 1
    labels = tuple(q.label for q in quarters)
    return counts, FaersSummary(labels, layouts, got.demo_rows, got.n_cases, got.n_deleted, n_both)


@dataclass
class _Read:
    """What DuckDB hands over: distinct (report index, name code) pairs, names, strata, tallies."""

    pairs: dict[str, tuple[npt.NDArray[np.int32], npt.NDArray[np.int32], pa.Array]]
    stratum: pa.Table | None
    n_rep: int
    demo_rows: int
    n_cases: int
    n_deleted: int


def _read(
    db: duckdb.DuckDBPyConnection,
    quarters: list[Quarter],
    deleted: list[Path],
    roles: list[str],
    strata: tuple[str, ...],
    edges: tuple[float, ...],
) -> _Read:
    demo = _union(quarters, "DEMO", DEMO_SELECT)
    # Latest version per case: latest fda_dt, then highest primaryid (packed into one sortable integer).
    # One aggregation straight from the files carries the kept version's fields along (a struct, so
    # NULL fields stay NULL) and counts the rows and the rows without a numeric id.
    db.execute(f"""CREATE TEMP TABLE latest AS SELECT caseid, max(k) AS k,
                    arg_max({{'sex': sex, 'age': age, 'age_cod': age_cod,
                             'rdate': COALESCE(NULLIF(trim(init_dt), ''), fda_dt)}}, k) AS f,
                    count(*) AS n_rows, count_if(primaryid IS NULL OR caseid IS NULL) AS n_bad
                  FROM (SELECT *, {VERSION_KEY} AS k
                        FROM ({demo})) GROUP BY caseid""")
    if _scalar(db, "SELECT COALESCE(sum(n_bad), 0) FROM latest"):
        bad = db.execute(
            f"SELECT filename, count(*) FROM ({demo}) WHERE primaryid IS NULL OR caseid IS NULL "
            "GROUP BY filename LIMIT 1"
        ).fetchone()
        assert bad is not None
        raise SignalsError(str(bad[0]), f"{bad[1]} rows have a missing or non-numeric report/case id")
    demo_rows = _scalar(db, "SELECT sum(n_rows) FROM latest")
    n_deleted = 0
    db.execute("CREATE TEMP TABLE deleted (caseid BIGINT)")
    for f in deleted:
        ids = _read_deleted(f)
        if ids.size:
            db.register("del_ids", {"caseid": ids})
            db.execute("INSERT INTO deleted SELECT caseid FROM del_ids")
            db.unregister("del_ids")
    n_deleted = _scalar(db, "SELECT count(*) FROM latest SEMI JOIN deleted USING (caseid)")
    age_group = _age_group_sql(edges)
    # Each kept report gets a dense index and its stratum label (one table, no intermediate copy).
    strat_expr = "concat_ws('|', " + ", ".join(strata) + ")" if strata else "''"
    db.execute(f"""CREATE TEMP TABLE rep_ix AS
        SELECT id, (row_number() OVER () - 1)::INTEGER AS ix, {strat_expr} AS stratum FROM (
        SELECT k % 100000000000 AS id,
               CASE upper(trim(sex)) WHEN 'M' THEN 'M' WHEN 'F' THEN 'F' ELSE 'UNK' END AS sex,
               {age_group} AS age_group,
               COALESCE(substr(rdate, 1, 4), 'UNK') AS year
        FROM (SELECT k, f.sex AS sex, f.age AS age, f.age_cod AS age_cod, f.rdate AS rdate FROM latest
              WHERE caseid NOT IN (SELECT caseid FROM deleted)))""")
    n_cases = _scalar(db, "SELECT count(*) FROM latest")
    db.execute("DROP TABLE latest")
    role_in = ", ".join(f"'{r}'" for r in roles)
    # DuckDB parses, filters and normalises the DRUG and REAC rows and attaches the report index (a
    # hash join on the report id). De-duplication and counting then run on integer arrays in NumPy,
    # and the names are coded once per distinct name (Arrow).
    n_rep = _scalar(db, "SELECT count(*) FROM rep_ix")
    pairs: dict[str, tuple[npt.NDArray[np.int32], npt.NDArray[np.int32], pa.Array]] = {}
    for kind, sel, cond in (
        ("DRUG", DRUG_SELECT, f"u.role_cod IN ({role_in})"),
        ("REAC", REAC_SELECT, "true"),
    ):
        col = "name" if kind == "DRUG" else "pt"
        got = db.sql(f"""SELECT r.ix, upper(trim(u.{col})) AS name
            FROM ({_union(quarters, kind, sel)}) u JOIN rep_ix r ON u.id = r.id
            WHERE {cond} AND trim(u.{col}) <> ''""").to_arrow_table()
        pairs[kind] = _distinct_pairs(got)
        del got
    stratum = db.sql("SELECT ix, stratum FROM rep_ix").to_arrow_table() if strata else None
    return _Read(pairs, stratum, n_rep, demo_rows, n_cases, n_deleted)


def _distinct_pairs(got: pa.Table) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32], pa.Array]:
    """Distinct (report index, name code) pairs sorted by report, and the names the codes index."""
    enc = pc.dictionary_encode(got["name"]).combine_chunks()
    names = enc.dictionary
    bits = max(len(names) - 1, 1).bit_length()
    reports = got["ix"].combine_chunks() if got.num_rows else np.empty(0, np.int32)
    key = np.array(reports, dtype=np.int64)  # a writable copy, shifted and or-ed in place
    key <<= bits
    key |= np.asarray(enc.indices, dtype=np.int64) if got.num_rows else 0
    key.sort()
    key = key[_first_of_runs(key)]
    ix = (key >> bits).astype(np.int32)  # half the memory of the 64-bit keys
    key &= (1 << bits) - 1
    return ix, key.astype(np.int32), names


def _sorted_names(
    code: npt.NDArray[np.integer[Any]], names: pa.Array
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.object_]]:
    """Codes renumbered in the sorted order of the names that occur (others are dropped)."""
    used = np.zeros(len(names), dtype=np.bool_)
    used[code] = True
    which = np.flatnonzero(used)
    order = which[np.asarray(pc.array_sort_indices(names.take(pa.array(which))), dtype=np.int64)]
    rank = np.zeros(len(names), dtype=np.int64)
    rank[order] = np.arange(order.size, dtype=np.int64)
    return rank[code], np.asarray(names.take(pa.array(order)).to_pylist(), dtype=object)


CROSS_CHUNK = 1 << 24  # (report, drug, reaction) rows expanded at a time
DENSE_CELLS = 1 << 26  # cell counts in a dense array up to this many drug x event combinations


def _count_pairs(
    drug_pairs: tuple[npt.NDArray[np.int32], npt.NDArray[np.int32], pa.Array],
    reac_pairs: tuple[npt.NDArray[np.int32], npt.NDArray[np.int32], pa.Array],
    n_rep: int,
    stratum: pa.Table | None,
    stratified: bool,
    sem: Semantics,
) -> tuple[_Raw, npt.NDArray[np.object_], npt.NDArray[np.object_], int]:
    """Counts over the reports that have both a kept drug and a reaction.

    FAERS does not link drugs to reactions, so each report contributes the product of its distinct
    drugs and distinct reactions; every (report, drug, reaction) row of that product is distinct, so
    unique-report and pair counting give the same cells and differ only in the margins.
    """
    i64 = np.int64
    d_ix, d_code, d_names = drug_pairs
    e_ix, e_code, e_names = reac_pairs
    n_d_rep = np.bincount(d_ix, minlength=n_rep)
    n_e_rep = np.bincount(e_ix, minlength=n_rep)
    both = (n_d_rep > 0) & (n_e_rep > 0)
    keep = both[d_ix]
    d_ix, d_code = d_ix[keep], d_code[keep]
    keep = both[e_ix]
    e_ix, e_code = e_ix[keep], e_code[keep]
    di, drugs = _sorted_names(d_code, d_names)
    ei, events = _sorted_names(e_code, e_names)
    n_d_rep = np.where(both, n_d_rep, 0)
    n_e_rep = np.where(both, n_e_rep, 0)
    n_both = int(np.count_nonzero(both))
    cells, n = _cross_cells(d_ix, di, ei, n_e_rep, drugs.size, events.size)
    if sem is Semantics.UNIQUE:
        nd = np.bincount(di, minlength=drugs.size).astype(i64)
        ne = np.bincount(ei, minlength=events.size).astype(i64)
        nt = n_both
    else:  # each (report, drug) pairs with every reaction of the report, and the other way round
        nd = np.bincount(di, weights=n_e_rep[d_ix], minlength=drugs.size).astype(i64)
        ne = np.bincount(ei, weights=n_d_rep[e_ix], minlength=events.size).astype(i64)
        nt = int(np.dot(n_d_rep.astype(i64), n_e_rep.astype(i64)))
    c_d, c_e = np.divmod(cells, max(events.size, 1))
    if not stratified or stratum is None:
        return _Raw(c_d, c_e, n, nd, ne, nt), drugs, events, n_both
    # Strata coded 0..S-1 in the sorted order of those that occur among the counted reports.
    s_ix = np.asarray(stratum["ix"].combine_chunks(), dtype=i64)
    s_enc = pc.dictionary_encode(stratum["stratum"]).combine_chunks()
    s_of = np.zeros(n_rep, dtype=i64)
    s_of[s_ix] = np.asarray(s_enc.indices, dtype=i64)
    sid, snames = _sorted_names(s_of[both], s_enc.dictionary)
    s_of[both] = sid
    totals = np.bincount(sid, minlength=snames.size).astype(np.float64)
    return (
        _Raw(
            c_d,
            c_e,
            n,
            nd,
            ne,
            nt,
            totals,
            _stratum_margin(s_of[d_ix], di, drugs.size),
            _stratum_margin(s_of[e_ix], ei, events.size),
        ),
        drugs,
        events,
        n_both,
    )


def _stratum_margin(
    sid: npt.NDArray[np.int64], code: npt.NDArray[np.int64], size: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """(stratum, code, reports) for every pair that occurs; each input row is one distinct report pair."""
    width = max(size, 1)
    key = sid * width + code
    span = (int(sid.max()) + 1) * width if sid.size else 0
    if span <= DENSE_CELLS:  # a counting pass gives the same sorted keys and counts as a sort
        full = np.bincount(key, minlength=span)
        keys = np.flatnonzero(full)
        k = full[keys]
    else:
        keys, k = np.unique(key, return_counts=True)
    s, c = np.divmod(keys.astype(np.int64), width)
    return s, c, k.astype(np.float64)


def _cross_cells(
    d_ix: npt.NDArray[np.int32],
    di: npt.NDArray[np.int64],
    ei: npt.NDArray[np.int64],
    n_e_rep: npt.NDArray[np.int64],
    n_drugs: int,
    n_events: int,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Cells (drug * n_events + event, sorted) and their counts over each report's drugs x reactions.

    ``ei`` is in report order; a report's reactions start at the cumulative count of those before it.
    The product is expanded a chunk of drug rows at a time, so memory stays bounded.
    """
    i64 = np.int64
    start = np.cumsum(n_e_rep) - n_e_rep
    reps = n_e_rep[d_ix]
    ends = np.cumsum(reps)
    size = n_drugs * n_events
    dense = np.zeros(size, dtype=i64) if size <= DENSE_CELLS else None
    found: list[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]] = []
    a = 0
    while a < d_ix.size:
        b = int(np.searchsorted(ends, (ends[a - 1] if a else 0) + CROSS_CHUNK, side="right"))
        b = max(b, a + 1)
        m = reps[a:b]
        total = int(m.sum())
        first = np.cumsum(m) - m
        pos = np.arange(total, dtype=i64)
        pos -= np.repeat(first - start[d_ix[a:b]], m)
        key = np.repeat(di[a:b] * n_events, m)
        key += ei[pos]
        if dense is not None:
            dense += np.bincount(key, minlength=size)
        else:
            found.append(np.unique(key, return_counts=True))
        a = b
    if dense is not None:
        cells = np.flatnonzero(dense).astype(i64)
        return cells, dense[cells]
    if not found:
        return np.empty(0, dtype=i64), np.empty(0, dtype=i64)
    keys = np.concatenate([k for k, _ in found])
    counts = np.concatenate([c for _, c in found])
    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    first_of = _first_of_runs(keys)
    return keys[first_of], np.add.reduceat(counts[order], np.flatnonzero(first_of)).astype(i64)


def _scalar(db: duckdb.DuckDBPyConnection, sql: str) -> int:
    rows = db.execute(sql).fetchall()  # fetched to the end: the connection is free for the next query
    return int(rows[0][0])


def _read_deleted(path: Path) -> np.ndarray:
    """Case ids, one a line; a non-numeric first line is a header."""
    lines = [ln.strip().rstrip("$").strip() for ln in path.read_text(encoding="latin-1").splitlines()]
    lines = [ln for ln in lines if ln]
    if lines and not lines[0].isdigit():
        lines = lines[1:]
    for k, ln in enumerate(lines):
        if not ln.isdigit():
            raise SignalsError(str(path), f"line {k + 1}: {ln!r} is not a case id")
    return np.asarray([int(x) for x in lines], dtype=np.int64)
