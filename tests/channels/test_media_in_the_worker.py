"""`frontdesk serve` fetches inbound media in its worker process: the server's commit of a pending
attachment wakes the worker's media fetcher, which stores the content where the server can read it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.channels.fake_provider import Media
from tests.channels.media_support import PNG, on_disk
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
from tests.databases import query
from tests.factories import eventually

IMAGE_ID = "1003383421387256"


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    fake = FakeGraph()
    yield fake
    fake.close()


@pytest.fixture
def media_dir(graph: FakeGraph, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The server (started after this fixture) reads these from its environment."""
    monkeypatch.setenv("FRONTDESK_WHATSAPP_GRAPH_BASE_URL", graph.url)
    monkeypatch.setenv("FRONTDESK_MEDIA_DIR", str(tmp_path / "media"))
    monkeypatch.setenv("FRONTDESK_WORKER", "process")
    return tmp_path / "media"


def _state(db_url: str) -> str | None:
    found = query(db_url, "SELECT state FROM attachments")
    return None if not found else str(found[0][0])


def test_the_worker_fetches_an_image_the_server_stored(
    media_dir: Path, graph: FakeGraph, live_server: LiveServer, db_url: str
) -> None:
    graph.hold(IMAGE_ID, Media(PNG, "image/png"))
    with httpx.Client(base_url=live_server.base_url, headers=live_server.headers, timeout=20) as client:
        body = {"type": "whatsapp", "name": "WhatsApp", "phone_number_id": PHONE_NUMBER_ID}
        credentials = {"access_token": ACCESS_TOKEN, "app_secret": APP_SECRET, "verify_token": VERIFY_TOKEN}
        channel = client.post("/api/v1/channels", json={**body, **credentials}).json()
        raw = json.dumps(payload("image")).encode()
        answer = client.post(f"/webhooks/whatsapp/{channel['id']}", content=raw, headers=sign(raw))
        assert answer.json() == {"messages": 1, "statuses": 0}

    assert eventually(lambda: _state(db_url) if _state(db_url) != "pending" else None, "the fetch") == "ready"
    assert on_disk(media_dir, PNG).read_bytes() == PNG
