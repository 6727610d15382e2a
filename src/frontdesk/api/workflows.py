"""Workflows (drafts, validation, versions, publish, enable, dry run), their runs, and the
incoming-webhook trigger."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, cast

import yaml
from litestar import Controller, Response, get, post, put
from litestar.params import FromPath, JSONBody, QueryParameter
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from frontdesk.actions import workflows as actions
from frontdesk.api.deps import Caller, Db
from frontdesk.api.responses import Run, RunDetail, StartedRun
from frontdesk.api.schemas import MAX_ID, Boolean, Id, PathId, QueryId, never_null
from frontdesk.clock import now
from frontdesk.domain.errors import DomainError, InvalidInput, NotFound
from frontdesk.domain.model import Role
from frontdesk.domain.workflows.yaml_text import load_yaml
from frontdesk.engine.dryrun import dry_run
from frontdesk.store import run_queries, workflow_access
from frontdesk.store.sql.workflows import workflow_id_by_webhook_key
from frontdesk.workflows.definition import InvalidWorkflow, parse
from frontdesk.workflows.schema import json_schema

MANAGER = {"role": Role.MANAGER}

# run_queries builds each run as Run (RunDetail with its version and steps) shows it; the casts
# below only name that shape.


def _exactly_one(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """The schema says what the validators do: one of the two keys, not null."""
    never_null(schema, model)
    schema["oneOf"] = [{"required": ["definition"]}, {"required": ["yaml"]}]


class DefinitionBody(BaseModel):
    """A workflow definition, as a JSON object (`definition`) or as YAML text (`yaml`)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_exactly_one)
    never_null: ClassVar = ("definition", "yaml_text")

    definition: dict[str, Any] | None = None
    yaml_text: str | None = Field(default=None, alias="yaml", max_length=200_000)

    @field_validator("definition", "yaml_text", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("give exactly one of definition (an object) or yaml (text), not null")
        return value

    @model_validator(mode="after")
    def _one_of(self) -> DefinitionBody:
        if (self.definition is None) == (self.yaml_text is None):
            raise ValueError("give exactly one of definition (an object) or yaml (text)")
        return self

    def data(self) -> dict[str, Any]:
        if self.definition is not None:
            return self.definition
        try:
            loaded = load_yaml(self.yaml_text or "")
        except yaml.YAMLError as exc:
            raise InvalidInput("invalid_yaml", f"yaml does not parse: {exc}", "yaml") from None
        if not isinstance(loaded, dict):
            raise InvalidInput("invalid_yaml", "yaml must hold a mapping with name, trigger and steps", "yaml")
        return loaded


class DryRunBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    contact: dict[str, Any] = Field(default_factory=dict)
    message: str = ""
    event: dict[str, Any] = Field(default_factory=dict)
    answers: list[str] = Field(default_factory=list, max_length=50)
    http: dict[str, dict[str, Any]] = Field(default_factory=dict)
    available: Boolean = True


class StartBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    contact_id: Id | None = None
    conversation_id: Id | None = None
    data: dict[str, Any] = Field(default_factory=dict)


def _report(problems: list[Any]) -> dict[str, Any]:
    return {"valid": not problems, "problems": [p.as_dict() for p in problems]}


class WorkflowController(Controller):
    path = "/api/v1/workflows"
    tags = ["workflows"]

    @get("/")
    async def list_workflows(self, db: Db, principal: Caller) -> list[dict[str, Any]]:
        """Managers get each definition and webhook key; agents, names and status only."""
        listed = await db.read(run_queries.list_workflows)
        return workflow_access.workflows_shown_to(principal, listed)

    @get("/schema.json", opt={"auth": "public"})
    async def schema(self) -> dict[str, Any]:
        """The JSON Schema of workflow definitions, for editors."""
        return json_schema()

    @post("/validate", status_code=200, opt=MANAGER)
    async def validate(self, db: Db, data: JSONBody[DefinitionBody]) -> dict[str, Any]:
        """Every problem of a definition, each with its step and path; stores nothing."""
        definition = data.data()
        return _report(await db.read(lambda c: actions.check_definition(c, definition)))

    @post("/", opt=MANAGER)
    async def create(self, db: Db, data: JSONBody[DefinitionBody]) -> dict[str, Any]:
        definition = data.data()
        workflow_id = await db.write(lambda c: actions.create_workflow(c, definition))
        return await self._detail(db, workflow_id)

    @get("/{workflow_id:int}", opt=MANAGER)
    async def get_workflow(self, db: Db, workflow_id: PathId) -> dict[str, Any]:
        return await self._detail(db, workflow_id)

    async def _detail(self, db: Db, workflow_id: int) -> dict[str, Any]:
        def read(conn: Any) -> dict[str, Any]:
            detail = run_queries.workflow_detail(conn, workflow_id)
            detail["draft_report"] = _report(actions.check_definition(conn, detail["draft"]))
            return detail

        return await db.read(read)

    @put("/{workflow_id:int}/draft", opt=MANAGER)
    async def save(self, db: Db, workflow_id: PathId, data: JSONBody[DefinitionBody]) -> dict[str, Any]:
        definition = data.data()
        await db.write(lambda c: actions.save_draft(c, workflow_id, definition))
        return await self._detail(db, workflow_id)

    @post("/{workflow_id:int}/publish", status_code=200, opt=MANAGER)
    async def publish(self, db: Db, principal: Caller, workflow_id: PathId) -> dict[str, Any]:
        """Validate the draft and freeze it as the next version (422 with every problem if invalid)."""
        await db.write(lambda c: actions.publish(c, workflow_id, principal.actor))
        return await self._detail(db, workflow_id)

    @post("/{workflow_id:int}/enable", status_code=200, opt=MANAGER)
    async def enable(self, db: Db, principal: Caller, workflow_id: PathId) -> dict[str, Any]:
        await db.write(lambda c: actions.set_enabled(c, workflow_id, True, principal.actor))
        return await self._detail(db, workflow_id)

    @post("/{workflow_id:int}/disable", status_code=200, opt=MANAGER)
    async def disable(self, db: Db, principal: Caller, workflow_id: PathId) -> dict[str, Any]:
        await db.write(lambda c: actions.set_enabled(c, workflow_id, False, principal.actor))
        return await self._detail(db, workflow_id)

    @get("/{workflow_id:int}/versions/{number:int}", opt=MANAGER)
    async def version(self, db: Db, workflow_id: PathId, number: PathId) -> dict[str, Any]:
        return await db.read(lambda c: run_queries.version_definition(c, workflow_id, number))

    @post("/{workflow_id:int}/dry-run", status_code=200, opt=MANAGER)
    async def dry_run(self, db: Db, workflow_id: PathId, data: JSONBody[DryRunBody]) -> dict[str, Any]:
        """Run the draft against a sample, with simulated answers: the path it would take."""
        detail = await db.read(lambda c: run_queries.workflow_detail(c, workflow_id))
        try:
            workflow = parse(detail["draft"])
        except InvalidWorkflow as exc:
            return {"status": "invalid", **_report(exc.problems)}
        return dry_run(workflow, data.model_dump(), now())

    @post("/{workflow_id:int}/runs", opt=MANAGER)
    async def start(self, db: Db, workflow_id: PathId, data: JSONBody[StartBody]) -> RunDetail:
        """Start the published version by hand (trigger `manual`)."""
        run_id = await db.write(
            lambda c: actions.start_run(c, workflow_id, "manual", data.data, data.contact_id, data.conversation_id)
        )
        return cast(RunDetail, await db.read(lambda c: run_queries.run_detail(c, run_id)))


class RunController(Controller):
    path = "/api/v1/runs"
    tags = ["workflows"]

    @get("/")
    async def list_runs(
        self,
        db: Db,
        principal: Caller,
        workflow_id: QueryId = None,
        conversation_id: QueryId = None,
        contact_id: QueryId = None,
        status: Annotated[str | None, QueryParameter(max_length=16)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        before: QueryId = None,
    ) -> list[Run]:
        """Newest first; an agent gets only the runs of conversations they may see."""
        listed = await db.read(
            lambda c: run_queries.list_runs(
                c,
                workflow_id=workflow_id,
                conversation_id=conversation_id,
                contact_id=contact_id,
                status=status,
                limit=limit,
                before=before,
                visible=workflow_access.runs_seen_by(principal),
            )
        )
        return cast(list[Run], [workflow_access.shown_to(principal, run) for run in listed])

    @get("/{run_id:int}")
    async def get_run(self, db: Db, principal: Caller, run_id: PathId) -> RunDetail:
        """A run with every step it executed: branch taken and why, output, error (404 for a run
        of a conversation an agent may not see)."""
        return cast(RunDetail, await db.read(lambda c: workflow_access.run_seen(c, principal, run_id)))


def _bound_contact(data: dict[str, Any]) -> int | None:
    """The contact a webhook's `contact_id` binds the run to: absent or null binds none; anything
    but a contact id (`true`, text, a number no database holds) is refused, naming the key."""
    contact_id = data.get("contact_id")
    if contact_id is None:
        return None
    if isinstance(contact_id, bool) or not isinstance(contact_id, int) or not 1 <= contact_id <= MAX_ID:
        problem = "contact_id: must be a contact id, an integer from 1 to 2^63-1"
        raise DomainError("invalid_request", f"invalid request: {problem}", "contact_id")
    return contact_id


@post("/api/v1/hooks/{key:str}", opt={"auth": "public"}, status_code=202, tags=["workflows"])
async def incoming_webhook(db: Db, key: FromPath[str], data: JSONBody[dict[str, Any]]) -> Response[StartedRun]:
    """Start the workflow whose webhook URL this is; the body becomes `event.*`. The key in the
    URL is the credential (see the workflow's `webhook_key`)."""
    workflow_id = await db.read(lambda c: workflow_id_by_webhook_key(c, key))
    if workflow_id is None:
        raise NotFound("webhook", "with this key")
    contact_id = _bound_contact(data)
    run_id = await db.write(
        lambda c: actions.start_run(c, workflow_id, "incoming_webhook", {"data": data}, contact_id, None)
    )
    return Response({"run_id": run_id}, status_code=202)
