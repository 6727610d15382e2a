"""The issue's targets, checked against a run's results: each reached, not reached, or not measured."""

from __future__ import annotations

from typing import Any


def _verdict(ok: bool | None) -> str:
    return "not measured" if ok is None else ("yes" if ok else "no")


def evaluate(results: dict[str, Any]) -> list[dict[str, str]]:
    found = []
    closed = results.get("s1_closed", {}).get("frontdesk", {}).get("end_to_end")
    found.append(
        {
            "name": "S1 new conversations, end to end",
            "goal": "≥ 2,200 assigned/s",
            "measured": f"{closed['throughput']:,.0f} assigned/s" if closed else "-",
            "met": _verdict(None if not closed else closed["throughput"] >= 2200),
        }
    )
    opened = results.get("s1_open", {}).get("frontdesk", {})
    e2e = opened.get("end_to_end")
    p99 = e2e["request_to_assigned_ms"]["p99"] if e2e else None
    rate = opened.get("load", {}).get("target_rate")
    found.append(
        {
            "name": f"S1 request → assigned p99 at {rate or 500:.0f}/s",
            "goal": "< 50 ms",
            "measured": f"{p99:,.1f} ms ({e2e['assigned']}/{e2e['conversations']} assigned)" if e2e else "-",
            "met": _verdict(None if p99 is None else p99 < 50 and e2e["assigned"] == e2e["conversations"]),
        }
    )
    s2 = results.get("s2", {})
    ratio = None
    if "frontdesk" in s2 and "bare" in s2 and s2["bare"]["load"]["throughput"]:
        ratio = s2["frontdesk"]["load"]["throughput"] / s2["bare"]["load"]["throughput"]
    found.append(
        {
            "name": "S2 messages into open conversations",
            "goal": "≥ 60% of (a)",
            "measured": f"{ratio:.1%} of (a)" if ratio is not None else "-",
            "met": _verdict(None if ratio is None else ratio >= 0.6),
        }
    )
    found.append(_postgres_s1(results.get("s1_closed", {})))
    found.append(_postgres_s2(results.get("s2", {})))
    found += _waiting(results.get("s3"))
    drain = results.get("s4")
    found.append(
        {
            "name": f"S4 queue drain of {drain['queued']:,}" if drain else "S4 queue drain",
            "goal": "10,000 within 5 s"
            if not drain or drain["queued"] >= 10_000
            else "within 5 s (10,000 in the goal)",
            "measured": _drained(drain),
            "met": _verdict(None if not drain else drain["drain_s"] is not None and drain["drain_s"] <= 5),
        }
    )
    found += _inbox(results.get("s5"))
    found.append(_reports(results.get("s10")))
    ratio = (results.get("s6") or {}).get("ratio")
    found.append(
        {
            "name": "S6 new conversations through WhatsApp webhooks",
            "goal": "≥ 0.8x the API channel's",
            "measured": "-" if ratio is None else f"{ratio:.2f}x the API channel's",
            "met": _verdict(None if ratio is None else ratio >= 0.8),
        }
    )
    found.append(_media(results.get("s7")))
    found += _mail_sms(results.get("s8"))
    found += _outgoing_webhooks(results.get("s9"))
    return found


def _outgoing_webhooks(s9: dict[str, Any] | None) -> list[dict[str, str]]:
    """Issue 16: webhooks delivered beside S1, and what they cost S1 in the same run: read from (b2),
    two event types per conversation (over the bar's 1,000 events/s); (b), every event, is in the
    scenario's table."""
    hooks = (s9 or {}).get("webhooks_two", {}).get("webhooks")
    ratio = (s9 or {}).get("webhooks_two_ratio")
    return [
        {
            "name": "S9 webhooks ≥ 1,000 events/s delivered beside S1",
            "goal": "≥ 1,000 events/s",
            "measured": "-"
            if not hooks
            else f"{hooks['events_per_s']:,.0f} events/s ({hooks['subscriptions']} subscriptions)",
            "met": _verdict(None if not hooks else hooks["events_per_s"] >= 1000),
        },
        {
            "name": "S9 S1 with webhooks ≥ 0.9x without",
            "goal": "≥ 0.9x its assigned/s without",
            "measured": "-"
            if ratio is None
            else f"{ratio:.2f}x (by CPU per conversation {s9.get('webhooks_two_cpu_ratio')}x)",
            "met": _verdict(None if ratio is None else ratio >= 0.9),
        },
    ]


def _mail_sms(s8: dict[str, Any] | None) -> list[dict[str, str]]:
    """Issue 15: e-mail ≥ 0.5x and SMS ≥ 0.8x the API channel's new conversations/s."""
    found = []
    for channel, name, bar in (("email", "e-mail through the SMTP receiver", 0.5), ("sms", "SMS through Twilio", 0.8)):
        ratio = (s8 or {}).get(f"{channel}_ratio")
        found.append(
            {
                "name": f"S8 new conversations by {name}",
                "goal": f"≥ {bar}x the API channel's",
                "measured": "-" if ratio is None else f"{ratio:.2f}x the API channel's",
                "met": _verdict(None if ratio is None else ratio >= bar),
            }
        )
    return found


def _postgres_s1(closed: dict[str, Any]) -> dict[str, str]:
    """Issue 14: on the same machine, PostgreSQL's S1 at least SQLite's."""
    sqlite = closed.get("frontdesk", {}).get("end_to_end")
    pg = closed.get("frontdesk-pg", {}).get("end_to_end")
    ratio = pg["throughput"] / sqlite["throughput"] if pg and sqlite and sqlite["throughput"] else None
    return {
        "name": "S1 on PostgreSQL (1 server process, 1 worker)",
        "goal": "≥ SQLite's S1",
        "measured": "-" if ratio is None else f"{pg['throughput']:,.0f} assigned/s, {ratio:.2f}x SQLite's",
        "met": _verdict(None if ratio is None else ratio >= 1.0),
    }


def _postgres_s2(s2: dict[str, Any]) -> dict[str, str]:
    """Issue 14: on PostgreSQL with 2 server processes, S2 at 60% of the bare baseline or more
    (the best of the targets with 2 server processes that ran: 1 worker or 2)."""
    bare = s2.get("bare", {}).get("load", {}).get("throughput")
    ran = {
        target: s2[target]["load"]["throughput"]
        for target in ("frontdesk-pg-2x1", "frontdesk-pg-2x2")
        if s2.get(target, {}).get("load", {}).get("throughput")
    }
    best = max(ran, key=ran.__getitem__, default=None)
    ratio = ran[best] / bare if best and bare else None
    return {
        "name": "S2 on PostgreSQL, 2 server processes",
        "goal": "≥ 0.6x (a)",
        "measured": "-" if ratio is None else f"{ran[best]:,.0f} req/s, {ratio:.2f}x (a) ({best})",
        "met": _verdict(None if ratio is None else ratio >= 0.6),
    }


def _media(s7: dict[str, Any] | None) -> dict[str, str]:
    """Text ingest with media downloads in flight, as a ratio of its rate without."""
    ratio = (s7 or {}).get("ratio")
    measured = "-"
    if s7 and ratio is not None:
        media = s7["media"]
        measured = (
            f"{ratio:.2f}x ({media['downloads_open']['min']} to {media['downloads_open']['max']} downloading,"
            f" ≥ {media['attachments_pending']['after']} pending)"
        )
    return {
        "name": "S7 text ingest with media downloads in flight",
        "goal": "≥ 0.8x its rate without",
        "measured": measured,
        "met": _verdict(None if ratio is None else ratio >= 0.8),
    }


def _inbox(s5: dict[str, Any] | None) -> list[dict[str, str]]:
    """The worst p99 of the list cases, in process and over HTTP; the thread page beside it."""
    if not s5:
        return [{"name": "S5 inbox list at 1M/10M", "goal": "p99 < 20 ms", "measured": "-", "met": "not measured"}]
    counts = s5["dataset"]["counts"]
    full = counts["contacts"] >= 1_000_000 and counts["messages"] >= 10_000_000
    label = "at 1M/10M" if full else f"at {counts['contacts']:,} contacts / {counts['messages']:,} messages"
    found = []
    for name, pick in (("inbox list", lambda case: not case.startswith("thread")), ("thread page", _is_thread)):
        worst: list[tuple[float, str]] = []
        for where, phases in (("in process", s5.get("in_process") or {}), ("HTTP", s5.get("http") or {})):
            rows = [(row.get("load", row)["latency_ms"]["p99"], case) for case, row in phases.items() if pick(case)]
            rows = [(p99, case) for p99, case in rows if p99 is not None and not case.startswith("baseline")]
            if rows:
                p99, case = max(rows)
                worst.append((p99, f"{where} {p99:,.1f} ms ({case})"))
        met = None if not worst else all(p99 < 20 for p99, _ in worst)
        found.append(
            {
                "name": f"S5 {name} {label}",
                "goal": "p99 < 20 ms" + ("" if name == "inbox list" else " (the list's bar)"),
                "measured": "; ".join(text for _, text in worst) or "-",
                "met": _verdict(met) if full or met is None else f"{_verdict(met)} (not the issue's scale)",
            }
        )
    return found


def _is_thread(case: str) -> bool:
    return case.startswith("thread")


def _drained(drain: dict[str, Any] | None) -> str:
    if not drain:
        return "-"
    if drain["drain_s"] is None:
        return f"not drained ({drain['assigned']:,} of {drain['queued']:,} assigned)"
    return f"{drain['drain_s']:.2f} s"


def _waiting(s3: dict[str, Any] | None) -> list[dict[str, str]]:
    if not s3:
        return [
            {"name": "S3 100k waiting runs, memory", "goal": "< 300 MB growth", "measured": "-", "met": "not measured"},
            {"name": "S3 resume p99", "goal": "< 50 ms", "measured": "-", "met": "not measured"},
        ]
    scale = s3["waiting_runs"]
    full = scale >= 100_000
    growth = s3["rss_growth_mb"]
    p99 = s3["resume"]["request_to_next_question_ms"]["p99"]
    label = "" if full else f" (at {scale:,} runs, not 100k)"
    return [
        {
            "name": f"S3 waiting runs, memory{label}",
            "goal": "< 300 MB growth at 100k",
            "measured": f"{growth:,.0f} MB",
            "met": _verdict(growth < 300) if full else f"{_verdict(growth < 300 * scale / 100_000)} (scaled goal)",
        },
        {
            "name": f"S3 resume p99{label}",
            "goal": "< 50 ms",
            "measured": f"{p99:,.1f} ms" if p99 is not None else "-",
            "met": _verdict(None if p99 is None else p99 < 50),
        },
    ]


def _reports(s10: dict[str, Any] | None) -> dict[str, str]:
    """The worst p99 of the 90-day report's cases over HTTP (the baseline beside it)."""
    name, goal = "S10 90-day report over 1M conversations", "p99 < 100 ms"
    if not s10:
        return {"name": name, "goal": goal, "measured": "-", "met": "not measured"}
    http = s10["http"]
    rows = [(row["load"]["latency_ms"]["p99"], case) for case, row in http.items() if not case.startswith("baseline")]
    baselines = [row["load"]["latency_ms"]["p99"] for case, row in http.items() if case.startswith("baseline")]
    baseline = baselines[0] if baselines else None
    worst, case = max(rows)
    full = s10["dataset"]["conversations"] >= 1_000_000
    if not full:
        name = f"S10 90-day report over {s10['dataset']['conversations']:,} conversations"
    met = _verdict(worst is not None and worst < 100)
    return {
        "name": name,
        "goal": goal,
        "measured": f"{worst:,.1f} ms ({case}); baseline p99 {baseline} ms",
        "met": met if full else f"{met} (not the issue's scale)",
    }
