"""Conversations: list, read, open, reply (text, or a channel's template), assign, close.

An agent-role token reaches only the conversations its agent may see (store.visibility): the
others are left out of lists and answer 404, as if they did not exist."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, cast

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.openapi import ResponseSpec
from litestar.params import Body, FromQuery, JSONBody, QueryParameter
from sqlalchemy import Connection

from frontdesk.actions.conversations import (
    assign_conversation,
    open_conversation,
    reopen_conversation,
    send_message,
    unassign_conversation,
)
from frontdesk.actions.csat import close_and_survey, rate_conversation
from frontdesk.actions.message_templates import send_template
from frontdesk.api import uploads
from frontdesk.api.addresses import public_base_url
from frontdesk.api.attachments import with_attachments
from frontdesk.api.auth import Principal
from frontdesk.api.deps import Caller, Db
from frontdesk.api.responses import Conversation, Message, OpenedConversation, Rating
from frontdesk.api.schemas import (
    MAX_ID,
    AssignBody,
    CloseBody,
    OpenConversationBody,
    PathId,
    QueryId,
    RatingBody,
    ReplyBody,
    TemplateBody,
    TransferBody,
)
from frontdesk.domain.attachments import MAX_ATTACHMENTS, NewAttachment
from frontdesk.domain.conversations import check_message_text
from frontdesk.domain.errors import Conflict
from frontdesk.domain.model import ConversationStatus, Role
from frontdesk.store import visibility
from frontdesk.store.database import Database
from frontdesk.store.sql.inbox import conversation_detail, list_conversations, list_messages
from frontdesk.store.visibility import when_seen


@dataclass
class UploadBody:
    """A reply with files (multipart/form-data): one `files` part per file, and an optional `text`."""

    files: list[UploadFile] = field(default_factory=list)
    text: str = ""


class ConversationController(Controller):
    path = "/api/v1/conversations"
    tags = ["conversations"]

    @get("/")
    async def list_conversations(
        self,
        db: Db,
        principal: Caller,
        status: FromQuery[ConversationStatus | None] = None,
        team_id: QueryId = None,
        assignee_id: QueryId = None,
        contact_id: QueryId = None,
        unassigned: FromQuery[bool] = False,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        before: Annotated[
            int | None, QueryParameter(ge=1, le=MAX_ID, description="only conversations with a smaller id")
        ] = None,
    ) -> list[Conversation]:
        listed = await db.read(
            lambda c: list_conversations(
                c,
                status=status,
                team_id=team_id,
                assignee_id=assignee_id,
                contact_id=contact_id,
                unassigned=unassigned,
                limit=limit,
                before=before,
                visible=visibility.seen_by(principal),
            )
        )
        return cast(list[Conversation], listed)  # the rows' columns are exactly Conversation's keys

    @get("/{conversation_id:int}")
    async def get_conversation(self, db: Db, principal: Caller, conversation_id: PathId) -> Conversation:
        return await db.read(when_seen(principal, conversation_id, lambda c: _conversation(c, conversation_id)))

    @post("/", responses={200: ResponseSpec(OpenedConversation, description="The contact's open conversation")})
    async def open(
        self, db: Db, principal: Caller, data: JSONBody[OpenConversationBody]
    ) -> Response[OpenedConversation]:
        """Open a conversation for a contact (source agent or api). If one is already open it is
        returned with 200 and `opened: false`: a contact never has two (409 when it is one the
        caller may not see)."""

        def work(c: Connection) -> tuple[int, bool]:
            conversation_id, opened = open_conversation(c, data.contact_id, principal.actor, data.channel_id)
            if not opened and not visibility.seen_among(c, principal, [conversation_id]):
                raise Conflict(
                    "contact_has_open_conversation",
                    f"contact {data.contact_id} already has an open conversation, handled by a team you are not in",
                    "contact_id",
                )
            return conversation_id, opened

        conversation_id, opened = await db.write(work)
        conversation = await db.read(lambda c: _conversation(c, conversation_id))
        return Response({**conversation, "opened": opened}, status_code=201 if opened else 200)

    @get("/{conversation_id:int}/messages")
    async def messages(
        self,
        db: Db,
        principal: Caller,
        conversation_id: PathId,
        after: Annotated[
            int | None, QueryParameter(ge=0, le=MAX_ID, description="only messages with a larger id")
        ] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 100,
    ) -> list[Message]:
        return await db.read(
            when_seen(principal, conversation_id, lambda c: _messages(c, conversation_id, after, limit))
        )

    @post("/{conversation_id:int}/messages")
    async def reply(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        principal: Caller,
        conversation_id: PathId,
        data: JSONBody[ReplyBody],
    ) -> Message:
        """Send a message to the contact. `attachments` are fetched from their URLs by the server
        (never from private addresses unless FRONTDESK_HTTP_ALLOW_PRIVATE) before anything is
        stored: one it cannot fetch, too large or lying about its type is a 4xx naming it."""
        await db.read(lambda c: visibility.check_seen(c, principal, conversation_id))
        settings = request.app.state.settings
        files = [
            await uploads.fetched(str(a.url), a.file_name, settings, f"attachments[{i}].url")
            for i, a in enumerate(data.attachments)
        ]
        stored = await uploads.store(request.app.state.media, files)
        return await _reply(db, principal, conversation_id, data.text, stored)

    @post(
        "/{conversation_id:int}/messages/upload",
        opt={"upload_files": MAX_ATTACHMENTS},
        responses={201: ResponseSpec(Message, description="The message sent, with its attachments")},
    )
    async def upload(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        principal: Caller,
        conversation_id: PathId,
        data: Annotated[UploadBody, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> Message:
        """Send a message with files (multipart/form-data, up to 10 `files` parts, each at most
        FRONTDESK_MEDIA_MAX_BYTES: 413 naming `files[i]` past it). The type is read from the bytes;
        each file is stored before the message."""
        if data.text:
            check_message_text(data.text)
        await db.read(lambda c: visibility.check_seen(c, principal, conversation_id))
        limit = request.app.state.settings.media_max_bytes
        stored = await uploads.store_uploads(request.app.state.media, data.files, limit)
        return await _reply(db, principal, conversation_id, data.text, stored)

    @post("/{conversation_id:int}/template")
    async def template(
        self, db: Db, principal: Caller, conversation_id: PathId, data: JSONBody[TemplateBody]
    ) -> Message:
        """Send a template message: one the conversation's channel lists (whatsapp), with exactly
        its number of body `parameters`. Allowed outside the 24-hour window (that is its point);
        409 `templates_not_supported` on other channels, 422 `unknown_template` or
        `wrong_parameter_count`. The stored message's `text` is readable, its `template` exact."""
        message_id = await db.write(
            when_seen(
                principal,
                conversation_id,
                lambda c: send_template(c, conversation_id, principal.actor, data.name, data.language, data.parameters),
            )
        )
        rows = await db.read(lambda c: _messages(c, conversation_id, message_id - 1, 1))
        return rows[0]

    @post("/{conversation_id:int}/close", status_code=200)
    async def close(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        principal: Caller,
        conversation_id: PathId,
        data: JSONBody[CloseBody | None] = None,
    ) -> Conversation:
        """Close the conversation. On a channel whose `csat_survey` is on, the contact then gets one
        message asking to rate the help, with a link (docs/channels.md)."""
        body = data or CloseBody()
        base = public_base_url(request)
        await db.write(
            when_seen(
                principal,
                conversation_id,
                lambda c: close_and_survey(c, conversation_id, principal.actor, body.note, body.category, base),
            )
        )
        return await db.read(lambda c: _conversation(c, conversation_id))

    @post("/{conversation_id:int}/rating", status_code=201, opt={"role": Role.MANAGER})
    async def rate(self, db: Db, conversation_id: PathId, data: JSONBody[RatingBody]) -> Rating:
        """Record the contact's CSAT rating (1-5, an optional comment of at most 1,000 characters) of
        the conversation's last close, as an integration that asks it itself would: once per close
        (409 `already_rated`), only once closed (409 `conversation_open`). Logged as `conversation.rated`."""
        await db.write(lambda c: rate_conversation(c, conversation_id, data.rating, data.comment))
        return {
            "conversation_id": conversation_id,
            "rating": data.rating,
            "comment": (data.comment or "").strip() or None,
        }

    @post("/{conversation_id:int}/assign", status_code=200)
    async def assign(
        self, db: Db, principal: Caller, conversation_id: PathId, data: JSONBody[AssignBody]
    ) -> Conversation:
        """To an agent (even above capacity: a person decided), or to a team, whose strategy picks an
        available member — or whose queue keeps the conversation until someone is free."""
        await db.write(
            when_seen(
                principal,
                conversation_id,
                lambda c: assign_conversation(
                    c, conversation_id, principal.actor, data.agent_id, data.team_id, data.reason
                ),
            )
        )
        return await db.read(lambda c: _conversation(c, conversation_id))

    @post("/{conversation_id:int}/transfer", status_code=200)
    async def transfer(
        self, db: Db, principal: Caller, conversation_id: PathId, data: JSONBody[TransferBody]
    ) -> Conversation:
        """Hand over to another agent or team, with the reason recorded on `conversation.assigned`."""
        reason = f"transfer: {data.reason}"
        await db.write(
            when_seen(
                principal,
                conversation_id,
                lambda c: assign_conversation(c, conversation_id, principal.actor, data.agent_id, data.team_id, reason),
            )
        )
        return await db.read(lambda c: _conversation(c, conversation_id))

    @post("/{conversation_id:int}/reopen", status_code=200)
    async def reopen(self, db: Db, principal: Caller, conversation_id: PathId) -> Conversation:
        """Open a closed conversation again (409 while the contact has another open one)."""
        await db.write(
            when_seen(principal, conversation_id, lambda c: reopen_conversation(c, conversation_id, principal.actor))
        )
        return await db.read(lambda c: _conversation(c, conversation_id))

    @post("/{conversation_id:int}/unassign", status_code=200)
    async def unassign(self, db: Db, principal: Caller, conversation_id: PathId) -> Conversation:
        await db.write(
            when_seen(principal, conversation_id, lambda c: unassign_conversation(c, conversation_id, principal.actor))
        )
        return await db.read(lambda c: _conversation(c, conversation_id))


# The store's rows typed as the answers they are: a conversation row's columns are exactly
# Conversation's keys, and list_messages leaves out the one internal column (next_attempt_at).
def _conversation(conn: Connection, conversation_id: int) -> Conversation:
    return cast(Conversation, conversation_detail(conn, conversation_id))


def _messages(conn: Connection, conversation_id: int, after: int | None, limit: int) -> list[Message]:
    return cast(list[Message], with_attachments(conn, list_messages(conn, conversation_id, after, limit)))


async def _reply(
    db: Database, principal: Principal, conversation_id: int, text: str, files: Sequence[NewAttachment]
) -> Message:
    message_id = await db.write(
        when_seen(
            principal,
            conversation_id,
            lambda c: send_message(c, conversation_id, principal.actor, text, attachments=files),
        )
    )
    rows = await db.read(lambda c: _messages(c, conversation_id, message_id - 1, 1))
    return rows[0]
