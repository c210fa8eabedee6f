"""The dashboard in headless Chromium: seeded balances, a decision with citations, a reservation that moves a bar,
a party screened against the restricted-party lists."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.service.server import Server, sqlite_target

CHROMIUM = "/usr/bin/chromium"
ARTEFACTS = Path(__file__).resolve().parents[2] / "artefacts"
LICENCE = "US-DEMO-NVDA-ALIBABA"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Debian's chromium is not installed at {CHROMIUM}"),
]


@pytest.fixture(scope="module")
def dashboard_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = Server(sqlite_target(tmp_path_factory.mktemp("dashboard")))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            yield launched
        finally:
            launched.close()


def held_on_chart(page: Any, authorization: str) -> int:
    """The 'held' bar of one authorisation, read from the Plotly figure the page drew."""
    value: int = page.evaluate(
        """(id) => {
            const trace = document.getElementById('balances-chart').data.find((t) => t.name === 'held');
            return trace.x[trace.y.indexOf(id)];
        }""",
        authorization,
    )
    return value


def test_decide_reserve_and_see_the_bar_move(dashboard_server: Server, browser: Any) -> None:
    officer = dashboard_server.create_key("oscar-officer", "officer")
    page = browser.new_page(viewport={"width": 1400, "height": 2200})
    remote: list[str] = []
    page.on("request", lambda r: remote.append(r.url) if not r.url.startswith(dashboard_server.url) else None)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    page.goto(dashboard_server.url + "/")
    page.fill("#api-key", officer)
    page.click("#key-form button")
    page.wait_for_selector(f'#balances-table tr[data-authorization="{LICENCE}"]')
    assert page.text_content("#whoami") == "oscar-officer (officer)"

    pool = page.locator('#balances-table tr[data-authorization="cn-h200-2026-01-28"]')
    assert pool.locator("td.limit").text_content() == "400,000"
    page.wait_for_function("document.getElementById('pool-chart').data !== undefined")
    page.wait_for_function("document.getElementById('cap-chart').data !== undefined")
    page.wait_for_function("document.getElementById('timeline-chart').data !== undefined")
    held_before = held_on_chart(page, LICENCE)

    page.fill("#decide-form input[name=quantity]", "4000")
    page.click("#decide-button")
    page.wait_for_selector("#decision:not([hidden])")
    assert page.text_content("#decision-outcome") == "allowed"
    citations = page.locator("#reasons-table td.citation").all_text_contents()
    assert any("91 FR 1684" in c for c in citations), citations
    assert LICENCE in (page.text_content("#decision-coverage") or "")

    page.click("#reserve-button")
    page.wait_for_selector("#reserve-result.ok")
    assert "pending" in (page.text_content("#reserve-result") or "")
    page.wait_for_function(
        f"""() => {{
            const t = document.getElementById('balances-chart').data.find((t) => t.name === 'held');
            return t.x[t.y.indexOf('{LICENCE}')] === {held_before + 4000};
        }}"""
    )
    assert page.locator(f'#balances-table tr[data-authorization="{LICENCE}"] td.held').text_content() == (
        f"{held_before + 4000:,}"
    )
    # The journal reloads after the balances: wait for it rather than read it once.
    page.wait_for_function("document.querySelector('#journal-table td.actor')?.textContent === 'oscar-officer'")

    ARTEFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / "dashboard.png"), full_page=True)
    assert not errors, errors
    assert not remote, f"the dashboard fetched from elsewhere: {remote}"


def test_an_analyst_cannot_reserve_from_the_form(dashboard_server: Server, browser: Any) -> None:
    analyst = dashboard_server.create_key("anna-analyst", "analyst")
    page = browser.new_page()
    page.goto(dashboard_server.url + "/dashboard/")
    page.fill("#api-key", analyst)
    page.click("#key-form button")
    page.wait_for_selector(f'#balances-table tr[data-authorization="{LICENCE}"]')
    page.click("#decide-button")
    page.wait_for_selector("#decision:not([hidden])")
    assert page.is_disabled("#reserve-button")


def test_a_wrong_key_is_reported(dashboard_server: Server, browser: Any) -> None:
    page = browser.new_page()
    page.goto(dashboard_server.url + "/dashboard/")
    page.fill("#api-key", "cg_wrong")
    page.click("#key-form button")
    page.wait_for_function("document.getElementById('whoami').textContent === 'key refused'")
    assert "401" in (page.text_content("#message") or "")


def screen_and_wait(page: Any, name: str, country: str = "") -> None:
    """Fill the screening form by its labels, submit with Enter in the name field, wait for the answer."""
    page.get_by_label("country (optional, 2 letters)").fill(country)
    page.get_by_label("name", exact=True).fill(name)
    page.get_by_label("name", exact=True).press("Enter")
    page.wait_for_function(
        """() => !document.getElementById('screen-button').disabled
            && (!document.getElementById('screen-error').hidden
                || document.getElementById('screen-summary').textContent !== '')"""
    )


def hit_rows(page: Any) -> list[dict[str, str]]:
    """The hits table as the user reads it: one dict per row, keyed by each cell's class."""
    rows: list[dict[str, str]] = page.evaluate(
        """() => [...document.querySelectorAll('#screen-table tbody tr')].map((tr) => ({
            ...Object.fromEntries([...tr.cells].map((td) => [td.className.split(' ').pop(), td.textContent])),
            list_name: tr.querySelector('td.list').title,
        }))"""
    )
    return rows


def test_screen_a_party(dashboard_server: Server, browser: Any) -> None:
    analyst = dashboard_server.create_key("sam-screener", "analyst")
    expected = httpx.post(
        dashboard_server.url + "/v1/screen", json={"name": "Sugon"}, headers={"X-API-Key": analyst}
    ).json()
    snapshot, thresholds = expected["snapshot"], expected["thresholds"]
    page = browser.new_page(viewport={"width": 1400, "height": 1600})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(dashboard_server.url + "/")
    page.fill("#api-key", analyst)
    page.click("#key-form button")
    page.wait_for_function("document.getElementById('whoami').textContent === 'sam-screener (analyst)'")

    screen_and_wait(page, "Dawning Information Industry Co., Ltd.")
    assert page.is_hidden("#screen-error")
    rows = hit_rows(page)
    assert [r["rank"] for r in rows] == [str(i) for i in range(1, len(rows) + 1)]
    scores = [float(r["score"]) for r in rows]
    assert scores == sorted(scores, reverse=True)
    sugon = next(r for r in rows if r["list"] == "EL" and r["listed"] == "Sugon")
    assert sugon["strength-cell"] == "match"
    assert sugon["list_name"] == "BIS Entity List (15 CFR 744 Supp. 4)"
    assert sugon["countries"] == "CN"
    assert sugon["features"].startswith("words "), sugon
    assert page.locator('#screen-table tr[data-strength="match"] .strength-match').count() == len(rows)
    summary = page.text_content("#screen-summary") or ""
    assert f"snapshot {snapshot['id']}" in summary, summary
    assert f"match ≥ {thresholds['match']}" in summary and f"possible ≥ {thresholds['possible']}" in summary

    screen_and_wait(page, "Huawei Cloud")
    page.wait_for_function("document.getElementById('screen-summary').textContent.includes('Huawei Cloud')")
    rows = hit_rows(page)
    assert rows and all(r["strength-cell"] == "possible" for r in rows), rows
    assert all(r["listed"].startswith("Huawei Cloud") for r in rows), rows
    # A match and a possible match do not look alike: the badges differ in colour and background.
    badge = """(cls) => {
        const s = document.createElement('span');
        s.className = 'strength ' + cls;
        document.body.appendChild(s);
        const style = getComputedStyle(s);
        const look = [style.backgroundColor, style.color, style.borderStyle];
        s.remove();
        return look;
    }"""
    assert page.evaluate(badge, "strength-match") != page.evaluate(badge, "strength-possible")

    screen_and_wait(page, "Blue Heron Pottery Collective of Tromsø")
    page.wait_for_function("document.getElementById('screen-summary').textContent.startsWith('No hits')")
    assert (page.text_content("#screen-summary") or "").startswith(f"No hits on snapshot {snapshot['id']}")
    assert page.is_hidden("#screen-table")

    screen_and_wait(page, "Sugon", "XX")
    page.wait_for_selector("#screen-error:not([hidden])")
    error = page.text_content("#screen-error") or ""
    assert "country" in error and "'XX'" in error, error
    assert page.get_attribute("#screen-country", "aria-invalid") == "true"
    assert page.get_attribute("#screen-name", "aria-invalid") == "false"
    assert page.is_hidden("#screen-table") and page.text_content("#screen-summary") == ""

    screen_and_wait(page, "Sugon", "cn")
    assert page.is_hidden("#screen-error")
    assert page.get_attribute("#screen-country", "aria-invalid") == "false"
    assert "“Sugon” (CN)" in (page.text_content("#screen-summary") or "")
    assert any(r["listed"] == "Sugon" and r["list"] == "EL" for r in hit_rows(page))

    ARTEFACTS.mkdir(exist_ok=True)
    page.locator("#screen-section").screenshot(path=str(ARTEFACTS / "dashboard-screening.png"))
    assert not errors, errors
