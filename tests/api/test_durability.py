"""Ack means durable: a real server killed with SIGKILL mid-traffic loses no acknowledged message."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.conftest import LiveServer

REQUESTS = 200
CONNECTIONS = 20
KILL_AFTER_ACKS = 50
CONTACTS = 10


@dataclass
class Traffic:
    """Inbound messages posted concurrently; the server is killed once enough are acknowledged."""

    server: LiveServer
    channel_id: int
    acked: dict[str, dict[str, Any]] = field(default_factory=dict)  # provider message id -> receipt
    failed: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def body(self, n: int) -> dict[str, Any]:
        return {"contact": {"external_id": f"contact-{n % CONTACTS}"}, "message": self.message(n)}

    @staticmethod
    def message(n: int) -> dict[str, str]:
        return {"id": f"m-{n}", "text": f"message {n}"}

    def send(self, client: httpx.Client, n: int) -> None:
        url = f"{self.server.base_url}/api/v1/channels/{self.channel_id}/inbound"
        try:
            response = client.post(url, json=self.body(n), headers=self.server.headers)
        except httpx.HTTPError:
            with self._lock:
                self.failed += 1
            return
        assert response.status_code == 200, response.text  # the server answers 200 or dies
        with self._lock:
            self.acked[f"m-{n}"] = response.json()
            kill_now = len(self.acked) == KILL_AFTER_ACKS
        if kill_now:
            self.server.kill()  # SIGKILL while the other connections still have requests in flight


def create_channel(server: LiveServer) -> int:
    response = httpx.post(
        f"{server.base_url}/api/v1/channels",
        json={"type": "api", "name": "Durability"},
        headers=server.headers,
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def get(server: LiveServer, path: str, **params: Any) -> Any:
    response = httpx.get(f"{server.base_url}{path}", params=params, headers=server.headers, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def all_conversations(server: LiveServer) -> list[dict[str, Any]]:
    conversations: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 200}
    while page := get(server, "/api/v1/conversations", **params):
        conversations += page
        params["before"] = page[-1]["id"]
    return conversations


def stored_messages(server: LiveServer, channel_id: int) -> list[dict[str, Any]]:
    """Every inbound message of every conversation on the channel (the demo's workflow answers too)."""
    found: list[dict[str, Any]] = []
    for conversation in all_conversations(server):
        after = 0
        while page := get(server, f"/api/v1/conversations/{conversation['id']}/messages", after=after):
            found += [m for m in page if m["channel_id"] == channel_id and m["direction"] == "in"]
            after = page[-1]["id"]
    return found


def all_events(server: LiveServer) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    cursor = 0
    while True:
        page = get(server, "/api/v1/events", after=cursor, limit=200)
        if not page["events"]:
            return events
        events += page["events"]
        cursor = page["next_cursor"]


def send_then_kill(server: LiveServer, channel_id: int) -> Traffic:
    traffic = Traffic(server, channel_id)
    limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
    with (
        httpx.Client(limits=limits, timeout=30) as client,
        ThreadPoolExecutor(max_workers=CONNECTIONS) as pool,
    ):
        for outcome in [pool.submit(traffic.send, client, n) for n in range(REQUESTS)]:
            outcome.result()
    return traffic


def test_every_acknowledged_message_survives_sigkill(live_server: LiveServer) -> None:
    channel_id = create_channel(live_server)

    traffic = send_then_kill(live_server, channel_id)
    assert live_server.process is not None and live_server.process.returncode == -9
    assert KILL_AFTER_ACKS <= len(traffic.acked) < REQUESTS
    assert traffic.failed == REQUESTS - len(traffic.acked)

    live_server.start()  # same database, a fresh process
    stored = stored_messages(live_server, channel_id)

    counts = Counter(m["provider_message_id"] for m in stored)
    assert [pid for pid, n in counts.items() if n > 1] == []
    by_provider_id = {m["provider_message_id"]: m for m in stored}
    lost = sorted(set(traffic.acked) - set(by_provider_id))
    assert lost == [], f"{len(lost)} acknowledged messages were lost"
    for provider_id, receipt in traffic.acked.items():
        message = by_provider_id[provider_id]
        assert message["id"] == receipt["message_id"]
        assert message["conversation_id"] == receipt["conversation_id"]
        assert message["text"] == f"message {provider_id.removeprefix('m-')}"
    received = [
        e["payload"]["message_id"]
        for e in all_events(live_server)
        if e["type"] == "message.received" and e["payload"]["channel_id"] == channel_id
    ]
    assert sorted(received) == sorted(m["id"] for m in stored)  # one event per stored message


def test_a_retry_after_the_restart_replays_the_first_receipt(live_server: LiveServer) -> None:
    channel_id = create_channel(live_server)
    traffic = send_then_kill(live_server, channel_id)
    live_server.start()
    provider_id, receipt = next(iter(traffic.acked.items()))
    before_messages = stored_messages(live_server, channel_id)
    cursor = all_events(live_server)[-1]["id"]

    n = int(provider_id.removeprefix("m-"))
    response = httpx.post(
        f"{live_server.base_url}/api/v1/channels/{channel_id}/inbound",
        json=traffic.body(n),
        headers=live_server.headers,
        timeout=10,
    )

    assert response.status_code == 200, response.text
    assert response.headers["Idempotent-Replayed"] == "true"
    assert response.json() == receipt
    assert stored_messages(live_server, channel_id) == before_messages
    later = get(live_server, "/api/v1/events", after=cursor, type=["message.received", "conversation.opened"])
    assert later["events"] == []  # the workflow engine may still be writing its own events
