"""Scenario 5 — the inbox list at 1 M contacts / 10 M messages (bench/inbox_dataset.py builds the
data set). The inbox as agents and managers use it — views mine / unassigned / all, open and
closed, a team filter — and the thread page of the longest conversations, measured twice:

(a) in process, on the read path: `inbox_list` (and `thread`) on the app's read connections,
    the cases interleaved, many iterations, nearest-rank percentiles;
(b) end to end: `frontdesk serve` on that database, logged-in sessions, GET of the live list
    fragment (/inbox/list), the whole inbox page and the thread fragment, open loop; /healthz and
    the login page on the same server at the same rate are the baseline of the same run.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvloop
from sqlalchemy import event

from bench import inbox_dataset
from bench.loadgen import MakeRequest, Request, open_loop, percentiles
from bench.scenarios import BenchConfig, measured
from bench.servers import BENCH, ROOT, Server, frontdesk_command, start_frontdesk

DATA = BENCH / ".data"
CSRF_INPUT = re.compile(r'name="_csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class Case:
    """One inbox list as a person opens it; `team`: the team filter, rotating over every team."""

    role: str
    view: str
    status: str
    team: bool = False

    @property
    def name(self) -> str:
        return f"{self.role}: {self.view}, {self.status}" + (", one team" if self.team else "")

    def query(self, team_id: int | None) -> str:
        return f"view={self.view}&status={self.status}" + (f"&team={team_id}" if team_id else "")


CASES = (
    Case("agent", "mine", "open"),
    Case("agent", "mine", "closed"),
    Case("agent", "unassigned", "open"),
    Case("agent", "mine", "closed", team=True),
    Case("agent", "all", "open", team=True),
    Case("manager", "all", "open"),
    Case("manager", "all", "closed"),
    Case("manager", "unassigned", "open"),
    Case("manager", "unassigned", "closed", team=True),
    Case("manager", "all", "open", team=True),
    Case("manager", "all", "closed", team=True),
)
THREAD = "thread of a long conversation"


@dataclass
class Dataset:
    path: Path
    manifest: dict[str, Any]
    built: bool

    def viewers(self, role: str) -> list[int]:
        return [v["id"] for v in self.manifest["viewers"][role]]

    @property
    def teams(self) -> list[int]:
        return list(self.manifest["teams"])

    @property
    def long_ids(self) -> list[int]:
        return list(self.manifest["long_conversation_ids"])


def dataset(config: BenchConfig) -> Dataset:
    """The data set of `config.inbox_contacts`, reused when one of that size is already built."""
    path = config.inbox_db or DATA / f"inbox-{config.inbox_contacts}.db"
    sizes = inbox_dataset.Sizes.for_contacts(config.inbox_contacts)
    manifest = inbox_dataset.load_manifest(path)
    if manifest is not None and manifest["sizes"] == vars(sizes) and not config.inbox_rebuild:
        return Dataset(path, manifest, built=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    return Dataset(path, inbox_dataset.build(path, sizes), built=True)


def run(config: BenchConfig, workdir: Path) -> dict[str, Any]:
    data = dataset(config)
    migrate_s = _migrate(data.path, config.frontdesk_src)  # new indexes land here, timed on their own
    result: dict[str, Any] = {
        "dataset": {
            "path": str(data.path),
            "built_now": data.built,
            **{k: data.manifest[k] for k in ("sizes", "counts", "build_seconds", "file_bytes")},
        },
        "migrate_s": migrate_s,
        "in_process": _in_child(data, config.inbox_iterations, config.frontdesk_src),
    }
    result["http"] = over_http(data, config, workdir)
    return result


def _migrate(path: Path, src: Path | None) -> float:
    command, env = frontdesk_command(src, "migrate")
    started = time.monotonic()
    subprocess.run(command, env={**env, "FRONTDESK_DATABASE_URL": f"sqlite:///{path}"}, check=True, capture_output=True)
    return round(time.monotonic() - started, 1)


# -- (a) in process ----------------------------------------------------------------------------
def _in_child(data: Dataset, iterations: int, src: Path | None) -> dict[str, Any]:
    """`in_process` in a child Python whose `frontdesk` is the measured one (work tree or snapshot)."""
    paths = [str(src)] if src is not None else []
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([*paths, str(ROOT)])}
    command = [sys.executable, "-m", "bench.inbox_list", str(data.path), "--iterations", str(iterations)]
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"in-process measurement failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout))


def in_process(data: Dataset, iterations: int) -> dict[str, Any]:
    """Each iteration runs every case once (interleaved, so noise falls on all alike); viewers and
    teams rotate. The first round warms the statement caches and is not counted."""
    from frontdesk.store.database import Database
    from frontdesk.web import queries

    db = Database(f"sqlite:///{data.path}")
    calls = _calls(data, queries)
    plans = _plans(db, calls)
    samples: dict[str, list[float]] = {name: [] for name in calls}
    cpu: dict[str, list[float]] = {name: [] for name in calls}
    sizes: dict[str, list[int]] = {name: [] for name in calls}
    try:
        for round_ in range(iterations + 1):
            for name, call in calls.items():
                started, cpu_started = time.perf_counter(), time.thread_time()
                shown = db.read_sync(lambda conn, r=round_, c=call: c(conn, r))  # type: ignore[misc]
                if round_:
                    samples[name].append((time.perf_counter() - started) * 1000)
                    cpu[name].append((time.thread_time() - cpu_started) * 1000)
                    sizes[name].append(shown)
    finally:
        db.close()
    # CPU time of the calling thread beside wall time: on a shared machine the wall-clock tail is
    # mostly waiting for a core; the CPU time is what the call itself costs.
    return {
        name: {
            "latency_ms": percentiles(samples[name]),
            "cpu_ms": percentiles(cpu[name]),
            "n": len(samples[name]),
            "rows": max(sizes[name]),
            "plan": plans[name],
        }
        for name in calls
    }


Call = Callable[[Any, int], int]


def _calls(data: Dataset, queries: Any) -> dict[str, Call]:
    def listing(case: Case) -> Call:
        viewers, teams = data.viewers(case.role), data.teams
        visible = [_visibility(queries.inbox_list, case.role, viewer) for viewer in viewers]

        def call(conn: Any, i: int) -> int:
            team = teams[i % len(teams)] if case.team else None
            viewer = i % len(viewers)
            found = queries.inbox_list(conn, viewers[viewer], case.view, case.status, team, **visible[viewer])
            return len(found)

        return call

    everything = _visibility(queries.thread, "manager", data.viewers("manager")[0])

    def thread(conn: Any, i: int) -> int:
        return len(queries.thread(conn, data.long_ids[i % len(data.long_ids)], **everything)["messages"])

    return {**{case.name: listing(case) for case in CASES}, THREAD: thread}


def _visibility(query: Callable[..., Any], role: str, agent_id: int) -> dict[str, Any]:
    """The `visible` argument the inbox page passes `query`: who may see what (store.visibility).
    Commits from before that filter have no such argument, so a bench of them passes nothing."""
    if "visible" not in inspect.signature(query).parameters:
        return {}
    from frontdesk.api.auth import Principal
    from frontdesk.domain.model import Role
    from frontdesk.store.visibility import seen_by

    return {"visible": seen_by(Principal(None, Role(role), agent_id))}


def _plans(db: Any, calls: dict[str, Call]) -> dict[str, list[str]]:
    """EXPLAIN QUERY PLAN of every statement a case runs (captured from one call)."""
    captured: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            captured.append((statement, parameters))

    plans: dict[str, list[str]] = {}
    event.listen(db.read_engine, "before_cursor_execute", capture)
    try:
        for name, call in calls.items():
            captured.clear()
            db.read_sync(lambda conn, c=call: c(conn, 0))  # type: ignore[misc]
            statements = list(captured)
            plans[name] = db.read_sync(lambda conn, s=statements: _explain(conn, s))  # type: ignore[misc]
    finally:
        event.remove(db.read_engine, "before_cursor_execute", capture)
    return plans


def _explain(conn: Any, statements: list[tuple[str, Any]]) -> list[str]:
    lines = []
    for statement, parameters in statements:
        head = " ".join(statement.split())[:70]
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
        lines += [f"{head} …", *(f"  {row[3]}" for row in rows)]
    return lines


# -- (b) over HTTP -----------------------------------------------------------------------------
def over_http(data: Dataset, config: BenchConfig, workdir: Path) -> dict[str, Any]:
    server = start_frontdesk(workdir / "s5", "frontdesk-s5", config.frontdesk_src, database=data.path)
    try:
        cookies = {role: [login(server, data.manifest, v) for v in data.viewers(role)] for role in ("agent", "manager")}
        phases: dict[str, MakeRequest] = {
            "baseline: GET /healthz": _fixed("/healthz", None),
            "baseline: GET /login": _fixed("/login", None),
        }
        for case in CASES:
            phases[f"list fragment, {case.name}"] = _listing(case, cookies[case.role], data.teams)
        phases["inbox page, agent: mine, open"] = _listing(CASES[0], cookies["agent"], data.teams, page="/inbox")
        rates = dict.fromkeys(phases, config.inbox_rate)
        thread = f"{THREAD} (marks it read), at a quarter of the rate"
        phases[thread] = _thread(cookies["manager"], data.long_ids)  # an agent may not see every long one
        rates[thread] = config.inbox_rate / 4  # 2,000 messages a page: at the full rate it is only a queue
        return {name: _phase(server, make, rates[name], config.inbox_seconds) for name, make in phases.items()}
    finally:
        server.stop()


def login(server: Server, manifest: dict[str, Any], agent_id: int) -> str:
    """Log in through the login form (CSRF cookie and token, argon2 check): the session cookie."""
    email = next(v["email"] for role in manifest["viewers"].values() for v in role if v["id"] == agent_id)
    with httpx.Client(base_url=server.base_url, follow_redirects=False, timeout=30) as client:
        form = client.get("/login")
        match = CSRF_INPUT.search(form.text)
        if match is None:
            raise RuntimeError("the login page has no CSRF token")
        answer = client.post(
            "/login",
            data={"email": email, "password": manifest["password"], "_csrf_token": match.group(1), "next": "/inbox"},
        )
        token = answer.cookies.get("fd_session")
        if answer.status_code >= 400 or token is None:
            raise RuntimeError(f"login as {email} failed: {answer.status_code}")
        return f"fd_session={token}"


def _fixed(path: str, cookie: str | None) -> MakeRequest:
    headers = {"cookie": cookie} if cookie else {}
    return lambda _i: Request("GET", path, None, headers)


def _listing(case: Case, cookies: list[str], teams: list[int], page: str = "/inbox/list") -> MakeRequest:
    def make(i: int) -> Request:
        team = teams[i % len(teams)] if case.team else None
        return Request("GET", f"{page}?{case.query(team)}", None, {"cookie": cookies[i % len(cookies)]})

    return make


def _thread(cookies: list[str], conversation_ids: list[int]) -> MakeRequest:
    def make(i: int) -> Request:
        path = f"/inbox/conversations/{conversation_ids[i % len(conversation_ids)]}"
        return Request("GET", path, None, {"cookie": cookies[i % len(cookies)]})

    return make


def _phase(server: Server, make: MakeRequest, rate: float, seconds: float) -> dict[str, Any]:
    warm_up = min(1.0, seconds)
    uvloop.run(open_loop(server.base_url, make, rate=rate, duration=warm_up, connections=16))
    result, usage = measured(
        server, lambda: open_loop(server.base_url, make, rate=rate, duration=seconds, connections=64)
    )
    cpu_ms = usage["server_cpu_s"] * 1000 / result.ok if result.ok else None
    return {"load": result.summary(), **usage, "server_cpu_ms_per_request": cpu_ms and round(cpu_ms, 2)}


def main(argv: list[str] | None = None) -> int:
    """The child of `_in_child`: measure the data set at PATH in this process, print JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("database", type=Path)
    parser.add_argument("--iterations", type=int, default=300)
    args = parser.parse_args(argv)
    manifest = inbox_dataset.load_manifest(args.database)
    if manifest is None:
        raise SystemExit(f"{args.database}: no data set (or no manifest beside it)")
    print(json.dumps(in_process(Dataset(args.database, manifest, built=False), args.iterations)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
