"""Scenario 10's data set: a Frontdesk SQLite database whose reports' rollups hold 1 M conversations
over 90 days (ADR 0010's shape: the demo's channels, 5 teams, 40 agents, 4 sources, 5 categories,
durations from seconds to days), built in minutes rather than the hours ingest would take.

The schema comes from the real migrations and the organisation from the real actions
(bench/inbox_org.py). The conversations are not folded from an event log: their facts are
generated, and the counters are what the domain's own rule makes of them (`contributions` for the
hourly counters, `by_day` for the daily ones), written by direct bulk inserts through sqlite3.
So the counters equal a fold's; the cursor is put after the log's last event (the demo's), so the
server's worker has nothing to fold.

    python -m bench.report_dataset --conversations 1000000 --out bench/.data/reports-1000000.db
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench import inbox_org
from frontdesk.domain.report_days import by_day
from frontdesk.domain.reports import NONE, Fact, Key, totals

DAYS = 90
ZONE = "Europe/Paris"  # the workspace's time zone the server is started with (FRONTDESK_TIME_ZONE)
CHUNK = 100_000  # facts whose counters are summed in memory, then added to the tables
SOURCES = (("contact", 0.8), ("agent", 0.1), ("workflow", 0.05), ("api", 0.05))
CATEGORIES = ("billing", "sales", "support", "spam", "")
_STAMP = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy's SQLite DateTime stores a time (naive UTC)
_FACT_INSERT = (
    "INSERT INTO report_conversations (conversation_id, opened_at, channel_id, source, team_id, agent_id,"
    " assigned_at, responded_at, queued_at, queue_team_id, dequeued_at, closed_at, category)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
)
_HOURS_ADD = (
    "INSERT INTO report_counts (metric, hour, channel_id, team_id, agent_id, label, bucket, count)"
    " VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (metric, hour, channel_id, team_id, agent_id, label, bucket)"
    " DO UPDATE SET count = report_counts.count + excluded.count"
)
_DAYS_ADD = (
    "INSERT INTO report_days (metric, channel_id, team_id, agent_id, day, label, bucket, count)"
    " VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (metric, channel_id, team_id, agent_id, day, label, bucket)"
    " DO UPDATE SET count = report_days.count + excluded.count"
)


def _seconds(rng: random.Random, median: float) -> float:
    """A duration spread over orders of magnitude around `median` (log-normal)."""
    return rng.lognormvariate(0, 1.6) * median


def facts(
    count: int, first: dt.datetime, teams: dict[int, list[int]], channels: list[int], seed: int
) -> Iterator[Fact]:
    """`count` conversations opened evenly over DAYS days from `first`, ids 1..count in time order."""
    rng = random.Random(seed)
    team_ids = sorted(teams)
    team_weights = [(0.35, 0.2, 0.15)[k] if k < 3 else 0.3 / max(1, len(team_ids) - 3) for k in range(len(team_ids))]
    sources, source_weights = zip(*SOURCES, strict=True)
    step = DAYS * 86_400 / count
    for k in range(count):
        opened = first + dt.timedelta(seconds=k * step)
        team = rng.choices(team_ids, team_weights)[0]
        agent = rng.choice(teams[team]) if rng.random() < 0.9 else NONE
        assigned = opened + dt.timedelta(seconds=_seconds(rng, 120)) if agent != NONE else None
        queued = opened + dt.timedelta(seconds=5) if rng.random() < 0.4 else None
        responded = assigned + dt.timedelta(seconds=_seconds(rng, 300)) if assigned else None
        closed = opened + dt.timedelta(seconds=_seconds(rng, 4 * 3600)) if rng.random() < 0.85 else None
        yield Fact(
            conversation_id=k + 1,
            opened_at=opened,
            channel_id=rng.choice(channels),
            source=rng.choices(sources, source_weights)[0],
            team_id=team,
            agent_id=agent,
            assigned_at=assigned,
            responded_at=responded,
            queued_at=queued,
            queue_team_id=team if queued else NONE,
            dequeued_at=assigned if queued else None,
            closed_at=closed,
            category=rng.choice(CATEGORIES) if closed else "",
        )


def _row(fact: Fact) -> tuple[Any, ...]:
    def stamp(at: dt.datetime | None) -> str | None:
        return None if at is None else at.astimezone(dt.UTC).strftime(_STAMP)

    return (
        fact.conversation_id, stamp(fact.opened_at), fact.channel_id, fact.source, fact.team_id, fact.agent_id,
        stamp(fact.assigned_at), stamp(fact.responded_at), stamp(fact.queued_at), fact.queue_team_id,
        stamp(fact.dequeued_at), stamp(fact.closed_at), fact.category,
    )  # fmt: skip


def _add(conn: sqlite3.Connection, chunk: list[Fact], zone: ZoneInfo) -> None:
    hourly: Counter[Key] = totals(chunk)
    conn.executemany(_FACT_INSERT, map(_row, chunk))
    conn.executemany(_HOURS_ADD, ((*key, n) for key, n in hourly.items()))
    conn.executemany(_DAYS_ADD, ((*key, n) for key, n in by_day(hourly, zone).items()))
    conn.commit()


def build(path: Path, conversations: int, seed: int = 10) -> dict[str, Any]:
    """Build the data set at `path` (replaced if it exists); its manifest, also written beside it."""
    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)
    started = time.monotonic()
    org = inbox_org.create(path, extra_agents=35, extra_teams=2, rng=random.Random(seed))
    conn = sqlite3.connect(path)
    conn.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-1048576;")
    channels = [row[0] for row in conn.execute("SELECT id FROM channels ORDER BY id")]
    zone = ZoneInfo(ZONE)
    last = dt.datetime.now(zone).date() - dt.timedelta(days=1)  # the data end yesterday, in the zone
    first = last - dt.timedelta(days=DAYS - 1)
    # In UTC, as the log's times are: two times of one zone subtract as wall clocks, across DST too.
    start = dt.datetime.combine(first, dt.time(), tzinfo=zone).astimezone(dt.UTC)
    chunk: list[Fact] = []
    for fact in facts(conversations, start, org.members, channels, seed):
        chunk.append(fact)
        if len(chunk) == CHUNK:
            _add(conn, chunk, zone)
            chunk = []
    _add(conn, chunk, zone)
    conn.execute("DELETE FROM report_days_zone")
    conn.execute("INSERT INTO report_days_zone (time_zone) VALUES (?)", (ZONE,))
    conn.execute(
        "INSERT INTO engine_cursors (name, position) SELECT 'reports', coalesce(max(id), 0) FROM events WHERE true"
        " ON CONFLICT (name) DO UPDATE SET position = excluded.position"
    )
    conn.commit()
    counts = {
        table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for table in ("report_conversations", "report_counts", "report_days")
    }
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()
    manifest = {
        "conversations": conversations,
        "seed": seed,
        "zone": ZONE,
        "first_day": first.isoformat(),
        "last_day": last.isoformat(),
        "teams": sorted(org.members),
        "agents": sorted({a for members in org.members.values() for a in members}),
        "channels": channels,
        "rows": counts,
        "build_seconds": round(time.monotonic() - started, 1),
        "file_bytes": path.stat().st_size,
    }
    path.with_name(path.name + ".json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def load_manifest(path: Path) -> dict[str, Any] | None:
    manifest = path.with_name(path.name + ".json")
    if not path.exists() or not manifest.exists():
        return None
    return dict(json.loads(manifest.read_text()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    print(json.dumps(build(args.out, args.conversations), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
