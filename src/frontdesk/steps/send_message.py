"""send_message: say something to the contact (templated), optionally with quick replies and a
file given by its link (sent as is: WhatsApp and Telegram fetch it themselves)."""

from __future__ import annotations

import mimetypes
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from frontdesk.domain.attachments import MAX_FILE_NAME, NewAttachment, kind_of
from frontdesk.domain.model import AttachmentKind, AttachmentState
from frontdesk.steps._fields import Target, Template
from frontdesk.steps.base import Catalog, Outcome, Runtime, Signal, StepConfig, StepType


class Attachment(BaseModel):
    """A file to send with the message, by its public http(s) URL (templated)."""

    model_config = ConfigDict(extra="forbid")

    url: Template
    file_name: str | None = Field(default=None, min_length=1, max_length=MAX_FILE_NAME)
    kind: Literal["image", "audio", "video", "file"] | None = Field(
        default=None, description="what the file shows as; by default from the URL's extension, else file"
    )


class Config(StepConfig):
    type: Literal["send_message"] = "send_message"
    text: Template | None = None
    quick_replies: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(default_factory=list, max_length=10)
    attachment: Attachment | None = None
    next: Target = None

    def templates(self) -> list[tuple[str, str]]:
        found = [("text", self.text)] if self.text is not None else []
        found += [(f"quick_replies[{i}]", q) for i, q in enumerate(self.quick_replies)]
        return found + ([("attachment.url", self.attachment.url)] if self.attachment else [])

    def problems(self, catalog: Catalog) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        if self.text is None and self.attachment is None:
            found.append(("text", "a message needs a text, an attachment or both"))
        if self.attachment is not None and not self.attachment.url.lower().startswith(("http://", "https://")):
            found.append(("attachment.url", "must be an http:// or https:// URL"))
        return found


def execute(config: Config, runtime: Runtime, signal: Signal) -> Outcome:
    text = runtime.render(config.text) if config.text is not None else ""
    replies = [runtime.render(q) for q in config.quick_replies]
    attachments = [_link(config.attachment, runtime.render(config.attachment.url))] if config.attachment else []
    runtime.send_message(text, replies, attachments)
    output: dict[str, object] = {"text": text, "quick_replies": replies}
    if attachments:
        output["attachment"] = {"url": attachments[0].source_url, "kind": str(attachments[0].kind)}
    return Outcome(output=output)


def _link(attachment: Attachment, url: str) -> NewAttachment:
    """A link sent as is: ready at once, nothing to fetch or store."""
    mime = mimetypes.guess_type(urlsplit(url).path)[0]
    kind = AttachmentKind(attachment.kind) if attachment.kind else kind_of(mime)
    return NewAttachment(kind, AttachmentState.READY, mime, file_name=attachment.file_name, source_url=url)


STEP = StepType.of(Config, execute)
