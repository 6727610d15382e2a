"""Channels, and the inbound endpoint of the generic API channel."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import httpx
from litestar import Controller, Response, get, patch, post
from litestar.datastructures import State
from litestar.params import JSONBody

from frontdesk.actions.channels import create_channel, record_sign_in, rotate_secret, update_channel
from frontdesk.actions.ingest import InboundMessage, Receipt, receive_inbound
from frontdesk.api.auth import Principal
from frontdesk.api.deps import Caller, Db
from frontdesk.api.responses import ChannelCheck, InboundReceipt
from frontdesk.api.schemas import (
    CREDENTIALS,
    EMAIL_SETTINGS,
    TWILIO_SETTINGS,
    ChannelBody,
    ChannelPatch,
    InboundBody,
    PathId,
)
from frontdesk.channels import ADAPTERS
from frontdesk.channels import api as api_channel
from frontdesk.domain.errors import Forbidden, NotFound
from frontdesk.domain.model import Role
from frontdesk.settings import Settings
from frontdesk.store.sql.channels import channel as channel_row
from frontdesk.store.sql.channels import channel_detail, list_channels

log = logging.getLogger(__name__)


class ChannelController(Controller):
    path = "/api/v1/channels"
    tags = ["channels"]

    @get("/", opt={"role": Role.MANAGER})
    async def list_channels(self, db: Db) -> list[dict[str, Any]]:
        return await db.read(list_channels)

    @get("/{channel_id:int}", opt={"role": Role.MANAGER})
    async def get_channel(self, db: Db, channel_id: PathId) -> dict[str, Any]:
        return await db.read(lambda c: channel_detail(c, channel_id))

    @post("/", opt={"role": Role.ADMIN})
    async def create(self, db: Db, data: JSONBody[ChannelBody]) -> dict[str, Any]:
        """Create a channel. The answer holds its `secret` once: keep it to sign inbound calls.
        Any type takes `csat_survey` (default false): when an agent or the API closes one of its
        conversations, the contact gets one message with a link to rate the help (docs/channels.md).
        A whatsapp channel takes `phone_number_id`, its write-only `access_token`, `app_secret`
        and `verify_token`, and the `templates` it may send; a telegram channel its write-only
        `bot_token` and `webhook_secret`; an email channel its `inbound_address`, `from_address`,
        `smtp_host`, `smtp_port`, `smtp_security`, `smtp_username` and write-only `smtp_password`,
        and to read a mailbox `imap_host`, `imap_port`, `imap_security`, `imap_username`,
        `imap_mailbox`, `imap_poll_seconds` and write-only `imap_password`; to log in with OAuth2
        rather than a password, `smtp_auth` and/or `imap_auth` `oauth2` with `oauth2_provider`
        (`google`, `microsoft` with `oauth2_tenant`, or `custom` with an https `oauth2_token_url`),
        `oauth2_client_id`, `oauth2_scope` and write-only `oauth2_client_secret` and
        `oauth2_refresh_token` (a refused refresh token shows as `config.sign_in_refused`);
        a twilio channel its `account_sid`, a `from_number` or `messaging_service_sid`, and its
        write-only `auth_token`; a messenger or instagram channel its `page_id` and write-only
        `access_token` (the page's), `app_secret` and `verify_token` (credentials are sealed at
        rest, never returned)."""
        keys = {"csat_survey", "callback_url", "allowed_origins", "phone_number_id", "page_id", "templates"}
        keys |= {*EMAIL_SETTINGS, *TWILIO_SETTINGS}
        settings = data.model_dump(include=keys, exclude_none=True)
        credentials = data.model_dump(include=set(CREDENTIALS), exclude_none=True)
        channel_id, secret = await db.write(lambda c: create_channel(c, data.type, data.name, settings, credentials))
        channel = await db.read(lambda c: channel_detail(c, channel_id))
        return {**channel, "secret": secret}

    @patch("/{channel_id:int}", opt={"role": Role.ADMIN})
    async def update(
        self, state: State, db: Db, principal: Caller, channel_id: PathId, data: JSONBody[ChannelPatch]
    ) -> dict[str, Any]:
        """Rename a channel, switch its `csat_survey` on or off, change its `callback_url` (api; null removes it), its
        `allowed_origins` (webchat), its `phone_number_id`, `templates` or write-only credentials
        (whatsapp, telegram), its `account_sid`, `from_number`, `messaging_service_sid` or
        `auth_token` (twilio), its `smtp_*`, `imap_*` and `oauth2_*` settings, passwords or tokens
        (email; a null `imap_host` stops reading the mailbox; a new credential clears
        `config.sign_in_refused`), its `page_id` or credentials (messenger, instagram).
        Only the keys sent change; the secret never does."""
        changes = data.model_dump(exclude_unset=True)
        await db.write(lambda c: update_channel(c, channel_id, principal.actor, changes))
        state.authenticator.forget_channel(channel_id)  # a new credential verifies webhooks at once
        return await db.read(lambda c: channel_detail(c, channel_id))

    @post("/{channel_id:int}/secret/rotate", opt={"role": Role.ADMIN}, status_code=200)
    async def rotate_secret(self, state: State, principal: Caller, channel_id: PathId) -> dict[str, Any]:
        """Give the channel a new `secret`, in this answer only: it signs outbound calls at once;
        the old one still verifies inbound calls and visitor tokens until `previous_secret_until`
        (FRONTDESK_SECRET_ROTATION_GRACE_HOURS, 24 h by default)."""
        return await rotate_channel_secret(state, principal, channel_id)

    @post("/{channel_id:int}/check", opt={"role": Role.MANAGER}, status_code=200)
    async def check(self, state: State, channel_id: PathId) -> ChannelCheck:
        """Ask the channel's provider whose its credentials are: WhatsApp's phone number and verified
        name (Graph API), Telegram's bot (`getMe`), Twilio's account (`GET /Accounts/{sid}.json`),
        an e-mail channel's SMTP login and, when it reads one, its IMAP mailbox; Messenger's and
        Instagram's page (`GET /me`).
        Answers 200 whatever the provider says: `outcome` `ok` with its `identity`, `failed` with the
        reason in `detail` (unreachable, credentials refused), or `nothing_to_check` for API and
        web-chat channels. Changes nothing."""
        return await check_channel(state, channel_id)

    @post("/{channel_id:int}/inbound", opt={"auth": "channel"}, status_code=200)
    async def inbound(
        self, db: Db, principal: Caller, channel_id: PathId, data: JSONBody[InboundBody]
    ) -> Response[InboundReceipt]:
        """A contact's message arriving on an API channel (signed with the channel secret, or a
        manager token). Idempotent on `message.id`: a retry returns the first answer."""
        if principal.token_id is not None and not principal.role.includes(Role.MANAGER):
            raise Forbidden("forbidden", "posting inbound messages needs the channel signature or a manager token")
        (item,) = api_channel.ADAPTER.parse(data.model_dump())
        inbound = InboundMessage.of(channel_id, item)
        receipt: Receipt = await db.write(lambda c: receive_inbound(c, inbound), parallel=True)
        body: InboundReceipt = {
            "contact_id": receipt.contact_id,
            "conversation_id": receipt.conversation_id,
            "message_id": receipt.message_id,
            "conversation_opened": receipt.conversation_opened,
        }
        if receipt.conversation_opened and not receipt.duplicate:
            log.info("conversation opened", extra={"channel_id": channel_id, **body})
        headers = {"Idempotent-Replayed": "true"} if receipt.duplicate else {}
        return Response(body, status_code=200, headers=headers)


async def check_channel(state: State, channel_id: int) -> ChannelCheck:
    """The channel's adapter asks its provider, on a client of its own (checks are rare)."""
    settings: Settings = state.settings
    found = await state.db.read(lambda c: channel_row(c, channel_id))
    if found is None:
        raise NotFound("channel", channel_id)
    async with httpx.AsyncClient(timeout=settings.delivery_timeout_seconds, follow_redirects=False) as client:
        result = await ADAPTERS[found.type].check(client, found, settings)
    sign_in = result.sign_in
    if sign_in is not None and sign_in.changes(found.config):  # a rotated token, a refused (or mended) sign-in
        await state.db.write(lambda c: record_sign_in(c, channel_id, sign_in))
    return {"channel_id": channel_id, "outcome": result.outcome, "detail": result.detail, "identity": result.identity}


async def rotate_channel_secret(state: State, principal: Principal, channel_id: int) -> dict[str, Any]:
    """Rotate, then drop this process's cached secrets so the new one verifies at once."""
    db = state.db
    grace = dt.timedelta(hours=state.settings.secret_rotation_grace_hours)
    secret, _ = await db.write(lambda c: rotate_secret(c, channel_id, principal.actor, grace))
    state.authenticator.forget_channel(channel_id)
    channel = await db.read(lambda c: channel_detail(c, channel_id))
    return {**channel, "secret": secret}
