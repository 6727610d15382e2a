"""Crash loop across processes on PostgreSQL: three `frontdesk serve` processes, each with its worker,
on one database, under a bounded load of inbound messages spread over the three. Twenty times, a
random one of the six processes is killed with SIGKILL and comes back (a server is restarted by
the test; a worker by its server). Afterwards: nothing acknowledged is lost or stored twice, no
contact has two open conversations, every run comes to rest (none failed), every reply was posted
and none again within its delivery lease, and no agent holds more open conversations than their
capacity, nor a count that disagrees with them. Each killed worker's partitions are taken over
by the live workers: the test measures how long after the kill."""

from __future__ import annotations

import os
import random
import signal
import statistics
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text

from tests.api.test_durability import get
from tests.databases import ON_POSTGRESQL
from tests.engine.test_crash_loop import (
    DELIVERY_TIMEOUT,
    Callbacks,
    Contacts,
    CrashingServer,
    _wait_gone,
    api_channel,
    check_nothing_lost_or_doubled,
    check_replies_posted_once_per_lease,
    check_runs_rest,
)

pytestmark = pytest.mark.skipif(
    not ON_POSTGRESQL, reason="the several-process layout is PostgreSQL's; SQLite's crash loop is test_crash_loop.py"
)
PROCESSES = 3
KILLS = int(os.environ.get("CRASH_KILLS", "20"))
ACKS_PER_KILL = 8


class Takeovers:
    """Watches each killed worker's partitions until live workers own them all: how long after the
    kill (its leases must run out first, `FRONTDESK_ENGINE_LEASE_SECONDS`)."""

    def __init__(self, db_url: str) -> None:
        self.engine = create_engine(db_url)
        self.watched: dict[int, float] = {}  # killed worker's pid → when
        self.seconds: list[float] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def held_by(self, pid: int) -> int:
        with self.engine.connect() as conn:
            owned = conn.execute(
                text("SELECT count(*) FROM engine_partitions WHERE owner LIKE :o"), {"o": f"%-{pid}-%"}
            )
            return int(owned.scalar_one())

    def watch(self, pid: int, killed_at: float) -> None:
        with self.lock:
            self.watched[pid] = killed_at

    def _run(self) -> None:
        while not self.stopping.wait(0.05):
            with self.lock:
                watched = dict(self.watched)
            for pid, killed_at in watched.items():
                if self.held_by(pid) == 0:
                    with self.lock:
                        del self.watched[pid]
                        self.seconds.append(time.monotonic() - killed_at)

    def wait_all(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while self.watched and time.monotonic() < deadline:
            time.sleep(0.1)
        self.stopping.set()
        self.thread.join()
        self.engine.dispose()
        assert self.watched == {}, f"partitions of killed workers never taken over: {self.watched}"


class Fleet:
    """Three servers (and so three workers) on one database, sharing one admin token."""

    def __init__(self, db_url: str, folder: Path) -> None:
        self.servers = [CrashingServer(db_url, folder / f"server-{n}.log") for n in range(PROCESSES)]
        self.token = ""
        self.kills: Counter[str] = Counter()
        self.takeovers = Takeovers(db_url)

    def start(self) -> None:
        first = self.servers[0]
        first.start()
        created = httpx.post(
            f"{first.base_url}/api/v1/tokens", json={"name": "crash", "role": "admin"}, headers=first.headers
        )
        assert created.status_code == 201, created.text
        self.token = created.json()["token"]  # a demo login revokes the previous demo token, not this one
        for server in self.servers[1:]:
            server.start()
        for server in self.servers:
            server.token = self.token

    def kill_one(self, rng: random.Random) -> None:
        server = rng.choice(self.servers)
        if rng.random() < 0.5:
            worker = server.worker()
            held = self.takeovers.held_by(worker)
            os.kill(worker, signal.SIGKILL)  # its server starts another within a second
            if held:  # a worker that held no partition yet has nothing to take over
                self.takeovers.watch(worker, time.monotonic())
            self.kills["worker"] += 1
            return
        server.kill()  # its worker sees its socket close and stops
        server.start()
        server.token = self.token
        self.kills["server"] += 1

    def stop(self) -> None:
        self.takeovers.stopping.set()
        for server in self.servers:
            server.stop()
        for server in self.servers:
            for pid in server.workers:
                _wait_gone(pid)


@pytest.fixture
def fleet(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Fleet]:
    monkeypatch.setenv("FRONTDESK_DELIVERY_TIMEOUT_SECONDS", str(DELIVERY_TIMEOUT))
    monkeypatch.setenv("FRONTDESK_DELIVERY_BACKOFF_SECONDS", "0.2")
    monkeypatch.setenv("FRONTDESK_SECRET_KEY", Fernet.generate_key().decode())  # one key for every process
    found = Fleet(db_url, tmp_path)
    found.start()
    yield found
    found.stop()


@pytest.mark.timeout(120 + 15 * KILLS)
def test_twenty_sigkills_across_three_servers_and_three_workers_lose_nothing(fleet: Fleet) -> None:
    first = fleet.servers[0]
    callbacks = Callbacks()
    channel_id = api_channel(first, callbacks, "Crash processes")

    rng = random.Random(14)
    contacts = Contacts(first, channel_id, servers=fleet.servers)
    started = time.monotonic()
    try:
        for kill in range(KILLS):
            contacts.wait_for((kill + 1) * ACKS_PER_KILL)
            fleet.kill_one(rng)
        contacts.wait_for((KILLS + 1) * ACKS_PER_KILL)
    finally:
        contacts.stop()
    print(f"\n{KILLS} kills ({dict(fleet.kills)}), {contacts.count()} acks in {time.monotonic() - started:.1f} s")

    check_nothing_lost_or_doubled(first, channel_id, contacts)
    replies = check_runs_rest(first, channel_id)

    # No agent above capacity, and each one's count agrees with the conversations they hold.
    held = Counter(c["assignee_id"] for c in get(first, "/api/v1/conversations", status="open", limit=200))
    for agent in get(first, "/api/v1/agents"):
        assert held.get(agent["id"], 0) <= agent["capacity"], agent
        assert agent["open_count"] == held.get(agent["id"], 0), agent

    repeated = check_replies_posted_once_per_lease(callbacks, replies)
    print(f"{len(replies)} replies, {repeated} posted again after a lease (a kill between send and record)")

    fleet.takeovers.wait_all(30)
    took = sorted(fleet.takeovers.seconds)
    assert took, "no killed worker held partitions"
    print(
        f"{len(took)} takeovers after a worker's SIGKILL: median {statistics.median(took):.1f} s, max {took[-1]:.1f} s"
    )
