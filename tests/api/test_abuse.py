"""Hostile input from outside: JSON nested deep enough to exhaust the stack, ids no database can
hold, `true` where an id belongs, timestamps `int()` cannot read. Each is refused with a 4xx
naming the problem — never a 500 — and changes nothing (the snapshot of test_bad_input)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from frontdesk.actions.sessions import COOKIE, open_session
from frontdesk.api.requests import MAX_JSON_DEPTH
from frontdesk.channels import signing
from frontdesk.clock import now
from tests.api.test_bad_input import DOCUMENT, World, assert_error, inbound_from_carol, refused, start_world
from tests.databases import Databases
from tests.engine.support import install
from tests.factories import make_agent

HUGE_IDS = [2**63, -(2**63), 10**20, -(10**20)]


@pytest.fixture(scope="module")
def world(template_db: Databases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """test_bad_input's world, plus a workflow started by an incoming webhook and a visitor."""
    for found in start_world(template_db, tmp_path_factory.mktemp("abuse")):
        hook = {"name": "Hook", "trigger": {"event": "incoming_webhook"}, "steps": [{"id": "w", "type": "wait"}]}
        hook["steps"][0]["duration"] = "1s"
        workflow_id = install(found.admin, hook)
        found.ids["workflow"] = workflow_id
        found.hook_key = found.admin.get(f"/api/v1/workflows/{workflow_id}").json()["webhook_key"]
        session = found.client.post(f"/webchat/{found.ids['webchat']}/session", json={})
        found.visitor_token = session.json()["token"]
        found.settle()
        yield found


def nested(depth: int) -> bytes:
    """An object nesting `depth` levels of objects and arrays: {"a": [{"a": [ ... ]}]}."""
    opening, closing = b"", b""
    for level in range(depth):
        opening += b'{"a":' if level % 2 == 0 else b"["
        closing = (b"}" if level % 2 == 0 else b"]") + closing
    return opening + b"1" + closing


# -- JSON nested too deep ----------------------------------------------------------------------------
DEPTHS = [MAX_JSON_DEPTH + 1, 1_000, 100_000]


def signed(world: World, body: bytes) -> dict[str, str]:
    return signing.signed_headers(world.secret, body)


PUBLIC_BODIES = {
    "web chat session": lambda w, body: w.send("POST", f"/webchat/{w.ids['webchat']}/session", raw=body, token=False),
    "web chat message": lambda w, body: w.send(
        "POST",
        f"/webchat/{w.ids['webchat']}/messages",
        raw=body,
        token=False,
        headers={"Authorization": f"Bearer {w.visitor_token}"},
    ),
    "incoming webhook": lambda w, body: w.send("POST", f"/api/v1/hooks/{w.hook_key}", raw=body, token=False),
    "signed inbound message": lambda w, body: w.send(
        "POST", w.path("/api/v1/channels/{channel_id}/inbound"), raw=body, token=False, headers=signed(w, body)
    ),
}


@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize("endpoint", sorted(PUBLIC_BODIES))
def test_json_nested_too_deep_is_refused_with_400_on_every_public_endpoint(
    world: World, endpoint: str, depth: int
) -> None:
    response = refused(world, lambda: PUBLIC_BODIES[endpoint](world, nested(depth)))

    body = assert_error(response, 400, "too_deep", f"deeper than {MAX_JSON_DEPTH} levels")
    assert body["field"] == "body"


BODY_OPERATIONS = sorted(
    (method.upper(), path)
    for path, item in DOCUMENT["paths"].items()
    for method, operation in item.items()
    if isinstance(operation, dict) and "application/json" in operation.get("requestBody", {}).get("content", {})
)  # JSON bodies: multipart uploads are not decoded as JSON


@pytest.mark.parametrize(("method", "template"), BODY_OPERATIONS, ids=[" ".join(op) for op in BODY_OPERATIONS])
def test_json_nested_too_deep_is_refused_with_400_on_every_operation_taking_a_body(
    world: World, method: str, template: str
) -> None:
    path = world.path(template.replace("{key}", world.hook_key))

    response = refused(world, lambda: world.send(method, path, raw=nested(1_000)))

    assert_error(response, 400, "too_deep", "deeper than")


def test_brackets_inside_strings_do_not_count_towards_the_depth(world: World) -> None:
    body = json.dumps({"name": "[" * 10_000, "yaml": "{" * 10_000}).encode()

    response = refused(world, lambda: world.send("POST", "/api/v1/workflows/validate", raw=body))

    assert_error(response, 400, "invalid_request", "name: Extra inputs are not permitted")


def test_json_nested_exactly_to_the_bound_is_decoded(world: World) -> None:
    """An unknown webhook key answers 404 only after the body was decoded."""
    response = refused(world, lambda: world.send("POST", "/api/v1/hooks/no-such-key", raw=nested(MAX_JSON_DEPTH)))

    assert_error(response, 404, "webhook_not_found")


def test_a_workflow_definition_nested_too_deep_is_refused_as_json_and_as_yaml(world: World) -> None:
    deep = {"name": "Deep", "trigger": {"event": "manual"}, "steps": json.loads(nested(MAX_JSON_DEPTH - 2))}
    as_yaml = "name: Deep\nsteps: " + "[" * 5_000 + "]" * 5_000

    in_json = refused(world, lambda: world.send("POST", "/api/v1/workflows", {"definition": {"x": deep}}))
    in_yaml = refused(world, lambda: world.send("POST", "/api/v1/workflows", {"yaml": as_yaml}))

    assert_error(in_json, 400, "too_deep")
    assert_error(in_yaml, 422, "invalid_yaml", f"deeper than {MAX_JSON_DEPTH} levels")


# -- timestamps of signed calls ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "timestamp",
    ["\xb2", "1" * 4_301, "9" * 13, "-1", "1e9"],
    ids=["²", "4301 digits", "13 digits", "negative", "exponent"],
)
def test_a_signed_inbound_with_a_timestamp_that_is_not_unix_seconds_is_refused_with_401(
    world: World, timestamp: str
) -> None:
    body = json.dumps(inbound_from_carol()).encode()
    headers = {
        signing.TIMESTAMP_HEADER: timestamp.encode("latin-1"),  # as a client sends it: "²" is one byte
        signing.SIGNATURE_HEADER: signing.signature(world.secret, timestamp, body),
    }
    path = world.path("/api/v1/channels/{channel_id}/inbound")

    response = refused(world, lambda: world.send("POST", path, raw=body, headers=headers, token=False))

    assert_error(response, 401, "bad_signature", "must be Unix seconds")


# -- ids no database holds -----------------------------------------------------------------------------
def integer_parameters(where: str) -> list[tuple[str, str, str]]:
    """(method, path, name) of every integer parameter `where` ("path" or "query") in the document."""
    found = []
    for path, item in DOCUMENT["paths"].items():
        for method, operation in item.items():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                schema = parameter.get("schema", {})
                types = [schema.get("type"), *(s.get("type") for s in schema.get("oneOf", []))]
                if parameter["in"] == where and "integer" in types:
                    found.append((method.upper(), path, parameter["name"]))
    return sorted(found)


ID_CURSORS = {"before", "after"}
PATH_IDS = integer_parameters("path")
QUERY_IDS = [p for p in integer_parameters("query") if p[2].endswith("_id") or p[2] in ID_CURSORS]


def test_the_document_names_the_ids_this_file_probes() -> None:
    assert len(PATH_IDS) >= 30
    assert {name for _, _, name in QUERY_IDS} >= {"before", "after", "contact_id", "team_id", "workflow_id"}


def refused_naming(world: World, send: Any, field: str) -> None:
    response = refused(world, send)

    body = assert_error(response, 400, "invalid_request", field)
    named = [p["field"] for p in body["errors"]] if "errors" in body else [body["field"]]
    assert field in named  # beside, for a path id, the body the request lacks


MULTIPART = b'--b\r\nContent-Disposition: form-data; name="text"\r\n\r\nHi\r\n--b--\r\n'
# A body the operation takes (others take `{}`): a body at fault would be reported alone.
BODIES = {
    "/api/v1/channels/{channel_id}/inbound": inbound_from_carol(),
    "/api/v1/conversations/{conversation_id}/messages": {"text": "Hi"},
    "/api/v1/conversations/{conversation_id}/template": {"name": "hello_world", "language": "en_US"},
    "/api/v1/conversations/{conversation_id}/transfer": {"reason": "busy"},
    "/api/v1/conversations/{conversation_id}/rating": {"rating": 4},
    "/api/v1/workflows/{workflow_id}/draft": {"yaml": "name: Draft"},
    "/api/v1/webhooks/{webhook_id}/replay": {"from_event_id": 1},
}


@pytest.mark.parametrize("value", HUGE_IDS)
@pytest.mark.parametrize(("method", "template", "name"), PATH_IDS, ids=[" ".join(p) for p in PATH_IDS])
def test_a_path_id_out_of_range_is_refused_with_400_naming_it(
    world: World, method: str, template: str, name: str, value: int
) -> None:
    path = world.path(template.replace("{" + name + "}", str(value)))
    body = BODIES.get(template, {}) if method != "GET" else None
    if template.endswith("/upload"):  # a multipart body, as uploads take
        headers = {"content-type": "multipart/form-data; boundary=b"}
        refused_naming(world, lambda: world.send(method, path, raw=MULTIPART, headers=headers), name)
        return

    refused_naming(world, lambda: world.send(method, path, body), name)


@pytest.mark.parametrize("value", HUGE_IDS)
@pytest.mark.parametrize(("method", "template", "name"), QUERY_IDS, ids=[" ".join(p) for p in QUERY_IDS])
def test_a_query_id_out_of_range_is_refused_with_400_naming_it(
    world: World, method: str, template: str, name: str, value: int
) -> None:
    refused_naming(world, lambda: world.send(method, world.path(template), params={name: value}), name)


BODY_IDS: list[tuple[str, str, dict[str, Any], str]] = [
    ("POST", "/api/v1/conversations", {}, "contact_id"),
    ("POST", "/api/v1/conversations", {"contact_id": "{ada}"}, "channel_id"),
    ("POST", "/api/v1/conversations/{conversation_id}/assign", {}, "agent_id"),
    ("POST", "/api/v1/conversations/{conversation_id}/assign", {}, "team_id"),
    ("POST", "/api/v1/conversations/{conversation_id}/transfer", {"reason": "busy"}, "agent_id"),
    ("PATCH", "/api/v1/contacts/{contact_id}", {}, "owner_agent_id"),
    ("POST", "/api/v1/tokens", {"name": "t", "role": "agent"}, "agent_id"),
    ("POST", "/api/v1/workflows/{workflow}/runs", {}, "contact_id"),
    ("POST", "/api/v1/workflows/{workflow}/runs", {}, "conversation_id"),
    ("POST", "/api/v1/hooks/{key}", {"order": 42}, "contact_id"),
    ("PUT", "/api/v1/teams/{team}/members/{member}", {}, "capacity"),
]
NOT_IDS = [True, False, "1", *HUGE_IDS]


@pytest.mark.parametrize("value", NOT_IDS, ids=repr)
@pytest.mark.parametrize(
    ("method", "template", "body", "field"), BODY_IDS, ids=[f"{c[0]} {c[1]} {c[3]}" for c in BODY_IDS]
)
def test_a_body_id_that_is_not_an_id_is_refused_with_400_naming_it(
    world: World, method: str, template: str, body: dict[str, Any], field: str, value: Any
) -> None:
    """`true` is not contact 1 (Python's bool is an int), nor is the text "1"."""
    path = world.path(template.replace("{key}", world.hook_key))
    sent = {key: world.ids[v[1:-1]] if isinstance(v, str) and v.startswith("{") else v for key, v in body.items()}

    refused_naming(world, lambda: world.send(method, path, {**sent, field: value}), field)


@pytest.mark.parametrize("agent_id", ["99999999999999999999", "-99999999999999999999", "0"])
def test_an_admin_page_for_an_agent_id_out_of_range_answers_400_not_500(world: World, agent_id: str) -> None:
    admin_id = make_agent(world.admin.db, role="admin")
    session = world.admin.db.write_sync(lambda c: open_session(c, admin_id, now()))
    world.client.cookies.set(COOKIE, session)
    try:  # not `refused`: a page seen notes the agent's activity
        response = world.client.get(f"/admin/agents/{agent_id}", headers={"accept": "text/html"})
    finally:
        world.client.cookies.clear()

    assert response.status_code == 400
    assert "invalid request: agent_id: Expected `int`" in response.text
    world.settle()


# -- found by the contract test (test_openapi_contract) ------------------------------------------
LOOSE_VALUES: list[tuple[str, str, dict[str, Any], str]] = [
    ("PATCH", "/api/v1/teams/{team}", {"name": None}, "name"),  # was a 500
    ("POST", "/api/v1/workflows/{workflow}/dry-run", {"available": 0}, "available"),  # was taken as false
    ("POST", "/api/v1/workflows/validate", {"definition": None, "yaml": "name: x"}, "definition"),
]


@pytest.mark.parametrize(
    ("method", "template", "body", "field"), LOOSE_VALUES, ids=[f"{c[0]} {c[1]} {c[3]}" for c in LOOSE_VALUES]
)
def test_a_value_the_document_does_not_allow_is_refused_with_400_naming_it(
    world: World, method: str, template: str, body: dict[str, Any], field: str
) -> None:
    refused_naming(world, lambda: world.send(method, world.path(template), body), field)
