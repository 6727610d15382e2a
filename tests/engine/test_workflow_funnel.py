"""The workflow funnel (ADR 0011): folded from the recorded run steps batch by batch as runs go, it
equals a rebuild, and every run that came to a step left it once or waits there still; a run whose
conversation is closed while it waits is recorded as skipped there (abandoned)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, text

from frontdesk.actions.ingest import InboundMessage, receive_inbound
from frontdesk.engine.funnel import fold_steps
from frontdesk.engine.reports import rebuild_funnel
from frontdesk.engine.runs import VersionCache
from frontdesk.store.database import Database
from tests.databases import query
from tests.engine.test_engine_properties import START, _close, _drain, _setup, action
from tests.factories import fresh_database
from tests.test_cli import _run

_COUNTS = (
    "SELECT version_id, hour, step_id, metric, label, bucket, count FROM report_funnel"
    " ORDER BY version_id, hour, step_id, metric, label, bucket"
)
_WAITS = "SELECT run_id, step_id FROM report_run_waits ORDER BY run_id"


def _say(db: Database, channel_id: int, who: str, n: int, text: str) -> None:
    inbound = InboundMessage(channel_id, who, f"m{n}-{who}", text)
    db.write_sync(lambda c: receive_inbound(c, inbound))


def _at(db: Database, cache: VersionCache, seconds: int) -> None:
    """The engine runs (events, due timers) as if the time were START + `seconds`."""
    db.write_sync(lambda c: _drain(c, cache, START + dt.timedelta(seconds=seconds)))


def play_known_runs(db: Database) -> None:
    """Four contacts answer the Triage workflow's question (tests/engine/test_engine_properties.py,
    a 60 s timeout) at known times: ada answers Sales after 40 s; dan gives a wrong answer at 10 s
    and Support at 50 s; bob never answers (timed out at 61 s; Support's one agent is taken by
    then); cid's conversation is closed at 30 s while the question waits (abandoned)."""
    channel_id = db.write_sync(_setup)
    cache = VersionCache()
    for n, who in enumerate(("ada", "bob", "cid", "dan")):
        _say(db, channel_id, who, n, "Hello")
    _at(db, cache, 0)
    _say(db, channel_id, "dan", 10, "pizza")
    _at(db, cache, 10)
    db.write_sync(lambda c: _close(c, channel_id, "cid"))
    _at(db, cache, 30)
    _say(db, channel_id, "ada", 40, "Sales")
    _at(db, cache, 40)
    _say(db, channel_id, "dan", 50, "Support")
    _at(db, cache, 50)
    _at(db, cache, 61)


def _fold(db: Database) -> None:
    while db.write_sync(fold_steps):
        pass


def _sums(db: Database, metric: str) -> dict[tuple[str, str], int]:
    found = query(
        db.url,
        f"SELECT step_id, label, sum(count) FROM report_funnel WHERE metric = '{metric}' GROUP BY step_id, label",
    )
    return {(str(step), str(label)): int(n) for step, label, n in found}


def test_known_runs_give_the_funnel_of_their_steps(db: Database) -> None:
    play_known_runs(db)
    _fold(db)

    assert _sums(db, "started") == {("", ""): 4}
    assert _sums(db, "entered") == {
        ("ask", ""): 4,
        ("route", ""): 2,
        ("to_sales", ""): 1,
        ("to_support", ""): 2,
        ("sorry", ""): 1,
    }
    assert _sums(db, "left") == {
        ("ask", "answered"): 2,
        ("ask", "timed_out"): 1,
        ("route", "sales"): 1,
        ("route", "else"): 1,
        ("to_sales", "assigned"): 1,
        ("to_support", "assigned"): 1,
        ("to_support", "nobody_available"): 1,
        ("sorry", "next"): 1,
    }
    assert _sums(db, "abandoned") == {("ask", ""): 1}
    assert _sums(db, "failed") == {}
    # at the question: 30 s (closed), 40 s and 50 s (answered, a wrong answer between), 61 s (timed out)
    times = query(
        db.url, "SELECT bucket, count FROM report_funnel WHERE metric = 'time' AND step_id = 'ask' ORDER BY bucket"
    )
    assert [(int(b), int(n)) for b, n in times] == [(1, 1), (2, 2), (3, 1)]  # <= 30 s, <= 60 s, <= 120 s
    assert query(db.url, _WAITS) == []


def test_a_run_closed_while_it_waits_shows_the_step_skipped_in_its_history(db: Database) -> None:
    play_known_runs(db)

    history = query(
        db.url,
        "SELECT s.step_id, s.step_type, s.branch, s.waiting, s.reason FROM workflow_run_steps s"
        " JOIN workflow_runs r ON r.id = s.run_id WHERE r.status = 'cancelled' ORDER BY s.seq",
    )

    assert history == [
        ("ask", "ask_question", None, "reply", ""),
        ("ask", "ask_question", None, None, "conversation closed"),
    ]
    assert query(db.url, "SELECT steps_executed FROM workflow_runs WHERE status = 'cancelled'") == [(2,)]


def test_the_rebuild_command_folds_the_run_steps_again_to_the_same_funnel(db: Database) -> None:
    play_known_runs(db)
    _fold(db)
    before = query(db.url, _COUNTS)

    result = _run(db.url, "reports", "rebuild")

    assert result.returncode == 0, result.stderr
    steps = query(db.url, "SELECT count(*) FROM workflow_run_steps")[0][0]
    assert result.stdout.strip() == f"reports rebuilt from {_events(db)} events and {steps} run steps"
    assert query(db.url, _COUNTS) == before


def _events(db: Database) -> int:
    return int(query(db.url, "SELECT count(*) FROM events")[0][0])


fold = st.tuples(st.just("fold"), st.just(""), st.integers(1, 7))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=st.lists(st.one_of(action, fold), max_size=30))
def test_the_funnel_folded_as_runs_go_equals_a_rebuild(
    template_db: Path, actions: list[tuple[str, str, object]]
) -> None:
    with fresh_database(template_db) as db:
        channel_id = db.write_sync(_setup)
        cache = VersionCache()
        now = START
        for n, (kind, who, value) in enumerate(actions):
            if kind == "fold":
                db.write_sync(lambda c, k=int(str(value)): fold_steps(c, k))  # type: ignore[misc]
                continue
            if kind == "say":
                _say(db, channel_id, who, n, str(value))
            elif kind == "close":
                db.write_sync(lambda c, w=who: _close(c, channel_id, w))  # type: ignore[misc]
            else:
                now += dt.timedelta(seconds=int(str(value)))
            db.write_sync(lambda c, t=now: _drain(c, cache, t))  # type: ignore[misc]
        _fold(db)
        incremental = query(db.url, _COUNTS), query(db.url, _WAITS)
        rebuild_funnel(db)
        assert (query(db.url, _COUNTS), query(db.url, _WAITS)) == incremental
        db.read_sync(_every_entry_left_once_or_waits)


def _every_entry_left_once_or_waits(conn: Connection) -> None:
    """Per step: entered == left + failed + abandoned + the runs waiting there now."""
    counts: dict[str, int] = {}
    for step, metric, n in conn.execute(
        text("SELECT step_id, metric, sum(count) FROM report_funnel GROUP BY step_id, metric")
    ):
        if metric == "entered":
            counts[step] = counts.get(step, 0) + int(n)
        elif metric in ("left", "failed", "abandoned"):
            counts[step] = counts.get(step, 0) - int(n)
    waiting = conn.execute(
        text(
            "SELECT step_id, count(*) FROM workflow_runs"
            " WHERE status = 'waiting' AND step_id IS NOT NULL GROUP BY step_id"
        )
    )
    for step, n in waiting:
        counts[step] = counts.get(step, 0) - int(n)
    assert {step: n for step, n in counts.items() if n} == {}
