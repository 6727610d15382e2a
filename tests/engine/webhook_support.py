"""What the webhook tests share: a subscriber on 127.0.0.1 that verifies every request with the
`standardwebhooks` package (as any receiver would), answers a script of statuses then 200, and can
hold requests at a gate; and a subscription whose deliveries have failed for two days."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sqlalchemy import Connection
from standardwebhooks import Webhook, WebhookVerificationError

from frontdesk.actions.webhooks import create_subscription, record_outcome
from frontdesk.clock import now
from frontdesk.domain.model import SYSTEM
from frontdesk.domain.records import Event
from frontdesk.domain.webhooks import Attempt, Claim, Due, Retries
from frontdesk.store.sql.webhooks import subscription


@dataclass(frozen=True)
class Delivery:
    webhook_id: str
    payload: dict[str, Any]
    verified: bool
    status: int  # what the receiver answered


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64


class WebhookReceiver:
    """Records every request; `secret` is set once the subscription is created (its answer holds it)."""

    def __init__(self, script: Sequence[int] = (), port: int = 0, gate: threading.Event | None = None) -> None:
        self.secret = ""
        self.then = 200  # the answer once the script is spent
        self.gate = gate
        self.holding = threading.Event()
        self._script = list(script)
        self._lock = threading.Lock()
        self._received: list[Delivery] = []
        self._server = _Server(("127.0.0.1", port), self._handler())
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    @property
    def received(self) -> list[Delivery]:
        with self._lock:
            return list(self._received)

    def delivered(self) -> list[Delivery]:
        """What was accepted, each `webhook-id` once (a receiver's dedup), in arrival order."""
        seen: dict[str, Delivery] = {}
        for delivery in self.received:
            if delivery.status == 200 and delivery.webhook_id not in seen:
                seen[delivery.webhook_id] = delivery
        return list(seen.values())

    def close(self) -> None:
        if self.gate is not None:
            self.gate.set()
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        try:
            Webhook(self.secret).verify(body, headers)
            verified = True
        except WebhookVerificationError:
            verified = False
        with self._lock:
            status = self._script.pop(0) if self._script else self.then
            delivery = Delivery(headers.get("webhook-id", ""), json.loads(body), verified, status)
            self._received.append(delivery)
        return status, b"ok" if status == 200 else b"\x00\xffgarbage" * 400

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                if receiver.gate is not None:
                    receiver.holding.set()
                    receiver.gate.wait()
                status, answer = receiver._answer(body, {k.lower(): v for k, v in self.headers.items()})
                self.send_response(status)
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *_: Any) -> None:
                return None

        return Handler


def failing_for_two_days(conn: Connection, url: str, event_types: list[str]) -> int:
    """A subscription (made without the URL check) whose next event has failed since two days ago,
    its outcome recorded once more now: the sender's rule disables it. Its id."""
    at = now()
    hook_id, secret = create_subscription(conn, url, event_types, SYSTEM)
    found = subscription(conn, hook_id)
    assert found is not None
    since = at - dt.timedelta(days=2)
    due = Due(
        id=hook_id,
        url=url,
        secret=secret,
        event_types=event_types,
        position=found["position"],
        attempt=9,
        head_since=since,
        failing_since=since,
    )
    event = Event(
        id=due.position + 1, type=event_types[0], contact_id=1, conversation_id=None, payload={}, created_at=at
    )
    failed = Attempt(
        event_id=event.id,
        event_type=event.type,
        attempt=10,
        attempted_at=at,
        delivered=False,
        status_code=503,
        error=None,
        latency_ms=3,
        response_excerpt="busy",
    )
    retries = Retries(first_delay=5.0, disable_after=dt.timedelta(days=1))
    record_outcome(conn, Claim(subscription=due, events=[event], horizon=event.id), [failed], at, retries)
    return hook_id
