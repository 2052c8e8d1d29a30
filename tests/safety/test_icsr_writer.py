"""Generating E2B(R3) messages for repigment cases: completeness, structure, independent reading."""

from __future__ import annotations

import dataclasses
import os
from datetime import UTC, datetime
from pathlib import Path

import e2br3  # noqa: E402  (the independent reader, a locked test dependency)
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from icsr_cases import ACNE_ID, EMOLLIENT_ID, PRURITUS_ID, RUX_ID, repigment_case
from lxml import etree

from repigment.safety import (
    SERIOUSNESS_CRITERIA,
    Causality,
    IcsrCase,
    IcsrIncomplete,
    IcsrPatient,
    Null,
    PrimarySource,
    Reaction,
    Sender,
    check_message,
    parse_icsr,
    required_elements,
    ruxolitinib_cream,
    single_case_batch,
    values_at,
    write_case,
    write_icsr,
)

NOW = datetime(2026, 4, 15, 7, 30, tzinfo=UTC)
NS = {"h": "urn:hl7-org:v3", "xsi": "http://www.w3.org/2001/XMLSchema-instance"}


def _xml(case: IcsrCase) -> bytes:
    return write_case(case, sender="REPIGMENT-SE-0001", receiver="EVHUMAN", now=NOW)


def test_repigment_case_round_trips_through_our_reader() -> None:
    case = repigment_case()
    batch = single_case_batch(case, sender="REPIGMENT-SE-0001", receiver="EVHUMAN", now=NOW)
    xml = write_icsr(batch)
    assert parse_icsr(xml) == batch
    assert parse_icsr(xml).messages[0].case == case


def test_independent_reader_sees_the_case() -> None:
    case = repigment_case()
    batch = e2br3.parse(_xml(case))
    assert batch.batch_type.code == "1"
    assert batch.sender == "REPIGMENT-SE-0001" and batch.receiver == "EVHUMAN"
    assert batch.transmission_date.raw == "20260415073000+0000"
    (icsr,) = batch.icsrs
    assert icsr.safety_report_id == "SE-REPIGMENT-2026-000042"
    assert icsr.worldwide_case_id == "SE-REPIGMENT-2026-000042"
    assert icsr.report_type.code == "1"
    assert icsr.creation_date.raw == "20260415093000+0200"
    assert icsr.patient.name == "AB" and icsr.patient.sex.code == "2"
    assert (str(icsr.patient.age.value), icsr.patient.age.unit) == ("34", "a")
    assert [(ps.qualification.code, ps.country.code) for ps in icsr.primary_sources] == [("1", "SE")]
    acne, pruritus = icsr.reactions
    assert (acne.id, acne.meddra_version, acne.meddra_code) == (ACNE_ID, "27.0", "10003054")
    assert acne.native_term == "akne på appliceringsstället" and acne.native_language == "swe"
    assert acne.other_medically_important is True
    assert e2br3.flavor_of(acne.results_in_death) == e2br3.NullFlavor.NI
    assert acne.outcome.code == "2" and pruritus.outcome.code == "1"
    assert pruritus.start_date.raw == "202603" and pruritus.start_date.precision == "month"
    rux, emollient = icsr.drugs
    assert (rux.id, rux.role.code, rux.product_name) == (RUX_ID, "1", "Opzelura 15 mg/g cream")
    assert rux.substances == ["Ruxolitinib"]
    (dose,) = rux.dosages
    assert dose.route.code == "003" and dose.route.code_system == "2.16.840.1.113883.3.989.2.1.1.14"
    assert dose.route_text == "Cutaneous"
    assert rux.action_taken.code == "4"
    assert (emollient.id, emollient.role.code) == (EMOLLIENT_ID, "2")
    results = {(r.reaction_id, a.result) for r in rux.relatedness for a in r.assessments}
    assert results == {(ACNE_ID, "Probable"), (PRURITUS_ID, "Possible")}
    assert icsr.narrative.startswith("A 34-year-old woman")


def test_every_required_element_is_at_its_sheet_xpath() -> None:
    tree = etree.fromstring(_xml(repigment_case())).getroottree()
    assert check_message(tree) == []
    # and, read at the sheet's XPaths, they hold the case's values
    assert values_at(tree, "C.1.1") == ["SE-REPIGMENT-2026-000042"]
    assert values_at(tree, "D.1") == ["AB"]
    assert values_at(tree, "E.i.2.1b") == ["10003054", "10003053"]
    assert values_at(tree, "E.i.2.1a") == ["27.0", "27.0"]
    assert values_at(tree, "E.i.3.2f") == ["true"]  # acne only; pruritus carries NI
    assert values_at(tree, "E.i.7") == ["2", "1"]
    assert values_at(tree, "G.k.1") == ["1", "2"]
    assert values_at(tree, "G.k.2.2") == ["Opzelura 15 mg/g cream", "Emollient cream (paraffin)"]
    assert values_at(tree, "G.k.4.r.10.2b") == ["003"]
    assert values_at(tree, "G.k.4.r.10.1") == ["Cutaneous"]
    assert values_at(tree, "C.2.r.4") == ["1"] and values_at(tree, "C.2.r.3") == ["SE"]
    assert values_at(tree, "C.3.1") == ["3"]
    # criteria that do not apply carry nullFlavor NI, the only one the sheet allows for E.i.3.2a–f
    flavors = tree.xpath(
        "//h:observation[h:code/@code='29']/h:outboundRelationship2/h:observation"
        "[h:code[@code='34' or @code='21' or @code='33' or @code='35' or @code='12' or @code='26']]"
        "/h:value/@nullFlavor",
        namespaces=NS,
    )
    assert flavors == ["NI"] * 11


def test_required_elements_come_from_the_sheet() -> None:
    ids = [s.element_id for s in required_elements()]
    assert len(ids) == 33
    assert {
        "N.1.1",
        "C.1.1",
        "C.1.7",
        "C.1.9.1",
        "D.1",
        "E.i.2.1b",
        "E.i.7",
        "G.k.1",
        "G.k.2.2",
        "H.1",
    } <= set(ids)


def test_masked_patient_name_is_a_proper_null_flavor() -> None:
    case = dataclasses.replace(
        repigment_case(), patient=IcsrPatient(initials=Null("MSK"), sex="2", age_value="34", age_unit="a")
    )
    xml = _xml(case)
    tree = etree.fromstring(xml).getroottree()
    assert tree.xpath("//h:player1/h:name/@nullFlavor", namespaces=NS) == ["MSK"]
    assert check_message(tree) == []
    assert parse_icsr(xml).messages[0].case.patient.initials == Null("MSK")


def test_wrong_null_flavor_is_reported() -> None:
    tree = etree.fromstring(_xml(repigment_case())).getroottree()
    name = tree.xpath("//h:player1/h:name", namespaces=NS)[0]
    name.text = None
    name.set("nullFlavor", "NI")  # D.1 allows MSK UNK NA ASKU NASK, not NI
    (problem,) = check_message(tree)
    assert problem.element_id == "D.1"
    assert problem.reason == "nullFlavor NI not allowed (allowed: ASKU MSK NA NASK UNK)"


def test_incomplete_case_lists_everything_and_writes_nothing() -> None:
    case = IcsrCase(
        report_id="SE-REPIGMENT-2026-000043",
        created="2026-04-15",  # not an HL7 TS
        report_type="1",
        first_received=None,
        most_recent=None,
        sender=Sender(sender_type=None),
        patient=IcsrPatient(),
        primary_sources=(PrimarySource(qualification=Null("UNK")),),
        reactions=(Reaction(id="r1", reported_term="itching", outcome="7"),),
        drugs=(dataclasses.replace(ruxolitinib_cream(drug_id="d1"), role="2"),),
        causality=(Causality(drug_id="d1", reaction_id="r9"),),
    )
    with pytest.raises(IcsrIncomplete) as err:
        _xml(case)
    assert list(err.value.problems) == [
        "message 1: C.2.r.4 Qualification (primary source 1): missing",
        "message 1: C.2.r.3 Reporter's Country Code (primary source 1): missing",
        "message 1: D patient: not identifiable; give initials (D.1), sex (D.5), date of birth (D.2.1), "
        "age at onset (D.2.2) or age group (D.2.3)",
        "message 1: G.k.1 Characterisation of Drug Role: no suspect or interacting drug",
        "message 1: C.1.2 (date of creation): '2026-04-15' is not an HL7 date/time "
        "(CCYY[MM[DD[hhmmss]]][+ZZzz])",
        "message 1: E.i.7 (reaction 1): code '7' is not one of ['0', '1', '2', '3', '4', '5']",
        "message 1: G.k.9.i.1 (causality 1): reaction 'r9' is not in the case",
        "C.1.4 Date Report Was First Received from Source (message 1): missing",
        "C.1.5 Date of Most Recent Information for This Report (message 1): missing",
        "C.1.8.1 Worldwide Unique Case Identification (message 1): missing",
        "C.3.1 Sender Type (message 1): missing",
        "D.1 Patient (name or initials) (message 1): missing",
        "E.i.2.1a MedDRA Version for Reaction / Event (message 1, reaction 1): missing",
        "E.i.2.1b Reaction / Event (MedDRA code) (message 1, reaction 1): missing",
        "H.1 Case Narrative Including Clinical Course, Therapeutic Measures, Outcome and Additional Relevant "
        "Information (message 1): missing",
    ]


def test_case_without_reactions_or_reporter() -> None:
    case = dataclasses.replace(repigment_case(), reactions=(), primary_sources=(), causality=())
    with pytest.raises(IcsrIncomplete) as err:
        _xml(case)
    problems = err.value.problems
    assert "message 1: E.i reaction/event: none given" in problems
    assert any(p.startswith("message 1: C.2.r primary source: none given") for p in problems)
    assert (
        "E.i.7 Outcome of Reaction / Event at the Time of Last Observation (message 1): no reaction"
        in problems
    )


def test_text_xml_cannot_carry_is_reported() -> None:
    case = dataclasses.replace(repigment_case(), narrative="bad \x01 byte")
    with pytest.raises(IcsrIncomplete) as err:
        _xml(case)
    assert err.value.problems == ("message 1: narrative: character U+0001 cannot be sent in XML",)
    with pytest.raises(IcsrIncomplete) as err:
        write_case(repigment_case(), sender="S\ufffe", receiver="R", now=NOW)
    assert "batch.sender: character U+FFFE cannot be sent in XML" in err.value.problems


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        write_case(repigment_case(), sender="S", receiver="R", now=datetime(2026, 4, 15, 7, 30))


def test_non_xml_and_wrong_root_are_clear_errors(tmp_path: Path) -> None:
    from repigment.safety import IcsrParseError

    with pytest.raises(IcsrParseError, match="not well-formed XML"):
        parse_icsr(b"<MCCI_IN200100UV01")
    with pytest.raises(IcsrParseError, match="expected an HL7 v3 MCCI_IN200100UV01 batch, got 'Bundle'"):
        parse_icsr(b'<Bundle xmlns="http://hl7.org/fhir"/>')
    with pytest.raises(IcsrParseError, match="document type declarations"):
        parse_icsr(b'<!DOCTYPE x [<!ENTITY a "b">]><MCCI_IN200100UV01 xmlns="urn:hl7-org:v3"/>')
    with pytest.raises(IcsrParseError, match="cannot read"):
        parse_icsr(tmp_path / "absent.xml")


# ---- property: any well-formed case round-trips and reads the same in e2br3 ----

_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Cn")), min_size=1, max_size=20
).filter(lambda s: s.strip() == s and s != "")
_code = st.sampled_from(["10003054", "10003053", "10037087", "10019211"])
_ts = st.sampled_from(["2026", "202603", "20260328", "20260328101500+0100"])


@st.composite
def _reactions(draw: st.DrawFn) -> tuple[Reaction, ...]:
    n = draw(st.integers(1, 3))
    return tuple(
        Reaction(
            id=f"react-{i}",
            meddra_version="27.0",
            meddra_code=draw(_code),
            reported_term=draw(st.none() | _text),
            start=draw(st.none() | _ts),
            seriousness=frozenset(draw(st.sets(st.sampled_from(SERIOUSNESS_CRITERIA)))),
            outcome=draw(st.sampled_from(["0", "1", "2", "3", "4", "5"])),
            medically_confirmed=draw(st.none() | st.booleans()),
        )
        for i in range(n)
    )


@settings(max_examples=25, deadline=None)
@given(reactions=_reactions(), initials=_text, narrative=_text, expedited=st.booleans())
def test_generated_cases_round_trip(
    reactions: tuple[Reaction, ...], initials: str, narrative: str, expedited: bool
) -> None:
    rux = ruxolitinib_cream(drug_id="drug-1")
    case = dataclasses.replace(
        repigment_case(),
        reactions=reactions,
        drugs=(rux,),
        causality=tuple(Causality(drug_id="drug-1", reaction_id=r.id, result="Possible") for r in reactions),
        patient=IcsrPatient(initials=initials, sex="1"),
        narrative=narrative,
        expedited=expedited,
    )
    xml = _xml(case)
    assert parse_icsr(xml).messages[0].case == case
    assert check_message(etree.fromstring(xml).getroottree()) == []
    icsr = e2br3.parse(xml).icsrs[0]
    assert icsr.patient.name == initials and icsr.narrative == narrative
    assert [r.meddra_code for r in icsr.reactions] == [r.meddra_code for r in reactions]
    for mine, theirs in zip(reactions, icsr.reactions, strict=True):
        assert (theirs.results_in_death is True) == ("death" in mine.seriousness)
        assert (theirs.life_threatening is True) == ("life_threatening" in mine.seriousness)
        assert (theirs.congenital_anomaly is True) == ("congenital_anomaly" in mine.seriousness)


@pytest.mark.skipif(
    not os.environ.get("E2BR3_SCHEMA_DIR"),
    reason="ICH ICSR XSD set v2.5 not available (set E2BR3_SCHEMA_DIR to its folder to validate against it)",
)
def test_schema_validation_with_ich_xsd(tmp_path: Path) -> None:
    path = tmp_path / "case.xml"
    path.write_bytes(_xml(repigment_case()))
    assert e2br3.validate(str(path)) == []
