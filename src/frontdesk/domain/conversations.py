"""The conversation lifecycle rules: what may happen to a conversation in each state."""

from __future__ import annotations

from frontdesk.domain.errors import Conflict, InvalidInput
from frontdesk.domain.model import ConversationStatus

MAX_MESSAGE_CHARS = 10_000
MAX_NOTE_CHARS = 2_000


def check_message_text(text: str, field: str = "text") -> str:
    if not text.strip():
        raise InvalidInput("empty_message", f"{field} must not be empty", field)
    if len(text) > MAX_MESSAGE_CHARS:
        raise InvalidInput("message_too_long", f"{field} is longer than {MAX_MESSAGE_CHARS} characters", field)
    return text


def check_open(conversation_id: int, status: str, action: str) -> None:
    """Replying, assigning and closing need an open conversation."""
    if status != ConversationStatus.OPEN:
        raise Conflict("conversation_closed", f"conversation {conversation_id} is closed; cannot {action} it")


def check_closing_note(note: str | None, category: str | None) -> None:
    if note is not None and len(note) > MAX_NOTE_CHARS:
        raise InvalidInput("note_too_long", f"note is longer than {MAX_NOTE_CHARS} characters", "note")
    if category is not None and not (0 < len(category.strip()) <= 64):
        raise InvalidInput("invalid_category", "category must be 1 to 64 characters", "category")
