"""Prometheus metrics (docs/operations.md lists each): what the processes count, and the backlog
read from the database at each scrape.

Counted by each process as it goes: requests and their latency (`RequestMetrics`),
and what each writer batch committed (`Database.on_batch`): its size, its wait for the writers'
turn, and the tallies its writes made (`store.database.tally`: inbound messages by channel type,
delivery and outgoing webhook attempts by outcome) — counted once committed, so a write rolled back counts nothing.

Several processes (the server and its worker, `serve --processes N`): `frontdesk serve` points
`PROMETHEUS_MULTIPROC_DIR` at a fresh folder before any of them starts, each writes its figures
there, and whichever server answers a scrape adds them up (prometheus-client's multiprocess mode).

Read at each scrape, the same whichever process answers: engine workers alive, events the engine
has not processed and the age of the oldest, due timers, waiting runs by kind, each team's queue
and its longest wait, deliveries pending (`store.sql.health.backlog`).
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, cast

from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from frontdesk.store.database import Batch, Database
from frontdesk.store.sql.health import Backlog

if TYPE_CHECKING:  # only the web server's middleware needs them: a worker starts without Litestar
    from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4  # the text format every Prometheus reads
PREFIX = "frontdesk"

REQUESTS = Counter(
    f"{PREFIX}_http_requests", "Requests answered, by route template and status", ["method", "path", "status"]
)
LATENCY = Histogram(
    f"{PREFIX}_http_request_duration_seconds",
    "Time to answer a request (a stream: until it ends), by route template",
    ["method", "path"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
INBOUND = Counter(f"{PREFIX}_inbound_messages", "Contacts' messages stored, by channel type", ["channel"])
DELIVERIES = Counter(
    f"{PREFIX}_delivery_attempts", "Outbound delivery attempts recorded, by outcome (sent, retry, failed)", ["outcome"]
)
BATCH_JOBS = Histogram(
    f"{PREFIX}_writer_batch_jobs",
    "Writes committed together by one writer batch",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
)
TURN_WAIT = Histogram(
    f"{PREFIX}_writer_turn_wait_seconds",
    "Time a writer batch waited for the writers' turn (the lock of ADR 0008)",
    buckets=(0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0),
)
BESIDE = Counter(
    f"{PREFIX}_writer_beside_batches",
    "Batches of ingest run beside the other writers, without the turn (PostgreSQL, ADR 0008), by outcome:"
    " committed, or retried in the turn",
    ["outcome"],
)
WEBHOOKS = Counter(
    f"{PREFIX}_webhook_attempts", "Outgoing event webhook attempts, by outcome (delivered: a 2xx; failed)", ["outcome"]
)
_COUNTERS = {"inbound": INBOUND, "delivery": DELIVERIES, "webhook": WEBHOOKS}


class RequestMetrics:
    """Counts each request and times it, labelled by its route's template (`/api/v1/conversations/
    {conversation_id}`, not each id). A paths no route serves is not counted (its 404 costs nothing
    here). Litestar's own Prometheus middleware cost ~100 µs a request; this one, a few: the
    labelled children are looked up once and kept."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._counted: dict[tuple[str, str, int], Counter] = {}
        self._timed: dict[tuple[str, str], Histogram] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind: str = scope["type"]  # a str enum: compared as text, so that importing this needs no Litestar
        if kind != "http":
            await self.app(scope, receive, send)
            return
        request = cast("HTTPScope", scope)
        started, status = time.perf_counter(), 500  # what an exception past every handler becomes

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            self._record(request["method"], request.get("path_template", "?"), status, time.perf_counter() - started)

    def _record(self, method: str, path: str, status: int, seconds: float) -> None:
        counter = self._counted.get((method, path, status))
        if counter is None:
            counter = self._counted[(method, path, status)] = REQUESTS.labels(method, path, str(status))
        timer = self._timed.get((method, path))
        if timer is None:
            timer = self._timed[(method, path)] = LATENCY.labels(method, path)
        counter.inc()
        timer.observe(seconds)


def forget(pid: int | None) -> None:
    """A server process that died: its live gauges go (multiprocess mode only; counters stay)."""
    if pid is not None and os.environ.get(MULTIPROCESS_DIR):
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


def watch(db: Database) -> None:
    """Count what `db`'s writer commits (in its thread, after each batch)."""
    db.on_batch(_observe)


def _observe(batch: Batch) -> None:
    BATCH_JOBS.observe(batch.jobs)
    TURN_WAIT.observe(batch.turn_wait)
    if batch.beside:
        BESIDE.labels(batch.beside).inc()
    for (name, *labels), count in batch.tally.items():
        counter = _COUNTERS.get(name)
        if counter is not None:
            counter.labels(*labels).inc(count)


def exposition(backlog: Backlog, now: dt.datetime) -> bytes:
    """The text a scrape gets: every process's counters, and `backlog`."""
    registry = REGISTRY
    if os.environ.get(MULTIPROCESS_DIR):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    read = CollectorRegistry()
    read.register(_BacklogCollector(backlog, now))
    return generate_latest(registry) + generate_latest(read)  # two blocks of distinct metrics: one text


class _BacklogCollector(Collector):
    def __init__(self, backlog: Backlog, now: dt.datetime) -> None:
        self.backlog = backlog
        self.now = now

    def collect(self) -> Iterator[Metric]:
        found = self.backlog
        yield _gauge("engine_workers_alive", "Engine workers whose lease runs", found.workers_alive)
        yield _gauge("engine_events_behind", "Events of the log the engine has not processed yet", found.events_behind)
        yield _gauge(
            "engine_oldest_event_age_seconds",
            "How long the oldest event not yet processed has waited (0: none waits)",
            self._age(found.oldest_event),
        )
        yield _gauge("timers_due", "Waiting runs whose time has come, not resumed yet", found.timers_due)
        waiting = GaugeMetricFamily(f"{PREFIX}_runs_waiting", "Workflow runs waiting, by what for", labels=["kind"])
        for kind, count in sorted(found.runs_waiting.items()):
            waiting.add_metric([kind], count)
        yield waiting
        length = GaugeMetricFamily(f"{PREFIX}_queue_length", "Conversations queued, by team", labels=["team"])
        oldest = GaugeMetricFamily(
            f"{PREFIX}_queue_oldest_wait_seconds", "The longest wait in each team's queue (0: empty)", labels=["team"]
        )
        for queue in found.queues:
            length.add_metric([queue.team], queue.length)
            oldest.add_metric([queue.team], self._age(queue.oldest))
        yield length
        yield oldest
        yield _gauge("deliveries_pending", "Outbound messages neither sent nor failed yet", found.deliveries_pending)

    def _age(self, since: dt.datetime | None) -> float:
        return 0.0 if since is None else max((self.now - since).total_seconds(), 0.0)


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"{PREFIX}_{name}", documentation, value=value)
