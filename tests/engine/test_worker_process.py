"""`frontdesk serve` runs the engine and delivery in a worker process (ADR 0004): commits wake
the other process, a worker that dies is replaced and catches up, a worker whose server is gone
stops."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from frontdesk.web.live import KEEPALIVE_SECONDS
from tests.conftest import FRONTDESK, ROOT, LiveServer, alive, worker_pids
from tests.engine.webhook_support import WebhookReceiver
from tests.factories import eventually
from tests.web.support import api, say, web_session


def _worker(server: LiveServer, not_this: int | None = None) -> int:
    assert server.process is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = [pid for pid in worker_pids(server.process.pid) if pid != not_this]
        if found:
            return found[0]
        time.sleep(0.1)
    raise AssertionError("no worker process under the server")


def _runs(server: LiveServer, conversation_id: int) -> list[dict[str, object]]:
    with api(server) as client:
        runs = client.get("/api/v1/runs", params={"conversation_id": conversation_id}).json()
    return [r for r in runs if r["conversation_id"] == conversation_id]


def _wait_for_run(server: LiveServer, conversation_id: int) -> dict[str, object]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        runs = _runs(server, conversation_id)
        if runs:
            return runs[0]
        time.sleep(0.1)
    raise AssertionError(f"no run for conversation {conversation_id}")


def _lines_until(lines: Iterator[str], wanted: str) -> list[str]:
    """The stream's lines up to the `change` message listing a `wanted` event."""
    seen, kind = [], ""
    for line in lines:
        seen.append(line)
        if line.startswith("event:"):
            kind = line[6:].strip()
        elif line.startswith("data:") and kind == "change" and wanted in [e["type"] for e in json.loads(line[5:])]:
            return seen
    raise AssertionError(f"the stream ended before {wanted}")


def test_the_engine_runs_in_a_worker_and_the_inbox_stream_wakes_on_what_the_worker_wrote(
    live_server: LiveServer,
) -> None:
    _worker(live_server)
    with web_session(live_server, live_server.email, live_server.password) as session:
        # Unwoken, a stream reads the log only after its keepalive wait: a read timeout shorter
        # than that fails the test unless the worker's commit woke the server's stream.
        patience = httpx.Timeout(20, read=KEEPALIVE_SECONDS * 2 / 3)
        with session.stream("GET", "/inbox/stream", timeout=patience) as stream:
            lines = stream.iter_lines()
            assert next(line for line in lines if line.startswith("event:")) == "event: ready"
            conversation_id = say(live_server, "ada", "m1", "Hello!")
            _lines_until(lines, "message.sent")  # the demo workflow's greeting, written by the worker
    assert _wait_for_run(live_server, conversation_id)["status"] == "waiting"  # on the topic question


def test_the_server_takes_requests_only_once_its_worker_runs(live_server: LiveServer) -> None:
    """Until the worker's loops run, new events would only queue (a load started at once used to
    wait ~2 s for the worker's imports): the server finishes starting after the worker's ready."""
    log = live_server.log_path.read_text()
    assert "worker started" in log
    assert log.index("worker started") < log.index("Application startup complete")


def test_a_killed_worker_is_replaced_and_the_new_one_processes_what_arrived_meanwhile(
    live_server: LiveServer,
) -> None:
    first = _worker(live_server)
    os.kill(first, signal.SIGKILL)
    conversation_id = say(live_server, "bob", "b1", "Hello, are you there?")  # accepted without a worker

    second = _worker(live_server, not_this=first)
    assert second != first
    run = _wait_for_run(live_server, conversation_id)
    assert run["trigger_event_id"] is not None
    with httpx.Client(base_url=live_server.base_url, headers=live_server.headers, timeout=20) as client:
        messages = client.get(f"/api/v1/conversations/{conversation_id}/messages").json()
    assert [m["direction"] for m in messages][:2] == ["in", "out"]  # the greeting, sent once


def test_the_workers_stop_when_their_server_is_killed(live_server: LiveServer) -> None:
    assert live_server.process is not None
    workers = [_worker(live_server), *_sender(live_server)]
    live_server.kill()  # SIGKILL: the server's end of each wake socket closes with it

    deadline = time.monotonic() + 30
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(workers) == 2
    assert not [pid for pid in workers if alive(pid)]


def _logged(server: LiveServer, hook: int) -> list[object]:
    with api(server) as client:
        return [d for d in client.get(f"/api/v1/webhooks/{hook}/deliveries").json() if d["delivered"]]


def _sender(server: LiveServer, not_this: int | None = None) -> list[int]:
    """The webhook sender's worker (at most one), once it runs."""
    assert server.process is not None
    pid = server.process.pid
    return eventually(lambda: [p for p in worker_pids(pid, "webhooks") if p != not_this] or None, "the sender's worker")


def test_the_webhook_sender_runs_in_a_worker_of_its_own_replaced_when_killed(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sender is not in the engine's process (nor the server's): killed, it is replaced, the
    engine's worker runs on untouched, and what was written meanwhile is delivered."""
    monkeypatch.setenv("FRONTDESK_HTTP_ALLOW_PRIVATE", "true")  # the receiver is on 127.0.0.1
    receiver = WebhookReceiver()
    server = LiveServer(db_url, tmp_path / "server.log")
    server.start()
    try:
        engine = _worker(server)
        [sender] = _sender(server)
        with api(server) as client:
            created = client.post("/api/v1/webhooks", json={"url": receiver.url, "event_types": ["message.received"]})
        assert created.status_code == 201, created.text
        receiver.secret, hook = created.json()["secret"], created.json()["id"]
        say(server, "ada", "a1", "before")
        eventually(lambda: len(receiver.delivered()) == 1 or None, "the first delivery")
        # Recorded too: killed between its POST and that write, the sender would keep the
        # subscription leased (a minute) and the test would wait for the lease, not the restart.
        eventually(lambda: _logged(server, hook) or None, "the first delivery in the log")

        os.kill(sender, signal.SIGKILL)
        say(server, "ada", "a2", "meanwhile")
        [replaced] = _sender(server, not_this=sender)
        delivered = eventually(lambda: receiver.delivered() if len(receiver.delivered()) == 2 else None, "both")
        engines = worker_pids(server.process.pid) if server.process else []
    finally:
        server.stop()
        receiver.close()

    assert engine != sender
    assert replaced != sender
    assert engines == [engine]  # the engine's worker was not touched
    assert [d.payload["data"]["text"] for d in delivered] == ["before", "meanwhile"]
    assert all(d.verified for d in delivered)


def test_a_worker_started_by_hand_processes_what_a_server_ingested_and_stops_on_sigterm(
    db_url: str, tmp_path: Path
) -> None:
    server = LiveServer(db_url, tmp_path / "server.log", args=("--workers", "0"))  # no engine anywhere
    server.start()
    try:
        conversation_id = say(server, "ada", "a1", "Hello!")
        assert _runs(server, conversation_id) == []
        env = {**os.environ, "FRONTDESK_DATABASE_URL": db_url, "FRONTDESK_LOG_FORMAT": "json"}
        with open(tmp_path / "worker.log", "wb") as log:  # no wake link: it finds the event by its poll
            worker = subprocess.Popen([str(FRONTDESK), "worker"], stderr=log, env=env, cwd=ROOT)
        try:
            run = _wait_for_run(server, conversation_id)
        finally:
            worker.send_signal(signal.SIGTERM)
            returncode = worker.wait(30)
    finally:
        server.stop()

    assert run["status"] == "waiting"  # on the demo's topic question, after its greeting
    assert returncode == 0
    lines = [json.loads(line) for line in (tmp_path / "worker.log").read_text().splitlines()]
    assert [line["wake_link"] for line in lines if line["msg"] == "worker started"] == [False]


# What `python -m frontdesk worker --part PART` has loaded once its loops are made: run as `serve`
# starts it, with `run` replaced by a report of sys.modules (no loop starts, nothing is written).
LOADED = """
import runpy, sys
from frontdesk import worker
from frontdesk.store.database import Database

def report(settings, wake_fd, part):
    worker.loops(Database(settings.database_url), settings, part)
    watched = ("frontdesk.cli", "litestar", "frontdesk.engine.service", "frontdesk.channels")
    print(" ".join(m for m in watched if m in sys.modules))

worker.run = report
runpy.run_module("frontdesk", run_name="__main__")
"""


@pytest.mark.parametrize(
    ("part", "loaded"),
    [("webhooks", ""), ("engine", "frontdesk.engine.service frontdesk.channels")],
)
def test_a_worker_loads_its_parts_modules_and_neither_the_commands_nor_the_web_server(
    db_url: str, part: str, loaded: str
) -> None:
    """A worker started by `serve` imports what its loops run: the sender starts in about half the
    CPU of the engine's worker (neither imports every command or Litestar)."""
    found = subprocess.run(
        [str(FRONTDESK.parent / "python"), "-c", LOADED, "worker", "--part", part],
        capture_output=True,
        env={**os.environ, "FRONTDESK_DATABASE_URL": db_url},
        cwd=ROOT,
        timeout=60,
    )
    assert found.returncode == 0, found.stderr.decode()
    assert found.stdout.decode().strip() == loaded
