"""The analyst's cohort page in headless chromium: English and Swedish, desktop and phone, axe clean,
no request to another host, the filter form as a link, a bad filter shown at its field."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from webharness import PHONE, assert_accessible, on_sqlite, screenshot

from cohort_seed import course_visits

pytestmark = [pytest.mark.browser, on_sqlite]
LAPTOP = {"width": 1366, "height": 900}


@pytest.mark.parametrize(("locale", "lang"), [("en-GB", "en"), ("sv-SE", "sv")])
def test_analyst_cohort_page_in_the_browser(
    new_page: Any, base_url: str, http: httpx.Client, clinic_factory: Any, locale: str, lang: str
) -> None:
    a, b = clinic_factory(), clinic_factory()
    doc_a = a.login(http, "clinician")
    course_visits(
        http, doc_a, a.patients[0], [("2026-01-05", 100, None), ("2026-03-30", 50, 3), ("2026-06-22", 25, 5)]
    )
    course_visits(
        http, doc_a, a.patients[1], [("2026-01-05", 100, None), ("2026-03-30", 75, 2), ("2026-06-22", 90, 2)]
    )
    course_visits(
        http, b.login(http, "clinician"), b.patients[0], [("2026-01-05", 100, None), ("2026-06-22", 10, 4)]
    )
    own = urlsplit(base_url).netloc
    for size, viewport in (("desktop", LAPTOP), ("phone", PHONE)):
        foreign: list[str] = []
        page = new_page(viewport, locale)

        def only_this_server(route: Any, foreign: list[str] = foreign) -> None:
            if urlsplit(route.request.url).netloc == own:
                route.continue_()
            else:
                foreign.append(route.request.url)
                route.abort()

        page.route("**/*", only_this_server)
        page.goto(base_url + "/analyst/cohort")  # not logged in: the log-in form, then back here
        page.fill("#username", a.users["analyst"])
        page.fill("#password", a.password)
        page.click("button[type=submit]")
        page.wait_for_selector("#by-endpoint")
        assert urlsplit(page.url).path == "/analyst/cohort"
        assert page.get_attribute("html", "lang") == lang
        row = page.locator('tr[data-endpoint="F-VASI75"] td').all_inner_texts()
        sep = "," if lang == "sv" else "."
        assert row[0] == "1/2" and row[1].startswith(f"50{sep}0")
        assert page.locator("svg.chart[role=img] desc").count() == 1
        assert_accessible(page)
        # The filters are a GET form: choosing some gives a link that shows the same view.
        page.select_option("#sex", "female")
        page.select_option("#missing", "nri")
        page.select_option("#endpoint", "F-VASI50")
        page.click("form.filters button[type=submit]")
        page.wait_for_selector("#by-endpoint")
        query = urlsplit(page.url).query
        assert "sex=female" in query and "missing=nri" in query and "endpoint=F-VASI50" in query
        assert page.locator('tr[data-endpoint="F-VASI75"] td').first.inner_text() == "1/1"
        week12 = page.locator("#by-week tbody tr").nth(2).locator("td").all_inner_texts()  # weeks 4, 8, 12
        assert week12[0] == "1/1"
        assert_accessible(page)
        page.evaluate("document.querySelector('#by-endpoint').scrollIntoView()")  # the results in view
        screenshot(page, f"analyst-cohort-{lang}-{size}")
        # A bad value typed into the link: the form comes back with the error at the field, not a 500.
        answer = page.goto(base_url + "/analyst/cohort?started_from=2026-02-30")
        assert answer is not None and answer.status == 422
        assert page.get_attribute("#started_from", "aria-invalid") == "true"
        assert page.locator("#err-started_from").inner_text()
        assert_accessible(page)
        assert foreign == [], f"requests to other hosts: {foreign}"
