"""Who sees which conversation through the API. An agent-role token sees the conversations
assigned to its agent, those of the agent's teams (assigned or queued), and those nobody holds
yet; every other one is missing from lists and answers 404. Managers and admins see them all."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from litestar.testing import TestClient

from frontdesk.actions.contacts import find_or_create_by_identity
from frontdesk.server import create_app
from frontdesk.settings import Settings
from tests.databases import Databases
from tests.factories import Api, make_agent, make_token


@dataclass
class Office:
    admin: Api
    sales_agent: Api  # Sam's token; Sam is in team Sales only
    sam: int
    conversations: dict[str, int]


def _conversation(admin: Api, channel_id: int, who: str, assign: dict[str, Any] | None = None) -> int:
    receipt = admin.inbound(channel_id, who, f"Hello from {who}", name=who.title()).json()
    if assign is not None:
        response = admin.post(f"/api/v1/conversations/{receipt['conversation_id']}/assign", assign)
        assert response.status_code == 200, response.text
    return int(receipt["conversation_id"])


@pytest.fixture
def office(admin: Api) -> Office:
    return build_office(admin)


@pytest.fixture(scope="module")
def untouched_office(template_db: Databases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Office]:
    """One office for the tests of refused requests, which each check that nothing changed (the
    conversation's messages, the whole event log): they need not pay for an office each."""
    folder = tmp_path_factory.mktemp("office")
    url = template_db.new(folder)
    settings = Settings(database_url=url, log_format="text", media_dir=str(folder / "media"))
    with TestClient(create_app(settings)) as client:
        office = build_office(Api(client, make_token(client.app.state.db, "admin")))
        assert len(office.admin.events()) < 200  # the whole log in one page: `events() == before` sees any new one
        yield office
    template_db.drop(url)


def build_office(admin: Api) -> Office:
    channel = admin.channel()["id"]
    sales = admin.post("/api/v1/teams", {"name": "Sales"}).json()["id"]
    billing = admin.post("/api/v1/teams", {"name": "Billing"}).json()["id"]  # nobody in it: its queue waits
    sam = make_agent(admin.db)
    colleague = make_agent(admin.db)
    loner = make_agent(admin.db)
    for member in (sam, colleague):
        assert admin.put(f"/api/v1/teams/{sales}/members/{member}").status_code == 201
    conversations = {
        "assigned to Sam": _conversation(admin, channel, "ann", {"agent_id": sam}),
        "of Sales, with a colleague": _conversation(admin, channel, "ben", {"agent_id": colleague, "team_id": sales}),
        "held by nobody": _conversation(admin, channel, "cat"),
        "queued in Billing": _conversation(admin, channel, "dan", {"team_id": billing}),
        "with an agent of no team of Sam's": _conversation(admin, channel, "eve", {"agent_id": loner}),
    }
    return Office(admin, Api(admin.client, make_token(admin.db, "agent", sam)), sam, conversations)


SEEN = ["assigned to Sam", "of Sales, with a colleague", "held by nobody"]
HIDDEN = ["queued in Billing", "with an agent of no team of Sam's"]


def test_an_agent_lists_only_their_own_their_teams_and_unheld_conversations(office: Office) -> None:
    listed = office.sales_agent.get("/api/v1/conversations").json()

    assert sorted(c["id"] for c in listed) == sorted(office.conversations[name] for name in SEEN)


def test_filters_never_widen_what_an_agent_sees(office: Office) -> None:
    billing = office.admin.get(f"/api/v1/conversations/{office.conversations['queued in Billing']}").json()

    by_team = office.sales_agent.get("/api/v1/conversations", team_id=billing["team_id"]).json()
    unassigned = office.sales_agent.get("/api/v1/conversations", unassigned="true").json()

    assert by_team == []
    assert [c["id"] for c in unassigned] == [office.conversations["held by nobody"]]


def test_managers_and_admins_list_every_conversation(office: Office) -> None:
    manager = Api(office.admin.client, make_token(office.admin.db, "manager"))

    for caller in (manager, office.admin):
        listed = caller.get("/api/v1/conversations").json()
        assert sorted(c["id"] for c in listed) == sorted(office.conversations.values())


@pytest.mark.parametrize("name", SEEN)
def test_an_agent_reads_and_answers_a_conversation_they_may_see(office: Office, name: str) -> None:
    conversation_id = office.conversations[name]

    assert office.sales_agent.get(f"/api/v1/conversations/{conversation_id}").status_code == 200
    reply = office.sales_agent.post(f"/api/v1/conversations/{conversation_id}/messages", {"text": "On it"})

    assert reply.status_code == 201, reply.text


ACTIONS: list[tuple[str, str, Any]] = [
    ("GET", "", None),
    ("GET", "/messages", None),
    ("POST", "/messages", {"text": "Sneaking in"}),
    ("POST", "/close", {"note": "closed by someone else"}),
    ("POST", "/assign", {"agent_id": "me"}),
    ("POST", "/transfer", {"agent_id": "me", "reason": "mine now"}),
    ("POST", "/unassign", None),
    ("POST", "/reopen", None),
]


@pytest.mark.parametrize("name", HIDDEN)
@pytest.mark.parametrize(("method", "suffix", "body"), ACTIONS, ids=[f"{m} {s or '/'}" for m, s, _ in ACTIONS])
def test_a_conversation_an_agent_may_not_see_answers_404_and_is_left_as_it_was(
    untouched_office: Office, name: str, method: str, suffix: str, body: Any
) -> None:
    office = untouched_office
    conversation_id = office.conversations[name]
    if isinstance(body, dict) and body.get("agent_id") == "me":
        body = {**body, "agent_id": office.sam}
    before = office.admin.get(f"/api/v1/conversations/{conversation_id}/messages").json()
    events = office.admin.events()

    response = office.sales_agent.client.request(
        method,
        f"/api/v1/conversations/{conversation_id}{suffix}",
        json=body,
        headers=office.sales_agent.headers,
    )

    assert response.status_code == 404, response.text
    assert response.json()["detail"] == f"conversation {conversation_id} does not exist"
    assert office.admin.get(f"/api/v1/conversations/{conversation_id}/messages").json() == before
    assert office.admin.events() == events


def test_opening_a_conversation_for_a_contact_held_by_another_team_is_refused_with_409(office: Office) -> None:
    billing = office.admin.get(f"/api/v1/conversations/{office.conversations['queued in Billing']}").json()

    response = office.sales_agent.post("/api/v1/conversations", {"contact_id": billing["contact_id"]})

    assert response.status_code == 409, response.text
    assert response.json()["error"] == "contact_has_open_conversation"
    assert "id" not in response.json()


def test_an_agent_who_joins_a_team_sees_its_conversations_at_once(office: Office) -> None:
    billing = office.admin.get(f"/api/v1/conversations/{office.conversations['queued in Billing']}").json()
    assert office.sales_agent.get(f"/api/v1/conversations/{billing['id']}").status_code == 404

    assert office.admin.put(f"/api/v1/teams/{billing['team_id']}/members/{office.sam}").status_code == 201

    shown = office.sales_agent.get(f"/api/v1/conversations/{billing['id']}")
    assert shown.status_code == 200, shown.text


# -- contacts follow their conversations ---------------------------------------------------------
def _contact_of(office: Office, name: str) -> int:
    return int(office.admin.get(f"/api/v1/conversations/{office.conversations[name]}").json()["contact_id"])


def test_an_agent_lists_the_contacts_of_conversations_they_may_see_and_contacts_with_none(office: Office) -> None:
    channel = office.admin.get("/api/v1/channels").json()[0]["id"]
    newcomer, _ = office.admin.db.write_sync(lambda c: find_or_create_by_identity(c, channel, "new", "Newcomer"))

    listed = office.sales_agent.get("/api/v1/contacts").json()

    expected = {_contact_of(office, name) for name in SEEN} | {newcomer}
    assert {c["id"] for c in listed} == expected


def test_a_search_never_finds_a_contact_an_agent_may_not_see(office: Office) -> None:
    assert office.sales_agent.get("/api/v1/contacts", q="dan").json() == []
    assert [c["name"] for c in office.admin.get("/api/v1/contacts", q="dan").json()] == ["Dan"]


@pytest.mark.parametrize("name", HIDDEN)
def test_a_contact_an_agent_may_not_see_answers_404_and_is_left_as_it_was(office: Office, name: str) -> None:
    contact_id = _contact_of(office, name)
    before = office.admin.get(f"/api/v1/contacts/{contact_id}").json()

    read = office.sales_agent.get(f"/api/v1/contacts/{contact_id}")
    change = office.sales_agent.patch(f"/api/v1/contacts/{contact_id}", {"name": "Renamed", "add_tags": ["vip"]})

    for response in (read, change):
        assert response.status_code == 404, response.text
        assert response.json()["detail"] == f"contact {contact_id} does not exist"
    assert office.admin.get(f"/api/v1/contacts/{contact_id}").json() == before


@pytest.mark.parametrize("name", SEEN)
def test_an_agent_reads_and_changes_a_contact_of_a_conversation_they_may_see(office: Office, name: str) -> None:
    contact_id = _contact_of(office, name)

    changed = office.sales_agent.patch(f"/api/v1/contacts/{contact_id}", {"add_tags": ["vip"]})

    assert changed.status_code == 200, changed.text
    assert "vip" in changed.json()["tags"]


def test_an_agent_sees_a_contact_they_own_even_when_its_conversation_is_another_teams(office: Office) -> None:
    contact_id = _contact_of(office, "queued in Billing")
    assert office.admin.patch(f"/api/v1/contacts/{contact_id}", {"owner_agent_id": office.sam}).status_code == 200

    assert office.sales_agent.get(f"/api/v1/contacts/{contact_id}").status_code == 200


def test_managers_see_every_contact(office: Office) -> None:
    manager = Api(office.admin.client, make_token(office.admin.db, "manager"))

    listed = manager.get("/api/v1/contacts").json()

    assert {c["id"] for c in listed} >= {_contact_of(office, name) for name in office.conversations}
