"""The webhook sender's HTTP/1.1 client against a scripted server on 127.0.0.1: it keeps a
connection alive between POSTs, reads at most the excerpt of any body (length-delimited,
chunked or up to the close), replaces a kept-alive connection the server closed, and says why
when nothing sensible came back."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest

from frontdesk.destinations import tls_context
from frontdesk.engine.webhook_http import ConnectError, Connections, RemoteProtocolError, Reply
from tests.tls import Certificates, Pair

Answer = Callable[[int], bytes | None]  # request number → the raw answer (None: close without one)


async def _exchange(
    answer: Answer, posts: int, limit: int = 1024, tls: tuple[Pair, Certificates] | None = None
) -> tuple[list[Reply | Exception], list[bytes], int]:
    """POST `posts` times to a server answering `answer(n)` (over TLS with the pair's certificate,
    the client trusting the test CA only, when `tls` is given); the replies (or errors), the
    requests the server read, and how many connections it accepted."""
    requests: list[bytes] = []
    accepted = [0]

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted[0] += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
                requests.append(head + await reader.readexactly(length))
                raw = answer(len(requests))
                if raw is None:
                    break
                writer.write(raw)
                await writer.drain()
                if raw.startswith(b"HTTP/1.0"):  # its answers end with the connection
                    break
        except asyncio.IncompleteReadError:
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=tls[0].server_context() if tls else None)
    port = server.sockets[0].getsockname()[1]
    connections = Connections(tls[1].client_context if tls else tls_context)
    scheme = "https" if tls else "http"
    replies: list[Reply | Exception] = []
    async with server:
        for index in range(posts):
            url = httpx.URL(f"{scheme}://127.0.0.1:{port}/hook?n={index}")
            try:
                replies.append(await connections.post(url, {"webhook-id": f"evt_{index}"}, b'{"n": 1}', None, limit))
            except Exception as exc:  # what the sender records as the attempt's error
                replies.append(exc)
            await asyncio.sleep(0.01)  # the server's close, if any, lands before the next POST
        await connections.close()
    return replies, requests, accepted[0]


def test_posts_share_one_kept_alive_connection_and_carry_the_body_and_headers() -> None:
    replies, requests, accepted = asyncio.run(_exchange(lambda n: b"HTTP/1.1 204 No Content\r\n\r\n", 3))

    assert [r.status for r in replies if isinstance(r, Reply)] == [204, 204, 204]
    assert accepted == 1
    assert requests[1].startswith(b"POST /hook?n=1 HTTP/1.1\r\n")
    assert b"webhook-id: evt_1\r\n" in requests[1] and requests[1].endswith(b'\r\n\r\n{"n": 1}')


def test_https_posts_verify_the_receivers_certificate_and_share_one_connection(certificates: Certificates) -> None:
    ok = b"HTTP/1.1 204 No Content\r\n\r\n"
    replies, requests, accepted = asyncio.run(_exchange(lambda n: ok, 2, tls=(certificates.loopback, certificates)))

    assert [r.status for r in replies if isinstance(r, Reply)] == [204, 204]
    assert accepted == 1 and requests[0].startswith(b"POST /hook?n=0 HTTP/1.1\r\n")


@pytest.mark.parametrize("pair", ["self_signed", "elsewhere"])
def test_a_receiver_whose_certificate_is_untrusted_or_for_another_name_gets_nothing(
    certificates: Certificates, pair: str
) -> None:
    ok = b"HTTP/1.1 204 No Content\r\n\r\n"
    replies, requests, _ = asyncio.run(_exchange(lambda n: ok, 1, tls=(getattr(certificates, pair), certificates)))

    [error] = replies
    assert isinstance(error, ConnectError) and "certificate" in str(error).lower()
    assert requests == []


def test_only_the_excerpt_of_a_long_body_is_read_and_that_connection_is_not_reused() -> None:
    long = b"x" * 5000
    answer = b"HTTP/1.1 500 Oops\r\ncontent-length: %d\r\nretry-after: 7\r\n\r\n%s" % (len(long), long)
    replies, _, accepted = asyncio.run(_exchange(lambda n: answer, 2, limit=100))

    first = replies[0]
    assert isinstance(first, Reply)
    assert (first.status, first.excerpt, first.headers["retry-after"]) == (500, b"x" * 100, "7")
    assert accepted == 2


def test_a_chunked_answer_is_read_to_its_end_and_the_connection_kept() -> None:
    answer = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
    replies, _, accepted = asyncio.run(_exchange(lambda n: answer, 2))

    assert [(r.status, r.excerpt) for r in replies if isinstance(r, Reply)] == [(200, b"abcde"), (200, b"abcde")]
    assert accepted == 1


def test_an_answer_without_a_length_ends_with_the_connection() -> None:
    replies, _, accepted = asyncio.run(_exchange(lambda n: b"HTTP/1.0 200 OK\r\n\r\nfine", 2))

    assert [(r.status, r.excerpt) for r in replies if isinstance(r, Reply)] == [(200, b"fine"), (200, b"fine")]
    assert accepted == 2


def test_a_kept_alive_connection_the_server_closed_is_replaced() -> None:
    ok = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"
    # The first answer keeps the connection alive; the server drops it on the next request unanswered.
    replies, requests, accepted = asyncio.run(_exchange(lambda n: None if n == 2 else ok, 2))

    assert [r.status for r in replies if isinstance(r, Reply)] == [200, 200]
    assert accepted == 2 and len(requests) == 3  # the second POST was sent again on a new connection


@pytest.mark.parametrize("raw", [b"SSH-2.0-OpenSSH\r\n\r\n", b"HTTP/1.1 abc OK\r\n\r\n"])
def test_what_is_not_an_http_answer_is_a_protocol_error(raw: bytes) -> None:
    replies, _, _ = asyncio.run(_exchange(lambda n: raw, 1))

    assert isinstance(replies[0], RemoteProtocolError)
