"""The agent inbox: login, conversation list, thread, reply, notes, template messages, assign, close,
live stream."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, QueryParameter
from litestar.response import Redirect, ServerSentEvent, Template
from pydantic import BaseModel, ConfigDict, Field

from frontdesk.actions import login_throttle
from frontdesk.actions.agents import update_agent
from frontdesk.actions.conversations import (
    add_note,
    assign_conversation,
    reopen_conversation,
    send_message,
)
from frontdesk.actions.csat import close_and_survey
from frontdesk.actions.message_templates import send_template
from frontdesk.actions.read_marks import mark_read
from frontdesk.actions.sessions import COOKIE, LIFETIME, check_login, close_session, open_session
from frontdesk.api import uploads
from frontdesk.api.addresses import client_address, public_base_url
from frontdesk.api.auth import Principal
from frontdesk.api.deps import Caller, Db
from frontdesk.api.schemas import PathId
from frontdesk.clock import now
from frontdesk.domain.attachments import MAX_ATTACHMENTS
from frontdesk.domain.conversations import check_message_text
from frontdesk.domain.errors import Conflict, DomainError, InvalidInput, TooManyRequests
from frontdesk.domain.model import Availability
from frontdesk.store import visibility
from frontdesk.store.database import Database
from frontdesk.store.sql.events import last_id
from frontdesk.store.visibility import when_seen
from frontdesk.web import queries
from frontdesk.web.guards import SESSION

View = Annotated[str, QueryParameter(pattern="^(mine|unassigned|all)$")]
Status = Annotated[str, QueryParameter(pattern="^(open|closed)$")]
OptionalId = Annotated[int | None, QueryParameter(ge=1, le=2**62)]
Cursor = Annotated[int | None, QueryParameter(ge=0, le=2**62)]  # an event id (0 before the first)
# A filter's select sends "" for "all": an id, or nothing.
FilterId = Annotated[str | None, QueryParameter(pattern=r"^([1-9][0-9]{0,17})?$")]
Form = Body(media_type=RequestEncodingType.URL_ENCODED)
Multipart = Body(media_type=RequestEncodingType.MULTI_PART)


class LoginForm(BaseModel):
    model_config = ConfigDict(extra="ignore")

    email: str = Field(max_length=254)
    password: str = Field(max_length=1000)
    next: str = "/inbox"


@dataclass
class ReplyForm:
    """The reply box (multipart: it may carry files); text may be empty when files are attached."""

    text: str = ""
    note: str | None = None  # a checkbox: an internal note instead of a reply
    # An empty file input still sends a part, without a file: Litestar gives it as "" (hence Any).
    files: list[Any] = field(default_factory=list)


class TemplateForm(BaseModel):
    model_config = ConfigDict(extra="ignore")

    template: str = Field(pattern=r"^[a-z0-9_]{1,512}:[A-Za-z0-9_]{2,20}$")  # name:language
    parameters: str = Field(default="", max_length=25_000)


class CloseForm(BaseModel):
    model_config = ConfigDict(extra="ignore")

    note: str | None = Field(default=None, max_length=2000)
    category: str | None = Field(default=None, max_length=64)


class AssignForm(BaseModel):
    model_config = ConfigDict(extra="ignore")

    target: str = Field(pattern=r"^(agent|team):\d{1,18}$")


class AvailabilityForm(BaseModel):
    model_config = ConfigDict(extra="ignore")

    availability: Availability


def _safe_next(target: str) -> str:
    """Only local paths: a login link must not send anyone to another site."""
    return target if target.startswith("/") and not target.startswith("//") else "/inbox"


def _attempt(request: Request[Any, Any, Any], email: str) -> login_throttle.Attempt:
    email = email.strip().lower()
    cookie = request.cookies.get(login_throttle.KNOWN_COOKIE)
    known = login_throttle.is_known_browser(request.app.state.instance_secret, email, cookie)
    return login_throttle.Attempt(client_address(request), email, known)


def _log_in(conn: Any, attempt: login_throttle.Attempt, agent_id: int, moment: dt.datetime) -> str:
    login_throttle.succeeded(conn, attempt)
    return open_session(conn, agent_id, moment)


def _login_page(target: str, error: str, status: int, headers: dict[str, str] | None = None) -> Template:
    context = {"next": _safe_next(target), "error": error}
    return Template("login.html", context=context, status_code=status, headers=headers)


class LoginController(Controller):
    path = "/"
    include_in_schema = False

    @get("/", opt={"auth": "public"})
    async def home(self) -> Redirect:
        return Redirect("/inbox")

    @get("/login", opt={"auth": "public"})
    async def login_page(self, next_: Annotated[str, QueryParameter(name="next")] = "/inbox") -> Template:
        return Template("login.html", context={"next": _safe_next(next_), "error": None})

    @post("/login", opt={"auth": "public"}, status_code=200)
    async def login(self, request: Request[Any, Any, Any], db: Db, data: Annotated[LoginForm, Form]) -> Response[Any]:
        """Throttled (web/login_throttle.py): a refused attempt answers 429 before any password check."""
        attempt, clock = _attempt(request, data.email), request.app.state.clock
        try:
            await db.write(lambda c: login_throttle.admit(c, attempt, clock()))
        except TooManyRequests as exc:
            return _login_page(data.next, f"{exc.message.capitalize()}.", 429, {"Retry-After": str(exc.retry_after)})
        agent_id = await db.read(lambda c: check_login(c, data.email, data.password))
        if agent_id is None:
            return _login_page(data.next, "Wrong e-mail or password.", 401)
        token = await db.write(lambda c: _log_in(c, attempt, agent_id, clock()))
        response: Redirect = Redirect(_safe_next(data.next))
        secure = request.url.scheme == "https"
        response.set_cookie(
            COOKIE, token, httponly=True, samesite="lax", secure=secure, max_age=int(LIFETIME.total_seconds())
        )
        known = login_throttle.known_browser_cookie(request.app.state.instance_secret, attempt.email)
        response.set_cookie(
            login_throttle.KNOWN_COOKIE, known, httponly=True, samesite="lax", secure=secure,
            max_age=int(login_throttle.KNOWN_LIFETIME.total_seconds()),
        )  # fmt: skip
        return response

    @post("/logout", opt=SESSION, status_code=303)
    async def logout(self, request: Request[Any, Any, Any], db: Db) -> Redirect:
        token = request.cookies.get(COOKIE, "")
        await db.write(lambda c: close_session(c, token))
        response = Redirect("/login")
        response.delete_cookie(COOKIE)
        return response


@dataclass(frozen=True)
class Shown:
    """Which conversations an inbox page shows (its filters) and which one is open."""

    view: str
    status: str
    team: int | None
    channel: int | None
    c: int | None

    @property
    def filters(self) -> dict[str, Any]:
        chosen = {"view": self.view, "status": self.status, "team": self.team, "channel": self.channel}
        # `query`: the same filters as a URL query, for links that keep them
        return {**chosen, "query": urlencode({k: v for k, v in chosen.items() if v is not None})}

    def items(self, conn: Any, principal: Principal) -> list[dict[str, Any]]:
        visible = visibility.seen_by(principal)
        return queries.inbox_list(
            conn, principal.agent_id, self.view, self.status, self.team, visible=visible, channel_id=self.channel
        )


def shown_conversations(
    view: View = "all",
    status: Status = "open",
    team: FilterId = None,
    channel: FilterId = None,
    c: OptionalId = None,
) -> Shown:
    return Shown(view, status, int(team) if team else None, int(channel) if channel else None, c)


class InboxController(Controller):
    """Every page and action here names conversations through `when_seen`/`seen_by`: an agent
    reaches only the conversations their role lets them see (store.visibility); others are 404."""

    path = "/inbox"
    include_in_schema = False
    opt = SESSION
    dependencies = {"shown": Provide(shown_conversations, sync_to_thread=False)}

    @get("/")
    async def inbox(
        self, db: Db, principal: Caller, shown: NamedDependency[Shown], before: OptionalId = None
    ) -> Template:
        """`before`: the open conversation's page of messages ending before that message id."""
        if shown.c:
            await _visit_thread(db, principal, shown.c, before)
        return Template("inbox.html", context=await _inbox_page(db, principal, shown, before))

    @get("/list")
    async def conversation_list(self, db: Db, principal: Caller, shown: NamedDependency[Shown]) -> Template:
        items = await db.read(lambda conn: shown.items(conn, principal))
        context = {"items": items, "filters": shown.filters, "selected_id": shown.c, "now": now()}
        return Template("_list.html", context=context)

    @get("/conversations/{conversation_id:int}")
    async def conversation(
        self,
        db: Db,
        principal: Caller,
        conversation_id: PathId,
        shown: NamedDependency[Shown],
        before: OptionalId = None,
    ) -> Template:
        """The thread alone, for the live page; the page sends its filters so the thread's links keep them."""
        await _visit_thread(db, principal, conversation_id, before)

        def read(conn: Any) -> dict[str, Any]:
            selected = queries.thread(conn, conversation_id, visibility.seen_by(principal), before=before)
            return {"selected": selected, "filters": shown.filters, **queries.choices(conn)}

        return Template("_thread.html", context={**await db.read(read), "now": now()})

    @post("/conversations/{conversation_id:int}/reply", status_code=303, opt={"upload_files": MAX_ATTACHMENTS})
    async def reply(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        principal: Caller,
        conversation_id: PathId,
        data: Annotated[ReplyForm, Multipart],
    ) -> Response[Any]:
        """A reply or a note, with the files attached (each stored before the message is written).
        A reply the channel refuses now (WhatsApp's 24-hour window) comes back on the thread, the
        reason shown plainly beside the template form and the draft kept."""
        if data.text:
            check_message_text(data.text)
        chosen = [f for f in data.files if isinstance(f, UploadFile) and f.filename]
        await db.read(lambda c: visibility.check_seen(c, principal, conversation_id))
        limit = request.app.state.settings.media_max_bytes
        files = await uploads.store_uploads(request.app.state.media, chosen, limit)
        act = add_note if data.note else send_message
        try:
            await db.write(
                when_seen(
                    principal,
                    conversation_id,
                    lambda c: act(c, conversation_id, principal.actor, data.text, attachments=files),
                )
            )
        except Conflict as exc:
            if exc.code not in ("outside_reply_window", "opted_out"):
                raise
            return await _refused(db, principal, conversation_id, exc, draft=data.text)
        return Redirect(f"/inbox?c={conversation_id}")

    @post("/conversations/{conversation_id:int}/template", status_code=303)
    async def template(
        self, db: Db, principal: Caller, conversation_id: PathId, data: Annotated[TemplateForm, Form]
    ) -> Response[Any]:
        """One of the channel's template messages, its parameters one a line; a refusal (unknown
        template, wrong number of parameters) comes back on the thread."""
        name, _, language = data.template.partition(":")
        parameters = [line.strip() for line in data.parameters.splitlines() if line.strip()]
        try:
            await db.write(
                when_seen(
                    principal,
                    conversation_id,
                    lambda c: send_template(c, conversation_id, principal.actor, name, language, parameters),
                )
            )
        except (Conflict, InvalidInput) as exc:
            return await _refused(db, principal, conversation_id, exc)
        return Redirect(f"/inbox?c={conversation_id}")

    @post("/conversations/{conversation_id:int}/close", status_code=303)
    async def close(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        principal: Caller,
        conversation_id: PathId,
        data: Annotated[CloseForm, Form],
    ) -> Redirect:
        note, category, base = (data.note or None), (data.category or None), public_base_url(request)
        await db.write(
            when_seen(
                principal,
                conversation_id,
                lambda c: close_and_survey(c, conversation_id, principal.actor, note, category, base),
            )
        )
        return Redirect(f"/inbox?c={conversation_id}&status=closed")

    @post("/conversations/{conversation_id:int}/reopen", status_code=303)
    async def reopen(self, db: Db, principal: Caller, conversation_id: PathId) -> Redirect:
        await db.write(
            when_seen(principal, conversation_id, lambda c: reopen_conversation(c, conversation_id, principal.actor))
        )
        return Redirect(f"/inbox?c={conversation_id}")

    @post("/conversations/{conversation_id:int}/assign", status_code=303)
    async def assign(
        self, db: Db, principal: Caller, conversation_id: PathId, data: Annotated[AssignForm, Form]
    ) -> Redirect:
        kind, _, ident = data.target.partition(":")
        agent_id, team_id = (int(ident), None) if kind == "agent" else (None, int(ident))
        await db.write(
            when_seen(
                principal,
                conversation_id,
                lambda c: assign_conversation(c, conversation_id, principal.actor, agent_id, team_id, "inbox"),
            )
        )
        still_seen = await db.read(lambda c: visibility.seen_among(c, principal, [conversation_id]))
        return Redirect(f"/inbox?c={conversation_id}" if still_seen else "/inbox")  # handed to a team not theirs

    @post("/availability", status_code=303)
    async def availability(self, db: Db, principal: Caller, data: Annotated[AvailabilityForm, Form]) -> Redirect:
        agent_id = _agent(principal)
        await db.write(lambda c: update_agent(c, agent_id, principal.actor, {"availability": data.availability}))
        return Redirect("/inbox")

    @get("/stream")
    async def stream(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        after: Annotated[int | None, QueryParameter(ge=0)] = None,
    ) -> ServerSentEvent:
        """Server-Sent Events: a `change` event lists what changed (only in conversations the
        agent may see); the page re-reads its parts. `after`: the page's cursor (see LiveFeed)."""
        return ServerSentEvent(request.app.state.live.stream(principal, after))


async def _inbox_page(
    db: Database, principal: Principal, shown: Shown, before: int | None, **thread: Any
) -> dict[str, Any]:
    """The whole inbox page's context; `thread` adds to the open thread's (a refusal, a draft)."""

    def read(conn: Any) -> dict[str, Any]:
        cursor = last_id(conn)  # read first: the live stream resumes from here, missing nothing shown after
        visible = visibility.seen_by(principal)
        selected = queries.thread(conn, shown.c, visible, before=before) if shown.c else None
        return {
            "cursor": cursor,
            "me": queries.viewer(conn, _agent(principal)),
            "items": shown.items(conn, principal),
            "filters": shown.filters,
            "selected": selected,
            "before": before if selected else None,
            **queries.choices(conn),
        }

    return {**await db.read(read), "now": now(), **thread}


async def _refused(
    db: Database, principal: Principal, conversation_id: int, refusal: DomainError, draft: str = ""
) -> Template:
    """The conversation's page again, answering 409/422 with why the message was not sent."""
    shown = shown_conversations(c=conversation_id)
    context = await _inbox_page(db, principal, shown, None, refusal=refusal.message, draft=draft)
    return Template("inbox.html", context=context, status_code=refusal.status)


async def _visit_thread(db: Database, principal: Principal, conversation_id: int, before: int | None) -> None:
    """404 unless the agent may see the conversation. Its newest page counts as read; an earlier page
    does not, so a live refresh of one never marks read a new message that is not on screen."""
    if before is None:
        await db.write(_open_thread(principal, conversation_id))
        return
    await db.read(lambda conn: visibility.check_seen(conn, principal, conversation_id))


def _open_thread(principal: Principal, conversation_id: int) -> Any:
    """The write of opening a thread: 404 unless the agent may see it, then it counts as read."""

    def work(conn: Any) -> None:
        visibility.check_seen(conn, principal, conversation_id)
        if principal.agent_id is not None:
            mark_read(conn, principal.agent_id, conversation_id)

    return work


def _agent(principal: Principal) -> int:
    if principal.agent_id is None:
        raise DomainError("no_agent", "this login is not an agent")
    return principal.agent_id
