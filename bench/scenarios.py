"""Scenarios 1 and 2, run against each target on a fresh server per phase: (1) new conversations
— closed-loop maximum throughput and an open-loop fixed rate, with request → assigned from the
event log on Frontdesk; (2) messages into conversations that are already open."""

from __future__ import annotations

import json
import resource
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvloop
from cryptography.fernet import Fernet

from bench import frontdesk_setup as fd
from bench import postgres
from bench.loadgen import LoadResult, MakeRequest, OnResponse, Request, closed_loop, open_loop, percentiles
from bench.servers import Server, start_baseline, start_frontdesk, start_node_red

# Frontdesk on PostgreSQL (bench/postgres.py): the options of `frontdesk serve` of each target.
ON_POSTGRES = {
    "frontdesk-pg": (),
    "frontdesk-pg-1x2": ("--processes", "1", "--workers", "2"),
    "frontdesk-pg-2x1": ("--processes", "2", "--workers", "1"),
    "frontdesk-pg-2x2": ("--processes", "2", "--workers", "2"),
}
TARGETS = ("bare", "frontdesk", "frontdesk-nowf", *ON_POSTGRES, "node-red")
WORKFLOWS_ON = ("frontdesk", *ON_POSTGRES)
INBOUND = "/api/v1/channels/1/inbound"
# One in three of each: the workflow (and the Node-RED flow) route them to Billing, Sales, Support.
TEXTS = (
    "Hello, I have a billing question about my last invoice",
    "Hi! I would like to talk to sales about your prices",
    "My app crashes when I try to log in, can you help?",
)


@dataclass
class BenchConfig:
    seconds: float = 10.0  # each closed-loop phase
    open_seconds: float = 10.0
    open_rate: float = 500.0
    connections: int = 64
    open_connections: int = 256
    s2_contacts: int = 1000
    drain_timeout: float = 120.0
    planned_rate: float = 4000.0  # requests/s the capacity of the demo teams is sized for
    queue_size: int = 10_000  # scenario 4
    waiting_runs: int = 5_000  # scenario 3 (the scale is 100,000: --waiting-runs 100000)
    reply_rate: float = 100.0  # scenario 3: well under capacity, so resume latency is not queueing
    inbox_contacts: int = 100_000  # scenario 5's data set (the issue's scale is 1,000,000: --inbox-contacts)
    inbox_iterations: int = 300  # scenario 5, in process: calls of each case
    inbox_rate: float = 20.0  # scenario 5, over HTTP: requests/s of each phase (open loop)
    inbox_seconds: float = 10.0
    inbox_db: Path | None = None  # scenario 5: build or reuse the data set there (default bench/.data/)
    inbox_rebuild: bool = False
    report_conversations: int = 1_000_000  # scenario 10's data set (built once, then reused from bench/.data/)
    report_requests: int = 200  # scenario 10: reports of each case, one after the other
    report_db: Path | None = None  # scenario 10: build or reuse the data set there
    media_images: int = 150  # scenario 7: image webhooks posted before the measure (≥ 100 stay pending for 20 s)
    frontdesk_src: Path | None = None  # a snapshot of a commit's src/ (None: the work tree)


def new_contact(prefix: str) -> MakeRequest:
    """Request i: the first message of a new contact, so it opens a conversation."""

    def make(index: int) -> Request:
        body = {
            "contact": {"external_id": f"{prefix}-{index}", "name": f"Ada Lovelace {index}"},
            "message": {"id": f"{prefix}-m{index}", "text": TEXTS[index % len(TEXTS)]},
        }
        return Request("POST", INBOUND, json.dumps(body).encode(), {"content-type": "application/json"})

    return make


def into_open(prefix: str, contacts: int, texts: tuple[str, ...] = TEXTS) -> MakeRequest:
    """Request i: a new message from contact i % contacts, whose conversation is open."""

    def make(index: int) -> Request:
        body = {
            "contact": {"external_id": f"{prefix}-{index % contacts}"},
            "message": {"id": f"{prefix}-next-{index}", "text": texts[index % len(texts)]},
        }
        return Request("POST", INBOUND, json.dumps(body).encode(), {"content-type": "application/json"})

    return make


def start(target: str, workdir: Path, config: BenchConfig | None = None) -> Server:
    if target == "bare":
        return start_baseline(workdir)
    if target == "node-red":
        return start_node_red(workdir)
    src = config.frontdesk_src if config else None
    if target in ON_POSTGRES:
        secret = {"FRONTDESK_SECRET_KEY": Fernet.generate_key().decode()}
        database = postgres.new_database()
        return start_frontdesk(workdir, target, src, database=database, settings=secret, serve_args=ON_POSTGRES[target])
    return start_frontdesk(workdir, target, src)


def prepare(target: str, server: Server, conversations: int) -> None:
    """Frontdesk: the no-waits workflow with room for every conversation, or no workflow."""
    if not target.startswith("frontdesk"):
        return
    with server.api() as api:
        if target in WORKFLOWS_ON:
            fd.install_no_waits_workflow(api)
            fd.make_room(api, conversations)
        else:
            fd.disable_workflows(api)


def with_auth(server: Server, make: MakeRequest) -> MakeRequest:
    if server.token is None:
        return make
    authorization = f"Bearer {server.token}"

    def signed(index: int) -> Request:
        request = make(index)
        return Request(request.method, request.path, request.body, {**request.headers, "authorization": authorization})

    return signed


def measured(server: Server, run: Callable[[], Coroutine[Any, Any, LoadResult]]) -> tuple[LoadResult, dict[str, Any]]:
    """Run a load against `server`; its CPU and peak memory, and the load generator's CPU."""
    server.reset_peak_memory()
    before = server.usage()
    client_before = _client_cpu()
    db_before = postgres.cpu_seconds()
    result = uvloop.run(run())
    after = server.usage()
    db_cpu = postgres.cpu_seconds() - db_before
    seconds = result.duration_s
    found = {
        "server_cpu_s": round(after.cpu_s - before.cpu_s, 2),
        "server_cpu_cores": round((after.cpu_s - before.cpu_s) / seconds, 2) if seconds else None,
        "server_peak_rss_mb": round(after.peak_rss_mb, 1),
        "loadgen_cpu_cores": round((_client_cpu() - client_before) / seconds, 2) if seconds else None,
    }
    if server.name in ON_POSTGRES:  # the database's share, beside Frontdesk's processes
        found["postgres_cpu_s"] = round(db_cpu, 2)
        found["postgres_cpu_cores"] = round(db_cpu / seconds, 2) if seconds else None
    return result, found


def _client_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def recorder(opened: dict[int, float]) -> OnResponse:
    """Remember when the request that opened each conversation was due (wall clock)."""

    def record(_index: int, due_wall: float, _status: int, body: Any) -> None:
        if isinstance(body, dict) and body.get("conversation_opened"):
            opened[int(body["conversation_id"])] = due_wall

    return record


def scenario1(target: str, config: BenchConfig, workdir: Path, mode: str) -> dict[str, Any]:
    """New conversations, closed loop (`mode` "closed") or open loop at `config.open_rate`."""
    server = start(target, workdir / f"s1-{mode}-{target}", config)
    try:
        planned = config.planned_rate * config.seconds if mode == "closed" else config.open_rate * config.open_seconds
        prepare(target, server, int(planned))
        opened: dict[int, float] = {}
        make = with_auth(server, new_contact(f"s1{mode}"))
        on_response = recorder(opened) if target in WORKFLOWS_ON else None
        if mode == "closed":
            load = closed_loop(
                server.base_url, make, connections=config.connections, duration=config.seconds, on_response=on_response
            )
        else:
            load = open_loop(
                server.base_url,
                make,
                rate=config.open_rate,
                duration=config.open_seconds,
                connections=config.open_connections,
                on_response=on_response,
            )
        result, usage = measured(server, lambda: load)
        out = {"target": target, "load": result.summary(), **usage}
        if target in WORKFLOWS_ON:
            end = result.started_wall + result.duration_s
            out["end_to_end"] = _assigned(server, opened, result.started_wall, end, config)
            out["server_peak_rss_mb"] = round(server.usage().peak_rss_mb, 1)
        return out
    finally:
        server.stop()


def _assigned(
    server: Server, opened: dict[int, float], load_start: float, load_end: float, config: BenchConfig
) -> dict[str, Any]:
    """Request → conversation.assigned, from the event log's timestamps."""
    cpu_before, db_before = server.usage().cpu_s, postgres.cpu_seconds()
    log = fd.EventLog(types=("message.received", "conversation.assigned"))
    with server.api() as api:
        waited = fd.wait_for(api, log, "conversation.assigned", set(opened), timeout=config.drain_timeout)
    assigned = {c: t for c, t in log.times("conversation.assigned").items() if c in opened}
    received = log.times("message.received")
    last = max(assigned.values(), default=load_start)
    return {
        "conversations": len(opened),
        "assigned": len(assigned),
        "throughput": round(len(assigned) / (last - load_start), 1) if assigned else 0.0,
        "engine_lag_s": round(max(0.0, last - load_end), 2),
        "drain_wait_s": round(waited, 1),
        "drain_server_cpu_s": round(server.usage().cpu_s - cpu_before, 2),
        "drain_postgres_cpu_s": round(postgres.cpu_seconds() - db_before, 2),
        "request_to_assigned_ms": percentiles([(t - opened[c]) * 1000 for c, t in assigned.items()]),
        "received_to_assigned_ms": percentiles(
            [(t - received[c]) * 1000 for c, t in assigned.items() if c in received]
        ),
    }


def scenario2(target: str, config: BenchConfig, workdir: Path) -> dict[str, Any]:
    """Messages into open conversations: `s2_contacts` contacts open one each, then write on."""
    server = start(target, workdir / f"s2-{target}", config)
    try:
        prepare(target, server, config.s2_contacts)
        opened: dict[int, float] = {}
        preload = closed_loop(
            server.base_url,
            with_auth(server, new_contact("s2")),
            connections=config.connections,
            duration=600.0,
            total=config.s2_contacts,
            on_response=recorder(opened),
        )
        uvloop.run(preload)
        if target in WORKFLOWS_ON:  # let the engine finish routing them, so only messages are measured
            with server.api() as api:
                log = fd.EventLog(types=("conversation.assigned",))
                fd.wait_for(api, log, "conversation.assigned", set(opened), timeout=config.drain_timeout)
        make = with_auth(server, into_open("s2", config.s2_contacts))
        result, usage = measured(
            server,
            lambda: closed_loop(server.base_url, make, connections=config.connections, duration=config.seconds),
        )
        return {"target": target, "preloaded_conversations": len(opened), "load": result.summary(), **usage}
    finally:
        server.stop()
