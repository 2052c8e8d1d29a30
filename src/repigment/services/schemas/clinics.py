"""A clinic's settings, set by its administrator."""

from __future__ import annotations

from typing import Final, Literal

from pydantic import Field

from repigment.services.schemas.common import In, Out, Timezone

LANGUAGES: Final = ("en", "sv")  # the languages of the pages (web/i18n.LOCALES)
Language = Literal["en", "sv"]


class ClinicSettingsIn(In):
    timezone: Timezone = Field(description="IANA time zone name, e.g. Europe/Stockholm")
    default_language: Language = Field(description="The pages' language when a visitor has chosen none")


class ClinicSettingsOut(Out):
    id: int
    name: str
    timezone: str
    default_language: Language
