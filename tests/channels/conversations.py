"""Reading back what a provider's webhooks made, the same way for every messaging channel."""

from __future__ import annotations

from typing import Any

from tests.engine.support import thread
from tests.factories import Api


def conversations(admin: Api) -> list[dict[str, Any]]:
    return list(admin.get("/api/v1/conversations", limit=200).json())


def inbound_texts(admin: Api, conversation_id: int) -> list[str]:
    return [m["text"] for m in thread(admin, conversation_id) if m["direction"] == "in"]


def one_conversation(admin: Api) -> int:
    [conversation] = conversations(admin)
    return int(conversation["id"])
