"""E-mail end to end, through real servers on loopback: a mail to the SMTP receiver opens a
conversation, the workflow's question goes out as text (e-mail has no buttons), the contact's
reply (threaded by In-Reply-To, the quote under it cut) answers it and assigns the conversation,
and the agent's reply with a file reaches the contact's server threaded on the whole exchange."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from frontdesk.domain.model import AttachmentKind
from frontdesk.settings import Settings
from tests.channels.conversations import conversations, inbound_texts, one_conversation
from tests.channels.email_support import INBOUND, Sink, create_channel, mail, send
from tests.channels.media_support import reply, stored
from tests.conftest import free_port
from tests.engine.support import ask_topic, install, runs, waiting_at
from tests.factories import Api, eventually

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000")
WORKFLOW = ask_topic(
    {"id": "assign_support", "type": "assign", "team": "Support"}, "Inbound e-mail", "Is this about sales or support?"
)


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def settings(db_url: str, tmp_path: Path, smtp_port: int) -> Settings:
    return Settings(
        database_url=db_url,
        delivery_backoff_seconds=0.05,
        log_format="text",
        media_dir=str(tmp_path / "media"),
        smtp_port=smtp_port,
    )


def _support_team_with_an_online_agent(admin: Api) -> int:
    team = admin.post("/api/v1/teams", {"name": "Support"}).json()
    agent = admin.post(
        "/api/v1/agents", {"name": "Ada", "email": "ada@acme.test", "availability": "online", "capacity": 5}
    ).json()
    assert admin.put(f"/api/v1/teams/{team['id']}/members/{agent['id']}").status_code == 201
    return int(agent["id"])


def test_mail_in_question_reply_assigned_and_an_agents_file_out_threaded(
    client: TestClient[Any], admin: Api, sink: Sink, smtp_port: int
) -> None:
    agent_id = _support_team_with_an_online_agent(admin)
    install(admin, WORKFLOW)
    create_channel(admin, smtp_port=sink.port)

    first = mail("My invoice is wrong", subject="Invoice 2026-118", sender="Marc <marc@contoso.example>")
    send(smtp_port, first.replace(b"Subject:", b"Message-ID: <c1@contoso.example>\nSubject:", 1))
    conversation_id = one_conversation(admin)
    eventually(lambda: waiting_at(admin, conversation_id, "ask_topic"), "the question")
    question = eventually(lambda: sink.arrived[:1] or None, "the question mailed")[0]
    assert question["Subject"] == "Re: Invoice 2026-118"
    assert question["In-Reply-To"] == "<c1@contoso.example>"
    body = question.get_body(("plain",))
    assert body is not None and body.get_content() == "Is this about sales or support?\n1. Sales\n2. Support\n"

    answer = (
        "2\n\nOn Tue, Dec 1, 2026 at 10:02 AM Acme Support <support@acme.example> wrote:\n"
        "> Is this about sales or support?\n"
    )
    threaded = {
        "Message_ID": "<c2@contoso.example>",
        "In_Reply_To": question["Message-ID"],
        "References": f"<c1@contoso.example> {question['Message-ID']}",
    }
    send(smtp_port, mail(answer, subject="Re: Invoice 2026-118", sender="marc@contoso.example", **threaded))

    def assigned() -> dict[str, Any] | None:
        found = admin.get(f"/api/v1/conversations/{conversation_id}").json()
        return found if found["assignee_id"] is not None else None

    assert eventually(assigned, "the assignment")["assignee_id"] == agent_id
    assert runs(admin, conversation_id=conversation_id)[0]["status"] == "completed"
    assert inbound_texts(admin, conversation_id) == ["My invoice is wrong", "2"]

    image = stored(client.app, AttachmentKind.IMAGE, "image/png", "corrected.png", PNG)
    reply(client.app, conversation_id, "Here is the corrected invoice.", [image])
    arrived = eventually(lambda: sink.arrived[1:] or None, "the agent's reply")[0]

    assert (arrived["To"], arrived["Subject"]) == ("marc@contoso.example", "Re: Invoice 2026-118")
    assert arrived["References"].split() == ["<c1@contoso.example>", question["Message-ID"], "<c2@contoso.example>"]
    assert arrived["In-Reply-To"] == "<c2@contoso.example>"
    assert [a.get_filename() for a in arrived.iter_attachments()] == ["corrected.png"]
    assert len(conversations(admin)) == 1 and len(sink.arrived) == 2
    assert arrived["From"] == f"Acme Support <{INBOUND}>"
