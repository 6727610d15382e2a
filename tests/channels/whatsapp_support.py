"""A fake Graph API on 127.0.0.1 for WhatsApp's send, media and media upload endpoints, the documented webhook payloads,
and small helpers to sign and post them, shared by the WhatsApp tests."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any

import httpx

from tests.channels.fake_provider import Answer, FakeProvider, FormFile, json_answer, multipart
from tests.factories import Api

FIXTURES = json.loads((Path(__file__).parent / "fixtures" / "whatsapp_webhooks.json").read_text())
MEDIA_FIXTURES = json.loads((Path(__file__).parent / "fixtures" / "whatsapp_media_webhooks.json").read_text())
PHONE_NUMBER_ID = "106540352242922"
ACCESS_TOKEN, APP_SECRET, VERIFY_TOKEN = "EAAG-test-access-token", "app-secret-for-tests", "verify-me"
VERSION = "v21.0"
DISPLAY_PHONE_NUMBER, VERIFIED_NAME = "+1 631-555-5555", "Jasper's Market"


def payload(name: str, **message: Any) -> dict[str, Any]:
    """A documented payload; `message` overrides fields of its first message or status."""
    found = copy.deepcopy(FIXTURES[name] if name in FIXTURES else MEDIA_FIXTURES[name])
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


@dataclass(frozen=True)
class Upload:
    path: str
    authorization: str
    fields: dict[str, str]
    file: FormFile | None
    status: int
    problem: str | None


class FakeGraph(FakeProvider[Sent]):
    """Answers `POST /{version}/{phone number id}/messages` like the Graph API: checks the bearer
    token and the body's shape, records the request, and answers the scripted statuses in order
    (then 200 for ever) — a 200 with `messages[0].id`, an error with `error.message`. Media
    uploads (`POST …/media`, multipart) take their turn in the same script and answer `{id}`."""

    def __init__(self, script: Sequence[int] = ()) -> None:
        self._uploads: list[Upload] = []
        super().__init__(script)

    @property
    def uploads(self) -> list[Upload]:
        with self._lock:
            return list(self._uploads)

    def _answer(self, path: str, headers: Message, raw: bytes) -> tuple[int, dict[str, Any]]:
        authorization = headers.get("authorization", "")
        if path.endswith("/media"):
            return self._upload(path, authorization, headers, raw)
        body = json.loads(raw)
        with self._lock:
            uploaded = {f"media-{n}" for n, u in enumerate(self._uploads, 1) if u.status == 200}
        problem = _problem(path, authorization, body, uploaded)
        with self._lock:
            status = 401 if problem else (self._script.pop(0) if self._script else 200)
            self._sent.append(Sent(path, authorization, body, status, problem))
            number = len(self._sent)
        if status == 200:
            return 200, {"messaging_product": "whatsapp", "messages": [{"id": f"wamid.OUT{number}"}]}
        return status, _error(problem, status)

    def _upload(self, path: str, authorization: str, headers: Message, raw: bytes) -> tuple[int, dict[str, Any]]:
        """`POST /{version}/{phone number id}/media`: multipart `file`, `type` (its MIME type) and
        `messaging_product=whatsapp`; answers the media id to send it by."""
        fields, files = multipart(headers, raw) or ({}, {})
        upload = files.get("file")
        problem = None
        if path != f"/{VERSION}/{PHONE_NUMBER_ID}/media" or authorization != f"Bearer {ACCESS_TOKEN}":
            problem = "unknown path or bad access token"
        elif fields.get("messaging_product") != "whatsapp" or upload is None or not upload.content:
            problem = "messaging_product=whatsapp and a file are required"
        elif fields.get("type") != upload.content_type:
            problem = f"type {fields.get('type')!r} is not the file's {upload.content_type!r}"
        with self._lock:
            status = 401 if problem else (self._script.pop(0) if self._script else 200)
            self._uploads.append(Upload(path, authorization, fields, upload, status, problem))
            number = len(self._uploads)
        return (200, {"id": f"media-{number}"}) if status == 200 else (status, _error(problem, status))

    def _answer_get(self, path: str, headers: Message) -> Answer:
        """The phone number node, `GET /{version}/{phone number id}?fields=…`, as the Graph API
        reference's example answers it (developers.facebook.com/docs/graph-api/reference/
        whats-app-business-account-to-number-current-status/), and the media endpoints:
        `GET /{version}/{media id}` answers the media's JSON (a URL on this fake, its type, SHA-256
        and size), `GET /media-download/{media id}` its bytes. All need the bearer token (Meta's
        401 without); an unknown id is a 404 with Meta's error shape."""
        if headers.get("authorization", "") != f"Bearer {ACCESS_TOKEN}":
            return _graph_error(401, "Invalid OAuth access token - Cannot parse access token")
        if path.startswith(f"/{VERSION}/{PHONE_NUMBER_ID}?"):
            return self._phone_number(path)
        download = path.removeprefix("/media-download/")
        info = path.removeprefix(f"/{VERSION}/")
        if download != path:
            scripted, media = self._media_look_up(path, download)
            if scripted is not None or media is None:
                return _graph_error(scripted or 404, f"(#{scripted or 404}) scripted failure or no such download")
            return 200, {"content-type": media.mime_type}, media.content
        scripted, media = self._media_look_up(path, info)
        if scripted is not None:
            return _graph_error(scripted, f"(#{scripted}) scripted failure")
        if media is None:
            return _graph_error(404, f"(#100) Unsupported get request. Object with ID '{info}' does not exist")
        answer = {
            "messaging_product": "whatsapp",
            "url": f"{self.url}/media-download/{info}",
            "mime_type": media.mime_type,
            "sha256": hashlib.sha256(media.content).hexdigest(),
            "file_size": str(len(media.content)),
            "id": info,
        }
        return json_answer(200, answer)

    def _phone_number(self, path: str) -> Answer:
        if path != f"/{VERSION}/{PHONE_NUMBER_ID}?fields=display_phone_number%2Cverified_name":
            return json_answer(400, {"error": {"message": f"Unsupported get request: {path}", "code": 100}})
        number = {"display_phone_number": DISPLAY_PHONE_NUMBER, "verified_name": VERIFIED_NAME}
        return json_answer(200, {**number, "id": PHONE_NUMBER_ID})


def _graph_error(status: int, message: str) -> Answer:
    return json_answer(status, {"error": {"message": message, "type": "OAuthException", "code": status}})


def _error(problem: str | None, status: int) -> dict[str, Any]:
    return {"error": {"message": problem or f"(#{status}) scripted failure", "code": status}}


def _problem(path: str, authorization: str, body: dict[str, Any], uploaded: set[str]) -> str | None:
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
    if kind in ("image", "audio", "video", "document"):
        return _media_problem(kind, body.get(kind), uploaded)
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


def _media_problem(kind: str, media: Any, uploaded: set[str]) -> str | None:
    """A media message names an uploaded media `id` or a `link`, never both; audio takes no caption."""
    if not isinstance(media, dict) or ("id" in media) == ("link" in media):
        return f"{kind} needs exactly one of id and link"
    if "id" in media and media["id"] not in uploaded:
        return f"unknown media id {media['id']}"
    if "link" in media and not str(media["link"]).startswith(("http://", "https://")):
        return "a link must be an http(s) URL"
    if kind == "audio" and "caption" in media:
        return "audio messages take no caption"
    return None
