"""Demo data: a small support organisation with agents in three teams, an API channel and a web chat."""

from __future__ import annotations

import secrets
from pathlib import Path

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
FIELDS = [
    ("email", "E-mail", FieldType.EMAIL, []),
    ("phone", "Phone", FieldType.PHONE, []),
    ("language", "Language", FieldType.TEXT, []),
    ("plan", "Plan", FieldType.CHOICE, ["free", "pro", "enterprise"]),
]


def load_demo(conn: Connection) -> bool:
    """Create the demo organisation unless it exists; True when it was created now."""
    if agent_id_by_email(conn, ADMIN_EMAIL) is not None:
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
    workflow_id = create_workflow(conn, yaml.safe_load(INBOUND_WORKFLOW.read_text()))
    publish(conn, workflow_id, SYSTEM)
    set_enabled(conn, workflow_id, True, SYSTEM)
    return True


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
