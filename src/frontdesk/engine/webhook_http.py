"""The webhook sender's HTTP/1.1 client: a POST on a kept-alive connection, the status, the
headers and at most the first `limit` bytes of the answer.

Written for the sender's hot path, where a subscriber that is behind gets one POST after another:
httpx's AsyncClient spent about 1.4 ms of CPU per POST on this machine against 26 µs for a plain
asyncio stream to the same receiver (3,000 POSTs each, docs/benchmarks.md, issue 16), and the
sender shares its process with the engine. Only what a delivery needs: no redirects (a 3xx is an
answer like any other), no compression, no proxies. Connections are kept per address, port and
TLS server name, so a connection verified for one host name never carries another's deliveries.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from dataclasses import dataclass

import httpx

MAX_HEAD = 64 * 1024  # a status line and headers longer than this are refused
_NO_BODY = frozenset({204, 304})
Key = tuple[str, str, int, str | None]  # scheme, address, port, TLS server name


class ConnectError(Exception):
    """The connection could not be opened."""


class ReadError(Exception):
    """The connection broke before the whole answer's head came."""


class RemoteProtocolError(Exception):
    """What came back is not an HTTP/1.1 answer."""


ERRORS = (ConnectError, ReadError, RemoteProtocolError)


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]  # names in lower case
    excerpt: bytes  # at most `limit` bytes of the body


@dataclass
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    def usable(self) -> bool:
        return not self.reader.at_eof() and not self.writer.is_closing()

    def close(self) -> None:
        self.writer.close()


class Connections:
    """Idle connections by destination, for the running event loop (they belong to it)."""

    def __init__(self, tls: Callable[[], ssl.SSLContext]) -> None:
        self._tls = tls
        self._idle: dict[Key, list[_Connection]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    async def post(
        self, url: httpx.URL, headers: dict[str, str], content: bytes, server_name: str | None, limit: int
    ) -> Reply:
        """POST `content` to `url` (its host is the address to connect to; a `host` header keeps
        the name). A kept-alive connection the other end closed meanwhile is replaced once: a
        delivery may then arrive twice, which at-least-once allows (the same webhook-id)."""
        key: Key = (url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80), server_name)
        request = _request(url, headers, content)
        connection = self._take(key)
        if connection is not None:
            try:
                return await self._exchange(key, connection, request, limit)
            except (ReadError, ConnectionError):
                pass  # closed while idle: once more on a new connection
        return await self._exchange(key, await self._open(key), request, limit)

    async def close(self) -> None:
        idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()

    def _take(self, key: Key) -> _Connection | None:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._idle, self._loop = {}, loop
        idle = self._idle.get(key, [])
        while idle:
            connection = idle.pop()
            if connection.usable():
                return connection
            connection.close()
        return None

    async def _open(self, key: Key) -> _Connection:
        scheme, host, port, server_name = key
        tls = self._tls() if scheme == "https" else None
        try:
            reader, writer = await asyncio.open_connection(
                host, port, ssl=tls, server_hostname=(server_name or host) if tls else None, limit=MAX_HEAD
            )
        except (OSError, ssl.SSLError) as exc:
            raise ConnectError(str(exc) or type(exc).__name__) from None
        return _Connection(reader, writer)

    async def _exchange(self, key: Key, connection: _Connection, request: bytes, limit: int) -> Reply:
        """Send, read the answer; the connection goes back to the idle ones only if it was read whole."""
        kept = False
        try:
            connection.writer.write(request)
            reply, kept = await _read(connection.reader, limit)
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            raise ReadError(str(exc) or "the connection closed") from None
        except (asyncio.LimitOverrunError, ValueError) as exc:
            raise RemoteProtocolError(str(exc)) from None
        finally:
            if kept:
                self._idle.setdefault(key, []).append(connection)
            else:
                connection.close()
        return reply


def _request(url: httpx.URL, headers: dict[str, str], content: bytes) -> bytes:
    lines = [f"POST {url.raw_path.decode('ascii')} HTTP/1.1"]
    names = {name.lower() for name in headers}
    if "host" not in names:
        lines.append(f"host: {url.netloc.decode('ascii')}")
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines += ["user-agent: Frontdesk-Webhooks", f"content-length: {len(content)}", "", ""]
    return "\r\n".join(lines).encode("latin-1") + content


async def _read(reader: asyncio.StreamReader, limit: int) -> tuple[Reply, bool]:
    """The answer, and whether the connection may carry the next request."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    version, status_text = head[0].split(" ", 2)[:2]
    if not version.startswith("HTTP/1."):
        raise ValueError(f"not an HTTP/1 answer: {head[0][:80]!r}")
    status = int(status_text)
    headers = {}
    for line in head[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    reusable = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
    if status in _NO_BODY or 100 <= status < 200:
        return Reply(status, headers, b""), reusable
    if "chunked" in headers.get("transfer-encoding", "").lower():
        excerpt, whole = await _chunks(reader, limit)
        return Reply(status, headers, excerpt), reusable and whole
    if "content-length" in headers:
        length = int(headers["content-length"])
        excerpt = await reader.readexactly(min(length, limit))
        return Reply(status, headers, excerpt), reusable and length <= limit
    return Reply(status, headers, await _up_to(reader, limit)), False  # the body ends when the connection does


async def _chunks(reader: asyncio.StreamReader, limit: int) -> tuple[bytes, bool]:
    """A chunked body up to `limit` bytes; True when it was read to its end (trailers included)."""
    body = b""
    while len(body) < limit:
        size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0].strip(), 16)
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers
                pass
            return body, True
        body += await reader.readexactly(size)
        await reader.readexactly(2)
    return body[:limit], False


async def _up_to(reader: asyncio.StreamReader, limit: int) -> bytes:
    body = b""
    while len(body) < limit:
        chunk = await reader.read(limit - len(body))
        if not chunk:
            break
        body += chunk
    return body
