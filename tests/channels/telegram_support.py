"""A fake Telegram Bot API on 127.0.0.1 for sendMessage, the documented update payloads, and
helpers to post them with the webhook's secret token, shared by the Telegram tests."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any

import httpx

from tests.channels.fake_provider import FakeProvider
from tests.factories import Api

FIXTURES = json.loads((Path(__file__).parent / "fixtures" / "telegram_updates.json").read_text())
BOT_TOKEN, WEBHOOK_SECRET = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11", "webhook-secret_for-tests"
CHAT_ID = 1111111
BOT_ID, BOT_NAME, BOT_USERNAME = 123456, "Frontdesk Test", "frontdesk_test_bot"


def update(name: str, **changes: Any) -> dict[str, Any]:
    """A documented update; `changes` override its top-level fields (update_id, ...)."""
    return {**copy.deepcopy(FIXTURES[name]), **changes}


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
    body: dict[str, Any]
    status: int
    problem: str | None  # why the request is not what the Bot API takes; None when it is


class FakeBotApi(FakeProvider[Sent]):
    """Answers `POST /bot<token>/sendMessage` like the Bot API: checks the token in the path and
    the body's shape, records the request, and answers the scripted statuses in order (then 200
    for ever) — `{"ok": true, "result": {"message_id": ..}}`, or `ok: false` with a description."""

    def _answer(self, path: str, headers: Message, raw: bytes) -> tuple[int, dict[str, Any]]:
        if path.endswith("/getMe"):
            return _get_me(path)
        body = json.loads(raw)
        if path.endswith("/setWebhook"):
            return self._set_webhook(path, body)
        problem = _problem(path, body)
        with self._lock:
            status = (404 if "token" in problem else 400) if problem else (self._script.pop(0) if self._script else 200)
            self._sent.append(Sent(path, body, status, problem))
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


def _problem(path: str, body: dict[str, Any]) -> str | None:
    if path != f"/bot{BOT_TOKEN}/sendMessage":
        return f"Not Found: unknown token or method in {path.split('/')[-1]}"
    if not isinstance(body.get("chat_id"), int | str) or not isinstance(body.get("text"), str) or not body["text"]:
        return "Bad Request: chat_id and a non-empty text are required"
    markup = body.get("reply_markup")
    if markup is None:
        return None
    rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
    buttons = [b for row in rows for b in row] if isinstance(rows, list) else []
    if not buttons or any(not b.get("text") or len(str(b.get("callback_data", "")).encode()) > 64 for b in buttons):
        return "Bad Request: BUTTON_DATA_INVALID"
    return None
