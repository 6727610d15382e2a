"""The workflow builder (YAML beside its drawing; validate, publish, enable, versions and diffs)
and the run explorer (the path a run took through the drawing, step by step)."""

from __future__ import annotations

import difflib
from typing import Annotated, Any

import yaml
from litestar import Controller, Response, get, post
from litestar.params import QueryParameter
from litestar.response import Redirect, Template
from pydantic import BaseModel, ConfigDict, Field

from frontdesk.actions import workflows as actions
from frontdesk.api.deps import Caller, Db
from frontdesk.api.schemas import PathId
from frontdesk.clock import now
from frontdesk.domain.errors import DomainError
from frontdesk.domain.workflows.yaml_text import load_yaml
from frontdesk.engine.dryrun import dry_run
from frontdesk.store import run_queries, workflow_access
from frontdesk.web import flow
from frontdesk.web.guards import MANAGER
from frontdesk.web.pages import Form
from frontdesk.workflows.definition import InvalidWorkflow, Problem, parse


class YamlForm(BaseModel):
    model_config = ConfigDict(extra="ignore")

    yaml: str = Field(max_length=200_000)


class DryRunForm(BaseModel):
    model_config = ConfigDict(extra="ignore")

    message: str = Field(default="", max_length=2000)
    answers: str = Field(default="", max_length=5000)


def _parse_yaml(text: str) -> Any:
    try:
        return load_yaml(text)
    except yaml.YAMLError as exc:
        raise DomainError("invalid_yaml", f"the YAML does not parse: {exc}", "yaml") from None


def _as_yaml(definition: Any) -> str:
    return yaml.safe_dump(definition, sort_keys=False, allow_unicode=True)


def _by_step(problems: list[Problem]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for problem in problems:
        if problem.step:
            found.setdefault(problem.step, []).append(f"{problem.path}: {problem.message}")
    return found


class WorkflowPages(Controller):
    path = "/workflows"
    include_in_schema = False
    opt = MANAGER

    @get("/")
    async def index(self, db: Db) -> Template:
        return Template("workflows.html", context={"workflows": await db.read(run_queries.list_workflows)})

    @post("/new", status_code=303)
    async def create(self, db: Db, data: Annotated[YamlForm, Form]) -> Redirect:
        definition = _parse_yaml(data.yaml)
        if not isinstance(definition, dict):
            raise DomainError("invalid_yaml", "a workflow is a mapping with name, trigger and steps", "yaml")
        workflow_id = await db.write(lambda c: actions.create_workflow(c, definition))
        return Redirect(f"/workflows/{workflow_id}")

    @get("/{workflow_id:int}")
    async def editor(self, db: Db, workflow_id: PathId) -> Template:
        return await self._editor(db, workflow_id)

    async def _editor(
        self, db: Db, workflow_id: int, *, text: str | None = None, message: str | None = None,
        dry: dict[str, Any] | None = None, status: int = 200,
    ) -> Template:  # fmt: skip
        def read(conn: Any) -> dict[str, Any]:
            detail = run_queries.workflow_detail(conn, workflow_id)
            draft = _parse_yaml(text) if text is not None else detail["draft"]
            problems = actions.check_definition(conn, draft)
            return {"workflow": detail, "draft": draft, "problems": problems}

        found = await db.read(read)
        path = [s["step_id"] for s in dry["path"]] if dry and "path" in dry else None
        context = {
            **found,
            "yaml": text if text is not None else _as_yaml(found["draft"]),
            "drawing": flow.render(found["draft"], _by_step(found["problems"]), path),
            "message": message,
            "dry": dry,
        }
        return Template("workflow.html", context=context, status_code=status)

    @post("/{workflow_id:int}/draft", status_code=200)
    async def save(self, db: Db, workflow_id: PathId, data: Annotated[YamlForm, Form]) -> Template:
        """Save the draft as typed (even with problems: they are listed at their steps)."""
        definition = _parse_yaml(data.yaml)
        if not isinstance(definition, dict):
            return await self._editor(
                db, workflow_id, text=data.yaml, message="The YAML must be a mapping.", status=422
            )
        await db.write(lambda c: actions.save_draft(c, workflow_id, definition))
        return await self._editor(db, workflow_id, message="Draft saved.")

    @post("/{workflow_id:int}/publish", status_code=200)
    async def publish(self, db: Db, principal: Caller, workflow_id: PathId) -> Response[Any]:
        try:
            number = await db.write(lambda c: actions.publish(c, workflow_id, principal.actor))
        except actions.InvalidWorkflowError as exc:
            message = f"Not published: {len(exc.problems)} problem(s), shown at their steps."
            return await self._editor(db, workflow_id, message=message, status=422)
        return await self._editor(db, workflow_id, message=f"Version {number} published.")

    @post("/{workflow_id:int}/enable", status_code=303)
    async def enable(self, db: Db, principal: Caller, workflow_id: PathId) -> Redirect:
        await db.write(lambda c: actions.set_enabled(c, workflow_id, True, principal.actor))
        return Redirect(f"/workflows/{workflow_id}")

    @post("/{workflow_id:int}/disable", status_code=303)
    async def disable(self, db: Db, principal: Caller, workflow_id: PathId) -> Redirect:
        await db.write(lambda c: actions.set_enabled(c, workflow_id, False, principal.actor))
        return Redirect(f"/workflows/{workflow_id}")

    @post("/{workflow_id:int}/dry-run", status_code=200)
    async def try_it(self, db: Db, workflow_id: PathId, data: Annotated[DryRunForm, Form]) -> Template:
        """Walk the saved draft with a sample message and answers (one per line), changing nothing."""
        detail = await db.read(lambda c: run_queries.workflow_detail(c, workflow_id))
        answers = [line.strip() for line in data.answers.splitlines() if line.strip()]
        sample = {"message": data.message, "answers": answers, "contact": {"name": "Sample Contact"}}
        try:
            result = dry_run(parse(detail["draft"]), sample, now())
        except InvalidWorkflow as exc:
            return await self._editor(db, workflow_id, message=f"Fix the draft first: {len(exc.problems)} problem(s).")
        return await self._editor(db, workflow_id, dry=result)

    @get("/{workflow_id:int}/diff")
    async def diff(
        self,
        db: Db,
        workflow_id: PathId,
        a: Annotated[int, QueryParameter(ge=1, le=100_000)],
        b: Annotated[int | None, QueryParameter(ge=1, le=100_000)] = None,
    ) -> Template:
        """Version `a` against version `b` (or the draft)."""

        def read(conn: Any) -> dict[str, Any]:
            detail = run_queries.workflow_detail(conn, workflow_id)
            left = run_queries.version_definition(conn, workflow_id, a)
            right = run_queries.version_definition(conn, workflow_id, b) if b else detail["draft"]
            return {"workflow": detail, "left": left, "right": right}

        found = await db.read(read)
        lines = difflib.unified_diff(
            _as_yaml(found["left"]).splitlines(),
            _as_yaml(found["right"]).splitlines(),
            f"version {a}",
            f"version {b}" if b else "draft",
            lineterm="",
        )
        return Template("diff.html", context={"workflow": found["workflow"], "lines": list(lines)})


class RunPages(Controller):
    path = "/runs"
    include_in_schema = False
    opt = {"auth": "session"}

    @get("/{run_id:int}")
    async def run(self, db: Db, principal: Caller, run_id: PathId) -> Template:
        """A run of a conversation the agent may not see is not shown either (404)."""

        def read(conn: Any) -> dict[str, Any]:
            run = workflow_access.run_seen(conn, principal, run_id)
            definition = run_queries.version_definition(conn, run["workflow_id"], run["version"])
            return {"run": run, "definition": definition}

        found = await db.read(read)
        path = [s["step_id"] for s in found["run"]["steps"]]
        drawing = flow.render(found["definition"], {}, path)
        return Template("run.html", context={**found, "drawing": drawing})
