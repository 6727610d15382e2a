"""The reports' rollups: folded batch by batch as events come, they equal a rebuild from the whole
log, and the counters equal what the facts add up to (ADR 0010)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection

from frontdesk.domain import events as ev
from frontdesk.domain import report_figures as figures
from frontdesk.domain.report_days import by_day
from frontdesk.domain.reports import DURATIONS, NONE, Fact, Key, Metric, totals
from frontdesk.engine.reports import fold_events, rebuild, recounting
from frontdesk.store.database import Database
from frontdesk.store.sql import events, report_days, reports
from tests.databases import Databases, query
from tests.factories import fresh_database
from tests.test_cli import _run

# An hour before Europe/Paris moves its clocks forward (2026-03-29 01:00 UTC), and minutes before
# a UTC midnight: steps of up to ten hours cross hour, day and offset edges.
START = dt.datetime(2026, 3, 28, 23, 50, tzinfo=dt.UTC)
ZONE = ZoneInfo("Europe/Paris")  # the workspace's: the daily counters' days
CONVERSATIONS = [1, 2, 3]
AGENT: dict[str, Any] = {"kind": "agent", "agent_id": 7}
WORKFLOW: dict[str, Any] = {"kind": "workflow", "agent_id": None}


def _fold(conn: Connection) -> int:
    return fold_events(conn, ZONE)


def _payload(kind: str, value: int) -> tuple[str, dict[str, Any]]:
    """An event of `kind`, its payload shaped as domain/events.py declares; `value` varies it."""
    team = value % 3 or None
    agent = value % 4 or None
    made: dict[str, tuple[str, dict[str, Any]]] = {
        "open": (
            ev.CONVERSATION_OPENED,
            {"source": ("contact", "agent")[value % 2], "channel_id": value % 2 + 1, "actor": WORKFLOW},
        ),
        "assign": (
            ev.CONVERSATION_ASSIGNED,
            {
                "agent_id": agent,
                "team_id": team,
                "previous_agent_id": None,
                "strategy": "manual",
                "reason": "r",
                "actor": AGENT,
            },
        ),
        "queue": (ev.CONVERSATION_QUEUED, {"team_id": value % 2 + 1, "priority": 0, "skills": {}}),
        "unassign": (ev.CONVERSATION_UNASSIGNED, {"previous_agent_id": agent, "actor": AGENT}),
        "agent_reply": (ev.MESSAGE_SENT, {"message_id": value, "author": AGENT, "text": "hi", "quick_replies": []}),
        "workflow_reply": (
            ev.MESSAGE_SENT,
            {"message_id": value, "author": WORKFLOW, "text": "hi", "quick_replies": []},
        ),
        "close": (
            ev.CONVERSATION_CLOSED,
            {"actor": AGENT, "note": None, "category": (None, "billing", "bug")[value % 3], "assignee_id": agent},
        ),
        "reopen": (ev.CONVERSATION_REOPENED, {"actor": AGENT, "assignee_id": agent}),
        "note": (ev.NOTE_ADDED, {"message_id": value, "author": AGENT, "text": "n"}),
        "rate": (ev.CONVERSATION_RATED, _rating(value)),
    }
    return made[kind]


KINDS = [
    "open",
    "open",
    "assign",
    "queue",
    "unassign",
    "agent_reply",
    "workflow_reply",
    "close",
    "reopen",
    "note",
    "rate",
]


def _rating(value: int) -> dict[str, Any]:
    """A CSAT rating (its conversation id is not read by the fold: the event's is)."""
    team, agent = value % 3 or None, value % 4 or None
    return {"conversation_id": 0, "rating": value % 5 + 1, "agent_id": agent, "team_id": team, "channel_id": 1}


# An agent's events (the conversation's number is the agent's): created with an availability, or
# a change of it; the fold keeps each agent's presence and counts their online and away seconds.
AGENT_KINDS = ["agent_created", "availability", "availability"]
AVAILABILITIES = ("online", "away", "offline")


def _append(db: Database, kind: str, number: int, value: int, at: dt.datetime) -> None:
    """Log the event `kind` of conversation (or agent) `number` at `at`."""
    if kind in AGENT_KINDS:
        type_, payload = _agent_payload(kind, number, value)
        db.write_sync(lambda c: events.append(c, type_, payload, None, None, at))
        return
    type_, payload = _payload(kind, value)
    db.write_sync(lambda c: events.append(c, type_, payload, number, number, at))


def _agent_payload(kind: str, agent: int, value: int) -> tuple[str, dict[str, Any]]:
    availability = AVAILABILITIES[value % 3]
    if kind == "agent_created":
        return ev.AGENT_CREATED, {"agent_id": agent, "role": "agent", "availability": availability, "actor": WORKFLOW}
    old = AVAILABILITIES[(value + 1) % 3]
    return ev.AGENT_AVAILABILITY_CHANGED, {"agent_id": agent, "old": old, "new": availability, "actor": WORKFLOW}


step = st.one_of(
    st.tuples(
        st.just("event"),
        st.sampled_from(KINDS + AGENT_KINDS),
        st.sampled_from(CONVERSATIONS),
        st.integers(0, 600),  # minutes after the previous event
        st.integers(0, 11),
    ),
    st.tuples(st.just("fold"), st.integers(1, 5)),  # the consumer runs, a batch of this many events
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, max_size=40))
def test_rollups_folded_as_events_come_equal_a_rebuild(template_db: Databases, steps: list[tuple[Any, ...]]) -> None:
    with fresh_database(template_db) as db:
        _append_and_fold(db, steps)
        while db.write_sync(_fold):
            pass
        incremental = _rollups(db.url), _agent_time(db.url)
        rebuild(db, ZONE)
        assert (_rollups(db.url), _agent_time(db.url)) == incremental
        (facts, counts, days), (_, seconds) = incremental
        assert counts == sorted(_counters(facts, _ratings_by_hand(steps)))
        assert days == _days(counts, ZONE)
        assert _seconds_per_agent(seconds) == _seconds_by_hand(steps)


def _seconds_by_hand(steps: list[tuple[Any, ...]]) -> dict[tuple[int, str], int]:
    """Each agent's whole online and away seconds, replayed from the events in order, unsplit."""
    state: dict[int, tuple[str, dt.datetime]] = {}
    found: dict[tuple[int, str], int] = {}
    at = START
    for item in steps:
        if item[0] == "fold":
            continue
        _, kind, agent, minutes, value = item
        at += dt.timedelta(minutes=minutes)
        if kind not in AGENT_KINDS or (kind == "agent_created" and agent in state):
            continue
        if agent in state and state[agent][0] != "offline":
            key = (agent, state[agent][0])
            found[key] = found.get(key, 0) + int((at - state[agent][1]).total_seconds())
        state[agent] = (AVAILABILITIES[value % 3], at)
    return {key: seconds for key, seconds in found.items() if seconds}


def _seconds_per_agent(rows: Rows) -> dict[tuple[int, str], int]:
    found: dict[tuple[int, str], int] = {}
    for agent, _, availability, seconds in rows:
        key = (int(agent), str(availability))  # type: ignore[call-overload]
        found[key] = found.get(key, 0) + int(seconds)  # type: ignore[call-overload]
    return found


def _append_and_fold(db: Database, steps: list[tuple[Any, ...]]) -> None:
    at = START
    for item in steps:
        if item[0] == "fold":
            db.write_sync(lambda c, n=item[1]: fold_events(c, ZONE, n))  # type: ignore[misc]
            continue
        _, kind, conversation, minutes, value = item
        at += dt.timedelta(minutes=minutes)
        _append(db, kind, conversation, value, at)


_FACTS = (
    "SELECT conversation_id, opened_at, channel_id, source, team_id, agent_id, assigned_at, responded_at,"
    " queued_at, queue_team_id, dequeued_at, closed_at, category FROM report_conversations ORDER BY conversation_id"
)
_DAYS = (
    "SELECT metric, channel_id, team_id, agent_id, day, label, bucket, count FROM report_days"
    " ORDER BY metric, channel_id, team_id, agent_id, day, label, bucket"
)
_COUNTS = (
    "SELECT metric, hour, channel_id, team_id, agent_id, label, bucket, count FROM report_counts"
    " ORDER BY metric, hour, channel_id, team_id, agent_id, label, bucket"
)


Rows = list[tuple[object, ...]]
_PRESENCE = "SELECT agent_id, availability, since FROM report_agent_presence ORDER BY agent_id"
_SECONDS = "SELECT agent_id, hour, availability, seconds FROM report_agent_time ORDER BY agent_id, hour, availability"


def _agent_time(url: str) -> tuple[Rows, Rows]:
    return query(url, _PRESENCE), query(url, _SECONDS)


def _rollups(url: str) -> tuple[Rows, Rows, Rows]:
    return query(url, _FACTS), query(url, _COUNTS), query(url, _DAYS)


def _days(counts: Rows, zone: ZoneInfo) -> Rows:
    """What the hourly counters read back add up to per local day, by the domain's own rule."""
    hourly = {tuple(row[:-1]): int(row[-1]) for row in counts}  # type: ignore[call-overload]
    return sorted((*key, count) for key, count in by_day(hourly, zone).items() if count)  # type: ignore[arg-type]


def _counters(facts: list[tuple[object, ...]], ratings: Counter[Key] | None = None) -> list[tuple[object, ...]]:
    """What the facts read back (and the ratings, which are no fact's) add up to, by the domain's own rule."""
    built = [Fact(*(_aware(v) for v in row)) for row in facts]  # type: ignore[arg-type]
    return [(*key, count) for key, count in (totals(built) + (ratings or Counter())).items()]


def _ratings_by_hand(steps: list[tuple[Any, ...]]) -> Counter[Key]:
    """The counters of the steps' ratings: each at its hour, for the team and agent it names."""
    found: Counter[Key] = Counter()
    at = START
    for item in steps:
        if item[0] == "fold":
            continue
        _, kind, _, minutes, value = item
        at += dt.timedelta(minutes=minutes)
        if kind == "rate":
            rating = _rating(value)
            dims = (1, rating["team_id"] or NONE, rating["agent_id"] or NONE)
            found[(Metric.CSAT, int(at.timestamp()) // 3600, *dims, "", rating["rating"])] += 1
    return found


def _aware(value: object) -> object:
    """A time as the store hands it back: SQLite's naive text or PostgreSQL's aware timestamp."""
    if isinstance(value, str) and value[:2] == "20":
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def test_a_rebuild_starts_from_nothing_and_counts_each_event_once(db: Database) -> None:
    for kind, minutes in (("open", 0), ("assign", 3), ("agent_reply", 5), ("close", 60)):
        type_, payload = _payload(kind, 1)
        at = START + dt.timedelta(minutes=minutes)
        db.write_sync(lambda c, t=type_, p=payload, a=at: events.append(c, t, p, 1, 1, a))  # type: ignore[misc]
    assert rebuild(db, ZONE) == 4
    assert rebuild(db, ZONE) == 4
    opened = query(db.url, "SELECT sum(count) FROM report_counts WHERE metric = 'opened'")
    assert [tuple(int(v) for v in row) for row in opened] == [(1,)]


def test_events_before_an_open_in_the_log_count_nothing(db: Database) -> None:
    type_, payload = _payload("close", 1)
    db.write_sync(lambda c: events.append(c, type_, payload, 9, 9, START))
    while db.write_sync(_fold):
        pass
    assert query(db.url, "SELECT count(*) FROM report_conversations") == [(0,)]


def test_the_rebuild_command_folds_the_log_again_to_the_same_rollups(db: Database) -> None:
    for kind, minutes in (("open", 0), ("queue", 1), ("assign", 7), ("close", 90), ("reopen", 95)):
        type_, payload = _payload(kind, 5)
        at = START + dt.timedelta(minutes=minutes)
        db.write_sync(lambda c, t=type_, p=payload, a=at: events.append(c, t, p, 2, 2, a))  # type: ignore[misc]
    while db.write_sync(lambda c: fold_events(c, ZoneInfo("UTC"))):  # the command's zone: the default
        pass
    before = _rollups(db.url)

    result = _run(db.url, "reports", "rebuild")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "reports rebuilt from 5 events and 0 run steps"
    assert _rollups(db.url) == before


def test_a_batch_that_fails_after_folding_leaves_neither_rollups_nor_cursor_moved(db: Database) -> None:
    type_, payload = _payload("open", 1)
    db.write_sync(lambda c: events.append(c, type_, payload, 3, 3, START))

    def fold_then_crash(conn: Connection) -> None:
        assert fold_events(conn, ZONE) == 1
        raise RuntimeError("the process dies before the commit")

    with pytest.raises(RuntimeError):
        db.write_sync(fold_then_crash)
    assert _rollups(db.url) == ([], [], []) and db.read_sync(reports.position) == 0
    assert db.write_sync(_fold) == 1  # the batch is done again, once
    assert db.write_sync(_fold) == 0
    assert len(_rollups(db.url)[0]) == 1


def _log_of_many(db: Database) -> None:
    """Conversations 1-6 over two local days, with varied channels, teams, agents, sources and categories."""
    for conversation in range(1, 7):
        at = START + dt.timedelta(hours=conversation * 3)
        for kind, minutes in (("open", 0), ("queue", 1), ("assign", 4 * conversation), ("agent_reply", 30)):
            type_, payload = _payload(kind, conversation + minutes)
            moment = at + dt.timedelta(minutes=minutes)
            db.write_sync(lambda c, t=type_, p=payload, k=conversation, a=moment: events.append(c, t, p, k, k, a))  # type: ignore[misc]
        if conversation % 3:
            type_, payload = _payload("close", conversation)
            moment = at + dt.timedelta(hours=conversation)
            db.write_sync(lambda c, t=type_, p=payload, k=conversation, a=moment: events.append(c, t, p, k, k, a))  # type: ignore[misc]
    while db.write_sync(_fold):
        pass


FILTERS = [
    reports.Filters(),
    reports.Filters(team_id=1),
    reports.Filters(channel_id=2),
    reports.Filters(agent_id=3),
    reports.Filters(team_id=2, agent_id=1),
    reports.Filters(team_id=1, channel_id=1, agent_id=2),
    reports.Filters(team_id=2, channel_id=2),
]


@pytest.mark.parametrize("filters", FILTERS, ids=str)
def test_the_daily_counters_answer_every_sum_as_the_hourly_ones_do(db: Database, filters: reports.Filters) -> None:
    _log_of_many(db)
    span = figures.Span(dt.date(2026, 3, 28), dt.date(2026, 3, 31), ZONE, "day")
    ids = [NONE, 1, 2, 3]

    def both(metrics: tuple[str, ...], column: str) -> tuple[object, object]:
        hourly = db.read_sync(lambda c: reports.sums_by(c, span.hours, filters, metrics, column))
        daily = db.read_sync(lambda c: report_days.sums_by(c, span.days, filters, metrics, column, ids))
        return daily, hourly

    counted = (Metric.OPENED, Metric.CLOSED)
    days = db.read_sync(lambda c: report_days.sums_by(c, span.days, filters, counted, "day"))
    hours = db.read_sync(lambda c: reports.sums_by(c, span.hours, filters, counted, "hour"))
    assert figures.series_of_days(span, days) == figures.series(span, hours)
    assert hours, "some conversation of the log is under these filters"
    for metrics, column in (
        (counted, "channel_id"),
        (counted, "team_id"),
        (counted, "agent_id"),
        ((Metric.OPENED,), "label"),
        ((Metric.CLOSED,), "label"),
        (DURATIONS, "bucket"),
    ):
        daily, hourly = both(metrics, column)
        assert daily == hourly, (metrics, column)


NEW_YORK = ZoneInfo("America/New_York")


def test_a_change_of_time_zone_counts_the_days_again_from_the_facts(db: Database) -> None:
    _log_of_many(db)
    in_paris = _rollups(db.url)[2]

    assert db.write_sync(lambda c: fold_events(c, NEW_YORK)) == 0  # no new event: the days are counted again
    while db.read_sync(lambda c: recounting(c, NEW_YORK)):
        db.write_sync(lambda c: fold_events(c, NEW_YORK))
    _, counts, days = _rollups(db.url)

    assert days == _days(counts, NEW_YORK) != in_paris
    assert query(db.url, "SELECT time_zone, recounted_to FROM report_days_zone") == [("America/New_York", None)]
    while db.read_sync(lambda c: recounting(c, ZONE)):
        db.write_sync(_fold)
    assert _rollups(db.url)[2] == in_paris


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, max_size=30), recount=st.integers(1, 3))
def test_events_folded_while_the_days_are_counted_again_count_once(
    template_db: Databases, steps: list[tuple[Any, ...]], recount: int
) -> None:
    """A recount goes `recount` conversations per batch while events keep coming: each batch changes
    the days only of the conversations already counted again, the recount reaches the others."""
    with fresh_database(template_db) as db:
        half = len(steps) // 2
        _append_and_fold(db, steps[:half])
        while db.write_sync(_fold):
            pass
        at = START + dt.timedelta(days=2)
        for item in steps[half:]:
            if item[0] == "fold":
                db.write_sync(lambda c, n=item[1]: fold_events(c, NEW_YORK, n, recount))  # type: ignore[misc]
                continue
            _, kind, conversation, minutes, value = item
            at += dt.timedelta(minutes=minutes)
            _append(db, kind, conversation, value, at)
        while db.write_sync(lambda c: fold_events(c, NEW_YORK, 5, recount)) or db.read_sync(
            lambda c: recounting(c, NEW_YORK)
        ):
            pass
        _, counts, days = _rollups(db.url)
        assert days == _days(counts, NEW_YORK)


def test_a_worker_with_the_rollups_switched_off_runs_no_fold(db: Database, db_url: str) -> None:
    from frontdesk.engine.reports import ReportsLoop
    from frontdesk.settings import Settings
    from frontdesk.worker import loops

    def folds(**options: Any) -> int:
        return sum(isinstance(loop, ReportsLoop) for loop in loops(db, Settings(database_url=db_url, **options)))

    assert (folds(), folds(reports_rollups=False)) == (1, 0)
