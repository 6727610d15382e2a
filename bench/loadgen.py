"""An asyncio load generator. Closed loop: N connections send as fast as they are answered for D
seconds (maximum throughput). Open loop: requests are scheduled at a fixed rate and each
latency is measured from its *scheduled* send time, so a stalled server is charged for the
requests it delayed (no coordinated omission)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.rawhttp import RawPool


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


MakeRequest = Callable[[int], Request]
# (request index, wall-clock time the request was due, HTTP status, parsed JSON body or None)
OnResponse = Callable[[int, float, int, Any], None]


@dataclass
class LoadResult:
    """What one load run did; latencies in milliseconds."""

    mode: str
    duration_s: float
    sent: int = 0
    ok: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list, repr=False)
    target_rate: float | None = None
    connections: int = 0
    started_wall: float = 0.0  # time.time() when the first request was due

    @property
    def throughput(self) -> float:
        return self.ok / self.duration_s if self.duration_s > 0 else 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "connections": self.connections,
            "target_rate": self.target_rate,
            "duration_s": round(self.duration_s, 3),
            "sent": self.sent,
            "ok": self.ok,
            "errors": dict(self.errors),
            "throughput": round(self.throughput, 1),
            "latency_ms": percentiles(self.latencies_ms),
        }


def percentiles(values: list[float]) -> dict[str, float | None]:
    """p50/p95/p99/max by the nearest-rank method (no interpolation between samples)."""
    if not values:
        return {"p50": None, "p95": None, "p99": None, "max": None}
    ordered = sorted(values)

    def rank(q: float) -> float:
        index = max(0, min(len(ordered) - 1, int(-(-q * len(ordered) // 1)) - 1))
        return round(ordered[index], 3)

    return {"p50": rank(0.50), "p95": rank(0.95), "p99": rank(0.99), "max": round(ordered[-1], 3)}


class Client:
    """One HTTP client for a run: the fast raw HTTP/1.1 pool by default, httpx on request.

    httpx costs ~0.4 ms of client CPU per request, which on a 2-core machine would make the
    load generator the bottleneck; the raw pool speaks only keep-alive HTTP/1.1 with
    Content-Length bodies, which is all the servers under test need."""

    def __init__(self, base_url: str, connections: int, *, use_httpx: bool = False) -> None:
        self.use_httpx = use_httpx
        if use_httpx:
            limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
            self._httpx = httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30.0)
        else:
            self._raw = RawPool(base_url, connections, timeout=30.0)

    async def send(self, request: Request) -> tuple[int, bytes]:
        if self.use_httpx:
            response = await self._httpx.request(
                request.method, request.path, content=request.body, headers=request.headers
            )
            return response.status_code, response.content
        return await self._raw.request(request.method, request.path, request.body, request.headers)

    async def close(self) -> None:
        if self.use_httpx:
            await self._httpx.aclose()
        else:
            await self._raw.close()


async def closed_loop(
    base_url: str,
    make_request: MakeRequest,
    *,
    connections: int,
    duration: float,
    total: int | None = None,
    on_response: OnResponse | None = None,
    use_httpx: bool = False,
) -> LoadResult:
    """`connections` workers, each sending its next request as soon as the last is answered,
    for `duration` seconds or until `total` requests were sent."""
    client = Client(base_url, connections, use_httpx=use_httpx)
    result = LoadResult(mode="closed", duration_s=duration, connections=connections)
    counter = iter(range(total if total is not None else 10**12))
    start = time.perf_counter()
    deadline = start + duration
    wall_offset = time.time() - start
    result.started_wall = start + wall_offset

    async def worker() -> None:
        while time.perf_counter() < deadline:
            index = next(counter, None)
            if index is None:
                return
            sent_at = time.perf_counter()
            await _one(client, make_request(index), index, sent_at, sent_at + wall_offset, result, on_response)

    try:
        await asyncio.gather(*(worker() for _ in range(connections)))
    finally:
        await client.close()
    result.duration_s = time.perf_counter() - start
    return result


async def open_loop(
    base_url: str,
    make_request: MakeRequest,
    *,
    rate: float,
    duration: float,
    connections: int = 64,
    total: int | None = None,
    on_response: OnResponse | None = None,
    use_httpx: bool = False,
) -> LoadResult:
    """`total` requests (default rate * duration); request i is due at start + i/rate and its
    latency runs from then, not from when a connection happened to be free. `connections`
    bounds concurrency; waiting for one counts as latency."""
    client = Client(base_url, connections, use_httpx=use_httpx)
    result = LoadResult(mode="open", duration_s=duration, target_rate=rate, connections=connections)
    total = total if total is not None else round(rate * duration)
    start = time.perf_counter()
    wall_offset = time.time() - start
    result.started_wall = start + wall_offset
    tasks: set[asyncio.Task[None]] = set()
    try:
        for index in range(total):
            due = start + index / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(
                _one(client, make_request(index), index, due, due + wall_offset, result, on_response)
            )
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.gather(*tasks)
    finally:
        await client.close()
    result.duration_s = time.perf_counter() - start
    return result


async def _one(
    client: Client,
    request: Request,
    index: int,
    started: float,
    started_wall: float,
    result: LoadResult,
    on_response: OnResponse | None,
) -> None:
    result.sent += 1
    try:
        status, body = await client.send(request)
    except Exception as exc:  # a refused or reset connection is a result, not a crash of the bench
        result.errors[type(exc).__name__] += 1
        return
    result.latencies_ms.append((time.perf_counter() - started) * 1000.0)
    if status >= 400:
        result.errors[f"http_{status}"] += 1
        return
    result.ok += 1
    if on_response is not None:
        on_response(index, started_wall, status, _json(body))


def _json(body: bytes) -> Any:
    import json

    try:
        return json.loads(body) if body else None
    except ValueError:
        return None
