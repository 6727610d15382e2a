"""Workflows and attachments: `send_message` sends a file by its link, `ask_question` takes an
image, a file or a location as the answer and refuses anything else."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import Connection, select

from frontdesk.actions.channels import create_channel
from frontdesk.actions.ingest import InboundMessage, receive_inbound
from frontdesk.actions.workflows import create_workflow, publish, set_enabled
from frontdesk.domain.attachments import NewAttachment
from frontdesk.domain.model import SYSTEM, AttachmentKind, AttachmentState, ChannelType
from frontdesk.engine.consumer import process_events
from frontdesk.engine.runs import VersionCache
from frontdesk.steps.base import Catalog
from frontdesk.store.database import Database
from frontdesk.store.sql import attachments
from frontdesk.store.tables import messages, workflow_runs
from frontdesk.workflows.definition import validate

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
PHOTO = NewAttachment(AttachmentKind.IMAGE, provider_media_id="media-1", mime_type="image/jpeg")
VOICE = NewAttachment(AttachmentKind.AUDIO, provider_media_id="media-2", mime_type="audio/ogg")
PLACE = NewAttachment(AttachmentKind.LOCATION, AttachmentState.READY, data={"latitude": 48.8584, "longitude": 2.2945})


def _workflow(answer: str) -> dict[str, Any]:
    return {
        "name": f"Ask for {answer}",
        "trigger": {"event": "conversation.opened"},
        "steps": [
            {
                "id": "ask",
                "type": "ask_question",
                "text": f"Please send {answer}",
                "answer": {"type": answer},
                "retry_message": f"That is not {answer}: please send one.",
                "save_to": "vars.answer",
            }
        ],
    }


def _setup(db: Database, answer: str) -> int:
    def setup(conn: Connection) -> int:
        workflow_id = create_workflow(conn, _workflow(answer))
        publish(conn, workflow_id, SYSTEM)
        set_enabled(conn, workflow_id, True, SYSTEM)
        return create_channel(conn, ChannelType.API, "Chat", {})[0]

    return db.write_sync(setup)


@pytest.fixture
def cache() -> VersionCache:
    return VersionCache()  # one per test: another test's database has the same version ids


def _say(db: Database, cache: VersionCache, channel_id: int, n: int, text: str, *carried: NewAttachment) -> int:
    """The contact writes, and the engine reads the log."""
    inbound = InboundMessage(channel_id, "ada", f"m{n}", text, attachments=carried)
    message_id = db.write_sync(lambda c: receive_inbound(c, inbound)).message_id
    db.write_sync(lambda c: process_events(c, cache, NOW))
    return message_id


def _run(db: Database) -> dict[str, Any]:
    [run] = db.read_sync(lambda c: [dict(r) for r in c.execute(select(workflow_runs)).mappings()])
    return run


def _sent(db: Database) -> list[str]:
    query = select(messages.c.text).where(messages.c.direction == "out").order_by(messages.c.id)
    return db.read_sync(lambda c: list(c.execute(query).scalars()))


def test_an_image_question_refuses_a_text_and_takes_a_photo(db: Database, cache: VersionCache) -> None:
    channel_id = _setup(db, "image")
    _say(db, cache, channel_id, 1, "Hello")
    _say(db, cache, channel_id, 2, "here it is")
    assert _run(db)["status"] == "waiting"
    assert _sent(db) == ["Please send image", "That is not image: please send one."]

    message_id = _say(db, cache, channel_id, 3, "", PHOTO)

    [photo] = db.read_sync(lambda c: attachments.of_messages(c, [message_id]))[message_id]
    run = _run(db)
    assert (run["status"], run["vars"]) == ("completed", {"answer": str(photo.id)})


def test_an_image_question_refuses_a_voice_note(db: Database, cache: VersionCache) -> None:
    channel_id = _setup(db, "image")
    _say(db, cache, channel_id, 1, "Hello")
    _say(db, cache, channel_id, 2, "", VOICE)

    assert _run(db)["status"] == "waiting"


def test_a_file_question_takes_any_media_but_not_a_location(db: Database, cache: VersionCache) -> None:
    channel_id = _setup(db, "file")
    _say(db, cache, channel_id, 1, "Hello")
    _say(db, cache, channel_id, 2, "", PLACE)
    assert _run(db)["status"] == "waiting"

    message_id = _say(db, cache, channel_id, 3, "my voice note", VOICE)

    [voice] = db.read_sync(lambda c: attachments.of_messages(c, [message_id]))[message_id]
    assert _run(db)["vars"] == {"answer": str(voice.id)}


def test_a_location_question_saves_latitude_and_longitude(db: Database, cache: VersionCache) -> None:
    channel_id = _setup(db, "location")
    _say(db, cache, channel_id, 1, "Hello")
    _say(db, cache, channel_id, 2, "", PHOTO)
    assert _run(db)["status"] == "waiting"

    _say(db, cache, channel_id, 3, "", PLACE)

    run = _run(db)
    assert (run["status"], run["vars"]) == ("completed", {"answer": "48.8584,2.2945"})


def test_send_message_attachment_problems_are_each_listed_with_their_step() -> None:
    definition = {
        "name": "Bad files",
        "trigger": {"event": "conversation.opened"},
        "steps": [
            {
                "id": "ftp",
                "type": "send_message",
                "text": "See",
                "attachment": {"url": "ftp://files/a.pdf"},
                "next": "empty",
            },
            {"id": "empty", "type": "send_message", "next": "odd"},
            {"id": "odd", "type": "send_message", "attachment": {"url": "https://x/a", "kind": "pdf"}},
        ],
    }

    _, problems = validate(definition, Catalog(check_names=False))

    found = {(p.step, p.path) for p in problems}
    assert ("ftp", "attachment.url") in found
    assert ("empty", "text") in found
    assert ("odd", "attachment.kind") in found
