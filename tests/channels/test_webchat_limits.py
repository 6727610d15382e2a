"""The public web chat is rate-limited per visitor and per client address (429, Retry-After and
the API's error body), makes a contact on the first message only, and its tokens expire."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from frontdesk.server import create_app
from frontdesk.settings import Settings
from frontdesk.store.tables import contacts
from tests.channels.test_webchat import SHOP, declare_email, webchat_channel
from tests.clients import AddressedClient, FakeClock
from tests.factories import Api, make_token

DAY = 24 * 3600


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def site(settings: Settings, clock: FakeClock) -> Iterator[AddressedClient]:
    with AddressedClient(create_app(settings, clock=clock)) as client:
        yield client


@pytest.fixture
def admin_of_site(site: AddressedClient) -> Api:
    return Api(site, make_token(site.app.state.db, "admin"))


@pytest.fixture
def chat(admin_of_site: Api) -> str:
    return f"/webchat/{webchat_channel(admin_of_site)}"


def start(site: AddressedClient, chat: str, address: str = "10.0.0.1", **body: str) -> dict[str, str]:
    response = site.post(f"{chat}/session", json=body, headers=site.at(address))
    assert response.status_code == 200, response.text
    return dict(response.json())


def bearer(session: dict[str, str], address: str = "10.0.0.1") -> dict[str, str]:
    return {"Authorization": f"Bearer {session['token']}", "X-Test-Client-Address": address}


def count_contacts(site: AddressedClient) -> int:
    return int(site.app.state.db.read_sync(lambda c: c.execute(select(func.count()).select_from(contacts)).scalar()))


# -- the contact comes with the first message ----------------------------------------------------
def test_sessions_make_no_contact_until_the_visitor_writes(
    site: AddressedClient, admin_of_site: Api, chat: str
) -> None:
    declare_email(admin_of_site)
    for n in range(30):
        start(site, chat, name=f"Bot {n}")
    assert count_contacts(site) == 0

    ada = start(site, chat, name="Ada", email="ada@example.org")
    body = {"id": "m1", "text": "Hello", "name": "Ada", "email": "ada@example.org"}
    sent = site.post(f"{chat}/messages", json=body, headers=bearer(ada))

    assert sent.status_code == 200, sent.text
    assert count_contacts(site) == 1
    conversation = admin_of_site.get(f"/api/v1/conversations/{sent.json()['conversation_id']}").json()
    contact = admin_of_site.get(f"/api/v1/contacts/{conversation['contact_id']}").json()
    assert (contact["name"], contact["fields"]) == ("Ada", {"email": "ada@example.org"})


def test_a_session_still_refuses_a_bad_email_at_once(site: AddressedClient, admin_of_site: Api, chat: str) -> None:
    declare_email(admin_of_site)

    response = site.post(f"{chat}/session", json={"email": "not an e-mail"})

    assert response.status_code == 422
    assert response.json()["field"] == "email"


# -- rates --------------------------------------------------------------------------------------
def test_a_visitor_may_send_twenty_messages_a_minute_then_must_wait(
    site: AddressedClient, clock: FakeClock, chat: str
) -> None:
    visitor = start(site, chat)
    for n in range(20):
        assert site.post(f"{chat}/messages", json={"id": f"m{n}", "text": "spam"}, headers=bearer(visitor)).is_success

    refused = site.post(f"{chat}/messages", json={"id": "m20", "text": "spam"}, headers=bearer(visitor))

    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "3"
    assert refused.json() == {
        "error": "rate_limited",
        "detail": "too many messages from this visitor; try again in 3 s",
    }
    other = start(site, chat)  # another visitor, same address: not slowed
    assert site.post(f"{chat}/messages", json={"id": "o1", "text": "hi"}, headers=bearer(other)).is_success
    clock.advance(3)
    assert site.post(f"{chat}/messages", json={"id": "m20", "text": "again"}, headers=bearer(visitor)).is_success


def test_an_address_may_start_sixty_sessions_an_hour(site: AddressedClient, clock: FakeClock, chat: str) -> None:
    for _ in range(60):
        start(site, chat, address="10.6.6.6")

    refused = site.post(f"{chat}/session", json={}, headers=site.at("10.6.6.6"))

    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "60"
    assert refused.json()["error"] == "rate_limited"
    start(site, chat, address="10.0.0.2")  # another address is not slowed
    clock.advance(60)
    start(site, chat, address="10.6.6.6")


def test_every_request_counts_against_its_address_and_a_429_carries_cors(db_url: str, clock: FakeClock) -> None:
    settings = Settings(database_url=db_url, log_format="text", webchat_address_requests_per_minute=10)
    with AddressedClient(create_app(settings, clock=clock)) as site:
        chat = f"/webchat/{webchat_channel(Api(site, make_token(site.app.state.db, 'admin')))}"
        visitor = start(site, chat)
        headers = {**bearer(visitor), "Origin": SHOP}
        answers = [site.get(f"{chat}/messages", headers=headers).status_code for _ in range(10)]

        refused = site.get(f"{chat}/messages", headers=headers)

    assert answers == [200] * 9 + [429]  # the session was the first request
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "6"
    assert refused.headers["Access-Control-Allow-Origin"] == SHOP


# -- token expiry -------------------------------------------------------------------------------
def test_a_visitor_token_expires_after_thirty_days_with_a_clear_401(
    site: AddressedClient, clock: FakeClock, chat: str
) -> None:
    visitor = start(site, chat)
    assert site.get(f"{chat}/messages", headers=bearer(visitor)).status_code == 200
    clock.advance(30 * DAY)

    expired = site.get(f"{chat}/messages", headers=bearer(visitor))

    assert expired.status_code == 401
    assert expired.json()["error"] == "visitor_token_expired"
    assert "start a new session" in expired.json()["detail"]
    assert start(site, chat)["visitor_id"] != visitor["visitor_id"]


def test_resuming_a_session_gives_a_token_with_a_later_expiry(
    site: AddressedClient, clock: FakeClock, chat: str
) -> None:
    visitor = start(site, chat)
    clock.advance(20 * DAY)
    renewed = site.post(f"{chat}/session", json={}, headers=bearer(visitor))
    assert renewed.status_code == 200, renewed.text
    clock.advance(20 * DAY)

    assert site.get(f"{chat}/messages", headers=bearer(renewed.json())).status_code == 200
    assert site.get(f"{chat}/messages", headers=bearer(visitor)).status_code == 401


def test_a_token_whose_expiry_was_changed_is_refused(site: AddressedClient, chat: str) -> None:
    visitor = start(site, chat)
    visitor_id, expires, mac = visitor["token"].split(".")
    longer = {"token": f"{visitor_id}.{int(expires) + 365 * DAY}.{mac}"}

    response = site.get(f"{chat}/messages", headers=bearer(longer))

    assert response.status_code == 401
    assert response.json()["error"] == "bad_visitor_token"
