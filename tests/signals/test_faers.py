"""FAERS ingestion: layouts, de-duplication, deletions, role filter, names, strata; synthetic extracts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from repigment.signals import SignalsError, Theta, count_long, score
from repigment.signals import synthetic as syn
from repigment.signals.faers import ingest

DEMO_H = (
    "primaryid$caseid$caseversion$i_f_code$event_dt$mfr_dt$init_fda_dt$fda_dt$rept_cod$auth_num$mfr_num$"
    "mfr_sndr$lit_ref$age$age_cod$age_grp$sex$e_sub$wt$wt_cod$rept_dt$to_mfr$occp_cod$reporter_country$"
    "occr_country"
)
DRUG_H = (
    "primaryid$caseid$drug_seq$role_cod$drugname$prod_ai$val_vbm$route$dose_vbm$cum_dose_chr$cum_dose_unit$"
    "dechal$rechal$lot_num$exp_dt$nda_num$dose_amt$dose_unit$dose_form$dose_freq"
)


def demo(pid: int, case: int, ver: int, fda: str, age: str, cod: str, sex: str, init: str = "") -> str:
    return f"{pid}${case}${ver}$I$$${init or fda}${fda}$EXP$$$$${age}${cod}$${sex}$Y$$$$$MD$US$US"


def drug(pid: int, case: int, seq: int, role: str, name: str, ai: str) -> str:
    return f"{pid}${case}${seq}${role}${name}${ai}$1$ORAL$$$$$$$$$$$$"


def write_quarter(
    root: Path,
    label: str,
    demos: list[str],
    drugs: list[str],
    reacs: list[str],
    deleted: list[int] | None = None,
) -> None:
    a = root / f"faers_ascii_20{label}" / "ASCII"
    a.mkdir(parents=True)
    (a / f"DEMO{label}.txt").write_text("\n".join([DEMO_H, *demos]) + "\n")
    (a / f"DRUG{label}.txt").write_text("\n".join([DRUG_H, *drugs]) + "\n")
    (a / f"REAC{label}.txt").write_text("\n".join(["primaryid$caseid$pt$drug_rec_act", *reacs]) + "\n")
    if deleted is not None:
        d = root / f"faers_ascii_20{label}" / "Deleted"
        d.mkdir()
        (d / f"DELETE{label}.txt").write_text("".join(f"{c}\n" for c in deleted))


@pytest.fixture()
def tiny(tmp_path: Path) -> Path:
    # Case 100: v1 (fda 20150105) superseded by v2 (20150210) in the next quarter.
    # Case 200: two versions with the same fda_dt -> the higher primaryid (2002) wins.
    # Case 300: a later fda_dt wins over a higher primaryid. Case 400: deleted.
    # Case 500: only a concomitant drug.
    write_quarter(
        tmp_path,
        "15Q1",
        [
            demo(1001, 100, 1, "20150105", "30", "YR", "F"),
            demo(2001, 200, 1, "20150301", "70", "YR", "M"),
            demo(2002, 200, 2, "20150301", "70", "YR", "M"),
            demo(3009, 300, 9, "20150101", "5", "MON", "F"),
            demo(3001, 300, 1, "20150320", "50", "DEC", ""),
        ],
        [
            drug(1001, 100, 1, "PS", "Opzelura 1.5% cream", " ruxolitinib "),
            drug(2001, 200, 1, "PS", "Aspirin", ""),
            drug(2002, 200, 1, "PS", " aspirin ", ""),
            drug(2002, 200, 2, "SS", "ASPIRIN 81 MG", "aspirin"),
            drug(3009, 300, 1, "PS", "X", "drug x"),
            drug(3001, 300, 1, "SS", "Y", "drug y"),
        ],
        [
            "1001$100$Old reaction$",
            "2001$200$Superseded$",
            "2002$200$Headache$",
            "2002$200$headache $",
            "3009$300$Superseded$",
            "3001$300$Nausea$",
        ],
    )
    write_quarter(
        tmp_path,
        "15Q2",
        [
            demo(1002, 100, 2, "20150210", "30", "YR", "F", init="20150105"),
            demo(4001, 400, 1, "20150401", "40", "YR", "M"),
            demo(5001, 500, 1, "20150402", "40", "YR", "M"),
        ],
        [
            drug(1002, 100, 1, "PS", "Opzelura", "RUXOLITINIB"),
            drug(1002, 100, 2, "C", "Aspirin", ""),
            drug(4001, 400, 1, "PS", "Z", "drug z"),
            drug(5001, 500, 1, "C", "W", "drug w"),
        ],
        ["1002$100$Application site acne$", "4001$400$Deleted reaction$", "5001$500$Nausea$"],
        deleted=[400],
    )
    return tmp_path


def _cells(c) -> dict[tuple[str, str], int]:  # type: ignore[no-untyped-def]
    return {(c.drugs[d], c.events[e]): int(n) for d, e, n in zip(c.drug_code, c.event_code, c.n, strict=True)}


def test_dedup_deletions_roles_and_names(tiny: Path) -> None:
    c, s = ingest([tiny])
    assert _cells(c) == {
        ("RUXOLITINIB", "APPLICATION SITE ACNE"): 1,
        ("ASPIRIN", "HEADACHE"): 1,
        ("DRUG Y", "NAUSEA"): 1,
    }
    assert (s.demo_rows, s.cases, s.deleted_cases, s.reports) == (8, 5, 1, 3)
    assert s.layouts == {"faers": 2}
    c2, s2 = ingest([tiny], roles=["PS", "SS", "C"])
    cells = _cells(c2)
    assert cells[("ASPIRIN", "APPLICATION SITE ACNE")] == 1 and cells[("DRUG W", "NAUSEA")] == 1
    assert s2.reports == 4


def test_faers_strata_match_long_format(tiny: Path) -> None:
    c, _ = ingest([tiny], strata=["sex", "age_group", "year"])
    long = pd.DataFrame(
        {
            "id": [1002, 2002, 3001],
            "drug": ["RUXOLITINIB", "ASPIRIN", "DRUG Y"],
            "event": ["APPLICATION SITE ACNE", "HEADACHE", "NAUSEA"],
            "sex": ["F", "M", "UNK"],
            "age_group": ["18-64", "65+", "65+"],
            "year": ["2015", "2015", "2015"],
        }
    )
    ref = count_long(long, strata=["sex", "age_group", "year"])
    assert c.n_strata == ref.n_strata == 3
    assert np.array_equal(c.e, ref.e) and np.array_equal(c.n, ref.n)


def test_unknown_layout_and_missing_files(tmp_path: Path) -> None:
    a = tmp_path / "q" / "ascii"
    a.mkdir(parents=True)
    (a / "DEMO20Q1.txt").write_text("report$case$when\n1$1$2020\n")
    (a / "DRUG20Q1.txt").write_text("report$name\n1$X\n")
    (a / "REAC20Q1.txt").write_text("report$pt\n1$Y\n")
    with pytest.raises(SignalsError, match="unknown FAERS layout"):
        ingest([tmp_path])
    (a / "REAC20Q1.txt").unlink()
    with pytest.raises(SignalsError, match="REAC file is missing"):
        ingest([tmp_path])
    (tmp_path / "empty").mkdir()
    with pytest.raises(SignalsError, match="no FAERS files"):
        ingest([tmp_path / "empty"])


@pytest.fixture(scope="module")
def extract(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, syn.Truth]:
    root = tmp_path_factory.mktemp("faers")
    return root, syn.generate(root, 40_000, seed=11)


def test_synthetic_extract_dedups_and_finds_planted_signals(
    extract: tuple[Path, syn.Truth], test_theta: Theta
) -> None:
    root, truth = extract
    c, s = ingest([root])
    assert set(s.layouts) == {"aers", "faers-2012q4", "faers"}
    assert s.cases == 40_000 and s.deleted_cases == truth.deleted_cases > 0
    assert s.demo_rows == 40_000 + truth.superseded_cases
    assert s.reports == truth.reports
    assert syn.SUPERSEDED_EVENT not in set(c.events)
    assert syn.DELETED_EVENT not in set(c.events)
    assert syn.CONCOMITANT_DRUG not in set(c.drugs)
    t = score(c, test_theta).set_index(["drug", "event"])
    for p in truth.planted:
        row = t.loc[(p.drug, p.event)]
        assert row["signal_eb05"] and row["signal_who_umc"], (p, row["N"], row["QUANT_05"])
    # Planted pairs are among the strongest associations of their drug (profiles add others).
    for p in truth.planted:
        mine = t.xs(p.drug, level="drug")["QUANT_05"]
        assert mine.rank(ascending=False)[p.event] <= 10


def test_zipped_quarters_give_the_same_counts(tmp_path: Path) -> None:
    syn.generate(tmp_path / "dir", 4_000, seed=5)
    syn.generate(tmp_path / "zip", 4_000, seed=5, zipped=True)
    assert not any(p.is_dir() for p in (tmp_path / "zip").iterdir())
    a, _ = ingest([tmp_path / "dir"])
    b, _ = ingest(sorted((tmp_path / "zip").iterdir()))
    assert np.array_equal(a.drugs, b.drugs) and np.array_equal(a.events, b.events)
    assert np.array_equal(a.n, b.n) and np.array_equal(a.e, b.e)


def test_missing_case_ids_are_named_with_their_file(tmp_path: Path) -> None:
    rows = [demo(1001, 100, 1, "20150105", "40", "YR", "F")]
    for pid in (1002, 1003):
        fields = demo(pid, 1, 1, "20150105", "40", "YR", "M").split("$")
        fields[1] = ""  # no case id
        rows.append("$".join(fields))
    write_quarter(tmp_path, "15Q1", rows, [drug(1001, 100, 1, "PS", "A", "A")], ["1001$100$NAUSEA$"])
    with pytest.raises(SignalsError, match=r"DEMO15Q1\.txt.*2 rows have a missing or non-numeric"):
        ingest([tmp_path])


def test_non_numeric_report_id_is_named_with_file_and_line(tmp_path: Path) -> None:
    rows = [demo(1001, 100, 1, "20150105", "40", "YR", "F")]
    fields = demo(1002, 101, 1, "20150105", "40", "YR", "M").split("$")
    fields[0] = "X1002"
    rows.append("$".join(fields))
    write_quarter(tmp_path, "15Q1", rows, [drug(1001, 100, 1, "PS", "A", "A")], ["1001$100$NAUSEA$"])
    with pytest.raises(SignalsError) as info:
        ingest([tmp_path])
    msg = str(info.value)
    assert "DEMO15Q1.txt" in msg and "line 3" in msg and "primaryid" in msg and "'X1002'" in msg
    assert "Conversion Error" not in msg


def test_non_numeric_id_in_a_drug_file_is_named(tmp_path: Path) -> None:
    write_quarter(
        tmp_path,
        "15Q1",
        [demo(1001, 100, 1, "20150105", "40", "YR", "F")],
        [drug(1001, 100, 1, "PS", "A", "A"), drug(1001, 100, 2, "PS", "B", "B").replace("1001$", "1O01$", 1)],
        ["1001$100$NAUSEA$"],
    )
    with pytest.raises(SignalsError, match=r"DRUG15Q1\.txt: line 3: column primaryid value '1O01'"):
        ingest([tmp_path])


def test_id_error_without_details_still_finds_the_file(tmp_path: Path) -> None:
    """Where the reader's message lacks the file, the id columns are read as text to find it."""
    from repigment.signals import faers

    rows = [demo(1001, 100, 1, "20150105", "40", "YR", "F"), demo(1002, 100, 2, "20150106", "40", "YR", "F")]
    write_quarter(tmp_path, "15Q1", rows, [drug(1001, 100, 1, "PS", "A", "A")], ["1001$100$NAUSEA$"])
    write_quarter(
        tmp_path,
        "15Q2",
        [demo(2001, 200, 1, "20150405", "40", "YR", "F")],
        [drug(2001, 200, 1, "PS", "A", "A")],
        ["2001$200$NAUSEA$", "2OO1$200$RASH$"],
    )
    quarters, _ = faers.discover(sorted(p for p in tmp_path.rglob("*") if p.is_file()))
    err = faers._id_error(faers.duckdb.ConversionException("Conversion Error: no details"), quarters)
    assert err is not None and "REAC15Q2.txt" in err.where and "1 rows" in err.reason


def test_latin1_and_ascii_quarters_read_alike(tmp_path: Path) -> None:
    """ASCII files skip the latin-1 transcoding; a file with latin-1 bytes is still read as latin-1."""
    write_quarter(
        tmp_path,
        "15Q1",
        [demo(1001, 100, 1, "20150105", "40", "YR", "F")],
        [drug(1001, 100, 1, "PS", "Caf\u00e9ine", "")],
        ["1001$100$Nausea$"],
    )
    write_quarter(
        tmp_path,
        "15Q2",
        [demo(2001, 200, 1, "20150405", "40", "YR", "F")],
        [drug(2001, 200, 1, "PS", "Aspirin", "")],
        ["2001$200$Nausea$"],
    )
    latin = tmp_path / "faers_ascii_2015Q1" / "ASCII" / "DRUG15Q1.txt"
    latin.write_bytes(latin.read_text().encode("latin-1"))
    assert b"\xe9" in latin.read_bytes()
    c, _ = ingest([tmp_path])
    assert _cells(c) == {("CAF\u00c9INE", "NAUSEA"): 1, ("ASPIRIN", "NAUSEA"): 1}


def test_counting_in_small_chunks_and_sparse_cells_agrees(
    extract: tuple[Path, syn.Truth], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The drug x reaction product expanded a few rows at a time, cells kept sparse: same counts."""
    from repigment.signals import faers

    root, _ = extract
    for strata in ([], ["sex", "age_group", "year"]):
        base, _ = ingest([root], strata=strata)
        with monkeypatch.context() as m:
            m.setattr(faers, "CROSS_CHUNK", 1_000)
            m.setattr(faers, "DENSE_CELLS", 0)
            small, _ = ingest([root], strata=strata)
        for name in ("drug_code", "event_code", "n", "e", "n_drug", "n_event"):
            assert np.array_equal(getattr(base, name), getattr(small, name)), name
        assert base.n_total == small.n_total and list(base.drugs) == list(small.drugs)


def test_no_report_with_both_a_kept_drug_and_a_reaction(tmp_path: Path) -> None:
    write_quarter(
        tmp_path,
        "15Q1",
        [demo(1001, 100, 1, "20150105", "40", "YR", "F")],
        [drug(1001, 100, 1, "C", "A", "A")],
        ["1001$100$NAUSEA$"],
    )
    c, s = ingest([tmp_path], strata=["sex"])
    assert len(c) == 0 and s.reports == 0 and c.n_total == 0
