"""Rules for agents and teams: capacity, skills, e-mail, and who may change an agent."""

from __future__ import annotations

import re
from collections.abc import Iterable

from frontdesk.domain.contacts import EMAIL
from frontdesk.domain.errors import Forbidden, InvalidInput
from frontdesk.domain.model import Role

SKILL_KEY = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
MAX_CAPACITY = 1000


def check_email(email: str) -> str:
    if not EMAIL.match(email.strip()):
        raise InvalidInput("invalid_email", f"{email!r} is not an e-mail address", "email")
    return email.strip().lower()


def check_capacity(capacity: int) -> int:
    if not 0 <= capacity <= MAX_CAPACITY:
        raise InvalidInput("invalid_capacity", f"capacity must be between 0 and {MAX_CAPACITY}", "capacity")
    return capacity


def check_skills(skills: dict[str, str]) -> dict[str, str]:
    """Skills are key/value pairs such as language=fr, product=billing."""
    for key, value in skills.items():
        if not SKILL_KEY.match(key):
            raise InvalidInput("invalid_skill", f"skills.{key}: keys use a-z, 0-9 and _ (32 max)", "skills")
        if not (0 < len(value) <= 64):
            raise InvalidInput("invalid_skill", f"skills.{key}: the value must be 1 to 64 characters", "skills")
    return dict(skills)


def check_name(name: str, field: str = "name") -> str:
    text = name.strip()
    if not (0 < len(text) <= 120):
        raise InvalidInput("invalid_name", f"{field} must be 1 to 120 characters", field)
    return text


def check_may_create_agent(caller: Role, role: Role) -> None:
    if role is Role.ADMIN and not caller.includes(Role.ADMIN):
        raise Forbidden("forbidden", "only an admin can create an admin", "role")


def check_may_change_agent(caller: Role, caller_agent_id: int | None, agent_id: int, changes: Iterable[str]) -> None:
    """Managers change agents, but only an admin changes a role or deactivates an agent (so no
    manager can promote themselves or lock an admin out); an agent changes only their own availability."""
    changed = set(changes)
    if caller.includes(Role.MANAGER):
        if "role" in changed and not caller.includes(Role.ADMIN):
            raise Forbidden("forbidden", "only an admin can change a role", "role")
        if "active" in changed and not caller.includes(Role.ADMIN):
            raise Forbidden("forbidden", "only an admin can deactivate or reactivate an agent", "active")
        return
    if caller_agent_id != agent_id or changed - {"availability"}:
        raise Forbidden("forbidden", "an agent may only change their own availability")
