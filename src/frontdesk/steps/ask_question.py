"""ask_question: ask, wait for the contact's reply, check it, save it; branch on the outcome.

The timeout counts from the question: retries after an invalid answer do not extend it.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from frontdesk.domain.contacts import EMAIL, PHONE
from frontdesk.domain.model import AttachmentKind, WaitKind
from frontdesk.domain.workflows.durations import format_duration
from frontdesk.steps._fields import SAVE_TO, Duration, Target, Template, field_problem
from frontdesk.steps.base import Catalog, Outcome, Reply, Runtime, Signal, StepConfig, StepType, Timeout, Wait

# The attachment kinds each media answer type takes: any media is a file, a contact card is not.
_CARRIED = {
    "image": {AttachmentKind.IMAGE},
    "file": {AttachmentKind.IMAGE, AttachmentKind.AUDIO, AttachmentKind.VIDEO, AttachmentKind.FILE},
    "location": {AttachmentKind.LOCATION},
}
_NAMED = {"image": "an image", "file": "a file", "location": "a location"}
MIN_TIMEOUT = 1.0
MAX_TIMEOUT = 30 * 86400.0


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["text", "number", "email", "phone", "date", "choice", "image", "file", "location"] = "text"
    options: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(default_factory=list, max_length=20)


class Config(StepConfig):
    type: Literal["ask_question"] = "ask_question"
    text: Template
    answer: Answer = Field(default_factory=Answer)
    save_to: str | None = Field(default=None, pattern=SAVE_TO, description="contact.fields.<key> or vars.<name>")
    retry_message: Template = "Sorry, I could not understand that answer."
    max_retries: int = Field(default=2, ge=0, le=10)
    timeout: Duration = Field(default=86400.0, description="1s to 30d, e.g. 10m, 2h, 3d")
    next: Target = None
    on_invalid: Target = None
    on_timeout: Target = None

    breaks_loops: ClassVar[bool] = True

    def targets(self) -> dict[str, str | None]:
        return {"answered": self.next, "invalid": self.on_invalid, "timed_out": self.on_timeout}

    def templates(self) -> list[tuple[str, str]]:
        return [("text", self.text), ("retry_message", self.retry_message)]

    def fields_written(self) -> list[str]:
        return [self.save_to] if self.save_to else []

    def problems(self, catalog: Catalog) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        if not MIN_TIMEOUT <= self.timeout <= MAX_TIMEOUT:
            found.append(("timeout", "must be between 1 second and 30 days"))
        if self.answer.type == "choice" and not self.answer.options:
            found.append(("answer.options", "a choice question needs options"))
        if self.save_to:
            found += field_problem("save_to", self.save_to, catalog.fields, catalog.check_names)
        return found


def execute(config: Config, runtime: Runtime, signal: Signal) -> Outcome:
    if signal is None:
        runtime.send_message(runtime.render(config.text), list(config.answer.options))
        return Outcome(wait=Wait(WaitKind.REPLY, config.timeout), state={"retries": 0}, output={"asked": True})
    if isinstance(signal, Timeout):
        return Outcome("timed_out", f"no valid answer within {format_duration(config.timeout)}")
    if not isinstance(signal, Reply):
        raise TypeError(f"ask_question cannot resume on {signal!r}")
    value, problem = check_attachment(config.answer.type, signal) or check_answer(config.answer, signal.text)
    if problem is None:
        _save(config, runtime, value)
        return Outcome("answered", f"answer {value!r} accepted", {"answer": value})
    retries = int(runtime.step_state.get("retries", 0)) + 1
    if retries > config.max_retries:
        return Outcome("invalid", f"{retries} invalid answers; last: {problem}", {"answer": signal.text})
    runtime.send_message(runtime.render(config.retry_message), list(config.answer.options))
    return Outcome(
        wait=Wait(WaitKind.REPLY, keep_deadline=True),
        state={"retries": retries},
        output={"invalid": signal.text, "problem": problem},
    )


def _save(config: Config, runtime: Runtime, value: Any) -> None:
    if config.save_to is None:
        return
    kind, _, name = config.save_to.partition(".")
    if kind == "vars":
        runtime.set_var(name, value)
    else:
        runtime.set_field(name.removeprefix("fields."), value)


def check_answer(answer: Answer, text: str) -> tuple[Any, str | None]:
    """(normalised value, None) or (None, what is wrong with it)."""
    reply = text.strip()
    if not reply:
        return None, "the answer is empty"
    if answer.type == "choice":
        return _choice(answer.options, reply)
    if answer.type == "number":
        try:
            number = float(reply.replace(",", "."))
        except ValueError:
            return None, f"{reply!r} is not a number"
        return (int(number) if number.is_integer() else number), None
    if answer.type == "email":
        return (reply.lower(), None) if EMAIL.match(reply) else (None, f"{reply!r} is not an e-mail address")
    if answer.type == "phone":
        return (reply, None) if PHONE.match(reply) else (None, f"{reply!r} is not a phone number")
    if answer.type == "date":
        try:
            return dt.date.fromisoformat(reply).isoformat(), None
        except ValueError:
            return None, f"{reply!r} is not a date (YYYY-MM-DD)"
    return reply, None


def check_attachment(answer_type: str, reply: Reply) -> tuple[Any, str | None] | None:
    """For an image, file or location question (else None): the attachment id as text (a
    location: "latitude,longitude"), or what the reply lacks."""
    wanted = _CARRIED.get(answer_type)
    if wanted is None:
        return None
    for attachment in reply.attachments:
        if attachment.kind in wanted and answer_type == "location":
            return _coordinates(attachment.data or {})
        if attachment.kind in wanted:
            return str(attachment.id), None
    return None, f"the answer is not {_NAMED[answer_type]}"


def _coordinates(data: dict[str, Any]) -> tuple[Any, str | None]:
    latitude, longitude = data.get("latitude"), data.get("longitude")
    if not isinstance(latitude, int | float) or not isinstance(longitude, int | float):
        return None, "the location has no coordinates"
    return f"{latitude},{longitude}", None


def _choice(options: list[str], reply: str) -> tuple[Any, str | None]:
    folded = reply.casefold()
    for option in options:
        if option.casefold() == folded:
            return option, None
    if re.fullmatch(r"\d{1,2}", reply) and 1 <= int(reply) <= len(options):
        return options[int(reply) - 1], None  # "2" picks the second option
    return None, f"{reply!r} is not one of {', '.join(options)}"


STEP = StepType.of(Config, execute)
