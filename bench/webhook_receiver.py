"""A fast receiver of outgoing webhooks on 127.0.0.1, for scenario 9: a process of its own
(`python -m bench.webhook_receiver --port P`), so its work is not the load generator's.

It answers every `POST /<name>` with 204 at once and keeps, per path, when each `webhook-id` was
first seen and how many POSTs repeated one. One POST in `--verify-every` (the first of each path
included) is verified with `standardwebhooks` against the path's secret, once the bench has sent
the secrets (`PUT /secrets` `{"/<name>": "whsec_…"}`). `GET /stats?since=T&until=U` (Unix
seconds) answers the counts as JSON: distinct ids first seen in that window, and in all.
HTTP/1.1 keep-alive, parsed by hand: the sender's cost is measured, not this server's.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import datetime as dt
import json
import time
from urllib.parse import parse_qs, urlsplit

import uvloop
from standardwebhooks import Webhook, WebhookVerificationError

NO_CONTENT = b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n"


class Tally:
    """What arrived, per path: first arrival of each id (in arrival order), repeats, verifications."""

    def __init__(self, verify_every: int) -> None:
        self.verify_every = verify_every
        self.first_seen: dict[str, dict[str, float]] = {}
        self.logged_at: dict[str, dict[str, float]] = {}  # when each event was logged (its `timestamp`)
        self.posts: dict[str, int] = {}
        self.last_post_at = 0.0
        self.secrets: dict[str, Webhook] = {}
        self.verified = 0
        self.verify_failed = 0
        self.unsigned = 0

    def record(self, path: str, headers: dict[str, str], body: bytes) -> None:
        seen = self.first_seen.setdefault(path, {})
        posts = self.posts[path] = self.posts.get(path, 0) + 1
        self.last_post_at = time.time()
        msg_id = headers.get("webhook-id")
        if msg_id is None:
            self.unsigned += 1
            return
        if msg_id not in seen:
            seen[msg_id] = time.time()
            self.logged_at.setdefault(path, {})[msg_id] = _logged_at(body)
        if posts % self.verify_every == 1 or self.verify_every == 1:
            self._verify(path, headers, body)

    def _verify(self, path: str, headers: dict[str, str], body: bytes) -> None:
        signer = self.secrets.get(path)
        if signer is None:
            return
        try:
            signer.verify(body, headers)
        except WebhookVerificationError:
            self.verify_failed += 1
        else:
            self.verified += 1

    def stats(self, since: float, until: float) -> dict[str, object]:
        paths = {}
        for path, seen in self.first_seen.items():
            times = sorted(seen.values())
            window = bisect.bisect_right(times, until) - bisect.bisect_left(times, since)
            logged = sum(since <= at <= until for at in self.logged_at.get(path, {}).values())
            paths[path] = {
                "distinct": len(seen),
                "distinct_in_window": window,
                "logged_in_window": logged,  # of the ids received so far, those logged in the window
                "posts": self.posts.get(path, 0),
                "repeats": self.posts.get(path, 0) - len(seen),
                "last_at": times[-1] if times else None,
            }
        return {
            "paths": paths,
            "distinct": sum(p["distinct"] for p in paths.values()),
            "distinct_in_window": sum(p["distinct_in_window"] for p in paths.values()),
            "posts": sum(self.posts.values()),
            "verified": self.verified,
            "verify_failed": self.verify_failed,
            "unsigned": self.unsigned,
            "last_post_at": self.last_post_at,
            "last_at": max((p["last_at"] for p in paths.values() if p["last_at"]), default=None),
        }


def _logged_at(body: bytes) -> float:
    """The event's time, from the body's `"timestamp":"…Z"` (the second key Frontdesk writes)."""
    start = body.find(b'"timestamp":"') + len(b'"timestamp":"')
    text = body[start : body.find(b'"', start)].decode().replace("Z", "+00:00")
    return dt.datetime.fromisoformat(text).timestamp()


class Connection(asyncio.Protocol):
    """One keep-alive connection: requests parsed from the buffer as they complete."""

    def __init__(self, tally: Tally) -> None:
        self.tally = tally
        self.buffer = b""
        self.transport: asyncio.WriteTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's TCP transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].decode("latin-1").split("\r\n")
            headers = {}
            for line in head[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            size = int(headers.get("content-length", "0"))
            if len(self.buffer) < end + 4 + size:
                return
            body = self.buffer[end + 4 : end + 4 + size]
            self.buffer = self.buffer[end + 4 + size :]
            method, target, _ = head[0].split(" ", 2)
            assert self.transport is not None
            self.transport.write(self._answer(method, target, headers, body))

    def _answer(self, method: str, target: str, headers: dict[str, str], body: bytes) -> bytes:
        if method == "POST":
            self.tally.record(target, headers, body)
            return NO_CONTENT
        if method == "PUT" and target == "/secrets":
            for path, secret in json.loads(body).items():
                self.tally.secrets[path] = Webhook(secret)
            return NO_CONTENT
        url = urlsplit(target)
        query = {k: float(v[0]) for k, v in parse_qs(url.query).items()}
        content = json.dumps(self.tally.stats(query.get("since", 0.0), query.get("until", 1e12))).encode()
        return b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s" % (
            len(content),
            content,
        )


async def serve(port: int, verify_every: int) -> None:
    tally = Tally(verify_every)
    server = await asyncio.get_running_loop().create_server(lambda: Connection(tally), "127.0.0.1", port)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--verify-every", type=int, default=100)
    args = parser.parse_args()
    uvloop.run(serve(args.port, args.verify_every))


if __name__ == "__main__":
    main()
