"""Open, reply to, assign and close conversations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import msgspec
from sqlalchemy import Connection

from frontdesk.actions import assignments
from frontdesk.actions.attachments import store_attachments
from frontdesk.actions.events import emit
from frontdesk.channels import ADAPTERS
from frontdesk.clock import now
from frontdesk.domain import events as ev
from frontdesk.domain.attachments import NewAttachment, check_attachments
from frontdesk.domain.conversations import check_closing_note, check_message_text, check_open
from frontdesk.domain.errors import Conflict, InvalidInput, NotFound
from frontdesk.domain.events import MessageSentPayload, TemplatePayload
from frontdesk.domain.model import Actor, AuthorKind, ConversationStatus, DeliveryStatus, Source
from frontdesk.domain.records import Conversation
from frontdesk.store import rows
from frontdesk.store.database import wake
from frontdesk.store.rows import Row
from frontdesk.store.sql import assignment as assignment_sql
from frontdesk.store.sql import channels as channel_rows
from frontdesk.store.sql import conversations as sql
from frontdesk.store.sql import messages as message_rows
from frontdesk.store.sql import opt_outs


def conversation(conn: Connection, conversation_id: int) -> Conversation:
    found = sql.get(conn, conversation_id)
    if found is None:
        raise NotFound("conversation", conversation_id)
    return found


def get_conversation(conn: Connection, conversation_id: int) -> Row:
    """As a dict, for the callers not on records yet (the engine's runtime, actions/workflows)."""
    return msgspec.structs.asdict(conversation(conn, conversation_id))


def find_open_conversation(conn: Connection, contact_id: int) -> Row | None:
    found = sql.find_open(conn, contact_id)
    return None if found is None else msgspec.structs.asdict(found)


def ensure_open_conversation(
    conn: Connection, contact_id: int, source: Source, channel_id: int | None, actor: Actor
) -> tuple[int, bool]:
    """Return the contact's open conversation, opening one if there is none: (id, opened).

    The partial unique index decides races between processes: the loser of an insert race
    reads the winner's conversation instead of failing.
    """
    existing = sql.open_id(conn, contact_id)
    if existing is not None:
        return existing, False
    return open_new_conversation(conn, contact_id, source, channel_id, actor)


def open_new_conversation(
    conn: Connection, contact_id: int, source: Source, channel_id: int | None, actor: Actor
) -> tuple[int, bool]:
    """`ensure_open_conversation` without looking first, for a contact known to have no open
    conversation (created by this transaction): one statement fewer per new contact. Should
    another process have opened one meanwhile, the partial unique index still answers."""
    conversation_id = sql.insert_open(conn, contact_id, channel_id, source, now())
    if conversation_id is None:  # another process opened one first
        winner = sql.open_id(conn, contact_id)
        assert winner is not None  # the open conversation that conflicted is there
        return winner, False
    conversation_opened(conn, contact_id, conversation_id, source, channel_id, actor)
    return conversation_id, True


def conversation_opened(
    conn: Connection, contact_id: int, conversation_id: int, source: Source, channel_id: int | None, actor: Actor
) -> None:
    """The event of a conversation opened (here, or by ingest's one statement for a new contact)."""
    emit(
        conn,
        ev.CONVERSATION_OPENED,
        {"source": str(source), "channel_id": channel_id, "actor": actor.as_payload()},
        contact_id=contact_id,
        conversation_id=conversation_id,
    )


def open_conversation(
    conn: Connection, contact_id: int, actor: Actor, channel_id: int | None = None
) -> tuple[int, bool]:
    """An agent, the API or a workflow opens a conversation (or gets the open one)."""
    if not sql.contact_exists(conn, contact_id):
        raise NotFound("contact", contact_id, "contact_id")
    if channel_id is None:
        channel_id = sql.latest_channel_of(conn, contact_id)
    elif not sql.channel_exists(conn, channel_id):
        raise NotFound("channel", channel_id, "channel_id")
    elif not sql.reachable_on(conn, contact_id, channel_id):
        raise InvalidInput(
            "channel_not_linked",
            f"contact {contact_id} has no identity on channel {channel_id}",
            "channel_id",
        )
    return ensure_open_conversation(conn, contact_id, actor.source, channel_id, actor)


def send_message(
    conn: Connection,
    conversation_id: int,
    actor: Actor,
    text: str,
    quick_replies: list[str] | None = None,
    attachments: Sequence[NewAttachment] = (),
) -> int:
    """An agent/API/workflow message to the contact, with its attachments (text may then be
    empty); queued for delivery on the channel."""
    if text or not attachments:
        check_message_text(text)
    check_attachments(attachments, "attachments")
    found = conversation(conn, conversation_id)
    check_open(conversation_id, found.status, "reply to")
    at = now()
    check_reply_window(conn, found.contact_id, found.channel_id, at, actor.kind)
    check_opt_out(conn, found.contact_id, found.channel_id)
    return queue_outbound(conn, found, actor, text, at, quick_replies=quick_replies or None, attachments=attachments)


def queue_outbound(
    conn: Connection,
    found: Conversation,
    actor: Actor,
    text: str,
    at: dt.datetime,
    *,
    quick_replies: list[str] | None = None,
    template: TemplatePayload | None = None,
    attachments: Sequence[NewAttachment] = (),
) -> int:
    """Store a checked message to the contact (queued for delivery when its channel pushes) and
    emit `message.sent`; a template message carries its template for the channel to send."""
    status = _delivery_status(conn, found.channel_id)
    stored = None if template is None else dict(template)
    message_id = sql.add_outbound(
        conn, found, actor.kind, actor.agent_id, text, status, quick_replies, at, template=stored
    )
    if actor.agent_id is not None and actor.agent_id == found.assignee_id and not found.first_reply_at:
        sql.first_reply_sent(conn, found.id, at)  # answered: no reassignment for silence
    else:
        sql.message_sent(conn, found.id, at)
    payload: MessageSentPayload = {
        "message_id": message_id,
        "author": actor.as_payload(),
        "text": text,
        "quick_replies": quick_replies or [],
    }
    if template is not None:
        payload["template"] = template
    if attachments:
        payload["attachments"] = store_attachments(conn, message_id, attachments, at)
    emit(conn, ev.MESSAGE_SENT, payload, contact_id=found.contact_id, conversation_id=found.id)
    if status is DeliveryStatus.PENDING:
        wake(conn, "delivery")
    return message_id


def add_note(
    conn: Connection, conversation_id: int, actor: Actor, text: str, attachments: Sequence[NewAttachment] = ()
) -> int:
    """An internal note, with its attachments (text may then be empty): stored in the thread for
    agents, never sent to the contact."""
    if text or not attachments:
        check_message_text(text)
    check_attachments(attachments, "attachments")
    found = conversation(conn, conversation_id)
    at = now()
    message_id = sql.add_note(conn, conversation_id, actor.kind, actor.agent_id, text, at)
    payload: ev.NoteAddedPayload = {"message_id": message_id, "author": actor.as_payload(), "text": text}
    if attachments:
        payload["attachments"] = store_attachments(conn, message_id, attachments, at)
    emit(conn, ev.NOTE_ADDED, payload, contact_id=found.contact_id, conversation_id=conversation_id)
    return message_id


def _delivery_status(conn: Connection, channel_id: int | None) -> DeliveryStatus:
    found = outbound_settings(conn, channel_id)
    if found is None:
        return DeliveryStatus.STORED
    type_, config = found
    return DeliveryStatus.PENDING if ADAPTERS[type_].pushes(config) else DeliveryStatus.STORED


def check_reply_window(
    conn: Connection, contact_id: int, channel_id: int | None, at: dt.datetime, author: AuthorKind
) -> None:
    """A channel with a reply window (WhatsApp's 24 hours) refuses a free-form message to a
    contact who has not written within it, before anything is stored or sent; an agent's own reply
    gets the channel's longer `agent_reply_window` when it has one (Messenger's HUMAN_AGENT tag)."""
    found = outbound_settings(conn, channel_id)
    if found is None or channel_id is None:
        return
    capabilities = ADAPTERS[found[0]].capabilities
    if capabilities.reply_window is None:
        return
    last = message_rows.last_inbound_at(conn, contact_id, channel_id)
    if last is not None and at - last <= capabilities.reply_window:
        return
    longer = capabilities.agent_reply_window
    if longer is None or author is not AuthorKind.AGENT:
        raise Conflict("outside_reply_window", capabilities.outside_window)
    if last is None or at - last > longer:
        raise Conflict("outside_reply_window", capabilities.outside_agent_window)


OPTED_OUT = "the contact opted out of messages from this number (they sent STOP): they must send START first"


def check_opt_out(conn: Connection, contact_id: int, channel_id: int | None) -> None:
    """A channel contacts opt out of by keyword (SMS) refuses a message to one who sent STOP,
    before anything is stored or sent."""
    found = outbound_settings(conn, channel_id)
    if found is None or channel_id is None or not ADAPTERS[found[0]].capabilities.opt_out:
        return
    if opt_outs.opted_out(conn, contact_id, channel_id):
        raise Conflict("opted_out", OPTED_OUT)


def outbound_settings(conn: Connection, channel_id: int | None) -> tuple[str, dict[str, Any]] | None:
    """The channel's type and config (None: the conversation has no channel)."""
    if channel_id is None:
        return None
    found: tuple[str, dict[str, Any]] | None = rows.remembered(
        conn, ("channel.outbound", channel_id), lambda: channel_rows.outbound_settings(conn, channel_id)
    )
    return found


def close_conversation(
    conn: Connection, conversation_id: int, actor: Actor, note: str | None, category: str | None
) -> None:
    check_closing_note(note, category)
    found = conversation(conn, conversation_id)
    check_open(conversation_id, found.status, "close")
    sql.close(conn, conversation_id, now(), note, category)
    assignments.dequeue(conn, conversation_id)
    emit(
        conn,
        ev.CONVERSATION_CLOSED,
        {"actor": actor.as_payload(), "note": note, "category": category, "assignee_id": found.assignee_id},
        contact_id=found.contact_id,
        conversation_id=conversation_id,
    )
    if found.assignee_id is not None:  # a place is free: the team's queue moves now
        assignments.release_place(conn, found.assignee_id)
        assignments.queues().drain_teams_of(conn, found.assignee_id, now())


def reopen_conversation(conn: Connection, conversation_id: int, actor: Actor) -> None:
    """Open a closed conversation again — only while the contact has no other open one."""
    found = conversation(conn, conversation_id)
    if found.status == ConversationStatus.OPEN:
        raise Conflict("conversation_open", f"conversation {conversation_id} is already open")
    other = sql.open_id(conn, found.contact_id)
    if other is not None:
        raise Conflict(
            "contact_has_open_conversation",
            f"contact {found.contact_id} already has open conversation {other}",
        )
    sql.reopen(conn, conversation_id)
    emit(
        conn,
        ev.CONVERSATION_REOPENED,
        {"actor": actor.as_payload(), "assignee_id": found.assignee_id},
        contact_id=found.contact_id,
        conversation_id=conversation_id,
    )
    if found.assignee_id is not None:
        assignments.add_place(conn, found.assignee_id, now())  # the assignee holds it again


def assign_conversation(
    conn: Connection,
    conversation_id: int,
    actor: Actor,
    agent_id: int | None,
    team_id: int | None,
    reason: str | None = None,
) -> None:
    """A person hands the conversation over: to an agent (even above capacity), or to a team,
    whose strategy picks an available member — or whose queue keeps it until someone is free."""
    if agent_id is None and team_id is None:
        raise InvalidInput("nothing_to_assign", "give agent_id, team_id or both", "agent_id")
    found = conversation(conn, conversation_id)
    check_open(conversation_id, found.status, "assign")
    _check_agent(conn, agent_id)
    if team_id is not None and not assignment_sql.team_exists(conn, team_id):
        raise NotFound("team", team_id, "team_id")
    _check_active(conn, agent_id)
    if agent_id is not None and team_id is not None and not assignment_sql.is_member(conn, team_id, agent_id):
        raise InvalidInput("not_a_member", f"agent {agent_id} is not a member of team {team_id}", "agent_id")
    at = now()
    if agent_id is None:
        assert team_id is not None
        assignments.queues().hand_to_team(conn, found, team_id, actor, reason or "transferred to the team", at)
        return
    if found.assignee_id == agent_id and team_id in (None, found.team_id):
        return  # already there: nothing changes
    assignments.add_place(conn, agent_id, at)
    assignments.record_assignment(
        conn, found, agent_id, team_id, actor, strategy="manual", reason=reason or "manual", now=at
    )


def unassign_conversation(conn: Connection, conversation_id: int, actor: Actor) -> None:
    found = conversation(conn, conversation_id)
    check_open(conversation_id, found.status, "unassign")
    sql.clear_assignment(conn, conversation_id)
    emit(
        conn,
        ev.CONVERSATION_UNASSIGNED,
        {"previous_agent_id": found.assignee_id, "actor": actor.as_payload()},
        contact_id=found.contact_id,
        conversation_id=conversation_id,
    )
    if found.assignee_id is not None:
        assignments.release_place(conn, found.assignee_id)
        assignments.queues().drain_teams_of(conn, found.assignee_id, now())


def _check_agent(conn: Connection, agent_id: int | None) -> None:
    if agent_id is not None and not assignment_sql.agent_exists(conn, agent_id):
        raise NotFound("agent", agent_id, "agent_id")


def _check_active(conn: Connection, agent_id: int | None) -> None:
    if agent_id is not None and not assignment_sql.agent_active(conn, agent_id):
        raise InvalidInput("agent_inactive", f"agent {agent_id} is deactivated", "agent_id")
