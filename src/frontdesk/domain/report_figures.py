"""A report's figures from the counters' sums (ADR 0010): the range asked in the workspace's time
zone turned into UTC hours, the hours grouped into local hours, days or weeks, and p50/p90 and
the share within target read from the duration histograms.

Pure: the API, the CSV and the page all show what `series`, `breakdown` and `durations` give."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable
from typing import Literal, TypedDict
from zoneinfo import ZoneInfo

from frontdesk.domain.errors import InvalidInput
from frontdesk.domain.reports import BOUNDS, DURATIONS, HOUR, OVERFLOW, TARGETS, Metric

Period = Literal["hour", "day", "week"]
MAX_DAYS = 366  # the longest range a report covers (and what `reports rebuild` makes worth keeping)
MAX_HOURLY_DAYS = 31  # an hourly series longer than this is not readable on a page


@dataclasses.dataclass(frozen=True, slots=True)
class Span:
    """A report's dates, first and last included, in `zone`; and the UTC hours they cover."""

    first: dt.date
    last: dt.date
    zone: ZoneInfo
    period: Period

    @property
    def hours(self) -> range:
        """The UTC hours (since the epoch) from the first day's midnight to the day after the last's."""
        end = _midnight(self.last + dt.timedelta(days=1), self.zone)
        return range(_midnight(self.first, self.zone) // HOUR, -(-end // HOUR))

    @property
    def days(self) -> range:
        """The local days, as `date.toordinal()`: the keys of the daily counters."""
        return range(self.first.toordinal(), self.last.toordinal() + 1)


def _midnight(day: dt.date, zone: ZoneInfo) -> int:
    return int(dt.datetime.combine(day, dt.time(), tzinfo=zone).timestamp())


def check_span(first: dt.date, last: dt.date, zone: ZoneInfo, period: Period) -> Span:
    """The span asked, or InvalidInput naming the parameter that breaks a rule."""
    if last < first:
        raise InvalidInput("invalid_range", f"to ({last}) is before from ({first})", "to")
    days = (last - first).days + 1
    if days > MAX_DAYS:
        raise InvalidInput("range_too_long", f"the range covers {days} days; at most {MAX_DAYS}", "from")
    if period == "hour" and days > MAX_HOURLY_DAYS:
        raise InvalidInput(
            "range_too_long", f"an hourly series covers at most {MAX_HOURLY_DAYS} days, not {days}", "period"
        )
    return Span(first, last, zone, period)


def period_of(hour: int, span: Span) -> str:
    """The local hour, day or week (its Monday) an UTC hour falls in, as ISO text."""
    local = dt.datetime.fromtimestamp(hour * HOUR, span.zone)
    if span.period == "hour":
        return local.replace(minute=0, second=0).isoformat(timespec="minutes")
    return _period_of_day(local.date(), span)


def _period_of_day(day: dt.date, span: Span) -> str:
    if span.period == "week":
        day -= dt.timedelta(days=day.weekday())
    return day.isoformat()


class Point(TypedDict):
    start: str
    opened: int
    closed: int


def series(span: Span, per_hour: Iterable[tuple[str, int, int]]) -> list[Point]:
    """Opened and closed per period, every period of the span listed (zeros too), oldest first."""
    starts = [period_of(hour, span) for hour in span.hours]
    return _series(starts, ((metric, period_of(hour, span), count) for metric, hour, count in per_hour))


def series_of_days(span: Span, per_day: Iterable[tuple[str, int, int]]) -> list[Point]:
    """The same from daily counts (days as ordinals): a daily or weekly series."""
    assert span.period != "hour", "an hourly series is read from the hourly counters"
    starts = [_period_of_day(dt.date.fromordinal(day), span) for day in span.days]
    per_period = ((metric, _period_of_day(dt.date.fromordinal(day), span), count) for metric, day, count in per_day)
    return _series(starts, per_period)


def _series(starts: Iterable[str], per_period: Iterable[tuple[str, str, int]]) -> list[Point]:
    points: dict[str, Point] = {}
    for start in starts:
        points.setdefault(start, {"start": start, "opened": 0, "closed": 0})
    for metric, start, count in per_period:
        points[start]["opened" if metric == Metric.OPENED else "closed"] += count
    return list(points.values())


class Duration(TypedDict):
    count: int
    p50_seconds: int | None  # the upper bound of the bucket the median falls in; None: over 7 days
    p90_seconds: int | None
    target_seconds: int
    within_target: float | None  # the share at or under the target (None without any)


def durations(per_bucket: Iterable[tuple[str, int, int]]) -> dict[str, Duration]:
    histograms: dict[str, list[int]] = {metric: [0] * (OVERFLOW + 1) for metric in DURATIONS}
    for metric, bucket, count in per_bucket:
        histograms[metric][bucket] += count
    return {metric: _duration(histograms[metric], TARGETS[Metric(metric)]) for metric in DURATIONS}


def _duration(histogram: list[int], target: int) -> Duration:
    total = sum(histogram)
    within = sum(histogram[: BOUNDS.index(target) + 1])
    return {
        "count": total,
        "p50_seconds": percentile(histogram, total, 0.5),
        "p90_seconds": percentile(histogram, total, 0.9),
        "target_seconds": target,
        "within_target": round(within / total, 4) if total else None,
    }


def percentile(histogram: list[int], total: int, share: float) -> int | None:
    if not total:
        return None
    rank, seen = math.ceil(share * total), 0
    for bucket, count in enumerate(histogram):
        seen += count
        if seen >= rank:
            return BOUNDS[bucket] if bucket < OVERFLOW else None
    return None  # not reached: the last bucket brings `seen` to `total`


def breakdown(sums: Iterable[tuple[str, int, int]]) -> dict[int, dict[str, int]]:
    """{id: {"opened": n, "closed": n}} from (metric, id, count) sums."""
    found: dict[int, dict[str, int]] = defaultdict(lambda: {"opened": 0, "closed": 0})
    for metric, value, count in sums:
        found[value][metric] += count
    return dict(found)
