"""Channels: where contacts write from. Each gets a secret used to sign what crosses it; its
settings are checked by its type's adapter (frontdesk.channels)."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from typing import Any

from sqlalchemy import Connection

from frontdesk.actions.events import emit
from frontdesk.channels import ADAPTERS
from frontdesk.channels.base import SIGN_IN_REFUSED, SignIn
from frontdesk.clock import now
from frontdesk.domain import events as ev
from frontdesk.domain.errors import InvalidInput, NotFound
from frontdesk.domain.events import ChannelUpdatedPayload
from frontdesk.domain.model import Actor, ChannelType
from frontdesk.domain.people import check_name
from frontdesk.domain.records import Channel
from frontdesk.store.database import wake
from frontdesk.store.sql import channels


def create_channel(
    conn: Connection, type_: ChannelType, name: str, settings: dict[str, Any], credentials: dict[str, str] | None = None
) -> tuple[int, str]:
    """Return (id, secret); the secret is shown once to the creator and used for HMAC signatures.
    `settings` are checked by the type's adapter: one meant for another type is refused, not ignored
    (`csat_survey`, every type's, is not the adapter's). `credentials` (a provider's tokens) are
    sealed and never shown again."""
    settings = dict(settings)
    csat_survey = _check_csat_survey(settings.pop(CSAT_SURVEY, False))
    adapter = ADAPTERS[type_]
    given = credentials or {}
    check_credentials(type_, adapter.credential_names, given)
    missing = sorted(adapter.required - {key for key, value in {**settings, **given}.items() if value})
    if missing:
        raise InvalidInput("missing_setting", f"{missing[0]}: a {type_} channel needs it", missing[0])
    config = {**adapter.default_config(), **adapter.check_config(settings)}
    adapter.check_complete(config, given)
    secret = secrets.token_urlsafe(32)
    sealed = json.dumps(given, sort_keys=True) if given else None
    wake(conn, CHANNELS)
    channel_id = channels.insert_channel(conn, type_, check_name(name), config, secret, now(), sealed)
    if csat_survey:
        channels.set_csat_survey(conn, channel_id, csat_survey)
    return channel_id, secret


CSAT_SURVEY = "csat_survey"  # every channel type's setting: a survey link after a close (actions/csat.py)


def _check_csat_survey(value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput("invalid_setting", f"csat_survey: true or false, not {value!r}", CSAT_SURVEY)
    return value


CHANNELS = "channels"  # the commit topic of a channel made or changed: the IMAP poller follows it

# Every credential any channel type takes: a PATCH's keys by these names are credentials, never config.
CREDENTIAL_KEYS = frozenset(name for adapter in ADAPTERS.values() for name in adapter.credential_names)


def check_credentials(type_: str, names: frozenset[str], given: dict[str, str]) -> None:
    """Only the credentials the channel's type takes, each a non-empty string."""
    for key, value in given.items():
        if key not in names:
            raise InvalidInput("not_for_type", f"{key}: a {type_} channel does not take it", key)
        if not isinstance(value, str) or not value.strip():
            raise InvalidInput("invalid_credential", f"{key}: must be a non-empty string", key)


def rotate_secret(conn: Connection, channel_id: int, actor: Actor, grace: dt.timedelta) -> tuple[str, dt.datetime]:
    """A new secret, which signs outbound calls at once; the old one still verifies inbound calls
    (and web-chat visitor tokens) for `grace`, so the channel's sender can switch without a gap.
    Returns the new secret (shown once) and the end of the grace period."""
    old = get_channel(conn, channel_id).secret
    secret = secrets.token_urlsafe(32)
    until = now() + grace
    previous, previous_until = (old, until) if grace else (None, None)
    channels.set_secrets(conn, channel_id, secret, previous, previous_until)
    emit(conn, ev.CHANNEL_UPDATED, {"channel_id": channel_id, "changed": ["secret"], "actor": actor.as_payload()})
    return secret, until


def update_channel(conn: Connection, channel_id: int, actor: Actor, changes: dict[str, Any]) -> None:
    """`changes` may hold name, csat_survey and the settings of the channel's type (callback_url for
    api, None removing it; allowed_origins for webchat), which its adapter checks."""
    channel = get_channel(conn, channel_id)
    adapter = ADAPTERS[channel.type]
    name = check_name(changes["name"]) if "name" in changes else channel.name
    given = {key: value for key, value in changes.items() if key in CREDENTIAL_KEYS}
    check_credentials(channel.type, adapter.credential_names, given)
    own = {"name", CSAT_SURVEY}
    settings = {key: value for key, value in changes.items() if key not in own and key not in CREDENTIAL_KEYS}
    before = channel.config
    config = {**before, **adapter.check_config(settings)}
    csat_survey = _check_csat_survey(changes.get(CSAT_SURVEY, channel.csat_survey))
    kept = json.loads(channel.credentials) if channel.credentials else {}
    adapter.check_complete(config, {**kept, **given})
    changed = {key for key in config if config[key] != before.get(key)}
    changed |= {key for key, value in given.items() if value != channel.credential(key)}
    if changed & CREDENTIAL_KEYS:  # a new credential (a new sign-in): the old refusal is over
        config.pop(SIGN_IN_REFUSED, None)
    if name != channel.name:
        changed.add("name")
    if csat_survey != channel.csat_survey:
        changed.add(CSAT_SURVEY)
        channels.set_csat_survey(conn, channel_id, csat_survey)
    if not changed:
        return
    channels.set_name_and_config(conn, channel_id, name, config)
    if given:
        channels.set_credentials(conn, channel_id, json.dumps({**kept, **given}, sort_keys=True))
    wake(conn, CHANNELS)
    payload: ChannelUpdatedPayload = {"channel_id": channel_id, "changed": sorted(changed), "actor": actor.as_payload()}
    emit(conn, ev.CHANNEL_UPDATED, payload)


def get_channel(conn: Connection, channel_id: int) -> Channel:
    found = channels.channel(conn, channel_id)
    if found is None:
        raise NotFound("channel", channel_id)
    return found


def record_sign_in(conn: Connection, channel_id: int, sign_in: SignIn) -> None:
    """Save what a login with the provider learned, while the credential it used is still the
    channel's: a rotated credential, sealed; why the provider refused it,
    shown to admins (`sign_in_refused` in the config); or that it works again. An admin who
    changed the credential meanwhile keeps theirs."""
    found = channels.channel(conn, channel_id)
    if found is None or not sign_in.credential or found.credential(sign_in.credential) != sign_in.used:
        return
    if sign_in.credentials:
        kept = json.loads(found.credentials) if found.credentials else {}
        channels.set_credentials(conn, channel_id, json.dumps({**kept, **sign_in.credentials}, sort_keys=True))
    if sign_in.refused is not None:
        status = sign_in.refused
    elif sign_in.granted:
        status = None
    else:
        return
    if found.config.get(SIGN_IN_REFUSED) != status:
        config = {key: value for key, value in found.config.items() if key != SIGN_IN_REFUSED}
        shown = {SIGN_IN_REFUSED: status} if status else {}
        channels.set_name_and_config(conn, channel_id, found.name, config | shown)
