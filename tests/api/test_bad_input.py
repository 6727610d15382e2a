"""Bad input: every one gets a 4xx whose message names the problem, and changes nothing.

Each case snapshots the whole state first (the event log read through the API, and every row
of every table read with a plain sqlite3 connection on the same file) and compares afterwards.
"""

from __future__ import annotations

import json
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from litestar.testing import TestClient

from frontdesk.channels import signing
from frontdesk.server import create_app
from frontdesk.settings import Settings
from tests.databases import ON_POSTGRESQL, Databases, rows_of_every_table
from tests.factories import Api, make_agent, make_token

MISSING = 999_999  # an id nothing has
HUGE = 2**70  # an id no database integer can hold
MIB = 1_048_576

# The world's object that fills each path parameter of the API.
PATH_PARAMETERS = {
    "contact_id": "ada",
    "conversation_id": "open",
    "agent_id": "member",
    "team_id": "team",
    "channel_id": "channel",
}

Snapshot = dict[str, list[tuple[Any, ...]]]


def _folded(state: Snapshot) -> bool:
    """Whether the reports' fold has read every event and every recorded run step."""
    cursors = {name: position for name, position in state["engine_cursors"]}
    last_event = max((row[0] for row in state["events"]), default=0)
    last_step = max((row[0] for row in state["workflow_run_steps"]), default=0)
    return cursors.get("reports", 0) >= last_event and cursors.get("funnel", 0) >= last_step


@dataclass
class World:
    """A channel, contacts with an open and a closed conversation, declared contact fields,
    agents and a team, on an app whose every table the tests read directly."""

    admin: Api
    ids: dict[str, int]
    secret: str
    member_email: str
    changed: bool = False  # a request succeeded since the last snapshot: background work may follow

    @property
    def client(self) -> TestClient:  # type: ignore[type-arg]
        return self.admin.client

    def path(self, template: str) -> str:
        """Fill "{name}": a world id by its name here or by the API's path parameter name; any
        other parameter gets an id nothing has."""

        def value(match: re.Match[str]) -> str:
            name = PATH_PARAMETERS.get(match[1], match[1])
            return str(self.ids.get(name, MISSING))

        return re.sub(r"\{(\w+)\}", value, template)

    def snapshot(self) -> Snapshot:
        """Every row of every table (the event log's too)."""
        return self.admin.db.read_sync(rows_of_every_table)

    def settle(self) -> Snapshot:
        """Wait for background work (the workflow engine's event cursor, deliveries, the reports'
        fold) to catch up with earlier successful requests: two snapshots 50 ms apart agree, and
        the reports' cursors have reached the end of their logs (their loop folds at most four
        times a second, so it can lag a quiet state by up to 250 ms)."""
        current = self.snapshot()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            time.sleep(0.05)
            again = self.snapshot()
            if again == current and _folded(again):
                return current
            current = again
        raise AssertionError("the state kept changing for 10 s")

    def send(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        token: bool = True,
    ) -> httpx.Response:
        """As the admin, unless `token` is false (a channel's signed call)."""
        all_headers = {**(self.admin.headers if token else {}), **(headers or {})}
        if raw is not None:
            all_headers.setdefault("content-type", "application/json")
            return self.client.request(method, path, content=raw, params=params, headers=all_headers)
        if body is None:
            return self.client.request(method, path, params=params, headers=all_headers)
        return self.client.request(method, path, json=body, params=params, headers=all_headers)


def build_world(client: TestClient) -> World:  # type: ignore[type-arg]
    admin = Api(client, make_token(client.app.state.db, "admin"))
    channel = admin.channel()
    other_channel = admin.channel()
    for field in (
        {"key": "email", "label": "E-mail", "type": "email"},
        {"key": "plan", "label": "Plan", "type": "choice", "options": ["free", "pro"]},
    ):
        assert admin.post("/api/v1/contact-fields", field).status_code == 201
    webchat = admin.post("/api/v1/channels", {"type": "webchat", "name": "Chat", "allowed_origins": []}).json()
    ada = admin.inbound(channel["id"], "ada", "Hello", name="Ada").json()
    bob = admin.inbound(channel["id"], "bob", "Hi", name="Bob").json()
    assert admin.post(f"/api/v1/conversations/{bob['conversation_id']}/close").status_code == 200
    member_email = "member@example.test"
    member = make_agent(admin.db, email=member_email)
    outsider = make_agent(admin.db)
    team = admin.post("/api/v1/teams", {"name": "Support"}).json()
    assert admin.put(f"/api/v1/teams/{team['id']}/members/{member}").status_code == 201
    return World(
        admin=admin,
        ids={
            "channel": channel["id"],
            "other_channel": other_channel["id"],
            "webchat": webchat["id"],
            "ada": ada["contact_id"],
            "open": ada["conversation_id"],
            "bob": bob["contact_id"],
            "closed": bob["conversation_id"],
            "member": member,
            "outsider": outsider,
            "team": team["id"],
        },
        secret=channel["secret"],
        member_email=member_email,
    )


def start_world(template_db: Databases, directory: Path) -> Iterator[World]:
    settings = Settings(database_url=template_db.new(directory), log_format="text", token_cache_seconds=0)
    with TestClient(create_app(settings)) as client:
        world = build_world(client)
        world.settle()
        yield world


@pytest.fixture(scope="module")
def world(template_db: Databases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """Shared by the cases: each is refused and checks it changed nothing."""
    yield from start_world(template_db, tmp_path_factory.mktemp("bad_input"))


def refused(world: World, request: Callable[[], httpx.Response]) -> httpx.Response:
    """Send the request and assert it was refused (4xx) and left every row and event as it was."""
    before = world.snapshot()
    response = request()
    assert 400 <= response.status_code < 500, response.text
    assert world.snapshot() == before, f"a refused request changed the state: {response.text}"
    return response


def assert_error(response: httpx.Response, status: int, code: str, *mentions: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["error"] == code, body
    for mention in mentions:
        assert mention in body["detail"], (mention, body["detail"])
    return body


# -- the requests that change something, each with a valid body ---------------------------------
VALID: dict[tuple[str, str], Any] = {
    ("PATCH", "/api/v1/contacts/{contact_id}"): {"name": "Ada Lovelace"},
    ("POST", "/api/v1/contact-fields"): {"key": "shoe_size", "label": "Shoe size", "type": "number"},
    ("POST", "/api/v1/conversations"): {"contact_id": "{ada}"},
    ("POST", "/api/v1/conversations/{conversation_id}/messages"): {"text": "Hello"},
    ("POST", "/api/v1/conversations/{conversation_id}/close"): {"note": "done"},
    ("POST", "/api/v1/conversations/{conversation_id}/assign"): {"agent_id": "{member}"},
    ("POST", "/api/v1/agents"): {"name": "Grace", "email": "grace@example.test"},
    ("PATCH", "/api/v1/agents/{agent_id}"): {"availability": "away"},
    ("POST", "/api/v1/teams"): {"name": "Sales"},
    ("POST", "/api/v1/channels"): {"type": "api", "name": "Web"},
    ("PATCH", "/api/v1/channels/{channel_id}"): {"name": "Web"},
    ("POST", "/api/v1/channels/{channel_id}/inbound"): {
        "contact": {"external_id": "carol"},
        "message": {"id": "m-1", "text": "Hi"},
    },
    ("POST", "/api/v1/tokens"): {"name": "ci", "role": "agent"},
}
WRITES = sorted(VALID)

# Every operation taking a body, from the OpenAPI document (read without starting the app, as
# parametrization needs it at collection): a new one is covered without editing this file.
DOCUMENT: dict[str, Any] = create_app(
    Settings(database_url=f"sqlite:///{tempfile.mkdtemp(prefix='frontdesk-schema-')}/schema.db")
).openapi_schema.to_schema()
BODY_OPERATIONS = sorted(
    (method.upper(), path)
    for path, item in DOCUMENT["paths"].items()
    for method, operation in item.items()
    if isinstance(operation, dict) and "application/json" in operation.get("requestBody", {}).get("content", {})
)  # multipart uploads have their own tests (tests/api/test_attachments.py)


def write_id(operation: tuple[str, str]) -> str:
    return " ".join(operation)


def case_id(method: str, template: str, body: Any, *rest: Any) -> str:
    """ "PATCH /api/v1/contacts/{contact_id} owner_agent_id": the request and what it gets wrong."""
    named = [*(body if isinstance(body, dict) else {}), *(rest[0] if isinstance(rest[0], dict) else {})]
    return " ".join([method, template, *named])


def test_the_valid_bodies_here_are_for_operations_the_api_serves() -> None:
    assert set(WRITES) <= set(BODY_OPERATIONS)


# -- malformed JSON ------------------------------------------------------------------------------
NOT_JSON = {
    "truncated": b'{"name": "Sup',
    "not JSON at all": b"hello there",
    "trailing garbage": b'{"name": "Sales"}}',
    "an unclosed list": b"[1, 2",
    "a NaN": b'{"name": NaN}',
}


@pytest.mark.parametrize("operation", BODY_OPERATIONS, ids=write_id)
@pytest.mark.parametrize("kind", sorted(NOT_JSON))
def test_a_body_that_is_not_json_is_refused_with_invalid_json(
    world: World, operation: tuple[str, str], kind: str
) -> None:
    method, template = operation

    response = refused(world, lambda: world.send(method, world.path(template), raw=NOT_JSON[kind]))

    assert_error(response, 400, "invalid_json", "not valid JSON")


# -- missing, wrong-typed and unknown fields -----------------------------------------------------
FIELD_CASES: list[tuple[str, str, Any, list[str]]] = [
    (
        "POST",
        "/api/v1/channels/{channel_id}/inbound",
        {"contact": {}, "message": {"id": "m-2"}},
        ["contact.external_id", "message.text"],
    ),
    (
        "POST",
        "/api/v1/channels/{channel_id}/inbound",
        {"contact": {"external_id": 7, "fields": []}, "message": {"id": "m-2", "text": ["hi"]}},
        ["contact.external_id", "contact.fields", "message.text"],
    ),
    ("POST", "/api/v1/channels/{channel_id}/inbound", {}, ["contact", "message"]),
    ("POST", "/api/v1/agents", {"name": 5}, ["email", "name"]),
    (
        "POST",
        "/api/v1/agents",
        {"name": "A", "email": "a@example.test", "capacity": "lots", "role": "boss"},
        ["capacity", "role"],
    ),
    ("PATCH", "/api/v1/agents/{agent_id}", {"availability": "busy", "skills": ["fr"]}, ["availability", "skills"]),
    (
        "PATCH",
        "/api/v1/agents/{agent_id}",
        {"name": None, "capacity": None, "role": None},
        ["capacity", "name", "role"],
    ),
    ("POST", "/api/v1/teams", {}, ["name"]),
    ("POST", "/api/v1/teams", {"name": ""}, ["name"]),
    ("POST", "/api/v1/channels", {"type": "sms", "name": "x", "callback_url": "not a url"}, ["callback_url", "type"]),
    ("PATCH", "/api/v1/channels/{channel_id}", {"name": "", "callback_url": "not a url"}, ["callback_url", "name"]),
    ("PATCH", "/api/v1/channels/{channel_id}", {"name": None, "allowed_origins": "x"}, ["allowed_origins", "name"]),
    (
        "POST",
        "/api/v1/conversations/{conversation_id}/messages",
        {"attachments": [{"url": "ftp://x"}]},
        ["attachments.0.url"],
    ),
    ("POST", "/api/v1/conversations/{conversation_id}/messages", {"text": 5}, ["text"]),
    ("POST", "/api/v1/conversations/{conversation_id}/messages", {"text": "x" * 10_001}, ["text"]),
    (
        "POST",
        "/api/v1/conversations/{conversation_id}/assign",
        {"agent_id": "seven", "team_id": [1]},
        ["agent_id", "team_id"],
    ),
    ("POST", "/api/v1/conversations/{conversation_id}/close", {"note": 5, "category": ""}, ["category", "note"]),
    ("POST", "/api/v1/conversations/{conversation_id}/rating", {"rating": 6, "comment": 5}, ["comment", "rating"]),
    ("POST", "/api/v1/conversations", {}, ["contact_id"]),
    ("POST", "/api/v1/conversations", {"contact_id": "ada"}, ["contact_id"]),
    ("PATCH", "/api/v1/contacts/{contact_id}", {"add_tags": "vip", "fields": [1]}, ["add_tags", "fields"]),
    ("POST", "/api/v1/contact-fields", {"key": "k", "label": "K", "type": "colour"}, ["type"]),
    ("POST", "/api/v1/tokens", {"name": "t"}, ["role"]),
]


@pytest.mark.parametrize(("method", "template", "body", "fields"), FIELD_CASES, ids=[case_id(*c) for c in FIELD_CASES])
def test_missing_and_wrong_typed_fields_are_refused_and_each_is_named(
    world: World, method: str, template: str, body: Any, fields: list[str]
) -> None:
    response = refused(world, lambda: world.send(method, world.path(template), body))

    result = assert_error(response, 400, "invalid_request", *fields)
    assert sorted(problem["field"] for problem in result["errors"]) == fields


def test_a_null_for_something_every_agent_has_is_refused_and_named(world: World) -> None:
    path = world.path("/api/v1/agents/{agent_id}")

    response = refused(world, lambda: world.send("PATCH", path, {"availability": None}))

    assert_error(response, 400, "invalid_request", "availability: Value error, may be left out, but not null")


@pytest.mark.parametrize("operation", WRITES, ids=write_id)
def test_an_unknown_key_is_refused_and_named(world: World, operation: tuple[str, str]) -> None:
    method, template = operation
    body = {**fill(VALID[operation], world.ids), "colour": "red"}

    response = refused(world, lambda: world.send(method, world.path(template), body))

    result = assert_error(response, 400, "invalid_request", "colour: Extra inputs are not permitted")
    assert [problem["field"] for problem in result["errors"]] == ["colour"]


def test_an_unknown_key_inside_the_inbound_contact_or_message_is_refused_and_named(world: World) -> None:
    body = {
        "contact": {"external_id": "carol", "phone": "+33"},
        "message": {"id": "m-3", "text": "Hi", "sent_at": 0},
    }

    response = refused(world, lambda: world.send("POST", world.path("/api/v1/channels/{channel_id}/inbound"), body))

    result = assert_error(response, 400, "invalid_request", "contact.phone", "message.sent_at")
    assert sorted(problem["field"] for problem in result["errors"]) == ["contact.phone", "message.sent_at"]


@pytest.mark.parametrize("operation", [op for op in WRITES if not op[1].endswith("/close")], ids=write_id)
@pytest.mark.parametrize("raw", [b"", b"null"], ids=["no body", "a null body"])
def test_a_missing_body_is_refused_and_said_to_be_missing(world: World, operation: tuple[str, str], raw: bytes) -> None:
    """(Closing is left out: its body is optional.)"""
    method, template = operation

    response = refused(world, lambda: world.send(method, world.path(template), raw=raw))

    result = assert_error(response, 400, "invalid_request", "body")
    assert [problem["field"] for problem in result["errors"]] == ["body"]
    assert "'data'" not in result["detail"]  # not the framework's internal name in a KeyError


@pytest.mark.parametrize("body", [[1, 2], "text", 42, True], ids=["a list", "a string", "a number", "a bool"])
def test_a_body_that_is_not_an_object_is_refused_and_named(world: World, body: Any) -> None:
    response = refused(world, lambda: world.send("POST", "/api/v1/teams", body))

    result = assert_error(response, 400, "invalid_request", "body:")
    assert [problem["field"] for problem in result["errors"]] == ["body"]


# -- contact fields and tags ---------------------------------------------------------------------
def inbound_from_carol(**fields: Any) -> dict[str, Any]:
    """Carol is unknown: a refused message must not create her, nor open a conversation."""
    return {
        "contact": {"external_id": "carol", "name": "Carol", "fields": fields},
        "message": {"id": "m-carol", "text": "Hello"},
    }


FIELD_VALUE_CASES: list[tuple[str, dict[str, Any], list[str]]] = [
    ("an undeclared field", {"shoe_size": 42}, ["fields.shoe_size: no such contact field"]),
    ("a bad e-mail", {"email": "not-an-email"}, ["fields.email: 'not-an-email' is not an e-mail address"]),
    ("a choice outside the options", {"plan": "gold"}, ["fields.plan: 'gold' is not one of free, pro"]),
    ("a number for an e-mail", {"email": 42}, ["fields.email: expected a string"]),
    (
        "several problems at once",
        {"email": "@", "plan": "gold", "shoe_size": 1},
        ["fields.email", "fields.plan", "fields.shoe_size"],
    ),
]


@pytest.mark.parametrize(("problem", "fields", "mentions"), FIELD_VALUE_CASES, ids=[c[0] for c in FIELD_VALUE_CASES])
def test_bad_contact_field_values_in_an_inbound_message_are_refused_and_named(
    world: World, problem: str, fields: dict[str, Any], mentions: list[str]
) -> None:
    path = world.path("/api/v1/channels/{channel_id}/inbound")

    response = refused(world, lambda: world.send("POST", path, inbound_from_carol(**fields)))

    assert_error(response, 422, "invalid_fields", *mentions)


@pytest.mark.parametrize(("problem", "fields", "mentions"), FIELD_VALUE_CASES, ids=[c[0] for c in FIELD_VALUE_CASES])
def test_bad_contact_field_values_in_a_contact_update_are_refused_and_named(
    world: World, problem: str, fields: dict[str, Any], mentions: list[str]
) -> None:
    path = world.path("/api/v1/contacts/{contact_id}")

    response = refused(world, lambda: world.send("PATCH", path, {"name": "Ada L.", "fields": fields}))

    assert_error(response, 422, "invalid_fields", *mentions)


def test_a_bad_tag_is_refused_and_named_with_its_position(world: World) -> None:
    path = world.path("/api/v1/contacts/{contact_id}")

    response = refused(world, lambda: world.send("PATCH", path, {"add_tags": ["vip", "no way!"]}))

    assert_error(response, 422, "invalid_tag", "add_tags[1]", "'no way!'")


CONTACT_FIELD_DEFINITIONS: list[tuple[dict[str, Any], int, str, str]] = [
    ({"key": "Shoe Size", "label": "Shoe", "type": "number"}, 422, "invalid_field_key", "'Shoe Size'"),
    ({"key": "tier", "label": "Tier", "type": "choice"}, 422, "missing_options", "at least one option"),
    ({"key": "email", "label": "Mail", "type": "email"}, 409, "field_exists", "'email' already exists"),
]


@pytest.mark.parametrize(("body", "status", "code", "mention"), CONTACT_FIELD_DEFINITIONS)
def test_a_bad_contact_field_definition_is_refused_and_named(
    world: World, body: dict[str, Any], status: int, code: str, mention: str
) -> None:
    response = refused(world, lambda: world.send("POST", "/api/v1/contact-fields", body))

    assert_error(response, status, code, mention)


# -- unknown ids -----------------------------------------------------------------------------------
UNKNOWN_IDS: list[tuple[str, str, Any, str]] = [
    ("GET", f"/api/v1/conversations/{MISSING}", None, "conversation"),
    ("GET", f"/api/v1/conversations/{MISSING}/messages", None, "conversation"),
    ("POST", f"/api/v1/conversations/{MISSING}/messages", {"text": "Hi"}, "conversation"),
    ("POST", f"/api/v1/conversations/{MISSING}/close", None, "conversation"),
    ("POST", f"/api/v1/conversations/{MISSING}/assign", {"team_id": 1}, "conversation"),
    ("POST", f"/api/v1/conversations/{MISSING}/unassign", None, "conversation"),
    ("POST", "/api/v1/conversations", {"contact_id": MISSING}, "contact"),
    ("POST", "/api/v1/conversations", {"contact_id": "{ada}", "channel_id": MISSING}, "channel"),
    ("POST", "/api/v1/conversations/{conversation_id}/assign", {"agent_id": MISSING}, "agent"),
    ("POST", "/api/v1/conversations/{conversation_id}/assign", {"team_id": MISSING}, "team"),
    ("GET", f"/api/v1/contacts/{MISSING}", None, "contact"),
    ("PATCH", f"/api/v1/contacts/{MISSING}", {"name": "Nobody"}, "contact"),
    ("PATCH", "/api/v1/contacts/{contact_id}", {"owner_agent_id": MISSING}, "agent"),
    ("GET", f"/api/v1/agents/{MISSING}", None, "agent"),
    ("PATCH", f"/api/v1/agents/{MISSING}", {"availability": "away"}, "agent"),
    ("GET", f"/api/v1/teams/{MISSING}", None, "team"),
    ("PUT", f"/api/v1/teams/{MISSING}/members/{{agent_id}}", None, "team"),
    ("PUT", f"/api/v1/teams/{{team}}/members/{MISSING}", None, "agent"),
    ("DELETE", f"/api/v1/teams/{MISSING}/members/{{agent_id}}", None, "team"),
    ("GET", f"/api/v1/channels/{MISSING}", None, "channel"),
    ("PATCH", f"/api/v1/channels/{MISSING}", {"name": "Nowhere"}, "channel"),
    (
        "POST",
        f"/api/v1/channels/{MISSING}/inbound",
        {"contact": {"external_id": "carol"}, "message": {"id": "m-4", "text": "Hi"}},
        "channel",
    ),
    ("POST", "/api/v1/tokens", {"name": "t", "role": "agent", "agent_id": MISSING}, "agent"),
    ("DELETE", f"/api/v1/tokens/{MISSING}", None, "token"),
]


def fill(value: Any, ids: dict[str, int]) -> Any:
    """Replace "{name}" strings in a body by the world's id of that name."""
    if isinstance(value, dict):
        return {key: fill(item, ids) for key, item in value.items()}
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return ids[value[1:-1]]
    return value


@pytest.mark.parametrize(("method", "template", "body", "kind"), UNKNOWN_IDS, ids=[case_id(*c) for c in UNKNOWN_IDS])
def test_an_unknown_id_is_refused_with_404_naming_the_kind_and_the_id(
    world: World, method: str, template: str, body: Any, kind: str
) -> None:
    response = refused(world, lambda: world.send(method, world.path(template), fill(body, world.ids)))

    assert_error(response, 404, f"{kind}_not_found", f"{kind} {MISSING} does not exist")


def test_removing_an_agent_who_is_not_a_member_is_refused_with_404(world: World) -> None:
    path = world.path("/api/v1/teams/{team}/members/{outsider}")

    response = refused(world, lambda: world.send("DELETE", path))

    assert_error(response, 404, "team_member_not_found", f"{world.ids['outsider']} of team {world.ids['team']}")


TOO_BIG_IDS: list[tuple[str, str, Any, dict[str, Any] | None, str]] = [
    ("GET", f"/api/v1/conversations/{HUGE}", None, None, "conversation_id"),
    ("POST", f"/api/v1/conversations/{HUGE}/close", None, None, "conversation_id"),
    ("GET", f"/api/v1/contacts/{HUGE}", None, None, "contact_id"),
    ("PATCH", f"/api/v1/agents/{HUGE}", {"availability": "away"}, None, "agent_id"),
    ("PUT", f"/api/v1/teams/{{team}}/members/{HUGE}", None, None, "agent_id"),
    ("DELETE", f"/api/v1/tokens/{HUGE}", None, None, "token_id"),
    ("PATCH", f"/api/v1/channels/{HUGE}", {"name": "Huge"}, None, "channel_id"),
    ("GET", "/api/v1/conversations", None, {"before": HUGE}, "before"),
    ("GET", "/api/v1/conversations", None, {"assignee_id": HUGE}, "assignee_id"),
    ("GET", "/api/v1/contacts", None, {"before": HUGE}, "before"),
    ("GET", "/api/v1/events", None, {"after": HUGE}, "after"),
    ("GET", "/api/v1/conversations/{conversation_id}/messages", None, {"after": HUGE}, "after"),
    ("POST", "/api/v1/conversations", {"contact_id": HUGE}, None, "contact_id"),
    ("POST", "/api/v1/conversations/{conversation_id}/assign", {"agent_id": HUGE}, None, "agent_id"),
    ("PATCH", "/api/v1/contacts/{contact_id}", {"owner_agent_id": HUGE}, None, "owner_agent_id"),
    ("POST", "/api/v1/tokens", {"name": "t", "role": "agent", "agent_id": HUGE}, None, "agent_id"),
]


@pytest.mark.parametrize(
    ("method", "template", "body", "params", "field"), TOO_BIG_IDS, ids=[case_id(*c) for c in TOO_BIG_IDS]
)
def test_an_id_too_large_for_the_database_is_refused_with_400_naming_it(
    world: World, method: str, template: str, body: Any, params: dict[str, Any] | None, field: str
) -> None:
    response = refused(world, lambda: world.send(method, world.path(template), body, params=params))

    result = assert_error(response, 400, "invalid_request", field)
    assert [problem["field"] for problem in result["errors"]] == [field]


def test_a_signed_message_for_a_channel_id_too_large_for_the_database_is_refused_with_401(world: World) -> None:
    body = json.dumps(inbound_from_carol()).encode()
    headers = signing.signed_headers(world.secret, body)

    path = f"/api/v1/channels/{HUGE}/inbound"

    response = refused(world, lambda: world.send("POST", path, raw=body, headers=headers, token=False))

    assert_error(response, 401, "unauthorized", f"channel {HUGE} does not exist")


# -- sizes and texts -------------------------------------------------------------------------------
def test_a_body_over_the_size_limit_is_refused_with_413(world: World) -> None:
    body = json.dumps({"name": "x" * MIB}).encode()

    response = refused(world, lambda: world.send("POST", "/api/v1/teams", raw=body))

    assert_error(response, 413, "too_large")


def test_a_signed_inbound_body_over_the_size_limit_is_refused_with_413(world: World) -> None:
    message = inbound_from_carol()
    message["message"]["text"] = "x" * MIB
    body = json.dumps(message).encode()
    headers = signing.signed_headers(world.secret, body)
    path = world.path("/api/v1/channels/{channel_id}/inbound")

    response = refused(world, lambda: world.send("POST", path, raw=body, headers=headers, token=False))

    assert_error(response, 413, "too_large")


@pytest.mark.parametrize("text", ["   ", "\n\t  \n"], ids=["spaces", "newlines and tabs"])
def test_a_reply_of_only_whitespace_is_refused_and_named(world: World, text: str) -> None:
    path = world.path("/api/v1/conversations/{conversation_id}/messages")

    response = refused(world, lambda: world.send("POST", path, {"text": text}))

    assert_error(response, 422, "empty_message", "text must not be empty")


def test_an_empty_reply_is_refused_and_named(world: World) -> None:
    path = world.path("/api/v1/conversations/{conversation_id}/messages")

    response = refused(world, lambda: world.send("POST", path, {"text": ""}))  # and no attachments

    assert_error(response, 422, "empty_message", "text")


def test_an_inbound_message_of_only_whitespace_is_refused_and_creates_no_contact(world: World) -> None:
    body = {"contact": {"external_id": "carol"}, "message": {"id": "m-5", "text": "  \n "}}

    response = refused(world, lambda: world.send("POST", world.path("/api/v1/channels/{channel_id}/inbound"), body))

    assert_error(response, 422, "empty_message", "message.text must not be empty")


# -- state conflicts -------------------------------------------------------------------------------
CLOSED_CONVERSATION: list[tuple[str, Any, str]] = [
    ("close", None, "cannot close it"),
    ("messages", {"text": "Still there?"}, "cannot reply to it"),
    ("assign", {"agent_id": "{member}"}, "cannot assign it"),
    ("unassign", None, "cannot unassign it"),
]


@pytest.mark.parametrize(("action", "body", "mention"), CLOSED_CONVERSATION, ids=[c[0] for c in CLOSED_CONVERSATION])
def test_acting_on_a_closed_conversation_is_refused_with_409(
    world: World, action: str, body: Any, mention: str
) -> None:
    path = world.path(f"/api/v1/conversations/{{closed}}/{action}")

    response = refused(world, lambda: world.send("POST", path, fill(body, world.ids)))

    assert_error(response, 409, "conversation_closed", f"conversation {world.ids['closed']} is closed", mention)


def test_assigning_an_agent_to_a_team_they_are_not_in_is_refused_with_422(world: World) -> None:
    path = world.path("/api/v1/conversations/{conversation_id}/assign")
    body = {"agent_id": world.ids["outsider"], "team_id": world.ids["team"]}

    response = refused(world, lambda: world.send("POST", path, body))

    assert_error(
        response,
        422,
        "not_a_member",
        f"agent {world.ids['outsider']} is not a member of team {world.ids['team']}",
    )


def test_assigning_nobody_is_refused_with_422(world: World) -> None:
    path = world.path("/api/v1/conversations/{conversation_id}/assign")

    response = refused(world, lambda: world.send("POST", path, {}))

    assert_error(response, 422, "nothing_to_assign", "agent_id, team_id")


def test_opening_a_conversation_on_a_channel_the_contact_is_not_on_is_refused_with_422(world: World) -> None:
    body = {"contact_id": world.ids["bob"], "channel_id": world.ids["other_channel"]}

    response = refused(world, lambda: world.send("POST", "/api/v1/conversations", body))

    assert_error(response, 422, "channel_not_linked", f"no identity on channel {world.ids['other_channel']}")


# -- agents, teams, tokens -------------------------------------------------------------------------
CAPACITIES: list[tuple[str, str, dict[str, Any]]] = [
    ("PATCH", "/api/v1/agents/{agent_id}", {"capacity": -1}),
    ("PATCH", "/api/v1/agents/{agent_id}", {"capacity": 1001}),
    ("POST", "/api/v1/agents", {"name": "Cap", "email": "cap@example.test", "capacity": -1}),
]


@pytest.mark.parametrize(("method", "template", "body"), CAPACITIES)
def test_a_capacity_out_of_range_is_refused_and_named(
    world: World, method: str, template: str, body: dict[str, Any]
) -> None:
    response = refused(world, lambda: world.send(method, world.path(template), body))

    result = assert_error(response, 400, "invalid_request", "capacity")
    assert [problem["field"] for problem in result["errors"]] == ["capacity"]


@pytest.mark.parametrize("spelling", [str.upper, lambda email: f"  {email} "], ids=["upper case", "padded"])
def test_a_duplicate_agent_email_is_refused_with_409(world: World, spelling: Callable[[str], str]) -> None:
    body = {"name": "Twin", "email": spelling(world.member_email)}

    response = refused(world, lambda: world.send("POST", "/api/v1/agents", body))

    assert_error(response, 409, "email_taken", world.member_email)


@pytest.mark.parametrize("name", ["Support", "  Support "])
def test_a_duplicate_team_name_is_refused_with_409(world: World, name: str) -> None:
    response = refused(world, lambda: world.send("POST", "/api/v1/teams", {"name": name}))

    assert_error(response, 409, "team_exists", "'Support' already exists")


AGENT_RULES: list[tuple[dict[str, Any], str, str]] = [
    ({"name": "Bad", "email": "not-an-email"}, "invalid_email", "'not-an-email' is not an e-mail address"),
    ({"name": "Bad", "email": "bad@example.test", "skills": {"Lang": "fr"}}, "invalid_skill", "skills.Lang"),
    ({"name": "   ", "email": "bad@example.test"}, "invalid_name", "name must be 1 to 120 characters"),
]


@pytest.mark.parametrize(("body", "code", "mention"), AGENT_RULES, ids=[c[1] for c in AGENT_RULES])
def test_an_agent_breaking_a_rule_is_refused_with_422(
    world: World, body: dict[str, Any], code: str, mention: str
) -> None:
    response = refused(world, lambda: world.send("POST", "/api/v1/agents", body))

    assert_error(response, 422, code, mention)


CHANNEL_RULES: list[tuple[str, dict[str, Any], str, str]] = [
    ("channel", {"allowed_origins": ["https://shop.example"]}, "not_for_api", "only webchat channels"),
    ("webchat", {"callback_url": "https://shop.example/hook"}, "not_for_webchat", "callback_url"),
    ("webchat", {"allowed_origins": ["shop.example"]}, "invalid_origin", "allowed_origins.0"),
    ("channel", {"name": "  "}, "invalid_name", "name must be 1 to 120 characters"),
]


@pytest.mark.parametrize(("channel", "body", "code", "mention"), CHANNEL_RULES, ids=[c[2] for c in CHANNEL_RULES])
def test_a_channel_change_breaking_a_rule_is_refused_with_422(
    world: World, channel: str, body: dict[str, Any], code: str, mention: str
) -> None:
    path = f"/api/v1/channels/{world.ids[channel]}"

    response = refused(world, lambda: world.send("PATCH", path, body))

    assert_error(response, 422, code, mention)


def test_a_token_above_its_agents_role_is_refused_with_422(world: World) -> None:
    body = {"name": "too high", "role": "admin", "agent_id": world.ids["member"]}

    response = refused(world, lambda: world.send("POST", "/api/v1/tokens", body))

    assert_error(response, 422, "role_too_high", f"agent {world.ids['member']}", "cannot hold")


# -- query parameters ------------------------------------------------------------------------------
BAD_QUERIES: list[tuple[str, dict[str, Any], str]] = [
    ("/api/v1/conversations", {"status": "bogus"}, "status"),
    ("/api/v1/conversations", {"limit": 0}, "limit"),
    ("/api/v1/conversations", {"limit": 201}, "limit"),
    ("/api/v1/conversations", {"before": "abc"}, "before"),
    ("/api/v1/conversations", {"team_id": "x"}, "team_id"),
    ("/api/v1/conversations", {"unassigned": "maybe"}, "unassigned"),
    ("/api/v1/contacts", {"limit": 0}, "limit"),
    ("/api/v1/contacts", {"q": "x" * 201}, "q"),
    ("/api/v1/events", {"after": -1}, "after"),
    ("/api/v1/events", {"limit": 0}, "limit"),
    ("/api/v1/conversations/{conversation_id}/messages", {"limit": 0}, "limit"),
    ("/api/v1/conversations/{conversation_id}/messages", {"after": "x"}, "after"),
]


@pytest.mark.parametrize(("template", "params", "field"), BAD_QUERIES)
def test_a_bad_query_parameter_is_refused_with_400_naming_it(
    world: World, template: str, params: dict[str, Any], field: str
) -> None:
    response = refused(world, lambda: world.send("GET", world.path(template), params=params))

    result = assert_error(response, 400, "invalid_request", field)
    assert [problem["field"] for problem in result["errors"]] == [field]


# -- property: whatever JSON arrives, the answer is never a 5xx --------------------------------------
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=30)
    | st.sampled_from(["", " ", "api", "agent", "admin", "online", "a@example.test", "free"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)


CONTACT_FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "email": st.just("ada@example.test") | JSON_VALUES,
        "plan": st.sampled_from(["free", "pro"]) | JSON_VALUES,
        "shoe_size": JSON_VALUES,
    },
)


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    """Follow a $ref, and prefer the object or enum variant of a oneOf/anyOf."""
    while True:
        if "$ref" in schema:
            schema = DOCUMENT["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
            continue
        variants = [v for key in ("oneOf", "anyOf") for v in schema.get(key, []) if v.get("type") != "null"]
        if not variants:
            return schema
        schema = variants[0]


def shaped_like(schema: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
    """Mostly values of the schema's own types (objects with its keys, members of its enums,
    numbers where it wants numbers), mixed with arbitrary JSON at every level, so that many
    bodies get past the first checks to the deeper ones."""
    return st.one_of(_typed_like(schema, depth), _typed_like(schema, depth), JSON_VALUES)


def _typed_like(schema: dict[str, Any], depth: int) -> st.SearchStrategy[Any]:
    schema = _resolve(schema)
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    properties: dict[str, Any] = schema.get("properties") or {}
    if properties and depth <= 3:
        shapes = {
            key: CONTACT_FIELDS if key == "fields" else shaped_like(sub, depth + 1) for key, sub in properties.items()
        }
        required = set(schema.get("required", []))
        return st.fixed_dictionaries(
            {key: shape for key, shape in shapes.items() if key in required},
            optional={key: shape for key, shape in shapes.items() if key not in required},
        )
    if kind == "object":
        extra = schema.get("additionalProperties")
        values = shaped_like(extra, depth + 1) if isinstance(extra, dict) and extra else JSON_VALUES
        return st.dictionaries(st.text(max_size=12), values, max_size=4)
    if kind == "array":
        return st.lists(shaped_like(schema.get("items") or {}, depth + 1), max_size=4)
    if kind == "integer":
        return st.integers(0, 6) | st.integers()  # small ones are the world's ids
    if kind == "number":
        return st.floats() | st.integers()
    if kind == "boolean":
        return st.booleans()
    if kind == "string":  # never a working URL: a channel with a callback would start deliveries
        return st.text(max_size=40) | st.sampled_from(["ada@example.test", "free", " ", "x" * 121])
    return JSON_VALUES


def body_schema(operation: tuple[str, str]) -> dict[str, Any]:
    method, path = operation
    content: dict[str, Any] = DOCUMENT["paths"][path][method.lower()]["requestBody"]["content"]
    return dict(next(iter(content.values()))["schema"])


@pytest.fixture(scope="module")
def fuzz_world(template_db: Databases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """Its own world: random bodies that happen to be valid do change it."""
    yield from start_world(template_db, tmp_path_factory.mktemp("fuzz"))


# The refusals are the same code on both databases: the PostgreSQL pass draws a third of the bodies
# (the first 20 of the same derandomized sequence), enough to see its store change nothing.
RANDOM_BODIES = 20 if ON_POSTGRESQL else 60


@pytest.mark.parametrize("operation", BODY_OPERATIONS, ids=write_id)
@hypothesis_settings(
    max_examples=RANDOM_BODIES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_random_json_never_gets_a_5xx_and_a_refusal_changes_nothing(
    fuzz_world: World, operation: tuple[str, str], data: st.DataObject
) -> None:
    world = fuzz_world
    method, template = operation
    value = data.draw(shaped_like(body_schema(operation)), label="body")
    raw = json.dumps(value).encode()  # NaN and Infinity come out as invalid JSON: a case too
    before = world.settle() if world.changed else world.snapshot()

    response = world.send(method, world.path(template), raw=raw)

    assert response.status_code < 500, response.text
    world.changed = response.status_code < 400
    if response.status_code >= 400:
        assert set(response.json()) >= {"error", "detail"}, response.text
        assert world.snapshot() == before, f"a refused request changed the state: {response.text}"
