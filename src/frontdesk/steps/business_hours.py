"""business_hours: open / closed / holiday branches from a weekly schedule in a time zone.

It also sets `vars.next_open` (e.g. "Monday 09:00") for an away message.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from frontdesk.steps._fields import Target
from frontdesk.steps.base import Outcome, Runtime, Signal, StepConfig, register

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
INTERVAL = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")


class Config(StepConfig):
    type: Literal["business_hours"] = "business_hours"
    timezone: str = "UTC"
    hours: dict[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"], list[str]] = Field(
        description='per weekday, intervals like "09:00-17:30"; a missing day is closed'
    )
    holidays: list[dt.date] = Field(default_factory=list, max_length=400)
    next: Target = None
    on_closed: Target = None
    on_holiday: Target = None

    def targets(self) -> dict[str, str | None]:
        return {"open": self.next, "closed": self.on_closed, "holiday": self.on_holiday}

    def fields_written(self) -> list[str]:
        return ["vars.next_open"]

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        zone(value)
        return value

    @field_validator("hours")
    @classmethod
    def _intervals(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for day, intervals in value.items():
            for interval in intervals:
                parsed = INTERVAL.match(interval)
                if not parsed or parsed.group(1, 2) >= parsed.group(3, 4):
                    raise ValueError(f"{day}: {interval!r} is not an interval like 09:00-17:30")
        return value


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (use an IANA name such as Europe/Paris)") from None


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def is_open(config: Config, local: dt.datetime) -> bool:
    now = local.hour * 60 + local.minute
    for interval in config.hours.get(DAYS[local.weekday()], []):  # type: ignore[call-overload]
        start, end = interval.split("-")
        if _minutes(start) <= now < _minutes(end):
            return True
    return False


def next_opening(config: Config, local: dt.datetime) -> dt.datetime | None:
    """The next time the schedule opens, within two weeks (None if it never does)."""
    for offset in range(15):
        day = local.date() + dt.timedelta(days=offset)
        if day in config.holidays:
            continue
        for interval in sorted(config.hours.get(DAYS[day.weekday()], [])):  # type: ignore[call-overload]
            start = _minutes(interval.split("-")[0])
            opening = dt.datetime.combine(day, dt.time(start // 60, start % 60), local.tzinfo)
            if opening > local:
                return opening
    return None


def execute(config: Config, runtime: Runtime, signal: Signal) -> Outcome:
    local = runtime.now.astimezone(zone(config.timezone))
    opening = next_opening(config, local)
    runtime.set_var("next_open", opening.strftime("%A %H:%M") if opening else None)
    output = {"local_time": local.isoformat(timespec="minutes"), "next_open": opening and opening.isoformat()}
    if local.date() in config.holidays:
        branch = "holiday" if config.on_holiday is not None else "closed"
        return Outcome(branch, f"{local.date()} is a holiday", output)
    if is_open(config, local):
        return Outcome("open", f"open at {local:%a %H:%M} {config.timezone}", output)
    return Outcome("closed", f"closed at {local:%a %H:%M} {config.timezone}", output)


register(Config, execute)
