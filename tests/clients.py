"""Test clients for the limits against abuse: a clock that tests move by hand, and an in-process
client whose requests may each come from another client address."""

from __future__ import annotations

import datetime as dt
from typing import Any

from httpx import Request
from litestar.testing import TestClient
from litestar.testing.transport import TestClientTransport

from frontdesk.clock import now

ADDRESS = "X-Test-Client-Address"


class FakeClock:
    """Starts at the real time (sessions are checked against it) and moves only when told."""

    def __init__(self) -> None:
        self.moment = now()

    def __call__(self) -> dt.datetime:
        return self.moment

    def advance(self, seconds: float) -> None:
        self.moment += dt.timedelta(seconds=seconds)


class _AddressedTransport(TestClientTransport):  # type: ignore[type-arg]
    def parse_request(self, request: Request) -> dict[str, Any]:
        scope = super().parse_request(request)
        address = request.headers.get(ADDRESS)
        if address:
            scope["client"] = (address, 50000)
        return scope


class AddressedClient(TestClient):  # type: ignore[type-arg]
    """A TestClient; a request with the header X-Test-Client-Address comes from that address,
    as a proxy trusted by uvicorn would say it through X-Forwarded-For."""

    def __init__(self, app: Any) -> None:
        super().__init__(app)
        self._transport = _AddressedTransport(client=self, raise_server_exceptions=True, root_path="")

    def at(self, address: str) -> dict[str, str]:
        return {ADDRESS: address}
