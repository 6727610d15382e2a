"""Attachments in the inbox, in real Chromium: files sent from the reply box, a PNG shown inline,
uploaded HTML and SVG served as downloads whose script never runs, and each kind as it is shown."""

from __future__ import annotations

import struct
import threading
import zlib
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from frontdesk.actions.ingest import InboundMessage, receive_inbound
from frontdesk.domain.attachments import NewAttachment
from frontdesk.domain.model import AttachmentKind, AttachmentState
from frontdesk.store.database import Database
from tests.api.test_attachments import PNG
from tests.conftest import LiveServer
from tests.web.support import add_person, hand_to_team, say, web_session
from tests.web.test_widget import _open_widget, _write

# Each would mark the page, and alert, if it ever ran.
HTML = b"<!doctype html><html><body><script>alert('html');top.document.body.dataset.pwned='html'</script></body></html>"
SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert('svg');top.document.body.dataset.pwned='svg'</script></svg>"
)
SAM = "sam@demo.frontdesk.local"  # an agent of team Sales only


def picture(width: int, height: int) -> bytes:
    """A real PNG of a colour gradient (a 1-pixel one shows nothing in a screenshot)."""
    rows = b"".join(
        b"\x00" + bytes(v for x in range(width) for v in (40 + 200 * x // width, 90 + 120 * y // height, 190))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


@pytest.fixture(autouse=True)
def media_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The server's media store, in this test's folder (set before the live server starts)."""
    folder = tmp_path / "media"
    monkeypatch.setenv("FRONTDESK_MEDIA_DIR", str(folder))
    return folder


def _login(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.base_url}/login?next=/inbox")
    page.fill("#email", server.email)
    page.fill("#password", server.password)
    page.click("button[type=submit]")
    expect(page.locator("body")).to_have_attribute("data-live", "on")


def _send_files(page: Page, server: LiveServer, conversation_id: int, tmp_path: Path, text: str = "") -> None:
    files = {"receipt.png": picture(160, 100), "terms.html": HTML, "logo.svg": SVG}
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    page.goto(f"{server.base_url}/inbox?c={conversation_id}")
    page.fill("#reply-text", text)
    page.set_input_files("#reply-files", [str(tmp_path / name) for name in files])
    page.click(".reply button")


def test_a_png_shows_inline_and_uploaded_html_and_svg_are_downloads_that_never_run(
    page: Page, live_server: LiveServer, tmp_path: Path, screenshot: Callable[..., None]
) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    _login(page, live_server)
    conversation = say(live_server, "ada", "ada-1", "Can you send me the receipt?", name="Ada")

    _send_files(page, live_server, conversation, tmp_path, text="Here it is")

    message = page.locator("#messages .msg.out.agent", has_text="Here it is")
    image = message.locator(".attachment.image img")
    expect(image).to_have_attribute("alt", "receipt.png")
    page.wait_for_function("img => img.complete && img.naturalWidth === 160", arg=image.element_handle())
    links = message.locator("a.file")
    expect(links).to_have_count(2)
    expect(links.nth(0)).to_have_text("terms.html")
    expect(links.nth(1)).to_have_text("logo.svg")
    for link in (links.nth(0), links.nth(1)):
        with page.expect_download() as clicked:
            link.click()
        assert clicked.value.suggested_filename in ("terms.html", "logo.svg")
        url = f"{live_server.base_url}{link.get_attribute('href')}"
        with page.expect_download() as opened:
            try:
                page.goto(url)  # opened directly, as a link in a new tab would: a download, not a page
            except Exception as exc:  # Chromium aborts the navigation that became a download
                assert "Download is starting" in str(exc)
        assert opened.value.suggested_filename in ("terms.html", "logo.svg")
        page.goto(f"{live_server.base_url}/inbox?c={conversation}")
    page.goto(f"{live_server.base_url}/inbox?c={conversation}")
    expect(page.locator("#messages .attachment.image img")).to_be_visible()
    screenshot(page, "inbox-attachments.png")
    assert page.evaluate("document.body.dataset.pwned") is None
    assert dialogs == []


def test_a_photo_alone_shows_as_photo_in_the_list(page: Page, live_server: LiveServer, tmp_path: Path) -> None:
    _login(page, live_server)
    conversation = say(live_server, "bob", "bob-1", "Which one?", name="Bob")
    (tmp_path / "shelf.png").write_bytes(PNG)
    page.goto(f"{live_server.base_url}/inbox?c={conversation}")

    page.set_input_files("#reply-files", str(tmp_path / "shelf.png"))
    page.click(".reply button")

    expect(page.locator("#messages .attachment.image img")).to_be_visible()
    expect(page.locator("#list li", has_text="Bob").locator(".preview")).to_have_text("📷 Photo")


def test_a_file_over_the_limit_is_refused_with_a_clear_error(
    page: Page, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str
) -> None:
    monkeypatch.setenv("FRONTDESK_MEDIA_MAX_BYTES", "50")
    server = LiveServer(db_url, tmp_path / "server.log")
    server.start()
    try:
        _login(page, server)
        conversation = say(server, "cy", "cy-1", "Hello", name="Cy")
        (tmp_path / "big.png").write_bytes(PNG)
        page.goto(f"{server.base_url}/inbox?c={conversation}")

        page.set_input_files("#reply-files", str(tmp_path / "big.png"))
        page.click(".reply button")

        expect(page.get_by_role("alert")).to_have_text("files[0]: larger than 50 bytes")
    finally:
        server.stop()


def test_each_kind_shows_as_it_should_and_text_stays_escaped(page: Page, live_server: LiveServer) -> None:
    carried = (
        NewAttachment(kind=AttachmentKind.AUDIO, state=AttachmentState.READY, mime_type="audio/ogg"),
        NewAttachment(
            kind=AttachmentKind.LOCATION,
            state=AttachmentState.READY,
            data={"latitude": 48.8584, "longitude": 2.2945, "name": "<b>Tower</b>"},
        ),
        NewAttachment(
            kind=AttachmentKind.CONTACT,
            state=AttachmentState.READY,
            data={"name": "Grace Hopper", "phones": ["+1 555 0100"]},
        ),
    )
    db = Database(live_server.db_url)
    db.start()
    try:
        receipt = db.write_sync(
            lambda c: receive_inbound(c, InboundMessage(1, "zoe", "zoe-1", "<i>look</i>", "Zoe", {}, carried))
        )
    finally:
        db.close()
    _login(page, live_server)

    page.goto(f"{live_server.base_url}/inbox?c={receipt.conversation_id}")

    shown = page.locator("#messages .msg", has_text="<i>look</i>")
    expect(shown.locator(".attachment.location")).to_contain_text("<b>Tower</b> · 48.858400, 2.294500")
    osm = shown.locator(".attachment.location a")
    expect(osm).to_have_attribute(
        "href", "https://www.openstreetmap.org/?mlat=48.8584&mlon=2.2945#map=16/48.8584/2.2945"
    )
    expect(shown.locator(".attachment.contact")).to_contain_text("Grace Hopper · +1 555 0100")
    assert shown.locator("i, b").count() == 0  # text, never markup


def test_another_teams_agent_and_a_stranger_get_nothing_by_session(page: Page, live_server: LiveServer) -> None:
    conversation = say(live_server, "bill", "bill-1", "My invoice", name="Bill")
    hand_to_team(live_server, conversation, "Billing")
    with httpx.Client(base_url=live_server.base_url, headers=live_server.headers) as client:
        sent = client.post(
            f"/api/v1/conversations/{conversation}/messages/upload", files=[("files", ("inv.png", PNG, "image/png"))]
        )
    url = sent.json()["attachments"][0]["url"]
    add_person(live_server, "Sam Seller", SAM, teams=("Sales",))

    with web_session(live_server, live_server.email, live_server.password) as admin:
        assert admin.get(url).content == PNG
    with web_session(live_server, SAM) as sam:
        refused = sam.get(url)
        assert refused.status_code == 404
        assert refused.json()["detail"] == f"attachment {sent.json()['attachments'][0]['id']} does not exist"
    assert httpx.get(f"{live_server.base_url}{url}").status_code == 401


def test_a_visitor_sends_a_photo_from_the_widget_and_both_sides_see_it(
    page: Page, live_server: LiveServer, tmp_path: Path
) -> None:
    (tmp_path / "parcel.png").write_bytes(PNG)
    log = _open_widget(page, live_server)

    page.set_input_files("#fd-file", str(tmp_path / "parcel.png"))
    expect(page.locator(".chosen")).to_have_text("📎 parcel.png")
    _write(page, "It came like this")

    mine = log.locator("li[data-author=contact]", has_text="It came like this")
    picture = mine.locator("img")
    expect(picture).to_have_attribute("alt", "parcel.png")
    page.wait_for_function("img => img.complete && img.naturalWidth === 1", arg=picture.element_handle())
    expect(page.locator(".chosen")).to_have_text("")
    with httpx.Client(base_url=live_server.base_url, headers=live_server.headers) as client:
        conversation = client.get("/api/v1/conversations").json()[0]["id"]
        messages = client.get(f"/api/v1/conversations/{conversation}/messages").json()
    (attachment,) = next(m for m in messages if m["text"] == "It came like this")["attachments"]
    assert (attachment["kind"], attachment["file_name"]) == ("image", "parcel.png")


class HeldFiles(BaseHTTPRequestHandler):
    """On 127.0.0.1: /bike.png once `release` is set (the fetch waits meanwhile), anything else 404."""

    release = threading.Event()

    def do_GET(self) -> None:
        if self.path != "/bike.png":
            self.send_error(404)
            return
        self.release.wait(30)
        content = picture(120, 80)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def held_files(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A file server the live server's media fetcher may reach (private addresses allowed)."""
    monkeypatch.setenv("FRONTDESK_HTTP_ALLOW_PRIVATE", "true")
    HeldFiles.release = threading.Event()
    server = ThreadingHTTPServer(("127.0.0.1", 0), HeldFiles)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    HeldFiles.release.set()
    server.shutdown()
    server.server_close()


def test_a_pending_photo_shows_fetching_then_appears_live_and_a_failed_one_says_why(
    held_files: str, page: Page, live_server: LiveServer
) -> None:
    carried = (
        NewAttachment(kind=AttachmentKind.IMAGE, source_url=f"{held_files}/bike.png", file_name="bike.png"),
        NewAttachment(kind=AttachmentKind.FILE, source_url=f"{held_files}/gone.pdf", file_name="gone.pdf"),
    )
    db = Database(live_server.db_url)
    db.start()
    try:
        receipt = db.write_sync(lambda c: receive_inbound(c, InboundMessage(1, "tom", "tom-1", "", "Tom", {}, carried)))
    finally:
        db.close()
    _login(page, live_server)
    page.goto(f"{live_server.base_url}/inbox?c={receipt.conversation_id}")
    expect(page.locator("#messages .attachment.image .fetching")).to_have_text("bike.png: fetching…")
    expect(page.locator("#messages .attachment.file .failed")).to_have_text(
        "gone.pdf could not be fetched: 127.0.0.1 answered HTTP 404"
    )
    answer = page.locator("#reply-files")
    answer.set_input_files(files=[{"name": "answer.txt", "mimeType": "text/plain", "buffer": b"chosen before"}])

    HeldFiles.release.set()  # the media fetcher gets the picture now

    image = page.locator("#messages .attachment.image img")
    expect(image).to_be_visible()  # without a reload
    page.wait_for_function("img => img.complete && img.naturalWidth === 120", arg=image.element_handle())
    expect(page.locator("#messages .attachment .fetching")).to_have_count(0)
    assert page.eval_on_selector("#reply-files", "input => input.files[0].name") == "answer.txt"  # kept
