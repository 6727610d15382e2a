"""The conversation report, as JSON and as CSV (the same figures, one row per number), for
managers and admins. Read from the rollups (ADR 0010): the daily counters for a daily or weekly
series and every other sum, the hourly ones for an hourly series; the page (web/reports.py) shows
the same."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Collection
from typing import Annotated, Any, TypedDict

from litestar import Controller, Request, get
from litestar.params import QueryParameter
from sqlalchemy import Connection

from frontdesk.api.deps import Db
from frontdesk.api.schemas import MAX_ID
from frontdesk.domain import agent_time, csat
from frontdesk.domain import report_figures as figures
from frontdesk.domain.errors import DomainError, InvalidInput
from frontdesk.domain.model import Role
from frontdesk.domain.reports import DURATIONS, NONE, Metric
from frontdesk.store.sql import report_agents, report_days, reports

PARAMETERS = frozenset({"from", "to", "period", "team_id", "channel_id", "agent_id"})
DEFAULT_DAYS = 7
First = Annotated[dt.date | None, QueryParameter(name="from", description="first day, in the workspace's time zone")]
Last = Annotated[dt.date | None, QueryParameter(name="to", description="last day (included); default: today")]
Period = Annotated[figures.Period, QueryParameter(description="what each point of the series covers")]
Filter = Annotated[int | None, QueryParameter(ge=1, le=MAX_ID)]


class Count(TypedDict):
    id: int | None  # None: no team / agent (yet)
    name: str | None
    opened: int
    closed: int


class AgentTime(TypedDict):
    id: int
    name: str | None
    online_seconds: int  # in the range, the still-open interval counted up to now
    away_seconds: int
    opened: int  # the conversations handled: the agent's by_agent counts
    closed: int


class CsatOf(TypedDict):
    id: int | None  # None: no team / agent
    name: str | None
    responses: int
    average: float | None
    satisfied: float | None


class Csat(csat.Summary):
    by_team: list[CsatOf]
    by_agent: list[CsatOf]


class BySource(TypedDict):
    source: str
    opened: int


class ByCategory(TypedDict):
    category: str | None
    closed: int


# "from" is a keyword: the functional form names the key as the query parameter is named.
Report = TypedDict(
    "Report",
    {
        "from": str,
        "to": str,
        "time_zone": str,
        "period": str,
        "totals": dict[str, int],
        "series": list[figures.Point],
        "by_channel": list[Count],
        "by_team": list[Count],
        "by_agent": list[Count],
        "by_source": list[BySource],
        "by_category": list[ByCategory],
        "durations": dict[str, figures.Duration],
        "agents": list[AgentTime],
        "csat": Csat,
    },
)


class UnknownParameter(DomainError):
    """A query parameter the report does not know: refused rather than silently ignored."""


def check_parameters(request: Request[Any, Any, Any], parameters: frozenset[str] = PARAMETERS) -> None:
    unknown = sorted(set(request.query_params) - parameters)
    if unknown:
        known = ", ".join(sorted(parameters))
        raise UnknownParameter("unknown_parameter", f"unknown parameter {unknown[0]!r} (known: {known})", unknown[0])


def span(
    request: Request[Any, Any, Any], first: dt.date | None, last: dt.date | None, period: figures.Period
) -> figures.Span:
    zone = request.app.state.settings.time_zone
    last = last or request.app.state.clock().astimezone(zone).date()
    return figures.check_span(first or last - dt.timedelta(days=DEFAULT_DAYS - 1), last, zone, period)


def report(conn: Connection, span: figures.Span, filters: reports.Filters, at: dt.datetime) -> Report:
    """The figures of `span` under `filters`, agents' time counted up to `at` (now); InvalidInput
    naming a filter that names nothing."""
    names = reports.names(conn)
    for kind, value in (("team", filters.team_id), ("channel", filters.channel_id), ("agent", filters.agent_id)):
        if value is not None and value not in names[kind]:
            raise InvalidInput(f"unknown_{kind}", f"{kind} {value} does not exist", f"{kind}_id")
    sums = _reader(conn, span, filters, names)
    series = _series(conn, span, filters)
    by_agent = _counts(sums, "agent", names["agent"])
    return {
        "from": span.first.isoformat(),
        "to": span.last.isoformat(),
        "time_zone": str(span.zone),
        "period": span.period,
        "totals": {key: sum(point[key] for point in series) for key in ("opened", "closed")},
        "series": series,
        "by_channel": _counts(sums, "channel", names["channel"]),
        "by_team": _counts(sums, "team", names["team"]),
        "by_agent": by_agent,
        "by_source": [{"source": value, "opened": count} for _, value, count in sums((Metric.OPENED,), "label")],
        "by_category": [
            {"category": value or None, "closed": count} for _, value, count in sums((Metric.CLOSED,), "label")
        ],
        "durations": figures.durations(sums(DURATIONS, "bucket")),
        "agents": _agent_time(conn, span, filters, names["agent"], by_agent, at),
        "csat": _csat(conn, span, filters, names, sums),
    }


# (metrics, column) -> (metric, value of the column, count) summed over a report's range and filters
Sums = Callable[[Collection[str], str], list[tuple[Any, ...]]]
_COUNTED = (Metric.OPENED, Metric.CLOSED)


def _days_counted(conn: Connection, span: figures.Span) -> bool:
    """Whether the daily counters are counted in the span's zone (not yet after a change of
    FRONTDESK_TIME_ZONE, until the consumer has counted them again): else the hourly ones are read."""
    return report_days.whole_in(conn, str(span.zone))


def _reader(conn: Connection, span: figures.Span, filters: reports.Filters, names: dict[str, dict[int, str]]) -> Sums:
    """The sums of a report: from the daily counters (a few rows per day whatever the filters, ADR
    0010), or from the hourly ones while the days are counted in another zone."""
    if not _days_counted(conn, span):
        return lambda metrics, column: reports.sums_by(conn, span.hours, filters, metrics, column)

    def by_day(metrics: Collection[str], column: str) -> list[tuple[Any, ...]]:
        kind = column.removesuffix("_id")
        ids = [*names[kind], NONE] if kind in names else []
        return report_days.sums_by(conn, span.days, filters, metrics, column, ids)

    return by_day


def _series(conn: Connection, span: figures.Span, filters: reports.Filters) -> list[figures.Point]:
    if span.period != "hour" and _days_counted(conn, span):
        return figures.series_of_days(span, report_days.sums_by(conn, span.days, filters, _COUNTED, "day"))
    return figures.series(span, reports.sums_by(conn, span.hours, filters, _COUNTED, "hour"))


def _counts(sums: Sums, kind: str, names: dict[int, str]) -> list[Count]:
    return [
        {"id": None if key == NONE else key, "name": names.get(key), "opened": n["opened"], "closed": n["closed"]}
        for key, n in figures.breakdown(sums(_COUNTED, f"{kind}_id")).items()
    ]


def _csat(
    conn: Connection, span: figures.Span, filters: reports.Filters, names: dict[str, dict[int, str]], sums: Sums
) -> Csat:
    """The ratings of the span: counted in the hour they were given, for the channel, team and agent
    the conversation had then; by team and by agent, each with its own average and share satisfied."""
    overall = csat.summary((bucket, count) for _, bucket, count in sums((Metric.CSAT,), "bucket"))
    by_days = _days_counted(conn, span)

    def by(kind: str) -> list[CsatOf]:
        column = f"{kind}_id"
        if by_days:
            found = report_days.buckets_by(conn, span.days, filters, Metric.CSAT, column, [*names[kind], NONE])
        else:
            found = reports.buckets_by(conn, span.hours, filters, Metric.CSAT, column)
        scores: dict[int, list[tuple[int, int]]] = {}
        for key, bucket, count in found:
            scores.setdefault(key, []).append((bucket, count))
        listed: list[CsatOf] = []
        for key, pairs in scores.items():
            summary = csat.summary(pairs)
            listed.append(
                {
                    "id": None if key == NONE else key,
                    "name": names[kind].get(key),
                    "responses": summary["responses"],
                    "average": summary["average"],
                    "satisfied": summary["satisfied"],
                }
            )
        return listed

    return {**overall, "by_team": by("team"), "by_agent": by("agent")}


def _agent_time(
    conn: Connection,
    span: figures.Span,
    filters: reports.Filters,
    names: dict[int, str],
    handled: list[Count],
    at: dt.datetime,
) -> list[AgentTime]:
    """Each agent's online and away seconds in the span (the still-open interval up to `at`) beside
    the conversations they handled. A team filter: its members now; the channel filter narrows only
    the conversations (time is not spent on a channel). Agents without any figure are left out,
    except those the filter names."""
    chosen = None if filters.agent_id is None else [filters.agent_id]
    if filters.team_id is not None:
        members = report_agents.members(conn, filters.team_id)
        chosen = members if chosen is None else [a for a in chosen if a in members]
    time = agent_time.per_agent(report_agents.seconds_by_agent(conn, span.hours, chosen))
    for presence in report_agents.presences(conn, chosen).values():
        for (agent, _, availability), lasted in agent_time.lasted(presence, at, span.hours).items():
            time.setdefault(agent, dict.fromkeys(agent_time.COUNTED, 0))[availability] += lasted
    counts = {c["id"]: c for c in handled if c["id"] is not None}
    shown = {*time, *counts, *(chosen or ())}
    found: list[AgentTime] = []
    for agent in sorted(shown, key=lambda a: (names.get(a) or "", a)):
        seconds, count = time.get(agent, {}), counts.get(agent)
        found.append(
            {
                "id": agent,
                "name": names.get(agent),
                "online_seconds": seconds.get("online", 0),
                "away_seconds": seconds.get("away", 0),
                "opened": count["opened"] if count else 0,
                "closed": count["closed"] if count else 0,
            }
        )
    return found


def as_csv(found: Report) -> str:
    """One row per number of the report: section, key, name, measure, value."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("section", "key", "name", "measure", "value"))
    for measure, value in found["totals"].items():
        writer.writerow(("totals", "", "", measure, value))
    for point in found["series"]:
        writer.writerows(("series", point["start"], "", measure, point[measure]) for measure in ("opened", "closed"))
    for section in ("by_channel", "by_team", "by_agent"):
        for count in found[section]:
            key = "" if count["id"] is None else count["id"]
            name = _cell(count["name"] or "")
            writer.writerows((section, key, name, m, count[m]) for m in ("opened", "closed"))
    writer.writerows(("by_source", item["source"], "", "opened", item["opened"]) for item in found["by_source"])
    for item in found["by_category"]:
        writer.writerow(("by_category", _cell(item["category"] or ""), "", "closed", item["closed"]))
    for metric, duration in found["durations"].items():
        writer.writerows(
            ("durations", metric, "", measure, "" if value is None else value) for measure, value in duration.items()
        )
    for agent in found["agents"]:
        key, name = agent["id"], _cell(agent["name"] or "")
        writer.writerow(("agents", key, name, "online_seconds", agent["online_seconds"]))
        writer.writerow(("agents", key, name, "away_seconds", agent["away_seconds"]))
        writer.writerows(("agents", key, name, m, agent[m]) for m in ("opened", "closed"))
    _csat_rows(writer, found["csat"])
    return out.getvalue()


def _csat_rows(writer: Any, found: Csat) -> None:
    """`csat,,,responses,3`, `csat,,,score_4,2`; `csat_by_team,2,Support,average,4.5`; an absent
    average or share (no response) is an empty cell, as in the durations."""
    _csat_measures(writer, "csat", "", "", found["responses"], found["average"], found["satisfied"])
    writer.writerows(("csat", "", "", f"score_{score}", count) for score, count in found["distribution"].items())
    for section, items in (("csat_by_team", found["by_team"]), ("csat_by_agent", found["by_agent"])):
        for item in items:
            key = "" if item["id"] is None else item["id"]
            name = _cell(item["name"] or "")
            _csat_measures(writer, section, key, name, item["responses"], item["average"], item["satisfied"])


def _csat_measures(
    writer: Any, section: str, key: object, name: str, responses: int, average: float | None, satisfied: float | None
) -> None:
    for measure, value in (("responses", responses), ("average", average), ("satisfied", satisfied)):
        writer.writerow((section, key, name, measure, "" if value is None else value))


def _cell(text: str) -> str:
    """A name as a spreadsheet shows it, never runs it: a leading = + - @ is quoted."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text


class ReportController(Controller):
    path = "/api/v1/reports"
    tags = ["reports"]

    @get("/conversations", opt={"role": Role.MANAGER})
    async def conversations(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        first: First = None,
        last: Last = None,
        period: Period = "day",
        team_id: Filter = None,
        channel_id: Filter = None,
        agent_id: Filter = None,
    ) -> Report:
        """Conversations opened and closed per period, by channel, team, agent, source and closing
        category; time to assignment, first response, resolution and queue wait (p50, p90, share
        within target). Dates are days in the workspace's time zone (FRONTDESK_TIME_ZONE); at most
        366 days, 31 for an hourly series. A filter keeps the conversations now of that team,
        channel or agent. `agents`: each agent's seconds online and away in the range (the current
        availability counted up to now) and the conversations they handled; a team filter shows its
        members now. `csat`: the contacts' ratings given in the range (responses, average, share
        satisfied, i.e. 4 or 5, and the count of each score), by team and agent."""
        return await _read(request, db, first, last, period, reports.Filters(team_id, channel_id, agent_id))

    # A session too: the reports page links to it (web/reports.py).
    @get("/conversations.csv", opt={"role": Role.MANAGER, "auth": "token_or_session"}, media_type="text/csv")
    async def conversations_csv(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        first: First = None,
        last: Last = None,
        period: Period = "day",
        team_id: Filter = None,
        channel_id: Filter = None,
        agent_id: Filter = None,
    ) -> str:
        """The same report as CSV: one row per number (section, key, name, measure, value)."""
        filters = reports.Filters(team_id, channel_id, agent_id)
        return as_csv(await _read(request, db, first, last, period, filters))


async def _read(
    request: Request[Any, Any, Any],
    db: Db,
    first: dt.date | None,
    last: dt.date | None,
    period: figures.Period,
    filters: reports.Filters,
) -> Report:
    check_parameters(request)
    found = span(request, first, last, period)
    at = request.app.state.clock()
    return await db.read(lambda c: report(c, found, filters, at))
