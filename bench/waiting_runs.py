"""Scenario 3 — waiting runs at scale: N contacts open a conversation under a workflow that greets
them and waits on `ask_question` (bench/workflows/ask-and-wait.yaml: the demo's questions with a
one-week timeout); we measure the server's memory growth, then 10% of them answer and we measure
how fast their runs resume (the next question is sent)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import uvloop

from bench import frontdesk_setup as fd
from bench.loadgen import OnResponse, closed_loop, open_loop, percentiles
from bench.scenarios import BenchConfig, into_open, new_contact, recorder, with_auth
from bench.servers import Server, start_frontdesk

WARM_UP = 200  # conversations before the memory baseline, so caches and pools are already warm
MESSAGES_PER_WAITING_RUN = 2  # the greeting and the first question


def run(config: BenchConfig, workdir: Path) -> dict[str, Any]:
    server = start_frontdesk(workdir / "s3", "frontdesk-s3", config.frontdesk_src)
    size = config.waiting_runs
    try:
        with server.api() as api:
            fd.install_workflow(api, fd.ASK_AND_WAIT_WORKFLOW)
        _open(server, config, "warm", WARM_UP)
        with server.api() as api:
            log = fd.EventLog(types=("message.sent",))
            _wait_sent(api, log, MESSAGES_PER_WAITING_RUN * WARM_UP, config.drain_timeout)
        before = server.usage()
        started = time.monotonic()
        opened = _open(server, config, "s3", size)
        with server.api() as api:
            sent = _wait_sent(api, log, MESSAGES_PER_WAITING_RUN * (WARM_UP + size), config.drain_timeout * 10)
            waiting = _count_waiting(api)
        setup_s = time.monotonic() - started
        after = server.usage()
        resume = _replies(server, config, size, log.cursor)
        return {
            "waiting_runs": size,
            "conversations_opened": len(opened),
            "runs_waiting_after_setup": waiting,
            "questions_sent": sent,
            "setup_s": round(setup_s, 1),
            "rss_before_mb": round(before.rss_mb, 1),
            "rss_after_mb": round(after.rss_mb, 1),
            "rss_growth_mb": round(after.rss_mb - before.rss_mb, 1),
            "peak_rss_mb": round(after.peak_rss_mb, 1),
            "resume": resume,
        }
    finally:
        server.stop()


def _open(server: Server, config: BenchConfig, prefix: str, count: int) -> dict[int, float]:
    opened: dict[int, float] = {}
    load = closed_loop(
        server.base_url,
        with_auth(server, new_contact(prefix)),
        connections=config.connections,
        duration=3600.0,
        total=count,
        on_response=recorder(opened),
    )
    uvloop.run(load)
    return opened


def _wait_sent(api: httpx.Client, log: fd.EventLog, expected: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log.read(api)
        if log.counts.get("message.sent", 0) >= expected:
            break
        time.sleep(0.5)
    return log.counts.get("message.sent", 0)


def _count_waiting(api: httpx.Client) -> int:
    """Waiting runs, counted by paging the runs API (200 at a time)."""
    count, before = 0, None
    while True:
        params: dict[str, Any] = {"status": "waiting", "limit": 200}
        if before is not None:
            params["before"] = before
        page = fd._ok(api.get("/api/v1/runs", params=params))
        if not page:
            return count
        count += len(page)
        before = page[-1]["id"]


def _replies(server: Server, config: BenchConfig, size: int, cursor: int) -> dict[str, Any]:
    """Every tenth contact answers the question; latency to the run's next question."""
    replied = max(1, size // 10)
    due: dict[int, float] = {}
    answer = into_open("s3", size, texts=("Billing",))

    def every_tenth(index: int) -> Any:
        return answer(index * 10)

    load = open_loop(
        server.base_url,
        with_auth(server, every_tenth),
        rate=config.reply_rate,
        duration=replied / config.reply_rate,
        total=replied,
        connections=256,
        on_response=_by_conversation(due),
    )
    result = uvloop.run(load)
    log = fd.EventLog(types=("message.received", "message.sent"), cursor=cursor)
    with server.api() as api:
        fd.wait_for(api, log, "message.sent", set(due), timeout=config.drain_timeout)
    resumed = {c: t for c, t in log.times("message.sent").items() if c in due}
    received = log.times("message.received")
    return {
        "replies": len(due),
        "rate": config.reply_rate,
        "request_latency_ms": result.summary()["latency_ms"],
        "request_errors": result.summary()["errors"],
        "resumed": len(resumed),
        "request_to_next_question_ms": percentiles([(t - due[c]) * 1000 for c, t in resumed.items()]),
        "received_to_next_question_ms": percentiles(
            [(t - received[c]) * 1000 for c, t in resumed.items() if c in received]
        ),
    }


def _by_conversation(due: dict[int, float]) -> OnResponse:
    def record(_index: int, due_wall: float, _status: int, body: Any) -> None:
        if isinstance(body, dict) and "conversation_id" in body:
            due[int(body["conversation_id"])] = due_wall

    return record
