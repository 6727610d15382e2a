"""A fake Graph API on 127.0.0.1 for Messenger's and Instagram's Send API (`POST /{version}/{page
id}/messages`, JSON or multipart with `filedata`), `GET /me`, and a CDN serving inbound media; the
documented webhook payloads, and helpers to sign and post them, shared by the Meta tests."""

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

from tests.channels.fake_provider import Answer, FakeProvider, FormFile, json_answer, multipart
from tests.factories import Api

FIXTURES = json.loads((Path(__file__).parent / "fixtures" / "meta_webhooks.json").read_text())
PAGE_ID, PAGE_NAME = "1067280970047460", "Jasper's Market"
PSID, IGSID = "6745512345678901", "5432109876543210"
ACCESS_TOKEN, APP_SECRET, VERIFY_TOKEN = "EAAB-page-access-token", "meta-app-secret", "meta-verify-me"
VERSION = "v21.0"


def payload(name: str, **message: Any) -> dict[str, Any]:
    """A documented payload; `message` overrides fields of its first event's message."""
    found = copy.deepcopy(FIXTURES[name])
    found["entry"][0]["messaging"][0].get("message", {}).update(message)
    return dict(found)


def sign(body: bytes, secret: str = APP_SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}", "content-type": "application/json"}


def post_webhook(admin: Api, channel_id: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    raw = json.dumps(body).encode() if not isinstance(body, bytes) else body
    return admin.client.post(
        f"/webhooks/meta/{channel_id}", content=raw, headers=sign(raw) if headers is None else headers
    )


def create_channel(admin: Api, type_: str = "messenger") -> dict[str, Any]:
    body = {
        "type": type_,
        "name": type_.title(),
        "page_id": PAGE_ID,
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
    body: dict[str, Any]  # the JSON body, or a multipart body's fields decoded from JSON
    file: FormFile | None
    status: int
    problem: str | None  # why the request is not what the Send API takes; None when it is


class FakeMetaGraph(FakeProvider[Sent]):
    """Answers the Send API like the Graph API (https://developers.facebook.com/docs/messenger-platform/reference/send-api/):
    checks the bearer token and the body's shape, records the request, answers the scripted statuses
    in order (then 200 for ever): `{"recipient_id", "message_id"}`, or Graph's error shape."""

    def _answer(self, path: str, headers: Message, raw: bytes) -> tuple[int, dict[str, Any]]:
        authorization = headers.get("authorization", "")
        form = multipart(headers, raw)
        if form is None:
            body, file = json.loads(raw), None
        else:
            fields, files = form
            body = {key: _json_or_text(value) for key, value in fields.items()}
            file = files.get("filedata")
        problem = _problem(path, authorization, body, file)
        with self._lock:
            status = 400 if problem else (self._script.pop(0) if self._script else 200)
            self._sent.append(Sent(path, authorization, body, file, status, problem))
            number = len(self._sent)
        if status == 200:
            return 200, {"recipient_id": body["recipient"]["id"], "message_id": f"m_OUT{number}"}
        message = problem or f"(#{status}) scripted failure"
        return status, {"error": {"message": message, "type": "OAuthException", "code": 100, "fbtrace_id": "AbC"}}

    def _answer_get(self, path: str, headers: Message) -> Answer:
        """`GET /{version}/me?fields=id,name` with the page token (the page's id and name), and
        `GET /cdn/{name}`, a media's CDN URL as webhooks give it (no token)."""
        if path.startswith("/cdn/"):
            scripted, media = self._media_look_up(path, path.removeprefix("/cdn/"))
            if scripted is not None or media is None:
                return json_answer(scripted or 404, {"error": "no such media"})
            return 200, {"content-type": media.mime_type}, media.content
        if headers.get("authorization", "") != f"Bearer {ACCESS_TOKEN}":
            error = {"message": "Invalid OAuth access token - Cannot parse access token", "code": 190}
            return json_answer(400, {"error": {**error, "type": "OAuthException"}})
        if path == f"/{VERSION}/me?fields=id%2Cname":
            return json_answer(200, {"id": PAGE_ID, "name": PAGE_NAME})
        return json_answer(400, {"error": {"message": f"Unsupported get request: {path}", "code": 100}})


def _json_or_text(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value


def _problem(path: str, authorization: str, body: dict[str, Any], file: FormFile | None) -> str | None:
    if path != f"/{VERSION}/{PAGE_ID}/messages":
        return f"unknown path {path}"
    if authorization != f"Bearer {ACCESS_TOKEN}":
        return "bad access token"
    if not isinstance(body.get("recipient"), dict) or not body["recipient"].get("id"):
        return "recipient.id is required"
    kind = body.get("messaging_type")
    if kind not in ("RESPONSE", "UPDATE", "MESSAGE_TAG") or (kind == "MESSAGE_TAG") != ("tag" in body):
        return f"messaging_type {kind!r} with tag {body.get('tag')!r}"
    message = body.get("message")
    if not isinstance(message, dict) or ("text" in message) == ("attachment" in message):
        return "message needs exactly one of text and attachment"
    if "text" in message:
        return _quick_replies_problem(message.get("quick_replies", []))
    attachment = message["attachment"]
    if attachment.get("type") not in ("image", "audio", "video", "file"):
        return f"unknown attachment type {attachment.get('type')}"
    has_url = "url" in attachment.get("payload", {})
    return None if has_url != (file is not None) else "an attachment needs exactly one of payload.url and filedata"


def _quick_replies_problem(replies: list[dict[str, Any]]) -> str | None:
    if len(replies) > 13:
        return "(#100) param message[quick_replies] must have at most 13 elements"
    for reply in replies:
        if reply.get("content_type") != "text" or not 0 < len(reply.get("title", "")) <= 20 or not reply.get("payload"):
            return f"a text quick reply needs a title of 1-20 characters and a payload: {reply}"
    return None
