"""The generic API channel (respond.io's "custom channel"): your system posts the contact's
messages to Frontdesk, and Frontdesk posts replies to your `callback_url`, signed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from frontdesk.channels import signing


@dataclass(frozen=True)
class OutboundRequest:
    url: str
    body: bytes
    headers: dict[str, str]


def outbound_request(config: dict[str, Any], secret: str, message: dict[str, Any]) -> OutboundRequest | None:
    """The POST that delivers `message`; None when the channel has no callback URL."""
    url = config.get("callback_url")
    if not url:
        return None
    payload = {
        "type": "message",
        "message": {
            "id": message["id"],
            "text": message["text"],
            "quick_replies": message.get("quick_replies") or [],
            "conversation_id": message["conversation_id"],
            "author": {"kind": message["author_kind"], "agent_id": message["author_agent_id"]},
            "created_at": message["created_at"].isoformat(),
        },
        "contact": {"id": message["contact_id"], "external_id": message["external_id"]},
    }
    body = json.dumps(payload, separators=(",", ":")).encode()
    headers = {
        "content-type": "application/json",
        # Receivers dedupe on this: a delivery retried after a lost answer carries the same id.
        "x-frontdesk-delivery": str(message["id"]),
        "x-frontdesk-attempt": str(message["delivery_attempts"]),
        **signing.signed_headers(secret, body),
    }
    return OutboundRequest(url, body, headers)
