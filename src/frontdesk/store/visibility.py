"""Which conversations a person may see, as one SQL condition every read and change goes through.

Managers and admins see every conversation. An agent sees the ones assigned to them, the ones of
the teams they belong to (assigned to a colleague or waiting in the queue), and the ones nobody
holds yet (no assignee, no team: a workflow has not routed them), so a new conversation is never
hidden from everyone. A conversation someone may not see answers 404, as one that does not exist.

Contacts follow their conversations: an agent sees a contact they own, one with a conversation
they may see, and one with no conversation at all (created by an import or the API, nobody's yet).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol, TypeVar

from sqlalchemy import ColumnElement, Connection, and_, exists, or_, select, true

from frontdesk.domain.errors import NotFound
from frontdesk.domain.model import Role
from frontdesk.store.tables import contacts, conversations, team_members

T = TypeVar("T")


class Viewer(Protocol):
    """Who is looking: a web session's or an API token's principal."""

    @property
    def role(self) -> Role: ...

    @property
    def agent_id(self) -> int | None: ...


def seen_by(viewer: Viewer) -> ColumnElement[bool]:
    """The condition on `conversations` rows that `viewer` may see."""
    if viewer.role.includes(Role.MANAGER):
        return true()
    held_by_nobody = and_(conversations.c.assignee_id.is_(None), conversations.c.team_id.is_(None))
    if viewer.agent_id is None:  # an agent token bound to no agent is nobody's colleague
        return held_by_nobody
    their_teams = select(team_members.c.team_id).where(team_members.c.agent_id == viewer.agent_id)
    return or_(
        conversations.c.assignee_id == viewer.agent_id,
        conversations.c.team_id.in_(their_teams),
        held_by_nobody,
    )


def check_seen(conn: Connection, viewer: Viewer, conversation_id: int) -> None:
    query = select(conversations.c.id).where(conversations.c.id == conversation_id, seen_by(viewer))
    if conn.execute(query).first() is None:
        raise NotFound("conversation", conversation_id)


def seen_among(conn: Connection, viewer: Viewer, conversation_ids: Iterable[int]) -> set[int]:
    wanted = sorted(set(conversation_ids))
    if not wanted:
        return set()
    query = select(conversations.c.id).where(conversations.c.id.in_(wanted), seen_by(viewer))
    return set(conn.execute(query).scalars())


def when_seen(viewer: Viewer, conversation_id: int, work: Callable[[Connection], T]) -> Callable[[Connection], T]:
    """`work`, run only once `viewer` is known to see the conversation (in the same transaction)."""

    def checked(conn: Connection) -> T:
        check_seen(conn, viewer, conversation_id)
        return work(conn)

    return checked


def contacts_seen_by(viewer: Viewer) -> ColumnElement[bool]:
    """The condition on `contacts` rows that `viewer` may see."""
    if viewer.role.includes(Role.MANAGER):
        return true()
    of_contact = conversations.c.contact_id == contacts.c.id
    seen = [exists().where(of_contact, seen_by(viewer)), ~exists().where(of_contact)]
    if viewer.agent_id is not None:
        seen.append(contacts.c.owner_agent_id == viewer.agent_id)
    return or_(*seen)


def check_contact_seen(conn: Connection, viewer: Viewer, contact_id: int) -> None:
    query = select(contacts.c.id).where(contacts.c.id == contact_id, contacts_seen_by(viewer))
    if conn.execute(query).first() is None:
        raise NotFound("contact", contact_id)


def when_contact_seen(viewer: Viewer, contact_id: int, work: Callable[[Connection], T]) -> Callable[[Connection], T]:
    """`work`, run only once `viewer` is known to see the contact (in the same transaction)."""

    def checked(conn: Connection) -> T:
        check_contact_seen(conn, viewer, contact_id)
        return work(conn)

    return checked
