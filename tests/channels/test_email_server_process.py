"""Under `frontdesk serve` the SMTP receiver runs in the server process, where requests come in
(the worker keeps its core for the engine): a mail relayed to it opens a conversation the
server's API shows, and its addresses stay out of the log."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.channels.email_support import INBOUND, mail, send
from tests.conftest import LiveServer, free_port, listening_pids
from tests.factories import eventually


def test_mail_relayed_to_the_servers_receiver_opens_a_conversation(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    smtp_port = free_port()
    monkeypatch.setenv("FRONTDESK_SMTP_PORT", str(smtp_port))
    live = LiveServer(db_url, tmp_path / "server.log")
    live.start()
    try:
        assert live.process is not None
        assert eventually(lambda: listening_pids(smtp_port) or None, "the SMTP listener") == {live.process.pid}
        with httpx.Client(base_url=live.base_url, headers=live.headers, timeout=10) as api:
            body = {"type": "email", "name": "Mail", "inbound_address": INBOUND, "from_address": INBOUND}
            created = api.post("/api/v1/channels", json={**body, "smtp_host": "127.0.0.1", "smtp_port": free_port()})
            assert created.status_code == 201, created.text

            send(smtp_port, mail("Hello from smtplib", subject="Hi", sender="Sam <sam@example.org>"))

            def opened() -> list[dict[str, object]] | None:
                found = api.get("/api/v1/conversations", params={"channel_id": created.json()["id"]}).json()
                return found or None

            [conversation] = eventually(opened, "the conversation")
            assert conversation["subject"] == "Hi"
    finally:
        live.stop()
    log = (tmp_path / "server.log").read_text()
    assert "smtp receiver listening" in log
    assert "someone@example.org" not in log  # the envelope sender: aiosmtpd's line per SMTP command is off
