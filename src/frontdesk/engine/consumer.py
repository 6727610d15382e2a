"""Consumes the event log in order: cancels runs of closed conversations, hands replies to the
run waiting for them, starts the runs of matching workflows — and moves the cursors, all in one
transaction. An event is thus processed exactly once, even across crashes (ADR 0002).

The log is read by partition (a contact's events all in one, ADR 0009): a worker processes the
partitions it holds a lease on (`process_owned`), re-read in the batch's own transaction; a lone
consumer without leases (tests, benchmarks, tools) processes them all (`process_events`)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection

from frontdesk.assignment.away import maybe_send_away
from frontdesk.domain import events as ev
from frontdesk.domain.model import Source
from frontdesk.domain.records import Event
from frontdesk.domain.workflows.conditions import evaluate
from frontdesk.engine.runs import (
    VersionCache,
    advance_together,
    load_run,
    may_await_reply,
    replies_expected,
    resume,
    start_run,
)
from frontdesk.engine.runtime import build_context
from frontdesk.steps.base import Assigned, Reply, ReplyAttachment
from frontdesk.store import rows
from frontdesk.store.sql import attachments, conversations, events, messages, partitions, runs

# Events per writer job. A writer batch holds many requests' jobs and one of the engine's; each new
# conversation adds ~5 events, so a smaller page lets ingest outrun the engine under load.
EVENT_BATCH = 1000
TRIGGERS = {
    ev.CONVERSATION_OPENED,
    ev.CONVERSATION_CLOSED,
    ev.MESSAGE_RECEIVED,
    ev.CONTACT_FIELD_UPDATED,
    ev.CONTACT_TAG_ADDED,
    ev.CONTACT_TAG_REMOVED,
}


def process_events(conn: Connection, cache: VersionCache, now: dt.datetime, limit: int = EVENT_BATCH) -> int:
    """Process up to `limit` events of every partition after its cursor; how many were read (0:
    the log is consumed)."""
    return _process_partitions(conn, cache, partitions.positions(conn), now, limit)


def process_owned(conn: Connection, cache: VersionCache, owner: str, now: dt.datetime, limit: int = EVENT_BATCH) -> int:
    """Process up to `limit` events of the partitions `owner` still holds a lease on; how many were
    read (0 when it holds none any more: a paused worker's takeover commits nothing of it)."""
    return _process_partitions(conn, cache, partitions.owned(conn, owner, now), now, limit)


def _process_partitions(
    conn: Connection, cache: VersionCache, positions: dict[int, int], now: dt.datetime, limit: int
) -> int:
    """Read the partitions' events from their lowest cursor on, skip those a partition already
    passed, process the rest in id order; then every partition has seen every event up to the
    last id read, and its cursor moves there."""
    if not positions:
        return 0
    batch = events.after(conn, min(positions.values()), positions.keys(), limit)
    if not batch:
        return 0
    fresh = [event for partition, event in batch if event.id > positions[partition]]
    if fresh:
        by_trigger = _enabled_workflows(conn)
        first = _first_messages(fresh)

        received = {e.conversation_id for e in fresh if e.type == ev.MESSAGE_RECEIVED and e.conversation_id is not None}

        def work() -> None:
            with replies_expected(conn, received):
                for event in fresh:
                    _process(conn, cache, event, by_trigger, now, first)

        with rows.memo(conn):  # no step changes a channel or a team's settings
            conversations.read_with_contacts(conn, _contexts_read(fresh, by_trigger))
            advance_together(conn, work)
    partitions.advance(conn, positions.keys(), batch[-1][1].id)
    return len(batch)


def _contexts_read(batch: list[Event], by_trigger: dict[str, list[tuple[int, int]]]) -> Iterator[int]:
    """The conversations whose context the batch's workflow triggers read (`trigger_workflows`)."""
    for event in batch:
        if event.conversation_id is not None and _triggers(event, by_trigger):
            yield event.conversation_id


def _triggers(event: Event, by_trigger: dict[str, list[tuple[int, int]]]) -> bool:
    """Whether the event may start runs: enabled workflows start on its type."""
    return event.type in TRIGGERS and bool(by_trigger.get(event.type))


def _enabled_workflows(conn: Connection) -> dict[str, list[tuple[int, int]]]:
    found: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for workflow in runs.published_workflows(conn):
        if workflow.trigger_event is not None:
            found[workflow.trigger_event].append((workflow.id, workflow.version_id))
    return found


def _process(
    conn: Connection,
    cache: VersionCache,
    event: Event,
    by_trigger: dict[str, list[tuple[int, int]]],
    now: dt.datetime,
    first: dict[int, dict[str, Any]],
) -> None:
    kind = event.type
    if kind == ev.CONVERSATION_CLOSED:
        cancel_runs(conn, event.conversation_id, "conversation closed", now)
    if kind == ev.CONVERSATION_ASSIGNED and event.payload.get("agent_id") is not None:
        _resume_queued(conn, cache, event, now)
    if kind in (ev.MESSAGE_RECEIVED, ev.CONVERSATION_QUEUED):
        maybe_send_away(conn, event.conversation_id, now)
    if kind == ev.MESSAGE_RECEIVED and _deliver_reply(conn, cache, event, now):
        return  # an answer to a question belongs to the run that asked it
    if _triggers(event, by_trigger):
        trigger_workflows(conn, cache, event, by_trigger[kind], now, first)


def _deliver_reply(conn: Connection, cache: VersionCache, event: Event, now: dt.datetime) -> bool:
    if event.conversation_id is None or not may_await_reply(conn, event.conversation_id):
        return False
    run_id = runs.waiting_for_reply(conn, event.conversation_id, event.id)
    if run_id is None:
        return False
    run = load_run(conn, cache, run_id)
    run.reply_event_id = event.id
    resume(conn, run, _reply(conn, event), now)
    return True


def _reply(conn: Connection, event: Event) -> Reply:
    """The contact's answer: its text, and what it carries (read only when it carries something)."""
    message_id = event.payload["message_id"]
    if not event.payload.get("attachments"):
        return Reply(event.payload["text"], message_id)
    carried = attachments.of_messages(conn, [message_id]).get(message_id, [])
    found = tuple(ReplyAttachment(a.id, a.kind, a.data) for a in carried)
    return Reply(event.payload["text"], message_id, found)


def _resume_queued(conn: Connection, cache: VersionCache, event: Event, now: dt.datetime) -> None:
    """A conversation a run left in a queue got an agent: the run goes on from its assign step."""
    if event.conversation_id is None:
        return
    for run_id in runs.waiting_for_agent(conn, event.conversation_id):
        resume(conn, load_run(conn, cache, run_id), Assigned(event.payload["agent_id"]), now)


def trigger_workflows(
    conn: Connection,
    cache: VersionCache,
    event: Event,
    candidates: list[tuple[int, int]],
    now: dt.datetime,
    first: dict[int, dict[str, Any]],
) -> None:
    trigger = {
        "event": {"id": event.id, "type": event.type, **event.payload},
        "message": _message(conn, event, first),
    }
    context = build_context(conn, event.contact_id, event.conversation_id, trigger)
    unchanged: dict[str, Any] | None = context  # until a run has acted, its first step may reuse it
    for workflow_id, version_id in candidates:
        workflow = cache.get(conn, version_id)
        if not evaluate(workflow.trigger.conditions, context)[0]:
            continue
        started = start_run(
            conn,
            cache,
            workflow_id,
            version_id,
            event.id,
            trigger,
            event.contact_id,
            event.conversation_id,
            now,
            context=None if unchanged is None else dict(unchanged),
        )
        if started:
            unchanged = None


def _message(conn: Connection, event: Event, first: dict[int, dict[str, Any]]) -> dict[str, Any] | None:
    """The contact's message behind the event: its own, or the one that opened the conversation."""
    payload = event.payload
    if "text" in payload and "message_id" in payload:
        return {"id": payload["message_id"], "text": payload["text"]}
    if event.type != ev.CONVERSATION_OPENED or event.conversation_id is None:
        return None
    if event.conversation_id in first:
        return first[event.conversation_id]
    found = messages.first_inbound(conn, event.conversation_id)
    return {"id": found[0], "text": found[1]} if found else None


def _first_messages(batch: list[Event]) -> dict[int, dict[str, Any]]:
    """The first message of each conversation its contact opened in `batch`, read from the batch:
    ingest stores that message and emits its `message.received` in the transaction that opens the
    conversation, so it is the conversation's first inbound message (what `first_inbound` would
    read back). A batch that ends between the two events leaves the conversation to the query."""
    opened: set[int] = set()
    found: dict[int, dict[str, Any]] = {}
    for event in batch:
        conversation_id = event.conversation_id
        if conversation_id is None:
            continue
        if event.type == ev.CONVERSATION_OPENED and event.payload.get("source") == Source.CONTACT:
            opened.add(conversation_id)
        elif event.type == ev.MESSAGE_RECEIVED and conversation_id in opened and conversation_id not in found:
            found[conversation_id] = {"id": event.payload["message_id"], "text": event.payload["text"]}
    return found


def cancel_runs(conn: Connection, conversation_id: int | None, reason: str, now: dt.datetime) -> None:
    if conversation_id is not None:
        runs.cancel_waiting(conn, conversation_id, reason, now)
