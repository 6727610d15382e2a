"""The published OpenAPI document, made to say exactly what the API does.

Litestar derives the document from the handlers; what it cannot see is set here, once, on the
document it built (before any request reads it):
- request bodies as pydantic validates them: Litestar's rendering drops the bounds of optional
  fields and never says `additionalProperties: false`, though unknown keys are refused;
- the one error body of api/errors.py, for the 4xx answers each operation gives (Litestar
  declares its own `{status_code, detail, extra}`, which the API never sends).
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Union, get_args, get_origin

from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import (
    OpenAPI,
    OpenAPIMediaType,
    OpenAPIResponse,
    Operation,
    Parameter,
    Reference,
    RequestBody,
    Schema,
)
from litestar.openapi.spec.base import BaseSchemaObject
from litestar.params import ParameterKwarg
from litestar.routes import HTTPRoute
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from frontdesk.domain.model import Role

REF = "#/components/schemas/{model}"

PROBLEM = {
    "type": "object",
    "required": ["field", "problem"],
    "additionalProperties": False,
    "properties": {"field": {"type": "string"}, "problem": {"type": "string"}},
}
WORKFLOW_PROBLEM = {
    "type": "object",
    "required": ["step", "path", "message"],
    "additionalProperties": False,
    "properties": {
        "step": {"type": ["string", "null"]},
        "path": {"type": "string"},
        "message": {"type": "string"},
    },
}
ERROR = {
    "type": "object",
    "description": "Every error of the API; nothing was changed.",
    "required": ["error", "detail"],
    "additionalProperties": False,
    "properties": {
        "error": {"type": "string", "description": "a stable code: invalid_request, contact_not_found…"},
        "detail": {"type": "string", "description": "what is wrong, naming the field"},
        "field": {"type": "string", "description": "the field at fault, when it is one"},
        "errors": {"type": "array", "items": PROBLEM, "description": "each field whose shape is wrong"},
        "problems": {"type": "array", "items": WORKFLOW_PROBLEM, "description": "an invalid workflow's problems"},
    },
}
WHY = {
    400: "The request does not match this document (malformed JSON, a missing, wrong-typed or unknown "
    "key, an id out of range, JSON nested deeper than 64 levels)",
    401: "No valid API token (or channel signature)",
    403: "The token's role does not allow this",
    404: "Something named by an id or key does not exist (or is not visible to this token)",
    409: "The request does not fit the current state",
    413: "The body is larger than FRONTDESK_MAX_BODY_BYTES",
    422: "Well-formed, but breaks a rule (unknown contact field, invalid workflow, …)",
}
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
# Operations open to agents that still refuse some of them (the others are gated by opt["role"]).
REFUSED_TO_SOME = {
    ("PATCH", "/api/v1/agents/{agent_id}"),  # an agent changes only their own availability
    ("POST", "/api/v1/channels/{channel_id}/inbound"),  # an agent token may not post as a contact
}

# Reads that depend on a state (an attachment's content is not there while it is being fetched).
STATE_BOUND_READS = {("GET", "/api/v1/attachments/{attachment_id}/content")}
# Reads whose parameters must also fit a rule (a report's range, a filter naming a team that exists).
RULED_READS = {
    ("GET", "/api/v1/reports/conversations"),
    ("GET", "/api/v1/reports/conversations.csv"),
    ("GET", "/api/v1/reports/workflows/{workflow_id}/funnel"),
    ("GET", "/api/v1/reports/workflows/{workflow_id}/funnel.csv"),
}


@dataclass
class RawSchema(BaseSchemaObject):
    """A JSON Schema kept as it was written (or as pydantic generated it)."""

    value: dict[str, Any]

    def to_schema(self) -> dict[str, Any]:
        return self.value


def refine(app: Litestar) -> None:
    document = app.openapi_schema
    assert document.components is not None
    schemas: dict[str, Any] = document.components.schemas
    operations = list(_operations(app, document))
    schemas.update({name: RawSchema(value) for name, value in _body_schemas(operations).items()})
    schemas["Error"] = RawSchema(ERROR)
    for method, path, handler, operation in operations:
        operation.responses = {**(operation.responses or {}), **_errors(method, path, handler, operation)}
        _exact_bounds(handler, operation)
        _optional_body(handler, operation)


def _exact_bounds(handler: HTTPRouteHandler, operation: Operation) -> None:
    """Litestar writes the bounds of a required parameter as floats: the largest id, 2^63-1,
    became 9.223372036854776e18, which is 2^63. The handler's own integers are put back."""
    declared = {}
    for name, field in handler.parsed_fn_signature.parameters.items():
        kwarg = field.kwarg_definition
        if isinstance(kwarg, ParameterKwarg):
            declared[kwarg.query or kwarg.header or kwarg.cookie or name] = kwarg
    for parameter in operation.parameters or []:
        if not isinstance(parameter, Parameter) or not isinstance(parameter.schema, Schema):
            continue
        kwarg = declared.get(parameter.name)
        if kwarg is None:
            continue
        schema = parameter.schema
        if isinstance(kwarg.ge, int):
            schema.minimum = kwarg.ge
        if isinstance(kwarg.le, int):
            schema.maximum = kwarg.le


def _optional_body(handler: HTTPRouteHandler, operation: Operation) -> None:
    """A body with a default (closing a conversation, adding a member) may be left out."""
    data = handler.parsed_fn_signature.parameters.get("data")
    if data is not None and data.has_default and isinstance(operation.request_body, RequestBody):
        operation.request_body.required = False


_Operation = tuple[str, str, HTTPRouteHandler, Operation]  # method, path, handler, its document entry


def _operations(app: Litestar, document: OpenAPI) -> Iterator[_Operation]:
    paths = document.paths or {}
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path_format not in paths:
            continue
        item = paths[route.path_format]
        for handler in route.route_handlers:
            for method in handler.http_methods:
                operation = getattr(item, method.lower(), None)
                if isinstance(operation, Operation):
                    yield method, route.path_format, handler, operation


def _errors(method: str, path: str, handler: HTTPRouteHandler, operation: Operation) -> dict[str, OpenAPIResponse]:
    statuses = set()
    has_body = operation.request_body is not None
    if operation.parameters or has_body:
        statuses.add(400)
    if handler.opt.get("auth") != "public":
        statuses.add(401)
    statuses.update(handler.opt.get("refuses", ()))  # a public route's own refusals: a webhook's bad signature
    if handler.opt.get("role", Role.AGENT) != Role.AGENT or (method, path) in REFUSED_TO_SOME:
        statuses.add(403)
    if "{" in path or (has_body and _names_ids(handler)):
        statuses.add(404)
    if method in WRITES:
        statuses |= {409, 422}
    if (method, path) in STATE_BOUND_READS:
        statuses.add(409)
    if (method, path) in RULED_READS:
        statuses.add(422)
    if has_body:
        statuses.add(413)
    error = OpenAPIMediaType(schema=Reference(ref=REF.format(model="Error")))
    return {str(s): OpenAPIResponse(description=WHY[s], content={"application/json": error}) for s in sorted(statuses)}


def _body_models(handler: HTTPRouteHandler) -> list[type[BaseModel]]:
    data = handler.parsed_fn_signature.parameters.get("data")
    return list(_models_in(data.annotation)) if data is not None else []


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    elif get_origin(annotation) in (Union, types.UnionType) or get_args(annotation):
        for arg in get_args(annotation):
            yield from _models_in(arg)


def _names_ids(handler: HTTPRouteHandler) -> bool:
    return any(name.endswith("_id") for model in _body_models(handler) for name in model.model_fields)


def _body_schemas(operations: list[_Operation]) -> dict[str, dict[str, Any]]:
    """Every request body model, and the models and enums they use, as pydantic validates them."""
    models = {model for _, _, handler, _ in operations for model in _body_models(handler)}
    _, top = models_json_schema([(m, "validation") for m in sorted(models, key=str)], ref_template=REF)
    return dict(top.get("$defs", {}))
