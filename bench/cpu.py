"""CPU per conversation in the writer, in-process and deterministic (no HTTP, no other thread):

    python -m bench.cpu [--count 2000] [--batch 50] [--profile [--sort cumulative]] [--commit HEAD]
                        [--database postgresql | postgresql+psycopg://…/empty_db]

Builds a fresh SQLite demo with the scenario-1 workflow (greet → branch → assign) and agents with
room for every conversation, then runs `count` first messages of new contacts through
`receive_inbound` in writer batches of `batch` (as concurrent requests arrive under load), then
the engine's `process_events` until the log is consumed — each phase timed with process CPU time.
`--profile` prints cProfile's heaviest functions. The numbers move with the machine's load less
than wall-clock figures do, but compare them within one run (or one machine state)."""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from pathlib import Path

import yaml

NO_WAITS = Path(__file__).resolve().parent / "workflows" / "inbound-no-waits.yaml"
TEXTS = ("Hello, I have a billing question", "Hi, I'd like to talk to sales", "Hello, my app crashes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--sort", default="tottime", help="cProfile's order with --profile: tottime, cumulative…")
    parser.add_argument("--statements", action="store_true", help="count the writer's statements, by origin")
    parser.add_argument("--commit", help="measure this commit's src/ (git archive) instead of the work tree")
    parser.add_argument(
        "--database", help="an empty database's URL, or `postgresql` for a throw-away cluster, instead of SQLite"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="frontdesk-cpu-") as tmp:
        if args.commit:
            from bench.servers import snapshot

            sys.path.insert(0, str(snapshot(args.commit, Path(tmp) / "src")))
        url = args.database or f"sqlite:///{Path(tmp) / 'cpu.db'}"
        if url == "postgresql":  # a throw-away durable cluster (bench/postgres.py)
            from bench.postgres import new_database

            url = new_database()
        measure(url, args.count, args.batch, args.profile, args.statements, args.sort)


def measure(
    url: str, count: int, batch: int, profile: bool, statements: bool = False, sort: str = "tottime"
) -> dict[str, float]:
    from tests.statements import Statements

    from bench import postgres
    from frontdesk import assignment
    from frontdesk.actions.ingest import InboundMessage, receive_inbound
    from frontdesk.clock import now
    from frontdesk.engine.consumer import process_events
    from frontdesk.engine.runs import VersionCache
    from frontdesk.store.database import Database
    from frontdesk.store.migrate import upgrade

    if hasattr(assignment, "install"):  # `--commit` of a version before issue 12 has no hook
        assignment.install()
    db = Database(url)
    upgrade(db.write_engine)
    db.start()
    try:
        db.write_sync(lambda conn: set_up(conn, count))
        cache = VersionCache()
        db.write_sync(lambda conn: _consume(conn, cache, process_events, now))  # the set-up's own events

        def ingest(first: int) -> None:
            for index in range(first, min(first + batch, count)):
                inbound = InboundMessage(1, f"cpu-{index}", f"cpu-m{index}", TEXTS[index % 3], f"Ada Lovelace {index}")
                db.submit(lambda conn, inbound=inbound: receive_inbound(conn, inbound))
            db.write_sync(lambda conn: None)  # the batch's commit

        profiler = cProfile.Profile() if profile else None
        if profiler:  # cProfile watches the thread that enables it: the writer's
            db.write_sync(lambda conn: profiler.enable())
        counted = Statements(db).__enter__() if statements else None
        figures = {}
        started, server = time.process_time(), postgres.cpu_seconds()
        for first in range(0, count, batch):
            ingest(first)
        figures["ingest_ms"] = (time.process_time() - started) * 1000 / count
        started = time.process_time()
        db.write_sync(lambda conn: _consume(conn, cache, process_events, now))
        figures["engine_ms"] = (time.process_time() - started) * 1000 / count
        figures["postgres_ms"] = (postgres.cpu_seconds() - server) * 1000 / count  # 0 unless its cluster
        if profiler:
            db.write_sync(lambda conn: profiler.disable())
        assigned = db.read_sync(
            lambda conn: conn.exec_driver_sql(
                "SELECT count(*) FROM conversations WHERE assignee_id IS NOT NULL"
            ).scalar()
        )
        figures["assigned"] = float(assigned or 0)
        print(
            f"{count} conversations, batches of {batch}: ingest {figures['ingest_ms']:.3f} ms CPU each, "
            f"engine {figures['engine_ms']:.3f} ms CPU each, {assigned} assigned"
            + (f"; PostgreSQL {figures['postgres_ms']:.3f} ms CPU each" if figures["postgres_ms"] else "")
        )
        if figures["postgres_ms"]:  # its cluster: what a round trip costs before any SQL work
            figures["round_trip_client_us"], figures["round_trip_server_us"] = round_trip(url)
            print(
                f"a round trip alone (SELECT 1, prepared): {figures['round_trip_client_us']:.0f} µs CPU here, "
                f"{figures['round_trip_server_us']:.0f} µs in PostgreSQL"
            )
        if profiler:
            pstats.Stats(profiler).sort_stats(sort).print_stats(60 if sort == "cumulative" else 35)
        if counted is not None:
            counted.__exit__()
            figures["statements"] = counted.total() / count
            print("\n".join(counted.report(count)))
        return figures
    finally:
        db.close()


def round_trip(url: str, count: int = 5000) -> tuple[float, float]:
    """Client and server CPU (µs) of one round trip that does no work: the floor under every
    statement, which SQLite, in the process, does not pay."""
    import psycopg

    from bench import postgres

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        for number in range(10):  # prepared from the sixth on
            conn.execute("SELECT %s::int", (number,), prepare=True)
        started, server = time.process_time(), postgres.cpu_seconds()
        for number in range(count):
            conn.execute("SELECT %s::int", (number,), prepare=True).fetchall()
        client_s, server_s = time.process_time() - started, postgres.cpu_seconds() - server
    return client_s * 1e6 / count, server_s * 1e6 / count


def _consume(conn, cache, process_events, now) -> None:  # type: ignore[no-untyped-def]
    while process_events(conn, cache, now()):
        pass


def set_up(conn, count: int) -> None:  # type: ignore[no-untyped-def]
    """The demo with the scenario-1 workflow alone enabled, and room for `count` conversations."""
    from frontdesk.actions.agents import create_agent
    from frontdesk.actions.teams import add_member, update_team
    from frontdesk.actions.workflows import create_workflow, publish, set_enabled
    from frontdesk.demo import load_demo
    from frontdesk.domain.model import Actor, AuthorKind, Availability
    from frontdesk.store.tables import teams, workflows

    load_demo(conn)
    actor = Actor(AuthorKind.SYSTEM)
    for (workflow_id,) in conn.execute(workflows.select().with_only_columns(workflows.c.id)).all():
        set_enabled(conn, workflow_id, False, actor)
    workflow_id = create_workflow(conn, yaml.safe_load(NO_WAITS.read_text()))
    publish(conn, workflow_id, actor)
    set_enabled(conn, workflow_id, True, actor)
    for team_id, name in conn.execute(teams.select().with_only_columns(teams.c.id, teams.c.name)).all():
        update_team(conn, team_id, actor, {"assignment": {"capacity": 1000}})
        for index in range(count // 3000 + 1):
            agent_id = create_agent(
                conn, actor, name=f"CPU {name} {index}", email=f"cpu-{team_id}-{index}@bench.local",
                capacity=1000, availability=Availability.ONLINE,
            )  # fmt: skip
            add_member(conn, team_id, agent_id, actor)


if __name__ == "__main__":
    main()
