"""The dashboard in headless Chromium: seeded balances, a decision with citations, a reservation that moves a bar."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
    assert page.locator("#journal-table td.actor").first.text_content() == "oscar-officer"

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
