"""Outgoing event webhooks delivered by the sender to real receivers on 127.0.0.1, each request
verified with the `standardwebhooks` package: in order, each event once after dedup by
`webhook-id`, through failures, a receiver that is down, and beside a slow one."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from frontdesk.settings import Settings
from tests.conftest import free_port
from tests.engine.webhook_support import Delivery, WebhookReceiver
from tests.factories import Api, eventually


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """Receivers listen on loopback: the setting that lets HTTP steps call it lets webhooks too."""
    return Settings(
        database_url=db_url,
        http_allow_private=True,
        webhook_backoff_seconds=0.05,
        log_format="text",
        media_dir=str(tmp_path / "media"),
    )


@pytest.fixture
def receivers() -> Iterator[list[WebhookReceiver]]:
    made: list[WebhookReceiver] = []
    yield made
    for receiver in made:
        receiver.close()


def subscribe(admin: Api, url: str, types: tuple[str, ...] = ("message.received",)) -> dict[str, Any]:
    response = admin.post("/api/v1/webhooks", {"url": url, "event_types": list(types)})
    assert response.status_code == 201, response.text
    return dict(response.json())


def receiver_for(admin: Api, receivers: list[WebhookReceiver], **options: Any) -> tuple[WebhookReceiver, int]:
    receiver = WebhookReceiver(**options)
    receivers.append(receiver)
    hook = subscribe(admin, receiver.url)
    receiver.secret = hook["secret"]
    return receiver, int(hook["id"])


def write(admin: Api, texts: list[str]) -> None:
    """Each text an inbound message, from three contacts in turn."""
    channel = admin.channel()
    for n, text in enumerate(texts):
        assert admin.inbound(channel["id"], f"contact-{n % 3}", text).status_code == 200


def texts_of(deliveries: list[Delivery]) -> list[str]:
    return [d.payload["data"]["text"] for d in deliveries]


def all_of(receiver: WebhookReceiver, count: int) -> list[Delivery] | None:
    delivered = receiver.delivered()
    return delivered if len(delivered) >= count else None


def deliveries_log(admin: Api, hook_id: int) -> list[dict[str, Any]]:
    response = admin.get(f"/api/v1/webhooks/{hook_id}/deliveries")
    assert response.status_code == 200, response.text
    return list(response.json())


def test_each_event_arrives_once_and_in_order_after_the_first_deliveries_failed(
    admin: Api, receivers: list[WebhookReceiver]
) -> None:
    receiver, hook_id = receiver_for(admin, receivers, script=[500, 503, 500])
    texts = [f"message {n}" for n in range(12)]

    write(admin, texts)

    delivered = eventually(lambda: all_of(receiver, 12), "every message delivered")
    assert texts_of(delivered) == texts
    assert all(d.verified for d in receiver.received), "a signature did not verify"
    assert {d.payload["type"] for d in delivered} == {"message.received"}
    event_ids = [d.payload["data"]["event_id"] for d in delivered]
    assert event_ids == sorted(event_ids)
    assert [d.webhook_id for d in delivered] == [f"evt_{event_id}" for event_id in event_ids]
    first_four = receiver.received[:4]  # the first event, tried again with the same id until it was taken
    assert [d.status for d in first_four] == [500, 503, 500, 200]
    assert {d.webhook_id for d in first_four} == {delivered[0].webhook_id}
    log = deliveries_log(admin, hook_id)
    failed = [entry for entry in reversed(log) if not entry["delivered"]]
    assert [(e["status_code"], e["attempt"]) for e in failed] == [(500, 1), (503, 2), (500, 3)]
    assert all(len(e["response_excerpt"]) <= 1024 for e in log)


def test_a_receiver_down_for_a_while_gets_everything_once_it_is_up(
    admin: Api, receivers: list[WebhookReceiver]
) -> None:
    port = free_port()
    hook = subscribe(admin, f"http://127.0.0.1:{port}/hook")
    write(admin, ["before 1", "before 2"])
    refused = eventually(
        lambda: [e for e in deliveries_log(admin, hook["id"]) if e["error"]][2:], "three refused attempts"
    )
    assert "ConnectError" in refused[0]["error"]

    receiver = WebhookReceiver(port=port)
    receiver.secret = hook["secret"]
    receivers.append(receiver)
    write(admin, ["after 1", "after 2"])

    delivered = eventually(lambda: all_of(receiver, 4), "every message delivered")
    assert texts_of(delivered) == ["before 1", "before 2", "after 1", "after 2"]
    assert all(d.verified for d in receiver.received)


def test_a_slow_receiver_holds_up_neither_ingest_nor_another_subscription(
    admin: Api, receivers: list[WebhookReceiver]
) -> None:
    gate = threading.Event()
    slow, _ = receiver_for(admin, receivers, gate=gate)
    fast, _ = receiver_for(admin, receivers)
    write(admin, ["one", "two", "three"])
    eventually(slow.holding.is_set, "the slow receiver holding the first delivery")

    write(admin, ["four", "five"])  # ingest answers while the slow receiver holds its delivery

    assert texts_of(eventually(lambda: all_of(fast, 5), "the other subscription's deliveries")) == [
        "one",
        "two",
        "three",
        "four",
        "five",
    ]
    assert slow.received == []  # its first delivery is still held
    gate.set()
    assert texts_of(eventually(lambda: all_of(slow, 5), "the slow receiver's deliveries")) == texts_of(fast.delivered())


def test_a_replay_delivers_again_from_the_chosen_event_with_the_same_ids(
    admin: Api, receivers: list[WebhookReceiver]
) -> None:
    receiver, hook_id = receiver_for(admin, receivers)
    write(admin, ["one", "two", "three"])
    first = eventually(lambda: all_of(receiver, 3), "the first deliveries")

    replayed = admin.post(f"/api/v1/webhooks/{hook_id}/replay", {"from_event_id": first[1].payload["data"]["event_id"]})

    assert replayed.status_code == 200, replayed.text
    eventually(lambda: len(receiver.received) >= 5 or None, "the replayed deliveries")
    again = receiver.received[3:]
    assert [d.webhook_id for d in again] == [d.webhook_id for d in first[1:]]
    assert texts_of(again) == ["two", "three"] and all(d.verified for d in again)
