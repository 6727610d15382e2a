"""A contact's whole path on Messenger and on Instagram, through the app and a fake Graph API on
127.0.0.1: the first message opens a conversation, the workflow's question goes out as quick
replies, the contact taps one (answered by its payload), the conversation is assigned, the agent
replies with a picture (fetched, then uploaded with its send) and Meta's receipts arrive.
Then what only Instagram has: story replies and mentions, and `messaging_seen` receipts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from frontdesk.settings import Settings
from tests.channels.conversations import conversations, one_conversation
from tests.channels.fake_provider import Media
from tests.channels.media_support import PNG
from tests.channels.meta_support import IGSID, PSID, FakeMetaGraph, create_channel, payload, post_webhook
from tests.channels.test_whatsapp_admin_page import logged_in_admin
from tests.engine.support import TO_SUPPORT, ask_topic, install, runs, thread, waiting_at
from tests.factories import Api, eventually, make_token

ASK_AND_ASSIGN = ask_topic(TO_SUPPORT)
# Each channel: its first message, its quick-reply answer, the contact's id there.
JOURNEYS = {
    "messenger": ("text", "quick_reply", PSID),
    "instagram": ("instagram_text", "instagram_quick_reply", IGSID),
}


@pytest.fixture
def graph() -> Iterator[FakeMetaGraph]:
    fake = FakeMetaGraph()
    yield fake
    fake.close()


@pytest.fixture
def settings(db_url: str, graph: FakeMetaGraph, tmp_path: Path) -> Settings:
    return Settings(
        database_url=db_url,
        delivery_backoff_seconds=0.05,
        log_format="text",
        meta_graph_base_url=graph.url,
        media_dir=str(tmp_path / "media"),
        http_allow_private=True,  # the fake CDN is on 127.0.0.1
    )


def support_agent(client: TestClient, admin: Api) -> tuple[int, Api]:
    """An online agent of the Support team, and their own API client."""
    agent = admin.post("/api/v1/agents", {"name": "Sam", "email": "sam@example.test", "availability": "online"})
    team = admin.post("/api/v1/teams", {"name": "Support"}).json()
    assert admin.put(f"/api/v1/teams/{team['id']}/members/{agent.json()['id']}").status_code == 201
    agent_id = int(agent.json()["id"])
    return agent_id, Api(client, make_token(admin.db, "agent", agent_id))


def settled(api: Api, conversation_id: int, message_id: int) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        found = next(m for m in thread(api, conversation_id) if m["id"] == message_id)
        return None if found["delivery_status"] == "pending" else found

    return eventually(probe, "the delivery")


def receipt(channel_type: str, mid: str) -> dict[str, Any]:
    """Messenger's delivery receipt naming `mid`, or Instagram's `messaging_seen` (a read)."""
    if channel_type == "messenger":
        found = payload("delivery")
        found["entry"][0]["messaging"][0]["delivery"]["mids"] = [mid]
        return found
    found = payload("instagram_seen")
    found["entry"][0]["messaging"][0]["read"]["mid"] = mid
    return found


@pytest.mark.parametrize("channel_type", JOURNEYS)
def test_inbound_question_as_quick_replies_answer_assigned_picture_reply_and_its_receipts(
    client: TestClient, admin: Api, graph: FakeMetaGraph, channel_type: str
) -> None:
    first, answer, contact_id = JOURNEYS[channel_type]
    channel = create_channel(admin, channel_type)
    agent_id, agent = support_agent(client, admin)
    install(admin, ASK_AND_ASSIGN)

    post_webhook(admin, channel["id"], payload(first))
    conversation_id = one_conversation(admin)
    eventually(lambda: waiting_at(admin, conversation_id, "ask_topic"), "the question")
    question = eventually(lambda: graph.sent or None, "the question sent")[0]
    assert question.problem is None
    assert question.body["recipient"] == {"id": contact_id}
    assert [(r["title"], r["payload"]) for r in question.body["message"]["quick_replies"]] == [
        ("Sales", "frontdesk.option:Sales"),
        ("Support", "frontdesk.option:Support"),
    ]

    tapped = payload(answer, text="Tapped", quick_reply={"payload": "frontdesk.option:Support"})
    assert post_webhook(admin, channel["id"], tapped).json() == {"messages": 1, "statuses": 0}
    assigned = eventually(
        lambda: (c := admin.get(f"/api/v1/conversations/{conversation_id}").json())["assignee_id"] and c, "assigned"
    )
    assert assigned["assignee_id"] == agent_id
    assert runs(admin, conversation_id=conversation_id)[0]["status"] == "completed"

    graph.hold("label.png", Media(PNG, "image/png"))
    body = {"text": "Here is your label.", "attachments": [{"url": f"{graph.url}/cdn/label.png"}]}
    created = agent.post(f"/api/v1/conversations/{conversation_id}/messages", body)
    assert created.status_code == 201, created.text
    sent = settled(agent, conversation_id, created.json()["id"])
    text_part, picture = graph.sent[1:]
    assert (text_part.problem, picture.problem) == (None, None)
    assert text_part.body["message"] == {"text": "Here is your label."}
    assert picture.body["message"] == {"attachment": {"type": "image", "payload": {"is_reusable": False}}}
    assert picture.file is not None and picture.file.content == PNG
    assert (sent["delivery_status"], sent["provider_message_id"]) == ("sent", "m_OUT3")

    seen = receipt(channel_type, "m_OUT3")
    assert post_webhook(admin, channel["id"], seen).json() == {"messages": 0, "statuses": 1}
    expected = "delivered" if channel_type == "messenger" else "read"
    assert next(m for m in thread(admin, conversation_id) if m["id"] == sent["id"])["delivery_status"] == expected
    assert len(conversations(admin)) == 1


def test_an_instagram_story_reply_is_the_contacts_text_with_the_story_linked_not_fetched(
    admin: Api, graph: FakeMetaGraph
) -> None:
    channel = create_channel(admin, "instagram")

    post_webhook(admin, channel["id"], payload("instagram_story_reply"))

    [message] = thread(admin, one_conversation(admin))
    [story] = message["attachments"]
    assert message["text"] == "Love this one!"
    assert (story["file_name"], story["state"], story["url"]) == ("Reply to your Instagram story", "ready", None)
    assert story["data"] == {
        "story": "reply",
        "url": "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1",
        "id": "17890000000000001",
    }
    assert graph.media_requests == []


def test_an_instagram_story_mention_opens_a_conversation_with_the_story_linked_in_the_inbox(admin: Api) -> None:
    channel = create_channel(admin, "instagram")

    post_webhook(admin, channel["id"], payload("instagram_story_mention"))

    conversation_id = one_conversation(admin)
    [message] = thread(admin, conversation_id)
    [story] = message["attachments"]
    assert (message["text"], story["file_name"], story["data"]["story"]) == ("", "Instagram story mention", "mention")
    html = logged_in_admin(admin).get(f"/inbox/conversations/{conversation_id}").text
    link = '<a class="story" href="https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=2" target="_blank"'
    assert link in html


def test_a_page_webhook_posted_to_an_instagram_channel_is_skipped(admin: Api) -> None:
    channel = create_channel(admin, "instagram")

    assert post_webhook(admin, channel["id"], payload("text")).json() == {"messages": 0, "statuses": 0}
    assert conversations(admin) == []
