"""Names with Unicode direction controls are stored as given but shown isolated, so an RTL
override in a contact's name cannot reorder the inbox around it."""

from __future__ import annotations

from html.parser import HTMLParser

from litestar.testing import TestClient

from frontdesk.actions.sessions import set_password
from tests.databases import PAGE_ONLY
from tests.factories import Api, make_agent
from tests.web.support import PASSWORD, csrf_of

pytestmark = PAGE_ONLY

RLO = "\u202e"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Isolation(HTMLParser):
    """For each piece of text holding `needle`: is it inside an isolating element?"""

    def __init__(self, needle: str) -> None:
        super().__init__()
        self.needle = needle
        self.open: list[bool] = []  # per open element: does it isolate?
        self.found: list[bool] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in VOID:
            self.open.append(tag == "bdi" or ("dir", "auto") in attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID and self.open:
            self.open.pop()

    def handle_data(self, data: str) -> None:
        if self.needle in data:
            self.found.append(any(self.open))


def isolated(html: str, needle: str) -> list[bool]:
    parser = _Isolation(needle)
    parser.feed(html)
    return parser.found


def test_a_contact_named_with_an_rtl_override_is_stored_as_given_and_shown_isolated(
    client: TestClient,  # type: ignore[type-arg]
    admin: Api,
) -> None:
    name = f"{RLO}Evil Corp gnp.exe"
    conversation = admin.inbound(admin.channel()["id"], "evil", f"{RLO}hello", name=name).json()
    assert admin.get(f"/api/v1/contacts/{conversation['contact_id']}").json()["name"] == name
    agent_id = make_agent(admin.db, "admin", email="bidi@example.test")
    admin.db.write_sync(lambda c: set_password(c, agent_id, PASSWORD))
    form = {"email": "bidi@example.test", "password": PASSWORD, "_csrf_token": csrf_of(client.get("/login").text)}
    assert client.post("/login", data=form, follow_redirects=False).status_code == 302

    page = client.get(f"/inbox?c={conversation['conversation_id']}").text

    assert f"<bdi>{name}</bdi>" in page
    shown = isolated(page, RLO)
    assert len(shown) >= 3  # the list's name and preview, the thread's heading and message
    assert all(shown)
