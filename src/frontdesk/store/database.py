"""The database handle: one writer thread that group-commits, and a pool of read connections.

All writes of a process go through one thread owning one connection. It takes every write
waiting in its queue, runs each inside its own SAVEPOINT (so one failing request changes
nothing and does not spoil the others), commits the batch once (one fsync with SQLite
`synchronous=FULL`), then answers every caller. A caller is answered only once its write is
on disk, and concurrent requests share the cost of the sync (DESIGN.md §5, ADR 0001).

Processes writing the same SQLite file (the server and its worker, ADR 0004) take turns on a
lock file beside it: a writer waiting for its turn sleeps in the kernel and wakes the moment
the other commits, instead of polling in SQLite's busy handler (first retry after 1 ms, then
2, 5, 10 … ms).

The database, its -wal and -shm, the lock and the key file are readable by their owner only
(0600; SQLite gives the -wal and -shm the mode of the database file), in a 0700 folder when
Frontdesk creates it: they hold conversations and, encrypted, secrets (ADR 0005).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import fcntl
import logging
import os
import queue
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import anyio.to_thread
import psycopg
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from frontdesk.domain.errors import DomainError
from frontdesk.store import dialects, notify, rows
from frontdesk.store.dialects import postgresql
from frontdesk.store.dialects.base import dumps, loads
from frontdesk.store.encryption import SecretBox, attach
from frontdesk.store.sql.events import drop_events_after, events_at_commit, pending_events

log = logging.getLogger(__name__)

T = TypeVar("T")
Work = Callable[[Connection], T]
WAKE_KEY = "frontdesk.wake"
TALLY_KEY = "frontdesk.tally"
BESIDE_KEY = "frontdesk.beside"  # in conn.info: True while the transaction runs beside other writers
MAX_BATCH = 512
Tally = collections.Counter[tuple[str, ...]]


async def sleep_until_set(flag: asyncio.Event, seconds: float) -> None:
    """Wait for `flag` at most `seconds`. (asyncio.timeout, not wait_for: on Python 3.11 wait_for
    can swallow a cancellation, which left background loops running at shutdown.)"""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(max(seconds, 0.0)):
            await flag.wait()


def wake(conn: Connection, topic: str) -> None:
    """Ask for `topic`'s listeners to be told once the current write is committed."""
    conn.info.setdefault(WAKE_KEY, set()).add(topic)


class NeedsTurn(Exception):
    """A job running beside other processes' writers came to a decision one of them could make
    wrong (`need_turn`): its batch is rolled back and runs again in the writers' turn."""


def need_turn(conn: Connection) -> None:
    """Call before a read-then-write that another process's concurrent write could invalidate.
    In a batch of jobs written `parallel=True` that runs beside other writers (PostgreSQL), it
    stops the batch, which runs again in the writers' turn (ADR 0008), where every write commits
    as if alone; everywhere else (in the turn, on SQLite, outside the writer) it does nothing."""
    if conn.info.get(BESIDE_KEY):
        raise NeedsTurn


def tally(conn: Connection, *key: str) -> None:
    """Count `key` (a metric's name and its labels) once the current write is committed: a write
    rolled back or run again is counted once, or never (frontdesk.metrics)."""
    conn.info.setdefault(TALLY_KEY, Tally())[key] += 1


@dataclass
class Batch:
    """What one turn of the writer committed, for its observers (frontdesk.metrics)."""

    jobs: int = 0
    turn_wait: float = 0.0  # seconds spent waiting for the writers' turn (ADR 0008)
    beside: str = ""  # "committed" beside the other writers, or "retried" in the turn after (`need_turn`)
    topics: set[str] = field(default_factory=set)
    tally: Tally = field(default_factory=Tally)


@dataclass(eq=False)
class _Job:
    work: Work[Any]
    parallel: bool = False  # may run beside other processes' writers (`Database.write`)
    future: Future[Any] = field(default_factory=Future)


class Database:
    """Owns the engines. `write()` is the only way state changes; `read()` never blocks writes."""

    def __init__(self, url: str, *, read_pool_size: int = 4, secret_key: str | None = None) -> None:
        """`secret_key`: FRONTDESK_SECRET_KEY; None uses (and makes once) the key file `key_path(url)`."""
        self.url = url = with_driver(url)
        self.dialect = dialects.for_url(url)  # how the store's statements run on this database
        self.is_sqlite = make_url(url).get_backend_name() == "sqlite"
        if self.is_sqlite:
            _prepare_files(url)
        self.box = SecretBox.load(secret_key, key_path(url))
        self.write_engine = _engine(url, self.is_sqlite, pool_size=1, writer=True)
        self.read_engine = _engine(url, self.is_sqlite, pool_size=read_pool_size, writer=False)
        for engine in (self.write_engine, self.read_engine):
            attach(engine, self.box)
            if self.dialect is not None:
                rows.attach(engine, self.dialect)
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._listeners: list[Callable[[set[str]], None]] = []
        self._observers: list[Callable[[Batch], None]] = []
        self._done = Batch()  # the writer thread's only
        self._turn = _WriterTurn(_lock_path(url) if self.is_sqlite else None)
        self.sender = notify.new_sender()  # on PostgreSQL, what tells this Database's notifications apart

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run_writer, name="frontdesk-writer", daemon=True)
        self._thread.start()

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
        self._turn.close()
        self.write_engine.dispose()
        self.read_engine.dispose()

    def on_commit(self, listener: Callable[[set[str]], None]) -> None:
        """`listener(topics)` runs in the writer thread after each batch that woke a topic."""
        self._listeners.append(listener)

    def on_batch(self, observer: Callable[[Batch], None]) -> None:
        """`observer(batch)` runs in the writer thread after each batch (frontdesk.metrics)."""
        self._observers.append(observer)

    def announce(self, topics: set[str], *, skip: Callable[[set[str]], None] | None = None) -> None:
        """Tell the listeners (but `skip`) that `topics` changed: after a commit of this process,
        or when another process says it committed them (frontdesk.worker, store.notify)."""
        for listener in self._listeners:
            if listener != skip:  # `==`: each access to a bound method makes a new object
                listener(topics)

    # -- writes ----------------------------------------------------------------------------
    def submit(self, work: Work[T], *, parallel: bool = False) -> Future[T]:
        if self._thread is None:
            raise RuntimeError("Database.start() was not called")
        job = _Job(work, parallel)
        self._queue.put(job)
        return job.future

    async def write(self, work: Work[T], *, parallel: bool = False) -> T:
        """Run `work(conn)` in the writer's transaction; return once it is durably committed.

        `parallel`: on PostgreSQL, a batch of such jobs only runs beside other processes' writers,
        without waiting for the writers' turn (ADR 0008). Such a job lets row locks and unique
        indexes decide between writers, and calls `need_turn(conn)` before any other decision a
        concurrent write could make wrong: its batch then runs again in the turn."""
        return await asyncio.wrap_future(self.submit(work, parallel=parallel))

    def write_sync(self, work: Work[T], *, parallel: bool = False) -> T:
        return self.submit(work, parallel=parallel).result()

    # -- reads -----------------------------------------------------------------------------
    def read_sync(self, work: Work[T]) -> T:
        with self.read_engine.begin() as conn:
            return work(conn)

    async def read(self, work: Work[T]) -> T:
        return await anyio.to_thread.run_sync(self.read_sync, work)

    # -- the writer thread -----------------------------------------------------------------
    def _run_writer(self) -> None:
        with self.write_engine.connect() as conn:
            while True:
                first = self._queue.get()
                if first is None:
                    return
                batch, stop = self._take_batch(first)
                self._commit_batch(conn, batch)
                if stop:
                    return

    def _take_batch(self, first: _Job) -> tuple[list[_Job], bool]:
        batch = [first]
        while len(batch) < MAX_BATCH:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                return batch, False
            if job is None:
                return batch, True
            batch.append(job)
        return batch, False

    def _commit_batch(self, conn: Connection, batch: list[_Job]) -> None:
        jobs = [job for job in batch if job.future.set_running_or_notify_cancel()]  # others gave up
        if not jobs:
            return
        self._done = Batch(len(jobs))
        try:
            outcomes = self._attempts(conn, jobs, BATCH_ATTEMPTS)
        except Conflict:  # the batch kept colliding with other processes' writes: one job at a time
            outcomes = []
            for job in jobs:
                try:
                    outcomes.extend(self._attempts(conn, [job], JOB_ATTEMPTS))
                except Exception as exc:
                    outcomes.append((job, None, exc))
        except Exception as exc:  # the commit itself failed: nobody's write is durable
            log.exception("batch commit failed", extra={"batch": len(jobs)})
            outcomes = [(job, None, exc) for job in jobs]
        for job, value, error in outcomes:
            if error is None:
                job.future.set_result(value)
            else:
                job.future.set_exception(error)
        done = self._done
        if done.topics:
            self.announce(done.topics)
        for observer in self._observers:
            observer(done)

    def _attempts(self, conn: Connection, jobs: list[_Job], attempts: int) -> list[_Outcome]:
        """Run `jobs` in one transaction, again from the start (at most `attempts` times in all)
        while PostgreSQL reports a serialization conflict or a deadlock with another process."""
        for attempt in range(1, attempts + 1):
            try:
                return self._batch(conn, jobs)
            except Exception as exc:
                if not conflicted(exc):
                    raise
                if attempt == attempts:
                    raise Conflict(str(exc)) from exc
                log.info("write conflict; retrying", extra={"batch": len(jobs), "attempt": attempt})
                time.sleep(random.uniform(0, 0.002 * 2**attempt))
        raise AssertionError("unreachable")

    def _batch(self, conn: Connection, jobs: list[_Job]) -> list[_Outcome]:
        """The jobs in one transaction, first without a savepoint each (two round trips a job on
        PostgreSQL, for a failure that is rare). If a job fails, the transaction is rolled back:
        alone, that is its outcome; in a batch, the batch runs again, each job in a savepoint, so
        that the others still commit (jobs are re-runnable: conflicts re-run them too).

        On PostgreSQL a batch of `parallel` jobs first runs beside the other writers; if one of
        them needs the turn (`need_turn`) or fails, the batch runs again in the turn, where a
        failure is its own (a unique index another writer won, seen there as the winner's row)."""
        if not self.is_sqlite and all(job.parallel for job in jobs):
            try:
                outcomes = self._transaction(conn, jobs, isolated=False, beside=True)
            except _JobFailed as failed:
                if len(jobs) == 1 and isinstance(failed.outcome[2], DomainError):
                    return [failed.outcome]  # refused (bad input): no writer's work could change that
                self._done.beside = "retried"
            else:
                self._done.beside = "committed"
                return outcomes
        try:
            return self._transaction(conn, jobs, isolated=False)
        except _JobFailed as failed:
            if len(jobs) == 1:
                return [failed.outcome]
            return self._transaction(conn, jobs, isolated=True)

    def _transaction(
        self, conn: Connection, jobs: list[_Job], *, isolated: bool, beside: bool = False
    ) -> list[_Outcome]:
        conn.info[WAKE_KEY], conn.info[TALLY_KEY] = set(), Tally()
        outcomes: list[_Outcome] = []
        waiting = time.perf_counter()
        with self._turn, conn.begin(), events_at_commit(conn), _beside(conn, beside):
            if not beside:
                rows.take_writer_turn(conn)
            self._done.turn_wait += time.perf_counter() - waiting
            for job in jobs:
                outcome = _run_in_savepoint(conn, job) if isolated else _run(job, conn)
                error = outcome[2]
                if error is not None and conflicted(error):
                    raise error  # the whole transaction is spoilt, not only this job
                if error is not None and not isolated:
                    raise _JobFailed(outcome)
                outcomes.append(outcome)
            if conn.info[WAKE_KEY] and not self.is_sqlite:  # other processes hear it once it commits
                notify.send(conn, self.sender, conn.info[WAKE_KEY])
        self._done.topics |= conn.info.pop(WAKE_KEY)  # committed: a batch run job by job commits several times
        self._done.tally += conn.info.pop(TALLY_KEY)
        return outcomes


@contextlib.contextmanager
def _beside(conn: Connection, beside: bool) -> Iterator[None]:
    """Mark `conn`'s transaction as running beside other writers (`need_turn`) while it runs."""
    conn.info[BESIDE_KEY] = beside
    try:
        yield
    finally:
        conn.info.pop(BESIDE_KEY, None)


_Outcome = tuple[_Job, Any, BaseException | None]
BATCH_ATTEMPTS = 3  # then each job of the batch on its own
JOB_ATTEMPTS = 10
_RETRYABLE = frozenset({"40001", "40P01"})  # serialization_failure, deadlock_detected


class _JobFailed(Exception):
    """A job of a transaction without savepoints raised: the transaction goes back."""

    def __init__(self, outcome: _Outcome) -> None:
        super().__init__(repr(outcome[2]))
        self.outcome = outcome


class Conflict(Exception):
    """A write kept conflicting with concurrent writes of other processes (PostgreSQL)."""


def is_store_failure(exc: BaseException) -> bool:
    """Whether `exc` came from the database (its driver, or SQLAlchemy wrapping it)."""
    return isinstance(exc, sqlite3.Error | psycopg.Error | DBAPIError)


def conflicted(exc: BaseException) -> bool:
    """Whether `exc` (from the driver, or SQLAlchemy's wrapper of it) is a conflict worth a retry."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return False
        if getattr(seen, "sqlstate", None) in _RETRYABLE:
            return True
        seen = getattr(seen, "orig", None) or seen.__cause__ or seen.__context__
    return False


def _run(job: _Job, conn: Connection) -> _Outcome:
    try:
        return job, job.work(conn), None
    except Exception as exc:
        return job, None, exc


def _run_in_savepoint(conn: Connection, job: _Job) -> _Outcome:
    try:
        with savepoint(conn):
            value = job.work(conn)
    except Exception as exc:
        return job, None, exc
    return job, value, None


@contextlib.contextmanager
def savepoint(conn: Connection) -> Iterator[None]:
    """Undo what the block did in the writer's transaction if it raises: its rows (a SAVEPOINT on
    the driver's cursor: SQLAlchemy's nested transactions cost ~0.1 ms), and the events it kept
    aside for the commit and the counts it tallied, which are no rows yet."""
    mark, counted = pending_events(conn), conn.info.get(TALLY_KEY)
    before = None if counted is None else Tally(counted)
    try:
        with rows.savepoint(conn):
            yield
    except BaseException:
        drop_events_after(conn, mark)
        if before is None:
            conn.info.pop(TALLY_KEY, None)
        else:
            conn.info[TALLY_KEY] = before
        raise


def _engine(url: str, is_sqlite: bool, *, pool_size: int, writer: bool) -> Engine:
    if not is_sqlite:
        # Writers take turns (`rows.take_writer_turn`, ADR 0008) at READ COMMITTED, as SQLite's do;
        # readers see one snapshot per read.
        engine = create_engine(
            url,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=True,
            isolation_level="READ COMMITTED" if writer else "REPEATABLE READ",
            connect_args={"options": "-c TimeZone=UTC", "application_name": "frontdesk"},
            json_serializer=postgresql.dumps_without_nul,
            json_deserializer=loads,
        )

        @event.listens_for(engine, "before_cursor_execute", retval=True)
        def _without_nul(_conn: Any, _cursor: Any, sql: str, params: Any, *_: Any) -> tuple[str, Any]:
            return sql, postgresql.clean_parameters(params) if params else params

        return engine
    sizes = {} if in_memory(url) else {"pool_size": pool_size, "max_overflow": pool_size}
    engine = create_engine(
        url, connect_args={"check_same_thread": False}, json_serializer=dumps, json_deserializer=loads, **sizes
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling breaks SAVEPOINT; we emit BEGIN ourselves.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")  # an acknowledged write survives power loss
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")

    return engine


class _WriterTurn:
    """An exclusive flock on a file beside the database, held from BEGIN to COMMIT."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self._fd: int | None = None

    def __enter__(self) -> None:
        if self.path is None:
            return
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)  # releases the GIL while it waits

    def __exit__(self, *_: object) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def with_driver(url: str) -> str:
    """`postgresql://…` means psycopg 3 (SQLAlchemy's default would be psycopg2, not installed)."""
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return url


def in_memory(url: str) -> bool:
    """An SQLite database that lives in one process only (so no worker process can share it)."""
    parsed = make_url(url)
    return parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:")


def _database_file(url: str) -> Path | None:
    """The file of an SQLite `url`; None in memory, or for a `file:` URI (SQLite's to resolve)."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).expanduser().resolve()


def key_path(url: str) -> Path | None:
    """The key file beside an SQLite database (`var/frontdesk.db` -> `var/frontdesk.key`); for
    another database, `var/frontdesk.key` under the working directory; None in memory."""
    if in_memory(url):
        return None
    path = _database_file(url)
    return path.with_suffix(".key") if path is not None else Path("var/frontdesk.key").resolve()


def _lock_path(url: str) -> str | None:
    path = _database_file(url)
    return None if path is None else f"{path}-writer.lock"


OWNER_ONLY = 0o600
_COMPANIONS = ("", "-wal", "-shm", "-writer.lock")


def _prepare_files(url: str) -> None:
    """Create the folder (0700) and the database file (0600) before SQLite does, and restrict
    the files an older version left readable to others."""
    path = _database_file(url)
    if path is None:
        return
    if not path.parent.exists():
        path.parent.parent.mkdir(parents=True, exist_ok=True)
        path.parent.mkdir(mode=0o700, exist_ok=True)
    os.close(os.open(path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, OWNER_ONLY))
    for suffix in _COMPANIONS:
        restrict(Path(f"{path}{suffix}"))


def restrict(path: Path) -> None:
    """Make `path` (when it exists) readable and writable by its owner only."""
    try:
        if path.stat().st_mode & 0o077:
            path.chmod(OWNER_ONLY)
    except FileNotFoundError:
        return
    except PermissionError:
        log.warning("cannot restrict the file's mode to 0600", extra={"path": str(path)})
