"""Responder endpoints from long visit data (one row per patient and visit), vectorised.

Rules (documented in docs/outcomes.md):

- Baseline is the patient's week-0 row; exactly one per patient. Arm and strata are read from it and
  must be the same on every row of the patient.
- The visit for target week *t* with window *w* is chosen per endpoint among the patient's post-baseline
  rows (week > 0) with ``|week − t| ≤ w`` *and a recorded value of the endpoint's score*: the nearest to
  *t*; at equal distance (to 1e-6 week) the later visit. Two rows of one patient at the chosen week are an
  error. A patient with no such visit is missing at *t*.
- Percent change = (current − baseline) / baseline × 100 and responder status come from
  :mod:`repigment.scoring` (``responder_mask``); a baseline of 0 makes VASI endpoints undefined for that
  patient (not evaluable, reported, never counted as non-responder).
- VNS 4–5 (Batchelor et al. 2016) needs no baseline: success is ``vns_success`` at the chosen visit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from repigment.outcomes.errors import OutcomesError
from repigment.scoring import ENDPOINTS as VASI_ENDPOINTS
from repigment.scoring import responder_mask, vns_success

REQUIRED_COLUMNS: Final = ("patient_id", "arm", "week", "f_vasi", "t_vasi")
VNS_ENDPOINT: Final = "VNS4-5"
ENDPOINT_NAMES: Final = (*VASI_ENDPOINTS, VNS_ENDPOINT)
DEFAULT_TREATMENT: Final = "ruxolitinib"
DEFAULT_CONTROL: Final = "vehicle"
# Visits at the same distance from the target (within this many weeks) are ties; the later one wins.
TIE_RESOLUTION_WEEKS: Final = 1e-6
_VNS_SUCCESS: Final = np.array([v for v in range(1, 6) if vns_success(v)], dtype=np.float64)
_SCORE_MAX: Final = {"f_vasi": 100.0, "t_vasi": 100.0}


def normalise_endpoint(name: str) -> str:
    key = name.strip().upper().replace(" ", "").replace("–", "-")
    if key in {"VNS", "VNS4-5", "VNS45", "VNS4/5"}:
        return VNS_ENDPOINT
    for known in VASI_ENDPOINTS:
        if key == known or key == known.replace("-", ""):
            return known
    raise OutcomesError(
        "endpoint", f"unknown endpoint {name!r}; choose one of {', '.join(ENDPOINT_NAMES)}", kind="option"
    )


def score_column(endpoint: str) -> str:
    return "vns" if endpoint == VNS_ENDPOINT else VASI_ENDPOINTS[endpoint][0]


# Number columns of long data: in these an empty cell and the text "NA" (R's missing value) are missing.
# In every other (category or text) column only an empty cell is missing: "NA" is a value there (trial
# data code North America as "NA").
NUMBER_COLUMNS: Final = ("week", "f_vasi", "t_vasi", "vns")
NUMBER_MISSING: Final = ("", "NA")
CATEGORY_MISSING: Final = ("",)


def read_long(path: str | Path, categorical: tuple[str, ...] = ()) -> pd.DataFrame:
    """Read CSV or Parquet long data; identifier and label columns become categoricals (fast codes).

    Missing values in a CSV: see ``NUMBER_COLUMNS``. How many values of each column were read as missing
    is kept in ``df.attrs["missing_read"]`` (the analysis reports it)."""
    p = Path(path)
    cats = {"patient_id", "arm", "trial", *categorical}
    try:
        if p.suffix.lower() in {".parquet", ".pq"}:
            df = pd.read_parquet(p)
        else:
            head = pd.read_csv(p, nrows=0)
            na = {c: list(NUMBER_MISSING if c in NUMBER_COLUMNS else CATEGORY_MISSING) for c in head.columns}
            df = pd.read_csv(
                p,
                dtype={c: "category" for c in cats if c in head.columns},
                keep_default_na=False,
                na_values=na,
                low_memory=False,
            )
    except FileNotFoundError:
        raise OutcomesError("file", f"{p} not found", kind="input") from None
    except (OSError, ValueError, pd.errors.ParserError) as e:
        raise OutcomesError(
            "file", f"cannot read {p}: {str(e).strip().splitlines()[0]}", kind="input"
        ) from None
    for c in cats:
        if c in df.columns and not isinstance(df[c].dtype, pd.CategoricalDtype):
            df[c] = df[c].astype("category")
    df = df.reset_index(drop=True)
    df.attrs["missing_read"] = {str(c): int(n) for c, n in df.isna().sum().items()}
    return df


def _first(mask: npt.NDArray[np.bool_]) -> int:
    return int(np.argmax(mask))


def _numeric(df: pd.DataFrame, column: str) -> npt.NDArray[np.float64]:
    """Column as float64; a non-numeric cell raises naming its row. Empty cells are missing (NaN)."""
    s = df[column]
    if pd.api.types.is_bool_dtype(s.dtype):
        raise OutcomesError(column, "must be numeric, not true/false")
    if s.dtype == np.float64:
        return np.asarray(s.to_numpy(), dtype=np.float64)  # no copy
    if pd.api.types.is_numeric_dtype(s.dtype):
        return np.asarray(s.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)
    coerced = pd.to_numeric(s.astype("object"), errors="coerce")
    bad = coerced.isna().to_numpy() & s.notna().to_numpy()
    if bad.any():
        i = _first(bad)
        raise OutcomesError(column, f"{s.iloc[i]!r} is not a number", i + 1)
    return np.asarray(coerced.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)


def _codes(s: pd.Series, column: str, compress: bool = False) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
    """Integer codes and the labels they index; a missing value raises naming its row.

    ``compress`` drops labels that no row uses (patient ids of a subset of a categorical column);
    arms and strata do not need it, and skipping it saves passes over registry-scale data.
    """
    if isinstance(s.dtype, pd.CategoricalDtype):
        codes: npt.NDArray[Any] = s.cat.codes.to_numpy()
        labels = np.asarray(s.cat.categories, dtype=object)
    elif pd.api.types.is_integer_dtype(s.dtype) and len(s):
        v = s.to_numpy()
        lo, hi = int(v.min()), int(v.max())
        if hi - lo < 4 * len(v) + 16:  # dense integer ids: use them as codes, no hashing
            raw = v.astype(np.int64) - lo
            present = np.bincount(raw, minlength=hi - lo + 1) > 0
            if present.all():
                return raw, np.arange(lo, hi + 1)
            remap = np.cumsum(present) - 1
            return remap[raw], np.flatnonzero(present) + lo
        c, u = pd.factorize(s)
        codes, labels = c, np.asarray(u, dtype=object)
    else:
        c, u = pd.factorize(s)
        codes, labels = c, np.asarray(u, dtype=object)
    missing = codes < 0
    if missing.any():
        raise OutcomesError(column, "missing value", _first(missing) + 1)
    if compress:
        present = np.bincount(codes, minlength=labels.size) > 0
        if not present.all():
            remap = np.cumsum(present) - 1
            return remap[codes], labels[present]
    return codes, labels


@dataclass
class EndpointData:
    """Per-patient endpoint data at the target week (arrays aligned on patients)."""

    endpoint: str
    week: float
    window: float
    patient_id: npt.NDArray[Any]
    treated: npt.NDArray[np.bool_]
    baseline: npt.NDArray[np.float64]  # NaN for VNS
    value: npt.NDArray[np.float64]  # score at the chosen visit; NaN when missing
    visit_week: npt.NDArray[np.float64]
    percent_change: npt.NDArray[np.float64]
    responder: npt.NDArray[np.bool_]
    evaluable: npt.NDArray[np.bool_]  # baseline defined (> 0) — in the analysis population
    observed: npt.NDArray[np.bool_]  # evaluable and a visit in the window
    strata: dict[str, npt.NDArray[np.int64]] = field(default_factory=dict)  # codes into strata_levels
    strata_levels: dict[str, list[str]] = field(default_factory=dict)
    threshold: int | None = None

    @property
    def n_patients(self) -> int:
        return int(self.treated.size)

    def frame(self) -> pd.DataFrame:
        """One row per patient, for export and inspection."""
        out = pd.DataFrame(
            {
                "patient_id": self.patient_id,
                "treated": self.treated,
                "baseline": self.baseline,
                "value": self.value,
                "visit_week": self.visit_week,
                "percent_change": self.percent_change,
                "responder": self.responder,
                "evaluable": self.evaluable,
                "observed": self.observed,
            }
        )
        for k, v in self.strata.items():
            out[k] = np.asarray(self.strata_levels[k], dtype=object)[v]
        return out


def derive(
    df: pd.DataFrame,
    endpoint: str,
    week: float,
    window: float = 2.0,
    treatment: str = DEFAULT_TREATMENT,
    control: str = DEFAULT_CONTROL,
    strata: tuple[str, ...] = (),
) -> EndpointData:
    """Validate long data and compute one endpoint at ``week`` ± ``window``; errors name row and column."""
    endpoint = normalise_endpoint(endpoint)
    col = score_column(endpoint)
    if not week > 0:
        raise OutcomesError("week", f"target week must be after baseline (> 0), got {week}", kind="option")
    if not window >= 0:
        raise OutcomesError("window", f"must be ≥ 0 weeks, got {window}", kind="option")
    if treatment == control:
        raise OutcomesError("treatment", "treatment and control labels must differ", kind="option")
    needed = (*REQUIRED_COLUMNS, *(("vns",) if col == "vns" else ()), *strata)
    for c in needed:
        if c not in df.columns:
            raise OutcomesError(c, f"required column missing (have: {', '.join(map(str, df.columns))})")
    if len(df) == 0:
        raise OutcomesError("file", "no rows", kind="input")

    pid, pid_labels = _codes(df["patient_id"], "patient_id", compress=True)
    arm_codes, arm_labels = _codes(df["arm"], "arm")
    known = {treatment: 1, control: 0}
    arm_map = np.array([known.get(str(lab), -1) for lab in arm_labels], dtype=np.int8)
    row_arm = arm_map[arm_codes]
    if (row_arm < 0).any():
        i = _first(row_arm < 0)
        raise OutcomesError(
            "arm",
            f"unknown arm label {str(df['arm'].iloc[i])!r} (expected {treatment!r} or {control!r})",
            i + 1,
        )
    wk = _numeric(df, "week")
    if not np.isfinite(wk).all():
        i = _first(~np.isfinite(wk))
        raise OutcomesError("week", "missing or not finite", i + 1)
    score = _numeric(df, col)
    for c in ("f_vasi", "t_vasi"):
        _check_range(score if c == col else _numeric(df, c), c)
    if col == "vns":
        _check_vns(score)

    n_pat = int(pid_labels.size)
    base_rows = np.flatnonzero(wk == 0)
    counts = np.bincount(pid[base_rows], minlength=n_pat)
    if (counts > 1).any():
        dup = np.flatnonzero(counts[pid[base_rows]] > 1)
        i = int(base_rows[dup[1]])
        raise OutcomesError("week", f"second baseline (week 0) row for patient {pid_labels[pid[i]]}", i + 1)
    if (counts == 0).any():
        i = _first(counts[pid] == 0)
        raise OutcomesError("week", f"patient {pid_labels[pid[i]]} has no baseline (week 0) row", i + 1)
    base_of = np.empty(n_pat, dtype=np.int64)
    base_of[pid[base_rows]] = base_rows
    treated_p = row_arm[base_of]
    drift = row_arm != treated_p[pid]
    if drift.any():
        i = _first(drift)
        raise OutcomesError(
            "arm", f"patient {pid_labels[pid[i]]} changes arm (baseline row {base_of[pid[i]] + 1})", i + 1
        )
    strata_out: dict[str, npt.NDArray[np.int64]] = {}
    strata_levels: dict[str, list[str]] = {}
    for s in strata:
        sc, slab = _codes(df[s], s)
        ps = sc[base_of]
        moved = sc != ps[pid]
        if moved.any():
            i = _first(moved)
            raise OutcomesError(
                s, f"patient {pid_labels[pid[i]]} changes {s} (baseline row {base_of[pid[i]] + 1})", i + 1
            )
        used = np.bincount(ps, minlength=slab.size) > 0  # per patient: cheap
        remap = np.cumsum(used) - 1
        strata_out[s] = remap[ps].astype(np.int64)
        strata_levels[s] = [str(v) for v in slab[used]]

    # visit selection: minimise (distance to target, earlier-first) per patient with one integer key
    in_window = np.abs(wk - week) <= window + TIE_RESOLUTION_WEEKS
    if week - window - TIE_RESOLUTION_WEEKS <= 0:
        in_window &= wk > 0
    rows = np.flatnonzero(in_window)
    rows = rows[np.isfinite(score[rows])]
    qd = np.rint(np.abs(wk[rows] - week) / TIE_RESOLUTION_WEEKS).astype(np.int64)
    key = (qd << 1) | (wk[rows] <= week).astype(np.int64)  # ties: the later visit (week > target) first
    best = np.full(n_pat, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(best, pid[rows], key)
    chosen = rows[key == best[pid[rows]]]
    per = np.bincount(pid[chosen], minlength=n_pat)
    if (per > 1).any():
        dup_rows = chosen[per[pid[chosen]] > 1]
        dup_rows.sort()
        i = int(dup_rows[1])
        raise OutcomesError("week", f"two visits of patient {pid_labels[pid[i]]} at week {wk[i]:g}", i + 1)
    value = np.full(n_pat, np.nan)
    visit = np.full(n_pat, np.nan)
    value[pid[chosen]] = score[chosen]
    visit[pid[chosen]] = wk[chosen]

    if col == "vns":
        baseline = np.full(n_pat, np.nan)
        evaluable = np.ones(n_pat, dtype=bool)
        observed = np.isfinite(value)
        responder = np.isin(value, _VNS_SUCCESS)
        pct = np.full(n_pat, np.nan)
        threshold = None
    else:
        baseline = score[base_of]
        if not np.isfinite(baseline).all():
            p = _first(~np.isfinite(baseline))
            raise OutcomesError(
                col, f"baseline score missing for patient {pid_labels[p]}", int(base_of[p]) + 1
            )
        threshold = VASI_ENDPOINTS[endpoint][1]
        responder, observed = responder_mask(baseline, value, threshold)
        evaluable = baseline > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            # same formula as scoring.percent_change (the exact reference), in float64
            pct = np.where(observed, (value - baseline) / np.where(evaluable, baseline, 1.0) * 100.0, np.nan)
    return EndpointData(
        endpoint=endpoint,
        week=float(week),
        window=float(window),
        patient_id=pid_labels,
        treated=treated_p.astype(bool),
        baseline=baseline,
        value=value,
        visit_week=visit,
        percent_change=pct,
        responder=responder,
        evaluable=evaluable,
        observed=observed,
        strata=strata_out,
        strata_levels=strata_levels,
        threshold=threshold,
    )


def _check_range(values: npt.NDArray[np.float64], column: str) -> None:
    bad = (values < 0) | (values > _SCORE_MAX[column])  # NaN (missing) compares False; ±inf is caught
    if bad.any():
        i = _first(bad)
        raise OutcomesError(column, f"{values[i]:g} is outside 0–{_SCORE_MAX[column]:g}", i + 1)


def _check_vns(values: npt.NDArray[np.float64]) -> None:
    bad = (values < 1) | (values > 5) | (np.abs(values - np.rint(values)) > 0)  # NaN passes: missing
    if bad.any():
        i = _first(bad)
        raise OutcomesError("vns", f"{values[i]:g} is not a VNS answer (whole number 1–5)", i + 1)
