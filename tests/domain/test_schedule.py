import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from frontdesk.domain.schedule import SEARCH_DAYS, WEEKDAYS, Schedule

UTC = dt.UTC
WORKING_DAYS = ("mon", "tue", "wed", "thu", "fri")


def schedule(hours: dict[str, list[str]] | None = None, **fields: Any) -> Schedule:
    """Monday to Friday 09:00-17:00 unless told otherwise."""
    if hours is None:
        hours = {day: ["09:00-17:00"] for day in WORKING_DAYS}
    return Schedule.model_validate({"hours": hours, **fields})


def every_day(*intervals: str, **fields: Any) -> Schedule:
    return schedule({day: list(intervals) for day in WEEKDAYS}, **fields)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# 2026-03-02 is a Monday; the schedules below are in UTC unless a test says otherwise.


def test_an_interval_is_open_from_its_start_and_closed_from_its_end() -> None:
    hours = schedule()

    assert hours.status_at(utc(2026, 3, 2, 8, 59, 59)) == "closed"
    assert hours.status_at(utc(2026, 3, 2, 9)) == "open"
    assert hours.status_at(utc(2026, 3, 2, 16, 59, 59)) == "open"
    assert hours.status_at(utc(2026, 3, 2, 17)) == "closed"


def test_a_day_with_a_lunch_break_is_closed_between_its_intervals() -> None:
    hours = schedule({"mon": ["09:00-12:30", "13:30-18:00"]})

    assert hours.status_at(utc(2026, 3, 2, 12, 29)) == "open"
    assert hours.status_at(utc(2026, 3, 2, 12, 30)) == "closed"
    assert hours.status_at(utc(2026, 3, 2, 13, 29)) == "closed"
    assert hours.status_at(utc(2026, 3, 2, 13, 30)) == "open"
    assert hours.next_opening(utc(2026, 3, 2, 12, 45)) == utc(2026, 3, 2, 13, 30)


def test_intervals_may_be_listed_in_any_order() -> None:
    hours = schedule({"mon": ["13:30-18:00", "09:00-12:30"]})

    assert hours.next_opening(utc(2026, 3, 2, 8)) == utc(2026, 3, 2, 9)
    assert hours.next_opening(utc(2026, 3, 2, 9)) == utc(2026, 3, 2, 13, 30)


def test_a_day_missing_from_the_hours_is_closed_all_day() -> None:
    hours = schedule()

    assert [hours.status_at(utc(2026, 3, 8, hour)) for hour in range(24)] == ["closed"] * 24


def test_an_interval_ending_at_24_00_is_open_until_midnight() -> None:
    hours = schedule({"sat": ["20:00-24:00"]})

    assert hours.status_at(utc(2026, 3, 7, 23, 59, 59)) == "open"
    assert hours.status_at(utc(2026, 3, 8, 0, 0)) == "closed"


def test_a_holiday_is_a_holiday_even_during_opening_hours() -> None:
    hours = schedule(holidays=["2026-03-02"])

    assert hours.status_at(utc(2026, 3, 2, 10)) == "holiday"
    assert hours.status_at(utc(2026, 3, 3, 10)) == "open"


def test_a_holiday_is_the_local_date_in_the_schedules_zone() -> None:
    hours = schedule(timezone="America/New_York", holidays=["2026-03-02"])

    assert hours.status_at(utc(2026, 3, 3, 2)) == "holiday"  # still Monday evening in New York


def test_after_friday_closing_the_next_opening_is_monday_morning() -> None:
    hours = schedule()

    assert hours.next_opening(utc(2026, 3, 6, 17)) == utc(2026, 3, 9, 9)
    assert hours.describe_next_opening(utc(2026, 3, 6, 17)) == "Monday 09:00"


def test_the_next_opening_skips_a_holiday() -> None:
    hours = schedule(holidays=["2026-03-09", "2026-03-10"])

    assert hours.next_opening(utc(2026, 3, 6, 17)) == utc(2026, 3, 11, 9)
    assert hours.describe_next_opening(utc(2026, 3, 6, 17)) == "Wednesday 09:00"


def test_before_opening_the_next_opening_is_the_same_morning() -> None:
    assert schedule().next_opening(utc(2026, 3, 2, 8, 59)) == utc(2026, 3, 2, 9)


def test_when_open_the_next_opening_follows_the_end_of_the_current_interval() -> None:
    hours = schedule({"mon": ["09:00-12:30", "13:30-18:00"], "tue": ["09:00-18:00"]})

    assert hours.next_opening(utc(2026, 3, 2, 9)) == utc(2026, 3, 2, 13, 30)
    assert hours.next_opening(utc(2026, 3, 2, 14)) == utc(2026, 3, 3, 9)


def test_adjacent_intervals_and_a_midnight_handover_are_one_open_stretch() -> None:
    hours = schedule({"mon": ["09:00-12:00", "12:00-24:00"], "tue": ["00:00-12:00"]})

    assert hours.status_at(utc(2026, 3, 3, 0)) == "open"
    assert hours.next_opening(utc(2026, 3, 2, 10)) == utc(2026, 3, 9, 9)


def test_a_schedule_that_never_closes_or_never_opens_has_no_next_opening() -> None:
    assert every_day("00:00-24:00").next_opening(utc(2026, 3, 2, 10)) is None
    assert schedule({}).next_opening(utc(2026, 3, 2, 10)) is None
    assert schedule({}).describe_next_opening(utc(2026, 3, 2, 10)) is None


def test_the_next_opening_is_searched_for_366_days_ahead() -> None:
    start = dt.date(2026, 3, 2)
    year = [start + dt.timedelta(days=offset) for offset in range(SEARCH_DAYS)]

    reopening = every_day("09:00-17:00", holidays=year).next_opening(utc(2026, 3, 2, 8))
    never = every_day("09:00-17:00", holidays=[*year, start + dt.timedelta(days=SEARCH_DAYS)])

    assert reopening == utc(2027, 3, 3, 9)
    assert never.next_opening(utc(2026, 3, 2, 8)) is None


def test_a_moment_without_a_time_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        schedule().status_at(dt.datetime(2026, 3, 2, 10))


# Daylight saving time: the UTC instant of a local 09:00 moves with the offset.
NINE_LOCAL_IN_UTC = [
    ("Europe/Paris", utc(2026, 3, 28, 8)),  # CET, +01:00
    ("Europe/Paris", utc(2026, 3, 29, 7)),  # spring forward at 02:00: CEST, +02:00
    ("Europe/Paris", utc(2026, 3, 30, 7)),
    ("Europe/Paris", utc(2026, 10, 24, 7)),
    ("Europe/Paris", utc(2026, 10, 25, 8)),  # fall back at 03:00: CET again
    ("Europe/Paris", utc(2026, 10, 26, 8)),
    ("America/New_York", utc(2026, 3, 7, 14)),  # EST, -05:00
    ("America/New_York", utc(2026, 3, 8, 13)),  # spring forward at 02:00: EDT, -04:00
    ("America/New_York", utc(2026, 3, 9, 13)),
    ("America/New_York", utc(2026, 10, 31, 13)),
    ("America/New_York", utc(2026, 11, 1, 14)),  # fall back at 02:00: EST again
    ("America/New_York", utc(2026, 11, 2, 14)),
]


@pytest.mark.parametrize(("timezone", "nine"), NINE_LOCAL_IN_UTC, ids=lambda v: str(v))
def test_a_nine_to_five_day_opens_at_nine_local_time_around_dst_changes(timezone: str, nine: dt.datetime) -> None:
    hours = every_day("09:00-17:00", timezone=timezone)
    minute = dt.timedelta(minutes=1)

    assert hours.status_at(nine - minute) == "closed"
    assert hours.status_at(nine) == "open"
    assert hours.status_at(nine + dt.timedelta(hours=8) - minute) == "open"
    assert hours.status_at(nine + dt.timedelta(hours=8)) == "closed"
    assert hours.next_opening(nine - dt.timedelta(hours=10)) == nine


FRIDAY_EVENING_TO_MONDAY_MORNING = [
    ("Europe/Paris", utc(2026, 3, 27, 17), utc(2026, 3, 30, 7), 2),
    ("Europe/Paris", utc(2026, 10, 23, 16), utc(2026, 10, 26, 8), 1),
    ("America/New_York", utc(2026, 3, 6, 23), utc(2026, 3, 9, 13), -4),
    ("America/New_York", utc(2026, 10, 30, 22), utc(2026, 11, 2, 14), -5),
]


@pytest.mark.parametrize(("timezone", "friday", "monday", "offset"), FRIDAY_EVENING_TO_MONDAY_MORNING)
def test_the_next_opening_after_a_dst_weekend_is_monday_nine_with_the_new_offset(
    timezone: str, friday: dt.datetime, monday: dt.datetime, offset: int
) -> None:
    hours = schedule(timezone=timezone)

    opening = hours.next_opening(friday)

    assert opening == monday
    assert opening is not None and opening.utcoffset() == dt.timedelta(hours=offset)
    assert (opening.hour, opening.minute) == (9, 0)
    assert hours.describe_next_opening(friday) == "Monday 09:00"


def test_an_interval_starting_in_the_skipped_hour_opens_when_the_clocks_jump() -> None:
    hours = schedule({"sun": ["02:30-04:00"]}, timezone="Europe/Paris")

    assert hours.status_at(utc(2026, 3, 29, 0, 59, 59)) == "closed"  # 01:59:59 CET
    assert hours.status_at(utc(2026, 3, 29, 1)) == "open"  # 03:00 CEST
    assert hours.next_opening(utc(2026, 3, 28, 12)) == utc(2026, 3, 29, 1)
    assert hours.describe_next_opening(utc(2026, 3, 28, 12)) == "Sunday 03:00"


def test_an_interval_inside_the_skipped_hour_does_not_open_that_day() -> None:
    hours = schedule({"sun": ["02:15-02:45"]}, timezone="Europe/Paris")

    assert hours.next_opening(utc(2026, 3, 28, 12)) == utc(2026, 4, 5, 0, 15)  # the next Sunday, CEST


def test_an_interval_in_the_repeated_hour_opens_in_both_passes() -> None:
    hours = schedule({"sun": ["02:30-02:45"]}, timezone="Europe/Paris")
    first_pass, second_pass = utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30)  # CEST, then CET

    assert hours.status_at(first_pass) == "open"
    assert hours.status_at(second_pass) == "open"
    assert hours.status_at(second_pass - dt.timedelta(minutes=1)) == "closed"  # 02:29 CET
    first_opening, second_opening = hours.next_opening(utc(2026, 10, 24, 12)), hours.next_opening(first_pass)

    assert first_opening == first_pass
    assert second_opening == second_pass
    assert [opening.isoformat() for opening in (first_opening, second_opening) if opening] == [
        "2026-10-25T02:30:00+02:00",
        "2026-10-25T02:30:00+01:00",
    ]


def test_falling_back_into_an_interval_already_left_reopens_it() -> None:
    hours = schedule({"sun": ["00:00-01:30"]}, timezone="America/New_York")

    assert hours.status_at(utc(2026, 11, 1, 5, 45)) == "closed"  # 01:45 EDT
    assert hours.status_at(utc(2026, 11, 1, 6)) == "open"  # 01:00 EST, the clocks went back
    assert hours.next_opening(utc(2026, 11, 1, 5, 45)) == utc(2026, 11, 1, 6)


def test_a_wall_clock_moment_in_a_skipped_or_repeated_hour_is_read_as_the_instant_it_denotes() -> None:
    paris = ZoneInfo("Europe/Paris")
    hours = every_day("09:00-17:00", timezone="Europe/Paris")
    skipped = dt.datetime(2026, 3, 29, 2, 30, tzinfo=paris)  # fold=0: the offset before the jump
    repeated = dt.datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=paris)

    assert hours.status_at(skipped) == "closed"
    assert hours.next_opening(skipped) == utc(2026, 3, 29, 7)
    assert hours.status_at(repeated) == "closed"
    assert hours.next_opening(repeated) == utc(2026, 10, 25, 8)


INVALID = [
    ({"timezone": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
    ({"timezone": "Europe"}, "unknown time zone 'Europe'"),
    ({"hours": {"mon": ["25:00-26:00"]}}, "mon: '25:00-26:00' is not an interval"),
    ({"hours": {"mon": ["09:00-24:30"]}}, "mon: '09:00-24:30' is not an interval"),
    ({"hours": {"wed": ["10:00-09:00"]}}, "wed: '10:00-09:00' must start before it ends"),
    ({"hours": {"tue": ["13:00-18:00", "09:00-13:30"]}}, "tue: '09:00-13:30' overlaps '13:00-18:00'"),
    ({"hours": {"monday": ["09:00-17:00"]}}, "unknown weekday 'monday'"),
    ({"opening_hours": {}}, "Extra inputs are not permitted"),
]


@pytest.mark.parametrize(("fields", "message"), INVALID, ids=[message for _, message in INVALID])
def test_an_invalid_schedule_is_refused_with_a_message_naming_the_problem(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Schedule.model_validate({"hours": {}, **fields})


# Properties, over zones with unusual changes (a 30-minute one, at midnight) and moments clustered
# around each zone's 2026 changes.
CHANGES = [
    ("UTC", utc(2026, 3, 29, 1)),
    ("Asia/Kolkata", utc(2026, 3, 29, 1)),
    ("Europe/Paris", utc(2026, 3, 29, 1)),
    ("Europe/Paris", utc(2026, 10, 25, 1)),
    ("America/New_York", utc(2026, 3, 8, 7)),
    ("America/New_York", utc(2026, 11, 1, 6)),
    ("Australia/Lord_Howe", utc(2026, 4, 4, 15)),
    ("Australia/Lord_Howe", utc(2026, 10, 3, 15, 30)),
    ("America/Santiago", utc(2026, 4, 5, 3)),
    ("America/Santiago", utc(2026, 9, 6, 4)),
]


@st.composite
def day_hours(draw: st.DrawFn) -> list[str]:
    # Half hours, any minute, and the early morning where the clocks change.
    minutes = st.one_of(
        st.integers(0, 48).map(lambda half_hours: half_hours * 30), st.integers(0, 1440), st.integers(0, 4 * 60)
    )
    points = sorted(draw(st.lists(minutes, max_size=6)))
    spans = [(start, end) for start, end in zip(points[::2], points[1::2], strict=False) if start < end]
    return draw(st.permutations([f"{_clock(start)}-{_clock(end)}" for start, end in spans]))


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@st.composite
def schedules_and_moments(draw: st.DrawFn) -> tuple[Schedule, dt.datetime]:
    timezone, change = draw(st.sampled_from(CHANGES))
    hours = draw(st.dictionaries(st.sampled_from(WEEKDAYS), day_hours()))
    days = st.integers(-5, 5).map(lambda offset: change.date() + dt.timedelta(days=offset))
    holidays = draw(st.lists(days, max_size=3))
    nearby = st.integers(-2 * 1440, 1440).map(lambda minutes: change + dt.timedelta(minutes=minutes))
    anytime = st.datetimes(dt.datetime(2025, 1, 1), dt.datetime(2027, 12, 31), timezones=st.just(UTC))
    moment = draw(st.one_of(nearby, anytime))
    return Schedule(timezone=timezone, hours=hours, holidays=holidays), moment


@st.composite
def intervals_across_a_change(draw: st.DrawFn) -> tuple[Schedule, dt.datetime]:
    """One interval on the day the clocks change, starting near the change: skipped, repeated or not."""
    timezone, change = draw(st.sampled_from(CHANGES))
    local_day = change.astimezone(ZoneInfo(timezone)).date()
    start = draw(st.integers(0, 5 * 60))
    end = draw(st.integers(start + 1, min(start + 180, 1440)))
    hours = {WEEKDAYS[local_day.weekday()]: [f"{_clock(start)}-{_clock(end)}"]}
    moment = change + dt.timedelta(minutes=draw(st.integers(-2 * 1440, 60)))
    return Schedule(timezone=timezone, hours=hours), moment


cases = st.one_of(schedules_and_moments(), intervals_across_a_change())


def _inside(hours: Schedule, local: dt.datetime) -> bool:
    for interval in hours.hours.get(WEEKDAYS[local.weekday()], []):
        start, end = interval.split("-")
        if dt.time.fromisoformat(start) <= local.time() and (
            end == "24:00" or local.time() < dt.time.fromisoformat(end)
        ):
            return True
    return False


@settings(max_examples=300, deadline=None)
@given(cases)
def test_open_exactly_when_a_local_interval_contains_the_local_time(case: tuple[Schedule, dt.datetime]) -> None:
    hours, moment = case
    local = moment.astimezone(ZoneInfo(hours.timezone))

    if local.date() in hours.holidays:
        assert hours.status_at(moment) == "holiday"
    else:
        assert (hours.status_at(moment) == "open") == _inside(hours, local)


@settings(max_examples=300, deadline=None)
@given(cases)
def test_the_next_opening_is_later_and_is_an_opening(case: tuple[Schedule, dt.datetime]) -> None:
    hours, moment = case
    opening = hours.next_opening(moment)

    if opening is not None:
        assert opening > moment
        assert hours.status_at(opening) == "open"
        assert hours.status_at(opening - dt.timedelta(microseconds=1)) != "open"


@settings(max_examples=100, deadline=None)
@given(cases)
def test_while_closed_nothing_opens_before_the_next_opening(case: tuple[Schedule, dt.datetime]) -> None:
    hours, moment = case
    if hours.status_at(moment) == "open":
        return
    opening = hours.next_opening(moment)
    horizon = moment + dt.timedelta(days=2)

    # Every zone here changes offset on whole minutes, so checking each minute is exhaustive.
    minute = moment.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    while minute < horizon and (opening is None or minute < opening):
        assert hours.status_at(minute) != "open", minute
        minute += dt.timedelta(minutes=1)
