"""Many simultaneous webhooks from one new contact (WhatsApp, Telegram), against a real server
process: one conversation, each message stored once."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.channels import telegram_support as tg
from tests.channels.telegram_support import FakeBotApi
from tests.channels.whatsapp_support import (
    ACCESS_TOKEN,
    APP_SECRET,
    PHONE_NUMBER_ID,
    VERIFY_TOKEN,
    FakeGraph,
    payload,
    sign,
)
from tests.conftest import LiveServer
from tests.factories import run_async


@pytest.fixture
def server(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    """`frontdesk serve --demo`, its WhatsApp and Telegram sends going to fakes (the demo greets)."""
    graph, bot_api = FakeGraph(), FakeBotApi()
    monkeypatch.setenv("FRONTDESK_WHATSAPP_GRAPH_BASE_URL", graph.url)
    monkeypatch.setenv("FRONTDESK_TELEGRAM_BASE_URL", bot_api.url)
    live = LiveServer(db_url, tmp_path / "server.log")
    live.start()
    yield live
    live.stop()
    graph.close()
    bot_api.close()


async def _post_all(
    server: LiveServer, path: str, bodies: list[bytes], headers: Callable[[bytes], dict[str, str]]
) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=len(bodies))
    async with httpx.AsyncClient(base_url=server.base_url, limits=limits, timeout=30) as client:
        return list(await asyncio.gather(*(client.post(path, content=b, headers=headers(b)) for b in bodies)))


def _one_conversation_with_each_message_once(server: LiveServer, channel_id: int) -> None:
    conversations = httpx.get(f"{server.base_url}/api/v1/conversations", headers=server.headers).json()
    mine = [c for c in conversations if c["channel_id"] == channel_id]
    assert len(mine) == 1
    thread = httpx.get(
        f"{server.base_url}/api/v1/conversations/{mine[0]['id']}/messages",
        params={"limit": 200},
        headers=server.headers,
    ).json()
    texts = sorted(m["text"] for m in thread if m["direction"] == "in")
    assert texts == sorted(f"message {n}" for n in range(40))


def test_fifty_concurrent_webhooks_from_a_new_contact_open_one_conversation(server: LiveServer) -> None:
    channel = httpx.post(
        f"{server.base_url}/api/v1/channels",
        json={
            "type": "whatsapp",
            "name": "WhatsApp",
            "phone_number_id": PHONE_NUMBER_ID,
            "access_token": ACCESS_TOKEN,
            "app_secret": APP_SECRET,
            "verify_token": VERIFY_TOKEN,
        },
        headers=server.headers,
    ).json()
    bodies = [
        json.dumps(payload("text", id=f"wamid.C{n % 40}", text={"body": f"message {n % 40}"})).encode()
        for n in range(50)
    ]

    responses = run_async(_post_all(server, f"/webhooks/whatsapp/{channel['id']}", bodies, sign))

    assert [r.status_code for r in responses] == [200] * 50
    assert sum(r.json()["messages"] for r in responses) == 40
    _one_conversation_with_each_message_once(server, channel["id"])


def test_fifty_concurrent_telegram_updates_from_a_new_contact_open_one_conversation(server: LiveServer) -> None:
    body = {"type": "telegram", "name": "Telegram", "bot_token": tg.BOT_TOKEN, "webhook_secret": tg.WEBHOOK_SECRET}
    channel = httpx.post(f"{server.base_url}/api/v1/channels", json=body, headers=server.headers).json()
    updates = []
    for n in range(50):  # 40 messages, 10 of them delivered twice (Telegram retries an update)
        update = tg.update("text", update_id=1000 + n % 40)
        update["message"].update(message_id=500 + n % 40, text=f"message {n % 40}")
        updates.append(json.dumps(update).encode())
    headers = {"content-type": "application/json", "X-Telegram-Bot-Api-Secret-Token": tg.WEBHOOK_SECRET}

    responses = run_async(_post_all(server, f"/webhooks/telegram/{channel['id']}", updates, lambda _: headers))

    assert [r.status_code for r in responses] == [200] * 50
    _one_conversation_with_each_message_once(server, channel["id"])
