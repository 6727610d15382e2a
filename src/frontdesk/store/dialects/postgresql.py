"""PostgreSQL under the store's statements: psycopg 3's cursor, and values as PostgreSQL's own
types hold them — timestamps as `timestamptz` (aware UTC datetimes both ways: each session runs
with `TimeZone=UTC`), JSON as `jsonb` (text in, parsed by psycopg on the way out with msgspec),
booleans as booleans.

PostgreSQL's text and jsonb cannot hold the NUL character, which SQLite stores and a client can
send (a message, a contact's field). Rather than fail the write, every string written replaces it
with U+FFFD, the replacement character: on the store's cursor here, and on SQLAlchemy's
statements through `Database` (`clean_parameters`, `dumps_without_nul`).

The statements are written once with `?` placeholders; psycopg wants `%s`, and a literal `%`
doubled. The translation is made once per statement text and cached. psycopg prepares a
statement on the server after its fifth run on a connection, so the hot path's statements are
parsed and planned once per connection.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from frontdesk.store.dialects.base import Cursor, Dialect, dumps

# Transaction-level advisory locks (ADR 0008), any 64-bit numbers no one else uses: the writers'
# turn, and the lock around event inserts.
WRITER_TURN_LOCK = 0x46_44_57_52  # "FDWR"
EVENT_ORDER_LOCK = 0x46_44_45_56  # "FDEV"
_WRITER_TURN = f"SELECT pg_advisory_xact_lock({WRITER_TURN_LOCK})"
_LOCK_EVENTS = f"SELECT pg_advisory_xact_lock({EVENT_ORDER_LOCK})"


@lru_cache(maxsize=4096)
def placeholders(sql: str) -> str:
    """`?` → `%s`, `%` → `%%` (psycopg's format). Statements never hold a `?` in a literal."""
    return sql.replace("%", "%%").replace("?", "%s")


NUL = "\x00"
REPLACEMENT = "\ufffd"


def without_nul(value: Any) -> Any:
    """`value` with NUL replaced in every string of it (dict keys too)."""
    if isinstance(value, str):
        return value.replace(NUL, REPLACEMENT)
    if isinstance(value, dict):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [without_nul(v) for v in value]
    return value


def dumps_without_nul(value: Any) -> str:
    text = dumps(value)
    return dumps(without_nul(value)) if "\\u0000" in text else text


def clean_parameters(params: Any) -> Any:
    """A statement's parameters (a sequence, a mapping, or a list of either) without NUL in strings."""
    if isinstance(params, dict):
        if any(isinstance(v, str) and NUL in v for v in params.values()):
            return {k: without_nul(v) if isinstance(v, str) else v for k, v in params.items()}
        return params
    if isinstance(params, list) and params and isinstance(params[0], dict | list | tuple):
        return [clean_parameters(p) for p in params]
    if any(isinstance(v, str) and NUL in v for v in params):
        return [without_nul(v) if isinstance(v, str) else v for v in params]
    return params


def encode_time(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; pass an aware UTC datetime")
    return value


def identity(value: Any) -> Any:
    return value


class PostgreSQL(Dialect):
    name = "postgresql"
    skip_locked = " FOR UPDATE SKIP LOCKED"

    def execute(self, driver: Any, sql: str, params: Sequence[Any]) -> Cursor:
        cursor: Cursor = driver.execute(placeholders(sql), clean_parameters(params))
        return cursor

    def execute_many(self, driver: Any, sql: str, params: list[Sequence[Any]]) -> None:
        with driver.cursor() as cursor:
            cursor.executemany(placeholders(sql), [clean_parameters(p) for p in params])

    def take_writer_turn(self, driver: Any) -> None:
        driver.execute(_WRITER_TURN)

    def order_events(self, driver: Any) -> None:
        driver.execute(_LOCK_EVENTS)

    encode_time = staticmethod(encode_time)
    decode_time = staticmethod(identity)  # timestamptz in a UTC session: aware, tzinfo is dt.UTC
    encode_json = staticmethod(dumps_without_nul)  # text, cast by the server to the column's jsonb
    decode_json = staticmethod(identity)  # psycopg parses jsonb (with `loads`, set per connection)
    encode_bool = staticmethod(identity)
    decode_bool = staticmethod(identity)
