"""The Runtime steps act through, backed by the database inside the writer's transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from frontdesk.actions import message_templates
from frontdesk.actions.contacts import update_contact
from frontdesk.actions.conversations import add_note, close_conversation, get_conversation, open_conversation
from frontdesk.actions.conversations import send_message as send
from frontdesk.assignment.queue import dequeue
from frontdesk.assignment.service import assign_first_available, queue_for
from frontdesk.domain.attachments import NewAttachment
from frontdesk.domain.errors import DomainError, NotFound
from frontdesk.domain.model import Actor, AuthorKind, ConversationStatus
from frontdesk.domain.records import Contact, Conversation
from frontdesk.domain.teams import AssignTarget
from frontdesk.domain.workflows import templates
from frontdesk.engine.interpreter import RunCancelled, StepFailed
from frontdesk.steps.base import Assignment, Catalog
from frontdesk.store import rows
from frontdesk.store.database import is_store_failure
from frontdesk.store.sql import channels, contacts, conversations, runs

if TYPE_CHECKING:
    from frontdesk.engine.runs import Run

WORKFLOW = Actor(AuthorKind.WORKFLOW)


class DbRuntime:
    def __init__(self, conn: Connection, run: Run, now: dt.datetime, context: dict[str, Any] | None = None) -> None:
        self.conn = conn
        self.run = run
        self.now = now
        self.step_state: dict[str, Any] = {}
        self.catalog = Catalog(check_names=False)
        self._context = context  # None: read when a step first needs it

    # -- reading -----------------------------------------------------------------------------
    def context(self) -> dict[str, Any]:
        if self._context is None:
            self._context = build_context(self.conn, self.run.contact_id, self.run.conversation_id, self.run.trigger)
        self._context["vars"] = self.run.state.vars
        return self._context

    def render(self, source: str) -> str:
        try:
            return templates.render(source, self.context())
        except templates.TemplateError as exc:
            raise StepFailed(str(exc)) from None

    def visits(self) -> int:
        return self.run.state.visits.get(self.run.state.step_id or "", 0)

    def is_store_failure(self, exc: Exception) -> bool:
        return is_store_failure(exc)

    # -- acting ------------------------------------------------------------------------------
    def _conversation(self) -> int:
        if self.run.conversation_id is None:
            raise StepFailed("this run has no conversation")
        return self.run.conversation_id

    @contextmanager
    def _while_open(self) -> Iterator[None]:
        """A run whose conversation was closed before its step ran (the engine was behind the
        agent who closed it) is cancelled, not failed: there is nobody left to reply to."""
        try:
            yield
        except DomainError as exc:
            if exc.code != "conversation_closed":
                raise
            raise RunCancelled(f"conversation {self.run.conversation_id} was closed before this step ran") from None

    def send_message(self, text: str, quick_replies: list[str], attachments: Sequence[NewAttachment] = ()) -> None:
        with self._while_open():
            send(self.conn, self._conversation(), WORKFLOW, text, quick_replies, attachments)

    def send_template(self, name: str, language: str, parameters: list[str]) -> None:
        with self._while_open():
            message_templates.send_template(self.conn, self._conversation(), WORKFLOW, name, language, parameters)

    def add_comment(self, text: str) -> None:
        with self._while_open():
            add_note(self.conn, self._conversation(), WORKFLOW, text)

    def set_field(self, key: str, value: Any) -> None:
        self._contact_change(fields={key: value})

    def update_tags(self, add: list[str], remove: list[str]) -> None:
        self._contact_change(add_tags=add, remove_tags=remove)

    def _contact_change(self, **changes: Any) -> None:
        if self.run.contact_id is None:
            raise StepFailed("this run has no contact")
        update_contact(self.conn, self.run.contact_id, WORKFLOW, **changes)
        self._context = None

    def set_var(self, name: str, value: Any) -> None:
        self.run.state.vars[name] = value

    def assign(self, targets: list[AssignTarget], skills: dict[str, str]) -> Assignment:
        self._context = None
        with self._while_open():
            return assign_first_available(self.conn, self._conversation(), targets, skills, WORKFLOW, self.now)

    def enqueue(self, team: str, priority: int, skills: dict[str, str]) -> bool:
        with self._while_open():
            return queue_for(self.conn, self._conversation(), team, priority, skills, self.now)

    def dequeue(self) -> None:
        if self.run.conversation_id is not None:
            dequeue(self.conn, self.run.conversation_id)

    def open_conversation(self) -> bool:
        if self.run.contact_id is None:
            raise StepFailed("this run has no contact")
        conversation_id, opened = open_conversation(self.conn, self.run.contact_id, WORKFLOW)
        self.run.conversation_id = conversation_id
        self._context = None
        return opened

    def close_conversation(self, note: str | None, category: str | None) -> bool:
        conversation_id = self._conversation()
        if get_conversation(self.conn, conversation_id)["status"] != ConversationStatus.OPEN:
            return False
        close_conversation(self.conn, conversation_id, WORKFLOW, note, category)
        self._context = None
        return True

    def start_workflow(self, name: str) -> bool:
        """Queue a run of `name`; the timer loop starts it (no recursion inside this step)."""
        target = next((w for w in runs.published_workflows(self.conn) if w.name == name), None)
        if target is None:
            return False
        run = self.run
        runs.queue(
            self.conn,
            target.id,
            target.version_id,
            run.trigger,
            run.contact_id,
            run.conversation_id,
            self.now,
        )
        return True


def build_context(
    conn: Connection, contact_id: int | None, conversation_id: int | None, trigger: dict[str, Any]
) -> dict[str, Any]:
    """What conditions and templates see: contact, conversation, channel, event, message, vars."""
    context: dict[str, Any] = {
        "event": trigger.get("event", {}),
        "message": trigger.get("message") or {},
        "contact": {},
        "conversation": {},
        "channel": {},
        "vars": {},
    }
    contact, conversation = _records(conn, contact_id, conversation_id)
    if contact is not None:
        name = contact.name or ""
        context["contact"] = {
            "id": contact.id,
            "name": name,
            "first_name": name.split(" ")[0] if name else "",
            "fields": dict(contact.fields),
            "tags": list(contact.tags),
            "owner_agent_id": contact.owner_agent_id,
        }
    if conversation is not None:
        context["conversation"] = {
            "id": conversation.id,
            "status": conversation.status,
            "source": conversation.source,
            "channel_id": conversation.channel_id,
            "team_id": conversation.team_id,
            "assignee_id": conversation.assignee_id,
        }
        channel_id = conversation.channel_id
        if channel_id is not None:
            channel = rows.remembered(conn, ("channel", channel_id), lambda: channels.summary(conn, channel_id))
            context["channel"] = channel._asdict() if channel else {}
    return context


def _records(
    conn: Connection, contact_id: int | None, conversation_id: int | None
) -> tuple[Contact | None, Conversation | None]:
    """The context's contact and conversation: one statement when the conversation is the contact's."""
    if conversation_id is None:
        return None if contact_id is None else contacts.get(conn, contact_id), None
    found = conversations.with_contact(conn, conversation_id)
    if found is None:
        raise NotFound("conversation", conversation_id)
    conversation, contact = found
    if contact_id is None:
        return None, conversation
    if contact.id != contact_id:  # a run of one contact on another's conversation: each its own
        return contacts.get(conn, contact_id), conversation
    return contact, conversation
