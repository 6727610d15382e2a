"""What a token may do follows its agent: a token acts at the lower of its own role and its agent's
current role, stops working when its agent is deactivated, and may carry an expiry."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import update

from frontdesk.actions.agents import update_agent
from frontdesk.actions.sessions import check_login, open_session, session_agent, set_password
from frontdesk.api.auth import Authenticator
from frontdesk.domain.model import SYSTEM, Role
from frontdesk.settings import Settings
from frontdesk.store.tables import api_tokens
from tests.factories import Api, make_agent, make_token


@pytest.fixture
def settings(db_url: str) -> Settings:
    """A long token cache: whatever takes effect here does so at once, not by the cache expiring."""
    return Settings(database_url=db_url, log_format="text", token_cache_seconds=3600)


def _demoted_admin(admin: Api) -> tuple[int, Api]:
    """An admin agent with an admin token that has been used (so it is cached), then demoted."""
    ada = make_agent(admin.db, "admin")
    ada_api = Api(admin.client, make_token(admin.db, "admin", ada))
    assert ada_api.get("/api/v1/tokens").status_code == 200
    assert admin.patch(f"/api/v1/agents/{ada}", {"role": "agent"}).status_code == 200
    return ada, ada_api


def test_a_demoted_admins_token_can_no_longer_create_an_admin_token(admin: Api) -> None:
    _, ada_api = _demoted_admin(admin)

    response = ada_api.post("/api/v1/tokens", {"name": "back door", "role": "admin"})

    assert response.status_code == 403, response.text
    assert "you have agent" in response.json()["detail"]
    assert [t["name"] for t in admin.get("/api/v1/tokens").json()].count("back door") == 0


def test_a_demoted_admins_token_cannot_promote_its_agent_back(admin: Api) -> None:
    ada, ada_api = _demoted_admin(admin)

    response = ada_api.patch(f"/api/v1/agents/{ada}", {"role": "admin"})

    assert response.status_code == 403, response.text
    assert admin.get(f"/api/v1/agents/{ada}").json()["role"] == "agent"


def test_a_demoted_managers_token_loses_manager_reads_at_once(admin: Api) -> None:
    manager = make_agent(admin.db, "manager")
    token = Api(admin.client, make_token(admin.db, "manager", manager))
    assert token.get("/api/v1/events").status_code == 200

    assert admin.patch(f"/api/v1/agents/{manager}", {"role": "agent"}).status_code == 200

    assert token.get("/api/v1/events").status_code == 403
    assert token.get("/api/v1/conversations").status_code == 200  # still an agent


def test_a_promoted_agent_keeps_the_role_written_on_their_token(admin: Api) -> None:
    sam = make_agent(admin.db, "agent")
    token = Api(admin.client, make_token(admin.db, "agent", sam))

    assert admin.patch(f"/api/v1/agents/{sam}", {"role": "admin"}).status_code == 200

    assert token.get("/api/v1/events").status_code == 403  # the token was made for an agent


def test_another_process_sees_a_demotion_when_it_checks_the_token_again(admin: Api) -> None:
    """A second Authenticator stands for another process: nothing tells it of the demotion; its
    cache entry is re-read (cache period 0 here, 5 s by default) and the role comes from the agent."""
    ada = make_agent(admin.db, "admin")
    token = make_token(admin.db, "admin", ada)
    other = Authenticator(admin.db, cache_seconds=0)
    assert asyncio.run(other.principal_for(f"Bearer {token}")).role is Role.ADMIN

    admin.db.write_sync(lambda c: update_agent(c, ada, SYSTEM, {"role": Role.AGENT}))

    assert asyncio.run(other.principal_for(f"Bearer {token}")).role is Role.AGENT


def test_a_token_made_with_an_expiry_works_until_then_and_is_refused_after(admin: Api) -> None:
    created = admin.post("/api/v1/tokens", {"name": "contractor", "role": "agent", "expires_in_days": 7})
    assert created.status_code == 201, created.text
    expires_at = dt.datetime.fromisoformat(created.json()["expires_at"])
    assert dt.timedelta(days=6) < expires_at - dt.datetime.now(dt.UTC) <= dt.timedelta(days=7)
    listed = next(t for t in admin.get("/api/v1/tokens").json() if t["name"] == "contractor")
    assert dt.datetime.fromisoformat(listed["expires_at"]) == expires_at
    contractor = Api(admin.client, created.json()["token"])
    assert contractor.get("/api/v1/contacts").status_code == 200

    past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)  # as if seven days went by
    expire = update(api_tokens).where(api_tokens.c.id == listed["id"]).values(expires_at=past)
    admin.db.write_sync(lambda c: c.execute(expire))
    admin.client.app.state.authenticator.forget_token(listed["id"])  # what the cache period does in time

    refused = contractor.get("/api/v1/contacts")
    assert refused.status_code == 401
    assert refused.json()["error"] == "token_expired"
    assert "expired at" in refused.json()["detail"]


def test_a_token_may_be_given_an_exact_expiry(admin: Api) -> None:
    when = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)).replace(microsecond=0)

    created = admin.post("/api/v1/tokens", {"name": "ci", "role": "agent", "expires_at": when.isoformat()})

    assert created.status_code == 201, created.text
    assert dt.datetime.fromisoformat(created.json()["expires_at"]) == when


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"expires_in_days": 0}, "expires_in_days"),
        ({"expires_in_days": 100_000}, "expires_in_days"),
        ({"expires_at": "2001-01-01T00:00:00+00:00"}, "expires_at"),
        ({"expires_at": "2999-01-01T00:00:00"}, "expires_at"),  # no time zone: ambiguous
        ({"expires_in_days": 1, "expires_at": "2999-01-01T00:00:00+00:00"}, "expires_at"),
    ],
)
def test_a_bad_expiry_is_refused_naming_the_field(admin: Api, body: dict[str, object], field: str) -> None:
    before = admin.get("/api/v1/tokens").json()

    response = admin.post("/api/v1/tokens", {"name": "bad", "role": "agent", **body})

    assert 400 <= response.status_code < 500, response.text
    assert field in response.text
    assert admin.get("/api/v1/tokens").json() == before


def test_a_token_without_an_expiry_never_expires(admin: Api) -> None:
    created = admin.post("/api/v1/tokens", {"name": "forever", "role": "agent"})

    assert created.json()["expires_at"] is None


# -- deactivated agents ------------------------------------------------------------------------
def test_a_deactivated_agents_token_stops_working_at_once_and_works_again_on_reactivation(admin: Api) -> None:
    sam = make_agent(admin.db)
    token = Api(admin.client, make_token(admin.db, "agent", sam))
    assert token.get("/api/v1/contacts").status_code == 200  # cached

    deactivated = admin.patch(f"/api/v1/agents/{sam}", {"active": False})

    assert deactivated.status_code == 200, deactivated.text
    assert (deactivated.json()["active"], deactivated.json()["availability"]) == (False, "offline")
    refused = token.get("/api/v1/contacts")
    assert refused.status_code == 401
    assert "deactivated" in refused.json()["detail"]
    assert admin.patch(f"/api/v1/agents/{sam}", {"active": True}).status_code == 200
    assert token.get("/api/v1/contacts").status_code == 200


def test_a_deactivated_agent_cannot_log_in_and_their_sessions_end(admin: Api) -> None:
    sam = make_agent(admin.db, email="sam@example.test")
    admin.db.write_sync(lambda c: set_password(c, sam, "a-long-enough-password"))
    session = admin.db.write_sync(lambda c: open_session(c, sam, dt.datetime.now(dt.UTC)))

    assert admin.patch(f"/api/v1/agents/{sam}", {"active": False}).status_code == 200

    assert admin.db.read_sync(lambda c: check_login(c, "sam@example.test", "a-long-enough-password")) is None
    assert admin.db.read_sync(lambda c: session_agent(c, session, dt.datetime.now(dt.UTC))) is None


def test_a_deactivated_agent_cannot_be_set_online_nor_assigned_a_conversation(admin: Api) -> None:
    sam = make_agent(admin.db)
    conversation = admin.inbound(admin.channel()["id"], "ada", "Hello").json()["conversation_id"]
    assert admin.patch(f"/api/v1/agents/{sam}", {"active": False}).status_code == 200

    online = admin.patch(f"/api/v1/agents/{sam}", {"availability": "online"})
    assigned = admin.post(f"/api/v1/conversations/{conversation}/assign", {"agent_id": sam})

    assert (online.status_code, online.json()["error"]) == (409, "agent_inactive")
    assert (assigned.status_code, assigned.json()["error"]) == (422, "agent_inactive")
    assert admin.get(f"/api/v1/conversations/{conversation}").json()["assignee_id"] is None


def test_only_an_admin_deactivates_an_agent(admin: Api) -> None:
    sam = make_agent(admin.db)
    manager = Api(admin.client, make_token(admin.db, "manager"))

    response = manager.patch(f"/api/v1/agents/{sam}", {"active": False})

    assert response.status_code == 403
    assert admin.get(f"/api/v1/agents/{sam}").json()["active"] is True
