"""/metrics and /healthz: scraped after a scenario, the figures match what happened; the endpoint
answers only the metrics token; several processes' counts add up in one scrape."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient
from prometheus_client.parser import text_string_to_metric_families

from frontdesk.server import create_app
from frontdesk.settings import Settings
from tests.conftest import LiveServer
from tests.databases import ON_POSTGRESQL
from tests.factories import Api, eventually, make_token

TOKEN = "scrape-me-4f1c"
SCRAPER = {"Authorization": f"Bearer {TOKEN}"}
Figures = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def figures(text: str) -> Figures:
    """Every sample of a scrape: (name, sorted labels) → value (the process id label left out)."""
    found: Figures = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = tuple(sorted((k, v) for k, v in sample.labels.items() if k != "pid"))
            key = (sample.name, labels)
            found[key] = found.get(key, 0.0) + sample.value
    return found


def value(found: Figures, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def scraped(settings: Settings) -> Iterator[Api]:
    app = create_app(settings.model_copy(update={"metrics_token": TOKEN, "http_allow_private": True}))
    with TestClient(app) as client:
        yield Api(client, make_token(client.app.state.db, "admin"))


def scrape(api: Api) -> Figures:
    response = api.client.get("/metrics", headers=SCRAPER)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return figures(response.text)


def test_metrics_are_off_until_their_token_is_set(admin: Api) -> None:
    for headers in ({}, SCRAPER, {"Authorization": admin.headers["Authorization"]}):
        response = admin.client.get("/metrics", headers=headers)
        assert response.status_code == 401
        assert response.json()["error"] == "metrics_off"
        assert "FRONTDESK_METRICS_TOKEN" in response.json()["detail"]


def test_only_the_metrics_token_opens_them_not_an_api_token(scraped: Api) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, scraped.headers):
        response = scraped.client.get("/metrics", headers=headers)
        assert (response.status_code, response.json()["error"]) == (401, "bad_metrics_token")
    assert scraped.client.get("/metrics", headers=SCRAPER).status_code == 200


def test_inbound_messages_and_requests_are_counted_once_each(scraped: Api) -> None:
    channel = scraped.channel()["id"]
    before = scrape(scraped)

    for who, message_id in (("ada", "m1"), ("bob", "m2"), ("ada", "m3"), ("ada", "m3")):  # m3 twice: a retry
        assert scraped.inbound(channel, who, "Hello", message_id=message_id).status_code == 200
    assert scraped.inbound(channel, "cy", "").status_code == 400  # refused: nothing stored

    after = scrape(scraped)
    assert (
        value(after, "frontdesk_inbound_messages_total", channel="api")
        - value(before, "frontdesk_inbound_messages_total", channel="api")
        == 3
    )
    route = {"method": "POST", "path": "/api/v1/channels/{channel_id}/inbound"}
    answered = {
        status: value(after, "frontdesk_http_requests_total", status=status, **route)
        - value(before, "frontdesk_http_requests_total", status=status, **route)
        for status in ("200", "400")
    }
    assert answered == {"200": 4, "400": 1}
    timed = value(after, "frontdesk_http_request_duration_seconds_count", **route)
    assert timed - value(before, "frontdesk_http_request_duration_seconds_count", **route) == 5
    assert value(after, "frontdesk_writer_batch_jobs_count") > value(before, "frontdesk_writer_batch_jobs_count")
    beside = {  # PostgreSQL: ingest's batches skip the writers' turn (ADR 0008); SQLite's take it
        outcome: value(after, "frontdesk_writer_beside_batches_total", outcome=outcome)
        - value(before, "frontdesk_writer_beside_batches_total", outcome=outcome)
        for outcome in ("committed", "retried")
    }
    assert beside["retried"] == 0  # the refused message is refused beside the turn too
    assert (beside["committed"] >= 1) if ON_POSTGRESQL else (beside["committed"] == 0)


def test_the_backlog_is_read_from_the_database(scraped: Api) -> None:
    team = scraped.post("/api/v1/teams", {"name": "Billing"}).json()["id"]
    channel = scraped.channel()["id"]
    for who in ("ada", "bob"):  # nobody in the team: both wait in its queue
        conversation = scraped.inbound(channel, who, "Hello").json()["conversation_id"]
        assigned = scraped.post(f"/api/v1/conversations/{conversation}/assign", {"team_id": team})
        assert (assigned.status_code, assigned.json()["assignee_id"]) == (200, None)

    def caught_up() -> Figures | None:
        found = scrape(scraped)
        return found if value(found, "frontdesk_engine_events_behind") == 0 else None

    found = eventually(caught_up, "the engine to catch up")
    assert value(found, "frontdesk_queue_length", team="Billing") == 2
    assert value(found, "frontdesk_queue_oldest_wait_seconds", team="Billing") >= 0
    assert value(found, "frontdesk_engine_workers_alive") == 1
    assert value(found, "frontdesk_engine_oldest_event_age_seconds") == 0
    assert value(found, "frontdesk_deliveries_pending") == 0


class _Receiver(BaseHTTPRequestHandler):
    """A callback URL that takes the first reply and refuses the second (HTTP 500)."""

    answered = 0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", "0")))
        type(self).answered += 1
        self.send_response(200 if type(self).answered == 1 else 500)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), type("Receiver", (_Receiver,), {"answered": 0}))
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/callback"
    server.shutdown()
    server.server_close()


def test_delivery_attempts_are_counted_by_outcome(scraped: Api, receiver: str) -> None:
    channel = scraped.channel(receiver)["id"]
    conversation = scraped.inbound(channel, "ada", "Hello").json()["conversation_id"]
    before = scrape(scraped)

    for text in ("First", "Second"):
        assert scraped.post(f"/api/v1/conversations/{conversation}/messages", {"text": text}).status_code == 201

    def counted() -> Figures | None:
        found = scrape(scraped)
        tried = value(found, "frontdesk_delivery_attempts_total", outcome="retry") - value(
            before, "frontdesk_delivery_attempts_total", outcome="retry"
        )
        return found if tried >= 1 else None

    found = eventually(counted, "a refused delivery to be counted")
    sent = value(found, "frontdesk_delivery_attempts_total", outcome="sent") - value(
        before, "frontdesk_delivery_attempts_total", outcome="sent"
    )
    assert sent == 1
    # A scrape reads the backlog before the counters: read it again, after both attempts were counted.
    assert value(scrape(scraped), "frontdesk_deliveries_pending") == 1  # the refused one waits for its retry


def test_webhook_attempts_are_counted_by_outcome(scraped: Api, receiver: str) -> None:
    subscribed = scraped.post("/api/v1/webhooks", {"url": receiver, "event_types": ["message.received"]})
    assert subscribed.status_code == 201, subscribed.text
    before = scrape(scraped)
    channel = scraped.channel()["id"]

    for who in ("ada", "bob"):  # the receiver takes the first event and refuses the second
        assert scraped.inbound(channel, who, "Hello").status_code == 200

    def both() -> Figures | None:
        found = scrape(scraped)
        counted = {
            outcome: value(found, "frontdesk_webhook_attempts_total", outcome=outcome)
            - value(before, "frontdesk_webhook_attempts_total", outcome=outcome)
            for outcome in ("delivered", "failed")
        }
        return found if counted["failed"] >= 1 else None

    found = eventually(both, "a refused webhook to be counted")
    delivered = value(found, "frontdesk_webhook_attempts_total", outcome="delivered")
    assert delivered - value(before, "frontdesk_webhook_attempts_total", outcome="delivered") == 1


def test_healthz_says_how_the_engine_is_doing(admin: Api) -> None:
    health = admin.client.get("/healthz").json()

    assert health["status"] == "ok"
    assert health["engine"]["workers_alive"] == 1
    assert health["engine"]["events_behind"] >= 0


def test_one_scrape_adds_up_the_server_and_its_worker_process(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, receiver: str
) -> None:
    """`frontdesk serve`: inbound is counted by the server process, deliveries by the worker's."""
    monkeypatch.setenv("FRONTDESK_METRICS_TOKEN", TOKEN)
    server = LiveServer(db_url, tmp_path / "server.log")
    server.start()
    try:
        base, headers = server.base_url, server.headers
        created = httpx.post(
            f"{base}/api/v1/channels", json={"type": "api", "name": "Hook", "callback_url": receiver}, headers=headers
        )
        channel = created.json()["id"]
        inbound = {"contact": {"external_id": "ada"}, "message": {"id": "p1", "text": "Hello"}}
        conversation = httpx.post(f"{base}/api/v1/channels/{channel}/inbound", json=inbound, headers=headers).json()
        reply = {"text": "Hi Ada"}
        path = f"{base}/api/v1/conversations/{conversation['conversation_id']}/messages"
        assert httpx.post(path, json=reply, headers=headers).status_code == 201

        def both() -> Figures | None:
            found = figures(httpx.get(f"{base}/metrics", headers=SCRAPER).text)
            return found if value(found, "frontdesk_delivery_attempts_total", outcome="sent") == 1 else None

        found = eventually(both, "the worker's delivery in the server's scrape")
        assert value(found, "frontdesk_inbound_messages_total", channel="api") == 1
        assert value(found, "frontdesk_engine_workers_alive") == 1
        health = httpx.get(f"{base}/healthz").json()
        assert health["engine"]["workers_alive"] == 1
        assert json.dumps(health)  # plain JSON
    finally:
        server.stop()
