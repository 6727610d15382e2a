"""A server told to stop (SIGTERM) ends its live streams at once: an open inbox stream, web-chat
stream or long poll no longer holds the stop until uvicorn's bound cuts it."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer
from tests.web.support import web_session

CUT = "timeout graceful shutdown exceeded"  # what uvicorn logs when its bound ends a stop


def _webchat_visitor(server: LiveServer) -> tuple[str, dict[str, str]]:
    """The demo web chat's path and a visitor's headers, the visitor made by a first message."""
    channels = httpx.get(f"{server.base_url}/api/v1/channels", headers=server.headers).json()
    base = f"{server.base_url}/webchat/{next(c['id'] for c in channels if c['type'] == 'webchat')}"
    session = httpx.post(f"{base}/session", json={"name": "Ada"}).json()
    headers = {"Authorization": f"Bearer {session['token']}"}
    posted = httpx.post(f"{base}/messages", json={"id": "hello-1", "text": "Hello"}, headers=headers)
    assert posted.status_code == 200, posted.text
    return base, headers


@pytest.mark.parametrize("args", [(), ("--processes", "2")], ids=["one process", "two processes"])
def test_sigterm_stops_a_server_with_live_streams_open(db_url: str, tmp_path: Path, args: tuple[str, ...]) -> None:
    server = LiveServer(db_url, tmp_path / "server.log", args=args)
    server.start()
    assert server.process is not None
    base, visitor = _webchat_visitor(server)
    polls: list[httpx.Response] = []
    long_poll = threading.Thread(
        target=lambda: polls.append(
            httpx.get(f"{base}/messages", params={"after": 10**9, "wait": 30}, headers=visitor, timeout=60)
        )
    )
    try:
        with (
            web_session(server, server.email, server.password) as session,
            session.stream("GET", "/inbox/stream", timeout=60) as inbox,
            httpx.stream("GET", f"{base}/stream", headers=visitor, timeout=60) as webchat,
        ):
            assert next(line for line in inbox.iter_lines() if line.startswith("event:")) == "event: ready"
            assert next(webchat.iter_lines()) == "event: ready"
            long_poll.start()
            time.sleep(0.5)  # not a timing: lets the long poll reach its wait (it answers either way)
            started = time.monotonic()
            server.process.terminate()
            returncode = server.process.wait(30)
            print(f"stopped in {time.monotonic() - started:.2f} s with streams open ({args or 'one process'})")
            long_poll.join(30)
    finally:
        server.stop()

    log = server.log_path.read_text()
    assert returncode is not None
    assert CUT not in log
    assert [p.status_code for p in polls] == [200]  # the long poll answered (nothing new), was not cut
    body: dict[str, Any] = polls[0].json()
    assert body["messages"] == []
