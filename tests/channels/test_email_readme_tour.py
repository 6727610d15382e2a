"""The README's tour sends a mail with smtplib to `make run`'s SMTP receiver: the same code runs
here against the demo's e-mail channel, so the tour cannot rot silently."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from frontdesk.demo import load_demo
from frontdesk.settings import Settings
from tests.channels.conversations import inbound_texts
from tests.conftest import free_port
from tests.factories import Api, eventually, make_token

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def settings(db_url: str, tmp_path: Path, smtp_port: int) -> Settings:
    return Settings(database_url=db_url, log_format="text", media_dir=str(tmp_path / "media"), smtp_port=smtp_port)


def test_the_readmes_smtplib_mail_opens_a_conversation_on_the_demo_email_channel(
    client: TestClient[Any], smtp_port: int
) -> None:
    client.app.state.db.write_sync(load_demo)
    admin = Api(client, make_token(client.app.state.db, "admin"))
    block = re.search(r"```python\n(import smtplib\n.*?)```", README.read_text(), re.DOTALL)
    assert block and 'smtplib.SMTP("127.0.0.1", 2525)' in block[1], "the README's tour has no smtplib block"

    exec(block[1].replace("2525", str(smtp_port)), {})  # our own README's code, as a reader runs it

    email_id = next(c["id"] for c in admin.get("/api/v1/channels").json() if c["type"] == "email")
    [conversation] = eventually(lambda: admin.get("/api/v1/conversations", channel_id=email_id).json(), "Sam's")
    assert conversation["subject"] == "Where is my order?"
    assert inbound_texts(admin, conversation["id"]) == ["Hello, order #1042 has not arrived yet."]
    assert admin.get(f"/api/v1/contacts/{conversation['contact_id']}").json()["name"] == "Sam Lee"
