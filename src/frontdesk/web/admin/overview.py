"""Admin overview: each team's live figures (queue, longest wait, who is online and how loaded), and the
outgoing webhooks that failures disabled."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get
from litestar.response import Template
from sqlalchemy import Connection

from frontdesk.api.deps import Caller, Db
from frontdesk.clock import now
from frontdesk.store.sql.teams import list_teams, team_stats
from frontdesk.store.sql.webhooks import disabled_subscriptions
from frontdesk.web.admin.forms import page
from frontdesk.web.guards import MANAGER


class AdminOverview(Controller):
    path = "/admin"
    include_in_schema = False
    opt = MANAGER

    @get("/")
    async def overview(self, db: Db, principal: Caller) -> Template:
        def read(conn: Connection) -> dict[str, Any]:
            at = now()
            teams = list_teams(conn)
            return {
                "teams": [{**t, "stats": team_stats(conn, t["id"], at)} for t in teams],
                "disabled_webhooks": disabled_subscriptions(conn),
            }

        return page("overview", principal, **await db.read(read))
