"""A fake Telegram Bot API on 127.0.0.1 for sendMessage, getFile and the media methods, the
documented update payloads, and helpers to post them with the webhook's secret token, shared by
the Telegram tests."""

from __future__ import annotations

import copy
import json
import urllib.parse
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

import httpx

from tests.channels.fake_provider import Answer, FakeProvider, FormFile, json_answer, multipart
from tests.factories import Api

FIXTURES = json.loads((Path(__file__).parent / "fixtures" / "telegram_updates.json").read_text())
MEDIA_FIXTURES = json.loads((Path(__file__).parent / "fixtures" / "telegram_media_updates.json").read_text())
BOT_TOKEN, WEBHOOK_SECRET = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11", "webhook-secret_for-tests"
CHAT_ID = 1111111
BOT_ID, BOT_NAME, BOT_USERNAME = 123456, "Frontdesk Test", "frontdesk_test_bot"


def update(name: str, **changes: Any) -> dict[str, Any]:
    """A documented update; `changes` override its top-level fields (update_id, ...)."""
    return {**copy.deepcopy(FIXTURES[name]), **changes}


def media_update(name: str, **message: Any) -> dict[str, Any]:
    """A documented update carrying media, a location or a contact; `message` overrides its message's fields."""
    found = copy.deepcopy(MEDIA_FIXTURES[name])
    found["message"].update(message)
    return dict(found)


def post_update(admin: Api, channel_id: int, body: Any, secret: str | None = WEBHOOK_SECRET) -> httpx.Response:
    raw = json.dumps(body).encode() if not isinstance(body, bytes) else body
    headers = {"content-type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    return admin.client.post(f"/webhooks/telegram/{channel_id}", content=raw, headers=headers)


def create_channel(admin: Api) -> dict[str, Any]:
    body = {"type": "telegram", "name": "Telegram", "bot_token": BOT_TOKEN, "webhook_secret": WEBHOOK_SECRET}
    response = admin.post("/api/v1/channels", body)
    assert response.status_code == 201, response.text
    return dict(response.json())


@dataclass(frozen=True)
class Sent:
    path: str
    body: dict[str, Any]  # the JSON body, or a multipart body's text fields
    status: int
    problem: str | None  # why the request is not what the Bot API takes; None when it is
    files: dict[str, FormFile] = field(default_factory=dict)  # a multipart body's files


# The media methods Frontdesk uses, each with the field that carries the file or its URL.
MEDIA_FIELDS = {
    "sendPhoto": "photo",
    "sendDocument": "document",
    "sendVoice": "voice",
    "sendAudio": "audio",
    "sendVideo": "video",
}


class FakeBotApi(FakeProvider[Sent]):
    """Answers `POST /bot<token>/sendMessage` and the media methods (`sendPhoto`, `sendVoice`, …:
    a multipart upload or the file's URL as the field's value) like the Bot API: checks the
    token in the path and the body's shape, records the request, and answers the scripted statuses in order (then 200
    for ever) — `{"ok": true, "result": {"message_id": ..}}`, or `ok: false` with a description."""

    def _answer(self, path: str, headers: Message, raw: bytes) -> tuple[int, dict[str, Any]]:
        if path.endswith("/getMe"):
            return _get_me(path)
        form = multipart(headers, raw)
        body, files = form if form is not None else (json.loads(raw), {})
        if path.endswith("/setWebhook"):
            return self._set_webhook(path, body)
        problem = _problem(path, body, files)
        with self._lock:
            status = (404 if "token" in problem else 400) if problem else (self._script.pop(0) if self._script else 200)
            self._sent.append(Sent(path, body, status, problem, files))
            number = len(self._sent)
        if status == 200:
            result = {"message_id": 2000 + number, "chat": {"id": body["chat_id"], "type": "private"}, "text": ""}
            return 200, {"ok": True, "result": result}
        if status == 429:
            wait = 1 if self.retry_after is None else self.retry_after
            limited = {"ok": False, "error_code": 429, "description": f"Too Many Requests: retry after {wait}"}
            return 429, {**limited, "parameters": {"retry_after": wait}}
        description = problem or f"Bad Request: scripted failure {status}"
        return status, {"ok": False, "error_code": status, "description": description}

    def _answer_get(self, path: str, headers: Message) -> Answer:
        """`getFile?file_id=` (the token in the path) answers the file's `file_path`, or refuses
        a file over 20 MB as the Bot API does; `/file/bot<token>/<file_path>` serves its bytes."""
        url = urllib.parse.urlsplit(path)
        if url.path == f"/bot{BOT_TOKEN}/getFile":
            file_id = urllib.parse.parse_qs(url.query).get("file_id", [""])[0]
            scripted, media = self._media_look_up(path, file_id)
            if scripted == 429:
                body = {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 2"}
                answer = json.dumps({**body, "parameters": {"retry_after": 2}}).encode()
                return 429, {"content-type": "application/json"}, answer
            if scripted is not None:
                return _bot_error(scripted, "Internal Server Error")
            if media is None:
                return _bot_error(400, "Bad Request: invalid file_id")
            if media.too_big_for_bots:
                return _bot_error(400, "Bad Request: file is too big")
            result = {"file_id": file_id, "file_unique_id": f"U{file_id}", "file_size": len(media.content)}
            body = {"ok": True, "result": {**result, "file_path": f"documents/{file_id}.bin"}}
            return json_answer(200, body)
        prefix = f"/file/bot{BOT_TOKEN}/documents/"
        if url.path.startswith(prefix) and url.path.endswith(".bin"):
            scripted, media = self._media_look_up(path, url.path.removeprefix(prefix).removesuffix(".bin"))
            if media is not None and scripted is None:
                return 200, {"content-type": "application/octet-stream"}, media.content
            return 404, {"content-type": "text/plain"}, b"Not Found"
        return _bot_error(404, "Not Found: unknown token or method")

    def _set_webhook(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """`setWebhook`: the token in the path, an HTTPS-or-local `url` and a `secret_token`."""
        problem = None if path == f"/bot{BOT_TOKEN}/setWebhook" else "Not Found: unknown token"
        if problem is None and (not str(body.get("url", "")).startswith("http") or not body.get("secret_token")):
            problem = "Bad Request: url and secret_token are required"
        status = (404 if "token" in problem else 400) if problem else 200
        with self._lock:
            self._sent.append(Sent(path, body, status, problem))
        if problem:
            return status, {"ok": False, "error_code": status, "description": problem}
        return 200, {"ok": True, "result": True, "description": "Webhook was set"}


def _get_me(path: str) -> tuple[int, dict[str, Any]]:
    """`getMe` (core.telegram.org/bots/api#getme): the bot as a User; a wrong token gets 401 Unauthorized."""
    if path != f"/bot{BOT_TOKEN}/getMe":
        return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
    bot = {"id": BOT_ID, "is_bot": True, "first_name": BOT_NAME, "username": BOT_USERNAME, "can_join_groups": True}
    return 200, {"ok": True, "result": bot}


def _bot_error(status: int, description: str) -> Answer:
    return json_answer(status, {"ok": False, "error_code": status, "description": description})


def _problem(path: str, body: dict[str, Any], files: dict[str, FormFile]) -> str | None:
    method = path.split("/")[-1]
    if path != f"/bot{BOT_TOKEN}/{method}" or method not in ("sendMessage", *MEDIA_FIELDS):
        return f"Not Found: unknown token or method in {method}"
    if not isinstance(body.get("chat_id"), int | str) or not body["chat_id"]:
        return "Bad Request: chat_id is required"
    if method == "sendMessage" and (not isinstance(body.get("text"), str) or not body["text"]):
        return "Bad Request: chat_id and a non-empty text are required"
    if method in MEDIA_FIELDS:
        found = _media_problem(MEDIA_FIELDS[method], body, files)
        if found:
            return found
    markup = body.get("reply_markup")
    if markup is None:
        return None
    markup = json.loads(markup) if isinstance(markup, str) else markup  # multipart fields are text
    rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
    buttons = [b for row in rows for b in row] if isinstance(rows, list) else []
    if not buttons or any(not b.get("text") or len(str(b.get("callback_data", "")).encode()) > 64 for b in buttons):
        return "Bad Request: BUTTON_DATA_INVALID"
    return None


def _media_problem(name: str, body: dict[str, Any], files: dict[str, FormFile]) -> str | None:
    """The media is an uploaded file in its field, or an http(s) URL as the field's value."""
    upload, url = files.get(name), body.get(name)
    if (upload is None) == (url is None):
        return f"Bad Request: there is no {name} in the request"
    if upload is not None and not upload.content:
        return f"Bad Request: {name} is empty"
    if url is not None and not str(url).startswith(("http://", "https://")):
        return "Bad Request: wrong HTTP URL specified"
    if len(str(body.get("caption", ""))) > 1024:
        return "Bad Request: message caption is too long"
    return None
