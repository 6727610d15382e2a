"""The reports page through the app: a manager's session sees the figures the CSV holds, drawn as
SVG with its labels escaped; its CSV link works with the session; an agent is refused."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from zoneinfo import ZoneInfo

from litestar.testing import TestClient

from frontdesk.actions.sessions import set_password
from frontdesk.domain import events as ev
from frontdesk.engine.reports import fold_events
from frontdesk.store.sql import events
from tests.factories import Api, make_agent
from tests.web.support import PASSWORD, csrf_of

ACTOR = {"kind": "agent", "agent_id": None}
DAY = dt.datetime(2026, 5, 12, 9, tzinfo=dt.UTC)
RANGE = "from=2026-05-11&to=2026-05-12"


def _log_in(client: TestClient, admin: Api, role: str) -> None:  # type: ignore[type-arg]
    email = f"reports-{role}@example.test"
    agent_id = make_agent(admin.db, role, email=email)
    admin.db.write_sync(lambda c: set_password(c, agent_id, PASSWORD))
    form = {"email": email, "password": PASSWORD, "_csrf_token": csrf_of(client.get("/login").text)}
    assert client.post("/login", data=form, follow_redirects=False).status_code == 302


def _conversations(admin: Api) -> int:
    """Two conversations opened on the 12th, one closed; the team's name is markup. The team's id."""
    channel = admin.channel()["id"]
    team = admin.post("/api/v1/teams", {"name": "<b>Sales</b>"}).json()["id"]
    assigned = {"agent_id": None, "team_id": team, "previous_agent_id": None, "strategy": None, "reason": "r"}
    log = [
        (1, DAY, ev.CONVERSATION_OPENED, {"source": "contact", "channel_id": channel, "actor": ACTOR}),
        (1, DAY, ev.CONVERSATION_ASSIGNED, {**assigned, "actor": ACTOR}),
        (2, DAY, ev.CONVERSATION_OPENED, {"source": "api", "channel_id": channel, "actor": ACTOR}),
        (
            2,
            DAY.replace(hour=11),
            ev.CONVERSATION_CLOSED,
            {"actor": ACTOR, "note": None, "category": None, "assignee_id": None},
        ),
    ]
    for conversation, at, type_, payload in log:
        admin.db.write_sync(lambda c, k=conversation, a=at, t=type_, p=payload: events.append(c, t, p, k, k, a))  # type: ignore[misc]
    while admin.db.write_sync(lambda c: fold_events(c, ZoneInfo("UTC"))):
        pass
    return int(team)


def _cells(html: str, table: str) -> list[list[str]]:
    body = re.search(rf'<table id="{table}">.*?<tbody>(.*?)</tbody>', html, re.S)
    assert body, f"no table {table}"
    return [re.findall(r"<td>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", body[1], re.S)]


def test_the_page_shows_the_numbers_of_the_csv(client: TestClient, admin: Api) -> None:  # type: ignore[type-arg]
    _conversations(admin)
    _log_in(client, admin, "manager")

    page = client.get(f"/reports?{RANGE}")
    csv_link = re.search(r'href="(/api/v1/reports/conversations\.csv\?[^"]+)"', page.text)
    assert page.status_code == 200 and csv_link
    rows = list(csv.DictReader(io.StringIO(client.get(csv_link[1].replace("&amp;", "&")).text)))

    numbers = {(r["section"], r["key"], r["measure"]): r["value"] for r in rows}
    assert re.search(r'id="total-opened">(\d+)<', page.text)[1] == numbers[("totals", "", "opened")] == "2"  # type: ignore[index]
    assert re.search(r'id="total-closed">(\d+)<', page.text)[1] == numbers[("totals", "", "closed")] == "1"  # type: ignore[index]
    assert _cells(page.text, "series") == [
        [day, numbers[("series", day, "opened")], numbers[("series", day, "closed")]]
        for day in ("2026-05-11", "2026-05-12")
    ]


def test_the_charts_are_svg_with_escaped_labels(client: TestClient, admin: Api) -> None:  # type: ignore[type-arg]
    _conversations(admin)
    _log_in(client, admin, "manager")

    page = client.get(f"/reports?{RANGE}").text

    assert page.count('<rect class="bar opened"') >= 2 and '<svg class="chart"' in page
    assert "&lt;b&gt;Sales&lt;/b&gt;" in page and "<b>Sales</b>" not in page
    assert '<a href="/reports">Reports</a>' in page


def test_a_filter_narrows_the_page_and_a_bad_range_is_named(client: TestClient, admin: Api) -> None:  # type: ignore[type-arg]
    team = _conversations(admin)
    _log_in(client, admin, "manager")

    narrowed = client.get(f"/reports?{RANGE}&team_id={team}")
    reversed_range = client.get("/reports?from=2026-05-12&to=2026-05-01", headers={"accept": "text/html"})

    assert re.search(r'id="total-opened">(\d+)<', narrowed.text)[1] == "1"  # type: ignore[index]
    assert reversed_range.status_code == 422 and "is before from" in reversed_range.text


def test_an_agent_may_not_see_the_reports_page(client: TestClient, admin: Api) -> None:  # type: ignore[type-arg]
    _log_in(client, admin, "agent")
    assert client.get("/reports", follow_redirects=False).status_code == 403
    assert client.get("/api/v1/reports/conversations.csv").status_code == 403


def test_the_page_shows_each_agents_time_online_and_away(client: TestClient, admin: Api) -> None:  # type: ignore[type-arg]
    ada = make_agent(admin.db, name="<i>Ada</i>", availability="offline")
    for at, new in ((DAY, "online"), (DAY.replace(hour=16, minute=30), "away"), (DAY.replace(hour=17), "offline")):
        payload = {"agent_id": ada, "old": "offline", "new": new, "actor": ACTOR}
        admin.db.write_sync(
            lambda c, p=payload, a=at: events.append(c, ev.AGENT_AVAILABILITY_CHANGED, p, None, None, a)
        )  # type: ignore[misc]
    while admin.db.write_sync(lambda c: fold_events(c, ZoneInfo("UTC"))):
        pass
    _log_in(client, admin, "manager")

    page = client.get(f"/reports?{RANGE}&agent_id={ada}").text

    [row] = _cells(page, "agents")
    assert row[1:] == ["7 h 30 min", "30 min", "0", "0"]
    assert "&lt;i&gt;Ada&lt;/i&gt;" in row[0]
