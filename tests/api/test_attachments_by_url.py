"""Attachments the API fetches from a URL: through the HTTP step's private-address guard, held to
the size limit while they stream, and nothing stored when the fetch fails."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from litestar.testing import TestClient

from frontdesk.server import create_app
from frontdesk.settings import Settings
from tests.api.test_attachments import HTML, PNG, open_conversation, stored_files
from tests.factories import Api, make_token

BIG = b"%PDF-1.4 " + b"x" * 4000


class Files(BaseHTTPRequestHandler):
    """A small file server on 127.0.0.1: /receipt.png, /page (HTML), /big.pdf streamed in chunks
    without a length, anything else 404."""

    def do_GET(self) -> None:
        if self.path == "/big.pdf":
            self.send_response(200)
            self.send_header("Content-Type", "application/pdf")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for start in range(0, len(BIG), 500):
                chunk = BIG[start : start + 500]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
            return
        found = {"/receipt.png": (PNG, "image/png"), "/page": (HTML, "text/html")}.get(self.path)
        if found is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", found[1])
        self.send_header("Content-Length", str(len(found[0])))
        self.end_headers()
        self.wfile.write(found[0])

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def files() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Files)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _api(settings: Settings, **changes: object) -> Iterator[Api]:
    with TestClient(create_app(settings.model_copy(update=changes))) as client:
        yield Api(client, make_token(client.app.state.db, "admin"))


@pytest.fixture
def trusting(settings: Settings) -> Iterator[Api]:
    """Private addresses allowed (as on-premise setups and these tests need), a 1000-byte limit."""
    yield from _api(settings, http_allow_private=True, media_max_bytes=1000)


@pytest.fixture
def guarded(settings: Settings) -> Iterator[Api]:
    yield from _api(settings)


def reply(api: Api, conversation_id: int, *attachments: dict[str, str]) -> tuple[int, dict[str, object]]:
    response = api.post(
        f"/api/v1/conversations/{conversation_id}/messages", {"text": "", "attachments": list(attachments)}
    )
    return response.status_code, response.json()


def test_a_file_at_a_url_is_fetched_stored_and_attached(trusting: Api, files: str) -> None:
    conversation = open_conversation(trusting)

    status, message = reply(trusting, conversation, {"url": f"{files}/receipt.png"})

    assert status == 201, message
    (attachment,) = message["attachments"]  # type: ignore[misc]
    assert (attachment["kind"], attachment["mime_type"], attachment["file_name"]) == (
        "image",
        "image/png",
        "receipt.png",
    )
    assert trusting.get(attachment["url"]).content == PNG


def test_a_given_file_name_is_kept_and_markup_stays_a_download(trusting: Api, files: str) -> None:
    conversation = open_conversation(trusting)

    status, message = reply(trusting, conversation, {"url": f"{files}/page", "file_name": "terms.html"})

    assert status == 201, message
    (attachment,) = message["attachments"]  # type: ignore[misc]
    assert (attachment["mime_type"], attachment["file_name"]) == ("text/html", "terms.html")
    assert trusting.get(attachment["url"]).headers["content-disposition"].startswith("attachment;")


def test_a_private_address_is_refused_by_the_guard_naming_the_url(guarded: Api, files: str, settings: Settings) -> None:
    conversation = open_conversation(guarded)

    status, error = reply(guarded, conversation, {"url": f"{files}/receipt.png"})

    assert status == 422, error
    assert error["field"] == "attachments[0].url"
    assert "private, loopback or reserved" in str(error["detail"])
    assert stored_files(Path(settings.media_dir)) == []
    assert len(guarded.get(f"/api/v1/conversations/{conversation}/messages").json()) == 1


def test_a_missing_file_names_the_url_and_the_answer(trusting: Api, files: str, settings: Settings) -> None:
    conversation = open_conversation(trusting)

    status, error = reply(trusting, conversation, {"url": f"{files}/receipt.png"}, {"url": f"{files}/gone"})

    assert status == 422, error
    assert error["field"] == "attachments[1].url"
    assert "127.0.0.1 answered HTTP 404" in str(error["detail"])
    assert stored_files(Path(settings.media_dir)) == []  # not even the file that was fetched
    assert len(trusting.get(f"/api/v1/conversations/{conversation}/messages").json()) == 1


def test_a_file_that_grows_past_the_limit_while_streaming_is_refused(
    trusting: Api, files: str, settings: Settings
) -> None:
    conversation = open_conversation(trusting)

    status, error = reply(trusting, conversation, {"url": f"{files}/big.pdf"})

    assert status == 413, error
    assert error["field"] == "attachments[0].url"
    assert "attachments[0].url: larger than 1000 bytes" in str(error["detail"])
    assert not any(p.read_bytes().startswith(b"%PDF") for p in stored_files(Path(settings.media_dir)))
