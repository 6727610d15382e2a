"""The send_template step: validated against the channels' templates (every problem listed with
its step), its parameters templated like send_message's text, sent by a run outside WhatsApp's
24-hour window where send_message fails its run with the window's reason (shown on the run page)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from frontdesk.actions.sessions import set_password
from frontdesk.settings import Settings
from tests.channels.conversations import one_conversation
from tests.channels.whatsapp_support import FakeGraph, create_channel, payload, post_webhook
from tests.engine.support import install, thread
from tests.factories import Api, eventually
from tests.web.support import PASSWORD, csrf_of

ORDER_UPDATE = {"name": "order_update", "language": "en_US", "parameters": 2}
FOLLOW_UP = {
    "id": "follow_up",
    "type": "send_template",
    "template": "order_update",
    "language": "en_US",
    "parameters": ["{{ contact.first_name }}", "{{ vars.order | default('#1042') }}"],
}


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    fake = FakeGraph()
    yield fake
    fake.close()


@pytest.fixture
def settings(db_url: str, graph: FakeGraph) -> Settings:
    return Settings(
        database_url=db_url, delivery_backoff_seconds=0.05, log_format="text", whatsapp_graph_base_url=graph.url
    )


@pytest.fixture
def channel(admin: Api) -> dict[str, Any]:
    made = create_channel(admin)
    response = admin.patch(f"/api/v1/channels/{made['id']}", {"templates": [ORDER_UPDATE]})
    assert response.status_code == 200, response.text
    return dict(response.json())


def contact_wrote_long_ago(admin: Api, channel: dict[str, Any]) -> int:
    post_webhook(admin, channel["id"], payload("text"))
    when = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=30)).replace(tzinfo=None).isoformat(sep=" ")
    admin.db.write_sync(
        lambda c: c.execute(text("UPDATE messages SET created_at = :at WHERE direction = 'in'"), {"at": when})
    )
    return one_conversation(admin)


def run_manually(admin: Api, steps: list[dict[str, Any]]) -> dict[str, Any]:
    workflow_id = install(admin, {"name": "Follow-up", "trigger": {"event": "manual"}, "steps": steps})
    [contact] = admin.get("/api/v1/contacts").json()
    started = admin.post(f"/api/v1/workflows/{workflow_id}/runs", {"contact_id": contact["id"]})
    assert started.status_code == 201, started.text
    run_id = started.json()["id"]
    return eventually(
        lambda: (r := admin.get(f"/api/v1/runs/{run_id}").json())["status"] in ("completed", "failed") and r,
        "the run's end",
    )


def validate(admin: Api, step: dict[str, Any]) -> set[tuple[str | None, str, str]]:
    definition = {"name": "V", "trigger": {"event": "manual"}, "steps": [step]}
    report = admin.post("/api/v1/workflows/validate", {"definition": definition}).json()
    return {(p["step"], p["path"], p["message"]) for p in report["problems"]}


def test_a_known_template_with_its_parameters_validates(admin: Api, channel: dict[str, Any]) -> None:
    assert validate(admin, FOLLOW_UP) == set()


def test_an_unknown_template_is_listed_with_the_step(admin: Api, channel: dict[str, Any]) -> None:
    problems = validate(admin, {**FOLLOW_UP, "template": "welcome"})

    assert problems == {
        ("follow_up", "template", "template welcome (en_US) is not configured (configured: order_update (en_US))")
    }


def test_the_wrong_number_of_parameters_is_listed_with_the_step(admin: Api, channel: dict[str, Any]) -> None:
    problems = validate(admin, {**FOLLOW_UP, "parameters": ["{{ contact.first_name }}"]})

    assert problems == {("follow_up", "parameters", "template order_update (en_US) takes 2 parameter(s), not 1")}


def test_a_broken_parameter_template_is_listed_with_its_path(admin: Api, channel: dict[str, Any]) -> None:
    problems = validate(admin, {**FOLLOW_UP, "parameters": ["{{ oops", "x"]})

    assert [path for _, path, _ in problems] == ["parameters[0]"]


def test_a_run_sends_the_template_outside_the_window_with_rendered_parameters(
    admin: Api, channel: dict[str, Any], graph: FakeGraph
) -> None:
    conversation_id = contact_wrote_long_ago(admin, channel)

    run = run_manually(admin, [FOLLOW_UP])

    assert run["status"] == "completed", run
    assert run["steps"][0]["output"] == {
        "template": "order_update",
        "language": "en_US",
        "parameters": ["Sheena", "#1042"],
    }
    [request] = eventually(lambda: graph.sent, "the send")
    assert request.problem is None
    assert request.body["template"]["components"][0]["parameters"][0] == {"type": "text", "text": "Sheena"}
    assert thread(admin, conversation_id)[-1]["text"] == "[template order_update (en_US)] Sheena · #1042"


def test_a_template_the_channel_no_longer_lists_fails_the_run_naming_it(
    admin: Api, channel: dict[str, Any], graph: FakeGraph
) -> None:
    contact_wrote_long_ago(admin, channel)
    workflow_id = install(admin, {"name": "Follow-up", "trigger": {"event": "manual"}, "steps": [FOLLOW_UP]})
    assert admin.patch(f"/api/v1/channels/{channel['id']}", {"templates": []}).status_code == 200
    [contact] = admin.get("/api/v1/contacts").json()

    run_id = admin.post(f"/api/v1/workflows/{workflow_id}/runs", {"contact_id": contact["id"]}).json()["id"]
    run = eventually(lambda: (r := admin.get(f"/api/v1/runs/{run_id}").json())["status"] == "failed" and r, "run")

    assert "template order_update (en_US) is not configured" in run["steps"][0]["error"]
    assert graph.sent == []


def test_send_message_outside_the_window_fails_its_run_and_the_run_page_says_why(
    admin: Api, channel: dict[str, Any], graph: FakeGraph
) -> None:
    contact_wrote_long_ago(admin, channel)

    run = run_manually(admin, [{"id": "nudge", "type": "send_message", "text": "Still interested?"}])

    assert run["status"] == "failed"
    assert "outside WhatsApp's 24-hour window: send a template" in run["steps"][0]["error"]
    assert "outside WhatsApp's 24-hour window" in run["end_reason"]
    page = logged_in_page(admin, f"/runs/{run['id']}")
    assert "outside WhatsApp&#39;s 24-hour window: send a template" in page
    assert graph.sent == []


def logged_in_page(admin: Api, path: str) -> str:
    """The page as the admin sees it in a browser (a web session, not the API token)."""
    email = "manager@runs.test"
    made = admin.post("/api/v1/agents", {"name": "Manager", "email": email, "role": "admin"}).json()
    admin.db.write_sync(lambda c: set_password(c, made["id"], PASSWORD))
    client = admin.client
    form = {"email": email, "password": PASSWORD, "_csrf_token": csrf_of(client.get("/login").text)}
    assert client.post("/login", data=form, follow_redirects=False).status_code == 302
    return str(client.get(path, headers={"accept": "text/html"}).text)


def test_a_dry_run_shows_the_template_it_would_send_and_sends_nothing(
    admin: Api, channel: dict[str, Any], graph: FakeGraph
) -> None:
    definition = {"name": "Follow-up", "trigger": {"event": "manual"}, "steps": [FOLLOW_UP]}
    workflow = admin.post("/api/v1/workflows", {"definition": definition}).json()

    result = admin.post(f"/api/v1/workflows/{workflow['id']}/dry-run", {"contact": {"name": "Ada Byron"}}).json()

    assert result["status"] == "completed"
    assert result["effects"] == [{"send_template": "order_update", "language": "en_US", "parameters": ["Ada", "#1042"]}]
    assert graph.sent == []
