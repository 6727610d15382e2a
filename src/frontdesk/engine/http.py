"""Performs the HTTP calls of http_request steps, outside any database transaction.

A call is claimed (leased) in the writer before it is made and its response is written after,
so a crash in between makes the call again once the lease expires — at least once, never lost.
Each request carries `Idempotency-Key: run-<id>-<step>-<visit>` so an API can drop a repeat.
Addresses are checked after name resolution: loopback, private, link-local, multicast and
reserved ranges are refused unless FRONTDESK_HTTP_ALLOW_PRIVATE is set. Named secrets are read
when a call is claimed and put in place of their marks in memory, for the call only; an answer
or an error that repeats one is recorded with the value hidden (domain/workflows/secret_refs.py).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import json
import socket
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import Connection, or_, select, update

from frontdesk.actions.named_secrets import secret_values
from frontdesk.domain.workflows import secret_refs
from frontdesk.engine.runs import VersionCache, load_run, resume
from frontdesk.steps.base import HttpResult
from frontdesk.store.tables import workflow_runs

MAX_RESPONSE_BYTES = 1_000_000
LEASE_MARGIN_SECONDS = 30


def claim_calls(conn: Connection, now: dt.datetime, limit: int = 50) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(workflow_runs.c.id, workflow_runs.c.step_id, workflow_runs.c.visits, workflow_runs.c.http_request)
        .where(
            workflow_runs.c.status == "waiting",
            workflow_runs.c.wait_kind == "http",
            or_(workflow_runs.c.lease_until.is_(None), workflow_runs.c.lease_until < now),
        )
        .order_by(workflow_runs.c.id)
        .limit(limit)
    ).all()
    claimed = []
    for row in rows:
        request = dict(row.http_request)
        lease = now + dt.timedelta(seconds=float(request.get("timeout", 10)) + LEASE_MARGIN_SECONDS)
        conn.execute(update(workflow_runs).where(workflow_runs.c.id == row.id).values(lease_until=lease))
        key = f"run-{row.id}-{row.step_id}-{row.visits.get(row.step_id, 0)}"
        values = secret_values(conn, secret_refs.marked(request, request.get("secrets_nonce", "")))
        claimed.append({"run_id": row.id, "step_id": row.step_id, "request": request, "key": key, "secrets": values})
    return claimed


def record_result(
    conn: Connection, cache: VersionCache, call: dict[str, Any], result: HttpResult, now: dt.datetime
) -> None:
    """Resume the run with the response, unless it moved on meanwhile (cancelled, say)."""
    current = conn.execute(
        select(workflow_runs.c.status, workflow_runs.c.wait_kind, workflow_runs.c.step_id).where(
            workflow_runs.c.id == call["run_id"]
        )
    ).first()
    if current is None or tuple(current) != ("waiting", "http", call["step_id"]):
        return
    resume(conn, load_run(conn, cache, call["run_id"]), result, now)


async def perform(client: httpx.AsyncClient, call: dict[str, Any], allow_private: bool) -> HttpResult:
    """Make the call with its secrets filled in; what comes back has their values hidden."""
    values: dict[str, str] = call.get("secrets", {})
    try:
        request = secret_refs.reveal(call["request"], call["request"].get("secrets_nonce", ""), values)
    except KeyError as missing:
        return HttpResult(None, None, f"secret {missing.args[0]!r} is not set")
    result = await _perform(client, request, call["key"], allow_private)
    if not values:
        return result
    return HttpResult(result.status, secret_refs.hide(result.body, values), secret_refs.hide(result.error, values))


async def _perform(client: httpx.AsyncClient, request: dict[str, Any], key: str, allow_private: bool) -> HttpResult:
    url = request["url"]
    problem = await check_destination(url, allow_private)
    if problem:
        return HttpResult(None, None, problem)
    body = request.get("body")
    headers = {"idempotency-key": key, **request.get("headers", {})}
    content = None
    if body is not None:
        content = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        headers.setdefault("content-type", "application/json" if not isinstance(body, str) else "text/plain")
    try:
        response = await client.request(
            request["method"], url, content=content, headers=headers, timeout=float(request.get("timeout", 10))
        )
    except httpx.HTTPError as exc:
        return HttpResult(None, None, f"{type(exc).__name__}: {exc}".rstrip(": "))
    raw = response.content[:MAX_RESPONSE_BYTES]
    try:
        parsed: Any = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw.decode(errors="replace")
    return HttpResult(response.status_code, parsed, None)


async def check_destination(url: str, allow_private: bool) -> str | None:
    """None when the URL may be called, else why not."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"refused {url!r}: only http(s) URLs with a host"
    if allow_private:
        return None
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
    except OSError as exc:
        return f"cannot resolve {parts.hostname}: {exc}"
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global or address.is_multicast:
            return f"refused {parts.hostname}: {address} is a private, loopback or reserved address"
    return None
