"""A slow fake of the Graph API's media endpoints on 127.0.0.1, for scenario 7.

`GET /{version}/{media id}` with the bearer token answers Meta's media JSON (url, mime_type,
sha256, file_size) at once; `GET /file/{media id}` then trickles the bytes (a JPEG, 1 MB by
default) over several seconds, so the worker's downloads stay in flight while the bench measures.
It counts the downloads open now, begun and finished. Threads of the bench's own process: they
sleep between chunks, so they cost the load generator next to nothing."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOKEN = "bench-access-token"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"


class SlowGraph:
    """The fake, started on a free port; `stop()` closes it (downloads still trickling are cut)."""

    def __init__(self, size: int = 1024 * 1024, seconds: float = 8.0, chunks: int = 16) -> None:
        self.content = JPEG + bytes(size - len(JPEG))
        self.sha256 = hashlib.sha256(self.content).hexdigest()
        self.pause, self.chunks = seconds / chunks, chunks
        self.open = self.begun = self.finished = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="slow-graph", daemon=True)

    def start(self) -> SlowGraph:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def media_info(self, media_id: str) -> dict[str, Any]:
        url = f"{self.base_url}/file/{media_id}"
        size, sha256 = len(self.content), self.sha256
        return {
            "messaging_product": "whatsapp",
            "url": url,
            "mime_type": "image/jpeg",
            "sha256": sha256,
            "file_size": size,
            "id": media_id,
        }

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {"open": self.open, "begun": self.begun, "finished": self.finished}

    def trickle(self, write: Any) -> None:
        """Write the content in `chunks` pieces, pausing between them; count the download."""
        with self._lock:
            self.open, self.begun = self.open + 1, self.begun + 1
        try:
            step = -(-len(self.content) // self.chunks)
            for start in range(0, len(self.content), step):
                write(self.content[start : start + step])
                time.sleep(self.pause)
            with self._lock:
                self.finished += 1
        finally:
            with self._lock:
                self.open -= 1


def _handler(graph: SlowGraph) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            if self.headers.get("authorization") != f"Bearer {TOKEN}":
                return self._send(401, b'{"error":{"message":"Invalid OAuth access token","code":190}}')
            if self.path.startswith("/file/"):
                self._headers(200, "image/jpeg", len(graph.content))
                try:
                    graph.trickle(self.wfile.write)
                except OSError:  # the worker stopped meanwhile
                    self.close_connection = True
                return None
            media_id = self.path.rsplit("/", 1)[-1]
            return self._send(200, json.dumps(graph.media_info(media_id)).encode())

        def _send(self, status: int, body: bytes) -> None:
            self._headers(status, "application/json", len(body))
            self.wfile.write(body)

        def _headers(self, status: int, content_type: str, length: int) -> None:
            self.send_response(status)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(length))
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
