"""Admin pages for managers: agents, teams with their live queue figures, channels, API tokens."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get
from litestar.response import Template

from frontdesk.api.deps import Db
from frontdesk.clock import now
from frontdesk.domain.model import Role
from frontdesk.store import queries, team_queries


class AdminPages(Controller):
    path = "/admin"
    include_in_schema = False
    opt = {"auth": "session", "role": Role.MANAGER}

    @get("/")
    async def overview(self, db: Db) -> Template:
        def read(conn: Any) -> dict[str, Any]:
            at = now()
            teams = queries.list_teams(conn)
            return {
                "agents": queries.list_agents(conn),
                "teams": [{**t, "stats": team_queries.team_stats(conn, t["id"], at)} for t in teams],
                "channels": queries.list_channels(conn),
                "tokens": queries.list_tokens(conn),
            }

        return Template("admin.html", context=await db.read(read))
