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


class FakeProvider(Generic[T]):
    def __init__(self, script: Sequence[int] = ()) -> None:
        self._script = list(script)
        self._lock = threading.Lock()
        self._sent: list[T] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

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

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, path: str, headers: Message, raw: bytes) -> tuple[int, dict[str, Any]]:
        raise NotImplementedError

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length", "0")))
                status, answer = fake._answer(self.path, self.headers, raw)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

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
