"""Skills, reassignment on silence, requeue on unavailability, away messages, queued workflow runs."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from frontdesk.settings import Settings
from tests.assignment.test_queues import _agent, _conversation, _team, _to_team
from tests.engine.support import install, runs
from tests.factories import Api, eventually, make_token

EVERY_DAY = {day: ["09:00-18:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def _today_in_paris() -> str:
    return dt.datetime.now(ZoneInfo("Europe/Paris")).date().isoformat()  # a holiday: closed all day


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(database_url=db_url, log_format="text")


def _assignee(admin: Api, conversation_id: int) -> int | None:
    return admin.get(f"/api/v1/conversations/{conversation_id}").json()["assignee_id"]


def test_only_agents_with_the_required_skills_get_it_until_the_requirement_is_relaxed(admin: Api) -> None:
    team = _team(admin, relax_skills_after="1s")
    _agent(admin, team, "Anglo")
    admin.patch(
        f"/api/v1/agents/{_agent(admin, team, 'Franco', availability='offline')}", {"skills": {"language": "fr"}}
    )
    channel = admin.channel()["id"]
    install(
        admin,
        {
            "name": "French",
            "trigger": {"event": "conversation.opened"},
            "steps": [
                {"id": "to_fr", "type": "assign", "team": "Support", "skills": {"language": "fr"}, "queue": True}
            ],
        },
    )

    conversation_id = _conversation(admin, channel, "amelie")

    eventually(lambda: admin.get(f"/api/v1/teams/{team}/queue").json(), "the conversation to be queued")
    queued = admin.get(f"/api/v1/teams/{team}/queue").json()[0]
    assert queued["skills"] == {"language": "fr"}
    # after a second in the queue the skills stop mattering: the English speaker takes it
    anglo = eventually(lambda: _assignee(admin, conversation_id), "the relaxed assignment")
    assert admin.get(f"/api/v1/agents/{anglo}").json()["name"] == "Anglo"


def test_a_queued_workflow_run_resumes_when_an_agent_frees_up(admin: Api) -> None:
    team = _team(admin)
    agent = _agent(admin, team, "Later", availability="offline")
    channel = admin.channel()["id"]
    install(
        admin,
        {
            "name": "Queue me",
            "trigger": {"event": "conversation.opened"},
            "steps": [
                {"id": "to_team", "type": "assign", "team": "Support", "queue": True, "next": "hello"},
                {"id": "hello", "type": "send_message", "text": "You are connected with an agent."},
            ],
        },
    )
    conversation_id = _conversation(admin, channel, "ada")
    run = eventually(
        lambda: next((r for r in runs(admin, conversation_id=conversation_id) if r["waiting_for"] == "queue"), None),
        "the run waiting in the queue",
    )

    admin.patch(f"/api/v1/agents/{agent}", {"availability": "online"})

    done = eventually(
        lambda: (r := admin.get(f"/api/v1/runs/{run['id']}").json())["status"] == "completed" and r, "the run to end"
    )
    assert ("to_team", "assigned") in [(s["step_id"], s["branch"]) for s in done["steps"]]
    texts = [m["text"] for m in admin.get(f"/api/v1/conversations/{conversation_id}/messages").json()]
    assert texts[-1] == "You are connected with an agent."


def test_a_queue_timeout_takes_the_timed_out_branch_and_leaves_the_queue(admin: Api) -> None:
    team = _team(admin)
    _agent(admin, team, "Never", availability="offline")
    channel = admin.channel()["id"]
    install(
        admin,
        {
            "name": "Impatient",
            "trigger": {"event": "conversation.opened"},
            "steps": [
                {
                    "id": "to_team",
                    "type": "assign",
                    "team": "Support",
                    "queue": True,
                    "queue_timeout": "1s",
                    "on_timeout": "sorry",
                },
                {"id": "sorry", "type": "send_message", "text": "Sorry, everyone is busy; we will e-mail you."},
            ],
        },
    )
    conversation_id = _conversation(admin, channel, "ada")

    def ended() -> bool:
        found = runs(admin, conversation_id=conversation_id)
        return bool(found) and found[0]["status"] == "completed"

    eventually(ended, "the queue timeout")
    assert admin.get(f"/api/v1/teams/{team}/queue").json() == []
    texts = [m["text"] for m in admin.get(f"/api/v1/conversations/{conversation_id}/messages").json()]
    assert texts[-1].startswith("Sorry, everyone is busy")


def test_silence_after_assignment_moves_the_conversation_to_another_agent(admin: Api) -> None:
    team = _team(admin, reassign_after="1s", strategy="round_robin")
    first, second = _agent(admin, team, "First"), _agent(admin, team, "Second")
    channel = admin.channel()["id"]
    silent = _to_team(admin, _conversation(admin, channel, "ada"), team)
    answered = _to_team(admin, _conversation(admin, channel, "bob"), team)
    assert (silent["assignee_id"], answered["assignee_id"]) == (first, second)
    Api(admin.client, make_token(admin.db, "agent", second)).post(
        f"/api/v1/conversations/{answered['id']}/messages", {"text": "Hi Bob!"}
    )

    eventually(lambda: _assignee(admin, silent["id"]) == second, "the reassignment")

    assert _assignee(admin, answered["id"]) == second  # answered in time: stays
    reasons = [e["payload"]["reason"] for e in admin.events(type="conversation.assigned")]
    assert any(f"no first reply from agent {first} within 1s" in r for r in reasons)


def test_an_agent_going_away_returns_unanswered_conversations_to_the_queue(admin: Api) -> None:
    team = _team(admin, requeue_on_unavailable=True)
    leaving = _agent(admin, team, "Leaving")
    channel = admin.channel()["id"]
    unanswered = _to_team(admin, _conversation(admin, channel, "ada"), team)["id"]
    answered = _to_team(admin, _conversation(admin, channel, "bob"), team)["id"]
    Api(admin.client, make_token(admin.db, "agent", leaving)).post(
        f"/api/v1/conversations/{answered}/messages", {"text": "On it"}
    )
    staying = _agent(admin, team, "Staying", capacity=0)

    admin.patch(f"/api/v1/agents/{leaving}", {"availability": "away"})

    assert _assignee(admin, answered) == leaving
    assert _assignee(admin, unanswered) is None
    assert [e["conversation_id"] for e in admin.get(f"/api/v1/teams/{team}/queue").json()] == [unanswered]
    admin.patch(f"/api/v1/agents/{staying}", {"capacity": 5})
    assert _assignee(admin, unanswered) == staying


def test_outside_business_hours_the_away_message_is_sent_once_per_conversation(admin: Api) -> None:
    team = _team(admin)
    admin.patch(
        f"/api/v1/teams/{team}",
        {
            "business_hours": {"timezone": "Europe/Paris", "hours": EVERY_DAY, "holidays": [_today_in_paris()]},
            "away_message": "We are closed; {{ team }} is back {{ next_open }}.",
        },
    )
    _agent(admin, team, "Night", availability="offline")
    channel = admin.channel()["id"]
    conversation_id = _conversation(admin, channel, "ada")
    _to_team(admin, conversation_id, team)  # queued: nobody online
    admin.inbound(channel, "ada", "hello?")
    admin.inbound(channel, "ada", "anyone?")

    def away_messages() -> list[str]:
        texts = [m["text"] for m in admin.get(f"/api/v1/conversations/{conversation_id}/messages").json()]
        return [t for t in texts if t.startswith("We are closed")]

    found = eventually(away_messages, "the away message")
    eventually(lambda: len(admin.events(type="message.received")) == 3, "every message processed")
    assert len(found) == 1  # three messages outside hours, one away message
    assert found[0].startswith("We are closed; Support is back ") and found[0].endswith(" 09:00.")


def test_an_idle_member_is_set_away_and_activity_is_recorded(admin: Api) -> None:
    from sqlalchemy import select

    from frontdesk.store.tables import agents

    team = _team(admin, auto_away_after="1s")
    idle = _agent(admin, team, "Idle")
    busy = _agent(admin, team, "Busy")
    Api(admin.client, make_token(admin.db, "agent", busy)).get("/api/v1/conversations")

    def seen() -> object:
        return admin.db.read_sync(
            lambda c: c.execute(select(agents.c.last_seen_at).where(agents.c.id == busy)).scalar()
        )

    eventually(seen, "the agent's request to be noted")
    eventually(lambda: admin.get(f"/api/v1/agents/{idle}").json()["availability"] == "away", "the idle agent away")
    change = next(e for e in admin.events(type="agent.availability_changed") if e["payload"]["agent_id"] == idle)
    assert (change["payload"]["new"], change["payload"]["actor"]["kind"]) == ("away", "system")
