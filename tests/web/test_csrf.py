"""Every web form refuses a post without its CSRF token (403), even from a logged-in browser, and
changes nothing. The forms are found among the app's routes, so a new one is covered at once."""

from __future__ import annotations

import re

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select

from frontdesk.actions.sessions import set_password
from frontdesk.store.tables import events
from tests.databases import PAGE_ONLY
from tests.factories import Api, make_agent
from tests.web.support import PASSWORD, csrf_of

pytestmark = PAGE_ONLY

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def form_routes(client: TestClient) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    """(method, path) of every route that changes something and is not excluded from CSRF (the
    token- and signature-authenticated API), ids filled with 1."""
    patterns = list(client.app.csrf_config.exclude or ())
    assert all(p.startswith("^") for p in patterns), "an unanchored pattern excludes every path containing it"
    excluded = tuple(p.removeprefix("^").removesuffix("$") for p in patterns)
    found = []
    for route in client.app.routes:
        if route.path.startswith(excluded):
            continue
        for method in sorted(set(getattr(route, "methods", ())) & UNSAFE):
            found.append((method, re.sub(r"\{\w+:int\}", "1", route.path)))
    return found


@pytest.fixture
def browser_session(client: TestClient, admin: Api) -> TestClient:  # type: ignore[type-arg]
    """An admin logged in through the login form: the client holds the session and CSRF cookies."""
    agent_id = make_agent(admin.db, "admin", email="csrf-admin@example.test")
    admin.db.write_sync(lambda c: set_password(c, agent_id, PASSWORD))
    channel = admin.channel()
    admin.inbound(channel["id"], "ada", "Hello", name="Ada")
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login",
        data={"email": "csrf-admin@example.test", "password": PASSWORD, "_csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 302, response.text
    return client


def test_the_forms_found_include_every_kind_of_page(client: TestClient) -> None:  # type: ignore[type-arg]
    paths = {path for _, path in form_routes(client)}

    for expected in (
        "/login",
        "/inbox/conversations/1/reply",
        "/workflows/1/publish",
        "/admin/teams/1",
        "/admin/tokens",
    ):
        assert expected in paths


def test_every_form_posted_without_its_csrf_token_is_refused_with_403_and_changes_nothing(
    browser_session: TestClient,  # type: ignore[type-arg]
) -> None:
    db = browser_session.app.state.db
    count = select(func.count()).select_from(events)
    before = db.read_sync(lambda c: c.execute(count).scalar())

    for method, path in form_routes(browser_session):
        response = browser_session.request(method, path, data={"text": "forged", "name": "Forged"})
        assert response.status_code == 403, (method, path, response.text)

    assert db.read_sync(lambda c: c.execute(count).scalar()) == before


def test_the_same_form_with_its_token_is_accepted(browser_session: TestClient) -> None:  # type: ignore[type-arg]
    token = csrf_of(browser_session.get("/inbox?c=1").text)

    response = browser_session.post(
        "/inbox/conversations/1/reply", data={"text": "Hello Ada", "_csrf_token": token}, follow_redirects=False
    )

    assert response.is_redirect, response.text
    assert response.headers["location"] == "/inbox?c=1"
