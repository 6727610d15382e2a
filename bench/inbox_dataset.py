"""Scenario 5's data set: a Frontdesk SQLite database at inbox scale (by default 1 M contacts,
1.2 M conversations, 10 M messages), built in minutes rather than the hours ingest would take.

The schema comes from the real migrations and the organisation (the demo, more agents and teams,
logins) from the real actions; the bulk rows are then written straight through sqlite3 with
executemany in large transactions, with the columns the actions write. Messages are inserted in
time order across conversations (a k-way merge), so ids interleave as they do in production.

    python -m bench.inbox_dataset --contacts 1000000 --out bench/.data/inbox-1m.db
"""

from __future__ import annotations

import argparse
import datetime as dt
import heapq
import json
import random
import sqlite3
import time
from array import array
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench import inbox_org
from bench.inbox_org import Organisation

DAY = 86_400.0
HORIZON = 365 * DAY  # conversations are spread over the last year
MEAN_GAP = 240.0  # seconds between two messages of a conversation, on average
BATCH = 50_000  # rows per executemany
COMMIT_EVERY = 1_000_000  # rows per transaction
EPOCH = dt.datetime(1970, 1, 1)
IN_TEXTS = (
    "Hello, I have a billing question about my last invoice",
    "Hi! I would like to talk to sales about your prices",
    "My app crashes when I try to log in, can you help?",
    "Is there any update on my order?",
    "Thanks, that worked!",
    "I still cannot see the refund on my account, it has been a week now.",
    "Can I change the e-mail address on my account?",
    "ok",
    "The parcel arrived damaged. What should I do? I attached photos in my previous e-mail.",
    "Do you ship to Canada?",
)
OUT_TEXTS = (
    "Thanks for writing! Let me check that for you.",
    "Could you send me your order number, please?",
    "I have issued the refund; it takes 3 to 5 working days to appear.",
    "You can change it under Settings → Account. Anything else I can help with?",
    "Sorry about that! I have forwarded it to our technical team.",
    "Yes, we ship worldwide; delivery to Canada takes about a week.",
)
NOTES = ("Customer is on the enterprise plan, be careful.", "Escalated to tier 2.", "Possible duplicate of #4411.")
GREETING = "Hi! What can we help you with?"
FOLLOW_UP = "Thanks! Someone from the team will answer you shortly."
QUICK = json.dumps(["Sales", "Support", "Billing"])
CATEGORIES = ("billing", "sales", "support", "spam", None)


@dataclass(frozen=True)
class Sizes:
    """How big the data set is; `for_contacts` keeps the issue's proportions at any scale."""

    contacts: int
    conversations: int
    messages: int
    open_conversations: int
    long_conversations: int  # open conversations with `long_messages` messages (the thread page's case)
    long_messages: int
    extra_agents: int = 95  # beside the demo's 5
    extra_teams: int = 3  # beside the demo's 3

    @classmethod
    def for_contacts(cls, contacts: int) -> Sizes:
        long_messages = 2000 if contacts >= 100_000 else max(20, contacts // 50)
        return cls(
            contacts=contacts,
            conversations=contacts * 6 // 5,
            messages=contacts * 10,
            open_conversations=max(10, contacts * 3 // 100),
            long_conversations=max(1, min(10, contacts // 100_000)),
            long_messages=long_messages,
        )


_MINUTES: dict[int, str] = {}


def _stamp(seconds: float) -> str:
    """The text SQLAlchemy's SQLite DateTime stores (naive UTC, always with microseconds); the
    date and minute are cached, as messages come in time order (formatting is a large part of the build)."""
    whole = int(seconds)
    minute, second = divmod(whole, 60)
    prefix = _MINUTES.get(minute)
    if prefix is None:
        if len(_MINUTES) > 1_000_000:
            _MINUTES.clear()
        prefix = _MINUTES[minute] = (EPOCH + dt.timedelta(minutes=minute)).isoformat(" ", "minutes") + ":"
    return f"{prefix}{second:02d}.{int((seconds - whole) * 1_000_000):06d}"


class Plan:
    """Every conversation decided before any message is written: index i is conversation id i + 1,
    in the order they were opened (ids grow with time, as in production)."""

    def __init__(self, sizes: Sizes, org: Organisation, rng: random.Random, now: float) -> None:
        n = sizes.conversations
        self.now = now
        per_contact = [1] * sizes.contacts
        for _ in range(n - sizes.contacts):
            per_contact[rng.randrange(sizes.contacts)] += 1
        rows: list[tuple[float, int, float]] = []  # (opened, contact index, span cap) ; cap < 0: last
        for contact, count in enumerate(per_contact):
            times = sorted(now - rng.random() * HORIZON for _ in range(count))
            for q, opened in enumerate(times):
                cap = 0.8 * (times[q + 1] - opened) if q + 1 < count else -1.0
                rows.append((opened, contact, cap))
        rows.sort()
        self.opened = array("d", (r[0] for r in rows))
        self.contact = array("l", (r[1] for r in rows))
        self.is_open = bytearray(n)
        remaining = sizes.open_conversations
        for i in range(n - 1, -1, -1):  # the most recently opened last conversations are the open ones
            if remaining == 0:
                break
            if rows[i][2] < 0:
                self.is_open[i] = 1
                remaining -= 1
        # A last conversation opened less than a minute ago has no room before "a minute old": its
        # span is 0 (a negative one ran its messages backwards in time).
        self.cap = array("d", (max(now - r[0] - 60.0, 0.0) if r[2] < 0 else r[2] for r in rows))
        del rows
        self.count = self._message_counts(sizes, rng)
        self.team = array("l", bytes(8 * n))
        self.assignee = array("l", bytes(8 * n))
        self.source = bytearray(n)  # 0 contact, 1 agent, 2 api
        self.channel = array("l", bytes(8 * n))
        self._route(org, rng)

    def _message_counts(self, sizes: Sizes, rng: random.Random) -> array[int]:
        n = sizes.conversations
        opens = [i for i in range(n) if self.is_open[i]]
        longs = set(opens[: sizes.long_conversations])  # the oldest open ones: they had time to grow
        self.long_ids = sorted(i + 1 for i in longs)
        self.is_long = bytearray(n)
        for i in longs:
            self.is_long[i] = 1
        target = sizes.messages - sizes.long_messages * len(longs)
        mean = max(1.0, target / (n - len(longs)))
        count = array("l", (1 + int(rng.expovariate(1.0 / mean)) if mean > 1 else 1 for _ in range(n)))
        for i in longs:
            count[i] = sizes.long_messages
        total = sum(count)
        while total != sizes.messages:  # exact: the issue promises a number of messages
            i = rng.randrange(n)
            if i in longs:
                continue
            if total < sizes.messages:
                count[i] += 1
                total += 1
            elif count[i] > 1:
                count[i] -= 1
                total -= 1
        return count

    def _route(self, org: Organisation, rng: random.Random) -> None:
        weights = org.team_weights()
        teams = list(weights)
        for i in range(len(self.opened)):
            contact = self.contact[i]
            self.channel[i] = org.channel_of(contact)
            r = rng.random()
            self.source[i] = 0 if r < 0.92 else (1 if r < 0.96 else 2)
            r = rng.random()
            assigned, teamed = (0.75, 0.93) if self.is_open[i] else (0.94, 0.98)
            if r >= teamed:
                continue  # no team yet (open: the workflow is still asking), or closed as spam
            team = rng.choices(teams, weights=list(weights.values()))[0]
            self.team[i] = team
            if r < assigned:
                self.assignee[i] = rng.choice(org.members[team])


class Tally:
    """What the message merge learns per conversation, for the conversation rows and the reads."""

    def __init__(self, n: int) -> None:
        self.last_id = array("q", bytes(8 * n))
        self.last_not_in = array("q", bytes(8 * n))  # what the assignee had seen when they last wrote
        self.last_public_at = array("d", bytes(8 * n))
        self.first_reply_at = array("d", bytes(8 * n))


def _message_times(plan: Plan, i: int, rng: random.Random) -> list[float]:
    """When conversation i's messages were written: random gaps, squeezed to end before the contact's
    next conversation. A long conversation is still going on: its last message is a minute old, so
    it is at the top of its lists (the worst case for the per-conversation queries)."""
    gaps = [rng.expovariate(1.0 / MEAN_GAP) for _ in range(plan.count[i] - 1)]
    total = sum(gaps)
    scale = (plan.cap[i] / total if plan.is_long[i] else min(1.0, plan.cap[i] / total)) if total > 0 else 1.0
    times, at = [plan.opened[i]], plan.opened[i]
    for gap in gaps:
        at += gap * scale
        times.append(at)
    return times


def messages(plan: Plan, tally: Tally, rng: random.Random) -> Iterator[tuple[Any, ...]]:
    """Every message as a row, in time order across all conversations (ids = insertion order)."""
    n = len(plan.opened)
    heap: list[tuple[float, int, int]] = []
    active: dict[int, list[float]] = {}
    nxt, message_id = 0, 0
    while nxt < n or heap:
        if nxt < n and (not heap or plan.opened[nxt] <= heap[0][0]):
            active[nxt] = times = _message_times(plan, nxt, rng)
            heapq.heappush(heap, (times[0], nxt, 0))
            nxt += 1
            continue
        at, i, j = heapq.heappop(heap)
        times = active[i]
        if j + 1 < len(times):
            heapq.heappush(heap, (times[j + 1], i, j + 1))
        else:
            del active[i]
        message_id += 1
        yield _message(plan, tally, rng, message_id, i, j, at, last=j + 1 == len(times))


def _message(
    plan: Plan, tally: Tally, rng: random.Random, message_id: int, i: int, j: int, at: float, last: bool
) -> tuple[Any, ...]:
    """Message j of conversation i, written as the actions write it: the contact's first message
    (or the agent's/API's when they opened it), the workflow's greeting, then contact and agent in
    turns with a few internal notes; an open conversation often ends on the contact's message."""
    assignee = plan.assignee[i] or None
    tally.last_id[i] = message_id
    r = rng.random()
    if j == 0 and plan.source[i] != 0:
        kind = "agent" if plan.source[i] == 1 and assignee else "api"
        return _outbound(plan, tally, message_id, i, at, kind, assignee if kind == "agent" else None, OUT_TEXTS[0])
    if j == 0 or (last and plan.is_open[i] and r < 0.6) or (j > 1 and r < 0.5):
        tally.last_public_at[i] = at
        text = IN_TEXTS[int(r * 20) % len(IN_TEXTS)]
        provider_id, opened = f"bench-{message_id}", int(j == 0 and plan.source[i] == 0)
        return (message_id, i + 1, plan.channel[i], "in", "contact", None, text, provider_id, opened, "received", 0,
                None, _stamp(at))  # fmt: skip
    if j == 1 and plan.source[i] == 0:
        return _outbound(plan, tally, message_id, i, at, "workflow", None, GREETING, QUICK)
    if assignee is None:
        return _outbound(plan, tally, message_id, i, at, "workflow", None, FOLLOW_UP)
    if r > 0.97:  # an internal note: no channel, private, and never the list's "last message"
        tally.last_not_in[i] = message_id
        note = NOTES[j % len(NOTES)]
        return (message_id, i + 1, None, "out", "agent", assignee, note, None, 0, "stored", 1, None, _stamp(at))
    return _outbound(plan, tally, message_id, i, at, "agent", assignee, OUT_TEXTS[int(r * 60) % len(OUT_TEXTS)])


def _outbound(
    plan: Plan, tally: Tally, message_id: int, i: int, at: float, kind: str, author: int | None, text: str,
    quick: str | None = None,
) -> tuple[Any, ...]:  # fmt: skip
    tally.last_public_at[i] = at
    tally.last_not_in[i] = message_id
    if author is not None and tally.first_reply_at[i] == 0.0:
        tally.first_reply_at[i] = at
    return (message_id, i + 1, plan.channel[i], "out", kind, author, text, None, 0, "stored", 0, quick, _stamp(at))


MESSAGE_INSERT = (
    "INSERT INTO messages (id, conversation_id, channel_id, direction, author_kind, author_agent_id, text,"
    " provider_message_id, opened_conversation, delivery_status, private, quick_replies, created_at)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
)


def _conversation_rows(plan: Plan, tally: Tally, rng: random.Random) -> Iterator[tuple[Any, ...]]:
    sources = ("contact", "agent", "api")
    for i in range(len(plan.opened)):
        opened, is_open = plan.opened[i], plan.is_open[i]
        team, assignee = plan.team[i] or None, plan.assignee[i] or None
        last_at = max(opened, tally.last_public_at[i])
        closed_at = note = category = None
        if not is_open:
            closed_at = _stamp(min(last_at + rng.uniform(60, min(DAY, max(120.0, plan.cap[i]))), plan.now - 1))
            category = rng.choice(CATEGORIES)
            note = "resolved" if category and rng.random() < 0.3 else None
        first_reply = tally.first_reply_at[i]
        yield (
            i + 1, plan.contact[i] + 1, plan.channel[i], "open" if is_open else "closed", sources[plan.source[i]],
            team, assignee, _stamp(opened), closed_at, note, category, _stamp(last_at),
            _stamp(opened + 2.0) if assignee else None, _stamp(first_reply) if first_reply else None,
        )  # fmt: skip


CONVERSATION_INSERT = (
    "INSERT INTO conversations (id, contact_id, channel_id, status, source, team_id, assignee_id, opened_at,"
    " closed_at, closing_note, closing_category, last_message_at, assigned_at, first_reply_at)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)


def _reads(plan: Plan, tally: Tally, org: Organisation, rng: random.Random) -> Iterator[tuple[int, int, int]]:
    """The assignee read each conversation up to their last answer (all of it once closed); managers
    looked into some conversations of the whole inbox."""
    for i in range(len(plan.opened)):
        assignee = plan.assignee[i]
        seen = tally.last_not_in[i] if plan.is_open[i] else tally.last_id[i]
        if assignee and seen:
            yield assignee, i + 1, seen
        if rng.random() < 0.05:
            manager = rng.choice(org.managers)
            if manager != assignee:
                yield manager, i + 1, tally.last_id[i]


def _insert(conn: sqlite3.Connection, sql: str, rows: Iterator[tuple[Any, ...]]) -> int:
    """executemany in batches, committing every COMMIT_EVERY rows: large transactions, bounded memory."""
    total, batch = 0, []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            conn.executemany(sql, batch)
            total += len(batch)
            batch.clear()
            if total % COMMIT_EVERY == 0:
                conn.commit()
    conn.executemany(sql, batch)
    conn.commit()
    return total + len(batch)


def build(path: Path, sizes: Sizes, seed: int = 5) -> dict[str, Any]:
    """Build the data set at `path` (replaced if it exists); returns its manifest, also written
    beside it as `<path>.json`."""
    rng = random.Random(seed)
    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)
    started = time.monotonic()
    phases: dict[str, float] = {}

    def phase(name: str, since: float) -> float:
        phases[name] = round(time.monotonic() - since, 1)
        return time.monotonic()

    org = inbox_org.create(path, sizes.extra_agents, sizes.extra_teams, rng)
    mark = phase("migrate_and_organisation", started)
    conn = sqlite3.connect(path)
    # A benchmark data set, not customer data: no journal and no fsync while building (a crash
    # means building again), and a 1 GiB page cache. The server reopens it in WAL + FULL as usual.
    conn.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-1048576;")
    now = time.time()
    contacts = _insert(conn, inbox_org.CONTACT_INSERT, inbox_org.contact_rows(sizes.contacts, org, rng, now))
    _insert(conn, inbox_org.IDENTITY_INSERT, inbox_org.identity_rows(org, sizes.contacts))
    mark = phase("contacts", mark)
    plan = Plan(sizes, org, rng, now)
    mark = phase("plan", mark)
    tally = Tally(sizes.conversations)
    written = _insert(conn, MESSAGE_INSERT, messages(plan, tally, rng))
    mark = phase("messages", mark)
    conversations = _insert(conn, CONVERSATION_INSERT, _conversation_rows(plan, tally, rng))
    mark = phase("conversations", mark)
    reads = _insert(conn, "INSERT INTO conversation_reads VALUES (?,?,?)", _reads(plan, tally, org, rng))
    queued = inbox_org.finish(conn)
    mark = phase("reads_counters_queues", mark)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()
    phase("total", started)
    manifest = {
        "sizes": asdict(sizes),
        "seed": seed,
        "counts": {
            "contacts": contacts,
            "conversations": conversations,
            "open_conversations": sum(plan.is_open),
            "messages": written,
            "conversation_reads": reads,
            "queue_entries": queued,
        },
        "long_conversation_ids": plan.long_ids,
        "build_seconds": phases,
        "file_bytes": path.stat().st_size,
        **org.manifest(),
    }
    path.with_name(path.name + ".json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def load_manifest(path: Path) -> dict[str, Any] | None:
    manifest = path.with_name(path.name + ".json")
    return json.loads(manifest.read_text()) if manifest.exists() and path.exists() else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=1_000_000, help="conversations 1.2x, messages 10x this")
    parser.add_argument("--out", type=Path, default=Path("bench/.data/inbox.db"))
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    manifest = build(args.out, Sizes.for_contacts(args.contacts), args.seed)
    print(json.dumps({k: manifest[k] for k in ("counts", "build_seconds", "file_bytes")}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
