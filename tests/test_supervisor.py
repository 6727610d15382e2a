"""`frontdesk serve --processes N --workers M`: a supervisor runs N servers on one port and M workers,
relays every process's commit wakes to the others, replaces what dies and stops them all."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from frontdesk.web.live import KEEPALIVE_SECONDS
from tests.conftest import FRONTDESK, ROOT, LiveServer, alive, descendants, free_port, listening_pids
from tests.factories import eventually
from tests.web.support import say, web_session


def _children(server: LiveServer, kind: str) -> list[int]:
    """The supervisor's `server-process` or `worker` children (`--part\0webhooks`: the sender's)."""
    assert server.process is not None
    return descendants(server.process.pid, kind)


def _pids_answering(server: LiveServer, connections: int) -> set[int]:
    """Which processes answer `connections` fresh connections (each its own client)."""
    pids = set()
    for _ in range(connections):
        response = httpx.get(f"{server.base_url}/healthz", timeout=30)
        assert response.status_code == 200, response.text
        pids.add(int(response.json()["pid"]))
    return pids


def test_a_killed_server_process_is_replaced_and_no_connection_is_refused(db_url: str, tmp_path: Path) -> None:
    server = LiveServer(db_url, tmp_path / "server.log", args=("--processes", "2"))
    server.start()
    try:
        first = _children(server, "server-process")
        assert len(first) == 2
        os.kill(first[0], signal.SIGKILL)

        answered = _pids_answering(server, 40)  # connections meant for the dead one wait for its successor
        deadline = time.monotonic() + 30
        while len(_children(server, "server-process")) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        now = set(_children(server, "server-process"))
    finally:
        server.stop()

    assert first[0] not in answered
    assert len(now) == 2
    assert first[0] not in now


def test_the_inbox_stream_on_one_server_wakes_on_what_the_worker_wrote(db_url: str, tmp_path: Path) -> None:
    """Unwoken, a stream reads the log only after its keepalive wait: a read timeout shorter than
    that fails the test unless the supervisor relayed the worker's commit to the stream's server."""
    server = LiveServer(db_url, tmp_path / "server.log", args=("--processes", "2"))
    server.start()
    try:
        with web_session(server, server.email, server.password) as session:
            patience = httpx.Timeout(20, read=KEEPALIVE_SECONDS * 2 / 3)
            with session.stream("GET", "/inbox/stream", timeout=patience) as stream:
                lines = stream.iter_lines()
                assert next(line for line in lines if line.startswith("event:")) == "event: ready"
                say(server, "ada", "m1", "Hello!")
                kinds = _changes_until(lines, "message.sent")  # the demo workflow's greeting, by the worker
    finally:
        server.stop()
    assert "message.sent" in kinds


def _changes_until(lines: object, wanted: str) -> list[str]:
    seen: list[str] = []
    kind = ""
    for line in lines:  # type: ignore[attr-defined]
        if line.startswith("event:"):
            kind = line[6:].strip()
        elif line.startswith("data:") and kind == "change":
            seen += [e["type"] for e in json.loads(line[5:])]
            if wanted in seen:
                return seen
    raise AssertionError(f"the stream ended before {wanted}")


def test_stopping_the_supervisor_stops_every_process(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two servers, two engine workers and the webhook sender's worker. And every server process
    listens on the SMTP receiver's port (SO_REUSEPORT), no worker does."""
    smtp_port = free_port()
    monkeypatch.setenv("FRONTDESK_SMTP_PORT", str(smtp_port))
    server = LiveServer(db_url, tmp_path / "server.log", args=("--processes", "2", "--workers", "2"))
    server.start()
    assert server.process is not None
    try:
        servers = _children(server, "server-process")
        children = servers + _children(server, "worker")
        engines, senders = _children(server, "--part\0engine"), _children(server, "--part\0webhooks")
        listening = eventually(lambda: listening_pids(smtp_port) == set(servers) or None, "both servers on SMTP")
    finally:
        server.process.terminate()
        returncode = server.process.wait(30)

    assert (len(servers), len(engines), len(senders), len(children)) == (2, 2, 1, 5)
    assert listening
    assert returncode == 0
    assert not [pid for pid in children if alive(pid)]


def test_a_supervisor_killed_takes_its_servers_and_workers_with_it(db_url: str, tmp_path: Path) -> None:
    server = LiveServer(db_url, tmp_path / "server.log", args=("--processes", "2"))
    server.start()
    children = _children(server, "server-process") + _children(server, "worker")
    assert len(children) == 4  # two servers, the engine's worker and the webhook sender's

    server.kill()  # SIGKILL: the children see their wake sockets close
    deadline = time.monotonic() + 30
    while [pid for pid in children if alive(pid)] and time.monotonic() < deadline:
        time.sleep(0.1)

    assert not [pid for pid in children if alive(pid)]


def _serve(db_url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "FRONTDESK_DATABASE_URL": db_url, **env}
    return subprocess.run(
        [str(FRONTDESK), "serve", *args], env=environ, cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def test_a_bad_number_of_processes_is_refused_naming_the_option(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'never.db'}"

    for option in ("--processes", "--workers"):
        done = _serve(url, option, "-1")
        assert done.returncode == 2
        assert option in done.stderr
    assert not (tmp_path / "never.db").exists()


def test_several_processes_refuse_an_engine_inline_or_a_database_in_memory(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'never.db'}"

    inline = _serve(url, "--processes", "2", FRONTDESK_WORKER="inline")
    in_memory = _serve("sqlite://", "--workers", "2")

    assert (inline.returncode, in_memory.returncode) == (2, 2)
    assert "FRONTDESK_WORKER" in inline.stderr
    assert "FRONTDESK_DATABASE_URL" in in_memory.stderr
    assert not (tmp_path / "never.db").exists()


def test_a_port_already_taken_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    """SO_REUSEPORT alone would let a second `serve` of the same user share the port silently."""
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        done = _serve(f"sqlite:///{tmp_path / 'never.db'}", "--processes", "2", "--port", str(port))

    assert done.returncode == 1
    assert f"--host/--port 127.0.0.1:{port}" in done.stderr
    assert not (tmp_path / "never.db").exists()
