"""The admin pages in real Chromium: managers and admins change teams, agents, channels and API
tokens with forms, and see the change through the API; a refused value is named and changes nothing."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
from playwright.sync_api import Page, expect

from frontdesk.channels import signing
from tests.conftest import LiveServer
from tests.databases import PAGE_ONLY
from tests.web.support import PASSWORD, add_person, api, login, team_id

pytestmark = PAGE_ONLY

MIA = "mia@demo.frontdesk.local"  # a manager


def _team(server: LiveServer, name: str) -> dict[str, object]:
    with api(server) as client:
        return dict(client.get(f"/api/v1/teams/{team_id(server, name)}").json())


def test_a_manager_sets_a_teams_strategy_and_business_hours_and_the_api_shows_them(
    page: Page, screenshot: Callable[..., None], live_server: LiveServer
) -> None:
    add_person(live_server, "Mia Boss", MIA, role="manager")
    login(page, live_server, MIA, target="/admin/teams")
    page.get_by_role("link", name="Sales").click()

    page.get_by_label("Strategy").select_option("least_open")
    page.get_by_label("Reassign when the assignee has not answered within").fill("10m")
    page.get_by_label("Open only during these hours").check()
    page.get_by_label("Time zone").fill("America/New_York")
    page.get_by_label("Monday").fill("09:00-17:00")
    page.get_by_label("Tuesday").fill("09:00-12:00, 13:00-17:00")
    page.get_by_role("textbox", name="Away message").fill("We are closed; back at 9 New York time.")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("status")).to_have_text("Saved.")
    team = _team(live_server, "Sales")
    assert team["assignment"]["strategy"] == "least_open"  # type: ignore[index]
    assert team["assignment"]["reassign_after"] == 600  # type: ignore[index]
    assert team["business_hours"] == {
        "timezone": "America/New_York",
        "hours": {"mon": ["09:00-17:00"], "tue": ["09:00-12:00", "13:00-17:00"]},
        "holidays": [],
    }
    assert team["away_message"] == "We are closed; back at 9 New York time."
    expect(page.get_by_label("Tuesday")).to_have_value("09:00-12:00, 13:00-17:00")  # shown as saved
    screenshot(page, "admin-team.png", full_page=True)


def test_a_bad_business_hours_value_is_named_and_the_team_stays_as_it_was(page: Page, live_server: LiveServer) -> None:
    add_person(live_server, "Mia Boss", MIA, role="manager")
    before = _team(live_server, "Support")
    login(page, live_server, MIA, target=f"/admin/teams/{team_id(live_server, 'Support')}")

    page.get_by_label("Strategy").select_option("random")
    page.get_by_label("Open only during these hours").check()
    page.get_by_label("Wednesday").fill("9-5")
    page.get_by_role("button", name="Save").click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("business_hours.hours")
    expect(alert).to_contain_text("wed: '9-5' is not an interval like 09:00-17:30")
    expect(page.get_by_label("Wednesday")).to_have_value("9-5")  # what was typed stays, to be fixed
    expect(page.get_by_label("Strategy")).to_have_value("random")
    assert _team(live_server, "Support") == before

    page.get_by_label("Wednesday").fill("09:00-17:00")
    page.get_by_label("Time zone").fill("Mars/Olympus_Mons")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("business_hours.timezone")
    expect(page.get_by_role("alert")).to_contain_text("unknown time zone 'Mars/Olympus_Mons'")
    assert _team(live_server, "Support") == before


def test_a_manager_changes_an_agents_capacity_skills_and_teams(page: Page, live_server: LiveServer) -> None:
    add_person(live_server, "Mia Boss", MIA, role="manager")
    login(page, live_server, MIA, target="/admin/agents")
    page.get_by_role("link", name="Emma Novak").click()
    expect(page.get_by_label("Role")).to_have_count(0)  # only an admin changes a role
    expect(page.locator("main")).to_contain_text("only an admin changes a role")

    page.get_by_label("Capacity").fill("3")
    page.get_by_label("Skills").fill("language=de, product=billing")
    page.get_by_label("Sales").check()
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("status")).to_have_text("Saved.")
    with api(live_server) as client:
        emma = next(a for a in client.get("/api/v1/agents").json() if a["name"] == "Emma Novak")
    assert emma["capacity"] == 3
    assert emma["skills"] == {"language": "de", "product": "billing"}
    assert sorted(emma["team_ids"]) == sorted([team_id(live_server, "Billing"), team_id(live_server, "Sales")])

    page.get_by_label("Skills").fill("Language=de")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("skills")
    expect(page.get_by_label("Skills")).to_have_attribute("aria-invalid", "true")
    with api(live_server) as client:
        assert client.get(f"/api/v1/agents/{emma['id']}").json() == emma


def test_an_admin_creates_an_agent_with_a_password_who_then_logs_in(page: Page, live_server: LiveServer) -> None:
    login(page, live_server, live_server.email, live_server.password, target="/admin/agents")

    page.get_by_label("Name", exact=True).fill("Noah Field")
    page.get_by_label("E-mail").fill("noah@demo.frontdesk.local")
    page.get_by_label("Password").fill("short")
    page.get_by_label("Password").evaluate("field => field.removeAttribute('minlength')")  # the server decides
    page.get_by_label("Role").select_option("manager")
    page.get_by_label("Support").check()
    page.get_by_role("button", name="Create agent").click()
    expect(page.get_by_role("alert")).to_contain_text("a password needs at least 10 characters")
    with api(live_server) as client:
        assert "noah@demo.frontdesk.local" not in [a["email"] for a in client.get("/api/v1/agents").json()]

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create agent").click()
    expect(page.get_by_role("status")).to_have_text("Created.")
    with api(live_server) as client:
        noah = next(a for a in client.get("/api/v1/agents").json() if a["email"] == "noah@demo.frontdesk.local")
    assert (noah["role"], noah["team_ids"]) == ("manager", [team_id(live_server, "Support")])

    page.click("text=Log out")
    login(page, live_server, "noah@demo.frontdesk.local")


def test_an_admin_creates_an_api_token_sees_it_once_and_revokes_it(page: Page, live_server: LiveServer) -> None:
    login(page, live_server, live_server.email, live_server.password, target="/admin/tokens")

    page.get_by_label("Name (what uses it)").fill("Shop backend")
    page.get_by_label("Role").select_option("manager")
    page.get_by_role("button", name="Create token").click()

    token = page.get_by_role("textbox", name="The token").input_value()
    assert token.startswith("fd_")
    events = f"{live_server.base_url}/api/v1/events"
    assert httpx.get(events, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    page.goto(f"{live_server.base_url}/admin/tokens")
    assert token not in page.content()  # never shown again

    page.get_by_role("button", name="Revoke token Shop backend").click()

    expect(page.get_by_role("status")).to_have_text("Token revoked: it no longer works.")
    expect(page.locator("tr", has_text="Shop backend")).to_contain_text("revoked")
    assert httpx.get(events, headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_an_admin_lists_a_new_site_for_the_web_chat(page: Page, live_server: LiveServer) -> None:
    login(page, live_server, live_server.email, live_server.password, target="/admin/channels")
    page.get_by_role("link", name="Website chat").click()

    page.get_by_label("Sites that may embed the chat").fill("shop.example")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("allowed_origins.0: 'shop.example' is not an origin")

    page.get_by_label("Sites that may embed the chat").fill("https://shop.example\nhttp://localhost:3000")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    with api(live_server) as client:
        chat = next(c for c in client.get("/api/v1/channels").json() if c["type"] == "webchat")
    assert chat["config"]["allowed_origins"] == ["http://localhost:3000", "https://shop.example"]


def test_a_manager_may_not_reach_tokens_nor_change_channels(page: Page, live_server: LiveServer) -> None:
    add_person(live_server, "Mia Boss", MIA, role="manager")
    login(page, live_server, MIA, target="/admin/channels")
    expect(page.locator("main")).to_contain_text("Only an admin changes channels.")
    expect(page.get_by_role("link", name="API tokens")).to_have_count(0)

    response = page.goto(f"{live_server.base_url}/admin/tokens")

    assert response is not None and response.status == 403
    expect(page.get_by_role("alert")).to_contain_text("this needs the admin role")


def test_an_admin_deactivates_an_agent_who_can_then_no_longer_log_in(page: Page, live_server: LiveServer) -> None:
    mia = add_person(live_server, "Mia Boss", MIA, role="manager")
    login(page, live_server, live_server.email, live_server.password, target=f"/admin/agents/{mia}")

    page.get_by_label("Active").uncheck()
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("status")).to_have_text("Saved.")
    with api(live_server) as client:
        assert client.get(f"/api/v1/agents/{mia}").json()["active"] is False
    page.click("text=Log out")
    page.goto(f"{live_server.base_url}/login")
    page.fill("#email", MIA)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/login"))


def test_an_admin_rotates_a_channel_secret_and_sees_the_new_one_once(page: Page, live_server: LiveServer) -> None:
    login(page, live_server, live_server.email, live_server.password, target="/admin/channels")
    page.get_by_role("link", name="Website API").click()

    page.get_by_role("button", name="Rotate the secret").click()

    secret = page.get_by_role("textbox", name="The new secret").input_value()
    expect(page.get_by_role("status")).to_contain_text("the old secret still verifies inbound calls until")
    with api(live_server) as client:
        channel = next(c for c in client.get("/api/v1/channels").json() if c["type"] == "api")
    body = b'{"contact": {"external_id": "ada"}, "message": {"id": "rotated-1", "text": "Hi"}}'
    headers = {"content-type": "application/json", **signing.signed_headers(secret, body)}
    inbound = httpx.post(
        f"{live_server.base_url}/api/v1/channels/{channel['id']}/inbound", content=body, headers=headers
    )
    assert inbound.status_code == 200, inbound.text
    page.goto(f"{live_server.base_url}/admin/channels/{channel['id']}")
    assert secret not in page.content()  # never shown again
