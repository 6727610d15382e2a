"""A fake Twilio REST API on 127.0.0.1 (Messages, Accounts, MMS media), the documented webhook
form fields, and helpers to post them signed as Twilio signs them, shared by the Twilio tests."""

from __future__ import annotations

import base64
import copy
import json
import urllib.parse
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any

import httpx
from twilio.request_validator import RequestValidator

from tests.channels.fake_provider import Answer, FakeProvider, json_answer
from tests.factories import Api

FIXTURES = json.loads((Path(__file__).parent / "fixtures" / "twilio_webhooks.json").read_text())
ACCOUNT_SID = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
AUTH_TOKEN = "twilio-auth-token-for-tests"
FROM_NUMBER, CONTACT_NUMBER = "+14155550100", "+14155552671"
SERVICE_SID = "MGbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
PUBLIC_URL = "https://frontdesk.example"  # FRONTDESK_PUBLIC_URL in these tests: what Twilio signs
MESSAGES = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"


def webhook(name: str, base: str = "", **fields: str) -> dict[str, str]:
    """A documented webhook's form fields; `base` fills a media URL's host, `fields` override."""
    found = {k: v.replace("{base}", base) for k, v in copy.deepcopy(FIXTURES[name]).items()}
    return {**found, **fields}


def signature(url: str, form: dict[str, str], token: str = AUTH_TOKEN) -> str:
    """`X-Twilio-Signature` as Twilio computes it (its own library's implementation)."""
    return str(RequestValidator(token).compute_signature(url, form))


def post_webhook(
    admin: Api, channel_id: int, form: dict[str, str], token: str | None = AUTH_TOKEN, url: str | None = None
) -> httpx.Response:
    """Post `form` signed for `url` (by default the channel's webhook URL under PUBLIC_URL)."""
    path = f"/webhooks/twilio/{channel_id}"
    headers = {"content-type": "application/x-www-form-urlencoded"}
    if token is not None:
        headers["X-Twilio-Signature"] = signature(url or f"{PUBLIC_URL}{path}", form, token)
    return admin.client.post(path, content=urllib.parse.urlencode(form).encode(), headers=headers)


def create_channel(admin: Api, **settings: str) -> dict[str, Any]:
    body = {
        "type": "twilio",
        "name": "SMS",
        "account_sid": ACCOUNT_SID,
        "auth_token": AUTH_TOKEN,
        "from_number": FROM_NUMBER,
        **settings,
    }
    response = admin.post("/api/v1/channels", body)
    assert response.status_code == 201, response.text
    return dict(response.json())


@dataclass(frozen=True)
class Sent:
    path: str
    form: dict[str, list[str]]  # the form fields, each with its values (MediaUrl repeats)
    status: int
    problem: str | None  # why the request is not what the Messages API takes; None when it is


def _authorized(headers: Message) -> bool:
    expected = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    return headers.get("authorization") == expected


def _error(status: int, code: int, message: str) -> dict[str, Any]:
    """Twilio's error body (https://www.twilio.com/docs/usage/twilios-response#response-formats-exceptions)."""
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


class FakeTwilio(FakeProvider[Sent]):
    """Answers `POST /2010-04-01/Accounts/{sid}/Messages.json` like the Message resource
    (https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource): checks
    the basic auth and the form (To, From or MessagingServiceSid, Body or MediaUrl), records it,
    and answers the scripted statuses in order (then 201 for ever) with the new message (`sid`,
    `status: queued`) or Twilio's error body; `GET /Accounts/{sid}.json` the account; a media
    URL redirects to the bytes it holds (as Twilio's media URLs do)."""

    def _answer(self, path: str, headers: Message, raw: bytes) -> tuple[int, dict[str, Any]]:
        form = urllib.parse.parse_qs(raw.decode(), keep_blank_values=True)
        problem = _problem(path, headers, form)
        with self._lock:
            scripted = self._script.pop(0) if self._script and not problem else 201
            status = (401 if problem == "Authenticate" else 400) if problem else scripted
            self._sent.append(Sent(path, form, status, problem))
            number = len(self._sent)
        if problem:
            return status, _error(status, 20003 if status == 401 else 21604, problem)
        if status == 429:
            return 429, _error(429, 20429, "Too Many Requests")
        if status >= 500:
            return status, _error(status, 20500, "Internal Server Error")
        if status >= 400:
            return status, _error(status, 21211, "Invalid 'To' Phone Number: " + form["To"][0])
        return 201, _message(form, f"SM{number:032d}")

    def _answer_get(self, path: str, headers: Message) -> Answer:
        if path == f"/2010-04-01/Accounts/{ACCOUNT_SID}.json":
            if not _authorized(headers):
                return json_answer(401, _error(401, 20003, "Authenticate"))
            account = {"sid": ACCOUNT_SID, "friendly_name": "Frontdesk Test", "status": "active", "type": "Full"}
            return json_answer(200, {**account, "auth_token": AUTH_TOKEN, "owner_account_sid": ACCOUNT_SID})
        if path.startswith("/cdn/"):  # where a media URL redirects: no auth asked
            scripted, media = self._media_look_up(path, path.removeprefix("/cdn/"))
            if media is None or scripted is not None:
                return json_answer(scripted or 404, _error(scripted or 404, 20404, "Not Found"))
            return 200, {"content-type": media.mime_type}, media.content
        media_id = path.rsplit("/Media/", 1)[-1]
        if not path.startswith(f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/") or not _authorized(headers):
            return json_answer(401, _error(401, 20003, "Authenticate"))
        return 307, {"location": f"/cdn/{media_id}", "content-type": "text/plain"}, b""


def _problem(path: str, headers: Message, form: dict[str, list[str]]) -> str | None:
    if not _authorized(headers):
        return "Authenticate"
    if path != MESSAGES:
        return f"The requested resource {path} was not found"
    if not form.get("To") or not (form.get("From") or form.get("MessagingServiceSid")):
        return "A 'From' or 'MessagingServiceSid' parameter is required"
    if not (form.get("Body", [""])[0] or form.get("MediaUrl")):
        return "A text message body or media URL is required"
    return None


def _message(form: dict[str, list[str]], sid: str) -> dict[str, Any]:
    """The Message resource Twilio answers a create with (its documented fields, abridged)."""
    return {
        "account_sid": ACCOUNT_SID,
        "api_version": "2010-04-01",
        "body": form.get("Body", [""])[0],
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": form.get("From", [None])[0],
        "messaging_service_sid": form.get("MessagingServiceSid", [None])[0],
        "num_media": str(len(form.get("MediaUrl", []))),
        "num_segments": "1",
        "sid": sid,
        "status": "queued",
        "to": form["To"][0],
        "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json",
    }
