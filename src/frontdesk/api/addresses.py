"""The client address that limits against abuse count by.

Behind a reverse proxy, uvicorn rewrites the client from X-Forwarded-For only when the proxy is
trusted (FORWARDED_ALLOW_IPS, 127.0.0.1 by default); a header from anyone else is ignored, so a
client cannot pick the address it is counted under."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection


def client_address(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    return connection.client.host if connection.client else "unknown"


def public_base_url(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """FRONTDESK_PUBLIC_URL, else the URL this request came to (right when nothing proxies it): the
    base of the links Frontdesk hands out (webhook URLs, CSAT survey links)."""
    configured: str | None = connection.app.state.settings.public_url
    return (configured or str(connection.base_url)).rstrip("/")
