"""Every error leaves the API in one shape: {"error": code, "detail": message, "errors": [...]};
the web pages show the same message on a page of their own."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, SerializationException, ValidationException
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import ExceptionHandlersMap

from frontdesk.api.auth import LoginRequired
from frontdesk.domain.errors import DomainError, TooManyRequests

log = logging.getLogger(__name__)


JSON_PATHS = ("/api/", "/webchat/", "/webhooks/", "/healthz")


def _response(status: int, code: str, detail: str, **extra: Any) -> Response[Any]:
    return Response({"error": code, "detail": detail, **extra}, status_code=status, media_type=MediaType.JSON)


def _for_person(request: Request[Any, Any, Any], response: Response[Any]) -> Response[Any]:
    """A browser on a web page gets the error as a page; the API and scripts keep the JSON."""
    wants_html = "text/html" in request.headers.get("accept", "")
    status = response.status_code  # set by _response; None only on a response built elsewhere
    if request.url.path.startswith(JSON_PATHS) or not wants_html or status is None:
        return response
    if not isinstance(response.content, dict):
        return response
    context = {"status": status, "detail": response.content["detail"]}
    return Template("error.html", context=context, status_code=status, headers=dict(response.headers))


def domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    extra: dict[str, Any] = {"field": exc.field} if exc.field else {}
    problems = getattr(exc, "problems", None)
    if problems is not None:  # an invalid workflow: every problem, each with its step and path
        extra["problems"] = [p.as_dict() for p in problems]
    response = _response(exc.status, exc.code, exc.message, **extra)
    if isinstance(exc, TooManyRequests):
        response.headers["Retry-After"] = str(exc.retry_after)
    return _for_person(request, response)


def validation_error(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    return _for_person(request, _validation_response(exc, _public_names(request)))


def _public_names(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The handler's parameters whose query name is not their Python name (`from`, a keyword, is
    `first`): Litestar names a bad one by its Python name, the caller knows the other."""
    handler = request.scope.get("route_handler")
    parameters = handler.parsed_fn_signature.parameters if handler is not None else {}
    named = {name: getattr(field.kwarg_definition, "name", None) for name, field in parameters.items()}
    return {name: query for name, query in named.items() if query and query != name}


def _validation_response(exc: ValidationException, public: dict[str, str] | None = None) -> Response[Any]:
    problems = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if isinstance(item, dict):
            field = item.get("key") or item.get("source")
            field = public.get(field, field) if public and isinstance(field, str) else field
            if field in (None, "data"):  # the body as a whole, which Litestar calls `data` or nothing
                field = "body"
            problems.append({"field": field, "problem": item.get("message")})
    # Litestar reports an absent body as KeyError('data'), even an optional one beside another problem.
    absent = {"field": "body", "problem": "'data'"}
    if absent in problems:
        problems = [p for p in problems if p != absent] or [{"field": "body", "problem": "a JSON object is required"}]
    if not problems:
        return _response(exc.status_code, "invalid_request", str(exc.detail))
    summary = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
    return _response(exc.status_code, "invalid_request", f"invalid request: {summary}", errors=problems)


def http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    return _for_person(request, _http_response(exc))


def _http_response(exc: HTTPException) -> Response[Any]:
    if isinstance(exc.__cause__, SerializationException):
        return _response(exc.status_code, "invalid_json", f"the request body is not valid JSON: {exc.detail}")
    code = {
        401: "unauthorized",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        413: "too_large",
    }
    response = _response(exc.status_code, code.get(exc.status_code, "bad_request"), str(exc.detail))
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def login_required(request: Request[Any, Any, Any], _: Exception) -> Response[Any]:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return Redirect(f"/login?next={quote(target)}", status_code=303)


def internal_error(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    log.exception("unhandled error", extra={"path": request.url.path, "method": request.method})
    return _response(HTTP_500_INTERNAL_SERVER_ERROR, "internal_error", "internal error; see the server log")


HANDLERS: ExceptionHandlersMap = {
    LoginRequired: login_required,
    DomainError: domain_error,
    ValidationException: validation_error,
    HTTPException: http_error,
    Exception: internal_error,
}
