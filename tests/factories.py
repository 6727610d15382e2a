"""Small builders for test data, through the same actions and API a user goes through."""

from __future__ import annotations

import asyncio
import itertools
import json
import tempfile
import time
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
from litestar.testing import TestClient

from frontdesk.actions.agents import create_agent
from frontdesk.actions.tokens import create_token
from frontdesk.domain.model import SYSTEM, Availability, Role
from frontdesk.store.database import Database
from tests.databases import Databases

_ids = itertools.count(1)
T = TypeVar("T")


def query(db: Database, sql: str) -> list[tuple[Any, ...]]:
    """The rows of a read-only statement, as tuples (what a test checks the store wrote)."""
    return db.read_sync(lambda conn: [tuple(row) for row in conn.exec_driver_sql(sql)])


def eventually(probe: Callable[[], T | None], what: str, seconds: float = 20.0) -> T:
    """Poll until `probe` returns something truthy; fail naming `what` after the deadline."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on its own loop in its own thread: the session's Playwright keeps a loop
    running in the main thread, where asyncio.run() would refuse."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@contextmanager
def fresh_database(template: Databases) -> Iterator[Database]:
    """A started Database of its own, migrated (for property tests: one per example)."""
    with tempfile.TemporaryDirectory() as folder:
        url = template.new(Path(folder))
        db = Database(url)
        db.start()
        try:
            yield db
        finally:
            db.close()
            template.drop(url)


def make_token(db: Database, role: str, agent_id: int | None = None) -> str:
    return db.write_sync(lambda c: create_token(c, f"test {role}", Role(role), agent_id))


def make_agent(db: Database, role: str = "agent", **overrides: Any) -> int:
    n = next(_ids)
    values: dict[str, Any] = {
        "name": f"Agent {n}",
        "email": f"agent{n}@example.test",
        "role": Role(role),
        "availability": Availability.ONLINE,
    }
    values.update(overrides)
    return db.write_sync(lambda c: create_agent(c, SYSTEM, **values))


class Api:
    """A TestClient that sends one token with every request."""

    def __init__(self, client: TestClient, token: str) -> None:  # type: ignore[type-arg]
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    @property
    def db(self) -> Database:
        db: Database = self.client.app.state.db
        return db

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.client.get(path, params=params, headers=self.headers)

    def post(self, path: str, body: Any = None) -> httpx.Response:
        return self.client.post(path, json=body, headers=self.headers)

    def patch(self, path: str, body: Any) -> httpx.Response:
        return self.client.patch(path, json=body, headers=self.headers)

    def put(self, path: str, body: Any = None) -> httpx.Response:
        return self.client.put(path, json=body, headers=self.headers)

    def delete(self, path: str) -> httpx.Response:
        return self.client.delete(path, headers=self.headers)

    def raw(self, method: str, path: str, content: bytes, headers: dict[str, str]) -> httpx.Response:
        return self.client.request(method, path, content=content, headers={**self.headers, **headers})

    # -- domain shortcuts ----------------------------------------------------------------
    def channel(self, callback_url: str | None = None) -> dict[str, Any]:
        response = self.post("/api/v1/channels", {"type": "api", "name": "Test", "callback_url": callback_url})
        assert response.status_code == 201, response.text
        return dict(response.json())

    def inbound(
        self,
        channel_id: int,
        external_id: str,
        text: str = "hello",
        message_id: str | None = None,
        **contact: Any,
    ) -> httpx.Response:
        body = {
            "contact": {"external_id": external_id, **contact},
            "message": {"id": message_id or f"msg-{next(_ids)}", "text": text},
        }
        return self.post(f"/api/v1/channels/{channel_id}/inbound", body)

    def events(self, **params: Any) -> list[dict[str, Any]]:
        response = self.get("/api/v1/events", limit=200, **params)
        assert response.status_code == 200, response.text
        return list(response.json()["events"])


def dumps(body: Any) -> bytes:
    return json.dumps(body).encode()
