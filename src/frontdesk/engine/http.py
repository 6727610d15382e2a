"""Performs the HTTP calls of http_request steps, outside any database transaction.

A call is claimed (leased) in the writer before it is made and its response is written after,
so a crash in between makes the call again once the lease expires — at least once, never lost.
Each request carries `Idempotency-Key: run-<id>-<step>-<visit>` so an API can drop a repeat.
Each call runs on its own (frontdesk.inflight), a few at once per host, so a slow API delays
only the runs that call it. Where a call may connect is frontdesk.destinations' to say. Named secrets
are read when a call is claimed and put in place of their marks in memory, for the call only; an
answer or an error that repeats one is recorded with the value hidden (domain/workflows/secret_refs.py).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import httpx
from sqlalchemy import Connection

from frontdesk import destinations
from frontdesk.domain.workflows import secret_refs
from frontdesk.engine.runs import VersionCache, load_run, resume
from frontdesk.inflight import Budget
from frontdesk.steps.base import HttpResult
from frontdesk.store.sql import runs
from frontdesk.store.sql.secrets import secret_values

MAX_RESPONSE_BYTES = 1_000_000
LEASE_MARGIN_SECONDS = 30
CANDIDATES = 200  # waiting calls looked at per claim, to find some whose host has room
IN_FLIGHT = 50
PER_HOST = 8


def host_of(request: dict[str, Any]) -> str:
    """The destination a call counts against: its URL's host and port."""
    try:
        return httpx.URL(request["url"]).netloc.decode("ascii")
    except (httpx.InvalidURL, KeyError, TypeError):
        return ""


def claim_calls(conn: Connection, now: dt.datetime, budget: Budget) -> list[dict[str, Any]]:
    claimed = []
    for pending in runs.calls_to_claim(conn, now, CANDIDATES):
        request = dict(pending.request)
        host = host_of(request)
        if budget.free <= 0:
            break
        if not budget.take(host):
            continue
        lease = now + dt.timedelta(seconds=float(request.get("timeout", 10)) + LEASE_MARGIN_SECONDS)
        runs.lease_call(conn, pending.run_id, lease)
        step_id = pending.step_id
        key = f"run-{pending.run_id}-{step_id}-{pending.visits.get(step_id, 0)}"
        values = secret_values(conn, secret_refs.marked(request, request.get("secrets_nonce", "")))
        call = {"run_id": pending.run_id, "step_id": step_id, "request": request, "key": key, "host": host}
        claimed.append({**call, "secrets": values})
    return claimed


def record_result(
    conn: Connection, cache: VersionCache, call: dict[str, Any], result: HttpResult, now: dt.datetime
) -> None:
    """Resume the run with the response, unless it moved on meanwhile (cancelled, say)."""
    if runs.waits_for_call(conn, call["run_id"], call["step_id"]):
        resume(conn, load_run(conn, cache, call["run_id"]), result, now)


async def perform(
    call: dict[str, Any], allow_private: bool, resolve: destinations.Resolver = destinations.system_resolver
) -> HttpResult:
    """Make the call with its secrets filled in; what comes back has their values hidden."""
    values: dict[str, str] = call.get("secrets", {})
    try:
        request = secret_refs.reveal(call["request"], call["request"].get("secrets_nonce", ""), values)
    except KeyError as missing:
        return HttpResult(None, None, f"secret {missing.args[0]!r} is not set")
    result = await _perform(request, call["key"], allow_private, resolve)
    if not values:
        return result
    return HttpResult(result.status, secret_refs.hide(result.body, values), secret_refs.hide(result.error, values))


async def _perform(
    request: dict[str, Any], key: str, allow_private: bool, resolve: destinations.Resolver
) -> HttpResult:
    try:
        destination = await destinations.pin(request["url"], allow_private, resolve)
    except destinations.Refused as exc:
        return HttpResult(None, None, str(exc))
    body = request.get("body")
    headers = httpx.Headers({"idempotency-key": key, **request.get("headers", {})})
    headers.update(destination.headers)  # the host that was checked, whatever the step says
    content = None
    if body is not None:
        content = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        headers.setdefault("content-type", "application/json" if not isinstance(body, str) else "text/plain")
    # A client per call: its pool is keyed by the address it connects to, which two hosts can share.
    try:
        async with httpx.AsyncClient(verify=destinations.tls_context(), follow_redirects=False) as client:
            response = await client.request(
                request["method"],
                destination.url,
                content=content,
                headers=headers,
                timeout=float(request.get("timeout", 10)),
                extensions=destination.extensions,
            )
    except httpx.HTTPError as exc:
        return HttpResult(None, None, f"{type(exc).__name__}: {exc}".rstrip(": "))
    raw = response.content[:MAX_RESPONSE_BYTES]
    try:
        parsed: Any = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw.decode(errors="replace")
    return HttpResult(response.status_code, parsed, None)
