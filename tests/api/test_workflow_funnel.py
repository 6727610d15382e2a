"""The workflow funnel through the app: runs built with known timestamps (the engine driven at given
times before the app starts) give their branch counts, timeouts, abandonment and time buckets; the
JSON, the CSV and the page say the same numbers; agents are refused; bad input names its parameter."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from frontdesk.engine.funnel import fold_steps
from frontdesk.server import create_app
from frontdesk.settings import Settings
from frontdesk.store.database import Database
from tests.engine.test_workflow_funnel import play_known_runs
from tests.factories import Api, make_token
from tests.web.test_reports_page import _log_in

DAY = {"from": "2026-03-01", "to": "2026-03-01"}  # the runs start at 2026-03-01 12:00 UTC


@pytest.fixture
def played(db: Database, settings: Settings) -> Iterator[tuple[TestClient, Api, int]]:  # type: ignore[type-arg]
    """The known runs, folded, then the app on the same database (nothing left for its engine)."""
    play_known_runs(db)
    while db.write_sync(fold_steps):
        pass
    with TestClient(create_app(settings)) as client:
        admin = Api(client, make_token(client.app.state.db, "admin"))
        workflow_id = int(admin.get("/api/v1/workflows").json()[0]["id"])
        yield client, admin, workflow_id


def _funnel(admin: Api, workflow_id: int, **params: Any) -> dict[str, Any]:
    response = admin.get(f"/api/v1/reports/workflows/{workflow_id}/funnel", **params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_the_funnel_counts_branches_timeouts_abandonment_and_time_at_each_step(
    played: tuple[TestClient, Api, int],  # type: ignore[type-arg]
) -> None:
    _, admin, workflow_id = played

    found = _funnel(admin, workflow_id, **DAY)

    assert (found["workflow"], found["version"], found["versions"], found["runs"]) == ("Triage", 1, [1], 4)
    steps = {s["id"]: s for s in found["steps"]}
    assert list(steps) == ["ask", "route", "to_sales", "to_support", "sorry"]
    ask = steps["ask"]
    assert {k: ask[k] for k in ("type", "entered", "waiting", "timed_out", "failed", "abandoned")} == {
        "type": "ask_question",
        "entered": 4,
        "waiting": 0,
        "timed_out": 1,
        "failed": 0,
        "abandoned": 1,
    }
    assert ask["branches"] == [
        {"branch": "answered", "target": "route", "count": 2},
        {"branch": "invalid", "target": "to_support", "count": 0},
        {"branch": "timed_out", "target": "to_support", "count": 1},
    ]
    # 30 s, 40 s, 50 s, 61 s: the median falls in the bucket up to 60 s, the 90th in the one up to 2 min
    assert ask["time"] == {"count": 4, "p50_seconds": 60, "p90_seconds": 120}
    assert [b["count"] for b in steps["route"]["branches"]] == [1, 1]  # sales, else
    assert {b["branch"]: b["count"] for b in steps["to_support"]["branches"]} == {
        "assigned": 1,
        "nobody_available": 1,
        "timed_out": 0,
    }
    assert steps["sorry"]["branches"] == [{"branch": "next", "target": None, "count": 1}]


def test_runs_started_outside_the_range_are_not_counted(played: tuple[TestClient, Api, int]) -> None:  # type: ignore[type-arg]
    _, admin, workflow_id = played

    found = _funnel(admin, workflow_id, **{"from": "2026-03-02", "to": "2026-03-03"})

    assert found["runs"] == 0 and all(s["entered"] == 0 for s in found["steps"])


def test_the_csv_and_the_page_say_what_the_json_says(played: tuple[TestClient, Api, int]) -> None:  # type: ignore[type-arg]
    client, admin, workflow_id = played
    found = _funnel(admin, workflow_id, **DAY)
    _log_in(client, admin, "manager")

    page = client.get(f"/reports/workflows/{workflow_id}/funnel?from=2026-03-01&to=2026-03-01")
    assert page.status_code == 200, page.text
    csv_link = re.search(r'href="(/api/v1/reports/workflows/\d+/funnel\.csv\?[^"]+)"', page.text)
    assert csv_link
    rows = list(csv.DictReader(io.StringIO(client.get(csv_link[1].replace("&amp;", "&")).text)))

    numbers = {(r["step"], r["measure"], r["label"]): r["value"] for r in rows}
    assert numbers[("", "runs", "")] == str(found["runs"]) == re.search(r'id="runs">(\d+)<', page.text)[1]  # type: ignore[index]
    for step in found["steps"]:
        for measure in ("entered", "timed_out", "abandoned", "failed", "waiting"):
            assert numbers[(step["id"], measure, "")] == str(step[measure])
        for branch in step["branches"]:
            assert numbers[(step["id"], "branch", branch["branch"])] == str(branch["count"])
        cells = re.search(rf'<tr data-step="{step["id"]}"><td>.*?</td><td>(\d+)</td>', page.text, re.S)
        assert cells and cells[1] == str(step["entered"])
    # drawn on the workflow's drawing: counts on the arrows, the question marked where runs were lost
    assert "answered (2)" in page.text and "timed_out (1)" in page.text
    assert re.search(r'<g class="step alert" data-step="ask">', page.text)
    assert "1 timed out, 1 abandoned" in page.text


def test_the_funnel_is_reachable_from_the_reports_and_the_workflow_pages(
    played: tuple[TestClient, Api, int],  # type: ignore[type-arg]
) -> None:
    client, admin, workflow_id = played
    _log_in(client, admin, "manager")

    assert f'href="/reports/workflows/{workflow_id}/funnel?' in client.get("/reports").text
    assert f'href="/reports/workflows/{workflow_id}/funnel"' in client.get(f"/workflows/{workflow_id}").text


def test_agents_may_not_read_the_funnel(played: tuple[TestClient, Api, int]) -> None:  # type: ignore[type-arg]
    client, admin, workflow_id = played
    agent = Api(client, make_token(admin.db, "agent"))

    for path in ("funnel", "funnel.csv"):
        assert agent.get(f"/api/v1/reports/workflows/{workflow_id}/{path}").status_code == 403
    _log_in(client, admin, "agent")
    assert client.get(f"/reports/workflows/{workflow_id}/funnel").status_code == 403


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"version": "7"}, 422, "version"),
        ({"from": "2026-03-02", "to": "2026-03-01"}, 422, "to"),
        ({"from": "2025-01-01", "to": "2026-03-01"}, 422, "from"),
        ({"period": "day"}, 400, "period"),
    ],
)
def test_bad_input_is_refused_naming_the_parameter(
    played: tuple[TestClient, Api, int],  # type: ignore[type-arg]
    params: dict[str, str],
    status: int,
    field: str,
) -> None:
    _, admin, workflow_id = played

    for path in ("funnel", "funnel.csv"):
        response = admin.get(f"/api/v1/reports/workflows/{workflow_id}/{path}", **params)
        assert response.status_code == status, response.text
        assert response.json()["field"] == field


def test_a_malformed_version_or_date_is_refused(played: tuple[TestClient, Api, int]) -> None:  # type: ignore[type-arg]
    _, admin, workflow_id = played

    for params in ({"version": "0"}, {"version": "two"}, {"from": "01/03/2026"}):
        response = admin.get(f"/api/v1/reports/workflows/{workflow_id}/funnel", **params)
        assert response.status_code == 400, response.text


def test_a_workflow_that_does_not_exist_or_was_never_published_has_no_funnel(
    played: tuple[TestClient, Api, int],  # type: ignore[type-arg]
) -> None:
    _, admin, _ = played
    definition = {
        "name": "Draft",
        "trigger": {"event": "conversation.opened"},
        "steps": [{"id": "hi", "type": "send_message", "text": "Hi"}],
    }
    draft = admin.post("/api/v1/workflows", {"definition": definition})
    assert draft.status_code == 201, draft.text

    assert admin.get("/api/v1/reports/workflows/999999/funnel").status_code == 404
    never = admin.get(f"/api/v1/reports/workflows/{draft.json()['id']}/funnel")
    assert never.status_code == 422 and never.json()["field"] == "version"


def test_the_page_escapes_the_names_and_labels_it_draws(played: tuple[TestClient, Api, int]) -> None:  # type: ignore[type-arg]
    client, admin, _ = played
    markup = "<img src=x onerror=alert(1)>"
    branch = {
        "label": markup,
        "next": "bye",
        "when": {"all": [{"field": "message.text", "operator": "equals", "value": "x"}]},
    }
    definition = {
        "name": f"<b>{markup}</b>",
        "trigger": {"event": "conversation.opened"},
        "steps": [
            {"id": "route", "type": "branch", "label": markup, "branches": [branch], "else": "bye"},
            {"id": "bye", "type": "send_message", "text": "Bye"},
        ],
    }
    created = admin.post("/api/v1/workflows", {"definition": definition})
    assert created.status_code == 201, created.text
    workflow_id = created.json()["id"]
    assert admin.post(f"/api/v1/workflows/{workflow_id}/publish").status_code == 200
    _log_in(client, admin, "manager")

    page = client.get(f"/reports/workflows/{workflow_id}/funnel")

    assert page.status_code == 200, page.text
    assert markup not in page.text
    assert "&lt;img src=x onerror=alert(1)&gt; (0)" in page.text  # on the arrow, with its count
    assert markup not in client.get("/reports").text
