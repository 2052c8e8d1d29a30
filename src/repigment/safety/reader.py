"""E2B(R3) reader: an HL7 v3 ICSR batch (file or bytes) → :class:`IcsrBatch` of typed cases.

Reads what :mod:`repigment.safety.writer` writes, at the same places FDA's example messages use, so a case
imported from another system can be re-exported. Elements outside the case model are not kept.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lxml import etree

from repigment.safety.codes import (
    HL7_NS,
    NS,
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
    OID_MESSAGE_ID,
    OID_OBS,
    OID_OTHER_CASE_ID,
    OID_WORLDWIDE_ID,
    SERIOUSNESS_CODES,
    ich_list,
)
from repigment.safety.model import (
    NULL_FLAVORS,
    Causality,
    Coded,
    Dosage,
    Drug,
    IcsrBatch,
    IcsrCase,
    IcsrMessage,
    IcsrPatient,
    Indication,
    Null,
    NullFlavorCode,
    OtherCaseId,
    PrimarySource,
    Reaction,
    Sender,
    SeriousnessCriterion,
    Substance,
)


class IcsrParseError(ValueError):
    """The input is not a readable E2B(R3) ICSR batch; the message says where."""


def _xp(node: Any, path: str) -> list[Any]:
    return list(node.xpath(path, namespaces=NS))


def _first(node: Any, path: str) -> Any | None:
    found = _xp(node, path)
    return found[0] if found else None


def _attr(node: Any, path: str, attr: str) -> str | None:
    el = _first(node, path)
    return None if el is None else el.get(attr)


def _text(node: Any, path: str) -> str | None:
    el = _first(node, path)
    if el is None or el.get("nullFlavor") is not None:
        return None
    return str(el.xpath("string()"))


def _null(value: str | None) -> Null | None:
    if value is None:
        return None
    if value not in NULL_FLAVORS:
        raise IcsrParseError(f"nullFlavor {value!r} is not an HL7 null flavor")
    flavor: NullFlavorCode = value  # type: ignore[assignment]
    return Null(flavor)


def _code_or_null(node: Any, path: str) -> str | Null | None:
    el = _first(node, path)
    if el is None:
        return None
    if el.get("nullFlavor") is not None:
        return _null(el.get("nullFlavor"))
    code: str | None = el.get("code")
    return code


def _bool(node: Any, path: str) -> bool | Null | None:
    el = _first(node, path)
    if el is None:
        return None
    if el.get("nullFlavor") is not None:
        return _null(el.get("nullFlavor"))
    value: str | None = el.get("value")
    if value not in ("true", "false"):
        raise IcsrParseError(f"line {el.sourceline}: boolean value {value!r} is not true or false")
    return value == "true"


def _coded(el: Any | None) -> Coded | None:
    if el is None:
        return None
    return Coded(
        code=el.get("code"),
        system=el.get("codeSystem"),
        version=el.get("codeSystemVersion"),
        display=el.get("displayName"),
        text=_text(el, "h:originalText"),
    )


def _obs(code: str, system: str = OID_OBS) -> str:
    return f"[h:code[@code='{code}'][@codeSystem='{system}']]"


def _patient(role: Any) -> IcsrPatient:
    name = _first(role, "h:player1/h:name")
    initials: str | Null | None = None
    if name is not None:
        initials = _null(name.get("nullFlavor")) if name.get("nullFlavor") else str(name.xpath("string()"))
    return IcsrPatient(
        initials=initials,
        sex=_code_or_null(role, "h:player1/h:administrativeGenderCode"),
        birth_date=_attr(role, "h:player1/h:birthTime", "value"),
        age_value=_attr(role, f"h:subjectOf2/h:observation{_obs(OBS_AGE)}/h:value", "value"),
        age_unit=_attr(role, f"h:subjectOf2/h:observation{_obs(OBS_AGE)}/h:value", "unit"),
        age_group=_attr(role, f"h:subjectOf2/h:observation{_obs(OBS_AGE_GROUP)}/h:value", "code"),
        weight_kg=_attr(role, f"h:subjectOf2/h:observation{_obs(OBS_WEIGHT)}/h:value", "value"),
        height_cm=_attr(role, f"h:subjectOf2/h:observation{_obs(OBS_HEIGHT)}/h:value", "value"),
        medical_history_text=_text(
            role,
            f"h:subjectOf2/h:organizer{_obs('1', ich_list(20))}"
            f"/h:component/h:observation{_obs(OBS_HISTORY_TEXT)}/h:value",
        ),
    )


def _reaction(obs: Any, index: int) -> Reaction:
    rid = _attr(obs, "h:id", "root")
    if not rid:
        raise IcsrParseError(f"line {obs.sourceline}: reaction {index} has no id")
    rel = "h:outboundRelationship2/h:observation"
    seriousness: set[SeriousnessCriterion] = set()
    criterion: SeriousnessCriterion
    for criterion, (code, _element) in SERIOUSNESS_CODES.items():  # type: ignore[assignment]
        if _bool(obs, f"{rel}{_obs(code)}/h:value") is True:
            seriousness.add(criterion)
    confirmed = _bool(obs, f"{rel}{_obs(OBS_MEDICALLY_CONFIRMED)}/h:value")
    return Reaction(
        id=rid,
        meddra_version=_attr(obs, "h:value", "codeSystemVersion"),
        meddra_code=_attr(obs, "h:value", "code"),
        reported_term=_text(obs, "h:value/h:originalText"),
        reported_language=_attr(obs, "h:value/h:originalText", "language"),
        translated_term=_text(obs, f"{rel}{_obs(OBS_TRANSLATION)}/h:value"),
        start=_attr(obs, "h:effectiveTime/h:low | h:effectiveTime/h:comp/h:low", "value"),
        end=_attr(obs, "h:effectiveTime/h:high | h:effectiveTime/h:comp/h:high", "value"),
        seriousness=frozenset(seriousness),
        outcome=_attr(obs, f"{rel}{_obs(OBS_OUTCOME)}/h:value", "code"),
        medically_confirmed=confirmed if isinstance(confirmed, bool) else None,
        country=_attr(obs, "h:location/h:locatedEntity/h:locatedPlace/h:code", "code"),
    )


def _dosage(sa: Any) -> Dosage:
    et = _first(sa, "h:effectiveTime")
    start = end = period_value = period_unit = None
    if et is not None:
        start = _attr(et, "h:low | h:comp/h:low", "value")
        end = _attr(et, "h:high | h:comp/h:high", "value")
        period_value = _attr(et, "h:comp/h:period", "value")
        period_unit = _attr(et, "h:comp/h:period", "unit")
    route = _first(sa, "h:routeCode")
    return Dosage(
        text=_text(sa, "h:text"),
        dose_value=_attr(sa, "h:doseQuantity", "value"),
        dose_unit=_attr(sa, "h:doseQuantity", "unit"),
        period_value=period_value,
        period_unit=period_unit,
        start=start,
        end=end,
        route=_coded(route) if route is not None and route.get("nullFlavor") is None else None,
        form=_coded(_first(sa, "h:consumable/h:instanceOfKind/h:kindOfProduct/h:formCode")),
        lot_number=_text(sa, "h:consumable/h:instanceOfKind/h:productInstanceInstance/h:lotNumberText"),
    )


def _drug(sa: Any, roles: dict[str, str | None], index: int) -> Drug:
    did = _attr(sa, "h:id", "root")
    if not did:
        raise IcsrParseError(f"line {sa.sourceline}: drug {index} has no id")
    product = _first(sa, "h:consumable/h:instanceOfKind/h:kindOfProduct")
    approval = None if product is None else _first(product, "h:asManufacturedProduct/h:subjectOf/h:approval")
    substances = []
    for ing in [] if product is None else _xp(product, "h:ingredient"):
        name = _text(ing, "h:ingredientSubstance/h:name")
        if name is None:
            continue
        substances.append(
            Substance(
                name=name,
                strength_value=_attr(ing, "h:quantity/h:numerator", "value"),
                strength_unit=_attr(ing, "h:quantity/h:numerator", "unit"),
                per_unit=_attr(ing, "h:quantity/h:denominator", "unit"),
            )
        )
    indications = tuple(
        Indication(
            text=_text(o, "h:value/h:originalText"),
            meddra_version=_attr(o, "h:value", "codeSystemVersion"),
            meddra_code=_attr(o, "h:value", "code"),
        )
        for o in _xp(sa, f"h:inboundRelationship[@typeCode='RSON']/h:observation{_obs(OBS_INDICATION)}")
    )
    return Drug(
        id=did,
        role=roles.get(did),
        product_name=None if product is None else _text(product, "h:name"),
        product_code=None if product is None else _coded(_first(product, "h:code")),
        substances=tuple(substances),
        authorisation_number=None
        if approval is None
        else _attr(approval, f"h:id[@root='{OID_AUTHORISATION}']", "extension"),
        authorisation_country=None
        if approval is None
        else _attr(approval, "h:author/h:territorialAuthority/h:territory/h:code", "code"),
        holder=None if approval is None else _text(approval, "h:holder/h:role/h:playingOrganization/h:name"),
        dosages=tuple(_dosage(d) for d in _xp(sa, "h:outboundRelationship2/h:substanceAdministration")),
        indications=indications,
        action_taken=_attr(sa, "h:inboundRelationship[@typeCode='CAUS']/h:act/h:code", "code"),
    )


def _code_text(el: Any | None) -> str | None:
    if el is None:
        return None
    text = _text(el, "h:originalText")
    return text if text is not None else el.get("code")


def _causality(ca: Any) -> Causality:
    value = _first(ca, "h:value")
    result = None
    if value is not None:
        result = value.get("code") if value.get("code") is not None else str(value.xpath("string()"))
    return Causality(
        drug_id=_attr(ca, "h:subject2/h:productUseReference/h:id", "root") or "",
        reaction_id=_attr(ca, "h:subject1/h:adverseEffectReference/h:id", "root") or "",
        source=_code_text(_first(ca, "h:author/h:assignedEntity/h:code")),
        method=_code_text(_first(ca, "h:methodCode")),
        result=result,
    )


def _names(ae: Any) -> dict[str, str | None]:
    person = "h:assignedPerson/h:name"
    return {
        "title": _text(ae, f"{person}/h:prefix"),
        "given_name": _text(ae, f"{person}/h:given[1]"),
        "middle_name": _text(ae, f"{person}/h:given[2]"),
        "family_name": _text(ae, f"{person}/h:family"),
        "street": _text(ae, "h:addr/h:streetAddressLine[1]"),
        "city": _text(ae, "h:addr/h:city"),
        "state": _text(ae, "h:addr/h:state"),
        "postcode": _text(ae, "h:addr/h:postalCode"),
        "department": _text(ae, "h:representedOrganization/h:name"),
        "organisation": _text(
            ae, "h:representedOrganization/h:assignedEntity/h:representedOrganization/h:name"
        ),
    }


def _telecom(ae: Any, scheme: str) -> str | None:
    value = _attr(ae, f"h:telecom[starts-with(@value, '{scheme}:')]", "value")
    return None if value is None else value[len(scheme) + 1 :]


def _primary_source(rel: Any) -> PrimarySource:
    ae = _first(rel, "h:relatedInvestigation/h:subjectOf2/h:controlActEvent/h:author/h:assignedEntity")
    if ae is None:
        return PrimarySource(primary_for_regulatory_purposes=_attr(rel, "h:priorityNumber", "value") == "1")
    return PrimarySource(
        qualification=_code_or_null(ae, "h:assignedPerson/h:asQualifiedEntity/h:code"),
        country=_code_or_null(ae, "h:assignedPerson/h:asLocatedEntity/h:location/h:code"),
        telephone=_telecom(ae, "tel"),
        email=_telecom(ae, "mailto"),
        primary_for_regulatory_purposes=_attr(rel, "h:priorityNumber", "value") == "1",
        **_names(ae),
    )


def _sender(ie: Any) -> Sender:
    ae = _first(
        ie,
        f"h:subjectOf1/h:controlActEvent/h:author/h:assignedEntity[h:code[@codeSystem='{ich_list(7)}']]",
    )
    if ae is None:
        return Sender(sender_type=None)
    return Sender(
        sender_type=_attr(ae, "h:code", "code"),
        country=_attr(ae, "h:assignedPerson/h:asLocatedEntity/h:location/h:code", "code"),
        telephone=_telecom(ae, "tel"),
        fax=_telecom(ae, "fax"),
        email=_telecom(ae, "mailto"),
        **_names(ae),
    )


def _comment(aea: Any, author: str) -> str | None:
    return _text(
        aea,
        f"h:component1/h:observationEvent{_obs(OBS_COMMENT)}"
        f"[h:author/h:assignedEntity/h:code[@code='{author}'][@codeSystem='{ich_list(21)}']]/h:value",
    )


def _case(cap: Any) -> IcsrCase:
    ie = _first(cap, "h:subject/h:investigationEvent")
    if ie is None:
        raise IcsrParseError(f"line {cap.sourceline}: controlActProcess has no subject/investigationEvent")
    report_id = _attr(ie, f"h:id[@root='{OID_MESSAGE_ID}']", "extension")
    if not report_id:
        raise IcsrParseError(f"line {ie.sourceline}: C.1.1 (sender's safety report id) is missing")
    aea = _first(ie, "h:component/h:adverseEventAssessment")
    role = None if aea is None else _first(aea, "h:subject1/h:primaryRole")
    roles: dict[str, str | None] = {}
    causality: list[Causality] = []
    if aea is not None:
        for ca in _xp(aea, f"h:component/h:causalityAssessment{_obs(OBS_ROLE)}"):
            drug_id = _attr(ca, "h:subject2/h:productUseReference/h:id", "root")
            if drug_id is not None:
                roles.setdefault(drug_id, _attr(ca, "h:value", "code"))
        causality = [
            _causality(ca) for ca in _xp(aea, f"h:component/h:causalityAssessment{_obs(OBS_CAUSALITY)}")
        ]
    reactions = [] if role is None else _xp(role, f"h:subjectOf2/h:observation{_obs(OBS_REACTION)}")
    drugs = (
        []
        if role is None
        else _xp(
            role, f"h:subjectOf2/h:organizer{_obs('4', ich_list(20))}/h:component/h:substanceAdministration"
        )
    )
    expedited = _bool(ie, f"h:component/h:observationEvent{_obs(OBS_EXPEDITED)}/h:value")
    return IcsrCase(
        report_id=report_id,
        created=_attr(cap, "h:effectiveTime", "value") or "",
        report_type=_attr(
            ie, f"h:subjectOf2/h:investigationCharacteristic{_obs('1', ich_list(23))}/h:value", "code"
        ),
        first_received=_attr(ie, "h:effectiveTime/h:low", "value"),
        most_recent=_attr(ie, "h:availabilityTime", "value"),
        sender=_sender(ie),
        patient=IcsrPatient() if role is None else _patient(role),
        primary_sources=tuple(
            _primary_source(rel)
            for rel in _xp(ie, f"h:outboundRelationship[h:relatedInvestigation{_obs('2', ich_list(22))}]")
        ),
        reactions=tuple(_reaction(r, i) for i, r in enumerate(reactions, start=1)),
        drugs=tuple(_drug(d, roles, k) for k, d in enumerate(drugs, start=1)),
        causality=tuple(causality),
        narrative=_text(ie, "h:text"),
        worldwide_case_id=_attr(ie, f"h:id[@root='{OID_WORLDWIDE_ID}']", "extension"),
        first_sender=_attr(
            ie,
            f"h:outboundRelationship/h:relatedInvestigation{_obs('1', ich_list(22))}"
            "/h:subjectOf2/h:controlActEvent/h:author/h:assignedEntity/h:code",
            "code",
        ),
        additional_documents=_bool(ie, f"h:component/h:observationEvent{_obs(OBS_ADDITIONAL_DOCS)}/h:value")
        is True,
        expedited=expedited,
        other_case_ids=tuple(
            OtherCaseId(source=el.get("assigningAuthorityName") or "", case_id=el.get("extension") or "")
            for el in _xp(ie, f"h:subjectOf1/h:controlActEvent/h:id[@root='{OID_OTHER_CASE_ID}']")
        ),
        reporter_comments=None if aea is None else _comment(aea, "3"),
        sender_comments=None if aea is None else _comment(aea, "1"),
    )


def _device_id(node: Any, which: str) -> str:
    return _attr(node, f"h:{which}/h:device/h:id", "extension") or ""


def _parser() -> Any:
    # No entity expansion, DTDs or network: an ICSR never needs them (E2B(R3) is XSD-based).
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)


def parse_icsr(source: bytes | str | Path) -> IcsrBatch:
    """Read an E2B(R3) batch from XML bytes or a file path."""
    try:
        if isinstance(source, bytes):
            tree = etree.ElementTree(etree.fromstring(source, _parser()))
        else:
            tree = etree.parse(str(source), _parser())
    except OSError as e:
        raise IcsrParseError(f"cannot read {source!s}: {e}") from e
    except etree.XMLSyntaxError as e:
        raise IcsrParseError(f"not well-formed XML: {e}") from e
    if tree.docinfo.internalDTD is not None or tree.docinfo.doctype:
        raise IcsrParseError("document type declarations are not allowed in an E2B(R3) message")
    root = tree.getroot()
    if root.tag != f"{{{HL7_NS}}}MCCI_IN200100UV01":
        raise IcsrParseError(
            f"expected an HL7 v3 MCCI_IN200100UV01 batch, got {etree.QName(root).localname!r}"
        )
    messages = []
    for msg in _xp(root, "h:PORR_IN049016UV"):
        cap = _first(msg, "h:controlActProcess")
        if cap is None:
            raise IcsrParseError(f"line {msg.sourceline}: PORR_IN049016UV has no controlActProcess")
        messages.append(
            IcsrMessage(
                message_id=_attr(msg, "h:id", "extension") or "",
                sender=_device_id(msg, "sender"),
                receiver=_device_id(msg, "receiver"),
                created=_attr(msg, "h:creationTime", "value") or "",
                case=_case(cap),
            )
        )
    return IcsrBatch(
        batch_number=_attr(root, "h:id", "extension") or "",
        sender=_device_id(root, "sender"),
        receiver=_device_id(root, "receiver"),
        created=_attr(root, "h:creationTime", "value") or "",
        messages=tuple(messages),
    )
