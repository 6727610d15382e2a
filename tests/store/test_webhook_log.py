"""The delivery log keeps each subscription's newest attempts only, and another's are left alone."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection

from frontdesk.store.database import Database
from frontdesk.store.sql.webhooks import deliveries, insert_subscription, log_attempts

AT = dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)


def _subscription(conn: Connection) -> int:
    values = {"url": "https://hooks.example/in", "event_types": ["message.received"], "secret": "whsec_test"}
    times = {"next_attempt_at": AT, "created_at": AT, "updated_at": AT}
    return insert_subscription(conn, {**values, "enabled": True, "position": 0, "attempt": 0, **times})


def _attempt(event_id: int, delivered: bool = True) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "event_type": "message.received",
        "attempt": 1,
        "attempted_at": AT + dt.timedelta(seconds=event_id),
        "delivered": delivered,
        "status_code": 204 if delivered else 500,
        "error": None if delivered else "HTTP 500",
        "latency_ms": 3,
        "response_excerpt": "",
    }


def test_the_log_keeps_the_newest_attempts_of_each_subscription(db: Database) -> None:
    def work(conn: Connection) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        first, second = _subscription(conn), _subscription(conn)
        log_attempts(conn, second, [_attempt(1), _attempt(2)], keep=3)
        log_attempts(conn, first, [_attempt(n) for n in range(1, 4)], keep=3)
        log_attempts(conn, first, [_attempt(4), _attempt(5, delivered=False)], keep=3)
        return deliveries(conn, first, 10), deliveries(conn, second, 10)

    first, second = db.write_sync(work)

    assert [row["event_id"] for row in first] == [5, 4, 3]
    assert first[0]["delivered"] is False and first[0]["error"] == "HTTP 500" and first[1]["status_code"] == 204
    assert first[0]["attempted_at"] == AT + dt.timedelta(seconds=5)
    assert [row["event_id"] for row in second] == [2, 1]
