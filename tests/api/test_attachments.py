"""Attachments through the API: sent as uploads, read on the messages, served only to those who
may see the conversation, with headers that keep uploaded markup from running."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx
import pytest
from litestar.testing import TestClient
from sqlalchemy import Connection

from frontdesk.actions.ingest import InboundMessage, Receipt, receive_inbound
from frontdesk.clock import now
from frontdesk.domain.attachments import NewAttachment
from frontdesk.domain.model import AttachmentKind, AttachmentState
from frontdesk.server import create_app
from frontdesk.settings import Settings
from frontdesk.store.sql import attachments
from tests.factories import Api, make_agent, make_token

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
)
HTML = b"<!doctype html><html><body><script>alert(1)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def open_conversation(admin: Api) -> int:
    receipt = admin.inbound(admin.channel()["id"], "ada", "Here is my receipt", name="Ada").json()
    return int(receipt["conversation_id"])


def upload(api: Api, conversation_id: int, *files: tuple[str, bytes, str], text: str = "") -> httpx.Response:
    parts = [("files", f) for f in files]
    return api.client.post(
        f"/api/v1/conversations/{conversation_id}/messages/upload",
        data={"text": text} if text else {},
        files=parts,
        headers=api.headers,
    )


def stored_files(media: Path) -> list[Path]:
    return [p for p in media.rglob("*") if p.is_file()] if media.exists() else []


@pytest.fixture
def media(client: TestClient) -> Path:  # type: ignore[type-arg]
    return Path(client.app.state.settings.media_dir)


def test_an_uploaded_image_is_sent_and_read_back_on_the_message(admin: Api) -> None:
    conversation = open_conversation(admin)

    response = upload(admin, conversation, ("receipt.png", PNG, "image/png"), text="Your receipt")

    assert response.status_code == 201, response.text
    message = response.json()
    assert message["text"] == "Your receipt"
    (attachment,) = message["attachments"]
    assert attachment == {
        "id": attachment["id"],
        "kind": "image",
        "state": "ready",
        "mime_type": "image/png",
        "size": len(PNG),
        "file_name": "receipt.png",
        "data": None,
        "error": None,
        "url": f"/api/v1/attachments/{attachment['id']}/content",
    }
    thread = admin.get(f"/api/v1/conversations/{conversation}/messages").json()
    assert [m["attachments"] for m in thread] == [[], [attachment]]


def test_several_files_without_text_make_one_message(admin: Api) -> None:
    conversation = open_conversation(admin)

    response = upload(admin, conversation, ("a.png", PNG, "image/png"), ("notes.txt", b"plain words", "text/plain"))

    assert response.status_code == 201, response.text
    assert response.json()["text"] == ""
    kinds = [(a["kind"], a["mime_type"], a["file_name"]) for a in response.json()["attachments"]]
    assert kinds == [("image", "image/png", "a.png"), ("file", "text/plain", "notes.txt")]


def test_an_image_is_served_inline_with_its_sniffed_type_and_hardening_headers(admin: Api) -> None:
    conversation = open_conversation(admin)
    attachment = upload(admin, conversation, ("photo", PNG, "application/octet-stream")).json()["attachments"][0]

    served = admin.get(attachment["url"])

    assert served.status_code == 200
    assert served.content == PNG
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["content-security-policy"] == "sandbox; default-src 'none'"
    assert served.headers["cache-control"] == "private"
    assert served.headers["content-disposition"] == "inline; filename=\"photo\"; filename*=UTF-8''photo"


@pytest.mark.parametrize(
    ("name", "content", "declared", "served_as"),
    [
        ("page.html", HTML, "text/html", "text/html"),
        ("logo.svg", SVG, "image/svg+xml", "image/svg+xml"),
        ('évasion "x".html', HTML, "text/plain", "text/html"),
    ],
)
def test_markup_is_served_as_a_download_never_inline(
    admin: Api, name: str, content: bytes, declared: str, served_as: str
) -> None:
    conversation = open_conversation(admin)
    attachment = upload(admin, conversation, (name, content, declared)).json()["attachments"][0]

    served = admin.get(attachment["url"])

    assert served.status_code == 200
    assert served.headers["content-type"].startswith(served_as)
    assert served.headers["content-disposition"].startswith("attachment; filename=")
    assert served.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in served.headers["content-security-policy"]


def test_a_non_ascii_file_name_is_encoded_as_rfc_6266_says(admin: Api) -> None:
    conversation = open_conversation(admin)
    attachment = upload(admin, conversation, ('reçu "mai".pdf', b"%PDF-1.4 x", "application/pdf")).json()
    url = attachment["attachments"][0]["url"]

    disposition = admin.get(url).headers["content-disposition"]

    assert disposition == "attachment; filename=\"recu _mai_.pdf\"; filename*=UTF-8''re%C3%A7u%20%22mai%22.pdf"


def test_a_file_larger_than_the_limit_is_refused_naming_it_and_nothing_is_stored(
    settings: Settings, media: Path
) -> None:
    small = settings.model_copy(update={"media_max_bytes": 100})
    with TestClient(create_app(small)) as client:
        admin = Api(client, make_token(client.app.state.db, "admin"))
        conversation = open_conversation(admin)
        before = admin.get(f"/api/v1/conversations/{conversation}/messages").json()

        response = upload(admin, conversation, ("small.png", PNG, "image/png"), ("big.txt", b"x" * 101, "text/plain"))

        assert response.status_code == 413, response.text
        assert response.json()["field"] == "files[1]"
        assert "files[1]: larger than 100 bytes" in response.json()["detail"]
        assert admin.get(f"/api/v1/conversations/{conversation}/messages").json() == before
        assert not any(p.read_bytes() == b"x" * 101 for p in stored_files(media))


def test_a_declared_image_that_is_html_is_refused_as_a_lie(admin: Api, media: Path) -> None:
    conversation = open_conversation(admin)

    response = upload(admin, conversation, ("cat.jpg", HTML, "image/jpeg"))

    assert response.status_code == 422, response.text
    assert response.json()["field"] == "files[0]"
    assert "declared image/jpeg but the content is text/html" in response.json()["detail"]
    assert stored_files(media) == []


def test_an_empty_message_without_files_is_refused(admin: Api) -> None:
    conversation = open_conversation(admin)

    response = admin.post(f"/api/v1/conversations/{conversation}/messages", {"text": ""})

    assert response.status_code == 422, response.text


def test_an_agent_of_another_team_gets_404_for_the_content_and_the_upload(admin: Api, media: Path) -> None:
    conversation = open_conversation(admin)
    support = admin.post("/api/v1/teams", {"name": "Support"}).json()["id"]
    billing = admin.post("/api/v1/teams", {"name": "Billing"}).json()["id"]
    mine, theirs = make_agent(admin.db), make_agent(admin.db)
    admin.put(f"/api/v1/teams/{support}/members/{mine}")
    admin.put(f"/api/v1/teams/{billing}/members/{theirs}")
    assert admin.post(f"/api/v1/conversations/{conversation}/assign", {"team_id": support}).status_code == 200
    attachment = upload(admin, conversation, ("receipt.png", PNG, "image/png")).json()["attachments"][0]
    colleague = Api(admin.client, make_token(admin.db, "agent", mine))
    stranger = Api(admin.client, make_token(admin.db, "agent", theirs))

    assert colleague.get(attachment["url"]).status_code == 200
    refused = stranger.get(attachment["url"])
    assert refused.status_code == 404
    assert refused.json()["detail"] == f"attachment {attachment['id']} does not exist"
    assert upload(stranger, conversation, ("x.txt", b"mine now", "text/plain")).status_code == 404
    assert not any(p.read_bytes() == b"mine now" for p in stored_files(media))


def test_an_unknown_attachment_is_404_and_no_token_is_401(admin: Api) -> None:
    assert admin.get("/api/v1/attachments/999999/content").status_code == 404
    assert admin.client.get("/api/v1/attachments/1/content").status_code == 401


def test_more_than_ten_files_are_refused_naming_the_field(admin: Api, media: Path) -> None:
    conversation = open_conversation(admin)

    response = upload(admin, conversation, *[(f"{i}.txt", f"file {i}".encode(), "text/plain") for i in range(11)])

    assert response.status_code == 422, response.text
    assert (response.json()["error"], response.json()["field"]) == ("too_many_attachments", "files")
    assert stored_files(media) == []


def test_an_upload_may_be_larger_than_the_body_limit_of_other_requests(settings: Settings) -> None:
    limits = settings.model_copy(update={"max_body_bytes": 1000, "media_max_bytes": 5000})
    with TestClient(create_app(limits)) as client:
        admin = Api(client, make_token(client.app.state.db, "admin"))
        conversation = open_conversation(admin)

        response = upload(admin, conversation, ("log.txt", b"x" * 4000, "text/plain"))

        assert response.status_code == 201, response.text
        assert response.json()["attachments"][0]["size"] == 4000
        too_long = admin.post(f"/api/v1/conversations/{conversation}/messages", {"text": "x" * 2000})
        assert too_long.status_code == 413  # a JSON body keeps FRONTDESK_MAX_BODY_BYTES


def test_content_not_there_yet_or_at_all_answers_409_saying_why(admin: Api) -> None:
    carried = (
        NewAttachment(kind=AttachmentKind.IMAGE, provider_media_id="media-1"),
        NewAttachment(kind=AttachmentKind.LOCATION, state=AttachmentState.READY, data={"latitude": 1, "longitude": 2}),
    )
    channel_id = admin.channel()["id"]

    def receive_and_hold(conn: Connection) -> Receipt:
        receipt = receive_inbound(conn, InboundMessage(channel_id, "ada", "m-1", "", None, {}, carried))
        first = attachments.of_messages(conn, [receipt.message_id])[receipt.message_id][0]
        attachments.retry_at(conn, first.id, now() + dt.timedelta(hours=1), "")  # the fetcher waits an hour
        return receipt

    receipt = admin.db.write_sync(receive_and_hold)
    (message,) = admin.get(f"/api/v1/conversations/{receipt.conversation_id}/messages").json()
    pending, location = message["attachments"]
    assert (pending["state"], pending["url"]) == ("pending", f"/api/v1/attachments/{pending['id']}/content")
    assert (location["data"], location["url"]) == ({"latitude": 1, "longitude": 2}, None)

    waiting = admin.get(pending["url"])
    nothing = admin.get(f"/api/v1/attachments/{location['id']}/content")

    assert (waiting.status_code, waiting.json()["error"]) == (409, "attachment_pending")
    assert "still being fetched" in waiting.json()["detail"]
    assert (nothing.status_code, nothing.json()["error"]) == (409, "attachment_without_content")
