"""What an agent sees in the web inbox: their own conversations, their teams', and the ones nobody
holds yet — never another team's, not in the list, not by URL, not on the live stream."""

from __future__ import annotations

import json
from collections.abc import Iterator

from playwright.sync_api import Page, expect

from tests.conftest import LiveServer
from tests.web.support import add_person, api, csrf_of, hand_to_team, login, say, web_session

SAM = "sam@demo.frontdesk.local"  # an agent of team Sales only
MIA = "mia@demo.frontdesk.local"  # a manager of no team


def _billing_and_sales(server: LiveServer) -> tuple[int, int]:
    billing = say(server, "bill", "bill-1", "My invoice is wrong", name="Bill Payer")
    hand_to_team(server, billing, "Billing")
    sales = say(server, "sally", "sally-1", "I would like to buy", name="Sally Buyer")
    hand_to_team(server, sales, "Sales")
    return billing, sales


def _messages(server: LiveServer, conversation_id: int) -> list[str]:
    with api(server) as client:
        return [m["text"] for m in client.get(f"/api/v1/conversations/{conversation_id}/messages").json()]


def test_an_agent_of_sales_does_not_see_a_billing_conversation_and_the_manager_does(
    page: Page, live_server: LiveServer
) -> None:
    billing, sales = _billing_and_sales(live_server)
    add_person(live_server, "Sam Seller", SAM, teams=("Sales",))
    add_person(live_server, "Mia Boss", MIA, role="manager")

    login(page, live_server, SAM)
    expect(page.locator("#list")).to_contain_text("Sally Buyer")
    expect(page.locator("#list")).not_to_contain_text("Bill Payer")
    token = csrf_of(page.content())

    thread = page.goto(f"{live_server.base_url}/inbox/conversations/{billing}")
    assert thread is not None and thread.status == 404
    expect(page.get_by_role("alert")).to_have_text(f"conversation {billing} does not exist")
    selected = page.goto(f"{live_server.base_url}/inbox?c={billing}")
    assert selected is not None and selected.status == 404
    before = _messages(live_server, billing)
    reply = page.request.post(
        f"{live_server.base_url}/inbox/conversations/{billing}/reply",
        form={"text": "I should not be able to write this", "_csrf_token": token},
        max_redirects=0,
    )
    assert reply.status == 404
    assert _messages(live_server, billing) == before

    page.goto(f"{live_server.base_url}/inbox?c={sales}")
    expect(page.locator("#messages")).to_contain_text("I would like to buy")  # their team's: open to them
    page.click("text=Log out")
    login(page, live_server, MIA)
    expect(page.locator("#list")).to_contain_text("Bill Payer")
    page.locator("#list li", has_text="Bill Payer").click()
    expect(page.locator("#messages")).to_contain_text("My invoice is wrong")


def test_the_live_stream_of_a_sales_agent_carries_no_event_of_a_billing_conversation(
    live_server: LiveServer,
) -> None:
    billing, sales = _billing_and_sales(live_server)
    add_person(live_server, "Sam Seller", SAM, teams=("Sales",))
    received: list[dict[str, object]] = []

    with web_session(live_server, SAM) as session, session.stream("GET", "/inbox/stream") as stream:
        lines = stream.iter_lines()
        assert next(line for line in lines if line.startswith("event:")) == "event: ready"
        # Each answers the workflow's question with its own topic, so neither changes team.
        say(live_server, "bill", "bill-2", "Billing")  # first, so it would arrive first
        say(live_server, "sally", "sally-2", "Sales")
        for change in _changes(lines):
            received.extend(change)
            if any(event["conversation_id"] == sales for event in change):
                break

    shown = {event["conversation_id"] for event in received}
    assert billing not in shown
    assert shown == {sales}


def _changes(lines: Iterator[str]) -> Iterator[list[dict[str, object]]]:
    """The events listed by each `change` message of a stream."""
    kind = ""
    for line in lines:
        if line.startswith("event:"):
            kind = line[6:].strip()
        elif line.startswith("data:") and kind == "change":
            yield json.loads(line[5:])


def test_a_manager_stream_carries_every_conversation(live_server: LiveServer) -> None:
    billing, _ = _billing_and_sales(live_server)
    add_person(live_server, "Mia Boss", MIA, role="manager")

    with web_session(live_server, MIA) as session, session.stream("GET", "/inbox/stream") as stream:
        lines = stream.iter_lines()
        assert next(line for line in lines if line.startswith("event:")) == "event: ready"
        say(live_server, "bill", "bill-2", "Billing")
        change = next(change for change in _changes(lines) if any(e["conversation_id"] == billing for e in change))

    assert "message.received" in [event["type"] for event in change]


def test_a_contact_s_rating_reaches_the_open_inboxes_at_once(live_server: LiveServer) -> None:
    """The thread lists the conversation's ratings: the stream carries `conversation.rated`, so an
    open inbox re-reads it when the contact rates (here through the API, as an integration does)."""
    conversation = say(live_server, "rita", "rita-1", "Hello!")
    add_person(live_server, "Mia Boss", MIA, role="manager")
    with api(live_server) as client:
        closed = client.post(f"/api/v1/conversations/{conversation}/close", json={})
    assert closed.status_code == 200, closed.text

    with web_session(live_server, MIA) as session, session.stream("GET", "/inbox/stream") as stream:
        lines = stream.iter_lines()
        assert next(line for line in lines if line.startswith("event:")) == "event: ready"
        with api(live_server) as client:
            rated = client.post(f"/api/v1/conversations/{conversation}/rating", json={"rating": 4})
        assert rated.status_code == 201, rated.text
        change = next(change for change in _changes(lines) if any(e["conversation_id"] == conversation for e in change))

    assert [event["type"] for event in change] == ["conversation.rated"]


def test_agents_cannot_reach_a_hidden_conversation_by_any_inbox_action(live_server: LiveServer) -> None:
    billing, _ = _billing_and_sales(live_server)
    add_person(live_server, "Sam Seller", SAM, teams=("Sales",))
    with api(live_server) as client:
        before = client.get(f"/api/v1/conversations/{billing}").json()

    with web_session(live_server, SAM) as session:
        token = csrf_of(session.get("/inbox").text)
        for action, form in (
            ("reply", {"text": "hi"}),
            ("reply", {"text": "a note", "note": "1"}),
            ("assign", {"target": "team:1"}),
            ("close", {"note": "done"}),
            ("reopen", {}),
        ):
            response = session.post(f"/inbox/conversations/{billing}/{action}", data={**form, "_csrf_token": token})
            assert response.status_code == 404, (action, response.text)

    with api(live_server) as client:
        assert client.get(f"/api/v1/conversations/{billing}").json() == before
    assert "a note" not in _messages(live_server, billing)
