"""The reports page for managers and admins: the API's figures (api/reports.py), the same range
and filters, drawn as SVG charts (web/charts.py) beside their tables and a CSV link."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, get
from litestar.response import Template
from sqlalchemy import Connection

from frontdesk.api import reports as api
from frontdesk.api.deps import Db
from frontdesk.domain.report_figures import Duration
from frontdesk.domain.reports import BOUNDS
from frontdesk.store import run_queries
from frontdesk.store.sql import reports
from frontdesk.web import charts
from frontdesk.web.guards import MANAGER


class ReportPages(Controller):
    path = "/reports"
    include_in_schema = False
    opt = MANAGER

    @get("/")
    async def conversations(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        first: api.First = None,
        last: api.Last = None,
        period: api.Period = "day",
        team_id: api.Filter = None,
        channel_id: api.Filter = None,
        agent_id: api.Filter = None,
    ) -> Template:
        api.check_parameters(request)
        span = api.span(request, first, last, period)
        filters = reports.Filters(team_id, channel_id, agent_id)
        at = request.app.state.clock()

        def read(conn: Connection) -> dict[str, Any]:
            return {
                "found": api.report(conn, span, filters, at),
                "names": reports.names(conn),
                "workflows": [w for w in run_queries.list_workflows(conn) if w["published_version"]],
            }

        context = await db.read(read)
        found: api.Report = context["found"]
        chosen = {"team_id": team_id, "channel_id": channel_id, "agent_id": agent_id}
        query: dict[str, object] = {"from": found["from"], "to": found["to"], "period": period}
        query |= {key: value for key, value in chosen.items() if value is not None}
        return Template(
            "reports.html",
            context={
                **context,
                "chosen": chosen,
                "csv_url": f"/api/v1/reports/conversations.csv?{urlencode(query)}",
                "series_chart": charts.columns(found["series"], ("opened", "closed")),
                "channel_chart": _by(found["by_channel"]),
                "team_chart": _by(found["by_team"]),
                "agent_chart": _by(found["by_agent"]),
                "times": [_time(metric, d) for metric, d in found["durations"].items()],
                "agents": [_agent(a) for a in found["agents"]],
            },
        )


def _by(counts: list[api.Count]) -> charts.Chart:
    return charts.rows([(c["name"] or "none", c["opened"]) for c in counts])


def _time(metric: str, found: Duration) -> dict[str, object]:
    within = found["within_target"]
    target = readable(found["target_seconds"], 1).removeprefix("≤ ")
    return {
        "name": metric.replace("_", " ").capitalize(),
        "count": found["count"],
        "p50": readable(found["p50_seconds"], found["count"]),
        "p90": readable(found["p90_seconds"], found["count"]),
        "within": "—" if within is None else f"{within:.1%} within {target}",
    }


def _agent(found: api.AgentTime) -> dict[str, object]:
    return {
        "name": found["name"] or f"#{found['id']}",
        "online": hours_and_minutes(found["online_seconds"]),
        "away": hours_and_minutes(found["away_seconds"]),
        "opened": found["opened"],
        "closed": found["closed"],
    }


def hours_and_minutes(seconds: int) -> str:
    """A time spent, as a person reads it: "7 h 30 min", "45 min", "0 min"."""
    hours, minutes = divmod(seconds // 60, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def readable(seconds: int | None, count: int) -> str:
    """A bucket's bound as a person reads it: "≤ 5 min"; over the last bucket, "> 7 d"."""
    if not count:
        return "—"
    if seconds is None:
        return f"> {BOUNDS[-1] // 86400} d"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"≤ {seconds // size} {unit}"
    return f"≤ {seconds} s"
