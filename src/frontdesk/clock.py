"""The one place that reads the wall clock, so the domain stays pure and tests can reason.

Code that limits by time (login throttling, web-chat rates, visitor token expiry) takes a
`Clock` from the app (`create_app(clock=...)`) instead of calling `now` itself, so tests move
time forward instead of sleeping."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

Clock = Callable[[], dt.datetime]


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
