"""business_hours: open / closed / holiday branches from a weekly schedule in a time zone.

It also sets `vars.next_open` (e.g. "Monday 09:00") for an away message. The schedule itself
(fields, validation, time-zone arithmetic) is `frontdesk.domain.schedule.Schedule`.
"""

from __future__ import annotations

from typing import Literal

from frontdesk.domain.schedule import Schedule
from frontdesk.steps._fields import Target
from frontdesk.steps.base import Outcome, Runtime, Signal, StepConfig, StepType


class Config(Schedule, StepConfig):
    # Schedule first in the bases so the fields keep their order: id, type, label, then the schedule.
    type: Literal["business_hours"] = "business_hours"
    next: Target = None
    on_closed: Target = None
    on_holiday: Target = None

    def targets(self) -> dict[str, str | None]:
        return {"open": self.next, "closed": self.on_closed, "holiday": self.on_holiday}

    def fields_written(self) -> list[str]:
        return ["vars.next_open"]


def execute(config: Config, runtime: Runtime, signal: Signal) -> Outcome:
    local = config.local(runtime.now)
    opening = config.next_opening(runtime.now)
    runtime.set_var("next_open", config.describe(opening) if opening else None)
    output = {"local_time": local.isoformat(timespec="minutes"), "next_open": opening and opening.isoformat()}
    status = config.status_at(runtime.now)
    if status == "holiday":
        branch = "holiday" if config.on_holiday is not None else "closed"
        return Outcome(branch, f"{local.date()} is a holiday", output)
    if status == "open":
        return Outcome("open", f"open at {local:%a %H:%M} {config.timezone}", output)
    return Outcome("closed", f"closed at {local:%a %H:%M} {config.timezone}", output)


STEP = StepType.of(Config, execute)
