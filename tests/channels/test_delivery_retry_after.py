"""A provider that asks to wait (WhatsApp's `Retry-After` header, Telegram's `retry_after`) is
not tried again before the delay it stated; the message is then sent once.

The delay is read from the stored `next_attempt_at` (never from the wall clock); the test then
moves that time back, as the stated delay passing would, and the worker's poll sends it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, text

from frontdesk.actions.channels import create_channel
from frontdesk.actions.conversations import send_message
from frontdesk.actions.delivery import MAX_RETRY_AFTER_SECONDS, record_attempt
from frontdesk.actions.ingest import InboundMessage, receive_inbound
from frontdesk.channels.base import SendResult, Verdict
from frontdesk.destinations import retry_after
from frontdesk.domain.model import Actor, AuthorKind, ChannelType
from frontdesk.domain.records import Outbound
from frontdesk.settings import Settings
from frontdesk.store.database import Database
from frontdesk.store.sql.delivery import due
from tests.channels import telegram_support, whatsapp_support
from tests.channels.conversations import one_conversation
from tests.channels.fake_provider import FakeProvider
from tests.engine.support import thread
from tests.factories import Api, eventually

STATED = 30  # seconds the fake asks to wait: far beyond the test's 0.05 s backoff


@pytest.fixture
def graph() -> Iterator[whatsapp_support.FakeGraph]:
    fake = whatsapp_support.FakeGraph()
    yield fake
    fake.close()


@pytest.fixture
def bot_api() -> Iterator[telegram_support.FakeBotApi]:
    fake = telegram_support.FakeBotApi()
    yield fake
    fake.close()


@pytest.fixture
def settings(db_url: str, graph: whatsapp_support.FakeGraph, bot_api: telegram_support.FakeBotApi) -> Settings:
    return Settings(
        database_url=db_url,
        delivery_backoff_seconds=0.05,
        log_format="text",
        whatsapp_graph_base_url=graph.url,
        telegram_base_url=bot_api.url,
    )


def pending_row(admin: Api, message_id: int) -> dict[str, Any] | None:
    """The message's delivery columns once its first attempt was answered with a retry."""
    query = text(
        "SELECT delivery_status, delivery_attempts, next_attempt_at, created_at, delivery_error"
        " FROM messages WHERE id = :id"
    )
    row = admin.db.read_sync(lambda c: c.execute(query, {"id": message_id}).mappings().one())
    return dict(row) if row["delivery_error"] and row["delivery_status"] == "pending" else None


def when(value: Any) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))


def let_the_delay_pass(admin: Api, message_id: int) -> None:
    sql = text("UPDATE messages SET next_attempt_at = created_at WHERE id = :id")
    admin.db.write_sync(lambda c: c.execute(sql, {"id": message_id}))


def reply(admin: Api, conversation_id: int, words: str) -> int:
    response = admin.post(f"/api/v1/conversations/{conversation_id}/messages", {"text": words})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def sent_once_after_the_delay(admin: Api, fake: FakeProvider[Any], conversation_id: int, message_id: int) -> None:
    row = eventually(lambda: pending_row(admin, message_id), "the first attempt's answer")
    assert row["delivery_attempts"] == 1
    assert "429" in row["delivery_error"]
    assert when(row["next_attempt_at"]) >= when(row["created_at"]) + dt.timedelta(seconds=STATED)
    assert len(fake.sent) == 1  # not retried meanwhile

    let_the_delay_pass(admin, message_id)

    found = eventually(
        lambda: next(m for m in thread(admin, conversation_id) if m["id"] == message_id)["delivery_status"] == "sent",
        "the retry",
    )
    assert found
    assert [r.status for r in fake.sent] == [429, 200]


def test_whatsapps_retry_after_header_delays_the_retry_and_the_message_is_sent_once(
    admin: Api, graph: whatsapp_support.FakeGraph
) -> None:
    channel = whatsapp_support.create_channel(admin)
    whatsapp_support.post_webhook(admin, channel["id"], whatsapp_support.payload("text"))
    conversation_id = one_conversation(admin)
    graph.retry_after = STATED
    graph.script(429)

    message_id = reply(admin, conversation_id, "Back in a moment")

    sent_once_after_the_delay(admin, graph, conversation_id, message_id)


def test_telegrams_retry_after_parameter_delays_the_retry_and_the_message_is_sent_once(
    admin: Api, bot_api: telegram_support.FakeBotApi
) -> None:
    channel = telegram_support.create_channel(admin)
    telegram_support.post_update(admin, channel["id"], telegram_support.update("text"))
    conversation_id = one_conversation(admin)
    bot_api.retry_after = STATED
    bot_api.script(429)

    message_id = reply(admin, conversation_id, "Back in a moment")

    sent_once_after_the_delay(admin, bot_api, conversation_id, message_id)


# -- the delay itself (no app, so no worker: the attempt is recorded by hand) -------------------
def next_attempt_after(db: Database, result: SendResult) -> float:
    """Seconds between an attempt answered with `result` and the next attempt it schedules."""

    def pending(c: Connection) -> Outbound:
        channel_id, _ = create_channel(c, ChannelType.API, "API", {"callback_url": "http://127.0.0.1:9/callback"})
        receipt = receive_inbound(c, InboundMessage(channel_id, "c1", "m1", "hello"))
        message_id = send_message(c, receipt.conversation_id, Actor(AuthorKind.AGENT), "hi")
        [(message, _)] = due(c, dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1), (), 10)
        assert message.id == message_id
        return message

    message = db.write_sync(pending)
    at = dt.datetime.now(dt.UTC)
    db.write_sync(lambda c: record_attempt(c, message, result, at, 8, 2.0))
    query = text("SELECT next_attempt_at FROM messages WHERE id = :id")
    stored = db.read_sync(lambda c: c.execute(query, {"id": message.id}).scalar())
    return (when(stored).replace(tzinfo=dt.UTC) - at).total_seconds()


def test_a_stated_delay_replaces_the_backoff(db: Database) -> None:
    assert next_attempt_after(db, SendResult(Verdict.RETRY, "429", retry_after=120)) == pytest.approx(120, abs=0.01)


def test_a_stated_delay_of_days_waits_only_the_cap_of_an_hour(db: Database) -> None:
    stated = SendResult(Verdict.RETRY, "429", retry_after=86_400 * 3)
    assert next_attempt_after(db, stated) == pytest.approx(MAX_RETRY_AFTER_SECONDS, abs=0.01)


def test_without_a_stated_delay_the_backoff_applies(db: Database) -> None:
    assert next_attempt_after(db, SendResult(Verdict.RETRY, "503")) == pytest.approx(2.0, abs=0.01)


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert retry_after("30") == 30.0
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past: at once
    assert (retry_after("Fri, 01 Jan 2100 00:00:00 GMT") or 0) > 86_400
    assert retry_after("soon") is None
    assert retry_after(None) is None
