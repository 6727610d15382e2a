"""Admin pages: agents — the list, a new agent with a web password, and one agent's settings
(name, role, availability, capacity, skills, teams), through the actions the API uses."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.response import Redirect, Template
from sqlalchemy import Connection

from frontdesk.actions.agents import create_agent, update_agent
from frontdesk.actions.sessions import set_password
from frontdesk.actions.teams import add_member, remove_member
from frontdesk.api.auth import Principal
from frontdesk.api.deps import Caller, Db
from frontdesk.api.schemas import AgentBody, AgentPatch, PathId
from frontdesk.domain.errors import DomainError, InvalidInput
from frontdesk.domain.model import Availability, Role
from frontdesk.domain.people import check_may_change_agent, check_may_create_agent
from frontdesk.domain.teams import parse_skills
from frontdesk.store.sql.agents import agent_detail, list_agents
from frontdesk.store.sql.teams import list_teams
from frontdesk.web.admin.forms import Saved, checked, page, posted
from frontdesk.web.guards import MANAGER

NEW_AGENT = {"role": Role.AGENT, "capacity": "10", "availability": Availability.OFFLINE, "team": []}


class AgentPages(Controller):
    path = "/admin/agents"
    include_in_schema = False
    opt = MANAGER

    @get("/")
    async def index(self, db: Db, principal: Caller) -> Template:
        return await _index(db, principal, NEW_AGENT)

    @post("/", status_code=303)
    async def create(self, request: Request[Any, Any, Any], db: Db, principal: Caller) -> Response[Any]:
        form = await posted(request)
        try:
            body = checked(AgentBody, _agent_fields(form, ("name", "email", "role", "capacity", "availability")))
            check_may_create_agent(principal.role, body.role)
            teams, password = _team_ids(form), form.get("password", "")
            agent_id = await db.write(lambda c: _create(c, principal, body, password, teams))
        except DomainError as exc:
            return await _index(db, principal, _values(form), exc)
        return Redirect(f"/admin/agents/{agent_id}?saved=created", status_code=303)

    @get("/{agent_id:int}")
    async def edit(self, db: Db, principal: Caller, agent_id: PathId, saved: Saved = None) -> Template:
        agent = await db.read(lambda c: agent_detail(c, agent_id))
        return await _editor(db, principal, agent_id, _values_of(agent), saved=saved)

    @post("/{agent_id:int}", status_code=303)
    async def save(self, request: Request[Any, Any, Any], db: Db, principal: Caller, agent_id: PathId) -> Response[Any]:
        form = await posted(request)
        try:
            fields = _agent_fields(form, ("name", "availability", "capacity", "role"))  # role: on admins' form only
            if "active_shown" in form:  # admins' form only; an unticked box is left out by browsers
                fields["active"] = "active" in form
            changes = checked(AgentPatch, fields).model_dump(exclude_unset=True)
            check_may_change_agent(principal.role, principal.agent_id, agent_id, changes)
            teams = _team_ids(form)
            await db.write(lambda c: _save(c, principal, agent_id, changes, teams))
            request.app.state.authenticator.forget_agent(agent_id)
        except DomainError as exc:
            return await _editor(db, principal, agent_id, _values(form), error=exc)
        return Redirect(f"/admin/agents/{agent_id}?saved=1", status_code=303)


def _agent_fields(form: FormMultiDict, keys: tuple[str, ...]) -> dict[str, Any]:
    """The body the API would get from the fields the form has; a blank name or capacity is sent
    blank (browsers leave blank fields out), to be refused naming it."""
    fields: dict[str, Any] = {key: form.get(key, "") for key in keys if key in form or key in ("name", "capacity")}
    fields["skills"] = parse_skills(form.get("skills", ""))
    return fields


def _team_ids(form: FormMultiDict) -> set[int]:
    try:
        return {int(value) for value in form.getall("team", [])}
    except ValueError:
        raise InvalidInput("invalid_form", "team: pick teams from the list", "team") from None


def _create(conn: Connection, principal: Principal, body: AgentBody, password: str, teams: set[int]) -> int:
    """One transaction: a refused password or team leaves no half-made agent behind."""
    agent_id = create_agent(conn, principal.actor, **body.model_dump())
    set_password(conn, agent_id, password)
    for team_id in sorted(teams):
        add_member(conn, team_id, agent_id, principal.actor)
    return agent_id


def _save(conn: Connection, principal: Principal, agent_id: int, changes: dict[str, Any], teams: set[int]) -> None:
    update_agent(conn, agent_id, principal.actor, changes)
    current = set(agent_detail(conn, agent_id)["team_ids"])
    for team_id in sorted(teams - current):
        add_member(conn, team_id, agent_id, principal.actor)
    for team_id in sorted(current - teams):
        remove_member(conn, team_id, agent_id, principal.actor)


def _values_of(agent: dict[str, Any]) -> dict[str, Any]:
    """An agent as its form shows it."""
    return {
        **{key: agent[key] for key in ("name", "email", "role", "availability", "active")},
        "capacity": str(agent["capacity"]),
        "skills": ", ".join(f"{key}={value}" for key, value in agent["skills"].items()),
        "team": [str(team_id) for team_id in agent["team_ids"]],
    }


def _values(form: FormMultiDict) -> dict[str, Any]:
    """What was typed, to show it again beside the refusal (never the password)."""
    keys = ("name", "email", "role", "availability", "capacity", "skills")
    return {**{key: form.get(key, "") for key in keys}, "team": form.getall("team", []), "active": "active" in form}


async def _index(db: Db, principal: Principal, values: dict[str, Any], error: DomainError | None = None) -> Template:
    def read(conn: Connection) -> dict[str, Any]:
        return {"agents": list_agents(conn), "teams": list_teams(conn)}

    return page("agents", principal, error, values=values, **await db.read(read))


async def _editor(
    db: Db,
    principal: Principal,
    agent_id: int,
    values: dict[str, Any],
    error: DomainError | None = None,
    saved: str | None = None,
) -> Template:
    def read(conn: Connection) -> dict[str, Any]:
        return {"agent": agent_detail(conn, agent_id), "teams": list_teams(conn)}

    return page("agent", principal, error, values=values, saved=saved, **await db.read(read))
