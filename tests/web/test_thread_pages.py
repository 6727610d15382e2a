"""A conversation's thread shows its newest messages a page at a time, with earlier pages on demand,
read by message id on real SQLite: every message on exactly one page, in order, none of another
conversation, each page one range of the conversation's index. Through the app: the links keep the
inbox's filters, a bad `before` is a 400 naming it, and only the newest page marks the thread read."""

from __future__ import annotations

import html
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import Connection, event, true

from frontdesk.actions.agents import create_agent
from frontdesk.actions.channels import create_channel
from frontdesk.actions.conversations import add_note, send_message
from frontdesk.actions.ingest import InboundMessage, receive_inbound
from frontdesk.actions.sessions import set_password
from frontdesk.domain.model import SYSTEM, Actor, AuthorKind, ChannelType
from frontdesk.store.database import Database
from frontdesk.store.sql.inbox import unread_counts
from frontdesk.web import queries
from frontdesk.web.queries import THREAD_PAGE
from tests.databases import sqlite_only
from tests.factories import Api, make_agent
from tests.web.support import PASSWORD, csrf_of


def _write_thread(conn: Connection, channel_id: int, who: str, count: int) -> tuple[int, list[int]]:
    """A conversation of `count` messages — the contact's, an agent's replies and notes, in turn;
    its id and its message ids, oldest first."""
    agent = Actor(AuthorKind.AGENT, create_agent(conn, SYSTEM, name=f"Agent of {who}", email=f"{who}@thread.local"))
    first = receive_inbound(conn, InboundMessage(channel_id, who, f"{who}-0", f"{who} 0", who.title()))
    ids = [first.message_id]
    for k in range(1, count):
        if k % 3 == 0:
            ids.append(receive_inbound(conn, InboundMessage(channel_id, who, f"{who}-{k}", f"{who} {k}")).message_id)
        elif k % 3 == 1:
            ids.append(send_message(conn, first.conversation_id, agent, f"{who} {k}"))
        else:
            ids.append(add_note(conn, first.conversation_id, agent, f"{who} {k}"))
    return first.conversation_id, ids


def _long_thread(db: Database, count: int = 120) -> tuple[int, list[int]]:
    def write(conn: Connection) -> tuple[int, list[int]]:
        channel_id, _ = create_channel(conn, ChannelType.API, "Long", {})
        return _write_thread(conn, channel_id, "ada", count)

    return db.write_sync(write)


def _page(db: Database, conversation_id: int, before: int | None = None) -> dict[str, Any]:
    return db.read_sync(lambda c: queries.thread(c, conversation_id, true(), before=before))


def _ids(page: dict[str, Any]) -> list[int]:
    return [m["id"] for m in page["messages"]]


def test_a_long_thread_shows_its_newest_50_messages_oldest_first_and_says_there_are_earlier_ones(
    db: Database,
) -> None:
    conversation_id, ids = _long_thread(db)

    page = _page(db, conversation_id)

    assert THREAD_PAGE == 50
    assert _ids(page) == ids[-50:]
    assert [m["text"] for m in page["messages"]][-1] == "ada 119"  # the newest at the bottom
    assert page["earlier"] == ids[-50]  # the oldest shown: where the earlier page ends
    assert page["newer"] is False
    assert page["messages"][1]["author_name"] == "Agent of ada"  # authors still named


def test_earlier_messages_are_the_50_just_before_the_oldest_shown(db: Database) -> None:
    conversation_id, ids = _long_thread(db)
    newest = _page(db, conversation_id)

    earlier = _page(db, conversation_id, before=newest["earlier"])

    assert _ids(earlier) == ids[-100:-50]
    assert earlier["earlier"] == ids[-100]
    assert earlier["newer"] is True


def test_the_first_page_of_a_thread_says_nothing_is_earlier_and_the_pages_hold_every_message_once(
    db: Database,
) -> None:
    conversation_id, ids = _long_thread(db)
    pages = [_page(db, conversation_id)]
    while pages[-1]["earlier"] is not None:
        pages.append(_page(db, conversation_id, before=pages[-1]["earlier"]))

    assert [len(p["messages"]) for p in pages] == [50, 50, 20]
    assert _ids(pages[-1]) == ids[:20]
    assert pages[-1]["earlier"] is None
    assert [i for p in reversed(pages) for i in _ids(p)] == ids


def test_a_short_thread_shows_every_message_and_no_other_page(db: Database) -> None:
    conversation_id, ids = _long_thread(db, count=THREAD_PAGE)

    page = _page(db, conversation_id)

    assert _ids(page) == ids
    assert page["earlier"] is None and page["newer"] is False


def test_a_before_of_another_conversations_message_shows_only_this_conversations_earlier_messages(
    db: Database,
) -> None:
    def write(conn: Connection) -> tuple[int, list[int], list[int]]:
        channel_id, _ = create_channel(conn, ChannelType.API, "Two", {})
        ada, ada_ids = _write_thread(conn, channel_id, "ada", 60)
        _, bob_ids = _write_thread(conn, channel_id, "bob", 60)
        ada_ids += [send_message(conn, ada, SYSTEM, f"ada late {k}") for k in range(10)]
        return ada, ada_ids, bob_ids

    ada, ada_ids, bob_ids = db.write_sync(write)

    page = _page(db, ada, before=bob_ids[30])  # a message of Bob's, newer than Ada's first 60

    assert _ids(page) == ada_ids[10:60]
    assert {m["conversation_id"] for m in page["messages"]} == {ada}
    assert page["newer"] is True  # Ada's late messages
    nothing = _page(db, ada, before=1)
    assert nothing["messages"] == [] and nothing["earlier"] is None and nothing["newer"] is True


@sqlite_only("reads SQLite's EXPLAIN QUERY PLAN (PostgreSQL's planner chooses by its own statistics)")
def test_each_page_of_a_thread_reads_one_range_of_the_conversation_index(db: Database) -> None:
    conversation_id, _ = _long_thread(db)
    captured: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "FROM messages" in statement:
            captured.append((statement, parameters))

    event.listen(db.read_engine, "before_cursor_execute", capture)
    try:
        earlier = _page(db, conversation_id)["earlier"]
        _page(db, conversation_id, before=earlier)
    finally:
        event.remove(db.read_engine, "before_cursor_execute", capture)

    plans = db.read_sync(
        lambda c: [
            " | ".join(row[-1] for row in c.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params).all())
            for sql, params in captured
        ]
    )
    assert len(plans) == 3  # the newest page; an earlier page and whether newer messages follow it
    for plan in plans:
        assert "SEARCH messages USING INDEX ix_messages_conversation (conversation_id=?" in plan, plan
        assert "SCAN messages" not in plan and "TEMP B-TREE" not in plan, plan


# -- through the app ---------------------------------------------------------------------------
def _log_in(client: TestClient, admin: Api, role: str) -> int:  # type: ignore[type-arg]
    """Someone of `role` logged in through the login form (the client holds the session)."""
    email = f"thread-{role}@example.test"
    agent_id = make_agent(admin.db, role, email=email)
    admin.db.write_sync(lambda c: set_password(c, agent_id, PASSWORD))
    form = {"email": email, "password": PASSWORD, "_csrf_token": csrf_of(client.get("/login").text)}
    assert client.post("/login", data=form, follow_redirects=False).status_code == 302
    return agent_id


@pytest.fixture
def inbox(client: TestClient, admin: Api) -> tuple[TestClient, int]:  # type: ignore[type-arg]
    """A manager's inbox session and their agent id."""
    return client, _log_in(client, admin, "manager")


def test_the_inbox_links_to_earlier_messages_and_back_keeping_its_filters(
    inbox: tuple[TestClient, int],  # type: ignore[type-arg]
) -> None:
    client, _ = inbox
    conversation_id, ids = _long_thread(client.app.state.db)
    filters = f"view=all&status=open&c={conversation_id}"

    newest = html.unescape(client.get(f"/inbox?{filters}").text)
    assert f'<a href="/inbox?{filters}&before={ids[-50]}">Earlier messages</a>' in newest
    assert "ada 119" in newest and "ada 69<" not in newest
    assert "Newest messages" not in newest

    earlier = html.unescape(client.get(f"/inbox?{filters}&before={ids[-50]}").text)
    assert "ada 69<" in earlier and "ada 119" not in earlier
    assert f'<a href="/inbox?{filters}&before={ids[-100]}">Earlier messages</a>' in earlier
    assert f'<a href="/inbox?{filters}">Newest messages</a>' in earlier
    assert 'data-before="' + str(ids[-50]) + '"' in earlier  # the live refresh reloads this page

    fragment = html.unescape(client.get(f"/inbox/conversations/{conversation_id}?view=mine&status=open").text)
    assert f'<a href="/inbox?view=mine&status=open&c={conversation_id}&before={ids[-50]}">Earlier messages</a>' in (
        fragment
    )


@pytest.mark.parametrize("before", ["abc", "-3", "0", "1.5", "99999999999999999999"])
def test_a_bad_before_is_refused_with_a_400_naming_it(
    inbox: tuple[TestClient, int],  # type: ignore[type-arg]
    before: str,
) -> None:
    client, _ = inbox
    conversation_id, _ = _long_thread(client.app.state.db, count=3)

    page = client.get(f"/inbox?c={conversation_id}&before={before}", headers={"Accept": "text/html"})
    fragment = client.get(f"/inbox/conversations/{conversation_id}?before={before}")

    assert page.status_code == 400, page.text
    assert "invalid request: before: " in page.text  # the error page says which parameter
    assert fragment.status_code == 400, fragment.text
    assert [e["field"] for e in fragment.json()["errors"]] == ["before"]


def test_only_the_newest_page_marks_the_thread_read(
    inbox: tuple[TestClient, int],  # type: ignore[type-arg]
) -> None:
    client, agent_id = inbox
    db: Database = client.app.state.db
    conversation_id, ids = _long_thread(db)

    def unread() -> int:
        return db.read_sync(lambda c: unread_counts(c, agent_id, [conversation_id])).get(conversation_id, 0)

    assert unread() > 0
    assert client.get(f"/inbox/conversations/{conversation_id}?before={ids[-50]}").status_code == 200
    assert unread() > 0  # an earlier page does not show the newest messages
    assert client.get(f"/inbox/conversations/{conversation_id}").status_code == 200
    assert unread() == 0


def test_an_agent_cannot_page_through_a_conversation_they_may_not_see(
    client: TestClient,  # type: ignore[type-arg]
    admin: Api,
) -> None:
    conversation_id, ids = _long_thread(admin.db)
    team = admin.post("/api/v1/teams", {"name": "Billing"})
    assert team.status_code == 201, team.text
    handed = admin.post(f"/api/v1/conversations/{conversation_id}/assign", {"team_id": team.json()["id"]})
    assert handed.status_code == 200, handed.text
    _log_in(client, admin, "agent")  # of no team

    assert client.get(f"/inbox?c={conversation_id}&before={ids[-50]}").status_code == 404
    assert client.get(f"/inbox/conversations/{conversation_id}?before={ids[-50]}").status_code == 404
