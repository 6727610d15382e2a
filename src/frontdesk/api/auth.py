"""Authentication and roles, in one guard applied to every route.

A route declares the least role it needs in `opt={"role": Role.X}` (agent by default);
`opt={"auth": "public"}` opens it, `opt={"auth": "channel"}` also accepts the channel's
HMAC signature instead of a token (provider-style inbound webhooks), `opt={"auth":
"token_or_session"}` also an inbox session when no token is sent (an attachment's content, which
the inbox's <img> loads: a safe GET, so its cookie needs no CSRF token), `opt={"auth": "metrics"}`
the bearer token of FRONTDESK_METRICS_TOKEN only (Prometheus's: no API token's role reaches it).
"""

from __future__ import annotations

import datetime as dt
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeGuard, TypeVar

from litestar.connection import ASGIConnection, Request
from litestar.handlers.base import BaseRouteHandler

from frontdesk.actions.assignments import record_activity
from frontdesk.actions.sessions import COOKIE as SESSION_COOKIE
from frontdesk.actions.sessions import session_agent
from frontdesk.actions.tokens import hash_token
from frontdesk.api.schemas import MAX_ID
from frontdesk.assignment.presence import ActivityRecorder
from frontdesk.channels import ADAPTERS, signing
from frontdesk.clock import now
from frontdesk.domain.errors import Forbidden, Unauthorized
from frontdesk.domain.model import Actor, AuthorKind, ChannelType, Role
from frontdesk.domain.records import Channel
from frontdesk.store.database import Database
from frontdesk.store.sql.channels import channel as channel_row
from frontdesk.store.sql.channels import channel_secrets
from frontdesk.store.sql.tokens import token_grant

K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True)
class Principal:
    token_id: int | None
    role: Role
    agent_id: int | None
    expires_at: dt.datetime | None = None  # of the token; a web session is checked on every request

    @property
    def actor(self) -> Actor:
        if self.agent_id is not None:
            return Actor(AuthorKind.AGENT, self.agent_id)
        return Actor(AuthorKind.API)


CHANNEL_PRINCIPAL = Principal(None, Role.AGENT, None)


class LoginRequired(Exception):
    """A web page without a valid session: the browser is sent to the login page."""


class TtlCache(Generic[K, V]):
    """A small in-memory cache; only positive answers are kept, so junk input cannot grow it."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._items: dict[K, tuple[float, V]] = {}

    def get(self, key: K) -> V | None:
        item = self._items.get(key)
        if item is None or item[0] < time.monotonic():
            return None
        return item[1]

    def put(self, key: K, value: V) -> None:
        if len(self._items) > 10_000:
            self._items.clear()
        self._items[key] = (time.monotonic() + self.seconds, value)

    def drop(self, matches: Callable[[V], bool]) -> None:
        self._items = {key: item for key, item in self._items.items() if not matches(item[1])}


class Authenticator:
    def __init__(self, db: Database, cache_seconds: float) -> None:
        self.db = db
        self.tokens: TtlCache[str, Principal] = TtlCache(cache_seconds)
        self.secrets: TtlCache[int, tuple[str, ...] | None] = TtlCache(cache_seconds)  # None: forgotten
        self.channels: TtlCache[int, Channel] = TtlCache(cache_seconds)  # credentials opened, for webhooks
        self.activity = ActivityRecorder()

    async def principal_for(self, authorization: str | None) -> Principal:
        if not authorization or not authorization.startswith("Bearer "):
            raise Unauthorized("unauthorized", "send an API token: Authorization: Bearer <token>")
        digest = hash_token(authorization[7:].strip())
        principal = self.tokens.get(digest)
        if principal is None:
            grant = await self.db.read(lambda conn: token_grant(conn, digest))
            if grant is None:
                raise Unauthorized("unauthorized", "the API token is unknown or revoked, or its agent is deactivated")
            principal = Principal(grant.token_id, grant.role, grant.agent_id, grant.expires_at)
            self.tokens.put(digest, principal)
        if principal.expires_at is not None and principal.expires_at <= now():
            when = principal.expires_at.isoformat(timespec="seconds")
            raise Unauthorized("token_expired", f"the API token expired at {when}; ask an admin for a new one")
        return principal

    def forget_token(self, token_id: int) -> None:
        """A revoked token stops working at once in this process; other processes refuse it
        once their cache period has passed."""
        self.tokens.drop(lambda principal: principal.token_id == token_id)

    def forget_agent(self, agent_id: int) -> None:
        """An agent's role or activity changed: their tokens are checked again on their next use
        in this process (at once); other processes re-read them once their cache period has passed."""
        self.tokens.drop(lambda principal: principal.agent_id == agent_id)

    def seen(self, principal: Principal) -> None:
        """Note the agent's activity (at most once a minute; not awaited: never slows a request)."""
        agent_id = principal.agent_id
        if agent_id is not None and self.activity.due(agent_id):
            self.db.submit(lambda conn: record_activity(conn, agent_id, now()))

    async def principal_for_session(self, token: str | None) -> Principal:
        """Sessions are read on every request (no cache), so a logout takes effect at once."""
        found = await self.db.read(lambda conn: session_agent(conn, token, now())) if token else None
        if found is None:
            raise LoginRequired()
        return Principal(None, Role(found[1]), found[0])

    async def channel_secrets(self, channel_id: int) -> tuple[str, ...] | None:
        """The secrets that verify the channel's inbound calls (two during a rotation's grace),
        opened once and kept for the cache period."""
        found = self.secrets.get(channel_id)
        if found is None:
            found = await self.db.read(lambda conn: channel_secrets(conn, channel_id, now()))
            if found is not None:
                self.secrets.put(channel_id, found)
        return found

    async def provider_channel(self, channel_id: int) -> Channel | None:
        """A channel with its credentials opened, kept for the cache period: a provider's webhooks
        read it on every delivery, and opening the sealed columns cost a third of a webhook's CPU."""
        found = self.channels.get(channel_id)
        if found is None:
            found = await self.db.read(lambda conn: channel_row(conn, channel_id))
            if found is not None:
                self.channels.put(channel_id, found)
        return found

    def forget_channel(self, channel_id: int) -> None:
        """A rotated secret or a changed credential verifies at once in this process; in others
        after the cache period."""
        self.secrets.put(channel_id, None)
        self.channels.drop(lambda channel: channel.id == channel_id)


async def guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    mode = handler.opt.get("auth")
    if mode == "public" or connection.url.path.startswith("/api/v1/schema"):
        return
    if mode == "metrics":
        _check_metrics_token(connection.app.state.settings.metrics_token, connection.headers.get("authorization"))
        return
    auth: Authenticator = connection.app.state.authenticator
    if mode == "token_or_session" and "authorization" not in connection.headers:
        mode = "session" if SESSION_COOKIE in connection.cookies else None
    if mode == "session":
        principal = await auth.principal_for_session(connection.cookies.get(SESSION_COOKIE))
        _check_role(principal, handler.opt.get("role", Role.AGENT))
        connection.state.principal = principal
        auth.seen(principal)
        return
    if mode == "channel" and signing.SIGNATURE_HEADER in connection.headers:
        await _check_channel_signature(connection, auth)
        connection.state.principal = CHANNEL_PRINCIPAL
        return
    principal = await auth.principal_for(connection.headers.get("authorization"))
    _check_role(principal, handler.opt.get("role", Role.AGENT))
    connection.state.principal = principal
    auth.seen(principal)


# A provider's webhook: no token, the provider's signature checked by the route (else 401); and
# Meta's subscription check, answered only for the right verify token (else 403). `refuses` lists a
# public route's own refusals for the OpenAPI document (api.openapi).
SIGNED_WEBHOOK = {"auth": "public", "refuses": (401,)}
SUBSCRIPTION_CHECK = {"auth": "public", "refuses": (403,)}


def _check_metrics_token(expected: str | None, authorization: str | None) -> None:
    """The scraper's bearer token against FRONTDESK_METRICS_TOKEN; none can match while it is unset."""
    if not expected:
        raise Unauthorized("metrics_off", "metrics are off: set FRONTDESK_METRICS_TOKEN and scrape with it")
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected.encode()):
        raise Unauthorized("bad_metrics_token", "Authorization: Bearer <FRONTDESK_METRICS_TOKEN> is missing or wrong")


def _check_role(principal: Principal, needed: Role) -> None:
    if not principal.role.includes(needed):
        raise Forbidden("forbidden", f"this needs the {needed} role; you have {principal.role}")


def _storable_id(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and abs(value) <= MAX_ID  # else the database cannot hold it


async def _check_channel_signature(connection: ASGIConnection[Any, Any, Any, Any], auth: Authenticator) -> None:
    channel_id = connection.path_params.get("channel_id")
    secrets = await auth.channel_secrets(channel_id) if _storable_id(channel_id) else None
    if secrets is None:
        raise Unauthorized("unauthorized", f"channel {channel_id} does not exist")
    assert isinstance(connection, Request)
    problem = ADAPTERS[ChannelType.API].verify(secrets, connection.headers, await connection.body(), time.time())
    if problem:
        raise Unauthorized("bad_signature", problem)
