"""Building and extending a quarterly history on disk, on one machine or on a Dask cluster.

A history is a folder named like a Parquet file (``history.parquet/``) that Parquet readers open as one
table: one ``part-<quarter>.parquet`` file per scored quarter (rows: drug-event pairs), and ``_state/``
(ignored by readers, as every name starting with ``_``), which holds the integer counts and the current
version of every case so that the next quarter is added without reading the earlier ones again.

Reading a quarter's files and scoring a quarter are independent tasks; a :class:`Runner` runs them
here or on a cluster. Bringing the counts from one quarter to the next is a short sequential step on
integer arrays and always runs in this process, so the cluster changes where work runs, not its result.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from repigment.signals import faers as fa
from repigment.signals.errors import SignalsError
from repigment.signals.history import (
    HistoryState,
    Names,
    PriorPolicy,
    PriorRecord,
    QuarterFiles,
    QuarterSummary,
    ScoreJob,
    Snapshot,
    SparseCounts,
    _Block,
    parse_quarter,
    plan_quarters,
    quarter_name,
    read_quarter,
    refits,
    run_score_job,
)
from repigment.signals.mgps import Theta
from repigment.signals.scores import Mode
from repigment.signals.screening import EMA_MIN_COUNT
from repigment.signals.threads import one_blas_thread

STATE_DIR = "_state"
STATE_VERSION = 1


class Future(Protocol):
    def result(self) -> Any: ...


class Runner(Protocol):
    """Where tasks run: ``submit`` returns something with ``result()``; ``ahead`` quarters are read early."""

    ahead: int

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future: ...

    def close(self) -> None: ...


class _Later:
    def __init__(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self.fn, self.args = fn, args

    def result(self) -> Any:
        return self.fn(*self.args)


class LocalRunner:
    """Runs each task in this process when its result is asked for (nothing is held ahead)."""

    ahead = 0

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        return _Later(fn, args)

    def close(self) -> None:
        pass


class ThreadRunner:
    """Runs tasks on threads of this process: the next quarter is read while this one is scored.

    Reading (DuckDB), scoring (NumPy, SciPy) and writing (Arrow) release the GIL, and much of a
    quarter's work (the fit, E, the write) runs on one core, so two quarters in flight keep both
    cores busy. Every task is a function of its arguments, so the result does not depend on timing.
    """

    def __init__(self, threads: int = 2, ahead: int = 1) -> None:
        self.ahead = ahead
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="history")

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        return self._pool.submit(fn, *args)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def default_runner() -> Runner:
    """The runner without a cluster: threads where there are at least two cores."""
    return ThreadRunner() if (os.cpu_count() or 1) >= 2 else LocalRunner()


@dataclass(frozen=True)
class HistorySettings:
    """How a history is counted and scored; stored with it, so that an update scores the same way."""

    roles: tuple[str, ...] = fa.DEFAULT_ROLES
    strata: tuple[str, ...] = fa.STRATA_COLUMNS
    age_group_edges: tuple[float, ...] = fa.AGE_GROUP_EDGES
    mode: str = Mode.EXACT.value
    policy: str = PriorPolicy.QUARTERLY.value
    theta: str | None = None  # the prior of the fixed policy
    ema_min_count: int = EMA_MIN_COUNT
    since: str | None = None  # first quarter scored (earlier ones are counted only)
    memory_limit: str | None = "6GB"  # DuckDB, per quarter read

    def checked(self) -> HistorySettings:
        roles = tuple(sorted({r.strip().upper() for r in self.roles}))
        if not roles or any(r not in ("PS", "SS", "C", "I") for r in roles):
            raise SignalsError("roles", f"drug roles must be among PS, SS, C, I; got {', '.join(self.roles)}")
        bad = [s for s in self.strata if s not in fa.STRATA_COLUMNS]
        if bad:
            raise SignalsError(
                "strata", f"FAERS strata must be among {', '.join(fa.STRATA_COLUMNS)}; got {', '.join(bad)}"
            )
        Mode(self.mode)
        try:
            policy = PriorPolicy(self.policy)
        except ValueError:
            raise SignalsError("prior", f"must be quarterly, yearly or fixed, got {self.policy!r}") from None
        if (self.theta is None) != (policy is not PriorPolicy.FIXED):
            raise SignalsError("prior", "a fixed prior needs theta, and theta means a fixed prior")
        if self.theta is not None:
            Theta.parse(self.theta)
        since = parse_quarter(self.since, "since") if self.since else None
        return replace(self, roles=roles, strata=tuple(self.strata), since=since)


@dataclass
class HistoryResult:
    out: Path
    quarters: list[str]  # counted in this run
    scored: list[str]
    summaries: list[QuarterSummary]
    priors: list[PriorRecord]
    rows: int
    settings: HistorySettings
    # Seconds spent here waiting for quarters to be read, carrying the counts forward (sequential;
    # CPU seconds of this thread, so that threads working beside it do not inflate it), and waiting
    # for quarters to be fitted, scored and written. With a local runner the waits are the work
    # itself; with threads or a cluster they are what the work beside this thread did not hide.
    timings: dict[str, float] = field(default_factory=dict)


Progress = Callable[[int, int, str, QuarterSummary], None]  # quarters done, of, quarter, its summary


def build_history(
    inputs: Sequence[str | Path],
    out: str | Path,
    settings: HistorySettings = HistorySettings(),
    *,
    runner: Runner | None = None,
    progress: Progress | None = None,
) -> HistoryResult:
    """Count every quarter of a FAERS extract and score each (from ``since``) into ``out``."""
    s = settings.checked()
    target = Path(out)
    _check_target(target)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        with fa._materialise(inputs) as files:
            plan = plan_quarters(files)
            state = HistoryState(strata=s.strata)
            result = _with_runner(runner, lambda r: _run(state, plan, s, tmp, [], r, progress))
        _save_state(state, s, result.priors, tmp)
        if target.exists():
            old = target.with_name(f".{target.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            target.rename(old)
            tmp.rename(target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    result.out = target
    return result


def update_history(
    out: str | Path,
    inputs: Sequence[str | Path],
    *,
    runner: Runner | None = None,
    progress: Progress | None = None,
) -> HistoryResult:
    """Add new quarters to a history: its saved counts are the start, only the new files are read."""
    target = Path(out)
    state, s, priors = load_state(target)
    with fa._materialise(inputs) as files:
        plan = plan_quarters(files)
        last = quarter_name(state.labels[-1]) if state.labels else ""
        old = [qf.name for qf in plan if qf.name <= last]
        if old:
            raise SignalsError(
                str(inputs[0]) if inputs else "input",
                f"the history already runs to {last}; these quarters are not new: {', '.join(old)}",
            )
        result = _with_runner(runner, lambda r: _run(state, plan, s, target, priors, r, progress))
    _save_state(state, s, priors + result.priors, target)
    return result


def _with_runner(runner: Runner | None, work: Callable[[Runner], HistoryResult]) -> HistoryResult:
    """``work`` on the given runner, or on a default runner made and closed here.

    BLAS runs on one thread throughout: quarters fitted side by side on threads would otherwise
    set and restore the process-wide BLAS limit around each other's fits.
    """
    with one_blas_thread():
        if runner is not None:
            return work(runner)
        own = default_runner()
        try:
            return work(own)
        finally:
            own.close()


def _check_target(target: Path) -> None:
    if not target.parent.is_dir():
        raise SignalsError(str(target), f"folder {target.parent} does not exist")
    if target.exists() and not (
        (target.is_dir() and (target / STATE_DIR / "meta.json").exists())
        or (target.is_dir() and not any(target.iterdir()))
    ):
        raise SignalsError(str(target), "exists and is not a history; choose another name or remove it")


def _run(
    state: HistoryState,
    plan: list[QuarterFiles],
    s: HistorySettings,
    folder: Path,
    earlier: list[PriorRecord],
    runner: Runner,
    progress: Progress | None,
) -> HistoryResult:
    policy = PriorPolicy(s.policy)
    fixed = Theta.parse(s.theta) if s.theta else None
    reads: deque[tuple[QuarterFiles, Future]] = deque()
    todo = deque(plan)

    def read_ahead() -> None:
        while todo and len(reads) <= runner.ahead:
            qf = todo.popleft()
            reads.append(
                (qf, runner.submit(read_quarter, qf, s.roles, s.strata, s.age_group_edges, s.memory_limit))
            )

    priors: list[PriorRecord] = []
    summaries: list[QuarterSummary] = []
    scored: list[str] = []
    rows = 0
    pending: deque[tuple[Future, list[tuple[Snapshot, QuarterSummary]], ScoreJob]] = deque()
    timings = {"read": 0.0, "count": 0.0, "score": 0.0}
    settings_json = json.dumps(asdict(s))
    group: list[tuple[Snapshot, QuarterSummary]] = []

    def last_theta() -> Theta | None:
        recs = earlier + priors
        return recs[-1].theta if recs else None

    def submit(items: list[tuple[Snapshot, QuarterSummary]], theta: Theta | None, source: str) -> None:
        job = ScoreJob(
            tuple(sn for sn, _ in items), theta, s.mode, s.ema_min_count, source, str(folder), settings_json
        )
        pending.append((runner.submit(run_score_job, job), items, job))

    def drain(block: bool) -> None:
        nonlocal rows
        while pending and (block or len(pending) > runner.ahead):
            fut, items, _ = pending.popleft()
            t0 = time.perf_counter()
            got = fut.result()
            timings["score"] += time.perf_counter() - t0
            for (snap, summ), done in zip(items, got, strict=True):
                if done.prior is None:  # the fit failed: carry the last prior forward
                    theta = last_theta()
                    if theta is None:
                        raise SignalsError(
                            f"quarter {snap.name}",
                            f"the MGPS prior cannot be fitted ({done.reason}); give --theta, or start "
                            "scoring later with --since",
                        )
                    job = ScoreJob(
                        (snap,), theta, s.mode, s.ema_min_count, "carried", str(folder), settings_json
                    )
                    again = run_score_job(job)[0]
                    assert again.prior is not None
                    done = replace(again, prior=replace(again.prior, reason=done.reason))
                rec = done.prior
                assert rec is not None
                rows += done.rows
                priors.append(rec)
                scored.append(snap.name)
                if progress:
                    progress(plan_names.index(snap.name) + 1, len(plan), snap.name, summ)

    plan_names = [qf.name for qf in plan]
    read_ahead()
    first_scored = not earlier
    while reads:
        qf, fut = reads.popleft()
        read_ahead()
        t0 = time.perf_counter()
        rows_q = fut.result()
        timings["read"] += time.perf_counter() - t0
        c0 = time.thread_time()
        summ = state.add_quarter(rows_q)
        del rows_q
        summaries.append(summ)
        timings["count"] += time.thread_time() - c0
        if s.since is not None and qf.name < s.since:
            if progress:
                progress(len(summaries), len(plan), qf.name, summ)
            continue
        c0 = time.thread_time()
        snap = state.snapshot()
        timings["count"] += time.thread_time() - c0
        if policy is PriorPolicy.FIXED:
            submit([(snap, summ)], fixed, "given")
        elif policy is PriorPolicy.QUARTERLY:
            submit([(snap, summ)], None, "fitted")
        elif refits(policy, qf.label, first_scored):
            if group:
                submit(group, None, "fitted")
            group = [(snap, summ)]
        elif group:
            group.append((snap, summ))
        else:  # an update within a year: reuse the year's prior
            submit([(snap, summ)], last_theta(), "reused")
        first_scored = False
        drain(block=False)
    if group:
        submit(group, None, "fitted")
    drain(block=True)
    return HistoryResult(folder, [qf.name for qf in plan], scored, summaries, priors, rows, s, timings)


def open_history(path: str | Path) -> ds.Dataset:
    """A history as one lazily read table (pyarrow dataset over its part files)."""
    p = Path(path)
    parts = sorted(p.glob("part-*.parquet")) if p.is_dir() else []
    if not parts:
        raise SignalsError(str(p), "not a history (no part-<quarter>.parquet files)")
    return ds.dataset([str(f) for f in parts], format="parquet")


# --- saved state ----------------------------------------------------------------------------------------


def _save_state(state: HistoryState, s: HistorySettings, priors: list[PriorRecord], folder: Path) -> None:
    """Write ``_state`` beside the parts: a new folder, swapped in when complete."""
    state.compact()
    new = folder / f"{STATE_DIR}.new"
    shutil.rmtree(new, ignore_errors=True)
    new.mkdir()
    block = state.blocks[0]
    assert block is not None
    n = state.n_slots
    np.savez(
        new / "arrays.npz",
        case_ids=state.case_ids,
        case_slot=state.case_slot,
        slot_k=state.slot_k[:n],
        slot_block=state.slot_block[:n],
        slot_local=state.slot_local[:n],
        deleted_ids=state.deleted_ids,
        d_off=block.d_off,
        d_code=block.d_code,
        e_off=block.e_off,
        e_code=block.e_code,
        stratum=block.stratum,
        cell_keys=state.cells.keys,
        cell_counts=state.cells.counts,
        nd=state.nd,
        ne=state.ne,
        st_total=state.st_total,
        st_drug_keys=state.st_drug.keys,
        st_drug_counts=state.st_drug.counts,
        st_event_keys=state.st_event.keys,
        st_event_counts=state.st_event.counts,
    )
    for kind, names in (("drugs", state.drugs), ("events", state.events), ("strata", state.strata_names)):
        pq.write_table(pa.table({"name": pa.array(names.names, pa.string())}), new / f"{kind}.parquet")
    meta = {
        "version": STATE_VERSION,
        "settings": asdict(s),
        "labels": state.labels,
        "n_slots": n,
        "nt": state.nt,
        "priors": [p.as_dict() for p in priors],
    }
    (new / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    cur = folder / STATE_DIR
    old = folder / f"{STATE_DIR}.old"
    shutil.rmtree(old, ignore_errors=True)
    if cur.exists():
        cur.rename(old)
    new.rename(cur)
    shutil.rmtree(old, ignore_errors=True)


def load_state(folder: Path) -> tuple[HistoryState, HistorySettings, list[PriorRecord]]:
    d = folder / STATE_DIR
    if not (d / "meta.json").exists():
        raise SignalsError(str(folder), "not a history made by signals-history (no _state/meta.json)")
    meta = json.loads((d / "meta.json").read_text(encoding="utf-8"))
    if meta.get("version") != STATE_VERSION:
        raise SignalsError(str(folder), f"history state version {meta.get('version')} is not {STATE_VERSION}")
    raw = meta["settings"]
    s = HistorySettings(
        **{
            **raw,
            "roles": tuple(raw["roles"]),
            "strata": tuple(raw["strata"]),
            "age_group_edges": tuple(raw["age_group_edges"]),
        }
    )
    with np.load(d / "arrays.npz", allow_pickle=False) as z:
        a = {k: z[k] for k in z.files}

    def names(kind: str) -> Names:
        return Names(pq.read_table(d / f"{kind}.parquet")["name"].to_pylist())

    state = HistoryState(
        strata=s.strata,
        labels=list(meta["labels"]),
        drugs=names("drugs"),
        events=names("events"),
        strata_names=names("strata"),
        case_ids=a["case_ids"],
        case_slot=a["case_slot"],
        n_slots=int(meta["n_slots"]),
        slot_k=a["slot_k"],
        slot_block=a["slot_block"],
        slot_local=a["slot_local"],
        deleted_ids=a["deleted_ids"],
        blocks=[_Block(a["d_off"], a["d_code"], a["e_off"], a["e_code"], a["stratum"])],
        cells=SparseCounts(a["cell_keys"], a["cell_counts"]),
        nd=a["nd"],
        ne=a["ne"],
        nt=int(meta["nt"]),
        st_total=a["st_total"],
        st_drug=SparseCounts(a["st_drug_keys"], a["st_drug_counts"]),
        st_event=SparseCounts(a["st_event_keys"], a["st_event_counts"]),
    )
    return state, s, [PriorRecord.from_dict(p) for p in meta["priors"]]
