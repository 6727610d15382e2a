"""Scenario 6: new conversations opened through signed WhatsApp webhooks, beside the API channel's,
measured back to back in the same run on fresh servers with the same load (closed loop).

Each webhook is a new contact's first text message in Meta's documented shape, signed by the load
generator (HMAC-SHA256 of the exact body with the channel's app secret, `X-Hub-Signature-256`), so
the server pays for what it pays in production: reading the channel, verifying the signature,
parsing Meta's envelope, then the one ingest path. Workflows are off in both phases: a greeting
on the WhatsApp channel would be pushed to a Graph API (none here), while the API channel's is
only stored, and the issue's bar compares the inbound paths: webhooks ≥ 0.8x the API channel's
new conversations/s."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import httpx

from bench import frontdesk_setup as fd
from bench.loadgen import MakeRequest, OnResponse, Request, closed_loop
from bench.scenarios import TEXTS, BenchConfig, measured, new_contact, start, with_auth

APP_SECRET = "bench-app-secret"
PHONE_NUMBER_ID = "106540352242922"


def new_contact_webhook(path: str, prefix: int, secret: str = APP_SECRET) -> MakeRequest:
    """Request i: contact `<prefix><i>`'s first WhatsApp message, signed with `secret`."""

    def make(index: int) -> Request:
        message = {"id": f"wamid.bench{prefix}-{index}", "type": "text", "text": {"body": TEXTS[index % len(TEXTS)]}}
        return signed_webhook(path, f"{prefix}{index:08d}", message, secret)

    return make


def signed_webhook(path: str, wa_id: str, message: dict[str, Any], secret: str = APP_SECRET) -> Request:
    """Contact `wa_id`'s `message` in Meta's webhook envelope, signed with `secret`."""
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
        "contacts": [{"profile": {"name": f"Ada Lovelace {wa_id}"}, "wa_id": wa_id}],
        "messages": [{"from": wa_id, "timestamp": "1749416383", **message}],
    }
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "0", "changes": [{"field": "messages", "value": value}]}],
    }
    body = json.dumps(payload, separators=(",", ":")).encode()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {"content-type": "application/json", "x-hub-signature-256": f"sha256={signature}"}
    return Request("POST", path, body, headers)


def create_whatsapp_channel(api: httpx.Client) -> int:
    body = {
        "type": "whatsapp",
        "name": "Bench WhatsApp",
        "phone_number_id": PHONE_NUMBER_ID,
        "access_token": "bench-access-token",
        "app_secret": APP_SECRET,
        "verify_token": "bench-verify-token",
    }
    response = api.post("/api/v1/channels", json=body)
    if response.status_code != 201:
        raise RuntimeError(f"creating the bench WhatsApp channel: {response.status_code} {response.text}")
    return int(response.json()["id"])


def counter(opened: list[int], key: str) -> OnResponse:
    """Count the conversations the answers say were opened (the API's flag, the webhook's count)."""

    def record(_index: int, _due: float, status: int, body: Any) -> None:
        if status == 200 and isinstance(body, dict):
            opened[0] += int(body.get(key) or 0)

    return record


def phase(channel: str, config: BenchConfig, workdir: Path) -> dict[str, Any]:
    """One closed loop of new contacts on a fresh server, workflows off, through `channel`."""
    server = start("frontdesk-nowf", workdir / f"s6-{channel}", config)
    try:
        with server.api() as api:
            fd.disable_workflows(api)
            if channel == "whatsapp":
                make = new_contact_webhook(f"/webhooks/whatsapp/{create_whatsapp_channel(api)}", 1)
            else:
                make = with_auth(server, new_contact("s6"))
        opened = [0]
        on_response = counter(opened, "messages" if channel == "whatsapp" else "conversation_opened")
        load = closed_loop(
            server.base_url, make, connections=config.connections, duration=config.seconds, on_response=on_response
        )
        result, usage = measured(server, lambda: load)
        seconds = result.duration_s
        per_second = round(opened[0] / seconds, 1) if seconds else 0.0
        cpu_ms = round(usage["server_cpu_s"] * 1000 / opened[0], 3) if opened[0] else None
        return {
            "channel": channel,
            "load": result.summary(),
            "opened": opened[0],
            "opened_per_s": per_second,
            "server_cpu_ms_per_conversation": cpu_ms,
            **usage,
        }
    finally:
        server.stop()


def run(config: BenchConfig, workdir: Path) -> dict[str, Any]:
    """The API channel, then WhatsApp webhooks; the ratio of their new conversations/s, and of the
    server CPU each conversation cost (steadier than throughput on a machine shared with others)."""
    api, whatsapp = phase("api", config, workdir), phase("whatsapp", config, workdir)
    ratio = whatsapp["opened_per_s"] / api["opened_per_s"] if api["opened_per_s"] else None
    cpu = (api["server_cpu_ms_per_conversation"], whatsapp["server_cpu_ms_per_conversation"])
    cpu_ratio = cpu[0] / cpu[1] if cpu[0] and cpu[1] else None
    return {
        "api": api,
        "whatsapp": whatsapp,
        "ratio": None if ratio is None else round(ratio, 3),
        "cpu_ratio": None if cpu_ratio is None else round(cpu_ratio, 3),  # API's CPU ÷ WhatsApp's, per conversation
    }
