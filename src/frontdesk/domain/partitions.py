"""The event log's partitions: a contact's events all fall in one, so whichever engine worker owns
that partition sees them in order (invariant 4) while other workers handle other contacts.

The number is fixed. Each event stores its partition when it is written and each partition keeps
its own cursor, so changing `PARTITIONS` is a migration that re-partitions both (ADR 0009).
"""

from __future__ import annotations

import math

PARTITIONS = 32


def partition_of(contact_id: int | None) -> int:
    """The partition of a contact's events; events about no contact go to partition 0."""
    return 0 if contact_id is None else contact_id % PARTITIONS


def fair_share(live_workers: int) -> int:
    """How many partitions each of `live_workers` aims to own: ceil(N / workers)."""
    return math.ceil(PARTITIONS / max(live_workers, 1))
