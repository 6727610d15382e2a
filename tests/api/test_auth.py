"""Authentication and roles, checked on every operation the API's OpenAPI document lists.

`LEAST_ROLE` is the contract: the least role each operation needs. It must cover exactly the
operations the served OpenAPI document lists, so a new route without an entry fails here.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient

from frontdesk.channels import signing
from frontdesk.server import create_app
from frontdesk.settings import Settings
from tests.databases import Databases
from tests.factories import Api, make_agent, make_token

Operation = tuple[str, str]

PUBLIC = "public"
METRICS = "metrics token"  # FRONTDESK_METRICS_TOKEN only, no API token (tests/api/test_metrics.py)
MISSING = 999_999  # an id nothing has
ROLES = ["agent", "manager", "admin"]  # rising: each role may do all that a lower one may

LEAST_ROLE: dict[Operation, str] = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/metrics"): METRICS,
    # contacts and their field definitions
    ("GET", "/api/v1/contacts"): "agent",
    ("GET", "/api/v1/contacts/{contact_id}"): "agent",
    ("PATCH", "/api/v1/contacts/{contact_id}"): "agent",
    ("GET", "/api/v1/contact-fields"): "agent",
    ("POST", "/api/v1/contact-fields"): "manager",
    # conversations
    ("GET", "/api/v1/conversations"): "agent",
    ("POST", "/api/v1/conversations"): "agent",
    ("GET", "/api/v1/conversations/{conversation_id}"): "agent",
    ("GET", "/api/v1/conversations/{conversation_id}/messages"): "agent",
    ("POST", "/api/v1/conversations/{conversation_id}/messages"): "agent",
    ("POST", "/api/v1/conversations/{conversation_id}/messages/upload"): "agent",
    ("POST", "/api/v1/conversations/{conversation_id}/template"): "agent",
    ("POST", "/api/v1/conversations/{conversation_id}/close"): "agent",
    ("POST", "/api/v1/conversations/{conversation_id}/assign"): "agent",
    ("POST", "/api/v1/conversations/{conversation_id}/transfer"): "agent",
    ("POST", "/api/v1/conversations/{conversation_id}/reopen"): "agent",
    ("POST", "/api/v1/conversations/{conversation_id}/unassign"): "agent",
    # a CSAT rating an integration collected itself (its own survey): not an agent's to give
    ("POST", "/api/v1/conversations/{conversation_id}/rating"): "manager",
    # attachments' content (also by inbox session: tests/web/test_attachments.py)
    ("GET", "/api/v1/attachments/{attachment_id}/content"): "agent",
    # agents (an agent may PATCH only their own availability: see the tests further down)
    ("GET", "/api/v1/agents"): "agent",
    ("POST", "/api/v1/agents"): "manager",
    ("GET", "/api/v1/agents/{agent_id}"): "agent",
    ("PATCH", "/api/v1/agents/{agent_id}"): "agent",
    # teams
    ("GET", "/api/v1/teams"): "agent",
    ("POST", "/api/v1/teams"): "manager",
    ("GET", "/api/v1/teams/{team_id}"): "agent",
    ("PATCH", "/api/v1/teams/{team_id}"): "manager",
    ("GET", "/api/v1/teams/{team_id}/queue"): "agent",
    ("GET", "/api/v1/teams/{team_id}/stats"): "agent",
    ("PUT", "/api/v1/teams/{team_id}/members/{agent_id}"): "manager",
    ("DELETE", "/api/v1/teams/{team_id}/members/{agent_id}"): "manager",
    # channels; inbound also takes the channel's signature instead of a token
    ("GET", "/api/v1/channels"): "manager",
    ("POST", "/api/v1/channels"): "admin",
    ("GET", "/api/v1/channels/{channel_id}"): "manager",
    ("PATCH", "/api/v1/channels/{channel_id}"): "admin",
    ("POST", "/api/v1/channels/{channel_id}/inbound"): "manager",
    ("POST", "/api/v1/channels/{channel_id}/secret/rotate"): "admin",
    ("POST", "/api/v1/channels/{channel_id}/check"): "manager",  # asks the provider; changes nothing
    # WhatsApp's webhooks: the channel's verify token and app-secret signature are the credential
    ("GET", "/webhooks/whatsapp/{channel_id}"): PUBLIC,
    ("POST", "/webhooks/whatsapp/{channel_id}"): PUBLIC,
    # Telegram's webhook: the channel's secret token header is the credential
    ("POST", "/webhooks/telegram/{channel_id}"): PUBLIC,
    # Twilio's webhook: the auth token's X-Twilio-Signature is the credential
    ("POST", "/webhooks/twilio/{channel_id}"): PUBLIC,
    # Messenger's and Instagram's webhooks: as WhatsApp's, the verify token and app-secret signature
    ("GET", "/webhooks/meta/{channel_id}"): PUBLIC,
    ("POST", "/webhooks/meta/{channel_id}"): PUBLIC,
    # the event log and API tokens
    ("GET", "/api/v1/events"): "manager",
    # reports (issue 16)
    ("GET", "/api/v1/reports/conversations"): "manager",
    ("GET", "/api/v1/reports/conversations.csv"): "manager",
    ("GET", "/api/v1/reports/workflows/{workflow_id}/funnel"): "manager",
    ("GET", "/api/v1/reports/workflows/{workflow_id}/funnel.csv"): "manager",
    ("GET", "/api/v1/tokens"): "admin",
    ("POST", "/api/v1/tokens"): "admin",
    ("DELETE", "/api/v1/tokens/{token_id}"): "admin",
    # named secrets: names for managers (who write workflows), values written by admins only
    ("GET", "/api/v1/secrets"): "manager",
    ("PUT", "/api/v1/secrets/{name}"): "admin",
    ("DELETE", "/api/v1/secrets/{name}"): "admin",
    # outgoing event webhooks: subscriptions hold a signing secret and reach other systems
    ("GET", "/api/v1/webhooks"): "admin",
    ("POST", "/api/v1/webhooks"): "admin",
    ("GET", "/api/v1/webhooks/{webhook_id}"): "admin",
    ("PATCH", "/api/v1/webhooks/{webhook_id}"): "admin",
    ("DELETE", "/api/v1/webhooks/{webhook_id}"): "admin",
    ("POST", "/api/v1/webhooks/{webhook_id}/secret/rotate"): "admin",
    ("POST", "/api/v1/webhooks/{webhook_id}/replay"): "admin",
    ("GET", "/api/v1/webhooks/{webhook_id}/deliveries"): "admin",
    # workflows, their runs, and the incoming-webhook trigger (its key is the credential)
    ("GET", "/api/v1/workflows"): "agent",
    ("GET", "/api/v1/workflows/schema.json"): PUBLIC,
    ("POST", "/api/v1/workflows/validate"): "manager",
    ("POST", "/api/v1/workflows"): "manager",
    ("GET", "/api/v1/workflows/{workflow_id}"): "manager",
    ("PUT", "/api/v1/workflows/{workflow_id}/draft"): "manager",
    ("POST", "/api/v1/workflows/{workflow_id}/publish"): "manager",
    ("POST", "/api/v1/workflows/{workflow_id}/enable"): "manager",
    ("POST", "/api/v1/workflows/{workflow_id}/disable"): "manager",
    ("GET", "/api/v1/workflows/{workflow_id}/versions/{number}"): "manager",
    ("POST", "/api/v1/workflows/{workflow_id}/dry-run"): "manager",
    ("POST", "/api/v1/workflows/{workflow_id}/runs"): "manager",
    ("GET", "/api/v1/runs"): "agent",
    ("GET", "/api/v1/runs/{run_id}"): "agent",
    ("POST", "/api/v1/hooks/{key}"): PUBLIC,
}

# Operations whose requests below name no real object (no workflow is created here): past the
# guard they may end in a 4xx such as 404 or 422; every other operation must succeed.
NAMES_NO_REAL_OBJECT = {
    op
    for op in LEAST_ROLE
    if op[1].startswith(("/api/v1/workflows/{", "/api/v1/runs/{", "/api/v1/hooks/", "/api/v1/reports/workflows/{"))
} | {("POST", "/api/v1/workflows")}
# The shared conversation is open, so reopening or rating it is refused (409) once past the guard.
NAMES_NO_REAL_OBJECT |= {
    ("POST", "/api/v1/conversations/{conversation_id}/reopen"),
    ("POST", "/api/v1/conversations/{conversation_id}/rating"),
}
# The shared conversation is on an API channel, which sends no templates (409) once past the guard.
NAMES_NO_REAL_OBJECT |= {("POST", "/api/v1/conversations/{conversation_id}/template")}
# The shared channel is an API channel: the providers' webhooks (WhatsApp, Telegram, Twilio, Meta) answer 404 for it.
NAMES_NO_REAL_OBJECT |= {
    op
    for op in LEAST_ROLE
    if op[1].startswith(("/webhooks/whatsapp/", "/webhooks/telegram/", "/webhooks/twilio/", "/webhooks/meta/"))
}


@dataclass
class World:
    """One of everything an operation can name (ids fill the path templates), and a token per role."""

    admin: Api
    ids: dict[str, int]
    tokens: dict[str, str]
    secrets: dict[int, str] = field(default_factory=dict)

    @property
    def client(self) -> TestClient:  # type: ignore[type-arg]
        return self.admin.client

    def as_role(self, role: str) -> Api:
        return Api(self.client, self.tokens[role])


# A public address (an IP literal: nothing is resolved), subscribed to an event these tests never
# cause, so that no delivery leaves the machine.
HOOK_URL, NEVER_HERE = "https://93.184.215.14/hook", "webhook.disabled"


# Names that must be unique in a database (agents' e-mails, teams, field keys, token names), made
# unique by a number: the worlds of the tests below may share one database (`busy_world`).
_numbers = itertools.count(1)


def unique(name: str) -> str:
    return f"{name}{next(_numbers)}"


# A valid body for each operation that takes one, so that a caller with the role gets a 2xx.
BODIES: dict[Operation, Callable[[World], Any]] = {
    ("PATCH", "/api/v1/contacts/{contact_id}"): lambda w: {"name": "Ada Lovelace"},
    ("POST", "/api/v1/contact-fields"): lambda w: {"key": unique("plan_"), "label": "Plan", "type": "text"},
    ("POST", "/api/v1/conversations"): lambda w: {"contact_id": w.ids["contact_id"]},
    ("POST", "/api/v1/conversations/{conversation_id}/messages"): lambda w: {"text": "Hello Ada"},
    ("POST", "/api/v1/conversations/{conversation_id}/template"): lambda w: {
        "name": "order_update",
        "language": "en_US",
        "parameters": ["Ada"],
    },
    ("POST", "/api/v1/conversations/{conversation_id}/close"): lambda w: {"note": "answered"},
    ("POST", "/api/v1/conversations/{conversation_id}/rating"): lambda w: {"rating": 5},
    ("POST", "/api/v1/conversations/{conversation_id}/assign"): lambda w: {
        "agent_id": w.ids["agent_id"],
        "team_id": w.ids["team_id"],
    },
    ("POST", "/api/v1/agents"): lambda w: {"name": "Grace", "email": unique("grace") + "@example.test"},
    ("PATCH", "/api/v1/agents/{agent_id}"): lambda w: {"availability": "away"},
    ("POST", "/api/v1/teams"): lambda w: {"name": unique("Sales ")},
    ("PATCH", "/api/v1/teams/{team_id}"): lambda w: {"assignment": {"strategy": "least_open"}},
    ("POST", "/api/v1/conversations/{conversation_id}/transfer"): lambda w: {
        "team_id": w.ids["team_id"],
        "reason": "billing question",
    },
    ("POST", "/api/v1/channels"): lambda w: {"type": "api", "name": "Website"},
    ("PATCH", "/api/v1/channels/{channel_id}"): lambda w: {"name": "Shop backend"},
    ("POST", "/api/v1/channels/{channel_id}/inbound"): lambda w: {
        "contact": {"external_id": "ada"},
        "message": {"id": "auth-test-1", "text": "Are you there?"},
    },
    ("POST", "/api/v1/tokens"): lambda w: {"name": unique("ci "), "role": "agent"},
    ("PUT", "/api/v1/secrets/{name}"): lambda w: {"value": "crm-key"},
    ("POST", "/api/v1/webhooks"): lambda w: {"url": HOOK_URL, "event_types": [NEVER_HERE]},
    ("PATCH", "/api/v1/webhooks/{webhook_id}"): lambda w: {"event_types": [NEVER_HERE], "enabled": True},
    ("POST", "/api/v1/webhooks/{webhook_id}/replay"): lambda w: {"from_event_id": 1},
    ("POST", "/api/v1/workflows/validate"): lambda w: {"definition": {}},
    ("POST", "/api/v1/workflows"): lambda w: {"definition": {}},
    ("PUT", "/api/v1/workflows/{workflow_id}/draft"): lambda w: {"definition": {}},
    ("POST", "/api/v1/workflows/{workflow_id}/dry-run"): lambda w: {},
    ("POST", "/api/v1/workflows/{workflow_id}/runs"): lambda w: {},
    ("POST", "/api/v1/hooks/{key}"): lambda w: {"order": 42},
}


# Multipart bodies: an operation here sends files rather than JSON.
FILES: dict[Operation, list[tuple[str, tuple[str, bytes, str]]]] = {
    ("POST", "/api/v1/conversations/{conversation_id}/messages/upload"): [
        ("files", ("note.txt", b"see attached", "text/plain"))
    ],
}


def call(world: World, operation: Operation, headers: dict[str, str]) -> httpx.Response:
    method, template = operation
    path = template.format(**world.ids)
    if operation in FILES:
        return world.client.request(method, path, files=FILES[operation], headers=headers)
    make_body = BODIES.get(operation)
    if make_body is None:
        return world.client.request(method, path, headers=headers)
    return world.client.request(method, path, json=make_body(world), headers=headers)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == code, body
    assert isinstance(body["detail"], str) and body["detail"], body
    assert set(body) <= {"error", "detail", "field"}, body


def token_id(admin: Api, name: str) -> int:
    listed = admin.get("/api/v1/tokens").json()
    return int(next(t["id"] for t in listed if t["name"] == name))


def create_token(admin: Api, name: str, role: str) -> tuple[int, str]:
    response = admin.post("/api/v1/tokens", {"name": name, "role": role})
    assert response.status_code == 201, response.text
    return token_id(admin, name), str(response.json()["token"])


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """No token cache: a revoked token is refused on the next request."""
    return Settings(database_url=db_url, log_format="text", token_cache_seconds=0, media_dir=str(tmp_path / "media"))


def build_world(admin: Api) -> World:
    channel = admin.channel()
    other_channel = admin.channel()
    receipt = admin.inbound(channel["id"], "ada", "Hello", name="Ada").json()
    agent_id = make_agent(admin.db)  # holds the agent token
    other_agent_id = make_agent(admin.db)
    team = admin.post("/api/v1/teams", {"name": unique("Support ")}).json()
    assert admin.put(f"/api/v1/teams/{team['id']}/members/{agent_id}").status_code == 201
    spare_token_id, _ = create_token(admin, unique("spare "), "agent")
    secret_name = unique("CRM_KEY_")
    assert admin.put(f"/api/v1/secrets/{secret_name}", {"value": "crm-key"}).status_code == 201
    hook = admin.post("/api/v1/webhooks", {"url": HOOK_URL, "event_types": [NEVER_HERE]})
    assert hook.status_code == 201, hook.text
    uploaded = admin.client.post(
        f"/api/v1/conversations/{receipt['conversation_id']}/messages/upload",
        files=[("files", ("hello.txt", b"hello", "text/plain"))],
        headers=admin.headers,
    )
    assert uploaded.status_code == 201, uploaded.text
    return World(
        admin=admin,
        ids={
            "contact_id": receipt["contact_id"],
            "conversation_id": receipt["conversation_id"],
            "attachment_id": uploaded.json()["attachments"][0]["id"],
            "agent_id": agent_id,
            "other_agent_id": other_agent_id,
            "team_id": team["id"],
            "channel_id": channel["id"],
            "other_channel_id": other_channel["id"],
            "token_id": spare_token_id,
            "workflow_id": MISSING,
            "number": 1,
            "run_id": MISSING,
            "key": "no-such-key",
            "name": secret_name,
            "webhook_id": hook.json()["id"],
        },
        tokens={
            "agent": make_token(admin.db, "agent", agent_id),
            "manager": make_token(admin.db, "manager"),
            "admin": make_token(admin.db, "admin"),
        },
        secrets={channel["id"]: channel["secret"], other_channel["id"]: other_channel["secret"]},
    )


@pytest.fixture
def world(admin: Api) -> World:
    """A fresh world, in a database of its own, for tests that check what a refused request left
    unchanged (the whole event log, every agent)."""
    return build_world(admin)


@pytest.fixture(scope="module")
def busy_app(template_db: Databases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """One application and database for the tests whose requests succeed and change their world
    and that check only the answer: each builds a world of its own in it (`busy_world`), so they
    need not pay for an application and a database each. Not `shared_world`'s: its tests check
    that the event log did not change."""
    folder = tmp_path_factory.mktemp("auth-busy")
    url, media = template_db.new(folder), str(folder / "media")
    settings = Settings(database_url=url, log_format="text", token_cache_seconds=0, media_dir=media)
    with TestClient(create_app(settings)) as client:
        yield Api(client, make_token(client.app.state.db, "admin"))
    template_db.drop(url)


@pytest.fixture
def busy_world(busy_app: Api) -> World:
    """A fresh world (its own channels, contact, agents, team, tokens, secret, webhook) in `busy_app`."""
    return build_world(Api(busy_app.client, make_token(busy_app.db, "admin")))


@pytest.fixture(scope="module")
def shared_world(template_db: Databases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One world shared by the tests of refused requests and of reads, which change nothing
    (the refusal tests check the event log), so they need not pay for a fresh database."""
    folder = tmp_path_factory.mktemp("auth")
    url, media = template_db.new(folder), str(folder / "media")
    settings = Settings(database_url=url, log_format="text", token_cache_seconds=0, media_dir=media)
    with TestClient(create_app(settings)) as client:
        yield build_world(Api(client, make_token(client.app.state.db, "admin")))


def served_operations(client: TestClient) -> set[Operation]:  # type: ignore[type-arg]
    document = client.get("/api/v1/schema/openapi.json")
    assert document.status_code == 200
    methods = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
    return {
        (method.upper(), path)
        for path, item in document.json()["paths"].items()
        for method in item
        if method in methods
    }


GUARDED = sorted(op for op, role in LEAST_ROLE.items() if role in ROLES)
OPEN = sorted(op for op, role in LEAST_ROLE.items() if role == PUBLIC)
BELOW = [(op, role) for op in GUARDED for role in ROLES[: ROLES.index(LEAST_ROLE[op])]]
AT_OR_ABOVE = [(op, role) for op in GUARDED for role in ROLES[ROLES.index(LEAST_ROLE[op]) :]]


def op_id(operation: Operation) -> str:
    return " ".join(operation)


def op_role_ids(pairs: list[tuple[Operation, str]]) -> list[str]:
    return [f"{op_id(op)} as {role}" for op, role in pairs]


# -- the table and the document ----------------------------------------------------------------
def test_the_role_table_covers_exactly_the_operations_the_openapi_document_lists(
    shared_world: World,
) -> None:
    served = served_operations(shared_world.client)

    assert sorted(served - LEAST_ROLE.keys()) == [], "operations without a role in LEAST_ROLE"
    assert sorted(LEAST_ROLE.keys() - served) == [], "LEAST_ROLE lists operations the API does not serve"


def test_every_role_in_the_table_is_public_or_a_known_role() -> None:
    assert set(LEAST_ROLE.values()) <= {PUBLIC, METRICS, *ROLES}


# -- who is refused ----------------------------------------------------------------------------
@pytest.mark.parametrize("operation", GUARDED, ids=op_id)
def test_a_request_without_a_token_is_refused_with_401(shared_world: World, operation: Operation) -> None:
    world = shared_world
    before = world.admin.events()

    response = call(world, operation, {})

    assert_error(response, 401, "unauthorized")
    assert "Authorization: Bearer" in response.json()["detail"]
    assert world.admin.events() == before


GARBAGE = [
    "Bearer fd_not-a-real-token",
    "Bearer ",
    "Bearer",
    "bearer " + "x" * 40,
    "Basic YWRtaW46YWRtaW4=",
    "fd_token-without-the-bearer-word",
]


@pytest.mark.parametrize("operation", GUARDED, ids=op_id)
def test_an_unknown_or_malformed_token_is_refused_with_401(shared_world: World, operation: Operation) -> None:
    world = shared_world
    before = world.admin.events()

    for authorization in GARBAGE:
        response = call(world, operation, {"Authorization": authorization})
        assert_error(response, 401, "unauthorized")

    assert world.admin.events() == before


_token_names = itertools.count(1)


@pytest.mark.parametrize("operation", GUARDED, ids=op_id)
def test_a_revoked_admin_token_is_refused_with_401(shared_world: World, operation: Operation) -> None:
    world = shared_world
    revoked_id, revoked = create_token(world.admin, f"to revoke {next(_token_names)}", "admin")
    assert world.client.get("/api/v1/tokens", headers=bearer(revoked)).status_code == 200
    assert world.admin.delete(f"/api/v1/tokens/{revoked_id}").status_code == 204
    before = world.admin.events()

    response = call(world, operation, bearer(revoked))

    assert_error(response, 401, "unauthorized")
    assert "unknown or revoked" in response.json()["detail"]
    assert world.admin.events() == before


@pytest.mark.parametrize(("operation", "role"), BELOW, ids=op_role_ids(BELOW))
def test_a_token_below_the_needed_role_is_refused_with_403(
    shared_world: World, operation: Operation, role: str
) -> None:
    world = shared_world
    before = world.admin.events()

    response = call(world, operation, bearer(world.tokens[role]))

    assert_error(response, 403, "forbidden")
    assert LEAST_ROLE[operation] in response.json()["detail"]  # names the role it needs
    assert world.admin.events() == before


# -- who gets through --------------------------------------------------------------------------
@pytest.mark.parametrize(("operation", "role"), AT_OR_ABOVE, ids=op_role_ids(AT_OR_ABOVE))
def test_a_token_with_the_needed_role_or_a_higher_one_is_let_through(
    request: pytest.FixtureRequest, operation: Operation, role: str
) -> None:
    world: World = request.getfixturevalue("shared_world" if operation[0] == "GET" else "busy_world")

    response = call(world, operation, bearer(world.tokens[role]))

    assert response.status_code not in (401, 403), response.text
    assert response.status_code < 500, response.text
    if operation not in NAMES_NO_REAL_OBJECT:
        assert 200 <= response.status_code < 300, response.text


@pytest.mark.parametrize("operation", OPEN, ids=op_id)
def test_a_public_operation_answers_without_a_token_and_ignores_a_bad_one(
    busy_world: World, operation: Operation
) -> None:
    world = busy_world
    for headers in ({}, bearer("fd_garbage")):
        response = call(world, operation, headers)
        assert response.status_code not in (401, 403), response.text
        if operation not in NAMES_NO_REAL_OBJECT:
            assert response.status_code == 200, response.text


def test_the_openapi_document_itself_is_public(shared_world: World) -> None:
    assert shared_world.client.get("/api/v1/schema/openapi.json").status_code == 200


def test_a_revoked_token_stops_working_once_the_cache_period_has_passed(db_url: str) -> None:
    settings = Settings(database_url=db_url, log_format="text", token_cache_seconds=0.3)
    with TestClient(create_app(settings)) as client:
        admin = Api(client, make_token(client.app.state.db, "admin"))
        revoked_id, revoked = create_token(admin, "short-lived", "manager")
        assert client.get("/api/v1/events", headers=bearer(revoked)).status_code == 200

        assert admin.delete(f"/api/v1/tokens/{revoked_id}").status_code == 204
        time.sleep(0.4)

        assert_error(client.get("/api/v1/events", headers=bearer(revoked)), 401, "unauthorized")


def test_a_revoked_token_is_refused_at_once_by_the_process_that_revoked_it(db_url: str) -> None:
    settings = Settings(database_url=db_url, log_format="text", token_cache_seconds=3600)
    with TestClient(create_app(settings)) as client:
        admin = Api(client, make_token(client.app.state.db, "admin"))
        revoked_id, revoked = create_token(admin, "cached", "manager")
        assert client.get("/api/v1/events", headers=bearer(revoked)).status_code == 200  # now in the cache

        assert admin.delete(f"/api/v1/tokens/{revoked_id}").status_code == 204

        assert_error(client.get("/api/v1/events", headers=bearer(revoked)), 401, "unauthorized")
        assert client.get("/api/v1/events", headers=admin.headers).status_code == 200  # others stay cached


def test_revoking_an_unknown_or_already_revoked_token_is_404(world: World) -> None:
    revoked_id, _ = create_token(world.admin, "twice", "agent")
    assert world.admin.delete(f"/api/v1/tokens/{revoked_id}").status_code == 204

    again = world.admin.delete(f"/api/v1/tokens/{revoked_id}")

    assert_error(again, 404, "token_not_found")
    assert f"token {revoked_id}" in again.json()["detail"]


# -- what an agent may change about agents ------------------------------------------------------
def agent_row(world: World, agent_id: int) -> dict[str, Any]:
    return dict(world.admin.get(f"/api/v1/agents/{agent_id}").json())


def test_an_agent_may_change_their_own_availability(world: World) -> None:
    agent = world.as_role("agent")
    me = world.ids["agent_id"]

    response = agent.patch(f"/api/v1/agents/{me}", {"availability": "away"})

    assert response.status_code == 200, response.text
    assert agent_row(world, me)["availability"] == "away"


def test_an_agent_may_not_change_their_own_capacity(world: World) -> None:
    agent = world.as_role("agent")
    me = world.ids["agent_id"]
    before = agent_row(world, me)

    for change in ({"capacity": 99}, {"availability": "away", "capacity": 99}, {"role": "manager"}):
        response = agent.patch(f"/api/v1/agents/{me}", change)
        assert_error(response, 403, "forbidden")
        assert "only change their own availability" in response.json()["detail"]

    assert agent_row(world, me) == before


def test_an_agent_may_not_change_another_agents_availability(world: World) -> None:
    agent = world.as_role("agent")
    other = world.ids["other_agent_id"]
    before = agent_row(world, other)

    response = agent.patch(f"/api/v1/agents/{other}", {"availability": "away"})

    assert_error(response, 403, "forbidden")
    assert agent_row(world, other) == before


def test_an_agent_token_bound_to_no_agent_may_not_change_any_availability(world: World) -> None:
    unbound = Api(world.client, make_token(world.admin.db, "agent"))

    response = unbound.patch(f"/api/v1/agents/{world.ids['agent_id']}", {"availability": "away"})

    assert_error(response, 403, "forbidden")


def test_a_manager_may_change_an_agents_capacity(world: World) -> None:
    manager = world.as_role("manager")

    response = manager.patch(f"/api/v1/agents/{world.ids['agent_id']}", {"capacity": 3})

    assert response.status_code == 200, response.text
    assert response.json()["capacity"] == 3


def test_a_manager_cannot_create_an_admin_agent(world: World) -> None:
    manager = world.as_role("manager")
    agents_before = world.admin.get("/api/v1/agents").json()
    events_before = world.admin.events()

    response = manager.post("/api/v1/agents", {"name": "Eve", "email": "eve@example.test", "role": "admin"})

    assert_error(response, 403, "forbidden")
    assert "only an admin can create an admin" in response.json()["detail"]
    assert world.admin.get("/api/v1/agents").json() == agents_before
    assert world.admin.events() == events_before


def test_a_manager_can_create_a_manager_and_an_admin_can_create_an_admin(world: World) -> None:
    manager = world.as_role("manager")

    made = manager.post("/api/v1/agents", {"name": "Max", "email": "max@example.test", "role": "manager"})
    admin_made = world.admin.post("/api/v1/agents", {"name": "Ann", "email": "ann@example.test", "role": "admin"})

    assert made.status_code == 201, made.text
    assert admin_made.status_code == 201, admin_made.text
    assert admin_made.json()["role"] == "admin"


def test_a_manager_cannot_make_an_agent_an_admin(world: World) -> None:
    manager = world.as_role("manager")
    before = agent_row(world, world.ids["agent_id"])

    response = manager.patch(f"/api/v1/agents/{world.ids['agent_id']}", {"role": "admin"})

    assert_error(response, 403, "forbidden")
    assert agent_row(world, world.ids["agent_id"]) == before


def test_only_an_admin_changes_a_role(world: World) -> None:
    manager = world.as_role("manager")
    agent_id = world.ids["agent_id"]
    before = agent_row(world, agent_id)

    refused = manager.patch(f"/api/v1/agents/{agent_id}", {"role": "manager"})

    assert_error(refused, 403, "forbidden")
    assert "only an admin can change a role" in refused.json()["detail"]
    assert agent_row(world, agent_id) == before
    promoted = world.admin.patch(f"/api/v1/agents/{agent_id}", {"role": "manager"})
    assert promoted.status_code == 200, promoted.text
    assert agent_row(world, agent_id)["role"] == "manager"


# -- the signed channel inbound endpoint --------------------------------------------------------
INBOUND_BODY = json.dumps(
    {"contact": {"external_id": "bob"}, "message": {"id": "signed-1", "text": "Hi, it's Bob"}}
).encode()


def post_inbound(world: World, channel_id: int, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return world.client.post(
        f"/api/v1/channels/{channel_id}/inbound",
        content=body,
        headers={"content-type": "application/json", **headers},
    )


def test_a_correctly_signed_inbound_message_is_accepted_without_any_token(world: World) -> None:
    channel_id = world.ids["channel_id"]
    headers = signing.signed_headers(world.secrets[channel_id], INBOUND_BODY)

    response = post_inbound(world, channel_id, INBOUND_BODY, headers)

    assert response.status_code == 200, response.text
    conversation_id = response.json()["conversation_id"]
    thread = world.admin.get(f"/api/v1/conversations/{conversation_id}/messages").json()
    assert [m["text"] for m in thread] == ["Hi, it's Bob"]


SIGNATURE_PROBLEMS: dict[str, Callable[[str, int], dict[str, str]]] = {
    "a wrong signature": lambda secret, now: {
        signing.TIMESTAMP_HEADER: str(now),
        signing.SIGNATURE_HEADER: "sha256=" + "0" * 64,
    },
    "a signature of another body": lambda secret, now: signing.signed_headers(secret, b"{}", now),
    "a timestamp over 300 s old": lambda secret, now: signing.signed_headers(secret, INBOUND_BODY, now - 301),
    "a timestamp over 300 s ahead": lambda secret, now: signing.signed_headers(secret, INBOUND_BODY, now + 301),
    "a timestamp that is not Unix seconds": lambda secret, now: {
        signing.TIMESTAMP_HEADER: "yesterday",
        signing.SIGNATURE_HEADER: signing.signature(secret, "yesterday", INBOUND_BODY),
    },
    "no timestamp": lambda secret, now: {
        signing.SIGNATURE_HEADER: signing.signed_headers(secret, INBOUND_BODY, now)[signing.SIGNATURE_HEADER]
    },
    "an empty signature": lambda secret, now: {
        signing.TIMESTAMP_HEADER: str(now),
        signing.SIGNATURE_HEADER: "",
    },
}


@pytest.mark.parametrize("problem", sorted(SIGNATURE_PROBLEMS))
def test_an_inbound_message_with_a_bad_signature_is_refused_with_401(shared_world: World, problem: str) -> None:
    world = shared_world
    channel_id = world.ids["channel_id"]
    before = world.admin.events()
    headers = SIGNATURE_PROBLEMS[problem](world.secrets[channel_id], int(time.time()))

    response = post_inbound(world, channel_id, INBOUND_BODY, headers)

    assert_error(response, 401, "bad_signature")
    assert world.admin.events() == before


def test_an_inbound_message_signed_with_another_channels_secret_is_refused_with_401(
    shared_world: World,
) -> None:
    world = shared_world
    channel_id, other_id = world.ids["channel_id"], world.ids["other_channel_id"]
    before = world.admin.events()
    headers = signing.signed_headers(world.secrets[other_id], INBOUND_BODY)

    response = post_inbound(world, channel_id, INBOUND_BODY, headers)

    assert_error(response, 401, "bad_signature")
    assert world.admin.events() == before


def test_a_signed_inbound_message_for_a_channel_that_does_not_exist_is_refused_with_401(
    shared_world: World,
) -> None:
    world = shared_world
    headers = signing.signed_headers(world.secrets[world.ids["channel_id"]], INBOUND_BODY)

    response = post_inbound(world, 999_999, INBOUND_BODY, headers)

    assert_error(response, 401, "unauthorized")
    assert "channel 999999 does not exist" in response.json()["detail"]


def test_a_bad_signature_is_refused_even_alongside_a_valid_admin_token(shared_world: World) -> None:
    world = shared_world
    channel_id = world.ids["channel_id"]
    headers = {**bearer(world.tokens["admin"]), signing.SIGNATURE_HEADER: "sha256=" + "0" * 64}

    response = post_inbound(world, channel_id, INBOUND_BODY, headers)

    assert_error(response, 401, "bad_signature")


def test_an_agent_token_may_not_post_inbound_messages(shared_world: World) -> None:
    world = shared_world
    channel_id = world.ids["channel_id"]
    before = world.admin.events()

    response = post_inbound(world, channel_id, INBOUND_BODY, bearer(world.tokens["agent"]))

    assert_error(response, 403, "forbidden")
    assert "channel signature or a manager token" in response.json()["detail"]
    assert world.admin.events() == before


def test_a_manager_token_may_post_inbound_messages_without_a_signature(world: World) -> None:
    response = post_inbound(world, world.ids["channel_id"], INBOUND_BODY, bearer(world.tokens["manager"]))

    assert response.status_code == 200, response.text
