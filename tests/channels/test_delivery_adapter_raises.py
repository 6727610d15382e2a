"""A channel adapter that raises while sending (a bug, a provider's answer it did not foresee)
costs an attempt like a refusal: the message is retried, then failed with the reason, never
leased again and again for ever. The adapter here is a plugin of the registry's kind that raises,
as a third-party channel with a bug would."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy import Connection

from frontdesk.actions.channels import create_channel
from frontdesk.actions.conversations import send_message
from frontdesk.actions.ingest import InboundMessage, receive_inbound
from frontdesk.channels.api import ApiChannel
from frontdesk.channels.base import SendResult
from frontdesk.delivery import DeliveryWorker
from frontdesk.domain.model import Actor, AuthorKind, ChannelType
from frontdesk.domain.plugins import Registry
from frontdesk.domain.records import Channel, Outbound
from frontdesk.settings import Settings
from frontdesk.store.database import Database
from frontdesk.store.tables import messages
from tests.factories import eventually


class Buggy(ApiChannel):
    async def send(
        self, client: httpx.AsyncClient, channel: Channel, message: Outbound, settings: Settings
    ) -> SendResult:
        raise KeyError("message_id")


def _reply(conn: Connection) -> int:
    channel_id = create_channel(conn, ChannelType.API, "Buggy", {"callback_url": "http://127.0.0.1:9/hook"})[0]
    receipt = receive_inbound(conn, InboundMessage(channel_id, "ada", "m1", "Hello"))
    return send_message(conn, receipt.conversation_id, Actor(AuthorKind.API), "Hi Ada")


def _delivery(db: Database, message_id: int) -> dict[str, Any] | None:
    query = messages.select().where(messages.c.id == message_id)
    row = db.read_sync(lambda c: c.execute(query).mappings().one())
    return None if row["delivery_status"] == "pending" else dict(row)


def test_an_adapter_that_raises_costs_an_attempt_and_the_message_ends_failed(db: Database, settings: Settings) -> None:
    message_id = db.write_sync(_reply)
    settings = settings.model_copy(update={"delivery_max_attempts": 3, "delivery_backoff_seconds": 0.01})

    async def deliver() -> dict[str, Any]:
        worker = DeliveryWorker(db, settings, Registry("channel type", [("api", Buggy())]))
        worker.start()
        try:
            return await asyncio.to_thread(eventually, lambda: _delivery(db, message_id), "the message to fail")
        finally:
            await worker.stop()

    row = asyncio.run(deliver())

    assert (row["delivery_status"], row["delivery_attempts"]) == ("failed", 3)
    assert row["delivery_error"] == "the api channel failed: KeyError: 'message_id'"
