"""A fake Graph API on 127.0.0.1 for WhatsApp's send endpoint, the documented webhook payloads,
and small helpers to sign and post them, shared by the WhatsApp tests."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any

import httpx

from tests.channels.fake_provider import FakeProvider
from tests.factories import Api

FIXTURES = json.loads((Path(__file__).parent / "fixtures" / "whatsapp_webhooks.json").read_text())
PHONE_NUMBER_ID = "106540352242922"
ACCESS_TOKEN, APP_SECRET, VERIFY_TOKEN = "EAAG-test-access-token", "app-secret-for-tests", "verify-me"
VERSION = "v21.0"
DISPLAY_PHONE_NUMBER, VERIFIED_NAME = "+1 631-555-5555", "Jasper's Market"


def payload(name: str, **message: Any) -> dict[str, Any]:
    """A documented payload; `message` overrides fields of its first message or status."""
    found = copy.deepcopy(FIXTURES[name])
    value = found["entry"][0]["changes"][0]["value"]
    items = value.get("messages") or value.get("statuses")
    items[0].update(message)
    return dict(found)


def sign(body: bytes, secret: str = APP_SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}", "content-type": "application/json"}


def post_webhook(admin: Api, channel_id: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    raw = json.dumps(body).encode() if not isinstance(body, bytes) else body
    return admin.client.post(
        f"/webhooks/whatsapp/{channel_id}", content=raw, headers=sign(raw) if headers is None else headers
    )


def create_channel(admin: Api) -> dict[str, Any]:
    body = {
        "type": "whatsapp",
        "name": "WhatsApp",
        "phone_number_id": PHONE_NUMBER_ID,
        "access_token": ACCESS_TOKEN,
        "app_secret": APP_SECRET,
        "verify_token": VERIFY_TOKEN,
    }
    response = admin.post("/api/v1/channels", body)
    assert response.status_code == 201, response.text
    return dict(response.json())


@dataclass(frozen=True)
class Sent:
    path: str
    authorization: str
    body: dict[str, Any]
    status: int
    problem: str | None  # why the request is not what the Graph API takes; None when it is


class FakeGraph(FakeProvider[Sent]):
    """Answers `POST /{version}/{phone number id}/messages` like the Graph API: checks the bearer
    token and the body's shape, records the request, and answers the scripted statuses in order
    (then 200 for ever) — a 200 with `messages[0].id`, an error with `error.message`."""

    def _answer(self, path: str, headers: Message, raw: bytes) -> tuple[int, dict[str, Any]]:
        authorization = headers.get("authorization", "")
        body = json.loads(raw)
        problem = _problem(path, authorization, body)
        with self._lock:
            status = 401 if problem else (self._script.pop(0) if self._script else 200)
            self._sent.append(Sent(path, authorization, body, status, problem))
            number = len(self._sent)
        if status == 200:
            return 200, {"messaging_product": "whatsapp", "messages": [{"id": f"wamid.OUT{number}"}]}
        return status, {"error": {"message": problem or f"(#{status}) scripted failure", "code": status}}

    def _answer_get(self, path: str, headers: Message) -> tuple[int, dict[str, Any]]:
        """The phone number node, `GET /{version}/{phone number id}?fields=…`, as the Graph API
        reference's example answers it (developers.facebook.com/docs/graph-api/reference/
        whats-app-business-account-to-number-current-status/); a wrong token gets Meta's 401."""
        if headers.get("authorization", "") != f"Bearer {ACCESS_TOKEN}":
            error = {"message": "Invalid OAuth access token - Cannot parse access token", "type": "OAuthException"}
            return 401, {"error": {**error, "code": 190}}
        if path != f"/{VERSION}/{PHONE_NUMBER_ID}?fields=display_phone_number%2Cverified_name":
            return 400, {"error": {"message": f"Unsupported get request: {path}", "code": 100}}
        number = {"display_phone_number": DISPLAY_PHONE_NUMBER, "verified_name": VERIFIED_NAME}
        return 200, {**number, "id": PHONE_NUMBER_ID}


def _problem(path: str, authorization: str, body: dict[str, Any]) -> str | None:
    if path != f"/{VERSION}/{PHONE_NUMBER_ID}/messages":
        return f"unknown path {path}"
    if authorization != f"Bearer {ACCESS_TOKEN}":
        return "bad access token"
    if body.get("messaging_product") != "whatsapp" or not body.get("to"):
        return "messaging_product and to are required"
    kind = body.get("type")
    if kind == "text" and isinstance(body.get("text", {}).get("body"), str):
        return None
    if kind == "interactive" and body.get("interactive", {}).get("type") in ("button", "list"):
        return None
    if kind == "template":
        return _template_problem(body.get("template"))
    return f"unexpected body {body}"


def _template_problem(template: Any) -> str | None:
    """Meta's template object: a name, `language.code`, and components whose body parameters are
    `{"type": "text", "text": ...}` (https://developers.facebook.com/docs/whatsapp/cloud-api/guides/send-message-templates)."""
    if not isinstance(template, dict) or not template.get("name") or not template.get("language", {}).get("code"):
        return "a template needs name and language.code"
    for component in template.get("components", []):
        parameters = component.get("parameters")
        if component.get("type") != "body" or not parameters:
            return f"unexpected component {component}"
        if any(p.get("type") != "text" or not p.get("text") for p in parameters):
            return f"a body parameter needs type text and a text: {parameters}"
    return None
