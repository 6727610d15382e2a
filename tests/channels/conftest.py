"""Fixtures of the channel tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.channels.email_support import Sink, running_sink


@pytest.fixture
def sink() -> Iterator[Sink]:
    """An SMTP server on loopback recording what arrives: where e-mail channels' replies go."""
    yield from running_sink()
