"""What the browser tests share: people with a web password, conversations, logging in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from tests.conftest import LiveServer
from tests.test_cli import _run

PASSWORD = "a-long-enough-password"


def api(server: LiveServer) -> httpx.Client:
    """The demo admin's API token (printed by `frontdesk serve --demo`)."""
    return httpx.Client(base_url=server.base_url, headers=server.headers, timeout=20)


def team_id(server: LiveServer, name: str) -> int:
    with api(server) as client:
        return int(next(t["id"] for t in client.get("/api/v1/teams").json() if t["name"] == name))


def add_person(server: LiveServer, name: str, email: str, role: str = "agent", teams: tuple[str, ...] = ()) -> int:
    """An agent with a web password, in the given demo teams."""
    with api(server) as client:
        made = client.post("/api/v1/agents", json={"name": name, "email": email, "role": role})
        assert made.status_code == 201, made.text
        agent_id = int(made.json()["id"])
        for team in teams:
            assert client.put(f"/api/v1/teams/{team_id(server, team)}/members/{agent_id}").status_code == 201
    assert _run(server.db_url, "agents", "password", email, "--password", PASSWORD).returncode == 0
    return agent_id


def say(server: LiveServer, who: str, message_id: str, text: str, name: str | None = None) -> int:
    """A contact writes on the demo's API channel; the conversation's id."""
    contact: dict[str, Any] = {"external_id": who, **({"name": name} if name else {})}
    with api(server) as client:
        response = client.post(
            "/api/v1/channels/1/inbound", json={"contact": contact, "message": {"id": message_id, "text": text}}
        )
    assert response.status_code == 200, response.text
    return int(response.json()["conversation_id"])


def hand_to_team(server: LiveServer, conversation_id: int, team: str) -> None:
    with api(server) as client:
        response = client.post(
            f"/api/v1/conversations/{conversation_id}/assign", json={"team_id": team_id(server, team)}
        )
    assert response.status_code == 200, response.text


def login(page: Page, server: LiveServer, email: str, password: str = PASSWORD, target: str = "/inbox") -> None:
    page.goto(f"{server.base_url}/login?next={target}")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{server.base_url}{target}")


@contextmanager
def web_session(server: LiveServer, email: str, password: str = PASSWORD) -> Iterator[httpx.Client]:
    """A logged-in web session outside the browser (cookies and the CSRF token of a real form)."""
    with httpx.Client(base_url=server.base_url, timeout=20) as client:
        form = client.get("/login").text
        response = client.post("/login", data={"email": email, "password": password, "_csrf_token": csrf_of(form)})
        assert response.status_code in (302, 303), response.text
        yield client


def csrf_of(html: str) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF token"
    return found[1]
