"""http_request: call an HTTP API (a CRM lookup...), map response fields to variables.

The request is built here; the engine performs it outside any database transaction, refuses
loopback/private/link-local addresses unless the deployment allows them, and resumes the step
with the response. `{{ secrets.NAME }}` renders to a mark the engine fills in only for the call
(domain/workflows/secret_refs.py): the run records the template, never the value.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from frontdesk.domain.model import WaitKind
from frontdesk.domain.workflows import secret_refs
from frontdesk.domain.workflows.paths import MISSING, resolve
from frontdesk.domain.workflows.templates import render_value
from frontdesk.steps._fields import Target
from frontdesk.steps.base import Catalog, HttpResult, Outcome, Runtime, Signal, StepConfig, StepType, Wait


class Config(StepConfig):
    type: Literal["http_request"] = "http_request"
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "GET"
    url: str = Field(min_length=1, max_length=2000)
    headers: dict[str, str] = Field(default_factory=dict)
    body: Any = None
    timeout: float = Field(default=10.0, gt=0, le=30)
    save: dict[str, str] = Field(
        default_factory=dict, description="variable name -> path in the JSON response, e.g. plan: $.plan"
    )
    next: Target = None
    on_failure: Target = None

    uses_secrets: ClassVar[bool] = True

    def targets(self) -> dict[str, str | None]:
        return {"success": self.next, "failure": self.on_failure}

    def templates(self) -> list[tuple[str, str]]:
        found = [("url", self.url)] + [(f"headers.{k}", v) for k, v in self.headers.items()]
        return found + [(f"body.{p}", s) for p, s in _strings(self.body, "")]

    def fields_written(self) -> list[str]:
        return [f"vars.{name}" for name in self.save]

    def problems(self, catalog: Catalog) -> list[tuple[str, str]]:
        if "{" not in self.url and not self.url.startswith(("http://", "https://")):
            return [("url", "must start with http:// or https://")]
        return []


def _strings(value: Any, path: str) -> list[tuple[str, str]]:
    if isinstance(value, str):
        return [(path.lstrip("."), value)]
    if isinstance(value, dict):
        return [item for k, v in value.items() for item in _strings(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [item for i, v in enumerate(value) for item in _strings(v, f"{path}[{i}]")]
    return []


def execute(config: Config, runtime: Runtime, signal: Signal) -> Outcome:
    if signal is None:
        nonce = secret_refs.new_nonce()
        context = {**runtime.context(), "secrets": secret_refs.SecretMarks(nonce)}
        request = {
            "method": config.method,
            "url": render_value(config.url, context),
            "headers": render_value(config.headers, context),
            "body": render_value(config.body, context) if config.body is not None else None,
            "timeout": config.timeout,
        }
        output = {"request": secret_refs.shown(request, nonce)}
        if secret_refs.marked(request, nonce):
            request["secrets_nonce"] = nonce
        return Outcome(wait=Wait(WaitKind.HTTP, request=request), output=output)
    if not isinstance(signal, HttpResult):
        raise TypeError(f"http_request cannot resume on {signal!r}")
    if signal.error is not None:
        return Outcome("failure", signal.error, {"status": signal.status})
    if signal.status is None or signal.status >= 400:
        return Outcome("failure", f"the API answered HTTP {signal.status}", {"status": signal.status})
    saved = {}
    for name, path in config.save.items():
        value = resolve(signal.body, path)
        saved[name] = None if value is MISSING else value
        runtime.set_var(name, saved[name])
    return Outcome("success", f"HTTP {signal.status}", {"status": signal.status, "saved": saved})


STEP = StepType.of(Config, execute)
