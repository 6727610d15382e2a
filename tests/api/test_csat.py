"""CSAT surveys, in process: a close on a channel with "CSAT survey" on sends the contact one link;
the page takes one rating per close; bad tokens and ratings are refused and change nothing; the
report counts the rating; the API channel's integrations rate through the API."""

from __future__ import annotations

import re
from typing import Any

import pytest

from frontdesk.engine.reports import fold_events
from frontdesk.settings import Settings
from tests.factories import Api, eventually, make_agent, make_token

PUBLIC = "https://help.example"
REPORT = "/api/v1/reports/conversations"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"public_url": PUBLIC})


def _ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return dict(response.json())


def _closed_conversation(admin: Api, csat_survey: bool, external_id: str = "ada") -> tuple[int, int]:
    """(channel, conversation) of a contact's conversation, assigned to an agent, then closed by them."""
    channel = admin.channel()["id"]
    _ok(admin.patch(f"/api/v1/channels/{channel}", {"csat_survey": csat_survey}))
    receipt = _ok(admin.inbound(channel, external_id, "My parcel is late"))
    conversation = receipt["conversation_id"]
    agent = make_agent(admin.db, name="Ada Agent")
    _ok(admin.post(f"/api/v1/conversations/{conversation}/assign", {"agent_id": agent}))
    as_agent = Api(admin.client, make_token(admin.db, "agent", agent))
    _ok(as_agent.post(f"/api/v1/conversations/{conversation}/close", {"note": "sent a new one"}))
    return channel, conversation


def _messages(admin: Api, conversation: int) -> list[dict[str, Any]]:
    return list(admin.get(f"/api/v1/conversations/{conversation}/messages").json())


def _survey_path(admin: Api, conversation: int) -> str:
    [survey] = [m for m in _messages(admin, conversation) if "/csat/" in (m["text"] or "")]
    assert survey["direction"] == "out" and survey["author_kind"] == "system"
    assert survey["text"].startswith("How would you rate our help? ")
    found = re.search(rf"{re.escape(PUBLIC)}(/csat/\S+)$", survey["text"])
    assert found, survey["text"]
    return found[1]


def _rated(admin: Api) -> list[dict[str, Any]]:
    return admin.events(type="conversation.rated")


def _report(admin: Api) -> dict[str, Any]:
    while admin.db.write_sync(lambda c: fold_events(c, admin.client.app.state.settings.time_zone)):
        pass
    return _ok(admin.get(REPORT))


def test_a_close_sends_a_link_whose_page_takes_one_rating_the_report_counts(admin: Api) -> None:
    channel, conversation = _closed_conversation(admin, csat_survey=True)
    path = _survey_path(admin, conversation)

    page = admin.client.get(path)
    assert page.status_code == 200 and "How would you rate our help?" in page.text
    assert page.text.count('type="radio" name="rating"') == 5 and "<script" not in page.text

    too_high = admin.client.post(path, data={"rating": "6", "comment": "great"})
    assert too_high.status_code == 400 and 'data-field="rating"' in too_high.text
    assert _rated(admin) == []

    rated = admin.client.post(path, data={"rating": "4", "comment": "Quick, <b>thanks</b>"})
    assert rated.status_code == 200 and "Your rating was recorded" in rated.text
    again = admin.client.post(path, data={"rating": "5"})
    assert again.status_code == 409 and "Already rated" in again.text

    [event] = _rated(admin)
    assert event["conversation_id"] == conversation
    assert {k: event["payload"][k] for k in ("rating", "comment", "channel_id")} == {
        "rating": 4,
        "comment": "Quick, <b>thanks</b>",
        "channel_id": channel,
    }
    found = _report(admin)["csat"]
    assert (found["responses"], found["average"], found["satisfied"]) == (1, 4.0, 1.0)
    assert found["distribution"] == {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0}
    assert [(a["name"], a["responses"], a["average"]) for a in found["by_agent"]] == [("Ada Agent", 1, 4.0)]


def test_the_survey_reopens_nothing_and_starts_no_conversation(admin: Api) -> None:
    _, conversation = _closed_conversation(admin, csat_survey=True)
    _survey_path(admin, conversation)

    assert _ok(admin.get(f"/api/v1/conversations/{conversation}"))["status"] == "closed"
    kinds = [e["type"] for e in admin.events() if e["conversation_id"] == conversation]
    assert kinds.count("conversation.opened") == 1 and "conversation.reopened" not in kinds
    assert kinds[-2:] == ["conversation.closed", "message.sent"]


def test_a_bad_or_tampered_token_is_not_found_and_changes_nothing(admin: Api) -> None:
    _, conversation = _closed_conversation(admin, csat_survey=True)
    path = _survey_path(admin, conversation)
    last = path[-1]
    tampered = path[:-1] + ("0" if last != "0" else "1")
    other_conversation = re.sub(r"^/csat/(\d+)", lambda m: f"/csat/{int(m[1]) + 1}", path)

    for bad in (tampered, other_conversation, "/csat/nonsense", "/csat/1.1." + "0" * 64):
        assert admin.client.get(bad).status_code == 404, bad
        assert admin.client.post(bad, data={"rating": "5"}).status_code == 404, bad
    assert _rated(admin) == []
    assert admin.client.post(path, data={"rating": "2"}).status_code == 200  # the real one still works


def test_a_channel_without_the_survey_sends_nothing(admin: Api) -> None:
    _, conversation = _closed_conversation(admin, csat_survey=False)

    assert all("/csat/" not in (m["text"] or "") for m in _messages(admin, conversation))
    assert [m["direction"] for m in _messages(admin, conversation)] == ["in"]


def test_the_channel_setting_is_off_by_default_and_said_in_the_api(admin: Api) -> None:
    channel = admin.channel()
    assert channel["csat_survey"] is False
    changed = _ok(admin.patch(f"/api/v1/channels/{channel['id']}", {"csat_survey": True}))
    assert changed["csat_survey"] is True
    refused = admin.patch(f"/api/v1/channels/{channel['id']}", {"csat_survey": "maybe"})
    assert refused.status_code == 400 and "csat_survey" in refused.text
    assert _ok(admin.get(f"/api/v1/channels/{channel['id']}"))["csat_survey"] is True
    [updated] = [e for e in admin.events(type="channel.updated") if e["payload"]["channel_id"] == channel["id"]]
    assert updated["payload"]["changed"] == ["csat_survey"]


def test_an_integration_rates_a_closed_conversation_once_through_the_api(admin: Api) -> None:
    _, conversation = _closed_conversation(admin, csat_survey=False)
    rating = f"/api/v1/conversations/{conversation}/rating"

    out_of_range = admin.post(rating, {"rating": 6})
    assert out_of_range.status_code == 400 and [e["field"] for e in out_of_range.json()["errors"]] == ["rating"]
    assert _rated(admin) == []
    assert _ok(admin.post(rating, {"rating": 5, "comment": "  Perfect  "}), 201) == {
        "conversation_id": conversation,
        "rating": 5,
        "comment": "Perfect",
    }
    assert admin.post(rating, {"rating": 3}).status_code == 409
    assert admin.post("/api/v1/conversations/999999/rating", {"rating": 3}).status_code == 404
    assert [e["payload"]["rating"] for e in _rated(admin)] == [5]


def test_an_open_conversation_cannot_be_rated(admin: Api) -> None:
    channel = admin.channel()["id"]
    conversation = _ok(admin.inbound(channel, "bob"))["conversation_id"]

    refused = admin.post(f"/api/v1/conversations/{conversation}/rating", {"rating": 4})

    assert refused.status_code == 409 and refused.json()["error"] == "conversation_open"


def test_a_reopened_and_closed_again_conversation_gets_a_new_survey(admin: Api) -> None:
    _, conversation = _closed_conversation(admin, csat_survey=True)
    first = _survey_path(admin, conversation)
    assert admin.client.post(first, data={"rating": "2"}).status_code == 200
    _ok(admin.post(f"/api/v1/conversations/{conversation}/reopen", {}))
    _ok(admin.post(f"/api/v1/conversations/{conversation}/close", {}))

    links = [m["text"] for m in _messages(admin, conversation) if "/csat/" in (m["text"] or "")]
    second = re.search(r"(/csat/\S+)$", links[-1])[1]  # type: ignore[index]

    assert len(links) == 2 and second != first
    assert admin.client.post(second, data={"rating": "5"}).status_code == 200
    assert eventually(lambda: len(_rated(admin)) == 2, "two ratings, one per close")
