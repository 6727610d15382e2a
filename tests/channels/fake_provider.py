"""The part every fake messaging provider shares: a JSON HTTP server on 127.0.0.1 that records
what it was sent and answers scripted statuses in order (then 200 for ever). Each provider's fake
says how it checks a request and what it answers (`_answer`)."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class FakeProvider(Generic[T]):
    def __init__(self, script: Sequence[int] = ()) -> None:
        self._script = list(script)
        self._lock = threading.Lock()
        self._sent: list[T] = []
        # Seconds a 429 or 5xx answer asks to wait (an HTTP Retry-After header; a provider may
        # also say it in its body); None: the answer does not say.
        self.retry_after: int | None = None
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

    def _answer_get(self, path: str, headers: Message) -> tuple[int, dict[str, Any]]:
        """A GET (an identity or media endpoint); a provider without one answers 404."""
        return 404, {"error": f"no GET endpoint at {path}"}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length", "0")))
                self._reply(*fake._answer(self.path, self.headers, raw))

            def do_GET(self) -> None:
                self._reply(*fake._answer_get(self.path, self.headers))

            def _reply(self, status: int, answer: dict[str, Any]) -> None:
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                if fake.retry_after is not None and (status == 429 or status >= 500):
                    self.send_header("retry-after", str(fake.retry_after))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
