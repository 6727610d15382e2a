"""The part every fake messaging provider shares: a JSON HTTP server on 127.0.0.1 that records
what it was sent and answers scripted statuses in order (then 200 for ever). Each provider's fake
says how it checks a request and what it answers (`_answer`)."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Media:
    """A file a fake provider holds for the media fetcher to download."""

    content: bytes
    mime_type: str  # what the provider says it is (a test makes it lie)
    too_big_for_bots: bool = False  # Telegram's getFile refuses it (over 20 MB)


# What a fake answers a GET: status, headers, body.
Answer = tuple[int, dict[str, str], bytes]


def json_answer(status: int, body: Any) -> Answer:
    return status, {"content-type": "application/json"}, json.dumps(body).encode()


class FakeProvider(Generic[T]):
    def __init__(self, script: Sequence[int] = ()) -> None:
        self._script = list(script)
        self._media: dict[str, Media] = {}
        self._media_script: list[int] = []
        self._media_requests: list[str] = []
        self._lock = threading.Lock()
        self._sent: list[T] = []
        # Seconds a 429 or 5xx answer asks to wait (an HTTP Retry-After header; a provider may
        # also say it in its body); None: the answer does not say.
        self.retry_after: int | None = None
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        # serve_forever checks for shutdown() every poll_interval: the default 0.5 s made each close wait ~0.25 s
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def sent(self) -> list[T]:
        with self._lock:
            return list(self._sent)

    def script(self, *statuses: int) -> None:
        with self._lock:
            self._script.extend(statuses)

    def hold(self, media_id: str, media: Media) -> None:
        """Serve `media` under `media_id` (a WhatsApp media id, a Telegram file_id)."""
        with self._lock:
            self._media[media_id] = media

    def script_media(self, *statuses: int) -> None:
        """Answer the next media look-ups with these statuses (then as usual)."""
        with self._lock:
            self._media_script.extend(statuses)

    @property
    def media_requests(self) -> list[str]:
        """The paths of every media request, in order."""
        with self._lock:
            return list(self._media_requests)

    def _media_look_up(self, path: str, media_id: str) -> tuple[int | None, Media | None]:
        """Record a media request: its scripted status (None: none scripted) and what `media_id` holds."""
        with self._lock:
            self._media_requests.append(path)
            return (self._media_script.pop(0) if self._media_script else None), self._media.get(media_id)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, path: str, headers: Message, raw: bytes) -> tuple[int, dict[str, Any]]:
        raise NotImplementedError

    def _answer_get(self, path: str, headers: Message) -> Answer:
        """The media endpoints of a provider that has them."""
        return 404, {"content-type": "application/json"}, b'{"error": "no such endpoint"}'

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length", "0")))
                self._reply(*fake._answer(self.path, self.headers, raw))

            def _reply(self, status: int, answer: dict[str, Any]) -> None:
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                if fake.retry_after is not None and (status == 429 or status >= 500):
                    self.send_header("retry-after", str(fake.retry_after))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                status, extra, body = fake._answer_get(self.path, self.headers)
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


@dataclass(frozen=True)
class FormFile:
    """A file part of a multipart body, as it arrived."""

    file_name: str | None
    content_type: str
    content: bytes


def multipart(headers: Message, raw: bytes) -> tuple[dict[str, str], dict[str, FormFile]] | None:
    """The text fields and the files of a `multipart/form-data` body (None when it is not one)."""
    content_type = headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        return None
    parsed = BytesParser(policy=HTTP).parsebytes(f"content-type: {content_type}\r\n\r\n".encode() + raw)
    fields: dict[str, str] = {}
    files: dict[str, FormFile] = {}
    for part in parsed.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if not isinstance(name, str) or not isinstance(payload, bytes):
            continue
        if part.get_filename() is None:
            fields[name] = payload.decode()
        else:
            files[name] = FormFile(part.get_filename(), part.get_content_type(), payload)
    return fields, files
