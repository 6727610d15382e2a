"""The sender's schedule, on a clock the test moves (no one waits a day): a subscription whose
deliveries fail for a day is disabled, admins are told, and re-enabling delivers from where it
stopped; an event failing for three days is given up; a claimed subscription is left to its
claimer by another process until the lease ends."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from frontdesk.actions.named_secrets import set_secret
from frontdesk.actions.webhooks import claim_due, create_subscription, record_and_claim_next, update_subscription
from frontdesk.clock import now
from frontdesk.domain.model import SYSTEM
from frontdesk.domain.webhooks import Attempt, Claim, Retries
from frontdesk.engine.webhooks import WebhookSender
from frontdesk.settings import Settings
from frontdesk.store.database import Database
from frontdesk.store.sql import events
from frontdesk.store.sql.webhooks import subscription
from tests.engine.webhook_support import WebhookReceiver
from tests.factories import run_async

STEP = dt.timedelta(hours=1)


class Clock:
    """Starts now (the subscription is created on the real clock), moved by the test."""

    def __init__(self) -> None:
        self.at = self.start = now()

    def __call__(self) -> dt.datetime:
        return self.at


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    found = WebhookReceiver()
    found.then = 500
    yield found
    found.close()


def send_due(db: Database, sender: WebhookSender, clock: Clock) -> None:
    """One pass of the sender at the clock's time: claim what is due, deliver it."""
    for claim in db.write_sync(lambda c: claim_due(c, clock(), sender.lease, 10, (), 50)):
        run_async(sender.deliver(claim))


def shown(db: Database, webhook_id: int) -> dict[str, Any]:
    found = db.read_sync(lambda c: subscription(c, webhook_id))
    assert found is not None
    return found


def test_a_subscription_failing_for_a_day_is_disabled_then_re_enabled_delivers_what_waited(
    db: Database, db_url: str, receiver: WebhookReceiver
) -> None:
    clock = Clock()
    sender = WebhookSender(db, Settings(database_url=db_url, http_allow_private=True), clock=clock)
    webhook_id, receiver.secret = db.write_sync(lambda c: create_subscription(c, receiver.url, ["secret.set"], SYSTEM))
    db.write_sync(lambda c: set_secret(c, "CRM_KEY", "sk-1", SYSTEM))

    while shown(db, webhook_id)["enabled"] and clock.at < clock.start + dt.timedelta(days=3):
        send_due(db, sender, clock)
        clock.at += STEP

    hook = shown(db, webhook_id)
    assert hook["enabled"] is False
    assert dt.timedelta(days=1) <= hook["disabled_at"] - hook["failing_since"] < dt.timedelta(days=1, hours=7)
    assert hook["last_error"] == "HTTP 500"
    told = [e for e in db.read_sync(lambda c: events.list_events(c, 0, 500, ["webhook.disabled"]))]
    assert [e["payload"]["webhook_id"] for e in told] == [webhook_id]
    tries = len(receiver.received)
    clock.at += dt.timedelta(days=2)
    send_due(db, sender, clock)
    assert len(receiver.received) == tries  # disabled: nothing is sent

    receiver.then = 200
    db.write_sync(lambda c: update_subscription(c, webhook_id, {"enabled": True}, SYSTEM))
    send_due(db, sender, clock)

    assert receiver.received[-1].status == 200
    assert receiver.received[-1].payload["data"]["name"] == "CRM_KEY"
    assert shown(db, webhook_id)["failing_since"] is None


def test_an_event_failing_for_three_days_is_given_up_and_the_next_one_follows(
    db: Database, db_url: str, receiver: WebhookReceiver
) -> None:
    clock = Clock()
    settings = Settings(database_url=db_url, http_allow_private=True, webhook_disable_after_hours=100)
    sender = WebhookSender(db, settings, clock=clock)
    webhook_id, receiver.secret = db.write_sync(lambda c: create_subscription(c, receiver.url, ["secret.set"], SYSTEM))
    db.write_sync(lambda c: set_secret(c, "CRM_KEY", "sk-1", SYSTEM))
    db.write_sync(lambda c: set_secret(c, "ERP_KEY", "sk-2", SYSTEM))
    first = db.read_sync(lambda c: events.list_events(c, 0, 500, ["secret.set"]))[0]["id"]

    while not (shown(db, webhook_id)["last_error"] or "").startswith("gave up"):
        assert clock.at < clock.start + dt.timedelta(days=4), "never given up"
        send_due(db, sender, clock)
        clock.at += STEP

    hook = shown(db, webhook_id)
    assert hook["enabled"] is True and hook["position"] == first
    assert {d.payload["data"]["name"] for d in receiver.received} == {"CRM_KEY"}
    assert clock.at - clock.start >= dt.timedelta(days=3)
    receiver.then = 200
    send_due(db, sender, clock)
    assert [d.payload["data"]["name"] for d in receiver.delivered()] == ["ERP_KEY"]


def test_a_claimed_subscription_is_left_to_its_claimer_by_another_process(db: Database, db_url: str) -> None:
    other = Database(db_url)  # a second worker's handle on the same database
    other.start()
    try:
        webhook_id, _ = db.write_sync(lambda c: create_subscription(c, "http://127.0.0.1:9/", ["secret.set"], SYSTEM))
        db.write_sync(lambda c: set_secret(c, "CRM_KEY", "sk-1", SYSTEM))
        at, lease = now(), dt.timedelta(minutes=1)

        mine = db.write_sync(lambda c: claim_due(c, at, lease, 10, (), 50))
        theirs = other.write_sync(lambda c: claim_due(c, at, lease, 10, (), 50))
        after_the_lease = other.write_sync(lambda c: claim_due(c, at + 2 * lease, lease, 10, (), 50))
    finally:
        other.close()

    assert [claim.subscription.id for claim in mine] == [webhook_id]
    assert theirs == []
    assert [claim.subscription.id for claim in after_the_lease] == [webhook_id]  # its claimer died: taken over


def test_a_whole_batch_delivered_leases_the_next_one_in_the_same_write_and_a_failure_does_not(db: Database) -> None:
    webhook_id, _ = db.write_sync(lambda c: create_subscription(c, "http://127.0.0.1:9/", ["secret.set"], SYSTEM))
    for name in ("A", "B", "C", "D", "E"):
        db.write_sync(lambda c, name=name: set_secret(c, f"KEY_{name}", "v", SYSTEM))
    at, lease = now(), dt.timedelta(minutes=1)
    retries = Retries(first_delay=5.0, disable_after=dt.timedelta(days=1))
    [first] = db.write_sync(lambda c: claim_due(c, at, lease, 10, (), 2))

    second = db.write_sync(lambda c: record_and_claim_next(c, first, _sent(first, True), at, retries, lease, 2))
    assert second is not None
    assert [e.payload["name"] for e in second.events] == ["KEY_C", "KEY_D"]
    assert shown(db, webhook_id)["position"] == first.events[-1].id
    assert db.write_sync(lambda c: claim_due(c, at, lease, 10, (), 2)) == []  # leased to the task that goes on

    third = db.write_sync(lambda c: record_and_claim_next(c, second, _sent(second, False), at, retries, lease, 2))
    assert third is None  # the second event failed: its retry waits for its backoff
    hook = shown(db, webhook_id)
    assert hook["position"] == second.events[0].id and hook["last_error"] == "HTTP 503"


def _sent(claim: Claim, last_delivered: bool) -> list[Attempt]:
    """An attempt at each event of `claim`, all delivered but the last one unless `last_delivered`."""
    return [
        Attempt(
            event_id=event.id,
            event_type=event.type,
            attempt=1,
            attempted_at=now(),
            delivered=last_delivered or index < len(claim.events) - 1,
            status_code=200 if last_delivered or index < len(claim.events) - 1 else 503,
            error=None if last_delivered or index < len(claim.events) - 1 else "HTTP 503",
            latency_ms=1,
            response_excerpt="",
        )
        for index, event in enumerate(claim.events)
    ]
