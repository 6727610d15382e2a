"""The `frontdesk` command: serve, migrate, demo, tokens."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from typing import Annotated, TypeVar

import typer
from sqlalchemy import Connection, select

from frontdesk import assignment, logs
from frontdesk.actions.sessions import set_password
from frontdesk.actions.tokens import create_token
from frontdesk.cli_workflows import reported_errors, runs, workflows
from frontdesk.demo import ADMIN_EMAIL, demo_admin_login, load_demo
from frontdesk.domain.errors import NotFound
from frontdesk.domain.model import Role
from frontdesk.settings import Settings
from frontdesk.store.database import Database, in_memory
from frontdesk.store.migrate import upgrade
from frontdesk.store.tables import agents, channels

app = typer.Typer(help="Frontdesk: inbound customer conversations, self-hosted.", no_args_is_help=True)
tokens = typer.Typer(help="API tokens.", no_args_is_help=True)
app.add_typer(tokens, name="tokens")
agents_cli = typer.Typer(help="Agents.", no_args_is_help=True)
app.add_typer(agents_cli, name="agents")
secrets_cli = typer.Typer(help="Keys of the secrets sealed at rest (ADR 0005).", no_args_is_help=True)
app.add_typer(secrets_cli, name="secrets")
app.add_typer(workflows, name="workflows")
app.add_typer(runs, name="runs")

T = TypeVar("T")


def settings_and_logs() -> Settings:
    settings = Settings()
    if "PORT" in os.environ and "FRONTDESK_PORT" not in os.environ:
        settings.port = int(os.environ["PORT"])
    logs.configure(settings.log_level, settings.log_format)
    return settings


def with_database(settings: Settings, work: Callable[[Connection], T]) -> T:
    assignment.install()
    db = Database(settings.database_url, secret_key=settings.secret_key)
    upgrade(db.write_engine)
    db.start()
    try:
        return db.write_sync(work)
    finally:
        db.close()


@app.command()
def migrate() -> None:
    """Bring the database to the newest schema."""
    settings = settings_and_logs()
    db = Database(settings.database_url, secret_key=settings.secret_key)
    upgrade(db.write_engine)
    db.close()
    typer.echo("database is up to date")


@app.command()
def demo() -> None:
    """Load the demo organisation (once) and print a fresh admin token."""
    settings = settings_and_logs()
    token = with_database(settings, _demo_with_token)
    _print_welcome(settings, token)


def _demo_with_token(conn: Connection) -> tuple[str, str]:
    load_demo(conn)
    return demo_admin_login(conn)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="port (default $PORT or 8000)")] = None,
    with_demo: Annotated[bool, typer.Option("--demo", help="load the demo and print a login first")] = False,
) -> None:
    """Serve the API (and, later, the inbox)."""
    import uvicorn

    from frontdesk.api.app import create_app

    settings = settings_and_logs()
    settings.host = host or settings.host
    settings.port = port or settings.port
    if with_demo:
        _print_welcome(settings, with_database(settings, _demo_with_token))
    uvicorn.run(
        create_app(settings, worker_process=settings.worker == "process" and not in_memory(settings.database_url)),
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_config=None,
        timeout_graceful_shutdown=5,  # open live streams (inbox, web chat) would otherwise hold a stop forever
    )


@app.command(hidden=True)
def worker(wake_fd: Annotated[int, typer.Option(help="the server's end of the wake socket pair")]) -> None:
    """The engine and delivery loops, started by `serve` (ADR 0004)."""
    from frontdesk import worker as process

    process.run(settings_and_logs(), wake_fd)


@tokens.command("create")
def tokens_create(
    role: Annotated[Role, typer.Option(help="admin, manager or agent")],
    name: Annotated[str, typer.Option(help="what the token is for")] = "cli",
    agent: Annotated[str | None, typer.Option(help="e-mail of the agent the token acts as")] = None,
) -> None:
    """Create an API token and print it (it is shown only once)."""
    settings = settings_and_logs()

    def work(conn: Connection) -> str:
        agent_id = None
        if agent is not None:
            agent_id = conn.execute(select(agents.c.id).where(agents.c.email == agent.lower())).scalar()
            if agent_id is None:
                raise NotFound("agent", agent, "agent")
        return create_token(conn, name, role, agent_id)

    with reported_errors():
        typer.echo(with_database(settings, work))


@agents_cli.command("password")
def agents_password(
    email: str,
    password: Annotated[str | None, typer.Option(help="the new password (default: a random one, printed)")] = None,
) -> None:
    """Set an agent's web login password."""
    settings = settings_and_logs()
    chosen = password or secrets.token_urlsafe(12)

    def work(conn: Connection) -> None:
        agent_id = conn.execute(select(agents.c.id).where(agents.c.email == email.lower())).scalar()
        if agent_id is None:
            raise NotFound("agent", email, "email")
        set_password(conn, agent_id, chosen)

    with reported_errors():
        with_database(settings, work)
    typer.echo(chosen if password is None else "password set")


@secrets_cli.command("new-key")
def secrets_new_key() -> None:
    """Print a new key for FRONTDESK_SECRET_KEY (to seal secrets with a key kept off the host's disk)."""
    from cryptography.fernet import Fernet

    typer.echo(Fernet.generate_key().decode())


def _print_welcome(settings: Settings, login: tuple[str, str]) -> None:
    token, password = login
    base = f"http://{settings.host}:{settings.port}"
    channel_id = with_database(settings, lambda c: c.execute(select(channels.c.id).order_by(channels.c.id)).scalar())
    typer.echo(
        f"""
  Frontdesk — {base}
  Inbox: {base}/inbox   log in as {ADMIN_EMAIL} / {password}
  Web chat, as a visitor: {base}/widget/demo
  API reference (OpenAPI): {base}/api/v1/schema
  Admin login (API token, Alice Martin): {token}

  Try it:
    export TOKEN={token}
    curl -s -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \\
      -d '{{"contact": {{"external_id": "visitor-1", "name": "Ada"}},
           "message": {{"id": "m1", "text": "Hello!"}}}}' \\
      {base}/api/v1/channels/{channel_id}/inbound
    curl -s -H "Authorization: Bearer $TOKEN" {base}/api/v1/conversations
"""
    )
