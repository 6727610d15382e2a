"""Many simultaneous requests against a real server process resolve to one consistent state."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from tests.conftest import LiveServer
from tests.databases import query
from tests.factories import run_async


async def _post_all(server: LiveServer, path: str, bodies: list[dict[str, Any]]) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=len(bodies))
    async with httpx.AsyncClient(base_url=server.base_url, headers=server.headers, limits=limits, timeout=30) as c:
        return list(await asyncio.gather(*(c.post(path, json=body) for body in bodies)))


def _channel(server: LiveServer) -> int:
    response = httpx.post(
        f"{server.base_url}/api/v1/channels", json={"type": "api", "name": "Load"}, headers=server.headers
    )
    return int(response.json()["id"])


def _events(server: LiveServer, type_: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    after = 0
    while True:
        page = httpx.get(
            f"{server.base_url}/api/v1/events",
            params={"after": after, "limit": 200, "type": type_},
            headers=server.headers,
        ).json()
        found += page["events"]
        if not page["events"]:
            return found
        after = page["next_cursor"]


def test_hundred_concurrent_first_messages_open_exactly_one_conversation(live_server: LiveServer) -> None:
    channel_id = _channel(live_server)
    bodies = [
        {"contact": {"external_id": "crowd"}, "message": {"id": f"m{i}", "text": f"message {i}"}} for i in range(100)
    ]

    responses = run_async(_post_all(live_server, f"/api/v1/channels/{channel_id}/inbound", bodies))

    assert [r.status_code for r in responses] == [200] * 100
    receipts = [r.json() for r in responses]
    assert len({r["conversation_id"] for r in receipts}) == 1
    assert len({r["contact_id"] for r in receipts}) == 1
    assert sum(r["conversation_opened"] for r in receipts) == 1
    conversation_id = receipts[0]["conversation_id"]
    assert [e["conversation_id"] for e in _events(live_server, "conversation.opened")] == [conversation_id]
    thread = httpx.get(
        f"{live_server.base_url}/api/v1/conversations/{conversation_id}/messages",
        params={"limit": 200},
        headers=live_server.headers,
    ).json()
    inbound = [m["text"] for m in thread if m["direction"] == "in"]  # the demo's workflow talks too
    assert sorted(inbound) == sorted(f"message {i}" for i in range(100))


def test_twenty_concurrent_retries_of_one_message_store_it_once(live_server: LiveServer) -> None:
    channel_id = _channel(live_server)
    body = {"contact": {"external_id": "retrier"}, "message": {"id": "same-id", "text": "only once"}}

    responses = run_async(_post_all(live_server, f"/api/v1/channels/{channel_id}/inbound", [body] * 20))

    assert {r.status_code for r in responses} == {200}
    assert len({r.text for r in responses}) == 1  # every retry gets the first answer
    assert sum(r.headers.get("idempotent-replayed") == "true" for r in responses) == 19
    assert len(_events(live_server, "message.received")) == 1
    assert len(_events(live_server, "conversation.opened")) == 1


def test_concurrent_first_messages_of_many_contacts_open_one_conversation_each(
    live_server: LiveServer,
) -> None:
    channel_id = _channel(live_server)
    bodies = [{"contact": {"external_id": f"c{i % 10}"}, "message": {"id": f"m{i}", "text": "hi"}} for i in range(100)]

    responses = run_async(_post_all(live_server, f"/api/v1/channels/{channel_id}/inbound", bodies))

    by_contact: dict[int, set[int]] = {}
    for receipt in (r.json() for r in responses):
        by_contact.setdefault(receipt["contact_id"], set()).add(receipt["conversation_id"])
    assert len(by_contact) == 10
    assert all(len(conversations) == 1 for conversations in by_contact.values())
    assert len(_events(live_server, "conversation.opened")) == 10


def test_two_server_processes_on_one_database_still_open_one_conversation(
    live_server: LiveServer, db_url: str, tmp_path: Any
) -> None:
    second = LiveServer(db_url, tmp_path / "second.log")
    second.start()
    live_server.token = second.token  # each demo start revokes the previous demo token
    try:
        channel_id = _channel(live_server)
        bodies = [{"contact": {"external_id": "both"}, "message": {"id": f"m{i}", "text": "hi"}} for i in range(60)]
        path = f"/api/v1/channels/{channel_id}/inbound"

        async def both() -> list[httpx.Response]:
            first_half, second_half = await asyncio.gather(
                _post_all(live_server, path, bodies[::2]), _post_all(second, path, bodies[1::2])
            )
            return first_half + second_half

        responses = run_async(both())
    finally:
        second.stop()

    assert {r.status_code for r in responses} == {200}
    assert len({r.json()["conversation_id"] for r in responses}) == 1
    assert len(_events(live_server, "conversation.opened")) == 1
    assert len(_events(live_server, "message.received")) == 60


async def _post_and_ask_who(
    server: LiveServer, path: str, bodies: list[dict[str, Any]]
) -> tuple[list[httpx.Response], set[int]]:
    """Post each body on a connection of its own; then ask /healthz, as many times on as many new
    connections, which server processes the kernel hands connections to. (Not on the posts' own
    connections: under load one may sit idle past the server's keep-alive and be closed.)"""
    limits = httpx.Limits(max_connections=len(bodies), max_keepalive_connections=len(bodies))
    async with httpx.AsyncClient(base_url=server.base_url, headers=server.headers, limits=limits, timeout=60) as c:
        responses = list(await asyncio.gather(*(c.post(path, json=body) for body in bodies)))
    async with httpx.AsyncClient(base_url=server.base_url, limits=limits, timeout=60) as c:
        health = await asyncio.gather(*(c.get("/healthz") for _ in bodies))
    return responses, {int(h.json()["pid"]) for h in health}


def test_two_hundred_first_messages_over_three_server_processes_open_one_conversation_per_contact(
    db_url: str, tmp_path: Any
) -> None:
    server = LiveServer(db_url, tmp_path / "server.log", args=("--processes", "3"))
    server.start()
    try:
        channel_id = _channel(server)
        bodies = [
            {"contact": {"external_id": f"c{i % 50}"}, "message": {"id": f"m{i}", "text": "hi"}} for i in range(200)
        ]
        responses, pids = run_async(_post_and_ask_who(server, f"/api/v1/channels/{channel_id}/inbound", bodies))
        _wait_until_every_conversation_has_a_run(db_url, 50)
    finally:
        server.stop()

    print(f"server processes that answered: {sorted(pids)}")
    assert len(pids) > 1
    assert {r.status_code for r in responses} == {200}
    assert len({r.json()["conversation_id"] for r in responses}) == 50
    assert query(db_url, "SELECT count(*) FROM conversations") == [(50,)]
    assert query(db_url, "SELECT count(*) FROM workflow_runs") == [(50,)]
    assert query(db_url, "SELECT count(*) FROM events WHERE type = 'conversation.opened'") == [(50,)]


def _wait_until_every_conversation_has_a_run(db_url: str, conversations: int) -> None:
    """The engine runs in a worker process: its runs come a moment after the replies."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if query(db_url, "SELECT count(DISTINCT conversation_id) FROM workflow_runs") == [(conversations,)]:
            return
        time.sleep(0.2)
    raise AssertionError(f"not every one of the {conversations} conversations has a run")
