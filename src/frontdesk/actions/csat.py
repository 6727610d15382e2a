"""CSAT surveys: after an agent or the API closes a conversation of a channel whose "CSAT survey"
setting is on, the contact gets one message with a link to rate that close; the rating (there, or
posted by an API integration) is kept once per close and logged as `conversation.rated`.

The link carries a token: the conversation, the survey (its close) and an HMAC-SHA256 of both
under the installation's secret (`instance_secret`, also behind CSRF tokens and the known-browser
cookie), made with the channels' signing helper under a context of its own. It is the form's only
authority: no login, nothing to guess, and a tampered token names no survey."""

from __future__ import annotations

import hmac
import logging
import re
from typing import Any

from sqlalchemy import Connection

from frontdesk.actions.conversations import (
    check_opt_out,
    check_reply_window,
    close_conversation,
    conversation,
    queue_outbound,
)
from frontdesk.actions.events import emit
from frontdesk.actions.sessions import instance_secret
from frontdesk.channels.signing import signature
from frontdesk.clock import now
from frontdesk.domain import events as ev
from frontdesk.domain.csat import QUESTION, check_rating
from frontdesk.domain.errors import Conflict, NotFound
from frontdesk.domain.model import SYSTEM, Actor, AuthorKind, ConversationStatus
from frontdesk.store.sql import csat

log = logging.getLogger(__name__)

_TOKEN = re.compile(r"([0-9]{1,18})\.([0-9]{1,18})\.([0-9a-f]{64})")
_CONTEXT = "frontdesk.csat"  # the signed text is "frontdesk.csat.<conversation>.<survey>"


def survey_token(secret: str, conversation_id: int, survey_id: int) -> str:
    """`<conversation>.<survey>.<hex HMAC-SHA256 of both>`: the survey link's last part."""
    reference = f"{conversation_id}.{survey_id}"
    return f"{reference}.{signature(secret, _CONTEXT, reference.encode()).removeprefix('sha256=')}"


def survey_of_token(conn: Connection, token: str) -> dict[str, Any]:
    """The survey a token names, checked in constant time; NotFound for a bad or tampered one."""
    match = _TOKEN.fullmatch(token)
    if match is None:
        raise NotFound("survey", "of this link")
    conversation_id, survey_id = int(match[1]), int(match[2])
    expected = survey_token(instance_secret(conn), conversation_id, survey_id)
    found = csat.survey(conn, survey_id) if hmac.compare_digest(expected, token) else None
    if found is None or found["conversation_id"] != conversation_id:
        raise NotFound("survey", "of this link")
    return found


def close_and_survey(
    conn: Connection, conversation_id: int, actor: Actor, note: str | None, category: str | None, base_url: str
) -> int | None:
    """An agent or the API closes the conversation; its contact is offered a survey when the channel
    says so. The survey message's id (None: none offered)."""
    close_conversation(conn, conversation_id, actor, note, category)
    return offer_survey(conn, conversation_id, base_url)


def offer_survey(conn: Connection, conversation_id: int, base_url: str) -> int | None:
    """Send the contact of a just-closed conversation the survey link, if its channel offers one and
    may write to them (a reply window shut or an opt-out: no survey, logged). The message is sent by
    the system: it reopens nothing and starts no workflow (`message.sent` is no trigger)."""
    found = conversation(conn, conversation_id)
    if found.closed_at is None or not csat.offers_survey(conn, found.channel_id):
        return None
    at = now()
    try:
        check_reply_window(conn, found.contact_id, found.channel_id, at, AuthorKind.SYSTEM)
        check_opt_out(conn, found.contact_id, found.channel_id)
    except Conflict as exc:
        log.info("no CSAT survey sent", extra={"conversation_id": conversation_id, "reason": exc.code})
        return None
    survey_id = csat.insert_survey(conn, conversation_id, found.closed_at, at)
    link = f"{base_url.rstrip('/')}/csat/{survey_token(instance_secret(conn), conversation_id, survey_id)}"
    return queue_outbound(conn, found, SYSTEM, f"{QUESTION} {link}", at)


def rate_by_token(conn: Connection, token: str, rating: object, comment: str | None) -> None:
    """The contact's answer on the survey page: NotFound (bad token), InvalidRating, Conflict (rated)."""
    survey = survey_of_token(conn, token)
    _rate(conn, survey["id"], survey["conversation_id"], rating, comment)


def rate_conversation(conn: Connection, conversation_id: int, rating: object, comment: str | None) -> None:
    """An integration's rating of the conversation's last close (the API channel's own survey)."""
    check_rating(rating, comment)
    found = conversation(conn, conversation_id)
    if found.status == ConversationStatus.OPEN or found.closed_at is None:
        raise Conflict("conversation_open", f"conversation {conversation_id} is open: rate it once it is closed")
    survey_id = csat.survey_of_close(conn, conversation_id, found.closed_at)
    if survey_id is None:
        survey_id = csat.insert_survey(conn, conversation_id, found.closed_at, now())
    _rate(conn, survey_id, conversation_id, rating, comment)


def _rate(conn: Connection, survey_id: int, conversation_id: int, rating: object, comment: str | None) -> None:
    score, text = check_rating(rating, comment)
    if not csat.rate(conn, survey_id, score, text, now()):
        raise Conflict("already_rated", "this close was rated already: one rating per close")
    found = conversation(conn, conversation_id)
    payload: ev.ConversationRatedPayload = {
        "conversation_id": conversation_id,
        "rating": score,
        "agent_id": found.assignee_id,
        "team_id": found.team_id,
        "channel_id": found.channel_id,
    }
    if text is not None:
        payload["comment"] = text
    emit(conn, ev.CONVERSATION_RATED, payload, contact_id=found.contact_id, conversation_id=conversation_id)
