"""GraphiQL in a real browser (Debian's headless Chromium, driven by Playwright) against
``backorders serve``, with every request to another host refused: the page, its scripts and
styles, a query with the token from the Headers tab, and a subscription over the websocket."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import Page, Route, async_playwright

from api.domain.identity import Role
from tests.e2e.server import ServerProcess, graphql

ARTIFACTS = Path(os.environ.get("BACKORDERS_TEST_ARTIFACTS",
                                Path(__file__).resolve().parents[2] / "test-artifacts"))
"""Where the screenshot goes (kept after the run; CI can collect the folder)."""
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

CREATE = """mutation { createProduct(input: {sku: "KB", name: "Keyboard", price: "10.00"}) {
  __typename } }"""
PLACE = """mutation { placeOrder(input: {lines: [{sku: "KB", quantity: 2}],
  idempotencyKey: "graphiql-1"}) { ... on PlaceOrderPayload { order { backOrders { id } } } } }"""
CANCEL = """mutation($id: ID!) { cancelBackOrder(id: $id) { __typename } }"""
VIEWER = "{ viewer { id role } }"
FOLLOW = 'subscription { backOrderUpdated(id: "%s") { id status } }'


def find_chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def chromium() -> str:
    binary = find_chromium()
    if binary is None:
        message = "chromium not found: install Debian's chromium package"
        if os.environ.get("CI"):  # .ci/run installs it: missing there is a failure
            pytest.fail(message)
        pytest.skip(message + " (.ci/run installs it)")
    return binary


@pytest.fixture
def live(tmp_path: Path) -> Iterator[ServerProcess]:
    server = ServerProcess(f"sqlite://{tmp_path / 'g.sqlite3'}", tmp_path / "server.log")
    yield server
    server.stop()


async def set_editor(page: Page, selector: str, text: str) -> None:
    """Type into one of GraphiQL's editors as a person pasting would."""
    await page.locator(f"{selector} .CodeMirror").locator("visible=true").first.click()
    await page.keyboard.press("Control+A")
    await page.keyboard.press("Delete")
    await page.keyboard.insert_text(text)


async def test_graphiql_runs_a_query_and_a_subscription_with_no_network(
    live: ServerProcess, chromium: str, tmp_path: Path
) -> None:
    staff, alice = live.token("ops", Role.STAFF), live.token("alice")
    async with httpx.AsyncClient(base_url=live.url, timeout=30) as client:
        await graphql(client, CREATE, staff)
        placed = await graphql(client, PLACE, alice)
        back_order = placed["placeOrder"]["order"]["backOrders"][0]["id"]

        origin = urlsplit(live.url).netloc
        elsewhere: list[str] = []
        seen: list[str] = []
        problems: list[str] = []

        async def only_the_service(route: Route) -> None:
            if urlsplit(route.request.url).netloc == origin:
                await route.continue_()
            else:
                elsewhere.append(route.request.url)
                await route.abort()

        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch_persistent_context(
                str(tmp_path / "profile"), executable_path=chromium, headless=True,
                args=CHROMIUM_ARGS, viewport={"width": 1400, "height": 900})
            try:
                await browser.route("**/*", only_the_service)
                page = browser.pages[0] if browser.pages else await browser.new_page()
                page.on("request", lambda r: seen.append(r.url))
                page.on("websocket", lambda ws: seen.append(ws.url))
                page.on("console", lambda m: problems.append(m.text)
                        if m.type == "error" else None)
                page.on("pageerror", lambda e: problems.append(str(e)))

                response = await page.goto(f"{live.url}/graphql")
                assert response is not None and response.ok
                await page.locator(".graphiql-query-editor .CodeMirror").wait_for()

                # A dialog (its scroll lock adds a style element the policy allows by hash).
                await page.get_by_role("button", name="Open settings dialog").click()
                await page.get_by_role("dialog").wait_for()
                await page.keyboard.press("Escape")
                await page.get_by_role("dialog").wait_for(state="detached")

                # The token goes in the Headers tab; a query runs with it.
                await page.get_by_role("button", name="Headers").click()
                await set_editor(page, ".graphiql-editor-tool", '{"Authorization": '
                                 f'"Bearer {alice}"}}')
                await set_editor(page, ".graphiql-query-editor", VIEWER)
                await page.locator(".graphiql-execute-button").click()
                result = page.locator(".graphiql-response")
                await result.get_by_text('"alice"').wait_for(timeout=15000)
                assert "CUSTOMER" in await result.inner_text()

                # A subscription over the websocket (the same header signs it in): the current
                # state first, then the change the API makes while it runs.
                await set_editor(page, ".graphiql-query-editor", FOLLOW % back_order)
                await page.locator(".graphiql-execute-button").click()
                await result.get_by_text('"WAITING"').wait_for(timeout=15000)
                await graphql(client, CANCEL, alice, id=back_order)
                await result.get_by_text('"CANCELLED"').wait_for(timeout=15000)
            finally:
                # Also when a step failed: the picture shows how far it got.
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                await page.screenshot(path=str(ARTIFACTS / "graphiql.png"))
                await browser.close()

    assert elsewhere == []
    assert all(urlsplit(url).netloc == origin for url in seen), seen
    assert any(url.startswith("ws://") for url in seen), "the subscription used no websocket"
    assert any("/graphql/ide/" in url for url in seen)
    assert problems == []  # no script error and no Content-Security-Policy refusal
    assert "'self'" in (response.headers or {}).get("content-security-policy", "")
