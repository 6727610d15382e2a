"""Read-side queries behind the API. Each returns plain dicts ready to serialise."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, Connection, String, and_, cast, func, or_, select

from frontdesk.domain.errors import NotFound
from frontdesk.store.tables import (
    agents,
    api_tokens,
    channels,
    contact_fields,
    contact_identities,
    contacts,
    conversations,
    events,
    messages,
    team_members,
    teams,
)

MAX_PAGE = 200


def _page(limit: int) -> int:
    return max(1, min(limit, MAX_PAGE))


def _one(conn: Connection, table: Any, ident: int, kind: str) -> dict[str, Any]:
    row = conn.execute(select(table).where(table.c.id == ident)).mappings().first()
    if row is None:
        raise NotFound(kind, ident)
    return dict(row)


# -- contacts ------------------------------------------------------------------------------
def list_contacts(
    conn: Connection, q: str | None, limit: int, before: int | None, visible: ColumnElement[bool] | None = None
) -> list[dict[str, Any]]:
    """`visible`: the contacts the caller may see (store.visibility.contacts_seen_by)."""
    query = select(contacts).order_by(contacts.c.id.desc()).limit(_page(limit))
    if visible is not None:
        query = query.where(visible)
    if before is not None:
        query = query.where(contacts.c.id < before)
    if q:
        pattern = f"%{q.lower()}%"
        identity = select(contact_identities.c.contact_id).where(
            func.lower(contact_identities.c.external_id).like(pattern)
        )
        query = query.where(
            or_(
                func.lower(contacts.c.name).like(pattern),
                func.lower(cast(contacts.c.fields, String)).like(pattern),
                contacts.c.id.in_(identity),
            )
        )
    return [dict(r) for r in conn.execute(query).mappings()]


def contact_detail(conn: Connection, contact_id: int) -> dict[str, Any]:
    contact = _one(conn, contacts, contact_id, "contact")
    rows = conn.execute(
        select(contact_identities.c.channel_id, contact_identities.c.external_id).where(
            contact_identities.c.contact_id == contact_id
        )
    ).mappings()
    contact["identities"] = [dict(r) for r in rows]
    return contact


def list_contact_fields(conn: Connection) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(select(contact_fields).order_by(contact_fields.c.key)).mappings()]


# -- conversations -------------------------------------------------------------------------
def list_conversations(
    conn: Connection,
    *,
    status: str | None = None,
    team_id: int | None = None,
    assignee_id: int | None = None,
    contact_id: int | None = None,
    unassigned: bool = False,
    limit: int = 50,
    before: int | None = None,
    visible: ColumnElement[bool],
) -> list[dict[str, Any]]:
    """`visible`: the conversations the caller may see (store.visibility.seen_by)."""
    filters = [visible]
    for column, value in (
        (conversations.c.status, status),
        (conversations.c.team_id, team_id),
        (conversations.c.assignee_id, assignee_id),
        (conversations.c.contact_id, contact_id),
    ):
        if value is not None:
            filters.append(column == value)
    if unassigned:
        filters.append(conversations.c.assignee_id.is_(None))
    if before is not None:
        filters.append(conversations.c.id < before)
    query = select(conversations).where(and_(*filters)).order_by(conversations.c.id.desc()).limit(_page(limit))
    return [dict(r) for r in conn.execute(query).mappings()]


def conversation_detail(conn: Connection, conversation_id: int) -> dict[str, Any]:
    return _one(conn, conversations, conversation_id, "conversation")


def list_messages(conn: Connection, conversation_id: int, after: int | None, limit: int) -> list[dict[str, Any]]:
    _one(conn, conversations, conversation_id, "conversation")
    query = (
        select(messages)
        .where(messages.c.conversation_id == conversation_id)
        .order_by(messages.c.id)
        .limit(_page(limit))
    )
    if after is not None:
        query = query.where(messages.c.id > after)
    return [_message(dict(r)) for r in conn.execute(query).mappings()]


def _message(row: dict[str, Any]) -> dict[str, Any]:
    row.pop("next_attempt_at", None)
    return row


# -- people --------------------------------------------------------------------------------
# What an agent looks like from outside: never the password hash; presence stays internal.
AGENT_COLUMNS = [c for c in agents.c if c.name not in ("password_hash", "last_seen_at")]


def list_agents(conn: Connection) -> list[dict[str, Any]]:
    memberships: dict[int, list[int]] = {}
    for team_id, agent_id in conn.execute(select(team_members.c.team_id, team_members.c.agent_id)):
        memberships.setdefault(agent_id, []).append(team_id)
    rows = conn.execute(select(*AGENT_COLUMNS).order_by(agents.c.id)).mappings()
    return [{**dict(r), "team_ids": sorted(memberships.get(r["id"], []))} for r in rows]


def agent_detail(conn: Connection, agent_id: int) -> dict[str, Any]:
    row = conn.execute(select(*AGENT_COLUMNS).where(agents.c.id == agent_id)).mappings().first()
    if row is None:
        raise NotFound("agent", agent_id)
    query = select(team_members.c.team_id).where(team_members.c.agent_id == agent_id).order_by(team_members.c.team_id)
    return {**dict(row), "team_ids": list(conn.execute(query).scalars())}


def list_teams(conn: Connection) -> list[dict[str, Any]]:
    members: dict[int, list[int]] = {}
    for team_id, agent_id in conn.execute(select(team_members.c.team_id, team_members.c.agent_id)):
        members.setdefault(team_id, []).append(agent_id)
    rows = conn.execute(select(teams).order_by(teams.c.id)).mappings()
    return [{**dict(r), "member_ids": sorted(members.get(r["id"], []))} for r in rows]


def team_detail(conn: Connection, team_id: int) -> dict[str, Any]:
    team = _one(conn, teams, team_id, "team")
    query = select(team_members.c.agent_id).where(team_members.c.team_id == team_id).order_by(team_members.c.agent_id)
    team["member_ids"] = list(conn.execute(query).scalars())
    return team


# -- channels ------------------------------------------------------------------------------
def _public_channel(row: dict[str, Any]) -> dict[str, Any]:
    row.pop("secret", None)
    row.pop("previous_secret", None)
    return row


def list_channels(conn: Connection) -> list[dict[str, Any]]:
    return [_public_channel(dict(r)) for r in conn.execute(select(channels).order_by(channels.c.id)).mappings()]


def channel_detail(conn: Connection, channel_id: int) -> dict[str, Any]:
    return _public_channel(_one(conn, channels, channel_id, "channel"))


def channel_secrets(conn: Connection, channel_id: int, at: dt.datetime) -> tuple[str, ...] | None:
    """The secrets that verify the channel's inbound calls at `at`: its secret, then the one it
    replaced while that one's grace period runs. None: no such channel."""
    query = select(channels.c.secret, channels.c.previous_secret, channels.c.previous_secret_until)
    row = conn.execute(query.where(channels.c.id == channel_id)).first()
    if row is None:
        return None
    if row.previous_secret is None or row.previous_secret_until is None or row.previous_secret_until <= at:
        return (row.secret,)
    return (row.secret, row.previous_secret)


# -- events and tokens ---------------------------------------------------------------------
def list_events(conn: Connection, after: int, limit: int, types: list[str] | None) -> list[dict[str, Any]]:
    query = select(events).where(events.c.id > after).order_by(events.c.id).limit(_page(limit))
    if types:
        query = query.where(events.c.type.in_(types))
    return [dict(r) for r in conn.execute(query).mappings()]


def list_tokens(conn: Connection) -> list[dict[str, Any]]:
    query = select(api_tokens).order_by(api_tokens.c.id)
    return [{k: v for k, v in r.items() if k != "token_hash"} for r in conn.execute(query).mappings()]
