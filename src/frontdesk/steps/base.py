"""What every step type shares: its config base class, what it returns, and what it may do.

A step type is one module with a `Config` (a pydantic model, `type` as its tag), one function
`execute(config, runtime, signal) -> Outcome` and a `STEP` line pairing them, which
`frontdesk.steps` lists in its registry. `signal` is None when the run enters the step, or
what the step waited for (a reply, its timeout, an HTTP response). Steps never touch the
database or the network themselves: they act through the `Runtime`, which the engine backs with
the database and the dry run backs with memory.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict, Field

from frontdesk.domain.attachments import NewAttachment
from frontdesk.domain.message_templates import MessageTemplate
from frontdesk.domain.model import WaitKind
from frontdesk.domain.teams import AssignTarget

STEP_ID = r"^[a-z0-9][a-z0-9_-]{0,63}$"


class StepConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=STEP_ID, description="unique in the workflow; used by targets")
    type: str
    label: str | None = Field(default=None, max_length=120, description="shown in the builder")

    # A loop in the graph must pass through a step that waits or counts its visits (validation).
    breaks_loops: ClassVar[bool] = False
    # Only steps whose templates go to an HTTP call may name secrets (`{{ secrets.NAME }}`).
    uses_secrets: ClassVar[bool] = False

    def targets(self) -> dict[str, str | None]:
        """Outcome label -> target step id (None ends the run). The builder draws these."""
        return {"next": getattr(self, "next", None)}

    def templates(self) -> list[tuple[str, str]]:
        """(config path, source) of every template, to compile at validation."""
        return []

    def fields_read(self) -> list[tuple[str, str]]:
        """(config path, context path) read by conditions, to check they can exist."""
        return []

    def fields_written(self) -> list[str]:
        """Context paths this step writes (`vars.x`, `contact.fields.y`)."""
        return []

    def problems(self, catalog: Catalog) -> list[tuple[str, str]]:
        """(config path, message) for rules a field type cannot express."""
        return []


@dataclass(frozen=True)
class ReplyAttachment:
    """An attachment the contact's reply carries (a location's `data` holds its coordinates)."""

    id: int
    kind: str  # an AttachmentKind
    data: dict[str, Any] | None = None


@dataclass(frozen=True)
class Reply:
    text: str
    message_id: int
    attachments: tuple[ReplyAttachment, ...] = ()


@dataclass(frozen=True)
class Timeout:
    pass


@dataclass(frozen=True)
class HttpResult:
    status: int | None
    body: Any
    error: str | None


@dataclass(frozen=True)
class Assigned:
    """The conversation a run queued was assigned (from the queue, or by a person)."""

    agent_id: int | None


Signal = Reply | Timeout | HttpResult | Assigned | None


@dataclass(frozen=True)
class Wait:
    """The run stops here until `kind` happens (for an HTTP wait, the call is `request`)."""

    kind: WaitKind
    seconds: float | None = None  # None: no deadline
    request: dict[str, Any] | None = None
    keep_deadline: bool = False  # wait again until the deadline already set (a question's retry)


@dataclass
class Outcome:
    """The branch the step took and why; or a wait. `output` is kept in the run history."""

    branch: str = "next"
    reason: str = ""
    output: dict[str, Any] = field(default_factory=dict)
    wait: Wait | None = None
    state: dict[str, Any] | None = None  # step-private state kept while waiting (retries...)


@dataclass(frozen=True)
class Assignment:
    agent_id: int | None
    team_id: int | None
    reason: str


@dataclass(frozen=True)
class Catalog:
    """What exists in the deployment, for validation: declared fields, teams, agents, workflows."""

    fields: frozenset[str] = frozenset()
    teams: frozenset[str] = frozenset()
    agents: frozenset[str] = frozenset()
    workflows: frozenset[str] = frozenset()
    secrets: frozenset[str] = frozenset()  # names in the secret store (never their values)
    message_templates: frozenset[MessageTemplate] = frozenset()  # every channel's (send_template)
    check_names: bool = True  # False when validating a file offline, without a database


class Runtime(Protocol):
    """Everything a step may do to the world."""

    now: dt.datetime
    step_state: dict[str, Any]  # the step's private state from its previous wait
    catalog: Catalog

    def context(self) -> dict[str, Any]: ...
    def render(self, source: str) -> str: ...
    def send_message(self, text: str, quick_replies: list[str], attachments: Sequence[NewAttachment] = ()) -> None: ...
    def send_template(self, name: str, language: str, parameters: list[str]) -> None: ...
    def add_comment(self, text: str) -> None: ...
    def set_field(self, key: str, value: Any) -> None: ...
    def set_var(self, name: str, value: Any) -> None: ...
    def update_tags(self, add: list[str], remove: list[str]) -> None: ...
    def assign(self, targets: list[AssignTarget], skills: dict[str, str]) -> Assignment: ...
    def enqueue(self, team: str, priority: int, skills: dict[str, str]) -> bool: ...
    def dequeue(self) -> None: ...
    def open_conversation(self) -> bool: ...
    def close_conversation(self, note: str | None, category: str | None) -> bool: ...
    def start_workflow(self, name: str) -> bool: ...
    def visits(self) -> int: ...
    def is_store_failure(self, exc: Exception) -> bool:
        """Whether `exc` is the database's failure, not the step's: the engine handles it (a
        write conflict is retried, anything else fails the run naming it)."""
        ...


Execute = Callable[[Any, Runtime, Signal], Outcome]


@dataclass(frozen=True)
class StepType:
    """The contract of a step type: its config model (`type` names it) and the function running it."""

    name: str
    config: type[StepConfig]
    execute: Execute

    @classmethod
    def of(cls, config: type[StepConfig], execute: Execute) -> StepType:
        return cls(config.model_fields["type"].default, config, execute)
