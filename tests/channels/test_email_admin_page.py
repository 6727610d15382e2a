"""Setting an e-mail channel up: the API and the admin's page take its inbound address and SMTP
server, the password is write-only, the check asks the server, and the page says where mail comes in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from frontdesk.settings import Settings
from tests.channels.email_support import INBOUND, Sink, create_channel, mail, send
from tests.channels.test_whatsapp_admin_page import csrf, logged_in_admin
from tests.conftest import free_port
from tests.factories import Api

PASSWORD = "smtp-pass-6f1c"


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def settings(db_url: str, tmp_path: Path, smtp_port: int) -> Settings:
    return Settings(database_url=db_url, log_format="text", media_dir=str(tmp_path / "media"), smtp_port=smtp_port)


def test_the_password_is_never_returned_and_the_settings_are(admin: Api) -> None:
    channel = create_channel(admin, smtp_port=2525, smtp_username="acme", smtp_password=PASSWORD)
    shown = [channel, admin.get(f"/api/v1/channels/{channel['id']}").json(), *admin.get("/api/v1/channels").json()]

    assert all(PASSWORD not in str(body) for body in shown)
    assert channel["config"] == {
        "inbound_address": INBOUND,
        "from_address": INBOUND,
        "smtp_host": "127.0.0.1",
        "smtp_port": 2525,
        "smtp_security": "none",
        "smtp_username": "acme",
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"inbound_address": "not-an-address"}, "inbound_address"),
        ({"from_address": "support@"}, "from_address"),
        ({"smtp_port": 70000}, "smtp_port"),
        ({"smtp_security": "ssl"}, "smtp_security"),
        ({"smtp_host": None, "inbound_address": "a@b.example"}, "smtp_host"),
        ({"callback_url": "https://example.com/hook"}, "callback_url"),
    ],
    ids=[
        "bad inbound address",
        "bad from address",
        "port out of range",
        "unknown security",
        "no smtp host",
        "another type's setting",
    ],
)
def test_a_bad_setting_is_refused_naming_it_and_nothing_is_created(
    admin: Api, change: dict[str, Any], field: str
) -> None:
    body = {"type": "email", "name": "Mail", "inbound_address": INBOUND, "from_address": INBOUND, "smtp_host": "h"}
    response = admin.post("/api/v1/channels", {key: value for key, value in {**body, **change}.items() if value})

    assert response.status_code in (400, 422), response.text
    assert field in response.text
    assert admin.get("/api/v1/channels").json() == []


def test_the_check_says_whether_the_smtp_server_answers(admin: Api, sink: Sink) -> None:
    working = create_channel(admin, smtp_port=sink.port)
    away = create_channel(admin, smtp_port=free_port(), inbound_address="sales@acme.example")

    ok = admin.post(f"/api/v1/channels/{working['id']}/check").json()
    failed = admin.post(f"/api/v1/channels/{away['id']}/check").json()

    assert (ok["outcome"], ok["detail"]) == ("ok", f"the SMTP server at 127.0.0.1:{sink.port} answered")
    assert failed["outcome"] == "failed"
    assert failed["detail"].startswith(f"could not reach the SMTP server at 127.0.0.1:{away['config']['smtp_port']}")


def test_the_page_shows_where_the_receiver_listens_and_never_the_password(admin: Api, smtp_port: int) -> None:
    channel = create_channel(admin, smtp_port=2525, smtp_username="acme", smtp_password=PASSWORD)
    client = logged_in_admin(admin)

    html = client.get(f"/admin/channels/{channel['id']}").text

    assert f"<code>127.0.0.1:{smtp_port}</code>" in html
    assert f'value="{INBOUND}"' in html and 'value="acme"' in html
    assert PASSWORD not in html
    assert "Rotate the secret" not in html


def test_saving_the_page_changes_the_settings_and_a_blank_password_keeps_it(admin: Api, smtp_port: int) -> None:
    channel = create_channel(admin, smtp_port=2525, smtp_username="acme", smtp_password=PASSWORD)
    client = logged_in_admin(admin)
    form = {
        "_csrf_token": csrf(client.get(f"/admin/channels/{channel['id']}").text),
        "name": "Support mail",
        "inbound_address": "Help@Acme.example",
        "from_address": INBOUND,
        "smtp_host": "smtp.acme.example",
        "smtp_port": "587",
        "smtp_security": "starttls",
        "smtp_username": "acme",
        "smtp_password": "",
    }

    saved = client.post(f"/admin/channels/{channel['id']}", data=form)

    assert saved.status_code in (200, 303), saved.text
    after = admin.get(f"/api/v1/channels/{channel['id']}").json()
    assert after["name"] == "Support mail"
    assert after["config"]["inbound_address"] == "help@acme.example"
    assert (after["config"]["smtp_port"], after["config"]["smtp_security"]) == (587, "starttls")
    [changed] = admin.events(type="channel.updated")
    assert "smtp_password" not in changed["payload"]["changed"]
    assert send(smtp_port, mail("Hello"), to="help@acme.example") == {}


def test_the_thread_header_shows_the_subject(admin: Api, smtp_port: int) -> None:
    create_channel(admin, smtp_port=2525)
    send(smtp_port, mail("Hello", subject="Refund for <order> #7"))
    client = logged_in_admin(admin)
    conversation_id = admin.get("/api/v1/conversations").json()[0]["id"]

    html = client.get(f"/inbox?c={conversation_id}").text

    assert '<p class="subject" dir="auto">Refund for &lt;order&gt; #7</p>' in html
