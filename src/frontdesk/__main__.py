"""`python -m frontdesk`: the command line (how `serve` and its supervisor start their processes).
A worker loads the `worker` command alone (frontdesk.cli_worker): it starts without the other
commands' modules."""

import sys

if sys.argv[1:2] == ["worker"]:
    from frontdesk.cli_worker import app
else:
    from frontdesk.cli import app

app(prog_name="frontdesk")
