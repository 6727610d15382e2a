"""The organisation behind scenario 5's data set, made by Frontdesk's own code: the real migrations,
the demo, more agents and teams through the actions, and web logins for the agents the bench
measures as. Also the contact rows and the agents' counters once the bulk rows are in."""

from __future__ import annotations

import datetime as dt
import json
import random
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from frontdesk import assignment
from frontdesk.actions.agents import create_agent
from frontdesk.actions.sessions import set_password
from frontdesk.actions.teams import add_member, create_team
from frontdesk.demo import load_demo
from frontdesk.domain.model import SYSTEM, Availability, ChannelType, Role
from frontdesk.store.database import Database
from frontdesk.store.migrate import upgrade
from frontdesk.store.tables import agents, channels, team_members, teams

PASSWORD = "bench-inbox-password"  # a benchmark database only: every measured viewer logs in with it
EXTRA_TEAMS = ("Onboarding", "Enterprise", "Returns", "Partners", "Shipping", "Technical")
FIRST = ("Ada", "Grace", "Alan", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Frances", "Edsger")
LAST = ("Lovelace", "Hopper", "Turing", "Torvalds", "Hamilton", "Thompson", "Liskov", "Ritchie", "Allen")
VIEWERS_PER_ROLE = 5  # agents and managers given a password: the bench rotates its requests over them


@dataclass
class Organisation:
    api_channel: int
    webchat_channel: int
    members: dict[int, list[int]]  # team id -> agent ids
    roles: dict[int, str]  # agent id -> role
    emails: dict[int, str]
    viewers: dict[str, list[int]] = field(default_factory=dict)  # role -> agent ids with a login

    @property
    def managers(self) -> list[int]:
        return [a for a, role in self.roles.items() if role in (Role.MANAGER, Role.ADMIN)]

    def team_weights(self) -> dict[int, float]:
        """Support gets the most conversations, then Sales and Billing, the extra teams fewer."""
        ordered = sorted(self.members)
        rest = 0.3 / max(1, len(ordered) - 3)
        return {team: (0.35, 0.2, 0.15)[k] if k < 3 else rest for k, team in enumerate(ordered)}

    def channel_of(self, contact: int) -> int:
        """Seven contacts in ten write through the API channel, the others through the web chat."""
        return self.webchat_channel if contact % 10 >= 7 else self.api_channel

    def manifest(self) -> dict[str, Any]:
        return {
            "password": PASSWORD,
            "viewers": {role: [{"id": a, "email": self.emails[a]} for a in ids] for role, ids in self.viewers.items()},
            "teams": sorted(self.members),
        }


def create(path: Path, extra_agents: int, extra_teams: int, rng: random.Random) -> Organisation:
    """Migrate a new database at `path` (as `frontdesk migrate` does) and create the organisation."""
    if hasattr(assignment, "install"):  # `--commit` of a version before issue 12 has no hook
        assignment.install()
    db = Database(f"sqlite:///{path}")
    upgrade(db.write_engine)
    db.start()
    try:
        return db.write_sync(lambda conn: _organisation(conn, extra_agents, extra_teams, rng))
    finally:
        db.close()


def _organisation(conn: Connection, extra_agents: int, extra_teams: int, rng: random.Random) -> Organisation:
    load_demo(conn)
    for name in EXTRA_TEAMS[:extra_teams]:
        create_team(conn, SYSTEM, name)
    all_teams = sorted(conn.execute(select(teams.c.id)).scalars())
    for k in range(extra_agents):
        role = Role.MANAGER if k % 20 == 0 else Role.AGENT
        availability = rng.choices(list(Availability), weights=(0.6, 0.2, 0.2))[0]
        agent_id = create_agent(
            conn, SYSTEM, name=f"Agent {k:03d}", email=f"agent{k:03d}@bench.local", role=role,
            availability=availability, capacity=0,
        )  # fmt: skip
        for team_id in rng.sample(all_teams, 2 if rng.random() < 0.2 else 1):
            add_member(conn, team_id, agent_id, SYSTEM)
    members: dict[int, list[int]] = {}
    for team_id, agent_id in conn.execute(select(team_members.c.team_id, team_members.c.agent_id)).all():
        members.setdefault(team_id, []).append(agent_id)
    people = conn.execute(select(agents.c.id, agents.c.role, agents.c.email).order_by(agents.c.id)).all()
    org = Organisation(
        api_channel=_channel(conn, ChannelType.API),
        webchat_channel=_channel(conn, ChannelType.WEBCHAT),
        members=members,
        roles={p.id: p.role for p in people},
        emails={p.id: p.email for p in people},
    )
    for role in (Role.AGENT, Role.MANAGER):
        org.viewers[role] = [p.id for p in people if p.role == role][:VIEWERS_PER_ROLE]
        for agent_id in org.viewers[role]:
            set_password(conn, agent_id, PASSWORD)
    return org


def _channel(conn: Connection, type_: ChannelType) -> int:
    return int(conn.execute(select(channels.c.id).where(channels.c.type == type_).order_by(channels.c.id)).scalar_one())


CONTACT_INSERT = (
    "INSERT INTO contacts (id, name, fields, tags, owner_agent_id, created_at, updated_at) VALUES (?,?,?,?,?,?,?)"
)
IDENTITY_INSERT = "INSERT INTO contact_identities (contact_id, channel_id, external_id) VALUES (?,?,?)"


def contact_rows(count: int, org: Organisation, rng: random.Random, now: float) -> Iterator[tuple[Any, ...]]:
    """Contacts 1..count: a name (some have none yet), the demo's fields, a few tags and owners."""
    owners = sorted(org.roles)
    created = (dt.datetime(1970, 1, 1) + dt.timedelta(seconds=now - 400 * 86_400)).isoformat(" ", "microseconds")
    for k in range(count):
        name = None if k % 17 == 0 else f"{FIRST[k % len(FIRST)]} {LAST[(k // 10) % len(LAST)]} {k}"
        fields = {"email": f"contact{k}@example.org", "language": ("en", "fr", "de", "es")[k % 4]}
        if k % 3 == 0:
            fields["plan"] = ("free", "pro", "enterprise")[k % 9 // 3]
        tags = '["vip"]' if k % 50 == 0 else "[]"
        owner = rng.choice(owners) if k % 20 == 0 else None
        yield k + 1, name, json.dumps(fields), tags, owner, created, created


def identity_rows(org: Organisation, count: int) -> Iterator[tuple[int, int, str]]:
    """One identity on the contact's channel; one contact in ten also wrote through the other one."""
    for k in range(count):
        channel = org.channel_of(k)
        yield k + 1, channel, f"contact-{k}"
        if k % 10 == 0:
            other = org.webchat_channel if channel == org.api_channel else org.api_channel
            yield k + 1, other, f"contact-{k}"


def finish(conn: sqlite3.Connection) -> int:
    """What the actions keep beside the conversations: each agent's open counter (their capacity set
    to it: everyone is busy, which is why a queue exists and why no drain starts when the server
    does), their last assignment, and a queue entry per open conversation waiting for its team."""
    conn.executescript(
        """
        UPDATE agents SET
          open_count = (SELECT count(*) FROM conversations c WHERE c.assignee_id = agents.id AND c.status = 'open'),
          last_assigned_at = (SELECT max(assigned_at) FROM conversations c WHERE c.assignee_id = agents.id);
        UPDATE agents SET capacity = min(open_count, 1000);
        INSERT INTO queue_entries (conversation_id, team_id, priority, skills, relax_at, enqueued_at)
          SELECT id, team_id, 0, '{}', NULL, opened_at FROM conversations
          WHERE status = 'open' AND assignee_id IS NULL AND team_id IS NOT NULL ORDER BY opened_at;
        """
    )
    conn.commit()
    return int(conn.execute("SELECT count(*) FROM queue_entries").fetchone()[0])
