"""Auto-assignment: choosing an available agent for a conversation (writes go through actions/).

`install()` plugs the team queues into `actions/` (`actions.assignments.use_queues`): every
composition root (the app, the worker process, the CLI) calls it once before writing.
"""

from __future__ import annotations


def install() -> None:
    from frontdesk.actions.assignments import use_queues
    from frontdesk.assignment.queue import TEAM_QUEUES

    use_queues(TEAM_QUEUES)
