"""FDA's example E2B(R3) messages: our reader, the e2br3 reader, the element check, round trips."""

from __future__ import annotations

from pathlib import Path

import e2br3  # noqa: E402  (the independent reader, a locked test dependency)
import pytest
from icsr_cases import FDA_EXAMPLES
from lxml import etree

from repigment.safety import IcsrIncomplete, check_message, parse_icsr, write_icsr


def _ids(paths: list[Path]) -> list[str]:
    return [p.stem for p in paths]


def test_all_eight_scenarios_are_present() -> None:
    assert len(FDA_EXAMPLES) == 10  # Scenario1–8, with 5 in three parts


@pytest.mark.parametrize("path", FDA_EXAMPLES, ids=_ids(FDA_EXAMPLES))
def test_example_parses_and_agrees_with_e2br3(path: Path) -> None:
    ours = parse_icsr(path)
    theirs = e2br3.parse(str(path))
    assert len(ours.messages) == len(theirs.messages) >= 1
    assert ours.batch_number == theirs.batch_number
    assert (ours.sender, ours.receiver) == (theirs.sender, theirs.receiver)
    for mine, other in zip(ours.messages, theirs.messages, strict=True):
        case, icsr = mine.case, other.icsr
        assert mine.message_id == other.message_id
        assert case.report_id == icsr.safety_report_id
        assert case.worldwide_case_id == icsr.worldwide_case_id
        assert case.report_type == icsr.report_type.code
        assert case.created == icsr.creation_date.raw
        assert case.patient.initials == icsr.patient.name
        assert [r.meddra_code for r in case.reactions] == [r.meddra_code for r in icsr.reactions]
        assert [r.meddra_version for r in case.reactions] == [r.meddra_version for r in icsr.reactions]
        assert [r.outcome for r in case.reactions] == [r.outcome.code for r in icsr.reactions]
        assert [r.reported_term for r in case.reactions] == [r.native_term for r in icsr.reactions]
        for r, other_r in zip(case.reactions, icsr.reactions, strict=True):
            assert ("death" in r.seriousness) == (other_r.results_in_death is True)
            assert ("hospitalisation" in r.seriousness) == (other_r.hospitalisation is True)
            assert ("disabling" in r.seriousness) == (other_r.disabling is True)
            assert ("other_medically_important" in r.seriousness) == (
                other_r.other_medically_important is True
            )
        assert [d.product_name for d in case.drugs] == [d.product_name for d in icsr.drugs]
        assert [d.role for d in case.drugs] == [d.role.code if d.role else None for d in icsr.drugs]
        assert [[s.name for s in d.substances] for d in case.drugs] == [d.substances for d in icsr.drugs]
        assert [ps.qualification for ps in case.primary_sources] == [
            ps.qualification.code for ps in icsr.primary_sources
        ]
        assert [ps.country for ps in case.primary_sources] == [ps.country.code for ps in icsr.primary_sources]
        # e2br3 gives the assessments to each drug with the id: count ids once (Scenario 5-3 repeats one)
        unique_drugs = {d.id: d for d in icsr.drugs}.values()
        n_assessments = sum(len(dr.assessments) for d in unique_drugs for dr in d.relatedness)
        assert len(case.causality) == n_assessments
        assert case.narrative == icsr.narrative


@pytest.mark.parametrize("path", FDA_EXAMPLES, ids=_ids(FDA_EXAMPLES))
def test_example_has_every_ich_required_element(path: Path) -> None:
    assert check_message(etree.parse(str(path))) == []


_REEXPORTABLE = [p for p in FDA_EXAMPLES if p.stem != "FAERS2022Scenario5-3"]


@pytest.mark.parametrize("path", _REEXPORTABLE, ids=_ids(_REEXPORTABLE))
def test_example_round_trips(path: Path) -> None:
    batch = parse_icsr(path)
    xml = write_icsr(batch)
    assert parse_icsr(xml) == batch
    # and the re-export is itself read the same way by the independent reader
    assert [m.icsr.safety_report_id for m in e2br3.parse(xml).messages] == [
        m.case.report_id for m in batch.messages
    ]


def test_scenario_5_3_duplicate_drug_ids_block_reexport() -> None:
    """FDA's Scenario 5-3 gives two drugs the same id, so roles and assessments cannot be told apart."""
    path = next(p for p in FDA_EXAMPLES if p.stem == "FAERS2022Scenario5-3")
    batch = parse_icsr(path)
    with pytest.raises(IcsrIncomplete) as err:
        write_icsr(batch)
    assert err.value.problems == (
        "message 1: drug ids must be unique, got ['59d6f5ce-3b3b-45c7-92dd-69e06730c2b7', "
        "'59d6f5ce-3b3b-45c7-92dd-69e06730c2b7', '40d6f5ce-3b3b-45c7-92dd-69e06730c2b6']",
    )


def test_scenario_6_details() -> None:
    """Scenario 6 carries every element: spot-check values read by hand from the file."""
    path = next(p for p in FDA_EXAMPLES if p.stem == "FAERS2022Scenario6")
    case = parse_icsr(path).messages[0].case
    assert case.patient.initials == "SM"
    assert case.patient.sex == "1"
    assert (case.patient.age_value, case.patient.age_unit) == ("10", "a")
    assert case.patient.weight_kg == "48.2"
    first = case.reactions[0]
    assert first.reported_term == "consciência alterada" and first.reported_language == "por"
    assert first.translated_term == "Altered Consciousness"
    assert first.seriousness == {"death", "hospitalisation", "other_medically_important"}
    assert (first.start, first.end) == ("20090101", "20090102")
    assert first.medically_confirmed is True
    assert [ps.given_name for ps in case.primary_sources] == ["Jerome", "Ronald"]
    assert [ps.middle_name for ps in case.primary_sources] == ["James", "Robert"]
    assert case.primary_sources[0].primary_for_regulatory_purposes
    assert not case.primary_sources[1].primary_for_regulatory_purposes
    assert [(o.source, o.case_id) for o in case.other_case_ids] == [
        ("Reporting Ltd Corporation", "FR-RPTLTD-15998"),
        ("European Medicines Agency", "EU-EMA-999999"),
    ]
    drug_a = case.drugs[0]
    assert drug_a.product_name == "Drug A" and drug_a.role == "1"
    dose = drug_a.dosages[0]
    assert (dose.period_value, dose.period_unit) == ("10", "d")
    assert (dose.start, dose.end) == ("20090101", "20090101")
    assert (dose.dose_value, dose.dose_unit) == ("10", "10.a")
    assert dose.route is not None and dose.route.text == "Free text route content"
    assert dose.lot_number == "4577BN2"
    assert drug_a.action_taken == "2"
    assert case.sender.organisation == "Big Pharma" and case.sender.sender_type == "1"


def test_shipped_element_rows_match_fda_sheet() -> None:
    """The package's element subset is FDA's sheet, unchanged: ids, conformance, null flavors, XPaths."""
    import csv

    from repigment.safety import element_specs

    rows = list(csv.reader((FDA_EXAMPLES[0].parent / "icsr_data_elements.csv").open(encoding="utf-8-sig")))
    flavors = rows[1][20:29]
    sheet = {r[2].strip(): r for r in rows[2:] if r[0] == "ICH"}
    required = {eid for eid, r in sheet.items() if r[7].strip() == "Required"}
    specs = element_specs()
    assert {eid for eid, s in specs.items() if s.required} == required
    for eid, spec in specs.items():
        r = sheet[eid]
        assert spec.xpath == r[32].strip() and spec.null_xpath == r[33].strip()
        assert spec.conformance == r[7].strip()
        assert spec.null_flavors == {f for f, v in zip(flavors, r[20:29], strict=True) if v.strip() == "Yes"}
