"""A realistic repigment case and the FDA example messages, shared by the safety tests."""

from __future__ import annotations

from pathlib import Path

from repigment.safety import (
    Causality,
    Drug,
    IcsrCase,
    IcsrPatient,
    PrimarySource,
    Reaction,
    Sender,
    ruxolitinib_cream,
)

E2B_DIR = Path(__file__).resolve().parents[2] / "data" / "e2b"
FDA_EXAMPLES = sorted(E2B_DIR.glob("FAERS2022Scenario*.xml"))
assert FDA_EXAMPLES, f"FDA E2B(R3) example messages missing from {E2B_DIR}: they are part of the repository"

RUX_ID = "0d8a3f4e-8b1c-4c55-9d8e-2f6a1b7c9e01"
ACNE_ID = "5e1f0a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b"
PRURITUS_ID = "7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d"
EMOLLIENT_ID = "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"


def repigment_case() -> IcsrCase:
    """Application-site acne (serious: other medically important) and pruritus on ruxolitinib cream."""
    rux = ruxolitinib_cream(drug_id=RUX_ID, start="20260301", lot_number="L2305A", action_taken="4")
    emollient = Drug(id=EMOLLIENT_ID, role="2", product_name="Emollient cream (paraffin)")
    return IcsrCase(
        report_id="SE-REPIGMENT-2026-000042",
        worldwide_case_id="SE-REPIGMENT-2026-000042",
        created="20260415093000+0200",
        report_type="1",
        first_received="20260410",
        most_recent="20260414",
        sender=Sender(
            sender_type="3",
            organisation="Hudkliniken Södersjukhuset",
            department="Dermatology",
            given_name="Karin",
            family_name="Lund",
            city="Stockholm",
            country="SE",
            email="pv@example.org",
        ),
        patient=IcsrPatient(initials="AB", sex="2", age_value="34", age_unit="a", weight_kg="61"),
        primary_sources=(
            PrimarySource(
                qualification="1",
                country="SE",
                title="Dr",
                given_name="Erik",
                family_name="Berg",
                organisation="Hudkliniken",
                primary_for_regulatory_purposes=True,
            ),
        ),
        reactions=(
            Reaction(
                id=ACNE_ID,
                meddra_version="27.0",
                meddra_code="10003054",
                reported_term="akne på appliceringsstället",
                reported_language="swe",
                translated_term="Application site acne",
                start="20260328",
                seriousness=frozenset({"other_medically_important"}),
                outcome="2",
                medically_confirmed=True,
                country="SE",
            ),
            Reaction(
                id=PRURITUS_ID,
                meddra_version="27.0",
                meddra_code="10003053",
                reported_term="Application site pruritus",
                start="202603",
                end="20260405",
                outcome="1",
            ),
        ),
        drugs=(rux, emollient),
        causality=(
            Causality(
                drug_id=RUX_ID,
                reaction_id=ACNE_ID,
                source="Primary source reporter",
                method="Global introspection",
                result="Probable",
            ),
            Causality(
                drug_id=RUX_ID,
                reaction_id=PRURITUS_ID,
                source="Primary source reporter",
                method="Global introspection",
                result="Possible",
            ),
        ),
        narrative="A 34-year-old woman treated for non-segmental vitiligo had acne where the cream was put.",
        reporter_comments="Related to the cream in my view.",
    )
