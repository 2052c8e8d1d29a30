"""Synthetic FAERS quarterly extracts in the three historical ASCII layouts, with known answers.

Drugs and reactions follow Zipf-like popularity; a report lists 1 + Poisson(2.2) drugs (first primary
suspect, then secondary suspect, concomitant or interacting) and 1 + Poisson(1.6) reactions. Planted
drug-event associations are added on top. Some cases get a superseded earlier version (carrying a
reaction that only that version reports) and some are listed in a Deleted file (carrying a reaction
only deleted cases report); a drug that is only ever concomitant carries its own reaction. After
correct ingestion the planted pairs are signals and none of the decoys occurs.

Run: ``python -m repigment.signals.synthetic OUTDIR --reports N`` or ``repigment signals-synth``.
"""

from __future__ import annotations

import argparse
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from repigment.signals.faers import Layout


@dataclass(frozen=True)
class Planted:
    drug: str
    event: str
    probability: float  # chance the event is added to a report naming the drug as a suspect
    drug_rank: int
    start: str | None = None  # first quarter (e.g. 2014Q3) whose reports carry it; None: every quarter


PLANTED = (
    Planted("RUXOLITINIB", "APPLICATION SITE ACNE", 0.30, 120),
    Planted("DRUG000060", "EVENT 00900", 0.20, 60),
    Planted("DRUG000300", "EVENT 02500", 0.50, 300),
    Planted("DRUG000015", "EVENT 00200", 0.05, 15),
)
SUPERSEDED_EVENT = "REPORTED ONLY IN SUPERSEDED VERSIONS"
DELETED_EVENT = "REPORTED ONLY IN DELETED CASES"
CONCOMITANT_DRUG = "ONLY EVER CONCOMITANT"
CONCOMITANT_EVENT = "REPORTED ONLY WITH THE CONCOMITANT DRUG"

DEMO_HEADERS = {
    Layout.FAERS: "primaryid$caseid$caseversion$i_f_code$event_dt$mfr_dt$init_fda_dt$fda_dt$rept_cod$"
    "auth_num$"
    "mfr_num$mfr_sndr$lit_ref$age$age_cod$age_grp$sex$e_sub$wt$wt_cod$rept_dt$to_mfr$occp_cod$"
    "reporter_country$occr_country",
    Layout.FAERS_2012: "primaryid$caseid$caseversion$i_f_code$event_dt$mfr_dt$init_fda_dt$fda_dt$rept_cod$"
    "mfr_num$mfr_sndr$age$age_cod$gndr_cod$e_sub$wt$wt_cod$rept_dt$to_mfr$occp_cod$"
    "reporter_country$occr_country",
    Layout.AERS: "ISR$CASE$I_F_COD$FOLL_SEQ$IMAGE$EVENT_DT$MFR_DT$FDA_DT$REPT_COD$MFR_NUM$MFR_SNDR$"
    "AGE$AGE_COD$"
    "GNDR_COD$E_SUB$WT$WT_COD$REPT_DT$OCCP_COD$DEATH_DT$TO_MFR$CONFID$REPORTER_COUNTRY$",
}
DRUG_HEADERS = {
    Layout.FAERS: "primaryid$caseid$drug_seq$role_cod$drugname$prod_ai$val_vbm$route$dose_vbm$cum_dose_chr$"
    "cum_dose_unit$dechal$rechal$lot_num$exp_dt$nda_num$dose_amt$dose_unit$dose_form$dose_freq",
    Layout.FAERS_2012: "primaryid$caseid$drug_seq$role_cod$drugname$val_vbm$route$dose_vbm$cum_dose_chr$"
    "cum_dose_unit$dechal$rechal$lot_num$exp_dt$nda_num$dose_amt$dose_unit$dose_form$dose_freq",
    Layout.AERS: "ISR$DRUG_SEQ$ROLE_COD$DRUGNAME$VAL_VBM$ROUTE$DOSE_VBM$DECHAL$RECHAL$LOT_NUM$"
    "EXP_DT$NDA_NUM$",
}
REAC_HEADERS = {
    Layout.FAERS: "primaryid$caseid$pt$drug_rec_act",
    Layout.FAERS_2012: "primaryid$caseid$pt",
    Layout.AERS: "ISR$PT$",
}


def layout_of(year: int, quarter: int) -> Layout:
    if (year, quarter) < (2012, 4):
        return Layout.AERS
    if (year, quarter) < (2014, 3):
        return Layout.FAERS_2012
    return Layout.FAERS


def default_quarters(n_reports: int) -> list[tuple[int, int]]:
    """All quarters 2004Q1-2025Q4 for large extracts; a few per layout for small ones."""
    if n_reports >= 1_000_000:
        return [(y, q) for y in range(2004, 2026) for q in range(1, 5)]
    return [(2012, 2), (2012, 3), (2013, 1), (2014, 2), (2014, 3), (2015, 1), (2016, 4)]


@dataclass(frozen=True)
class Truth:
    """What the generator planted, for checks."""

    reports: int  # final, non-deleted cases
    deleted_cases: int
    superseded_cases: int
    planted: tuple[Planted, ...]
    quarters: tuple[str, ...]


def _zipf(
    rng: np.random.Generator, n_items: int, size: int, exponent: float, offset: float
) -> npt.NDArray[np.int64]:
    w = 1.0 / (np.arange(n_items) + offset) ** exponent
    cdf = np.cumsum(w / w.sum())
    return np.minimum(np.searchsorted(cdf, rng.random(size)), n_items - 1).astype(np.int64)


def generate(
    outdir: str | Path,
    reports: int,
    *,
    seed: int = 7,
    quarters: list[tuple[int, int]] | None = None,
    superseded: float = 0.08,
    deleted: float = 0.01,
    zipped: bool = False,
    n_drugs: int | None = None,
    n_events: int | None = None,
    planted: tuple[Planted, ...] = PLANTED,
) -> Truth:
    """Write FAERS/AERS ASCII quarters under ``outdir`` (one folder or zip per quarter)."""
    rng = np.random.default_rng(seed)
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    qs = quarters or default_quarters(reports)
    # Large extracts are calibrated to FAERS: ~20 M cases give ~2.6 M suspect drug-event pairs.
    large = reports >= 1_000_000
    nd = n_drugs or 3_000
    ne = n_events or (1_500 if large else 3_000)
    a_drug, a_event = (1.3, 1.2) if large else (1.1, 1.0)
    drug_names = np.array([f"DRUG{i:06d}" for i in range(nd)], dtype=object)
    event_names = np.array([f"EVENT {i:05d}" for i in range(ne)], dtype=object)
    for p in planted:
        drug_names[p.drug_rank] = p.drug
    known = set(event_names.tolist())
    extra_events = list(dict.fromkeys(p.event for p in planted if p.event not in known))
    extra_events += [SUPERSEDED_EVENT, DELETED_EVENT, CONCOMITANT_EVENT]
    event_names = np.concatenate([event_names, np.array(extra_events, dtype=object)])
    ev_code = {name: k for k, name in enumerate(event_names)}
    drug_names = np.concatenate([drug_names, np.array([CONCOMITANT_DRUG], dtype=object)])
    conc_drug = nd
    profiles = _zipf(rng, ne, nd * 6, 1.0, 5.0).reshape(nd, 6)
    per_q = np.full(len(qs), reports // len(qs))
    per_q[: reports % len(qs)] += 1
    db = duckdb.connect()
    db.register("drug_dict", pa.table({"code": np.arange(drug_names.size), "name": drug_names.astype(str)}))
    db.register(
        "event_dict", pa.table({"code": np.arange(event_names.size), "name": event_names.astype(str)})
    )
    n_sup = n_del = 0
    next_case = 4_000_000
    carry: dict[str, npt.NDArray[np.int64]] | None = None  # superseded cases whose final version comes next
    deleted_ids: list[npt.NDArray[np.int64]] = []
    for qi, (year, quarter) in enumerate(qs):
        m = int(per_q[qi])
        case = next_case + np.arange(m, dtype=np.int64)
        next_case += m
        day0 = np.datetime64(f"{year}-{3 * (quarter - 1) + 1:02d}-01")
        fda = day0 + rng.integers(0, 89, m).astype("timedelta64[D]")
        # Content: drugs with roles, reactions.
        kd = 1 + np.minimum(rng.poisson(2.2, m), 19)
        ke = 1 + np.minimum(rng.poisson(1.6, m), 19)
        d_rep = np.repeat(np.arange(m), kd)
        d_code = _zipf(rng, nd, d_rep.size, a_drug, 8.0)
        first = np.r_[True, d_rep[1:] != d_rep[:-1]]
        u = rng.random(d_rep.size)
        role = np.where(first, 0, np.where(u < 0.25, 1, np.where(u < 0.95, 2, 3)))  # PS, SS, C, I
        conc = rng.random(m) < 0.01  # the concomitant-only drug and its reaction
        d_rep = np.concatenate([d_rep, np.flatnonzero(conc)])
        d_code = np.concatenate([d_code, np.full(int(conc.sum()), conc_drug)])
        role = np.concatenate([role, np.full(int(conc.sum()), 2)])
        e_rep = np.repeat(np.arange(m), ke)
        e_code = _zipf(rng, ne, e_rep.size, a_event, 5.0)
        # Drugs differ in what they cause: a share of reactions comes from the primary suspect's own
        # profile, which spreads the relative reporting ratios as in real data.
        ps_drug = d_code[: first.size][first]
        own = rng.random(e_rep.size) < 0.15
        e_code[own] = profiles[ps_drug[e_rep[own]], rng.integers(0, profiles.shape[1], int(own.sum()))]
        add_rep, add_code = [np.flatnonzero(conc)], [np.full(int(conc.sum()), ev_code[CONCOMITANT_EVENT])]
        for p in planted:
            if p.start is not None and f"{year}Q{quarter}" < p.start:
                continue
            hit = np.unique(d_rep[(d_code == p.drug_rank) & (role <= 1)])
            hit = hit[rng.random(hit.size) < p.probability]
            add_rep.append(hit)
            add_code.append(np.full(hit.size, ev_code[p.event]))
        dele = rng.random(m) < deleted
        add_rep.append(np.flatnonzero(dele))
        add_code.append(np.full(int(dele.sum()), ev_code[DELETED_EVENT]))
        e_rep = np.concatenate([e_rep, *add_rep])
        e_code = np.concatenate([e_code, *add_code])
        deleted_ids.append(case[dele])
        n_del += int(dele.sum())
        sup = rng.random(m) < superseded
        n_sup += int(sup.sum())
        layout = layout_of(year, quarter)
        # Version 1 of superseded cases (with an extra reaction) goes out now, version 2 next quarter.
        version = np.where(sup, 1, 1)
        v1_rows = np.flatnonzero(sup)
        e_rep_all = np.concatenate([e_rep, v1_rows])
        e_code_all = np.concatenate([e_code, np.full(v1_rows.size, ev_code[SUPERSEDED_EVENT])])
        cur = {
            "case": case,
            "version": version,
            "fda": fda.astype("datetime64[D]").astype(np.int64),
            "init": fda.astype("datetime64[D]").astype(np.int64),
            "age": rng.integers(1, 95, m),
            "sex": rng.integers(0, 3, m),
        }
        is_v1_event = np.r_[np.zeros(e_rep.size, bool), np.ones(v1_rows.size, bool)]
        final_last = qi == len(qs) - 1
        rows = _Batch(cur, d_rep, d_code, role, e_rep_all, e_code_all, is_v1_event, sup)
        batch = [rows.version1_only(final_last)]
        if carry is not None:
            batch.append(carry["batch"])  # type: ignore[arg-type]
        carry = {"batch": rows.version2(fda_shift=120 if not final_last else 100)}  # type: ignore[dict-item]
        if final_last:
            batch.append(carry["batch"])  # type: ignore[arg-type]
            carry = None
        label = f"{year % 100:02d}Q{quarter}"
        folder = out / (
            f"aers_ascii_{year}q{quarter}" if layout is Layout.AERS else f"faers_ascii_{year}Q{quarter}"
        )
        ascii_dir = folder / ("ascii" if layout is Layout.AERS else "ASCII")
        ascii_dir.mkdir(parents=True, exist_ok=True)
        ext = ".TXT" if layout is Layout.AERS else ".txt"
        _write_quarter(db, ascii_dir, label, ext, layout, batch)
        if final_last and deleted_ids:
            ddir = folder / "Deleted"
            ddir.mkdir(exist_ok=True)
            ids = np.concatenate(deleted_ids)
            (ddir / f"DELETE{label}.txt").write_text(
                "".join(f"{i}\n" for i in ids.tolist()), encoding="ascii"
            )
        if zipped:
            _zip_folder(folder)
    db.close()
    labels = tuple(f"{y % 100:02d}Q{q}" for y, q in qs)
    return Truth(reports - n_del, n_del, n_sup, planted, labels)


@dataclass
class _Batch:
    cur: dict[str, npt.NDArray[np.int64]]
    d_rep: npt.NDArray[np.int64]
    d_code: npt.NDArray[np.int64]
    role: npt.NDArray[np.int64]
    e_rep: npt.NDArray[np.int64]
    e_code: npt.NDArray[np.int64]
    is_v1_event: npt.NDArray[np.bool_]
    sup: npt.NDArray[np.bool_]

    def _table(
        self, reports: npt.NDArray[np.int64], version: int | None, fda_shift: int, keep_v1_events: bool
    ) -> dict[str, pa.Table]:
        sel = np.zeros(self.cur["case"].size, bool)
        sel[reports] = True
        ver = np.where(self.sup, 1, 1) if version is None else np.full(self.sup.size, version)
        ver = np.where(self.sup & (version == 2), 2, ver)
        primary = self.cur["case"] * 10 + ver
        demo = pa.table(
            {
                "primaryid": primary[sel],
                "caseid": self.cur["case"][sel],
                "caseversion": ver[sel],
                "fda": self.cur["fda"][sel] + fda_shift,
                "init": self.cur["init"][sel],
                "age": self.cur["age"][sel],
                "sex": self.cur["sex"][sel],
            }
        )
        dsel = sel[self.d_rep]
        drug = pa.table(
            {
                "primaryid": primary[self.d_rep[dsel]],
                "caseid": self.cur["case"][self.d_rep[dsel]],
                "seq": _seq(self.d_rep[dsel]),
                "role": self.role[dsel],
                "code": self.d_code[dsel],
            }
        )
        esel = sel[self.e_rep] & (keep_v1_events | ~self.is_v1_event)
        reac = pa.table(
            {
                "primaryid": primary[self.e_rep[esel]],
                "caseid": self.cur["case"][self.e_rep[esel]],
                "code": self.e_code[esel],
            }
        )
        return {"demo": demo, "drug": drug, "reac": reac}

    def version1_only(self, last: bool) -> dict[str, pa.Table]:
        """Cases without a later version go out final; superseded ones as version 1 (extra reaction)."""
        plain = np.flatnonzero(~self.sup)
        a = self._table(plain, 1, 0, keep_v1_events=False)
        b = self._table(np.flatnonzero(self.sup), 1, 0, keep_v1_events=True)
        return {k: pa.concat_tables([a[k], b[k]]) for k in a}

    def version2(self, fda_shift: int) -> dict[str, pa.Table]:
        return self._table(np.flatnonzero(self.sup), 2, fda_shift, keep_v1_events=False)


def _seq(rep: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    if rep.size == 0:
        return rep
    start = np.r_[True, rep[1:] != rep[:-1]]
    idx = np.arange(rep.size)
    return np.asarray(idx - np.maximum.accumulate(np.where(start, idx, 0)) + 1, dtype=np.int64)


def _write_quarter(
    db: duckdb.DuckDBPyConnection,
    folder: Path,
    label: str,
    ext: str,
    layout: Layout,
    batch: list[dict[str, pa.Table]],
) -> None:
    for kind in ("demo", "drug", "reac"):
        db.register(f"b_{kind}", pa.concat_tables([b[kind] for b in batch]))
    date = "strftime(DATE '1970-01-01' + CAST({} AS INTEGER), '%Y%m%d')"
    fda, init = date.format("fda"), date.format("init")
    sex = "CASE sex WHEN 0 THEN 'F' WHEN 1 THEN 'M' ELSE '' END"
    role = "CASE role WHEN 0 THEN 'PS' WHEN 1 THEN 'SS' WHEN 2 THEN 'C' ELSE 'I' END"
    trail = " || '$'" if layout is Layout.AERS else ""
    if layout is Layout.FAERS:
        demo = (
            f"primaryid || '$' || caseid || '$' || caseversion || '$I$$$' || {init} || '$' || {fda} || "
            f"'$EXP$$$$$' || age || '$YR$$' || {sex} || '$Y$$$$$MD$US$US'"
        )
        drug = (
            f"primaryid || '$' || caseid || '$' || seq || '$' || {role} || '$' || d.name || ' 10 MG$' || "
            "CASE WHEN seq % 10 = 3 THEN '' ELSE lower(d.name) END || '$1$ORAL$$$$$$$$$$$$'"
        )
        reac = "primaryid || '$' || caseid || '$' || (upper(e.name[1]) || lower(e.name[2:])) || '$'"
    elif layout is Layout.FAERS_2012:
        demo = (
            f"primaryid || '$' || caseid || '$' || caseversion || '$I$$$' || {init} || '$' || {fda} || "
            f"'$EXP$$$' || age || '$YR$' || {sex} || '$Y$$$$$MD$US$US'"
        )
        drug = (
            f"primaryid || '$' || caseid || '$' || seq || '$' || {role} || '$ ' || lower(d.name) || "
            "' $1$ORAL$$$$$$$$$$$$'"
        )
        reac = "primaryid || '$' || caseid || '$' || (upper(e.name[1]) || lower(e.name[2:]))"
    else:
        demo = (
            f"primaryid || '$' || caseid || '$I$' || caseversion || '$$$$' || {fda} || '$EXP$$$' || age || "
            f"'$YR$' || {sex} || '$Y$$$$MD$$$N$US'"
        )
        drug = f"primaryid || '$' || seq || '$' || {role} || '$' || d.name || '$1$ORAL$$$$$$'"
        reac = "primaryid || '$' || (upper(e.name[1]) || lower(e.name[2:]))"
    specs = (
        ("DEMO", DEMO_HEADERS[layout], f"SELECT {demo}{trail} AS line FROM b_demo"),
        (
            "DRUG",
            DRUG_HEADERS[layout],
            f"SELECT {drug}{trail} AS line FROM b_drug JOIN drug_dict d USING (code)",
        ),
        (
            "REAC",
            REAC_HEADERS[layout],
            f"SELECT {reac}{trail} AS line FROM b_reac JOIN event_dict e USING (code)",
        ),
    )
    for kind, header, sql in specs:
        path = folder / f"{kind}{label}{ext}"
        body = path.with_suffix(".body")
        db.execute(
            f"COPY ({sql}) TO '{body}' (FORMAT csv, HEADER false, QUOTE '', ESCAPE '', DELIMITER '\t')"
        )
        with path.open("wb") as out:
            out.write((header + "\n").encode("ascii"))
            with body.open("rb") as src:
                shutil.copyfileobj(src, out, 1 << 22)
        body.unlink()
    for kind in ("demo", "drug", "reac"):
        db.unregister(f"b_{kind}")


def _zip_folder(folder: Path) -> None:
    with zipfile.ZipFile(folder.with_suffix(".zip"), "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(folder.rglob("*")):
            if f.is_file():
                zf.write(f, f.relative_to(folder))
    shutil.rmtree(folder)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m repigment.signals.synthetic", description=__doc__.split("\n")[0]
    )
    ap.add_argument("outdir")
    ap.add_argument("--reports", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--zip", action="store_true", help="one zip per quarter instead of folders")
    a = ap.parse_args(argv)
    t = generate(a.outdir, a.reports, seed=a.seed, zipped=a.zip)
    print(
        f"wrote {len(t.quarters)} quarters to {a.outdir}: {t.reports} final cases, "
        f"{t.superseded_cases} with a "
        f"superseded version, {t.deleted_cases} deleted"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
