"""The workflow funnel of one version (ADR 0011), as JSON and as CSV, for managers and admins: how
many runs started in the range came to each step, which branch they took, how many timed out,
failed or were abandoned there, and how long they stayed. Read from the funnel's counters; the
page (web/funnel.py) draws the same figures on the workflow's drawing."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from typing import Annotated, Any, TypedDict

from litestar import Controller, Request, get
from litestar.params import QueryParameter
from sqlalchemy import Connection

from frontdesk.api import reports as conversation_report
from frontdesk.api.deps import Db
from frontdesk.api.schemas import PathId
from frontdesk.domain import report_figures as figures
from frontdesk.domain.errors import InvalidInput
from frontdesk.domain.funnel import Measure
from frontdesk.domain.model import Role
from frontdesk.domain.reports import OVERFLOW
from frontdesk.store import run_queries
from frontdesk.store.sql import funnel
from frontdesk.workflows.definition import parse

PARAMETERS = frozenset({"from", "to", "version"})
Version = Annotated[
    int | None, QueryParameter(ge=1, le=100_000, description="the version's number; default: the published one")
]


class Branch(TypedDict):
    branch: str
    target: str | None  # the step it leads to; None: the run ended
    count: int


class Time(TypedDict):
    count: int  # runs that left the step
    p50_seconds: int | None  # the upper bound of the bucket the median falls in; None: over 7 days or none
    p90_seconds: int | None


class Step(TypedDict):
    id: str
    type: str
    label: str | None
    entered: int  # a run looping back to the step counts again
    waiting: int  # still there (entered and not left yet)
    timed_out: int  # left by the `timed_out` branch (a question or the queue)
    failed: int
    abandoned: int  # the conversation was closed while the run waited there
    branches: list[Branch]
    time: Time


Funnel = TypedDict(
    "Funnel",
    {
        "workflow_id": int,
        "workflow": str,
        "version": int,
        "versions": list[int],
        "from": str,
        "to": str,
        "time_zone": str,
        "runs": int,
        "steps": list[Step],
    },
)


def read(conn: Connection, workflow_id: int, number: int | None, span: figures.Span) -> Funnel:
    """The funnel of version `number` (default: the published, else the newest) over the runs
    started in `span`; NotFound for a workflow that does not exist, InvalidInput naming `version`."""
    detail = run_queries.workflow_detail(conn, workflow_id)
    numbers = [int(v["number"]) for v in detail["versions"]]
    number = number or detail["published_version"] or (numbers[-1] if numbers else None)
    if number is None:
        raise InvalidInput("no_version", f"workflow {workflow_id} has no version yet: publish it first", "version")
    if number not in numbers:
        raise InvalidInput("unknown_version", f"workflow {workflow_id} has no version {number}", "version")
    version_id = next(int(v["id"]) for v in detail["versions"] if v["number"] == number)
    definition = parse(run_queries.version_definition(conn, workflow_id, number))
    counts = _by_step(funnel.sums(conn, version_id, span.hours))
    return {
        "workflow_id": workflow_id,
        "workflow": detail["name"],
        "version": number,
        "versions": numbers,
        "from": span.first.isoformat(),
        "to": span.last.isoformat(),
        "time_zone": str(span.zone),
        "runs": counts[""][Measure.STARTED, ""],
        "steps": [_step(step, counts[step.id]) for step in definition.steps.values()],
    }


def _by_step(sums: list[tuple[str, str, str, int, int]]) -> dict[str, dict[tuple[str, Any], int]]:
    """{step id: {(measure, label or bucket): count}}"""
    found: dict[str, dict[tuple[str, Any], int]] = defaultdict(lambda: defaultdict(int))
    for step, measure, label, bucket, count in sums:
        found[step][measure, bucket if measure == Measure.TIME else label] += count
    return found


def _step(step: Any, counts: dict[tuple[str, Any], int]) -> Step:
    targets: dict[str, str | None] = step.targets()
    taken = {label: n for (measure, label), n in counts.items() if measure == Measure.LEFT}
    labels = list(targets) + sorted(set(taken) - set(targets))
    histogram = [counts[Measure.TIME, bucket] for bucket in range(OVERFLOW + 1)]
    left = sum(taken.values())
    failed, abandoned = counts[Measure.FAILED, ""], counts[Measure.ABANDONED, ""]
    entered = counts[Measure.ENTERED, ""]
    return {
        "id": step.id,
        "type": step.type,
        "label": step.label,
        "entered": entered,
        "waiting": max(entered - left - failed - abandoned, 0),
        "timed_out": taken.get("timed_out", 0),
        "failed": failed,
        "abandoned": abandoned,
        "branches": [{"branch": b, "target": targets.get(b), "count": taken.get(b, 0)} for b in labels],
        "time": {
            "count": sum(histogram),
            "p50_seconds": figures.percentile(histogram, sum(histogram), 0.5),
            "p90_seconds": figures.percentile(histogram, sum(histogram), 0.9),
        },
    }


def as_csv(found: Funnel) -> str:
    """One row per number: step, type, measure, label, value (the first row: the runs started)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("step", "type", "measure", "label", "value"))
    writer.writerow(("", "", "runs", "", found["runs"]))
    for step in found["steps"]:
        for measure in ("entered", "waiting", "timed_out", "failed", "abandoned"):
            writer.writerow((step["id"], step["type"], measure, "", step[measure]))
        writer.writerows((step["id"], step["type"], "branch", b["branch"], b["count"]) for b in step["branches"])
        for measure, value in step["time"].items():
            writer.writerow((step["id"], step["type"], f"time_{measure}", "", "" if value is None else value))
    return out.getvalue()


def check_parameters(request: Request[Any, Any, Any]) -> None:
    conversation_report.check_parameters(request, PARAMETERS)


async def load(
    request: Request[Any, Any, Any],
    db: Db,
    workflow_id: int,
    version: int | None,
    first: dt.date | None,
    last: dt.date | None,
) -> Funnel:
    check_parameters(request)
    span = conversation_report.span(request, first, last, "day")
    return await db.read(lambda c: read(c, workflow_id, version, span))


class FunnelController(Controller):
    path = "/api/v1/reports/workflows"
    tags = ["reports"]

    @get("/{workflow_id:int}/funnel", opt={"role": Role.MANAGER})
    async def funnel(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        workflow_id: PathId,
        version: Version = None,
        first: conversation_report.First = None,
        last: conversation_report.Last = None,
    ) -> Funnel:
        """The workflow funnel of one version over the runs started from `from` to `to` (days in
        the workspace's time zone, at most 366): per step, the runs that came to it, the branches
        they took, how many timed out, failed or were abandoned there (conversation closed while
        waiting), how many wait there still, and the time they stayed (p50, p90: the upper bound
        of a histogram bucket, 15 s to 7 days)."""
        return await load(request, db, workflow_id, version, first, last)

    # A session too: the funnel page links to it (web/funnel.py).
    @get(
        "/{workflow_id:int}/funnel.csv",
        opt={"role": Role.MANAGER, "auth": "token_or_session"},
        media_type="text/csv",
    )
    async def funnel_csv(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        workflow_id: PathId,
        version: Version = None,
        first: conversation_report.First = None,
        last: conversation_report.Last = None,
    ) -> str:
        """The same funnel as CSV: one row per number (step, type, measure, label, value)."""
        return as_csv(await load(request, db, workflow_id, version, first, last))
