"""Business hours: a weekly schedule of local opening intervals in one time zone, with holidays.

A pure value: whether it is open at an instant and when it next opens follow from the instant alone.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterator
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Status = Literal["open", "closed", "holiday"]

WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
SEARCH_DAYS = 366

_INTERVAL = re.compile(r"^((?:[01]\d|2[0-3]):[0-5]\d)-((?:[01]\d|2[0-3]):[0-5]\d|24:00)$")
_TICK = dt.timedelta(microseconds=1)

Span = tuple[int, int]  # [start, end) in minutes after local midnight


class Schedule(BaseModel):
    """Opening intervals per weekday in local wall-clock time; holidays are closed all day.

    Intervals are half-open: "09:00-17:00" is open at 09:00 and closed at 17:00. During a repeated
    (fall-back) hour an interval covering that wall-clock time is open in both passes; an interval
    starting in a skipped (spring-forward) hour opens when the clocks jump, at the first local
    time that exists (03:00 for a 02:30 start in Europe/Paris on 2026-03-29).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: str = Field(default="UTC", description="IANA time zone name, such as Europe/Paris")
    hours: dict[Weekday, list[str]] = Field(
        description='per weekday, intervals like "09:00-17:30"; a missing day is closed'
    )
    holidays: list[dt.date] = Field(default_factory=list, max_length=400)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        zone(value)
        return value

    @field_validator("hours", mode="before")
    @classmethod
    def _known_weekdays(cls, value: Any) -> Any:
        if isinstance(value, dict):
            unknown = [key for key in value if key not in WEEKDAYS]
            if unknown:
                raise ValueError(f"unknown weekday {unknown[0]!r} (use {', '.join(WEEKDAYS)})")
        return value

    @field_validator("hours")
    @classmethod
    def _valid_intervals(cls, value: dict[Weekday, list[str]]) -> dict[Weekday, list[str]]:
        problems = [problem for day, intervals in value.items() for problem in _day_problems(day, intervals)]
        if problems:
            raise ValueError("; ".join(problems))
        return value

    @property
    def zone(self) -> ZoneInfo:
        return zone(self.timezone)

    def local(self, moment: dt.datetime) -> dt.datetime:
        """`moment` on the schedule's wall clock (with `fold` set in a repeated hour)."""
        if moment.utcoffset() is None:
            raise ValueError(f"{moment.isoformat()} has no time zone; pass an aware datetime")
        return moment.astimezone(self.zone)

    def status_at(self, moment: dt.datetime) -> Status:
        local = self.local(moment)
        if local.date() in self.holidays:
            return "holiday"
        minute = local.hour * 60 + local.minute
        return "open" if any(start <= minute < end for start, end in self._spans(local.date())) else "closed"

    def next_opening(self, moment: dt.datetime) -> dt.datetime | None:
        """The first instant after `moment` when the schedule goes from not open to open.

        When closed, that is the start of the next open interval ("we will be back at ..."). When
        open, it is the next opening after the current open stretch ends (adjacent intervals and a
        24:00 end followed by a 00:00 start count as one stretch), so None only ever means "no
        opening within SEARCH_DAYS days" (never open, or open around the clock) and never "open
        now": ask `status_at` for that.

        The answer shows the schedule's wall-clock time with the UTC offset in force then, as a
        fixed offset rather than the zone: in a repeated hour a zoned datetime never `==` another
        zone's (PEP 495), and adding to it moves the wall clock, not time.
        """
        # Candidates stay in UTC: arithmetic and ordering on same-zone datetimes use wall times.
        local = self.local(moment)
        after = local.astimezone(dt.UTC)
        for offset in range(SEARCH_DAYS + 1):
            day = local.date() + dt.timedelta(days=offset)
            if day in self.holidays:
                continue
            for start in sorted(self._candidates(day)):
                if start > after and self._opens_at(start):
                    return _fixed_offset(start.astimezone(self.zone))
        return None

    def describe(self, moment: dt.datetime) -> str:
        """Weekday and wall-clock time in the schedule's zone, as an away message says it: "Monday 09:00"."""
        local = self.local(moment)
        return f"{DAY_NAMES[local.weekday()]} {local:%H:%M}"

    def describe_next_opening(self, moment: dt.datetime) -> str | None:
        opening = self.next_opening(moment)
        return None if opening is None else self.describe(opening)

    def _spans(self, day: dt.date) -> list[Span]:
        return [_span(text) for text in self.hours.get(WEEKDAYS[day.weekday()], [])]

    def _candidates(self, day: dt.date) -> Iterator[dt.datetime]:
        """UTC instants of `day` at which the schedule may open: each interval's start (twice in a
        repeated hour), and the clocks' change, which can fall back into an interval already left."""
        spans = self._spans(day)
        for start, _ in spans:
            yield from _instants(dt.datetime.combine(day, dt.time(start // 60, start % 60)), self.zone)
        if spans:
            yield from _clock_change(day, self.zone)

    def _opens_at(self, instant: dt.datetime) -> bool:
        return self.status_at(instant) == "open" and self.status_at(instant - _TICK) != "open"


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a tzdata folder such as "Europe"
        raise ValueError(f"unknown time zone {name!r} (use an IANA name such as Europe/Paris)") from None


def _span(text: str) -> Span:
    start, end = text.split("-")
    return _minutes(start), _minutes(end)


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _day_problems(day: str, intervals: list[str]) -> list[str]:
    problems: list[str] = []
    spans: list[tuple[Span, str]] = []
    for text in intervals:
        if not _INTERVAL.match(text):
            problems.append(f"{day}: {text!r} is not an interval like 09:00-17:30 (24:00 only as an end)")
            continue
        start, end = _span(text)
        if start >= end:
            problems.append(f"{day}: {text!r} must start before it ends")
            continue
        spans.append(((start, end), text))
    spans.sort()
    for (earlier, earlier_text), (later, later_text) in itertools.pairwise(spans):
        if later[0] < earlier[1]:
            problems.append(f"{day}: {earlier_text!r} overlaps {later_text!r}")
    return problems


def _instants(wall: dt.datetime, tz: ZoneInfo) -> set[dt.datetime]:
    """The UTC instants for naive `wall` on the `tz` clock: one, or both passes of a repeated hour.

    A skipped wall time gives the instants just before and after the jump, each showing another
    time; the jump itself comes from `_clock_change`.
    """
    return {wall.replace(tzinfo=tz, fold=fold).astimezone(dt.UTC) for fold in (0, 1)}


def _clock_change(day: dt.date, tz: ZoneInfo) -> Iterator[dt.datetime]:
    """The instant the `tz` clocks change during `day`, if they do (tzdata changes them at most once a day)."""
    first = min(_instants(dt.datetime.combine(day, dt.time()), tz))
    last = min(_instants(dt.datetime.combine(day + dt.timedelta(days=1), dt.time()), tz))
    if _offset(first, tz) == _offset(last, tz):
        return
    # Changes fall on whole seconds: bisect for the first second showing the day's final offset.
    before, after = int(first.timestamp()), int(last.timestamp())
    while after - before > 1:
        middle = (before + after) // 2
        if _offset(dt.datetime.fromtimestamp(middle, dt.UTC), tz) == _offset(last, tz):
            after = middle
        else:
            before = middle
    yield dt.datetime.fromtimestamp(after, dt.UTC)


def _fixed_offset(local: dt.datetime) -> dt.datetime:
    offset = local.utcoffset()
    assert offset is not None  # a ZoneInfo always has one
    return local.astimezone(dt.timezone(offset))


def _offset(instant: dt.datetime, tz: ZoneInfo) -> dt.timedelta | None:
    return instant.astimezone(tz).utcoffset()
