"""Sending a template message: one of the pre-approved messages the conversation's channel lists
(domain.message_templates). A template is what a reply window still lets through, so it is never
refused for the window; a channel that sends no templates refuses it (409)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection

from frontdesk.actions.conversations import conversation, outbound_settings, queue_outbound
from frontdesk.channels import ADAPTERS
from frontdesk.clock import now
from frontdesk.domain.conversations import check_open
from frontdesk.domain.errors import Conflict
from frontdesk.domain.events import TemplatePayload
from frontdesk.domain.message_templates import MessageTemplate, check_send, configured, thread_text
from frontdesk.domain.model import Actor
from frontdesk.store.sql import channels


def channel_templates(conn: Connection, channel_id: int | None) -> list[MessageTemplate]:
    """The templates the channel may send; 409 when its type sends none (or there is no channel)."""
    found = outbound_settings(conn, channel_id)
    if found is None or not ADAPTERS[found[0]].capabilities.templates:
        kind = "no channel" if found is None else f"a {found[0]} channel"
        raise Conflict("templates_not_supported", f"template messages go out on WhatsApp only; this is {kind}")
    return configured(found[1])


def every_channels_templates(conn: Connection) -> list[MessageTemplate]:
    """The templates of every channel that sends them (what a workflow's send_template may name)."""
    listed = channels.list_channels(conn)
    return [t for c in listed if ADAPTERS[c["type"]].capabilities.templates for t in configured(c["config"])]


def send_template(
    conn: Connection, conversation_id: int, actor: Actor, name: str, language: str, parameters: Sequence[str]
) -> int:
    """Queue the template `name` in `language` with its body `parameters`; the thread shows it
    as readable text. Refused before anything is stored: a closed conversation, a channel without
    templates, an unknown template or the wrong number of parameters."""
    found = conversation(conn, conversation_id)
    check_open(conversation_id, found.status, "send a template to")
    check_send(channel_templates(conn, found.channel_id), name, language, parameters)
    template: TemplatePayload = {"name": name, "language": language, "parameters": list(parameters)}
    text = thread_text(name, language, parameters)
    return queue_outbound(conn, found, actor, text, now(), template=template)
