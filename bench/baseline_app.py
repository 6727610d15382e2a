"""Baseline (a): the ingest ceiling of this stack. A bare Litestar app on uvicorn (uvloop,
httptools) whose one POST handler parses the body Frontdesk's API channel accepts and inserts one
row into SQLite (WAL, synchronous=FULL) through one writer thread that group-commits — the same
architecture as Frontdesk (ADR 0001) with nothing else: no auth, no contacts, no events."""

from __future__ import annotations

import argparse
import asyncio
import queue
import sqlite3
import threading
import time
from concurrent.futures import Future
from typing import Annotated, Any

import msgspec
import uvicorn
from litestar import Litestar, get, post

MAX_BATCH = 512

Text200 = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class InboundContact(msgspec.Struct, forbid_unknown_fields=True):
    external_id: Text200
    name: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    fields: dict[str, Any] = msgspec.field(default_factory=dict)


class InboundText(msgspec.Struct, forbid_unknown_fields=True):
    id: Text200
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=10_000)]


class InboundBody(msgspec.Struct, forbid_unknown_fields=True):
    contact: InboundContact
    message: InboundText


class Writer:
    """One thread owns the only write connection; it commits every waiting insert at once."""

    def __init__(self, path: str) -> None:
        self.conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY, channel_id INTEGER NOT NULL,"
            " external_id TEXT NOT NULL, provider_message_id TEXT NOT NULL, text TEXT NOT NULL,"
            " contact_name TEXT, created_at REAL NOT NULL)"
        )
        self.jobs: queue.SimpleQueue[tuple[tuple[Any, ...], Future[int]] | None] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._run, name="baseline-writer", daemon=True)
        self.thread.start()

    async def insert(self, row: tuple[Any, ...]) -> int:
        future: Future[int] = Future()
        self.jobs.put((row, future))
        return await asyncio.wrap_future(future)

    def close(self) -> None:
        self.jobs.put(None)
        self.thread.join()
        self.conn.close()

    def _run(self) -> None:
        while (first := self.jobs.get()) is not None:
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    job = self.jobs.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    self.jobs.put(None)
                    break
                batch.append(job)
            self._commit(batch)

    def _commit(self, batch: list[tuple[tuple[Any, ...], Future[int]]]) -> None:
        ids = []
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            for row, _ in batch:
                ids.append(
                    self.conn.execute(
                        "INSERT INTO messages (channel_id, external_id, provider_message_id, text, contact_name,"
                        " created_at) VALUES (?, ?, ?, ?, ?, ?)",
                        row,
                    ).lastrowid
                )
            self.conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            for _, future in batch:
                future.set_exception(exc)
            return
        for (_, future), row_id in zip(batch, ids, strict=True):
            future.set_result(row_id or 0)


def create_app(database: str) -> Litestar:
    writer: Writer | None = None

    def start() -> None:
        nonlocal writer
        writer = Writer(database)

    def stop() -> None:
        if writer is not None:
            writer.close()

    @post("/api/v1/channels/{channel_id:int}/inbound", status_code=200)
    async def inbound(channel_id: int, data: InboundBody) -> dict[str, Any]:
        assert writer is not None
        row = (channel_id, data.contact.external_id, data.message.id, data.message.text, data.contact.name, time.time())
        message_id = await writer.insert(row)
        return {"contact_id": 0, "conversation_id": 0, "message_id": message_id, "conversation_opened": False}

    @get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return Litestar([inbound, healthz], on_startup=[start], on_shutdown=[stop], logging_config=None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database", required=True)
    args = parser.parse_args()
    uvicorn.run(
        create_app(args.database),
        host="127.0.0.1",
        port=args.port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
