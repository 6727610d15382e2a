"""Scenario 10 — the 90-day report over 1 M conversations (issue 16: p99 < 100 ms).

`frontdesk serve` (FRONTDESK_TIME_ZONE=Europe/Paris) on bench/report_dataset.py's data set
(reused when one of that size exists), an admin token, GET /api/v1/reports/conversations over the
data's 90 days with several filter combinations, closed loop on one connection (no queueing: each
latency is one report's). GET /api/v1/teams/{id} with the same token on the same server, in the
same run, is the baseline: an authenticated API call that reads one row.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import report_dataset
from bench.loadgen import MakeRequest, Request, closed_loop
from bench.scenarios import BenchConfig, measured
from bench.servers import BENCH, Server, start_frontdesk

DATA = BENCH / ".data"
REPORT = "/api/v1/reports/conversations"


@dataclass(frozen=True)
class Case:
    """A report as a manager asks for it; the filters rotate over every team, channel or agent."""

    name: str
    filters: tuple[str, ...] = ()  # "team_id", "channel_id", "agent_id"
    period: str = "day"


CASES = (
    Case("90 days, no filter"),
    Case("90 days, by week, no filter", period="week"),
    Case("90 days, one team", ("team_id",)),
    Case("90 days, one channel", ("channel_id",)),
    Case("90 days, one agent", ("agent_id",)),
    Case("90 days, one channel and one team", ("channel_id", "team_id")),
    Case("90 days, one team, one channel and one agent", ("team_id", "channel_id", "agent_id")),
)
BASELINE = "baseline: GET /api/v1/teams/{id}"


def dataset(config: BenchConfig) -> tuple[Path, dict[str, Any], bool]:
    """The data set of `config.report_conversations` (path, manifest, built now)."""
    path = config.report_db or DATA / f"reports-{config.report_conversations}.db"
    manifest = report_dataset.load_manifest(path)
    if manifest is not None and manifest["conversations"] == config.report_conversations:
        return path, manifest, False
    path.parent.mkdir(parents=True, exist_ok=True)
    return path, report_dataset.build(path, config.report_conversations), True


def run(config: BenchConfig, workdir: Path) -> dict[str, Any]:
    path, manifest, built = dataset(config)
    zone = {"FRONTDESK_TIME_ZONE": manifest["zone"]}
    server = start_frontdesk(workdir / "s10", "frontdesk-s10", config.frontdesk_src, database=path, settings=zone)
    try:
        auth = {"authorization": f"Bearer {server.token}"}
        teams = manifest["teams"]
        phases: dict[str, MakeRequest] = {
            BASELINE: lambda i: Request("GET", f"/api/v1/teams/{teams[i % len(teams)]}", None, auth)
        }
        for case in CASES:
            phases[case.name] = _report(case, manifest, auth)
        http = {name: _phase(server, make, config.report_requests) for name, make in phases.items()}
    finally:
        server.stop()
    data = {k: manifest[k] for k in ("conversations", "zone", "first_day", "last_day", "rows", "file_bytes")}
    data.update(path=str(path), built_now=built, build_seconds=manifest["build_seconds"])
    return {"dataset": data, "http": http}


def _report(case: Case, manifest: dict[str, Any], auth: dict[str, str]) -> MakeRequest:
    values = {"team_id": manifest["teams"], "channel_id": manifest["channels"], "agent_id": manifest["agents"]}
    base = f"{REPORT}?from={manifest['first_day']}&to={manifest['last_day']}&period={case.period}"

    def make(i: int) -> Request:
        query = "".join(f"&{name}={values[name][i % len(values[name])]}" for name in case.filters)
        return Request("GET", base + query, None, auth)

    return make


def _phase(server: Server, make: MakeRequest, requests: int) -> dict[str, Any]:
    warm_up = max(5, requests // 10)
    measured(server, lambda: closed_loop(server.base_url, make, connections=1, duration=60, total=warm_up))
    result, usage = measured(
        server, lambda: closed_loop(server.base_url, make, connections=1, duration=300, total=requests)
    )
    cpu_ms = usage["server_cpu_s"] * 1000 / result.ok if result.ok else None
    return {"load": result.summary(), **usage, "server_cpu_ms_per_request": cpu_ms and round(cpu_ms, 2)}
