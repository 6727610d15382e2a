"""Outbound delivery of agent replies to an API channel's callback_url, against a real receiver."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

import pytest
from litestar.testing import TestClient

from frontdesk.channels import signing
from frontdesk.delivery import IDLE_SECONDS
from frontdesk.domain.model import AttachmentKind
from frontdesk.server import create_app
from frontdesk.settings import Settings
from tests.channels.media_support import PNG, link, stored
from tests.channels.media_support import reply as media_reply
from tests.conftest import free_port
from tests.factories import Api, eventually, make_token

T = TypeVar("T")
DEADLINE_SECONDS = 20.0


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes
    status: int  # what the receiver answered
    problem: str | None  # why the signature does not verify; None when it does

    @property
    def payload(self) -> dict[str, Any]:
        return dict(json.loads(self.body))

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # the default listen backlog of 5 drops connections in a burst


class Receiver:
    """A callback endpoint on 127.0.0.1 that records every request, checks its signature with the
    channel secret, and answers the scripted statuses in order, then `then` for ever."""

    def __init__(
        self,
        script: Sequence[int] = (),
        then: int = 200,
        port: int = 0,
        secret: str = "",
        gate: threading.Event | None = None,
    ) -> None:
        self.secret = secret
        self.gate = gate  # when given, each request is held until it is set
        self.holding = threading.Event()  # set once a request is being held
        self._script = list(script)
        self._then = then
        self._lock = threading.Lock()
        self._requests: list[Received] = []
        self._server = _Server(("127.0.0.1", port), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/callback"

    @property
    def requests(self) -> list[Received]:
        with self._lock:
            return list(self._requests)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _record(self, path: str, headers: dict[str, str], body: bytes) -> int:
        ts, given = headers.get(signing.TIMESTAMP_HEADER), headers.get(signing.SIGNATURE_HEADER)
        problem = signing.verify(self.secret, ts, given, body)
        with self._lock:  # recorded before the answer leaves, so a "sent" status implies a record
            status = 401 if problem else (self._script.pop(0) if self._script else self._then)
            self._requests.append(Received(path, headers, body, status, problem))
        return status

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                if receiver.gate is not None:
                    receiver.holding.set()
                    receiver.gate.wait(DEADLINE_SECONDS * 3)
                headers = {name.lower(): value for name, value in self.headers.items()}
                self.send_response(receiver._record(self.path, headers, body))
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


@pytest.fixture
def receivers() -> Iterator[Callable[..., Receiver]]:
    started: list[Receiver] = []

    def start(*args: Any, **kwargs: Any) -> Receiver:
        started.append(Receiver(*args, **kwargs))
        return started[-1]

    yield start
    for receiver in started:
        receiver.close()


def open_conversation(admin: Api, callback_url: str) -> tuple[int, str]:
    """A channel pointing at `callback_url` and a conversation on it: (conversation id, secret)."""
    channel = admin.channel(callback_url)
    receipt = admin.inbound(channel["id"], "ada", "Hello")
    assert receipt.status_code == 200, receipt.text
    return int(receipt.json()["conversation_id"]), str(channel["secret"])


def reply(admin: Api, conversation_id: int, text: str) -> dict[str, Any]:
    response = admin.post(f"/api/v1/conversations/{conversation_id}/messages", {"text": text})
    assert response.status_code == 201, response.text
    return dict(response.json())


def message_of(admin: Api, conversation_id: int, message_id: int) -> dict[str, Any]:
    thread = admin.get(f"/api/v1/conversations/{conversation_id}/messages", limit=200).json()
    return dict(next(m for m in thread if m["id"] == message_id))


def settled(admin: Api, conversation_id: int, message_id: int) -> dict[str, Any] | None:
    """The message once its delivery is no longer pending, else None."""
    message = message_of(admin, conversation_id, message_id)
    return None if message["delivery_status"] == "pending" else message


def test_a_reply_is_posted_once_signed_and_marked_sent(admin: Api, receivers: Callable[..., Receiver]) -> None:
    receiver = receivers()
    conversation_id, receiver.secret = open_conversation(admin, receiver.url)

    sent = reply(admin, conversation_id, "Hi Ada!")
    message = eventually(lambda: settled(admin, conversation_id, sent["id"]), "the delivery")

    assert message["delivery_status"] == "sent"
    [request] = receiver.requests
    assert request.path == "/callback"
    assert request.problem is None
    assert request.payload["message"]["id"] == sent["id"]
    assert request.payload["message"]["text"] == "Hi Ada!"
    assert request.payload["contact"]["external_id"] == "ada"
    updates = admin.events(type="message.delivery_updated")
    assert [(e["payload"]["message_id"], e["payload"]["status"]) for e in updates] == [(sent["id"], "sent")]


def test_a_reply_with_attachments_posts_them_a_link_with_its_url(
    client: TestClient[Any], admin: Api, receivers: Callable[..., Receiver]
) -> None:
    receiver = receivers()
    conversation_id, receiver.secret = open_conversation(admin, receiver.url)
    image = stored(client.app, AttachmentKind.IMAGE, "image/png", "receipt.png", PNG)
    brochure = link(AttachmentKind.FILE, "https://cdn.example/brochure.pdf", "brochure.pdf")

    message_id = media_reply(client.app, conversation_id, "Here", [image, brochure])
    eventually(lambda: settled(admin, conversation_id, message_id), "the delivery")

    [request] = receiver.requests
    first, second = request.payload["message"]["attachments"]
    assert {k: first[k] for k in ("kind", "mime_type", "file_name", "size", "url")} == {
        "kind": "image",
        "mime_type": "image/png",
        "file_name": "receipt.png",
        "size": len(PNG),
        "url": None,
    }
    assert (second["kind"], second["url"]) == ("file", "https://cdn.example/brochure.pdf")
    assert first["id"] < second["id"]


def test_a_failing_receiver_is_retried_with_the_same_delivery_id_until_it_accepts(
    admin: Api, receivers: Callable[..., Receiver]
) -> None:
    receiver = receivers(script=[500, 500], then=200)
    conversation_id, receiver.secret = open_conversation(admin, receiver.url)

    sent = reply(admin, conversation_id, "Third time lucky")
    message = eventually(lambda: settled(admin, conversation_id, sent["id"]), "the delivery")

    attempts = receiver.requests
    assert [r.status for r in attempts] == [500, 500, 200]
    assert {r.headers["x-frontdesk-delivery"] for r in attempts} == {str(sent["id"])}
    assert [r.headers["x-frontdesk-attempt"] for r in attempts] == ["1", "2", "3"]
    assert all(r.problem is None for r in attempts)
    assert sum(r.accepted for r in attempts) == 1
    assert (message["delivery_status"], message["delivery_attempts"]) == ("sent", 3)


@pytest.fixture
def three_attempts_admin(settings: Settings) -> Iterator[Api]:
    """An app that gives up on a delivery after three attempts."""
    app = create_app(settings.model_copy(update={"delivery_max_attempts": 3}))
    with TestClient(app) as client:
        yield Api(client, make_token(client.app.state.db, "admin"))


def test_a_receiver_that_always_fails_ends_in_failed_and_is_not_retried_after(
    three_attempts_admin: Api, receivers: Callable[..., Receiver]
) -> None:
    admin = three_attempts_admin
    receiver = receivers(then=500)
    conversation_id, receiver.secret = open_conversation(admin, receiver.url)

    sent = reply(admin, conversation_id, "Nobody home?")
    message = eventually(lambda: settled(admin, conversation_id, sent["id"]), "the delivery to fail")

    assert message["delivery_status"] == "failed"
    assert message["delivery_attempts"] == 3
    assert "HTTP 500" in message["delivery_error"]
    # Watch for more than two worker polls: a further attempt would show up here.
    watch_until = time.monotonic() + 2 * IDLE_SECONDS + 0.5
    while time.monotonic() < watch_until:
        assert len(receiver.requests) == 3
        time.sleep(0.05)
    updates = admin.events(type="message.delivery_updated")
    assert [(e["payload"]["status"], e["payload"]["attempts"]) for e in updates] == [("failed", 3)]


@pytest.fixture
def patient_admin(settings: Settings) -> Iterator[Api]:
    """An app that waits a minute for a receiver: longer than the test waits for anything."""
    app = create_app(settings.model_copy(update={"delivery_timeout_seconds": 60.0}))
    with TestClient(app) as client:
        yield Api(client, make_token(client.app.state.db, "admin"))


def test_a_slow_receiver_does_not_hold_up_another_channels_replies(
    patient_admin: Api, receivers: Callable[..., Receiver]
) -> None:
    admin = patient_admin
    release = threading.Event()
    slow, fast = receivers(gate=release), receivers()
    slow_conversation, slow.secret = open_conversation(admin, slow.url)
    fast_conversation, fast.secret = open_conversation(admin, fast.url)
    try:
        held = reply(admin, slow_conversation, "Hello, slow one")
        assert slow.holding.wait(DEADLINE_SECONDS), "the slow receiver never got its reply"

        sent = reply(admin, fast_conversation, "Hello, fast one")
        message = eventually(lambda: settled(admin, fast_conversation, sent["id"]), "the fast delivery")

        assert message["delivery_status"] == "sent"
        assert not release.is_set() and slow.requests == []  # still held while the other was delivered
    finally:
        release.set()
    slow_message = eventually(lambda: settled(admin, slow_conversation, held["id"]), "the slow delivery")
    assert slow_message["delivery_status"] == "sent"
    assert [r.payload["message"]["id"] for r in fast.requests] == [sent["id"]]


def test_thirty_concurrent_replies_are_each_accepted_exactly_once(
    admin: Api, receivers: Callable[..., Receiver]
) -> None:
    receiver = receivers()
    conversation_id, receiver.secret = open_conversation(admin, receiver.url)

    with ThreadPoolExecutor(max_workers=10) as pool:
        sent = list(pool.map(lambda n: reply(admin, conversation_id, f"reply {n}"), range(30)))
    ids = {m["id"] for m in sent}
    assert len(ids) == 30

    def all_settled() -> list[dict[str, Any]] | None:
        thread = admin.get(f"/api/v1/conversations/{conversation_id}/messages", limit=200).json()
        replies = [m for m in thread if m["id"] in ids]
        return None if any(m["delivery_status"] == "pending" for m in replies) else replies

    replies = eventually(all_settled, "thirty deliveries")
    assert len(replies) == 30
    assert {m["delivery_status"] for m in replies} == {"sent"}

    requests = receiver.requests
    assert all(r.problem is None for r in requests)
    accepted = Counter(r.payload["message"]["id"] for r in requests if r.accepted)
    assert set(accepted) == ids
    assert max(accepted.values()) == 1
    assert len(requests) == 30


def test_a_receiver_that_is_down_then_comes_up_gets_the_reply_exactly_once(
    admin: Api, receivers: Callable[..., Receiver]
) -> None:
    port = free_port()  # nobody listens here yet: connections are refused
    conversation_id, secret = open_conversation(admin, f"http://127.0.0.1:{port}/callback")

    sent = reply(admin, conversation_id, "Are you back?")

    error = eventually(lambda: message_of(admin, conversation_id, sent["id"])["delivery_error"], "a failure")
    assert "ConnectError" in error  # refused, and left pending for a retry

    receiver = receivers(port=port, secret=secret)
    message = eventually(lambda: settled(admin, conversation_id, sent["id"]), "the delivery")

    assert message["delivery_status"] == "sent"
    assert message["delivery_attempts"] >= 2
    [request] = receiver.requests
    assert request.accepted
    assert request.payload["message"]["id"] == sent["id"]
    assert request.headers["x-frontdesk-attempt"] == str(message["delivery_attempts"])
