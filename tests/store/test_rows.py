"""Rows written on the driver's cursor read the same through SQLAlchemy, and the other way round."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, insert, select

from frontdesk.store import rows
from frontdesk.store.database import Database
from frontdesk.store.dialects.postgresql import without_nul
from frontdesk.store.tables import channels, contact_identities, contacts, messages, teams
from tests.databases import ON_POSTGRESQL
from tests.statements import Statements

PARIS = dt.timezone(dt.timedelta(hours=2))
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
TIMES = st.datetimes(
    min_value=dt.datetime(1970, 1, 2), max_value=dt.datetime(2200, 1, 1), timezones=st.just(dt.UTC)
) | st.datetimes(min_value=dt.datetime(1970, 1, 2), max_value=dt.datetime(2200, 1, 1), timezones=st.just(PARIS))


def _contact_values(name: str | None, fields: Any, at: dt.datetime) -> dict[str, Any]:
    return {"name": name, "fields": fields, "tags": ["vip"], "created_at": at, "updated_at": at}


# One database for every example is fine: each writes new rows and reads back only those.
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.none() | st.text(max_size=30), fields=JSON, at=TIMES)
def test_a_row_written_here_reads_the_same_through_sqlalchemy_and_back(
    db: Database, name: str | None, fields: Any, at: dt.datetime
) -> None:
    values = _contact_values(name, fields, at)

    def both(conn: Connection) -> tuple[Any, Any, Any]:
        ours = rows.insert(conn, contacts, values)
        theirs = conn.execute(insert(contacts).values(**values)).inserted_primary_key[0]
        read_by_sqlalchemy = conn.execute(select(contacts).where(contacts.c.id == ours)).mappings().one()
        return dict(read_by_sqlalchemy), rows.by_id(conn, contacts, theirs), rows.by_id(conn, contacts, ours)

    by_sqlalchemy, theirs_by_us, ours_by_us = db.write_sync(both)

    expected = {**values, "created_at": at.astimezone(dt.UTC), "updated_at": at.astimezone(dt.UTC)}
    if ON_POSTGRESQL:  # its text cannot hold NUL: the dialect writes U+FFFD instead
        expected = without_nul(expected)
    for found in (by_sqlalchemy, theirs_by_us, ours_by_us):
        assert {k: found[k] for k in expected} == expected
        assert found["created_at"].tzinfo is dt.UTC


def test_booleans_and_null_json_read_as_sqlalchemy_reads_them(db: Database) -> None:
    def write(conn: Connection) -> int:
        contact = rows.insert(conn, contacts, _contact_values("x", {}, dt.datetime.now(dt.UTC)))
        conversation = rows.execute(
            conn,
            "INSERT INTO conversations (contact_id, status, source, opened_at, last_message_at)"
            " VALUES (?, 'open', 'api', ?, ?) RETURNING id",
            (
                contact,
                rows.dialect(conn).encode_time(dt.datetime.now(dt.UTC)),
                rows.dialect(conn).encode_time(dt.datetime.now(dt.UTC)),
            ),
        ).fetchone()[0]
        return rows.insert(
            conn,
            messages,
            {
                "conversation_id": conversation,
                "direction": "out",
                "author_kind": "agent",
                "text": "hi",
                "opened_conversation": True,
                "delivery_status": "stored",
                "quick_replies": None,
                "created_at": dt.datetime.now(dt.UTC),
            },
        )

    message_id = db.write_sync(write)
    by_sqlalchemy = db.read_sync(
        lambda c: c.execute(select(messages).where(messages.c.id == message_id)).mappings().one()
    )
    ours = db.read_sync(lambda c: rows.by_id(c, messages, message_id))
    assert by_sqlalchemy["opened_conversation"] is True and ours is not None and ours["opened_conversation"] is True
    assert by_sqlalchemy["quick_replies"] is None and ours["quick_replies"] is None
    assert ours["private"] is False  # the server default, read back as a boolean


def test_a_naive_datetime_is_refused_and_nothing_is_written(db: Database) -> None:
    naive = dt.datetime(2026, 1, 1)
    with pytest.raises(ValueError, match="naive"):
        db.write_sync(lambda c: rows.insert(c, teams, {"name": "T", "assignment": {}, "created_at": naive}))
    assert db.read_sync(lambda c: c.execute(select(teams.c.id).where(teams.c.name == "T")).first()) is None


def test_insert_new_gives_none_for_a_row_a_unique_constraint_already_holds(db: Database) -> None:
    def twice(conn: Connection) -> tuple[int | None, int | None, int]:
        contact = rows.insert(conn, contacts, _contact_values("x", {}, dt.datetime.now(dt.UTC)))
        identity = {"contact_id": contact, "channel_id": _channel(conn), "external_id": "ada"}
        first = rows.insert_new(conn, contact_identities, identity)
        second = rows.insert_new(conn, contact_identities, identity)
        return first, second, rows.scalar(conn, "SELECT count(*) FROM contact_identities")

    first, second, count = db.write_sync(twice)
    assert first is not None and second is None and count == 1


def test_a_savepoint_undoes_what_its_block_wrote_and_only_that(db: Database) -> None:
    def work(conn: Connection) -> list[str]:
        rows.insert(conn, teams, {"name": "kept", "assignment": {}, "created_at": dt.datetime.now(dt.UTC)})
        with pytest.raises(RuntimeError), rows.savepoint(conn):
            rows.insert(conn, teams, {"name": "undone", "assignment": {}, "created_at": dt.datetime.now(dt.UTC)})
            with rows.savepoint(conn):  # nested, released: undone with its parent
                rows.insert(conn, teams, {"name": "inner", "assignment": {}, "created_at": dt.datetime.now(dt.UTC)})
            raise RuntimeError("step failed")
        return [name for (name,) in rows.execute(conn, "SELECT name FROM teams ORDER BY id")]

    assert db.write_sync(work) == ["kept"]
    assert db.read_sync(lambda c: [r.name for r in c.execute(select(teams.c.name))]) == ["kept"]


def _channel(conn: Connection) -> int:
    from frontdesk.store.tables import channels

    return rows.insert(
        conn,
        channels,
        {"type": "api", "name": "api", "config": {}, "secret": "s", "created_at": dt.datetime.now(dt.UTC)},
    )


def test_a_row_changed_twice_in_a_memo_block_is_one_update_that_every_statement_naming_its_table_reads(
    db: Database,
) -> None:
    """`update_later` merges a block's changes of a row into one UPDATE, written before any
    statement that names the table runs (the store's and SQLAlchemy's), and at the block's end."""
    values = {"name": "Before", "assignment": {}, "created_at": dt.datetime.now(dt.UTC)}
    team_id = db.write_sync(lambda conn: rows.insert(conn, teams, values))

    def block(conn: Connection) -> list[Any]:
        reads: list[Any] = []
        with rows.memo(conn):
            rows.update_later(conn, teams, team_id, {"name": "First"})
            rows.update_later(conn, teams, team_id, {"name": "Second"})
            reads.append(rows.scalar(conn, "SELECT count(*) FROM team_members"))  # another table: no write yet
            reads.append(rows.scalar(conn, "SELECT name FROM teams WHERE id = ?", (team_id,)))
            rows.update_later(conn, teams, team_id, {"name": "Third"})
            reads.append(conn.execute(select(teams.c.name).where(teams.c.id == team_id)).scalar_one())
            rows.update_later(conn, teams, team_id, {"name": "Last"})
        reads.append(rows.scalar(conn, "SELECT name FROM teams WHERE id = ?", (team_id,)))
        return reads

    with Statements(db) as counted:
        reads = db.write_sync(block)
    assert reads == [0, "Second", "Third", "Last"]
    updates = sum(n for (_, text), n in counted.seen.items() if text.startswith("UPDATE teams"))
    assert updates == 3, counted.seen  # First and Second in one, Third, Last


def test_a_chain_of_inserts_takes_the_ids_it_makes_and_stops_at_a_row_whose_twin_is_there(db: Database) -> None:
    """`insert_chain`: each row may take an earlier row's new id; a `new_only` row whose twin a
    unique constraint already holds is not written, and neither is anything after it (on
    PostgreSQL one statement: a WITH of INSERTs; on SQLite one insert after another)."""
    at = dt.datetime.now(dt.UTC)
    channel = {"type": "api", "name": "c", "config": {}, "secret": "s", "created_at": at}
    channel_id = db.write_sync(lambda conn: rows.insert(conn, channels, channel))

    taken = {"contact_id": 0}  # the first row's new id

    def chain(external_id: str) -> Any:
        def write(conn: Connection) -> list[int | None]:
            return rows.insert_chain(
                conn,
                [
                    rows.Link(contacts, _contact_values("Ada", {}, at)),
                    rows.Link(contact_identities, {"channel_id": channel_id, "external_id": external_id}, taken, True),
                    rows.Link(contacts, _contact_values("After", {}, at)),
                ],
            )

        return db.write_sync(write)

    first = chain("ada")
    assert None not in first and len(first) == 3
    found = db.read_sync(
        lambda c: c.execute(
            select(contact_identities.c.contact_id).where(contact_identities.c.external_id == "ada")
        ).all()
    )
    assert found == [(first[0],)]
    again = chain("ada")
    assert again[0] is not None and again[1:] == [None, None]
    names = db.read_sync(lambda c: sorted(r.name for r in c.execute(select(contacts.c.name))))
    assert names == ["Ada", "Ada", "After"]  # the second chain wrote its first row only


def test_many_rows_are_inserted_in_their_order_as_one_statement_on_postgresql(db: Database) -> None:
    """`insert_many`: on PostgreSQL one statement from one array per column, whatever the number of
    rows (events are inserted so at each commit, and their ids must follow their order)."""
    at = dt.datetime(2026, 12, 4, tzinfo=dt.UTC)
    names = [None if i % 7 == 0 else f"N\x00{i}" if i % 11 == 0 else f'Name "{i}" \\ {{' for i in range(250)]
    values = [
        _contact_values(name, {"i": i, "q": 'a"b\\c'}, at + dt.timedelta(seconds=i)) for i, name in enumerate(names)
    ]

    with Statements(db) as counted:
        db.write_sync(lambda conn: rows.insert_many(conn, contacts, values))

    found = db.read_sync(lambda conn: rows.select_all(conn, contacts, "id > 0 ORDER BY id"))[-250:]
    expected = without_nul(values) if ON_POSTGRESQL else values
    assert [{k: row[k] for k in values[0]} for row in found] == expected
    inserts = sum(n for (_, text), n in counted.seen.items() if text.startswith("INSERT INTO contacts"))
    assert inserts == (1 if ON_POSTGRESQL else 3)  # SQLite: 100 + 100 + 50 rows


def test_insert_many_ids_gives_the_new_ids_in_the_rows_order(db: Database) -> None:
    """Whatever order the database returns them in, across SQLite's chunks too (100 + 20 + 10 + 1)."""
    at = dt.datetime(2026, 12, 5, tzinfo=dt.UTC)
    values = [_contact_values(f"Row {i}", {"i": i}, at) for i in range(131)]

    ids = db.write_sync(lambda conn: rows.insert_many_ids(conn, contacts, values))

    assert ids == sorted(ids) and len(set(ids)) == len(values)
    found = db.read_sync(lambda conn: {i: n for i, n in conn.execute(select(contacts.c.id, contacts.c.name))})
    assert [found[i] for i in ids] == [v["name"] for v in values]


class _Names:
    """A caller's own deferred write (`rows.pending`) naming two tables: it renames its teams, and
    counts how often it ran."""

    tables = ("teams", "channels")

    def __init__(self) -> None:
        self.team_ids: list[int] = []
        self.runs = 0

    def write(self, conn: Connection) -> None:
        self.runs += 1
        for team_id in self.team_ids:
            rows.execute(conn, "UPDATE teams SET name = name || ' written' WHERE id = ?", (team_id,))


def test_a_pending_write_runs_once_before_a_statement_naming_any_of_its_tables(db: Database) -> None:
    at = dt.datetime.now(dt.UTC)
    first, second = db.write_sync(
        lambda conn: [rows.insert(conn, teams, {"name": n, "assignment": {}, "created_at": at}) for n in "AB"]
    )
    name = "SELECT name FROM teams WHERE id = ?"

    def block(conn: Connection) -> list[Any]:
        with rows.memo(conn):
            names = None
            for team_id in (first, second):
                names = rows.pending(conn, ("names",), _Names)
                assert names is not None
                names.team_ids.append(team_id)
            assert names is not None
            seen = [names.runs]
            rows.scalar(conn, "SELECT count(*) FROM contacts")  # names neither of its tables: still waiting
            seen.append(names.runs)
            rows.scalar(conn, "SELECT count(*) FROM channels")  # names one of them: written first
            seen.append(names.runs)
            seen.append(rows.scalar(conn, name, (first,)))
        seen.append(names.runs)  # the block's end wrote nothing again
        return seen

    assert db.write_sync(block) == [0, 0, 1, "A written", 1]
    assert db.read_sync(lambda conn: rows.scalar(conn, name, (second,))) == "B written"
    assert db.write_sync(lambda conn: rows.pending(conn, ("names",), _Names)) is None  # outside a block: write now


def test_deferred_writes_alike_but_for_their_keys_each_run_once(db: Database) -> None:
    """Only row UPDATEs of the same columns are sent together (`executemany`); two other deferred
    writes that happen to be equal are two writes."""
    values = {"name": "Before", "assignment": {}, "created_at": dt.datetime.now(dt.UTC)}
    team_id = db.write_sync(lambda conn: rows.insert(conn, teams, values))
    grow = "UPDATE teams SET name = name || 'x' WHERE id = ?"

    def block(conn: Connection) -> None:
        with rows.memo(conn):
            rows.write_later(conn, teams, ("first",), grow, (team_id,))
            rows.write_later(conn, teams, ("second",), grow, (team_id,))

    db.write_sync(block)
    assert db.read_sync(lambda conn: rows.scalar(conn, "SELECT name FROM teams WHERE id = ?", (team_id,))) == "Beforexx"


def test_what_a_memo_remembers_is_revised_or_forgotten_by_kind(db: Database) -> None:
    """`revise_each` / `forget_each` reach every key of one kind (a team's members: one list per
    team), and nothing of another kind."""
    keys = (("members", 1), ("members", 2), ("conversation", 1))

    def block(conn: Connection) -> tuple[list[Any], list[Any]]:
        with rows.memo(conn):
            for key, value in zip(keys, ([1, 2], [2], [2]), strict=True):
                rows.remember(conn, key, value)
            rows.revise_each(conn, "members", lambda found: [n * 10 for n in found])
            revised = [rows.recalled(conn, key) for key in keys]
            rows.forget_each(conn, "members")
            return revised, [rows.recalled(conn, key) for key in keys]

    revised, forgotten = db.write_sync(block)
    assert revised == [[10, 20], [20], [2]]
    assert forgotten == [None, None, [2]]
