"""The report's arithmetic without a database: local days, hours and weeks from UTC hours in zones
with DST (either hemisphere), checked against counting each conversation's local date directly;
percentiles and shares from the histogram buckets."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from frontdesk.domain import report_figures as figures
from frontdesk.domain.errors import InvalidInput
from frontdesk.domain.reports import BOUNDS, Fact, Metric, bucket_of, totals

# Zones whose offsets are whole hours (ADR 0010: others are approximate), with DST north and south.
ZONES = ["UTC", "Europe/Paris", "America/New_York", "Pacific/Auckland", "America/Santiago", "Asia/Tokyo"]
START = dt.datetime(
    2026, 3, 26, tzinfo=dt.UTC
)  # Paris and New York change within days; Auckland, Santiago on 2026-04-05


@given(
    opened=st.lists(st.integers(0, 16 * 24 * 60), max_size=60),  # minutes after START
    zone=st.sampled_from(ZONES),
    first=st.integers(0, 14),
    days=st.integers(1, 5),
    period=st.sampled_from(["day", "week", "hour"]),
)
def test_a_series_counts_each_conversation_in_its_local_period(
    opened: list[int], zone: str, first: int, days: int, period: figures.Period
) -> None:
    tz = ZoneInfo(zone)
    times = [START + dt.timedelta(minutes=m) for m in opened]
    span = figures.check_span(
        START.date() + dt.timedelta(days=first), START.date() + dt.timedelta(days=first + days - 1), tz, period
    )
    per_hour = Counter((key[0], key[1]) for fact in _facts(times) for key in totals([fact]))

    series = figures.series(span, [(metric, hour, n) for (metric, hour), n in per_hour.items() if hour in span.hours])

    expected = Counter(
        _period(t.astimezone(tz), period) for t in times if span.first <= t.astimezone(tz).date() <= span.last
    )
    assert {p["start"]: p["opened"] for p in series if p["opened"]} == dict(expected)
    assert len({p["start"] for p in series}) == len(series)


def _facts(times: list[dt.datetime]) -> list[Fact]:
    return [Fact(i, t, 1, "contact") for i, t in enumerate(times)]


def _period(local: dt.datetime, period: str) -> str:
    if period == "hour":
        return local.replace(minute=0, second=0, microsecond=0).isoformat(timespec="minutes")
    day = local.date()
    return (day - dt.timedelta(days=day.weekday()) if period == "week" else day).isoformat()


def test_percentiles_are_the_bounds_of_the_buckets_the_ranks_fall_in() -> None:
    seconds = [10, 50, 100, 200, 250, 280, 290, 299, 1000, 9 * 86400]  # 10 assignments
    sums = Counter((Metric.ASSIGNMENT, bucket_of(s)) for s in seconds)

    found = figures.durations([(metric, bucket, n) for (metric, bucket), n in sums.items()])["assignment"]

    assert found == {"count": 10, "p50_seconds": 300, "p90_seconds": 1800, "target_seconds": 300, "within_target": 0.8}
    assert figures.durations([])["resolution"]["p50_seconds"] is None


def test_a_duration_over_the_last_bound_has_no_upper_bound() -> None:
    found = figures.durations([(Metric.RESOLUTION, bucket_of(BOUNDS[-1] + 1), 3)])["resolution"]
    assert (found["p50_seconds"], found["p90_seconds"], found["within_target"]) == (None, None, 0.0)


@pytest.mark.parametrize(
    ("first", "last", "period", "field"),
    [
        (dt.date(2026, 5, 2), dt.date(2026, 5, 1), "day", "to"),
        (dt.date(2025, 1, 1), dt.date(2026, 1, 2), "day", "from"),
        (dt.date(2026, 1, 1), dt.date(2026, 2, 15), "hour", "period"),
    ],
)
def test_a_range_that_breaks_a_rule_names_the_parameter(
    first: dt.date, last: dt.date, period: figures.Period, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        figures.check_span(first, last, ZoneInfo("UTC"), period)
    assert refused.value.field == field


def test_a_year_of_366_days_is_allowed() -> None:
    assert figures.check_span(dt.date(2028, 1, 1), dt.date(2028, 12, 31), ZoneInfo("UTC"), "week").last.year == 2028
