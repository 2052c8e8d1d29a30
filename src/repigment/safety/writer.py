"""HL7 v3 E2B(R3) writer: batch MCCI_IN200100UV01 → message PORR_IN049016UV → one case each.

Element order and wrappers follow FDA's example messages (data/e2b/FAERS2022Scenario1.xml and
Scenario6.xml, which contains every element). :func:`write_icsr` refuses an incomplete case: it returns the
whole message or raises :class:`IcsrIncomplete` listing everything that is missing, never a partial file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from lxml import etree

from repigment.safety.checks import IcsrIncomplete, minimum_case_problems, xml_text_problems
from repigment.safety.codes import (
    HL7_NS,
    OBS_ADDITIONAL_DOCS,
    OBS_AGE,
    OBS_AGE_GROUP,
    OBS_CAUSALITY,
    OBS_COMMENT,
    OBS_EXPEDITED,
    OBS_HEIGHT,
    OBS_HISTORY_TEXT,
    OBS_INDICATION,
    OBS_MEDICALLY_CONFIRMED,
    OBS_OUTCOME,
    OBS_REACTION,
    OBS_ROLE,
    OBS_TRANSLATION,
    OBS_WEIGHT,
    OID_AUTHORISATION,
    OID_BATCH_NUMBER,
    OID_BATCH_RECEIVER,
    OID_BATCH_SENDER,
    OID_HL7_ACT_CODE,
    OID_HL7_INTERACTION,
    OID_HL7_TRIGGER,
    OID_ISO3166,
    OID_ISO5218,
    OID_MEDDRA,
    OID_MESSAGE_ID,
    OID_MESSAGE_RECEIVER,
    OID_MESSAGE_SENDER,
    OID_OBS,
    OID_OTHER_CASE_ID,
    OID_WORLDWIDE_ID,
    SERIOUSNESS_CODES,
    XSI_NS,
    ich_list,
)
from repigment.safety.elements import check_message
from repigment.safety.model import (
    Causality,
    Coded,
    Dosage,
    Drug,
    IcsrBatch,
    IcsrCase,
    IcsrMessage,
    IcsrPatient,
    Null,
    PrimarySource,
    Reaction,
    Sender,
    hl7_ts,
)

_XSI_TYPE = f"{{{XSI_NS}}}type"
_SCHEMA_LOCATION = "urn:hl7-org:v3 MCCI_IN200100UV01.xsd"


def _el(parent: Any, tag: str, attrs: dict[str, str | None] | None = None, text: str | None = None) -> Any:
    node = etree.SubElement(parent, f"{{{HL7_NS}}}{tag}")
    for k, v in (attrs or {}).items():
        if v is not None:
            node.set(_XSI_TYPE if k == "xsi:type" else k, v)
    if text is not None:
        node.text = text
    return node


def _path(parent: Any, *steps: str) -> Any:
    """Nested wrappers with the class/mood/type codes FDA's examples carry on each HL7 step."""
    node = parent
    for step in steps:
        node = _el(node, step, dict(_STEP_ATTRS.get(step, {})))
    return node


_STEP_ATTRS: dict[str, dict[str, str | None]] = {
    "subject": {"typeCode": "SUBJ"},
    "subject1": {"typeCode": "SBJ"},
    "subject2": {"typeCode": "SUBJ"},
    "subjectOf1": {"typeCode": "SUBJ"},
    "subjectOf2": {"typeCode": "SBJ"},
    "component": {"typeCode": "COMP"},
    "component1": {"typeCode": "COMP"},
    "author": {"typeCode": "AUT"},
    "performer": {"typeCode": "PRF"},
    "consumable": {"typeCode": "CSM"},
    "holder": {"typeCode": "HLD"},
    "location": {"typeCode": "LOC"},
    "investigationEvent": {"classCode": "INVSTG", "moodCode": "EVN"},
    "adverseEventAssessment": {"classCode": "INVSTG", "moodCode": "EVN"},
    "relatedInvestigation": {"classCode": "INVSTG", "moodCode": "EVN"},
    "primaryRole": {"classCode": "INVSBJ"},
    "player1": {"classCode": "PSN", "determinerCode": "INSTANCE"},
    "observation": {"classCode": "OBS", "moodCode": "EVN"},
    "observationEvent": {"classCode": "OBS", "moodCode": "EVN"},
    "investigationCharacteristic": {"classCode": "OBS", "moodCode": "EVN"},
    "causalityAssessment": {"classCode": "OBS", "moodCode": "EVN"},
    "organizer": {"classCode": "CATEGORY", "moodCode": "EVN"},
    "substanceAdministration": {"classCode": "SBADM", "moodCode": "EVN"},
    "productUseReference": {"classCode": "SBADM", "moodCode": "EVN"},
    "adverseEffectReference": {"classCode": "OBS", "moodCode": "EVN"},
    "controlActEvent": {"classCode": "CACT", "moodCode": "EVN"},
    "controlActProcess": {"classCode": "CACT", "moodCode": "EVN"},
    "assignedEntity": {"classCode": "ASSIGNED"},
    "assignedPerson": {"classCode": "PSN", "determinerCode": "INSTANCE"},
    "representedOrganization": {"classCode": "ORG", "determinerCode": "INSTANCE"},
    "asQualifiedEntity": {"classCode": "QUAL"},
    "asLocatedEntity": {"classCode": "LOCE"},
    "locatedEntity": {"classCode": "LOCE"},
    "locatedPlace": {"classCode": "COUNTRY", "determinerCode": "INSTANCE"},
    "instanceOfKind": {"classCode": "INST"},
    "kindOfProduct": {"classCode": "MMAT", "determinerCode": "KIND"},
    "productInstanceInstance": {"classCode": "MMAT", "determinerCode": "INSTANCE"},
    "asManufacturedProduct": {"classCode": "MANU"},
    "approval": {"classCode": "CNTRCT", "moodCode": "EVN"},
    "role": {"classCode": "HLD"},
    "playingOrganization": {"classCode": "ORG", "determinerCode": "INSTANCE"},
    "territorialAuthority": {"classCode": "TERR"},
    "territory": {"classCode": "NAT", "determinerCode": "INSTANCE"},
    "ingredient": {"classCode": "ACTI"},
    "ingredientSubstance": {"classCode": "MMAT", "determinerCode": "KIND"},
    "act": {"classCode": "ACT", "moodCode": "EVN"},
    "device": {"classCode": "DEV", "determinerCode": "INSTANCE"},
}


def _code(parent: Any, tag: str, code: str | Null | None, system: str, display: str | None = None) -> Any:
    if isinstance(code, Null):
        return _el(parent, tag, {"nullFlavor": code.flavor})
    return _el(parent, tag, {"code": code, "codeSystem": system, "displayName": display})


def _coded(parent: Any, tag: str, value: Coded, xsi_type: str | None = None) -> Any:
    node = _el(
        parent,
        tag,
        {
            "xsi:type": xsi_type,
            "code": value.code,
            "codeSystem": value.system,
            "codeSystemVersion": value.version,
            "displayName": value.display,
        },
    )
    if value.text is not None:
        _el(node, "originalText", text=value.text)
    return node


def _obs_code(parent: Any, code: str) -> Any:
    return _el(parent, "code", {"code": code, "codeSystem": OID_OBS})


def _bl(parent: Any, value: bool | Null | None) -> Any:
    if isinstance(value, Null):
        return _el(parent, "value", {"xsi:type": "BL", "nullFlavor": value.flavor})
    if value is None:
        return _el(parent, "value", {"xsi:type": "BL", "nullFlavor": "NI"})
    return _el(parent, "value", {"xsi:type": "BL", "value": "true" if value else "false"})


def _ivl(parent: Any, start: str | None, end: str | None, tag: str = "effectiveTime") -> None:
    if start is None and end is None:
        return
    node = _el(parent, tag, {"xsi:type": "IVL_TS"})
    if start is not None:
        _el(node, "low", {"value": start})
    if end is not None:
        _el(node, "high", {"value": end})


def _name(parent: Any, title: str | None, given: str | None, middle: str | None, family: str | None) -> None:
    if title is None and given is None and middle is None and family is None:
        return
    node = _el(parent, "name")
    if title is not None:
        _el(node, "prefix", text=title)
    if given is not None:
        _el(node, "given", text=given)
    if middle is not None:
        _el(node, "given", text=middle)
    if family is not None:
        _el(node, "family", text=family)


def _addr(parent: Any, street: str | None, city: str | None, state: str | None, postcode: str | None) -> None:
    if street is None and city is None and state is None and postcode is None:
        return
    node = _el(parent, "addr")
    for tag, value in (
        ("streetAddressLine", street),
        ("city", city),
        ("state", state),
        ("postalCode", postcode),
    ):
        if value is not None:
            _el(node, tag, text=value)


def _organisations(parent: Any, department: str | None, organisation: str | None) -> None:
    if department is None and organisation is None:
        return
    dept = _path(parent, "representedOrganization")
    if department is not None:
        _el(dept, "name", text=department)
    if organisation is not None:
        org = _path(dept, "assignedEntity", "representedOrganization")
        _el(org, "name", text=organisation)


def _country(parent: Any, country: str | Null | None) -> None:
    if country is None:
        return
    loc = _path(parent, "asLocatedEntity")
    place = _el(loc, "location", {"classCode": "COUNTRY", "determinerCode": "INSTANCE"})
    _code(place, "code", country, OID_ISO3166)


def _patient(role: Any, p: IcsrPatient) -> None:
    player = _path(role, "player1")
    if isinstance(p.initials, Null):
        _el(player, "name", {"nullFlavor": p.initials.flavor})
    elif p.initials is not None:
        _el(player, "name", text=p.initials)
    if p.sex is not None:
        _code(player, "administrativeGenderCode", p.sex, OID_ISO5218)
    if p.birth_date is not None:
        _el(player, "birthTime", {"value": p.birth_date})
    if p.age_value is not None:
        obs = _path(role, "subjectOf2", "observation")
        _obs_code(obs, OBS_AGE)
        _el(obs, "value", {"xsi:type": "PQ", "value": p.age_value, "unit": p.age_unit})
    if p.age_group is not None:
        obs = _path(role, "subjectOf2", "observation")
        _obs_code(obs, OBS_AGE_GROUP)
        _el(obs, "value", {"xsi:type": "CE", "code": p.age_group, "codeSystem": ich_list(9)})
    for code, value, unit in ((OBS_WEIGHT, p.weight_kg, "kg"), (OBS_HEIGHT, p.height_cm, "cm")):
        if value is not None:
            obs = _path(role, "subjectOf2", "observation")
            _obs_code(obs, code)
            _el(obs, "value", {"xsi:type": "PQ", "value": value, "unit": unit})
    if p.medical_history_text is not None:
        org = _path(role, "subjectOf2", "organizer")
        _el(
            org,
            "code",
            {
                "code": "1",
                "codeSystem": ich_list(20),
                "displayName": "relevantMedicalHistoryAndConcurrentConditions",
            },
        )
        obs = _path(org, "component", "observation")
        _obs_code(obs, OBS_HISTORY_TEXT)
        _el(obs, "value", {"xsi:type": "ED"}, p.medical_history_text)


def _reaction(role: Any, r: Reaction) -> None:
    obs = _path(role, "subjectOf2", "observation")
    _el(obs, "id", {"root": r.id})
    _el(obs, "code", {"code": OBS_REACTION, "codeSystem": OID_OBS, "displayName": "reaction"})
    _ivl(obs, r.start, r.end)
    value = _el(
        obs,
        "value",
        {
            "xsi:type": "CE",
            "code": r.meddra_code,
            "codeSystem": OID_MEDDRA,
            "codeSystemVersion": r.meddra_version,
        },
    )
    if r.reported_term is not None:
        _el(value, "originalText", {"language": r.reported_language}, r.reported_term)
    if r.country is not None:
        place = _path(obs, "location", "locatedEntity", "locatedPlace")
        _el(place, "code", {"code": r.country, "codeSystem": OID_ISO3166})
    if r.translated_term is not None:
        rel = _el(obs, "outboundRelationship2", {"typeCode": "PERT"})
        o = _path(rel, "observation")
        _obs_code(o, OBS_TRANSLATION)
        _el(o, "value", {"xsi:type": "ED"}, r.translated_term)
    for criterion, (code, _element) in SERIOUSNESS_CODES.items():
        rel = _el(obs, "outboundRelationship2", {"typeCode": "PERT"})
        o = _path(rel, "observation")
        _obs_code(o, code)
        # ICH E2B(R3) IG E.i.3.2: a criterion is either true or nullFlavor NI, never false.
        _bl(o, True if criterion in r.seriousness else Null("NI"))
    if r.medically_confirmed is not None:
        rel = _el(obs, "outboundRelationship2", {"typeCode": "PERT"})
        o = _path(rel, "observation")
        _obs_code(o, OBS_MEDICALLY_CONFIRMED)
        _bl(o, r.medically_confirmed)
    if r.outcome is not None:
        rel = _el(obs, "outboundRelationship2", {"typeCode": "PERT"})
        o = _path(rel, "observation")
        _obs_code(o, OBS_OUTCOME)
        _el(o, "value", {"xsi:type": "CE", "code": r.outcome, "codeSystem": ich_list(11)})


def _dosage(sa: Any, d: Dosage) -> None:
    rel = _el(sa, "outboundRelationship2", {"typeCode": "COMP"})
    dose = _path(rel, "substanceAdministration")
    if d.text is not None:
        _el(dose, "text", text=d.text)
    if d.period_value is not None:
        sxpr = _el(dose, "effectiveTime", {"xsi:type": "SXPR_TS"})
        comp = _el(sxpr, "comp", {"xsi:type": "PIVL_TS"})
        _el(comp, "period", {"value": d.period_value, "unit": d.period_unit})
        if d.start is not None or d.end is not None:
            ivl = _el(sxpr, "comp", {"xsi:type": "IVL_TS", "operator": "A"})
            if d.start is not None:
                _el(ivl, "low", {"value": d.start})
            if d.end is not None:
                _el(ivl, "high", {"value": d.end})
    else:
        _ivl(dose, d.start, d.end)
    if d.route is not None:
        _coded(dose, "routeCode", d.route)
    if d.dose_value is not None:
        _el(dose, "doseQuantity", {"value": d.dose_value, "unit": d.dose_unit})
    if d.lot_number is not None or d.form is not None:
        inst = _path(dose, "consumable", "instanceOfKind")
        if d.lot_number is not None:
            _el(_path(inst, "productInstanceInstance"), "lotNumberText", text=d.lot_number)
        if d.form is not None:
            _coded(_path(inst, "kindOfProduct"), "formCode", d.form)


def _drug(organizer: Any, g: Drug) -> None:
    sa = _path(organizer, "component", "substanceAdministration")
    _el(sa, "id", {"root": g.id})
    product = _path(sa, "consumable", "instanceOfKind", "kindOfProduct")
    if g.product_code is not None:
        _coded(product, "code", g.product_code)
    if g.product_name is not None:
        _el(product, "name", text=g.product_name)
    if g.authorisation_number is not None or g.holder is not None or g.authorisation_country is not None:
        approval = _path(product, "asManufacturedProduct", "subjectOf", "approval")
        approval.getparent().set("typeCode", "SBJ")
        if g.authorisation_number is not None:
            _el(approval, "id", {"extension": g.authorisation_number, "root": OID_AUTHORISATION})
        if g.holder is not None:
            _el(_path(approval, "holder", "role", "playingOrganization"), "name", text=g.holder)
        if g.authorisation_country is not None:
            territory = _path(approval, "author", "territorialAuthority", "territory")
            _el(territory, "code", {"code": g.authorisation_country, "codeSystem": OID_ISO3166})
    for s in g.substances:
        ing = _path(product, "ingredient")
        if s.strength_value is not None:
            q = _el(ing, "quantity")
            _el(q, "numerator", {"value": s.strength_value, "unit": s.strength_unit})
            _el(q, "denominator", {"value": "1", "unit": s.per_unit or "1"})
        _el(_path(ing, "ingredientSubstance"), "name", text=s.name)
    for d in g.dosages:
        _dosage(sa, d)
    for ind in g.indications:
        rel = _el(sa, "inboundRelationship", {"typeCode": "RSON"})
        o = _path(rel, "observation")
        _obs_code(o, OBS_INDICATION)
        value = _el(
            o,
            "value",
            {
                "xsi:type": "CE",
                "code": ind.meddra_code,
                "codeSystem": OID_MEDDRA,
                "codeSystemVersion": ind.meddra_version,
            },
        )
        if ind.text is not None:
            _el(value, "originalText", text=ind.text)
        ae = _path(o, "performer", "assignedEntity")
        _el(ae, "code", {"code": "3", "codeSystem": ich_list(21), "displayName": "sourceReporter"})
    if g.action_taken is not None:
        rel = _el(sa, "inboundRelationship", {"typeCode": "CAUS"})
        _el(_path(rel, "act"), "code", {"code": g.action_taken, "codeSystem": ich_list(15)})


def _causality(aea: Any, c: Causality) -> None:
    ca = _path(aea, "component", "causalityAssessment")
    _el(ca, "code", {"code": OBS_CAUSALITY, "codeSystem": OID_OBS, "displayName": "causality"})
    if c.result is not None:
        _el(ca, "value", {"xsi:type": "ST"}, c.result)
    if c.method is not None:
        _el(_el(ca, "methodCode"), "originalText", text=c.method)
    if c.source is not None:
        _el(_el(_path(ca, "author", "assignedEntity"), "code"), "originalText", text=c.source)
    _el(_path(ca, "subject1", "adverseEffectReference"), "id", {"root": c.reaction_id})
    _el(_path(ca, "subject2", "productUseReference"), "id", {"root": c.drug_id})


def _primary_source(ie: Any, ps: PrimarySource) -> None:
    rel = _el(ie, "outboundRelationship", {"typeCode": "SPRT"})
    if ps.primary_for_regulatory_purposes:
        _el(rel, "priorityNumber", {"value": "1"})
    ri = _path(rel, "relatedInvestigation")
    _el(ri, "code", {"code": "2", "codeSystem": ich_list(22), "displayName": "sourceReport"})
    ae = _path(ri, "subjectOf2", "controlActEvent", "author", "assignedEntity")
    ae.getparent().getparent().getparent().set("typeCode", "SUBJ")
    _addr(ae, ps.street, ps.city, ps.state, ps.postcode)
    if ps.telephone is not None:
        _el(ae, "telecom", {"value": f"tel:{ps.telephone}"})
    if ps.email is not None:
        _el(ae, "telecom", {"value": f"mailto:{ps.email}"})
    person = _path(ae, "assignedPerson")
    _name(person, ps.title, ps.given_name, ps.middle_name, ps.family_name)
    if ps.qualification is not None:
        _code(_path(person, "asQualifiedEntity"), "code", ps.qualification, ich_list(6))
    _country(person, ps.country)
    _organisations(ae, ps.department, ps.organisation)


def _sender(ie: Any, s: Sender) -> None:
    ae = _path(ie, "subjectOf1", "controlActEvent", "author", "assignedEntity")
    _el(ae, "code", {"code": s.sender_type, "codeSystem": ich_list(7)})
    _addr(ae, s.street, s.city, s.state, s.postcode)
    for scheme, value in (("tel", s.telephone), ("fax", s.fax), ("mailto", s.email)):
        if value is not None:
            _el(ae, "telecom", {"value": f"{scheme}:{value}"})
    if any(v is not None for v in (s.title, s.given_name, s.middle_name, s.family_name, s.country)):
        person = _path(ae, "assignedPerson")
        _name(person, s.title, s.given_name, s.middle_name, s.family_name)
        _country(person, s.country)
    _organisations(ae, s.department, s.organisation)


def _comment(aea: Any, text: str, author_code: str) -> None:
    ev = _path(aea, "component1", "observationEvent")
    _obs_code(ev, OBS_COMMENT)
    _el(ev, "value", {"xsi:type": "ED"}, text)
    _el(_path(ev, "author", "assignedEntity"), "code", {"code": author_code, "codeSystem": ich_list(21)})


def _case(cap: Any, c: IcsrCase) -> None:
    ie = _path(cap, "subject", "investigationEvent")
    _el(ie, "id", {"extension": c.report_id, "root": OID_MESSAGE_ID})
    if c.worldwide_case_id is not None:
        _el(ie, "id", {"extension": c.worldwide_case_id, "root": OID_WORLDWIDE_ID})
    _el(ie, "code", {"code": "PAT_ADV_EVNT", "codeSystem": OID_HL7_ACT_CODE})
    if c.narrative is not None:
        _el(ie, "text", text=c.narrative)
    _el(ie, "statusCode", {"code": "active"})
    if c.first_received is not None:
        _el(_el(ie, "effectiveTime"), "low", {"value": c.first_received})
    if c.most_recent is not None:
        _el(ie, "availabilityTime", {"value": c.most_recent})

    aea = _path(ie, "component", "adverseEventAssessment")
    role = _path(aea, "subject1", "primaryRole")
    _patient(role, c.patient)
    for r in c.reactions:
        _reaction(role, r)
    if c.drugs:
        organizer = _path(role, "subjectOf2", "organizer")
        _el(organizer, "code", {"code": "4", "codeSystem": ich_list(20), "displayName": "drugInformation"})
        for g in c.drugs:
            _drug(organizer, g)
    for g in c.drugs:
        if g.role is None:
            continue
        ca = _path(aea, "component", "causalityAssessment")
        _el(
            ca,
            "code",
            {"code": OBS_ROLE, "codeSystem": OID_OBS, "displayName": "interventionCharacterization"},
        )
        _el(ca, "value", {"xsi:type": "CE", "code": g.role, "codeSystem": ich_list(13)})
        _el(_path(ca, "subject2", "productUseReference"), "id", {"root": g.id})
    for cz in c.causality:
        _causality(aea, cz)
    if c.reporter_comments is not None:
        _comment(aea, c.reporter_comments, "3")
    if c.sender_comments is not None:
        _comment(aea, c.sender_comments, "1")

    for code, value in ((OBS_ADDITIONAL_DOCS, c.additional_documents), (OBS_EXPEDITED, c.expedited)):
        ev = _path(ie, "component", "observationEvent")
        _obs_code(ev, code)
        _bl(ev, value)
    if c.first_sender is not None:
        rel = _el(ie, "outboundRelationship", {"typeCode": "SPRT"})
        ri = _path(rel, "relatedInvestigation")
        _el(ri, "code", {"code": "1", "codeSystem": ich_list(22), "displayName": "initialReport"})
        ae = _path(ri, "subjectOf2", "controlActEvent", "author", "assignedEntity")
        ae.getparent().getparent().getparent().set("typeCode", "SUBJ")
        _el(ae, "code", {"code": c.first_sender, "codeSystem": ich_list(3)})
    for ps in c.primary_sources:
        _primary_source(ie, ps)
    _sender(ie, c.sender)
    for other in c.other_case_ids:
        cae = _path(ie, "subjectOf1", "controlActEvent")
        _el(
            cae,
            "id",
            {"assigningAuthorityName": other.source, "extension": other.case_id, "root": OID_OTHER_CASE_ID},
        )
    if c.report_type is not None:
        ic = _el(
            _el(ie, "subjectOf2", {"typeCode": "SUBJ"}),
            "investigationCharacteristic",
            {"classCode": "OBS", "moodCode": "EVN"},
        )
        _el(ic, "code", {"code": "1", "codeSystem": ich_list(23), "displayName": "ICH ReportType"})
        _el(ic, "value", {"xsi:type": "CE", "code": c.report_type, "codeSystem": ich_list(2)})
    ic = _el(
        _el(ie, "subjectOf2", {"typeCode": "SUBJ"}),
        "investigationCharacteristic",
        {"classCode": "OBS", "moodCode": "EVN"},
    )
    _el(ic, "code", {"code": "2", "codeSystem": ich_list(23), "displayName": "otherCaseIds"})
    _bl(ic, True if c.other_case_ids else Null("NI"))


def _message(root: Any, m: IcsrMessage) -> None:
    msg = _el(root, "PORR_IN049016UV")
    _el(msg, "id", {"extension": m.message_id, "root": OID_MESSAGE_ID})
    _el(msg, "creationTime", {"value": m.created})
    _el(msg, "interactionId", {"extension": "PORR_IN049016UV", "root": OID_HL7_INTERACTION})
    _el(msg, "processingCode", {"code": "P"})
    _el(msg, "processingModeCode", {"code": "I"})
    _el(msg, "acceptAckCode", {"code": "AL"})
    _el(
        _el(_el(msg, "receiver", {"typeCode": "RCV"}), "device", _STEP_ATTRS["device"]),
        "id",
        {"extension": m.receiver, "root": OID_MESSAGE_RECEIVER},
    )
    _el(
        _el(_el(msg, "sender", {"typeCode": "SND"}), "device", _STEP_ATTRS["device"]),
        "id",
        {"extension": m.sender, "root": OID_MESSAGE_SENDER},
    )
    cap = _path(msg, "controlActProcess")
    _el(cap, "code", {"code": "PORR_TE049016UV", "codeSystem": OID_HL7_TRIGGER})
    _el(cap, "effectiveTime", {"value": m.case.created})
    _case(cap, m.case)


def build_tree(batch: IcsrBatch) -> Any:
    """The message as an lxml tree, without any check (use :func:`write_icsr` to export)."""
    root = etree.Element(f"{{{HL7_NS}}}MCCI_IN200100UV01", nsmap={None: HL7_NS, "xsi": XSI_NS})
    root.set("ITSVersion", "XML_1.0")
    root.set(f"{{{XSI_NS}}}schemaLocation", _SCHEMA_LOCATION)
    _el(root, "id", {"extension": batch.batch_number, "root": OID_BATCH_NUMBER})
    _el(root, "creationTime", {"value": batch.created})
    _el(root, "responseModeCode", {"code": "D"})
    _el(root, "interactionId", {"extension": "MCCI_IN200100UV01", "root": OID_HL7_INTERACTION})
    _el(root, "name", {"code": "1", "codeSystem": ich_list(1), "displayName": "ichicsr"})
    for m in batch.messages:
        _message(root, m)
    _el(
        _el(_el(root, "receiver", {"typeCode": "RCV"}), "device", _STEP_ATTRS["device"]),
        "id",
        {"extension": batch.receiver, "root": OID_BATCH_RECEIVER},
    )
    _el(
        _el(_el(root, "sender", {"typeCode": "SND"}), "device", _STEP_ATTRS["device"]),
        "id",
        {"extension": batch.sender, "root": OID_BATCH_SENDER},
    )
    return etree.ElementTree(root)


def single_case_batch(case: IcsrCase, *, sender: str, receiver: str, now: datetime) -> IcsrBatch:
    """Wrap one case in a batch of one message; batch and message numbers derive from the report id."""
    ts = hl7_ts(now)
    return IcsrBatch(
        batch_number=f"{case.report_id}-{ts[:14]}",
        sender=sender,
        receiver=receiver,
        created=ts,
        messages=(
            IcsrMessage(
                message_id=f"{case.report_id}-{ts[:14]}-1",
                sender=sender,
                receiver=receiver,
                created=ts,
                case=case,
            ),
        ),
    )


def write_icsr(batch: IcsrBatch) -> bytes:
    """The E2B(R3) XML of a batch; raises :class:`IcsrIncomplete` listing every problem, writing nothing."""
    problems = [
        f"message {i}: {p}"
        for i, m in enumerate(batch.messages, start=1)
        for p in minimum_case_problems(m.case)
    ]
    problems += xml_text_problems(dataclasses.replace(batch, messages=()), "batch")
    for i, m in enumerate(batch.messages):
        for name in ("message_id", "sender", "receiver", "created"):
            problems += xml_text_problems(getattr(m, name), f"messages[{i}].{name}")
    if any("cannot be sent in XML" in p for p in problems):
        raise IcsrIncomplete(tuple(problems))
    tree = build_tree(batch)
    problems.extend(str(p) for p in check_message(tree))
    if problems:
        raise IcsrIncomplete(tuple(problems))
    return bytes(etree.tostring(tree, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def write_case(case: IcsrCase, *, sender: str, receiver: str, now: datetime) -> bytes:
    """One case as a complete E2B(R3) batch."""
    return write_icsr(single_case_batch(case, sender=sender, receiver=receiver, now=now))


__all__: Sequence[str] = ("build_tree", "single_case_batch", "write_case", "write_icsr")
