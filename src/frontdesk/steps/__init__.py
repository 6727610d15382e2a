"""Step types: one module each, registered here in the order the docs list them."""

from frontdesk.steps import (  # noqa: F401  (importing registers each step type)
    add_comment,
    ask_question,
    assign,
    branch,
    business_hours,
    close_conversation,
    http_request,
    jump_to,
    open_conversation,
    send_message,
    trigger_workflow,
    update_contact_field,
    update_tags,
    wait,
)
from frontdesk.steps.base import REGISTRY, Outcome, Runtime, StepConfig

__all__ = ["REGISTRY", "Outcome", "Runtime", "StepConfig"]
