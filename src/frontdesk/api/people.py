"""Agents and teams."""

from __future__ import annotations

from typing import Any, cast

from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.openapi import ResponseSpec
from litestar.params import JSONBody

from frontdesk.actions.agents import create_agent, update_agent
from frontdesk.actions.teams import add_member, create_team, remove_member, update_team
from frontdesk.api.deps import Caller, Db
from frontdesk.api.responses import QueueEntry, TeamStats
from frontdesk.api.schemas import AgentBody, AgentPatch, MemberBody, PathId, TeamBody, TeamPatch
from frontdesk.clock import now
from frontdesk.domain.model import Role
from frontdesk.domain.people import check_may_change_agent, check_may_create_agent
from frontdesk.store.sql.agents import agent_detail, list_agents
from frontdesk.store.sql.teams import list_teams, team_detail, team_queue, team_stats


class AgentController(Controller):
    path = "/api/v1/agents"
    tags = ["agents"]

    @get("/")
    async def list_agents(self, db: Db) -> list[dict[str, Any]]:
        return await db.read(list_agents)

    @get("/{agent_id:int}")
    async def get_agent(self, db: Db, agent_id: PathId) -> dict[str, Any]:
        return await db.read(lambda c: agent_detail(c, agent_id))

    @post("/", opt={"role": Role.MANAGER})
    async def create(self, db: Db, principal: Caller, data: JSONBody[AgentBody]) -> dict[str, Any]:
        check_may_create_agent(principal.role, data.role)
        agent_id = await db.write(lambda c: create_agent(c, principal.actor, **data.model_dump()))
        return await db.read(lambda c: agent_detail(c, agent_id))

    @patch("/{agent_id:int}")
    async def update(
        self, request: Request[Any, Any, Any], db: Db, principal: Caller, agent_id: PathId, data: JSONBody[AgentPatch]
    ) -> dict[str, Any]:
        """Managers change anything but roles, which only admins change; an agent may change
        only their own availability."""
        changes = data.model_dump(exclude_unset=True)
        check_may_change_agent(principal.role, principal.agent_id, agent_id, changes)
        await db.write(lambda c: update_agent(c, agent_id, principal.actor, changes))
        request.app.state.authenticator.forget_agent(agent_id)
        return await db.read(lambda c: agent_detail(c, agent_id))


class TeamController(Controller):
    path = "/api/v1/teams"
    tags = ["teams"]

    @get("/")
    async def list_teams(self, db: Db) -> list[dict[str, Any]]:
        return await db.read(list_teams)

    @get("/{team_id:int}")
    async def get_team(self, db: Db, team_id: PathId) -> dict[str, Any]:
        return await db.read(lambda c: team_detail(c, team_id))

    @post("/", opt={"role": Role.MANAGER})
    async def create(self, db: Db, principal: Caller, data: JSONBody[TeamBody]) -> dict[str, Any]:
        team_id = await db.write(
            lambda c: create_team(
                c, principal.actor, data.name, data.assignment, data.business_hours, data.away_message
            )
        )
        return await db.read(lambda c: team_detail(c, team_id))

    @patch("/{team_id:int}", opt={"role": Role.MANAGER})
    async def update(self, db: Db, principal: Caller, team_id: PathId, data: JSONBody[TeamPatch]) -> dict[str, Any]:
        """Name, assignment settings, business hours (null removes them), away message."""
        changes = data.model_dump(exclude_unset=True)
        await db.write(lambda c: update_team(c, team_id, principal.actor, changes))
        return await db.read(lambda c: team_detail(c, team_id))

    @get("/{team_id:int}/queue")
    async def queue(self, db: Db, team_id: PathId) -> list[QueueEntry]:
        """Conversations waiting for an agent of the team, in the order they will be served."""
        return cast(list[QueueEntry], await db.read(lambda c: team_queue(c, team_id)))

    @get("/{team_id:int}/stats")
    async def stats(self, db: Db, team_id: PathId) -> TeamStats:
        """Live figures: queue length, longest wait, agents online, open conversations per agent."""
        return cast(TeamStats, await db.read(lambda c: team_stats(c, team_id, now())))

    @put(
        "/{team_id:int}/members/{agent_id:int}",
        opt={"role": Role.MANAGER},
        responses={201: ResponseSpec(dict[str, Any], description="Added: the team")},
    )
    async def add(
        self, db: Db, principal: Caller, team_id: PathId, agent_id: PathId, data: JSONBody[MemberBody | None] = None
    ) -> Response[dict[str, Any]]:
        """Add a member, optionally with a capacity for this team (set again to change it)."""
        capacity = data.capacity if data else None
        added = await db.write(lambda c: add_member(c, team_id, agent_id, principal.actor, capacity))
        team = await db.read(lambda c: team_detail(c, team_id))
        return Response(team, status_code=201 if added else 200)

    @delete("/{team_id:int}/members/{agent_id:int}", opt={"role": Role.MANAGER})
    async def remove(self, db: Db, principal: Caller, team_id: PathId, agent_id: PathId) -> None:
        await db.write(lambda c: remove_member(c, team_id, agent_id, principal.actor))
