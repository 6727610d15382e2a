"""Workflows: drafts, immutable published versions, enabling, manual and webhook starts."""

from __future__ import annotations

from secrets import token_urlsafe
from typing import Any

from sqlalchemy import Connection

from frontdesk.actions.conversations import find_open_conversation, get_conversation
from frontdesk.actions.events import emit
from frontdesk.actions.message_templates import every_channels_templates
from frontdesk.clock import now
from frontdesk.domain import events as ev
from frontdesk.domain.errors import Conflict, InvalidInput, NotFound
from frontdesk.domain.model import Actor
from frontdesk.steps.base import Catalog
from frontdesk.store.sql import agents, runs, secrets, teams, workflows
from frontdesk.store.sql import contacts as contact_rows
from frontdesk.workflows.definition import Problem, validate


class InvalidWorkflowError(InvalidInput):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("invalid_workflow", f"the workflow has {len(problems)} problem(s)", "definition")
        self.problems = problems


def catalog(conn: Connection) -> Catalog:
    """What exists now, so validation can say "team 'Sales' does not exist"."""
    return Catalog(
        fields=contact_rows.contact_field_keys(conn),
        teams=teams.team_names(conn),
        agents=agents.agent_emails(conn),
        workflows=workflows.workflow_names(conn),
        secrets=secrets.secret_names(conn),
        message_templates=frozenset(every_channels_templates(conn)),
    )


def check_definition(conn: Connection, definition: Any) -> list[Problem]:
    return validate(definition, catalog(conn))[1]


def get_workflow(conn: Connection, workflow_id: int) -> dict[str, Any]:
    row = workflows.workflow_by_id(conn, workflow_id)
    if row is None:
        raise NotFound("workflow", workflow_id)
    return row


def _name_of(definition: Any) -> str:
    name = definition.get("name") if isinstance(definition, dict) else None
    if not isinstance(name, str) or not 0 < len(name.strip()) <= 120:
        raise InvalidInput("invalid_name", "the definition needs a name (1 to 120 characters)", "definition.name")
    return name.strip()


def create_workflow(conn: Connection, definition: dict[str, Any]) -> int:
    """Store a new workflow as a draft (drafts may be incomplete; publishing validates)."""
    name = _name_of(definition)
    if workflows.workflow_name_taken(conn, name):
        raise Conflict("workflow_exists", f"a workflow named {name!r} already exists", "definition.name")
    return workflows.insert_workflow(
        conn,
        name=name,
        description=definition.get("description"),
        draft=definition,
        webhook_key=token_urlsafe(24),
        at=now(),
    )


def save_draft(conn: Connection, workflow_id: int, definition: dict[str, Any]) -> None:
    get_workflow(conn, workflow_id)
    name = _name_of(definition)
    if workflows.workflow_name_taken(conn, name, other_than=workflow_id):
        raise Conflict("workflow_exists", f"a workflow named {name!r} already exists", "definition.name")
    workflows.save_draft(conn, workflow_id, definition, now())


def publish(conn: Connection, workflow_id: int, actor: Actor) -> int:
    """Freeze the draft as the next version; runs keep the version they started on."""
    workflow = get_workflow(conn, workflow_id)
    definition = workflow["draft"]
    parsed, problems = validate(definition, catalog(conn))
    if parsed is None or problems:
        raise InvalidWorkflowError(problems)
    number = workflows.latest_version_number(conn, workflow_id) + 1
    version_id = workflows.insert_version(
        conn, workflow_id=workflow_id, number=number, definition=definition, published_by=actor.as_payload(), at=now()
    )
    workflows.mark_published(
        conn,
        workflow_id,
        version_id=version_id,
        trigger_event=str(parsed.trigger.event),
        name=parsed.name,
        description=parsed.description,
        at=now(),
    )
    emit(conn, ev.WORKFLOW_PUBLISHED, {"workflow_id": workflow_id, "version": number, "actor": actor.as_payload()})
    return number


def set_enabled(conn: Connection, workflow_id: int, enabled: bool, actor: Actor) -> None:
    workflow = get_workflow(conn, workflow_id)
    if enabled and workflow["published_version_id"] is None:
        raise Conflict("not_published", f"workflow {workflow_id} has no published version to enable")
    if workflow["enabled"] == enabled:
        return
    workflows.write_enabled(conn, workflow_id, enabled, now())
    kind = ev.WORKFLOW_ENABLED if enabled else ev.WORKFLOW_DISABLED
    emit(conn, kind, {"workflow_id": workflow_id, "actor": actor.as_payload()})


def start_run(
    conn: Connection,
    workflow_id: int,
    event_type: str,
    payload: dict[str, Any],
    contact_id: int | None,
    conversation_id: int | None,
) -> int:
    """Queue a run of the published version (manual starts and incoming webhooks)."""
    workflow = get_workflow(conn, workflow_id)
    if workflow["published_version_id"] is None or not workflow["enabled"]:
        raise Conflict("not_enabled", f"workflow {workflow_id} is not published and enabled")
    if workflow["trigger_event"] != event_type:
        raise Conflict("wrong_trigger", f"workflow {workflow_id} is triggered by {workflow['trigger_event']}")
    if contact_id is not None and not contact_rows.contact_exists(conn, contact_id):
        raise NotFound("contact", contact_id, "contact_id")
    if conversation_id is None and contact_id is not None:
        open_one = find_open_conversation(conn, contact_id)
        conversation_id = open_one["id"] if open_one else None
    elif conversation_id is not None:
        conversation = get_conversation(conn, conversation_id)
        contact_id = contact_id or conversation["contact_id"]
        if conversation["contact_id"] != contact_id:
            raise InvalidInput("wrong_contact", f"conversation {conversation_id} is not contact {contact_id}'s")
    trigger = {"event": {"type": event_type, **payload}, "message": None}
    return runs.queue(conn, workflow_id, workflow["published_version_id"], trigger, contact_id, conversation_id, now())
