"""The README's tour posts a WhatsApp-format webhook, signed with openssl, to the demo's WhatsApp
channel: the same body, secret and signature command run here against the app, so the tour cannot
rot silently (a changed demo secret, channel id, payload shape or answer fails this test)."""

from __future__ import annotations

import hashlib
import hmac
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from litestar.testing import TestClient

from frontdesk.demo import DEMO_APP_SECRET, load_demo
from tests.channels.test_whatsapp_admin_page import logged_in_admin
from tests.factories import Api, make_token

README = Path(__file__).resolve().parents[2] / "README.md"


def tour_block() -> str:
    text = README.read_text()
    found = re.search(r"```sh\n(BODY='.*?)```", text, re.DOTALL)
    assert found, "the README's tour has no WhatsApp webhook block"
    return found[1]


def test_the_readmes_signed_whatsapp_webhook_opens_a_conversation_in_the_inbox(client: TestClient) -> None:  # type: ignore[type-arg]
    block = tour_block()
    body = re.search(r"^BODY='(.*)'$", block, re.MULTILINE)
    sign_line = re.search(r"^SIG=\$\((.*)\)$", block, re.MULTILINE)
    path = re.search(r"http://127\.0\.0\.1:8000(/webhooks/whatsapp/\d+)", block)
    answer = re.search(r"^# (\{.*\})$", block, re.MULTILINE)
    assert body and sign_line and path and answer, block
    assert f"-hmac {DEMO_APP_SECRET} " in sign_line[1]
    signature = hmac.new(DEMO_APP_SECRET.encode(), body[1].encode(), hashlib.sha256).hexdigest()
    if shutil.which("openssl"):  # the README's own command, as a shell runs it
        script = f"BODY='{body[1]}'\n{sign_line[1]}"
        assert subprocess.run(["bash", "-c", script], capture_output=True, text=True).stdout.strip() == signature
    client.app.state.db.write_sync(load_demo)
    admin = Api(client, make_token(client.app.state.db, "admin"))

    posted = client.post(
        path[1],
        content=body[1].encode(),
        headers={"content-type": "application/json", "X-Hub-Signature-256": f"sha256={signature}"},
    )

    assert posted.status_code == 200, posted.text
    assert posted.text == answer[1]
    [conversation] = admin.get("/api/v1/conversations").json()
    assert admin.get(f"/api/v1/contacts/{conversation['contact_id']}").json()["name"] == "Sheena"
    assert "Sheena" in logged_in_admin(admin).get("/inbox").text


@pytest.mark.parametrize("tampered", ["arrived", "Sheena"])
def test_the_tours_body_changed_after_signing_is_refused(client: TestClient, tampered: str) -> None:  # type: ignore[type-arg]
    body = re.search(r"^BODY='(.*)'$", tour_block(), re.MULTILINE)
    assert body
    signature = hmac.new(DEMO_APP_SECRET.encode(), body[1].encode(), hashlib.sha256).hexdigest()
    client.app.state.db.write_sync(load_demo)

    posted = client.post(
        "/webhooks/whatsapp/3",
        content=body[1].replace(tampered, tampered.upper()).encode(),
        headers={"content-type": "application/json", "X-Hub-Signature-256": f"sha256={signature}"},
    )

    assert posted.status_code == 401
