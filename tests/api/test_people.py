"""Agents and teams through the API."""

from __future__ import annotations

from tests.factories import Api, make_agent, make_token


def test_agent_is_created_offline_with_capacity_and_skills(admin: Api) -> None:
    response = admin.post(
        "/api/v1/agents",
        {"name": "Zoé", "email": "Zoe@Example.org", "capacity": 5, "skills": {"language": "fr"}},
    )

    assert response.status_code == 201
    agent = response.json()
    assert (agent["email"], agent["availability"], agent["capacity"], agent["role"]) == (
        "zoe@example.org",
        "offline",
        5,
        "agent",
    )
    assert agent["skills"] == {"language": "fr"}


def test_availability_change_is_an_event(admin: Api) -> None:
    agent_id = make_agent(admin.db, availability="offline")
    agent = Api(admin.client, make_token(admin.db, "agent", agent_id))

    response = agent.patch(f"/api/v1/agents/{agent_id}", {"availability": "online"})

    assert response.status_code == 200
    assert response.json()["availability"] == "online"
    change = admin.events(type="agent.availability_changed")[-1]["payload"]
    assert (change["agent_id"], change["old"], change["new"]) == (agent_id, "offline", "online")


def test_team_members_are_added_once_and_removed(admin: Api) -> None:
    team = admin.post("/api/v1/teams", {"name": "Billing"}).json()
    agent_id = make_agent(admin.db)
    path = f"/api/v1/teams/{team['id']}/members/{agent_id}"

    assert admin.put(path).status_code == 201
    assert admin.put(path).status_code == 200  # already a member: nothing changes
    assert admin.get(f"/api/v1/teams/{team['id']}").json()["member_ids"] == [agent_id]
    assert admin.get(f"/api/v1/agents/{agent_id}").json()["team_ids"] == [team["id"]]
    assert admin.delete(path).status_code == 204
    assert admin.get(f"/api/v1/teams/{team['id']}").json()["member_ids"] == []
    types = [e["type"] for e in admin.events(type=["team.member_added", "team.member_removed"])]
    assert types == ["team.member_added", "team.member_removed"]


def test_agent_answers_never_carry_the_password_hash(admin: Api) -> None:
    agent_id = make_agent(admin.db)
    from frontdesk.actions.sessions import set_password

    admin.db.write_sync(lambda c: set_password(c, agent_id, "a long enough password"))

    shown = [admin.get(f"/api/v1/agents/{agent_id}").json(), *admin.get("/api/v1/agents").json()]
    assert all("password_hash" not in agent for agent in shown)
    assert "argon2" not in admin.get("/api/v1/agents").text
