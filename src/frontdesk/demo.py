"""Demo data: a small support organisation with agents in three teams, an API channel, a web chat,
and a WhatsApp and a Telegram channel configured against nothing (placeholder credentials: their
admin pages show the webhook URL, and their check button says the provider refused or was not reached)."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Connection

from frontdesk.actions.agents import create_agent
from frontdesk.actions.channels import create_channel
from frontdesk.actions.contacts import create_field
from frontdesk.actions.sessions import set_password
from frontdesk.actions.teams import add_member, create_team
from frontdesk.actions.tokens import create_token, revoke_token
from frontdesk.actions.workflows import create_workflow, publish, set_enabled
from frontdesk.domain.errors import NotFound
from frontdesk.domain.model import SYSTEM, Availability, ChannelType, FieldType, Role
from frontdesk.store.sql.agents import agent_id_by_email
from frontdesk.store.sql.channels import first_channel_id
from frontdesk.store.sql.tokens import live_token_ids

ADMIN_EMAIL = "admin@demo.frontdesk.local"
DEMO_TOKEN = "demo login"
INBOUND_WORKFLOW = Path(__file__).parent / "examples" / "inbound-conversations.yaml"

AGENTS = [
    ("Alice Martin", ADMIN_EMAIL, Role.ADMIN, {"language": "fr"}, ["Support"]),
    ("Bruno Silva", "bruno@demo.frontdesk.local", Role.MANAGER, {"language": "en"}, ["Sales"]),
    ("Chloé Dubois", "chloe@demo.frontdesk.local", Role.AGENT, {"language": "fr"}, ["Support", "Billing"]),
    ("David Okafor", "david@demo.frontdesk.local", Role.AGENT, {"language": "en"}, ["Sales", "Support"]),
    ("Emma Novak", "emma@demo.frontdesk.local", Role.AGENT, {"language": "en"}, ["Billing"]),
]
# Placeholders, named so: no provider knows them. The app secret is known so that the README's tour can
# sign a WhatsApp-format webhook with openssl and post it to the demo (on 127.0.0.1).
DEMO_APP_SECRET = "demo-app-secret"
DEMO_INBOUND_ADDRESS = "support@frontdesk.test"
PROVIDER_CHANNELS: list[tuple[ChannelType, str, dict[str, Any], dict[str, str]]] = [
    (
        ChannelType.WHATSAPP,
        "WhatsApp demo",
        {"phone_number_id": "100000000000000"},
        {
            "access_token": "demo-placeholder-access-token",
            "app_secret": DEMO_APP_SECRET,
            "verify_token": "demo-verify-token",
        },
    ),
    (
        ChannelType.TELEGRAM,
        "Telegram demo",
        {},
        {"bot_token": "000000000:demo-placeholder-bot-token", "webhook_secret": "demo-webhook-secret"},
    ),
    (  # mail in through the SMTP receiver (`make run`: port 2525); replies to a closed port, retried
        ChannelType.EMAIL,
        "E-mail demo",
        {"inbound_address": DEMO_INBOUND_ADDRESS, "from_address": DEMO_INBOUND_ADDRESS, "smtp_host": "127.0.0.1"}
        | {"smtp_port": 9, "smtp_security": "none"},
        {},
    ),
]
FIELDS = [
    ("email", "E-mail", FieldType.EMAIL, []),
    ("phone", "Phone", FieldType.PHONE, []),
    ("language", "Language", FieldType.TEXT, []),
    ("plan", "Plan", FieldType.CHOICE, ["free", "pro", "enterprise"]),
]


def load_demo(conn: Connection) -> bool:
    """Create the demo organisation unless it exists; True when it was created now. A demo made
    before the WhatsApp and Telegram channels existed gets them."""
    if agent_id_by_email(conn, ADMIN_EMAIL) is not None:
        add_provider_channels(conn)
        return False
    team_ids = {name: create_team(conn, SYSTEM, name) for name in ("Sales", "Support", "Billing")}
    for name, email, role, skills, teams in AGENTS:
        agent_id = create_agent(
            conn, SYSTEM, name=name, email=email, role=role, skills=skills, availability=Availability.ONLINE
        )
        for team in teams:
            add_member(conn, team_ids[team], agent_id, SYSTEM)
    for key, label, type_, options in FIELDS:
        create_field(conn, key, label, type_, options)
    create_channel(conn, ChannelType.API, "Website API", {"callback_url": None})
    create_channel(conn, ChannelType.WEBCHAT, "Website chat", {"allowed_origins": []})  # try it: /widget/demo
    add_provider_channels(conn)
    workflow_id = create_workflow(conn, yaml.safe_load(INBOUND_WORKFLOW.read_text()))
    publish(conn, workflow_id, SYSTEM)
    set_enabled(conn, workflow_id, True, SYSTEM)
    return True


def add_provider_channels(conn: Connection) -> None:
    """The demo's WhatsApp, Telegram and e-mail channels, each unless a channel of its type exists."""
    for type_, name, settings, credentials in PROVIDER_CHANNELS:
        if first_channel_id(conn, type_) is None:
            create_channel(conn, type_, name, settings, credentials)


def demo_admin_login(conn: Connection) -> tuple[str, str]:
    """A fresh API token and web password for the demo admin, for the terminal only. Both are
    stored hashed, so new ones are made at each start: the previous demo token is revoked, so
    restarts never pile up admin tokens that work for ever."""
    admin_id = agent_id_by_email(conn, ADMIN_EMAIL)
    if admin_id is None:
        raise NotFound("agent", ADMIN_EMAIL)
    password = secrets.token_urlsafe(12)
    set_password(conn, admin_id, password)
    for token_id in live_token_ids(conn, admin_id, DEMO_TOKEN):
        revoke_token(conn, token_id)
    return create_token(conn, DEMO_TOKEN, Role.ADMIN, admin_id), password
