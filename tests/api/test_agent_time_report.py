"""Agents' online and away time in the conversation report: intervals with known timestamps, split
at the workspace's day edges (midnight, a DST day in Europe/Paris), the current availability
counted up to now (the app's clock) and clipped to the range; filters; the CSV and the page."""

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
from frontdesk.domain.model import Availability
from frontdesk.engine.reports import fold_events
from frontdesk.server import create_app
from frontdesk.settings import Settings
from frontdesk.store.database import Database
from frontdesk.store.sql import events
from tests.factories import Api, make_agent, make_token

REPORT = "/api/v1/reports/conversations"
UTC, PARIS = ZoneInfo("UTC"), ZoneInfo("Europe/Paris")
NOW = dt.datetime(2026, 5, 12, 15, 0, tzinfo=dt.UTC)
SYSTEM: dict[str, Any] = {"kind": "system", "agent_id": None}


class Clock:
    def __init__(self) -> None:
        self.at = NOW

    def __call__(self) -> dt.datetime:
        return self.at


def _api(settings: Settings, zone: ZoneInfo) -> Iterator[Api]:
    zoned = settings.model_copy(update={"time_zone": zone})
    with TestClient(create_app(zoned, clock=Clock())) as client:
        yield Api(client, make_token(client.app.state.db, "admin"))


@pytest.fixture
def utc(settings: Settings) -> Iterator[Api]:
    """An admin of a workspace in UTC whose clock says NOW."""
    yield from _api(settings, UTC)


@pytest.fixture
def paris(settings: Settings) -> Iterator[Api]:
    yield from _api(settings, PARIS)


def _offline_agent(api: Api, name: str) -> int:
    """An agent whose `agent.created` says offline: their time is what the changes below say."""
    return make_agent(api.db, name=name, availability=Availability.OFFLINE)


def _changes(db: Database, agent: int, *steps: tuple[dt.datetime, str]) -> None:
    old = "offline"
    for at, new in steps:
        payload = {"agent_id": agent, "old": old, "new": new, "actor": SYSTEM}
        db.write_sync(lambda c, p=payload, a=at: events.append(c, ev.AGENT_AVAILABILITY_CHANGED, p, None, None, a))  # type: ignore[misc]
        old = new


def _folded(db: Database, zone: ZoneInfo) -> None:
    while db.write_sync(lambda c: fold_events(c, zone)):
        pass


def _agents(api: Api, **params: Any) -> dict[str, dict[str, Any]]:
    response = api.get(REPORT, **params)
    assert response.status_code == 200, response.text
    return {a["name"]: a for a in response.json()["agents"]}


def _time(found: dict[str, Any]) -> tuple[int, int]:
    return found["online_seconds"], found["away_seconds"]


def _at(day: dt.date, hour: int, minute: int = 0, zone: ZoneInfo = UTC) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone)


DAY = dt.date(2026, 5, 11)
ONE_DAY = {"from": "2026-05-11", "to": "2026-05-11"}


def test_a_working_day_counts_its_hours_online_and_half_an_hour_away(utc: Api) -> None:
    """Online 09:00-12:30 and 13:00-17:00 (3 h 30 + 4 h), away 12:30-13:00."""
    ada = _offline_agent(utc, "Ada")
    _changes(
        utc.db,
        ada,
        (_at(DAY, 9), "online"),
        (_at(DAY, 12, 30), "away"),
        (_at(DAY, 13), "online"),
        (_at(DAY, 17), "offline"),
    )
    _folded(utc.db, UTC)

    assert _time(_agents(utc, **ONE_DAY)["Ada"]) == (7 * 3600 + 30 * 60, 30 * 60)
    assert "Ada" not in _agents(utc, **{"from": "2026-05-10", "to": "2026-05-10"})


def test_an_interval_across_midnight_is_split_between_the_two_days(utc: Api) -> None:
    ada = _offline_agent(utc, "Ada")
    _changes(utc.db, ada, (_at(DAY, 22), "online"), (_at(DAY + dt.timedelta(days=1), 1, 15), "away"))
    _changes(utc.db, ada, (_at(DAY + dt.timedelta(days=1), 2), "offline"))
    _folded(utc.db, UTC)

    assert _time(_agents(utc, **ONE_DAY)["Ada"]) == (2 * 3600, 0)
    assert _time(_agents(utc, **{"from": "2026-05-12", "to": "2026-05-12"})["Ada"]) == (75 * 60, 45 * 60)
    assert _time(_agents(utc, **{"from": "2026-05-11", "to": "2026-05-12"})["Ada"]) == (195 * 60, 45 * 60)


def test_a_dst_day_in_paris_counts_the_hours_that_were_lived(paris: Api) -> None:
    # 2026-03-29: 02:00 CET becomes 03:00 CEST, a day of 23 hours.
    ada = _offline_agent(paris, "Ada")
    saturday, sunday = dt.date(2026, 3, 28), dt.date(2026, 3, 29)
    _changes(paris.db, ada, (_at(saturday, 22, zone=PARIS), "online"), (_at(sunday, 12, zone=PARIS), "offline"))
    _folded(paris.db, PARIS)

    assert _time(_agents(paris, **{"from": "2026-03-28", "to": "2026-03-28"})["Ada"]) == (2 * 3600, 0)
    assert _time(_agents(paris, **{"from": "2026-03-29", "to": "2026-03-29"})["Ada"]) == (11 * 3600, 0)


def test_the_current_availability_counts_up_to_now_within_the_range(utc: Api) -> None:
    ada, bob = _offline_agent(utc, "Ada"), _offline_agent(utc, "Bob")
    _changes(utc.db, ada, (_at(DAY, 20), "online"))  # still online: NOW is the 12th at 15:00
    _changes(utc.db, bob, (_at(DAY, 23), "away"))
    _folded(utc.db, UTC)

    today = {"from": "2026-05-12", "to": "2026-05-12"}
    assert _time(_agents(utc, **ONE_DAY)["Ada"]) == (4 * 3600, 0)
    assert _time(_agents(utc, **today)["Ada"]) == (15 * 3600, 0)
    assert _time(_agents(utc, **today)["Bob"]) == (0, 15 * 3600)
    utc.client.app.state.clock.at = NOW + dt.timedelta(minutes=30)
    assert _time(_agents(utc, **today)["Ada"]) == (15 * 3600 + 1800, 0)


def test_an_agent_created_online_counts_from_their_creation(utc: Api) -> None:
    created = utc.post("/api/v1/agents", {"name": "Cy", "email": "cy@example.test", "availability": "online"})
    assert created.status_code == 201, created.text
    found = utc.db.read_sync(lambda c: events.list_events(c, 0, 50, [ev.AGENT_CREATED]))
    payload = next(e["payload"] for e in found if e["payload"]["agent_id"] == created.json()["id"])
    assert payload["availability"] == "online"
    _folded(utc.db, UTC)
    utc.client.app.state.clock.at = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    today = utc.client.app.state.clock.at.date().isoformat()

    online, away = _time(_agents(utc, **{"from": today, "to": today})["Cy"])

    assert away == 0 and 0 < online <= 3600 + 60


def test_a_team_filter_shows_its_members_and_an_agent_filter_one_agent(utc: Api) -> None:
    ada, bob = _offline_agent(utc, "Ada"), _offline_agent(utc, "Bob")
    team = utc.post("/api/v1/teams", {"name": "Support"}).json()["id"]
    assert utc.client.put(f"/api/v1/teams/{team}/members/{ada}", headers=utc.headers).status_code == 201
    for agent in (ada, bob):
        _changes(utc.db, agent, (_at(DAY, 9), "online"), (_at(DAY, 10), "offline"))
    _folded(utc.db, UTC)

    assert set(_agents(utc, **ONE_DAY)) >= {"Ada", "Bob"}
    assert set(_agents(utc, **ONE_DAY, team_id=team)) == {"Ada"}
    assert set(_agents(utc, **ONE_DAY, agent_id=bob)) == {"Bob"}
    assert _time(_agents(utc, **ONE_DAY, agent_id=bob)["Bob"]) == (3600, 0)


def test_the_csv_says_the_agents_time(utc: Api) -> None:
    ada = _offline_agent(utc, "Ada")
    _changes(utc.db, ada, (_at(DAY, 9), "online"), (_at(DAY, 16, 30), "away"), (_at(DAY, 17), "offline"))
    _folded(utc.db, UTC)

    rows = list(csv.DictReader(io.StringIO(utc.get(f"{REPORT}.csv", **ONE_DAY).text)))
    mine = {r["measure"]: r["value"] for r in rows if r["section"] == "agents" and r["key"] == str(ada)}
    assert mine == {"online_seconds": "27000", "away_seconds": "1800", "opened": "0", "closed": "0"}
    assert {r["name"] for r in rows if r["section"] == "agents" and r["key"] == str(ada)} == {"Ada"}
