"""The published OpenAPI document describes the API as it answers: the error body it sends,
request bodies that refuse unknown keys, ids bounded as the API bounds them, every method in Allow."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from frontdesk.api.schemas import MAX_ID
from tests.api.test_bad_input import DOCUMENT
from tests.factories import Api

OPERATIONS = [
    (method.upper(), path, operation)
    for path, item in DOCUMENT["paths"].items()
    for method, operation in item.items()
    if isinstance(operation, dict)
]
SCHEMAS: dict[str, Any] = DOCUMENT["components"]["schemas"]


def test_every_4xx_answer_is_declared_with_the_error_body_the_api_sends() -> None:
    error = SCHEMAS["Error"]
    declared = [
        answer["content"]["application/json"]["schema"]
        for _, _, operation in OPERATIONS
        for status, answer in operation["responses"].items()
        if status.startswith("4")
    ]

    assert set(error["required"]) == {"error", "detail"}
    assert set(error["properties"]) == {"error", "detail", "field", "errors", "problems"}
    assert declared and all(schema == {"$ref": "#/components/schemas/Error"} for schema in declared)


def test_operations_declare_the_errors_they_give() -> None:
    statuses = {(method, path): set(op["responses"]) for method, path, op in OPERATIONS}

    assert {"400", "401", "404", "409", "422", "413"} <= statuses[("POST", "/api/v1/conversations")]
    assert {"401", "403", "404"} <= statuses[("GET", "/api/v1/channels/{channel_id}")]
    assert {"200", "201"} <= statuses[("POST", "/api/v1/conversations")]
    assert "401" not in statuses[("POST", "/api/v1/hooks/{key}")]  # public: the key is the credential


def body_schemas() -> list[str]:
    refs = {
        schema.get("$ref") or next(o["$ref"] for o in schema["oneOf"] if "$ref" in o)
        for _, _, operation in OPERATIONS
        if "requestBody" in operation
        if (schema := operation["requestBody"]["content"].get("application/json", {}).get("schema", {}))
        if "$ref" in schema or "oneOf" in schema
    }
    return sorted(ref.rsplit("/", 1)[1] for ref in refs)


@pytest.mark.parametrize("name", body_schemas())
def test_every_request_body_refuses_unknown_keys_as_the_api_does(name: str) -> None:
    assert SCHEMAS[name]["additionalProperties"] is False


def test_every_id_parameter_is_bounded_from_1_to_the_largest_database_integer() -> None:
    ids = [
        (path, parameter["name"], parameter["schema"])
        for _, path, operation in OPERATIONS
        for parameter in operation.get("parameters", [])
        if parameter["name"].endswith("_id")
    ]

    assert len(ids) > 30
    for path, name, schema in ids:
        assert (schema["minimum"], schema["maximum"]) == (1, MAX_ID), (path, name)
        assert isinstance(schema["maximum"], int), (path, name)  # not 9.223372036854776e18, which is 2^63


def test_body_ids_are_bounded_and_integers() -> None:
    contact_id = SCHEMAS["OpenConversationBody"]["properties"]["contact_id"]

    assert (contact_id["type"], contact_id["minimum"], contact_id["maximum"]) == ("integer", 1, MAX_ID)


@pytest.mark.parametrize("path", ["/api/v1/agents/1", "/api/v1/contacts/1", "/api/v1/teams/1", "/api/v1/channels/1"])
def test_options_lists_every_method_the_path_serves(admin: Api, client: TestClient, path: str) -> None:  # type: ignore[type-arg]
    response = client.options(path, headers=admin.headers)

    assert response.status_code == 204
    assert set(response.headers["allow"].split(", ")) == {"GET", "PATCH", "OPTIONS"}
