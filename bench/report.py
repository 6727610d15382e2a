"""The report of a bench run: the JSON as measured, and a Markdown summary with each target's
figures as a ratio to the bare baseline (a) and to Node-RED (c), measured in the same run."""

from __future__ import annotations

from typing import Any

LABELS = {
    "bare": "(a) bare Litestar + SQLite",
    "frontdesk": "Frontdesk, workflows on",
    "frontdesk-nowf": "(b) Frontdesk, workflows off",
    "frontdesk-pg": "Frontdesk on PostgreSQL, workflows on",
    "frontdesk-pg-1x2": "Frontdesk on PostgreSQL, 1 server + 2 workers",
    "frontdesk-pg-2x1": "Frontdesk on PostgreSQL, 2 servers + 1 worker",
    "frontdesk-pg-2x2": "Frontdesk on PostgreSQL, 2 servers + 2 workers",
    "node-red": "(c) Node-RED (in memory)",
}


def _ratio(value: float | None, reference: float | None) -> str:
    if not value or not reference:
        return "-"
    return f"{value / reference:.2f}x"


def _ms(latency: dict[str, Any] | None, key: str) -> str:
    value = (latency or {}).get(key)
    return "-" if value is None else f"{value:.1f}"


def _throughput_table(phase: dict[str, dict[str, Any]], title: str) -> list[str]:
    bare = phase.get("bare", {}).get("throughput")
    peer = phase.get("node-red", {}).get("throughput")
    lines = [
        f"#### {title}",
        "",
        "| target | req/s | p50 ms | p95 ms | p99 ms | max ms | errors | server CPU (cores) | peak RSS MB"
        " | ÷ (a) | ÷ (c) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for target, row in phase.items():
        latency = row.get("latency_ms")
        lines.append(
            f"| {LABELS.get(target, target)} | {row['throughput']:,.0f} | {_ms(latency, 'p50')} | {_ms(latency, 'p95')}"
            f" | {_ms(latency, 'p99')} | {_ms(latency, 'max')} | {row['errors']} | {row['cpu']}"
            f" | {row['rss']} | {_ratio(row['throughput'], bare)} | {_ratio(row['throughput'], peer)} |"
        )
    return [*lines, ""]


def _rows(results: dict[str, Any], key: str) -> dict[str, dict[str, Any]]:
    rows = {}
    for target, result in results.get(key, {}).items():
        load = result["load"]
        rows[target] = {
            "throughput": load["throughput"],
            "latency_ms": load["latency_ms"],
            "errors": sum(load["errors"].values()),
            "cpu": result.get("server_cpu_cores"),
            "rss": result.get("server_peak_rss_mb"),
        }
        if "end_to_end" in result:  # Frontdesk with workflows: conversations *assigned* per second
            e2e = result["end_to_end"]
            rows[f"{LABELS.get(target, target)} → assigned"] = {
                **rows[target],
                "throughput": e2e["throughput"],
                "latency_ms": e2e["request_to_assigned_ms"],
                "errors": e2e["conversations"] - e2e["assigned"],
            }
    return rows


def markdown(report: dict[str, Any]) -> str:
    meta = report["meta"]
    results = report["results"]
    lines = [
        f"# Frontdesk bench — {meta['started_at']}",
        "",
        f"Machine: {meta['cores']} cores ({meta['cpu_model']}), Python {meta['python']}, Node {meta['node']},"
        f" Node-RED {meta.get('node_red', '-')}; HEAD {meta['commit']}, Frontdesk from the"
        f" {meta.get('frontdesk_source', 'work tree')}; mode {meta['mode']}.",
        "Latencies in ms; open loop measured from each request's scheduled time. `→ assigned` rows:"
        " conversations assigned per second (first request → last `conversation.assigned`) and request →"
        " `conversation.assigned` latency from the event log; their errors column counts conversations not"
        " assigned when the bench stopped waiting.",
        "",
    ]
    if "s1_closed" in results:
        lines += ["### Scenario 1 — new conversations", ""]
        lines += _throughput_table(_rows(results, "s1_closed"), "Closed loop (maximum throughput)")
    if "s1_open" in results:
        rate = next(iter(results["s1_open"].values()))["load"]["target_rate"]
        lines += _throughput_table(_rows(results, "s1_open"), f"Open loop at {rate:.0f} req/s")
        lines += _event_log_latency(results["s1_open"])
    if "s2" in results:
        lines += ["### Scenario 2 — messages into open conversations", ""]
        lines += _throughput_table(_rows(results, "s2"), "Closed loop")
    lines += _cpu_split(results)
    for key, title in (("s3", "Scenario 3 — waiting runs"), ("s4", "Scenario 4 — queue drain")):
        if key in results:
            lines += [f"### {title}", "", "```", *_flat(results[key]), "```", ""]
    if "s5" in results:
        lines += _inbox(results["s5"])
    if "s10" in results:
        lines += _reports(results["s10"])
    if "s6" in results:
        lines += _webhooks(results["s6"])
    if "s7" in results:
        lines += _media(results["s7"])
    if "s8" in results:
        lines += _mail_sms(results["s8"])
    if "s9" in results:
        lines += _outgoing_webhooks(results["s9"])
    if report.get("targets"):
        lines += ["### Targets", "", "| target | goal | measured | met |", "|---|---|---|---|"]
        lines += [f"| {t['name']} | {t['goal']} | {t['measured']} | {t['met']} |" for t in report["targets"]]
        lines.append("")
    return "\n".join(lines)


def _cpu_split(results: dict[str, Any]) -> list[str]:
    """Scenario 1's closed loop per layout: CPU per assigned conversation, Frontdesk's processes
    beside PostgreSQL's (load and drain), and how throughput grows with processes."""
    closed, s2 = results.get("s1_closed", {}), results.get("s2", {})
    rows = [t for t in closed if t == "frontdesk" or t.startswith("frontdesk-pg")]
    if not any(t.startswith("frontdesk-pg") for t in rows):
        return []
    lines = [
        "### CPU per conversation — Frontdesk and PostgreSQL (scenario 1, closed loop, load + drain)",
        "",
        "| target | assigned/s | Frontdesk CPU ms/conversation | PostgreSQL CPU ms/conversation | S2 req/s |",
        "|---|---:|---:|---:|---:|",
    ]
    for target in rows:
        row, e2e = closed[target], closed[target].get("end_to_end") or {}
        assigned = e2e.get("assigned") or 0
        ours = row["server_cpu_s"] + e2e.get("drain_server_cpu_s", 0)
        theirs = row.get("postgres_cpu_s", 0) + e2e.get("drain_postgres_cpu_s", 0)
        db = _per(theirs, assigned) if target.startswith("frontdesk-pg") else "(SQLite: in Frontdesk's)"
        s2_rate = s2.get(target, {}).get("load", {}).get("throughput")
        lines.append(
            f"| {LABELS.get(target, target)} | {e2e.get('throughput', 0):,.0f} | {_per(ours, assigned)} | {db}"
            f" | {'-' if s2_rate is None else f'{s2_rate:,.0f}'} |"
        )
    return [*lines, ""]


def _per(cpu_s: float, conversations: int) -> str:
    return f"{cpu_s * 1000 / conversations:.2f}" if conversations else "-"


def _event_log_latency(phase: dict[str, Any]) -> list[str]:
    e2e = phase.get("frontdesk", {}).get("end_to_end")
    if not e2e:
        return []
    latency = e2e["received_to_assigned_ms"]
    return [
        "Frontdesk, event log only (`message.received` → `conversation.assigned`, both server timestamps):"
        f" p50 {_ms(latency, 'p50')} · p95 {_ms(latency, 'p95')} · p99 {_ms(latency, 'p99')} ·"
        f" max {_ms(latency, 'max')} ms; engine lag after the last request {e2e['engine_lag_s']} s.",
        "",
    ]


def _inbox(s5: dict[str, Any]) -> list[str]:
    data = s5["dataset"]
    counts, build = data["counts"], data["build_seconds"]
    made = f"built in {build['total']:,.0f} s" if data["built_now"] else f"reused (built in {build['total']:,.0f} s)"
    lines = [
        f"### Scenario 5 — inbox list at {counts['contacts']:,} contacts / {counts['messages']:,} messages",
        "",
        f"Data set: {counts['conversations']:,} conversations ({counts['open_conversations']:,} open),"
        f" {counts['conversation_reads']:,} read marks, {data['file_bytes'] / 2**30:.2f} GiB, {made};"
        f" `frontdesk migrate` on it took {s5['migrate_s']} s.",
        "",
    ]
    if s5.get("in_process"):
        first = next(iter(s5["in_process"].values()))
        lines += [
            f"#### In process: `inbox_list` / `thread` on a read connection, {first['n']} calls each",
            "",
            "| case | rows | p50 ms | p95 ms | p99 ms | max ms | CPU p50 ms | CPU p99 ms |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for name, row in s5["in_process"].items():
            latency, cpu = row["latency_ms"], row.get("cpu_ms")
            lines.append(
                f"| {name} | {row['rows']:,} | {_ms(latency, 'p50')} | {_ms(latency, 'p95')} | {_ms(latency, 'p99')}"
                f" | {_ms(latency, 'max')} | {_ms(cpu, 'p50')} | {_ms(cpu, 'p99')} |"
            )
        lines.append("")
    http = s5.get("http") or {}
    base = (http.get("baseline: GET /healthz", {}).get("load", {}).get("latency_ms") or {}).get("p99")
    if http:
        load = next(iter(http.values()))["load"]
        lines += [
            f"#### Over HTTP: `frontdesk serve` on the data set, open loop at {load['target_rate']:.0f} req/s"
            f" unless said, {load['duration_s']:.0f} s per phase",
            "",
            "| phase | req/s | p50 ms | p95 ms | p99 ms | max ms | errors | server CPU (cores) | server CPU ms/request"
            " | p99 ÷ /healthz p99 |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for name, row in http.items():
            load, latency = row["load"], row["load"]["latency_ms"]
            lines.append(
                f"| {name} | {load['throughput']:,.0f} | {_ms(latency, 'p50')} | {_ms(latency, 'p95')}"
                f" | {_ms(latency, 'p99')} | {_ms(latency, 'max')} | {sum(load['errors'].values())}"
                f" | {row['server_cpu_cores']} | {row.get('server_cpu_ms_per_request', '-')}"
                f" | {_ratio(latency['p99'], base)} |"
            )
        lines.append("")
    return lines


def _reports(s10: dict[str, Any]) -> list[str]:
    data, http = s10["dataset"], s10["http"]
    made = "built now" if data["built_now"] else "reused"
    rows = ", ".join(f"{table} {count:,}" for table, count in data["rows"].items())
    base = next(iter(http.values()))["load"]["latency_ms"].get("p99")
    lines = [
        f"### Scenario 10 — the 90-day report over {data['conversations']:,} conversations",
        "",
        f"Data set: {data['first_day']} to {data['last_day']} in {data['zone']}; rows: {rows};"
        f" {data['file_bytes'] / 2**30:.2f} GiB, {made} (built in {data['build_seconds']:,.0f} s)."
        " GET over HTTP, closed loop on one connection.",
        "",
        "| case | requests | p50 ms | p95 ms | p99 ms | max ms | errors | server CPU ms/request | p99 ÷ baseline p99 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, row in http.items():
        load, latency = row["load"], row["load"]["latency_ms"]
        lines.append(
            f"| {name} | {load['ok']:,} | {_ms(latency, 'p50')} | {_ms(latency, 'p95')} | {_ms(latency, 'p99')}"
            f" | {_ms(latency, 'max')} | {sum(load['errors'].values())} | {row.get('server_cpu_ms_per_request', '-')}"
            f" | {_ratio(latency['p99'], base)} |"
        )
    return [*lines, ""]


def _webhooks(s6: dict[str, Any]) -> list[str]:
    """Scenario 6: the API channel and WhatsApp webhooks, new conversations each, side by side."""
    rows = {
        "API channel (`POST /api/v1/channels/{id}/inbound`, token)": s6["api"],
        "WhatsApp webhooks (`POST /webhooks/whatsapp/{id}`, signed)": s6["whatsapp"],
    }
    title = "### Scenario 6 — new conversations through WhatsApp webhooks, beside the API channel (workflows off)"
    ratio, cpu = s6.get("ratio"), s6.get("cpu_ratio")
    return [
        *_inbound_rows(title, rows),
        f"WhatsApp ÷ API channel, new conversations/s: {'-' if ratio is None else f'{ratio:.2f}x'};"
        f" by server CPU per conversation (API's ÷ WhatsApp's): {'-' if cpu is None else f'{cpu:.2f}x'}.",
        "",
    ]


def _mail_sms(s8: dict[str, Any]) -> list[str]:
    """Scenario 8: the API channel, e-mail through the SMTP receiver and SMS through Twilio webhooks."""
    rows = {
        "API channel (`POST /api/v1/channels/{id}/inbound`, token)": s8["api"],
        "E-mail through the SMTP receiver (MIME, one SMTP session per connection)": s8["email"],
        "SMS through Twilio webhooks (`POST /webhooks/twilio/{id}`, signed)": s8["sms"],
    }
    title = "### Scenario 8 — new conversations by e-mail and SMS, beside the API channel (workflows off)"
    lines = _inbound_rows(title, rows)
    for channel, name in (("email", "E-mail"), ("sms", "SMS")):
        ratio, cpu = s8.get(f"{channel}_ratio"), s8.get(f"{channel}_cpu_ratio")
        lines.append(
            f"{name} ÷ API channel, new conversations/s: {'-' if ratio is None else f'{ratio:.2f}x'};"
            f" by server CPU per conversation (API's ÷ {name}'s): {'-' if cpu is None else f'{cpu:.2f}x'}."
        )
    return [*lines, ""]


def _inbound_rows(title: str, rows: dict[str, dict[str, Any]]) -> list[str]:
    """A table of inbound paths: each one's load, the conversations it opened and their CPU."""
    lines = [
        title,
        "",
        "| path | req/s | new conversations/s | p50 ms | p99 ms | errors | server CPU (cores) | server CPU ms"
        " per conversation |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, row in rows.items():
        load, latency = row["load"], row["load"]["latency_ms"]
        lines.append(
            f"| {name} | {load['throughput']:,.0f} | {row['opened_per_s']:,.0f} | {_ms(latency, 'p50')}"
            f" | {_ms(latency, 'p99')} | {sum(load['errors'].values())} | {row['server_cpu_cores']}"
            f" | {row.get('server_cpu_ms_per_conversation', '-')} |"
        )
    return [*lines, ""]


def _media(s7: dict[str, Any]) -> list[str]:
    """Scenario 7: WhatsApp text webhooks alone, then with media downloads in flight."""
    rows = {"(a) no downloads": s7["quiet"], "(b) media downloads in flight": s7["media"]}
    bound = s7["fetcher_bound"]
    lines = [
        "### Scenario 7 — WhatsApp text webhooks while media downloads are in flight (workflows off)",
        "",
        f"The media fetcher downloads at most {bound['in_flight']} at once ({bound['per_channel']} per channel);"
        " the rest wait pending. Downloads open: at the slow fake Graph server, sampled every 0.1 s.",
        "",
        "| phase | new conversations/s | p50 ms | p99 ms | errors | downloads open (min to max) | attachments pending"
        " (before → after) | downloads finished | server CPU (cores) | server CPU ms per conversation |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, row in rows.items():
        load, latency = row["load"], row["load"]["latency_ms"]
        opened, pending = row["downloads_open"], row["attachments_pending"]
        lines.append(
            f"| {name} | {row['opened_per_s']:,.0f} | {_ms(latency, 'p50')} | {_ms(latency, 'p99')}"
            f" | {sum(load['errors'].values())} | {opened['min']} to {opened['max']}"
            f" | {pending['before']} → {pending['after']} | {row['downloads_finished']} | {row['server_cpu_cores']}"
            f" | {row.get('server_cpu_ms_per_conversation', '-')} |"
        )
    ratio, cpu = s7.get("ratio"), s7.get("cpu_ratio")
    return [
        *lines,
        "",
        f"(b) ÷ (a), new conversations/s: {'-' if ratio is None else f'{ratio:.2f}x'};"
        f" by server CPU per conversation ((a)'s ÷ (b)'s): {'-' if cpu is None else f'{cpu:.2f}x'}.",
        "",
    ]


def _outgoing_webhooks(s9: dict[str, Any]) -> list[str]:
    """Scenario 9: S1 without subscriptions, with them, and without the reports' rollups."""
    rows = {
        "(a) no subscriptions": s9["plain"],
        "(b2) subscriptions to `conversation.opened` and `.assigned`": s9["webhooks_two"],
        "(b) subscriptions to a local receiver, every event": s9["webhooks"],
        "(c) no subscriptions, reports' rollups off": s9["no_reports"],
        "(b2) again": s9.get("webhooks_two_2"),
        "(a) again": s9.get("plain_2"),
    }
    lines = [
        "### Scenario 9 — S1 (new conversations, workflows on) with outgoing webhooks, and without the reports' fold",
        "",
        "| phase | req/s | assigned/s | request → assigned p99 ms | server CPU (cores) | server CPU ms per"
        " conversation | events delivered/s during the load | caught up after the load (s) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, row in rows.items():
        if row is None:  # a report of before the phases ran twice
            continue
        e2e, hooks = row["end_to_end"], row.get("webhooks")
        lines.append(
            f"| {name} | {row['load']['throughput']:,.0f} | {e2e['throughput']:,.0f}"
            f" | {_ms(e2e['request_to_assigned_ms'], 'p99')} | {row['server_cpu_cores']}"
            f" | {row.get('server_cpu_ms_per_conversation', '-')}"
            f" | {_rate(hooks)}"
            f" | {'-' if not hooks else hooks['caught_up_after_load_s']} |"
        )
    hooks, replay = s9["webhooks"]["webhooks"], s9["webhooks"].get("replay") or {}
    return [
        *lines,
        "",
        f"(b): {hooks['subscriptions']} subscriptions; {hooks['delivered_during_load']:,} events delivered during the"
        f" load, of {hooks.get('logged_during_load', 0):,} S1 logged in it ({hooks.get('logged_per_s', 0):,.0f}/s);"
        f" {hooks['delivered_total']:,} in all, {hooks['repeats']} repeated POSTs; {hooks['verified']} verified"
        f" with standardwebhooks, {hooks['verify_failed']} failed;"
        f" receiver CPU {s9['webhooks'].get('receiver_cpu_cores')} cores. Then every subscription replayed from"
        f" the first event, nothing else running: {replay.get('posts', 0):,} POSTs in {replay.get('seconds')} s,"
        f" **{replay.get('events_per_s', 0):,.0f} events/s**, {replay.get('server_cpu_ms_per_event')} ms of server"
        " CPU per event.",
        f"(b) ÷ (a), assigned/s: {_x(s9.get('webhooks_ratio'))}; by server CPU per conversation ((a)'s ÷ (b)'s):"
        f" {_x(s9.get('webhooks_cpu_ratio'))}. (b2) ÷ (a), both runs of each:"
        f" {_x(s9.get('webhooks_two_ratio'))}; by CPU:"
        f" {_x(s9.get('webhooks_two_cpu_ratio'))}. (c) ÷ (a): {_x(s9.get('no_reports_ratio'))}; by CPU:"
        f" {_x(s9.get('no_reports_cpu_ratio'))}.",
        "",
    ]


def _rate(hooks: dict[str, Any] | None) -> str:
    return "-" if not hooks else f"{hooks['events_per_s']:,.0f}"


def _x(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio:.2f}x"


def _flat(value: Any, prefix: str = "") -> list[str]:
    if isinstance(value, dict):
        return [line for key, item in value.items() for line in _flat(item, f"{prefix}{key}.")]
    return [f"{prefix.rstrip('.')}: {value}"]
