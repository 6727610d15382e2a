"""The `frontdesk` command: serve, migrate, demo, tokens, channels."""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import socket
import tempfile
from collections.abc import Callable
from typing import Annotated, NoReturn, TypeVar

import httpx
import typer
from sqlalchemy import Connection

from frontdesk import assignment
from frontdesk.actions.sessions import set_password
from frontdesk.actions.tokens import create_token
from frontdesk.channels import telegram
from frontdesk.cli_worker import configured, worker
from frontdesk.cli_workflows import reported_errors, runs, workflows
from frontdesk.demo import ADMIN_EMAIL, DEMO_APP_SECRET, demo_admin_login, load_demo
from frontdesk.domain.errors import NotFound
from frontdesk.domain.model import ChannelType, Role
from frontdesk.domain.records import Channel
from frontdesk.engine.reports import rebuild, rebuild_funnel
from frontdesk.settings import Settings
from frontdesk.store.database import in_memory
from frontdesk.store.migrate import open_migrated
from frontdesk.store.move import Moved, move
from frontdesk.store.sql.agents import agent_id_by_email
from frontdesk.store.sql.channels import channel as channel_row
from frontdesk.store.sql.channels import first_channel_id

# prometheus-client reads it once, when first imported: set before frontdesk.metrics is (frontdesk.metrics)
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
app = typer.Typer(help="Frontdesk: inbound customer conversations, self-hosted.", no_args_is_help=True)
tokens = typer.Typer(help="API tokens.", no_args_is_help=True)
app.add_typer(tokens, name="tokens")
agents_cli = typer.Typer(help="Agents.", no_args_is_help=True)
app.add_typer(agents_cli, name="agents")
secrets_cli = typer.Typer(help="Keys of the secrets sealed at rest (ADR 0005).", no_args_is_help=True)
app.add_typer(secrets_cli, name="secrets")
channels_cli = typer.Typer(help="Channels.", no_args_is_help=True)
app.add_typer(channels_cli, name="channels")
app.add_typer(workflows, name="workflows")
app.add_typer(runs, name="runs")
reports_cli = typer.Typer(help="The reports' rollups (ADR 0010).", no_args_is_help=True)
app.add_typer(reports_cli, name="reports")

T = TypeVar("T")


app.command()(worker)


def settings_and_logs() -> Settings:
    """What every command starts with: settings, logging, and assignment plugged into actions/."""
    assignment.install()
    return configured()


def with_database(settings: Settings, work: Callable[[Connection], T]) -> T:
    db = open_migrated(settings.database_url, settings.secret_key)
    try:
        return db.write_sync(work)
    finally:
        db.close()


@app.command()
def migrate() -> None:
    """Bring the database to the newest schema."""
    settings = settings_and_logs()
    open_migrated(settings.database_url, settings.secret_key).close()
    typer.echo("database is up to date")


@app.command("migrate-to")
def migrate_to(url: Annotated[str, typer.Argument(help="postgresql://user@host/database, empty")]) -> None:
    """Move this SQLite installation (FRONTDESK_DATABASE_URL; its server stopped) into PostgreSQL:
    every row, ids and the engine's cursor kept (docs/scaling.md)."""
    settings = settings_and_logs()
    with reported_errors():
        moved = move(settings.database_url, url, settings.secret_key)
    typer.echo(f"moved {sum(moved.rows.values())} rows of {len(moved.rows)} tables")
    typer.echo(_key_guidance(moved))
    typer.echo("next: set FRONTDESK_DATABASE_URL to the target and start `frontdesk serve`")


def _key_guidance(moved: Moved) -> str:
    """How the target opens the secrets copied sealed: with the source's key (never printed)."""
    if moved.key_file is None:
        return "secrets were copied sealed: serve the target with the same FRONTDESK_SECRET_KEY"
    return (
        f"secrets were copied sealed with the key in {moved.key_file}: serve the target with"
        f' FRONTDESK_SECRET_KEY="$(cat {moved.key_file})" on every process and machine'
    )


@app.command()
def demo() -> None:
    """Load the demo organisation (once) and print a fresh admin token."""
    settings = settings_and_logs()
    token = with_database(settings, _demo_with_token)
    _print_welcome(settings, token)


Welcome = tuple[str, str, int | None, int | None]  # token, password, the API and WhatsApp channels' ids


def _demo_with_token(conn: Connection) -> Welcome:
    """Load the demo (once); a fresh admin login, and the channels the welcome's examples post to."""
    load_demo(conn)
    token, password = demo_admin_login(conn)
    return token, password, first_channel_id(conn, ChannelType.API), first_channel_id(conn, ChannelType.WHATSAPP)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="port (default $PORT or 8000)")] = None,
    with_demo: Annotated[bool, typer.Option("--demo", help="load the demo and print a login first")] = False,
    processes: Annotated[int, typer.Option(min=1, help="server processes accepting on the port")] = 1,
    workers: Annotated[int, typer.Option(min=0, help="engine worker processes (0: run `frontdesk worker` apart)")] = 1,
) -> None:
    """Serve the inbox, the web chat and the API: the database is opened and migrated once, the
    demo (if asked) loaded into it, then the server runs over it (frontdesk.server), or, with
    several processes or another number of workers, a supervisor runs them (frontdesk.supervisor)."""
    _share_metrics()  # before the metrics are made: every process's go to one folder
    from frontdesk.worker import WorkerProcess

    settings = settings_and_logs()
    settings.host = host or settings.host
    settings.port = port or settings.port
    supervised = processes > 1 or workers != 1
    listeners = _supervised_listeners(settings, processes) if supervised else []  # before anything is written
    db = open_migrated(settings.database_url, settings.secret_key)
    launched = [] if supervised else WorkerProcess.launch(settings, db)
    if with_demo:
        _print_welcome(settings, db.write_sync(_demo_with_token))
    from frontdesk import server, supervisor  # the web application: imported while the worker starts

    if not supervised:
        server.serve(settings, db, launched)
        return
    db.close()  # each child opens its own
    supervisor.run(listeners, workers)


def _share_metrics() -> None:
    """Point prometheus-client's multiprocess mode at a fresh folder for this run (removed at its end),
    unless the environment names one: the server and worker processes it starts inherit it, and a
    scrape of any server adds up all of theirs (frontdesk.metrics)."""
    if os.environ.get(MULTIPROCESS_DIR):
        return
    folder = tempfile.mkdtemp(prefix="frontdesk-metrics-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    os.environ[MULTIPROCESS_DIR] = folder


def _supervised_listeners(settings: Settings, processes: int) -> list[socket.socket]:
    """The servers' sockets, once the settings allow several processes: a database they can all
    open, and the engine in the workers."""
    from frontdesk import supervisor

    if in_memory(settings.database_url):
        _fail("FRONTDESK_DATABASE_URL: an in-memory database cannot be shared by several processes")
    if settings.worker == "inline":
        _fail("FRONTDESK_WORKER=inline: with --processes or --workers the engine runs in the workers")
    try:
        return supervisor.listeners(settings.host, settings.port, processes)
    except OSError as error:
        _fail(f"--host/--port {settings.host}:{settings.port}: {error.strerror}", code=1)


def _fail(problem: str, code: int = 2) -> NoReturn:
    typer.echo(f"error: {problem}", err=True)
    raise typer.Exit(code)


@app.command("server-process", hidden=True)
def server_process(
    listen_fd: Annotated[int, typer.Option(help="the supervisor's listening socket for this server")],
    wake_fd: Annotated[int, typer.Option(help="the supervisor's end of the wake socket pair")],
) -> None:
    """One of the servers of `serve --processes N`, started by its supervisor."""
    from frontdesk import server

    server.serve_on(settings_and_logs(), socket.socket(fileno=listen_fd), socket.socket(fileno=wake_fd))


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
            agent_id = agent_id_by_email(conn, agent.lower())
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
        agent_id = agent_id_by_email(conn, email.lower())
        if agent_id is None:
            raise NotFound("agent", email, "email")
        set_password(conn, agent_id, chosen)

    with reported_errors():
        with_database(settings, work)
    typer.echo(chosen if password is None else "password set")


@channels_cli.command("telegram-webhook")
def channels_telegram_webhook(
    channel_id: int,
    public_url: Annotated[
        str | None,
        typer.Option(
            help="Frontdesk's public HTTPS base URL, e.g. https://frontdesk.example (default $FRONTDESK_PUBLIC_URL)"
        ),
    ] = None,
) -> None:
    """Register a Telegram channel's webhook with Telegram (setWebhook with its URL and secret)."""
    settings = settings_and_logs()
    public_url = public_url or settings.public_url
    if not public_url or not public_url.startswith(("https://", "http://")):
        typer.echo("error: --public-url: an http(s) URL (or set FRONTDESK_PUBLIC_URL)", err=True)
        raise typer.Exit(2)

    def work(conn: Connection) -> Channel:
        found = channel_row(conn, channel_id)
        if found is None or found.type != ChannelType.TELEGRAM:
            raise NotFound("telegram channel", channel_id, "channel_id")
        return found

    with reported_errors():
        channel = with_database(settings, work)
    with httpx.Client(timeout=settings.delivery_timeout_seconds) as client:
        problem = telegram.set_webhook(client, channel, settings, public_url)
    if problem is not None:
        typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(1)
    typer.echo(f"webhook set: {telegram.webhook_url(public_url, channel_id)}")


@secrets_cli.command("new-key")
def secrets_new_key() -> None:
    """Print a new key for FRONTDESK_SECRET_KEY (to seal secrets with a key kept off the host's disk)."""
    from cryptography.fernet import Fernet

    typer.echo(Fernet.generate_key().decode())


def _print_welcome(settings: Settings, login: Welcome) -> None:
    token, password, channel_id, whatsapp_id = login
    base = f"http://{settings.host}:{settings.port}"
    typer.echo(
        f"""
  Frontdesk — {base}
  Inbox: {base}/inbox   log in as {ADMIN_EMAIL} / {password}
  Web chat, as a visitor: {base}/widget/demo
  API reference (OpenAPI): {base}/api/v1/schema
  Admin login (API token, Alice Martin): {token}
  WhatsApp webhook (demo channel, not connected; app secret {DEMO_APP_SECRET}): {base}/webhooks/whatsapp/{whatsapp_id}

  Try it:
    export TOKEN={token}
    curl -s -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \\
      -d '{{"contact": {{"external_id": "visitor-1", "name": "Ada"}},
           "message": {{"id": "m1", "text": "Hello!"}}}}' \\
      {base}/api/v1/channels/{channel_id}/inbound
    curl -s -H "Authorization: Bearer $TOKEN" {base}/api/v1/conversations
"""
    )


@reports_cli.command("rebuild")
def reports_rebuild() -> None:
    """Recompute the reports' rollups from the whole event log, and the workflow funnel from the
    recorded run steps (a worker running meanwhile is harmless: each log is folded in batches that
    move its cursor, each row once)."""
    settings = settings_and_logs()
    db = open_migrated(settings.database_url, settings.secret_key)
    try:
        total = rebuild(db, settings.time_zone)
        steps = rebuild_funnel(db)
    finally:
        db.close()
    typer.echo(f"reports rebuilt from {total} events and {steps} run steps")
