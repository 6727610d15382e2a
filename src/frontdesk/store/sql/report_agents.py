"""Agents' online and away time for the reports (domain/agent_time.py): each agent's presence as the
fold last saw it, and the seconds per UTC hour. Written by the consumer in the transaction that
folds the events and moves the cursor (engine/reports.py), so each change counts once."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

from sqlalchemy import Connection, select

from frontdesk.domain.agent_time import Presence, TimeKey
from frontdesk.store import rows
from frontdesk.store.tables import report_agent_presence, team_members

_SAVE = (
    "INSERT INTO report_agent_presence (agent_id, availability, since) VALUES (?, ?, ?)"
    " ON CONFLICT (agent_id) DO UPDATE SET availability = excluded.availability, since = excluded.since"
)
_ADD = (
    "INSERT INTO report_agent_time (agent_id, hour, availability, seconds) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (agent_id, hour, availability) DO UPDATE SET seconds = report_agent_time.seconds + excluded.seconds"
)


def presences(conn: Connection, agent_ids: Collection[int] | None = None) -> dict[int, Presence]:
    """The agents' presence (every agent's when `agent_ids` is None)."""
    if agent_ids is None:
        found = rows.select_all(conn, report_agent_presence, "1 = 1")
    elif not agent_ids:
        return {}
    else:
        marks = ", ".join("?" * len(agent_ids))
        found = rows.select_all(conn, report_agent_presence, f"agent_id IN ({marks})", agent_ids)
    return {row["agent_id"]: Presence(**row) for row in found}


def save_presences(conn: Connection, changed: Iterable[Presence]) -> None:
    codec = rows.dialect(conn).codec(report_agent_presence)
    params = [codec.encode(rows.fields_of(p)) for p in changed]
    rows.execute_many(conn, _SAVE, params)


def add_seconds(conn: Connection, delta: Mapping[TimeKey, int]) -> None:
    rows.execute_many(conn, _ADD, [(*key, seconds) for key, seconds in delta.items() if seconds])


def seconds_by_agent(conn: Connection, hours: range, agent_ids: Collection[int] | None) -> list[tuple[int, str, int]]:
    """(agent, availability, seconds) summed over `hours` (UTC) for `agent_ids` (None: every agent)."""
    where = "hour >= ? AND hour < ?"
    params: list[int] = [hours.start, hours.stop]
    if agent_ids is not None:
        where += f" AND agent_id IN ({', '.join('?' * len(agent_ids)) or 'NULL'})"
        params += agent_ids
    sql = (
        f"SELECT agent_id, availability, sum(seconds) FROM report_agent_time WHERE {where}"
        " GROUP BY agent_id, availability ORDER BY agent_id, availability"
    )
    return [(int(agent), str(kind), int(total)) for agent, kind, total in rows.execute(conn, sql, params)]


def members(conn: Connection, team_id: int) -> list[int]:
    """The team's agents now (a report by team shows its members' time)."""
    query = select(team_members.c.agent_id).where(team_members.c.team_id == team_id).order_by(team_members.c.agent_id)
    return [int(agent) for agent in conn.scalars(query)]
