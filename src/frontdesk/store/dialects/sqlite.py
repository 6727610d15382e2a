"""SQLite under the store's statements: the sqlite3 cursor, and values as SQLAlchemy's SQLite
types store them — timestamps as naive-UTC text with microseconds, JSON as compact UTF-8 text
(`dumps`, which SQLAlchemy's engines use too), booleans as 0/1."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Sequence
from typing import Any

from frontdesk.store.dialects.base import Dialect, dumps, loads


class _LastTime(threading.local):
    value: dt.datetime | None = None
    text: str | None = None


_last_time = _LastTime()


def encode_time(value: dt.datetime | None) -> str | None:
    """As SQLAlchemy's SQLite DATETIME stores it: naive UTC, always with microseconds."""
    if value is None:
        return None
    last = _last_time
    if value is last.value:  # a job writes its one `now` into many rows
        return last.text
    utc = value
    if utc.tzinfo is not dt.UTC:
        if utc.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware UTC datetime")
        utc = utc.astimezone(dt.UTC)
    text = utc.isoformat(" ", "microseconds")[:26]  # without "+00:00" (datetime.replace is slow)
    last.value, last.text = value, text
    return text


def decode_time(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value + "+00:00")


def decode_json(value: str | float | None) -> Any:
    # SQLite gives a JSON column numeric affinity: a top-level number comes back as a number.
    return loads(value) if isinstance(value, str) else value


def encode_bool(value: bool | None) -> int | None:
    return None if value is None else int(value)


def decode_bool(value: int | None) -> bool | None:
    return None if value is None else bool(value)


class SQLite(Dialect):
    name = "sqlite"
    skip_locked = ""  # one writer at a time: no one else is claiming
    inserts_in_with = False  # and a statement is a function call, not a round trip

    def execute(self, driver: sqlite3.Connection, sql: str, params: Sequence[Any]) -> sqlite3.Cursor:
        return driver.execute(sql, params)  # the statements are written in sqlite3's `?` style

    def execute_many(self, driver: sqlite3.Connection, sql: str, params: list[Sequence[Any]]) -> None:
        driver.executemany(sql, params)

    def take_writer_turn(self, driver: sqlite3.Connection) -> None:
        return None  # `BEGIN IMMEDIATE` and the lock file beside the database (database.py) give it

    def order_events(self, driver: sqlite3.Connection) -> None:
        return None  # one writer at a time (the write lock): events commit in id order already

    # The codec's functions, as plain functions: they run for every value of every row.
    encode_time = staticmethod(encode_time)
    decode_time = staticmethod(decode_time)
    encode_json = staticmethod(dumps)  # None too: SQLAlchemy's JSON writes it as the text 'null'
    decode_json = staticmethod(decode_json)
    encode_bool = staticmethod(encode_bool)
    decode_bool = staticmethod(decode_bool)
