"""Web-chat visitors send files and read their own conversation's attachments, and only those: not
another visitor's, not an agent's private note's."""

from __future__ import annotations

from pathlib import Path

import httpx
from litestar.testing import TestClient

from frontdesk.actions.conversations import add_note
from frontdesk.domain.attachments import NewAttachment
from frontdesk.domain.model import SYSTEM, AttachmentKind, AttachmentState
from frontdesk.server import create_app
from frontdesk.settings import Settings
from tests.api.test_attachments import HTML, PNG, stored_files, upload
from tests.channels.test_webchat import Visitor, webchat_channel
from tests.factories import Api, make_token


def send_file(visitor: Visitor, name: str, content: bytes, mime: str, text: str = "") -> httpx.Response:
    return visitor.client.post(
        f"{visitor.path}/messages/upload",
        data={"id": "file-" + name.replace(".", "-"), "text": text},
        files={"file": (name, content, mime)},
        headers=visitor.headers,
    )


def test_a_visitor_sends_a_photo_and_the_agent_reads_it_on_the_message(client: TestClient, admin: Api) -> None:  # type: ignore[type-arg]
    visitor = Visitor(client, webchat_channel(admin))

    sent = send_file(visitor, "broken.png", PNG, "image/png", text="It arrived broken")

    assert sent.status_code == 200, sent.text
    (attachment,) = sent.json()["attachments"]
    assert attachment["url"] == f"{visitor.path}/attachments/{attachment['id']}"
    assert (attachment["kind"], attachment["mime_type"], attachment["file_name"]) == (
        "image",
        "image/png",
        "broken.png",
    )
    conversation = admin.get("/api/v1/conversations").json()[0]["id"]
    (message,) = admin.get(f"/api/v1/conversations/{conversation}/messages").json()[:1]
    assert message["text"] == "It arrived broken"
    assert admin.get(message["attachments"][0]["url"]).content == PNG


def test_a_retried_upload_makes_one_message(client: TestClient, admin: Api) -> None:  # type: ignore[type-arg]
    visitor = Visitor(client, webchat_channel(admin))

    first = send_file(visitor, "a.png", PNG, "image/png")
    again = send_file(visitor, "a.png", PNG, "image/png")

    assert again.json()["id"] == first.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert len(visitor.read()) == 1


def test_a_visitor_reads_their_attachments_by_header_or_token_and_markup_is_a_download(
    client: TestClient,  # type: ignore[type-arg]
    admin: Api,
) -> None:
    visitor = Visitor(client, webchat_channel(admin))
    url = send_file(visitor, "page.html", HTML, "text/html").json()["attachments"][0]["url"]

    by_header = client.get(url, headers=visitor.headers)
    by_token = client.get(url, params={"token": visitor.token})

    for served in (by_header, by_token):
        assert served.status_code == 200
        assert served.content == HTML
        assert served.headers["content-disposition"].startswith("attachment;")
        assert served.headers["x-content-type-options"] == "nosniff"
        assert served.headers["content-security-policy"] == "sandbox; default-src 'none'"
    assert visitor.read()[0]["attachments"][0]["url"] == url


def test_another_visitor_and_no_token_get_nothing(client: TestClient, admin: Api) -> None:  # type: ignore[type-arg]
    channel_id = webchat_channel(admin)
    ada, eve = Visitor(client, channel_id), Visitor(client, channel_id)
    attachment = send_file(ada, "id.png", PNG, "image/png").json()["attachments"][0]
    eve.say("hello")

    refused = client.get(attachment["url"], headers=eve.headers)

    assert refused.status_code == 404
    assert refused.json()["detail"] == f"attachment {attachment['id']} does not exist"
    assert client.get(attachment["url"]).status_code == 401
    assert client.get(f"/webchat/{channel_id}/attachments/999999", headers=ada.headers).status_code == 404


def test_the_attachment_of_a_private_note_is_never_the_visitors(client: TestClient, admin: Api) -> None:  # type: ignore[type-arg]
    channel_id = webchat_channel(admin)
    visitor = Visitor(client, channel_id)
    visitor.say("hello")
    conversation = admin.get("/api/v1/conversations").json()[0]["id"]
    shared = upload(admin, conversation, ("shared.png", PNG, "image/png")).json()["attachments"][0]
    note_file = NewAttachment(kind=AttachmentKind.FILE, state=AttachmentState.PENDING, source_url="https://x.test/a")
    note = admin.db.write_sync(lambda c: add_note(c, conversation, SYSTEM, "internal", attachments=[note_file]))
    note_attachment = next(
        a["id"]
        for m in admin.get(f"/api/v1/conversations/{conversation}/messages").json()
        if m["id"] == note
        for a in m["attachments"]
    )

    assert client.get(f"{visitor.path}/attachments/{shared['id']}", headers=visitor.headers).status_code == 200
    assert client.get(f"{visitor.path}/attachments/{note_attachment}", headers=visitor.headers).status_code == 404
    assert [m["text"] for m in visitor.read()] == ["hello", ""]  # the shared file, not the note


def test_a_visitors_file_over_the_limit_is_refused_and_nothing_is_stored(settings: Settings) -> None:
    small = settings.model_copy(update={"media_max_bytes": 10})
    with TestClient(create_app(small)) as client:
        admin = Api(client, make_token(client.app.state.db, "admin"))
        visitor = Visitor(client, webchat_channel(admin))

        refused = send_file(visitor, "big.png", PNG, "image/png")

        assert refused.status_code == 413, refused.text
        assert refused.json()["field"] == "file"
        assert visitor.read() == []
        assert stored_files(Path(small.media_dir)) == []


def test_a_visitors_file_may_be_larger_than_the_body_limit_of_other_requests(settings: Settings) -> None:
    limits = settings.model_copy(update={"max_body_bytes": 1000, "media_max_bytes": 5000})
    with TestClient(create_app(limits)) as client:
        visitor = Visitor(client, webchat_channel(Api(client, make_token(client.app.state.db, "admin"))))

        sent = send_file(visitor, "log.txt", b"x" * 4000, "text/plain")

        assert sent.status_code == 200, sent.text
        assert sent.json()["attachments"][0]["size"] == 4000
