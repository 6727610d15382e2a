"""The `Allow` header of OPTIONS answers, listing every method of the path.

Litestar makes the automatic OPTIONS handler with the first handler registered on a path and
never updates it: `OPTIONS /api/v1/agents/1` said `GET, OPTIONS` though PATCH is served there
too. This hook, run as each answer starts, lists the methods the path really has."""

from __future__ import annotations

from litestar import Litestar
from litestar.types import Message, Scope


async def allow_every_method(message: Message, scope: Scope) -> None:
    if message["type"] != "http.response.start" or scope.get("method") != "OPTIONS":
        return
    handler = scope.get("route_handler")
    paths = getattr(handler, "paths", None) or set()
    methods = {m for path in paths for m in Litestar.from_scope(scope).route_handler_method_map.get(path, {})}
    if not methods or not any(name.lower() == b"allow" for name, _ in message.get("headers", [])):
        return
    allow = ", ".join(sorted(methods)).encode()
    message["headers"] = [(n, v) for n, v in message["headers"] if n.lower() != b"allow"] + [(b"allow", allow)]
