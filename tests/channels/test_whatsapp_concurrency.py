"""Many simultaneous signed webhooks from one new WhatsApp contact, against a real server process."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

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
    """`frontdesk serve --demo`, its WhatsApp sends going to a fake Graph API (the demo greets)."""
    graph = FakeGraph()
    monkeypatch.setenv("FRONTDESK_WHATSAPP_GRAPH_BASE_URL", graph.url)
    live = LiveServer(db_url, tmp_path / "server.log")
    live.start()
    yield live
    live.stop()
    graph.close()


async def _post_all(server: LiveServer, path: str, bodies: list[bytes]) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=len(bodies))
    async with httpx.AsyncClient(base_url=server.base_url, limits=limits, timeout=30) as client:
        return list(await asyncio.gather(*(client.post(path, content=b, headers=sign(b)) for b in bodies)))


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

    responses = run_async(_post_all(server, f"/webhooks/whatsapp/{channel['id']}", bodies))

    assert [r.status_code for r in responses] == [200] * 50
    assert sum(r.json()["messages"] for r in responses) == 40
    conversations = httpx.get(f"{server.base_url}/api/v1/conversations", headers=server.headers).json()
    mine = [c for c in conversations if c["channel_id"] == channel["id"]]
    assert len(mine) == 1
    thread = httpx.get(
        f"{server.base_url}/api/v1/conversations/{mine[0]['id']}/messages",
        params={"limit": 200},
        headers=server.headers,
    ).json()
    texts = sorted(m["text"] for m in thread if m["direction"] == "in")
    assert texts == sorted(f"message {n}" for n in range(40))
