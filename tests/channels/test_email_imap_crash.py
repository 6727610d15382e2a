"""A worker killed between fetching a mail from the mailbox and storing it: `frontdesk serve`'s real
worker process, SIGKILLed once it has fetched the mail while the database's writers' turn is held
by the test (so its store waits). The worker the server starts next reads that mail again: it is
stored once, nothing lost, nothing twice, and the mailbox is read on after it."""

from __future__ import annotations

import fcntl
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, make_url, select, text

from frontdesk.store.dialects.postgresql import WRITER_TURN_LOCK
from frontdesk.store.tables import mailbox_cursors
from tests.channels.dovecot import Dovecot
from tests.channels.email_support import INBOUND, mail
from tests.channels.test_email_imap import dovecot, imap_settings, mailbox
from tests.conftest import LiveServer, alive, worker_pids
from tests.databases import ON_POSTGRESQL
from tests.factories import eventually

__all__ = ["dovecot", "mailbox"]  # the module's dovecot and the test's mailbox, as fixtures here too
FETCHED = "imap mail fetched"


@contextmanager
def writers_waiting(db_url: str) -> Iterator[None]:
    """The database's writers' turn held (ADR 0008): every write of the server and its worker
    waits until the block ends."""
    if ON_POSTGRESQL:
        engine = create_engine(db_url)
        try:
            with engine.connect() as conn:
                conn.execute(text(f"SELECT pg_advisory_xact_lock({WRITER_TURN_LOCK})"))
                yield
                conn.rollback()
        finally:
            engine.dispose()
        return
    fd = os.open(f"{make_url(db_url).database}-writer.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def has_cursor(db_url: str, channel_id: int) -> bool:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            query = select(mailbox_cursors.c.channel_id).where(mailbox_cursors.c.channel_id == channel_id)
            return conn.execute(query).first() is not None
    finally:
        engine.dispose()


def worker_of(server: LiveServer) -> int:
    assert server.process is not None
    return worker_pids(server.process.pid)[0]


def inbound_texts(api: httpx.Client, channel_id: int) -> list[str]:
    texts = []
    for conversation in reversed(api.get("/api/v1/conversations", params={"channel_id": channel_id}).json()):
        found = api.get(f"/api/v1/conversations/{conversation['id']}/messages", params={"limit": 200}).json()
        texts += [m["text"] for m in found if m["direction"] == "in"]
    return texts


def test_a_worker_killed_between_fetching_and_storing_a_mail_loses_and_duplicates_nothing(
    db_url: str, tmp_path: Path, dovecot: Dovecot, mailbox: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FRONTDESK_LOG_LEVEL", "DEBUG")  # the poller says when it has fetched a mail
    log = tmp_path / "server.log"
    server = LiveServer(db_url, log)
    server.start()
    try:
        with httpx.Client(base_url=server.base_url, headers=server.headers, timeout=10) as api:
            body = {"type": "email", "name": "Mail", "inbound_address": INBOUND, "from_address": INBOUND}
            imap = imap_settings(dovecot, mailbox)
            created = api.post("/api/v1/channels", json={**body, "smtp_host": "127.0.0.1", "smtp_port": 9, **imap})
            assert created.status_code == 201, created.text
            channel = created.json()["id"]
            # the cursor row, not the "mailbox open" log line: the poller logs that before it takes
            # its starting point, and a mail appended in between counts as already there
            eventually(lambda: has_cursor(db_url, channel), "the worker's poller taking its starting point")
            dovecot.append(mail("Stored before", sender="a@example.org"), mailbox)
            eventually(lambda: inbound_texts(api, channel) == ["Stored before"], "the first mail")

            with writers_waiting(db_url):
                dovecot.append(mail("Fetched, then the crash", sender="b@example.org"), mailbox)
                eventually(lambda: log.read_text().count(FETCHED) == 2, "the worker fetching the second mail")
                worker = worker_of(server)
                os.kill(worker, signal.SIGKILL)
                eventually(lambda: not alive(worker), "the worker's death")
            assert inbound_texts(api, channel) == ["Stored before"]  # its store never came

            dovecot.append(mail("After the restart", sender="c@example.org"), mailbox)
            stored = eventually(
                lambda: (found := inbound_texts(api, channel))[-1:] == ["After the restart"] and found,
                "the restarted worker",
            )
            # mail is read oldest first: a second copy of the crashed one would be stored before this one
            assert stored == ["Stored before", "Fetched, then the crash", "After the restart"]
    finally:
        server.stop()
    assert log.read_text().count(FETCHED) == 4, "the crashed mail is fetched again by the new worker"
