"""`python -m frontdesk`: the command line (how `serve` starts its worker process)."""

from frontdesk.cli import app

app(prog_name="frontdesk")
