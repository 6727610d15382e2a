"""Admin pages: teams — the list, a new team, and one team's settings: name, assignment strategy
and capacity, reassignment and auto-away, business hours (time zone, weekly hours, holidays) and
the away message, all through `update_team`, as PATCH /api/v1/teams/{id}."""

from __future__ import annotations

import typing
import zoneinfo
from functools import cache
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.response import Redirect, Template
from sqlalchemy import Connection

from frontdesk.actions.teams import create_team, update_team
from frontdesk.api.auth import Principal
from frontdesk.api.deps import Caller, Db
from frontdesk.api.schemas import PathId, TeamBody, TeamPatch
from frontdesk.clock import now
from frontdesk.domain.errors import DomainError
from frontdesk.domain.schedule import DAY_NAMES, WEEKDAYS
from frontdesk.domain.teams import AssignmentSettings
from frontdesk.domain.workflows.durations import format_duration
from frontdesk.store.sql.agents import list_agents
from frontdesk.store.sql.teams import list_teams, team_detail, team_stats
from frontdesk.web.admin.forms import Saved, checked, lines, page, posted
from frontdesk.web.guards import MANAGER

STRATEGIES = typing.get_args(AssignmentSettings.model_fields["strategy"].annotation)
DURATIONS = ("relax_skills_after", "reassign_after", "auto_away_after")
CHECKBOXES = ("requeue_on_unavailable", "away_once")
DAYS = list(zip(WEEKDAYS, DAY_NAMES, strict=True))


class TeamPages(Controller):
    path = "/admin/teams"
    include_in_schema = False
    opt = MANAGER

    @get("/")
    async def index(self, db: Db, principal: Caller) -> Template:
        return await _index(db, principal, {})

    @post("/", status_code=303)
    async def create(self, request: Request[Any, Any, Any], db: Db, principal: Caller) -> Response[Any]:
        form = await posted(request)
        try:
            body = checked(TeamBody, {"name": form.get("name", "")})
            team_id = await db.write(lambda c: create_team(c, principal.actor, body.name))
        except DomainError as exc:
            return await _index(db, principal, {"name": form.get("name", "")}, exc)
        return Redirect(f"/admin/teams/{team_id}?saved=created", status_code=303)

    @get("/{team_id:int}")
    async def edit(self, db: Db, principal: Caller, team_id: PathId, saved: Saved = None) -> Template:
        team = await db.read(lambda c: team_detail(c, team_id))
        return await _editor(db, principal, team_id, _values_of(team), saved=saved)

    @post("/{team_id:int}", status_code=303)
    async def save(self, request: Request[Any, Any, Any], db: Db, principal: Caller, team_id: PathId) -> Response[Any]:
        form = await posted(request)
        try:
            changes = checked(TeamPatch, _team_changes(form)).model_dump(exclude_unset=True)
            await db.write(lambda c: update_team(c, team_id, principal.actor, changes))
        except DomainError as exc:
            return await _editor(db, principal, team_id, _values(form), error=exc)
        return Redirect(f"/admin/teams/{team_id}?saved=1", status_code=303)


def _team_changes(form: FormMultiDict) -> dict[str, Any]:
    """The PATCH body the form stands for. Every setting is on the form, so the assignment
    settings are sent whole; a blank optional one is left to its default."""
    assignment: dict[str, Any] = {key: key in form for key in CHECKBOXES}
    assignment.update({key: form[key] for key in ("strategy", "capacity", *DURATIONS) if key in form})
    hours = None
    if "business_hours" in form:
        weekly = {day: lines(form.get(f"hours_{day}")) for day in WEEKDAYS}
        hours = {
            "timezone": form.get("timezone", ""),
            "hours": {day: intervals for day, intervals in weekly.items() if intervals},
            "holidays": lines(form.get("holidays")),
        }
    return {
        "name": form.get("name", ""),
        "assignment": assignment,
        "business_hours": hours,
        "away_message": form.get("away_message") or None,
    }


def _values_of(team: dict[str, Any]) -> dict[str, Any]:
    """A team as its form shows it."""
    settings = AssignmentSettings.model_validate(team["assignment"])
    hours = team["business_hours"] or {}
    return {
        "name": team["name"],
        "strategy": settings.strategy,
        "capacity": "" if settings.capacity is None else str(settings.capacity),
        **{key: _duration(getattr(settings, key)) for key in DURATIONS},
        **{key: getattr(settings, key) for key in CHECKBOXES},
        "business_hours": bool(team["business_hours"]),
        "timezone": hours.get("timezone", "UTC"),
        **{f"hours_{day}": ", ".join(hours.get("hours", {}).get(day, [])) for day in WEEKDAYS},
        "holidays": ", ".join(str(day) for day in hours.get("holidays", [])),
        "away_message": team["away_message"] or "",
    }


def _values(form: FormMultiDict) -> dict[str, Any]:
    """What was typed, to show it again beside the refusal."""
    texts = ("name", "strategy", "capacity", *DURATIONS, "timezone", "holidays", "away_message")
    return {
        **{key: form.get(key, "") for key in texts},
        **{f"hours_{day}": form.get(f"hours_{day}", "") for day in WEEKDAYS},
        **{key: key in form for key in (*CHECKBOXES, "business_hours")},
    }


def _duration(seconds: float | None) -> str:
    return "" if seconds is None else format_duration(seconds)


@cache
def _time_zones() -> list[str]:
    return sorted(zoneinfo.available_timezones())


async def _index(db: Db, principal: Principal, values: dict[str, Any], error: DomainError | None = None) -> Template:
    def read(conn: Connection) -> dict[str, Any]:
        return {"teams": list_teams(conn), "agents": list_agents(conn)}

    return page("teams", principal, error, values=values, **await db.read(read))


async def _editor(
    db: Db,
    principal: Principal,
    team_id: int,
    values: dict[str, Any],
    error: DomainError | None = None,
    saved: str | None = None,
) -> Template:
    def read(conn: Connection) -> dict[str, Any]:
        return {
            "team": team_detail(conn, team_id),
            "stats": team_stats(conn, team_id, now()),
        }

    context = {"strategies": STRATEGIES, "days": DAYS, "time_zones": _time_zones(), **await db.read(read)}
    return page("team", principal, error, values=values, saved=saved, **context)
