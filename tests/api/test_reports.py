"""The conversation report: figures from conversations with known timestamps, days and hours in the
workspace's time zone across a DST change, the CSV saying the same numbers, bad input refused."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from litestar.testing import TestClient

from frontdesk.domain import events as ev
from frontdesk.engine.reports import fold_events
from frontdesk.server import create_app
from frontdesk.settings import Settings
from frontdesk.store.database import Database
from frontdesk.store.sql import events
from tests.factories import Api, eventually, make_agent, make_token

REPORT = "/api/v1/reports/conversations"
AGENT: dict[str, Any] = {"kind": "agent", "agent_id": None}
DAY = dt.datetime(2026, 5, 12, tzinfo=dt.UTC)
UTC, PARIS = ZoneInfo("UTC"), ZoneInfo("Europe/Paris")


@pytest.fixture
def paris(settings: Settings) -> Iterator[Api]:
    """An admin of a workspace in Europe/Paris."""
    zoned = settings.model_copy(update={"time_zone": PARIS})
    with TestClient(create_app(zoned)) as client:
        yield Api(client, make_token(client.app.state.db, "admin"))


def _log(db: Database, conversation: int, at: dt.datetime, type_: str, payload: dict[str, Any]) -> None:
    db.write_sync(lambda c: events.append(c, type_, payload, conversation, conversation, at))


def _opened(db: Database, conversation: int, at: dt.datetime, channel_id: int, source: str = "contact") -> None:
    _log(db, conversation, at, ev.CONVERSATION_OPENED, {"source": source, "channel_id": channel_id, "actor": AGENT})


def _assigned(db: Database, conversation: int, at: dt.datetime, agent_id: int | None, team_id: int) -> None:
    payload = {"agent_id": agent_id, "team_id": team_id, "previous_agent_id": None, "strategy": "manual"}
    _log(db, conversation, at, ev.CONVERSATION_ASSIGNED, {**payload, "reason": "test", "actor": AGENT})


def _replied(db: Database, conversation: int, at: dt.datetime) -> None:
    payload = {"message_id": conversation, "author": AGENT, "text": "hello", "quick_replies": []}
    _log(db, conversation, at, ev.MESSAGE_SENT, payload)


def _closed(db: Database, conversation: int, at: dt.datetime, category: str | None, agent_id: int | None) -> None:
    payload = {"actor": AGENT, "note": None, "category": category, "assignee_id": agent_id}
    _log(db, conversation, at, ev.CONVERSATION_CLOSED, payload)


def _folded(db: Database, zone: ZoneInfo = UTC) -> None:
    while db.write_sync(lambda c: fold_events(c, zone)):
        pass


def _report(api: Api, **params: Any) -> dict[str, Any]:
    response = api.get(REPORT, **params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _people(admin: Api) -> tuple[int, int, int]:
    channel = admin.channel()["id"]
    team = admin.post("/api/v1/teams", {"name": "Support"}).json()["id"]
    return channel, team, make_agent(admin.db, name="Ada")


def test_figures_match_conversations_built_with_known_timestamps(admin: Api) -> None:
    channel, team, agent = _people(admin)
    at = DAY.replace(hour=9)
    _opened(admin.db, 1, at, channel)
    _assigned(admin.db, 1, at + dt.timedelta(minutes=2), agent, team)
    _replied(admin.db, 1, at + dt.timedelta(minutes=10))
    _closed(admin.db, 1, at + dt.timedelta(hours=1), "billing", agent)
    _opened(admin.db, 2, at + dt.timedelta(minutes=30), channel, source="agent")
    _log(
        admin.db,
        2,
        at + dt.timedelta(minutes=30),
        ev.CONVERSATION_QUEUED,
        {"team_id": team, "priority": 0, "skills": {}},
    )
    _assigned(admin.db, 2, at + dt.timedelta(minutes=50), agent, team)
    _replied(admin.db, 2, at + dt.timedelta(minutes=51))
    _closed(admin.db, 2, at + dt.timedelta(days=1, minutes=30), None, agent)
    _opened(admin.db, 3, DAY.replace(hour=23, minute=30), channel)
    _folded(admin.db)

    found = _report(admin, **{"from": "2026-05-12", "to": "2026-05-13"})

    assert found["totals"] == {"opened": 3, "closed": 2}
    assert found["series"] == [
        {"start": "2026-05-12", "opened": 3, "closed": 1},
        {"start": "2026-05-13", "opened": 0, "closed": 1},
    ]
    assert found["by_channel"] == [{"id": channel, "name": "Test", "opened": 3, "closed": 2}]
    assert sorted(found["by_team"], key=lambda c: c["id"] or 0) == [
        {"id": None, "name": None, "opened": 1, "closed": 0},
        {"id": team, "name": "Support", "opened": 2, "closed": 2},
    ]
    assert {"id": agent, "name": "Ada", "opened": 2, "closed": 2} in found["by_agent"]
    assert found["by_source"] == [{"source": "agent", "opened": 1}, {"source": "contact", "opened": 2}]
    assert found["by_category"] == [{"category": None, "closed": 1}, {"category": "billing", "closed": 1}]
    durations = found["durations"]
    assert durations["assignment"] == {
        "count": 2,
        "p50_seconds": 120,
        "p90_seconds": 1800,
        "target_seconds": 300,
        "within_target": 0.5,
    }
    assert durations["first_response"]["count"] == 2
    assert (durations["first_response"]["p50_seconds"], durations["first_response"]["within_target"]) == (600, 0.5)
    assert (durations["resolution"]["p50_seconds"], durations["resolution"]["p90_seconds"]) == (3600, 86400)
    assert durations["queue_wait"] == {
        "count": 1,
        "p50_seconds": 1800,
        "p90_seconds": 1800,
        "target_seconds": 300,
        "within_target": 0.0,
    }


def test_filters_keep_the_conversations_of_a_team_channel_or_agent(admin: Api) -> None:
    channel, team, agent = _people(admin)
    other_channel = admin.channel()["id"]
    _opened(admin.db, 1, DAY, channel)
    _assigned(admin.db, 1, DAY + dt.timedelta(minutes=1), agent, team)
    _opened(admin.db, 2, DAY, other_channel)
    _folded(admin.db)
    day = {"from": "2026-05-12", "to": "2026-05-12"}

    assert _report(admin, **day, team_id=team)["totals"]["opened"] == 1
    assert _report(admin, **day, agent_id=agent)["totals"]["opened"] == 1
    assert _report(admin, **day, channel_id=other_channel)["totals"]["opened"] == 1
    assert _report(admin, **day)["totals"]["opened"] == 2


def test_days_are_the_workspaces_and_a_day_edge_moves_with_the_zone(admin: Api, paris: Api) -> None:
    channel = admin.channel()["id"]
    _opened(admin.db, 1, dt.datetime(2026, 5, 11, 22, 30, tzinfo=dt.UTC), channel)  # 00:30 in Paris on the 12th
    _folded(admin.db)
    days = {"from": "2026-05-11", "to": "2026-05-12"}

    in_utc = [p["opened"] for p in _report(admin, **days)["series"]]
    in_paris = [p["opened"] for p in _report(paris, **days)["series"]]

    assert (in_utc, in_paris) == ([1, 0], [0, 1])


def test_a_dst_day_has_23_or_25_hours_and_counts_each_hour_once(paris: Api) -> None:
    channel = paris.channel()["id"]
    # Paris: 2026-03-29 02:00 CET becomes 03:00 CEST; 2026-10-25 03:00 CEST becomes 02:00 CET.
    spring = [dt.datetime(2026, 3, 28, 23, 30, tzinfo=dt.UTC), dt.datetime(2026, 3, 29, 21, 30, tzinfo=dt.UTC)]
    autumn = [dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC), dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC)]
    for conversation, at in enumerate(spring + autumn, start=1):
        _opened(paris.db, conversation, at, channel)
    _folded(paris.db, PARIS)

    march = _report(paris, **{"from": "2026-03-29", "to": "2026-03-29", "period": "hour"})["series"]
    october = _report(paris, **{"from": "2026-10-25", "to": "2026-10-25", "period": "hour"})["series"]

    assert (len(march), len(october)) == (23, 25)
    assert [p["start"] for p in march[:3]] == [
        "2026-03-29T00:00+01:00",
        "2026-03-29T01:00+01:00",
        "2026-03-29T03:00+02:00",
    ]
    assert [(p["start"], p["opened"]) for p in march if p["opened"]] == [
        ("2026-03-29T00:00+01:00", 1),
        ("2026-03-29T23:00+02:00", 1),
    ]
    assert [(p["start"], p["opened"]) for p in october if p["opened"]] == [
        ("2026-10-25T02:00+02:00", 1),
        ("2026-10-25T02:00+01:00", 1),
    ]
    by_day = _report(paris, **{"from": "2026-03-28", "to": "2026-03-30"})["series"]
    assert [p["opened"] for p in by_day] == [0, 2, 0]


def test_the_csv_says_the_same_numbers_as_the_json(admin: Api) -> None:
    channel, team, agent = _people(admin)
    _opened(admin.db, 1, DAY, channel)
    _assigned(admin.db, 1, DAY + dt.timedelta(minutes=3), agent, team)
    _closed(admin.db, 1, DAY + dt.timedelta(hours=2), "=cmd", agent)
    rated = {"conversation_id": 1, "rating": 4, "agent_id": agent, "team_id": team, "channel_id": channel}
    _log(admin.db, 1, DAY + dt.timedelta(hours=3), ev.CONVERSATION_RATED, rated)
    _folded(admin.db)
    params = {"from": "2026-05-10", "to": "2026-05-12", "team_id": team}

    found = _report(admin, **params)
    response = admin.get(f"{REPORT}.csv", **params)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert _numbers_of(rows) == _numbers_in(found)
    assert {"section": "by_category", "key": "'=cmd", "name": "", "measure": "closed", "value": "1"} in rows
    assert {
        "section": "csat_by_team",
        "key": str(team),
        "name": "Support",
        "measure": "average",
        "value": "4.0",
    } in rows


def _numbers_of(rows: list[dict[str, str]]) -> dict[tuple[str, str, str], str]:
    """The CSV's numbers; a name a spreadsheet would run is read back without its guarding quote."""
    return {(r["section"], r["key"].removeprefix("'"), r["measure"]): r["value"] for r in rows}


def _numbers_in(found: dict[str, Any]) -> dict[tuple[str, str, str], str]:
    numbers = {("totals", "", m): str(v) for m, v in found["totals"].items()}
    numbers |= {("series", p["start"], m): str(p[m]) for p in found["series"] for m in ("opened", "closed")}
    for section in ("by_channel", "by_team", "by_agent"):
        for c in found[section]:
            numbers |= {(section, str(c["id"] or ""), m): str(c[m]) for m in ("opened", "closed")}
    numbers |= {("by_source", s["source"], "opened"): str(s["opened"]) for s in found["by_source"]}
    numbers |= {("by_category", c["category"] or "", "closed"): str(c["closed"]) for c in found["by_category"]}
    for metric, duration in found["durations"].items():
        numbers |= {("durations", metric, m): "" if v is None else str(v) for m, v in duration.items()}
    c = found["csat"]
    numbers |= {("csat", "", m): "" if c[m] is None else str(c[m]) for m in ("responses", "average", "satisfied")}
    numbers |= {("csat", "", f"score_{score}"): str(n) for score, n in c["distribution"].items()}
    for section in ("by_team", "by_agent"):
        for i in c[section]:
            key = str(i["id"] or "")
            numbers |= {(f"csat_{section}", key, m): str(i[m]) for m in ("responses", "average", "satisfied")}
    for a in found["agents"]:
        numbers |= {
            ("agents", str(a["id"]), m): str(a[m]) for m in ("online_seconds", "away_seconds", "opened", "closed")
        }
    return numbers


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"from": "2026-05-12", "to": "2026-05-11"}, 422, "to"),
        ({"from": "2025-01-01", "to": "2026-05-11"}, 422, "from"),
        ({"from": "2026-01-01", "to": "2026-03-01", "period": "hour"}, 422, "period"),
        ({"from": "2026-05-01", "colour": "blue"}, 400, "colour"),
        ({"team_id": 999999}, 422, "team_id"),
        ({"agent_id": 999999}, 422, "agent_id"),
    ],
)
def test_bad_input_is_refused_naming_the_parameter(admin: Api, params: dict[str, Any], status: int, field: str) -> None:
    for path in (REPORT, f"{REPORT}.csv"):
        response = admin.get(path, **params)
        assert response.status_code == status, response.text
        assert response.json()["field"] == field


def test_a_malformed_date_or_period_is_refused_naming_the_query_parameter(admin: Api) -> None:
    malformed = [({"from": "12/05/2026"}, "from"), ({"to": "yesterday"}, "to"), ({"period": "month"}, "period")]
    for params, field in malformed:
        response = admin.get(REPORT, **params)
        assert response.status_code == 400, response.text
        assert [error["field"] for error in response.json()["errors"]] == [field]


def test_managers_and_admins_read_reports_and_agents_do_not(admin: Api) -> None:
    manager = Api(admin.client, make_token(admin.db, "manager"))
    agent = Api(admin.client, make_token(admin.db, "agent"))
    assert manager.get(REPORT).status_code == 200
    assert agent.get(REPORT).status_code == 403
    assert agent.get(f"{REPORT}.csv").status_code == 403


def test_a_conversation_handled_through_the_api_shows_in_todays_report(admin: Api) -> None:
    agent = make_agent(admin.db, role="admin")
    api = Api(admin.client, make_token(admin.db, "admin", agent))
    receipt = api.inbound(api.channel()["id"], "ada").json()
    path = f"/api/v1/conversations/{receipt['conversation_id']}"
    api.post(f"{path}/assign", {"agent_id": agent})
    api.post(f"{path}/messages", {"text": "Hello Ada"})
    api.post(f"{path}/close", {"category": "faq"})

    def counted() -> dict[str, Any] | None:  # the server's own loop folds the log
        found = _report(api)
        return found if found["totals"]["closed"] else None

    found = eventually(counted, "the report counts the closed conversation")
    assert found["totals"] == {"opened": 1, "closed": 1}
    assert found["by_category"] == [{"category": "faq", "closed": 1}]
    assert found["durations"]["first_response"]["count"] == 1
