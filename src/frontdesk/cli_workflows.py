"""`frontdesk workflows …` and `frontdesk runs …`: workflows as files, runs as readable traces."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from sqlalchemy import Connection

from frontdesk.actions import workflows as actions
from frontdesk.clock import now
from frontdesk.domain.errors import DomainError, NotFound
from frontdesk.domain.model import SYSTEM
from frontdesk.engine.dryrun import dry_run
from frontdesk.steps.base import Catalog
from frontdesk.store import run_queries
from frontdesk.store.sql.workflows import workflow_by_name
from frontdesk.workflows.definition import InvalidWorkflow, parse, validate

workflows = typer.Typer(help="Workflows as YAML/JSON files: validate, import, export.", no_args_is_help=True)
runs = typer.Typer(help="Workflow runs.", no_args_is_help=True)


@contextmanager
def reported_errors() -> Iterator[None]:
    """A refused command says why on stderr and exits 2, without a traceback."""
    try:
        yield
    except DomainError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from None


def _load(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text())  # JSON is YAML too
    except (OSError, yaml.YAMLError) as exc:
        typer.echo(f"error: cannot read {path}: {exc}", err=True)
        raise typer.Exit(2) from None


def _database() -> Any:
    from frontdesk.cli import settings_and_logs, with_database

    settings = settings_and_logs()
    return lambda work: with_database(settings, work)


@workflows.command("validate")
def validate_file(
    path: Path,
    offline: Annotated[bool, typer.Option(help="do not check team/field/agent names against the database")] = False,
) -> None:
    """List every problem of a workflow file (exit 1 if there is any)."""
    definition = _load(path)
    if offline:
        problems = validate(definition, Catalog(check_names=False))[1]
    else:
        problems = _database()(lambda conn: actions.check_definition(conn, definition))
    for problem in problems:
        typer.echo(f"{path}: {problem}")
    if problems:
        raise typer.Exit(1)
    typer.echo(f"{path}: valid")


@workflows.command("import")
def import_file(
    path: Path,
    publish: Annotated[bool, typer.Option(help="publish it as a new version")] = False,
    enable: Annotated[bool, typer.Option(help="enable it (implies --publish)")] = False,
) -> None:
    """Create the workflow, or replace the draft of the one with the same name."""
    definition = _load(path)

    def work(conn: Connection) -> str:
        name = definition.get("name") if isinstance(definition, dict) else None
        existing = workflow_by_name(conn, name) if isinstance(name, str) else None
        if existing is None:
            workflow_id = actions.create_workflow(conn, definition)
        else:
            workflow_id = existing["id"]
            actions.save_draft(conn, workflow_id, definition)
        message = f"workflow {workflow_id} ({name}): draft saved"
        if publish or enable:
            message += f", version {actions.publish(conn, workflow_id, SYSTEM)} published"
        if enable:
            actions.set_enabled(conn, workflow_id, True, SYSTEM)
            message += ", enabled"
        return message

    with reported_errors():
        try:
            typer.echo(_database()(work))
        except actions.InvalidWorkflowError as exc:  # listed problem by problem, exit 1 like validate
            for problem in exc.problems:
                typer.echo(f"{path}: {problem}", err=True)
            raise typer.Exit(1) from None


@workflows.command("dry-run")
def dry_run_file(
    path: Path,
    message: Annotated[str, typer.Option(help="the contact's first message")] = "Hello",
    answer: Annotated[list[str] | None, typer.Option(help="a simulated reply (repeat for several)")] = None,
    name: Annotated[str, typer.Option(help="the sample contact's name")] = "Sample Contact",
    nobody_available: Annotated[bool, typer.Option(help="simulate that no agent is free")] = False,
) -> None:
    """Walk a workflow file with a sample contact and simulated answers; print the path, change nothing."""
    definition = _load(path)
    try:
        workflow = parse(definition)
    except InvalidWorkflow as exc:
        for problem in exc.problems:
            typer.echo(f"{path}: {problem}", err=True)
        raise typer.Exit(1) from None
    sample = {"message": message, "answers": answer or [], "contact": {"name": name}, "available": not nobody_available}
    result = dry_run(workflow, sample, now())
    for n, step in enumerate(result["path"], 1):
        typer.echo(f"{n:>3}. {step_line(step)}")
    for effect in result["effects"]:
        typer.echo(f"     effect: {json.dumps(effect, ensure_ascii=False)}")
    typer.echo(f"ends {result['status']}" + (f": {result['end_reason']}" if result["end_reason"] else ""))


@workflows.command("export")
def export(
    name: str,
    version: Annotated[int | None, typer.Option(help="a published version (default: the draft)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of YAML")] = False,
) -> None:
    """Print a workflow's draft (or a published version) as YAML or JSON."""

    def work(conn: Connection) -> dict[str, Any]:
        row = workflow_by_name(conn, name)
        if row is None:
            raise NotFound("workflow", repr(name))
        return dict(row["draft"]) if version is None else run_queries.version_definition(conn, row["id"], version)

    with reported_errors():
        definition = _database()(work)
    if as_json:
        typer.echo(json.dumps(definition, indent=2, ensure_ascii=False))
    else:
        typer.echo(yaml.safe_dump(definition, sort_keys=False, allow_unicode=True), nl=False)


@runs.command("show")
def show(run_id: int) -> None:
    """Print a run as a trace: each step, the branch it took and why."""
    with reported_errors():
        run = _database()(lambda conn: run_queries.run_detail(conn, run_id))
    typer.echo(format_trace(run))


def step_line(step: dict[str, Any]) -> str:
    """One executed step as a trace line: what it is and what came of it."""
    if step["error"]:
        outcome = f"ERROR {step['error']}"
    elif step["waiting"]:
        outcome = f"waits for {step['waiting']}"
    else:
        outcome = f"→ {step['branch']}" + (f" ({step['reason']})" if step["reason"] else "")
    return f"{step['step_id']} [{step['step_type']}] {outcome}"


def format_trace(run: dict[str, Any]) -> str:
    status = run["status"]
    if run["waiting_for"]:
        until = run["wait_until"]
        status = f"waiting for {run['waiting_for']}" + (f" until {until:%Y-%m-%d %H:%M:%S} UTC" if until else "")
    lines = [
        f"run {run['id']} · workflow {run['workflow_id']} v{run['version']} · {status}",
        f"  started {run['started_at']:%Y-%m-%d %H:%M:%S} UTC by {run['trigger']['event'].get('type')}"
        f" · contact {run['contact_id']} · conversation {run['conversation_id']}",
    ]
    for step in run["steps"]:
        lines.append(f"  {step['seq']:>3}. {step_line(step)}")
    if run["end_reason"]:
        lines.append(f"  ended: {run['end_reason']}")
    if run["vars"]:
        lines.append(f"  vars: {json.dumps(run['vars'], ensure_ascii=False, default=str)}")
    return "\n".join(lines)
