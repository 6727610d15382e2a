"""Agents' online and away time for the reports (ADR 0010, amended): each agent's availability and
since when, folded from `agent.created` and `agent.availability_changed`, and the whole seconds
each availability lasted, per UTC hour.

Pure. Kept per UTC hour, like the conversation counters, rather than per local day: a report's days
are its span's hours (local midnight to local midnight, DST days included), so an interval is split
at the local day edges whatever FRONTDESK_TIME_ZONE is, and a change of zone needs no recount.
Seconds are whole (the epoch seconds' floor at both ends), so sums never drift between an
incremental fold and a rebuild. An older `agent.created` without `availability`: offline."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from frontdesk.domain import events as ev
from frontdesk.domain.reports import HOUR

EVENTS = frozenset({ev.AGENT_CREATED, ev.AGENT_AVAILABILITY_CHANGED})
COUNTED = ("online", "away")  # offline time is not counted

# (agent, UTC hour since the epoch, availability) -> seconds
TimeKey = tuple[int, int, str]


@dataclasses.dataclass(frozen=True, slots=True)
class Presence:
    """An agent's availability as the log last said it, and since when."""

    agent_id: int
    availability: str
    since: dt.datetime


def apply(presence: Presence | None, type_: str, payload: Mapping[str, Any], at: dt.datetime) -> Presence | None:
    """The agent's presence after one of its events (None: no event of the agent seen yet)."""
    agent = int(payload["agent_id"])
    if type_ == ev.AGENT_CREATED:
        return presence or Presence(agent, str(payload.get("availability") or "offline"), at)
    if type_ == ev.AGENT_AVAILABILITY_CHANGED:
        return Presence(agent, str(payload.get("new") or "offline"), at)
    return presence


def lasted(presence: Presence, until: dt.datetime, hours: range | None = None) -> Counter[TimeKey]:
    """The seconds `presence` lasted until `until`, per UTC hour (only within `hours` if given)."""
    found: Counter[TimeKey] = Counter()
    if presence.availability not in COUNTED:
        return found
    start, end = _second(presence.since), _second(until)
    if hours is not None:
        start, end = max(start, hours.start * HOUR), min(end, hours.stop * HOUR)
    while start < end:
        hour = start // HOUR
        piece = min(end, (hour + 1) * HOUR) - start
        found[(presence.agent_id, hour, presence.availability)] += piece
        start += piece
    return found


def _second(at: dt.datetime) -> int:
    return int(at.timestamp() // 1)


def change(before: Presence | None, after: Presence) -> Counter[TimeKey]:
    """What the hourly seconds gain when the presence moves from `before` to `after`: the interval
    `before` held, which ends when `after` starts."""
    if before is None or before == after:
        return Counter()
    return lasted(before, after.since)


def per_agent(seconds: Iterable[tuple[int, str, int]]) -> dict[int, dict[str, int]]:
    """{agent: {"online": s, "away": s}} from (agent, availability, seconds) sums."""
    found: dict[int, dict[str, int]] = {}
    for agent, availability, count in seconds:
        found.setdefault(agent, dict.fromkeys(COUNTED, 0))[availability] += count
    return found
