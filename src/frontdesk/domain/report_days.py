"""The reports' daily counters (ADR 0010, amended): the hourly counters summed per local day of
the workspace's time zone and rolled up over each subset of (channel, team, agent), so a report
over months reads a few thousand rows whatever filter it has.

Pure and linear: `by_day` maps a change of the hourly counters to the change of the daily ones,
so the consumer, `frontdesk reports rebuild` and a recount after a change of time zone all keep
the daily counters equal to `by_day(hourly counters)`."""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter
from collections.abc import Mapping
from zoneinfo import ZoneInfo

from frontdesk.domain.reports import HOUR, Key

ANY = -1  # a daily counter's "every channel / team / agent" (NONE, 0, is "no channel / team / agent")

# (metric, channel, team, agent, local day as a proleptic ordinal, label, bucket): filters first,
# then the day, so a report's range of days under one filter is a single sweep of the key.
DayKey = tuple[str, int, int, int, int, str, int]


@functools.lru_cache(maxsize=65_536)
def day_of(hour: int, zone: ZoneInfo) -> int:
    """The local day (date.toordinal()) an UTC hour starts in: the day the hourly series puts it in,
    also in a zone whose offset is not a whole number of hours (ADR 0010)."""
    return dt.datetime.fromtimestamp(hour * HOUR, zone).date().toordinal()


def by_day(hourly: Mapping[Key, int], zone: ZoneInfo) -> Counter[DayKey]:
    """The daily counters' change for a change of the hourly ones: each count goes to its local day
    under all 8 combinations of its channel, team and agent and ANY (2x2x2 rows; a filter on any
    subset of the three, and a breakdown by one of them under that filter, is then one row set)."""
    found: Counter[DayKey] = Counter()
    for (metric, hour, channel, team, agent, label, bucket), count in hourly.items():
        day = day_of(hour, zone)
        for c in (channel, ANY):
            for t in (team, ANY):
                for a in (agent, ANY):
                    found[(metric, c, t, a, day, label, bucket)] += count
    return found
