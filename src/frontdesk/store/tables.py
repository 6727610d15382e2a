"""SQLAlchemy Core tables. Invariants the product promises are enforced here, by the database."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    literal_column,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql.elements import ColumnClause
from sqlalchemy.types import TypeDecorator, TypeEngine

from frontdesk.store.encryption import box_of

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# BigInteger ids on PostgreSQL, INTEGER PRIMARY KEY (the rowid) on SQLite.
Id = BigInteger().with_variant(Integer(), "sqlite")
# Counts and numbers: 64-bit on both, as SQLite's INTEGER is (migration 0014 widens PostgreSQL's),
# so a value the API accepts is one every database stores.
Int = Id
# JSON text on SQLite, jsonb on PostgreSQL (migration 0014 turns the older json columns into it).
Json = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Takes and returns aware UTC. SQLite stores it as naive UTC text, PostgreSQL as `timestamptz`
    (migration 0014 turns the older `timestamp` columns into it)."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        return dialect.type_descriptor(DateTime(timezone=dialect.name == "postgresql"))

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware UTC datetime")
        utc = value.astimezone(dt.UTC)
        return utc if dialect.name == "postgresql" else utc.replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC)


class Encrypted(TypeDecorator[str]):
    """Text sealed with the key of the engine's Database (store/encryption.py, ADR 0005)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else box_of(dialect).seal(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else box_of(dialect).open(value)


def _id() -> Column[int]:
    return Column("id", Id, primary_key=True, autoincrement=True)


def _created() -> Column[dt.datetime]:
    return Column("created_at", UTCDateTime(), nullable=False)


agents = Table(
    "agents",
    metadata,
    _id(),
    Column("name", String(120), nullable=False),
    Column("email", String(254), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("availability", String(16), nullable=False),
    Column("capacity", Int, nullable=False),
    Column("skills", Json, nullable=False),
    Column("availability_changed_at", UTCDateTime(), nullable=False),
    # Kept in the same transaction as every assignment and close (never COUNT(*) per decision).
    Column("open_count", Int, nullable=False, server_default=text("0")),
    Column("last_assigned_at", UTCDateTime(), nullable=True),
    Column("password_hash", String(255), nullable=True),  # argon2; None: cannot log in to the web
    Column("last_seen_at", UTCDateTime(), nullable=True),  # last request by the agent (minute precision)
    # A deactivated agent keeps their history but cannot log in, use a token or be assigned.
    Column("active", Boolean, nullable=False, server_default=true()),
    _created(),
)

teams = Table(
    "teams",
    metadata,
    _id(),
    Column("name", String(120), nullable=False, unique=True),
    Column("assignment", Json, nullable=False),
    Column("business_hours", Json, nullable=True),
    Column("away_message", Text, nullable=True),
    Column("rr_last_agent_id", Id, nullable=True),  # the round robin's place, kept across restarts
    _created(),
)

team_members = Table(
    "team_members",
    metadata,
    Column("team_id", Id, ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
    Column("agent_id", Id, ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True),
    Column("capacity", Int, nullable=True),  # overrides the agent's capacity in this team
    _created(),
    Index("ix_team_members_agent", "agent_id"),
)

channels = Table(
    "channels",
    metadata,
    _id(),
    Column("type", String(32), nullable=False),
    Column("name", String(120), nullable=False),
    Column("config", Json, nullable=False),
    Column("secret", Encrypted(), nullable=False),  # signs inbound calls, outbound calls, visitor tokens
    # After a rotation the previous secret still verifies inbound calls until then (not outbound).
    Column("previous_secret", Encrypted(), nullable=True),
    Column("previous_secret_until", UTCDateTime(), nullable=True),
    # A provider's write-only credentials (WhatsApp's access token, app secret, verify token) as
    # sealed JSON: never returned by the API, opened only by the webhook route and delivery.
    Column("credentials", Encrypted(), nullable=True),
    _created(),
    # After an agent or the API closes one of its conversations, the contact gets a CSAT survey link.
    Column("csat_survey", Boolean, nullable=False, server_default=false()),
)

contact_fields = Table(
    "contact_fields",
    metadata,
    _id(),
    Column("key", String(64), nullable=False, unique=True),
    Column("label", String(120), nullable=False),
    Column("type", String(16), nullable=False),
    Column("options", Json, nullable=False),
    _created(),
)

contacts = Table(
    "contacts",
    metadata,
    _id(),
    Column("name", String(200), nullable=True),
    Column("fields", Json, nullable=False),
    Column("tags", Json, nullable=False),
    Column("owner_agent_id", Id, ForeignKey("agents.id", ondelete="SET NULL"), nullable=True),
    _created(),
    Column("updated_at", UTCDateTime(), nullable=False),
)

contact_identities = Table(
    "contact_identities",
    metadata,
    _id(),
    Column("contact_id", Id, ForeignKey("contacts.id", ondelete="CASCADE"), nullable=False),
    Column("channel_id", Id, ForeignKey("channels.id", ondelete="CASCADE"), nullable=False),
    Column("external_id", String(200), nullable=False),
    # When the contact sent an opt-out keyword on this channel (SMS's STOP); null: they may be messaged.
    Column("opted_out_at", UTCDateTime(), nullable=True),
    UniqueConstraint("channel_id", "external_id"),
    Index("ix_contact_identities_contact", "contact_id"),
)

_OPEN = text("status = 'open'")

# Queries that should use a partial index compare with these literals, not with bound values:
# SQLite's planner can only prove a partial index applies when it sees the literal.
OPEN: ColumnClause[str] = literal_column("'open'")
WAITING: ColumnClause[str] = literal_column("'waiting'")
PENDING: ColumnClause[str] = literal_column("'pending'")

conversations = Table(
    "conversations",
    metadata,
    _id(),
    Column("contact_id", Id, ForeignKey("contacts.id", ondelete="CASCADE"), nullable=False),
    Column("channel_id", Id, ForeignKey("channels.id", ondelete="SET NULL"), nullable=True),
    Column("status", String(16), nullable=False),
    Column("source", String(16), nullable=False),
    Column("team_id", Id, ForeignKey("teams.id", ondelete="SET NULL"), nullable=True),
    Column("assignee_id", Id, ForeignKey("agents.id", ondelete="SET NULL"), nullable=True),
    Column("opened_at", UTCDateTime(), nullable=False),
    Column("closed_at", UTCDateTime(), nullable=True),
    Column("closing_note", Text, nullable=True),
    Column("closing_category", String(64), nullable=True),
    Column("last_message_at", UTCDateTime(), nullable=False),
    Column("assigned_at", UTCDateTime(), nullable=True),
    Column("first_reply_at", UTCDateTime(), nullable=True),  # the assignee's first answer
    Column("reply_due_at", UTCDateTime(), nullable=True),  # reassign if still unanswered then
    Column("required_skills", Json, nullable=True),
    Column("away_sent_at", UTCDateTime(), nullable=True),
    Column("subject", Text, nullable=True),  # an e-mail's, from the mail that opened it
    # Invariant 1: at most one open conversation per contact, whatever the number of processes.
    Index(
        "uq_conversations_one_open_per_contact",
        "contact_id",
        unique=True,
        sqlite_where=_OPEN,
        postgresql_where=_OPEN,
    ),
    Index("ix_conversations_contact", "contact_id", "opened_at"),
    # The inbox lists, newest activity first: one index per filter combination, each ending in
    # last_message_at (and the rowid), so a page is the first rows of one index range, never a sort.
    Index("ix_conversations_status_last", "status", "last_message_at"),  # all
    Index("ix_conversations_assignee", "assignee_id", "status", "last_message_at"),  # mine, unassigned
    Index("ix_conversations_team", "team_id", "status", "last_message_at"),  # all, one team
    Index("ix_conversations_assignee_team", "assignee_id", "team_id", "status", "last_message_at"),
    # Reassignment deadlines, read every second by the engine. Status first: without it SQLite's
    # planner prefers ix_conversations_status_last and reads every open conversation each time.
    Index("ix_conversations_reply_due", "status", "reply_due_at"),
)

queue_entries = Table(
    "queue_entries",
    metadata,
    _id(),
    Column("conversation_id", Id, ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False, unique=True),
    Column("team_id", Id, ForeignKey("teams.id", ondelete="CASCADE"), nullable=False),
    Column("priority", Int, nullable=False),
    Column("skills", Json, nullable=False),
    Column("relax_at", UTCDateTime(), nullable=True),  # skills stop mattering from then on
    Column("enqueued_at", UTCDateTime(), nullable=False),
    Index("ix_queue_entries_order", "team_id", "priority", "enqueued_at"),
)

_PENDING = text("delivery_status = 'pending'")
_INBOUND = text("direction = 'in'")
INBOUND: ColumnClause[str] = literal_column("'in'")

messages = Table(
    "messages",
    metadata,
    _id(),
    Column("conversation_id", Id, ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
    Column("channel_id", Id, ForeignKey("channels.id", ondelete="SET NULL"), nullable=True),
    Column("direction", String(8), nullable=False),
    Column("author_kind", String(16), nullable=False),
    Column("author_agent_id", Id, ForeignKey("agents.id", ondelete="SET NULL"), nullable=True),
    Column("text", Text, nullable=False),
    Column("provider_message_id", String(200), nullable=True),
    Column("opened_conversation", Boolean, nullable=False),
    Column("delivery_status", String(16), nullable=False),
    Column("delivery_attempts", Int, nullable=False, server_default=text("0")),
    Column("next_attempt_at", UTCDateTime(), nullable=True),
    Column("delivery_error", Text, nullable=True),
    Column("private", Boolean, nullable=False, server_default=false()),  # internal note
    Column("quick_replies", Json, nullable=True),
    Column("template", Json, nullable=True),  # a template message: {name, language, parameters}
    _created(),
    # Invariant 3: a provider's retry can never store a message twice.
    UniqueConstraint("channel_id", "provider_message_id"),
    Index("ix_messages_conversation", "conversation_id", "id"),
    # Unread counts: the contact's messages after a read mark, counted in the index alone.
    Index("ix_messages_inbound", "conversation_id", "id", sqlite_where=_INBOUND, postgresql_where=_INBOUND),
    Index("ix_messages_pending", "next_attempt_at", sqlite_where=_PENDING, postgresql_where=_PENDING),
)

_ATTACHMENT_PENDING = text("state = 'pending'")

attachments = Table(
    "attachments",
    metadata,
    _id(),
    Column("message_id", Id, ForeignKey("messages.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("mime_type", String(200), nullable=True),
    Column("size", BigInteger, nullable=True),
    Column("file_name", String(255), nullable=True),
    Column("sha256", String(64), nullable=True),
    Column("storage_key", String(200), nullable=True),
    Column("provider_media_id", String(500), nullable=True),
    Column("source_url", Text, nullable=True),
    Column("data", Json, nullable=True),
    Column("error", Text, nullable=True),
    Column("attempts", Int, nullable=False, server_default=text("0")),
    Column("next_attempt_at", UTCDateTime(), nullable=True),
    _created(),
    Index("ix_attachments_message", "message_id"),
    # The media fetcher's queue: only what is still to fetch.
    Index(
        "ix_attachments_pending",
        "next_attempt_at",
        sqlite_where=_ATTACHMENT_PENDING,
        postgresql_where=_ATTACHMENT_PENDING,
    ),
)

events = Table(
    "events",
    metadata,
    _id(),
    Column("type", String(64), nullable=False),
    Column("contact_id", Id, nullable=True),
    Column("conversation_id", Id, nullable=True),
    Column("payload", Json, nullable=False),
    _created(),
    # The engine worker that owns this partition reads it (domain/partitions.py, ADR 0009).
    Column("partition", Integer, nullable=False, server_default="0"),
    Index("ix_events_contact", "contact_id", "id"),
    Index("ix_events_partition", "partition", "id"),
    sqlite_autoincrement=True,  # ids are never reused: the cursor only moves forward
)

api_tokens = Table(
    "api_tokens",
    metadata,
    _id(),
    Column("name", String(120), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("agent_id", Id, ForeignKey("agents.id", ondelete="CASCADE"), nullable=True),
    _created(),
    Column("revoked_at", UTCDateTime(), nullable=True),
    Column("expires_at", UTCDateTime(), nullable=True),  # None: never expires
)


workflows = Table(
    "workflows",
    metadata,
    _id(),
    Column("name", String(120), nullable=False, unique=True),
    Column("description", Text, nullable=True),
    Column("trigger_event", String(64), nullable=True),  # of the published version, for matching
    Column("draft", Json, nullable=False),
    Column("published_version_id", Id, nullable=True),
    Column("enabled", Boolean, nullable=False),
    Column("webhook_key", String(64), nullable=False, unique=True),
    _created(),
    Column("updated_at", UTCDateTime(), nullable=False),
)

workflow_versions = Table(
    "workflow_versions",
    metadata,
    _id(),
    Column("workflow_id", Id, ForeignKey("workflows.id", ondelete="CASCADE"), nullable=False),
    Column("number", Int, nullable=False),
    Column("definition", Json, nullable=False),  # immutable once written
    Column("published_by", Json, nullable=False),
    _created(),
    UniqueConstraint("workflow_id", "number"),
)

_WAITING = text("status = 'waiting'")

workflow_runs = Table(
    "workflow_runs",
    metadata,
    _id(),
    Column("workflow_id", Id, ForeignKey("workflows.id", ondelete="CASCADE"), nullable=False),
    Column("version_id", Id, ForeignKey("workflow_versions.id", ondelete="CASCADE"), nullable=False),
    Column("trigger_event_id", Id, nullable=True),
    Column("trigger", Json, nullable=False),  # the event and message that started the run
    Column("contact_id", Id, ForeignKey("contacts.id", ondelete="CASCADE"), nullable=True),
    Column("conversation_id", Id, ForeignKey("conversations.id", ondelete="SET NULL"), nullable=True),
    Column("status", String(16), nullable=False),
    Column("step_id", String(64), nullable=True),
    Column("vars", Json, nullable=False),
    Column("step_state", Json, nullable=False),
    Column("visits", Json, nullable=False),
    Column("wait_kind", String(16), nullable=True),
    Column("wait_until", UTCDateTime(), nullable=True),
    Column("wait_after_event", Id, nullable=True),  # only replies newer than the question count
    Column("http_request", Json, nullable=True),
    Column("lease_until", UTCDateTime(), nullable=True),
    Column("steps_executed", Int, nullable=False, server_default=text("0")),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("ended_at", UTCDateTime(), nullable=True),
    Column("end_reason", Text, nullable=True),
    # One run per workflow per triggering event, however often the event is processed.
    UniqueConstraint("workflow_id", "trigger_event_id"),
    Index("ix_workflow_runs_due", "wait_until", sqlite_where=_WAITING, postgresql_where=_WAITING),
    Index("ix_workflow_runs_conversation", "conversation_id", "status"),
    Index("ix_workflow_runs_workflow", "workflow_id", "id"),
)

workflow_run_steps = Table(
    "workflow_run_steps",
    metadata,
    _id(),
    Column("run_id", Id, ForeignKey("workflow_runs.id", ondelete="CASCADE"), nullable=False),
    Column("seq", Int, nullable=False),
    Column("step_id", String(64), nullable=False),
    Column("step_type", String(32), nullable=False),
    Column("branch", String(64), nullable=True),
    Column("reason", Text, nullable=True),
    Column("output", Json, nullable=False),
    Column("error", Text, nullable=True),
    Column("waiting", String(16), nullable=True),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("duration_ms", Int, nullable=False),
    Index("ix_workflow_run_steps_run", "run_id", "seq"),
)

engine_cursors = Table(
    "engine_cursors",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("position", Id, nullable=False),
)

# The event consumer's cursor per partition of the log, and which engine worker holds it until when
# (ADR 0009). One row per partition, written by migration 0015.
engine_partitions = Table(
    "engine_partitions",
    metadata,
    Column("partition", Integer, primary_key=True, autoincrement=False),
    Column("position", Id, nullable=False),
    Column("owner", String(64), nullable=True),
    Column("lease_until", UTCDateTime(), nullable=True),
    Column("heartbeat_at", UTCDateTime(), nullable=True),
)

# The engine workers alive: each renews its row with its leases; the count sets the fair share.
engine_workers = Table(
    "engine_workers",
    metadata,
    Column("owner", String(64), primary_key=True),
    Column("lease_until", UTCDateTime(), nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
)


web_sessions = Table(
    "web_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("agent_id", Id, ForeignKey("agents.id", ondelete="CASCADE"), nullable=False),
    _created(),
    Column("expires_at", UTCDateTime(), nullable=False),
)

instance_settings = Table(
    "instance_settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)


named_secrets = Table(
    "named_secrets",
    metadata,
    Column("name", String(64), primary_key=True),  # referenced as {{ secrets.NAME }} in http_request steps
    Column("value", Encrypted(), nullable=False),  # write-only: never returned by the API
    _created(),
    Column("updated_at", UTCDateTime(), nullable=False),
)


conversation_reads = Table(
    "conversation_reads",
    metadata,
    Column("agent_id", Id, ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True),
    Column("conversation_id", Id, ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True),
    Column("last_read_message_id", Id, nullable=False),
)


# Failed web logins per client address and per account, for throttling (web/login_throttle.py).
# In the database, not in memory: every server process sharing it sees the same counts.
login_failures = Table(
    "login_failures",
    metadata,
    Column("key", String(320), primary_key=True),  # "address:<ip>" or "account:<e-mail>"
    Column("failures", Int, nullable=False),
    Column("last_failure_at", UTCDateTime(), nullable=False),
    Column("blocked_until", UTCDateTime(), nullable=True),
    Index("ix_login_failures_last_failure_at", "last_failure_at"),
)


# Outgoing event webhooks (domain/webhooks.py): a subscription is a cursor on the event log
# (`position`, the last event it delivered or filtered out) with its own retry state, so each
# one progresses, fails and backs off on its own. `lease_until` keeps one sender at a time on it.
webhook_subscriptions = Table(
    "webhook_subscriptions",
    metadata,
    _id(),
    Column("url", Text, nullable=False),
    Column("event_types", Json, nullable=False),
    Column("secret", Encrypted(), nullable=False),  # whsec_…: write-only, shown once
    Column("enabled", Boolean, nullable=False),
    Column("position", Id, nullable=False),
    Column("attempt", Int, nullable=False),  # failed attempts at the event after `position`
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("lease_until", UTCDateTime(), nullable=True),
    Column("head_since", UTCDateTime(), nullable=True),  # the first failed attempt at that event
    Column("failing_since", UTCDateTime(), nullable=True),  # the first of the failures since a success
    Column("last_error", Text, nullable=True),
    Column("disabled_at", UTCDateTime(), nullable=True),  # set when failures disabled it
    _created(),
    Column("updated_at", UTCDateTime(), nullable=False),
)

# Each attempt, the newest KEPT_ATTEMPTS per subscription (older rows are deleted as new ones come).
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    _id(),
    Column("subscription_id", Id, ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"), nullable=False),
    Column("event_id", Id, nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("attempt", Int, nullable=False),
    Column("attempted_at", UTCDateTime(), nullable=False),
    Column("delivered", Boolean, nullable=False),
    Column("status_code", Int, nullable=True),
    Column("error", Text, nullable=True),
    Column("latency_ms", Int, nullable=False),
    Column("response_excerpt", Text, nullable=True),
    Index("ix_webhook_deliveries_subscription", "subscription_id", "id"),
)


# Where an e-mail channel's IMAP poller stands in its mailbox (frontdesk.imap_poller): the mailbox's
# UIDVALIDITY and the highest UID read, moved in the transaction that stores that mail.
mailbox_cursors = Table(
    "mailbox_cursors",
    metadata,
    Column("channel_id", Id, ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True),
    Column("uidvalidity", Id, nullable=False),
    Column("last_uid", Id, nullable=False),
    Column("read_at", UTCDateTime(), nullable=False),
)


# Reports (ADR 0010): one fact per conversation folded from the event log, and the counters the
# facts add up to per UTC hour (hours since the epoch) and key; engine_cursors' "reports" row is
# where the consumer stands in the log. No foreign keys: `frontdesk reports rebuild` makes them
# again from the log alone. 0 stands for "no channel / team / agent" in the counters' key.
report_conversations = Table(
    "report_conversations",
    metadata,
    Column("conversation_id", Id, primary_key=True, autoincrement=False),
    Column("opened_at", UTCDateTime(), nullable=False),
    Column("channel_id", Id, nullable=False),
    Column("source", String(16), nullable=False),
    Column("team_id", Id, nullable=False),
    Column("agent_id", Id, nullable=False),
    Column("assigned_at", UTCDateTime(), nullable=True),
    Column("responded_at", UTCDateTime(), nullable=True),
    Column("queued_at", UTCDateTime(), nullable=True),
    Column("queue_team_id", Id, nullable=False),
    Column("dequeued_at", UTCDateTime(), nullable=True),
    Column("closed_at", UTCDateTime(), nullable=True),
    Column("category", String(64), nullable=False),
)

report_counts = Table(
    "report_counts",
    metadata,
    Column("metric", String(32), primary_key=True),
    Column("hour", Int, primary_key=True, autoincrement=False),
    Column("channel_id", Id, primary_key=True, autoincrement=False),
    Column("team_id", Id, primary_key=True, autoincrement=False),
    Column("agent_id", Id, primary_key=True, autoincrement=False),
    Column("label", String(64), primary_key=True),  # the source (opened), the category (closed), else empty
    Column("bucket", Integer, primary_key=True, autoincrement=False),
    Column("count", Int, nullable=False),
    # SQLite: rows kept in key order, so a report's range of hours is read in one sweep instead of a
    # lookup per row (10x faster over 1.8 M rows, ADR 0010).
    sqlite_with_rowid=False,
)

# The workflow funnel (ADR 0011): counters per workflow version, hour the run started, step,
# metric, label (the branch taken) and duration bucket, folded from workflow_run_steps.
report_funnel = Table(
    "report_funnel",
    metadata,
    Column("version_id", Id, primary_key=True, autoincrement=False),
    Column("hour", Int, primary_key=True, autoincrement=False),
    Column("step_id", String(64), primary_key=True),
    Column("metric", String(16), primary_key=True),
    Column("label", String(64), primary_key=True),
    Column("bucket", Integer, primary_key=True, autoincrement=False),
    Column("count", Int, nullable=False),
    sqlite_with_rowid=False,
)

# Where each run the funnel saw waiting waits, and since when (a row only while it waits).
report_run_waits = Table(
    "report_run_waits",
    metadata,
    Column("run_id", Id, primary_key=True, autoincrement=False),
    Column("step_id", String(64), nullable=False),
    Column("since", UTCDateTime(), nullable=False),
)

# The same counters per local day of the workspace's time zone, rolled up over every subset of
# (channel, team, agent): -1 stands for "any" (domain/report_days.py). Filters lead the key and the
# day follows, so a report's days under one filter are one sweep. `report_days_zone` holds the one
# zone they are counted in and, while the consumer counts them again from the facts after a change
# of zone, the last conversation counted (NULL: all): reports read the hourly counters until then.
report_days = Table(
    "report_days",
    metadata,
    Column("metric", String(32), primary_key=True),
    Column("channel_id", Id, primary_key=True, autoincrement=False),
    Column("team_id", Id, primary_key=True, autoincrement=False),
    Column("agent_id", Id, primary_key=True, autoincrement=False),
    Column("day", Integer, primary_key=True, autoincrement=False),  # date.toordinal() of the local day
    Column("label", String(64), primary_key=True),
    Column("bucket", Integer, primary_key=True, autoincrement=False),
    Column("count", Int, nullable=False),
    sqlite_with_rowid=False,
)

report_days_zone = Table(
    "report_days_zone",
    metadata,
    Column("time_zone", String(64), primary_key=True),
    Column("recounted_to", Id, nullable=True),
)

# Agents' online and away time (domain/agent_time.py): each agent's availability as the reports'
# fold last saw it, and the whole seconds each availability lasted per UTC hour. Agent first in the
# key: a report reads each agent's (or each team member's) range of hours in one sweep.
report_agent_presence = Table(
    "report_agent_presence",
    metadata,
    Column("agent_id", Id, primary_key=True, autoincrement=False),
    Column("availability", String(16), nullable=False),
    Column("since", UTCDateTime(), nullable=False),
)

report_agent_time = Table(
    "report_agent_time",
    metadata,
    Column("agent_id", Id, primary_key=True, autoincrement=False),
    Column("hour", Int, primary_key=True, autoincrement=False),
    Column("availability", String(16), primary_key=True),
    Column("seconds", Int, nullable=False),
    sqlite_with_rowid=False,
)

# One row per close of a conversation that a CSAT survey was offered for (or the API rated): the
# signed survey link names the row; the rating fills it, once (actions/csat.py).
csat_surveys = Table(
    "csat_surveys",
    metadata,
    _id(),
    Column("conversation_id", Id, ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
    Column("closed_at", UTCDateTime(), nullable=False),  # the close it asks about
    Column("rating", Integer, nullable=True),
    Column("comment", Text, nullable=True),
    Column("rated_at", UTCDateTime(), nullable=True),
    _created(),
    UniqueConstraint("conversation_id", "closed_at", name="uq_csat_surveys_close"),
)
