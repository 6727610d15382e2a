"""The workflow builder and run explorer in real Chromium."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from playwright.sync_api import Page, expect

from tests.conftest import LiveServer
from tests.databases import PAGE_ONLY
from tests.factories import eventually

pytestmark = PAGE_ONLY


def _login(page: Page, server: LiveServer, target: str) -> None:
    page.goto(f"{server.base_url}/login?next={target}")
    page.fill("#email", server.email)
    page.fill("#password", server.password)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{server.base_url}{target}")


def test_a_manager_breaks_a_branch_sees_the_problem_at_its_step_fixes_it_and_publishes(
    page: Page, screenshot: Callable[..., None], live_server: LiveServer
) -> None:
    _login(page, live_server, "/workflows/1")
    expect(page.locator("svg.flow g.step")).to_have_count(12)  # the demo workflow, drawn
    draft = page.locator("#yaml").input_value()

    page.fill("#yaml", draft.replace("next: assign_sales", "next: assign_salez"))
    page.click("text=Save and validate")

    expect(page.locator("#problems")).to_contain_text("route · sales: target step 'assign_salez' does not exist")
    expect(page.locator('svg.flow g.step.problem[data-step="route"]')).to_have_count(1)
    page.click("text=Publish draft")
    expect(page.locator(".notice")).to_contain_text("Not published: 1 problem(s)")
    screenshot(page, "builder.png", full_page=True)

    page.fill("#yaml", draft.replace("timeout: 10m", "timeout: 15m", 1))
    page.click("text=Save and validate")
    expect(page.locator("#problems")).to_contain_text("No problems")
    page.click("text=Publish draft")
    expect(page.locator(".notice")).to_have_text("Version 2 published.")
    page.locator("text=diff with the draft").first.click()  # version 1 against the new draft
    expect(page.locator(".diff .del")).to_contain_text(["timeout: 10m"])
    expect(page.locator(".diff .add")).to_contain_text(["timeout: 15m"])


def test_the_run_explorer_shows_the_path_and_what_the_run_waits_for(
    page: Page, screenshot: Callable[..., None], live_server: LiveServer
) -> None:
    body = {"contact": {"external_id": "ada", "name": "Ada"}, "message": {"id": "m1", "text": "Hi"}}
    httpx.post(f"{live_server.base_url}/api/v1/channels/1/inbound", json=body, headers=live_server.headers)
    run = eventually(
        lambda: httpx.get(f"{live_server.base_url}/api/v1/runs", headers=live_server.headers).json(), "a run"
    )[0]

    _login(page, live_server, f"/runs/{run['id']}")

    expect(page.locator("main")).to_contain_text("Waiting for reply")
    expect(page.locator("table.steps")).to_contain_text("greet")
    expect(page.locator('svg.flow g.step.visited[data-step="greet"]')).to_have_count(1)
    expect(page.locator('svg.flow g.step.current[data-step="ask_topic"]')).to_have_count(1)
    screenshot(page, "run.png", full_page=True)


def test_agents_cannot_open_the_builder(page: Page, live_server: LiveServer) -> None:
    api = httpx.Client(base_url=live_server.base_url, headers=live_server.headers)
    agent = api.post("/api/v1/agents", json={"name": "Ag", "email": "ag@acme.test"}).json()
    password = "agent-password-123"
    from tests.test_cli import _run

    assert _run(live_server.db_url, "agents", "password", "ag@acme.test", "--password", password).returncode == 0
    page.goto(f"{live_server.base_url}/login?next=/workflows")
    page.fill("#email", agent["email"])
    page.fill("#password", password)
    page.click("button[type=submit]")
    expect(page.locator("body")).to_contain_text("this needs the manager role")
