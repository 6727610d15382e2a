"""The reports' model (ADR 0010): one fact per conversation folded from its events, and the
counters the facts add up to, per UTC hour and (metric, channel, team, agent, label, bucket).

Pure: the consumer (engine/reports.py) and `frontdesk reports rebuild` both fold the event log
with `apply` and keep the counters equal to the sum of `contributions` of every fact, so the
incremental rollup and the rebuilt one cannot differ. Durations are counted in fixed histogram
buckets (`BOUNDS`): p50/p90 and the share within a target read a few rows, never the facts."""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from enum import StrEnum
from typing import Any

from frontdesk.domain import events as ev

NONE = 0  # the counters' "no channel / team / agent" (a key column is never NULL: NULLs never conflict)
HOUR = 3600

# Upper bounds (seconds) of the duration buckets: a duration d falls in the first bucket whose
# bound is >= d; over the last bound, in the overflow bucket len(BOUNDS).
BOUNDS = (15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400, 172800, 604800)
OVERFLOW = len(BOUNDS)


class Metric(StrEnum):
    OPENED = "opened"  # label: the source
    CLOSED = "closed"  # label: the closing category ('' without one)
    ASSIGNMENT = "assignment"  # opened → first agent assigned
    FIRST_RESPONSE = "first_response"  # opened → first message an agent sent
    RESOLUTION = "resolution"  # opened → (last) close
    QUEUE_WAIT = "queue_wait"  # first queued → first agent assigned after it; team: the queue's
    CSAT = "csat"  # a rating of a close; bucket: the score (1-5); channel, team, agent: when rated


DURATIONS = (Metric.ASSIGNMENT, Metric.FIRST_RESPONSE, Metric.RESOLUTION, Metric.QUEUE_WAIT)
# The targets the share "within target" is counted against: bucket bounds, so the share is exact.
TARGETS = {Metric.ASSIGNMENT: 300, Metric.FIRST_RESPONSE: 900, Metric.RESOLUTION: 86400, Metric.QUEUE_WAIT: 300}
EVENTS = frozenset(
    {
        ev.CONVERSATION_OPENED,
        ev.CONVERSATION_ASSIGNED,
        ev.CONVERSATION_UNASSIGNED,
        ev.CONVERSATION_QUEUED,
        ev.CONVERSATION_CLOSED,
        ev.CONVERSATION_REOPENED,
        ev.MESSAGE_SENT,
    }
)

# (metric, hour since the epoch, channel, team, agent, label, bucket)
Key = tuple[str, int, int, int, int, str, int]


@dataclasses.dataclass(frozen=True, slots=True)
class Fact:
    """What the reports know of one conversation. Team and agent are the latest (a transfer moves
    the conversation's figures to the new ones); a reopen forgets the close until the next one."""

    conversation_id: int
    opened_at: dt.datetime
    channel_id: int = NONE
    source: str = ""
    team_id: int = NONE
    agent_id: int = NONE
    assigned_at: dt.datetime | None = None
    responded_at: dt.datetime | None = None
    queued_at: dt.datetime | None = None
    queue_team_id: int = NONE
    dequeued_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    category: str = ""


def hour_of(at: dt.datetime) -> int:
    """The UTC hour `at` falls in, counted from the epoch."""
    return int(at.timestamp()) // HOUR


def bucket_of(seconds: float) -> int:
    return bisect.bisect_left(BOUNDS, seconds)


def apply(
    fact: Fact | None, type_: str, payload: Mapping[str, Any], conversation_id: int, at: dt.datetime
) -> Fact | None:
    """The fact after one event of its conversation (None: not opened in the log, nothing known).
    Payloads are read leniently: a rebuild folds events written by every earlier version."""
    if type_ == ev.CONVERSATION_OPENED:
        return fact or Fact(conversation_id, at, payload.get("channel_id") or NONE, payload.get("source") or "")
    if fact is None:
        return None
    change = _CHANGES.get(type_)
    return fact if change is None else change(fact, payload, at)


def _assigned(fact: Fact, payload: Mapping[str, Any], at: dt.datetime) -> Fact:
    agent = payload.get("agent_id") or NONE
    team = payload.get("team_id") or fact.team_id
    if agent == NONE:  # the team's queue keeps it
        return dataclasses.replace(fact, agent_id=NONE, team_id=team)
    dequeued = fact.dequeued_at or (at if fact.queued_at is not None else None)
    return dataclasses.replace(
        fact, agent_id=agent, team_id=team, assigned_at=fact.assigned_at or at, dequeued_at=dequeued
    )


def _unassigned(fact: Fact, payload: Mapping[str, Any], at: dt.datetime) -> Fact:
    return dataclasses.replace(fact, agent_id=NONE)


def _queued(fact: Fact, payload: Mapping[str, Any], at: dt.datetime) -> Fact:
    team = payload.get("team_id") or fact.team_id
    if fact.queued_at is not None:
        return dataclasses.replace(fact, team_id=team)
    return dataclasses.replace(fact, team_id=team, queued_at=at, queue_team_id=team)


def _sent(fact: Fact, payload: Mapping[str, Any], at: dt.datetime) -> Fact:
    if fact.responded_at is not None or (payload.get("author") or {}).get("kind") != "agent":
        return fact
    return dataclasses.replace(fact, responded_at=at)


def _closed(fact: Fact, payload: Mapping[str, Any], at: dt.datetime) -> Fact:
    agent = payload.get("assignee_id") or fact.agent_id
    return dataclasses.replace(fact, closed_at=at, category=payload.get("category") or "", agent_id=agent)


def _reopened(fact: Fact, payload: Mapping[str, Any], at: dt.datetime) -> Fact:
    return dataclasses.replace(fact, closed_at=None, category="", agent_id=payload.get("assignee_id") or NONE)


_CHANGES: dict[str, Callable[[Fact, Mapping[str, Any], dt.datetime], Fact]] = {
    ev.CONVERSATION_ASSIGNED: _assigned,
    ev.CONVERSATION_UNASSIGNED: _unassigned,
    ev.CONVERSATION_QUEUED: _queued,
    ev.MESSAGE_SENT: _sent,
    ev.CONVERSATION_CLOSED: _closed,
    ev.CONVERSATION_REOPENED: _reopened,
}


def contributions(fact: Fact) -> Counter[Key]:
    """The counts one conversation adds to the counters."""
    found: Counter[Key] = Counter()
    dims = (fact.channel_id, fact.team_id, fact.agent_id)
    found[(Metric.OPENED, hour_of(fact.opened_at), *dims, fact.source, 0)] += 1
    if fact.closed_at is not None:
        found[(Metric.CLOSED, hour_of(fact.closed_at), *dims, fact.category, 0)] += 1
    for metric, end in ((Metric.ASSIGNMENT, fact.assigned_at), (Metric.FIRST_RESPONSE, fact.responded_at)):
        if end is not None:
            found[_duration(metric, fact.opened_at, end, dims)] += 1
    if fact.closed_at is not None:
        found[_duration(Metric.RESOLUTION, fact.opened_at, fact.closed_at, dims)] += 1
    if fact.queued_at is not None and fact.dequeued_at is not None:
        queue_dims = (fact.channel_id, fact.queue_team_id, fact.agent_id)
        found[_duration(Metric.QUEUE_WAIT, fact.queued_at, fact.dequeued_at, queue_dims)] += 1
    return found


def _duration(metric: Metric, start: dt.datetime, end: dt.datetime, dims: tuple[int, int, int]) -> Key:
    seconds = max((end - start).total_seconds(), 0.0)
    return (metric, hour_of(end), *dims, "", bucket_of(seconds))


def rated(payload: Mapping[str, Any], at: dt.datetime) -> Counter[Key]:
    """The counters a `conversation.rated` event adds: not a fact's contribution (a conversation may
    be rated once per close), counted for the channel, team and agent it had when rated, for good."""
    dims = (payload.get("channel_id") or NONE, payload.get("team_id") or NONE, payload.get("agent_id") or NONE)
    return Counter({(Metric.CSAT, hour_of(at), *dims, "", int(payload["rating"])): 1})


def change(before: Fact | None, after: Fact | None) -> Counter[Key]:
    """What the counters gain (positive) and lose (negative) when a fact changes."""
    delta: Counter[Key] = Counter()
    if after is not None:
        delta.update(contributions(after))
    if before is not None:
        delta.subtract(contributions(before))
    return delta


def totals(facts: Iterable[Fact]) -> Counter[Key]:
    """The counters of a set of facts, as a rebuild computes them."""
    found: Counter[Key] = Counter()
    for fact in facts:
        found.update(contributions(fact))
    return found
