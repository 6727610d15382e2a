"""A conversation's thread shows its newest messages a page at a time, with earlier pages on demand,
read by message id on real SQLite: every message on exactly one page, in order, none of another
conversation, each page one range of the conversation's index."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, event, true

from frontdesk.actions.agents import create_agent
from frontdesk.actions.channels import create_channel
from frontdesk.actions.conversations import add_note, send_message
from frontdesk.actions.ingest import InboundMessage, receive_inbound
from frontdesk.domain.model import SYSTEM, Actor, AuthorKind, ChannelType
from frontdesk.store.database import Database
from frontdesk.web import queries
from frontdesk.web.queries import THREAD_PAGE


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
