"""Scenario 10's data set and measurement at a tiny size: its counters are what the consumer's own
recount makes of its facts, and the scenario reports every case. No speed is asserted."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.report_dataset import build
from bench.reports_90d import BASELINE, CASES, dataset
from bench.run import run, write
from bench.scenarios import BenchConfig

from frontdesk.engine.reports import fold_events, recounting
from frontdesk.store.database import Database
from frontdesk.store.sql import report_days
from tests.databases import sqlite_only

pytestmark = sqlite_only("scenario 10 builds its own SQLite data set, read here with sqlite3")
_DAYS = (
    "SELECT metric, channel_id, team_id, agent_id, day, label, bucket, count FROM report_days"
    " ORDER BY 1, 2, 3, 4, 5, 6, 7"
)


def test_the_bulk_counters_are_what_a_recount_from_the_facts_makes(tmp_path: Path) -> None:
    path = tmp_path / "reports.db"
    manifest = build(path, 300)
    with sqlite3.connect(path) as conn:
        bulk = conn.execute(_DAYS).fetchall()
        hours = conn.execute("SELECT sum(count) FROM report_counts WHERE metric = 'opened'").fetchone()[0]
    assert manifest["rows"]["report_conversations"] == 300 and hours == 300

    db = Database(f"sqlite:///{path}")
    db.start()
    zone = ZoneInfo(manifest["zone"])
    try:
        db.write_sync(lambda conn: report_days.restart(conn, manifest["zone"]))
        while db.read_sync(lambda conn: recounting(conn, zone)):
            assert db.write_sync(lambda conn: fold_events(conn, zone)) == 0  # the demo's events are folded
    finally:
        db.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute(_DAYS).fetchall() == bulk


def test_scenario_10_measures_every_case_and_reports_them(tmp_path: Path) -> None:
    config = BenchConfig(report_conversations=300, report_db=tmp_path / "reports.db", report_requests=3)
    report = run(config, ["frontdesk"], ["10"], quick=True)

    s10 = report["results"]["s10"]
    assert s10["dataset"]["built_now"] and s10["dataset"]["rows"]["report_conversations"] == 300
    assert set(s10["http"]) == {BASELINE} | {case.name for case in CASES}
    for name, phase in s10["http"].items():
        assert phase["load"]["ok"] == 3 and phase["load"]["errors"] == {}, (name, phase["load"])
    verdict = next(t for t in report["targets"] if t["name"].startswith("S10"))
    assert "not the issue's scale" in verdict["met"]

    json_path, md_path = write(report, tmp_path / "out")
    assert json.loads(json_path.read_text())["results"]["s10"]["dataset"]["conversations"] == 300
    assert "Scenario 10" in md_path.read_text()
    assert not dataset(config)[2]  # the same size again: reused, not rebuilt
