"""Where a Frontdesk request's time goes, for the lead (no change to src/):

    python -m bench.profile statements [--count 2000] [--commit HEAD]   # SQL statements per request
    python -m bench.profile pyspy --scenario s1|s2 [--target frontdesk] [--seconds 10] [--rate 100] [--commit HEAD]

`statements` runs the real app in-process (Litestar's TestClient, a fresh SQLite file) with
SQLAlchemy event hooks that count and time every statement SQLAlchemy executes — since ADR 0003
the hot path runs on the sqlite3 cursor and is not seen here: `python -m bench.cpu --statements`
counts every statement of the writer.
`pyspy` starts a server as the bench does, loads it closed-loop, records it with py-spy
(`pip install py-spy`) and prints the busiest threads, Frontdesk frames and SQL call sites."""

from __future__ import annotations

import argparse
import collections
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import uvloop

from bench.loadgen import closed_loop, open_loop
from bench.scenarios import BenchConfig, into_open, new_contact, prepare, start, with_auth
from bench.servers import snapshot


def statements(count: int) -> None:
    """Statements per new conversation (ingest + engine) and per message into an open one."""
    from litestar.testing import TestClient
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from frontdesk.server import create_app
    from frontdesk.settings import Settings

    stats: dict[str, list[float]] = collections.defaultdict(lambda: [0, 0.0])
    started: dict[int, float] = {}

    def before(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        started[id(cursor)] = time.perf_counter()

    def after(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        elapsed = time.perf_counter() - started.pop(id(cursor), time.perf_counter())
        key = f"{threading.current_thread().name[:16]:16} {_shape(statement)}"
        stats[key][0] += 1
        stats[key][1] += elapsed

    event.listen(Engine, "before_cursor_execute", before)
    event.listen(Engine, "after_cursor_execute", after)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=f"sqlite:///{tmp}/p.db", log_level="WARNING")
        with TestClient(create_app(settings)) as client:
            _demo(client)
            for phase, make in (("new conversation", new_contact("p")), ("message into open", into_open("p", count))):
                stats.clear()
                cpu = time.process_time()
                for index in range(count):
                    request = make(index)
                    client.post(request.path, content=request.body, headers=_auth(client))
                _settle(client)
                _print_statements(phase, count, stats, time.process_time() - cpu)


def _demo(client: Any) -> None:
    from bench.frontdesk_setup import install_no_waits_workflow, make_room
    from frontdesk.actions.tokens import create_token
    from frontdesk.demo import load_demo
    from frontdesk.domain.model import Role

    db = client.app.state.db
    db.write_sync(load_demo)
    token = db.write_sync(lambda conn: create_token(conn, "bench", Role.ADMIN, None))
    client.headers["authorization"] = f"Bearer {token}"
    client.headers["content-type"] = "application/json"
    install_no_waits_workflow(client)
    make_room(client, 10_000)


def _auth(client: Any) -> dict[str, str]:
    return dict(client.headers)


def _settle(client: Any, seconds: float = 3.0) -> None:
    """Let the engine finish what the requests left on the event log."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        client.get("/healthz")
        time.sleep(0.1)


def _shape(statement: str) -> str:
    shape = re.sub(r"\s+", " ", statement).strip()
    shape = re.sub(r"\(\?(, \?)*\)", "(?…)", shape)
    return shape[:110]


def _print_statements(phase: str, count: int, stats: dict[str, list[float]], cpu_s: float) -> None:
    total = sum(n for n, _ in stats.values())
    db_time = sum(t for _, t in stats.values())
    print(f"\n== {phase}: {count} requests, process CPU {cpu_s * 1000 / count:.2f} ms/request (client included)")
    print(f"   {total / count:.1f} statements/request, {db_time * 1000 / count:.3f} ms/request inside the DBAPI")
    for key, (n, elapsed) in sorted(stats.items(), key=lambda item: -item[1][0])[:40]:
        print(f"   {n / count:6.2f}/req {elapsed * 1e6 / max(n, 1):7.1f} µs  {key}")


def pyspy(
    target: str, scenario: str, seconds: float, out: Path, src: Path | None = None, rate: float | None = None
) -> None:
    """Record `target` under a closed loop of 64 connections, or an open loop at `rate` req/s."""
    with tempfile.TemporaryDirectory() as tmp:
        server = start(target, Path(tmp) / "server", BenchConfig(frontdesk_src=src))
        try:
            prepare(target, server, 40_000)
            make = with_auth(server, new_contact("n"))
            if scenario == "s2":
                uvloop.run(closed_loop(server.base_url, make, connections=64, duration=600, total=1000))
                time.sleep(3)
                make = with_auth(server, into_open("n", 1000))
            command = ["py-spy", "record", "-p", str(server.pid), "-d", str(int(seconds)), "-r", "200"]
            command += ["-f", "raw", "-o", str(out), "--threads", "--nonblocking", "--subprocesses"]
            recorder = subprocess.Popen(
                [str(Path(sys.executable).parent / command[0]), *command[1:]],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if rate:
                load = open_loop(server.base_url, make, rate=rate, duration=seconds)
            else:
                load = closed_loop(server.base_url, make, connections=64, duration=seconds)
            result = uvloop.run(load)
            recorder.wait()
            print(f"{target} {scenario}: {result.summary()['throughput']} req/s during the recording")
        finally:
            server.stop()
    summarise(out)


def summarise(path: Path, top: int = 30) -> None:
    """Threads, Frontdesk frames (the deepest in each sample) and SQL call sites of a raw py-spy file."""
    threads: collections.Counter[str] = collections.Counter()
    frames: collections.Counter[str] = collections.Counter()
    sql: collections.Counter[str] = collections.Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        n = int(count)
        total += n
        parts = stack.split(";")
        threads[re.sub(r"\(\d+\)", "", parts[0]).strip()] += n
        ours = [frame for frame in parts if "frontdesk/" in frame]
        frames[ours[-1] if ours else "(outside frontdesk) " + parts[-1]] += n
        if ours and any("do_execute" in frame or "do_commit" in frame for frame in parts[-2:]):
            sql[ours[-1]] += n
        elif ours and "store/dialects/" in ours[-1]:  # waiting on PostgreSQL: the statement's family
            callers = [frame for frame in ours if "store/sql/" in frame or "store/database.py" in frame]
            sql[callers[-1] if callers else ours[-1]] += n
    print(f"{total} samples")
    sections = (("threads", threads), ("deepest Frontdesk frame", frames), ("in the database, by caller", sql))
    for title, counter in sections:
        print(f"-- {title}")
        for key, n in counter.most_common(top):
            print(f"{n * 100 / total:5.1f}%  {key}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    count = commands.add_parser("statements")
    count.add_argument("--count", type=int, default=2000)
    spy = commands.add_parser("pyspy")
    spy.add_argument("--target", default="frontdesk-nowf")
    spy.add_argument("--scenario", choices=("s1", "s2"), default="s2")
    spy.add_argument("--seconds", type=float, default=10.0)
    spy.add_argument("--rate", type=float, help="open loop at this many req/s (default: closed loop)")
    spy.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "frontdesk-pyspy.txt")
    parser.add_argument("--commit", help="profile this commit's src/ (git archive) instead of the work tree")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="frontdesk-src-") as tmp:
        src = snapshot(args.commit, Path(tmp)) if args.commit else None
        if args.command == "statements":
            if src is not None:
                sys.path.insert(0, str(src))  # before frontdesk is first imported
            statements(args.count)
        else:
            pyspy(args.target, args.scenario, args.seconds, args.out, src, args.rate)


if __name__ == "__main__":
    main()
