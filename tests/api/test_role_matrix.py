"""The role matrix: every operation of the OpenAPI document, for an agent of the team that holds a
conversation and for an agent of another team.

`tests/api/test_auth.py` holds `LEAST_ROLE` (operation -> least role) and proves, per operation,
401 without a token, 403 below the role and a pass at or above it. `SCOPE` here declares what
each operation reaches: a conversation, a contact, a run (an agent of another team gets 404, as
for something that does not exist, and changes nothing), a list filtered by what the caller may
see, or nothing scoped. Both tables must list exactly the operations the app serves, so a new
route fails here until its access is declared.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient

from frontdesk.server import create_app
from frontdesk.settings import Settings
from tests.api.test_auth import LEAST_ROLE, PUBLIC, Operation, served_operations
from tests.databases import Databases
from tests.factories import Api, eventually, make_agent, make_token

CONVERSATION, CONTACT, RUN, FILTERED, UNSCOPED = "conversation", "contact", "run", "filtered list", "unscoped"
ATTACHMENT = "attachment"
_CONVERSATION_OPS = ["", "/messages", "/template", "/close", "/assign", "/transfer", "/reopen", "/unassign"]

SCOPE: dict[Operation, str] = {
    **{op: UNSCOPED for op in LEAST_ROLE},
    ("GET", "/api/v1/conversations"): FILTERED,
    ("GET", "/api/v1/contacts"): FILTERED,
    ("GET", "/api/v1/runs"): FILTERED,
    ("GET", "/api/v1/conversations/{conversation_id}"): CONVERSATION,
    ("GET", "/api/v1/conversations/{conversation_id}/messages"): CONVERSATION,
    ("POST", "/api/v1/conversations/{conversation_id}/messages"): CONVERSATION,
    ("POST", "/api/v1/conversations/{conversation_id}/template"): CONVERSATION,
    ("POST", "/api/v1/conversations/{conversation_id}/messages/upload"): CONVERSATION,
    ("GET", "/api/v1/attachments/{attachment_id}/content"): ATTACHMENT,
    ("POST", "/api/v1/conversations/{conversation_id}/close"): CONVERSATION,
    ("POST", "/api/v1/conversations/{conversation_id}/assign"): CONVERSATION,
    ("POST", "/api/v1/conversations/{conversation_id}/transfer"): CONVERSATION,
    ("POST", "/api/v1/conversations/{conversation_id}/reopen"): CONVERSATION,
    ("POST", "/api/v1/conversations/{conversation_id}/unassign"): CONVERSATION,
    ("GET", "/api/v1/contacts/{contact_id}"): CONTACT,
    ("PATCH", "/api/v1/contacts/{contact_id}"): CONTACT,
    ("GET", "/api/v1/runs/{run_id}"): RUN,
}
SCOPED = sorted(op for op, scope in SCOPE.items() if scope in (CONVERSATION, CONTACT, RUN, ATTACHMENT))
LISTS = {
    ("GET", "/api/v1/conversations"): "conversation_id",
    ("GET", "/api/v1/contacts"): "contact_id",
    ("GET", "/api/v1/runs"): "run_id",
}
BODIES: dict[Operation, dict[str, Any]] = {
    ("POST", "/api/v1/conversations/{conversation_id}/messages"): {"text": "Not mine to answer"},
    ("POST", "/api/v1/conversations/{conversation_id}/template"): {"name": "order_update", "language": "en"},
    ("POST", "/api/v1/conversations/{conversation_id}/close"): {"note": "closed by a stranger"},
    ("POST", "/api/v1/conversations/{conversation_id}/assign"): {"team_id": 0},  # the stranger's team
    ("POST", "/api/v1/conversations/{conversation_id}/transfer"): {"team_id": 0, "reason": "mine now"},
    ("PATCH", "/api/v1/contacts/{contact_id}"): {"name": "Renamed", "add_tags": ["stolen"]},
}
FILES = [("files", ("receipt.txt", b"order 42", "text/plain"))]
GREETING = {
    "name": "Greeting",
    "trigger": {"event": "conversation.opened"},
    "steps": [{"id": "hello", "type": "send_message", "text": "Hello, we are on it."}],
}


@dataclass
class Office:
    admin: Api
    team_agent: Api  # an agent of Support, which holds the conversation
    stranger: Api  # an agent of Billing only
    ids: dict[str, int]


def _build(admin: Api) -> Office:
    workflow = admin.post("/api/v1/workflows", {"definition": GREETING}).json()["id"]
    assert admin.post(f"/api/v1/workflows/{workflow}/publish").status_code == 200
    assert admin.post(f"/api/v1/workflows/{workflow}/enable").status_code == 200
    support = admin.post("/api/v1/teams", {"name": "Support"}).json()["id"]
    billing = admin.post("/api/v1/teams", {"name": "Billing"}).json()["id"]
    mine, theirs = make_agent(admin.db), make_agent(admin.db)
    assert admin.put(f"/api/v1/teams/{support}/members/{mine}").status_code == 201
    assert admin.put(f"/api/v1/teams/{billing}/members/{theirs}").status_code == 201
    receipt = admin.inbound(admin.channel()["id"], "ada", "My order is late", name="Ada").json()
    conversation = receipt["conversation_id"]
    run = eventually(lambda: admin.get("/api/v1/runs", conversation_id=conversation).json(), "the greeting's run")
    assert admin.post(f"/api/v1/conversations/{conversation}/assign", {"team_id": support}).status_code == 200
    uploaded = admin.client.post(
        f"/api/v1/conversations/{conversation}/messages/upload", files=FILES, headers=admin.headers
    ).json()
    ids = {
        "conversation_id": conversation,
        "attachment_id": uploaded["attachments"][0]["id"],
        "contact_id": receipt["contact_id"],
        "run_id": run[0]["id"],
        "billing": billing,
    }
    team_agent = Api(admin.client, make_token(admin.db, "agent", mine))
    return Office(admin, team_agent, Api(admin.client, make_token(admin.db, "agent", theirs)), ids)


@pytest.fixture(scope="module")
def office(template_db: Databases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Office]:
    """One office for the module: every request below is either a read or refused."""
    folder = tmp_path_factory.mktemp("matrix")
    url, media = template_db.new(folder), str(folder / "media")
    settings = Settings(database_url=url, log_format="text", token_cache_seconds=0, media_dir=media)
    with TestClient(create_app(settings)) as client:
        yield _build(Api(client, make_token(client.app.state.db, "admin")))


def _call(office: Office, caller: Api, operation: Operation) -> httpx.Response:
    method, template = operation
    body = BODIES.get(operation)
    if body is not None and "team_id" in body:
        body = {**body, "team_id": office.ids["billing"]}
    path = template.format(**office.ids)
    if template.endswith("/upload"):
        return caller.client.request(method, path, files=FILES, headers=caller.headers)
    return caller.client.request(method, path, json=body, headers=caller.headers)


def _op_id(operation: Operation) -> str:
    return " ".join(operation)


def test_every_operation_the_openapi_document_lists_declares_its_scope(office: Office) -> None:
    served = served_operations(office.admin.client)

    assert sorted(served - SCOPE.keys()) == [], "operations without a scope in SCOPE"
    assert sorted(SCOPE.keys() - served) == [], "SCOPE lists operations the API does not serve"
    assert SCOPE.keys() == LEAST_ROLE.keys()


def test_every_scoped_operation_is_open_to_agents_so_its_scope_is_what_protects_it() -> None:
    assert {LEAST_ROLE[op] for op in SCOPED + list(LISTS)} == {"agent"}
    assert all(LEAST_ROLE[op] != PUBLIC for op in SCOPED)


@pytest.mark.parametrize("operation", SCOPED, ids=_op_id)
def test_an_agent_of_another_team_gets_404_and_changes_nothing(office: Office, operation: Operation) -> None:
    before = office.admin.events()
    thing = SCOPE[operation]

    response = _call(office, office.stranger, operation)

    assert response.status_code == 404, response.text
    assert response.json()["detail"] == f"{thing} {office.ids[f'{thing}_id']} does not exist"
    assert office.admin.events() == before


@pytest.mark.parametrize("operation", [op for op in SCOPED if op[0] == "GET"], ids=_op_id)
def test_an_agent_of_the_team_reads_what_their_team_holds(office: Office, operation: Operation) -> None:
    response = _call(office, office.team_agent, operation)

    assert response.status_code == 200, response.text


@pytest.mark.parametrize("operation", sorted(LISTS), ids=_op_id)
def test_a_list_shows_the_teams_item_to_its_agent_and_hides_it_from_another_team(
    office: Office, operation: Operation
) -> None:
    wanted = office.ids[LISTS[operation]]

    for caller, shown in ((office.team_agent, True), (office.stranger, False), (office.admin, True)):
        listed = _call(office, caller, operation)
        assert listed.status_code == 200, listed.text
        assert (wanted in [item["id"] for item in listed.json()]) is shown


def test_another_teams_agent_sees_workflow_names_but_not_their_definitions(office: Office) -> None:
    listed = office.stranger.get("/api/v1/workflows").json()

    assert [w["name"] for w in listed] == ["Greeting"]
    assert "draft" not in listed[0] and "webhook_key" not in listed[0]
