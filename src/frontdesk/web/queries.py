"""What the inbox pages show, assembled from a few store reads per page (store/sql/inbox.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection

from frontdesk.actions.conversations import check_opt_out, check_reply_window, outbound_settings
from frontdesk.actions.message_templates import channel_templates
from frontdesk.api.attachments import with_attachments
from frontdesk.clock import now
from frontdesk.domain.attachments import shows_inline
from frontdesk.domain.errors import Conflict, NotFound
from frontdesk.domain.model import AttachmentKind, AuthorKind, ChannelType
from frontdesk.domain.records import Attachment
from frontdesk.domain.sms import GSM_BASIC, GSM_EXTENSION, sms_cost
from frontdesk.store.sql import agents, attachments, csat, inbox, teams
from frontdesk.store.sql import channels as channel_rows
from frontdesk.store.sql import contacts as contact_rows

VIEWS = ("mine", "unassigned", "all")
THREAD_PAGE = 50  # messages a thread shows at once; "Earlier messages" reads the page before
# What the list shows for a message that is only an attachment.
PREVIEWS = {
    AttachmentKind.IMAGE: "📷 Photo",
    AttachmentKind.AUDIO: "🎤 Audio",
    AttachmentKind.VIDEO: "🎬 Video",
    AttachmentKind.FILE: "📎 File",
    AttachmentKind.LOCATION: "📍 Location",
    AttachmentKind.CONTACT: "👤 Contact",
}


def inbox_list(
    conn: Connection,
    viewer: int | None,
    view: str,
    status: str,
    team_id: int | None,
    limit: int = 50,
    *,
    visible: ColumnElement[bool],
    channel_id: int | None = None,
) -> list[dict[str, Any]]:
    """`visible`: the conversations the viewer may see (store.visibility.seen_by)."""
    found = inbox.inbox_rows(conn, viewer, view, status, team_id, limit, visible=visible, channel_id=channel_id)
    ids = [c["id"] for c in found]
    last = inbox.last_messages(conn, ids)
    _preview_attachments(conn, list(last.values()))
    unread = inbox.unread_counts(conn, viewer, ids)
    for conversation in found:
        conversation["last"] = last.get(conversation["id"])
        conversation["unread"] = unread.get(conversation["id"], 0)
    return found


def _preview_attachments(conn: Connection, lasts: list[dict[str, Any]]) -> None:
    """A last message without text previews its attachments (one query, for those only)."""
    found = attachments.of_messages(conn, [m["id"] for m in lasts if not m["text"]])
    for message in lasts:
        if message["id"] in found:
            message["text"] = preview(found[message["id"]])


def preview(carried: list[Attachment]) -> str:
    """ "📷 Photo", "📎 invoice.pdf", "📷 Photo (+2)"."""
    first = carried[0]
    shown = PREVIEWS.get(AttachmentKind(first.kind), "📎 File")
    if first.kind == AttachmentKind.FILE and first.file_name:
        shown = f"📎 {first.file_name}"
    return shown if len(carried) == 1 else f"{shown} (+{len(carried) - 1})"


def thread(
    conn: Connection, conversation_id: int, visible: ColumnElement[bool], *, before: int | None = None
) -> dict[str, Any]:
    """The conversation with its contact and one page of its messages: the newest, or those just
    before message id `before`; `visible` limits the contact's past conversations."""
    conversation = inbox.conversation_detail(conn, conversation_id)
    names = agents.agent_names(conn)
    page = _message_page(conn, conversation_id, before)
    for message in with_attachments(conn, page["messages"]):
        for attachment in message["attachments"]:
            attachment["inline"] = shows_inline(attachment["mime_type"])  # an <img>/<audio>/<video> may show it
    contact = contact_rows.contact_row(conn, conversation["contact_id"])
    return {
        "conversation": conversation,
        "messages": [{**m, "author_name": names.get(m["author_agent_id"])} for m in page["messages"]],
        "earlier": page["earlier"],
        "newer": page["newer"],
        "contact": contact,
        "owner_name": names.get(contact["owner_agent_id"]),
        "assignee_name": names.get(conversation["assignee_id"]),
        "history": inbox.contact_history(conn, contact["id"], conversation_id, visible),
        "runs": inbox.conversation_runs(conn, conversation_id),
        "outbound": reply_options(conn, conversation),
        "ratings": csat.ratings(conn, conversation_id),
    }


def reply_options(conn: Connection, conversation: dict[str, Any]) -> dict[str, Any]:
    """What the reply box offers: the channel's template messages, and why a free-form reply would
    be refused now (its reply window), the same check the reply itself makes."""
    if conversation["status"] != "open":
        return {"templates": [], "outside_window": None, "sms": None}
    try:
        templates = channel_templates(conn, conversation["channel_id"])
    except Conflict:
        templates = []
    sms = sms_options(conn, conversation)
    try:
        check_reply_window(conn, conversation["contact_id"], conversation["channel_id"], now(), AuthorKind.AGENT)
    except Conflict as refusal:
        return {"templates": templates, "outside_window": refusal.message, "sms": sms}
    return {"templates": templates, "outside_window": None, "sms": sms}


def sms_options(conn: Connection, conversation: dict[str, Any]) -> dict[str, Any] | None:
    """For an SMS conversation: what a reply costs (`cost` of a text, and the GSM-7 alphabet the
    page's script counts with), and why it would be refused (the contact sent STOP)."""
    found = outbound_settings(conn, conversation["channel_id"])
    if found is None or found[0] != ChannelType.TWILIO:
        return None
    try:
        check_opt_out(conn, conversation["contact_id"], conversation["channel_id"])
    except Conflict as refusal:
        return {"cost": sms_cost, "gsm": GSM_BASIC, "extension": GSM_EXTENSION, "opted_out": refusal.message}
    return {"cost": sms_cost, "gsm": GSM_BASIC, "extension": GSM_EXTENSION, "opted_out": None}


def _message_page(conn: Connection, conversation_id: int, before: int | None) -> dict[str, Any]:
    """THREAD_PAGE messages, oldest first, ending just before `before` (or at the newest). `before`
    is a position, not a reference: an id of another conversation only sets where the page ends.
    `earlier`: the `before` of the page preceding this one, None at the start of the thread;
    `newer`: whether messages follow this page (it is not the newest)."""
    rows = inbox.latest_messages(conn, conversation_id, THREAD_PAGE + 1, before=before)
    shown = rows[:THREAD_PAGE][::-1]
    earlier = shown[0]["id"] if len(rows) > THREAD_PAGE else None
    if before is None:
        return {"messages": shown, "earlier": earlier, "newer": False}
    return {"messages": shown, "earlier": earlier, "newer": inbox.has_messages_from(conn, conversation_id, before)}


def viewer(conn: Connection, agent_id: int) -> dict[str, Any]:
    agent = agents.agent_by_id(conn, agent_id)
    if agent is None:
        raise NotFound("agent", agent_id)
    return {
        "id": agent.id,
        "name": agent.name,
        "email": agent.email,
        "role": agent.role,
        "availability": agent.availability,
    }


def choices(conn: Connection) -> dict[str, Any]:
    return {
        "teams": teams.team_choices(conn),
        "channels": channel_rows.channel_choices(conn),
        "agents": agents.agent_choices(conn),
    }
