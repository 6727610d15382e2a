"""The client address that limits against abuse count by.

Behind a reverse proxy, uvicorn rewrites the client from X-Forwarded-For only when the proxy is
trusted (FORWARDED_ALLOW_IPS, 127.0.0.1 by default); a header from anyone else is ignored, so a
client cannot pick the address it is counted under."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection


def client_address(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    return connection.client.host if connection.client else "unknown"
