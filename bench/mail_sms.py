"""Scenario 8: new conversations opened by e-mail through the SMTP receiver and by SMS through
signed Twilio webhooks, beside the API channel's, back to back in the same run on fresh servers
with the same closed loop (issue 15's bar: e-mail ≥ 0.5x the API channel's new conversations/s,
SMS ≥ 0.8x).

- E-mail: each connection of the load relays mails over SMTP (aiosmtplib, one session reused for
  many mails, as a mail server relaying a queue does) to `frontdesk serve`'s receiver, which runs in
  the worker process. Each mail is a new sender's first, in the shape a mail client writes
  (multipart/alternative: text and HTML, a quoted reply below), so the receiver pays for MIME
  parsing, HTML and quote stripping, then the one ingest path. A mail counts when the receiver
  answers 250, which it does only once the mail is committed.
- SMS: Twilio's documented inbound form, signed with the channel's auth token over the URL posted
  to (`X-Twilio-Signature`, computed by the official `twilio` package as Twilio's servers do).
- Workflows are off in every phase (as scenario 6): the bar compares the inbound paths.

The count of conversations opened is read from the database after each phase, not trusted from
the answers, and the CPU of the server's whole process tree (server and worker) is measured."""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import time
import urllib.parse
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiosmtplib
import httpx
from twilio.request_validator import RequestValidator

from bench import frontdesk_setup as fd
from bench.loadgen import LoadResult, MakeRequest, Request, closed_loop
from bench.scenarios import TEXTS, BenchConfig, measured, new_contact, with_auth
from bench.servers import Server, free_port, start_frontdesk

INBOUND = "support@bench.example"
ACCOUNT_SID = "AC" + "b" * 32
AUTH_TOKEN = "bench-twilio-auth-token"
FROM_NUMBER = "+14155550100"
HTML = "<html><body><p>{text}</p><p>Best,<br>Ada</p></body></html>"


_SLOT = "9999999999"  # stands for the mail's index in the templates


@functools.cache
def _template(text: str) -> bytes:
    message = EmailMessage()
    message["From"] = f"Ada Lovelace {_SLOT} <ada{_SLOT}@customers.example>"
    message["To"] = INBOUND
    message["Subject"] = "A question about my order"
    message["Message-ID"] = f"<bench-{_SLOT}@customers.example>"
    message.set_content(f"{text}\n\nBest,\nAda\n\nOn Mon, 1 Dec 2026 at 09:00, Acme wrote:\n> How can we help?\n")
    message.add_alternative(HTML.format(text=text), subtype="html")
    message.set_boundary(f"=={_SLOT}=alternative")  # each mail its own, as clients write them
    return message.as_bytes()


def mail(index: int) -> bytes:
    """A new sender's first mail, as a mail client writes one. Built once per text by the standard
    library and numbered by substitution (building each took ~2-5 ms of the load generator's one
    core: the generator, not the receiver, was the bound)."""
    return _template(TEXTS[index % len(TEXTS)]).replace(_SLOT.encode(), str(index).encode())


async def smtp_loop(port: int, connections: int, duration: float) -> LoadResult:
    """`connections` SMTP sessions, each relaying its next mail as soon as the last is answered."""
    result = LoadResult(mode="closed", duration_s=duration, connections=connections)
    counter = iter(range(10**12))
    start = time.perf_counter()
    deadline = start + duration

    async def session() -> None:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=30)
        await client.connect()
        try:
            while time.perf_counter() < deadline:
                index = next(counter)
                sent_at = time.perf_counter()
                result.sent += 1
                try:
                    await client.sendmail(f"ada{index}@customers.example", [INBOUND], mail(index))
                except aiosmtplib.SMTPException as exc:
                    result.errors[type(exc).__name__] += 1
                    continue
                result.ok += 1
                result.latencies_ms.append((time.perf_counter() - sent_at) * 1000)
        finally:
            client.close()

    await asyncio.gather(*(session() for _ in range(connections)))
    result.duration_s = time.perf_counter() - start
    return result


def sms_webhook(base_url: str, channel_id: int) -> MakeRequest:
    """Request i: a new number's first SMS, signed for the URL it is posted to."""
    path = f"/webhooks/twilio/{channel_id}"
    validator = RequestValidator(AUTH_TOKEN)

    def make(index: int) -> Request:
        sid = f"SM{index:032x}"
        form = {
            "MessageSid": sid,
            "SmsSid": sid,
            "SmsMessageSid": sid,
            "AccountSid": ACCOUNT_SID,
            "From": f"+1415{index:07d}",
            "To": FROM_NUMBER,
            "Body": TEXTS[index % len(TEXTS)],
            "NumMedia": "0",
            "NumSegments": "1",
            "SmsStatus": "received",
            "ApiVersion": "2010-04-01",
        }
        headers = {
            "content-type": "application/x-www-form-urlencoded",
            "x-twilio-signature": validator.compute_signature(f"{base_url}{path}", form),
        }
        return Request("POST", path, urllib.parse.urlencode(form).encode(), headers)

    return make


def _create(api: httpx.Client, body: dict[str, Any]) -> int:
    response = api.post("/api/v1/channels", json=body)
    if response.status_code != 201:
        raise RuntimeError(f"creating the bench {body['type']} channel: {response.status_code} {response.text}")
    return int(response.json()["id"])


def _conversations(database: Path) -> int:
    with sqlite3.connect(database) as conn:
        return int(conn.execute("SELECT count(*) FROM conversations").fetchone()[0])


def phase(channel: str, config: BenchConfig, workdir: Path) -> dict[str, Any]:
    """One closed loop of new contacts on a fresh server (workflows off) through `channel`."""
    folder = workdir / f"s8-{channel}"
    smtp_port = free_port()
    settings = {"FRONTDESK_SMTP_PORT": str(smtp_port)} if channel == "email" else {}
    server: Server = start_frontdesk(folder, "frontdesk-nowf", config.frontdesk_src, settings=settings)
    try:
        with server.api() as api:
            fd.disable_workflows(api)
            if channel == "email":
                body = {"type": "email", "name": "Bench mail", "inbound_address": INBOUND, "from_address": INBOUND}
                _create(api, {**body, "smtp_host": "127.0.0.1", "smtp_port": 9, "smtp_security": "none"})
            elif channel == "sms":
                body = {"type": "twilio", "name": "Bench SMS", "account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN}
                make = sms_webhook(server.base_url, _create(api, {**body, "from_number": FROM_NUMBER}))
            else:
                make = with_auth(server, new_contact("s8"))
        before = _conversations(folder / "frontdesk.db")
        if channel == "email":
            load = smtp_loop(smtp_port, config.connections, config.seconds)
        else:
            load = closed_loop(server.base_url, make, connections=config.connections, duration=config.seconds)
        result, usage = measured(server, lambda: load)
        opened = _conversations(folder / "frontdesk.db") - before
        seconds = result.duration_s
        return {
            "channel": channel,
            "load": result.summary(),
            "opened": opened,
            "opened_per_s": round(opened / seconds, 1) if seconds else 0.0,
            "server_cpu_ms_per_conversation": round(usage["server_cpu_s"] * 1000 / opened, 3) if opened else None,
            **usage,
        }
    finally:
        server.stop()


def run(config: BenchConfig, workdir: Path) -> dict[str, Any]:
    """The API channel, then e-mail, then SMS; each one's new conversations/s over the API's, and
    the API's CPU per conversation over each one's (steadier on a shared machine)."""
    api = phase("api", config, workdir)
    found: dict[str, Any] = {"api": api}
    for channel in ("email", "sms"):
        other = found[channel] = phase(channel, config, workdir)
        rate = other["opened_per_s"] / api["opened_per_s"] if api["opened_per_s"] else None
        cpu = (api["server_cpu_ms_per_conversation"], other["server_cpu_ms_per_conversation"])
        found[f"{channel}_ratio"] = None if rate is None else round(rate, 3)
        found[f"{channel}_cpu_ratio"] = round(cpu[0] / cpu[1], 3) if cpu[0] and cpu[1] else None
    return found
