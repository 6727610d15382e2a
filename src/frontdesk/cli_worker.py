"""The `worker` command, apart from the other commands: `python -m frontdesk worker` (how `serve`
and its supervisor start workers) loads only this, so a worker imports what its loops run and
not every command's modules (`frontdesk.cli` registers the same command for `frontdesk worker`)."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from frontdesk import logs
from frontdesk.settings import Settings, WorkerPart

app = typer.Typer(no_args_is_help=True)


@app.callback()
def commands() -> None:
    """Frontdesk's worker (the other commands: `frontdesk --help`)."""


def configured() -> Settings:
    """The settings from the environment (`PORT` as well), with logging set up by them."""
    settings = Settings()
    if "PORT" in os.environ and "FRONTDESK_PORT" not in os.environ:
        settings.port = int(os.environ["PORT"])
    logs.configure(settings.log_level, settings.log_format)
    return settings


@app.command()
def worker(
    wake_fd: Annotated[
        int | None, typer.Option(help="set by `serve`: its end of the wake socket pair", hidden=True)
    ] = None,
    part: Annotated[
        WorkerPart, typer.Option(help="the loops to run: all, the engine and the rest but webhooks, or webhooks only")
    ] = WorkerPart.ALL,
) -> None:
    """The engine, timers, HTTP steps, delivery, the media fetcher, the mailboxes, the reports' rollups
    and the webhook sender: started by `serve` (ADR 0004: the sender in a worker of its own), or on its
    own beside servers on the same database (docs/scaling.md); stops on SIGTERM/SIGINT."""
    from frontdesk import worker as process

    process.run(configured(), wake_fd, part)
