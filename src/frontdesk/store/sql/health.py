"""The health check's statements, and the backlog figures the metrics endpoint reads at each scrape:
each is answered from an index (the log's per partition, the due runs', the pending messages')."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import Connection, and_, func, select, text

from frontdesk.domain.model import DeliveryStatus, RunStatus
from frontdesk.store.tables import engine_partitions, engine_workers, events, messages, queue_entries, teams
from frontdesk.store.tables import workflow_runs as runs


def ping(conn: Connection) -> None:
    conn.execute(text("SELECT 1")).scalar()


@dataclass(frozen=True)
class Queue:
    team: str
    length: int
    oldest: dt.datetime | None  # when its longest-waiting conversation was queued


@dataclass(frozen=True)
class Backlog:
    """What is waiting to be done, at one moment."""

    workers_alive: int  # engine workers whose lease runs
    events_behind: int  # events of the log no engine has processed yet
    oldest_event: dt.datetime | None  # when the oldest of them was written
    timers_due: int  # waiting runs whose time has come (timeouts, waits, queued starts)
    runs_waiting: dict[str, int] = field(default_factory=dict)  # by what they wait for
    queues: list[Queue] = field(default_factory=list)
    deliveries_pending: int = 0  # outbound messages not yet sent or failed


def workers_alive(conn: Connection, now: dt.datetime) -> int:
    return int(conn.execute(select(func.count()).where(engine_workers.c.lease_until > now)).scalar_one())


def engine_lag(conn: Connection) -> tuple[int, dt.datetime | None]:
    """How many events lie past their partition's cursor, and when the oldest was written."""
    behind = and_(events.c.partition == engine_partitions.c.partition, events.c.id > engine_partitions.c.position)
    query = select(func.count(events.c.id), func.min(events.c.created_at)).select_from(
        engine_partitions.join(events, behind)
    )
    count, oldest = conn.execute(query).one()
    return int(count), oldest


def backlog(conn: Connection, now: dt.datetime) -> Backlog:
    waiting = runs.c.status == str(RunStatus.WAITING)
    by_kind = select(runs.c.wait_kind, func.count()).where(waiting).group_by(runs.c.wait_kind)
    due = select(func.count()).where(waiting, runs.c.wait_until <= now)
    queued = (
        select(teams.c.name, func.count(queue_entries.c.id), func.min(queue_entries.c.enqueued_at))
        .select_from(teams.outerjoin(queue_entries, queue_entries.c.team_id == teams.c.id))
        .group_by(teams.c.id, teams.c.name)
        .order_by(teams.c.name)
    )
    pending = select(func.count()).where(messages.c.delivery_status == str(DeliveryStatus.PENDING))
    behind, oldest = engine_lag(conn)
    return Backlog(
        workers_alive=workers_alive(conn, now),
        events_behind=behind,
        oldest_event=oldest,
        timers_due=int(conn.execute(due).scalar_one()),
        runs_waiting={str(kind): int(n) for kind, n in conn.execute(by_kind).all()},
        queues=[Queue(name, int(n), first) for name, n, first in conn.execute(queued).all()],
        deliveries_pending=int(conn.execute(pending).scalar_one()),
    )
