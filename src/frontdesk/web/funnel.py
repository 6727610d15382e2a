"""The workflow funnel page for managers and admins: the API's figures (api/funnel.py) written on
the workflow's own drawing (web/flow.py) — runs at each step, the count on each branch, the steps
where runs were lost marked — beside a table and a CSV link."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, get
from litestar.response import Template

from frontdesk.api import funnel as api
from frontdesk.api import reports as conversation_report
from frontdesk.api.deps import Db
from frontdesk.api.schemas import PathId
from frontdesk.store import run_queries
from frontdesk.web import flow
from frontdesk.web.guards import MANAGER
from frontdesk.web.reports import readable


class FunnelPages(Controller):
    path = "/reports/workflows"
    include_in_schema = False
    opt = MANAGER

    @get("/{workflow_id:int}/funnel")
    async def funnel(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        workflow_id: PathId,
        version: api.Version = None,
        first: conversation_report.First = None,
        last: conversation_report.Last = None,
    ) -> Template:
        found = await api.load(request, db, workflow_id, version, first, last)
        definition = await db.read(lambda c: run_queries.version_definition(c, workflow_id, found["version"]))
        query = urlencode({"version": found["version"], "from": found["from"], "to": found["to"]})
        return Template(
            "funnel.html",
            context={
                "found": found,
                "drawing": flow.render(definition, notes=notes(found)),
                "rows": [_row(step) for step in found["steps"]],
                "csv_url": f"/api/v1/reports/workflows/{workflow_id}/funnel.csv?{query}",
            },
        )


def notes(found: api.Funnel) -> flow.Notes:
    """The funnel's figures as the drawing shows them."""
    lines: dict[str, list[str]] = {}
    counts: dict[tuple[str, str], int] = {}
    alerts = set()
    for step in found["steps"]:
        row = _row(step)
        lines[step["id"]] = [f"{step['entered']} in · {row['median']}", row["lost"] or "none lost"]
        counts |= {(step["id"], b["branch"]): b["count"] for b in step["branches"]}
        if step["timed_out"] or step["abandoned"] or step["failed"]:
            alerts.add(step["id"])
    return flow.Notes(lines, counts, frozenset(alerts))


def _row(step: api.Step) -> dict[str, Any]:
    """A step's figures as words: the median's bucket, and where runs were lost."""
    lost = [
        f"{n} {what}"
        for n, what in ((step["timed_out"], "timed out"), (step["abandoned"], "abandoned"), (step["failed"], "failed"))
        if n
    ]
    time = step["time"]
    return {
        **step,
        "median": "median " + readable(time["p50_seconds"], time["count"]),
        "p90": readable(time["p90_seconds"], time["count"]),
        "lost": ", ".join(lost),
    }
