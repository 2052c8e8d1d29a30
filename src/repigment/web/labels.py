"""Words shown for the model's names (chart areas, VASI regions, views), translated at render time."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final

from repigment.body import CHART_AREAS
from repigment.web.i18n import N_, NC_, translations

_PARTS: Final = {
    "upper_arm": N_("Upper arm"),
    "forearm": N_("Forearm"),
    "hand": N_("Hand"),
    "thigh": N_("Thigh"),
    "lower_leg": N_("Lower leg"),
    "foot": N_("Foot"),
}
_SIDE_VIEW: Final = {
    ("left", "front"): N_("left, front"),
    ("right", "front"): N_("right, front"),
    ("left", "back"): N_("left, back"),
    ("right", "back"): N_("right, back"),
}
_WHOLE: Final[dict[str, str | tuple[str, str]]] = {
    "face": N_("Face (without eyelids)"),
    "eyelids": N_("Eyelids"),
    "head_front_other": N_("Front of head: scalp, ears, lips"),
    "neck_front": N_("Neck, front"),
    "trunk_front": N_("Chest and abdomen"),
    "genitalia": N_("Genitals"),
    "head_back": N_("Back of head"),
    "neck_back": N_("Neck, back"),
    "trunk_back": NC_("body area", "Back"),  # Swedish "Rygg", not the view "Back" ("Baksida")
    "buttock_left": N_("Buttock, left"),
    "buttock_right": N_("Buttock, right"),
}
REGIONS: Final = {
    "face": N_("Face"),
    "eyelids": N_("Eyelids"),
    "head_neck": N_("Head and neck"),
    "hands": N_("Hands"),
    "upper_extremities": N_("Arms"),
    "trunk": N_("Trunk"),
    "lower_extremities": N_("Legs and buttocks"),
    "feet": N_("Feet"),
}
VIEWS: Final = {"front": N_("Front"), "back": N_("Back"), "face": N_("Face (zoom)")}
# The answers of the Vitiligo Noticeability Scale, worded as repigment.scoring.VNS_LABELS (a test keeps
# them equal), so that the catalogs translate the instrument's own words.
VNS: Final = {
    1: N_("more noticeable"),
    2: N_("as noticeable"),
    3: N_("slightly less noticeable"),
    4: N_("a lot less noticeable"),
    5: N_("no longer noticeable"),
}


# Adverse events expected with the cream (SmPC 4.8) offered as a pick-list; free text is allowed too.
# A picked term is stored as written here (English, as coded) and shown in the reader's language.
AE_TERMS: Final = (
    N_("Application site acne"),
    N_("Application site pruritus"),
    N_("Application site erythema"),
    N_("Application site rash"),
    N_("Application site pain"),
    N_("Application site dermatitis"),
    N_("Application site exfoliation"),
    N_("Application site folliculitis"),
    N_("Nasopharyngitis"),
    N_("Headache"),
)
# Reasons the pages write themselves (a decision recorded without a typed reason): stored as written
# here and shown in the reader's language.
DECISION_REASON: Final = N_("Decision recorded at the review.")
AUTO_REASONS: Final = (DECISION_REASON,)


def known_text(text: str, known: Sequence[str], translations: Sequence[Callable[[str], str]]) -> str | None:
    """The message among ``known`` that ``text`` is, in English or in any language's words (texts
    stored before they were kept as the English message); None for anything else (free text)."""
    for msgid in known:
        if text == msgid or any(text == gettext(msgid) for gettext in translations):
            return msgid
    return None


def area_label(name: str, lang: str) -> str:
    t = translations(lang)
    if name in _WHOLE:
        label = _WHOLE[name]
        return str(t.pgettext(*label) if isinstance(label, tuple) else t.gettext(label))
    for part, text in _PARTS.items():
        if name.startswith(part + "_"):
            side, view = name[len(part) + 1 :].split("_")
            return f"{t.gettext(text)}, {t.gettext(_SIDE_VIEW[(side, view)])}"
    raise KeyError(name)


def all_area_labels(lang: str) -> dict[str, str]:
    return {a.name: area_label(a.name, lang) for a in CHART_AREAS}
