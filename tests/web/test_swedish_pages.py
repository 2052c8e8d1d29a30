"""Swedish pages say everything in Swedish: no English message of the catalogs or the label rules.

Each clinician and patient page is rendered over real HTTP with the language cookie set to Swedish;
its visible text (text nodes and the attributes a person reads or hears) must not contain an English
catalog message (msgid) whose Swedish differs, nor the English wording of a label finding.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import lxml.html
import pytest
from test_pages_http import _client, _csrf, _login, _login_token
from webharness import on_sqlite

from repigment.label import RULESETS
from repigment.web import i18n

_READ_ATTRIBUTES = ("aria-label", "title", "alt", "placeholder", "aria-description")
_PLACEHOLDER = re.compile(r"%\([a-z_]+\)s|\{[a-z_]+\}")


def _pattern(english: str) -> re.Pattern[str]:
    """The message as a regular expression: placeholders match any text, any white space matches."""
    parts = []
    for i, piece in enumerate(_PLACEHOLDER.split(english.replace("%%", "%"))):
        if i:
            parts.append(".+?")
        parts += [r"\s+" if t.isspace() else re.escape(t) for t in re.split(r"(\s+)", piece) if t]
    return re.compile(r"(?<!\w)" + "".join(parts) + r"(?!\w)")


@cache
def english_messages() -> dict[str, re.Pattern[str]]:
    """Every English text that has a different Swedish one: catalog msgids and label rule messages."""
    out = {}
    for msgid, msgstr in i18n.catalog_messages("sv").items():
        if msgstr and msgstr != msgid and _PLACEHOLDER.sub("", msgid).strip(" .:%"):
            out[msgid] = _pattern(msgid)
    for rs in RULESETS.values():
        for rule in rs.rules:
            for texts in rule.messages.values():
                if texts["sv"] != texts["en"]:
                    out[texts["en"]] = _pattern(texts["en"])
    return out


def read_texts(html: str) -> list[str]:
    """What a person reads on the page: text nodes (not scripts or styles) and read-out attributes."""
    doc = lxml.html.fromstring(html)
    texts = []
    for el in doc.iter():
        if not isinstance(el.tag, str):
            continue
        if el.tag not in ("script", "style") and el.text and el.text.strip():
            texts.append(el.text)
        if el.tail and el.tail.strip():
            texts.append(el.tail)
        texts += [el.get(a) for a in _READ_ATTRIBUTES if el.get(a)]
        if el.tag == "input" and el.get("type") in ("submit", "button") and el.get("value"):
            texts.append(el.get("value"))
    return [re.sub(r"[ \t\r\n]+", " ", t).strip() for t in texts]  # non-breaking spaces kept


def english_on(html: str) -> list[tuple[str, str]]:
    found = []
    doc = lxml.html.fromstring(html)
    for el in doc.xpath("//script|//style"):
        el.drop_tree()
    whole = re.sub(r"[ \t\r\n]+", " ", doc.text_content())  # numbers and signs split over elements
    for text in [*read_texts(html), whole]:
        for msgid, pattern in english_messages().items():
            if pattern.search(text):
                found.append((msgid, text))
    return found


@pytest.fixture()
def clin(base_url: str, clinic: Any) -> Iterator[httpx.Client]:
    c = _client(base_url, clinic.clinician, clinic.password, "sv")
    yield c
    c.close()


@pytest.fixture()
def pat(base_url: str, clinic: Any) -> Iterator[httpx.Client]:
    c = _client(base_url, clinic.patient_user, clinic.password, "sv")
    yield c
    c.close()


def _log(pat: httpx.Client, patient: int, when: dt.datetime) -> str:
    r = pat.post(
        f"/patients/{patient}/applications",
        data={"csrf_token": _csrf(pat), "hand_units": "2", "when": when.strftime("%Y-%m-%dT%H:%M")},
    )
    assert r.status_code == 303, r.text
    return str(r.headers["location"])


def test_the_scan_finds_english_messages() -> None:
    """The detector itself: an English message (with its placeholders filled) is found, Swedish is not."""
    page = "<p>Logged. Everything is within the rules.</p><p aria-label='Week-24 review due'>x</p>"
    assert {m for m, _ in english_on(page)} >= {
        "Logged. Everything is within the rules.",
        "Week-24 review due",
    }
    finding = (
        "<li>The application at 2026-11-24 12:29+01:00 came 4 h after the previous one at x; "
        "at least 8 h are required.</li>"
    )
    assert english_on(finding)
    assert not english_on(
        "<p>Registrerat. Allt är inom reglerna.</p><script>var a = 'Week-24 review due';</script>"
    )


@on_sqlite
def test_diary_findings_are_in_the_readers_language(
    pat: httpx.Client, clin: httpx.Client, clinic: Any
) -> None:
    """A stored entry's findings are worded in Swedish for the patient and the clinician, also when a
    later entry the same day changed what a new check of that entry would find."""
    ada = clinic.patients[0]
    zone = ZoneInfo("Europe/Stockholm")
    day = dt.datetime.now(zone).replace(hour=0, minute=0, second=0, microsecond=0) - dt.timedelta(days=1)
    _log(pat, ada, day + dt.timedelta(hours=8))
    flagged = _log(pat, ada, day + dt.timedelta(hours=14))  # 6 h later: SmPC 4.2's 8 hours broken
    _log(pat, ada, day + dt.timedelta(hours=10))  # now the 14:00 entry is also the third of the day
    page = pat.get(flagged).text
    feedback = page.split('id="feedback"', 1)[1].split("</section>", 1)[0]
    assert 'data-rule="EU-4.2-interval"' in feedback
    assert "minst 8 timmar krävs" in feedback and "6 tim efter" in feedback
    assert not english_on(feedback), english_on(feedback)
    page = clin.get(f"/clinic/patients/{ada}").text
    diary = page.split('id="diary-title"', 1)[1].split("</section>", 1)[0]
    assert "minst 8 timmar krävs" in diary and "at least 8 h" not in diary
    assert not english_on(diary), english_on(diary)


@on_sqlite
def test_adverse_event_terms_and_automatic_reasons_follow_the_reader(
    clin: httpx.Client, clinic: Any, base_url: str, api_server: Any
) -> None:
    """A picked adverse-event term is stored as coded (English) and shown in the reader's language, as is
    the reason the page writes for a decision recorded without one; typed text is shown as typed."""
    from repigment.store import AdverseEvent, Override, Store

    ada = clinic.patients[0]
    for term, other in (("Application site acne", ""), ("other", "Sveda vid ögonbrynen")):
        r = clin.post(
            f"/clinic/patients/{ada}/adverse-events/new",
            data={
                "csrf_token": _csrf(clin),
                "term": term,
                "term_other": other,
                "onset_on": dt.date.today().isoformat(),
                "outcome": "recovering",
                "causality": "possibly_related",
            },
        )
        assert r.status_code == 303, r.text
    with httpx.Client(base_url=base_url, timeout=30) as en:  # the decision recorded in English
        r = _login(en, {"username": clinic.clinician, "password": clinic.password})
        r = en.post(
            f"/clinic/patients/{ada}/decision",
            data={"csrf_token": _csrf(en), "milestone": "week-24", "choice": "continue", "reason": ""},
        )
        assert r.status_code == 303, r.text
        english = en.get(f"/clinic/patients/{ada}").text
    store = Store(api_server.db_url, migrate=False)
    try:
        with store.read() as db:
            terms = sorted(e.term for e in db.query(AdverseEvent).filter(AdverseEvent.patient_id == ada))
            reasons = [o.reason for o in db.query(Override).filter(Override.patient_id == ada)]
    finally:
        store.dispose()
    assert terms == ["Application site acne", "Application site pruritus", "Sveda vid ögonbrynen"]
    assert reasons == ["Decision recorded at the review."]
    page = clin.get(f"/clinic/patients/{ada}").text
    events = page.split('id="adverse-events"', 1)[1].split("</section>", 1)[0]
    assert "<td>Akne på appliceringsstället</td>" in events
    assert "<td>Klåda på appliceringsstället</td>" in events
    assert "<td>Sveda vid ögonbrynen</td>" in events
    assert "Biverkning: Akne på appliceringsstället" in page
    assert "— Beslut registrerat vid uppföljningen." in page
    assert not english_on(page), english_on(page)
    assert "<td>Application site acne</td>" in english and "— Decision recorded at the review." in english


def test_reasons_stored_in_swedish_before_are_shown_in_the_readers_language() -> None:
    from repigment.web.render import environment

    en = environment("en").filters
    sv = environment("sv").filters
    assert en["autoreason"]("Beslut registrerat vid uppföljningen.") == "Decision recorded at the review."
    assert sv["autoreason"]("Decision recorded at the review.") == "Beslut registrerat vid uppföljningen."
    assert sv["autoreason"]("Patienten vill fortsätta.") == "Patienten vill fortsätta."
    assert sv["aeterm"]("Headache") == "Huvudvärk" and en["aeterm"]("Huvudvärk") == "Headache"
    assert sv["aeterm"]("Headache after sunbathing") == "Headache after sunbathing"


def _visit_ids(html: str, patient: int) -> list[str]:
    return sorted(set(re.findall(rf'href="/clinic/patients/{patient}/visits/(\d+)"', html)))


@on_sqlite
def test_every_page_in_swedish_has_no_english_message(
    clin: httpx.Client, pat: httpx.Client, clinic: Any, base_url: str
) -> None:
    ada, bo, cy = clinic.patients
    zone = ZoneInfo("Europe/Stockholm")
    now = dt.datetime.now(zone)
    _log(pat, ada, now - dt.timedelta(hours=9))
    flagged = _log(pat, ada, now - dt.timedelta(hours=3))  # 6 h later: a blocked entry
    pages: dict[str, str] = {}

    def get(c: httpx.Client, url: str, status: int = 200) -> None:
        r = c.get(url)
        assert r.status_code == status, (url, r.status_code)
        pages[url] = r.text

    def post(c: httpx.Client, url: str, data: dict[str, str], status: int = 422) -> None:
        r = c.post(url, data={"csrf_token": _csrf(c), **data})
        assert r.status_code == status, (url, r.status_code, r.text[-500:])
        pages["POST " + url] = r.text

    with httpx.Client(base_url=base_url, timeout=30, cookies={i18n.LOCALE_COOKIE: "sv"}) as anon:
        get(anon, "/login")
        post(anon, "/login", {"username": "", "password": "", "login_csrf": _login_token(anon)})
        post(anon, "/login", {"username": "x", "password": "y"}, status=403)  # no log-in token
    get(clin, "/password")
    post(clin, "/password", {"current_password": "", "new_password": "short", "new_password_again": "other"})
    # clinician
    get(clin, "/clinic")
    for p in (ada, bo, cy):
        get(clin, f"/clinic/patients/{p}")
    for p in (ada, bo):
        for visit in _visit_ids(pages[f"/clinic/patients/{p}"], p):
            get(clin, f"/clinic/patients/{p}/visits/{visit}")
    assert len([u for u in pages if "/visits/" in u]) >= 5
    get(clin, f"/clinic/patients/{ada}/visits/new")
    get(clin, f"/clinic/patients/{ada}/adverse-events/new")
    get(clin, "/clinic/tools/bodymap")
    get(clin, f"/clinic/patients/{ada}?bsa_percent=25&applications_per_day=3&dispensed_grams=100")
    get(clin, f"/clinic/patients/{ada}?bsa_percent=x&applications_per_day=x&dispensed_grams=x&start=x")
    get(clin, "/clinic/patients/999999", 404)
    post(clin, f"/clinic/patients/{bo}/decision", {"milestone": "week-52", "choice": "continue"})
    post(clin, f"/clinic/patients/{ada}/adverse-events/new", {"term": "other", "serious": "1"})
    post(clin, f"/clinic/patients/{ada}/visits/new", {"visited_on": "x", "week": "x", "vns": "x"})
    post(clin, "/clinic/tools/bodymap", {"age_years": "abc", "drawing": ""})
    # patient
    get(pat, f"/patients/{ada}")
    get(pat, flagged)
    get(pat, f"/patients/{ada}/progress")
    get(pat, f"/patients/{ada}/side-effect")
    get(pat, f"/patients/{ada}/side-effect?sent=1")
    get(pat, f"/patients/{bo}", 404)
    post(pat, f"/patients/{ada}/applications", {"hand_units": "x", "grams": "x", "when": "x"})
    post(pat, f"/patients/{ada}/side-effect", {"term": ""})
    bo_client = _client(base_url, clinic.other_patient_user, clinic.password, "sv")  # week 53
    try:
        get(bo_client, f"/patients/{bo}")
        get(bo_client, f"/patients/{bo}/progress")
    finally:
        bo_client.close()
    leaks = {url: sorted({m for m, _ in english_on(html)}) for url, html in pages.items()}
    leaks = {url: found for url, found in leaks.items() if found}
    assert not leaks, leaks
    style = {url: not_swedish_numbers(html) for url, html in pages.items()}
    style = {url: found for url, found in style.items() if found}
    assert not style, style


# Label sections and versions are identifiers, not numbers ("SmPC 4.2", "EU-4.2-week52", "v1").
_IDENTIFIERS = re.compile(r"\b(SmPC|PIL|PI|USPI)\s+\d+(\.\d+)*|[\w-]*\d\.\d[\w.-]*-[\w.-]+|\bv\d+(\.\d+)*")
_NUMBER_STYLE = {
    "decimal point": re.compile(r"(?<![\w.])\d+\.\d+(?![\w.])"),
    "hyphen as minus": re.compile(r"(?<![\w)\]-])-\d"),
    "plain space before %": re.compile(r"\S %"),
}


def not_swedish_numbers(html: str) -> list[tuple[str, str]]:
    """Text that breaks the Swedish number style: decimal comma, U+2212, a non-breaking space before %."""
    found = []
    doc = lxml.html.fromstring(html)
    for el in doc.xpath("//script|//style"):
        el.drop_tree()
    whole = re.sub(r"[ \t\r\n]+", " ", doc.text_content())  # numbers and signs split over elements
    for text in [*read_texts(html), whole]:
        bare = _IDENTIFIERS.sub("", text)
        found += [(kind, text) for kind, rx in _NUMBER_STYLE.items() if rx.search(bare)]
    return found


@pytest.mark.browser
def test_body_map_live_scores_and_announcements_in_swedish(browser: Any, tools_server: str) -> None:
    """The numbers the page's script writes while painting follow Swedish: 4,90 and 30 % (NBSP)."""
    ctx = browser.new_context(locale="sv-SE")
    try:
        p = ctx.new_page()
        p.goto(tools_server + "/tools/bodymap?age=34")
        p.evaluate("window.repigmentBodymap.fill('trunk_back', 0.3, 100)")
        p.evaluate("window.repigmentBodymap.fill('forearm_left_front', 0.6, 50)")
        totals = {k: p.text_content(f'[data-total="{k}"]') for k in ("t_vasi", "t_bsa_percent", "f_vasi")}
        assert all(re.fullmatch(r"\d+,\d\d", v or "") for v in totals.values()), totals
        assert totals["f_vasi"] == "0,00" and totals["t_bsa_percent"] != "0,00"
        bsa = p.text_content('dd:has([data-total="t_bsa_percent"])') or ""
        assert bsa == totals["t_bsa_percent"] + "\xa0%"
        p.evaluate(  # the keyboard panel's area choice announces the area's state
            "() => { const s = document.querySelector('#bm-kb-area'); s.value = 'trunk_back';"
            " s.dispatchEvent(new Event('change')); }"
        )
        assert p.text_content("#bm-announce") == "Rygg: 30\xa0% målat"
        view = p.text_content('[data-show-view="back"]') or ""
        assert view.strip() == "Baksida"
        assert not not_swedish_numbers(p.content()), not_swedish_numbers(p.content())
    finally:
        ctx.close()


@on_sqlite
def test_range_errors_are_in_the_readers_language(pat: httpx.Client, clinic: Any) -> None:
    """A value outside the API's range is refused next to the field in Swedish, the limit a Swedish
    number (not pydantic's English "Input should be less than or equal to 100")."""
    ada = clinic.patients[0]
    r = pat.post(
        f"/patients/{ada}/applications",
        data={"csrf_token": _csrf(pat), "hand_units": "150", "grams": "0,5"},
    )
    assert r.status_code == 422
    error = r.text.split('id="err-hand_units"', 1)[1].split(">", 1)[1].split("</p>", 1)[0]
    assert error == "Värdet får vara högst 100."
    r = pat.post(
        f"/patients/{ada}/applications",
        data={"csrf_token": _csrf(pat), "hand_units": "1,5", "grams": "1500"},
    )
    error = r.text.split('id="err-grams"', 1)[1].split(">", 1)[1].split("</p>", 1)[0]
    assert error == "Värdet får vara högst 1000."
    assert "Input should be" not in r.text
