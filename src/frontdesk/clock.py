"""The one place that reads the wall clock, so the domain stays pure and tests can reason."""

from __future__ import annotations

import datetime as dt


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
