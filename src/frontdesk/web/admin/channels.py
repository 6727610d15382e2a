"""Admin pages: channels — managers see them; admins rename them and change a web chat's
allowed origins, an API channel's callback, a WhatsApp channel's phone number id and templates, a
Twilio channel's account and sender, a Messenger or Instagram channel's page id, or the write-only
credentials of the provider channels, through `update_channel`, as PATCH /api/v1/channels/{id},
and rotate a channel's secret as POST /api/v1/channels/{id}/secret/rotate does. A provider
channel's page checks its credentials with the provider, and registers Telegram's webhook at the
public URL (FRONTDESK_PUBLIC_URL, else the page's own). An e-mail channel's page sets its inbound
address and SMTP server (a write-only password) and shows where the SMTP receiver listens."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.response import Redirect, Template

from frontdesk.actions.channels import update_channel
from frontdesk.api.addresses import public_base_url
from frontdesk.api.auth import Principal
from frontdesk.api.channels import check_channel, rotate_channel_secret
from frontdesk.api.deps import Caller, Db
from frontdesk.api.schemas import CREDENTIALS, EMAIL_SETTINGS, TWILIO_SETTINGS, ChannelPatch, PathId
from frontdesk.channels import meta, telegram
from frontdesk.domain.errors import DomainError, NotFound
from frontdesk.domain.model import ChannelType
from frontdesk.domain.records import Channel
from frontdesk.settings import Settings
from frontdesk.store.sql.channels import channel as channel_row
from frontdesk.store.sql.channels import channel_detail, list_channels
from frontdesk.web.admin.forms import Saved, checked, lines, page, posted
from frontdesk.web.guards import ADMIN, MANAGER


class ChannelPages(Controller):
    path = "/admin/channels"
    include_in_schema = False
    opt = MANAGER

    @get("/")
    async def index(self, db: Db, principal: Caller) -> Template:
        return page("channels", principal, channels=await db.read(list_channels))

    @get("/{channel_id:int}", opt=ADMIN)
    async def edit(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        principal: Caller,
        channel_id: PathId,
        saved: Saved = None,
    ) -> Template:
        channel = await db.read(lambda c: channel_detail(c, channel_id))
        return _editor(request, principal, channel, _values_of(channel), saved=saved)

    @post("/{channel_id:int}", opt=ADMIN, status_code=303)
    async def save(
        self, request: Request[Any, Any, Any], db: Db, principal: Caller, channel_id: PathId
    ) -> Response[Any]:
        form = await posted(request)
        channel = await db.read(lambda c: channel_detail(c, channel_id))
        try:
            changes = checked(ChannelPatch, _channel_changes(channel, form)).model_dump(exclude_unset=True)
            await db.write(lambda c: update_channel(c, channel_id, principal.actor, changes))
            request.app.state.authenticator.forget_channel(channel_id)
        except DomainError as exc:
            return _editor(request, principal, channel, _values(form), error=exc)
        return Redirect(f"/admin/channels/{channel_id}?saved=1", status_code=303)

    @post("/{channel_id:int}/secret", opt=ADMIN, status_code=200)
    async def rotate(self, request: Request[Any, Any, Any], principal: Caller, channel_id: PathId) -> Template:
        """The new secret is shown in this answer only (never in a URL a redirect would log)."""
        channel = await rotate_channel_secret(request.app.state, principal, channel_id)
        return _editor(request, principal, channel, _values_of(channel), rotated=channel["secret"])

    @post("/{channel_id:int}/check", opt=ADMIN, status_code=200)
    async def check(self, request: Request[Any, Any, Any], db: Db, principal: Caller, channel_id: PathId) -> Template:
        """The provider's answer, shown in this page (as POST /api/v1/channels/{id}/check gives it)."""
        answer = await check_channel(request.app.state, channel_id)
        channel = await db.read(lambda c: channel_detail(c, channel_id))
        return _editor(request, principal, channel, _values_of(channel), checked=answer)

    @post("/{channel_id:int}/webhook", opt=ADMIN, status_code=200)
    async def register_webhook(
        self, request: Request[Any, Any, Any], db: Db, principal: Caller, channel_id: PathId
    ) -> Template:
        """Telegram's `setWebhook` with the URL the page shows, as `frontdesk channels telegram-webhook` calls it."""
        found = await db.read(lambda c: channel_row(c, channel_id))
        if found is None or found.type != ChannelType.TELEGRAM:
            raise NotFound("telegram channel", channel_id)
        settings: Settings = request.app.state.settings
        base = public_base_url(request)
        problem = await asyncio.to_thread(_set_webhook, found, settings, base)
        detail = problem or f"Telegram will post updates to {telegram.webhook_url(base, channel_id)}"
        channel = await db.read(lambda c: channel_detail(c, channel_id))
        registered = {"ok": problem is None, "detail": detail}
        return _editor(request, principal, channel, _values_of(channel), registered=registered)


def _set_webhook(channel: Channel, settings: Settings, base: str) -> str | None:
    """The CLI's call, on a worker thread: it blocks for as long as Telegram takes to answer."""
    with httpx.Client(timeout=settings.delivery_timeout_seconds) as client:
        return telegram.set_webhook(client, channel, settings, base)


def _channel_changes(channel: dict[str, Any], form: FormMultiDict) -> dict[str, Any]:
    """The PATCH body: the name, the CSAT survey (a checkbox: absent is off), and the settings of the
    channel's type."""
    return {**_type_changes(channel, form), "csat_survey": form.get("csat_survey") == "on"}


def _type_changes(channel: dict[str, Any], form: FormMultiDict) -> dict[str, Any]:
    """The name and the settings of the channel's type (a blank callback removes it; a blank WhatsApp
    or Telegram credential keeps the current one, which the page never shows)."""
    if channel["type"] == ChannelType.WEBCHAT:
        return {"name": form.get("name", ""), "allowed_origins": lines(form.get("allowed_origins"))}
    if channel["type"] == ChannelType.WHATSAPP:
        typed = {key: form.get(key) for key in CREDENTIALS if form.get(key)}
        templates = [_template(line) for line in (form.get("templates") or "").splitlines() if line.strip()]
        named = {"name": form.get("name", ""), "phone_number_id": form.get("phone_number_id", "")}
        return {**named, "templates": templates, **typed}
    if channel["type"] == ChannelType.TELEGRAM:
        typed = {key: form.get(key) for key in ("bot_token", "webhook_secret") if form.get(key)}
        return {"name": form.get("name", ""), **typed}
    if channel["type"] == ChannelType.EMAIL:
        secrets = ("smtp_password", "imap_password", "oauth2_client_secret", "oauth2_refresh_token")
        typed = {key: form[key] for key in secrets if form.get(key)}
        settings = {key: form.get(key) for key in EMAIL_SETTINGS if form.get(key)}
        blank = {"smtp_username": None, "imap_host": None, "imap_username": None}  # a blank host: no mailbox read
        blank |= {key: None for key in ("oauth2_tenant", "oauth2_token_url", "oauth2_client_id", "oauth2_scope")}
        return {"name": form.get("name", ""), **blank, **settings, **typed}
    if channel["type"] in (ChannelType.MESSENGER, ChannelType.INSTAGRAM):
        typed = {key: form.get(key) for key in meta.MetaChannel.credential_names if form.get(key)}
        return {"name": form.get("name", ""), "page_id": form.get("page_id", ""), **typed}
    if channel["type"] == ChannelType.TWILIO:  # a blank sender is removed (null); a blank token kept
        senders = {key: form.get(key) or None for key in ("from_number", "messaging_service_sid")}
        typed = {"auth_token": form.get("auth_token")} if form.get("auth_token") else {}
        return {"name": form.get("name", ""), "account_sid": form.get("account_sid", ""), **senders, **typed}
    return {"name": form.get("name", ""), "callback_url": form.get("callback_url") or None}


def _template(line: str) -> dict[str, Any]:
    """`name language [parameters]`, as a line of the templates field: the API's body checks it."""
    parts = line.split()
    parameters = parts[2] if len(parts) > 2 else "0"
    return {"name": parts[0], "language": parts[1] if len(parts) > 1 else "", "parameters": parameters}


def _values_of(channel: dict[str, Any]) -> dict[str, Any]:
    config = channel["config"]
    templates = config.get("templates") or []
    return {
        "name": channel["name"],
        "csat_survey": bool(channel.get("csat_survey")),
        "callback_url": config.get("callback_url") or "",
        "allowed_origins": "\n".join(config.get("allowed_origins") or []),
        "phone_number_id": config.get("phone_number_id") or "",
        "page_id": config.get("page_id") or "",
        "templates": "\n".join(f"{t['name']} {t['language']} {t['parameters']}" for t in templates),
        **{key: config.get(key) or "" for key in (*EMAIL_SETTINGS, *TWILIO_SETTINGS)},
    }


def _values(form: FormMultiDict) -> dict[str, Any]:
    """What the form showed, typed again on a refusal (never the credentials: they are not echoed)."""
    keys = (
        "name",
        "callback_url",
        "allowed_origins",
        "phone_number_id",
        "page_id",
        "templates",
        *EMAIL_SETTINGS,
        *TWILIO_SETTINGS,
    )
    return {**{key: form.get(key, "") for key in keys}, "csat_survey": form.get("csat_survey") == "on"}


def _editor(
    request: Request[Any, Any, Any],
    principal: Principal,
    channel: dict[str, Any],
    values: dict[str, Any],
    error: DomainError | None = None,
    saved: str | None = None,
    rotated: str | None = None,
    **answers: Any,  # the provider's answer to a button: `checked`, `registered`
) -> Template:
    base = public_base_url(request)
    context = {"channel": channel, "values": values, "saved": saved, "base_url": base, "rotated": rotated}
    settings: Settings = request.app.state.settings
    receiver = f"{settings.smtp_host}:{settings.smtp_port}" if settings.smtp_port else None  # e-mail's way in
    public_url_set = bool(settings.public_url)
    return page("channel", principal, error, **context, public_url_set=public_url_set, receiver=receiver, **answers)
